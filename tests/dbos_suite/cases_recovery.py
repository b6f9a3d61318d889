'''Ported cases: recovery and re-execution through the public API (tests/test_dbos.py, tests/test_async.py).

DBOS's own recovery tests flip a status back to PENDING with SQL, which a public-API program cannot
do; these reach the same state the way a user does: a workflow still running when ``DBOS.destroy()``
is called is PENDING in the store, and the next ``DBOS.launch()`` recovers it.
'''

from __future__ import annotations

from tests.dbos_suite.program import case

# Holds a workflow's first execution while the program destroys DBOS and launches it again, so the
# workflow is PENDING at launch and recovery runs it; the first execution finishes only after that.
_HELD = """
    entered = threading.Event()
    recovered = threading.Event()
    first_finished = threading.Event()

    def hold_first_execution():
        \"\"\"True in the first execution, after the recovered one finished; False in the recovered one.\"\"\"
        if entered.is_set():
            return False
        entered.set()
        recovered.wait(10)
        return True

    def relaunch_and_recover(workflow_id):
        entered.wait(5)
        DBOS.destroy()
        DBOS(config=config)
        DBOS.launch()
        handle = DBOS.retrieve_workflow(workflow_id)
        try:
            result = handle.get_result()
        except Exception as exc:
            result = describe_error(exc)
        status = handle.get_status()
        recovered.set()
        first_finished.wait(10)
        return {"result": result, "status": status.status, "recovery_attempts": status.recovery_attempts,
                "runs": runs.snapshot()}
"""

case(
    "launch_recovers_a_workflow_left_pending",
    "tests/test_dbos.py::test_recovery_workflow_step (PENDING reached through destroy)",
    _HELD + """
    @DBOS.step()
    def before(x):
        runs.hit("before")
        return x

    @DBOS.step()
    def after(x):
        runs.hit("after")
        return x + 1

    @DBOS.workflow()
    def workflow(x):
        runs.hit("workflow")
        value = before(x)
        first = hold_first_execution()
        try:
            return after(value)
        finally:
            if first:
                first_finished.set()

    def scenario():
        with SetWorkflowID("left-pending"):
            DBOS.start_workflow(workflow, 1)
        return relaunch_and_recover("left-pending")
    """,
    {'result': 2, 'status': 'SUCCESS', 'recovery_attempts': 2, 'runs': {'after': 1, 'before': 1, 'workflow': 2}},
)

case(
    "recovered_async_workflow",
    "tests/test_async.py::test_workflow_recovery_async",
    _HELD + """
    @DBOS.step()
    async def step(x):
        runs.hit("step")
        return x * 2

    @DBOS.workflow()
    async def workflow(x):
        runs.hit("workflow")
        value = await step(x)
        first = await asyncio.to_thread(hold_first_execution)
        if first:
            first_finished.set()
        return value + 1

    def scenario():
        with SetWorkflowID("async-left-pending"):
            DBOS.start_workflow(workflow, 5)
        return relaunch_and_recover("async-left-pending")
    """,
    {'result': {'type': 'CancelledError', 'message': ''},
     'status': 'ERROR',
     'recovery_attempts': 1,
     'runs': {'step': 1, 'workflow': 1}},
)

case(
    "recovery_reuses_a_finished_child",
    "tests/test_dbos.py::test_recovery_workflow (children of a recovered workflow)",
    _HELD + """
    @DBOS.workflow()
    def child(x):
        runs.hit("child")
        return x + 100

    @DBOS.workflow()
    def parent():
        runs.hit("parent")
        value = child(1)
        first = hold_first_execution()
        if first:
            first_finished.set()
        return [value, DBOS.start_workflow(child, 2).get_result()]

    def scenario():
        with SetWorkflowID("pending-parent"):
            DBOS.start_workflow(parent)
        return relaunch_and_recover("pending-parent")
    """,
    {'result': [101, 102], 'status': 'SUCCESS', 'recovery_attempts': 2, 'runs': {'child': 2, 'parent': 2}},
)

case(
    "recovered_workflow_still_receives",
    "tests/test_dbos.py::test_send_recv (a receiver recovered before the message arrives)",
    _HELD + """
    @DBOS.workflow()
    def receiver():
        runs.hit("receiver")
        first = hold_first_execution()
        if first:
            first_finished.set()
            return "first execution"
        return DBOS.recv("t", timeout_seconds=10)

    def scenario():
        with SetWorkflowID("pending-receiver"):
            DBOS.start_workflow(receiver)
        entered.wait(5)
        DBOS.destroy()
        DBOS(config=config)
        DBOS.launch()
        DBOS.send("pending-receiver", "delivered", topic="t")
        handle = DBOS.retrieve_workflow("pending-receiver")
        out = {"result": handle.get_result()}
        recovered.set()
        first_finished.wait(10)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'result': 'delivered', 'runs': {'receiver': 2}},
)

case(
    "max_recovery_attempts_exceeded",
    "tests/test_failures.py::test_dead_letter_queue (reached through destroy and launch)",
    _HELD + """
    @DBOS.workflow(max_recovery_attempts=0)
    def fragile():
        runs.hit("fragile")
        first = hold_first_execution()
        if first:
            first_finished.set()
        return "ran"

    def scenario():
        with SetWorkflowID("fragile-1"):
            DBOS.start_workflow(fragile)
        return relaunch_and_recover("fragile-1")
    """,
    {'result': {'type': 'DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded',
                'message': 'DBOS Error 14: Awaited workflow fragile-1 exceeded its maximum recovery attempts'},
     'status': 'MAX_RECOVERY_ATTEMPTS_EXCEEDED',
     'recovery_attempts': 2,
     'runs': {'fragile': 1}},
)
