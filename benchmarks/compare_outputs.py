"""Before/after comparison of what users see: run the same commands in two checkouts and compare.

A refactoring (issue 13) must leave every answer unchanged. This script runs, in this checkout
and in another one (e.g. ``git worktree add /tmp/before fb69f2f``), every named query with every
sensible parameter value in every result format, ``variants`` of every topic, ``show`` of every
variant (table, json, csv), ``recommend`` of the gold cases (tests/cases_gold.py), ``audit`` of
the example orders, ``dose``, ``check`` and every ``export`` format, and reports per item whether
the output (stdout, stderr and exit status) is identical::

    python benchmarks/compare_outputs.py /tmp/before               # a table; exit 1 if any differs
    python benchmarks/compare_outputs.py /tmp/before --json        # the same as JSON
    python benchmarks/compare_outputs.py /tmp/before --skip check  # without the JVM stage (~1 min less)

Each checkout runs its own ``axilla_kg.cli.main`` in one Python process (this file, started with
``--run-items`` and that checkout first on ``sys.path``), so hundreds of commands cost two
interpreter starts, and the command line is the only interface the two trees must share. The
items (parameter values, variants, cases) are discovered through this checkout's CLI; a command
that one tree does not have is reported as different, not skipped.

Normalised before comparing, because they vary from run to run and say nothing about behaviour:
the per-stage seconds of ``check`` (its ``seconds`` JSON fields and the table's timing column).
Nothing else is normalised.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THIS = Path(__file__).resolve().parent.parent
ORDERS = "docs/examples/orders.csv"
QUERY_FORMATS = ("table", "json", "csv", "tsv")
KINDS = ("variants", "query", "show", "recommend", "audit", "dose", "check", "export")


@dataclass(frozen=True)
class Item:
    """One command line to run in both trees; ``key`` names it in the report."""

    kind: str
    args: tuple[str, ...]
    stdin: str | None = None
    label: str = ""

    @property
    def key(self) -> str:
        return self.label or " ".join(self.args)


# --- running commands inside one checkout ---------------------------------------------------------
def run_items_here(items: list[dict[str, Any]], outdir: Path) -> dict[str, Any]:
    """Run each item through ``axilla_kg.cli.main`` in this process (the checkout the caller put
    first on ``sys.path``), writing its output to ``outdir/N.out``; what ``cli_in_process`` of the
    tests does, kept here so this file needs nothing from either tree but the CLI."""
    import axilla_kg
    from axilla_kg.cli import main

    results: dict[str, Any] = {"package": str(Path(axilla_kg.__file__).resolve().parent), "items": []}
    for number, item in enumerate(items):
        out_raw, err_raw = io.BytesIO(), io.BytesIO()
        out = io.TextIOWrapper(out_raw, encoding="utf-8", newline="", write_through=True)
        err = io.TextIOWrapper(err_raw, encoding="utf-8", newline="", write_through=True)
        stdin = io.TextIOWrapper(io.BytesIO((item.get("stdin") or "").encode("utf-8")), encoding="utf-8")
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = stdin, out, err
        began = time.perf_counter()
        try:
            try:
                code = main(list(item["args"]))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception as exc:  # a crash is a result to compare, not a reason to stop
                code = -1
                err.write(f"CRASH {type(exc).__name__}: {exc}\n")
            out.flush()
            err.flush()
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
        (outdir / f"{number}.out").write_bytes(out_raw.getvalue())
        seconds = time.perf_counter() - began
        results["items"].append(
            {"exit": code, "stderr": err_raw.getvalue().decode("utf-8", "replace"), "seconds": seconds}
        )
    return results


def run_in_tree(tree: Path, items: Sequence[Item], outdir: Path) -> list[dict[str, Any]]:
    """Run ``items`` with ``tree``'s package, in a fresh interpreter whose working directory is
    the tree (relative paths such as the example orders resolve inside it)."""
    outdir.mkdir(parents=True, exist_ok=True)
    spec = [{"args": list(i.args), "stdin": i.stdin} for i in items]
    (outdir / "items.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONIOENCODING": "utf-8", "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--run-items", str(outdir)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"compare_outputs: running the commands in {tree} failed:\n{proc.stderr[-4000:]}")
    report = json.loads((outdir / "results.json").read_text(encoding="utf-8"))
    package = Path(report["package"])
    if package.parent != tree.resolve():
        raise SystemExit(f"compare_outputs: {tree} ran the package at {package}, not its own")
    items_out: list[dict[str, Any]] = report["items"]
    for number, entry in enumerate(items_out):
        entry["stdout"] = (outdir / f"{number}.out").read_bytes()
    return items_out


# --- what to run ------------------------------------------------------------------------------------
def _loads(result: dict[str, Any]) -> Any:
    if result["exit"] != 0:
        raise SystemExit(f"compare_outputs: discovery failed: {result['stderr']}")
    return json.loads(result["stdout"])


def _bindings(body: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


def discover(tree: Path, scratch: Path) -> dict[str, Any]:
    """Topics, variants, procedures, RRL symbols, ratings and named queries, read through the CLI."""
    facts: dict[str, Any] = {}
    spec = [
        ("queries", ["queries", "--format", "json"]),
        ("topics", ["query", "topics", "--format", "json"]),
        ("procedures", ["query", "procedure-details", "--format", "json"]),
        ("levels", ["sparql", "SELECT DISTINCT ?s WHERE { ?l ax:rrlSymbol ?s } ORDER BY ?s", "--format", "json"]),
    ]
    items = [Item("discover", tuple(args)) for _, args in spec]
    results = run_in_tree(tree, items, scratch)
    for (name, args), result in zip(spec, results, strict=True):
        if result["exit"] != 0:
            raise SystemExit(f"compare_outputs: discovery '{' '.join(args)}' failed: {result['stderr']}")
        facts[name] = json.loads(result["stdout"])
    topics = [row["topic"] for row in _bindings(facts["topics"])]
    listed = run_in_tree(
        tree, [Item("discover", ("variants", "--topic", t, "--format", "json")) for t in topics], scratch
    )
    facts["variants"] = [(t, int(v["variant"])) for t, res in zip(topics, listed, strict=True) for v in _loads(res)]
    rating_items = [
        Item(
            "discover",
            ("query", "variant-ratings", "--param", f"topic={t}", "--param", f"variant={n}", "--format", "json"),
        )
        for t, n in facts["variants"]
    ]
    ratings = [
        (topic, number, row["procedure"])
        for (topic, number), res in zip(facts["variants"], run_in_tree(tree, rating_items, scratch), strict=True)
        for row in _bindings(_loads(res))
    ]
    facts["topics"] = topics
    [usage] = run_in_tree(tree, [Item("discover", ("export", "--help"))], scratch)
    found = re.search(r"--format \{([^}]*)\}", usage["stdout"].decode())
    if found is None:
        raise SystemExit("compare_outputs: 'export --help' names no formats")
    facts["export_formats"] = found.group(1).split(",")
    facts["ratings"] = sorted(set(ratings))
    facts["procedures"] = sorted({r["procedure"] for r in _bindings(facts["procedures"])})
    facts["levels"] = [r["s"] for r in _bindings(facts["levels"])]
    return facts


def param_sets(parameters: list[str], facts: dict[str, Any]) -> list[dict[str, str]] | None:
    """Every sensible binding of a query's required parameters, from the graph; ``None`` when a
    parameter is one this script has no values for (reported, never guessed)."""
    names = set(parameters)
    if not names:
        return [{}]
    if names == {"variant", "topic"}:
        return [{"topic": t, "variant": str(n)} for t, n in facts["variants"]]
    if names == {"topic"}:
        return [{"topic": t} for t in facts["topics"]]
    if names == {"procedure"}:
        return [{"procedure": p} for p in facts["procedures"]]
    if names == {"ceiling"}:
        return [{"ceiling": s} for s in facts["levels"]]
    if names == {"variant", "procedure", "topic"}:
        return [{"topic": t, "variant": str(n), "procedure": p} for t, n, p in facts["ratings"]]
    return None


def _query_params(entry: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(every parameter, the required ones) from ``queries --format json``'s ``name:type[=default|?]``."""
    every, required = [], []
    for part in filter(None, (p.strip() for p in entry["parameters"].split(","))):
        name = part.split(":", 1)[0]
        every.append(name)
        if not part.endswith("?") and "=" not in part:
            required.append(name)
    return every, required


def load_gold(tree: Path) -> dict[str, dict[str, Any]]:
    """The gold cases of ``tree``'s tests/cases_gold.py, plus the seed patient as typed."""
    code = (
        "import json, sys; sys.path[:0] = ['tests', '.']; import cases_gold as g; "
        "out = {f'gold {t} V{n}': c for (t, n), c in g.GOLD.items()}; "
        "out['seed as typed'] = g.SEED_AS_TYPED; print(json.dumps(out))"
    )
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"compare_outputs: cannot read the gold cases of {tree}: {proc.stderr[-2000:]}")
    gold: dict[str, dict[str, Any]] = json.loads(proc.stdout)
    return gold


def plan(
    facts: dict[str, Any], gold: dict[str, dict[str, Any]], orders: Path, skip: set[str]
) -> tuple[list[Item], list[str]]:
    """The items to run, and the named queries left out (with why). ``orders`` is an absolute path,
    the same file for both trees."""
    items: list[Item] = []
    left_out: list[str] = []
    items += [
        Item("variants", ("variants", "--topic", t, "--format", f)) for t in facts["topics"] for f in ("table", "json")
    ]
    items.append(Item("query", ("queries", "--format", "json")))
    for entry in facts["queries"]:
        every, required = _query_params(entry)
        # a variant is named by topic and number: pass the (optional) topic with it
        sets = param_sets([*required, "topic"] if "variant" in required and "topic" in every else required, facts)
        if sets is None:
            left_out.append(f"{entry['name']}: no values known for {', '.join(required)}")
            continue
        for params in sets:
            args = ["query", entry["name"], *(f for k, v in params.items() for f in ("--param", f"{k}={v}"))]
            items += [Item("query", (*args, "--format", f)) for f in QUERY_FORMATS]
    for topic, number in facts["variants"]:
        for fmt in ("table", "json", "csv"):
            items.append(Item("show", ("show", str(number), "--topic", topic, "--format", fmt)))
    for name, case in gold.items():
        text = json.dumps(case)
        for extra in (("--format", "json"), ("--format", "table"), ("--format", "json", "--detail", "brief")):
            items.append(
                Item("recommend", ("recommend", "--case", "-", *extra), text, f"recommend {name} {' '.join(extra)}")
            )
    items += [Item("audit", ("audit", str(orders), "--format", f)) for f in ("table", "json", "csv")]
    dose = ("dose", "US axilla", "Mammography diagnostic", "FDG-PET/CT skull base to mid-thigh")
    items += [Item("dose", (*dose, "--format", f)) for f in ("table", "json")] + [Item("dose", (*dose, "--age", "12"))]
    items += [Item("check", ("check", "--format", f, "--fail-on", "none")) for f in ("json", "table")]
    # every format once (each export loads the graph into rdflib: ~5-10 s on a busy machine), and
    # the two content options once each, in the format whose diff is easiest to read
    items += [Item("export", ("export", "--format", f)) for f in facts["export_formats"]]
    items += [Item("export", ("export", "--format", "nt", option)) for option in ("--inferred", "--topic=286")]
    return [i for i in items if i.kind not in skip], left_out


# --- comparing ----------------------------------------------------------------------------------------
_STAGE_HEADER = re.compile(r"^stage\s+seconds\s+findings$", re.MULTILINE)
_SECONDS = re.compile(r"\d+\.\d+")


def normalise(item: Item, stdout: bytes) -> bytes:
    """Take out what varies between runs of the same code (see the module docstring)."""
    if item.kind != "check":
        return stdout
    text = stdout.decode("utf-8", "replace")
    if "--format" in item.args and item.args[item.args.index("--format") + 1] == "json":
        try:
            body = json.loads(text)
        except ValueError:
            return stdout
        return json.dumps(_drop_seconds(body), ensure_ascii=False, sort_keys=False).encode()
    header = _STAGE_HEADER.search(text)  # the summary table: 'stage  seconds  findings'
    if header is None:
        return stdout
    lines = text[header.start() :].split("\n")
    for index, line in enumerate(lines):
        if line.startswith("Findings:"):
            break
        words = line.split()  # the column widths follow the seconds, so they go too
        if len(words) >= 2 and _SECONDS.fullmatch(words[1]):
            words[1] = "T"
        lines[index] = " ".join("-" if set(w) == {"-"} else w for w in words)
    return (text[: header.start()] + "\n".join(lines)).encode()


def _drop_seconds(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_seconds(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [_drop_seconds(v) for v in value]
    return value


def first_difference(before: bytes, after: bytes) -> str:
    """Where the outputs first differ: the line, and each side from just before the first
    differing character, for the report."""
    a, b = before.decode("utf-8", "replace").splitlines(), after.decode("utf-8", "replace").splitlines()
    for number, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            column = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
            start = max(0, column - 30)
            return f"line {number} col {column + 1}: {x[start : start + 90]!r} -> {y[start : start + 90]!r}"
    return f"{len(a)} lines -> {len(b)} lines"


def output_format(item: Item) -> str:
    """The ``--format`` an item asks for (``table`` when it names none, as the CLI's default)."""
    for index, word in enumerate(item.args):
        if word == "--format" and index + 1 < len(item.args):
            return item.args[index + 1]
        if word.startswith("--format="):
            return word.split("=", 1)[1]
    return "table"


def compare(
    items: Sequence[Item], before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    for item, old, new in zip(items, before, after, strict=True):
        old_out, new_out = normalise(item, old["stdout"]), normalise(item, new["stdout"])
        differs = []
        if old["exit"] != new["exit"]:
            differs.append(f"exit {old['exit']} -> {new['exit']}")
        if old_out != new_out:
            differs.append("stdout " + first_difference(old_out, new_out))
        if old["stderr"] != new["stderr"]:
            differs.append("stderr " + first_difference(old["stderr"].encode(), new["stderr"].encode()))
        yield {
            "kind": item.kind,
            "format": output_format(item),
            "item": item.key,
            "result": "different" if differs else "identical",
            "exit": new["exit"],
            "bytes": len(new_out),
            "sha256": hashlib.sha256(new_out).hexdigest()[:16],
            "difference": "; ".join(differs),
        }


def summary_table(rows: Iterable[dict[str, Any]], show_identical: bool) -> str:
    rows = list(rows)
    counts = Counter((r["kind"], r["result"]) for r in rows)
    lines = ["kind       identical  different"]
    for kind in KINDS:
        if counts[(kind, "identical")] or counts[(kind, "different")]:
            lines.append(f"{kind:<10} {counts[(kind, 'identical')]:>9}  {counts[(kind, 'different')]:>9}")
    lines.append(
        f"{'total':<10} {sum(1 for r in rows if r['result'] == 'identical'):>9}  "
        f"{sum(1 for r in rows if r['result'] == 'different'):>9}"
    )
    others = sum(1 for r in rows if r["result"] == "different" and r["format"] != "table")
    lines.append(f"different in a format other than table: {others}")
    shown = [r for r in rows if show_identical or r["result"] != "identical"]
    if shown:
        lines.append("")
        lines += [
            f"{r['result']:<10} {r['item']}" + (f"\n           {r['difference']}" if r["difference"] else "")
            for r in shown
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", nargs="?", type=Path, help="the other checkout (the 'before' tree)")
    parser.add_argument("--after", type=Path, default=THIS, help="the checkout to compare with it (default: this one)")
    parser.add_argument("--json", action="store_true", help="print every item's result as JSON instead of a table")
    parser.add_argument("--all", action="store_true", help="list identical items too, not only the differences")
    parser.add_argument(
        "--skip", action="append", default=[], choices=KINDS, help="leave out a kind of item (repeatable)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep every output under DIR (default: a temporary folder, removed)",
    )
    parser.add_argument("--run-items", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_items is not None:  # the worker: run one checkout's commands (see run_in_tree)
        spec = json.loads((args.run_items / "items.json").read_text(encoding="utf-8"))
        report = run_items_here(spec, args.run_items)
        (args.run_items / "results.json").write_text(json.dumps(report), encoding="utf-8")
        return 0
    if args.before is None or not (args.before / "axilla_kg" / "cli").is_dir():
        parser.error("give the other checkout: a folder holding axilla_kg/cli (e.g. a git worktree of an older commit)")
    with tempfile.TemporaryDirectory(prefix="compare-outputs-") as tmp:
        work = args.keep or Path(tmp)
        facts = discover(args.after, work / "discover")
        gold = load_gold(args.after)
        items, left_out = plan(facts, gold, (args.after / ORDERS).resolve(), set(args.skip))
        print(f"compare_outputs: {len(items)} commands in each tree", file=sys.stderr)
        before = run_in_tree(args.before, items, work / "before")
        after = run_in_tree(args.after, items, work / "after")
        rows = list(compare(items, before, after))
    if args.json:
        body = {"before": str(args.before), "after": str(args.after), "left_out": left_out, "items": rows}
        print(json.dumps(body, ensure_ascii=False, indent=1))
    else:
        print(f"before: {args.before}\nafter:  {args.after}\n")
        print(summary_table(rows, args.all), end="")
        for reason in left_out:
            print(f"left out: {reason}")
    return 1 if any(r["result"] == "different" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
