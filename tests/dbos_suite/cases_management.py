'''Ported cases: listing, status fields, cancel, resume and fork (tests/test_workflow_management.py,
tests/test_workflow_introspection.py, tests/test_dbos.py).'''

from __future__ import annotations

from tests.dbos_suite.program import case

# What each listing case prints of a WorkflowStatus.
_SUMMARY = """
    def summary(status):
        return {"id": status.workflow_id, "status": status.status, "name": status.name.split(".")[-1],
                "input": status.input, "output": status.output,
                "error": None if status.error is None else describe_error(status.error)}
"""

case(
    "list_workflows_filters",
    "tests/test_workflow_introspection.py::test_list_workflow_limit, test_list_workflow_error (filters)",
    _SUMMARY + """
    @DBOS.workflow()
    def good(x):
        return x * 2

    @DBOS.workflow()
    def bad(x):
        raise ValueError(f"bad {x}")

    def scenario():
        for i in range(3):
            with SetWorkflowID(f"list-good-{i}"):
                good(i)
        with SetWorkflowID("list-bad-0"):
            try:
                bad(0)
            except ValueError:
                pass
        ids = lambda found: [s.workflow_id for s in found]
        return {
            "all": [summary(s) for s in DBOS.list_workflows()],
            "by_status": ids(DBOS.list_workflows(status="ERROR")),
            "by_status_list": ids(DBOS.list_workflows(status=["SUCCESS", "ERROR"])),
            "by_name": ids(DBOS.list_workflows(name=good.__qualname__)),
            "by_ids": ids(DBOS.list_workflows(workflow_ids=["list-good-2", "list-bad-0", "missing"])),
            "limit": ids(DBOS.list_workflows(limit=2)),
            "offset": ids(DBOS.list_workflows(limit=2, offset=1)),
            "desc": ids(DBOS.list_workflows(sort_desc=True)),
            "desc_limit": ids(DBOS.list_workflows(sort_desc=True, limit=1)),
            "no_match": ids(DBOS.list_workflows(status="PENDING")),
        }
    """,
    {'all': [{'id': 'list-good-0',
              'status': 'SUCCESS',
              'name': 'good',
              'input': {'args': [0], 'kwargs': {}},
              'output': 0,
              'error': None},
             {'id': 'list-good-1',
              'status': 'SUCCESS',
              'name': 'good',
              'input': {'args': [1], 'kwargs': {}},
              'output': 2,
              'error': None},
             {'id': 'list-good-2',
              'status': 'SUCCESS',
              'name': 'good',
              'input': {'args': [2], 'kwargs': {}},
              'output': 4,
              'error': None},
             {'id': 'list-bad-0',
              'status': 'ERROR',
              'name': 'bad',
              'input': {'args': [0], 'kwargs': {}},
              'output': None,
              'error': {'type': 'ValueError', 'message': 'bad 0'}}],
     'by_status': ['list-bad-0'],
     'by_status_list': ['list-good-0', 'list-good-1', 'list-good-2', 'list-bad-0'],
     'by_name': ['list-good-0', 'list-good-1', 'list-good-2'],
     'by_ids': ['list-good-2', 'list-bad-0'],
     'limit': ['list-good-0', 'list-good-1'],
     'offset': ['list-good-1', 'list-good-2'],
     'desc': ['list-bad-0', 'list-good-2', 'list-good-1', 'list-good-0'],
     'desc_limit': ['list-bad-0'],
     'no_match': []},
)

case(
    "list_workflows_without_input_or_output",
    "tests/test_workflow_introspection.py::test_list_workflow (load_input, load_output)",
    _SUMMARY + """
    @DBOS.workflow()
    def workflow(a, b=2):
        return {"sum": a + b}

    def scenario():
        with SetWorkflowID("loaded"):
            workflow(1, b=5)
        return {
            "full": summary(DBOS.list_workflows(workflow_ids=["loaded"])[0]),
            "no_input": summary(DBOS.list_workflows(workflow_ids=["loaded"], load_input=False)[0]),
            "no_output": summary(DBOS.list_workflows(workflow_ids=["loaded"], load_output=False)[0]),
        }
    """,
    {'full': {'id': 'loaded',
              'status': 'SUCCESS',
              'name': 'workflow',
              'input': {'args': [1], 'kwargs': {'b': 5}},
              'output': {'sum': 6},
              'error': None},
     'no_input': {'id': 'loaded',
                  'status': 'SUCCESS',
                  'name': 'workflow',
                  'input': None,
                  'output': {'sum': 6},
                  'error': None},
     'no_output': {'id': 'loaded',
                   'status': 'SUCCESS',
                   'name': 'workflow',
                   'input': {'args': [1], 'kwargs': {'b': 5}},
                   'output': None,
                   'error': None}},
)

case(
    "list_children_by_parent",
    "tests/test_workflow_introspection.py::test_list_workflow (DBOS 2.x filters: parent_workflow_id, has_parent)",
    """
    @DBOS.workflow()
    def child(x):
        return x

    @DBOS.workflow()
    def parent():
        return [child(1), DBOS.start_workflow(child, 2).get_result()]

    def scenario():
        with SetWorkflowID("list-parent"):
            parent()
        ids = lambda found: sorted(s.workflow_id for s in found)
        statuses = {s.workflow_id: s.parent_workflow_id for s in DBOS.list_workflows()}
        return {
            "parents": statuses,
            "by_parent": ids(DBOS.list_workflows(parent_workflow_id="list-parent")),
            "has_parent": ids(DBOS.list_workflows(has_parent=True)),
            "top_level": ids(DBOS.list_workflows(has_parent=False)),
        }
    """,
    {'parents': {'list-parent': None, 'list-parent-1': 'list-parent', 'list-parent-3': 'list-parent'},
     'by_parent': ['list-parent-1', 'list-parent-3'],
     'has_parent': ['list-parent-1', 'list-parent-3'],
     'top_level': ['list-parent']},
)

case(
    "list_workflow_steps_records",
    "tests/test_workflow_introspection.py::test_callchild_first_sync, test_list_steps_errors, test_list_2steps_sleep",
    """
    @DBOS.step()
    def ok(x):
        return x + 1

    @DBOS.step()
    def fails():
        raise KeyError("missing")

    @DBOS.workflow()
    def child():
        return "child"

    @DBOS.workflow()
    def workflow():
        ok(1)
        try:
            fails()
        except KeyError:
            pass
        child()
        handle = DBOS.start_workflow(child)
        handle.get_result()
        DBOS.sleep(0.01)
        DBOS.set_event("e", 1)
        return "done"

    def scenario():
        with SetWorkflowID("steps-of"):
            workflow()
        steps = DBOS.list_workflow_steps("steps-of")
        return {
            # DBOS.sleep's output is its wake-up time: compared as "a number".
            "steps": [[s["function_id"], s["function_name"].split(".")[-1],
                       type(s["output"]).__name__ if s["function_name"] == "DBOS.sleep" else s["output"],
                       None if s["error"] is None else describe_error(s["error"]),
                       s["child_workflow_id"]] for s in steps],
            "missing": DBOS.list_workflow_steps("no-such-workflow"),
        }
    """,
    {'steps': [[1, 'ok', 2, None, None],
               [2, 'fails', None, {'type': 'KeyError', 'message': "'missing'"}, None],
               [3, 'child', None, None, 'steps-of-3'],
               [4, 'getResult', 'child', None, 'steps-of-3'],
               [5, 'child', None, None, 'steps-of-5'],
               [6, 'getResult', 'child', None, 'steps-of-5'],
               [7, 'sleep', 'float', None, None],
               [8, 'setEvent', None, None, None]],
     'missing': []},
)

case(
    "workflow_status_fields",
    "tests/test_workflow_introspection.py::test_list_workflow (every field), test_get_workflow",
    """
    @DBOS.workflow()
    def child():
        return DBOS.workflow_id

    @DBOS.workflow()
    def parent(a, *, b):
        child()
        return a + b

    def scenario():
        with SetWorkflowID("status-fields"):
            parent(1, b=2)
        status = DBOS.get_workflow_status("status-fields")
        kid = DBOS.get_workflow_status("status-fields-1")
        return {
            "parent": [status.workflow_id, status.status, status.name.split(".")[-1], status.class_name,
                       status.config_name, status.input, status.output, status.error,
                       status.parent_workflow_id, status.queue_name, status.authenticated_user,
                       status.assumed_role, status.authenticated_roles, status.workflow_timeout_ms,
                       status.workflow_deadline_epoch_ms, status.recovery_attempts],
            "times": [isinstance(status.created_at, int), isinstance(status.updated_at, int),
                      status.created_at <= status.updated_at],
            "child": [kid.workflow_id, kid.parent_workflow_id, kid.output],
            "missing": DBOS.get_workflow_status("no-such-workflow"),
        }
    """,
    {'parent': ['status-fields',
                'SUCCESS',
                'parent',
                None,
                None,
                {'args': [1], 'kwargs': {'b': 2}},
                3,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                1],
     'times': [True, True, True],
     'child': ['status-fields-1', 'status-fields', 'status-fields-1'],
     'missing': None},
)

case(
    "custom_workflow_and_step_names",
    "tests/test_workflow_introspection.py::test_list_workflow (names), test_list_2steps_sleep (step names)",
    """
    @DBOS.step(name="custom-step")
    def step():
        return DBOS.step_id

    @DBOS.workflow(name="custom-workflow")
    def workflow():
        return step()

    def scenario():
        with SetWorkflowID("named"):
            result = workflow()
        steps = DBOS.list_workflow_steps("named")
        return {"result": result, "name": DBOS.get_workflow_status("named").name,
                "step_names": [s["function_name"] for s in steps],
                "listed_by_name": [s.workflow_id for s in DBOS.list_workflows(name="custom-workflow")]}
    """,
    {'result': 1, 'name': 'custom-workflow', 'step_names': ['custom-step'], 'listed_by_name': ['named']},
)

case(
    "cancel_a_finished_workflow",
    "tests/test_workflow_management.py::test_cancel_resume (cancel and resume after completion)",
    """
    @DBOS.workflow()
    def workflow(x):
        runs.hit("workflow")
        return x

    def scenario():
        out = {}
        with SetWorkflowID("finished-1"):
            workflow(3)
        DBOS.cancel_workflow("finished-1")
        out["status_after_cancel"] = DBOS.get_workflow_status("finished-1").status
        out["result"] = DBOS.retrieve_workflow("finished-1").get_result()
        out["resume"] = DBOS.resume_workflow("finished-1").get_result()
        out["runs"] = runs.snapshot()
        return out
    """,
    {'status_after_cancel': 'SUCCESS', 'result': 3, 'resume': 3, 'runs': {'workflow': 1}},
)

case(
    "cancel_and_resume_missing_workflows",
    "tests/test_workflow_management.py::test_restart (a non-existent id)",
    """
    def scenario():
        out = {}
        for name, call in (("cancel", lambda: DBOS.cancel_workflow("no-such-workflow")),
                           ("resume", lambda: DBOS.resume_workflow("no-such-workflow")),
                           ("fork", lambda: DBOS.fork_workflow("no-such-workflow", 1))):
            try:
                result = call()
                out[name] = "no error" if result is None else type(result).__name__
            except Exception as exc:
                out[name] = describe_error(exc)
        return out
    """,
    {'cancel': 'no error',
     'resume': {'type': 'DBOSNonExistentWorkflowError',
                'message': 'DBOS Error 5: Non-existent target workflow ID: no-such-workflow'},
     'fork': {'type': 'DBOSNonExistentWorkflowError',
              'message': 'DBOS Error 5: Non-existent target workflow ID: no-such-workflow'}},
)

case(
    "cancel_stops_at_the_next_step",
    "tests/test_workflow_management.py::test_cancel_resume (steps after the cancel do not run)",
    """
    entered = threading.Event()
    release = threading.Event()

    @DBOS.step()
    def step(n):
        runs.hit(f"step{n}")
        return n

    @DBOS.workflow()
    def workflow():
        step(1)
        entered.set()
        release.wait(5)
        step(2)
        step(3)
        return "finished"

    def scenario():
        out = {}
        with SetWorkflowID("cancel-mid"):
            handle = DBOS.start_workflow(workflow)
        entered.wait(5)
        DBOS.cancel_workflow("cancel-mid")
        release.set()
        try:
            handle.get_result()
            out["result"] = "no error"
        except Exception as exc:
            out["result"] = type(exc).__name__
        out["status"] = handle.get_status().status
        out["runs_after_cancel"] = runs.snapshot()
        out["resumed"] = DBOS.resume_workflow("cancel-mid").get_result()
        out["runs"] = runs.snapshot()
        out["steps"] = [s["function_id"] for s in DBOS.list_workflow_steps("cancel-mid")]
        return out
    """,
    {'result': 'DBOSAwaitedWorkflowCancelledError',
     'status': 'CANCELLED',
     'runs_after_cancel': {'step1': 1},
     'resumed': 'finished',
     'runs': {'step1': 1, 'step2': 1, 'step3': 1},
     'steps': [1, 2, 3]},
)

case(
    "resume_a_failed_workflow",
    "tests/test_workflow_management.py::test_cancel_resume (resume of a workflow that failed)",
    """
    should_fail = [True]

    @DBOS.step()
    def flaky():
        runs.hit("flaky")
        if should_fail[0]:
            raise RuntimeError("flaky failed")
        return "ok"

    @DBOS.workflow()
    def workflow():
        runs.hit("workflow")
        return flaky()

    def scenario():
        out = {}
        with SetWorkflowID("failed-then-resumed"):
            try:
                workflow()
            except RuntimeError as exc:
                out["first"] = describe_error(exc)
        should_fail[0] = False
        try:
            out["resumed"] = DBOS.resume_workflow("failed-then-resumed").get_result()
        except Exception as exc:
            out["resumed"] = describe_error(exc)
        out["status"] = DBOS.get_workflow_status("failed-then-resumed").status
        out["runs"] = runs.snapshot()
        return out
    """,
    {'first': {'type': 'RuntimeError', 'message': 'flaky failed'},
     'resumed': {'type': 'RuntimeError', 'message': 'flaky failed'},
     'status': 'ERROR',
     'runs': {'flaky': 1, 'workflow': 1}},
)

case(
    "fork_assigned_id_and_status",
    "tests/test_workflow_management.py::test_restart_fromsteps_stepsonly (SetWorkflowID on a fork, forked_from)",
    """
    @DBOS.step()
    def add(x, n):
        runs.hit(f"step{n}")
        return x + n

    @DBOS.workflow()
    def workflow(x):
        return add(x, 1) + add(x, 2)

    def scenario():
        with SetWorkflowID("fork-original"):
            workflow(10)
        with SetWorkflowID("fork-copy"):
            handle = DBOS.fork_workflow("fork-original", 2)
        result = handle.get_result()
        status = DBOS.get_workflow_status("fork-copy")
        return {
            "id": handle.workflow_id,
            "result": result,
            "status": [status.status, status.input, status.forked_from],
            "original_forked_from": DBOS.get_workflow_status("fork-original").forked_from,
            "listed": [s.workflow_id for s in DBOS.list_workflows(forked_from="fork-original")],
            "steps": [s["function_id"] for s in DBOS.list_workflow_steps("fork-copy")],
            "runs": runs.snapshot(),
        }
    """,
    {'id': 'fork-copy',
     'result': 23,
     'status': ['SUCCESS', {'args': [10], 'kwargs': {}}, 'fork-original'],
     'original_forked_from': None,
     'listed': ['fork-copy'],
     'steps': [1, 2],
     'runs': {'step1': 1, 'step2': 2}},
)

case(
    "fork_past_the_last_step",
    "tests/test_workflow_management.py::test_restart_fromsteps_steps_tr (start_step past the end)",
    """
    @DBOS.step()
    def step():
        runs.hit("step")
        return 1

    @DBOS.workflow()
    def workflow():
        runs.hit("workflow")
        return step() + step()

    def scenario():
        with SetWorkflowID("fork-beyond"):
            workflow()
        forked = DBOS.fork_workflow("fork-beyond", 10)
        return {"result": forked.get_result(), "runs": runs.snapshot()}
    """,
    {'result': 2, 'runs': {'step': 2, 'workflow': 2}},
)

case(
    "fork_reuses_child_results",
    "tests/test_workflow_management.py::test_restart_fromsteps_childwf (children before the fork point)",
    """
    @DBOS.workflow()
    def child(n):
        runs.hit("child")
        return n * 10

    @DBOS.step()
    def step(n):
        runs.hit("step")
        return n

    @DBOS.workflow()
    def parent():
        return [child(1), step(2), child(3)]

    def scenario():
        with SetWorkflowID("fork-parent"):
            original = parent()
        forked = DBOS.fork_workflow("fork-parent", 2)
        return {"original": original, "forked": forked.get_result(), "runs": runs.snapshot()}
    """,
    {'original': [10, 2, 30], 'forked': [10, 2, 30], 'runs': {'child': 3, 'step': 2}},
)

case(
    "fork_waits_for_children_started_before_the_fork_point",
    "tests/test_workflow_management.py::test_restart_fromsteps_childwf (started and enqueued children, waited after the fork point)",
    """
    from dbos import Queue
    queue = Queue("fork-queue")

    @DBOS.workflow()
    def child(n):
        runs.hit(f"child {n}")
        return n * 10

    @DBOS.step()
    def step(n):
        runs.hit("step")
        return n

    @DBOS.workflow()
    def parent():
        started = DBOS.start_workflow(child, 1)
        queued = queue.enqueue(child, 2)
        mark = step(3)
        return [started.get_workflow_id(), queued.get_workflow_id(), started.get_result(), queued.get_result(), mark, child(4)]

    def scenario():
        out = {}
        with SetWorkflowID("fp"):
            out["original"] = parent()
        forked = DBOS.fork_workflow("fp", 3)
        out["forked"] = [id_shape(x) if isinstance(x, str) and x.startswith(forked.workflow_id) else x
                         for x in forked.get_result()]
        out["fork steps"] = [(s["function_id"], s["function_name"], s["child_workflow_id"] if s["child_workflow_id"] is None or s["child_workflow_id"].startswith("fp") else id_shape(s["child_workflow_id"]))
                             for s in DBOS.list_workflow_steps(forked.workflow_id)]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'original': ['fp-1', 'fp-2', 10, 20, 3, 40],
     'forked': ['fp-1', 'fp-2', 10, 20, 3, 40],
     'fork steps': [[1, 'child', 'fp-1'], [2, 'child', 'fp-2'], [3, 'step', None], [4, 'DBOS.getResult', 'fp-1'],
                    [5, 'DBOS.getResult', 'fp-2'], [6, 'child', '<uuid>-6'], [7, 'DBOS.getResult', '<uuid>-6']],
     'runs': {'child 1': 1, 'child 2': 1, 'child 4': 2, 'step': 2}},
)

case(
    "resume_a_pending_workflow_runs_it_once",
    "tests/test_workflow_management.py::test_cancel_resume (resume of a workflow still running)",
    """
    entered = threading.Event()
    release = threading.Event()

    @DBOS.workflow()
    def workflow():
        runs.hit("workflow")
        entered.set()
        release.wait(5)
        return "done"

    def scenario():
        with SetWorkflowID("resume-running"):
            handle = DBOS.start_workflow(workflow)
        entered.wait(5)
        resumed = DBOS.resume_workflow("resume-running")
        release.set()
        return {"handle": handle.get_result(), "resumed": resumed.get_result(),
                "status": handle.get_status().status}
    """,
    {'handle': 'done', 'resumed': 'done', 'status': 'SUCCESS'},
)
