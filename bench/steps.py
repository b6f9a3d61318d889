"""Per-step cost of one sequential workflow: durable store vs Resonate local vs DBOS.

    python bench/steps.py            # 10, 100 and 1000 steps, every runtime
    python bench/steps.py --quick    # fewer repetitions, no 1000-step run of the slow ones

The workflow is the same everywhere: ``n`` sequential steps, each a trivial
function call, the step results summed. Runtimes:

* ``native``  resonate-sdk 0.8 local mode (``LocalConnection``, in memory);
* ``memory``  this project's store without a file (``open_store(None)``);
* ``durable`` this project's store on a SQLite file (``open_store(path)``);
* ``shim``    the same workflow written for DBOS, run on the shim's durable default (a SQLite file);
* ``dbos``    DBOS (2.x) on a SQLite file, its default settings;
* ``dbos-wal`` the same with the file switched to WAL first.

Each figure is the median, over repetitions, of (workflow wall time / steps),
after one warm-up workflow. DBOS runs in a child process (it needs
``pysqlite3`` swapped in for ``sqlite3`` before anything imports it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = (10, 100, 1000)
#: Steps to aim for per (runtime, size): repetitions = max(1, BUDGET // n).
BUDGET = 3000
QUICK_BUDGET = 600
#: Runtimes whose cost per step grows with n: a single 1000-step run is enough.
SLOW = {"native", "dbos", "dbos-wal"}


# -- Resonate ------------------------------------------------------------------


def _resonate_case(runtime: str, n: int, reps: int, tmp: Path) -> list[float]:
    from resonate.connections import LocalConnection
    from resonate.context import Context
    from resonate.resonate import Resonate
    from resonate.retry import Never

    from shim.store import open_store

    def step(ctx: Context, i: int) -> int:
        return i

    async def wf(ctx: Context, n: int) -> int:
        total = 0
        for i in range(n):
            total += await ctx.run(step, i)
        return total

    async def go() -> list[float]:
        if runtime == "native":
            conn: Any = LocalConnection()
        elif runtime == "memory":
            conn = open_store(None)
        else:
            conn = open_store(tmp / f"store-{n}.db")
        r = Resonate(network=conn, retry_policy=Never())
        r.register(wf)
        await r.run(f"warmup-{n}", wf, 3).result()
        out = []
        for j in range(reps):
            start = time.perf_counter()
            total = await r.run(f"bench-{n}-{j}", wf, n).result()
            out.append((time.perf_counter() - start) * 1000 / n)
            assert total == n * (n - 1) // 2
        await r.stop()
        if hasattr(conn, "close"):
            conn.close()
        return out

    return asyncio.run(go())


# -- the shim (the DBOS program, unchanged but for its import) ---------------------


def _shim_case(sizes: list[int], reps: dict[int, int], tmp: Path) -> dict[int, list[float]]:
    import logging

    from shim import DBOS

    logging.getLogger("dbos").setLevel(logging.WARNING)
    DBOS(config={"name": "bench-steps", "system_database_url": f"sqlite:///{tmp / 'shim.sqlite'}"})

    @DBOS.step()
    def step(i: int) -> int:
        return i

    @DBOS.workflow()
    def wf(n: int) -> int:
        total = 0
        for i in range(n):
            total += step(i)
        return total

    DBOS.launch()
    try:
        wf(3)
        result: dict[int, list[float]] = {}
        for n in sizes:
            result[n] = []
            for _ in range(reps[n]):
                start = time.perf_counter()
                total = wf(n)
                result[n].append((time.perf_counter() - start) * 1000 / n)
                assert total == n * (n - 1) // 2
    finally:
        DBOS.destroy()
    return result


# -- DBOS (child process) --------------------------------------------------------


def _dbos_worker(sizes: list[int], reps: dict[str, int], wal: bool, tmp: str) -> None:
    import pysqlite3  # type: ignore[import-not-found]

    sys.modules["sqlite3"] = pysqlite3
    import logging

    logging.disable(logging.WARNING)
    db = Path(tmp) / "dbos.sqlite"
    if wal:
        conn = pysqlite3.connect(str(db))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()

    from dbos import DBOS

    DBOS(config={"name": "bench-steps", "system_database_url": f"sqlite:///{db}"})

    @DBOS.step()
    def step(i: int) -> int:
        return i

    @DBOS.workflow()
    def wf(n: int) -> int:
        total = 0
        for i in range(n):
            total += step(i)
        return total

    DBOS.launch()
    try:
        wf(3)
        result: dict[str, list[float]] = {}
        for n in sizes:
            out = []
            for _ in range(reps[str(n)]):
                start = time.perf_counter()
                total = wf(n)
                out.append((time.perf_counter() - start) * 1000 / n)
                assert total == n * (n - 1) // 2
            result[str(n)] = out
    finally:
        DBOS.destroy()
    print(json.dumps(result))


def _dbos_case(sizes: list[int], reps: dict[int, int], wal: bool) -> dict[int, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-dbos-") as tmp:
        cmd = [
            sys.executable,
            __file__,
            "--dbos-worker",
            json.dumps(
                {
                    "sizes": sizes,
                    "reps": {str(k): v for k, v in reps.items()},
                    "wal": wal,
                    "tmp": tmp,
                }
            ),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        print(f"dbos run failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return {}
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {int(k): v for k, v in data.items()}


# -- main ------------------------------------------------------------------------


def _reps(runtime: str, n: int, budget: int) -> int:
    if runtime in SLOW and n >= 1000:
        return 1
    return max(1, min(budget // n, 200))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--no-dbos", action="store_true", help="skip DBOS")
    ap.add_argument("--dbos-worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.dbos_worker:
        spec = json.loads(a.dbos_worker)
        _dbos_worker(spec["sizes"], spec["reps"], spec["wal"], spec["tmp"])
        return

    budget = QUICK_BUDGET if a.quick else BUDGET
    results: dict[str, dict[int, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        for runtime in ("native", "memory", "durable"):
            results[runtime] = {}
            for n in SIZES:
                results[runtime][n] = _resonate_case(
                    runtime, n, _reps(runtime, n, budget), Path(tmp)
                )
                print(
                    f"  {runtime:8} n={n:<5} {statistics.median(results[runtime][n]):8.3f} ms/step",
                    file=sys.stderr,
                    flush=True,
                )
        results["shim"] = _shim_case(list(SIZES), {n: _reps("shim", n, budget) for n in SIZES}, Path(tmp))
        for n, v in results["shim"].items():
            print(f"  {'shim':8} n={n:<5} {statistics.median(v):8.3f} ms/step", file=sys.stderr, flush=True)
    if not a.no_dbos:
        for runtime, wal in (("dbos", False), ("dbos-wal", True)):
            results[runtime] = _dbos_case(
                list(SIZES), {n: _reps(runtime, n, budget // 5) for n in SIZES}, wal
            )
            for n, v in results[runtime].items():
                print(
                    f"  {runtime:8} n={n:<5} {statistics.median(v):8.3f} ms/step",
                    file=sys.stderr,
                    flush=True,
                )

    med = {
        rt: {n: statistics.median(v) for n, v in by_n.items()}
        for rt, by_n in results.items()
        if by_n
    }
    runtimes = [rt for rt in ("native", "memory", "durable", "shim", "dbos", "dbos-wal") if rt in med]
    print(f"\nper-step cost, ms (median; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
    print(
        "steps   "
        + "".join(f"{rt:>10}" for rt in runtimes)
        + "   durable/native  durable/memory  durable/dbos"
    )
    for n in SIZES:
        row = "".join(f"{med[rt][n]:10.3f}" for rt in runtimes)
        d = med["durable"][n]
        ratios = f"{d / med['native'][n]:14.2f}x  {d / med['memory'][n]:14.2f}x"
        ratios += f"  {d / med['dbos'][n]:12.3f}x" if "dbos" in med else ""
        print(f"{n:<8}{row}   {ratios}")
    flat = med["durable"][1000] / med["durable"][10]
    print(f"\ndurable flatness: per-step cost at 1000 steps / at 10 steps = {flat:.2f}")
    print("\nshim (DBOS program on the shim's durable default) against the references:")
    print("steps   shim/native  shim/durable  shim/dbos")
    for n in SIZES:
        s = med["shim"][n]
        vs_dbos = f"{s / med['dbos'][n]:10.3f}x" if "dbos" in med else "         -"
        print(f"{n:<8}{s / med['native'][n]:10.2f}x  {s / med['durable'][n]:11.2f}x  {vs_dbos}")
    print(f"shim flatness: per-step cost at 1000 steps / at 10 steps = {med['shim'][1000] / med['shim'][10]:.2f}")


if __name__ == "__main__":
    main()
