"""Engine throughput on a generated DBOS-style tree vs the floor of plain libcst parse + print.

    .venv/bin/python bench/codemod.py [--files 60] [--jobs 1]

One run, no warm-up tricks: prints lines/second for both and their ratio (engine / floor). The floor is
what any libcst codemod pays at least; the engine adds analysis, the rules, import fix-ups and a compile
check of the output.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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

FOOTER = '''
async def main() -> None:
    DBOS.launch()
    with SetWorkflowID("order-1"):
        result = order_{i}_0("https://example.com", 3)
    log.info(result)
'''


def make_tree(root: Path, files: int, blocks: int) -> int:
    lines = 0
    for i in range(files):
        text = TEMPLATE.format(i=i) + "".join(BLOCK.format(i=i, j=j) for j in range(blocks)) + FOOTER.format(i=i)
        (root / f"svc_{i}.py").write_text(text)
        lines += text.count("\n")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--blocks", type=int, default=8, help="workflow+steps blocks per file")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lines = make_tree(root, args.files, args.blocks)
        files = list(iter_python_files([root]))

        t0 = time.perf_counter()
        for f in files:
            text = f.read_text()
            assert cst.parse_module(text).code == text
        floor = time.perf_counter() - t0

        t0 = time.perf_counter()
        results = run(files, Options(), write=False, jobs=args.jobs)
        took = time.perf_counter() - t0

    errors = [r for r in results if r.error]
    changed = sum(r.changed for r in results)
    print(f"tree: {len(files)} files, {lines} lines; engine changed {changed}, errors {len(errors)}")
    print(f"floor  (libcst parse+print, 1 process): {lines / floor:8.0f} lines/s  ({floor:.2f} s)")
    print(f"engine (migrate, -j {args.jobs}):              {lines / took:8.0f} lines/s  ({took:.2f} s)")
    print(f"ratio engine/floor: {floor / took:.2f}")
    if errors:
        print(f"first error: {errors[0].path}: {errors[0].error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
