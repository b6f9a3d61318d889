'''Ported cases: workflow ids, context, arguments and timeouts (tests/test_dbos.py, tests/test_async.py).'''

from __future__ import annotations

from tests.dbos_suite.program import case

case(
    "set_workflow_id_nests_and_restores",
    "tests/test_dbos.py::test_start_workflow (SetWorkflowID scopes)",
    """
    @DBOS.workflow()
    def workflow():
        return DBOS.workflow_id

    def scenario():
        out = {}
        with SetWorkflowID("outer"):
            with SetWorkflowID("inner"):
                out["inner"] = workflow()
            out["outer_after_inner"] = id_shape(workflow())
        out["unset"] = id_shape(workflow())
        with SetWorkflowID("only-next"):
            out["first_in_block"] = workflow()
            out["second_in_block"] = id_shape(workflow())
        with SetWorkflowID("outer-unused"):
            with SetWorkflowID("inner-unused"):
                pass
            out["after_unused_inner"] = workflow()
        for bad in ("", "   "):
            try:
                SetWorkflowID(bad)
            except Exception as exc:
                out[f"invalid {bad!r}"] = describe_error(exc)
        return out
    """,
    {'inner': 'inner',
     'outer_after_inner': '<uuid>',
     'unset': '<uuid>',
     'first_in_block': 'only-next',
     'second_in_block': '<uuid>',
     'after_unused_inner': 'inner-unused',
     "invalid ''": {'type': 'DBOSException',
                    'message': "DBOS Error: Invalid workflow ID '': workflow IDs must be non-empty and cannot be "
                               'only whitespace.'},
     "invalid '   '": {'type': 'DBOSException',
                       'message': "DBOS Error: Invalid workflow ID '   ': workflow IDs must be non-empty and "
                                  'cannot be only whitespace.'}},
)

case(
    "context_inside_steps_and_outside",
    "tests/test_dbos.py::test_simple_workflow (DBOS.workflow_id and step_id in steps)",
    """
    @DBOS.step()
    def inner():
        return [DBOS.workflow_id, DBOS.step_id]

    @DBOS.step()
    def outer():
        return [DBOS.workflow_id, DBOS.step_id, inner()]

    @DBOS.workflow()
    def workflow():
        return [DBOS.step_id, outer(), inner(), DBOS.step_status]

    def scenario():
        with SetWorkflowID("context-1"):
            result = workflow()
        return {"result": result, "outside": [DBOS.workflow_id, DBOS.step_id, DBOS.step_status],
                "steps": [s["function_id"] for s in DBOS.list_workflow_steps("context-1")]}
    """,
    {'result': [None, ['context-1', 1, ['context-1', 1]], ['context-1', 2], None],
     'outside': [None, None, None],
     'steps': [1, 2]},
)

case(
    "workflow_inputs_as_recorded",
    "tests/test_workflow_introspection.py::test_list_workflow (input)",
    """
    @DBOS.workflow()
    def workflow(a, b=2, *rest, c, d=4, **extra):
        return [a, b, rest, c, d, extra]

    def scenario():
        with SetWorkflowID("inputs-1"):
            result = workflow(1, 5, 6, 7, c=3, e=9)
        with SetWorkflowID("inputs-2"):
            defaults = workflow(1, c=3)
        return {
            "result": [result[0], result[1], list(result[2]), result[3], result[4], result[5]],
            "defaults": [defaults[0], defaults[1], list(defaults[2]), defaults[3], defaults[4], defaults[5]],
            "input": DBOS.get_workflow_status("inputs-1").input["kwargs"],
            "args": list(DBOS.get_workflow_status("inputs-1").input["args"]),
            "defaults_input": [list(DBOS.get_workflow_status("inputs-2").input["args"]),
                               DBOS.get_workflow_status("inputs-2").input["kwargs"]],
        }
    """,
    {'result': [1, 5, [6, 7], 3, 4, {'e': 9}],
     'defaults': [1, 2, [], 3, 4, {}],
     'input': {'c': 3, 'e': 9},
     'args': [1, 5, 6, 7],
     'defaults_input': [[1], {'c': 3}]},
)

case(
    "values_keep_their_python_types",
    "tests/test_dbos.py::test_simple_workflow (pickled values: tuples, sets, classes)",
    """
    import dataclasses
    import datetime
    import decimal

    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    @DBOS.step()
    def make():
        return (1, 2), {3, 4}, Point(1, 2), datetime.date(2024, 1, 2), decimal.Decimal("1.5"), b"raw"

    @DBOS.workflow()
    def workflow(point):
        values = make()
        return values + (point,)

    def scenario():
        with SetWorkflowID("types-1"):
            first = workflow(Point(5, 6))
        with SetWorkflowID("types-1"):
            again = workflow(Point(7, 8))
        output = DBOS.get_workflow_status("types-1").output
        describe = lambda values: [type(v).__name__ for v in values] + [repr(v) for v in values]
        return {"first": describe(first), "same": first == again == output,
                "input": repr(DBOS.get_workflow_status("types-1").input["args"][0])}
    """,
    {'first': ['tuple',
               'set',
               'Point',
               'date',
               'Decimal',
               'bytes',
               'Point',
               '(1, 2)',
               '{3, 4}',
               'Point(x=1, y=2)',
               'datetime.date(2024, 1, 2)',
               "Decimal('1.5')",
               "b'raw'",
               'Point(x=5, y=6)'],
     'same': True,
     'input': 'Point(x=5, y=6)'},
)

case(
    "same_id_different_workflow_conflicts",
    "tests/test_dbos.py::test_start_workflow (an id reused by another workflow function)",
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
        with SetWorkflowID("shared-id"):
            try:
                out["second"] = second()
            except Exception as exc:
                out["second"] = describe_error(exc)
        with SetWorkflowID("shared-id"):
            try:
                out["started"] = DBOS.start_workflow(second).get_result()
            except Exception as exc:
                out["started"] = describe_error(exc)
        out["runs"] = runs.snapshot()
        return out
    """,
    {'first': 'first',
     'second': {'type': 'DBOSConflictingWorkflowError',
                'message': 'DBOS Error 9: Conflicting workflow invocation with the same ID (shared-id): Workflow '
                           'already exists with a different function name: first, but the provided function name '
                           'is: second'},
     'started': {'type': 'DBOSConflictingWorkflowError',
                 'message': 'DBOS Error 9: Conflicting workflow invocation with the same ID (shared-id): '
                            'Workflow already exists with a different function name: first, but the provided '
                            'function name is: second'},
     'runs': {'first': 1}},
)

case(
    "timeout_fields_and_child_deadlines",
    "tests/test_dbos.py::test_workflow_timeout (status fields, children of a timed-out parent)",
    """
    from dbos import SetWorkflowTimeout

    @DBOS.workflow()
    def blocked():
        while True:
            DBOS.sleep(0.05)

    @DBOS.workflow()
    def parent():
        with SetWorkflowID("deadline-start-child"):
            DBOS.start_workflow(blocked)
        with SetWorkflowID("deadline-direct-child"):
            blocked()

    @DBOS.workflow()
    def quick():
        return "quick"

    def scenario():
        out = {}
        before_ms = time.time() * 1000
        with SetWorkflowTimeout(0.2):
            handle = DBOS.start_workflow(blocked)
            status = handle.get_status()
            out["fields"] = [status.workflow_timeout_ms, status.workflow_deadline_epoch_ms > before_ms]
            try:
                handle.get_result()
            except Exception as exc:
                out["started"] = type(exc).__name__
            with SetWorkflowID("deadline-parent"):
                try:
                    parent()
                except Exception as exc:
                    out["parent"] = type(exc).__name__
            with SetWorkflowID("quick-with-timeout"):
                out["quick"] = quick()
        for child in ("deadline-start-child", "deadline-direct-child"):
            status = DBOS.get_workflow_status(child)
            out[child] = [status.status, status.workflow_timeout_ms, status.workflow_deadline_epoch_ms is not None]
        quick_status = DBOS.get_workflow_status("quick-with-timeout")
        out["quick_status"] = [quick_status.status, quick_status.workflow_timeout_ms]
        return out
    """,
    {'fields': [200, True],
     'started': 'DBOSAwaitedWorkflowCancelledError',
     'parent': 'DBOSAwaitedWorkflowCancelledError',
     'quick': 'quick',
     'deadline-start-child': ['CANCELLED', None, True],
     'deadline-direct-child': ['CANCELLED', None, True],
     'quick_status': ['SUCCESS', 200]},
)

case(
    "step_started_as_a_workflow",
    "tests/test_async.py::test_async_workflow (start_workflow on a step); tests/test_dbos.py::test_temp_workflow",
    """
    @DBOS.step()
    def step(x):
        runs.hit("step")
        return [x, DBOS.workflow_id, DBOS.step_id]

    @DBOS.step()
    async def async_step(x):
        runs.hit("async_step")
        return [x, DBOS.step_id]

    def scenario():
        out = {}
        with SetWorkflowID("temp-1"):
            handle = DBOS.start_workflow(step, "a")
        out["result"] = handle.get_result()
        with SetWorkflowID("temp-1"):
            out["again"] = DBOS.start_workflow(step, "b").get_result()
        with SetWorkflowID("temp-async"):
            out["async"] = DBOS.start_workflow(async_step, "c").get_result()
        status = DBOS.get_workflow_status("temp-1")
        out["status"] = [status.name.replace(step.__qualname__, "step"), status.status, status.output]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'result': ['a', 'temp-1', 1],
     'again': ['a', 'temp-1', 1],
     'async': ['c', 1],
     'status': ['<temp>.step', 'SUCCESS', ['a', 'temp-1', 1]],
     'runs': {'async_step': 1, 'step': 1}},
)

case(
    "sleep_and_run_step_outside_a_workflow",
    "tests/test_dbos.py::test_sleep (outside a workflow), test_temp_workflow (run_step outside)",
    """
    def plain(x):
        runs.hit("plain")
        return [x, DBOS.workflow_id, DBOS.step_id]

    def scenario():
        out = {}
        try:
            DBOS.sleep(0.01)
            out["sleep"] = "slept"
        except Exception as exc:
            out["sleep"] = describe_error(exc)
        out["run_step"] = DBOS.run_step({}, plain, 1)
        out["runs"] = runs.snapshot()
        out["listed"] = len(DBOS.list_workflows())
        return out
    """,
    {'sleep': {'type': 'DBOSException', 'message': 'DBOS Error: sleep() must be called from within a workflow'},
     'run_step': [1, None, None],
     'runs': {'plain': 1},
     'listed': 0},
)

case(
    "workflow_called_from_a_step",
    "tests/test_dbos.py::test_child_workflow (a workflow called inside a step)",
    """
    @DBOS.workflow()
    def inner():
        runs.hit("inner")
        return id_shape(DBOS.workflow_id)

    @DBOS.step()
    def step():
        return inner()

    @DBOS.workflow()
    def outer():
        return step()

    def scenario():
        out = {}
        with SetWorkflowID("calls-from-step"):
            try:
                out["result"] = outer()
            except Exception as exc:
                out["result"] = describe_error(exc)
        out["workflows"] = sorted(id_shape(s.workflow_id) for s in DBOS.list_workflows())
        out["runs"] = runs.snapshot()
        return out
    """,
    {'result': {'type': 'AssertionError', 'message': ''}, 'workflows': ['calls-from-step'], 'runs': {}},
)

case(
    "workflow_started_or_enqueued_from_a_step",
    "tests/test_dbos.py::test_child_workflow (start_workflow and Queue.enqueue inside a step)",
    """
    from dbos import Queue

    queue = Queue("from-step-queue")

    @DBOS.workflow()
    def inner():
        runs.hit("inner")
        return 1

    @DBOS.step()
    def starts():
        return DBOS.start_workflow(inner).get_result()

    @DBOS.step()
    def enqueues():
        return queue.enqueue(inner).get_result()

    @DBOS.workflow()
    def outer(which):
        return starts() if which == "start" else enqueues()

    def scenario():
        out = {}
        for which in ("start", "enqueue"):
            with SetWorkflowID(f"from-step-{which}"):
                try:
                    out[which] = outer(which)
                except Exception as exc:
                    out[which] = describe_error(exc)
            out[which + " status"] = DBOS.get_workflow_status(f"from-step-{which}").status
        out["workflows"] = sorted(id_shape(s.workflow_id) for s in DBOS.list_workflows())
        out["runs"] = runs.snapshot()
        return out
    """,
    {'start': {'type': 'AssertionError', 'message': ''},
     'start status': 'ERROR',
     'enqueue': {'type': 'AssertionError', 'message': ''},
     'enqueue status': 'ERROR',
     'workflows': ['from-step-enqueue', 'from-step-start'],
     'runs': {}},
)

case(
    "authentication_recorded_and_inherited",
    "tests/test_auth.py::test_roles_recovery (DBOSContextSetAuth, set_authentication, status fields, recovery)",
    """
    from dbos import DBOSContextEnsure, DBOSContextSetAuth

    def auth_now():
        return [DBOS.authenticated_user, DBOS.authenticated_roles, DBOS.assumed_role]

    @DBOS.step()
    def step_sees():
        return auth_now()

    @DBOS.workflow()
    def child():
        return auth_now()

    @DBOS.workflow()
    def parent():
        seen = {"body": auth_now(), "step": step_sees(), "child": child()}
        DBOS.set_authentication("changed", ["r"])
        seen["after set"] = auth_now()
        seen["child after set"] = child()
        return seen

    interrupt = [True]

    @DBOS.step()
    def interrupted_once():
        if interrupt[0]:
            raise KeyboardInterrupt

    @DBOS.workflow()
    def recovered():
        interrupted_once()
        return auth_now()

    def scenario():
        out = {}
        try:
            DBOS.authenticated_user
        except BaseException as exc:
            out["outside"] = describe_error(exc)
        with DBOSContextEnsure():
            out["ensured"] = auth_now()
        with DBOSContextSetAuth("alice", ["admin", "user"]):
            out["in block"] = auth_now()
            with SetWorkflowID("auth-parent"):
                out["parent"] = parent()
            DBOS.set_authentication("bob", [])
            with SetWorkflowID("auth-bob"):
                out["bob"] = child()
        with SetWorkflowID("auth-none"):
            out["in set id block"] = auth_now()
            out["none"] = child()
        out["statuses"] = {s.workflow_id: [s.authenticated_user, s.authenticated_roles, s.assumed_role]
                           for s in DBOS.list_workflows()}
        out["by user"] = sorted(s.workflow_id for s in DBOS.list_workflows(user="alice"))
        forked = DBOS.get_workflow_status(DBOS.fork_workflow("auth-parent", 1).workflow_id)
        out["forked"] = [forked.authenticated_user, forked.authenticated_roles, forked.assumed_role]
        with DBOSContextSetAuth("carol", ["ops"]), SetWorkflowID("auth-recovered"):
            try:
                recovered()
            except KeyboardInterrupt:
                interrupt[0] = False
        DBOS.destroy()
        DBOS(config=config)
        DBOS.launch()
        out["recovered"] = DBOS.retrieve_workflow("auth-recovered").get_result()
        return out
    """,
    {'bob': ['bob', [], None],
     'by user': ['auth-parent', 'auth-parent-2'],
     'ensured': [None, None, None],
     'forked': ['alice', ['admin', 'user'], None],
     'in block': ['alice', ['admin', 'user'], None],
     'in set id block': [None, None, None],
     'none': [None, None, None],
     'outside': {'message': 'No DBOS context found', 'type': 'AssertionError'},
     'parent': {'after set': ['changed', ['r'], None],
                'body': ['alice', ['admin', 'user'], None],
                'child': ['alice', ['admin', 'user'], None],
                'child after set': ['changed', ['r'], None],
                'step': ['alice', ['admin', 'user'], None]},
     'recovered': ['carol', ['ops'], None],
     'statuses': {'auth-bob': ['bob', None, None],
                  'auth-none': [None, None, None],
                  'auth-parent': ['alice', ['admin', 'user'], None],
                  'auth-parent-2': ['alice', ['admin', 'user'], None],
                  'auth-parent-4': ['changed', ['r'], None]}},
)
