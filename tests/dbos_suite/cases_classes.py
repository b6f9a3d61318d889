'''Ported cases: workflows and steps on classes and instances (tests/test_classdecorators.py).'''

from __future__ import annotations

from tests.dbos_suite.program import case

case(
    "instance_steps_and_status_names",
    "tests/test_classdecorators.py::test_simple_workflow_inst (class_name, config_name, steps)",
    """
    @DBOS.dbos_class()
    class Account(DBOSConfiguredInstance):
        def __init__(self, owner):
            self.owner = owner
            super().__init__(owner)

        @DBOS.step()
        def greet(self, x):
            runs.hit(f"greet-{self.owner}")
            return f"{self.owner}:{x}"

        @DBOS.workflow()
        def run(self, x):
            return [self.greet(x), DBOS.workflow_id]

    alice = Account("alice")
    bob = Account("bob")

    def scenario():
        out = {}
        with SetWorkflowID("inst-alice"):
            out["alice"] = alice.run(1)
        with SetWorkflowID("inst-bob"):
            out["bob"] = DBOS.start_workflow(bob.run, 2).get_result()
        with SetWorkflowID("inst-alice"):
            out["alice_again"] = alice.run(3)
        status = DBOS.get_workflow_status("inst-bob")
        out["status"] = [status.name.split(".")[-1], status.class_name, status.config_name]
        out["outside"] = alice.greet("direct")
        out["steps"] = [s["function_name"].split(".")[-1] for s in DBOS.list_workflow_steps("inst-alice")]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'alice': ['alice:1', 'inst-alice'],
     'bob': ['bob:2', 'inst-bob'],
     'alice_again': ['alice:1', 'inst-alice'],
     'status': ['run', 'Account', 'bob'],
     'outside': 'alice:direct',
     'steps': ['greet'],
     'runs': {'greet-alice': 2, 'greet-bob': 1}},
)

case(
    "class_and_static_steps",
    "tests/test_classdecorators.py::test_simple_workflow_static, test_simple_workflow_class (steps)",
    """
    @DBOS.dbos_class()
    class Tools:
        @staticmethod
        @DBOS.step()
        def double(x):
            runs.hit("double")
            return x * 2

        @classmethod
        @DBOS.step()
        def name(cls):
            runs.hit("name")
            return cls.__name__

        @classmethod
        @DBOS.workflow()
        def run(cls, x):
            return [cls.double(x), cls.name(), DBOS.workflow_id]

    def scenario():
        out = {}
        with SetWorkflowID("class-steps"):
            out["first"] = Tools.run(4)
        with SetWorkflowID("class-steps"):
            out["again"] = Tools.run(5)
        status = DBOS.get_workflow_status("class-steps")
        out["status"] = [status.name.split(".")[-1], status.class_name, status.config_name]
        out["runs"] = runs.snapshot()
        return out
    """,
    {'first': [8, 'Tools', 'class-steps'],
     'again': [8, 'Tools', 'class-steps'],
     'status': ['run', 'Tools', None],
     'runs': {'double': 1, 'name': 1}},
)

case(
    "custom_class_names",
    "tests/test_classdecorators.py::test_simple_workflow_inst (a class registered under another name)",
    """
    @DBOS.dbos_class("CustomName")
    class Renamed(DBOSConfiguredInstance):
        def __init__(self):
            super().__init__("only")

        @DBOS.workflow()
        def work(self):
            return "worked"

    instance = Renamed()

    def scenario():
        with SetWorkflowID("renamed-1"):
            result = instance.work()
        status = DBOS.get_workflow_status("renamed-1")
        return {"result": result, "status": [status.name.split(".")[-1], status.class_name, status.config_name]}
    """,
    {'result': 'worked', 'status': ['work', 'CustomName', 'only']},
)

case(
    "instance_workflows_send_and_events",
    "tests/test_classdecorators.py::test_inst_recovery (messaging from instance workflows)",
    """
    @DBOS.dbos_class()
    class Mailbox(DBOSConfiguredInstance):
        def __init__(self, name):
            super().__init__(name)

        @DBOS.workflow()
        def receive(self):
            message = DBOS.recv("mail", timeout_seconds=10)
            DBOS.set_event("got", message)
            return f"{self.config_name}:{message}"

    box = Mailbox("box-1")

    def scenario():
        with SetWorkflowID("mailbox-1"):
            handle = DBOS.start_workflow(box.receive)
        DBOS.send("mailbox-1", "hello", "mail")
        return {"result": handle.get_result(), "event": DBOS.get_event("mailbox-1", "got")}
    """,
    {'result': 'box-1:hello', 'event': 'hello'},
)

case(
    "async_instance_workflows",
    "tests/test_classdecorators.py::test_simple_workflow_inst (async methods)",
    """
    @DBOS.dbos_class()
    class Doubler(DBOSConfiguredInstance):
        def __init__(self, factor):
            self.factor = factor
            super().__init__(f"factor-{factor}")

        @DBOS.step()
        async def scale(self, x):
            runs.hit("scale")
            return x * self.factor

        @DBOS.workflow()
        async def run(self, x):
            return await self.scale(x)

    three = Doubler(3)

    async def scenario():
        with SetWorkflowID("async-inst"):
            first = await three.run(2)
        with SetWorkflowID("async-inst"):
            again = await three.run(5)
        handle = await DBOS.start_workflow_async(three.run, 7)
        status = await handle.get_status()
        return {"first": first, "again": again, "started": await handle.get_result(),
                "config_name": status.config_name, "runs": runs.snapshot()}
    """,
    {'first': 6, 'again': 6, 'started': 21, 'config_name': 'factor-3', 'runs': {'scale': 2}},
)
