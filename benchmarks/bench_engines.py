"""Benchmark the two SPARQL engines behind axilla_kg, the CLI start-up, and a synthetic scale-up.

Run from the repository root::

    python benchmarks/bench_engines.py            # full run (about 3-4 minutes on a 2-core box)
    python benchmarks/bench_engines.py --quick    # smoke run, a few seconds of measuring
    python benchmarks/bench_engines.py --json out.json

Everything is measured in one process run so that the figures are comparable with each other:
on a noisy shared machine absolute times drift from run to run, but ratios taken within one run
(rdflib vs Oxigraph, CLI vs bare interpreter) stay meaningful. There are deliberately no timing
assertions here: this is a measuring tool, not a test. See benchmarks/README.md for what each
figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a plain script from a checkout, without installing
    sys.path.insert(0, str(REPO_ROOT))

from axilla_kg.graph.knowledge import KnowledgeGraph  # noqa: E402
from axilla_kg.graph.queries import NamedQuery  # noqa: E402
from axilla_kg.resources import ontology_dir  # noqa: E402

ENGINES = ("oxigraph", "rdflib")
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

# Values for the parameters a named query requires; a required parameter missing here is an error
# (a new query needs a deliberate choice of benchmark input, not a silent skip).
KNOWN_PARAMS: dict[str, object] = {"variant": 4, "procedure": "US axilla", "ceiling": "☢☢"}

AX = "https://w3id.org/axilla-kg/vocab#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SYNTHETIC_PROCEDURES = 10
# Cycled over the procedures of each synthetic variant; ranks 1-3 pass appropriate-studies' filter.
SYNTHETIC_CATEGORIES = (
    "UsuallyAppropriate",
    "MayBeAppropriate",
    "MayBeAppropriateDisagreement",
    "UsuallyNotAppropriate",
)
SYNTHETIC_CONFIDENCES = ("ConfidenceHigh", "ConfidenceMedium", "ConfidenceSeed")
SYNTHETIC_QUERIES = ("variant-ratings", "appropriate-studies")
RDFLIB_LOAD_LIMIT_S = 60.0


@dataclass(frozen=True)
class Settings:
    """Repetition counts and budgets; --quick swaps in small ones so a smoke run takes seconds."""

    loads: int = 5
    warmup: int = 3
    repeat_oxigraph: int = 200
    repeat_rdflib: int = 30
    query_budget_s: float = 3.0
    min_repeat: int = 10
    cli_runs: int = 7
    synthetic_sizes: tuple[int, ...] = (10_000, 100_000)
    synthetic_repeat_oxigraph: int = 50
    synthetic_repeat_rdflib: int = 10

    def repeats(self, engine: str, synthetic: bool = False) -> int:
        if synthetic:
            return self.synthetic_repeat_oxigraph if engine == "oxigraph" else self.synthetic_repeat_rdflib
        return self.repeat_oxigraph if engine == "oxigraph" else self.repeat_rdflib


QUICK = Settings(
    loads=2,
    warmup=1,
    repeat_oxigraph=10,
    repeat_rdflib=3,
    query_budget_s=0.5,
    min_repeat=2,
    cli_runs=2,
    synthetic_sizes=(2_000, 10_000),
    synthetic_repeat_oxigraph=5,
    synthetic_repeat_rdflib=2,
)


# --- small helpers ---------------------------------------------------------------------------------
def progress(message: str) -> None:
    """Progress goes to stderr so that stdout stays a clean table that can be redirected."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def ms(ns: float) -> float:
    return ns / 1e6


def summarize(samples_ns: Sequence[int]) -> dict[str, float | int]:
    """Median, p95 and min in milliseconds. p95 uses the nearest-rank method, so with few samples
    it is simply one of the slowest observations rather than an interpolated guess."""
    ordered = sorted(samples_ns)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return {
        "n": len(ordered),
        "median_ms": ms(statistics.median(ordered)),
        "p95_ms": ms(ordered[rank - 1]),
        "min_ms": ms(ordered[0]),
    }


def time_calls(fn: Callable[[], object], repeat: int, warmup: int, budget_s: float, min_repeat: int) -> list[int]:
    """Time ``fn`` up to ``repeat`` times after ``warmup`` untimed calls.

    A per-cell time budget stops early (but never before ``min_repeat`` samples): some queries
    take hundreds of milliseconds, and 200 of them on each would blow the run's time limit
    without making the median any more trustworthy."""
    for _ in range(warmup):
        fn()
    samples: list[int] = []
    deadline = time.perf_counter_ns() + int(budget_s * 1e9)
    while len(samples) < repeat:
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
        if len(samples) >= min_repeat and time.perf_counter_ns() > deadline:
            break
    return samples


def params_for(query: NamedQuery) -> dict[str, object]:
    """Benchmark inputs for a query: known values for required parameters, nothing for optional ones
    (so optional filters stay open and defaults such as topic=286 apply)."""
    params: dict[str, object] = {}
    for param in query.parameters:
        if not param.required:
            continue
        if param.name not in KNOWN_PARAMS:
            raise SystemExit(
                f"bench_engines: named query '{query.name}' requires parameter '{param.name}', "
                f"which the benchmark has no value for; add one to KNOWN_PARAMS"
            )
        params[param.name] = KNOWN_PARAMS[param.name]
    return params


# --- 1. graph loads --------------------------------------------------------------------------------
def bench_loads(engine: str, loads: int) -> dict[str, Any]:
    """Fresh in-process loads of the shipped graph. The first load also pays for importing the engine
    (pyoxigraph / rdflib and its plugins), so it is reported apart from the median of the rest."""
    start = time.perf_counter_ns()
    kg = KnowledgeGraph.load(engine=engine)
    first = time.perf_counter_ns() - start
    samples = []
    for _ in range(loads):
        start = time.perf_counter_ns()
        kg = KnowledgeGraph.load(engine=engine)
        samples.append(time.perf_counter_ns() - start)
    return {"first_load_ms": ms(first), **summarize(samples), "triples": len(kg)}


# --- 2. named queries ------------------------------------------------------------------------------
def bench_named_queries(graphs: dict[str, KnowledgeGraph], settings: Settings) -> list[dict[str, Any]]:
    """Every named query on every engine, with the row count as a cheap cross-engine sanity check."""
    rows = []
    queries = graphs[ENGINES[0]].named_queries()
    for index, query in enumerate(queries, 1):
        params = params_for(query)
        row: dict[str, Any] = {"query": query.name, "params": params}
        for engine, kg in graphs.items():
            progress(f"query {index}/{len(queries)} {query.name} on {engine}")
            answer = kg.query(query.name, **params)
            samples = time_calls(
                partial(kg.query, query.name, **params),
                settings.repeats(engine),
                settings.warmup,
                settings.query_budget_s,
                settings.min_repeat,
            )
            row[engine] = {**summarize(samples), "rows": len(answer.rows)}
        row["ratio"] = row["rdflib"]["median_ms"] / row["oxigraph"]["median_ms"]
        row["rows_agree"] = row["rdflib"]["rows"] == row["oxigraph"]["rows"]
        rows.append(row)
    return rows


# --- 3. CLI cold start -----------------------------------------------------------------------------
def cli_command() -> tuple[list[str], dict[str, str], str]:
    """The installed console script when there is one, else the package entry point run from this
    checkout (PYTHONPATH pointing at the repository root)."""
    env = dict(os.environ)
    script = shutil.which("axilla-kg")
    if script:
        return [script], env, script
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    code = "import sys; from axilla_kg.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code], env, f"{sys.executable} -c '{code}' (PYTHONPATH={REPO_ROOT})"


def cli_package(base: list[str], env: dict[str, str], cwd: str) -> str:
    """Which axilla_kg the CLI runs: a non-editable install is a copy that can lag this checkout, and
    then the CLI figures describe that copy, not the code being benchmarked in-process."""
    python = base[0]
    if base[0] != sys.executable:  # a console script: its shebang names the interpreter
        first = Path(base[0]).read_text(encoding="utf-8", errors="replace").splitlines()[:1]
        python = first[0][2:].strip() if first and first[0].startswith("#!") else sys.executable
    probe = [python, "-c", "import axilla_kg; print(axilla_kg.__file__)"]
    done = subprocess.run(probe, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    location = Path(done.stdout.strip()).parent if done.returncode == 0 else None
    if location is None:
        return "unknown"
    inside = location.resolve().is_relative_to(REPO_ROOT)
    return f"{location} ({'this checkout' if inside else 'installed copy, not this checkout'})"


def time_process(cmd: list[str], env: dict[str, str], cwd: str, runs: int) -> tuple[list[int], str]:
    """Wall time of whole processes. One untimed run first warms the OS file cache, so 'cold' means
    a fresh interpreter, not a cold disk."""
    samples: list[int] = []
    stdout = ""
    for attempt in range(runs + 1):
        start = time.perf_counter_ns()
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter_ns() - start
        if done.returncode != 0:
            raise SystemExit(f"bench_engines: {cmd[-3:]} failed ({done.returncode}): {done.stderr.strip()}")
        stdout = done.stdout
        if attempt:
            samples.append(elapsed)
    return samples, stdout


def bench_cli(runs: int) -> dict[str, Any]:
    """`axilla-kg show 4` (table and JSON) against a bare `python -c pass`, all from a temp folder so
    the repository on the working directory cannot help the CLI find its data."""
    base, env, described = cli_command()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "axilla-kg show 4": [*base, "show", "4"],
        "axilla-kg show 4 --format json": [*base, "show", "4", "--format", "json"],
    }
    out: dict[str, Any] = {"command": described, "runs": {}}
    with tempfile.TemporaryDirectory(prefix="axilla-bench-cwd-") as cwd:
        out["package"] = cli_package(base, env, cwd)
        for label, cmd in cases.items():
            progress(f"cli: {label} x{runs}")
            samples, stdout = time_process(cmd, env, cwd, runs)
            if label.endswith("json"):
                json.loads(stdout)  # a benchmark of broken output would be meaningless
            elif "show" in label and "variant 4" not in stdout:
                raise SystemExit(f"bench_engines: unexpected output from {label}: {stdout[:200]!r}")
            out["runs"][label] = summarize(samples)
    return out


# --- 4. synthetic scale test -----------------------------------------------------------------------
def real_procedures(count: int) -> list[tuple[str, str | None]]:
    """The first ``count`` real procedure IRIs (sorted) with their adult RRL, so synthetic ratings
    join with the shipped procedure catalogue exactly as real ones do."""
    import pyoxigraph as ox

    path = ontology_dir() / "procedures.ttl"
    triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    procs = sorted(
        t.subject.value for t in triples if t.predicate.value == RDF_TYPE and t.object.value == AX + "Procedure"
    )
    rrl = {t.subject.value: t.object.value for t in triples if t.predicate.value == AX + "adultRRL"}
    if len(procs) < count:
        raise SystemExit(f"bench_engines: {path} has {len(procs)} procedures, the synthetic graph needs {count}")
    return [(p, rrl.get(p)) for p in procs[:count]]


def synthetic_turtle(key: str, number: int, variants: int, procedures: Sequence[tuple[str, str | None]]) -> str:
    """A topic with ``variants`` variants, each rating every procedure, in the shape of the generated
    topic files (rating -> ax:hasSourceRecord -> source record)."""
    lines = [
        "@prefix ax: <https://w3id.org/axilla-kg/vocab#> .",
        "@prefix axd: <https://w3id.org/axilla-kg/id/> .",
        "@prefix prov: <http://www.w3.org/ns/prov#> .",
        "",
        f'axd:{key} a ax:Topic ; ax:topicKey "{key}" ; ax:topicNumber {number} ;',
        f'    ax:topicTitle "Synthetic benchmark topic {key}" ; ax:edition "synthetic" .',
    ]
    row = 1
    for v in range(1, variants + 1):
        variant = f"axd:{key}-variant-{v}"
        complete = "true" if v % 2 else "false"
        lines.append(
            f"{variant} a ax:Variant ; ax:inTopic axd:{key} ; ax:variantNumber {v} ;\n"
            f'    ax:officialTitle "Synthetic variant {v} of {key}." ; ax:ratingTableComplete {complete} .'
        )
        for i, (proc, level) in enumerate(procedures):
            row += 1
            rating, source = f"axd:{key}-rating-{v}-{i}", f"axd:{key}-src-row-{row}"
            category = SYNTHETIC_CATEGORIES[i % len(SYNTHETIC_CATEGORIES)]
            confidence = SYNTHETIC_CONFIDENCES[(v + i) % len(SYNTHETIC_CONFIDENCES)]
            rrl = f" ax:listedRRL <{level}> ;" if level else ""
            lines.append(
                f"{rating} a ax:AppropriatenessRating ; ax:ratedVariant {variant} ; ax:ratedProcedure <{proc}> ;\n"
                f"    ax:category ax:{category} ;{rrl} ax:confidence ax:{confidence} ; ax:hasSourceRecord {source} .\n"
                f'{source} a ax:SourceRecord ; ax:sourceFile "{key}_ratings.csv" ; ax:sourceRow {row} ;\n'
                f'    ax:sourceCitation "https://example.org/synthetic/{key}#row-{row}" .'
            )
    return "\n".join(lines) + "\n"


def triples_per_variant(procedures: Sequence[tuple[str, str | None]]) -> int:
    """Triples one synthetic variant contributes, to size the graph for a target triple count."""
    per_rating = 6 + 4  # rating: type, variant, procedure, category, confidence, source; source record: 4
    return 5 + sum(per_rating + (1 if level else 0) for _, level in procedures)


def expected_rows(query: str) -> int:
    """Rows variant 1 must return; checked so that an empty (and fast) answer is never timed."""
    if query == "appropriate-studies":
        return sum(1 for i in range(SYNTHETIC_PROCEDURES) if SYNTHETIC_CATEGORIES[i % 4] != "UsuallyNotAppropriate")
    return SYNTHETIC_PROCEDURES


def bench_synthetic_size(
    target: int, index: int, folder: Path, settings: Settings, shipped: int, rdflib_rate: float | None
) -> tuple[dict[str, Any], float | None]:
    """One synthetic size on both engines. Returns the result and rdflib's observed load rate
    (seconds per triple) so a larger size can be skipped on rdflib before paying for its load."""
    procedures = real_procedures(SYNTHETIC_PROCEDURES)
    variants = max(1, round(target / triples_per_variant(procedures)))
    key = f"synthetic-{target // 1000}k" if target >= 1000 else f"synthetic-{target}"
    path = folder / f"{key}.ttl"
    path.write_text(synthetic_turtle(key, 9000 + index, variants, procedures), encoding="utf-8")
    result: dict[str, Any] = {"target_triples": target, "topic": key, "variants": variants, "engines": {}}
    for engine in ENGINES:
        if engine == "rdflib" and rdflib_rate is not None:
            estimate = rdflib_rate * (shipped + target)
            if estimate > RDFLIB_LOAD_LIMIT_S:
                reason = f"estimated load {estimate:.0f} s > {RDFLIB_LOAD_LIMIT_S:.0f} s"
                result["engines"][engine] = {"skipped": reason}
                progress(f"synthetic {key}: rdflib skipped (estimated load {estimate:.0f} s)")
                continue
        progress(f"synthetic {key}: loading {path.stat().st_size // 1024} KiB on {engine}")
        start = time.perf_counter_ns()
        kg = KnowledgeGraph.load(extra=[path], engine=engine)
        load_ns = time.perf_counter_ns() - start
        cell: dict[str, Any] = {"load_ms": ms(load_ns), "triples": len(kg), "queries": {}}
        result["synthetic_triples"] = len(kg) - shipped
        if engine == "rdflib":
            rdflib_rate = load_ns / 1e9 / len(kg)
        for name in SYNTHETIC_QUERIES:
            params = {"topic": key, "variant": 1}
            found = len(kg.query(name, **params).rows)
            if found != expected_rows(name):
                raise SystemExit(f"bench_engines: {name} on synthetic {key} ({engine}) gave {found} rows")
            progress(f"synthetic {key}: {name} on {engine}")
            samples = time_calls(
                partial(kg.query, name, **params),
                settings.repeats(engine, synthetic=True),
                settings.warmup,
                settings.query_budget_s,
                settings.min_repeat,
            )
            cell["queries"][name] = {**summarize(samples), "rows": found}
        result["engines"][engine] = cell
        del kg
    return result, rdflib_rate


def bench_synthetic(settings: Settings, shipped: int) -> list[dict[str, Any]]:
    """Smaller size first: its rdflib load rate decides whether the larger size is affordable."""
    results = []
    rate: float | None = None
    with tempfile.TemporaryDirectory(prefix="axilla-bench-synthetic-") as folder:
        for index, target in enumerate(sorted(settings.synthetic_sizes)):
            result, rate = bench_synthetic_size(target, index, Path(folder), settings, shipped, rate)
            results.append(result)
    return results


# --- reporting -------------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Plain fixed-width table; numbers right-aligned. Kept dependency-free on purpose."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int | float) for row in rows) and bool(rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True))

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(s.rstrip() for s in out)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def render(results: dict[str, Any]) -> str:
    """The human report: one table per benchmark part."""
    meta = results["meta"]
    parts = [
        f"axilla_kg engine benchmark - {meta['date']} - {meta['machine']}, {meta['cpus']} CPUs - "
        f"Python {meta['python']}, pyoxigraph {meta['pyoxigraph']}, rdflib {meta['rdflib']}"
        + (" - QUICK run" if meta["quick"] else ""),
        "",
        "1. Shipped graph load (in-process, fresh store each time; ms)",
        table(
            ["engine", "triples", "first (+import)", "median", "p95", "n"],
            [
                [e, r["triples"], r["first_load_ms"], r["median_ms"], r["p95_ms"], r["n"]]
                for e, r in results["load"].items()
            ],
        ),
        "",
        "2. Named queries, in-process wall time per execution (ms); ratio = rdflib median / oxigraph median",
        table(
            ["query", "rows", "ox median", "ox p95", "ox n", "rdflib median", "rdflib p95", "rdflib n", "ratio"],
            [_query_row(r) for r in results["queries"]],
        ),
        "",
        "3. CLI cold start, whole process from a temp dir (ms)",
        f"   command: {results['cli']['command']}",
        f"   axilla_kg imported from: {results['cli']['package']}",
        table(
            ["command", "median", "p95", "min", "n"],
            [[k, v["median_ms"], v["p95_ms"], v["min_ms"], v["n"]] for k, v in results["cli"]["runs"].items()],
        ),
        "",
        "4. Synthetic scale test: shipped graph + synthetic ratings; query params topic=<key>, variant=1 (ms)",
        table(
            ["synthetic", "engine", "total triples", "load", "variant-ratings", "p95", "appropriate-studies", "p95"],
            [row for size in results["synthetic"] for row in _synthetic_rows(size)],
        ),
    ]
    return "\n".join(parts) + "\n"


def _query_row(r: dict[str, Any]) -> list[object]:
    ox, rd = r["oxigraph"], r["rdflib"]
    rows = ox["rows"] if r["rows_agree"] else f"{ox['rows']}!={rd['rows']}"
    return [r["query"], rows, *_stats(ox), *_stats(rd), r["ratio"]]


def _stats(cell: dict[str, Any]) -> list[object]:
    return [cell["median_ms"], cell["p95_ms"], cell["n"]]


def _synthetic_rows(size: dict[str, Any]) -> list[list[object]]:
    label = f"{size['topic']} ({size.get('synthetic_triples', '?')} triples, {size['variants']} variants)"
    rows: list[list[object]] = []
    for engine, cell in size["engines"].items():
        if "skipped" in cell:
            rows.append([label, engine, "-", f"skipped: {cell['skipped']}", "-", "-", "-", "-"])
            continue
        timings = [cell["queries"][name][stat] for name in SYNTHETIC_QUERIES for stat in ("median_ms", "p95_ms")]
        rows.append([label, engine, cell["triples"], cell["load_ms"], *timings])
    return rows


def metadata(settings: Settings, quick: bool) -> dict[str, Any]:
    """Enough context to tell two result files apart (versions, machine, settings)."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pyoxigraph": importlib.metadata.version("pyoxigraph"),
        "rdflib": importlib.metadata.version("rdflib"),
        "quick": quick,
        "settings": asdict(settings),
    }


# --- entry point -----------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions and small synthetic sizes (smoke run)")
    parser.add_argument("--json", type=Path, default=None, help=f"write all figures here (default {DEFAULT_RESULTS})")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = QUICK if args.quick else Settings()
    started = time.perf_counter()
    results: dict[str, Any] = {"meta": metadata(settings, args.quick), "load": {}}
    graphs: dict[str, KnowledgeGraph] = {}
    for engine in ENGINES:
        progress(f"loading the shipped graph {settings.loads + 1}x on {engine}")
        results["load"][engine] = bench_loads(engine, settings.loads)
        graphs[engine] = KnowledgeGraph.load(engine=engine)
    results["queries"] = bench_named_queries(graphs, settings)
    shipped = len(graphs["oxigraph"])
    graphs.clear()
    results["cli"] = bench_cli(settings.cli_runs)
    results["synthetic"] = bench_synthetic(settings, shipped)
    results["meta"]["elapsed_s"] = round(time.perf_counter() - started, 1)
    sys.stdout.write(render(results))
    print(f"\n(total benchmark time {results['meta']['elapsed_s']} s)")
    out = args.json or DEFAULT_RESULTS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    progress(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
