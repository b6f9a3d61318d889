'''One small differential test per DBOS behaviour the shim must reproduce (issue 3's scope).

Each case is a complete inline DBOS program (PRELUDE + its body + POSTLUDE) whose ``scenario()``
returns a trace. ``test_semantics[<case>-dbos]`` checks that real DBOS still produces the trace
written here (so a DBOS upgrade or a harness bug shows up); ``test_semantics[<case>-shim]`` checks
that the shim produces the same trace as DBOS does in this run.

The comment above each case names the point of shared/REFERENCE.md ("DBOS semantics a shim must
reproduce") it covers, or says it is a DBOS behaviour found while writing these tests.
'''

from __future__ import annotations

import textwrap
from typing import Any, NamedTuple

import pytest

from tests.differential.harness import assert_same_trace, run_fixture
from tests.differential.known_failures import mark_if_known

PRELUDE = """\
import asyncio
import logging
import os
import threading
import time

from dbos import DBOS, DBOSConfig, SetWorkflowID
from dbos._error import (
    DBOSConflictingWorkflowError,
    DBOSException,
    DBOSMaxStepRetriesExceeded,
    DBOSNonExistentWorkflowError,
)

from fixtures.tracing import Counter, describe_error, id_shape

config: DBOSConfig = {"name": "semantics", "system_database_url": os.environ["D2R_DB_URL"]}
DBOS(config=config)
runs = Counter()
"""

POSTLUDE = """

def main():
    DBOS.launch()
    try:
        return scenario()
    finally:
        DBOS.destroy()
"""


class Case(NamedTuple):
    source: str
    expected: Any


CASES: dict[str, Case] = {}


def case(name: str, body: str, expected: Any) -> None:
    assert name not in CASES, name
    CASES[name] = Case(PRELUDE + "\n" + textwrap.dedent(body).strip("\n") + "\n" + POSTLUDE, expected)


# REFERENCE: "Calling a workflow function runs it durably and returns its result".
case(
    "workflow_call_runs_durably",
    """
    @DBOS.step()
    def double(x):
        runs.hit("double")
        return 2 * x

    @DBOS.workflow()
    def compute(x):
        return double(x) + 1

    def scenario():
        with SetWorkflowID("compute-1"):
            result = compute(20)
        handle = DBOS.retrieve_workflow("compute-1")
        status = handle.get_status()
        return {
            "result": result,
            "stored_result": handle.get_result(),
            "status": status.status,
            "workflow_id": status.workflow_id,
            "handle_id": handle.workflow_id,
            "runs": runs.snapshot(),
        }
    """,
    {'result': 41,
     'stored_result': 41,
     'status': 'SUCCESS',
     'workflow_id': 'compute-1',
     'handle_id': 'compute-1',
     'runs': {'double': 1}},
)

# REFERENCE: "@DBOS.workflow(name=, max_recovery_attempts=)" and handles' get_status(). The
# status carries the registered name, the output, the error; a conflict message names functions
# by their registered names.
case(
    "status_fields_and_workflow_names",
    """
    @DBOS.workflow()
    def plain():
        return {"ok": True}

    @DBOS.workflow(name="renamed-workflow", max_recovery_attempts=5)
    def renamed():
        return "r"

    @DBOS.workflow()
    def failing():
        raise ValueError("nope")

    def scenario():
        with SetWorkflowID("s-plain"):
            plain()
        with SetWorkflowID("s-renamed"):
            renamed()
        with SetWorkflowID("s-failing"):
            try:
                failing()
            except ValueError:
                pass
        out = {}
        for wf_id in ("s-plain", "s-renamed", "s-failing"):
            st = DBOS.retrieve_workflow(wf_id).get_status()
            out[wf_id] = {
                "workflow_id": st.workflow_id,
                "status": st.status,
                "name": st.name,
                "output": st.output,
                "error": None if st.error is None else describe_error(st.error),
            }
        with SetWorkflowID("s-renamed"):
            try:
                plain()
            except DBOSConflictingWorkflowError as exc:
                out["conflict"] = describe_error(exc)
        return out
    """,
    {'s-plain': {'workflow_id': 's-plain',
                 'status': 'SUCCESS',
                 'name': 'plain',
                 'output': {'ok': True},
                 'error': None},
     's-renamed': {'workflow_id': 's-renamed',
                   'status': 'SUCCESS',
                   'name': 'renamed-workflow',
                   'output': 'r',
                   'error': None},
     's-failing': {'workflow_id': 's-failing',
                   'status': 'ERROR',
                   'name': 'failing',
                   'output': None,
                   'error': {'type': 'ValueError', 'message': 'nope'}},
     'conflict': {'type': 'DBOSConflictingWorkflowError',
                  'message': 'DBOS Error 9: Conflicting workflow invocation with the same ID '
                             '(s-renamed): Workflow already exists with a different function name: '
                             'renamed-workflow, but the provided function name is: plain'}},
)

# REFERENCE: "DBOS.start_workflow(fn, *a) returns a handle (get_result(), get_status(),
# workflow_id)". start_workflow returns while the workflow still runs (its status is PENDING).
case(
    "start_workflow_handle",
    """
    gate = threading.Event()

    @DBOS.step()
    def wait_for_gate():
        runs.hit("wait_for_gate")
        return gate.wait(timeout=10)

    @DBOS.workflow()
    def report(name):
        opened = wait_for_gate()
        return f"{name}: {'ready' if opened else 'gate never opened'}"

    def scenario():
        with SetWorkflowID("report-1"):
            handle = DBOS.start_workflow(report, "q3")
        while_running = handle.get_status().status
        gate.set()
        result = handle.get_result()
        generated = DBOS.start_workflow(report, "q4")
        return {
            "workflow_id": handle.workflow_id,
            "status_while_running": while_running,
            "result": result,
            "status_after": handle.get_status().status,
            "generated_id": id_shape(generated.workflow_id),
            "generated_result": generated.get_result(),
            "retrieved": DBOS.retrieve_workflow("report-1").get_result(),
            "runs": runs.snapshot(),
        }
    """,
    {'workflow_id': 'report-1',
     'status_while_running': 'PENDING',
     'result': 'q3: ready',
     'status_after': 'SUCCESS',
     'generated_id': '<uuid>',
     'generated_result': 'q4: ready',
     'retrieved': 'q3: ready',
     'runs': {'wait_for_gate': 2}},
)

# REFERENCE: "start_workflow_async / *_async variants" and the async def forms of the decorators.
case(
    "async_variants",
    """
    @DBOS.step()
    async def fetch(x):
        runs.hit("fetch")
        await asyncio.sleep(0.001)
        return {"x": x, "step_id": DBOS.step_id}

    @DBOS.workflow()
    async def pipeline(x):
        first = await fetch(x)
        await DBOS.sleep_async(0.01)
        both = await asyncio.gather(fetch(x + 1), fetch(x + 2))
        return {"workflow_id": id_shape(DBOS.workflow_id), "first": first, "both": list(both)}

    async def run():
        direct = await pipeline(1)
        with SetWorkflowID("pipeline-2"):
            handle = await DBOS.start_workflow_async(pipeline, 10)
        result = await handle.get_result()
        status = await handle.get_status()
        retrieved = await DBOS.retrieve_workflow_async("pipeline-2")
        return {
            "direct": direct,
            "handle_id": handle.workflow_id,
            "result": result,
            "status": status.status,
            "retrieved": await retrieved.get_result(),
            "runs": runs.snapshot(),
        }

    def scenario():
        return asyncio.run(run())
    """,
    {'direct': {'workflow_id': '<uuid>',
                'first': {'x': 1, 'step_id': 1},
                'both': [{'x': 2, 'step_id': 3}, {'x': 3, 'step_id': 4}]},
     'handle_id': 'pipeline-2',
     'result': {'workflow_id': 'pipeline-2',
                'first': {'x': 10, 'step_id': 1},
                'both': [{'x': 11, 'step_id': 3}, {'x': 12, 'step_id': 4}]},
     'status': 'SUCCESS',
     'retrieved': {'workflow_id': 'pipeline-2',
                   'first': {'x': 10, 'step_id': 1},
                   'both': [{'x': 11, 'step_id': 3}, {'x': 12, 'step_id': 4}]},
     'runs': {'fetch': 6}},
)

# Found while writing these tests: a sync workflow may be called from async code (inside a running
# event loop), and an async workflow may call sync steps.
case(
    "sync_and_async_mixed",
    """
    @DBOS.step()
    def sync_step(x):
        runs.hit("sync_step")
        return x * 10

    @DBOS.workflow()
    def sync_workflow(x):
        return sync_step(x) + 1

    @DBOS.workflow()
    async def async_workflow(x):
        return sync_step(x) + sync_workflow(x)

    async def run():
        return {"sync_in_loop": sync_workflow(1), "async_calls_sync": await async_workflow(2)}

    def scenario():
        out = asyncio.run(run())
        out["runs"] = runs.snapshot()
        return out
    """,
    {'sync_in_loop': 11, 'async_calls_sync': 41, 'runs': {'sync_step': 3}},
)

# REFERENCE: "DBOS.retrieve_workflow(id)" (issue 3); for an id that does not exist DBOS raises
# DBOSNonExistentWorkflowError at once.
case(
    "retrieve_workflow",
    """
    @DBOS.workflow()
    def greet(name):
        return f"hello {name}"

    def scenario():
        with SetWorkflowID("greet-1"):
            greet("ada")
        handle = DBOS.retrieve_workflow("greet-1")
        out = {"id": handle.workflow_id, "result": handle.get_result(), "status": handle.get_status().status}
        try:
            DBOS.retrieve_workflow("no-such-id")
            out["missing"] = "returned a handle"
        except DBOSNonExistentWorkflowError as exc:
            out["missing"] = describe_error(exc)
            out["missing_is_dbos_exception"] = isinstance(exc, DBOSException)
        return out
    """,
    {'id': 'greet-1',
     'result': 'hello ada',
     'status': 'SUCCESS',
     'missing': {'type': 'DBOSNonExistentWorkflowError',
                 'message': 'DBOS Error 5: Non-existent target workflow ID: no-such-id'},
     'missing_is_dbos_exception': True},
)

# REFERENCE: "with SetWorkflowID("id"): ... a second call with the same id does not re-run, ignores
# new args, returns the stored result".
case(
    "same_id_returns_stored_result",
    """
    @DBOS.step()
    def charge(order, cents):
        runs.hit("charge")
        return f"{order}:{cents}"

    @DBOS.workflow()
    def pay(order, cents):
        return {"charge": charge(order, cents), "workflow_id": DBOS.workflow_id}

    def scenario():
        out = {}
        with SetWorkflowID("pay-1"):
            out["first"] = pay("o1", 100)
        with SetWorkflowID("pay-1"):
            out["second"] = pay("o2", 999)
        with SetWorkflowID("pay-1"):
            handle = DBOS.start_workflow(pay, "o3", 5)
        out["started"] = {"id": handle.workflow_id, "result": handle.get_result()}
        out["runs"] = runs.snapshot()
        return out
    """,
    {'first': {'charge': 'o1:100', 'workflow_id': 'pay-1'},
     'second': {'charge': 'o1:100', 'workflow_id': 'pay-1'},
     'started': {'id': 'pay-1', 'result': {'charge': 'o1:100', 'workflow_id': 'pay-1'}},
     'runs': {'charge': 1}},
)

# REFERENCE: "... or re-raises the stored exception with its original type".
case(
    "same_id_reraises_stored_exception",
    """
    class PaymentFailed(Exception):
        pass

    @DBOS.step()
    def charge(order):
        runs.hit("charge")
        raise PaymentFailed(f"card declined for {order}")

    @DBOS.workflow()
    def pay(order):
        return charge(order)

    def attempt(fn, *args):
        try:
            return {"result": fn(*args)}
        except PaymentFailed as exc:
            return {"error": describe_error(exc), "same_class": type(exc) is PaymentFailed}

    def scenario():
        out = {}
        with SetWorkflowID("pay-err"):
            out["first"] = attempt(pay, "o1")
        with SetWorkflowID("pay-err"):
            out["second"] = attempt(pay, "o2")
        with SetWorkflowID("pay-err"):
            handle = DBOS.start_workflow(pay, "o3")
        out["handle"] = attempt(handle.get_result)
        out["status"] = handle.get_status().status
        out["retrieved"] = attempt(DBOS.retrieve_workflow("pay-err").get_result)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'first': {'error': {'type': 'PaymentFailed', 'message': 'card declined for o1'},
               'same_class': True},
     'second': {'error': {'type': 'PaymentFailed', 'message': 'card declined for o1'},
                'same_class': True},
     'handle': {'error': {'type': 'PaymentFailed', 'message': 'card declined for o1'},
                'same_class': True},
     'status': 'ERROR',
     'retrieved': {'error': {'type': 'PaymentFailed', 'message': 'card declined for o1'},
                   'same_class': True},
     'runs': {'charge': 1}},
)

# REFERENCE: "Same id, different function: DBOSConflictingWorkflowError" (on call and on start).
case(
    "same_id_other_function_conflicts",
    """
    @DBOS.workflow()
    def first():
        runs.hit("first")
        return "first"

    @DBOS.workflow()
    def second():
        runs.hit("second")
        return "second"

    def scenario():
        out = {}
        with SetWorkflowID("shared-id"):
            out["first"] = first()
        for how in ("call", "start"):
            try:
                with SetWorkflowID("shared-id"):
                    if how == "call":
                        second()
                    else:
                        DBOS.start_workflow(second)
                out[how] = "no error"
            except DBOSException as exc:
                out[how] = describe_error(exc)
                out[how + "_is_conflict"] = isinstance(exc, DBOSConflictingWorkflowError)
        out["stored"] = DBOS.retrieve_workflow("shared-id").get_result()
        out["runs"] = runs.snapshot()
        return out
    """,
    {'first': 'first',
     'call': {'type': 'DBOSConflictingWorkflowError',
              'message': 'DBOS Error 9: Conflicting workflow invocation with the same ID '
                         '(shared-id): Workflow already exists with a different function name: '
                         'first, but the provided function name is: second'},
     'call_is_conflict': True,
     'start': {'type': 'DBOSConflictingWorkflowError',
               'message': 'DBOS Error 9: Conflicting workflow invocation with the same ID '
                          '(shared-id): Workflow already exists with a different function name: '
                          'first, but the provided function name is: second'},
     'start_is_conflict': True,
     'stored': 'first',
     'runs': {'first': 1}},
)

# Found while writing these tests: SetWorkflowID names only the first workflow started in its
# block; later ones in the same block get generated ids.
case(
    "set_workflow_id_names_first_workflow_only",
    """
    @DBOS.workflow()
    def job(n):
        return id_shape(DBOS.workflow_id)

    def scenario():
        with SetWorkflowID("job-1"):
            a = job(1)
            b = job(2)
            c = DBOS.start_workflow(job, 3).get_result()
        d = job(4)
        return [a, b, c, d]
    """,
    ['job-1', '<uuid>', '<uuid>', '<uuid>'],
)

# REFERENCE: "A step called outside a workflow is a plain call" (no ids, no retries, raw errors).
case(
    "step_outside_workflow_is_plain_call",
    """
    @DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=0.01)
    def flaky(x):
        runs.hit("flaky")
        if x < 0:
            raise ValueError(f"negative {x}")
        return {"x": x, "workflow_id": DBOS.workflow_id, "step_id": DBOS.step_id}

    def scenario():
        out = {"ok": flaky(1), "ok_again": flaky(1)}
        try:
            flaky(-1)
        except ValueError as exc:
            out["error"] = describe_error(exc)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'ok': {'x': 1, 'workflow_id': None, 'step_id': None},
     'ok_again': {'x': 1, 'workflow_id': None, 'step_id': None},
     'error': {'type': 'ValueError', 'message': 'negative -1'},
     'runs': {'flaky': 3}},
)

# REFERENCE (environment notes): DBOS steps do NOT retry unless retries_allowed=True.
case(
    "steps_do_not_retry_by_default",
    """
    @DBOS.step()
    def fragile():
        runs.hit("fragile")
        raise ConnectionError("reset by peer")

    @DBOS.workflow()
    def wf():
        try:
            fragile()
        except ConnectionError as exc:
            return describe_error(exc)

    def scenario():
        return {"caught": wf(), "runs": runs.snapshot()}
    """,
    {'caught': {'type': 'ConnectionError', 'message': 'reset by peer'}, 'runs': {'fragile': 1}},
)

# REFERENCE: "Step retries exhausted: DBOSMaxStepRetriesExceeded with .errors; max_attempts counts
# total runs".
case(
    "retries_exhausted",
    """
    @DBOS.step(retries_allowed=True, max_attempts=4, interval_seconds=0.01, backoff_rate=1.0)
    def always_fails():
        runs.hit("always_fails")
        raise OSError(f"attempt {runs['always_fails']}")

    @DBOS.step(retries_allowed=True, max_attempts=4, interval_seconds=0.01)
    def second_time_lucky():
        runs.hit("second_time_lucky")
        if runs["second_time_lucky"] < 2:
            raise OSError("first attempt fails")
        return "lucky"

    @DBOS.workflow()
    def wf():
        out = {"lucky": second_time_lucky()}
        try:
            always_fails()
        except DBOSMaxStepRetriesExceeded as exc:
            out["exhausted"] = {
                **describe_error(exc),
                "step_name": exc.step_name,
                "max_retries": exc.max_retries,
                "errors": [describe_error(e) for e in exc.errors],
            }
        return out

    def scenario():
        return {"wf": wf(), "runs": runs.snapshot()}
    """,
    {'wf': {'lucky': 'lucky',
            'exhausted': {'type': 'DBOSMaxStepRetriesExceeded',
                          'message': 'DBOS Error 7: Step always_fails has exceeded its maximum of '
                                     '4 retries',
                          'step_name': 'always_fails',
                          'max_retries': 4,
                          'errors': [{'type': 'OSError', 'message': 'attempt 1'},
                                     {'type': 'OSError', 'message': 'attempt 2'},
                                     {'type': 'OSError', 'message': 'attempt 3'},
                                     {'type': 'OSError', 'message': 'attempt 4'}]}},
     'runs': {'always_fails': 4, 'second_time_lucky': 2}},
)

# REFERENCE: "Child workflow ids are {parent_id}-{n} where n counts the parent's durable
# operations". Measured: a called child takes two numbers (start and result), start_workflow one,
# and get_result / get_status on a handle inside a workflow one each; sleeps count too.
case(
    "child_ids_count_parent_operations",
    """
    @DBOS.step()
    def step():
        return DBOS.step_id

    @DBOS.workflow()
    def leaf():
        return DBOS.workflow_id

    @DBOS.workflow()
    def middle():
        return [leaf(), leaf()]

    @DBOS.workflow()
    def parent():
        ids = [step()]                       # 1
        ids.append(leaf())                   # 2, 3
        h = DBOS.start_workflow(leaf)        # 4
        ids.append(h.workflow_id)
        ids.append(h.get_result())           # 5
        ids.append(h.get_status().status)    # 6
        DBOS.sleep(0.01)                     # 7
        ids.append(middle())                 # 8, 9
        ids.append(step())                   # 10
        return ids

    def scenario():
        with SetWorkflowID("root"):
            named = parent()
        return {"named": named, "generated": shape(parent())}

    def shape(x):
        if isinstance(x, list):
            return [shape(item) for item in x]
        return id_shape(x) if isinstance(x, str) else x
    """,
    {'named': [1, 'root-2', 'root-4', 'root-4', 'SUCCESS', ['root-8-1', 'root-8-3'], 10],
     'generated': [1,
                   '<uuid>-2',
                   '<uuid>-4',
                   '<uuid>-4',
                   'SUCCESS',
                   ['<uuid>-8-1', '<uuid>-8-3'],
                   10]},
)

# REFERENCE: "DBOS.sleep(seconds) is durable" (it sleeps, and counts as an operation). Measured:
# outside a workflow DBOS.sleep raises DBOSException in 2.x (a zero sleep returns at once).
case(
    "durable_sleep",
    """
    @DBOS.step()
    def tick():
        return DBOS.step_id

    @DBOS.workflow()
    def nap(seconds):
        before = tick()
        DBOS.sleep(seconds)
        return [before, tick()]

    @DBOS.workflow()
    async def nap_async(seconds):
        await DBOS.sleep_async(seconds)
        return DBOS.workflow_id is not None

    def scenario():
        started = time.monotonic()
        ids = nap(0.1)
        elapsed = time.monotonic() - started
        out = {"step_ids": ids, "slept": elapsed >= 0.095}
        started = time.monotonic()
        out["async"] = asyncio.run(nap_async(0.1))
        out["async_slept"] = time.monotonic() - started >= 0.095
        try:
            DBOS.sleep(0.01)
            out["outside"] = "returned"
        except DBOSException as exc:
            out["outside"] = describe_error(exc)
        return out
    """,
    {'step_ids': [1, 3],
     'slept': True,
     'async': True,
     'async_slept': True,
     'outside': {'type': 'DBOSException',
                 'message': 'DBOS Error: sleep() must be called from within a workflow'}},
)

# REFERENCE: "DBOS.workflow_id, DBOS.step_id, DBOS.logger".
case(
    "workflow_id_step_id_logger",
    """
    @DBOS.step()
    def where():
        DBOS.logger.info("in a step")
        return [DBOS.workflow_id, DBOS.step_id]

    @DBOS.workflow()
    def wf():
        DBOS.logger.info("in a workflow")
        return {"body": [DBOS.workflow_id, DBOS.step_id], "steps": [where(), where()]}

    def scenario():
        with SetWorkflowID("ids-1"):
            inside = wf()
        return {
            "inside": inside,
            "outside": [DBOS.workflow_id, DBOS.step_id],
            "logger_is_logger": isinstance(DBOS.logger, logging.Logger),
            # Programs tune DBOS's log level with logging.getLogger("dbos").
            "logger_name": DBOS.logger.name,
        }
    """,
    {'inside': {'body': ['ids-1', None], 'steps': [['ids-1', 1], ['ids-1', 2]]},
     'outside': [None, None],
     'logger_is_logger': True,
     'logger_name': 'dbos'},
)

# REFERENCE: exceptions keep their type ("re-raises ... with its original type"; issue 3: "Exceptions
# keep their type through the shim"): from a step, through a workflow, a child and a handle.
case(
    "exceptions_keep_their_type",
    """
    class LedgerError(Exception):
        pass

    class Overdrawn(LedgerError):
        def __init__(self, account, amount):
            super().__init__(account, amount)
            self.account = account
            self.amount = amount

    @DBOS.step()
    def debit(account, amount):
        raise Overdrawn(account, amount)

    @DBOS.workflow()
    def withdraw(account, amount):
        return debit(account, amount)

    @DBOS.workflow()
    def via_child(account, amount):
        return withdraw(account, amount)

    @DBOS.workflow()
    def via_handle(account, amount):
        return DBOS.start_workflow(withdraw, account, amount).get_result()

    def scenario():
        out = {}
        for fn in (debit, withdraw, via_child, via_handle):
            try:
                fn("acct-1", 5)
            except LedgerError as exc:
                out[fn.__name__] = {
                    **describe_error(exc),
                    "is_overdrawn": type(exc) is Overdrawn,
                    "args": list(exc.args),
                    "fields": [exc.account, exc.amount],
                }
        return out
    """,
    {'debit': {'type': 'Overdrawn',
               'message': "('acct-1', 5)",
               'is_overdrawn': True,
               'args': ['acct-1', 5],
               'fields': ['acct-1', 5]},
     'withdraw': {'type': 'Overdrawn',
                  'message': "('acct-1', 5)",
                  'is_overdrawn': True,
                  'args': ['acct-1', 5],
                  'fields': ['acct-1', 5]},
     'via_child': {'type': 'Overdrawn',
                   'message': "('acct-1', 5)",
                   'is_overdrawn': True,
                   'args': ['acct-1', 5],
                   'fields': ['acct-1', 5]},
     'via_handle': {'type': 'Overdrawn',
                    'message': "('acct-1', 5)",
                    'is_overdrawn': True,
                    'args': ['acct-1', 5],
                    'fields': ['acct-1', 5]}},
)

# Issue 3: "A shim errors module with DBOS's exception names and hierarchy, so except
# DBOSException: still works" (every name DBOS 2.x's dbos._error defines).
case(
    "error_module_names_and_hierarchy",
    """
    from dbos import error as errors

    NAMES = [
        "DBOSException", "DBOSBaseException", "DBOSConflictingWorkflowError", "DBOSRecoveryError",
        "DBOSInitializationError", "DBOSWorkflowFunctionNotFoundError",
        "DBOSNonExistentWorkflowError", "DBOSStreamTimeoutError", "DBOSStreamNondeterminismError",
        "MaxRecoveryAttemptsExceededError", "DBOSNotAuthorizedError", "DBOSMaxStepRetriesExceeded",
        "DBOSStepTimeoutError", "DBOSConflictingRegistrationError", "DBOSUnexpectedStepError",
        "DBOSPatchNondeterminismError", "DBOSQueueDeduplicatedError",
        "DBOSAwaitedWorkflowCancelledError", "DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded",
        "DBOSWorkflowCancelledError", "DBOSWorkflowConflictIDError",
    ]

    def scenario():
        out = {}
        for name in NAMES:
            cls = getattr(errors, name, None)
            if cls is None:
                out[name] = "missing"
                continue
            out[name] = {
                "is_exception": issubclass(cls, Exception),
                "is_dbos_exception": issubclass(cls, errors.DBOSException),
                "is_dbos_base_exception": issubclass(cls, errors.DBOSBaseException),
            }
        out["codes"] = {code.name: code.value for code in errors.DBOSErrorCode if code.value < 900}
        return out
    """,
    {'DBOSException': {'is_exception': True,
                       'is_dbos_exception': True,
                       'is_dbos_base_exception': False},
     'DBOSBaseException': {'is_exception': False,
                           'is_dbos_exception': False,
                           'is_dbos_base_exception': True},
     'DBOSConflictingWorkflowError': {'is_exception': True,
                                      'is_dbos_exception': True,
                                      'is_dbos_base_exception': False},
     'DBOSRecoveryError': {'is_exception': True,
                           'is_dbos_exception': True,
                           'is_dbos_base_exception': False},
     'DBOSInitializationError': {'is_exception': True,
                                 'is_dbos_exception': True,
                                 'is_dbos_base_exception': False},
     'DBOSWorkflowFunctionNotFoundError': {'is_exception': True,
                                           'is_dbos_exception': True,
                                           'is_dbos_base_exception': False},
     'DBOSNonExistentWorkflowError': {'is_exception': True,
                                      'is_dbos_exception': True,
                                      'is_dbos_base_exception': False},
     'DBOSStreamTimeoutError': {'is_exception': True,
                                'is_dbos_exception': True,
                                'is_dbos_base_exception': False},
     'DBOSStreamNondeterminismError': {'is_exception': True,
                                       'is_dbos_exception': True,
                                       'is_dbos_base_exception': False},
     'MaxRecoveryAttemptsExceededError': {'is_exception': True,
                                          'is_dbos_exception': True,
                                          'is_dbos_base_exception': False},
     'DBOSNotAuthorizedError': {'is_exception': True,
                                'is_dbos_exception': True,
                                'is_dbos_base_exception': False},
     'DBOSMaxStepRetriesExceeded': {'is_exception': True,
                                    'is_dbos_exception': True,
                                    'is_dbos_base_exception': False},
     'DBOSStepTimeoutError': {'is_exception': True,
                              'is_dbos_exception': True,
                              'is_dbos_base_exception': False},
     'DBOSConflictingRegistrationError': {'is_exception': True,
                                          'is_dbos_exception': True,
                                          'is_dbos_base_exception': False},
     'DBOSUnexpectedStepError': {'is_exception': True,
                                 'is_dbos_exception': True,
                                 'is_dbos_base_exception': False},
     'DBOSPatchNondeterminismError': {'is_exception': True,
                                      'is_dbos_exception': True,
                                      'is_dbos_base_exception': False},
     'DBOSQueueDeduplicatedError': {'is_exception': True,
                                    'is_dbos_exception': True,
                                    'is_dbos_base_exception': False},
     'DBOSAwaitedWorkflowCancelledError': {'is_exception': True,
                                           'is_dbos_exception': True,
                                           'is_dbos_base_exception': False},
     'DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded': {'is_exception': True,
                                                        'is_dbos_exception': True,
                                                        'is_dbos_base_exception': False},
     'DBOSWorkflowCancelledError': {'is_exception': False,
                                    'is_dbos_exception': False,
                                    'is_dbos_base_exception': True},
     'DBOSWorkflowConflictIDError': {'is_exception': False,
                                     'is_dbos_exception': False,
                                     'is_dbos_base_exception': True},
     'codes': {'ConflictingIDError': 1,
               'RecoveryError': 2,
               'InitializationError': 3,
               'WorkflowFunctionNotFound': 4,
               'NonExistentWorkflowError': 5,
               'MaxRecoveryAttemptsExceeded': 6,
               'MaxStepRetriesExceeded': 7,
               'NotAuthorized': 8,
               'ConflictingWorkflowError': 9,
               'WorkflowCancelled': 10,
               'UnexpectedStep': 11,
               'QueueDeduplicated': 12,
               'AwaitedWorkflowCancelled': 13,
               'AwaitedWorkflowMaxRecoveryAttemptsExceeded': 14,
               'PatchNondeterminism': 15,
               'StreamTimeout': 16,
               'StreamNondeterminism': 17,
               'StepTimeout': 18,
               'ConflictingRegistrationError': 25}},
)

# Issue 3: "recursion works (the seed's factorial)".
case(
    "recursive_workflow",
    """
    @DBOS.workflow()
    def factorial(n):
        if n <= 1:
            return 1
        return n * factorial(n - 1)

    def scenario():
        with SetWorkflowID("fact-4"):
            result = factorial(4)
        chain = ["fact-4", "fact-4-1", "fact-4-1-1", "fact-4-1-1-1"]
        return {"result": result, "levels": [DBOS.retrieve_workflow(i).get_result() for i in chain]}
    """,
    {'result': 24, 'levels': [24, 6, 2, 1]},
)

# Found while writing these tests (and implied by "Crash recovery re-runs only the interrupted
# step"): without a crash, DBOS runs a workflow body exactly once, even across sleeps, steps and
# children, so code between steps (a print, a counter) runs once.
case(
    "workflow_body_runs_once",
    """
    @DBOS.step()
    def step(x):
        runs.hit("step")
        return x

    @DBOS.workflow()
    def child(x):
        runs.hit("child body")
        DBOS.sleep(0.01)
        return step(x)

    @DBOS.workflow()
    def parent():
        runs.hit("parent body")
        a = step(1)
        DBOS.sleep(0.02)
        b = child(2)
        c = DBOS.start_workflow(child, 3).get_result()
        runs.hit("parent end")
        return [a, b, c]

    @DBOS.workflow()
    async def async_parent():
        runs.hit("async parent body")
        await DBOS.sleep_async(0.02)
        runs.hit("async parent end")
        return step(4)

    def scenario():
        return {"result": parent(), "async": asyncio.run(async_parent()), "runs": runs.snapshot()}
    """,
    {'result': [1, 2, 3],
     'async': 4,
     'runs': {'async parent body': 1,
              'async parent end': 1,
              'child body': 2,
              'parent body': 1,
              'parent end': 1,
              'step': 4}},
)

# start_workflow runs workflows concurrently: two started workflows that wait for each other both
# finish (a runtime that ran them one at a time would break the barrier).
case(
    "started_workflows_run_concurrently",
    """
    barrier = threading.Barrier(2, timeout=10)

    @DBOS.step()
    def meet(name):
        try:
            barrier.wait()
            return f"{name} met"
        except threading.BrokenBarrierError:
            return f"{name} waited alone"

    @DBOS.workflow()
    def worker(name):
        return meet(name)

    def scenario():
        handles = [DBOS.start_workflow(worker, name) for name in ("left", "right")]
        return [h.get_result() for h in handles]
    """,
    ['left met', 'right met'],
)

# Found while writing these tests, a DBOS quirk REFERENCE.md does not state: DBOS stores a
# workflow's exception by pickling it, so one whose __init__ cannot be called again with its args
# comes back from a re-run as a TypeError (the first call raises the original).
case(
    "exception_that_cannot_be_rebuilt",
    """
    class Declined(Exception):
        def __init__(self, order, reason):
            super().__init__(f"order {order} declined: {reason}")

    @DBOS.workflow()
    def pay(order):
        raise Declined(order, "insufficient funds")

    def scenario():
        out = []
        for _ in range(2):
            with SetWorkflowID("declined-1"):
                try:
                    pay("o1")
                except Exception as exc:
                    out.append(describe_error(exc))
        return out
    """,
    [{'type': 'Declined', 'message': 'order o1 declined: insufficient funds'},
     {'type': 'TypeError',
      'message': "Declined.__init__() missing 1 required positional argument: 'reason'"}],
)


# Found while writing these tests: DBOS pickles step and workflow results, so a result keeps its
# Python type (tuple, set, int dict keys, datetime, Decimal, dataclass, bytes), on the first call
# and when the stored result is returned for the same id. (Resonate itself JSON-encodes results.)
case(
    "values_keep_their_python_types",
    """
    import dataclasses
    import datetime
    import decimal

    @dataclasses.dataclass
    class Money:
        currency: str
        cents: int

    VALUES = {
        "tuple": (1, "a"),
        "set": {3},
        "int_keys": {1: "x"},
        "datetime": datetime.datetime(2024, 5, 1, 12, 30),
        "decimal": decimal.Decimal("10.25"),
        "dataclass": Money("EUR", 5),
        "bytes": b"\\x00\\x01",
        "nested_tuple": [(1, 2)],
        "float": 0.1,
    }

    @DBOS.step()
    def produce(kind):
        return VALUES[kind]

    @DBOS.workflow()
    def passthrough(kind, sample):
        from_step = produce(kind)
        return {"from_step": from_step, "arg": sample, "same": from_step == sample}

    def describe(value):
        return [type(value).__name__, repr(value)]

    def scenario():
        out = {}
        for kind, sample in VALUES.items():
            with SetWorkflowID(f"value-{kind}"):
                first = passthrough(kind, sample)
            with SetWorkflowID(f"value-{kind}"):
                stored = passthrough(kind, None)
            out[kind] = {
                "step_result": describe(first["from_step"]),
                "workflow_arg": describe(first["arg"]),
                "same": first["same"],
                "stored_step_result": describe(stored["from_step"]),
            }
        return out
    """,
    {'tuple': {'step_result': ['tuple', "(1, 'a')"],
               'workflow_arg': ['tuple', "(1, 'a')"],
               'same': True,
               'stored_step_result': ['tuple', "(1, 'a')"]},
     'set': {'step_result': ['set', '{3}'],
             'workflow_arg': ['set', '{3}'],
             'same': True,
             'stored_step_result': ['set', '{3}']},
     'int_keys': {'step_result': ['dict', "{1: 'x'}"],
                  'workflow_arg': ['dict', "{1: 'x'}"],
                  'same': True,
                  'stored_step_result': ['dict', "{1: 'x'}"]},
     'datetime': {'step_result': ['datetime', 'datetime.datetime(2024, 5, 1, 12, 30)'],
                  'workflow_arg': ['datetime', 'datetime.datetime(2024, 5, 1, 12, 30)'],
                  'same': True,
                  'stored_step_result': ['datetime', 'datetime.datetime(2024, 5, 1, 12, 30)']},
     'decimal': {'step_result': ['Decimal', "Decimal('10.25')"],
                 'workflow_arg': ['Decimal', "Decimal('10.25')"],
                 'same': True,
                 'stored_step_result': ['Decimal', "Decimal('10.25')"]},
     'dataclass': {'step_result': ['Money', "Money(currency='EUR', cents=5)"],
                   'workflow_arg': ['Money', "Money(currency='EUR', cents=5)"],
                   'same': True,
                   'stored_step_result': ['Money', "Money(currency='EUR', cents=5)"]},
     'bytes': {'step_result': ['bytes', "b'\\x00\\x01'"],
               'workflow_arg': ['bytes', "b'\\x00\\x01'"],
               'same': True,
               'stored_step_result': ['bytes', "b'\\x00\\x01'"]},
     'nested_tuple': {'step_result': ['list', '[(1, 2)]'],
                      'workflow_arg': ['list', '[(1, 2)]'],
                      'same': True,
                      'stored_step_result': ['list', '[(1, 2)]']},
     'float': {'step_result': ['float', '0.1'],
               'workflow_arg': ['float', '0.1'],
               'same': True,
               'stored_step_result': ['float', '0.1']}},
)

# Found while writing these tests: workflows and steps take keyword arguments, defaults and **kwargs,
# when called and through DBOS.start_workflow.
case(
    "keyword_arguments",
    """
    @DBOS.step()
    def label(item, *, prefix="#", suffix=""):
        return f"{prefix}{item}{suffix}"

    @DBOS.workflow()
    def order(item, quantity=1, *, gift=False, **notes):
        return {
            "label": label(item, suffix="!" if gift else ""),
            "quantity": quantity,
            "gift": gift,
            "notes": sorted(notes.items()),
        }

    def scenario():
        return {
            "positional": order("pen"),
            "keywords": order(item="ink", quantity=3, gift=True, colour="blue"),
            "started": DBOS.start_workflow(order, "pad", quantity=2, gift=False, ruled="yes").get_result(),
        }
    """,
    {'positional': {'label': '#pen', 'quantity': 1, 'gift': False, 'notes': []},
     'keywords': {'label': '#ink!', 'quantity': 3, 'gift': True, 'notes': [['colour', 'blue']]},
     'started': {'label': '#pad', 'quantity': 2, 'gift': False, 'notes': [['ruled', 'yes']]}},
)


# Issue 3: "DBOS(config=...), DBOS.launch(), DBOS.destroy()". Measured: before launch (and after
# destroy) a workflow call raises DBOSException, while a step is a plain call; destroying twice is
# harmless.
case(
    "lifecycle_launch_and_destroy",
    """
    @DBOS.step()
    def step():
        return "step ran"

    @DBOS.workflow()
    def workflow():
        return step()

    def call_all():
        out = {}
        for name, call in (
            ("step", step),
            ("workflow", workflow),
            ("start_workflow", lambda: DBOS.start_workflow(workflow).get_result()),
        ):
            try:
                out[name] = call()
            except DBOSException as exc:
                out[name] = describe_error(exc)
        return out

    before_launch = call_all()

    def scenario():
        out = {"before_launch": before_launch, "launched": call_all()}
        DBOS.destroy()
        out["after_destroy"] = call_all()
        return out
    """,
    {'before_launch': {'step': 'step ran',
                       'workflow': {'type': 'DBOSException',
                                    'message': 'DBOS Error: System database accessed before DBOS '
                                               'was launched'},
                       'start_workflow': {'type': 'DBOSException',
                                          'message': 'DBOS Error: System database accessed before '
                                                     'DBOS was launched'}},
     'launched': {'step': 'step ran', 'workflow': 'step ran', 'start_workflow': 'step ran'},
     'after_destroy': {'step': 'step ran',
                       'workflow': {'type': 'DBOSException',
                                    'message': 'DBOS Error: System database accessed before DBOS '
                                               'was launched'},
                       'start_workflow': {'type': 'DBOSException',
                                          'message': 'DBOS Error: No DBOS was created yet'}}},
)

# -- messaging (issue 5): send/recv, events, streams, DBOSClient --------------------------------
# Timeouts are short and every wait a trace depends on is sequenced with threading events, never
# with sleeps that race.

# REFERENCE: "a message sent before recv is kept; FIFO per topic; the None topic is its own queue".
case(
    "messages_kept_fifo_per_topic",
    """
    ready = threading.Event()

    @DBOS.step()
    def wait_until_ready():
        return ready.wait(timeout=10)

    @DBOS.workflow()
    def inbox():
        wait_until_ready()
        return {
            "a": [DBOS.recv("a", 5), DBOS.recv("a", 5), DBOS.recv("a", 5)],
            "none": [DBOS.recv(None, 5), DBOS.recv(timeout_seconds=5)],
            "b": DBOS.recv("b", 5),
            "empty_topic": DBOS.recv("", 5),
        }

    def scenario():
        with SetWorkflowID("inbox-1"):
            handle = DBOS.start_workflow(inbox)
        DBOS.send("inbox-1", "a1", "a")
        DBOS.send("inbox-1", "n1")
        DBOS.send("inbox-1", {"n": 2}, None)
        DBOS.send("inbox-1", ("a", 2), "a")
        DBOS.send("inbox-1", "b1", "b")
        DBOS.send("inbox-1", None, "a")
        DBOS.send("inbox-1", "e1", "")
        ready.set()
        result = handle.get_result()
        result["a_second_type"] = type(result["a"][1]).__name__
        return result
    """,
    {'a': ['a1', ['a', 2], None],
     'none': ['n1', {'n': 2}],
     'b': 'b1',
     'empty_topic': 'e1',
     'a_second_type': 'tuple'},
)

# REFERENCE: "recv returns None on timeout"; and a message sent after a recv timed out is delivered
# to the next recv of that topic.
case(
    "recv_timeout_then_later_message",
    """
    timed_out = threading.Event()
    sent = threading.Event()

    @DBOS.step()
    def report_timeout_and_wait():
        timed_out.set()
        return sent.wait(timeout=10)

    @DBOS.workflow()
    def waiter():
        first = DBOS.recv("decision", timeout_seconds=0.1)
        report_timeout_and_wait()
        second = DBOS.recv("decision", timeout_seconds=10)
        third = DBOS.recv("decision", timeout_seconds=0)
        return [first, second, third]

    def scenario():
        with SetWorkflowID("waiter-1"):
            handle = DBOS.start_workflow(waiter)
        timed_out.wait(timeout=10)
        DBOS.send("waiter-1", "approved", "decision")
        sent.set()
        return handle.get_result()
    """,
    [None, 'approved', None],
)

# REFERENCE: "Send to a non-existent workflow raises DBOSNonExistentWorkflowError; to a finished
# one is accepted". Measured: recv outside a workflow, and inside a step, raises DBOSException.
case(
    "send_destinations_and_recv_outside_workflows",
    """
    @DBOS.workflow()
    def finished():
        return "done"

    @DBOS.step()
    def recv_in_step():
        try:
            DBOS.recv("t", 1)
        except DBOSException as exc:
            return describe_error(exc)

    @DBOS.workflow()
    def calls_step():
        return recv_in_step()

    def scenario():
        out = {}
        try:
            DBOS.send("no-such-workflow", "hello")
        except DBOSNonExistentWorkflowError as exc:
            out["unknown"] = describe_error(exc)
        with SetWorkflowID("finished-1"):
            finished()
        out["finished"] = DBOS.send("finished-1", "late", "t")
        try:
            DBOS.recv("t", 1)
        except DBOSException as exc:
            out["recv_outside"] = describe_error(exc)
        out["recv_in_step"] = calls_step()
        return out
    """,
    {'unknown': {'type': 'DBOSNonExistentWorkflowError',
                 'message': 'DBOS Error 5: Non-existent `send` destination workflow ID: no-such-workflow'},
     'finished': None,
     'recv_outside': {'type': 'DBOSException',
                      'message': 'DBOS Error: recv() must be called from within a workflow'},
     'recv_in_step': {'type': 'DBOSException',
                      'message': 'DBOS Error: recv() must be called from within a workflow'}},
)

# Measured with DBOS.list_workflow_steps: inside a workflow send, set_event, get_all_events,
# write_stream and close_stream record one operation each (DBOS.send, DBOS.setEvent,
# DBOS.get_events, DBOS.writeStream, DBOS.closeStream); recv and get_event two (DBOS.recv /
# DBOS.getEvent plus the DBOS.sleep holding the deadline); a workflow reading a stream one per value
# and one for the end (DBOS.readStream). The same calls from a step take none. Seen here through
# the next child workflow's id, {parent}-{n}.
case(
    "messaging_function_ids",
    """
    @DBOS.workflow()
    def child():
        return "child"

    @DBOS.step()
    def from_step():
        DBOS.send("peer", "from step", "s")
        DBOS.set_event("step_event", 1)
        DBOS.write_stream("log", "from step")
        return DBOS.step_id

    @DBOS.workflow()
    def peer():
        return DBOS.recv("never", timeout_seconds=0)

    def next_child_suffix():
        handle = DBOS.start_workflow(child)
        handle.get_result()
        return handle.workflow_id.removeprefix(DBOS.workflow_id)

    @DBOS.workflow()
    def measure(op):
        if op == "send":
            DBOS.send("peer", "hi", "t")
        elif op == "recv":
            DBOS.recv("t", timeout_seconds=0)
        elif op == "set_event":
            DBOS.set_event("k", 1)
        elif op == "get_event":
            DBOS.get_event("peer", "k", timeout_seconds=0)
        elif op == "get_all_events":
            DBOS.get_all_events("peer")
        elif op == "write_stream":
            DBOS.write_stream("s", 1)
        elif op == "close_stream":
            DBOS.close_stream("s")
        elif op == "read_stream":
            DBOS.write_stream("r", 1)
            DBOS.write_stream("r", 2)
            DBOS.close_stream("r")
            assert list(DBOS.read_stream(DBOS.workflow_id, "r")) == [1, 2]
        elif op == "from_step":
            assert from_step() == 1
        return next_child_suffix()

    def scenario():
        with SetWorkflowID("peer"):
            peer()
        ops = ["send", "recv", "set_event", "get_event", "get_all_events", "write_stream",
               "close_stream", "read_stream", "from_step"]
        return {op: measure(op) for op in ops}
    """,
    {'send': '-2', 'recv': '-3', 'set_event': '-2', 'get_event': '-3', 'get_all_events': '-2',
     'write_stream': '-2', 'close_stream': '-2', 'read_stream': '-7', 'from_step': '-2'},
)

# REFERENCE (issue 5): a send from inside a workflow is a durable operation: running the workflow
# again under its id does not send again. Also DBOS 2.31's idempotency_key: a second send with the
# same key to the same destination is dropped, even on another topic.
case(
    "send_once_from_workflow_and_idempotency_key",
    """
    @DBOS.workflow()
    def receiver():
        return [DBOS.recv("t", 5), DBOS.recv("t", 5), DBOS.recv("t", 0.1), DBOS.recv("u", 0.1)]

    @DBOS.workflow()
    def notifier(target):
        runs.hit("notifier")
        DBOS.send(target, "from workflow", "t")
        return "notified"

    def scenario():
        with SetWorkflowID("receiver-1"):
            handle = DBOS.start_workflow(receiver)
        results = []
        for _ in range(2):
            with SetWorkflowID("notifier-1"):
                results.append(notifier("receiver-1"))
        DBOS.send("receiver-1", "keyed", "t", idempotency_key="k-1")
        DBOS.send("receiver-1", "keyed again", "t", idempotency_key="k-1")
        DBOS.send("receiver-1", "keyed on u", "u", idempotency_key="k-1")
        return {"notifier": results, "received": handle.get_result(), "runs": runs.snapshot()}
    """,
    {'notifier': ['notified', 'notified'],
     'received': ['from workflow', 'keyed', None, None],
     'runs': {'notifier': 1}},
)

# REFERENCE: "DBOS.set_event(key, value) last writer wins and is readable while the workflow runs";
# set_event from a step is allowed too; get_all_events lists every key.
case(
    "events_last_writer_wins_while_running",
    """
    published = threading.Event()
    release = threading.Event()

    @DBOS.step()
    def pause():
        published.set()
        return release.wait(timeout=10)

    @DBOS.step()
    def set_from_step():
        DBOS.set_event("from_step", ("a", "tuple"))

    @DBOS.workflow()
    def checkout():
        DBOS.set_event("status", "created")
        DBOS.set_event("status", "awaiting payment")
        DBOS.set_event("payment_id", DBOS.workflow_id)
        DBOS.set_event("nothing", None)
        pause()
        set_from_step()
        DBOS.set_event("status", "paid")
        return "done"

    def scenario():
        with SetWorkflowID("checkout-1"):
            handle = DBOS.start_workflow(checkout)
        published.wait(timeout=10)
        running = {
            "status": DBOS.get_event("checkout-1", "status", 5),
            "payment_id": DBOS.get_event("checkout-1", "payment_id", 5),
            "nothing": DBOS.get_event("checkout-1", "nothing", 0.1),
            "all": DBOS.get_all_events("checkout-1"),
            "workflow_status": handle.get_status().status,
        }
        release.set()
        handle.get_result()
        after = DBOS.get_all_events("checkout-1")
        after["from_step_type"] = type(after["from_step"]).__name__
        return {"running": running, "after": after, "status": DBOS.get_event("checkout-1", "status")}
    """,
    {'running': {'status': 'awaiting payment',
                 'payment_id': 'checkout-1',
                 'nothing': None,
                 'all': {'nothing': None, 'payment_id': 'checkout-1', 'status': 'awaiting payment'},
                 'workflow_status': 'PENDING'},
     'after': {'from_step': ['a', 'tuple'],
               'nothing': None,
               'payment_id': 'checkout-1',
               'status': 'paid',
               'from_step_type': 'tuple'},
     'status': 'paid'},
)

# REFERENCE: "get_event waits up to the timeout and returns None (also for a workflow that does not
# exist)". Measured: set_event outside a workflow or step raises; get_event waits for a value set
# later; inside a workflow get_event's result is recorded.
case(
    "get_event_waits_and_times_out",
    """
    go = threading.Event()

    @DBOS.step()
    def wait_for_go():
        return go.wait(timeout=10)

    @DBOS.workflow()
    def slow_publisher():
        wait_for_go()
        DBOS.set_event("result", 42)
        return "published"

    @DBOS.workflow()
    def reader(target):
        return [DBOS.get_event(target, "result", 10), DBOS.get_event(target, "missing", 0.1)]

    def scenario():
        out = {}
        started = time.monotonic()
        out["missing"] = DBOS.get_event("no-such-workflow", "k", timeout_seconds=0.2)
        out["waited_at_least_timeout"] = time.monotonic() - started >= 0.2
        out["zero_timeout"] = DBOS.get_event("no-such-workflow", "k", timeout_seconds=0)
        with SetWorkflowID("publisher-1"):
            publisher = DBOS.start_workflow(slow_publisher)
        with SetWorkflowID("reader-1"):
            reading = DBOS.start_workflow(reader, "publisher-1")
        go.set()
        out["reader"] = reading.get_result()
        out["publisher"] = publisher.get_result()
        try:
            DBOS.set_event("k", 1)
        except DBOSException as exc:
            out["set_outside"] = describe_error(exc)
        return out
    """,
    {'missing': None,
     'waited_at_least_timeout': True,
     'zero_timeout': None,
     'reader': [42, None],
     'publisher': 'published',
     'set_outside': {'type': 'DBOSException',
                     'message': 'DBOS Error: set_event() must be called from within a workflow or step'}},
)

# DBOS 2.31 streams: values in order until close_stream; a reader outside the workflow waits for
# values while it runs; a stream without close_stream ends when its workflow ends; values written
# after the close are not read; writes from a step go to the workflow's stream; timeout_seconds
# bounds each wait (DBOSStreamTimeoutError); read_stream_offset; a workflow that does not exist.
case(
    "streams",
    """
    from dbos._error import DBOSStreamTimeoutError

    first_read = threading.Event()

    @DBOS.step()
    def write_from_step(value):
        DBOS.write_stream("tokens", value)

    @DBOS.step()
    def wait_for_reader():
        return first_read.wait(timeout=10)

    @DBOS.workflow()
    def generate():
        DBOS.write_stream("tokens", "Hello")
        wait_for_reader()
        write_from_step(",")
        DBOS.write_stream("tokens", {"word": "world"})
        DBOS.close_stream("tokens")
        DBOS.write_stream("tokens", "after close")
        DBOS.write_stream("open", 1)
        return "generated"

    def attempt(fn):
        try:
            return fn()
        except DBOSException as exc:
            return describe_error(exc)

    def scenario():
        out = {}
        with SetWorkflowID("gen-1"):
            handle = DBOS.start_workflow(generate)
        live = []
        for value in DBOS.read_stream("gen-1", "tokens"):
            live.append(value)
            first_read.set()
        out["live"] = live
        out["result"] = handle.get_result()
        out["again_from_1"] = list(DBOS.read_stream("gen-1", "tokens", offset=1))
        out["unclosed"] = list(DBOS.read_stream("gen-1", "open"))
        out["offset_2"] = DBOS.read_stream_offset("gen-1", "tokens", 2)
        out["offset_past_end"] = attempt(lambda: DBOS.read_stream_offset("gen-1", "tokens", 3))
        out["empty"] = list(DBOS.read_stream("gen-1", "nothing"))
        out["unknown"] = attempt(lambda: list(DBOS.read_stream("no-such-workflow", "tokens")))
        with SetWorkflowID("gate-1"):
            gate = DBOS.start_workflow(silent_gate)
        out["timeout"] = attempt(lambda: list(DBOS.read_stream("gate-1", "tokens", timeout_seconds=0.1)))
        DBOS.send("gate-1", "open")
        out["gate"] = gate.get_result()
        try:
            list(DBOS.read_stream("gen-1", "tokens", polling_interval_sec=0))
        except ValueError as exc:
            out["bad_interval"] = str(exc)
        return out

    @DBOS.workflow()
    def silent_gate():
        return DBOS.recv(timeout_seconds=10)
    """,
    {'live': ['Hello', ',', {'word': 'world'}],
     'result': 'generated',
     'again_from_1': [',', {'word': 'world'}],
     'unclosed': [1],
     'offset_2': {'word': 'world'},
     'offset_past_end': {'type': 'DBOSStreamTimeoutError',
                         'message': 'DBOS Error 16: No value arrived on stream tokens of workflow gen-1'},
     'empty': [],
     'unknown': {'type': 'DBOSNonExistentWorkflowError',
                 'message': 'DBOS Error 5: Non-existent target workflow ID: no-such-workflow'},
     'timeout': {'type': 'DBOSStreamTimeoutError',
                 'message': 'DBOS Error 16: No value arrived on stream tokens of workflow gate-1 within 0.1 seconds'},
     'gate': 'open',
     'bad_interval': 'polling_interval_sec must be a finite number at least 0.001 seconds, got 0'},
)

# DBOS 2.31 refuses a stream read that starts in a workflow while another of its stream reads waits
# (DBOSStreamNondeterminismError, no function id taken); the waiting read goes on. Reads one after the
# other, and reads outside a workflow, are not refused.
case(
    "concurrent_stream_reads_refused",
    """
    from dbos._error import DBOSStreamNondeterminismError

    @DBOS.workflow()
    async def source():
        value = await DBOS.recv_async("go", 10)
        await DBOS.write_stream_async("a", value)
        await DBOS.close_stream_async("a")
        await DBOS.write_stream_async("b", "b-value")
        await DBOS.close_stream_async("b")
        return "written"

    async def drain(source_id, key):
        return [value async for value in DBOS.read_stream_async(source_id, key)]

    @DBOS.workflow()
    async def two_readers(source_id):
        first = asyncio.ensure_future(drain(source_id, "a"))
        await asyncio.sleep(0)  # the first read starts and waits: stream a is still empty
        try:
            second = await drain(source_id, "b")
        except DBOSStreamNondeterminismError as exc:
            second = describe_error(exc)
        await DBOS.send_async(source_id, "a-value", "go")
        return {"first": await first, "second": second, "then_b": await drain(source_id, "b")}

    def scenario():
        with SetWorkflowID("src-1"):
            DBOS.start_workflow(source)
        with SetWorkflowID("readers-1"):
            result = DBOS.start_workflow(two_readers, "src-1").get_result()
        steps = [(s["function_id"], s["function_name"]) for s in DBOS.list_workflow_steps("readers-1")]
        return {"result": result, "steps": steps, "outside": [list(DBOS.read_stream("src-1", k)) for k in "ab"]}
    """,
    {'result': {'first': ['a-value'],
                'second': {'type': 'DBOSStreamNondeterminismError',
                           'message': 'DBOS Error 17: Cannot deterministically read stream b in workflow readers-1: '
                                      'another stream read in the same workflow is still in progress, so which read '
                                      'records which value would depend on task scheduling. Read streams from '
                                      'sequential workflow code, or read them from a step.'},
                'then_b': ['b-value']},
     'steps': [[1, 'DBOS.readStream'], [2, 'DBOS.send'], [3, 'DBOS.readStream'], [4, 'DBOS.readStream'],
               [5, 'DBOS.readStream']],
     'outside': [['a-value'], ['b-value']]},
)

# The async forms (send_async, recv_async, set_event_async, get_event_async, get_all_events_async,
# write_stream_async, close_stream_async, read_stream_async, read_stream_offset_async) in an async
# workflow; and DBOS's refusal of the sync forms while an event loop runs.
case(
    "messaging_async_forms",
    """
    @DBOS.workflow()
    async def approval():
        await DBOS.set_event_async("state", "waiting")
        await DBOS.write_stream_async("log", "asked")
        decision = await DBOS.recv_async("decision", timeout_seconds=10)
        await DBOS.set_event_async("state", decision)
        await DBOS.close_stream_async("log")
        return decision

    async def async_scenario():
        out = {}
        handle = await DBOS.start_workflow_async(approval)
        wf_id = handle.workflow_id
        out["state_before"] = await DBOS.get_event_async(wf_id, "state", 10)
        await DBOS.send_async(wf_id, "approved", "decision")
        out["result"] = await handle.get_result()
        out["events"] = await DBOS.get_all_events_async(wf_id)
        out["log"] = [v async for v in DBOS.read_stream_async(wf_id, "log")]
        out["log_0"] = await DBOS.read_stream_offset_async(wf_id, "log", 0)
        try:
            DBOS.send(wf_id, "sync in a loop")
        except RuntimeError as exc:
            out["sync_send_in_loop"] = str(exc)
        try:
            DBOS.get_event(wf_id, "state", 0)
        except RuntimeError as exc:
            out["sync_get_event_in_loop"] = str(exc)
        return out

    def scenario():
        return asyncio.run(async_scenario())
    """,
    {'state_before': 'waiting',
     'result': 'approved',
     'events': {'state': 'approved'},
     'log': ['asked'],
     'log_0': 'asked',
     'sync_send_in_loop': 'send() was called while an event loop is running. Use await send_async(...) instead.',
     'sync_get_event_in_loop': 'get_event() was called while an event loop is running. '
                               'Use await get_event_async(...) instead.'},
)

# DBOS.send_bulk and SendMessage: one operation in a workflow; every destination must exist (the
# error names all of them and nothing is sent); duplicate idempotency keys are refused.
case(
    "send_bulk",
    """
    from dbos import SendMessage

    @DBOS.workflow()
    def box():
        return [DBOS.recv("t", 5), DBOS.recv("t", 5), DBOS.recv(None, 5), DBOS.recv("t", 0.1)]

    @DBOS.workflow()
    def fan_out(target):
        DBOS.send_bulk([SendMessage(target, "one", "t"), SendMessage(target, "none-topic")])
        handle = DBOS.start_workflow(box_child)
        return handle.workflow_id.removeprefix(DBOS.workflow_id)

    @DBOS.workflow()
    def box_child():
        return "child"

    def scenario():
        out = {}
        with SetWorkflowID("box-1"):
            handle = DBOS.start_workflow(box)
        out["fan_out_child"] = fan_out("box-1")
        try:
            DBOS.send_bulk([SendMessage("box-1", "x", "t"), SendMessage("zz-missing", "y")])
        except DBOSNonExistentWorkflowError as exc:
            out["missing"] = describe_error(exc)
        try:
            DBOS.send_bulk([SendMessage("box-1", "x", "t", "k"), SendMessage("box-1", "y", "t", "k")])
        except DBOSException as exc:
            out["duplicate_keys"] = describe_error(exc)
        DBOS.send_bulk([SendMessage("box-1", "two", "t", idempotency_key="k2")])
        out["received"] = handle.get_result()
        return out
    """,
    {'fan_out_child': '-2',
     'missing': {'type': 'DBOSNonExistentWorkflowError',
                 'message': 'DBOS Error 5: Non-existent `send` destination workflow ID: box-1, zz-missing'},
     'duplicate_keys': {'type': 'DBOSException',
                        'message': 'DBOS Error: send_bulk received duplicate idempotency keys: k'},
     'received': ['one', 'two', 'none-topic', None]},
)

# DBOS 2.31's send_bulk is all or nothing: a message that cannot be serialized, an unknown destination
# or a repeated idempotency key anywhere in the batch, and no message of it is delivered, outside a
# workflow and inside one (where the failed send_bulk takes its function id).
case(
    "send_bulk_all_or_nothing",
    """
    from dbos import SendMessage

    @DBOS.workflow()
    def box():
        return [DBOS.recv("t", 5), DBOS.recv("t", 0.2)]

    @DBOS.workflow()
    def bulk_in_workflow(target):
        try:
            DBOS.send_bulk([SendMessage(target, "in-wf-first", "t"), SendMessage(target, threading.Lock(), "t")])
        except Exception as exc:
            # the child's id ({workflow}-{function id}) shows that the failed send_bulk took one
            child = DBOS.start_workflow(box_child).workflow_id.removeprefix(DBOS.workflow_id)
            return {"error": describe_error(exc), "next_child": child}
        return "sent"

    @DBOS.workflow()
    def box_child():
        return "child"

    def attempt(messages):
        try:
            DBOS.send_bulk(messages)
            return "sent"
        except Exception as exc:
            return describe_error(exc)

    def scenario():
        out = {}
        with SetWorkflowID("aon-box"):
            handle = DBOS.start_workflow(box)
        out["unpicklable"] = attempt([SendMessage("aon-box", "first", "t"), SendMessage("aon-box", threading.Lock(), "t")])
        out["unknown_last"] = attempt([SendMessage("aon-box", "second", "t"), SendMessage("aon-missing", "x", "t")])
        out["repeated_key"] = attempt([SendMessage("aon-box", "third", "t", "k"),
                                       SendMessage("aon-box", "fourth", "t", "k")])
        out["in_workflow"] = bulk_in_workflow("aon-box")
        out["ok"] = attempt([SendMessage("aon-box", "delivered", "t")])
        out["received"] = handle.get_result()
        return out
    """,
    {'unpicklable': {'type': 'TypeError', 'message': "cannot pickle '_thread.lock' object"},
     'unknown_last': {'type': 'DBOSNonExistentWorkflowError',
                      'message': 'DBOS Error 5: Non-existent `send` destination workflow ID: aon-box, aon-missing'},
     'repeated_key': {'type': 'DBOSException',
                      'message': 'DBOS Error: send_bulk received duplicate idempotency keys: k'},
     'in_workflow': {'error': {'type': 'TypeError', 'message': "cannot pickle '_thread.lock' object"},
                     'next_child': '-2'},
     'ok': 'sent',
     'received': ['delivered', None]},
)

# DBOSClient for code outside the workflows: send, get_event, retrieve_workflow, read_stream.
case(
    "dbos_client",
    """
    from dbos import DBOSClient

    @DBOS.workflow()
    def order():
        DBOS.set_event("order_status", "awaiting payment")
        DBOS.write_stream("progress", "started")
        payment = DBOS.recv("payment", timeout_seconds=10)
        DBOS.close_stream("progress")
        return f"order {payment}"

    def scenario():
        client = DBOSClient(system_database_url=os.environ["D2R_DB_URL"])
        out = {}
        with SetWorkflowID("order-1"):
            DBOS.start_workflow(order)
        out["event"] = client.get_event("order-1", "order_status", 10)
        out["missing_event"] = client.get_event("order-1", "nope", 0.1)
        client.send("order-1", "paid", "payment")
        handle = client.retrieve_workflow("order-1")
        out["result"] = handle.get_result()
        out["status"] = handle.get_status().status
        out["progress"] = list(client.read_stream("order-1", "progress"))
        try:
            client.retrieve_workflow("no-such-order")
        except DBOSNonExistentWorkflowError as exc:
            out["unknown"] = describe_error(exc)
        try:
            client.send("no-such-order", "x")
        except DBOSNonExistentWorkflowError as exc:
            out["unknown_send"] = describe_error(exc)
        client.destroy()
        return out
    """,
    {'event': 'awaiting payment',
     'missing_event': None,
     'result': 'order paid',
     'status': 'SUCCESS',
     'progress': ['started'],
     'unknown': {'type': 'DBOSNonExistentWorkflowError',
                 'message': 'DBOS Error 5: Non-existent target workflow ID: no-such-order'},
     'unknown_send': {'type': 'DBOSNonExistentWorkflowError',
                      'message': 'DBOS Error 5: Non-existent `send` destination workflow ID: no-such-order'}},
)

# Found while writing these tests: two recv calls waiting on the same topic at once in one workflow
# (an async workflow gathering them) make the second raise DBOSWorkflowConflictIDError.
case(
    "concurrent_recv_on_one_topic_conflicts",
    """
    @DBOS.workflow()
    async def two_receivers():
        try:
            return await asyncio.gather(DBOS.recv_async("t", 0.3), DBOS.recv_async("t", 0.3))
        except BaseException as exc:
            return describe_error(exc)

    async def async_scenario():
        with SetWorkflowID("two-receivers"):
            handle = await DBOS.start_workflow_async(two_receivers)
        return await handle.get_result()

    def scenario():
        return asyncio.run(async_scenario())
    """,
    {'type': 'DBOSWorkflowConflictIDError', 'message': 'DBOS Error 1: Conflicting workflow ID two-receivers'},
)


# DBOS.run_step: a function run as a step without a decorator; options as @DBOS.step takes them.
case(
    "run_step_runs_a_function_as_a_step",
    """
    attempts = {"n": 0}

    def flaky(x):
        attempts["n"] += 1
        runs.hit("flaky")
        if attempts["n"] < 2:
            raise ValueError("first attempt fails")
        return x, DBOS.step_id

    async def triple(x):
        runs.hit("triple")
        return 3 * x, DBOS.step_id

    @DBOS.workflow()
    def with_steps():
        first = DBOS.run_step({"retries_allowed": True, "interval_seconds": 0.01, "name": "custom"}, flaky, 4)
        second = DBOS.run_step(None, flaky, 5)
        return [first, second]

    @DBOS.workflow()
    async def with_async_step():
        return await DBOS.run_step_async(None, triple, 2)

    def scenario():
        with SetWorkflowID("run-step-1"):
            first = with_steps()
        with SetWorkflowID("run-step-1"):
            again = with_steps()
        with SetWorkflowID("run-step-2"):
            async_result = asyncio.run(with_async_step())
        outside = DBOS.run_step(None, flaky, 9)
        return {"first": first, "again": again, "async": async_result, "outside": outside}
    """,
    {'first': [[4, 1], [5, 2]], 'again': [[4, 1], [5, 2]], 'async': [6, 1], 'outside': [9, None]},
)

# -- workflow management (issue 6) ---------------------------------------------------------------

# REFERENCE: "Admin: list_workflows(status=, name=, start_time=, ...), list_workflow_steps". Filters,
# order, paging and load_input/load_output of list_workflows; the operations list_workflow_steps
# reports for steps, child workflows, result waits, sleeps, events, messages and a failed step.
case(
    "list_workflows_filters_and_steps",
    """
    from datetime import datetime

    @DBOS.step()
    def add(x, y):
        return x + y

    @DBOS.step()
    def fail():
        raise ValueError("bad step")

    @DBOS.workflow()
    def child(x):
        return add(x, 1)

    @DBOS.workflow()
    def parent(x):
        a = add(x, 1)
        handle = DBOS.start_workflow(child, a)
        DBOS.sleep(0.01)
        DBOS.set_event("k", a)
        r = handle.get_result()
        DBOS.recv("t", 0.01)
        try:
            fail()
        except ValueError:
            pass
        return child(r) + a

    @DBOS.workflow(name="other")
    def other_workflow(word):
        return word * 2

    @DBOS.workflow()
    def failing():
        raise RuntimeError("workflow failed")

    def view(statuses):
        return [[w.workflow_id, w.status, w.name, w.parent_workflow_id, w.input, w.output,
                 None if w.error is None else describe_error(w.error), w.queue_name] for w in statuses]

    def ids(statuses):
        return [w.workflow_id for w in statuses]

    def scenario():
        with SetWorkflowID("lw-parent"):
            parent(1)
        time.sleep(0.01)
        with SetWorkflowID("lw-other"):
            other_workflow("ab")
        with SetWorkflowID("lw-failing"):
            try:
                failing()
            except RuntimeError:
                pass
        other = DBOS.list_workflows(workflow_ids=["lw-other"])[0]
        since = datetime.fromtimestamp(other.created_at / 1000).isoformat()
        out = {
            "all": view(DBOS.list_workflows()),
            "desc_limit": ids(DBOS.list_workflows(sort_desc=True, limit=2)),
            "offset": ids(DBOS.list_workflows(offset=1, limit=2)),
            "by_name": ids(DBOS.list_workflows(name="child")),
            "by_names": ids(DBOS.list_workflows(name=["other", "failing"])),
            "errors": ids(DBOS.list_workflows(status="ERROR")),
            "statuses": ids(DBOS.list_workflows(status=["SUCCESS", "ERROR"], sort_desc=True)),
            "by_ids": ids(DBOS.list_workflows(workflow_ids=["lw-other", "no-such-workflow"])),
            "prefix": ids(DBOS.list_workflows(workflow_id_prefix="lw-p")),
            "prefixes": ids(DBOS.list_workflows(workflow_id_prefix=["lw-o", "lw-f"])),
            "has_parent": ids(DBOS.list_workflows(has_parent=True)),
            "no_parent": ids(DBOS.list_workflows(has_parent=False)),
            "parent_id": ids(DBOS.list_workflows(parent_workflow_id="lw-parent")),
            "since": ids(DBOS.list_workflows(start_time=since)),
            "queued": ids(DBOS.list_queued_workflows()),
            "unloaded": [[w.input, w.output] for w in DBOS.list_workflows(
                workflow_ids=["lw-parent"], load_input=False, load_output=False)],
        }
        steps = DBOS.list_workflow_steps("lw-parent")
        out["steps"] = [
            [s["function_id"], s["function_name"],
             type(s["output"]).__name__ if s["function_name"] == "DBOS.sleep" else s["output"],
             None if s["error"] is None else describe_error(s["error"]), s["child_workflow_id"],
             s["started_at_epoch_ms"] is not None and s["completed_at_epoch_ms"] >= s["started_at_epoch_ms"]]
            for s in steps
        ]
        out["steps_page"] = [s["function_id"] for s in DBOS.list_workflow_steps("lw-parent", limit=3, offset=2)]
        out["steps_unloaded"] = [s["output"] for s in DBOS.list_workflow_steps("lw-parent", load_output=False)][:2]
        out["steps_of_unknown"] = DBOS.list_workflow_steps("no-such-workflow")
        return out
    """,
    {'all': [['lw-parent', 'SUCCESS', 'parent', None, {'args': [1], 'kwargs': {}}, 6, None, None],
             ['lw-parent-2', 'SUCCESS', 'child', 'lw-parent', {'args': [2], 'kwargs': {}}, 3, None, None],
             ['lw-parent-9', 'SUCCESS', 'child', 'lw-parent', {'args': [3], 'kwargs': {}}, 4, None, None],
             ['lw-other', 'SUCCESS', 'other', None, {'args': ['ab'], 'kwargs': {}}, 'abab', None, None],
             ['lw-failing',
              'ERROR',
              'failing',
              None,
              {'args': [], 'kwargs': {}},
              None,
              {'type': 'RuntimeError', 'message': 'workflow failed'},
              None]],
     'desc_limit': ['lw-failing', 'lw-other'],
     'offset': ['lw-parent-2', 'lw-parent-9'],
     'by_name': ['lw-parent-2', 'lw-parent-9'],
     'by_names': ['lw-other', 'lw-failing'],
     'errors': ['lw-failing'],
     'statuses': ['lw-failing', 'lw-other', 'lw-parent-9', 'lw-parent-2', 'lw-parent'],
     'by_ids': ['lw-other'],
     'prefix': ['lw-parent', 'lw-parent-2', 'lw-parent-9'],
     'prefixes': ['lw-other', 'lw-failing'],
     'has_parent': ['lw-parent-2', 'lw-parent-9'],
     'no_parent': ['lw-parent', 'lw-other', 'lw-failing'],
     'parent_id': ['lw-parent-2', 'lw-parent-9'],
     'since': ['lw-other', 'lw-failing'],
     'queued': [],
     'unloaded': [[None, None]],
     'steps': [[1, 'add', 2, None, None, True],
               [2, 'child', None, None, 'lw-parent-2', True],
               [3, 'DBOS.sleep', 'float', None, None, True],
               [4, 'DBOS.setEvent', None, None, None, True],
               [5, 'DBOS.getResult', 3, None, 'lw-parent-2', True],
               [6, 'DBOS.recv', None, None, None, True],
               [7, 'DBOS.sleep', 'float', None, None, True],
               [8, 'fail', None, {'type': 'ValueError', 'message': 'bad step'}, None, True],
               [9, 'child', None, None, 'lw-parent-9', True],
               [10, 'DBOS.getResult', 4, None, 'lw-parent-9', True]],
     'steps_page': [3, 4, 5],
     'steps_unloaded': [None, None],
     'steps_of_unknown': []},
)


# REFERENCE: "Queues: 2.x Queue("name", concurrency=, ...) at import time, queue.enqueue(fn, *a).
# SetEnqueueOptions(deduplication_id=, priority=)". Statuses while queued and after, dispatch order by
# priority (no priority is 0 and goes first, ties in enqueue order), deduplication's error, what the
# listings show, and a workflow that fans out through a queue and joins.
case(
    "queue_statuses_priority_and_deduplication",
    """
    from dbos import Queue, SetEnqueueOptions
    from dbos._error import DBOSQueueDeduplicatedError

    queue = Queue("orders", concurrency=1, polling_interval_sec=0.05)
    fan = Queue("fan", worker_concurrency=2, polling_interval_sec=0.05)
    gate = threading.Event()
    order = []

    @DBOS.workflow()
    def blocker():
        gate.wait(10)
        return "released"

    @DBOS.workflow()
    def work(key):
        order.append(key)
        return key.upper()

    @DBOS.workflow()
    def fan_out(n):
        handles = [fan.enqueue(work, f"f{i}") for i in range(n)]
        return [h.get_result() for h in handles]

    def wait_until(check):
        deadline = time.time() + 10
        while not check():
            if time.time() > deadline:
                raise TimeoutError("condition never held")
            time.sleep(0.01)

    def scenario():
        out = {}
        with SetWorkflowID("q-block"):
            first = queue.enqueue(blocker)
        wait_until(lambda: first.get_status().status == "PENDING")
        handles = []
        for key, priority in [("p5", 5), ("p1a", 1), ("p3", 3), ("p1b", 1), ("none", None)]:
            with SetEnqueueOptions(priority=priority), SetWorkflowID(f"q-{key}"):
                handles.append(queue.enqueue(work, key))
        with SetEnqueueOptions(deduplication_id="dup"), SetWorkflowID("q-dedup-1"):
            handles.append(queue.enqueue(work, "dedup"))
        try:
            with SetEnqueueOptions(deduplication_id="dup"), SetWorkflowID("q-dedup-2"):
                queue.enqueue(work, "dedup-again")
        except DBOSQueueDeduplicatedError as exc:
            out["dedup_error"] = describe_error(exc)
        out["dedup_second_exists"] = DBOS.get_workflow_status("q-dedup-2") is not None
        st = handles[0].get_status()
        out["while_queued"] = [st.status, st.queue_name, st.priority, st.dequeued_at]
        out["dedup_status"] = [handles[-1].get_status().status, handles[-1].get_status().deduplication_id]
        out["queued"] = [[w.workflow_id, w.status, w.priority] for w in DBOS.list_queued_workflows()]
        out["enqueued_only"] = [w.workflow_id for w in DBOS.list_queued_workflows(status="ENQUEUED")]
        gate.set()
        out["results"] = [h.get_result() for h in handles]
        out["order"] = list(order)
        done = handles[0].get_status()
        out["after"] = [done.status, done.queue_name, done.dequeued_at is not None]
        out["queued_after"] = [w.workflow_id for w in DBOS.list_queued_workflows()]
        out["by_queue"] = [w.workflow_id for w in DBOS.list_workflows(queue_name="orders")]
        with SetWorkflowID("q-fan"):
            out["fan_out"] = fan_out(4)
        out["fan_children"] = [[w.workflow_id, w.queue_name, w.parent_workflow_id]
                               for w in DBOS.list_workflows(queue_name="fan")]
        out["fan_steps"] = [[s["function_id"], s["function_name"], s["child_workflow_id"]]
                            for s in DBOS.list_workflow_steps("q-fan")]
        with SetEnqueueOptions(deduplication_id="dup"), SetWorkflowID("q-dedup-3"):
            out["dedup_reused"] = queue.enqueue(work, "reused").get_result()
        return out
    """,
    {'dedup_error': {'type': 'DBOSQueueDeduplicatedError',
                     'message': 'DBOS Error 12: Workflow q-dedup-2 was deduplicated due to an existing workflow '
                                'in queue orders with deduplication ID dup.'},
     'dedup_second_exists': False,
     'while_queued': ['ENQUEUED', 'orders', 5, None],
     'dedup_status': ['ENQUEUED', 'dup'],
     'queued': [['q-block', 'PENDING', 0],
                ['q-p5', 'ENQUEUED', 5],
                ['q-p1a', 'ENQUEUED', 1],
                ['q-p3', 'ENQUEUED', 3],
                ['q-p1b', 'ENQUEUED', 1],
                ['q-none', 'ENQUEUED', 0],
                ['q-dedup-1', 'ENQUEUED', 0]],
     'enqueued_only': ['q-p5', 'q-p1a', 'q-p3', 'q-p1b', 'q-none', 'q-dedup-1'],
     'results': ['P5', 'P1A', 'P3', 'P1B', 'NONE', 'DEDUP'],
     'order': ['none', 'dedup', 'p1a', 'p1b', 'p3', 'p5'],
     'after': ['SUCCESS', 'orders', True],
     'queued_after': [],
     'by_queue': ['q-block', 'q-p5', 'q-p1a', 'q-p3', 'q-p1b', 'q-none', 'q-dedup-1'],
     'fan_out': ['F0', 'F1', 'F2', 'F3'],
     'fan_children': [['q-fan-1', 'fan', 'q-fan'],
                      ['q-fan-2', 'fan', 'q-fan'],
                      ['q-fan-3', 'fan', 'q-fan'],
                      ['q-fan-4', 'fan', 'q-fan']],
     'fan_steps': [[1, 'work', 'q-fan-1'],
                   [2, 'work', 'q-fan-2'],
                   [3, 'work', 'q-fan-3'],
                   [4, 'work', 'q-fan-4'],
                   [5, 'DBOS.getResult', 'q-fan-1'],
                   [6, 'DBOS.getResult', 'q-fan-2'],
                   [7, 'DBOS.getResult', 'q-fan-3'],
                   [8, 'DBOS.getResult', 'q-fan-4']],
     'dedup_reused': 'REUSED'},
)


# REFERENCE: "Admin: cancel_workflow, resume_workflow, fork_workflow" and "SetWorkflowTimeout / timeout:
# the workflow ends CANCELLED; awaiting it raises DBOSAwaitedWorkflowCancelledError". A cancelled
# workflow stops at its next step and resumes from there (completed steps do not run again); a fork
# copies the steps before start_step; a timed-out workflow and the child it started (which inherits
# its deadline) both end CANCELLED.
case(
    "cancel_resume_fork_and_timeout",
    """
    from dbos import SetWorkflowTimeout
    from dbos._error import DBOSAwaitedWorkflowCancelledError

    gate = threading.Event()
    late_gate = threading.Event()

    @DBOS.step()
    def mark(name):
        runs.hit(name)
        return name

    @DBOS.workflow()
    def long_job(x):
        mark("a")
        gate.wait(10)
        mark("b")
        return x * 10

    @DBOS.workflow()
    def three_steps(x):
        return [mark("s1"), mark("s2"), mark("s3"), x]

    @DBOS.workflow()
    def slow_child():
        late_gate.wait(10)
        mark("child-after")
        return "child"

    @DBOS.workflow()
    def slow_parent():
        handle = DBOS.start_workflow(slow_child)
        mark("parent-started")
        late_gate.wait(10)
        mark("parent-after")
        return handle.get_result()

    def wait_until(check):
        deadline = time.time() + 10
        while not check():
            if time.time() > deadline:
                raise TimeoutError("condition never held")
            time.sleep(0.01)

    def scenario():
        out = {}
        with SetWorkflowID("c-1"):
            handle = DBOS.start_workflow(long_job, 4)
        wait_until(lambda: runs.get("a") == 1)
        DBOS.cancel_workflow("c-1")
        st = handle.get_status()
        out["cancelled"] = [st.status, st.error, st.output]
        try:
            handle.get_result()
        except DBOSAwaitedWorkflowCancelledError as exc:
            out["awaited"] = describe_error(exc)
        gate.set()
        out["resumed"] = DBOS.resume_workflow("c-1").get_result()
        out["after_resume"] = handle.get_status().status
        out["resume_runs"] = runs.snapshot()
        out["resumed_steps"] = [[s["function_id"], s["function_name"], s["output"]]
                                for s in DBOS.list_workflow_steps("c-1")]
        DBOS.cancel_workflow("c-1")
        out["cancel_finished"] = DBOS.get_workflow_status("c-1").status
        DBOS.cancel_workflow("no-such-workflow")
        try:
            DBOS.resume_workflow("no-such-workflow")
        except DBOSNonExistentWorkflowError as exc:
            out["resume_unknown"] = describe_error(exc)

        with SetWorkflowID("f-orig"):
            three_steps(7)
        with SetWorkflowID("f-fork"):
            forked = DBOS.fork_workflow("f-orig", 3)
        out["fork"] = [forked.workflow_id, forked.get_result()]
        fst = forked.get_status()
        out["fork_status"] = [fst.status, fst.forked_from, fst.name, fst.input]
        out["original"] = [[w.workflow_id, w.was_forked_from, w.forked_from]
                           for w in DBOS.list_workflows(workflow_id_prefix="f-")]
        out["forked_from_filter"] = [w.workflow_id for w in DBOS.list_workflows(forked_from="f-orig")]
        out["fork_steps"] = [[s["function_id"], s["function_name"], s["output"]]
                             for s in DBOS.list_workflow_steps("f-fork")]
        out["fork_runs"] = runs.snapshot()

        with SetWorkflowTimeout(0.3):
            with SetWorkflowID("t-1"):
                timed = DBOS.start_workflow(slow_parent)
        try:
            timed.get_result()
        except DBOSAwaitedWorkflowCancelledError as exc:
            out["timed_out"] = describe_error(exc)
        wait_until(lambda: DBOS.get_workflow_status("t-1-1") is not None
                   and DBOS.get_workflow_status("t-1-1").status == "CANCELLED")
        parent, child = DBOS.get_workflow_status("t-1"), DBOS.get_workflow_status("t-1-1")
        out["timeout_statuses"] = [parent.status, child.status, parent.workflow_timeout_ms,
                                   child.workflow_timeout_ms,
                                   parent.workflow_deadline_epoch_ms == child.workflow_deadline_epoch_ms,
                                   parent.workflow_deadline_epoch_ms is not None]
        late_gate.set()
        out["timeout_runs"] = runs.get("parent-started")
        return out
    """,
    {'cancelled': ['CANCELLED', None, None],
     'awaited': {'type': 'DBOSAwaitedWorkflowCancelledError',
                 'message': 'DBOS Error 13: Awaited workflow c-1 was cancelled'},
     'resumed': 40,
     'after_resume': 'SUCCESS',
     'resume_runs': {'a': 1, 'b': 1},
     'resumed_steps': [[1, 'mark', 'a'], [2, 'mark', 'b']],
     'cancel_finished': 'SUCCESS',
     'resume_unknown': {'type': 'DBOSNonExistentWorkflowError',
                        'message': 'DBOS Error 5: Non-existent target workflow ID: no-such-workflow'},
     'fork': ['f-fork', ['s1', 's2', 's3', 7]],
     'fork_status': ['SUCCESS', 'f-orig', 'three_steps', {'args': [7], 'kwargs': {}}],
     'original': [['f-orig', True, None], ['f-fork', False, 'f-orig']],
     'forked_from_filter': ['f-fork'],
     'fork_steps': [[1, 'mark', 's1'], [2, 'mark', 's2'], [3, 'mark', 's3']],
     'fork_runs': {'a': 1, 'b': 1, 's1': 1, 's2': 1, 's3': 2},
     'timed_out': {'type': 'DBOSAwaitedWorkflowCancelledError',
                   'message': 'DBOS Error 13: Awaited workflow t-1 was cancelled'},
     'timeout_statuses': ['CANCELLED', 'CANCELLED', 300, None, True, True],
     'timeout_runs': 1},
)


# DBOS 2.31's enqueue by options: DBOS.enqueue_workflow_with_options (statuses, ambient
# SetEnqueueOptions, DBOS's validation messages), duplication_policy="return-existing" (a handle on
# the holder, from options and from SetEnqueueOptions), a child enqueued by options inside a workflow
# (recorded as the parent's child), and a finished workflow's deduplication id freed (DBOS clears it).
case(
    "enqueue_with_options_and_return_existing",
    """
    from dbos import Queue, SetEnqueueOptions

    queue = Queue("opts", concurrency=1, polling_interval_sec=0.05)
    gate = threading.Event()

    @DBOS.workflow()
    def blocker():
        gate.wait(10)
        return "released"

    @DBOS.workflow()
    def work(x):
        return x * 2

    @DBOS.workflow()
    def parent():
        handle = DBOS.enqueue_workflow_with_options({"workflow_name": "work", "queue_name": "opts"}, 5)
        return [handle.workflow_id, handle.get_result()]

    def wait_until(check):
        deadline = time.time() + 10
        while not check():
            if time.time() > deadline:
                raise TimeoutError("condition never held")
            time.sleep(0.01)

    def scenario():
        out = {}
        with SetEnqueueOptions(deduplication_id="d"), SetWorkflowID("o-block"):
            first = queue.enqueue(blocker)
        wait_until(lambda: first.get_status().status == "PENDING")
        held = DBOS.enqueue_workflow_with_options(
            {"workflow_name": "work", "queue_name": "opts", "workflow_id": "o-1", "deduplication_id": "e",
             "priority": 3}, 4)
        st = held.get_status()
        out["status"] = [held.workflow_id, st.status, st.queue_name, st.priority, st.deduplication_id, st.name,
                         st.app_version, st.input]
        existing = DBOS.enqueue_workflow_with_options(
            {"workflow_name": "work", "queue_name": "opts", "workflow_id": "o-2", "deduplication_id": "d",
             "duplication_policy": "return-existing"}, 9)
        out["existing"] = [existing.workflow_id, DBOS.get_workflow_status("o-2")]
        with SetEnqueueOptions(deduplication_id="d", duplication_policy="return-existing"), SetWorkflowID("o-3"):
            out["existing_ambient"] = queue.enqueue(work, 11).workflow_id
        with SetEnqueueOptions(priority=7), SetWorkflowID("o-4"):
            ambient = DBOS.enqueue_workflow_with_options({"workflow_name": "work", "queue_name": "opts"}, 1)
        out["ambient"] = [ambient.workflow_id, ambient.get_status().priority]
        for options in [{"duplication_policy": "return-existing"}, {"priority": 0},
                        {"duplication_policy": "bogus", "deduplication_id": "x"},
                        {"queue_partition_key": "k", "deduplication_id": "x"}]:
            try:
                DBOS.enqueue_workflow_with_options({"workflow_name": "work", "queue_name": "opts", **options}, 1)
            except DBOSException as exc:
                out.setdefault("errors", []).append(str(exc))
        try:
            with SetEnqueueOptions(deduplication_id="d", duplication_policy="return-existing"):
                DBOS.start_workflow(work, 1)
        except DBOSException as exc:
            out["not_enqueued"] = str(exc)
        gate.set()
        out["results"] = [first.get_result(), held.get_result(), ambient.get_result()]
        done = first.get_status()
        out["after"] = [done.status, done.deduplication_id]
        again = DBOS.enqueue_workflow_with_options(
            {"workflow_name": "work", "queue_name": "opts", "workflow_id": "o-5", "deduplication_id": "d",
             "duplication_policy": "return-existing"}, 21)
        out["freed"] = [again.workflow_id, again.get_result()]
        with SetWorkflowID("o-par"):
            out["parent"] = parent()
        out["parent_steps"] = [[s["function_id"], s["function_name"], s["child_workflow_id"], s["output"]]
                               for s in DBOS.list_workflow_steps("o-par")]
        return out
    """,
    {'status': ['o-1', 'ENQUEUED', 'opts', 3, 'e', 'work', None, {'args': [4], 'kwargs': {}}],
     'existing': ['o-block', None],
     'existing_ambient': 'o-block',
     'ambient': ['o-4', 7],
     'errors': ["DBOS Error: duplication_policy 'return-existing' requires a deduplication_id.",
                'DBOS Error: Invalid priority 0. Priority must be between 1~2147483647.',
                "DBOS Error: Invalid duplication_policy bogus. Must be either 'reject' or 'return-existing'.",
                'DBOS Error: Deduplication is not supported for partitioned queues'],
     'not_enqueued': 'DBOS Error: Enqueue option(s) deduplication_id set on a workflow that is not being '
                     'enqueued. These options are only supported when enqueueing a workflow onto a queue.',
     'results': ['released', 8, 2],
     'after': ['SUCCESS', None],
     'freed': ['o-5', 42],
     'parent': ['o-par-1', 10],
     'parent_steps': [[1, 'work', 'o-par-1', None], [2, 'DBOS.getResult', 'o-par-1', 10]]},
)


# DBOS 2.31's delete_workflow(s): a deleted workflow has no status, steps or listing and cannot be
# retrieved; its children stay unless delete_children=True; its id runs again from scratch (a child
# that still exists is not re-run); a running one is stopped and awaiting it raises
# DBOSNonExistentWorkflowError. wait_first returns the first workflow to finish and checks its
# argument as DBOS does.
case(
    "delete_workflows_and_wait_first",
    """
    gate = threading.Event()

    @DBOS.step()
    def mark(name):
        runs.hit(name)
        return name

    @DBOS.workflow()
    def child(x):
        return mark(f"child{x}")

    @DBOS.workflow()
    def parent(x):
        handle = DBOS.start_workflow(child, x)
        return [mark(f"parent{x}"), handle.get_result()]

    @DBOS.workflow()
    def blocked(name):
        mark(f"{name}-start")
        gate.wait(10)
        mark(f"{name}-end")
        return name

    def wait_until(check):
        deadline = time.time() + 10
        while not check():
            if time.time() > deadline:
                raise TimeoutError("condition never held")
            time.sleep(0.01)

    def scenario():
        out = {}
        for n in (1, 2):
            with SetWorkflowID(f"d-{n}"):
                parent(n)
        DBOS.delete_workflow("d-1")
        out["deleted"] = [DBOS.get_workflow_status("d-1"), DBOS.get_workflow_status("d-1-1").status,
                          DBOS.list_workflow_steps("d-1")]
        try:
            DBOS.retrieve_workflow("d-1")
        except DBOSNonExistentWorkflowError as exc:
            out["retrieve"] = str(exc)
        DBOS.delete_workflow("d-2", delete_children=True)
        out["with_children"] = [DBOS.get_workflow_status("d-2"), DBOS.get_workflow_status("d-2-1")]
        out["listed"] = sorted(w.workflow_id for w in DBOS.list_workflows())
        DBOS.delete_workflow("no-such-workflow")
        with SetWorkflowID("d-1"):
            out["again"] = parent(1)
        again = DBOS.get_workflow_status("d-1")
        out["again_status"] = [again.status, again.output, runs.snapshot()]
        out["listed_again"] = sorted(w.workflow_id for w in DBOS.list_workflows())
        with SetWorkflowID("w-slow"):
            slow = DBOS.start_workflow(blocked, "slow")
        with SetWorkflowID("w-fast"):
            fast = DBOS.start_workflow(child, 9)
        out["first"] = DBOS.wait_first([slow, fast], polling_interval_sec=0.05).workflow_id
        for bad in ([], [fast, fast]):
            try:
                DBOS.wait_first(bad)
            except ValueError as exc:
                out.setdefault("wait_first_errors", []).append(str(exc))
        wait_until(lambda: runs.get("slow-start") == 1)
        DBOS.delete_workflows(["w-slow", "d-1-1"])
        out["running_deleted"] = [DBOS.get_workflow_status("w-slow"), DBOS.get_workflow_status("d-1-1")]
        gate.set()
        try:
            slow.get_result()
        except DBOSNonExistentWorkflowError as exc:
            out["awaited_deleted"] = str(exc)
        out["final_runs"] = runs.snapshot()
        return out
    """,
    {'deleted': [None, 'SUCCESS', []],
     'retrieve': 'DBOS Error 5: Non-existent target workflow ID: d-1',
     'with_children': [None, None],
     'listed': ['d-1-1'],
     'again': ['parent1', 'child1'],
     'again_status': ['SUCCESS', ['parent1', 'child1'], {'child1': 1, 'child2': 1, 'parent1': 2, 'parent2': 1}],
     'listed_again': ['d-1', 'd-1-1'],
     'first': 'w-fast',
     'wait_first_errors': ['handles must not be empty', 'handles must not contain duplicate workflow IDs'],
     'running_deleted': [None, None],
     'awaited_deleted': 'DBOS Error 5: Non-existent target workflow ID: w-slow',
     'final_runs': {'child1': 1, 'child2': 1, 'child9': 1, 'parent1': 2, 'parent2': 1, 'slow-start': 1}},
)


# DBOS 2.31's delayed enqueues: DELAYED (listed as queued) until the delay passes, then run;
# set_workflow_delay moves a DELAYED workflow's delay and leaves others alone, with DBOS's messages;
# a DELAYED workflow can be cancelled or resumed (runs at once). The queue table: retrieve_queue and
# list_queues see queues declared with register_queue (not Queue(...)), delete_queue removes one.
case(
    "delayed_enqueue_and_queue_table",
    """
    from dbos import Queue, SetEnqueueOptions

    queue = Queue("later", polling_interval_sec=0.05)

    @DBOS.workflow()
    def work(x):
        runs.hit("work")
        return x * 2

    def scenario():
        out = {}
        DBOS.register_queue("table", worker_concurrency=2, priority_enabled=True, polling_interval_sec=0.05)
        started = time.time()
        with SetEnqueueOptions(delay_seconds=0.5), SetWorkflowID("dl-1"):
            delayed = queue.enqueue(work, 2)
        st = delayed.get_status()
        out["delayed"] = [st.status, st.queue_name, st.delay_until_epoch_ms >= int(started * 1000) + 500]
        out["listed"] = [[w.workflow_id, w.status] for w in DBOS.list_queued_workflows()]
        out["result"] = [delayed.get_result(), time.time() - started >= 0.5]
        with SetEnqueueOptions(delay_seconds=100), SetWorkflowID("dl-2"):
            moved = queue.enqueue(work, 3)
        DBOS.set_workflow_delay("dl-2", delay_seconds=0)
        out["moved"] = moved.get_result()
        DBOS.set_workflow_delay("dl-2", delay_seconds=5)
        out["finished_unaffected"] = moved.get_status().status
        for kwargs in [{"delay_seconds": 1, "delay_until_epoch_ms": 1}, {}, {"delay_seconds": -1}]:
            try:
                DBOS.set_workflow_delay("dl-2", **kwargs)
            except DBOSException as exc:
                out.setdefault("errors", []).append(str(exc))
        by_options = DBOS.enqueue_workflow_with_options(
            {"workflow_name": "work", "queue_name": "later", "workflow_id": "dl-3", "delay_seconds": 100}, 4)
        out["by_options"] = by_options.get_status().status
        DBOS.cancel_workflow("dl-3")
        out["cancelled"] = by_options.get_status().status
        with SetEnqueueOptions(delay_seconds=100), SetWorkflowID("dl-4"):
            resumed = queue.enqueue(work, 5)
        DBOS.resume_workflow("dl-4")
        out["resumed"] = resumed.get_result()
        out["runs"] = runs.snapshot()
        table = DBOS.retrieve_queue("table")
        out["retrieved"] = [table.name, table.worker_concurrency, table.concurrency, table.priority_enabled]
        out["not_in_table"] = [DBOS.retrieve_queue("later"), DBOS.retrieve_queue("nope")]
        out["list_queues"] = [[q.name, q.worker_concurrency] for q in DBOS.list_queues()]
        DBOS.delete_queue("table")
        out["after_delete_queue"] = [DBOS.retrieve_queue("table"), DBOS.list_queues()]
        return out
    """,
    {'delayed': ['DELAYED', 'later', True],
     'listed': [['dl-1', 'DELAYED']],
     'result': [4, True],
     'moved': 6,
     'finished_unaffected': 'SUCCESS',
     'errors': ['DBOS Error: Specify either delay_seconds or delay_until_epoch_ms, not both',
                'DBOS Error: Must specify either delay_seconds or delay_until_epoch_ms',
                'DBOS Error: delay_seconds must be >= 0'],
     'by_options': 'DELAYED',
     'cancelled': 'CANCELLED',
     'resumed': 10,
     'runs': {'work': 3},
     'retrieved': ['table', 2, None, True],
     'not_in_table': [None, None],
     'list_queues': [['table', 2]],
     'after_delete_queue': [None, []]},
)


# DBOS 2.31's Debouncer: calls with one key within the period coalesce into one DELAYED workflow that
# runs once, with the last call's arguments, after the last period (its status shows the latest inputs
# and the debounce key as deduplication id until it runs); debounce_timeout_sec caps the wait; a key
# is free again once its workflow ran; SetWorkflowID pins the id; conflicting enqueue options and an
# unknown queue are refused with DBOS's messages.
case(
    "debouncer",
    """
    from dbos import Debouncer, Queue, SetEnqueueOptions

    queue = Queue("bounce", polling_interval_sec=0.05)
    seen = []

    @DBOS.workflow()
    def save(text):
        seen.append(text)
        return text.upper()

    def scenario():
        out = {}
        debouncer = Debouncer.create(save, queue=queue)
        started = time.time()
        first = debouncer.debounce("doc-1", 0.4, "a")
        st = first.get_status()
        out["first"] = [st.status, st.queue_name, st.deduplication_id, st.input]
        second = debouncer.debounce("doc-1", 0.4, "ab")
        third = debouncer.debounce("doc-1", 0.4, "abc")
        other = debouncer.debounce("doc-2", 0.05, "x")
        out["same"] = [second.workflow_id == first.workflow_id, third.workflow_id == first.workflow_id,
                       other.workflow_id != first.workflow_id]
        st = first.get_status()
        out["bounced"] = [st.status, st.input]
        out["result"] = [first.get_result(), other.get_result(), time.time() - started >= 0.4]
        st = first.get_status()
        out["after"] = [st.status, st.deduplication_id, st.input]
        out["seen"] = sorted(seen)
        later = debouncer.debounce("doc-1", 0.05, "new")
        out["new_after_run"] = [later.workflow_id != first.workflow_id, later.get_result()]
        capped = Debouncer.create(save, debounce_timeout_sec=0.3)
        t0 = time.time()
        h = capped.debounce("k", 100, "c1")
        capped.debounce("k", 100, "c2")
        out["capped"] = [h.get_result(), h.get_status().queue_name, time.time() - t0 < 30]
        for kwargs in [dict(deduplication_id="d"), dict(priority=2), dict(delay_seconds=1)]:
            try:
                with SetEnqueueOptions(**kwargs):
                    debouncer.debounce("z", 0.1, "z")
            except DBOSException as exc:
                out.setdefault("errors", []).append(str(exc))
        with SetWorkflowID("pinned"):
            pinned = debouncer.debounce("p", 0.05, "p")
        out["pinned"] = [pinned.workflow_id, pinned.get_result()]
        try:
            Debouncer.create(save, queue="nope").debounce("k", 0.1, "q")
        except Exception as exc:
            out["bad_queue"] = str(exc)
        return out
    """,
    {'after': ['SUCCESS', None, {'args': ['abc'], 'kwargs': {}}],
     'bad_queue': 'Invalid queue name provided to debouncer: nope',
     'bounced': ['DELAYED', {'args': ['abc'], 'kwargs': {}}],
     'capped': ['C2', '_dbos_internal_queue', True],
     'errors': ['DBOS Error: Cannot debounce a workflow with a deduplication_id set: the debounce key is used as '
                "the workflow's deduplication ID.",
                'DBOS Error: Cannot debounce a workflow with a priority set: priority is not supported for '
                'debounced workflows.',
                'DBOS Error: Cannot debounce a workflow with a delay set: the debounce period controls the '
                "workflow's delay."],
     'first': ['DELAYED', 'bounce', 'save-doc-1', {'args': ['a'], 'kwargs': {}}],
     'new_after_run': [True, 'NEW'],
     'pinned': ['pinned', 'P'],
     'result': ['ABC', 'X', True],
     'same': [True, True, True],
     'seen': ['abc', 'x']},
)


# DBOSClient.wait_first and delete_workflow(s): the first finished handle; a deleted workflow is gone.
case(
    "dbos_client_wait_first_and_delete",
    """
    from dbos import DBOSClient

    @DBOS.workflow()
    def slow():
        return DBOS.recv("go", timeout_seconds=10)

    @DBOS.workflow()
    def quick(x):
        return x * 2

    def scenario():
        client = DBOSClient(system_database_url=os.environ["D2R_DB_URL"])
        out = {}
        with SetWorkflowID("slow-1"):
            DBOS.start_workflow(slow)
        with SetWorkflowID("quick-1"):
            DBOS.start_workflow(quick, 21)
        handles = [client.retrieve_workflow("slow-1"), client.retrieve_workflow("quick-1")]
        first = client.wait_first(handles, polling_interval_sec=0.05)
        out["first"] = [first.workflow_id, first.get_result()]
        for bad in ([], [handles[0], handles[0]]):
            try:
                client.wait_first(bad)
            except ValueError as exc:
                out.setdefault("refused", []).append(str(exc))
        client.send("slow-1", "go now", "go")
        out["slow"] = handles[0].get_result()
        client.delete_workflow("quick-1")
        out["listed_after_delete"] = sorted(w.workflow_id for w in client.list_workflows())
        try:
            client.retrieve_workflow("quick-1")
        except DBOSNonExistentWorkflowError as exc:
            out["deleted"] = describe_error(exc)
        client.delete_workflows(["slow-1", "never-existed"])
        out["listed_at_the_end"] = sorted(w.workflow_id for w in client.list_workflows())
        client.destroy()
        return out
    """,
    {'deleted': {'type': 'DBOSNonExistentWorkflowError',
                 'message': 'DBOS Error 5: Non-existent target workflow ID: quick-1'},
     'first': ['quick-1', 42],
     'listed_after_delete': ['slow-1'],
     'listed_at_the_end': [],
     'refused': ['handles must not be empty', 'handles must not contain duplicate workflow IDs'],
     'slow': 'go now'},
)


# DBOS 2.31's workflow attributes: SetWorkflowAttributes records them on each workflow started or
# enqueued in the block (not on its children; SetWorkflowAttributes(None) clears them for an inner
# block); update_workflow_attributes (+async) replaces them whole (None clears; a missing workflow is
# no error) and is a step in a workflow; resume and fork keep the current attributes.
case(
    "workflow_attributes",
    """
    from dbos import Queue, SetWorkflowAttributes

    queue = Queue("attributes-queue", polling_interval_sec=0.05)

    @DBOS.workflow()
    def child(x):
        return x

    @DBOS.workflow()
    def parent(x):
        with SetWorkflowID("at-grandchild"):
            child(x)
        DBOS.update_workflow_attributes("at-plain", {"set": "inside"})
        return x

    @DBOS.workflow()
    async def updates_async(x):
        await DBOS.update_workflow_attributes_async("at-queued", {"async": x})
        return x

    def attributes_of(*workflow_ids):
        return {w: DBOS.get_workflow_status(w).attributes for w in workflow_ids}

    def scenario():
        out = {}
        with SetWorkflowID("at-plain"):
            child(0)
        with SetWorkflowAttributes({"customer": "acme", "n": 1}):
            with SetWorkflowID("at-parent"):
                parent(1)
            with SetWorkflowID("at-queued"):
                queue.enqueue(child, 2).get_result()
            with SetWorkflowAttributes(None), SetWorkflowID("at-cleared"):
                child(3)
        out["created"] = attributes_of("at-plain", "at-parent", "at-grandchild", "at-queued", "at-cleared")
        out["steps"] = [s["function_name"] for s in DBOS.list_workflow_steps("at-parent")]
        DBOS.update_workflow_attributes("at-cleared", {"k": [1, 2]})
        DBOS.update_workflow_attributes("at-cleared", {"k2": "v"})
        DBOS.update_workflow_attributes("at-parent", None)
        DBOS.update_workflow_attributes("at-missing", {"a": 1})
        out["updated"] = attributes_of("at-plain", "at-parent", "at-cleared")
        out["missing"] = DBOS.get_workflow_status("at-missing")
        out["listed"] = {w.workflow_id: w.attributes for w in DBOS.list_workflows(workflow_id_prefix="at-")}
        DBOS.resume_workflow("at-cleared").get_result()
        out["resumed"] = attributes_of("at-cleared")
        with SetWorkflowID("at-forked"):
            DBOS.fork_workflow("at-queued", 1).get_result()
        out["forked"] = attributes_of("at-forked")
        with SetWorkflowID("at-async"):
            asyncio.run(updates_async(5))
        out["updated_async"] = attributes_of("at-queued", "at-async")
        for bad in ["text", {"a": object()}]:
            try:
                SetWorkflowAttributes(bad)
            except DBOSException as exc:
                out.setdefault("errors", []).append(str(exc).rsplit(". ", 1)[-1])
        try:
            DBOS.update_workflow_attributes("at-plain", [1])
        except DBOSException as exc:
            out["update_error"] = str(exc)
        return out
    """,
    {'created': {'at-plain': {'set': 'inside'},
                 'at-parent': {'customer': 'acme', 'n': 1},
                 'at-grandchild': None,
                 'at-queued': {'customer': 'acme', 'n': 1},
                 'at-cleared': None},
     'steps': ['child', 'DBOS.getResult', 'DBOS.updateWorkflowAttributes'],
     'updated': {'at-plain': {'set': 'inside'}, 'at-parent': None, 'at-cleared': {'k2': 'v'}},
     'missing': None,
     'listed': {'at-plain': {'set': 'inside'},
                'at-parent': None,
                'at-grandchild': None,
                'at-queued': {'customer': 'acme', 'n': 1},
                'at-cleared': {'k2': 'v'}},
     'resumed': {'at-cleared': {'k2': 'v'}},
     'forked': {'at-forked': {'customer': 'acme', 'n': 1}},
     'updated_async': {'at-queued': {'async': 5}, 'at-async': None},
     'errors': ['Attributes must be a dict.', 'Attributes must be JSON-serializable.'],
     'update_error': 'DBOS Error: Invalid workflow attributes [1]. Attributes must be a dict.'},
)


# DBOS.asyncio_wait: a durable asyncio.wait; in a workflow its split is one recorded operation.
case(
    "asyncio_wait_records_the_split",
    """
    async def value(x):
        return x

    async def forever():
        await asyncio.Event().wait()

    @DBOS.step()
    def after(n):
        return n

    replaying = {"now": False}

    @DBOS.workflow()
    async def race():
        # a replay (the fork below) gets two awaitables that are both done at once: the split is the recorded one
        waiting = asyncio.ensure_future(value(8) if replaying["now"] else forever())
        done, pending = await DBOS.asyncio_wait([value(7), waiting], return_when=asyncio.FIRST_COMPLETED)
        results = sorted(t.result() for t in done)
        waiting.cancel()
        return [results, len(pending), after(len(done))]

    async def async_scenario():
        out = {}
        done, pending = await DBOS.asyncio_wait([value(1), value(2)])
        out["outside"] = [sorted(t.result() for t in done), len(pending)]
        with SetWorkflowID("race-1"):
            out["race"] = await (await DBOS.start_workflow_async(race)).get_result()
        steps = await DBOS.list_workflow_steps_async("race-1")
        out["steps"] = [[s["function_id"], s["function_name"], s["output"]] for s in steps]
        replaying["now"] = True
        out["forked"] = await (await DBOS.fork_workflow_async("race-1", 2)).get_result()
        return out

    def scenario():
        return asyncio.run(async_scenario())
    """,
    {'outside': [[1, 2], 0],
     'race': [[7], 1, 1],
     'steps': [[1, 'DBOS.asyncio_wait', [0]], [2, 'after', 1]],
     'forked': [[7], 1, 1]},
)


# DBOS 2.31's application version: at launch, without a configured one, the MD5 of the registered
# workflows' sources (DBOS's own included), DBOS's version and the app name; every workflow records it
# (a fork and enqueue_workflow_with_options when they are dequeued);
# list_workflows(app_version=) filters on it; DBOS__APPVERSION, then application_version, replace it.
case(
    "application_version",
    """
    from dbos import Queue

    queue = Queue("versions-queue")

    @DBOS.step()
    def double(x):
        return x * 2

    @DBOS.workflow()
    def work(x):
        return double(x)

    @DBOS.workflow()
    def parent():
        return DBOS.start_workflow(work, 5).get_result()

    def version_of(workflow_id):
        return DBOS.get_workflow_status(workflow_id).app_version

    def relaunch(**config_changes):
        DBOS.destroy()
        DBOS(config={**config, **config_changes})
        DBOS.launch()

    def scenario():
        out = {"version": DBOS.application_version}
        with SetWorkflowID("v-call"):
            work(1)
        with SetWorkflowID("v-queued"):
            queue.enqueue(work, 2).get_result()
        with SetWorkflowID("v-parent"):
            parent()
        with SetWorkflowID("v-fork"):
            DBOS.fork_workflow("v-call", 1).get_result()
        with SetWorkflowID("v-options"):
            DBOS.enqueue_workflow_with_options({"queue_name": "versions-queue", "workflow_name": "work"}, 3)
        DBOS.retrieve_workflow("v-options").get_result()
        out["recorded"] = {wid: version_of(wid) for wid in ("v-call", "v-queued", "v-parent", "v-parent-1",
                                                             "v-fork", "v-options")}
        out["listed"] = sorted(w.workflow_id for w in DBOS.list_workflows(app_version=out["version"]))
        out["listed_other"] = DBOS.list_workflows(app_version="no-such-version")
        os.environ["DBOS__APPVERSION"] = "from-env"
        relaunch()
        with SetWorkflowID("v-env"):
            work(4)
        out["env"] = [DBOS.application_version, version_of("v-env")]
        relaunch(application_version="from-config")
        with SetWorkflowID("v-config"):
            work(5)
        out["config"] = [DBOS.application_version, version_of("v-config")]
        del os.environ["DBOS__APPVERSION"]
        return out
    """,
    {'version': 'f2815c15855e46e6c91a26183a55fdfc',
     'recorded': {'v-call': 'f2815c15855e46e6c91a26183a55fdfc', 'v-queued': 'f2815c15855e46e6c91a26183a55fdfc',
                  'v-parent': 'f2815c15855e46e6c91a26183a55fdfc', 'v-parent-1': 'f2815c15855e46e6c91a26183a55fdfc',
                  'v-fork': 'f2815c15855e46e6c91a26183a55fdfc', 'v-options': 'f2815c15855e46e6c91a26183a55fdfc'},
     'listed': ['v-call', 'v-fork', 'v-options', 'v-parent', 'v-parent-1', 'v-queued'],
     'listed_other': [],
     'env': ['from-env', 'from-env'],
     'config': ['from-config', 'from-config']},
)

# DBOSClient's schedule API (DBOS 2.31): create (checks and messages), list with filters, get,
# pause, resume, apply, trigger, backfill, delete; the launched application sees the client's rows.
case(
    "dbos_client_schedules",
    """
    from datetime import datetime, timezone

    from dbos import DBOSClient

    @DBOS.workflow()
    def report(scheduled_at, context):
        return [scheduled_at.isoformat() if scheduled_at.year < 2100 else "now", context]

    def public(schedule):
        return None if schedule is None else {k: v for k, v in schedule.items() if k != "schedule_id"}

    def scenario():
        client = DBOSClient(system_database_url=os.environ["D2R_DB_URL"])
        out = {"refused": []}
        yearly = "0 0 2 1 1 *"  # 02:00 UTC on 1 January: never during a run
        client.create_schedule(schedule_name="c-yearly", workflow_name="report", schedule=yearly,
                               context={"region": "emea"})
        for bad in ({"schedule": "not a cron"}, {"schedule": yearly, "cron_timezone": "Mars/Base"},
                    {"schedule": yearly}):
            try:
                client.create_schedule(schedule_name="c-yearly", workflow_name="report", **bad)
            except DBOSException as exc:
                out["refused"].append(describe_error(exc))
        try:
            client.apply_schedules([{"schedule_name": "c-x", "schedule": yearly}])
        except DBOSException as exc:
            out["refused"].append(describe_error(exc))
        client.apply_schedules([
            {"schedule_name": "c-yearly", "workflow_name": "report", "schedule": yearly, "context": "replaced"},
            {"schedule_name": "c-zoned", "workflow_name": "report", "schedule": "0 0 9 1 1 *",
             "cron_timezone": "America/New_York", "automatic_backfill": True},
        ])
        client.pause_schedule("c-zoned")
        out["listed"] = [public(s) for s in sorted(client.list_schedules(), key=lambda s: s["schedule_name"])]
        out["active"] = [s["schedule_name"] for s in client.list_schedules(status="ACTIVE")]
        out["by_prefix"] = sorted(s["schedule_name"] for s in client.list_schedules(schedule_name_prefix=["c-z"]))
        out["by_workflow"] = len(client.list_schedules(workflow_name="other"))
        out["app_sees"] = sorted(s["schedule_name"] for s in DBOS.list_schedules())
        client.resume_schedule("c-zoned")
        out["resumed"] = asyncio.run(client.get_schedule_async("c-zoned"))["status"]
        handle = client.trigger_schedule("c-yearly")
        out["trigger"] = [handle.workflow_id.startswith("sched-c-yearly-trigger-"), handle.get_result()[1]]
        start, end = datetime(2030, 1, 1), datetime(2032, 1, 1, 2, tzinfo=timezone.utc)
        handles = client.backfill_schedule("c-zoned", start, end)
        out["backfill"] = [[h.workflow_id, h.get_result()] for h in handles]
        out["backfill_status"] = handles[0].get_status().status
        client.delete_schedule("c-zoned")
        client.delete_schedule("never-existed")
        client.pause_schedule("never-existed")
        out["after_delete"] = [public(client.get_schedule("c-zoned")), len(client.list_schedules())]
        for missing in (lambda: client.trigger_schedule("c-zoned"),
                        lambda: client.backfill_schedule("c-zoned", start, end)):
            try:
                missing()
            except DBOSException as exc:
                out["refused"].append(describe_error(exc))
        client.destroy()
        return out
    """,
    {'active': ['c-yearly'],
     'after_delete': [None, 1],
     'app_sees': ['c-yearly', 'c-zoned'],
     'backfill': [['sched-c-zoned-2030-01-01T09:00:00-05:00', ['2030-01-01T09:00:00-05:00', None]],
                  ['sched-c-zoned-2031-01-01T09:00:00-05:00', ['2031-01-01T09:00:00-05:00', None]]],
     'backfill_status': 'SUCCESS',
     'by_prefix': ['c-zoned'],
     'by_workflow': 0,
     'listed': [{'application_name': None,
                 'automatic_backfill': False,
                 'context': 'replaced',
                 'cron_timezone': None,
                 'last_fired_at': None,
                 'queue_name': None,
                 'schedule': '0 0 2 1 1 *',
                 'schedule_name': 'c-yearly',
                 'status': 'ACTIVE',
                 'workflow_class_name': None,
                 'workflow_name': 'report'},
                {'application_name': None,
                 'automatic_backfill': True,
                 'context': None,
                 'cron_timezone': 'America/New_York',
                 'last_fired_at': None,
                 'queue_name': None,
                 'schedule': '0 0 9 1 1 *',
                 'schedule_name': 'c-zoned',
                 'status': 'PAUSED',
                 'workflow_class_name': None,
                 'workflow_name': 'report'}],
     'refused': [{'message': "DBOS Error: Invalid cron schedule: 'not a cron'", 'type': 'DBOSException'},
                 {'message': "DBOS Error: Invalid timezone: 'Mars/Base'", 'type': 'DBOSException'},
                 {'message': "DBOS Error: Schedule 'c-yearly' already exists", 'type': 'DBOSException'},
                 {'message': "DBOS Error: Schedule entry 0 is missing required field 'workflow_name'",
                  'type': 'DBOSException'},
                 {'message': "DBOS Error: Schedule 'c-zoned' does not exist", 'type': 'DBOSException'},
                 {'message': "DBOS Error: Schedule 'c-zoned' does not exist", 'type': 'DBOSException'}],
     'resumed': 'ACTIVE',
     'trigger': [True, 'replaced']},
)


# DBOS 2.31's workflow patching: DBOS.patch refuses without enable_patching and outside a workflow;
# in a new run it records DBOS.patch-<name> and is True; a run recorded before the patch (a fork that
# copies the old path's step at that position) gets False and replays the old path; a recorded marker
# is replayed (True). deprecate_patch is True, replays a recorded marker and records none; the async
# forms alike. With enable_patching the application version is PATCHING_ENABLED.
case(
    "workflow_patching",
    """
    code = {"version": "old"}

    @DBOS.step()
    def first():
        return "first"

    @DBOS.step()
    def old_path():
        return "old"

    @DBOS.step()
    def new_path():
        return "new"

    @DBOS.workflow()
    def versioned():
        runs.hit("versioned")
        out = [first()]
        if code["version"] == "old":
            return out + [old_path()]
        if code["version"] == "patched":
            patched = DBOS.patch("use-new")
            return out + [patched, new_path() if patched else old_path()]
        return out + [DBOS.deprecate_patch("use-new"), new_path()]

    @DBOS.workflow()
    async def versioned_async():
        patched = await DBOS.patch_async("async-patch")
        deprecated = await DBOS.deprecate_patch_async("other")
        return [patched, deprecated]

    @DBOS.step()
    def patch_in_step():
        return DBOS.patch("in-step")

    def steps(workflow_id):
        return [s["function_name"] for s in DBOS.list_workflow_steps(workflow_id)]

    def relaunch(**config_changes):
        DBOS.destroy()
        DBOS(config={**config, **config_changes})
        DBOS.launch()

    def scenario():
        out = {"errors": []}
        try:
            DBOS.patch("p")
        except DBOSException as exc:
            out["errors"].append(str(exc))
        relaunch(enable_patching=True)
        out["version"] = DBOS.application_version
        for call in [lambda: DBOS.patch("p"), lambda: DBOS.deprecate_patch("p"), patch_in_step]:
            try:
                call()
            except DBOSException as exc:
                out["errors"].append(str(exc))
        with SetWorkflowID("pt-old"):
            out["old"] = versioned()
        code["version"] = "patched"
        with SetWorkflowID("pt-new"):
            out["new"] = versioned()
        with SetWorkflowID("pt-old-replayed"):
            out["old_replayed"] = DBOS.fork_workflow("pt-old", 3).get_result()
        with SetWorkflowID("pt-new-replayed"):
            out["new_replayed"] = DBOS.fork_workflow("pt-new", 4).get_result()
        code["version"] = "deprecated"
        with SetWorkflowID("pt-deprecated"):
            out["deprecated"] = versioned()
        with SetWorkflowID("pt-deprecated-replayed"):
            out["deprecated_replayed"] = DBOS.fork_workflow("pt-new", 4).get_result()
        with SetWorkflowID("pt-async"):
            out["async"] = asyncio.run(versioned_async())
        out["steps"] = {w: steps(w) for w in ["pt-old", "pt-new", "pt-old-replayed", "pt-new-replayed",
                                              "pt-deprecated", "pt-deprecated-replayed", "pt-async"]}
        out["runs"] = runs.snapshot()
        return out
    """,
    {'async': [True, True],
     'deprecated': ['first', True, 'new'],
     'deprecated_replayed': ['first', True, 'new'],
     'errors': ['DBOS Error: enable_patching must be True in DBOS configuration',
                'DBOS Error: DBOS.patch must be called from a workflow',
                'DBOS Error: DBOS.deprecate_patch must be called from a workflow',
                'DBOS Error: DBOS.patch must be called from a workflow'],
     'new': ['first', True, 'new'],
     'new_replayed': ['first', True, 'new'],
     'old': ['first', 'old'],
     'old_replayed': ['first', False, 'old'],
     'runs': {'versioned': 6},
     'steps': {'pt-async': ['DBOS.patch-async-patch'],
               'pt-deprecated': ['first', 'new_path'],
               'pt-deprecated-replayed': ['first', 'DBOS.patch-use-new', 'new_path'],
               'pt-new': ['first', 'DBOS.patch-use-new', 'new_path'],
               'pt-new-replayed': ['first', 'DBOS.patch-use-new', 'new_path'],
               'pt-old': ['first', 'old_path'],
               'pt-old-replayed': ['first', 'old_path']},
     'version': 'PATCHING_ENABLED'},
)


# DBOS 2.31's tracing without OTLP (its default): DBOS.span asserts a DBOS context; DBOS.tracer is
# DBOS's tracer with OTLP disabled, no provider and the legacy attribute format.
case(
    "tracer_and_span_without_otlp",
    """
    def scenario():
        out = {}
        try:
            DBOS.span
        except AssertionError as exc:
            out["span_outside"] = str(exc)
        tracer = DBOS.tracer
        out["tracer"] = [type(tracer).__name__, tracer.disable_otlp, tracer.provider, tracer.app_id,
                         tracer.otel_attribute_format, tracer.otlp_attributes]
        return out
    """,
    {'span_outside': 'No DBOS context found',
     'tracer': ['DBOSTracer', True, None, None, 'legacy', {}]},
)


def differential_jobs(item: pytest.Item) -> list:
    params = item.callspec.params
    source = CASES[params["name"]].source
    return [(source, "dbos"), (source, params["runtime"])]


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["dbos", "shim"])
@pytest.mark.parametrize("name", list(CASES))
def test_semantics(name: str, runtime: str, request: pytest.FixtureRequest):
    if runtime == "shim":
        mark_if_known(request, f"semantics:{name}")
    source, expected = CASES[name]
    dbos_trace = run_fixture(source, "dbos")
    if runtime == "dbos":
        assert_same_trace(expected, dbos_trace, "expected", "dbos")
    else:
        assert_same_trace(dbos_trace, run_fixture(source, "shim"), "dbos", "shim")
