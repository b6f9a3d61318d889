'''Ported cases: failures, retries and recovery limits (tests/test_failures.py).'''

from __future__ import annotations

from tests.dbos_suite.program import case

case(
    "step_retries_message_and_errors",
    "tests/test_failures.py::test_step_retries (the error's message and errors, in and out of workflows)",
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
        for name, call in (("direct", failing_step), ("workflow", failing_workflow)):
            try:
                call()
            except Exception as exc:
                out[name] = [type(exc).__name__, str(exc).replace(failing_step.__qualname__, "<step>"),
                             [describe_error(e) for e in getattr(exc, "errors", [])]]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'direct': ['Exception', 'fail', []],
     'workflow': ['DBOSMaxStepRetriesExceeded',
                  'DBOS Error 7: Step <step> has exceeded its maximum of 2 retries',
                  [{'type': 'Exception', 'message': 'fail'}, {'type': 'Exception', 'message': 'fail'}]],
     'runs': {'failing_step': 3}},
)

case(
    "nondeterministic_workflow_restart",
    "tests/test_failures.py::test_nondeterministic_workflow",
    """
    flag = [True]
    entered = threading.Event()
    release = threading.Event()

    @DBOS.step()
    def step_one():
        return 1

    @DBOS.step()
    def step_two():
        return 2

    @DBOS.workflow()
    def workflow():
        if flag[0]:
            step_one()
        else:
            step_two()
        entered.set()
        release.wait(5)

    def scenario():
        out = {}
        with SetWorkflowID("nondeterministic"):
            handle = DBOS.start_workflow(workflow)
        entered.wait(5)
        flag[0] = False
        with SetWorkflowID("nondeterministic"):
            second = DBOS.start_workflow(workflow)
        try:
            second.get_result()
            out["second"] = "no error"
        except Exception as exc:
            out["second"] = type(exc).__name__
        release.set()
        out["first"] = handle.get_result()
        out["status"] = handle.get_status().status
        return out
    """,
    {'second': 'no error', 'first': None, 'status': 'SUCCESS'},
)

case(
    "keyboard_interrupt_leaves_the_workflow_pending",
    "tests/test_failures.py::test_keyboardinterrupt_during_retries (recovered through destroy and launch)",
    """
    interrupt = [True]

    @DBOS.step(retries_allowed=True, interval_seconds=0, max_attempts=3)
    def step():
        runs.hit("step")
        if interrupt[0]:
            raise KeyboardInterrupt

    @DBOS.workflow()
    def workflow():
        step()
        return DBOS.workflow_id

    def scenario():
        out = {}
        with SetWorkflowID("interrupted"):
            try:
                workflow()
            except KeyboardInterrupt:
                out["raised"] = "KeyboardInterrupt"
        out["status"] = DBOS.get_workflow_status("interrupted").status
        interrupt[0] = False
        DBOS.destroy()
        DBOS(config=config)
        DBOS.launch()
        out["recovered"] = DBOS.retrieve_workflow("interrupted").get_result()
        out["runs"] = runs.snapshot()
        return out
    """,
    {'raised': 'KeyboardInterrupt', 'status': 'PENDING', 'recovered': 'interrupted', 'runs': {'step': 2}},
)

case(
    "keyboard_interrupt_in_a_child_a_body_and_an_async_step",
    "tests/test_failures.py::test_keyboardinterrupt_during_retries (a child, a workflow body, an async step)",
    """
    interrupt = [True]

    @DBOS.step()
    def step():
        runs.hit("step")
        if interrupt[0]:
            raise KeyboardInterrupt

    @DBOS.workflow()
    def child():
        runs.hit("child")
        step()
        return "child done"

    @DBOS.workflow()
    def parent():
        runs.hit("parent")
        return child()

    @DBOS.step()
    async def async_step():
        runs.hit("async_step")
        if interrupt[0]:
            raise KeyboardInterrupt

    @DBOS.workflow()
    async def async_workflow():
        await async_step()
        return "async done"

    @DBOS.workflow()
    def body_interrupts():
        runs.hit("body")
        if interrupt[0]:
            raise KeyboardInterrupt
        return "body done"

    def scenario():
        out = {}
        for name, call in (("nested", parent), ("body", body_interrupts),
                           ("async", lambda: asyncio.run(async_workflow()))):
            with SetWorkflowID(name):
                try:
                    out[name] = call()
                except KeyboardInterrupt:
                    out[name] = "KeyboardInterrupt"
        out["statuses"] = sorted((id_shape(s.workflow_id), s.status) for s in DBOS.list_workflows())
        out["steps"] = [len(DBOS.list_workflow_steps(w)) for w in ("nested", "nested-1", "body", "async")]
        interrupt[0] = False
        DBOS.destroy()
        DBOS(config=config)
        DBOS.launch()
        out["recovered"] = [DBOS.retrieve_workflow(w).get_result() for w in ("nested", "body", "async")]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'nested': 'KeyboardInterrupt',
     'body': 'KeyboardInterrupt',
     'async': 'KeyboardInterrupt',
     'statuses': [['async', 'PENDING'], ['body', 'PENDING'], ['nested', 'PENDING'], ['nested-1', 'PENDING']],
     'steps': [1, 0, 0, 0],
     'recovered': ['child done', 'body done', 'async done'],
     'runs': {'async_step': 2, 'body': 2, 'child': 2, 'parent': 2, 'step': 2}},
)

case(
    "exception_that_cannot_be_rebuilt",
    "tests/test_failures.py::test_error_serialization (an exception whose constructor takes other arguments)",
    """
    class BadException(Exception):
        def __init__(self, one, two):
            super().__init__(f"Message: {one}, {two}")

    @DBOS.workflow()
    def raises_bad():
        raise BadException(1, 2)

    def scenario():
        out = {}
        with SetWorkflowID("bad-exception"):
            try:
                raises_bad()
            except Exception as exc:
                out["caller"] = describe_error(exc)
        status = DBOS.get_workflow_status("bad-exception")
        out["status"] = status.status
        out["error"] = type(status.error).__name__
        try:
            DBOS.retrieve_workflow("bad-exception").get_result()
        except Exception as exc:
            out["handle"] = type(exc).__name__
        return out
    """,
    {'caller': {'type': 'BadException', 'message': 'Message: 1, 2'},
     'status': 'ERROR',
     'error': 'str',
     'handle': 'TypeError'},
)

case(
    "resume_after_max_recovery_attempts",
    "tests/test_failures.py::test_dead_letter_queue (resume, then calls of a finished workflow)",
    """
    entered = threading.Event()
    release = threading.Event()

    @DBOS.workflow(max_recovery_attempts=0)
    def fragile():
        runs.hit("fragile")
        entered.set()
        release.wait(10)
        return "done"

    def scenario():
        out = {}
        with SetWorkflowID("dead-letter"):
            DBOS.start_workflow(fragile)
        entered.wait(5)
        DBOS.destroy()
        DBOS(config=config)
        DBOS.launch()
        with SetWorkflowID("dead-letter"):
            try:
                fragile()
                out["called"] = "no error"
            except Exception as exc:
                out["called"] = type(exc).__name__
        out["status"] = DBOS.get_workflow_status("dead-letter").status
        resumed = DBOS.resume_workflow("dead-letter")
        release.set()
        out["resumed"] = resumed.get_result()
        out["final"] = DBOS.get_workflow_status("dead-letter").status
        with SetWorkflowID("dead-letter"):
            out["called_after"] = [fragile() for _ in range(3)]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'called': 'DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded',
     'status': 'MAX_RECOVERY_ATTEMPTS_EXCEEDED',
     'resumed': 'done',
     'final': 'SUCCESS',
     'called_after': ['done', 'done', 'done'],
     'runs': {'fragile': 4}},
)

case(
    "should_retry_and_backoff",
    "tests/test_failures.py::test_step_retries (should_retry decides; backoff_rate)",
    """
    @DBOS.step(retries_allowed=True, interval_seconds=0.01, backoff_rate=1.5, max_attempts=5,
               should_retry=lambda exc: isinstance(exc, ValueError))
    def picky(kind):
        runs.hit(kind)
        if runs[kind] < 3:
            raise (ValueError if kind == "value" else KeyError)(f"{kind} {runs[kind]}")
        return runs[kind]

    @DBOS.workflow()
    def workflow(kind):
        try:
            return picky(kind)
        except Exception as exc:
            return describe_error(exc)

    def scenario():
        return {"value": workflow("value"), "key": workflow("key"), "runs": runs.snapshot()}
    """,
    {'value': 3, 'key': {'type': 'KeyError', 'message': "'key 1'"}, 'runs': {'key': 1, 'value': 3}},
)
