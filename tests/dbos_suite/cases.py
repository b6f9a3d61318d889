'''Behaviours that DBOS's own test suite checks through the public API, written anew as programs.

Each case is a complete DBOS program (PRELUDE + body + POSTLUDE) whose ``scenario()`` returns a
trace of what a user can observe: results, exception types and messages, how often bodies ran,
statuses, ids, and timings reduced to yes/no. ``origin`` names the test of dbos-transact-py's
``tests/`` whose behaviour the case reproduces (read there, not copied: those tests use DBOS's
private API and Postgres; these use the public API only and SQLite). ``expected`` is the trace the
installed DBOS 2.x produces; where DBOS 2.x differs from the origin test (which follows DBOS's
main branch), the comment above the case says so.

The cases are split by topic: this module (the first ported) and cases_*.py, which it imports so
``CASES`` holds them all. tests/dbos_suite/test_dbos_suite.py runs each case under real DBOS and under the shim through the
differential harness; tests/dbos_suite/expectations.py says which cases the shim is known to fail.
'''

from __future__ import annotations

from tests.dbos_suite.program import CASES, case

__all__ = ["CASES"]


# -- tests/test_dbos.py ---------------------------------------------------------------------------

case(
    "workflow_steps_run_once_per_id",
    "tests/test_dbos.py::test_simple_workflow",
    """
    @DBOS.step()
    def first(x):
        runs.hit("first")
        return {"x": x, "step_id": DBOS.step_id}

    @DBOS.step()
    def second(x):
        runs.hit("second")
        status = DBOS.step_status
        return {"x": x, "step_id": DBOS.step_id,
                "status": [status.step_id, status.current_attempt, status.max_attempts]}

    @DBOS.workflow()
    def workflow(a, b):
        runs.hit("workflow")
        return [first(a), second(b)]

    def scenario():
        out = {"no_id": workflow("bob", "bob")}
        with SetWorkflowID("simple-1"):
            out["first_call"] = workflow("alice", "alice")
        with SetWorkflowID("simple-1"):
            out["same_id_new_args"] = workflow("carol", "carol")
        out["runs"] = runs.snapshot()
        return out
    """,
    {'no_id': [{'x': 'bob', 'step_id': 1}, {'x': 'bob', 'step_id': 2, 'status': [2, None, None]}],
     'first_call': [{'x': 'alice', 'step_id': 1},
                    {'x': 'alice', 'step_id': 2, 'status': [2, None, None]}],
     'same_id_new_args': [{'x': 'alice', 'step_id': 1},
                          {'x': 'alice', 'step_id': 2, 'status': [2, None, None]}],
     'runs': {'first': 2, 'second': 2, 'workflow': 2}},
)

case(
    "child_workflows_and_assigned_child_ids",
    "tests/test_dbos.py::test_child_workflow",
    """
    @DBOS.step()
    def echo(value):
        runs.hit("echo")
        return value

    @DBOS.workflow()
    def child(value):
        runs.hit("child")
        return {"value": echo(value), "id": id_shape(DBOS.workflow_id)}

    @DBOS.workflow()
    def parent_calls_child():
        return child("c1")

    @DBOS.workflow()
    def parent_of_three():
        direct = child("c1")
        first = DBOS.start_workflow(child, "c2a")
        second = DBOS.start_workflow(child, "c2b")
        return [direct, first.get_result(), second.get_result(), id_shape(first.workflow_id)]

    @DBOS.workflow()
    def assigned_child(value):
        runs.hit("assigned_child")
        return {"value": echo(value), "id": DBOS.workflow_id}

    @DBOS.workflow()
    def parent_assigning_ids():
        runs.hit("parent_assigning_ids")
        with SetWorkflowID("run-me-just-once"):
            called = assigned_child("x")
        with SetWorkflowID("run-me-just-once"):
            started = DBOS.start_workflow(assigned_child, "y").get_result()
        return [called, started]

    def scenario():
        out = {}
        with SetWorkflowID("parent-1"):
            out["direct"] = parent_calls_child()
        with SetWorkflowID("parent-2"):
            out["three"] = parent_of_three()
        out["assigning"] = parent_assigning_ids()
        out["assigning_again"] = parent_assigning_ids()
        out["runs"] = runs.snapshot()
        return out
    """,
    {'direct': {'value': 'c1', 'id': 'parent-1-1'},
     'three': [{'value': 'c1', 'id': 'parent-2-1'},
               {'value': 'c2a', 'id': 'parent-2-3'},
               {'value': 'c2b', 'id': 'parent-2-4'},
               'parent-2-3'],
     'assigning': [{'value': 'x', 'id': 'run-me-just-once'}, {'value': 'x', 'id': 'run-me-just-once'}],
     'assigning_again': [{'value': 'x', 'id': 'run-me-just-once'},
                         {'value': 'x', 'id': 'run-me-just-once'}],
     'runs': {'assigned_child': 1, 'child': 4, 'echo': 5, 'parent_assigning_ids': 2}},
)

case(
    "failed_workflow_reraises_stored_error",
    "tests/test_dbos.py::test_exception_workflow",
    """
    @DBOS.step()
    def failing_step(message):
        runs.hit("failing_step")
        raise Exception(message)

    @DBOS.workflow()
    def failing_workflow():
        runs.hit("failing_workflow")
        error = None
        try:
            failing_step("test error")
        except Exception as exc:
            error = exc
        raise error

    def scenario():
        out = {}
        for attempt in range(2):
            with SetWorkflowID("exception-1"):
                try:
                    failing_workflow()
                except Exception as exc:
                    out[f"call_{attempt}"] = describe_error(exc)
        try:
            DBOS.retrieve_workflow("exception-1").get_result()
        except Exception as exc:
            out["handle"] = describe_error(exc)
        status = DBOS.get_workflow_status("exception-1")
        out["status"] = [status.status, describe_error(status.error), status.output]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'call_0': {'type': 'Exception', 'message': 'test error'},
     'call_1': {'type': 'Exception', 'message': 'test error'},
     'handle': {'type': 'Exception', 'message': 'test error'},
     'status': ['ERROR', {'type': 'Exception', 'message': 'test error'}, None],
     'runs': {'failing_step': 1, 'failing_workflow': 1}},
)

# DBOS 2.x runs a step called outside a workflow as a plain call, retries included (the origin test,
# on DBOS's main branch, expects a temporary workflow that retries).
case(
    "steps_outside_workflows",
    "tests/test_dbos.py::test_temp_workflow_errors, test_temp_workflow",
    """
    @DBOS.step()
    def failing(value):
        runs.hit("failing")
        raise Exception(value)

    @DBOS.step(retries_allowed=True, interval_seconds=0)
    def retried(value):
        runs.hit("retried")
        raise Exception(value)

    @DBOS.step()
    def inner(value):
        runs.hit("inner")
        return value

    @DBOS.step()
    def outer(value):
        return inner(value)

    def scenario():
        out = {}
        for name, step in (("failing", failing), ("retried", retried)):
            try:
                step(name)
            except Exception as exc:
                out[name] = describe_error(exc)
        out["nested"] = outer("v")
        out["workflow_id"] = DBOS.workflow_id
        out["runs"] = runs.snapshot()
        return out
    """,
    {'failing': {'type': 'Exception', 'message': 'failing'},
     'retried': {'type': 'Exception', 'message': 'retried'},
     'nested': 'v',
     'workflow_id': None,
     'runs': {'failing': 1, 'inner': 1, 'retried': 1}},
)

case(
    "workflow_returning_none",
    "tests/test_dbos.py::test_workflow_returns_none",
    """
    @DBOS.workflow()
    def returns_none(a, b):
        runs.hit("returns_none")
        return None

    def scenario():
        out = {}
        for attempt in range(2):
            with SetWorkflowID("none-1"):
                out[f"call_{attempt}"] = returns_none("bob", "bob")
        out["handle"] = DBOS.retrieve_workflow("none-1").get_result()
        out["runs"] = runs.snapshot()
        return out
    """,
    {'call_0': None, 'call_1': None, 'handle': None, 'runs': {'returns_none': 1}},
)

case(
    "start_workflow_once_per_id",
    "tests/test_dbos.py::test_start_workflow",
    """
    @DBOS.step()
    def step(value):
        runs.hit("step")
        return value + "1"

    @DBOS.workflow()
    def workflow(a, b):
        runs.hit("workflow")
        return step(b) + a

    def scenario():
        out = {}
        with SetWorkflowID("start-1"):
            handle = DBOS.start_workflow(workflow, "bob", "bob")
            out["outside_after_start"] = DBOS.workflow_id
            out["first"] = handle.get_result()
        with SetWorkflowID("start-1"):
            out["second"] = DBOS.start_workflow(workflow, "bob", "bob").get_result()
        with SetWorkflowID("start-1"):
            out["called"] = workflow("bob", "bob")
        out["runs"] = runs.snapshot()
        return out
    """,
    {'outside_after_start': None,
     'first': 'bob1bob',
     'second': 'bob1bob',
     'called': 'bob1bob',
     'runs': {'step': 1, 'workflow': 1}},
)

case(
    "retrieve_workflow_and_statuses",
    "tests/test_dbos.py::test_retrieve_workflow",
    """
    @DBOS.workflow()
    def sleeper(seconds):
        DBOS.sleep(seconds)
        return DBOS.workflow_id

    @DBOS.workflow()
    def sleep_then_raise(seconds):
        DBOS.sleep(seconds)
        raise Exception("Wake Up!")

    @DBOS.workflow()
    def identity(x):
        return x

    def scenario():
        out = {}
        try:
            DBOS.retrieve_workflow("aaaa")
        except Exception as exc:
            out["missing"] = describe_error(exc)
        handle = DBOS.start_workflow(sleeper, 0.5)
        out["while_sleeping"] = handle.get_status().status
        again = DBOS.retrieve_workflow(handle.workflow_id)
        out["same_id"] = again.workflow_id == handle.workflow_id == again.get_workflow_id()
        out["result_is_its_id"] = again.get_result() == handle.workflow_id
        status = again.get_status()
        out["done"] = [status.status, status.output == handle.workflow_id, status.error]
        failing = DBOS.start_workflow(sleep_then_raise, 0.5)
        out["failing_while_sleeping"] = failing.get_status().status
        try:
            DBOS.retrieve_workflow(failing.workflow_id).get_result()
        except Exception as exc:
            out["failing_result"] = describe_error(exc)
        status = failing.get_status()
        out["failed"] = [status.status, status.output, describe_error(status.error)]
        plain = DBOS.start_workflow(identity, 5)
        result = plain.get_result()
        status = DBOS.retrieve_workflow(plain.workflow_id).get_status()
        out["identity"] = [result, status.output, status.error]
        return out
    """,
    {'missing': {'type': 'DBOSNonExistentWorkflowError',
                 'message': 'DBOS Error 5: Non-existent target workflow ID: aaaa'},
     'while_sleeping': 'PENDING',
     'same_id': True,
     'result_is_its_id': True,
     'done': ['SUCCESS', True, None],
     'failing_while_sleeping': 'PENDING',
     'failing_result': {'type': 'Exception', 'message': 'Wake Up!'},
     'failed': ['ERROR', None, {'type': 'Exception', 'message': 'Wake Up!'}],
     'identity': [5, 5, None]},
)

case(
    "statuses_read_inside_a_workflow",
    "tests/test_dbos.py::test_retrieve_workflow_in_workflow",
    """
    @DBOS.workflow()
    def sleeper(seconds):
        DBOS.sleep(seconds)
        return DBOS.workflow_id

    @DBOS.workflow()
    def by_status_calls():
        runs.hit("by_status_calls")
        with SetWorkflowID("run-this-once-a"):
            DBOS.start_workflow(sleeper, 0.5)
        before = DBOS.get_workflow_status("run-this-once-a").status
        result = DBOS.retrieve_workflow("run-this-once-a").get_result()
        after = DBOS.get_workflow_status("run-this-once-a").status
        return before + result + after

    @DBOS.workflow()
    def by_handle():
        runs.hit("by_handle")
        with SetWorkflowID("run-this-once-b"):
            handle = DBOS.start_workflow(sleeper, 0.5)
        same_parent = DBOS.workflow_id
        return [handle.get_status().status + handle.get_result() + handle.get_status().status, same_parent]

    def scenario():
        out = {}
        for attempt in range(2):
            with SetWorkflowID("parent-a"):
                out[f"a_{attempt}"] = by_status_calls()
            with SetWorkflowID("parent-b"):
                out[f"b_{attempt}"] = by_handle()
        out["runs"] = runs.snapshot()
        return out
    """,
    {'a_0': 'PENDINGrun-this-once-aSUCCESS',
     'b_0': ['PENDINGrun-this-once-bSUCCESS', 'parent-b'],
     'a_1': 'PENDINGrun-this-once-aSUCCESS',
     'b_1': ['PENDINGrun-this-once-bSUCCESS', 'parent-b'],
     'runs': {'by_handle': 1, 'by_status_calls': 1}},
)

case(
    "durable_sleep_not_repeated",
    "tests/test_dbos.py::test_sleep",
    """
    @DBOS.workflow()
    def sleeper(seconds):
        DBOS.sleep(seconds)
        return DBOS.workflow_id

    def scenario():
        start = time.monotonic()
        with SetWorkflowID("sleep-1"):
            first = sleeper(1.0)
        slept = took(start, at_least=0.9)
        start = time.monotonic()
        with SetWorkflowID("sleep-1"):
            second = sleeper(1.0)
        return {"first": first, "slept": slept, "second": second, "replay_fast": took(start, under=0.5)}
    """,
    {'first': 'sleep-1', 'slept': True, 'second': 'sleep-1', 'replay_fast': True},
)

case(
    "send_recv_topics_timeouts_and_once_only",
    "tests/test_dbos.py::test_send_recv",
    """
    @DBOS.workflow()
    def sender(destination, topic):
        runs.hit("sender")
        DBOS.send(destination, "test1")
        DBOS.send(destination, "test2", topic=topic)
        DBOS.send(destination, "test3")
        return destination

    @DBOS.workflow()
    def receiver(topic):
        runs.hit("receiver")
        first = DBOS.recv(topic, timeout_seconds=10)
        second = DBOS.recv(timeout_seconds=10)
        third = DBOS.recv(timeout_seconds=10)
        return "-".join([str(first), str(second), str(third)])

    @DBOS.workflow()
    def receive_or_time_out(seconds):
        return DBOS.recv(timeout_seconds=seconds)

    @DBOS.workflow()
    def send_none(destination):
        DBOS.send(destination, None)

    def scenario():
        out = {}
        try:
            sender("no-such-workflow", "topic")
        except Exception as exc:
            out["to_missing"] = describe_error(exc)
        with SetWorkflowID("receiver-1"):
            handle = DBOS.start_workflow(receiver, "topic")
        with SetWorkflowID("sender-1"):
            out["sent"] = sender("receiver-1", "topic")
        start = time.monotonic()
        out["received"] = handle.get_result()
        out["received_fast"] = took(start, under=3)
        with SetWorkflowID("none-receiver"):
            none_handle = DBOS.start_workflow(receive_or_time_out, 10.0)
        send_none("none-receiver")
        start = time.monotonic()
        out["none_message"] = none_handle.get_result()
        out["none_is_a_message_not_a_timeout"] = took(start, under=3)
        start = time.monotonic()
        with SetWorkflowID("timeout-1"):
            out["timed_out"] = receive_or_time_out(1.0)
        out["waited_for_timeout"] = took(start, at_least=0.7)
        with SetWorkflowID("sender-1"):
            sender("receiver-1", "topic")
        with SetWorkflowID("receiver-1"):
            out["receiver_again"] = receiver("topic")
        start = time.monotonic()
        with SetWorkflowID("timeout-1"):
            receive_or_time_out(1.0)
        out["timeout_replayed_fast"] = took(start, under=0.5)
        try:
            DBOS.recv("test1")
        except Exception as exc:
            out["recv_outside"] = describe_error(exc)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'to_missing': {'type': 'DBOSNonExistentWorkflowError',
                    'message': 'DBOS Error 5: Non-existent `send` destination workflow ID: '
                               'no-such-workflow'},
     'sent': 'receiver-1',
     'received': 'test2-test1-test3',
     'received_fast': True,
     'none_message': None,
     'none_is_a_message_not_a_timeout': True,
     'timed_out': None,
     'waited_for_timeout': True,
     'receiver_again': 'test2-test1-test3',
     'timeout_replayed_fast': True,
     'recv_outside': {'type': 'DBOSException',
                      'message': 'DBOS Error: recv() must be called from within a workflow'},
     'runs': {'receiver': 1, 'sender': 2}},
)

case(
    "send_from_outside_a_workflow",
    "tests/test_dbos.py::test_send_recv_temp_wf",
    """
    @DBOS.workflow()
    def receiver(topic):
        runs.hit("receiver")
        return str(DBOS.recv(topic, timeout_seconds=10))

    def scenario():
        with SetWorkflowID("receiver-2"):
            handle = DBOS.start_workflow(receiver, "testtopic")
        DBOS.send("receiver-2", "testsend1", "testtopic")
        return {"result": handle.get_result(), "id": handle.get_workflow_id(), "runs": runs.snapshot()}
    """,
    {'result': 'testsend1', 'id': 'receiver-2', 'runs': {'receiver': 1}},
)

case(
    "events_set_get_and_timeouts",
    "tests/test_dbos.py::test_set_get_events",
    """
    @DBOS.workflow()
    def setter():
        runs.hit("setter")
        DBOS.set_event("key1", "value1")
        DBOS.set_event("key2", "value2")
        DBOS.set_event("key3", None)

    @DBOS.workflow()
    def getter(target, key, timeout_seconds=10):
        value = DBOS.get_event(target, key, timeout_seconds)
        return str(value) if value is not None else None

    def scenario():
        out = {}
        for _ in range(2):
            with SetWorkflowID("setter-1"):
                setter()
        out["in_workflow"] = [getter("setter-1", "key1"), getter("setter-1", "key2")]
        out["outside"] = [DBOS.get_event("setter-1", "key1"), DBOS.get_event("setter-1", "key2")]
        start = time.monotonic()
        out["none_value"] = getter("setter-1", "key3")
        out["none_is_a_value_not_a_timeout"] = took(start, under=1)
        start = time.monotonic()
        with SetWorkflowID("getter-timeout"):
            out["missing_in_workflow"] = getter("non-existent", "key1", 1.0)
        out["waited"] = took(start, at_least=0.7)
        start = time.monotonic()
        with SetWorkflowID("getter-timeout"):
            getter("non-existent", "key1", 1.0)
        out["replayed_fast"] = took(start, under=0.5)
        timings = []
        for _ in range(2):
            start = time.monotonic()
            out["missing_outside"] = DBOS.get_event("non-existent", "key1", 1.0)
            timings.append(took(start, at_least=0.7))
        out["outside_waits_every_time"] = timings
        try:
            DBOS.set_event("key1", "value1")
        except Exception as exc:
            out["set_outside"] = describe_error(exc)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'in_workflow': ['value1', 'value2'],
     'outside': ['value1', 'value2'],
     'none_value': None,
     'none_is_a_value_not_a_timeout': True,
     'missing_in_workflow': None,
     'waited': True,
     'replayed_fast': True,
     'missing_outside': None,
     'outside_waits_every_time': [True, True],
     'set_outside': {'type': 'DBOSException',
                     'message': 'DBOS Error: set_event() must be called from within a workflow or '
                                'step'},
     'runs': {'setter': 1}},
)

case(
    "event_readable_while_the_workflow_runs",
    "tests/test_dbos.py::test_multi_set_event",
    """
    release = threading.Event()

    @DBOS.workflow()
    def setter():
        DBOS.set_event("key", "value1")
        release.wait(10)
        DBOS.set_event("key", "value2")

    def scenario():
        with SetWorkflowID("multi-event"):
            handle = DBOS.start_workflow(setter)
        while_running = DBOS.get_event("multi-event", "key")
        release.set()
        result = handle.get_result()
        return {"while_running": while_running, "result": result, "after": DBOS.get_event("multi-event", "key")}
    """,
    {'while_running': 'value1', 'result': None, 'after': 'value2'},
)

case(
    "values_that_cannot_be_stored",
    "tests/test_dbos.py::test_nonserializable_values",
    """
    @DBOS.step()
    def returns_a_lambda():
        return lambda: "literal"

    @DBOS.workflow()
    def workflow_returning_a_lambda():
        return lambda: "literal"

    @DBOS.workflow()
    def workflow_calling_step():
        return returns_a_lambda()

    @DBOS.workflow()
    def sets_a_lambda_event():
        DBOS.set_event("aaa", lambda: "literal")

    @DBOS.workflow()
    def waits(seconds):
        return DBOS.recv(timeout_seconds=seconds)

    def scenario():
        out = {}
        for name, call in (("step_in_workflow", workflow_calling_step),
                           ("workflow_result", workflow_returning_a_lambda),
                           ("event", sets_a_lambda_event)):
            try:
                call()
                out[name] = "no error"
            except Exception as exc:
                out[name] = type(exc).__name__
        out["step_outside_workflow"] = callable(returns_a_lambda())
        with SetWorkflowID("waiting-for-lambda"):
            handle = DBOS.start_workflow(waits, 1.0)
        try:
            DBOS.send("waiting-for-lambda", lambda: "literal", "topic")
            out["send"] = "no error"
        except Exception as exc:
            out["send"] = type(exc).__name__
        out["receiver"] = handle.get_result()
        return out
    """,
    {'step_in_workflow': 'AttributeError',
     'workflow_result': 'AttributeError',
     'event': 'AttributeError',
     'step_outside_workflow': True,
     'send': 'AttributeError',
     'receiver': None},
)

case(
    "destroy_then_launch_again",
    "tests/test_dbos.py::test_destroy_semantics",
    """
    @DBOS.workflow()
    def echo(value):
        runs.hit("echo")
        return value

    def scenario():
        first = echo("test")
        DBOS.destroy()
        DBOS(config=config)
        DBOS.launch()
        return {"first": first, "after_relaunch": echo("test"), "runs": runs.snapshot()}
    """,
    {'first': 'test', 'after_relaunch': 'test', 'runs': {'echo': 2}},
)

# -- tests/test_failures.py -----------------------------------------------------------------------

case(
    "step_retries_exhausted",
    "tests/test_failures.py::test_step_retries",
    """
    @DBOS.step(retries_allowed=True, interval_seconds=0, max_attempts=2)
    def failing_step():
        runs.hit("failing_step")
        raise Exception("fail")

    @DBOS.workflow()
    def failing_workflow():
        failing_step()

    def scenario():
        out = {}
        try:
            failing_workflow()
        except DBOSMaxStepRetriesExceeded as exc:
            out["in_workflow"] = {"error": describe_error(exc), "errors": [describe_error(e) for e in exc.errors]}
        out["runs_in_workflow"] = runs.snapshot()
        try:
            failing_step()
        except Exception as exc:
            out["called_directly"] = describe_error(exc)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'in_workflow': {'error': {'type': 'DBOSMaxStepRetriesExceeded',
                               'message': 'DBOS Error 7: Step failing_step has exceeded its maximum of '
                                          '2 retries'},
                     'errors': [{'type': 'Exception', 'message': 'fail'},
                                {'type': 'Exception', 'message': 'fail'}]},
     'runs_in_workflow': {'failing_step': 2},
     'called_directly': {'type': 'Exception', 'message': 'fail'},
     'runs': {'failing_step': 3}},
)

case(
    "step_status_counts_attempts",
    "tests/test_failures.py::test_step_status",
    """
    seen = []

    @DBOS.step(retries_allowed=True, interval_seconds=0, max_attempts=5)
    def flaky():
        status = DBOS.step_status
        seen.append([status.step_id, status.current_attempt, status.max_attempts])
        runs.hit("flaky")
        if runs["flaky"] < 5:
            raise Exception("fail")

    @DBOS.workflow()
    def workflow():
        flaky()

    def scenario():
        out = {"result": workflow(), "seen": list(seen)}
        seen.clear()
        runs.clear()
        try:
            out["direct"] = flaky()
        except Exception as exc:
            out["direct"] = describe_error(exc)
        out["status_outside"] = DBOS.step_status
        out["seen_direct"] = seen
        return out
    """,
    {'result': None,
     'seen': [[1, 0, 5], [1, 1, 5], [1, 2, 5], [1, 3, 5], [1, 4, 5]],
     'direct': {'type': 'AttributeError', 'message': "'NoneType' object has no attribute 'step_id'"},
     'status_outside': None,
     'seen_direct': []},
)

# -- tests/test_concurrency.py --------------------------------------------------------------------

case(
    "concurrent_workflows",
    "tests/test_concurrency.py::test_concurrent_workflows",
    """
    from concurrent.futures import ThreadPoolExecutor

    @DBOS.workflow()
    def slow():
        time.sleep(0.5)
        return DBOS.workflow_id

    def run(workflow_id):
        with SetWorkflowID(workflow_id):
            return slow()

    def scenario():
        ids = [f"concurrent-{i}" for i in range(8)]
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(ids)) as pool:
            results = list(pool.map(run, ids))
        return {"results_are_ids": results == ids, "in_parallel": took(start, under=3)}
    """,
    {'results_are_ids': True, 'in_parallel': True},
)

# The origin test (DBOS's main branch) runs both starts as executions of the body. DBOS 2.x, in one
# process, gives the second start the running execution: the body runs once.
case(
    "same_id_started_again_while_running",
    "tests/test_concurrency.py::test_concurrent_conflict_uuid",
    """
    entered = threading.Event()
    release = threading.Event()

    @DBOS.step()
    def blocking_step():
        runs.hit("blocking_step")
        entered.set()
        release.wait(3)
        return DBOS.workflow_id

    @DBOS.workflow()
    def workflow():
        runs.hit("workflow")
        return blocking_step()

    def scenario():
        with SetWorkflowID("conflict-1"):
            first = DBOS.start_workflow(workflow)
        entered.wait(10)
        with SetWorkflowID("conflict-1"):
            second = DBOS.start_workflow(workflow)
        time.sleep(0.5)
        release.set()
        return {"first": first.get_result(), "second": second.get_result(), "runs": runs.snapshot()}
    """,
    {'first': 'conflict-1', 'second': 'conflict-1', 'runs': {'blocking_step': 1, 'workflow': 1}},
)

# -- tests/test_async.py --------------------------------------------------------------------------

case(
    "async_workflow_and_steps",
    "tests/test_async.py::test_async_workflow, test_async_step",
    """
    @DBOS.step()
    def sync_step(value):
        runs.hit("sync_step")
        return value + f"sync{runs['sync_step']}"

    @DBOS.step()
    async def async_step(value):
        await asyncio.sleep(0.05)
        runs.hit("async_step")
        return value + f"async{runs['async_step']}"

    @DBOS.workflow()
    async def workflow(a, b):
        runs.hit("workflow")
        first = await asyncio.to_thread(sync_step, a)
        second = await async_step(b)
        return first + second

    async def scenario():
        out = {}
        for attempt in range(2):
            with SetWorkflowID("async-1"):
                out[f"call_{attempt}"] = await workflow("alice", "bob")
        out["runs_after_calls"] = runs.snapshot()
        handle = await DBOS.start_workflow_async(workflow, "alice", "bob")
        out["started_async"] = await handle.get_result()

        def from_a_thread():
            return DBOS.start_workflow(workflow, "alice", "bob").get_result()

        out["started_from_a_thread"] = await asyncio.to_thread(from_a_thread)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'call_0': 'alicesync1bobasync1',
     'call_1': 'alicesync1bobasync1',
     'runs_after_calls': {'async_step': 1, 'sync_step': 1, 'workflow': 1},
     'started_async': 'alicesync2bobasync2',
     'started_from_a_thread': 'alicesync3bobasync3',
     'runs': {'async_step': 3, 'sync_step': 3, 'workflow': 3}},
)

case(
    "async_workflows_run_on_the_callers_loop",
    "tests/test_async.py::test_start_workflow_async",
    """
    loops = {}

    @DBOS.step()
    async def step(value):
        loops["step"] = id(asyncio.get_running_loop())
        runs.hit("step")
        return value + "step"

    @DBOS.workflow()
    async def workflow(a, b):
        loops["workflow"] = id(asyncio.get_running_loop())
        runs.hit("workflow")
        return a + await step(b)

    async def scenario():
        with SetWorkflowID("loop-1"):
            handle = await DBOS.start_workflow_async(workflow, "alice", "bob")
        out = {"id": handle.get_workflow_id(), "result": await handle.get_result()}
        with SetWorkflowID("loop-1"):
            again = await DBOS.start_workflow_async(workflow, "alice", "bob")
        out["again_id"] = again.get_workflow_id()
        out["get_result_async"] = await DBOS.get_result_async("loop-1")
        here = id(asyncio.get_running_loop())
        out["same_loop"] = {name: loop == here for name, loop in sorted(loops.items())}
        out["runs"] = runs.snapshot()
        return out
    """,
    {'id': 'loop-1',
     'result': 'alicebobstep',
     'again_id': 'loop-1',
     'get_result_async': 'alicebobstep',
     'same_loop': {'step': True, 'workflow': True},
     'runs': {'step': 1, 'workflow': 1}},
)

case(
    "retrieve_workflow_async",
    "tests/test_async.py::test_retrieve_workflow_async",
    """
    @DBOS.step()
    async def step(value):
        return value + "d"

    @DBOS.workflow()
    async def workflow(a, b):
        a = await step(a)
        await DBOS.sleep_async(0.5)
        return a + b

    async def scenario():
        with SetWorkflowID("retrieve-async"):
            await DBOS.start_workflow_async(workflow, "alice", "bob")
        handle = await DBOS.retrieve_workflow_async("retrieve-async")
        result = await handle.get_result()
        status = await handle.get_status()
        return {"id": handle.get_workflow_id(), "result": result, "status": [status.status, status.workflow_id]}
    """,
    {'id': 'retrieve-async', 'result': 'alicedbob', 'status': ['SUCCESS', 'retrieve-async']},
)

case(
    "unawaited_child_workflows_finish",
    "tests/test_async.py::test_unawaited_workflow, test_unawaited_workflow_exception",
    """
    @DBOS.workflow()
    async def child(value):
        await asyncio.sleep(0.1)
        if isinstance(value, str):
            raise Exception(value)
        return value

    @DBOS.workflow()
    async def parent(child_id, value):
        with SetWorkflowID(child_id):
            await DBOS.start_workflow_async(child, value)

    async def scenario():
        out = {"parent": await parent("child-ok", 5)}
        handle = await DBOS.retrieve_workflow_async("child-ok", existing_workflow=False)
        out["child"] = await handle.get_result()
        out["parent_of_failing"] = await parent("child-fails", "alice")
        try:
            await (await DBOS.retrieve_workflow_async("child-fails", existing_workflow=False)).get_result()
        except Exception as exc:
            out["failing_child"] = describe_error(exc)
        return out
    """,
    {'parent': None,
     'child': 5,
     'parent_of_failing': None,
     'failing_child': {'type': 'Exception', 'message': 'alice'}},
)

# Found while porting test_unawaited_workflow: DBOS refuses its blocking calls on a thread that runs an
# event loop (dbos/_dbos.py check_async); the origin test makes them from sync code, and an async port
# that kept them blocking would deadlock on the shim instead of failing.
# Only finished workflows are involved, so no runtime can hang here.
case(
    "blocking_calls_refused_on_an_event_loop",
    "tests/test_async.py::test_unawaited_workflow (its calls made from async code)",
    """
    @DBOS.workflow()
    def finished(value):
        return value

    async def scenario():
        with SetWorkflowID("finished-1"):
            await asyncio.to_thread(finished, 1)
        calls = {
            "retrieve_workflow": lambda: DBOS.retrieve_workflow("finished-1"),
            "get_result": lambda: DBOS.get_result("finished-1"),
            "get_workflow_status": lambda: DBOS.get_workflow_status("finished-1"),
            "start_workflow": lambda: DBOS.start_workflow(finished, 2),
            "send": lambda: DBOS.send("finished-1", "m"),
            "get_event": lambda: DBOS.get_event("finished-1", "k", 0),
            "sleep": lambda: DBOS.sleep(0),
        }
        out = {}
        for name, call in calls.items():
            try:
                call()
                out[name] = "no error"
            except Exception as exc:
                out[name] = type(exc).__name__
        return out
    """,
    {'retrieve_workflow': 'RuntimeError',
     'get_result': 'RuntimeError',
     'get_workflow_status': 'RuntimeError',
     'start_workflow': 'no error',
     'send': 'RuntimeError',
     'get_event': 'RuntimeError',
     'sleep': 'RuntimeError'},
)

case(
    "child_workflow_ids_and_parents",
    "tests/test_async.py::test_child_workflow_async",
    """
    @DBOS.workflow()
    async def child(value):
        return value + "_child"

    @DBOS.workflow()
    async def parent():
        called = await child("test")
        handle = await DBOS.start_workflow_async(child, "async")
        return [DBOS.workflow_id, handle.workflow_id, called + await handle.get_result()]

    async def scenario():
        with SetWorkflowID("async-parent"):
            handle = await DBOS.start_workflow_async(parent)
        parent_id, started_id, result = await handle.get_result()
        out = {"result": result, "ids": [parent_id, started_id]}
        for workflow_id in (parent_id, parent_id + "-1", started_id):
            status = await DBOS.get_workflow_status_async(workflow_id)
            out[workflow_id] = status.parent_workflow_id
        return out
    """,
    {'result': 'test_childasync_child',
     'ids': ['async-parent', 'async-parent-3'],
     'async-parent': None,
     'async-parent-1': 'async-parent',
     'async-parent-3': 'async-parent'},
)

case(
    "workflow_outlives_a_cancelled_task",
    "tests/test_async.py::test_workflow_with_task_cancellation",
    """
    @DBOS.workflow()
    async def sleeper(seconds):
        await DBOS.sleep_async(seconds)
        return "completed"

    async def scenario():
        started = asyncio.Event()

        async def run():
            with SetWorkflowID("cancelled-task"):
                handle = await DBOS.start_workflow_async(sleeper, 0.5)
            started.set()
            return await handle.get_result()

        task = asyncio.create_task(run())
        await started.wait()
        task.cancel()
        try:
            await task
            cancelled = False
        except asyncio.CancelledError:
            cancelled = True
        handle = await DBOS.retrieve_workflow_async("cancelled-task")
        return {"task_cancelled": cancelled, "workflow": await handle.get_result()}
    """,
    {'task_cancelled': True, 'workflow': 'completed'},
)

case(
    "get_all_events",
    "tests/test_async.py::test_get_events_async",
    """
    @DBOS.workflow()
    async def with_events():
        await DBOS.set_event_async("event1", "value1")
        await DBOS.set_event_async("event2", {"nested": "data", "count": 42})
        await DBOS.set_event_async("event3", [1, 2, 3, 4, 5])
        return "completed"

    @DBOS.workflow()
    async def without_events():
        await DBOS.sleep_async(0.01)
        return "no events"

    async def scenario():
        first = await DBOS.start_workflow_async(with_events)
        second = await DBOS.start_workflow_async(without_events)
        return {
            "results": [await first.get_result(), await second.get_result()],
            "events": await DBOS.get_all_events_async(first.workflow_id),
            "no_events": await DBOS.get_all_events_async(second.workflow_id),
        }
    """,
    {'results': ['completed', 'no events'],
     'events': {'event1': 'value1',
                'event2': {'nested': 'data', 'count': 42},
                'event3': [1, 2, 3, 4, 5]},
     'no_events': {}},
)

case(
    "async_messages_events_and_bulk_send",
    "tests/test_async.py::test_send_recv_async, test_send_bulk_async, test_set_get_events",
    """
    @DBOS.workflow()
    async def receiver(topic):
        first = await DBOS.recv_async(topic, timeout_seconds=10)
        second = await DBOS.recv_async(timeout_seconds=10)
        return f"{first}-{second}"

    @DBOS.workflow()
    async def sender(destination, topic):
        await DBOS.send_async(destination, "a")
        await DBOS.send_async(destination, "b", topic=topic)

    @DBOS.workflow()
    async def receive_two():
        return f"{await DBOS.recv_async(timeout_seconds=10)}-{await DBOS.recv_async(timeout_seconds=10)}"

    @DBOS.workflow()
    async def bulk_sender(destination):
        await DBOS.send_bulk_async([SendMessage(destination, "c"), SendMessage(destination, "d")])

    @DBOS.workflow()
    async def setter():
        await DBOS.set_event_async("key1", "value1")
        await DBOS.set_event_async("key2", None)

    async def scenario():
        out = {}
        try:
            await sender("no-such-workflow", "t")
        except Exception as exc:
            out["to_missing"] = describe_error(exc)
        with SetWorkflowID("async-receiver"):
            handle = await DBOS.start_workflow_async(receiver, "t")
        await sender("async-receiver", "t")
        out["received"] = await handle.get_result()
        with SetWorkflowID("bulk-outside"):
            outside = await DBOS.start_workflow_async(receive_two)
        await DBOS.send_bulk_async([SendMessage("bulk-outside", "a"), SendMessage("bulk-outside", "b")])
        out["bulk_from_outside"] = await outside.get_result()
        with SetWorkflowID("bulk-inside"):
            inside = await DBOS.start_workflow_async(receive_two)
        await bulk_sender("bulk-inside")
        out["bulk_from_a_workflow"] = await inside.get_result()
        with SetWorkflowID("async-setter"):
            await setter()
        out["events"] = [await DBOS.get_event_async("async-setter", "key1"),
                         await DBOS.get_event_async("async-setter", "key2", 1)]
        for name, call in (("recv_outside", DBOS.recv_async("t1")),
                           ("set_event_outside", DBOS.set_event_async("k", "v"))):
            try:
                await call
            except Exception as exc:
                out[name] = describe_error(exc)
        return out
    """,
    {'to_missing': {'type': 'DBOSNonExistentWorkflowError',
                    'message': 'DBOS Error 5: Non-existent `send` destination workflow ID: '
                               'no-such-workflow'},
     'received': 'b-a',
     'bulk_from_outside': 'a-b',
     'bulk_from_a_workflow': 'c-d',
     'events': ['value1', None],
     'recv_outside': {'type': 'DBOSException',
                      'message': 'DBOS Error: recv() must be called from within a workflow'},
     'set_event_outside': {'type': 'DBOSException',
                           'message': 'DBOS Error: set_event() must be called from within a workflow '
                                      'or step'}},
)

# -- tests/test_classdecorators.py ----------------------------------------------------------------

case(
    "static_and_class_method_workflows",
    "tests/test_classdecorators.py::test_simple_workflow_static, test_simple_workflow_class",
    """
    class Static:
        @staticmethod
        @DBOS.workflow()
        def workflow(a, b):
            runs.hit("static.workflow")
            return Static.step(a) + b

        @staticmethod
        @DBOS.step()
        def step(value):
            runs.hit("static.step")
            return value + "1"

    @DBOS.dbos_class()
    class WithClassMethods:
        @classmethod
        @DBOS.workflow()
        def workflow(cls, a, b):
            runs.hit("class.workflow")
            return cls.step(a) + b + cls.__name__

        @classmethod
        @DBOS.step()
        def step(cls, value):
            runs.hit("class.step")
            return value + "2"

    def scenario():
        out = {
            "static_called": Static.workflow("bob", "bob"),
            "static_started": DBOS.start_workflow(Static.workflow, "bob", "bob").get_result(),
            "class_called": WithClassMethods.workflow("bob", "bob"),
        }
        handle = DBOS.start_workflow(WithClassMethods.workflow, "bob", "bob")
        out["class_started"] = handle.get_result()
        status = handle.get_status()
        out["class_status"] = [status.name, status.class_name, status.config_name]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'static_called': 'bob1bob',
     'static_started': 'bob1bob',
     'class_called': 'bob2bobWithClassMethods',
     'class_started': 'bob2bobWithClassMethods',
     'class_status': ['WithClassMethods.workflow', 'WithClassMethods', None],
     'runs': {'class.step': 2, 'class.workflow': 2, 'static.step': 2, 'static.workflow': 2}},
)

case(
    "configured_instance_workflows",
    "tests/test_classdecorators.py::test_simple_workflow_inst, test_inst_recovery",
    """
    @DBOS.dbos_class()
    class Instance(DBOSConfiguredInstance):
        def __init__(self):
            super().__init__("bob")
            self.counts = Counter()

        @DBOS.workflow()
        def workflow(self, a, b):
            self.counts.hit("workflow")
            return self.step(a) + b + self.config_name

        @DBOS.step()
        def step(self, value):
            self.counts.hit("step")
            return value + "1"

    def scenario():
        instance = Instance()
        out = {"called": instance.workflow("bob", "bob")}
        handle = DBOS.start_workflow(instance.workflow, "bob", "bob")
        status = DBOS.get_workflow_status(handle.get_workflow_id())
        out["status"] = [status.name, status.class_name, status.config_name]
        out["result"] = handle.get_result()
        with SetWorkflowID("instance-1"):
            instance.workflow("x", "y")
        with SetWorkflowID("instance-1"):
            out["same_id"] = instance.workflow("other", "args")
        out["runs"] = instance.counts.snapshot()
        return out
    """,
    {'called': 'bob1bobbob',
     'status': ['Instance.workflow', 'Instance', 'bob'],
     'result': 'bob1bobbob',
     'same_id': 'x1ybob',
     'runs': {'step': 3, 'workflow': 3}},
)

case(
    "duplicate_instance_registration",
    "tests/test_classdecorators.py::test_duplicate_reg",
    """
    @DBOS.dbos_class()
    class Registered(DBOSConfiguredInstance):
        def __init__(self):
            super().__init__("bob")

    def scenario():
        first = Registered()
        try:
            Registered()
            return {"second": "no error"}
        except Exception as exc:
            return {"second": describe_error(exc)}
    """,
    {'second': {'type': 'Exception',
                'message': "Duplicate instance registration for class 'Registered' instance 'bob'"}},
)

# -- tests/test_streaming.py ----------------------------------------------------------------------

case(
    "streams_write_close_read",
    "tests/test_streaming.py::test_basic_stream_write_read",
    """
    @DBOS.workflow()
    def writer(values):
        for value in values:
            DBOS.write_stream("numbers", value)
        DBOS.close_stream("numbers")
        return len(values)

    def scenario():
        values = [1, "two", {"three": 3}, [4], None]
        with SetWorkflowID("stream-1"):
            count = writer(values)
        read = list(DBOS.read_stream("stream-1", "numbers"))
        return {"count": count, "read": read, "same": read == values}
    """,
    {'count': 5, 'read': [1, 'two', {'three': 3}, [4], None], 'same': True},
)

# -- status details (tests/test_dbos.py) ----------------------------------------------------------

case(
    "recovery_attempts_count_executions",
    "tests/test_dbos.py::test_simple_workflow_attempts_counter, test_retrieve_workflow_in_workflow",
    """
    @DBOS.workflow()
    def noop():
        return None

    def scenario():
        attempts = []
        for _ in range(3):
            with SetWorkflowID("attempts-1"):
                noop()
            attempts.append(DBOS.get_workflow_status("attempts-1").recovery_attempts)
        return {"recovery_attempts": attempts}
    """,
    {'recovery_attempts': [1, 1, 1]},
)

case(
    "status_strings_as_an_enum",
    "tests/test_dbos.py::test_retrieve_workflow (WorkflowStatusString.PENDING.value)",
    """
    from dbos import WorkflowStatusString

    @DBOS.workflow()
    def sleeper():
        DBOS.sleep(0.3)

    def scenario():
        out = {}
        try:
            out["members"] = [WorkflowStatusString.PENDING.value, WorkflowStatusString.SUCCESS.value,
                              WorkflowStatusString.ERROR.value]
        except AttributeError as exc:
            out["members"] = type(exc).__name__
        handle = DBOS.start_workflow(sleeper)
        out["pending"] = handle.get_status().status == "PENDING"
        handle.get_result()
        out["success"] = handle.get_status().status == "SUCCESS"
        return out
    """,
    {'members': ['PENDING', 'SUCCESS', 'ERROR'], 'pending': True, 'success': True},
)
# -- queues, timeouts and workflow management ------------------------------------------------------

case(
    "queue_runs_an_enqueued_workflow_once",
    "tests/test_queue.py::test_simple_queue (DBOS 2.x form: Queue(...) at import)",
    """
    from dbos import Queue

    queue = Queue("test_queue")

    @DBOS.step()
    def step(value):
        runs.hit("step")
        return value + "d"

    @DBOS.workflow()
    def workflow(a, b):
        runs.hit("workflow")
        return [step(a) + b, DBOS.workflow_id]

    def scenario():
        out = {}
        try:
            with SetWorkflowID("queued-1"):
                handle = queue.enqueue(workflow, "abc", "123")
            out["result"] = handle.get_result()
            with SetWorkflowID("queued-1"):
                out["called_again"] = workflow("abc", "123")
            status = handle.get_status()
            out["status"] = [status.status, status.queue_name]
        except Exception as exc:
            out["error"] = type(exc).__name__
        out["runs"] = runs.snapshot()
        return out
    """,
    {'result': ['abcd123', 'queued-1'],
     'called_again': ['abcd123', 'queued-1'],
     'status': ['SUCCESS', 'test_queue'],
     'runs': {'step': 1, 'workflow': 1}},
)

case(
    "workflow_timeout_cancels",
    "tests/test_dbos.py::test_workflow_timeout",
    """
    from dbos import SetWorkflowTimeout

    @DBOS.workflow()
    def blocked():
        for _ in range(100):
            DBOS.sleep(0.1)
        return "not cancelled"

    def scenario():
        out = {}
        try:
            with SetWorkflowTimeout(0.3):
                with SetWorkflowID("timeout-1"):
                    blocked()
            out["direct"] = "no error"
        except Exception as exc:
            out["direct"] = type(exc).__name__
        try:
            out["status"] = DBOS.get_workflow_status("timeout-1").status
        except Exception as exc:
            out["status"] = type(exc).__name__
        return out
    """,
    {'direct': 'DBOSAwaitedWorkflowCancelledError', 'status': 'CANCELLED'},
)

case(
    "cancel_then_resume",
    "tests/test_workflow_management.py::test_cancel_resume",
    """
    entered = threading.Event()
    release = threading.Event()

    @DBOS.step()
    def first():
        runs.hit("first")

    @DBOS.step()
    def second():
        runs.hit("second")

    @DBOS.workflow()
    def workflow(x):
        first()
        entered.set()
        release.wait(5)
        second()
        return x

    def scenario():
        out = {}
        with SetWorkflowID("cancel-1"):
            handle = DBOS.start_workflow(workflow, 5)
        entered.wait(5)
        try:
            DBOS.cancel_workflow("cancel-1")
            out["cancelled_status"] = handle.get_status().status
            release.set()
            try:
                handle.get_result()
                out["awaited"] = "no error"
            except Exception as exc:
                out["awaited"] = type(exc).__name__
            resumed = DBOS.resume_workflow("cancel-1")
            out["resumed"] = resumed.get_result()
            out["final_status"] = handle.get_status().status
            out["resumed_again"] = DBOS.resume_workflow("cancel-1").get_result()
        except Exception as exc:
            release.set()
            out["error"] = type(exc).__name__
        out["runs"] = runs.snapshot()
        return out
    """,
    {'cancelled_status': 'CANCELLED',
     'awaited': 'DBOSAwaitedWorkflowCancelledError',
     'resumed': 5,
     'final_status': 'SUCCESS',
     'resumed_again': 5,
     'runs': {'first': 1, 'second': 1}},
)

case(
    "fork_from_a_step",
    "tests/test_workflow_management.py::test_fork_steps",
    """
    @DBOS.step()
    def add(x, n):
        runs.hit(f"step{n}")
        return x + n

    @DBOS.workflow()
    def five_steps(x):
        return add(x, 1) + add(x, 2) + add(x, 3) + add(x, 4) + add(x, 5)

    def scenario():
        with SetWorkflowID("fork-source"):
            out = {"original": five_steps(1)}
        out["runs_after_original"] = runs.snapshot()
        forked = DBOS.fork_workflow("fork-source", 3)
        out["forked_from_3"] = [forked.get_result(), forked.workflow_id != "fork-source"]
        out["runs_after_fork_3"] = runs.snapshot()
        again = DBOS.fork_workflow("fork-source", 1)
        out["forked_from_1"] = again.get_result()
        out["runs"] = runs.snapshot()
        return out
    """,
    {'original': 20,
     'runs_after_original': {'step1': 1, 'step2': 1, 'step3': 1, 'step4': 1, 'step5': 1},
     'forked_from_3': [20, True],
     'runs_after_fork_3': {'step1': 1, 'step2': 1, 'step3': 2, 'step4': 2, 'step5': 2},
     'forked_from_1': 20,
     'runs': {'step1': 2, 'step2': 2, 'step3': 3, 'step4': 3, 'step5': 3}},
)

case(
    "list_workflows_by_id_prefix_and_time",
    "tests/test_dbos.py::test_send_recv_temp_wf (its list_workflows part)",
    """
    import datetime

    @DBOS.workflow()
    def noop():
        return None

    def scenario():
        with SetWorkflowID("listed-abcdef"):
            noop()
        later = datetime.datetime.now().isoformat()
        ids = lambda found: [status.workflow_id for status in found]
        return {
            "prefix": ids(DBOS.list_workflows(workflow_id_prefix="listed-abc")),
            "prefix_and_later_start": ids(DBOS.list_workflows(start_time=later, workflow_id_prefix="listed-abc")),
            "longer_prefix": ids(DBOS.list_workflows(workflow_id_prefix="listed-abcdef-not-there")),
            "prefix_not_at_start": ids(DBOS.list_workflows(workflow_id_prefix="1listed-abc")),
        }
    """,
    {'prefix': ['listed-abcdef'],
     'prefix_and_later_start': [],
     'longer_prefix': [],
     'prefix_not_at_start': []},
)

# The cases ported since, one module per topic: importing them registers them in CASES.
from tests.dbos_suite import (  # noqa: E402,F401
    cases_async, cases_classes, cases_failures, cases_introspection, cases_management, cases_messaging,
    cases_recovery, cases_roles, cases_workflows,
)
