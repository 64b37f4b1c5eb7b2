"""Export speed before/after, in one run: every format of ``axilla-kg export``, whole process.

``--before REV`` (default ``main``) is extracted with ``git archive`` into a temporary folder; the
"after" side is this working tree. Each side runs ``python -m axilla_kg export --format F --output
FILE`` in a fresh interpreter with its own tree first on ``PYTHONPATH`` (the CLI a user runs,
imports and graph load included), alternating before/after so a load spike hits both. Reported per
format: the median wall time and CPU time (user + system of the child) of the runs, and the ratio
before / after. The two outputs are compared too, so a fast wrong answer cannot pass: the same
bytes for CSV, SSSOM and FHIR, the same graph up to blank node labels (RDFC-1.0 with pyoxigraph)
for the RDF syntaxes. A measuring tool: it asserts no timing.

    python benchmarks/bench_export.py                 # every format, 1 run before, 3 after
    python benchmarks/bench_export.py --before HEAD~3 --repeat 5 --formats ttl,csv
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests")]  # the tests' graph comparison (rdf_compare) is this benchmark's too

from rdf_compare import SYNTAX, isomorphic, parse_text  # noqa: E402

FORMATS = ("ttl", "nt", "jsonld", "xml", "trig", "owl", "fhir", "sssom", "csv")


def extract(rev: str, into: Path) -> str:
    """The tree of ``rev`` written under ``into``; returns the full commit hash."""
    commit = subprocess.run(["git", "rev-parse", rev], cwd=REPO, capture_output=True, text=True, check=True)
    archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return commit.stdout.strip()


def run_export(tree: Path, fmt: str, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``axilla-kg export`` process of ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("SOURCE_DATE_EPOCH", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "axilla_kg", "export", "--format", fmt, "--output", str(out)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"export --format {fmt} failed in {tree}: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def same_content(fmt: str, old: bytes, new: bytes) -> bool:
    """Byte equality for the tabular formats; dataset equality up to blank node labels for RDF
    (the tests' RDFC-1.0 comparison, ``tests/rdf_compare.py``)."""
    if fmt not in SYNTAX:
        return old == new
    return isomorphic(parse_text(old.decode("utf-8"), fmt), parse_text(new.decode("utf-8"), fmt), graphs=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="git revision to compare against (default main)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format of the working tree (default 3)")
    parser.add_argument("--repeat-before", type=int, default=1, help="runs per format of --before (default 1)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated formats (default all)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "export.json")
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        old_tree = Path(tmp, "before")
        commit = extract(args.before, old_tree)
        print(f"before: {args.before} ({commit[:10]}); after: working tree {REPO}", file=sys.stderr)
        for fmt in formats:
            old_out, new_out = Path(tmp, f"before.{fmt}"), Path(tmp, f"after.{fmt}")
            old_runs, new_runs = [], []
            for i in range(max(args.repeat, args.repeat_before)):
                if i < args.repeat_before:
                    old_runs.append(run_export(old_tree, fmt, old_out))
                if i < args.repeat:
                    new_runs.append(run_export(REPO, fmt, new_out))
            same = same_content(fmt, old_out.read_bytes(), new_out.read_bytes())
            old_wall = statistics.median(w for w, _ in old_runs)
            new_wall = statistics.median(w for w, _ in new_runs)
            row = {
                "format": fmt,
                "before_wall_s": round(old_wall, 3),
                "before_cpu_s": round(statistics.median(c for _, c in old_runs), 3),
                "after_wall_s": round(new_wall, 3),
                "after_cpu_s": round(statistics.median(c for _, c in new_runs), 3),
                "ratio_wall": round(old_wall / new_wall, 1),
                "same_content": same,
            }
            rows.append(row)
            print(f"  {fmt}: {row}", file=sys.stderr)
    load = os.getloadavg()
    print(f"{'format':8} {'before s':>9} {'(cpu)':>7} {'after s':>8} {'(cpu)':>7} {'ratio':>6}  same content")
    for r in rows:
        print(
            f"{r['format']:8} {r['before_wall_s']:9.2f} {r['before_cpu_s']:7.2f} {r['after_wall_s']:8.2f} "
            f"{r['after_cpu_s']:7.2f} {r['ratio_wall']:5.1f}x  {'yes' if r['same_content'] else 'NO'}"
        )
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta = {"before": args.before, "before_commit": commit, "python": platform.python_version(), "loadavg": load}
    args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n", encoding="utf-8")
    return 0 if all(r["same_content"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
