"""How fast is ``dbos2resonate check``? kLOC/s on a generated DBOS-style tree, against ``ast.parse`` and ``migrate``.

    .venv/bin/python bench/check.py [--files 200] [--dbos-share 0.7] [--repeat 5] [--seed 1]

It writes a tree of modules into a temporary directory (most of them DBOS programs: workflows, steps,
queues, messages, plus the plain business code around them; the rest plain Python), then times, in the
same process and on the same bytes:

- ``ast.parse`` of the decoded text (as the engine parses it): the floor for a parse-based linter;
- ``check_source``: the lint engine per file, on bytes already in memory;
- ``check_paths``: the whole run as the CLI does it (walk, read, analyse, select);
- ``migrate_source`` from ``codemod.engine`` (when it exists): ``migrate``'s engine on the same texts, in
  memory, writing nothing.

Each figure is the best of ``--repeat`` runs (``migrate``: of ``--migrate-repeat``, on the first
``--migrate-files`` files only, compared with ``check`` on the same files); it prints the kLOC/s and the ratios. Lines are physical lines of all generated files, DBOS or not: both tools skip non-DBOS files.
"""

from __future__ import annotations

import argparse
import ast
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codemod.lint import check_paths, check_source  # noqa: E402
from codemod.lint.registry import rules  # noqa: E402

HEADER_DBOS = """\
\"\"\"Order service module {i}: workflows and steps on DBOS.\"\"\"

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from dbos import DBOS, Queue, SetWorkflowID
from dbos.error import DBOSException

queue_{i} = Queue("orders-{i}", concurrency=5)
log = logging.getLogger(__name__)
"""

HEADER_PLAIN = """\
\"\"\"Helpers module {i}: plain Python, no DBOS.\"\"\"

from __future__ import annotations

import json
import math
from dataclasses import dataclass
"""

STEP = """

@DBOS.step(retries_allowed=True, max_attempts=3)
def {name}(order_id: str, amount: float) -> dict:
    DBOS.logger.info("step {name} for %s", order_id)
    total = 0.0
    for k in range(int(amount) % 7 + 1):
        total += math_helper(k, amount)
    return {{"order": order_id, "total": total, "at": datetime.now().isoformat()}}
"""

WORKFLOW = """

@DBOS.workflow()
def {name}(order_id: str, amount: float) -> str:
    first = {step_a}(order_id, amount)
    DBOS.sleep(1)
    second = {step_b}(order_id, amount * 2)
    event = DBOS.recv("approval", timeout_seconds=30)
    if event is None:
        DBOS.set_event("status", "timed out")
        return "timeout"
    with SetWorkflowID(f"child-{{order_id}}"):
        handle = DBOS.start_workflow({step_a}, order_id, amount)
    try:
        queue_{i}.enqueue({step_b}, order_id, amount)
    except DBOSException as exc:
        log.warning("enqueue failed: %s", exc)
    return json.dumps([first, second, DBOS.workflow_id, handle.get_result()])
"""

PLAIN = """

@dataclass
class {cls}:
    name: str
    price: float
    quantity: int = 1

    def total(self) -> float:
        return self.price * self.quantity

    def describe(self) -> str:
        parts = [self.name, str(self.quantity), f"{{self.price:.2f}}"]
        return " x ".join(parts)


def {name}(items: list[{cls}], discount: float = 0.0) -> dict[str, float]:
    \"\"\"Sum up items, apply a discount, round like the ledger does.\"\"\"
    subtotal = sum(item.total() for item in items)
    taxes = {{"vat": subtotal * 0.2, "city": subtotal * 0.01}}
    if discount:
        subtotal -= subtotal * discount
    result = {{"subtotal": round(subtotal, 2), **{{k: round(v, 2) for k, v in taxes.items()}}}}
    for key, value in sorted(result.items()):
        if value < 0:
            raise ValueError(f"negative {{key}}: {{value}}")
    return result
"""

FOOTER = """

def math_helper(k: int, amount: float) -> float:
    return (k * amount) % 97 / 3.0
"""


def generate(root: Path, files: int, dbos_share: float, seed: int) -> list[Path]:
    rnd = random.Random(seed)
    paths = []
    for i in range(files):
        is_dbos = rnd.random() < dbos_share
        parts = [(HEADER_DBOS if is_dbos else HEADER_PLAIN).format(i=i)]
        steps: list[str] = []
        for j in range(rnd.randint(3, 6)):
            parts.append(PLAIN.format(cls=f"Item{i}_{j}", name=f"price_{i}_{j}"))
            if is_dbos:
                step = f"step_{i}_{j}"
                steps.append(step)
                parts.append(STEP.format(name=step))
                if len(steps) >= 2:
                    parts.append(WORKFLOW.format(name=f"wf_{i}_{j}", step_a=steps[-2], step_b=steps[-1], i=i))
        parts.append(FOOTER)
        path = root / f"pkg{i % 10}" / f"module_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(parts), encoding="utf-8")
        paths.append(path)
    return paths


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--dbos-share", type=float, default=0.7, help="share of files that use DBOS")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--migrate-repeat", type=int, default=1)
    parser.add_argument("--migrate-files", type=int, default=20, help="migrate only the first N files (it is slow)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rules()  # import the registry (and libcst) before timing anything
    with tempfile.TemporaryDirectory(prefix="d2r-bench-") as tmp:
        root = Path(tmp)
        paths = generate(root, args.files, args.dbos_share, args.seed)
        blobs = [(str(p.relative_to(root)), p.read_bytes()) for p in paths]
        lines = sum(blob.count(b"\n") for _, blob in blobs)
        kloc = lines / 1000
        findings = sum(len(check_source(blob, name).findings) for name, blob in blobs)
        print(f"tree: {len(paths)} files, {lines} lines, {findings} findings")

        dbos_blobs = [blob for _, blob in blobs if b"dbos" in blob]
        t_parse = best(args.repeat, lambda: [ast.parse(blob.decode("utf-8")) for _, blob in blobs])
        t_parse_dbos = best(args.repeat, lambda: [ast.parse(blob.decode("utf-8")) for blob in dbos_blobs])
        t_engine = best(args.repeat, lambda: [check_source(blob, name) for name, blob in blobs])
        t_run = best(args.repeat, lambda: check_paths([root]))
        rows = [
            ("ast.parse (all files)", t_parse, kloc),
            ("ast.parse (DBOS files only)", t_parse_dbos, kloc),
            ("check engine (in memory)", t_engine, kloc),
            ("check run (walk + read)", t_run, kloc),
        ]
        t_migrate = None
        try:
            from codemod.engine import migrate_source
        except ImportError as exc:
            print(f"migrate: codemod.engine not available ({exc}); skipped")
        else:
            subset = blobs[: args.migrate_files]
            texts = [(name, blob.decode("utf-8")) for name, blob in subset]
            migrate_kloc = sum(blob.count(b"\n") for _, blob in subset) / 1000
            t_check_subset = best(args.repeat, lambda: [check_source(blob, name) for name, blob in subset])
            t_migrate = best(args.migrate_repeat, lambda: [migrate_source(text, name) for name, text in texts])
            rows.append((f"check engine, {len(subset)} files", t_check_subset, migrate_kloc))
            rows.append((f"migrate engine, {len(subset)} files", t_migrate, migrate_kloc))

    for label, seconds, size in rows:
        print(f"{label:<30} {seconds * 1000:10.1f} ms  {size / seconds:8.1f} kLOC/s")
    print(f"check engine time / ast.parse (all files):       {t_engine / t_parse:.2f}x")
    print(f"check engine time / ast.parse (DBOS files only): {t_engine / t_parse_dbos:.2f}x")
    print(f"check run time    / ast.parse (all files):       {t_run / t_parse:.2f}x")
    if t_migrate is not None:
        print(f"migrate time / check time, same files:           {t_migrate / t_check_subset:.0f}x  (goal: >= 10x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
