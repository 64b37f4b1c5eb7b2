"""Does the single-process audit's memory stay flat whatever the file size? The resident memory of
``axilla-kg audit ORDERS.parquet --format parquet --output FILE`` sampled as it goes, and its
throughput, optionally beside an older version of the code on the very same orders (A/B).

    python benchmarks/audit_memory.py --rows 10000000 --out /tmp/audit-memory
    git archive 3ff9442 axilla_kg ontology queries | tar -x -C /tmp/before   # the code before the bounds
    python benchmarks/audit_memory.py --rows 1000000 --baseline /tmp/before --out /tmp/audit-ab

The orders are ``audit_scale.py``'s realistic generated ones (new classes of order keep coming to
the end of the file, so every memo keeps meeting new entries). Each run is one child process that
calls the command's own function (:func:`axilla_kg.recommend.audit.write_audit`, streaming Parquet
in and out); after every record batch it reports, every ``--every`` rows, the rows done, its CPU
and wall time, its resident memory now and at its peak so far (``VmRSS``/``VmHWM`` from
``/proc/self/status``: the kernel's own peak, not a sample), what pyarrow's memory pool holds, and
how many entries each memo of the judge holds. A flat curve is a peak that stops growing early.
With ``--baseline`` the older code runs first on the same file, the outputs must be identical row
for row, and the two throughputs are printed side by side. ``--timeout`` bounds each child: a run
that cannot finish still reports its curve as far as it got.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _status(key: str) -> float:
    """A ``/proc/self/status`` figure in MiB (VmRSS: resident now; VmHWM: the peak so far)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(orders: Path, output: Path, every: int) -> None:
    """Audit ``orders`` into ``output`` through ``write_audit``; print a JSON line of figures every
    ``every`` rows (measured between record batches) and the verdict counts at the end."""
    import pyarrow as pa

    from axilla_kg.graph.knowledge import KnowledgeGraph
    from axilla_kg.recommend import audit
    from axilla_kg.recommend.recommender import Recommender

    started, cpu = time.perf_counter(), time.process_time()
    recommender = Recommender.load(KnowledgeGraph.load())
    print(json.dumps({"rows": 0, "rss_mb": round(_status("VmRSS")), "hwm_mb": round(_status("VmHWM"))}), flush=True)
    judge_batch = audit.OrderJudge.judge_batch
    next_at = [every]

    def figures() -> dict[str, float]:
        """CPU and wall seconds so far, resident memory now and the kernel's peak so far."""
        return {
            "cpu_s": round(time.process_time() - cpu, 1),
            "wall_s": round(time.perf_counter() - started, 1),
            "rss_mb": round(_status("VmRSS")),
            "hwm_mb": round(_status("VmHWM")),
        }

    def sampled(self: Any, batch: Any, first: int = 1, lines: Any = None) -> Any:
        verdicts = judge_batch(self, batch, first, lines)
        done = first + batch.num_rows - 1
        if done >= next_at[0]:
            next_at[0] = (done // every + 1) * every
            sizes = self.memo_sizes() if hasattr(self, "memo_sizes") else {}
            sample = {
                "rows": done,
                **figures(),
                "arrow_mb": round(pa.total_allocated_bytes() / 2**20, 1),
                "memos": sizes,
            }
            print(json.dumps(sample), flush=True)
        return verdicts

    audit.OrderJudge.judge_batch = sampled  # type: ignore[method-assign]
    summary = audit.write_audit(recommender, orders, output, "parquet")
    end = {
        "done": True,
        **figures(),
        "rows": sum(summary.verdicts.values()),
        "counts": {k: v for k, v in sorted(summary.verdicts.items()) if v},
    }
    print(json.dumps(end), flush=True)


def run(name: str, source: Path, orders: Path, output: Path, every: int, timeout: float) -> dict[str, Any]:
    """One child run with ``source`` first on its import path; its samples as they come."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(source) + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(orders), str(output), str(every)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    samples: list[dict[str, Any]] = []
    end: dict[str, Any] = {}
    print(f"\n{name} ({source}):")
    print(f"{'rows':>11} {'CPU s':>8} {'wall s':>8} {'RSS MB':>7} {'peak MB':>8} {'arrow MB':>9}  memo entries")
    assert process.stdout is not None
    for line in process.stdout:
        item = json.loads(line)
        if item.get("done"):
            end = item
            if samples and samples[-1]["rows"] < item["rows"]:  # the end of the file: its peak too
                samples.append({k: item[k] for k in ("rows", "cpu_s", "wall_s", "rss_mb", "hwm_mb")})
            continue
        samples.append(item)
        memos = " ".join(f"{k}={v}" for k, v in item.get("memos", {}).items())
        print(
            f"{item['rows']:>11,} {item.get('cpu_s', 0):>8.1f} {item.get('wall_s', 0):>8.1f} {item['rss_mb']:>7} "
            f"{item['hwm_mb']:>8} {item.get('arrow_mb', 0):>9}  {memos}",
            flush=True,
        )
    process.wait()
    timer.cancel()
    if not end:
        done = samples[-1]["rows"] if samples else 0
        print(f"{name}: stopped (exit {process.returncode}; --timeout {timeout:.0f} s) after {done:,} rows")
    return {"name": name, "samples": samples, "end": end}


def peak_at(samples: list[dict[str, Any]], rows: int) -> int | None:
    """The peak resident memory once ``rows`` rows were judged (the first sample at or past it)."""
    return next((s["hwm_mb"] for s in samples if s["rows"] >= rows), None)


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("audit_scale", HERE / "audit_scale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=262_144, help="rows between two samples")
    parser.add_argument("--baseline", type=Path, help="a folder holding an older axilla_kg package, run first")
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="seconds each run may take")
    parser.add_argument("--out", type=Path, required=True, help="working folder (orders and verdicts)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    orders = args.out / f"orders-{args.rows}-{args.seed}.parquet"
    if not orders.exists():  # the same orders for every run of the same size and seed
        t = time.perf_counter()
        _generator().generate(orders.with_suffix(".tmp"), args.rows, args.seed)
        orders.with_suffix(".tmp").rename(orders)
        print(f"generated {args.rows:,} orders in {time.perf_counter() - t:.1f} s")
    print(f"load average at the start {os.getloadavg()[0]:.1f} (2 cores)", flush=True)
    runs = []
    if args.baseline:
        before_out = args.out / "verdicts-before.parquet"
        runs.append(run("before", args.baseline, orders, before_out, args.every, args.timeout))
    runs.append(run("this code", HERE.parent, orders, args.out / "verdicts.parquet", args.every, args.timeout))
    print(f"\nload average at the end {os.getloadavg()[0]:.1f} (2 cores)")
    marks = [m for m in (100_000, 300_000, 1_000_000, 3_000_000, 10_000_000) if m <= args.rows]
    print(f"{'run':<10} " + " ".join(f"{'peak MB @' + format(m, ','):>18}" for m in marks) + "  orders per CPU s")
    for r in runs:
        peaks = [peak_at(r["samples"], m) for m in marks]
        last = r["end"] or (r["samples"][-1] if r["samples"] else {})
        rate = (last.get("rows") or args.rows) / last["cpu_s"] if last.get("cpu_s") else 0
        print(f"{r['name']:<10} " + " ".join(f"{'-' if p is None else p:>18}" for p in peaks) + f"  {rate:,.0f}")
    if args.baseline and all(r["end"] for r in runs):
        import pyarrow.parquet as pq

        same = pq.read_table(args.out / "verdicts-before.parquet").equals(pq.read_table(args.out / "verdicts.parquet"))
        before, after = runs[0]["end"], runs[1]["end"]
        ratio = after["cpu_s"] / before["cpu_s"]
        print(f"CPU s: before {before['cpu_s']}, after {after['cpu_s']} (after / before {ratio:.2f})")
        print("verdicts identical row for row:", same)
        if not same:
            raise SystemExit(1)
    for r in runs:
        if r["end"]:
            print(f"{r['name']}: verdict counts {json.dumps(r['end']['counts'], sort_keys=True)}")


if __name__ == "__main__":
    main()
