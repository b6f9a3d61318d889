"""Small constructors for the Resonate expressions rules write (so every rule spells them the same way)."""

from __future__ import annotations

import libcst as cst

from codemod.transform import INSTANCE


def name(dotted: str) -> cst.BaseExpression:
    parts = dotted.split(".")
    node: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(node, cst.Name(part))
    return node


def call(func: str | cst.BaseExpression, *args: cst.Arg | cst.BaseExpression) -> cst.Call:
    f = name(func) if isinstance(func, str) else func
    return cst.Call(f, [a if isinstance(a, cst.Arg) else cst.Arg(a) for a in args])


def kwarg(key: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value,
        keyword=cst.Name(key),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )


def clean_args(args: tuple[cst.Arg, ...] | list[cst.Arg]) -> list[cst.Arg]:
    """Arguments re-used in a new call: the last one loses its trailing comma."""
    out = list(args)
    if out and out[-1].comma is not cst.MaybeSentinel.DEFAULT:
        out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return out


def ctx_run(fn: cst.BaseExpression, args: list[cst.Arg], policy: cst.BaseExpression | None = None) -> cst.Call:
    """``ctx.run(fn, *args)`` or ``ctx.options(retry_policy=P).run(fn, *args)``."""
    receiver: cst.BaseExpression = name("ctx")
    if policy is not None:
        receiver = call("ctx.options", kwarg("retry_policy", policy))
    return cst.Call(cst.Attribute(receiver, cst.Name("run")), [cst.Arg(fn), *clean_args(args)])


def new_id() -> cst.Call:
    """``str(uuid.uuid4())``: DBOS gives a workflow started without SetWorkflowID a fresh UUID."""
    return call("str", call("uuid.uuid4"))


def root_run(id_expr: cst.BaseExpression, fn: cst.BaseExpression, args: list[cst.Arg]) -> cst.Call:
    """``resonate.run(id, fn, *args)``."""
    return cst.Call(name(f"{INSTANCE}.run"), [cst.Arg(id_expr), cst.Arg(fn), *clean_args(args)])


def result_of(handle: cst.BaseExpression) -> cst.Call:
    """``handle.result()`` (a coroutine: await it)."""
    return cst.Call(cst.Attribute(handle, cst.Name("result")), [])
