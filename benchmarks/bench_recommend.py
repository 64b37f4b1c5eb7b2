"""Benchmark ``recommend``: batch throughput on two mixes, against a dict-lookup limit; optionally
peak memory for millions of lines, the cold CLI, warm in-process calls and HermiT itself.

Run from the repository root (the CLI runs as ``python -m axilla_kg`` from this checkout)::

    python benchmarks/bench_recommend.py                      # 200,000 cases of each mix, to a file
    python benchmarks/bench_recommend.py --baseline ../old    # the same run, also timing another checkout
    python benchmarks/bench_recommend.py --big 10000000       # + 10 million distinct lines: rate, peak memory
    python benchmarks/bench_recommend.py --cases 50000 --all  # + cold CLI, warm calls, HermiT (500 cases)

Two mixes (``--mix``). *varied* (issue 24): every contract field occurs, ages (14-96) and tumour
sizes (0.1-8 cm, one to three decimals) vary continuously, optional fields are left out or sent as
null, and each line is written by one of three programs (registry order with ``", "`` separators, or
its own key order per line, compact or spaced); eight clinical situations (work-up of a new cancer,
NAC response, recurrence, palpable lump, suspicious node, staging, a breast mass or gynecomastia,
screening) set which fields a line carries, all 26 contract fields among them (BI-RADS, risk,
clinical stage and its AJCC facts too); about 0.5 % of lines break the contract (no sex).
*few-kinds* (issue 14's mix): 70 % new cancers,
20 % palpable lumps, 10 % suspicious nodes, about 30 kinds of case. Each mix reports its distinct
lines, cases, classes (the batch cache key) and answers.

Per mix the batch section writes 200,000 generated cases to a file, runs ``recommend --cases FILE``
end to end as a user would (stdout to a file, default settings, then the other ``--detail`` levels;
the ``--baseline`` checkout's default and ``--jobs 1`` when it has that flag), and times a *dict-lookup
limit*: a plain script that looks every input line up in a dictionary of precomputed answers (built
from the product's own output beforehand and pickled) and writes the same bytes with the same
``writev`` calls. The limit is timed like the product, end to end (process start, loading its
answers, the loop); the loop alone is reported too, as the floor no per-line program can beat. The
issue words the limit as "parse each line, look its answer up, write the same bytes": that limit is
timed too (each line decoded with msgspec, the fastest JSON reader the product ships, and its answer
looked up by the decoded members), and the product's ratio to each is printed. All of them
run with byte code cached, as an installed package has it. A *floor* measures what the design costs
with no new class at all (start-up, then a second in-process pass over the same lines with every
class's answer known and no line remembered): no speed-up of the per-class work can take the
product below it. Each figure carries the 1-minute load
average taken just before it; all come from one run, so the ratios are the figures to read on a
shared machine. Peak memory is the largest sum of RSS over the whole process tree (sampled every 20
ms). With ``--baseline`` the outputs are compared byte for byte, and, JSON member by member, on
every member the baseline's lines have (a newer answer may add members). Nothing is asserted about
speed; the run stops only if an answer is wrong (every 500th line is checked against
``Recommender.recommend``), since timing a wrong answer is meaningless.
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import json
import multiprocessing
import os
import pickle
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import msgspec

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from axilla_kg.contract.cases import CaseError, PatientCase, loads_case, parse_case  # noqa: E402
from axilla_kg.graph.knowledge import KnowledgeGraph  # noqa: E402
from axilla_kg.reasoning.reasoner import classify_cases  # noqa: E402
from axilla_kg.recommend.recommender import Recommender, dumps  # noqa: E402
from axilla_kg.recommend.workers import default_jobs  # noqa: E402

CASE_FLAGS = [
    "--sex", "female", "--breast-cancer", "new", "--tumor-size-cm", "1.5",
    "--clinical-nodes", "positive", "--diagnostic-breast-imaging-done", "true", "--format", "json",
]  # fmt: skip
MODALITIES = ["mammography", "ultrasound", "mri", "ct", "pet_ct", "other"]


def cli() -> list[str]:
    return [sys.executable, "-m", "axilla_kg"]


def cli_env(tree: Path) -> dict[str, str]:
    """The CLI of ``tree`` (this checkout, or the ``--baseline`` one), never an installed copy. Byte
    code is cached as for an installed package (the warm-up run writes it), whatever this shell says."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def realistic_case(rng: random.Random) -> dict[str, Any]:
    """One case of the mix issue 14 describes (what an oncology department's orders look like)."""
    draw = rng.random()
    age = rng.randint(25, 90)
    if draw < 0.7:  # newly diagnosed cancer
        return {
            "sex": "male" if rng.random() < 0.1 else "female",
            "age": age,
            "breast_cancer": "new",
            "tumor_size_cm": round(rng.uniform(0.3, 7.0), 2),
            "clinical_nodes": rng.choice(["negative", "positive"]),
            "neoadjuvant": rng.choice(["none", "mid_treatment", "completed"]),
            "diagnostic_breast_imaging_done": True,
        }
    if draw < 0.9:  # palpable axillary lump
        return {"sex": "female", "age": age, "axillary_lump": rng.choice(["unilateral", "bilateral"])}
    return {"sex": "female", "age": age, "suspicious_node_on": rng.choice(MODALITIES)}


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


#: How programs write a case: key order (``None``: shuffled per line) and JSON separators.
PROGRAMS: list[tuple[list[str] | None, tuple[str, str]]] = [
    (["sex", "age", "question", "breast_cancer", "recurrence_site", "tumor_size_cm", "clinical_nodes", "node_side",
      "metastatic_suspicion", "nac_planned", "neoadjuvant", "surgery_done", "axillary_lump", "suspicious_node_on",
      "diagnostic_breast_imaging_done", "axilla_previously_evaluated", "imaging_step", "breast_presentation",
      "mammography_birads", "us_birads", "breast_cancer_risk", "clinical_stage", "invasive", "chest_wall_or_skin",
      "clinical_n_category", "distant_metastases"], (", ", ": ")),
    (None, (",", ":")),  # a dict built from a form, in whatever order the form was filled
    (None, (", ", ": ")),
]  # fmt: skip


def _maybe(rng: random.Random, case: dict[str, Any], name: str, value: Any, present: float = 0.55) -> None:
    """Set ``name`` with probability ``present``; otherwise leave it out or (one time in four) send null."""
    draw = rng.random()
    if draw < present:
        case[name] = value
    elif draw < present + (1 - present) / 4:
        case[name] = None


def varied_case(rng: random.Random) -> dict[str, Any]:
    """One case of the *varied* mix (issue 24): every contract field occurs, ages and tumour sizes
    vary continuously, optional fields are missing or explicitly null. Each line is one of eight
    clinical situations and carries the fields that situation makes a program send (each present,
    left out, or null at random); values respect the contract's rules between fields (a clinic's
    system sends consistent cases), so nearly every line is answered."""
    case: dict[str, Any] = {}
    male = rng.random() < 0.04
    _maybe(rng, case, "sex", "male" if male else "female", 0.995)
    _maybe(rng, case, "age", rng.randint(14, 96), 0.85)
    situation = rng.choices(
        ["work-up", "nac", "recurrence", "lump", "node", "staging", "breast", "screening"], [40, 9, 7, 15, 10, 7, 8, 4]
    )[0]
    size = round(rng.uniform(0.1, 8.0), rng.choice([1, 1, 2, 2, 3])) or 0.1
    birads = ["0", "1", "2", "3", "4", "5"]
    if situation in ("work-up", "nac", "staging"):
        case["breast_cancer"] = "new"
        question = {
            "work-up": rng.choice(["axilla", "breast_extent", "systemic_staging", "locoregional_staging"]),
            "nac": "nac_response",
            "staging": rng.choice(["systemic_staging", "locoregional_staging"]),
        }[situation]
        _maybe(rng, case, "question", question, {"work-up": 0.5, "nac": 0.7, "staging": 0.8}[situation])
        _maybe(rng, case, "tumor_size_cm", size, 0.85 if situation == "work-up" else 0.6)
        _maybe(rng, case, "clinical_nodes", rng.choice(["negative", "positive"]), 0.7)
        if case.get("clinical_nodes") == "positive":
            _maybe(rng, case, "node_side", rng.choice(["ipsilateral", "ipsilateral", "contralateral"]), 0.3)
            _maybe(rng, case, "clinical_n_category", rng.choice(["N1", "N1", "N2", "N3"]), 0.3)
        _maybe(rng, case, "metastatic_suspicion", rng.random() < 0.3, 0.6 if situation == "staging" else 0.15)
        _maybe(rng, case, "invasive", rng.random() < 0.85, 0.4)
        _maybe(rng, case, "chest_wall_or_skin", rng.random() < 0.1, 0.3)
        _maybe(rng, case, "distant_metastases", rng.random() < 0.1, 0.25)
        if situation == "staging" and not {"tumor_size_cm", "invasive", "clinical_n_category"} & set(case):
            _maybe(rng, case, "clinical_stage", rng.choice(["I-IIA", "other"]), 0.5)  # read off a report
        _maybe(rng, case, "mammography_birads", rng.choice(["4", "5", "6"]), 0.2)
        _maybe(rng, case, "us_birads", rng.choice(["4", "5", "6"]), 0.15)
        if situation == "nac":
            _maybe(rng, case, "nac_planned", True, 0.5)
            _maybe(rng, case, "neoadjuvant", rng.choice(["mid_treatment", "completed"]), 0.9)
            _maybe(rng, case, "surgery_done", False, 0.4)
        else:
            planned = rng.random() < 0.3
            _maybe(rng, case, "nac_planned", planned, 0.3)
            _maybe(rng, case, "neoadjuvant", "mid_treatment" if planned and rng.random() < 0.3 else "none", 0.4)
            _maybe(rng, case, "diagnostic_breast_imaging_done", rng.random() < 0.8, 0.6)
            _maybe(rng, case, "imaging_step", rng.choice(["initial", "next"]), 0.3)
    elif situation == "recurrence":
        case["breast_cancer"] = "recurrent"
        _maybe(rng, case, "recurrence_site", rng.choice(["local", "other"]), 0.7)
        _maybe(rng, case, "question", rng.choice(["axilla", "breast_extent", "systemic_staging"]), 0.3)
        _maybe(rng, case, "tumor_size_cm", size, 0.4)
        _maybe(rng, case, "clinical_nodes", rng.choice(["negative", "positive"]), 0.4)
        _maybe(rng, case, "surgery_done", rng.random() < 0.5, 0.5)
        _maybe(rng, case, "metastatic_suspicion", rng.random() < 0.3, 0.3)
        _maybe(rng, case, "distant_metastases", rng.random() < 0.3, 0.3)
        _maybe(rng, case, "invasive", rng.random() < 0.9, 0.2)
    elif situation == "breast":  # a palpable breast mass, or gynecomastia in a man
        _maybe(rng, case, "breast_cancer", "none", 0.4)
        presentation = "gynecomastia" if case.get("sex") == "male" and rng.random() < 0.7 else "palpable_mass"
        _maybe(rng, case, "breast_presentation", presentation, 0.9)
        if case.get("breast_presentation") is not None:
            _maybe(rng, case, "question", "breast_presentation", 0.5)
        _maybe(rng, case, "mammography_birads", rng.choice(birads), 0.35)
        _maybe(rng, case, "us_birads", rng.choice(birads), 0.35)
        _maybe(rng, case, "imaging_step", rng.choice(["initial", "next"]), 0.3)
        _maybe(rng, case, "breast_cancer_risk", rng.choice(["average", "intermediate", "high"]), 0.2)
    elif situation == "screening":  # no symptoms: a screening question and the patient's risk
        _maybe(rng, case, "breast_cancer", "none", 0.6)
        _maybe(rng, case, "question", "screening", 0.8)
        _maybe(rng, case, "breast_cancer_risk", rng.choice(["average", "average", "intermediate", "high"]), 0.8)
        _maybe(rng, case, "breast_presentation", "none", 0.4)
        _maybe(rng, case, "axillary_lump", "none", 0.3)
        _maybe(rng, case, "mammography_birads", rng.choice(["1", "2", "3", "0"]), 0.2)
    else:  # a palpable lump or a suspicious node, cancer not known
        _maybe(rng, case, "breast_cancer", "none", 0.5)
        if situation == "lump":
            _maybe(rng, case, "axillary_lump", rng.choice(["unilateral", "unilateral", "bilateral"]), 0.95)
            _maybe(rng, case, "diagnostic_breast_imaging_done", rng.random() < 0.5, 0.3)
            _maybe(rng, case, "breast_presentation", rng.choice(["none", "none", "palpable_mass"]), 0.2)
        else:
            _maybe(rng, case, "suspicious_node_on", rng.choice(MODALITIES), 0.95)
            _maybe(rng, case, "axillary_lump", "none", 0.2)
            _maybe(rng, case, "us_birads", rng.choice(birads), 0.15)
        _maybe(rng, case, "axilla_previously_evaluated", rng.random() < 0.3, 0.35)
        _maybe(rng, case, "imaging_step", rng.choice(["initial", "next"]), 0.35)
        _maybe(rng, case, "breast_cancer_risk", rng.choice(["average", "intermediate", "high"]), 0.1)
    return case


def varied_line(rng: random.Random) -> str:
    """A varied case as one of :data:`PROGRAMS` writes it (its key order and spacing)."""
    case = varied_case(rng)
    order, separators = rng.choice(PROGRAMS)
    if order is None:
        names = list(case)
        rng.shuffle(names)
    else:
        names = [n for n in order if n in case]
    return json.dumps({n: case[n] for n in names}, separators=separators)


#: The mixes: ``varied`` (issue 24: few repeats) and ``few-kinds`` (issue 14's mix, ~32 kinds of case).
MIXES = {"varied": varied_line, "few-kinds": lambda rng: json.dumps(realistic_case(rng))}


def write_cases(path: Path, n: int, seed: int, mix: str = "varied") -> None:
    rng = random.Random(seed)
    line = MIXES[mix]
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(n):
            handle.write(line(rng) + "\n")


#: the longest wait between two PSS readings of a process tree (:class:`TreeMemory`), in seconds
PSS_EVERY = 1.0


class TreeMemory:
    """Samples the summed RSS of a process and all its descendants until stopped, and their summed
    PSS (forked workers share the parent's pages: RSS counts a shared page once per process, PSS
    splits it between them, so the PSS sum is what the tree takes).

    RSS is read every 20 ms (``/proc/PID/status``: about 20 us a process). PSS is read every
    :data:`PSS_EVERY` seconds, and every 0.25 s while the RSS sum grows by 5 % or more between two
    readings (so the PSS peak is within a few percent of the true one): ``smaps_rollup`` walks the
    process's page tables, 3-5 ms for each of a batch run's three processes, and read every 20 ms
    (as it was until the seventh round of issue 24) it took a third of one of the two cores from the
    product being timed, a drag the dict-lookup limit (timed without a sampler) never had."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self.peak_pss_kb, self.stop = pid, 0, 0, threading.Event()
        self.started = time.perf_counter()
        self.series: list[tuple[float, int]] = []  # (seconds since the start, summed RSS in kB), each sample
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            with contextlib.suppress(OSError):
                todo += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return pids

    @staticmethod
    def _kb(pid: int, table: str, name: str) -> int:
        """One ``name: N kB`` figure of a /proc table (``status``: VmRSS; ``smaps_rollup``: Pss); 0 when gone."""
        try:
            for line in Path(f"/proc/{pid}/{table}").read_text().splitlines():
                if line.startswith(name):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        last_pss, rss_then = -PSS_EVERY, 0  # when PSS was read last, and the RSS sum then
        while not self.stop.wait(0.02):
            tree = self._tree()
            rss = sum(self._kb(p, "status", "VmRSS:") for p in tree)
            now = time.perf_counter() - self.started
            self.peak_kb = max(self.peak_kb, rss)
            self.series.append((now, rss))
            if len(tree) == 1:  # one process: its PSS is about its RSS
                self.peak_pss_kb = max(self.peak_pss_kb, rss)
            elif now - last_pss >= PSS_EVERY or (rss > rss_then * 1.05 and now - last_pss >= 0.25):
                last_pss, rss_then = now, rss
                self.peak_pss_kb = max(self.peak_pss_kb, sum(self._kb(p, "smaps_rollup", "Pss:") for p in tree))

    def finish(self) -> float:
        self.stop.set()
        self.thread.join()
        return self.peak_kb / 1024

    def peaks(self, parts: int) -> list[float]:
        """The peak summed RSS (MB) in each of ``parts`` equal stretches of the run's time: memory
        that stays flat has about the same peak in the last stretch as in the second."""
        if not self.series:
            return []
        end = self.series[-1][0] or 1.0
        out = [0] * parts
        for at, rss in self.series:
            i = min(parts - 1, int(at / end * parts))
            out[i] = max(out[i], rss)
        return [kb / 1024 for kb in out]


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and its waited-for descendants:
    unlike wall time, barely moved by other work on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: seconds every timed run that writes a file waits after :func:`settle`'s ``sync`` (``--settle``)
SETTLE_SECONDS = 0.0


def settle() -> None:
    """Before each timed run that writes a file: the kernel writes back what earlier runs left in
    the page cache (each left a gigabyte of dirty pages), outside the timing. Without it a run
    paid for its predecessors' writeback (throttled writes, writeback in its system time): the
    same product run took 6.85 s and 9.61 s (10.6 and 14.9 CPU-s) in one benchmark, and the limit
    moved as much. Every run, the limit's too, starts with no dirty pages.

    ``--settle SECONDS`` then waits, for the memory the previous run freed (its output file,
    deleted just before). On a virtual machine whose balloon device reports free pages to the host
    (``virtio_balloon`` with free page reporting, as here), Linux reports a freed page after two
    seconds and the host takes it back; a page the host has taken back costs a fault on the host
    when it is next written. Writing one 1.1 GB file (the varied mix's answers) after another copy
    was written and deleted took 0.36 s of system time right away, 1.55 after 4 s, 1.82 after 8,
    1.79 after 16 and 1.90 after 30. The dict-lookup limit, which writes its whole output within
    two seconds, is the run this moves most: its rounds took 2.1-3.3 s (parsing) with a wait of
    10 s and 1.8-1.9 s without, the product's 4.4-5.2 and 4.7-5.2 s; and the state drifts within
    a benchmark (the first limit run of one with 10 s waits took 4.1 s, its last 2.4), so neither
    4 s nor 10 s made it steady. The default, no wait, is the one least kind to the product (the
    limit gets the pages the run before it freed): its ratios are the ones ``benchmarks/README.md``
    reports."""
    os.sync()
    if SETTLE_SECONDS:
        time.sleep(SETTLE_SECONDS)


def product_run(tree: Path, label: str, cases: Path, out: Path, n: int, extra: list[str]) -> dict[str, Any]:
    """``recommend --cases FILE`` end to end, stdout to a file: wall time and peak tree memory."""
    out.unlink(missing_ok=True)
    settle()
    load = os.getloadavg()[0]
    args = [*cli(), "recommend", "--cases", str(cases), *extra]
    with out.open("wb") as sink:
        cpu = children_cpu()
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=sink, stderr=subprocess.PIPE, env=cli_env(tree), cwd=tree)
        memory = TreeMemory(proc.pid)
        _, err = proc.communicate()
        wall = time.perf_counter() - started
        cpu = children_cpu() - cpu
    peak = memory.finish()
    if proc.returncode != 0:
        sys.exit(f"{label}: exit {proc.returncode}: {err.decode()[-500:]}")
    size = out.stat().st_size
    return {
        "run": label,
        "args": extra,
        "cases": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "cases_per_s": n / wall,
        "peak_tree_rss_mb": peak,
        "peak_tree_pss_mb": memory.peak_pss_kb / 1024,
        "output_mb": size / 2**20,
        "bytes_per_line": size / n,
        "load_avg_1m": load,
    }


LIMIT_LOOP = """
import os, pickle, sys, time
import msgspec
parse = sys.argv[4] == "parse"
decode = msgspec.json.decode
with open(sys.argv[1], "rb") as handle:
    answers = pickle.load(handle)
started = time.perf_counter()
fd = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
pieces = []
with open(sys.argv[2], "rb") as lines:
    for number, line in enumerate(lines, start=1):
        head, tail = answers[tuple(decode(line).items()) if parse else line]
        pieces += (b'{"line":%d,' % number, head, tail)
        if len(pieces) >= 1020:
            os.writev(fd, pieces)
            pieces = []
os.writev(fd, pieces)
os.close(fd)
print(time.perf_counter() - started)
"""


def limit_table(cases: Path, answered: Path, tmp: Path, parse: bool = False) -> Path:
    """The dict-lookup limit's precomputed answers, pickled (built outside any timing): per input
    line (``parse``: per its decoded members) the product's output line without its number."""
    answers: dict[Any, tuple[bytes, bytes]] = {}
    tails: dict[bytes, bytes] = {}
    with cases.open("rb") as src, answered.open("rb") as ans:
        for line, result in zip(src, ans, strict=True):
            rest = result[result.index(b",") + 1 :]
            at = rest.index(b',"matches"') if b',"matches"' in rest else 0
            head, tail = rest[:at], rest[at:]
            key = tuple(msgspec.json.decode(line).items()) if parse else line
            if answers.setdefault(key, (head, tails.setdefault(tail, tail))) != (head, tail):
                sys.exit("the parse limit: two lines with the same members got different answers")
    table = tmp / ("answers-parse.pickle" if parse else "answers.pickle")
    with table.open("wb") as handle:
        pickle.dump(answers, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return table


def limit_run(table: Path, cases: Path, answered: Path, out: Path, n: int, parse: bool = False) -> dict[str, Any]:
    """The dict-lookup limit: precomputed answers (:func:`limit_table`), a lookup and a write per line.
    ``parse``: the issue's own wording of the limit (parse each line, look its answer up, write the
    same bytes): each line is decoded first (msgspec, the fastest JSON reader the product ships) and
    its answer looked up by the decoded members; else by the line's bytes (no parse: the lower floor)."""
    out.unlink(missing_ok=True)
    settle()
    load = os.getloadavg()[0]
    cpu = children_cpu()
    started = time.perf_counter()
    mode = "parse" if parse else "raw"
    done = subprocess.run([sys.executable, "-c", LIMIT_LOOP, str(table), str(cases), str(out), mode], check=True,
                          capture_output=True, text=True, env=cli_env(REPO_ROOT))  # fmt: skip
    wall = time.perf_counter() - started
    cpu = children_cpu() - cpu
    loop = float(done.stdout)
    if not filecmp.cmp(out, answered, shallow=False):  # (in blocks: no 2.2 GB freed before the next run)
        sys.exit("the dict-lookup limit did not write the same bytes as the product")
    name = "dict-lookup limit, parsing each line" if parse else "dict-lookup limit"
    return {"run": name, "cases": n, "wall_s": wall, "cases_per_s": n / wall, "load_avg_1m": load,
            "cpu_s": cpu, "loop_s": loop, "loop_cases_per_s": n / loop}  # fmt: skip


def check_answers(rec: Recommender, cases: Path, answered: Path, detail: str, every: int = 500) -> int:
    """Every ``every``-th output line must be exactly the single-case answer; returns how many were checked."""
    checked = 0
    with cases.open(encoding="utf-8") as src, answered.open(encoding="utf-8") as ans:
        for number, (line, result) in enumerate(zip(src, ans, strict=True), start=1):
            if number % every == 1:
                try:
                    case = loads_case(line)
                except CaseError as exc:  # the line's own error, naming the field
                    wanted = {"line": number, "error": str(exc), **({"field": exc.field} if exc.field else {})}
                    if json.loads(result) != wanted:
                        sys.exit(f"line {number}: the batch error differs from the contract's")
                    checked += 1
                    continue
                expected = dumps({"line": number, **rec.recommend(case, detail=detail)})
                if result.rstrip("\n") != expected:
                    sys.exit(f"line {number}: the batch answer differs from the single-case answer")
                checked += 1
    return checked


FLOOR_SCRIPT = """
import os, sys, time
started = time.perf_counter()
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend import batch
from axilla_kg.recommend.recommender import Recommender
answerer = batch.BatchRecommender(Recommender.load(KnowledgeGraph.load()))
ready = time.perf_counter() - started
batch.MAX_CELL_BYTES = 1 << 40  # keep every class's answer: the second pass knows them all
batch.MAX_SEEN_LINES = 1  # but remembers no line: each is decoded and keyed again
def answer_all():
    fd = os.open(os.devnull, os.O_WRONLY)
    with open(sys.argv[1], "rb") as source:
        for block in batch.read_blocks(source):
            batch.write_pieces(fd, answerer.answer_block(block)[0])
    os.close(fd)
answer_all()
started = time.perf_counter()
answer_all()
print(ready, time.perf_counter() - started)
"""


def floor_run(cases: Path, n: int) -> dict[str, Any]:
    """What the product's design costs with no new class at all: start-up (imports, the compiled
    graph) and a second pass over the same lines in one process, every class's answer known and no
    line remembered (each line decoded, keyed, its echo and tail written). The limit of any speed-up
    of the per-class work: end to end, the product cannot beat start-up + this pass."""
    load = os.getloadavg()[0]
    done = subprocess.run([sys.executable, "-c", FLOOR_SCRIPT, str(cases)], check=True, capture_output=True,
                          text=True, env=cli_env(REPO_ROOT))  # fmt: skip
    ready, known = map(float, done.stdout.split())
    return {"run": "every class known (in-process pass)", "cases": n, "startup_s": ready, "pass_s": known,
            "pass_us_per_line": known / n * 1e6, "load_avg_1m": load}  # fmt: skip


def distinct(rec: Recommender, cases: Path, answered: Path) -> dict[str, int]:
    """How varied a mix is: distinct lines, cases (their echo), classes (this checkout's cache key:
    ``batch.CellKey``) and answers (an output line without its line number and case echo)."""
    from axilla_kg.recommend.batch import CellKey

    key = CellKey(rec)
    lines, echoes, classes, answers = set(), set(), set(), set()
    with cases.open("rb") as src, answered.open("rb") as ans:
        for line, result in zip(src, ans, strict=True):
            lines.add(line)
            try:
                case = loads_case(line)
            except CaseError:
                continue
            echoes.add(dumps(case.to_json()))
            classes.add(key(case))
            answers.add(result[result.index(b',"assumed":') :])
    return {"lines": len(lines), "cases": len(echoes), "classes": len(classes), "answers": len(answers)}


def _known(new: Any, old: Any, added: set[str], where: str = "") -> Any:
    """``new`` with only the object members ``old`` has (the names of the others go to ``added``)."""
    if isinstance(new, dict) and isinstance(old, dict):
        added.update(f"{where}{k}" for k in new if k not in old)
        return {k: _known(v, old[k], added, f"{where}{k}.") for k, v in new.items() if k in old}
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        return [_known(a, b, added, f"{where}[].") for a, b in zip(new, old, strict=True)]
    return new


def same_on_old_fields(after: Path, before: Path) -> tuple[bool, list[str]]:
    """Whether every output line equals the baseline's on every member the baseline's line has (a
    newer answer may add members): JSON-level, line by line; and which members were added."""
    added: set[str] = set()
    with after.open("rb") as new, before.open("rb") as old:
        for a, b in zip(new, old, strict=True):
            if a != b:
                theirs = json.loads(b)
                if _known(json.loads(a), theirs, added) != theirs:
                    return False, sorted(added)
    return True, sorted(added)


def batch_section(rec: Recommender, n: int, baseline: Path | None, mix: str) -> dict[str, Any]:
    """One mix: the product end to end (default settings, other detail levels), the same run of the
    ``--baseline`` checkout (its default and ``--jobs 1``), the dict-lookup limit (by bytes and
    parsing each line), then :data:`PAIRS` rounds of the default and both limits one after the other:
    on a shared machine a ratio is read within a round, and the median of the rounds' is the figure."""
    results: dict[str, Any] = {"mix": mix, "runs": []}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        cases, full, before = tmp / "cases.jsonl", tmp / "full.jsonl", tmp / "before.jsonl"
        write_cases(cases, n, seed=14, mix=mix)
        runs = results["runs"]
        trees = [("after", REPO_ROOT)] + ([("before", baseline)] if baseline else [])
        for _, tree in trees:  # one untimed warm-up each: the OS file cache, .pyc files
            subprocess.run([*cli(), "recommend", "--cases", str(cases)], env=cli_env(tree), cwd=tree,
                           stdout=subprocess.DEVNULL, check=True)  # fmt: skip
        for label, tree in trees:
            print(f"{mix}, {label}: default settings ...", file=sys.stderr)
            target = full if tree == REPO_ROOT else before
            runs.append(product_run(tree, f"{label}: default (full detail)", cases, target, n, []))
        results["checked_lines"] = check_answers(rec, cases, full, "full")
        if baseline:  # the baseline may answer differently (another contract): said, not stopped on
            results["identical_to_baseline"] = filecmp.cmp(full, before, shallow=False)
            results["equal_on_baseline_fields"], results["fields_added"] = same_on_old_fields(full, before)
        results["distinct"] = distinct(rec, cases, full)
        raw, parsed = limit_table(cases, full, tmp), limit_table(cases, full, tmp, parse=True)
        print(f"{mix}, dict-lookup limit ...", file=sys.stderr)
        runs.append(limit_run(raw, cases, full, tmp / "limit.jsonl", n))
        print(f"{mix}, dict-lookup limit, parsing each line ...", file=sys.stderr)
        runs.append(limit_run(parsed, cases, full, tmp / "limit.jsonl", n, parse=True))
        others = [("after", REPO_ROOT, ["--jobs", "1"]), ("after", REPO_ROOT, ["--detail", "brief"])]
        if baseline:
            if has_jobs_flag(baseline):  # (gone with the fork ring in issue 24, back with sharing workers)
                others.append(("before", baseline, ["--jobs", "1"]))
            others.append(("before", baseline, ["--detail", "brief"]))
        for label, tree, extra in others:
            print(f"{mix}, {label}: {' '.join(extra)} ...", file=sys.stderr)
            runs.append(product_run(tree, f"{label}: {' '.join(extra)}", cases, tmp / "other.jsonl", n, extra))
        details = tmp / "details.json"
        print(f"{mix}, after: --detail ref ...", file=sys.stderr)
        ref = product_run(REPO_ROOT, "after: --detail ref", cases, tmp / "ref.jsonl", n,
                          ["--detail", "ref", "--details", str(details)])  # fmt: skip
        ref["details_kb"] = details.stat().st_size / 1024
        runs.append(ref)
        pairs = results["pairs"] = []
        for number in range(1, PAIRS + 1):  # the product and both limits in turn: ratios within a round
            print(f"{mix}, round {number} of {PAIRS}: default, the limit, the limit parsing ...", file=sys.stderr)
            product = product_run(REPO_ROOT, "after: default (full detail), again", cases, full, n, [])
            limit = limit_run(raw, cases, full, tmp / "limit.jsonl", n)
            parse_limit = limit_run(parsed, cases, full, tmp / "limit.jsonl", n, parse=True)
            pairs.append({"product": product, "limit": limit, "parse_limit": parse_limit})
        print(f"{mix}, every class known ...", file=sys.stderr)
        results["floor"] = floor_run(cases, n)
    return results


FEEDER = """
import shutil, sys
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        shutil.copyfileobj(handle, sys.stdout.buffer, 1 << 20)
"""
#: rounds of the default, the limit and the limit parsing each line, one after the other (:func:`batch_section`)
PAIRS = 3
#: lines per generated file of the ``--big`` run (each from its own seed, two generated at a time)
BIG_CHUNK = 1_000_000


def _write_chunk(job: tuple[str, int, int]) -> str:
    path, n, seed = job
    write_cases(Path(path), n, seed)
    return path


def big_run(lines: int) -> dict[str, Any]:
    """Throughput and memory for ``lines`` varied lines, every one generated afresh (a file of
    files of a million lines, each from its own seed): through a pipe (``--cases -``), output to
    /dev/null (a file of that size would not fit). Fed the same 200,000 lines again and again, as
    this run did before, the classes, answers and parts repeat, the caches never fill past one
    file's worth and the rate is a repeat's; distinct lines keep meeting new classes and fill every
    bounded memo, which is what "memory stays flat" must withstand. The peak covers the product's
    process tree, not the feeder, and is given per quarter of the run's time too."""
    with tempfile.TemporaryDirectory() as name:
        jobs = [(str(Path(name) / f"cases{i:04d}.jsonl"), min(BIG_CHUNK, lines - start), 15 + i)
                for i, start in enumerate(range(0, lines, BIG_CHUNK))]  # fmt: skip
        with multiprocessing.get_context("fork").Pool(2) as pool:
            for done, _ in enumerate(pool.imap(_write_chunk, jobs), start=1):
                print(f"  generated {min(lines, done * BIG_CHUNK):,} of {lines:,} lines", file=sys.stderr)
        settle()
        load = os.getloadavg()[0]
        feeder = subprocess.Popen([sys.executable, "-c", FEEDER, *[job[0] for job in jobs]], stdout=subprocess.PIPE)
        started = time.perf_counter()
        with open(os.devnull, "wb") as sink:
            proc = subprocess.Popen([*cli(), "recommend", "--cases", "-"], stdin=feeder.stdout, stdout=sink,
                                    stderr=subprocess.PIPE, env=cli_env(REPO_ROOT), cwd=REPO_ROOT)  # fmt: skip
            assert feeder.stdout is not None
            feeder.stdout.close()
            memory = TreeMemory(proc.pid)
            _, err = proc.communicate()
        wall = time.perf_counter() - started
        feeder.wait()
        peak = memory.finish()
    if proc.returncode != 0:
        sys.exit(f"big run: exit {proc.returncode}: {err.decode()[-500:]}")
    return {"lines": lines, "distinct_seeds": len(jobs), "wall_s": wall, "cases_per_s": lines / wall,
            "peak_tree_rss_mb": peak, "peak_tree_pss_mb": memory.peak_pss_kb / 1024,
            "peak_rss_mb_per_quarter": memory.peaks(4), "load_avg_1m": load}  # fmt: skip


def print_batch(results: dict[str, Any]) -> None:
    d = results["distinct"]
    print(f"\nbatch, {results['mix']} mix: {results['runs'][0]['cases']:,} cases, output to a file; every 500th line "
          f"checked; distinct: {d['lines']:,} lines, {d['cases']:,} keys (cases as echoed), {d['classes']:,} classes "
          f"(the batch cache key), {d['answers']:,} answers"
          + (f"; each run that writes a file waited {SETTLE_SECONDS:g} s after a sync (--settle)"
             if SETTLE_SECONDS else ""))  # fmt: skip
    if "identical_to_baseline" in results:
        same = "yes" if results["identical_to_baseline"] else "no"
        print(f"output byte-identical to the baseline's: {same}; equal on every member the baseline's lines have: "
              f"{'yes' if results['equal_on_baseline_fields'] else 'NO'} (members added: "
              f"{', '.join(results['fields_added']) or 'none'})")  # fmt: skip
    print(f"{'run':<40} {'cases/s':>9} {'wall s':>7} {'CPU s':>6} {'peak MB':>8} {'PSS MB':>7} {'B/line':>7} "
          f"{'load':>5}")  # fmt: skip
    for r in results["runs"]:
        peak = f"{r['peak_tree_rss_mb']:.0f}" if "peak_tree_rss_mb" in r else "-"
        pss = f"{r['peak_tree_pss_mb']:.0f}" if "peak_tree_pss_mb" in r else "-"
        per_line = f"{r['bytes_per_line']:.0f}" if "bytes_per_line" in r else "-"
        rate, wall, load = r["cases_per_s"], r["wall_s"], r["load_avg_1m"]
        print(f"{r['run']:<40} {rate:>9,.0f} {wall:>7.2f} {r['cpu_s']:>6.2f} {peak:>8} {pss:>7} {per_line:>7} "
              f"{load:>5.2f}")  # fmt: skip
    product = next(r for r in results["runs"] if r["run"] == "after: default (full detail)")
    #: the limit's time: the median of all its runs (the first and each round's)
    limit_s = statistics.median(
        [r["wall_s"] for r in results["runs"] if r["run"] == "dict-lookup limit"]
        + [p["limit"]["wall_s"] for p in results["pairs"]]
    )
    rounds = [
        ", ".join(f"{p[k]['wall_s']:.2f} ({p[k]['load_avg_1m']:.2f})" for k in ("product", "limit", "parse_limit"))
        for p in results["pairs"]
    ]
    print("rounds (wall s (load) of the default, the limit, the limit parsing each line): " + "; ".join(rounds))
    names = {"limit": "the dict-lookup limit (each line's bytes looked up)",
             "parse_limit": "the limit as the issue words it (each line parsed, then looked up)"}  # fmt: skip
    for key, name in names.items():
        ratios = sorted(p["product"]["wall_s"] / p[key]["wall_s"] for p in results["pairs"])
        cpu = statistics.median(p["product"]["cpu_s"] / p[key]["cpu_s"] for p in results["pairs"])
        print(f"product vs {name}: {statistics.median(ratios):.2f}x its time, the median of {len(ratios)} rounds "
              f"({ratios[0]:.2f}-{ratios[-1]:.2f}x); CPU time {cpu:.2f}x")  # fmt: skip
    floor = results["floor"]
    least = floor["startup_s"] + floor["pass_s"]
    print(f"floor of this design (load {floor['load_avg_1m']:.2f}): start-up {floor['startup_s']:.2f} s + a pass with "
          f"every class known {floor['pass_s']:.2f} s ({floor['pass_us_per_line']:.1f} us/line) = {least:.2f} s, "
          f"{least / limit_s:.2f}x the limit's (median) time; the per-class work is "
          f"{max(0.0, product['wall_s'] - least) / product['wall_s']:.0%} of the product's time")  # fmt: skip
    alone = next((r for r in results["runs"] if r["run"] == "after: --jobs 1"), None)
    if alone is not None:
        print(f"--jobs 1 vs default ({default_jobs()} worker processes): --jobs 1 takes "
              f"{alone['wall_s'] / product['wall_s']:.2f}x the default's time, "
              f"{alone['cpu_s'] / product['cpu_s']:.2f}x its CPU time (load {alone['load_avg_1m']:.2f} / "
              f"{product['load_avg_1m']:.2f}); --jobs 1 is "
              f"{alone['wall_s'] / limit_s:.2f}x the limit's (median) time")  # fmt: skip
    before = {r["run"]: r for r in results["runs"] if r["run"].startswith("before: ")}
    if before:
        old, jobs1 = before["before: default (full detail)"], before.get("before: --jobs 1")
        print(f"after / before default: {product['cases_per_s'] / old['cases_per_s']:.2f}x the speed, "
              f"{product['cpu_s'] / old['cpu_s']:.2f}x the CPU time"
              + (f"; before --jobs 1 / before default: {jobs1['cases_per_s'] / old['cases_per_s']:.2f}x the speed"
                 if jobs1 else ""))  # fmt: skip


def has_jobs_flag(tree: Path) -> bool:
    """Whether a checkout's ``recommend`` has ``--jobs`` (the fork ring's, removed in issue 24; the
    workers', since its fifth round)."""
    result = subprocess.run(
        [sys.executable, "-m", "axilla_kg", "recommend", "--help"],
        capture_output=True,
        text=True,
        env=cli_env(tree),
        cwd=tree,
        timeout=120,
    )
    return "--jobs" in result.stdout


def cold_cli(runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [*cli(), "recommend", *CASE_FLAGS], check=True, capture_output=True, env=cli_env(REPO_ROOT), cwd=REPO_ROOT
        )
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
    global SETTLE_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000, help="batch size of each mix")
    parser.add_argument("--mix", choices=[*MIXES, "both"], default="both", help="which mix (default: both)")
    parser.add_argument(
        "--big", type=int, default=0, metavar="LINES", help="also rate and peak memory for LINES distinct varied lines"
    )
    parser.add_argument("--baseline", type=Path, help="another checkout to time in the same run (before/after)")
    parser.add_argument("--all", action="store_true", help="also the cold CLI, warm calls and HermiT (500 cases)")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "recommend.json")
    parser.add_argument(
        "--settle",
        type=float,
        default=SETTLE_SECONDS,
        metavar="SECONDS",
        help="wait before each timed run that writes a file, after a sync (default 0; see settle())",
    )
    args = parser.parse_args()
    SETTLE_SECONDS = args.settle
    rec = Recommender.load(KnowledgeGraph.load())
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "settle_s": SETTLE_SECONDS,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    mixes = list(MIXES) if args.mix == "both" else [args.mix]
    results["batch"] = [batch_section(rec, args.cases, args.baseline, mix) for mix in mixes]
    if args.big:
        print(f"{args.big:,} lines through a pipe ...", file=sys.stderr)
        results["big"] = big_run(args.big)
    if args.all:
        rng = random.Random(286)
        cases = [parse_case(random_case(rng)) for _ in range(5000)]
        print("cold CLI ...", file=sys.stderr)
        results["cold_cli"] = cold_cli(5)
        print("warm in-process ...", file=sys.stderr)
        results["warm"] = warm(rec, cases)
        print("HermiT ...", file=sys.stderr)
        results["hermit"] = hermit(rec, cases[:500], 250)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    for section in results["batch"]:
        print_batch(section)
    if args.big:
        b = results["big"]
        quarters = ", ".join(f"{mb:.0f}" for mb in b["peak_rss_mb_per_quarter"])
        print(f"\n{b['lines']:,} varied lines, all generated afresh, through a pipe to /dev/null: "
              f"{b['cases_per_s']:,.0f} cases/s, peak memory {b['peak_tree_rss_mb']:.0f} MB summed RSS of the process "
              f"tree, {b['peak_tree_pss_mb']:.0f} MB summed PSS; peak RSS per quarter of the run: {quarters} MB "
              f"(load {b['load_avg_1m']:.2f})")  # fmt: skip
    if args.all:
        c, w, h = results["cold_cli"], results["warm"], results["hermit"]
        cold, bare = c["median_s"] * 1000, c["python_pass_median_s"] * 1000
        print(f"cold `recommend --format json`: {cold:.0f} ms (python -c pass {bare:.0f} ms)")
        median, p99 = w["median_ms"] * 1000, w["p99_ms"] * 1000
        print(f"warm in-process: median {median:.0f} us, p99 {p99:.0f} us over {w['cases']} cases")
        rate, ratio = h["cases_per_s"], h["ratio_fast_over_hermit"]
        print(f"HermiT {h['cases']:,} cases: {rate:.0f} cases/s; the fast path classifies {ratio:,.0f}x faster")
    print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
