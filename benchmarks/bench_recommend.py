"""Benchmark ``recommend``: cold CLI, warm in-process, a million-case batch, and HermiT itself.

Run from the repository root after ``pip install .`` (the CLI figures use the installed script)::

    python benchmarks/bench_recommend.py             # full run: 1,000,000 batch cases, 10,000 HermiT cases
    python benchmarks/bench_recommend.py --quick     # 50,000 batch cases, 500 HermiT cases

All figures come from one run, so the ratios (fast path vs HermiT, batch vs single) are comparable
even on a shared, noisy machine. Nothing is asserted about speed; the run fails only if the fast
path and HermiT disagree on a case, since timing a wrong answer would be meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from axilla_kg.cases import PatientCase, parse_case  # noqa: E402
from axilla_kg.graph import KnowledgeGraph  # noqa: E402
from axilla_kg.reasoning import classify_cases  # noqa: E402
from axilla_kg.recommend import Recommender  # noqa: E402

CASE_FLAGS = [
    "--sex", "female", "--breast-cancer", "new", "--tumor-size-cm", "1.5",
    "--clinical-nodes", "positive", "--diagnostic-breast-imaging-done", "true", "--format", "json",
]  # fmt: skip


def random_case(rng: random.Random) -> dict[str, Any]:
    """A valid case drawn over the whole contract (sizes around and away from 2.0 cm)."""
    case: dict[str, Any] = {"sex": rng.choice(["female", "female", "female", "male"])}
    case["breast_cancer"] = rng.choice(["none", "new", "new", "recurrent"])
    if case["breast_cancer"] != "none":
        if rng.random() < 0.9:
            case["tumor_size_cm"] = rng.choice([2.0, 2.0000001, round(rng.uniform(0.1, 8), rng.choice([1, 2, 4]))])
        if rng.random() < 0.9:
            case["clinical_nodes"] = rng.choice(["negative", "positive"])
        case["neoadjuvant"] = rng.choice(["none", "mid_treatment", "completed"])
    case["axillary_lump"] = rng.choice(["none", "none", "unilateral", "bilateral"])
    if rng.random() < 0.3:
        case["suspicious_node_on"] = rng.choice(["mammography", "ultrasound", "mri", "ct", "pet_ct", "other"])
    if rng.random() < 0.8:
        case["diagnostic_breast_imaging_done"] = rng.random() < 0.7
    if rng.random() < 0.8:
        case["age"] = rng.randint(12, 95)
    return case


def write_cases(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(n):
            handle.write(json.dumps(random_case(rng)) + "\n")


def cli() -> str:
    exe = shutil.which("axilla-kg")
    if exe is None:
        sys.exit("install the package first: pip install .")
    return exe


def cold_cli(runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([cli(), "recommend", *CASE_FLAGS], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    base = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - started)
    return {"median_s": statistics.median(times), "python_pass_median_s": statistics.median(base), "runs": runs}


def warm(rec: Recommender, cases: list[PatientCase]) -> dict[str, float]:
    for case in cases[:200]:
        rec.recommend(case)  # build the per-variant payloads once
    samples = []
    for case in cases:
        started = time.perf_counter_ns()
        rec.recommend(case)
        samples.append(time.perf_counter_ns() - started)
    samples.sort()
    return {
        "median_ms": samples[len(samples) // 2] / 1e6,
        "p99_ms": samples[int(len(samples) * 0.99)] / 1e6,
        "cases": len(samples),
    }


def batch_run(path: Path, n: int, jobs: int, detail: str) -> dict[str, Any]:
    """The CLI end to end: read the file, answer, write to /dev/null; wall time and peak memory."""
    code = (
        "import resource, subprocess, sys, time\n"
        "started = time.perf_counter()\n"
        "with open(sys.argv[1]) as src, open('/dev/null', 'w') as dst:\n"
        "    subprocess.run(sys.argv[2:], stdin=src, stdout=dst, check=True)\n"
        "wall = time.perf_counter() - started\n"
        "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    args = [cli(), "recommend", "--cases", "-", "--jobs", str(jobs), "--detail", detail]
    out = subprocess.run([sys.executable, "-c", code, str(path), *args], check=True, capture_output=True, text=True)
    wall, rss_kb = out.stdout.split()
    return {
        "cases": n,
        "jobs": jobs,
        "wall_s": float(wall),
        "cases_per_s": n / float(wall),
        "max_rss_mb": int(rss_kb) / 1024,
    }


def hermit(rec: Recommender, cases: list[PatientCase], batch_size: int) -> dict[str, float]:
    started = time.perf_counter()
    done = [0]

    def progress(n: int) -> None:
        done[0] = n
        print(f"\r  HermiT: {n:,}/{len(cases):,} cases", end="", file=sys.stderr, flush=True)

    answers = classify_cases(cases, batch_size=batch_size, progress=progress)
    print(file=sys.stderr)
    wall = time.perf_counter() - started
    wrong = sum(
        1 for c, a in zip(cases, answers, strict=True) if {v.variant_iri for v in rec.classifier.matches(c)} != a
    )
    if wrong:
        sys.exit(f"fast path and HermiT disagree on {wrong} cases: fix that before timing anything")
    fast_started = time.perf_counter()
    for case in cases:
        rec.classifier.matches(case)
    fast = time.perf_counter() - fast_started
    return {
        "cases": len(cases),
        "batch_size": batch_size,
        "wall_s": wall,
        "cases_per_s": len(cases) / wall,
        "fast_path_classify_s": fast,
        "ratio_fast_over_hermit": wall / max(fast, 1e-9),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "recommend.json")
    args = parser.parse_args()
    n_batch = 50_000 if args.quick else 1_000_000
    n_hermit = 500 if args.quick else 10_000
    rng = random.Random(286)
    rec = Recommender.load(KnowledgeGraph.load())
    cases = [parse_case(random_case(rng)) for _ in range(max(n_hermit, 5000))]
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print("cold CLI ...", file=sys.stderr)
    results["cold_cli"] = cold_cli(3 if args.quick else 7)
    print("warm in-process ...", file=sys.stderr)
    results["warm"] = warm(rec, cases[:5000])
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.jsonl", Path(tmp) / "big.jsonl"
        write_cases(small, n_batch // 10, seed=1)
        write_cases(big, n_batch, seed=2)
        results["batch"] = []
        for jobs, detail in ((1, "full"), (2, "full"), (2, "brief")):
            print(f"batch, {jobs} job(s), {detail} ...", file=sys.stderr)
            results["batch"].append(batch_run(small, n_batch // 10, jobs, detail))
            results["batch"].append(batch_run(big, n_batch, jobs, detail))
    print("HermiT ...", file=sys.stderr)
    results["hermit"] = hermit(rec, cases[:n_hermit], 250)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    c, w, h = results["cold_cli"], results["warm"], results["hermit"]
    cold_ms, pass_ms = c["median_s"] * 1000, c["python_pass_median_s"] * 1000
    print(f"cold `recommend --format json`: {cold_ms:.0f} ms (python -c pass {pass_ms:.0f} ms)")
    median_us, p99_us = w["median_ms"] * 1000, w["p99_ms"] * 1000
    print(f"warm in-process: median {median_us:.0f} us, p99 {p99_us:.0f} us over {w['cases']} cases")
    for b in results["batch"]:
        rate, rss, label = b["cases_per_s"], b["max_rss_mb"], f"jobs {b['jobs']}, {b['detail']:>5}"
        print(f"batch {b['cases']:>9,} cases, {label}: {rate:>9,.0f} cases/s, peak RSS {rss:.0f} MB")
    ratio = h["ratio_fast_over_hermit"]
    rate, wall = h["cases_per_s"], h["wall_s"]
    print(f"HermiT {h['cases']:,} cases (batches of {h['batch_size']}): {rate:.0f} cases/s, {wall:.0f} s")
    print(f"fast path classifies the same cases {ratio:,.0f}x faster than HermiT")
    print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
