'''Ported cases: the async API (tests/test_async.py, tests/test_async_workflow_management.py).'''

from __future__ import annotations

from tests.dbos_suite.program import case

case(
    "async_steps_retry_and_report_attempts",
    "tests/test_failures.py::test_step_retries, test_step_status (an async step)",
    """
    @DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=0.01)
    async def flaky():
        runs.hit("flaky")
        status = DBOS.step_status
        if status.current_attempt < 2:
            raise RuntimeError(f"attempt {status.current_attempt}")
        return [status.current_attempt, status.max_attempts]

    @DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=0.01)
    async def always_fails():
        runs.hit("always_fails")
        raise RuntimeError("nope")

    @DBOS.workflow()
    async def workflow():
        out = {"flaky": await flaky()}
        try:
            await always_fails()
        except Exception as exc:
            out["exhausted"] = [type(exc).__name__, [describe_error(e) for e in exc.errors]]
        return out

    async def scenario():
        result = await workflow()
        result["runs"] = runs.snapshot()
        return result
    """,
    {'flaky': [2, 3],
     'exhausted': ['DBOSMaxStepRetriesExceeded',
                   [{'type': 'RuntimeError', 'message': 'nope'}, {'type': 'RuntimeError', 'message': 'nope'}]],
     'runs': {'always_fails': 2, 'flaky': 3}},
)

case(
    "async_sleep_recv_and_events",
    "tests/test_async.py::test_sleep, test_send_recv_async (a recv timeout), test_set_get_events",
    """
    @DBOS.workflow()
    async def workflow():
        await DBOS.sleep_async(0.01)
        timed_out = await DBOS.recv_async("t", timeout_seconds=0.1)
        await DBOS.set_event_async("k", "v")
        return {"timed_out": timed_out, "id": DBOS.workflow_id}

    async def scenario():
        with SetWorkflowID("async-io"):
            result = await workflow()
        result["event"] = await DBOS.get_event_async("async-io", "k")
        result["missing_event"] = await DBOS.get_event_async("async-io", "x", timeout_seconds=0.1)
        return result
    """,
    {'timed_out': None, 'id': 'async-io', 'event': 'v', 'missing_event': None},
)

case(
    "async_management_calls",
    "tests/test_async_workflow_management.py::test_list_workflow_steps_async (and the other async calls)",
    """
    @DBOS.step()
    async def step(x):
        runs.hit("step")
        return x

    @DBOS.workflow()
    async def workflow(x):
        return await step(x)

    async def scenario():
        with SetWorkflowID("async-managed"):
            await workflow(7)
        listed = await DBOS.list_workflows_async(workflow_ids=["async-managed"])
        status = await DBOS.get_workflow_status_async("async-managed")
        steps = await DBOS.list_workflow_steps_async("async-managed")
        await DBOS.cancel_workflow_async("async-managed")
        resumed = await DBOS.resume_workflow_async("async-managed")
        forked = await DBOS.fork_workflow_async("async-managed", 1)
        return {
            "listed": [s.workflow_id for s in listed],
            "status": status.status,
            "steps": [s["function_id"] for s in steps],
            "resumed": await resumed.get_result(),
            "forked": await forked.get_result(),
            "runs": runs.snapshot(),
        }
    """,
    {'listed': ['async-managed'],
     'status': 'SUCCESS',
     'steps': [1],
     'resumed': 7,
     'forked': 7,
     'runs': {'step': 2}},
)

case(
    "async_send_and_recv_between_workflows",
    "tests/test_async.py::test_send_recv_async",
    """
    @DBOS.workflow()
    async def receiver():
        return [await DBOS.recv_async("t", timeout_seconds=10) for _ in range(2)]

    @DBOS.workflow()
    async def sender(destination):
        await DBOS.send_async(destination, "one", "t")
        await DBOS.send_async(destination, "two", "t")
        return "sent"

    async def scenario():
        with SetWorkflowID("async-receiver"):
            handle = await DBOS.start_workflow_async(receiver)
        sent = await sender("async-receiver")
        return {"sent": sent, "received": await handle.get_result(),
                "status": (await handle.get_status()).status}
    """,
    {'sent': 'sent', 'received': ['one', 'two'], 'status': 'SUCCESS'},
)

case(
    "async_gather_of_workflows",
    "tests/test_async.py::test_async_workflow (many at once)",
    """
    @DBOS.step()
    async def square(x):
        runs.hit("square")
        return x * x

    @DBOS.workflow()
    async def workflow(x):
        return [await square(x), DBOS.workflow_id]

    async def scenario():
        async def run(i):
            with SetWorkflowID(f"gathered-{i}"):
                return await workflow(i)
        results = await asyncio.gather(*(run(i) for i in range(5)))
        return {"results": results, "runs": runs.snapshot()}
    """,
    {'results': [[0, 'gathered-0'], [1, 'gathered-1'], [4, 'gathered-2'], [9, 'gathered-3'], [16, 'gathered-4']],
     'runs': {'square': 5}},
)

case(
    "async_workflow_error_and_retrieve",
    "tests/test_async.py::test_retrieve_workflow_async (a failed workflow)",
    """
    @DBOS.workflow()
    async def fails(x):
        runs.hit("fails")
        raise ValueError(f"bad {x}")

    async def scenario():
        out = {}
        for attempt in range(2):
            with SetWorkflowID("async-fails"):
                try:
                    await fails(1)
                except ValueError as exc:
                    out[f"call_{attempt}"] = describe_error(exc)
        handle = await DBOS.retrieve_workflow_async("async-fails")
        try:
            await handle.get_result()
        except ValueError as exc:
            out["handle"] = describe_error(exc)
        out["status"] = (await handle.get_status()).status
        out["runs"] = runs.snapshot()
        return out
    """,
    {'call_0': {'type': 'ValueError', 'message': 'bad 1'},
     'call_1': {'type': 'ValueError', 'message': 'bad 1'},
     'handle': {'type': 'ValueError', 'message': 'bad 1'},
     'status': 'ERROR',
     'runs': {'fails': 1}},
)

case(
    "async_run_step",
    "tests/test_async.py::test_async_step (through DBOS.run_step_async)",
    """
    async def plain(x):
        runs.hit("plain")
        return [x, DBOS.step_id]

    @DBOS.workflow()
    async def workflow():
        first = await DBOS.run_step_async({"name": "first"}, plain, 1)
        second = await DBOS.run_step_async({}, plain, 2)
        return [first, second]

    async def scenario():
        with SetWorkflowID("async-run-step"):
            result = await workflow()
        with SetWorkflowID("async-run-step"):
            again = await workflow()
        steps = await DBOS.list_workflow_steps_async("async-run-step")
        return {"result": result, "again": again, "names": [s["function_name"] for s in steps],
                "runs": runs.snapshot()}
    """,
    {'result': [[1, 1], [2, 2]], 'again': [[1, 1], [2, 2]], 'names': ['first', 'plain'], 'runs': {'plain': 2}},
)

case(
    "async_streams",
    "tests/test_streaming.py::test_async_stream_basic_write_read",
    """
    @DBOS.workflow()
    async def producer():
        for i in range(3):
            await DBOS.write_stream_async("s", i)
        await DBOS.close_stream_async("s")
        return "done"

    async def scenario():
        with SetWorkflowID("async-stream"):
            await producer()
        return {"values": [v async for v in DBOS.read_stream_async("async-stream", "s")]}
    """,
    {'values': [0, 1, 2]},
)

case(
    "async_child_started_and_awaited_later",
    "tests/test_async.py::test_start_workflow_async (child handles)",
    """
    @DBOS.workflow()
    async def child(x):
        runs.hit("child")
        return [x, id_shape(DBOS.workflow_id)]

    @DBOS.workflow()
    async def parent():
        handles = [await DBOS.start_workflow_async(child, i) for i in range(3)]
        return [await h.get_result() for h in handles] + [[h.workflow_id for h in handles]]

    async def scenario():
        with SetWorkflowID("async-parent"):
            first = await parent()
        with SetWorkflowID("async-parent"):
            second = await parent()
        return {"first": first, "same": first == second, "runs": runs.snapshot()}
    """,
    {'first': [[0, 'async-parent-1'],
               [1, 'async-parent-2'],
               [2, 'async-parent-3'],
               ['async-parent-1', 'async-parent-2', 'async-parent-3']],
     'same': True,
     'runs': {'child': 3}},
)
