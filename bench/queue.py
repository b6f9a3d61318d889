"""Throughput of small enqueued workflows: the shim on its durable store vs DBOS on SQLite.

    python bench/queue.py                  # 1000 workflows, both runtimes, ratio printed
    python bench/queue.py -n 200 --concurrency 10 --repeat 3
    python bench/queue.py -n 300 --concurrency 10 --server   # also the shim on `dbos2resonate serve`

The program is the same DBOS program for both runtimes (only its import differs): a queue, a
workflow of one step, ``n`` enqueues from the main thread, then every handle's result. Each
runtime runs in a child process of its own, on a new SQLite file in a temporary directory, with
its default settings: DBOS 2.x's queue polls every second (``polling_interval_sec=1.0``), the
shim's dispatcher is woken by each enqueue. The figure is workflows per second from the first
enqueue to the last result (median over ``--repeat`` runs; each run is a new process and file).
With ``--server`` the shim also runs as one worker of a Resonate server (``dbos2resonate serve`` on
its own store file, in a third process): every enqueue and step is an HTTP round trip, and a queue
``concurrency`` is then held across workers with promises on the server (docs/queues.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Any script run from bench/ has this directory first on sys.path, where this file shadows the
# standard library's ``queue`` (which concurrent.futures, DBOS and others import). Imported under
# that name, it puts the real module in its place; run as a script, it takes its directory off.
if __name__ == "queue":
    import importlib.util
    import sysconfig

    _spec = importlib.util.spec_from_file_location("queue", Path(sysconfig.get_paths()["stdlib"]) / "queue.py")
    assert _spec is not None and _spec.loader is not None
    _real = importlib.util.module_from_spec(_spec)
    sys.modules["queue"] = _real  # what ``import queue`` returns
    _spec.loader.exec_module(_real)
elif sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _worker(runtime: str, n: int, concurrency: int | None, tmp: str, url: str | None) -> dict[str, Any]:
    if runtime == "dbos":
        import pysqlite3  # type: ignore[import-not-found]

        sys.modules["sqlite3"] = pysqlite3
        from dbos import DBOS, Queue
    else:
        sys.path.insert(0, str(ROOT))
        from shim import DBOS, Queue  # type: ignore[assignment]
    import logging

    logging.disable(logging.WARNING)
    config: dict[str, Any] = {"name": "bench-queue", "system_database_url": f"sqlite:///{Path(tmp) / 'bench.sqlite'}"}
    if url is not None:
        config["resonate_url"] = url
    DBOS(config=config)  # type: ignore[arg-type]
    queue = Queue("bench", concurrency=concurrency)

    @DBOS.step()
    def double(i: int) -> int:
        return 2 * i

    @DBOS.workflow()
    def small(i: int) -> int:
        return double(i) + 1

    DBOS.launch()
    try:
        queue.enqueue(small, -1).get_result()  # warm up
        start = time.perf_counter()
        handles = [queue.enqueue(small, i) for i in range(n)]
        enqueued = time.perf_counter()
        results = [h.get_result() for h in handles]
        done = time.perf_counter()
        assert results == [2 * i + 1 for i in range(n)]
    finally:
        DBOS.destroy()
    return {"total_s": done - start, "enqueue_s": enqueued - start}


def _run(runtime: str, n: int, concurrency: int | None) -> dict[str, Any]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.support.resonate_server import running_server  # starts `dbos2resonate serve`, waits for its URL

    with tempfile.TemporaryDirectory(prefix=f"bench-queue-{runtime}-") as tmp, contextlib.ExitStack() as stack:
        url = stack.enter_context(running_server(Path(tmp) / "served.sqlite")) if runtime == "shim-server" else None
        spec = json.dumps({"runtime": runtime, "n": n, "concurrency": concurrency, "tmp": tmp, "url": url})
        proc = subprocess.run([sys.executable, __file__, "--worker", spec], capture_output=True, text=True,
                              timeout=1800, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{runtime} run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1000, help="workflows to enqueue (default 1000)")
    ap.add_argument("--concurrency", type=int, default=None, help="the queue's concurrency (default: none)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per runtime (median reported)")
    ap.add_argument("--server", action="store_true", help="also run the shim on a Resonate server")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        spec = json.loads(a.worker)
        print(json.dumps(_worker(spec["runtime"], spec["n"], spec["concurrency"], spec["tmp"], spec["url"])))
        return
    rates: dict[str, float] = {}
    for runtime in ("dbos", "shim", *(["shim-server"] if a.server else [])):
        runs = [_run(runtime, a.n, a.concurrency) for _ in range(a.repeat)]
        total = statistics.median(r["total_s"] for r in runs)
        enqueue = statistics.median(r["enqueue_s"] for r in runs)
        rates[runtime] = a.n / total
        print(f"{runtime:11} {a.n} workflows in {total:6.2f} s ({enqueue:5.2f} s enqueueing): "
              f"{rates[runtime]:7.1f} workflows/s", flush=True)
    print(f"shim / dbos throughput: {rates['shim'] / rates['dbos']:.1f}x")
    if a.server:
        print(f"shim on a server / shim embedded throughput: {rates['shim-server'] / rates['shim']:.2f}x")


if __name__ == "__main__":
    main()
