"""Engine throughput on a generated DBOS-style tree vs the floor of plain libcst parse + print.

    .venv/bin/python bench/codemod.py [--files 60] [--blocks 8] [--plain 0] [--jobs 2] [--repeat 3]

Prints lines/second for both and their ratio (engine / floor); with ``--jobs N`` also the engine's speed
with N processes and its speed-up over one. The floor is what any libcst codemod pays at least; the engine
adds analysis, the rules, import fix-ups and a compile check of the output, and saves the parse and print of the
top-level blocks no rule acts on (``codemod.elide``). The default tree is dense with DBOS code: every function
but one in four is a step or a workflow. ``--plain N`` adds N blocks of code without DBOS per file (a model
class and a function, as services have), for a tree closer to an application's. Rounds alternate floor and
engine and each figure is the best of its rounds (``--repeat``), so a busy machine skews both alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# run as a script, this folder comes first on sys.path: its other scripts (bench/queue.py) must not shadow the
# standard library's modules of the same name (multiprocessing imports ``queue``)
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import libcst as cst  # noqa: E402

from codemod.engine import Options, iter_python_files, run  # noqa: E402

TEMPLATE = '''\
"""Module {i}: a DBOS service."""
import logging
from dbos import DBOS, DBOSConfig, SetWorkflowID

config: DBOSConfig = {{"name": "svc{i}", "system_database_url": "sqlite:///svc{i}.sqlite"}}
DBOS(config=config)
log = logging.getLogger("svc{i}")

'''

BLOCK = '''
@DBOS.step()
def fetch_{i}_{j}(url: str) -> str:
    DBOS.logger.info("fetching %s", url)
    return url.upper()


@DBOS.step(retries_allowed=True, interval_seconds=2, max_attempts=4, backoff_rate=2)
def charge_{i}_{j}(amount: int) -> int:
    if amount < 0:
        raise ValueError("negative")
    return amount * 2


def helper_{i}_{j}(values: list[int]) -> int:
    total = 0
    for v in values:
        if v % 2:
            total += v
        else:
            total -= v
    return total


@DBOS.workflow()
def order_{i}_{j}(url: str, amount: int) -> str:
    body = fetch_{i}_{j}(url)
    paid = charge_{i}_{j}(amount)
    DBOS.sleep(1)
    DBOS.logger.info(f"order {{DBOS.workflow_id}} paid {{paid}}")
    DBOS.set_event("status", "paid")
    return body + str(helper_{i}_{j}([paid, 1, 2]))

'''

PLAIN = '''

class Invoice_{i}_{k}:
    """An invoice line of service {i}."""

    def __init__(self, sku: str, quantity: int, unit_cents: int) -> None:
        self.sku = sku
        self.quantity = quantity
        self.unit_cents = unit_cents

    def total(self) -> int:
        return self.quantity * self.unit_cents


def summarize_{i}_{k}(invoices: list[Invoice_{i}_{k}]) -> dict[str, int]:
    totals: dict[str, int] = {{}}
    for invoice in invoices:
        totals[invoice.sku] = totals.get(invoice.sku, 0) + invoice.total()
    return totals

'''

FOOTER = '''
async def main() -> None:
    DBOS.launch()
    with SetWorkflowID("order-1"):
        result = order_{i}_0("https://example.com", 3)
    log.info(result)
'''


def make_tree(root: Path, files: int, blocks: int, plain: int = 0) -> int:
    lines = 0
    for i in range(files):
        text = (
            TEMPLATE.format(i=i)
            + "".join(BLOCK.format(i=i, j=j) for j in range(blocks))
            + "".join(PLAIN.format(i=i, k=k) for k in range(plain))
            + FOOTER.format(i=i)
        )
        (root / f"svc_{i}.py").write_text(text)
        lines += text.count("\n")
    return lines


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--blocks", type=int, default=8, help="workflow+steps blocks per file")
    parser.add_argument("--plain", type=int, default=0, help="blocks of code without DBOS per file")
    parser.add_argument("--jobs", type=int, default=1, help="also time migrate with -j JOBS (speed-up vs -j 1)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each time is the best of them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lines = make_tree(root, args.files, args.blocks, args.plain)
        files = list(iter_python_files([root]))
        texts = [f.read_text() for f in files]
        results: list = []

        def floor() -> None:
            for text in texts:
                assert cst.parse_module(text).code == text

        def engine(jobs: int) -> None:
            results[:] = run(files, Options(), write=False, jobs=jobs)

        # rounds alternate floor and engine, so load from other processes hits both alike
        t_floor, t_one, t_many = [], [], []
        for _ in range(args.repeat):
            t_floor.append(_best(floor, 1))
            t_one.append(_best(lambda: engine(1), 1))
            if args.jobs > 1:
                t_many.append(_best(lambda: engine(args.jobs), 1))
        floor_s, one_s = min(t_floor), min(t_one)

    errors = [r for r in results if r.error]
    changed = sum(r.changed for r in results)
    print(f"tree: {len(files)} files, {lines} lines; engine changed {changed}, errors {len(errors)}; "
          f"best of {args.repeat} rounds")
    print(f"floor  (libcst parse+print, 1 process):  {lines / floor_s:8.0f} lines/s  ({floor_s:.2f} s)")
    print(f"engine (migrate, -j 1):                   {lines / one_s:8.0f} lines/s  ({one_s:.2f} s)")
    print(f"ratio engine/floor: {floor_s / one_s:.2f}")
    if t_many:
        many_s = min(t_many)
        print(f"engine (migrate, -j {args.jobs}):                   {lines / many_s:8.0f} lines/s  ({many_s:.2f} s)")
        print(f"speed-up -j {args.jobs} / -j 1: {one_s / many_s:.2f} (cores: {os.cpu_count()})")
    if errors:
        print(f"first error: {errors[0].path}: {errors[0].error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
