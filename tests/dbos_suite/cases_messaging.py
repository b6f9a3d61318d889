'''Ported cases: messages, events and streams at their edges (tests/test_dbos.py, tests/test_streaming.py).'''

from __future__ import annotations

from tests.dbos_suite.program import case

case(
    "messaging_outside_a_workflow_is_refused",
    "tests/test_dbos.py::test_send_recv, test_set_get_events; tests/test_streaming.py::test_stream_error_cases",
    """
    def scenario():
        out = {}
        for name, call in (("recv", lambda: DBOS.recv("topic", timeout_seconds=0)),
                           ("set_event", lambda: DBOS.set_event("key", "value")),
                           ("write_stream", lambda: DBOS.write_stream("key", "value")),
                           ("close_stream", lambda: DBOS.close_stream("key"))):
            try:
                call()
                out[name] = "no error"
            except Exception as exc:
                out[name] = describe_error(exc)
        return out
    """,
    {'recv': {'type': 'DBOSException', 'message': 'DBOS Error: recv() must be called from within a workflow'},
     'set_event': {'type': 'DBOSException',
                   'message': 'DBOS Error: set_event() must be called from within a workflow or step'},
     'write_stream': {'type': 'DBOSException',
                      'message': 'DBOS Error: write_stream() must be called from within a workflow or step'},
     'close_stream': {'type': 'DBOSException',
                      'message': 'DBOS Error: close_stream() must be called from within a workflow or step'}},
)

case(
    "send_to_a_missing_workflow_fails",
    "tests/test_dbos.py::test_send_recv (send to a non-existent id)",
    """
    @DBOS.workflow()
    def sender(destination):
        runs.hit("sender")
        DBOS.send(destination, "hello")
        return "sent"

    def scenario():
        out = {}
        with SetWorkflowID("sender-1"):
            try:
                sender("no-such-workflow")
                out["from_workflow"] = "no error"
            except Exception as exc:
                out["from_workflow"] = describe_error(exc)
        try:
            DBOS.send("no-such-workflow", "hello")
            out["from_outside"] = "no error"
        except Exception as exc:
            out["from_outside"] = describe_error(exc)
        out["sender_status"] = DBOS.get_workflow_status("sender-1").status
        out["runs"] = runs.snapshot()
        return out
    """,
    {'from_workflow': {'type': 'DBOSNonExistentWorkflowError',
                       'message': 'DBOS Error 5: Non-existent `send` destination workflow ID: no-such-workflow'},
     'from_outside': {'type': 'DBOSNonExistentWorkflowError',
                      'message': 'DBOS Error 5: Non-existent `send` destination workflow ID: no-such-workflow'},
     'sender_status': 'ERROR',
     'runs': {'sender': 1}},
)

case(
    "send_none_is_a_message",
    "tests/test_dbos.py::test_send_recv (send None)",
    """
    @DBOS.workflow()
    def receiver():
        first = DBOS.recv(timeout_seconds=10)
        second = DBOS.recv(timeout_seconds=0.2)
        return [first, second]

    def scenario():
        with SetWorkflowID("none-receiver"):
            handle = DBOS.start_workflow(receiver)
        DBOS.send("none-receiver", None)
        return {"received": handle.get_result()}
    """,
    {'received': [None, None]},
)

case(
    "recv_topics_are_queues_in_send_order",
    "tests/test_dbos.py::test_send_recv (topics), test_send_recv_temp_wf",
    """
    @DBOS.workflow()
    def receiver():
        a = [DBOS.recv("a", timeout_seconds=5) for _ in range(3)]
        b = [DBOS.recv("b", timeout_seconds=5) for _ in range(2)]
        default = DBOS.recv(timeout_seconds=5)
        empty = DBOS.recv("a", timeout_seconds=0.2)
        return {"a": a, "b": b, "default": default, "empty": empty}

    @DBOS.workflow()
    def sender(destination):
        for i in range(3):
            DBOS.send(destination, f"a{i}", topic="a")
        DBOS.send(destination, "b0", topic="b")
        DBOS.send(destination, "plain")
        DBOS.send(destination, "b1", topic="b")

    def scenario():
        with SetWorkflowID("topics-receiver"):
            handle = DBOS.start_workflow(receiver)
        sender("topics-receiver")
        return handle.get_result()
    """,
    {'a': ['a0', 'a1', 'a2'], 'b': ['b0', 'b1'], 'default': 'plain', 'empty': None},
)

case(
    "recv_timeout_is_recorded",
    "tests/test_dbos.py::test_send_recv (recv timeout, then OAOO)",
    """
    @DBOS.workflow()
    def waits():
        runs.hit("waits")
        return DBOS.recv("late", timeout_seconds=0.2)

    def scenario():
        out = {}
        with SetWorkflowID("recv-timeout-1"):
            out["first"] = waits()
        DBOS.send("recv-timeout-1", "arrived after the timeout", topic="late")
        with SetWorkflowID("recv-timeout-1"):
            out["again"] = waits()
        out["status"] = DBOS.get_workflow_status("recv-timeout-1").status
        out["runs"] = runs.snapshot()
        return out
    """,
    {'first': None, 'again': None, 'status': 'SUCCESS', 'runs': {'waits': 1}},
)

case(
    "messages_sent_before_recv_wait",
    "tests/test_dbos.py::test_send_recv (messages sent before the receiver asks)",
    """
    gate = threading.Event()

    @DBOS.workflow()
    def receiver():
        gate.wait(5)
        return [DBOS.recv("t", timeout_seconds=5), DBOS.recv("t", timeout_seconds=5)]

    def scenario():
        with SetWorkflowID("early-receiver"):
            handle = DBOS.start_workflow(receiver)
        DBOS.send("early-receiver", 1, topic="t")
        DBOS.send("early-receiver", {"two": [2]}, topic="t")
        gate.set()
        return {"received": handle.get_result()}
    """,
    {'received': [1, {'two': [2]}]},
)

case(
    "send_from_a_workflow_once_per_id",
    "tests/test_dbos.py::test_send_recv (sender OAOO)",
    """
    @DBOS.workflow()
    def receiver():
        got = []
        while True:
            message = DBOS.recv(timeout_seconds=0.5)
            if message is None:
                return got
            got.append(message)

    @DBOS.workflow()
    def sender(destination):
        runs.hit("sender")
        DBOS.send(destination, "m1")
        DBOS.send(destination, "m2")
        return destination

    def scenario():
        with SetWorkflowID("oaoo-receiver"):
            handle = DBOS.start_workflow(receiver)
        for _ in range(2):
            with SetWorkflowID("oaoo-sender"):
                sender("oaoo-receiver")
        return {"received": handle.get_result(), "runs": runs.snapshot()}
    """,
    {'received': ['m1', 'm2'], 'runs': {'sender': 1}},
)

case(
    "get_event_timeouts_inside_and_outside",
    "tests/test_dbos.py::test_set_get_events (get_event of a missing workflow)",
    """
    @DBOS.workflow()
    def reads(target, key):
        runs.hit("reads")
        return DBOS.get_event(target, key, timeout_seconds=0.2)

    def scenario():
        out = {}
        with SetWorkflowID("event-reader-1"):
            out["in_workflow"] = reads("no-such-workflow", "key")
        with SetWorkflowID("event-reader-1"):
            out["again"] = reads("no-such-workflow", "key")
        out["outside"] = DBOS.get_event("no-such-workflow", "key", timeout_seconds=0.2)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'in_workflow': None, 'again': None, 'outside': None, 'runs': {'reads': 1}},
)

case(
    "events_keep_the_last_value_and_none",
    "tests/test_dbos.py::test_set_get_events, test_multi_set_event",
    """
    @DBOS.workflow()
    def publisher():
        DBOS.set_event("k", "first")
        DBOS.set_event("k", "second")
        DBOS.set_event("nothing", None)
        DBOS.set_event("structured", {"a": (1, 2), "b": [None]})
        return "done"

    def scenario():
        with SetWorkflowID("publisher-1"):
            publisher()
        structured = DBOS.get_event("publisher-1", "structured")
        return {
            "k": DBOS.get_event("publisher-1", "k"),
            "nothing": DBOS.get_event("publisher-1", "nothing", timeout_seconds=0.2),
            "structured": [structured["a"] == (1, 2), structured["b"]],
            "missing_key": DBOS.get_event("publisher-1", "missing", timeout_seconds=0.2),
            "all": DBOS.get_all_events("publisher-1"),
        }
    """,
    {'k': 'second',
     'nothing': None,
     'structured': [True, [None]],
     'missing_key': None,
     'all': {'k': 'second', 'nothing': None, 'structured': {'a': [1, 2], 'b': [None]}}},
)

case(
    "get_event_waits_for_the_event",
    "tests/test_dbos.py::test_set_get_events (a waiting get_event)",
    """
    gate = threading.Event()

    @DBOS.workflow()
    def publisher():
        gate.wait(5)
        DBOS.set_event("ready", "yes")
        return "done"

    @DBOS.workflow()
    def waiter(target):
        return DBOS.get_event(target, "ready", timeout_seconds=10)

    def scenario():
        with SetWorkflowID("late-publisher"):
            published = DBOS.start_workflow(publisher)
        with SetWorkflowID("event-waiter"):
            waiting = DBOS.start_workflow(waiter, "late-publisher")
        gate.set()
        return {"waiter": waiting.get_result(), "publisher": published.get_result(),
                "outside": DBOS.get_event("late-publisher", "ready")}
    """,
    {'waiter': 'yes', 'publisher': 'done', 'outside': 'yes'},
)

case(
    "set_event_once_per_id",
    "tests/test_dbos.py::test_set_get_events (OAOO of set_event)",
    """
    @DBOS.workflow()
    def publisher(value):
        runs.hit("publisher")
        DBOS.set_event("key", value)
        return value

    def scenario():
        out = {}
        with SetWorkflowID("publisher-once"):
            out["first"] = publisher("v1")
        with SetWorkflowID("publisher-once"):
            out["second"] = publisher("v2")
        out["event"] = DBOS.get_event("publisher-once", "key")
        out["runs"] = runs.snapshot()
        return out
    """,
    {'first': 'v1', 'second': 'v1', 'event': 'v1', 'runs': {'publisher': 1}},
)

case(
    "stream_values_in_order_and_offsets",
    "tests/test_streaming.py::test_basic_stream_write_read (read twice)",
    """
    @DBOS.workflow()
    def producer(n):
        for i in range(n):
            DBOS.write_stream("numbers", {"i": i})
        DBOS.close_stream("numbers")
        return n

    def scenario():
        with SetWorkflowID("stream-producer"):
            producer(5)
        return {
            "all": list(DBOS.read_stream("stream-producer", "numbers")),
            "reread": [v["i"] for v in DBOS.read_stream("stream-producer", "numbers")],
        }
    """,
    {'all': [{'i': 0}, {'i': 1}, {'i': 2}, {'i': 3}, {'i': 4}], 'reread': [0, 1, 2, 3, 4]},
)

case(
    "stream_ends_when_the_workflow_ends",
    "tests/test_streaming.py::test_unclosed_stream",
    """
    @DBOS.workflow()
    def producer_without_close():
        DBOS.write_stream("s", "a")
        DBOS.write_stream("s", "b")
        return "finished"

    @DBOS.workflow()
    def producer_that_fails():
        DBOS.write_stream("s", "x")
        raise RuntimeError("producer failed")

    def scenario():
        out = {}
        with SetWorkflowID("unclosed-producer"):
            out["result"] = producer_without_close()
        out["values"] = list(DBOS.read_stream("unclosed-producer", "s"))
        with SetWorkflowID("failing-producer"):
            try:
                producer_that_fails()
            except RuntimeError as exc:
                out["failed"] = describe_error(exc)
        out["values_of_failed"] = list(DBOS.read_stream("failing-producer", "s"))
        return out
    """,
    {'result': 'finished',
     'values': ['a', 'b'],
     'failed': {'type': 'RuntimeError', 'message': 'producer failed'},
     'values_of_failed': ['x']},
)

case(
    "stream_read_while_written",
    "tests/test_streaming.py::test_stream_concurrent_write_read",
    """
    step_gate = threading.Event()

    @DBOS.workflow()
    def producer():
        DBOS.write_stream("live", 1)
        step_gate.wait(5)
        DBOS.write_stream("live", 2)
        DBOS.close_stream("live")

    def scenario():
        with SetWorkflowID("live-producer"):
            handle = DBOS.start_workflow(producer)
        reader = DBOS.read_stream("live-producer", "live")
        first = next(reader)
        step_gate.set()
        rest = list(reader)
        handle.get_result()
        return {"first": first, "rest": rest}
    """,
    {'first': 1, 'rest': [2]},
)

case(
    "stream_written_from_a_step",
    "tests/test_streaming.py::test_stream_write_from_step (without retries)",
    """
    @DBOS.step()
    def emit(values):
        runs.hit("emit")
        for value in values:
            DBOS.write_stream("from-step", value)

    @DBOS.workflow()
    def producer():
        emit(["a", "b"])
        DBOS.write_stream("from-step", "c")
        DBOS.close_stream("from-step")

    def scenario():
        out = {}
        with SetWorkflowID("step-producer"):
            try:
                producer()
                out["values"] = list(DBOS.read_stream("step-producer", "from-step"))
            except Exception as exc:
                out["error"] = describe_error(exc)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'values': ['a', 'b', 'c'], 'runs': {'emit': 1}},
)

case(
    "several_streams_of_one_workflow",
    "tests/test_streaming.py::test_stream_interleaved_operations, test_stream_multiple_keys",
    """
    @DBOS.workflow()
    def producer():
        DBOS.write_stream("left", "l1")
        DBOS.write_stream("right", "r1")
        DBOS.write_stream("left", "l2")
        DBOS.close_stream("left")
        DBOS.write_stream("right", "r2")
        DBOS.close_stream("right")

    def scenario():
        with SetWorkflowID("two-streams"):
            producer()
        return {"left": list(DBOS.read_stream("two-streams", "left")),
                "right": list(DBOS.read_stream("two-streams", "right"))}
    """,
    {'left': ['l1', 'l2'], 'right': ['r1', 'r2']},
)
