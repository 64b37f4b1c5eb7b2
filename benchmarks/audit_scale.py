"""Audits at data-lake scale: a Parquet file of generated imaging orders, audited by the
single-process path (``axilla-kg audit ORDERS.parquet --format parquet --output FILE``) and by the
Spark path in local mode (``--spark 'local[2]' --output DIR``), in one run: wall time, orders/s,
peak memory of each whole process tree, and the verdict counts, which must be identical.

    python benchmarks/audit_scale.py --rows 10000000 --out /tmp/audit-scale

The orders are realistic, not kind: ages and tumour sizes vary continuously, a field is often
unknown (null), the facts follow the patient (no tumour size without a known cancer, most of the
time), a share of rows is invalid as real extracts are (negative sizes, impossible ages, facts that
contradict each other, misspelt procedures), and the procedure mix is an axillary/breast imaging
department's (every procedure name of the graph, and the misspellings order catalogues have), with
the rarer case fields (BI-RADS as whole numbers, risk, presentation, N category...) mostly not
recorded, as in an extract. ``generate`` is also what ``tests/test_spark.py`` audits.

On a cluster the same job runs with ``spark-submit`` (see README "Audits on Spark"): every
executor needs Python with ``axilla-kg[spark]`` of the driver's version installed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PROCEDURES = [  # (procedure as the order extract spells it, share of orders): every ACR name of the graph
    ("US axilla", 0.22),
    ("Mammography diagnostic", 0.12),
    ("Digital breast tomosynthesis diagnostic", 0.07),
    ("US breast", 0.09),
    ("MRI breast without and with IV contrast", 0.09),
    ("FDG-PET/CT skull base to mid-thigh", 0.06),
    ("CT chest abdomen pelvis with IV contrast", 0.04),
    ("Bone scan whole body", 0.03),
    ("US-guided core biopsy axillary node", 0.04),
    ("MRI breast without IV contrast", 0.015),
    ("US-guided fine needle aspiration biopsy axillary node", 0.02),
    ("Image-guided core biopsy breast", 0.03),
    ("Image-guided fine needle aspiration breast", 0.01),
    ("Mammography screening", 0.03),
    ("Digital breast tomosynthesis screening", 0.02),
    ("CT chest abdomen pelvis without IV contrast", 0.005),
    ("CT chest abdomen pelvis without and with IV contrast", 0.005),
    ("FDG-PET/CT whole body", 0.01),
    ("FDG-PET breast dedicated", 0.003),
    ("FDG-PEM", 0.002),
    ("Mammography with IV contrast", 0.005),
    ("Sestamibi MBI", 0.004),
    ("Tc-99m sestamibi MBI", 0.001),  # the older edition's name
    # as order catalogues also spell them: invalid, each named in its row's message
    ("Ultrasound axila", 0.01),
    ("US axila ", 0.01),
    ("us axilla", 0.01),
    ("PET/CT", 0.01),
    (" Mammography diagnostic", 0.005),  # stray space: the audit strips it, a valid name
    ("MRI breast w/wo contrast", 0.005),
]


def _choice(rng: np.random.Generator, n: int, values: list[Any], shares: list[float]) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return rng.choice(np.asarray(values, dtype=object), size=n, p=p / p.sum())


def _chunk(rng: np.random.Generator, start: int, n: int) -> pa.Table:
    cancer = _choice(rng, n, ["none", "new", "recurrent", None], [0.35, 0.45, 0.08, 0.12])
    has = np.isin(cancer, ["new", "recurrent"])
    age = np.clip(rng.normal(58, 13, n).round(), 12, 97).astype(np.int64)
    age_valid = rng.random(n) > 0.20
    age[rng.random(n) < 0.0005] = 212  # impossible ages happen in extracts
    size = np.round(rng.lognormal(np.log(1.8), 0.6, n), 2)
    size[rng.random(n) < 0.002] = -1.0
    size_valid = has & (rng.random(n) > 0.25)
    size_valid |= (~has) & (rng.random(n) < 0.01)  # a size without a known cancer: contradiction

    def masked(values: np.ndarray, keep: np.ndarray) -> list[Any]:
        return [v if k else None for v, k in zip(values.tolist(), keep.tolist(), strict=True)]

    def cancer_only(values: list[Any], shares: list[float]) -> list[Any]:
        drawn = _choice(rng, n, values, shares)
        return [v if h else None for v, h in zip(drawn.tolist(), has.tolist(), strict=True)]

    lump = _choice(rng, n, ["unilateral", "bilateral", "none", None], [0.45, 0.05, 0.10, 0.40])
    columns: dict[str, Any] = {
        "order_id": [f"O-{start + i:09d}" for i in range(n)],
        "sex": _choice(rng, n, ["female", "male"], [0.97, 0.03]).tolist(),
        "age": pa.array(masked(age, age_valid), pa.int64()),
        "breast_cancer": cancer.tolist(),
        "tumor_size_cm": pa.array(masked(size, size_valid), pa.float64()),
        "clinical_nodes": cancer_only(["negative", "positive", None], [0.6, 0.3, 0.1]),
        "neoadjuvant": cancer_only(["none", "mid_treatment", "completed", None], [0.55, 0.1, 0.1, 0.25]),
        "nac_planned": cancer_only([True, False, None], [0.2, 0.3, 0.5]),
        "surgery_done": cancer_only([False, True, None], [0.3, 0.05, 0.65]),
        "node_side": cancer_only(["ipsilateral", "contralateral", None], [0.1, 0.02, 0.88]),
        "metastatic_suspicion": cancer_only([True, False, None], [0.03, 0.2, 0.77]),
        "diagnostic_breast_imaging_done": _choice(rng, n, [True, None], [0.6, 0.4]).tolist(),
        "axillary_lump": [v if not h or r < 0.15 else None for v, h, r in zip(lump, has, rng.random(n), strict=True)],
        "suspicious_node_on": _choice(
            rng,
            n,
            [None, "none", "ultrasound", "mammography", "mri", "ct", "pet_ct", "other"],
            [0.78, 0.05, 0.06, 0.03, 0.03, 0.02, 0.01, 0.02],
        ).tolist(),
        "imaging_step": _choice(rng, n, ["initial", "next", None], [0.5, 0.15, 0.35]).tolist(),
        "question": _choice(
            rng,
            n,
            [
                None,
                "axilla",
                "breast_extent",
                "systemic_staging",
                "nac_response",
                "locoregional_staging",
                "breast_presentation",
                "screening",
            ],
            [0.80, 0.08, 0.02, 0.02, 0.01, 0.02, 0.03, 0.02],
        ).tolist(),
        "recurrence_site": [
            v if c == "recurrent" else None
            for v, c in zip(_choice(rng, n, ["local", "other", None], [0.5, 0.2, 0.3]).tolist(), cancer, strict=True)
        ],
        "breast_presentation": _choice(
            rng, n, [None, "none", "palpable_mass", "gynecomastia"], [0.75, 0.1, 0.13, 0.02]
        ).tolist(),
        # BI-RADS as the extract holds it: a whole number, mostly not recorded
        "mammography_birads": pa.array(
            masked(rng.choice(7, n, p=[0.1, 0.25, 0.2, 0.1, 0.2, 0.1, 0.05]), rng.random(n) < 0.25), pa.int64()
        ),
        "us_birads": pa.array(
            masked(rng.choice(7, n, p=[0.05, 0.2, 0.2, 0.15, 0.25, 0.1, 0.05]), rng.random(n) < 0.15), pa.int64()
        ),
        "breast_cancer_risk": _choice(
            rng, n, [None, "average", "intermediate", "high"], [0.8, 0.12, 0.05, 0.03]
        ).tolist(),
        "invasive": cancer_only([True, False, None], [0.5, 0.1, 0.4]),
        "clinical_n_category": cancer_only(["N1", "N2", "N3", None], [0.05, 0.02, 0.01, 0.92]),
        "chest_wall_or_skin": cancer_only([True, False, None], [0.02, 0.2, 0.78]),
        "distant_metastases": cancer_only([True, False, None], [0.02, 0.15, 0.83]),
        "axilla_previously_evaluated": _choice(rng, n, [True, False, None], [0.05, 0.1, 0.85]).tolist(),
        "clinical_stage": cancer_only(["I-IIA", "other", None], [0.05, 0.03, 0.92]),  # sometimes contradicts
        "procedure": _choice(rng, n, [p for p, _ in PROCEDURES], [s for _, s in PROCEDURES]).tolist(),
    }
    types = {"nac_planned": pa.bool_(), "surgery_done": pa.bool_(), "metastatic_suspicion": pa.bool_()}
    for name in (
        "diagnostic_breast_imaging_done", "invasive", "chest_wall_or_skin", "distant_metastases",
        "axilla_previously_evaluated",
    ):  # fmt: skip
        types[name] = pa.bool_()
    return pa.table(
        {k: v if isinstance(v, pa.Array) else pa.array(v, types.get(k, pa.string())) for k, v in columns.items()}
    )


def generate(path: Path, rows: int, seed: int = 1, row_group_size: int = 262_144) -> None:
    """Write ``rows`` generated orders to a Parquet file, a chunk at a time (flat memory)."""
    rng = np.random.default_rng(seed)
    writer = None
    try:
        for start in range(0, rows, row_group_size):
            table = _chunk(rng, start, min(row_group_size, rows - start))
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=row_group_size)
    finally:
        if writer is not None:
            writer.close()


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss[int(entry.name)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(int(stat[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def measure(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a command; its wall time, CPU time (user + system, the process and its children), its
    whole process tree's peak RSS (sampled), its stdout."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.25):
            peak = max(peak, _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {err[-2000:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(peak / 2**20, 1), "stdout": out}


#: generated columns the case contract types as text although the extract holds whole numbers
TEXT_CODES = ("mammography_birads", "us_birads")


def cases_of(orders: Path, cases: Path, rows: int) -> Path:
    """The first ``rows`` orders as a batch cases file: the case-field columns only, BI-RADS as the
    contract's text codes (the audit reads every cell as text; ``recommend --cases`` reads JSON
    types, and would refuse a whole number there), so batch mode answers the very same cases."""
    table = pq.read_table(orders).slice(0, rows)
    table = table.drop_columns(["procedure", "order_id"])
    for name in TEXT_CODES:
        table = table.set_column(table.schema.get_field_index(name), name, table[name].cast(pa.string()))
    pq.write_table(table, cases, compression="zstd")
    return cases


def compare_with_batch(orders: Path, out: Path, rows: int, env: dict[str, str]) -> dict[str, Any]:
    """Audit throughput beside batch ``recommend --cases`` on the same cases, measured one after the
    other: the first ``rows`` orders, audited to Parquet; their cases answered to a JSON Lines file."""
    head = out / "compare-orders.parquet"
    pq.write_table(pq.read_table(orders).slice(0, rows), head, compression="zstd")
    cases = cases_of(orders, out / "compare-cases.parquet", rows)
    cli = [sys.executable, "-m", "axilla_kg"]
    answers = out / "compare-answers.jsonl"
    batch = measure([*cli, "recommend", "--cases", str(cases), "--output", str(answers)], env)
    audit = measure([*cli, "audit", str(head), "--format", "parquet", "--output", str(out / "compare.parquet")], env)
    with answers.open("rb") as f:
        errors = sum(1 for line in f if line.startswith(b'{"line":') and b'"error":' in line[:40])
    return {"rows": rows, "batch": batch, "audit": audit, "batch_errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--compare-rows", type=int, default=200_000, help="orders for the audit/batch comparison")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--master", default="local[2]", help="Spark master for the Spark path")
    parser.add_argument("--out", type=Path, required=True, help="working folder (orders and verdicts)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    orders = args.out / "orders.parquet"
    t = time.perf_counter()
    generate(orders, args.rows, args.seed)
    print(
        f"generated {args.rows:,} orders in {time.perf_counter() - t:.1f} s ({orders.stat().st_size / 2**20:.0f} MiB)"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    print(f"load average at the start {os.getloadavg()[0]:.1f} (2 cores)", flush=True)
    if args.compare_rows:
        compared = compare_with_batch(orders, args.out, min(args.compare_rows, args.rows), env)
        n, batch, audit = compared["rows"], compared["batch"], compared["audit"]
        print(f"\naudit beside batch recommend --cases, the same {n:,} cases (load {os.getloadavg()[0]:.1f}):")
        print(f"{'path':<24} {'wall s':>8} {'cases/s':>10} {'CPU s':>8} {'cases/CPU s':>12} {'peak RSS MB':>12}")
        for name, m in (("recommend --cases", batch), ("audit", audit)):
            print(
                f"{name:<24} {m['wall_s']:>8.1f} {n / m['wall_s']:>10,.0f} {m['cpu_s']:>8.1f} "
                f"{n / m['cpu_s']:>12,.0f} {m['peak_rss_mb']:>12.0f}"
            )
        wall, cpu = audit["wall_s"] / batch["wall_s"], audit["cpu_s"] / batch["cpu_s"]
        print(
            f"audit / batch time: wall {wall:.2f}, CPU {cpu:.2f} (target <= 1.5); "
            f"batch error lines {compared['batch_errors']:,} (the audit's invalid rows)",
            flush=True,
        )
    cli = [sys.executable, "-m", "axilla_kg", "audit", str(orders), "--format", "json"]
    single_out = args.out / "verdicts.parquet"
    spark_out = args.out / "verdicts-spark"
    shutil.rmtree(spark_out, ignore_errors=True)
    load_before = os.getloadavg()
    single = measure([*cli[:-2], "--format", "parquet", "--output", str(single_out)], env)
    print(f"single process: {single['wall_s']:.1f} s wall, {single['peak_rss_mb']:.0f} MB peak", flush=True)
    single_json = measure(
        [sys.executable, "-c", "import pyarrow.parquet as pq, collections, json, sys;"
         "t = pq.read_table(sys.argv[1], columns=['verdict']).column(0).to_pylist();"
         "print(json.dumps(collections.Counter(t)))", str(single_out)], env)  # fmt: skip
    spark = measure([*cli, "--spark", args.master, "--output", str(spark_out)], env)
    load_after = os.getloadavg()
    single_counts = json.loads(single_json["stdout"])
    spark_counts = {r["verdict"]: r["orders"] for r in json.loads(spark["stdout"])["by_verdict"] if r["orders"]}
    rows = [
        ("single process", single["wall_s"], single["cpu_s"], single["peak_rss_mb"]),
        (f"Spark {args.master}", spark["wall_s"], spark["cpu_s"], spark["peak_rss_mb"]),
    ]
    print(f"\n{args.rows:,} orders: load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (2 cores)")
    print(f"{'path':<20} {'wall s':>8} {'orders/s':>10} {'peak RSS MB':>12}")
    for name, wall, _, rss in rows:
        print(f"{name:<20} {wall:>8.1f} {args.rows / wall:>10,.0f} {rss:>12.0f}")
    print(f"single-process CPU time {single['cpu_s']:.1f} s (Spark's JVM is not reaped by this process: no CPU figure)")
    print(f"Spark / single-process wall time: {spark['wall_s'] / single['wall_s']:.2f}")
    print("verdict counts:", json.dumps(single_counts, sort_keys=True))
    print("identical verdict counts:", single_counts == spark_counts)
    if single_counts != spark_counts:
        print("Spark counts:", json.dumps(spark_counts, sort_keys=True))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
