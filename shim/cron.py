"""DBOS cron expressions: parse, convert for Resonate, list fire times.

One module for three callers: the shim's scheduler (when does a DBOS schedule fire?), the codemod (what
5-field cron goes into ``resonate.schedules.create``?) and the ``dbos2resonate cron`` command.

The rule every function here follows: accept exactly what DBOS 2.x accepts (``@DBOS.scheduled`` and
``DBOS.create_schedule`` validate with DBOS's bundled croniter, seconds first), and give it the standard
cron meaning where DBOS's parser is wrong (Sunday written as 7 in 6/7-field expressions; see
docs/cron.md). Parsing, validation and the conversion verdict are written here; fire times come from the
croniter package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum
from typing import ClassVar

from croniter import CroniterBadDateError, croniter

__all__ = [
    "LAST",
    "CronError",
    "CronSpec",
    "Conversion",
    "Exact",
    "ExactWithOffset",
    "Field",
    "NotExpressible",
    "Verdict",
    "croniter_text",
    "next_fire_times",
    "offset_delta",
    "parse",
    "to_resonate",
]


class CronError(ValueError):
    """An expression DBOS would reject. ``field``/``position``/``text`` name the bad field when there is one."""

    def __init__(
        self, message: str, *, field: str | None = None, position: int | None = None, text: str | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.position = position
        self.text = text


# --- grammar tables -----------------------------------------------------------------------------------

MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
WEEKDAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}

# DBOS (croniter) macros; DBOS never passes a hash id, so each means its plain 5-field form.
MACROS = {
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

LAST = -1  # the "n" of an nth-weekday item meaning "last in the month" (croniter's ``L5``)


@dataclass(frozen=True)
class _Kind:
    name: str
    low: int
    high: int  # largest value DBOS accepts (7 for day-of-week)
    size: int  # number of distinct values; a field covering them all is unrestricted


SECOND = _Kind("second", 0, 59, 60)
MINUTE = _Kind("minute", 0, 59, 60)
HOUR = _Kind("hour", 0, 23, 24)
DAY_OF_MONTH = _Kind("day-of-month", 1, 31, 31)
MONTH = _Kind("month", 1, 12, 12)
DAY_OF_WEEK = _Kind("day-of-week", 0, 7, 7)
YEAR = _Kind("year", 1970, 2099, 130)

LAYOUTS: dict[int, tuple[_Kind, ...]] = {
    5: (MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK),
    6: (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK),
    7: (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR),
}

_RANDOM = re.compile(r"^(?P<kind>[hr])(\((?P<begin>\d+)-(?P<end>\d+)\))?(/(?P<step>\d+))?$")
_NAMES = "|".join([*WEEKDAYS, *MONTHS])
_NTH = re.compile(rf"^(?:(?P<day>(?:{_NAMES})(?:-(?:{_NAMES}))?|\w+)#|(?P<last>l))(?P<n>\d+)$")
_RANGE = re.compile(r"^([^-]+)-([^-/]+)(?:/(\d+))?$")
_NUMBER = re.compile(r"^\d+$")


# --- parsed form ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field, with its standard meaning: day-of-week values are 0-6 (a written 7 is Sunday, 0)."""

    name: str
    position: int  # 1-based, in the expression as written (after macro expansion)
    text: str
    values: frozenset[int]  # the plain values matched; every value when ``star``
    star: bool  # unrestricted, in the sense that decides day-of-month/day-of-week OR
    last_day: bool = False  # day-of-month ``L``
    nth: frozenset[tuple[int, int]] = frozenset()  # day-of-week ``d#n`` / ``Ld``: (weekday, n or LAST)
    random: bool = False  # ``R``: DBOS draws a value each time its scheduler starts


@dataclass(frozen=True)
class CronSpec:
    """A parsed DBOS expression. ``second`` is ``0`` for 5-field input; ``year`` is None unless 7 fields."""

    expression: str
    second: Field
    minute: Field
    hour: Field
    day_of_month: Field
    month: Field
    day_of_week: Field
    year: Field | None
    field_count: int

    @property
    def fields(self) -> tuple[Field, ...]:
        rest = (self.minute, self.hour, self.day_of_month, self.month, self.day_of_week)
        return (self.second, *rest) + ((self.year,) if self.year else ())


# --- conversion results ----------------------------------------------------------------------------------


class Verdict(str, Enum):
    EXACT = "exact"
    EXACT_WITH_OFFSET = "exact_with_offset"
    NOT_EXPRESSIBLE = "not_expressible"


@dataclass(frozen=True)
class Exact:
    """The 5-field ``cron`` fires at exactly DBOS's times."""

    cron: str
    verdict: ClassVar[Verdict] = Verdict.EXACT


@dataclass(frozen=True)
class ExactWithOffset:
    """DBOS fires ``offset_seconds`` after each tick of the 5-field ``cron`` (a single seconds value != 0)."""

    cron: str
    offset_seconds: int
    verdict: ClassVar[Verdict] = Verdict.EXACT_WITH_OFFSET


@dataclass(frozen=True)
class NotExpressible:
    """No 5-field cron fires at DBOS's times; ``reason`` says why, for a person to read."""

    reason: str
    verdict: ClassVar[Verdict] = Verdict.NOT_EXPRESSIBLE


Conversion = Exact | ExactWithOffset | NotExpressible


# --- parsing ---------------------------------------------------------------------------------------------


def parse(expression: str) -> CronSpec:
    """Parse a DBOS cron expression, rejecting everything DBOS rejects; raise CronError naming the field."""
    if not isinstance(expression, str):
        raise CronError(f"a cron expression must be a string, not {type(expression).__name__}")
    text = expression.lower()
    if text.strip().startswith("@"):
        if text not in MACROS:  # DBOS matches a macro only when written alone, without blanks
            known = ", ".join(MACROS)
            raise CronError(f"unknown macro {expression!r}; DBOS accepts exactly one of {known}", text=expression)
        text = MACROS[text]
    parts = text.split()
    if len(parts) not in LAYOUTS:
        raise CronError(
            f"expected 5 fields (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 "
            f"(seconds first, year last); got {len(parts)} in {expression!r}"
        )
    layout = LAYOUTS[len(parts)]
    raw = dict(zip((k.name for k in layout), parts, strict=True))
    written = expression.split() if len(expression.split()) == len(parts) else parts  # for messages
    fields: dict[str, Field] = {}
    for position, (kind, part) in enumerate(zip(layout, parts, strict=True), start=1):
        parser = _FieldParser(kind, part, position, len(parts), written[position - 1])
        fields[kind.name] = parser.parse(raw)
    second = fields.get("second") or Field("second", 0, "0", frozenset({0}), star=False)
    return CronSpec(
        expression=expression,
        second=second,
        minute=fields["minute"],
        hour=fields["hour"],
        day_of_month=fields["day-of-month"],
        month=fields["month"],
        day_of_week=fields["day-of-week"],
        year=fields.get("year"),
        field_count=len(parts),
    )


class _FieldParser:
    """Reads one field the way DBOS's bundled croniter does, then states its standard meaning."""

    def __init__(self, kind: _Kind, part: str, position: int, count: int, written: str) -> None:
        self.kind, self.part, self.position, self.count, self.written = kind, part, position, count, written
        self.everything = frozenset(range(kind.low, kind.high + 1)) - ({7} if kind is DAY_OF_WEEK else set())

    def fail(self, why: str) -> CronError:
        return CronError(
            f"{self.kind.name} field (field {self.position} of {self.count}) {self.written!r}: {why}",
            field=self.kind.name,
            position=self.position,
            text=self.written,
        )

    def parse(self, raw: dict[str, str]) -> Field:
        kind, part = self.kind, self.part
        if random := _RANDOM.match(part):
            return self._random(random)
        if "?" in part:
            if part != "?":
                raise self.fail("'?' cannot be combined with anything else")
            if kind not in (DAY_OF_MONTH, DAY_OF_WEEK):
                raise self.fail("'?' is allowed only in day-of-month and day-of-week")
            return Field(kind.name, self.position, part, self.everything, star=True)
        if kind is DAY_OF_MONTH and "w" in part:
            raise self.fail("'W' (nearest weekday) is not accepted by DBOS 2.x")

        values: set[int] = set()  # as DBOS holds them: a 6/7-field day-of-week keeps 7 apart from 0
        nth: dict[int, set[int]] = {}
        star = last_day = False
        for item in part.split(","):
            if item == "*":
                star = True
            elif kind is DAY_OF_WEEK and (m := _NTH.match(item)):
                n = LAST if m["last"] else int(m["n"])
                if n != LAST and not 1 <= n <= 5:
                    raise self.fail(f"in {item!r} the occurrence must be 1-5")
                for day in self._values(m["n"] if m["last"] else m["day"]):
                    nth.setdefault(day, set()).add(n)
            elif kind is DAY_OF_MONTH and item == "l":
                last_day = True
            else:
                values |= self._values(item)
        if nth and values - nth.keys() and len(values | nth.keys()) != 7:
            raise self.fail("day-of-week cannot mix plain days with '#' or 'L' items (DBOS rejects it)")

        if nth:  # DBOS then fires on the '#'/'L' days only, whatever else the field lists
            pairs = frozenset((day % 7, n) for day, ns in nth.items() for n in ns)
            return Field(kind.name, self.position, part, frozenset(), star=False, nth=pairs)
        if kind is DAY_OF_WEEK:
            values = {v % 7 for v in values}
        # DBOS reads a field that lists as many values as the field has ('L' counts as one) as '*',
        # except that day-of-month and day-of-week stay restricted (for the OR rule) unless the other
        # one is written with a '*'.
        other = raw.get("day-of-week" if kind is DAY_OF_MONTH else "day-of-month", "*")
        if len(values) + last_day == kind.size and (kind not in (DAY_OF_MONTH, DAY_OF_WEEK) or "*" in other):
            star = True
        if star:
            return Field(kind.name, self.position, part, self.everything, star=True)
        return Field(kind.name, self.position, part, frozenset(values), star=False, last_day=last_day)

    def _random(self, m: re.Match[str]) -> Field:
        kind = self.kind
        if m["kind"] == "h":
            raise self.fail("'H' needs a hash id, which DBOS never passes (DBOS rejects it)")
        begin, end = (int(m["begin"]), int(m["end"])) if m["begin"] else (kind.low, kind.high)
        if m["begin"] and begin >= end:
            raise self.fail("in R(a-b), b must be greater than a")
        if m["step"] is not None and int(m["step"]) == 0:
            raise self.fail("step must not be 0")
        if begin < kind.low or end > kind.high:
            raise self.fail(f"R(a-b) must stay within {kind.low}-{kind.high}")
        return Field(kind.name, self.position, self.part, frozenset(), star=False, random=True)

    def _number(self, token: str) -> int:
        """One value: digits or, in month and day-of-week, a name."""
        if _NUMBER.match(token):
            return int(token)
        names = MONTHS if self.kind is MONTH else WEEKDAYS if self.kind is DAY_OF_WEEK else {}
        if token in names:
            return names[token]
        if token.startswith("-"):
            raise self.fail("negative numbers are not allowed")
        allowed = {MONTH: "a number or JAN-DEC", DAY_OF_WEEK: "a number or SUN-SAT"}.get(self.kind, "a number")
        raise self.fail(f"{token!r} is not a valid value (expected {allowed})")

    def _checked(self, value: int) -> int:
        """DBOS's own value map (day 0 is day 1 in 6-field form; 7 is 0 in 5-field form), then its bounds."""
        if self.kind is DAY_OF_MONTH and value == 0 and self.count == 6:
            value = 1
        if self.kind is DAY_OF_WEEK and value == 7 and self.count == 5:
            value = 0
        if not self.kind.low <= value <= self.kind.high:
            raise self.fail(f"{value} is out of range {self.kind.low}-{self.kind.high}")
        return value

    def _values(self, item: str) -> set[int]:
        """Values of one list item: n, a-b, a-b/s, a/s or */s."""
        kind = self.kind
        if item.startswith("*/"):
            item = f"{kind.low}-{kind.high}{item[1:]}"
        m = _RANGE.match(item)
        if not m and "/" in item:
            start, _, step_text = item.partition("/")
            m = _RANGE.match(f"{start}-{kind.high}/{step_text}")
            if not m:
                raise self.fail(f"{item!r} is not a valid step (write a/s, a-b/s or */s)")
        if not m:
            return {self._checked(self._number(item))}
        low_text, high_text, step_text = m[1], m[2], m[3]
        if kind is DAY_OF_MONTH and high_text == "l":
            high_text = "31"
        low, high = self._number(low_text), self._number(high_text)
        step = int(step_text) if step_text else 1
        if low > high:
            if kind is DAY_OF_WEEK and high == 0:
                high = 7  # 'fri-sun' and '5-0' mean 5-7, as DBOS reads them
            else:
                raise self.fail(f"range {low}-{high} runs backwards; DBOS rejects wrap-around ranges")
        if high > kind.high:
            raise self.fail(f"{high} is out of range {kind.low}-{kind.high}")
        if step == 0:
            raise self.fail("step must not be 0")
        return {self._checked(v) for v in range(low, high + 1, step)}


# --- conversion ------------------------------------------------------------------------------------------


def to_resonate(expression: str | CronSpec) -> Conversion:
    """The 5-field cron that fires at this DBOS expression's times, with a verdict; CronError if invalid."""
    spec = expression if isinstance(expression, CronSpec) else parse(expression)
    reasons = _inexpressible(spec)
    if reasons:
        return NotExpressible("; ".join(reasons))
    cron = " ".join(_canonical(spec)[1:6])
    (offset,) = spec.second.values
    return ExactWithOffset(cron, offset) if offset else Exact(cron)


def _inexpressible(spec: CronSpec) -> list[str]:
    reasons: list[str] = []
    randoms = [f.name for f in spec.fields if f.random]
    if randoms:
        reasons.append(
            f"R in the {', '.join(randoms)} field draws a new random value each time DBOS starts; "
            "write the value you want instead"
        )
    seconds = spec.second.values
    if len(seconds) > 1 and not spec.second.random:
        shown = "every second" if spec.second.star else "at seconds " + _compact(seconds, SECOND, star_steps=True)
        reasons.append(
            f"fires {len(seconds)} times a minute ({shown}); a 5-field cron fires at most once a minute"
        )
    if spec.year is not None and not spec.year.star and not spec.year.random:
        reasons.append(f"restricted to the years {spec.year.text}; a 5-field cron has no year field")
    dom, dow = spec.day_of_month, spec.day_of_week
    if dow.nth and not dom.star and not dom.random:
        reasons.append(
            "a restricted day-of-month together with a '#' or 'L' day-of-week: DBOS's scheduler cannot "
            "compute its fire times (it never fires), and cron has no portable form for it"
        )
    return reasons


def _canonical(spec: CronSpec) -> tuple[str, ...]:
    """Seven normalised fields (second ... year), numbers only, Sunday 0, no leading '*' in a restricted
    day field, so that any cron reader applies the day-of-month/day-of-week OR rule as DBOS does."""
    dom, dow = spec.day_of_month, spec.day_of_week
    every_day = (dom.star and dow.star) or (
        not dom.star
        and not dow.star
        and (dom.values | ({31} if dom.last_day else set()) == frozenset(range(1, 32)) or len(dow.values) == 7)
    )
    if every_day:
        dom_text = dow_text = "*"
    else:
        dom_text = "*" if dom.star else _day_of_month_text(dom)
        dow_text = "*" if dow.star else _day_of_week_text(dow)
    year = "*" if spec.year is None else _field_text(spec.year, YEAR)
    return (
        _field_text(spec.second, SECOND),
        _field_text(spec.minute, MINUTE),
        _field_text(spec.hour, HOUR),
        dom_text,
        _field_text(spec.month, MONTH),
        dow_text,
        year,
    )


def _field_text(field: Field, kind: _Kind) -> str:
    return "*" if field.star else _compact(field.values, kind, star_steps=True)


def _day_of_month_text(field: Field) -> str:
    if field.values | ({31} if field.last_day else set()) == frozenset(range(1, 32)):
        return "*"
    parts = [_compact(field.values, DAY_OF_MONTH)] if field.values else []
    return ",".join(parts + (["L"] if field.last_day else []))


def _day_of_week_text(field: Field) -> str:
    if field.nth:
        return ",".join(f"L{d}" if n == LAST else f"{d}#{n}" for d, n in sorted(field.nth))
    return "*" if len(field.values) == 7 else _compact(field.values, DAY_OF_WEEK)


def _compact(values: Iterable[int], kind: _Kind, star_steps: bool = False) -> str:
    """Shortest plain rendering: '*/s', 'a-b/s' for an even progression, 'a-b' for runs, else a list."""
    ordered = sorted(values)
    if len(ordered) >= 3:
        steps = {b - a for a, b in zip(ordered, ordered[1:])}
        if len(steps) == 1 and (step := steps.pop()) > 1:
            if star_steps and ordered[0] == kind.low and ordered[-1] + step > kind.high:
                return f"*/{step}"
            return f"{ordered[0]}-{ordered[-1]}/{step}"
    runs: list[list[int]] = []
    for value in ordered:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    out: list[str] = []
    for run in runs:
        out.extend([f"{run[0]}-{run[-1]}"] if len(run) >= 3 else map(str, run))
    return ",".join(out)


# --- fire times --------------------------------------------------------------------------------------------


def next_fire_times(
    expression: str | CronSpec, count: int, start: datetime | None = None, zone: tzinfo | None = None
) -> list[datetime]:
    """The next ``count`` times DBOS fires after ``start`` (default now), to the second.

    Follows DBOS's own timing (strictly after ``start``) with the standard meaning of the expression. The
    cron is read in ``zone`` (a schedule's ``cron_timezone``; default UTC) and the times are returned in it,
    as DBOS hands them to the workflow. Across a daylight-saving change the times are croniter's (see
    docs/cron.md): a wall time the clocks repeat fires at both instants; one they skip fires once at the
    jump if the hour field is restricted, and not at all under ``*`` hours. Returns fewer times if the expression stops firing (a year field, or a day that never
    comes). CronError if invalid or if it has no fixed fire times (``R``).
    """
    spec = expression if isinstance(expression, CronSpec) else parse(expression)
    random = [f.name for f in spec.fields if f.random]
    if random:
        raise CronError(f"R in the {', '.join(random)} field has no fixed fire times", field=random[0])
    if count < 0:
        raise ValueError("count must not be negative")
    start = datetime.now(UTC) if start is None else start
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    zone = UTC if zone is None else zone
    text = croniter_text(spec)
    # Converting from UTC sets ``fold`` on a repeated wall time, which croniter needs to go on from it.
    iterator = croniter(text, start.astimezone(zone), second_at_beginning=True, max_years_between_matches=10)
    times: list[datetime] = []
    try:
        for _ in range(count):
            times.append(iterator.get_next(datetime).astimezone(UTC).astimezone(zone))
    except CroniterBadDateError:
        pass
    return times


def croniter_text(spec: CronSpec) -> str:
    """The expression in the normalised form handed to croniter (seconds first; a year only if restricted)."""
    fields = _canonical(spec)
    return " ".join(fields if fields[6] != "*" else fields[:6])


def offset_delta(conversion: Conversion) -> timedelta:
    """The delay to add to each tick of the converted cron (zero unless EXACT_WITH_OFFSET)."""
    return timedelta(seconds=conversion.offset_seconds) if isinstance(conversion, ExactWithOffset) else timedelta()
