"""Benchmark `axilla-kg check` at ACR scale, against a cold-start baseline measured in the same run.

Run from the repository root::

    python benchmarks/bench_check.py                 # baseline, shipped graph, ACR scale x1/x2/x4/x8
    python benchmarks/bench_check.py --quick         # sizes x1 and x2 only (an eighth and a quarter of ACR)
    python benchmarks/bench_check.py --json out.json

Prints, in one run:

1. the **cold-start baseline**: wall time of a cold ``axilla-kg show 4`` process (median of 3),
   the unit every other figure is divided by (the machine is shared and noisy: ratios measured
   in one run travel better than seconds);
2. the **shipped graph**: a cold ``axilla-kg check`` process, wall time and stage times;
3. **ACR scale**: graphs from ``benchmarks/acr_scale.py`` at x1, x2, x4, x8 (x8 = 198 topics,
   1,760 variants, 8,815 ratings, ACR's October 2020 release; x1 an eighth of it), each checked
   in-process with the shipped graph, every stage timed by the runner, with its ratio to the
   baseline; the growth exponent of each stage between successive sizes (1.0 is linear); and
   whether the planted faults were matched exactly (every answer-key entry found, nothing else
   beyond the shipped graph's own findings).

No timing is asserted: this is a measuring tool. It exits 1 when an answer key is not matched
(timing a check that misses faults would measure the wrong thing). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
for path in (REPO_ROOT, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import acr_scale  # noqa: E402

from axilla_kg.checks import run_checks  # noqa: E402

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results" / "check.json"
ACR = (198, 1760, 8815)  # topics, variants, ratings
CLI = "import sys; from axilla_kg.cli import main; sys.exit(main())"


def cold(args: list[str], runs: int) -> tuple[list[float], str]:
    walls: list[float] = []
    out = ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CLI, *args], capture_output=True, text=True, cwd=REPO_ROOT, check=False
        )
        walls.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            raise SystemExit(f"axilla-kg {' '.join(args)} failed: {done.stderr}")
        out = done.stdout
    return walls, out


def findings_set(report: Any) -> set[tuple[str, frozenset[str]]]:
    return {(f.rule, frozenset(iri for iri, _ in f.entities)) for f in report.findings}


def scale_row(factor: int, base: set[tuple[str, frozenset[str]]], jobs: int, seed: int) -> dict[str, Any]:
    topics, variants, ratings = (max(10, round(x * factor / 8)) for x in ACR)
    with tempfile.TemporaryDirectory(prefix="axilla-kg-acr-") as tmp:
        out = Path(tmp)
        key = acr_scale.generate(topics, variants, ratings, seed=seed, out=out)
        started = time.perf_counter()
        report = run_checks([out / "graph.ttl"], jobs=jobs)
        wall = time.perf_counter() - started
    expected = {(str(e["rule"]), frozenset(str(i) for i in e["iris"])) for e in key}
    got = findings_set(report) - base
    row = {
        "factor": factor,
        "topics": topics,
        "variants": variants,
        "ratings": ratings,
        "triples": report.triples,
        "load_seconds": round(report.load_seconds, 3),
        "stages": {s.name: round(s.seconds, 3) for s in report.stages},
        "wall_seconds": round(wall, 3),
        "planted": len(expected),
        "missed": sorted(f"{r} {sorted(i)}" for r, i in expected - got),
        "unexpected": sorted(f"{r} {sorted(i)}" for r, i in got - expected),
    }
    print(f"  x{factor}: {topics} topics, {variants} variants: wall {wall:.1f} s {row['stages']}", file=sys.stderr)
    return row


def exponent(small: float, large: float) -> float | None:
    return round(math.log(large / small, 2), 2) if small > 0.05 and large > 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes x1 and x2 only")
    parser.add_argument("--jobs", type=int, default=2, help="check --jobs (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=DEFAULT_RESULTS, help="where to write the figures")
    args = parser.parse_args(argv)
    factors = [1, 2] if args.quick else [1, 2, 4, 8]
    print("cold start baseline (axilla-kg show 4):", file=sys.stderr)
    cold(["show", "4"], 1)  # warm the OS file cache
    base_walls, _ = cold(["show", "4"], 3)
    baseline = statistics.median(base_walls)
    print("shipped graph, cold check:", file=sys.stderr)
    walls, text = cold(["check", "--format", "json", "--fail-on", "none", "--jobs", str(args.jobs)], 1)
    shipped = {"wall_seconds": round(walls[0], 3), "summary": json.loads(text)["summary"]}
    base = findings_set(run_checks(jobs=args.jobs))
    print("ACR scale:", file=sys.stderr)
    rows = [scale_row(f, base, args.jobs, args.seed) for f in factors]
    stages = list(rows[0]["stages"])
    exponents = {
        name: [exponent(a["stages"][name], b["stages"][name]) for a, b in itertools.pairwise(rows)]
        for name in [*stages, "wall_seconds"]
        if name != "wall_seconds"
    }
    exponents["total"] = [exponent(a["wall_seconds"], b["wall_seconds"]) for a, b in itertools.pairwise(rows)]
    if len(rows) > 2:  # over the whole range too: one step is at the mercy of the load
        span = math.log2(rows[-1]["factor"] / rows[0]["factor"])
        for name in exponents:
            first = rows[0]["wall_seconds"] if name == "total" else rows[0]["stages"][name]
            last = rows[-1]["wall_seconds"] if name == "total" else rows[-1]["stages"][name]
            exponents[name].append(round(math.log2(last / first) / span, 2) if first > 0.05 else None)
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "baseline_show4_seconds": round(baseline, 3),
        "baseline_walls": [round(w, 3) for w in base_walls],
        "shipped": shipped,
        "scale": rows,
        "exponents": exponents,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.json)
    print(f"load average {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} CPUs")
    print(f"baseline: cold `axilla-kg show 4` median {baseline:.2f} s")
    ratio = shipped["wall_seconds"] / baseline
    print(f"shipped graph: cold `check` {shipped['wall_seconds']:.1f} s = {ratio:.0f}x baseline")
    print("ACR scale (x8 = 198 topics, 1,760 variants, 8,815 ratings), seconds and ratio to the baseline:")
    head = ["size", "variants", "triples", "load", *stages, "total", "total/baseline", "answer key"]
    print("  ".join(f"{h:>11}" for h in head))
    for r in rows:
        matched = "exact" if not r["missed"] and not r["unexpected"] else f"-{len(r['missed'])} +{len(r['unexpected'])}"
        cells = [f"x{r['factor']}", r["variants"], r["triples"], f"{r['load_seconds']:.1f}"]
        cells += [f"{r['stages'][s]:.1f}" for s in stages]
        cells += [f"{r['wall_seconds']:.1f}", f"{r['wall_seconds'] / baseline:.0f}x", matched]
        print("  ".join(f"{c!s:>11}" for c in cells))
    largest = rows[-1]
    print("per stage at the largest size, ratio to the baseline: " + ", ".join(
        f"{s} {largest['stages'][s] / baseline:.1f}x" for s in stages))  # fmt: skip
    print("growth exponents between successive sizes, then over the whole range (1.0 = linear):")
    for name, values in exponents.items():
        print(f"  {name:<12} " + "  ".join("-" if v is None else f"{v:.2f}" for v in values))
    print(f"figures written to {args.json}")
    return 0 if all(not r["missed"] and not r["unexpected"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
