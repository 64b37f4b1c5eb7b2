"""HermiT questions before/after, in one run: start-up, per case and per question, and optionally
the fast-path-equals-HermiT test.

``--before REV`` (default ``main``) is extracted with ``git archive``; the "after" side is this
working tree. For each side a fresh interpreter with that tree first on ``PYTHONPATH`` opens
:class:`axilla_kg.reasoning.reasoner.CaseQuestions` (*warm-up*: the JVM, loading the case module,
HermiT's consistency check) and asks the verdicts of ``--cases`` distinct patient cases, one
``verdicts([case])`` call each, as ``tests/test_fast_path.py`` once did, then all of them in one
``verdicts(cases)`` call (*batched*, question by question), then once more with those verdicts as
claims, ``verdicts(cases, claimed)`` (*confirmed*: two reasoner calls per group of cases, as the
test asks them now; 0 for a tree without claims). A case costs 1 + V + (V - refuted)
satisfiability questions for V variants, so *per question* is the case time divided by the
questions it asked. The two sides must give the same verdicts (the run fails otherwise).
``--pytest`` also times ``python -m pytest -m slow tests/test_fast_path*.py`` in each tree (the file
is now split in two), with ``AXILLA_KG_REASONER_CASES`` = ``--pytest-cases``. A measuring tool: it
asserts no timing.

    python benchmarks/bench_hermit.py --cases 200
    python benchmarks/bench_hermit.py --cases 500 --pytest --pytest-cases 5000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_export import REPO, extract

# Runs inside each tree: prints one JSON object. Cases: every combination of a few fields, then
# the gold-like values; the same list on both sides (sorted JSON), none contradictory.
PROBE = r"""
import inspect, json, random, sys, time
t0 = time.perf_counter()
from axilla_kg.contract.cases import parse_case
from axilla_kg.contract.features import shipped_registry
from axilla_kg.reasoning.reasoner import CaseQuestions
from axilla_kg.errors import AxillaKGError
wanted, draw = int(sys.argv[1]), random.Random(22)
cases, seen = [], set()
while len(cases) < wanted and len(seen) < 50 * wanted:
    data = {}
    for f in shipped_registry().features:
        if f.kind == "enum" or f.kind == "boolean":
            choices = list(f.values) if f.kind == "enum" else [True, False]
        elif f.kind == "decimal":
            choices = [0.5, 2.0, 2.0000001, 4.5]
        else:
            choices = [17, 18, 45]
        if f.name == "sex" or draw.random() < 0.4:
            data[f.name] = draw.choice(choices)
    key = json.dumps(data, sort_keys=True)
    if key in seen:
        continue
    seen.add(key)
    try:
        cases.append(parse_case(data))
    except (AxillaKGError, ValueError):
        continue
t1 = time.perf_counter()
questions = CaseQuestions()
t2 = time.perf_counter()
per_case, verdicts = [], []
for case in cases:
    s = time.perf_counter()
    try:
        (types,) = questions.verdicts([case])
    except AxillaKGError:
        verdicts.append(None)
        continue
    per_case.append(time.perf_counter() - s)
    n = len(questions.variants)
    verdicts.append([sorted(types.matched), sorted(types.refuted), 1 + 2 * n - len(types.refuted)])
good = [case for case, v in zip(cases, verdicts) if v is not None]
s = time.perf_counter()
batched = questions.verdicts(good)
batched_s = time.perf_counter() - s
assert [[sorted(t.matched), sorted(t.refuted)] for t in batched] == [v[:2] for v in verdicts if v is not None]
confirmed_s = None
if "claimed" in inspect.signature(questions.verdicts).parameters:  # the tree confirms claimed verdicts
    s = time.perf_counter()
    confirmed = questions.verdicts(good, batched)
    confirmed_s = time.perf_counter() - s
    assert [(t.matched, t.refuted) for t in confirmed] == [(t.matched, t.refuted) for t in batched]
questions.close()
print(json.dumps({"import_s": t1 - t0, "warmup_s": t2 - t1, "per_case": per_case, "verdicts": verdicts,
                  "batched_s": batched_s, "confirmed_s": confirmed_s}))
"""


def probe(tree: Path, cases: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(cases)], cwd=tree, env=env, capture_output=True, text=True, timeout=3600
    )
    if done.returncode != 0:
        raise SystemExit(f"the probe failed in {tree}: {done.stderr.strip()[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def fast_path_test(tree: Path, cases: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "AXILLA_KG_REASONER_CASES": str(cases)}
    started = time.perf_counter()
    files = sorted(str(p.relative_to(tree)) for p in (tree / "tests").glob("test_fast_path*.py"))  # split in two
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "slow", *files]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise SystemExit(f"tests/test_fast_path.py failed in {tree}:\n{done.stdout[-3000:]}")
    return time.perf_counter() - started


def summary(result: dict[str, object]) -> dict[str, float]:
    per_case = [float(x) for x in result["per_case"]]  # type: ignore[attr-defined]
    asked = sum(int(v[2]) for v in result["verdicts"] if v)  # type: ignore[attr-defined]
    total = sum(per_case)
    return {
        "warmup_s": round(float(result["warmup_s"]), 3),  # type: ignore[arg-type]
        "cases": len(per_case),
        "questions": asked,
        "ms_per_case": round(1000 * total / len(per_case), 2),
        "ms_per_question": round(1000 * total / asked, 3),
        "batched_ms_per_case": round(1000 * float(result["batched_s"]) / len(per_case), 2),  # type: ignore[arg-type]
        "batched_ms_per_question": round(1000 * float(result["batched_s"]) / asked, 3),  # type: ignore[arg-type]
        # the same cases with their verdicts as claims, confirmed at once (0: the tree cannot)
        "confirmed_ms_per_case": round(1000 * float(result["confirmed_s"] or 0) / len(per_case), 2),  # type: ignore[arg-type]
        "process_s": round(float(result["process_s"]), 2),  # type: ignore[arg-type]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="git revision to compare against (default main)")
    parser.add_argument("--cases", type=int, default=200, help="distinct cases asked on each side (default 200)")
    parser.add_argument("--pytest", action="store_true", help="also time tests/test_fast_path.py in each tree")
    parser.add_argument("--pytest-cases", type=int, default=5000, help="AXILLA_KG_REASONER_CASES for --pytest")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "hermit.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-hermit-") as tmp:
        old_tree = Path(tmp, "before")
        commit = extract(args.before, old_tree)
        print(f"before: {args.before} ({commit[:10]}); after: working tree {REPO}", file=sys.stderr)
        old, new = probe(old_tree, args.cases), probe(REPO, args.cases)
        same = old["verdicts"] == new["verdicts"]
        rows = {"before": summary(old), "after": summary(new)}
        if args.pytest:
            rows["before"]["fast_path_test_s"] = round(fast_path_test(old_tree, args.pytest_cases), 1)
            rows["after"]["fast_path_test_s"] = round(fast_path_test(REPO, args.pytest_cases), 1)
    keys = list(rows["after"])
    print(f"{'':8} " + " ".join(f"{k:>16}" for k in keys))
    for side, row in rows.items():
        print(f"{side:8} " + " ".join(f"{row[k]:>16}" for k in keys))
    ratios = {
        k: round(rows["before"][k] / rows["after"][k], 1)
        for k in keys
        if rows["before"][k] and rows["after"][k] and ("_s" in k or "ms" in k)
    }
    print(f"{'ratio':8} " + " ".join(f"{ratios.get(k, ''):>16}" for k in keys))
    print(f"same verdicts: {'yes' if same else 'NO'}")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta = {"before": args.before, "before_commit": commit, "loadavg": load}
    args.json.write_text(json.dumps({"meta": meta, "rows": rows, "same": same}, indent=1) + "\n", encoding="utf-8")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
