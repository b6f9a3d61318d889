"""DBOS's step retry schedule as a Resonate retry policy: what D2R104 writes in ``ctx.options(retry_policy=...)``.

DBOS runs a step with ``retries_allowed=True`` at most ``max_attempts`` times and waits
``min(interval_seconds * backoff_rate**(k-1), 3600)`` seconds before retry k (dbos/_core.py, ``on_exception``).
Resonate asks its policy for the wait before retry k (``next(k)``, k >= 1; None stops) and sleeps that many
seconds, fractions included. Its built-in ``Constant`` and ``Exponential`` take whole seconds, so they are
written where they give DBOS's waits exactly; any other schedule uses ``StepRetries``, a small class the
module gets once (a :class:`HelperBlock`), which computes DBOS's formula itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from codemod import build
from codemod.rules._helpers import HelperBlock

DBOS_MAX_RETRY_INTERVAL = 3600  # DBOS caps a step's retry wait at one hour
POLICY_CLASS = "StepRetries"
PARAMETERS = ("interval_seconds", "max_attempts", "backoff_rate")
DBOS_DEFAULTS: dict[str, float] = {"interval_seconds": 1.0, "max_attempts": 3, "backoff_rate": 2.0}

_TEMPLATE = f'''
@dataclass(frozen=True, slots=True)
class {POLICY_CLASS}:
    """A Resonate retry policy that reproduces DBOS's step retries (``@DBOS.step(retries_allowed=True, ...)``).

    The step runs at most ``max_attempts`` times; before retry k it waits
    ``interval_seconds * backoff_rate**(k-1)`` seconds, at most an hour, as DBOS does.
    """

    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0

    def next(self, attempt: int) -> float | None:
        """Seconds to wait before retry ``attempt`` (1 is the first retry), or None when the runs are used up."""
        if attempt >= self.max_attempts:
            return None
        return min(self.interval_seconds * self.backoff_rate ** (attempt - 1), {DBOS_MAX_RETRY_INTERVAL}.0)
'''

RETRY_HELPERS = HelperBlock("dbos2resonate.retry_helpers", _TEMPLATE, {"dataclass": ("dataclasses", "dataclass")})


@dataclass(frozen=True, slots=True)
class Policy:
    """The ``retry_policy=`` a converted step call gets."""

    expression: cst.BaseExpression | None  # None: none, the instance default Never() (DBOS does not retry)
    sdk_class: str | None = None  # the resonate.retry class the expression builds
    uses_helper: bool = False  # the expression builds StepRetries (the module gets the class)
    todo: str | None = None


NO_RETRIES = Policy(None)


def exact_policy(interval: float, attempts: int, backoff: float) -> Policy:
    """The policy for literal parameters: ``Constant``/``Exponential`` where they are exact, else the helper."""
    retries = attempts - 1
    if retries <= 0:
        return NO_RETRIES
    first = min(interval, DBOS_MAX_RETRY_INTERVAL)
    capped_from_the_start = interval >= DBOS_MAX_RETRY_INTERVAL and backoff >= 1
    every_wait_the_same = backoff == 1 or retries == 1 or interval == 0 or capped_from_the_start
    if every_wait_the_same and float(first).is_integer() and first >= 0:
        return Policy(build.call("Constant", _kwarg("delay", int(first)), _kwarg("max_retries", retries)), "Constant")
    start = interval / backoff if backoff > 1 else 0.0
    if float(backoff).is_integer() and float(start).is_integer() and start > 0:
        # Exponential waits min(delay * factor**k, max_delay) before retry k: DBOS's waits when delay = interval/backoff
        return Policy(build.call(
            "Exponential",
            _kwarg("delay", int(start)),
            _kwarg("factor", int(backoff)),
            _kwarg("max_retries", retries),
            _kwarg("max_delay", DBOS_MAX_RETRY_INTERVAL),
        ), "Exponential")
    values = {"interval_seconds": interval, "max_attempts": attempts, "backoff_rate": backoff}
    return helper_policy({k: _number(v) for k, v in values.items()})


def helper_policy(arguments: dict[str, cst.BaseExpression]) -> Policy:
    return Policy(helper_call(arguments), uses_helper=True)


def helper_call(arguments: dict[str, cst.BaseExpression]) -> cst.Call:
    """``StepRetries(...)`` with DBOS's three parameters, each as given or DBOS's default."""
    args = [build.kwarg(p, arguments[p] if p in arguments else _number(DBOS_DEFAULTS[p])) for p in PARAMETERS]
    return build.call(POLICY_CLASS, *args)


@dataclass(frozen=True, slots=True)
class DecoratorRetries:
    """A ``@DBOS.step(...)``'s retry arguments as written, when a policy can take them unchanged."""

    retries_allowed: bool
    arguments: dict[str, cst.BaseExpression]  # interval_seconds / max_attempts / backoff_rate as given

    def literal_values(self) -> tuple[float, int, float] | None:
        """(interval, attempts, backoff) when every given argument is a number literal."""
        values = dict(DBOS_DEFAULTS)
        for key, expr in self.arguments.items():
            if not isinstance(expr, (cst.Integer, cst.Float)):
                return None
            values[key] = expr.evaluated_value
        attempts = values["max_attempts"]
        if not float(attempts).is_integer():
            return None
        return values["interval_seconds"], int(attempts), values["backoff_rate"]


def decorator_retries(decorator: cst.Decorator) -> DecoratorRetries | str:
    """The retry arguments of ``@DBOS.step(...)``, or why no policy can take them."""
    call = decorator.decorator
    if not isinstance(call, cst.Call):
        return DecoratorRetries(False, {})
    allowed = False
    arguments: dict[str, cst.BaseExpression] = {}
    for arg in call.args:
        key = arg.keyword.value if arg.keyword is not None else None
        if key is None:
            return "DBOS retry parameters are given with * or **: this call runs with the instance default Never()"
        if key == "should_retry":
            return ("DBOS's should_retry decides on each exception; a Resonate retry policy sees only the attempt "
                    "number, so this call runs with the instance default Never()")
        if key == "retries_allowed":
            if not (isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False")):
                return "retries_allowed is not a literal: this call runs with the instance default Never()"
            allowed = arg.value.value == "True"
        elif key in PARAMETERS:
            arguments[key] = arg.value
    return DecoratorRetries(allowed, arguments)


def step_decorator(module: cst.Module, step: str, is_step: Callable[[cst.Decorator], bool]) -> cst.Decorator | None:
    """The ``@DBOS.step`` decorator of the module-level function ``step``, if the module defines it."""
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == step:
            return next((d for d in stmt.decorators if is_step(d)), None)
    return None


def hoisted(name: str, policy: cst.BaseExpression) -> cst.SimpleStatementLine:
    """``name = policy`` under a comment saying why it sits at module level."""
    why = cst.EmptyLine(comment=cst.Comment(
        "# the step's retry parameters, evaluated once where DBOS's decorator evaluated them"))
    return cst.SimpleStatementLine(
        [cst.Assign([cst.AssignTarget(cst.Name(name))], policy)],
        leading_lines=(cst.EmptyLine(), cst.EmptyLine(), why),
    )


def insert_after_definitions(module: cst.Module, after: dict[str, cst.BaseStatement]) -> cst.Module:
    """``module`` with ``after[name]`` just after the module-level ``def name``."""
    body: list[cst.BaseStatement] = []
    for stmt in module.body:
        body.append(stmt)
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value in after:
            body.append(after[stmt.name.value])
    return module.with_changes(body=body)


def _number(value: float) -> cst.BaseExpression:
    if isinstance(value, int) and not isinstance(value, bool):
        return cst.Integer(str(value))
    return cst.Float(repr(float(value)))


def _kwarg(key: str, value: int) -> cst.Arg:
    return build.kwarg(key, cst.Integer(str(value)))

