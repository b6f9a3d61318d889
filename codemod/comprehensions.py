"""Generator expressions that a consumer reads to the end at once, so they may become list comprehensions.

``sum(charge(x) for x in xs)`` in a workflow runs a step per item; migrated, each step is ``await ctx.run``,
and an ``await`` would make the generator expression asynchronous, which ``sum`` cannot read. When the consumer
exhausts the generator before doing anything else with it (``sum``, ``list``, ``sorted``, ``", ".join`` ...),
a list comprehension is the same program: the items are produced in the same order, the first exception stops
it at the same item. ``any``, ``all``, ``next``, ``zip``, ``map`` and user functions read lazily, so their
generator expressions are left alone (the rules leave a TODO in them).
"""

from __future__ import annotations

from collections.abc import Collection

import libcst as cst

# builtin -> keyword arguments it may take without reading the generator lazily (sorted materialises it first)
EAGER_BUILTINS: dict[str, frozenset[str]] = {
    "sum": frozenset(), "list": frozenset(), "tuple": frozenset(), "set": frozenset(), "frozenset": frozenset(),
    "dict": frozenset(), "sorted": frozenset({"key", "reverse"}), "min": frozenset({"default"}),
    "max": frozenset({"default"}),
}


def eagerly_consumed(call: cst.Call, shadowed: Collection[str]) -> cst.GeneratorExp | None:
    """The generator expression ``call`` reads to the end before anything else, if it has one."""
    if not call.args or call.args[0].keyword is not None or call.args[0].star:
        return None
    value = call.args[0].value
    if not isinstance(value, cst.GeneratorExp):
        return None
    func = call.func
    if isinstance(func, cst.Name) and func.value in EAGER_BUILTINS and func.value not in shadowed:
        allowed = EAGER_BUILTINS[func.value]
    elif isinstance(func, cst.Attribute) and func.attr.value == "join" and isinstance(func.value, cst.SimpleString):
        allowed = frozenset()  # str.join builds a sequence of its argument before joining
    else:
        return None
    rest = call.args[1:]
    if any(a.keyword is None or a.keyword.value not in allowed for a in rest):
        return None
    return value


class _FindAwait(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Await(self, node: cst.Await) -> bool:
        self.found = True
        return False


def contains_await(node: cst.CSTNode) -> bool:
    finder = _FindAwait()
    node.visit(finder)
    return finder.found


def as_list_comprehension(genexp: cst.GeneratorExp) -> cst.ListComp:
    """``[elt for ...]``: the brackets take the place of the generator's own parentheses, if it had any."""
    return cst.ListComp(elt=genexp.elt, for_in=genexp.for_in)


def lazily_read_todo(fn: str, durable_call: str) -> str:
    """The TODO for ``fn`` called in a generator expression read lazily, where ``durable_call`` cannot go."""
    return (f"`{fn}` is called in a generator expression that is read lazily, where `{durable_call}` cannot go: "
            "write it as a loop (or a list comprehension, if every item may run)")
