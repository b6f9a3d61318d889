'''Ported cases: what list_workflow_steps and list_workflows report (tests/test_workflow_introspection.py).'''

from __future__ import annotations

from tests.dbos_suite.program import case

# A step listing reduced to what the origin tests assert: id, short name, child id, output, error.
_STEPS = """
    def plain(value):  # a value JSON carries as is; anything else (a WorkflowStatus) by its type's name
        return value if value is None or isinstance(value, (str, int, float, bool, list, dict)) else type(value).__name__

    def steps_of(workflow_id, **options):
        def short(name):
            return name if name.startswith("DBOS.") else name.split(".")[-1]
        return [[s["function_id"], short(s["function_name"]), id_shape(s["child_workflow_id"]),
                 "<time>" if s["function_name"] == "DBOS.sleep" else plain(s["output"]),
                 None if s["error"] is None else describe_error(s["error"])]
                for s in DBOS.list_workflow_steps(workflow_id, **options)]
"""

case(
    "steps_of_send_and_recv",
    "tests/test_workflow_introspection.py::test_send_recv",
    _STEPS + """
    @DBOS.workflow()
    def sender(target):
        DBOS.send(target, "Hello, World!")

    @DBOS.workflow()
    def receiver():
        return str(DBOS.recv(timeout_seconds=0.2))

    def scenario():
        with SetWorkflowID("introspect-recv"):
            received = receiver()
        with SetWorkflowID("introspect-send"):
            sender("introspect-recv")
        return {"received": received, "sender": steps_of("introspect-send"),
                "receiver": steps_of("introspect-recv")}
    """,
    {'received': 'None',
     'sender': [[1, 'DBOS.send', None, None, None]],
     'receiver': [[1, 'DBOS.recv', None, None, None], [2, 'DBOS.sleep', None, '<time>', None]]},
)

case(
    "steps_of_events",
    "tests/test_workflow_introspection.py::test_set_get_event",
    _STEPS + """
    @DBOS.step()
    def step_one():
        return None

    @DBOS.workflow()
    def workflow():
        DBOS.set_event("key", "Hello, World!")
        step_one()
        DBOS.get_event("fake_id", "fake_value", 0)
        return DBOS.get_event(DBOS.workflow_id, "key", 1)

    def scenario():
        with SetWorkflowID("introspect-events"):
            result = workflow()
        return {"result": result, "steps": steps_of("introspect-events")}
    """,
    {'result': 'Hello, World!',
     'steps': [[1, 'DBOS.setEvent', None, None, None],
               [2, 'step_one', None, None, None],
               [3, 'DBOS.getEvent', None, None, None],
               [4, 'DBOS.sleep', None, '<time>', None],
               [5, 'DBOS.getEvent', None, 'Hello, World!', None],
               [6, 'DBOS.sleep', None, '<time>', None]]},
)

case(
    "steps_of_children_and_status_reads",
    "tests/test_workflow_introspection.py::test_callchild_last_sync, test_callchild_first_async_thread",
    _STEPS + """
    @DBOS.step()
    def step_one():
        return 1

    @DBOS.workflow()
    def child():
        return DBOS.workflow_id

    @DBOS.workflow()
    def child_last():
        step_one()
        return child()

    @DBOS.workflow()
    def reads_status():
        handle = DBOS.start_workflow(child)
        status = handle.get_status().status
        step_one()
        return [status in ("PENDING", "SUCCESS"), handle.get_result()]

    def scenario():
        with SetWorkflowID("introspect-last"):
            last = child_last()
        with SetWorkflowID("introspect-status"):
            status = reads_status()
        return {"last": [last, steps_of("introspect-last")],
                "status": [status, steps_of("introspect-status")]}
    """,
    {'last': ['introspect-last-2',
              [[1, 'step_one', None, 1, None],
               [2, 'child', 'introspect-last-2', None, None],
               [3, 'DBOS.getResult', 'introspect-last-2', 'introspect-last-2', None]]],
     'status': [[True, 'introspect-status-1'],
                [[1, 'child', 'introspect-status-1', None, None],
                 [2, 'DBOS.getStatus', None, 'WorkflowStatus', None],
                 [3, 'step_one', None, 1, None],
                 [4, 'DBOS.getResult', 'introspect-status-1', 'introspect-status-1', None]]]},
)

case(
    "steps_limit_offset_and_load_output",
    "tests/test_workflow_introspection.py::test_list_workflow_steps_limit, test_list_workflow_steps_load_output",
    _STEPS + """
    @DBOS.step()
    def step_a():
        return "a"

    @DBOS.step()
    def step_b():
        return "b"

    @DBOS.step()
    def step_c():
        return "c"

    @DBOS.workflow()
    def workflow():
        step_a()
        step_b()
        step_c()

    def scenario():
        with SetWorkflowID("introspect-paged"):
            workflow()
        return {
            "all": steps_of("introspect-paged"),
            "limit": steps_of("introspect-paged", limit=2),
            "limit_offset": steps_of("introspect-paged", limit=2, offset=1),
            "offset": steps_of("introspect-paged", offset=2),
            "no_output": steps_of("introspect-paged", load_output=False),
        }
    """,
    {'all': [[1, 'step_a', None, 'a', None], [2, 'step_b', None, 'b', None], [3, 'step_c', None, 'c', None]],
     'limit': [[1, 'step_a', None, 'a', None], [2, 'step_b', None, 'b', None]],
     'limit_offset': [[2, 'step_b', None, 'b', None], [3, 'step_c', None, 'c', None]],
     'offset': [[3, 'step_c', None, 'c', None]],
     'no_output': [[1, 'step_a', None, None, None],
                   [2, 'step_b', None, None, None],
                   [3, 'step_c', None, None, None]]},
)

case(
    "steps_of_a_step_started_as_a_workflow",
    "tests/test_workflow_introspection.py::test_list_steps_errors",
    _STEPS + """
    @DBOS.step()
    def failing_step():
        raise Exception("fail")

    @DBOS.workflow()
    def call_step():
        return failing_step()

    @DBOS.workflow()
    def start_step():
        return DBOS.start_workflow(failing_step).get_result()

    def scenario():
        out = {}
        for workflow_id, workflow in (("introspect-call", call_step), ("introspect-start", start_step)):
            with SetWorkflowID(workflow_id):
                try:
                    workflow()
                except Exception as exc:
                    out[workflow_id] = describe_error(exc)
            out[workflow_id + "-steps"] = steps_of(workflow_id)
        child = DBOS.get_workflow_status("introspect-start-1")
        out["child"] = child and [child.name.replace(failing_step.__qualname__, "failing_step"), child.status,
                                  steps_of("introspect-start-1")]
        return out
    """,
    {'introspect-call': {'type': 'Exception', 'message': 'fail'},
     'introspect-call-steps': [[1, 'failing_step', None, None, {'type': 'Exception', 'message': 'fail'}]],
     'introspect-start': {'type': 'Exception', 'message': 'fail'},
     'introspect-start-steps': [[1, 'failing_step', 'introspect-start-1', None, None],
                                [2,
                                 'DBOS.getResult',
                                 'introspect-start-1',
                                 None,
                                 {'type': 'Exception', 'message': 'fail'}]],
     'child': ['<temp>.failing_step',
               'ERROR',
               [[1, 'failing_step', None, None, {'type': 'Exception', 'message': 'fail'}]]]},
)

case(
    "steps_of_streams",
    "tests/test_streaming.py::test_stream_workflow_recovery (the steps it records)",
    _STEPS + """
    @DBOS.step()
    def counting_step():
        runs.hit("counting_step")
        return runs["counting_step"]

    @DBOS.workflow()
    def workflow():
        DBOS.write_stream("s", f"step_{counting_step()}")
        DBOS.write_stream("s", f"step_{counting_step()}")
        DBOS.close_stream("s")

    def scenario():
        with SetWorkflowID("introspect-stream"):
            workflow()
        with SetWorkflowID("introspect-stream"):
            workflow()
        return {"values": list(DBOS.read_stream("introspect-stream", "s")),
                "steps": steps_of("introspect-stream"), "runs": runs.snapshot()}
    """,
    {'values': ['step_1', 'step_2'],
     'steps': [[1, 'counting_step', None, 1, None],
               [2, 'DBOS.writeStream', None, None, None],
               [3, 'counting_step', None, 2, None],
               [4, 'DBOS.writeStream', None, None, None],
               [5, 'DBOS.closeStream', None, None, None]],
     'runs': {'counting_step': 2}},
)

case(
    "list_workflows_by_prefixes_and_times",
    "tests/test_workflow_introspection.py::test_list_workflow_prefix, test_list_workflow_start_end_times",
    """
    import datetime

    @DBOS.workflow()
    def simple():
        return None

    def scenario():
        now = datetime.datetime.now()
        start = (now - datetime.timedelta(seconds=20)).isoformat()
        with SetWorkflowID("test1"):
            simple()
        with SetWorkflowID("test_"):
            simple()
        end = datetime.datetime.now().isoformat()
        count = lambda **filters: len(DBOS.list_workflows(**filters))
        return {
            "invalid": count(workflow_id_prefix="invalid"),
            "test": count(workflow_id_prefix="test"),
            "test_": count(workflow_id_prefix="test_"),
            "both": count(workflow_id_prefix=["test1", "test_"]),
            "one_of_two": count(workflow_id_prefix=["test1", "invalid"]),
            "none_of_two": count(workflow_id_prefix=["invalid", "also_invalid"]),
            "in_window": count(start_time=start, end_time=end),
            "before_window": count(start_time=(now - datetime.timedelta(seconds=30)).isoformat(), end_time=start),
            "names": count(name=[simple.__qualname__, "no"]),
            "no_names": count(name=["no", "also_no"]),
        }
    """,
    {'invalid': 0,
     'test': 2,
     'test_': 1,
     'both': 2,
     'one_of_two': 1,
     'none_of_two': 0,
     'in_window': 2,
     'before_window': 0,
     'names': 2,
     'no_names': 0},
)
