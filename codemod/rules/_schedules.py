"""What D2R110 writes for a ``@DBOS.scheduled`` workflow: the helpers it calls and the statements it inserts.

A Resonate schedule (``resonate.schedule(id, cron, func_name)``) makes the server create the promise
``{id}-{tick}`` on every cron tick (``tick`` in ms since the epoch) with a task that runs the registered
function on a worker of the group. The function gets no arguments, so the two DBOS passed are recovered:

- ``scheduled_time``, the tick: from the promise id (``schedule_tick_time``);
- ``actual_time``, the clock when the workflow first ran: read in a step (``first_execution_time``), so a
  replay sees the value of the first execution, as DBOS's recorded argument is.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from codemod.rules._helpers import HelperBlock
from codemod.transform import INSTANCE

TICK_TIME = "schedule_tick_time"
FIRST_TIME = "first_execution_time"
ENSURE = "ensure_schedule"

_TEMPLATE = f'''
def {TICK_TIME}(ctx: Context) -> datetime:
    """The cron tick this run of a schedule stands for: the server names the run's promise ``{{schedule id}}-{{tick in ms}}``."""
    return datetime.fromtimestamp(int(ctx.info.id.rsplit("-", 1)[1]) / 1000, UTC)


def _epoch_seconds(ctx: Context) -> float:
    return time.time()


async def {FIRST_TIME}(ctx: Context) -> datetime:
    """The time this run first executed: read in a step, so a replay gets the same value."""
    return datetime.fromtimestamp(await ctx.run(_epoch_seconds), UTC)


async def {ENSURE}(resonate: Resonate, name: str, cron: str) -> None:
    """Run the registered function ``name`` on every tick of ``cron`` (UTC), from the schedule of the same id.

    Safe on every start: the server answers a create of an existing id with the stored schedule, so a restart
    adds no schedule and no tick; one stored with another cron (the code changed) is replaced.
    """
    await resonate.schedule(name, cron, name)
    if (await resonate.schedules.get(name)).cron != cron:
        await resonate.schedules.delete(name)
        await resonate.schedule(name, cron, name)
'''

SCHEDULE_HELPERS = HelperBlock(
    "dbos2resonate.schedule_helpers",
    _TEMPLATE,
    {
        "datetime": ("datetime", "datetime"),
        "UTC": ("datetime", "UTC"),
        "time": ("time", None),
        "Context": ("resonate.context", "Context"),
        "Resonate": ("resonate.resonate", "Resonate"),
    },
)


@dataclass(frozen=True, slots=True)
class ServerSchedule:
    """A scheduled workflow D2R110 rewrites: its registered name (the schedule's id too) and 5-field cron."""

    name: str
    cron: str
    offset_seconds: int  # DBOS's seconds field: it ran this long after each minute tick
    scheduled_param: str  # the names the workflow gave DBOS's two arguments
    actual_param: str


def prelude(schedule: ServerSchedule, used: set[str]) -> list[cst.BaseStatement]:
    """The workflow's first statements: DBOS's seconds offset waited durably, then the arguments it used."""
    lines = []
    tick = f"{TICK_TIME}(ctx)"
    if schedule.offset_seconds:
        offset = f"timedelta(seconds={schedule.offset_seconds})"
        lines.append(f"await ctx.sleep({offset})")
        tick = f"{tick} + {offset}"
    if schedule.scheduled_param in used:
        lines.append(f"{schedule.scheduled_param} = {tick}")
    if schedule.actual_param in used:
        lines.append(f"{schedule.actual_param} = await {FIRST_TIME}(ctx)")
    return [cst.parse_statement(line) for line in lines]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create_statement(schedule: ServerSchedule) -> cst.BaseStatement:
    return cst.parse_statement(f"await {ENSURE}({INSTANCE}, {_quoted(schedule.name)}, {_quoted(schedule.cron)})")


def create_by_hand(schedule: ServerSchedule) -> str:
    """What a person adds where the program starts Resonate, when that is not in this module."""
    return (f"create its schedule where the program starts Resonate, after `{INSTANCE}.start()`: "
            f"`await {INSTANCE}.schedule({_quoted(schedule.name)}, {_quoted(schedule.cron)}, {_quoted(schedule.name)})` "
            "(a second create "
            "of that id keeps the stored schedule: delete it first to change the cron)")
