"""Property tests: shim.cron against DBOS's own cron implementation (dbos._croniter, as its scheduler uses it).

For generated DBOS expressions:
- we reject exactly what DBOS rejects;
- EXACT / EXACT_WITH_OFFSET: the converted 5-field cron (read by croniter) plus the offset fires at DBOS's times;
- NOT_EXPRESSIBLE because of seconds: DBOS really fires more than once in some minute;
- next_fire_times equals DBOS's fire times.
Where DBOS 2.x misreads Sunday written as 7 (6/7-field forms), we check the standard meaning instead.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:  # dbos imports sqlite3 at package import; the system SQLite is too old for it
    import pysqlite3

    sys.modules.setdefault("sqlite3", pysqlite3)
except ImportError:  # pragma: no cover
    pass

from croniter import croniter as standard_croniter

from dbos._croniter import CroniterBadDateError as DbosBadDate
from dbos._croniter import croniter as dbos_croniter
from shim.cron import (
    CronError,
    Exact,
    ExactWithOffset,
    NotExpressible,
    next_fire_times,
    parse,
    to_resonate,
)

DBOS_DOW = 4  # index of day-of-week in DBOS's expanded fields
WINDOW = timedelta(days=366)
MAX_FIRES = 120

PROFILE = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- DBOS as the oracle ------------------------------------------------------------------------------------


def dbos_accepts(expression: str) -> bool:
    """What @DBOS.scheduled / DBOS.create_schedule accept."""
    return bool(dbos_croniter.is_valid(expression, second_at_beginning=True))


def dbos_fires(expression: str, start: datetime, limit: int = MAX_FIRES) -> list[datetime]:
    """DBOS's scheduler loop: croniter(expr, start, second_at_beginning=True).get_next, in [start, start+WINDOW)."""
    it = dbos_croniter(expression, start - timedelta(seconds=1), second_at_beginning=True)
    out: list[datetime] = []
    try:
        while len(out) < limit:
            t = it.get_next(datetime)
            if t >= start + WINDOW:
                break
            out.append(t.astimezone(UTC))
    except DbosBadDate:
        pass
    return out


def dbos_misreads_sunday(expression: str) -> bool:
    """DBOS 2.x keeps a day-of-week 7 as 7 in 6/7-field expressions and never matches it."""
    expanded, nth = dbos_croniter.expand(expression, second_at_beginning=True)
    return 7 in expanded[DBOS_DOW] and 0 not in expanded[DBOS_DOW] and not nth


def converted_fires(conversion: Exact | ExactWithOffset, start: datetime, limit: int = MAX_FIRES) -> list[datetime]:
    """Fire times on Resonate: the 5-field cron's minute ticks (read by croniter) plus the offset."""
    offset = timedelta(seconds=conversion.offset_seconds if isinstance(conversion, ExactWithOffset) else 0)
    it = standard_croniter(conversion.cron, start - offset - timedelta(minutes=1))
    out: list[datetime] = []
    try:
        while len(out) < limit:
            t = it.get_next(datetime) + offset
            if t >= start + WINDOW:
                break
            if t >= start:
                out.append(t.astimezone(UTC))
    except Exception as exc:  # croniter's "no next date" error
        if "failed to find" not in str(exc):
            raise
    return out


# --- expression generator ----------------------------------------------------------------------------------

MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec".split()
DAY_NAMES = "sun mon tue wed thu fri sat".split()


def cased(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.upper(), name.capitalize()])


def value(low: int, high: int, names: list[str] | None = None, first: int = 0) -> st.SearchStrategy[str]:
    numbers = st.integers(low, high).map(str)
    if not names:
        return numbers
    return st.one_of(numbers, st.integers(0, len(names) - 1).flatmap(lambda i: cased(names[i])))


def number_of(token: str, names: list[str] | None, first: int) -> int:
    return int(token) if token.isdigit() else names.index(token.lower()) + first  # type: ignore[union-attr]


@st.composite
def item(draw: st.DrawFn, low: int, high: int, names: list[str] | None = None, first: int = 0) -> str:
    """One list item: n, a-b, a-b/s, a/s, */s."""
    kind = draw(st.sampled_from(["value", "value", "range", "range_step", "start_step", "star_step"]))
    if kind == "value":
        return draw(value(low, high, names, first))
    if kind == "star_step":
        return f"*/{draw(st.integers(1, high - low + 1))}"
    a = draw(value(low, high, names, first))
    if kind == "start_step":
        return f"{a}/{draw(st.integers(1, high - low + 1))}"
    a_number = number_of(a, names, first)
    b = draw(value(a_number, high, names, first).filter(lambda t: number_of(t, names, first) >= a_number))
    step = f"/{draw(st.integers(1, high - low + 1))}" if kind == "range_step" else ""
    return f"{a}-{b}{step}"


def field(low: int, high: int, names: list[str] | None = None, first: int = 0, extras=()) -> st.SearchStrategy[str]:
    listed = st.lists(item(low, high, names, first), min_size=1, max_size=3).map(",".join)
    choices = [st.just("*"), listed, listed, *[st.just(e) for e in extras]]
    return st.one_of(*choices)


seconds_field = st.one_of(st.just("0"), st.integers(0, 59).map(str), field(0, 59))
minute_field = st.one_of(st.integers(0, 59).map(str), field(0, 59))
hour_field = field(0, 23)
dom_field = st.one_of(
    field(1, 31, extras=("?", "L")),
    st.tuples(st.integers(1, 31), st.just("L")).map(lambda t: f"{t[0]},{t[1]}"),
)
month_field = field(1, 12, MONTH_NAMES, first=1)
nth_field = st.one_of(
    st.tuples(value(0, 7, DAY_NAMES), st.integers(1, 5)).map(lambda t: f"{t[0]}#{t[1]}"),
    st.integers(0, 7).map(lambda d: f"L{d}"),
)
dow_field = st.one_of(
    field(0, 7, DAY_NAMES, extras=("?",)),
    st.lists(nth_field, min_size=1, max_size=2).map(",".join),
    st.sampled_from(["fri-sun", "5-0", "sat-SUN", "mon-fri", "MON-FRI"]),
)


@st.composite
def dbos_expressions(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from(["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"]))
    five = [draw(minute_field), draw(hour_field), draw(dom_field), draw(month_field), draw(dow_field)]
    layout = draw(st.sampled_from([5, 6, 6, 7]))
    if layout == 5:
        return " ".join(five)
    year = [draw(st.sampled_from(["*", "*", "2024-2099", "2025,2026"]))] if layout == 7 else []
    return " ".join([draw(seconds_field), *five, *year])


starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)

# Small edits that often turn a valid expression into one DBOS rejects (or into a different valid one).
MUTATIONS = [
    ("0", "60"), ("1", "32"), ("-", "--"), ("*", "**"), ("1", "0"), ("2", "13"), (",", ",,"), ("/", "/0"),
    ("L", "LW"), ("L", "15W"), ("mon", "mun"), ("1", "-1"), ("0", "H"), ("*", "?"), ("5", "5#6"),
]


@st.composite
def mutated_expressions(draw: st.DrawFn) -> str:
    expression = draw(dbos_expressions())
    for _ in range(draw(st.integers(1, 2))):
        old, new = draw(st.sampled_from(MUTATIONS))
        if old in expression:
            at = draw(st.sampled_from([i for i in range(len(expression)) if expression.startswith(old, i)]))
            expression = expression[:at] + new + expression[at + len(old) :]
    extra = draw(st.sampled_from(["", "", "", " 5", " * *", "3-1 ", "22-2 ", " ", "\t"]))
    return (extra + expression) if extra.endswith(" ") else expression + extra


# --- properties --------------------------------------------------------------------------------------------


@PROFILE
@given(st.one_of(dbos_expressions(), mutated_expressions()))
def test_accepts_exactly_what_dbos_accepts(expression: str) -> None:
    accepted = True
    try:
        parse(expression)
    except CronError:
        accepted = False
    assert accepted == dbos_accepts(expression), expression


@PROFILE
@given(dbos_expressions(), starts)
def test_converted_cron_fires_when_dbos_fires(expression: str, start: datetime) -> None:
    assert dbos_accepts(expression), expression
    conversion = to_resonate(expression)
    if dbos_misreads_sunday(expression):
        return  # checked against the standard meaning below
    dbos_times = dbos_fires(expression, start)
    if isinstance(conversion, NotExpressible):
        spec = parse(expression)
        if len(spec.second.values) > 1 and not spec.second.random and dbos_times:
            assert max(Counter(t.replace(second=0) for t in dbos_times).values()) > 1, expression
        return
    assert converted_fires(conversion, start) == dbos_times, (expression, conversion)


@PROFILE
@given(dbos_expressions(), starts)
def test_next_fire_times_match_dbos(expression: str, start: datetime) -> None:
    spec = parse(expression)
    if any(f.random for f in spec.fields) or dbos_misreads_sunday(expression):
        return
    if spec.day_of_week.nth and not spec.day_of_month.star:
        return  # DBOS cannot evaluate these (see test_cron.py)
    expected = dbos_fires(expression, start, limit=40)
    got = [t for t in next_fire_times(expression, 40, start - timedelta(seconds=1)) if t < start + WINDOW]
    assert got == expected, expression


# Day-of-week fields that DBOS 2.x misreads in 6-field form, each with a spelling it reads correctly.
SUNDAY_AS_SEVEN = {
    "7": "0",
    "5-7": "5,6,0",
    "fri-sun": "fri,sat,sun",
    "5-0": "5,6,0",
    "1/3": "1,4,0",
    "2-7/5": "2,0",
    "7,3": "0,3",
    "SAT-sun": "sat,sun",
}


@PROFILE
@given(
    st.tuples(seconds_field, minute_field, hour_field, st.sampled_from(["*", "?", "1-7", "L", "13"]), month_field),
    st.sampled_from(sorted(SUNDAY_AS_SEVEN)),
    starts,
)
def test_sunday_written_as_7_means_sunday(head: tuple[str, ...], dow: str, start: datetime) -> None:
    """DBOS 2.x never fires on a 6-field day-of-week 7; we give it the standard meaning, Sunday."""
    expression, standard = " ".join([*head, dow]), " ".join([*head, SUNDAY_AS_SEVEN[dow]])
    assert dbos_accepts(expression) and dbos_misreads_sunday(expression)
    expected = dbos_fires(standard, start, limit=30)
    got = [t for t in next_fire_times(expression, 30, start - timedelta(seconds=1)) if t < start + WINDOW]
    assert got == expected, expression
    conversion = to_resonate(expression)
    assert conversion == to_resonate(standard)
    if not isinstance(conversion, NotExpressible):
        assert "7" not in conversion.cron.split()[4]
        assert converted_fires(conversion, start, limit=30) == expected, (expression, conversion)


def test_dbos_really_misreads_sunday_as_7() -> None:
    """The difference the test above works around exists in the installed dbos (else drop the workaround)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(DbosBadDate):
        dbos_croniter("0 0 0 * * 7", start, second_at_beginning=True).get_next(datetime)
    weekend = dbos_fires("0 0 0 * * fri-sun", start, limit=6)
    assert {t.weekday() for t in weekend} == {4, 5}  # Friday, Saturday: no Sunday
    assert {t.weekday() for t in next_fire_times("0 0 0 * * fri-sun", 6, start)} == {4, 5, 6}
