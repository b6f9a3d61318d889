'''Ported cases: role-based security (tests/test_classdecorators.py::test_required_roles, tests/test_auth.py).'''

from __future__ import annotations

from tests.dbos_suite.program import case

case(
    "required_roles_refuse_and_assume",
    "tests/test_classdecorators.py::test_required_roles_class (required_roles, default_required_roles, "
    "DBOSNotAuthorizedError, assumed_role)",
    """
    from dbos import DBOSContextSetAuth

    def seen():
        return [DBOS.authenticated_user, DBOS.authenticated_roles, DBOS.assumed_role]

    @DBOS.workflow()
    @DBOS.required_roles(["admin"])
    def admin_only():
        runs.hit("admin_only")
        return seen()

    @DBOS.required_roles(["admin", "user"])
    @DBOS.workflow()
    def admin_or_user():
        runs.hit("admin_or_user")
        return [seen(), guarded_step()]

    @DBOS.step()
    @DBOS.required_roles(["user"])
    def guarded_step():
        return seen()

    @DBOS.workflow()
    def calls_guarded_step():
        return guarded_step()

    @DBOS.workflow()
    def calls_child():
        return [seen(), admin_only()]

    @DBOS.required_roles(["ops"])
    def plain():
        return seen()

    @DBOS.default_required_roles(["user"])
    class Guarded:
        @staticmethod
        @DBOS.workflow()
        def by_default():
            return seen()

        @staticmethod
        @DBOS.workflow()
        @DBOS.required_roles(["admin"])
        def overridden():
            return seen()

    def attempt(fn, *args):
        try:
            return fn(*args)
        except Exception as exc:
            return describe_error(exc)

    def scenario():
        out = {}
        out["no context"] = attempt(admin_only)
        out["step outside a workflow"] = attempt(guarded_step)
        out["plain no context"] = attempt(plain)
        with DBOSContextSetAuth("joe", ["user"]):
            out["user admin_only"] = attempt(admin_only)
            with SetWorkflowID("roles-user"):
                out["user admin_or_user"] = attempt(admin_or_user)
            out["user default"] = attempt(Guarded.by_default)
            out["user overridden"] = attempt(Guarded.overridden)
            out["user plain"] = attempt(plain)
            with SetWorkflowID("roles-started"):
                handle = DBOS.start_workflow(admin_only)
            out["started"] = attempt(handle.get_result)
            out["started status"] = handle.get_status().status
            with SetWorkflowID("roles-child"):
                out["child refused"] = attempt(calls_child)
        with DBOSContextSetAuth("ann", ["admin"]):
            with SetWorkflowID("roles-admin"):
                out["admin admin_only"] = attempt(admin_only)
            with SetWorkflowID("roles-admin-either"):
                out["admin admin_or_user"] = attempt(admin_or_user)
            with SetWorkflowID("roles-admin-child"):
                out["admin child"] = attempt(calls_child)
            with SetWorkflowID("roles-step-refused"):
                out["step refused"] = attempt(calls_guarded_step)
            out["admin overridden"] = attempt(Guarded.overridden)
            out["admin default"] = attempt(Guarded.by_default)
        with DBOSContextSetAuth("ops", ["ops"]):
            out["ops plain"] = attempt(plain)
        out["statuses"] = {s.workflow_id: [s.status, s.assumed_role] for s in DBOS.list_workflows()
                           if s.workflow_id.startswith("roles-")}
        out["runs"] = runs.snapshot()
        return out
    """,
    {'admin admin_only': ['ann', ['admin'], 'admin'],
     'admin admin_or_user': {'message': 'DBOS Error 8: Function guarded_step has required roles, but user is not '
                                        'authenticated for any of them',
                             'type': 'DBOSNotAuthorizedError'},
     'admin child': [['ann', ['admin'], None], ['ann', ['admin'], 'admin']],
     'admin default': {'message': 'DBOS Error 8: Function Guarded.by_default has required roles, but user is not '
                                  'authenticated for any of them',
                       'type': 'DBOSNotAuthorizedError'},
     'admin overridden': ['ann', ['admin'], 'admin'],
     'child refused': {'message': 'DBOS Error 8: Function admin_only has required roles, but user is not '
                                  'authenticated for any of them',
                       'type': 'DBOSNotAuthorizedError'},
     'no context': {'message': 'DBOS Error 8: Function admin_only requires a role, but was called in a context '
                               'without authentication information',
                    'type': 'DBOSNotAuthorizedError'},
     'ops plain': ['ops', ['ops'], 'ops'],
     'plain no context': {'message': 'DBOS Error 4: Could not execute workflow <NONE>: plain is not a registered '
                                     'workflow function',
                          'type': 'DBOSWorkflowFunctionNotFoundError'},
     'runs': {'admin_only': 2, 'admin_or_user': 2},
     'started': {'message': 'DBOS Error 8: Function admin_only has required roles, but user is not authenticated '
                            'for any of them',
                 'type': 'DBOSNotAuthorizedError'},
     'started status': 'ERROR',
     'statuses': {'roles-admin': ['SUCCESS', 'admin'],
                  'roles-admin-child': ['SUCCESS', None],
                  'roles-admin-child-1': ['SUCCESS', 'admin'],
                  'roles-admin-either': ['ERROR', 'admin'],
                  'roles-child': ['ERROR', None],
                  'roles-started': ['ERROR', None],
                  'roles-step-refused': ['ERROR', None],
                  'roles-user': ['SUCCESS', 'user']},
     'step outside a workflow': {'message': 'DBOS Error 4: Could not execute workflow <NONE>: guarded_step is '
                                            'not a registered workflow function',
                                 'type': 'DBOSWorkflowFunctionNotFoundError'},
     'step refused': {'message': 'DBOS Error 8: Function guarded_step has required roles, but user is not '
                                 'authenticated for any of them',
                      'type': 'DBOSNotAuthorizedError'},
     'user admin_only': {'message': 'DBOS Error 8: Function admin_only has required roles, but user is not '
                                    'authenticated for any of them',
                         'type': 'DBOSNotAuthorizedError'},
     'user admin_or_user': [['joe', ['user'], 'user'], ['joe', ['user'], 'user']],
     'user default': ['joe', ['user'], 'user'],
     'user overridden': {'message': 'DBOS Error 8: Function Guarded.overridden has required roles, but user is '
                                    'not authenticated for any of them',
                         'type': 'DBOSNotAuthorizedError'},
     'user plain': {'message': 'DBOS Error 4: Could not execute workflow <NONE>: plain is not a registered '
                               'workflow function',
                    'type': 'DBOSWorkflowFunctionNotFoundError'}},
)

case(
    "required_roles_queued_async_and_recovered",
    "tests/test_auth.py::test_roles_recovery (required roles checked when an enqueued or recovered workflow runs)",
    """
    from dbos import DBOSContextSetAuth, Queue

    queue = Queue("roles-queue")

    def seen():
        return [DBOS.authenticated_user, DBOS.authenticated_roles, DBOS.assumed_role]

    @DBOS.required_roles(["admin"])
    @DBOS.workflow()
    def queued():
        runs.hit("queued")
        return seen()

    @DBOS.required_roles(["admin"])
    @DBOS.workflow()
    async def async_admin():
        return seen()

    interrupt = [True]

    @DBOS.step()
    def interrupted_once():
        if interrupt[0]:
            raise KeyboardInterrupt

    @DBOS.workflow()
    @DBOS.required_roles(["ops", "admin"])
    def recovered():
        interrupted_once()
        return seen()

    def attempt(fn, *args):
        try:
            return fn(*args)
        except Exception as exc:
            return describe_error(exc)

    def scenario():
        out = {}
        with DBOSContextSetAuth("joe", ["user"]):
            with SetWorkflowID("roles-queued-user"):
                handle = queue.enqueue(queued)
            out["queued as user"] = attempt(handle.get_result)
            out["async as user"] = attempt(lambda: asyncio.run(async_admin()))
        with DBOSContextSetAuth("ann", ["admin"]):
            with SetWorkflowID("roles-queued-admin"):
                handle = queue.enqueue(queued)
            out["queued as admin"] = attempt(handle.get_result)
            with SetWorkflowID("roles-async-admin"):
                out["async as admin"] = attempt(lambda: asyncio.run(async_admin()))
            with SetWorkflowID("roles-recovered"):
                try:
                    recovered()
                except KeyboardInterrupt:
                    interrupt[0] = False
        DBOS.destroy()
        DBOS(config=config)
        DBOS.launch()
        out["recovered"] = DBOS.retrieve_workflow("roles-recovered").get_result()
        out["statuses"] = {s.workflow_id: [s.status, s.assumed_role] for s in DBOS.list_workflows()
                           if s.workflow_id.startswith("roles-")}
        out["runs"] = runs.snapshot()
        return out
    """,
    {'async as admin': ['ann', ['admin'], 'admin'],
     'async as user': {'message': 'DBOS Error 8: Function async_admin has required roles, but user is not '
                                  'authenticated for any of them',
                       'type': 'DBOSNotAuthorizedError'},
     'queued as admin': ['ann', ['admin'], 'admin'],
     'queued as user': {'message': 'DBOS Error 8: Function queued has required roles, but user is not '
                                   'authenticated for any of them',
                        'type': 'DBOSNotAuthorizedError'},
     'recovered': ['ann', ['admin'], 'admin'],
     'runs': {'queued': 1},
     'statuses': {'roles-async-admin': ['SUCCESS', 'admin'],
                  'roles-queued-admin': ['SUCCESS', None],
                  'roles-queued-user': ['ERROR', None],
                  'roles-recovered': ['SUCCESS', 'admin']}},
)
