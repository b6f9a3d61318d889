"""shim.cron: verdicts, macros, names, errors that name the bad field, and fire times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shim.cron import (
    CronError,
    Exact,
    ExactWithOffset,
    NotExpressible,
    Verdict,
    next_fire_times,
    offset_delta,
    parse,
    to_resonate,
)

START = datetime(2025, 1, 1, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("dbos", "cron"),
    [
        ("* * * * *", "* * * * *"),
        ("0 * * * * *", "* * * * *"),
        ("0 0 9 * * mon-fri", "0 9 * * 1-5"),
        ("0 */15 * * * *", "*/15 * * * *"),
        ("0 0 12 1 JAN-Mar *", "0 12 1 1-3 *"),
        ("0 30 2 ? * SUN", "30 2 * * 0"),
        ("0 0 * * 7", "0 0 * * 0"),
        ("0 0 0 * * 7", "0 0 * * 0"),  # DBOS 2.x never fires this one; Sunday is meant
        ("0 0 0 * * fri-sun", "0 0 * * 0,5,6"),
        ("0 0 0 L * *", "0 0 L * *"),
        ("0 0 0 15,L * *", "0 0 15,L * *"),
        ("0 0 0 * * fri#2", "0 0 * * 5#2"),
        ("0 0 0 * * L5", "0 0 * * L5"),
        ("0 0 0 1,15 * mon", "0 0 1,15 * 1"),  # both restricted: either matches
        ("0 0 0 1-31 * mon", "0 0 * * *"),  # ... so a full day-of-month means every day
        ("0 0 0 */2 * mon", "0 0 1-31/2 * 1"),  # no leading '*' in a restricted day field
        ("0 0 0 0 * *", "0 0 1 * *"),  # DBOS reads day 0 as 1 in the 6-field form
        ("0 0 0 * * * *", "0 0 * * *"),
        ("0 0 0 * * * 1970-2099", "0 0 * * *"),
    ],
)
def test_exact(dbos: str, cron: str) -> None:
    assert to_resonate(dbos) == Exact(cron)
    assert to_resonate(dbos).verdict is Verdict.EXACT


@pytest.mark.parametrize(
    ("macro", "cron"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_macros(macro: str, cron: str) -> None:
    assert to_resonate(macro) == Exact(cron)


def test_names_are_case_insensitive() -> None:
    assert to_resonate("0 0 * jan,JUL Mon-fri") == to_resonate("0 0 * 1,7 1-5") == Exact("0 0 * 1,7 1-5")


def test_single_seconds_value_is_an_offset() -> None:
    conversion = to_resonate("30 */5 * * * *")
    assert conversion == ExactWithOffset("*/5 * * * *", 30)
    assert conversion.verdict is Verdict.EXACT_WITH_OFFSET
    assert offset_delta(conversion) == timedelta(seconds=30)
    assert offset_delta(to_resonate("@hourly")) == timedelta()


@pytest.mark.parametrize(
    ("dbos", "words"),
    [
        ("* * * * * *", "60 times a minute (every second)"),
        ("*/10 * * * * *", "6 times a minute (at seconds */10)"),
        ("0,30 * * * * *", "2 times a minute (at seconds 0,30)"),
        ("0 0 0 * * * 2030", "years 2030"),
        ("R 0 * * * *", "random"),
        ("0 0 0 1 * fri#2", "'#' or 'L' day-of-week"),
    ],
)
def test_not_expressible(dbos: str, words: str) -> None:
    conversion = to_resonate(dbos)
    assert isinstance(conversion, NotExpressible)
    assert conversion.verdict is Verdict.NOT_EXPRESSIBLE
    assert words in conversion.reason


def test_results_are_frozen() -> None:
    with pytest.raises(AttributeError):
        to_resonate("@hourly").cron = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("dbos", "field", "position", "text", "words"),
    [
        ("60 * * * *", "minute", 1, "60", "out of range 0-59"),
        ("0 24 * * *", "hour", 2, "24", "out of range 0-23"),
        ("0 0 32 * *", "day-of-month", 3, "32", "out of range 1-31"),
        ("0 0 0 * * *  ", None, None, None, None),  # valid: trailing blanks
        ("0 0 * 13 *", "month", 4, "13", "out of range 1-12"),
        ("0 0 * * 8", "day-of-week", 5, "8", "out of range 0-7"),
        ("0 0 * JANX *", "month", 4, "JANX", "JAN-DEC"),
        ("0 0 * * MUN", "day-of-week", 5, "MUN", "SUN-SAT"),
        ("0 22-2 * * *", "hour", 2, "22-2", "wrap-around"),
        ("0 0 * * sat-mon", "day-of-week", 5, "sat-mon", "wrap-around"),
        ("*/0 * * * * *", "second", 1, "*/0", "step must not be 0"),
        ("0 0 15W * *", "day-of-month", 3, "15W", "'W'"),
        ("0 0 ? * ?", None, None, None, None),  # valid
        ("? 0 * * *", "minute", 1, "?", "only in day-of-month and day-of-week"),
        ("0 0 * * 1#6", "day-of-week", 5, "1#6", "1-5"),
        ("0 0 * * 1#2,3", "day-of-week", 5, "1#2,3", "cannot mix"),
        ("H * * * *", "minute", 1, "H", "hash id"),
        ("0 0 -1 * *", "day-of-month", 3, "-1", "negative"),
        ("0 0 L-2 * *", "day-of-month", 3, "L-2", "not a valid value"),
        ("1,,2 * * * *", "minute", 1, "1,,2", "not a valid value"),
        ("0 0 0 0 * * *", "day-of-month", 4, "0", "out of range 1-31"),
        ("0 0 0 * * * 2100", "year", 7, "2100", "out of range 1970-2099"),
    ],
)
def test_errors_name_the_bad_field(
    dbos: str, field: str | None, position: int | None, text: str | None, words: str | None
) -> None:
    if field is None:
        parse(dbos)
        return
    with pytest.raises(CronError) as caught:
        parse(dbos)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.field, error.position, error.text) == (field, position, text)
    assert f"{field} field (field {position} of" in str(error) and repr(text) in str(error)
    assert words in str(error)


@pytest.mark.parametrize(
    ("dbos", "words"),
    [
        ("1 2 3", "got 3"),
        ("", "got 0"),
        ("0 0 0 * * * * *", "got 8"),
        ("@reboot", "unknown macro"),
        ("@daily ", "unknown macro"),  # DBOS rejects a macro with blanks around it
    ],
)
def test_shape_errors(dbos: str, words: str) -> None:
    with pytest.raises(CronError, match=words):
        parse(dbos)


def test_fire_times_are_utc_second_precise_and_strictly_after_start() -> None:
    times = next_fire_times("15 30 9 * * mon-fri", 3, START)
    assert times == [
        datetime(2025, 1, 1, 9, 30, 15, tzinfo=UTC),
        datetime(2025, 1, 2, 9, 30, 15, tzinfo=UTC),
        datetime(2025, 1, 3, 9, 30, 15, tzinfo=UTC),
    ]
    assert all(t.tzinfo is UTC for t in times)
    assert next_fire_times("0 * * * *", 1, datetime(2025, 1, 1, 10, 0))[0] == datetime(2025, 1, 1, 11, 0, tzinfo=UTC)


def test_fire_times_of_sub_minute_schedules() -> None:
    assert next_fire_times("*/20 * * * * *", 4, START) == [START + timedelta(seconds=s) for s in (20, 40, 60, 80)]


def test_fire_times_convert_an_aware_start_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert next_fire_times("0 0 * * *", 1, datetime(2025, 1, 1, 0, 30, tzinfo=paris)) == [
        datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
    ]


def test_fire_times_end_when_the_schedule_does() -> None:
    assert next_fire_times("0 0 0 1 1 * 2025", 5, datetime(2024, 6, 1, tzinfo=UTC)) == [START]
    assert next_fire_times("0 0 30 2 *", 3, START) == []


def test_random_fields_have_no_fire_times() -> None:
    with pytest.raises(CronError, match="R in the minute field"):
        next_fire_times("R * * * *", 1, START)


def test_day_of_month_or_day_of_week() -> None:
    times = next_fire_times("0 0 1,15 * mon", 6, START)
    assert [t.day for t in times] == [6, 13, 15, 20, 27, 1]
