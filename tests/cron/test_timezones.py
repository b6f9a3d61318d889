"""Fire times of a schedule with ``cron_timezone``: shim.cron.next_fire_times(..., zone) across
daylight-saving changes.

DBOS reads a schedule's cron in its zone with its bundled croniter (a tz-aware start, then
``get_next`` over and over). That copy of croniter misfires around a change of offset (see
``test_dbos_misfires_around_a_daylight_saving_change``), so the shim follows the croniter package
instead, and these properties pin down what that means:

- tick by tick, as the scheduler walks a schedule (each tick computed from the previous one, and
  again from any instant after a restart), the times equal one croniter iteration from a tz-aware start
  (over the expression as shim.cron normalises it: its reading of the fields is checked against DBOS
  in tests/test_cron_properties.py);
- where a zone's offset changes by whole hours on the hour, the times are exactly: every instant whose
  wall-clock time matches the cron (both instants of a repeated wall time), plus, when the hour field
  is restricted, the instant of the jump (once) for matching wall times the clocks skip (a job that
  runs every hour just loses the skipped hour, as in Vixie cron);
- away from a change (the offset the same all along), they equal DBOS's own fire times.
"""

from __future__ import annotations

import functools
import sys
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:  # dbos imports sqlite3 at package import; the system SQLite is too old for it
    import pysqlite3

    sys.modules.setdefault("sqlite3", pysqlite3)
except ImportError:  # pragma: no cover
    pass

from croniter import croniter
from dbos._croniter import croniter as dbos_croniter

from shim.cron import croniter_text, next_fire_times, parse
from tests.test_cron_properties import dbos_expressions, dbos_misreads_sunday

PROFILE = settings(max_examples=120, derandomize=True, database=None, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
FIRES = 12
SKEW = timedelta(hours=3)  # more than any zone's change of offset, so wall times this far apart stay in order

# Whole hours on the hour (spring forward and fall back, north and south, at midnight in Santiago and Havana).
HOURLY_CHANGES = ["America/New_York", "Europe/London", "Europe/Berlin", "Australia/Sydney", "America/Santiago",
                  "America/Havana"]
# Half an hour (Lord Howe), or at a quarter to the hour (Chatham).
ODD_CHANGES = ["Australia/Lord_Howe", "Pacific/Chatham"]


@functools.cache
def offset_changes(zone_name: str, year: int = 2030) -> list[datetime]:
    """The instants (UTC, to the minute) at which ``zone_name`` changes its offset in ``year``."""
    zone = ZoneInfo(zone_name)
    found: list[datetime] = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment.year == year:
        following = moment + timedelta(hours=1)
        if following.astimezone(zone).utcoffset() != previous:
            while moment.astimezone(zone).utcoffset() == previous:
                moment += timedelta(minutes=1)
            found.append(moment)
            previous = moment.astimezone(zone).utcoffset()
        moment = following
    return found


@st.composite
def near_a_change(draw: st.DrawFn, zones: list[str]) -> tuple[tzinfo, datetime]:
    """A zone and a start up to two days before one of its changes of offset."""
    name = draw(st.sampled_from(zones))
    change = draw(st.sampled_from(offset_changes(name)))
    return ZoneInfo(name), change - timedelta(seconds=draw(st.integers(0, 2 * 24 * 3600)))


def walked(expression: str, start: datetime, zone: tzinfo) -> list[datetime]:
    """Ticks as the scheduler computes them: each from the one before (as a UTC instant)."""
    ticks: list[datetime] = []
    cursor = start
    for _ in range(FIRES):
        following = next_fire_times(expression, 1, cursor, zone)
        if not following:
            break
        ticks.append(following[0])
        cursor = following[0].astimezone(UTC)
    return ticks


def croniter_fires(expression: str, start: datetime, zone: tzinfo) -> list[datetime]:
    """The croniter package, one iteration from a tz-aware start, as DBOS's scheduler iterates."""
    iterator = croniter(croniter_text(parse(expression)), start.astimezone(zone), second_at_beginning=True)
    return [iterator.get_next(datetime) for _ in range(FIRES)]


def instants(wall: datetime, zone: tzinfo, skipped_fire: bool) -> list[datetime]:
    """The instants at which the clocks of ``zone`` show ``wall``; a skipped wall time gives the jump
    if ``skipped_fire``, else nothing."""
    earlier, later = (wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))
    if earlier.astimezone(zone).replace(tzinfo=None) == wall:
        return sorted({earlier, later})
    if not skipped_fire:
        return []
    jump_low, jump_high = sorted((earlier, later))  # in the gap: the jump lies between these
    while jump_high - jump_low > timedelta(seconds=1):
        middle = jump_low + (jump_high - jump_low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) < wall:
            jump_low = middle
        else:
            jump_high = middle
    return [jump_high.replace(microsecond=0)]


def wall_clock_fires(expression: str, start: datetime, zone: tzinfo) -> list[datetime]:
    """The documented rule, computed from wall times (croniter on naive datetimes: no zone involved)."""
    wall_start = start.astimezone(zone).replace(tzinfo=None) - SKEW
    spec = parse(expression)
    iterator = croniter(croniter_text(spec), wall_start, second_at_beginning=True)
    found: set[datetime] = set()
    while True:
        wall = iterator.get_next(datetime)
        found.update(t for t in instants(wall, zone, not spec.hour.star) if t > start)
        if len(found) >= FIRES and wall > sorted(found)[FIRES - 1].astimezone(zone).replace(tzinfo=None) + SKEW:
            return sorted(found)[:FIRES]


def utc(times: list[datetime]) -> list[datetime]:
    return [t.astimezone(UTC) for t in times]


@PROFILE
@given(dbos_expressions(), near_a_change(HOURLY_CHANGES + ODD_CHANGES))
def test_ticks_walked_one_by_one_are_croniters(expression: str, zoned_start: tuple[tzinfo, datetime]) -> None:
    zone, start = zoned_start
    spec = parse(expression)
    if spec.day_of_week.nth and not spec.day_of_month.star:
        return  # never fires (see test_cron_properties); nothing to walk
    ours = walked(expression, start, zone)
    if len(ours) < FIRES or dbos_misreads_sunday(expression):
        return  # years or a Sunday-as-7 reading croniter does not share; covered in UTC elsewhere
    theirs = croniter_fires(expression, start, zone)
    assert utc(ours) == utc(theirs)
    assert [t.isoformat() for t in ours] == [t.isoformat() for t in theirs]
    assert all(t.tzinfo is zone for t in ours)
    # a restart anywhere in between picks the walk up where it stands
    middle = ours[FIRES // 2].astimezone(UTC) - timedelta(seconds=1)
    assert utc(next_fire_times(expression, 3, middle, zone)) == utc(ours[FIRES // 2: FIRES // 2 + 3])


@PROFILE
@given(dbos_expressions(), near_a_change(HOURLY_CHANGES))
def test_ticks_follow_the_wall_clock_across_whole_hour_changes(expression: str,
                                                               zoned_start: tuple[tzinfo, datetime]) -> None:
    zone, start = zoned_start
    spec = parse(expression)
    if spec.year is not None or dbos_misreads_sunday(expression) or (spec.day_of_week.nth and not spec.day_of_month.star):
        return
    ours = next_fire_times(expression, FIRES, start, zone)
    if len(ours) < FIRES:
        return
    assert utc(ours) == wall_clock_fires(expression, start, zone)


@PROFILE
@given(dbos_expressions(), st.sampled_from(["America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu",
                                            "Asia/Tokyo", "America/Sao_Paulo"]),
       st.datetimes(min_value=datetime(2030, 1, 5), max_value=datetime(2030, 2, 1)))
def test_away_from_a_change_ticks_are_dbos_ticks(expression: str, zone_name: str, wall_start: datetime) -> None:
    zone = ZoneInfo(zone_name)
    start = wall_start.replace(microsecond=0, tzinfo=zone)
    if dbos_misreads_sunday(expression):
        return
    spec = parse(expression)
    if spec.day_of_week.nth and not spec.day_of_month.star:
        return
    end = datetime(2030, 3, 1, tzinfo=UTC)  # no zone above changes its offset in January or February 2030
    ours = [t for t in next_fire_times(expression, FIRES, start, zone) if t < end]
    iterator = dbos_croniter(expression, start, second_at_beginning=True)
    dbos: list[datetime] = []
    while len(dbos) < len(ours):
        dbos.append(iterator.get_next(datetime))
    assert [t.isoformat() for t in ours] == [t.isoformat() for t in dbos]


def test_examples_of_the_rule() -> None:
    new_york = ZoneInfo("America/New_York")
    spring = datetime(2030, 3, 9, 12, tzinfo=UTC)  # clocks go 02:00 -> 03:00 on 10 March
    autumn = datetime(2030, 11, 2, 12, tzinfo=UTC)  # clocks go 02:00 -> 01:00 on 3 November

    def shown(expression: str, start: datetime, count: int) -> list[str]:
        return [t.isoformat() for t in next_fire_times(expression, count, start, new_york)]

    # a wall time the clocks skip fires once, at the jump
    assert shown("0 30 2 * * *", spring, 2) == ["2030-03-10T03:00:00-04:00", "2030-03-11T02:30:00-04:00"]
    assert shown("0 15 1-3 * * *", spring, 3) == [
        "2030-03-10T01:15:00-05:00", "2030-03-10T03:00:00-04:00", "2030-03-10T03:15:00-04:00"]
    # a wall time the clocks repeat fires at both instants, each with its own offset (and workflow id)
    assert shown("0 30 1 * * *", autumn, 3) == [
        "2030-11-03T01:30:00-04:00", "2030-11-03T01:30:00-05:00", "2030-11-04T01:30:00-05:00"]
    # midnight-to-midnight days keep their midnight
    assert shown("@daily", spring, 2) == ["2030-03-10T00:00:00-05:00", "2030-03-11T00:00:00-04:00"]


def test_dbos_misfires_around_a_daylight_saving_change() -> None:
    """DBOS 2.31's bundled croniter, iterated from a tz-aware start as its scheduler does, fires a
    daily 02:00 schedule twice the day after spring forward and an hour late the day after fall back.
    If this starts failing, DBOS fixed it: revisit docs/cron.md."""
    new_york = ZoneInfo("America/New_York")

    def dbos(expression: str, start: datetime, count: int) -> list[str]:
        iterator = dbos_croniter(expression, start.astimezone(new_york), second_at_beginning=True)
        return [iterator.get_next(datetime).isoformat() for _ in range(count)]

    assert dbos("0 0 2 * * *", datetime(2030, 3, 10, 5, tzinfo=UTC), 3) == [
        "2030-03-10T03:00:00-04:00", "2030-03-11T01:00:00-04:00", "2030-03-11T02:00:00-04:00"]
    assert dbos("0 0 2 * * *", datetime(2030, 11, 3, 4, tzinfo=UTC), 2) == [
        "2030-11-03T02:00:00-05:00", "2030-11-04T03:00:00-05:00"]
    ours = [t.isoformat() for t in next_fire_times("0 0 2 * * *", 3, datetime(2030, 3, 10, 5, tzinfo=UTC), new_york)]
    assert ours == ["2030-03-10T03:00:00-04:00", "2030-03-11T02:00:00-04:00", "2030-03-12T02:00:00-04:00"]
