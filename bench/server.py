"""Per-step cost over HTTP (``dbos2resonate serve``) against the embedded store, same file format.

    python bench/server.py            # 10 and 100 steps
    python bench/server.py --quick    # fewer repetitions

The workflow: ``n`` sequential ``ctx.run`` steps, each a trivial function, the
results summed. Runtimes, both on a SQLite store file:

* ``embedded`` the store in the worker's own process (``Resonate(network=open_store(path))``);
* ``server``   the store behind ``dbos2resonate serve`` in a second process, the worker on
  resonate-sdk's remote mode (``Resonate(url=...)``: one HTTP round trip per request, SSE for pushes).

Each figure is the median, over repetitions, of (workflow wall time / steps), after one
warm-up workflow. The ratio is server / embedded: what the network hop costs per step.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resonate.resonate import Resonate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = (10, 100)
BUDGET = 2000
QUICK_BUDGET = 400


async def _per_step_ms(make: Callable[[], Resonate], n: int, reps: int) -> float:
    from resonate.context import Context

    def step(ctx: Context, i: int) -> int:
        return i

    async def wf(ctx: Context, n: int) -> int:
        total = 0
        for i in range(n):
            total += await ctx.run(step, i)
        return total

    resonate = make()
    resonate.register(wf)
    samples = []
    for rep in range(reps + 1):
        started = time.perf_counter()
        assert await resonate.run(f"wf-{n}-{rep}-{time.time_ns()}", wf, n).result() == n * (n - 1) // 2
        if rep:  # the first is the warm-up
            samples.append((time.perf_counter() - started) * 1000 / n)
    await resonate.stop()
    return statistics.median(samples)


def _embedded(path: Path, n: int, reps: int) -> float:
    from resonate.resonate import Resonate
    from resonate.retry import Never

    from shim.store import open_store

    async def go() -> float:
        store = open_store(path)
        try:
            return await _per_step_ms(lambda: Resonate(network=store, env={}, retry_policy=Never()), n, reps)
        finally:
            store.close()

    return asyncio.run(go())


def _served(path: Path, n: int, reps: int) -> float:
    from resonate.resonate import Resonate
    from resonate.retry import Never

    from tests.support.resonate_server import running_server

    with running_server(path) as url:
        return asyncio.run(_per_step_ms(lambda: Resonate(url=url, env={}, retry_policy=Never()), n, reps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    budget = QUICK_BUDGET if parser.parse_args().quick else BUDGET
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'steps':>6} {'embedded ms/step':>17} {'server ms/step':>15} {'server/embedded':>16}")
        for n in SIZES:
            reps = max(1, budget // n)
            embedded = _embedded(Path(tmp) / f"embedded-{n}.sqlite", n, reps)
            served = _served(Path(tmp) / f"served-{n}.sqlite", n, reps)
            print(f"{n:>6} {embedded:>17.3f} {served:>15.3f} {served / embedded:>15.2f}x")


if __name__ == "__main__":
    main()
