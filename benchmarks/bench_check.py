"""Benchmark `axilla-kg check`: stage times on the shipped graph and on synthetic topics.

Run from the repository root::

    python benchmarks/bench_check.py                 # shipped graph (3 cold CLI runs) + 10/30/100 synthetic topics
    python benchmarks/bench_check.py --quick         # one cold run, 10 synthetic topics
    python benchmarks/bench_check.py --json out.json

The shipped-graph figure is the wall time of a cold ``axilla-kg check`` process (Python start,
imports, loading, JVM start for the reasoner and ``pellet explain`` when needed, every stage),
i.e. what a knowledge engineer waits for. Synthetic topics (each 10 variants x 10 procedures, so
100 ratings, each with its own source record, as the generated topic files have) are checked
together with the shipped graph in-process, and each stage is timed by the runner. No timing is
asserted: this is a measuring tool. See benchmarks/README.md, section "check".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from axilla_kg.checks import Level, run_checks  # noqa: E402

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results" / "check.json"
CATEGORIES = (("UsuallyAppropriate", 8), ("MayBeAppropriate", 5), ("UsuallyNotAppropriate", 2))
PREFIXES = """@prefix ax: <https://w3id.org/axilla-kg/vocab#> .
@prefix axd: <https://w3id.org/axilla-kg/id/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
"""


def synthetic_topics(topics: int, variants: int = 10, procedures: int = 10) -> str:
    """Well-formed topics that pass every check: the time measured is the time of a clean graph."""
    out = [PREFIXES]
    for p in range(procedures):
        out.append(
            f'axd:syn-proc-{p} a ax:Procedure , owl:NamedIndividual ; rdfs:label "synthetic US {p}"@en ;\n'
            f'    ax:procedureName "synthetic US {p}" ; skos:definition "Synthetic procedure."@en ;\n'
            "    ax:modality ax:Ultrasound ; ax:usesIonizingRadiation false ; ax:adultRRL ax:RRL-O ;\n"
            "    ax:rrlSource axd:src-rrl-procedures ; ax:rrlConfidence ax:ConfidenceHigh .\n"
        )
    for t in range(topics):
        number = 9000 + t
        topic = f"axd:syn-topic-{t}"
        out.append(
            f'{topic} a ax:Topic , owl:NamedIndividual ; rdfs:label "synthetic topic {t}"@en ;\n'
            f'    ax:topicNumber {number} ; ax:topicKey "{number}" ;\n'
            f'    ax:topicTitle "Synthetic {t}" ; ax:edition "current" .\n'
        )
        for v in range(1, variants + 1):
            variant = f"axd:syn-{t}-v{v}"
            source = f"axd:syn-src-{t}-v{v}"
            out.append(
                f'{variant} a ax:Variant , owl:NamedIndividual ; rdfs:label "synthetic {t} variant {v}"@en ;\n'
                f"    ax:inTopic {topic} ; ax:variantNumber {v} ;\n"
                f'    ax:officialTitle "Synthetic topic {t}, variant {v}." ;\n'
                f"    ax:ratingTableComplete true ; ax:definitionSource {source} .\n"
                f'{source} a ax:SourceRecord , owl:NamedIndividual ; rdfs:label "synthetic source {t}/{v}"@en ;\n'
                f'    ax:sourceFile "synthetic.csv" ; ax:sourceRow {v + 1} ; ax:confidence ax:ConfidenceHigh .\n'
            )
            for p in range(procedures):
                category, score = CATEGORIES[(v + p) % len(CATEGORIES)]
                rating = f"axd:syn-{t}-v{v}-p{p}"
                rsource = f"axd:syn-src-{t}-v{v}-p{p}"
                out.append(
                    f"{rating} a ax:AppropriatenessRating , owl:NamedIndividual ;\n"
                    f'    rdfs:label "synthetic rating"@en ;\n'
                    f"    ax:ratedVariant {variant} ; ax:ratedProcedure axd:syn-proc-{p} ;\n"
                    f"    ax:category ax:{category} ;\n"
                    f"    ax:listedRRL ax:RRL-O ; ax:ratingScore {score} ; ax:medianRating {score} ;\n"
                    f"    ax:confidence ax:ConfidenceHigh ; ax:hasSourceRecord {rsource} .\n"
                    f'{rsource} a ax:SourceRecord , owl:NamedIndividual ; rdfs:label "synthetic row"@en ;\n'
                    f'    ax:sourceFile "synthetic.csv" ; ax:sourceRow {p + 2} ; ax:confidence ax:ConfidenceHigh .\n'
                )
    return "\n".join(out)


def cold_cli(runs: int) -> dict[str, Any]:
    """Wall time of complete `check` processes on the shipped graph, with the runner's stage times."""
    walls: list[float] = []
    last: dict[str, Any] = {}
    code = "import sys; from axilla_kg.cli import main; sys.exit(main())"
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code, "check", "--format", "json", "--fail-on", "none"],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            check=False,
        )
        walls.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"check failed: {done.stderr}")
        last = json.loads(done.stdout)["summary"]
        print(f"  cold run: {walls[-1]:.2f} s", file=sys.stderr)
    return {"runs": runs, "wall_seconds": walls, "wall_median_seconds": statistics.median(walls), "last": last}


def synthetic(topics: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="axilla-kg-bench-") as tmp:
        path = Path(tmp) / f"synthetic-{topics}.ttl"
        path.write_text(synthetic_topics(topics), encoding="utf-8")
        started = time.perf_counter()
        report = run_checks([path])
        wall = time.perf_counter() - started
    errors = [f for f in report.findings if f.level is Level.ERROR]
    if errors:  # timing a graph the checks reject would measure the wrong thing
        raise SystemExit(f"synthetic graph with {topics} topics has errors: {errors[:3]}")
    row = {
        "topics": topics,
        "ratings": topics * 100,
        "triples": report.triples,
        "load_seconds": round(report.load_seconds, 3),
        "stages": {s.name: round(s.seconds, 3) for s in report.stages},
        "wall_seconds": round(wall, 3),
    }
    print(f"  {topics} topics: {row}", file=sys.stderr)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one cold run, 10 synthetic topics")
    parser.add_argument("--json", type=Path, default=DEFAULT_RESULTS, help="where to write the figures")
    args = parser.parse_args(argv)
    sizes = [10] if args.quick else [10, 30, 100]
    print("shipped graph, cold CLI:", file=sys.stderr)
    shipped = cold_cli(1 if args.quick else 3)
    print("synthetic topics:", file=sys.stderr)
    rows = [synthetic(n) for n in sizes]
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "shipped": shipped,
        "synthetic": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.json)
    print(f"shipped graph: cold wall median {shipped['wall_median_seconds']:.2f} s; stages {shipped['last']['stages']}")
    print("topics  ratings  triples  load_s  " + "  ".join(f"{n}_s" for n in rows[0]["stages"]) + "  wall_s")
    for row in rows:
        stages = "  ".join(f"{row['stages'][n]:.2f}" for n in row["stages"])
        sizes_text = f"{row['topics']:>6}  {row['ratings']:>7}  {row['triples']:>7}"
        print(f"{sizes_text}  {row['load_seconds']:.2f}  {stages}  {row['wall_seconds']:.2f}")
    print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
