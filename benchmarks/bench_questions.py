"""Benchmark the questions: does ``recommend`` get from what a clinician types to the answer in one
or two questions, and is every answer it decides on the way right?

Each *presentation* is what a clinician would type (a few facts and the ordered procedure) plus the
patient's *full truth*: every fact a careful reader of the official ACR variant title knows about
that patient (the title's criteria, and the facts a clinician would answer if asked: no treatment
yet, no earlier imaging of the axilla...). The truths and the expected categories were written from
the official titles and rating tables in ``../shared/reference`` (``acr286_ratings.csv``,
``related_topics_ratings.csv``), not from this program's output; with the reference folder present
the run also re-reads each expected category from those tables and stops on a mismatch.

The replay starts from the typed facts and answers only the question the tool asks
(``next_question`` focused on the ordered procedure), from the truth, until the procedure is
decided. It reports, per presentation, the questions asked and the final category, and checks:

* every final category equals the reference table's;
* no decided answer on the way (any procedure) contradicts the truth's own answer;
* mean questions <= 1 and none above 3.

Run from the repository root::

    python benchmarks/bench_questions.py            # table, figures, exit 1 if a check fails
    python benchmarks/bench_questions.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from axilla_kg.contract.cases import parse_case  # noqa: E402
from axilla_kg.graph.knowledge import KnowledgeGraph  # noqa: E402
from axilla_kg.recommend.recommender import Recommender  # noqa: E402

US = "US axilla"
PET = "FDG-PET/CT skull base to mid-thigh"
MRI = "MRI breast without and with IV contrast"
MAMMO = "Mammography diagnostic"
CORE = "US-guided core biopsy axillary node"
FNA = "US-guided fine needle aspiration biopsy axillary node"
US_BREAST = "US breast"
BONE = "Bone scan whole body"
CT = "CT chest abdomen pelvis with IV contrast"

UA, MBA, MBAD, UNA = (
    "Usually Appropriate",
    "May Be Appropriate",
    "May Be Appropriate (Disagreement)",
    ("Usually Not Appropriate"),
)


@dataclass(frozen=True)
class Presentation:
    key: str
    text: str  # what the clinician says, in a few words
    typed: dict[str, Any]  # the facts typed
    procedure: str
    truth: dict[str, Any]  # every fact of the patient
    variant: tuple[str, int]  # the ACR variant of the truth (topic, number)
    category: str | None  # the reference table's category for the procedure in that variant
    #: None: the right answer is *not decided*, and why (another variant of the truth has no row)
    open_because: str = ""


# --- the patients' truths, from the titles ------------------------------------------------------
def _untreated(**facts: Any) -> dict[str, Any]:
    """A newly diagnosed cancer before any treatment, first imaging of the axilla after diagnostic
    mammography/DBT; NAC not (yet) in the plan; no node flagged on earlier imaging; no surgery."""
    base: dict[str, Any] = {
        "sex": "female",
        "question": "axilla",
        "breast_cancer": "new",
        "neoadjuvant": "none",
        "nac_planned": False,
        "surgery_done": False,
        "diagnostic_breast_imaging_done": True,
        "imaging_step": "initial",
        "suspicious_node_on": "none",
        "axilla_previously_evaluated": False,
        "metastatic_suspicion": False,
        "axillary_lump": "none",
    }
    return {**base, **facts}


def _no_cancer(**facts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"sex": "female", "question": "axilla", "breast_cancer": "none", "axillary_lump": "none"}
    return {**base, **facts}


LUMP_1 = _no_cancer(age=45, axillary_lump="unilateral", imaging_step="initial", suspicious_node_on="none")
LUMP_2 = _no_cancer(age=42, axillary_lump="bilateral", imaging_step="initial", suspicious_node_on="none")
SMALL_NEG = _untreated(age=55, tumor_size_cm=1.4, clinical_nodes="negative")
SEED = _untreated(
    age=52, tumor_size_cm=1.5, clinical_nodes="positive", axillary_lump="unilateral", node_side="ipsilateral"
)
LARGE_NEG = _untreated(age=62, tumor_size_cm=2.8, clinical_nodes="negative")
LARGE_POS = _untreated(age=58, tumor_size_cm=3.2, clinical_nodes="positive")
AFTER_NAC_NEG = _untreated(
    age=50,
    tumor_size_cm=3,
    clinical_nodes="negative",
    neoadjuvant="completed",
    nac_planned=True,
    axilla_previously_evaluated=True,
)
#: the same patient, but the axilla was never imaged: 235 V5 applies too, and its table in our data
#: lists only US axilla, so breast MRI must stay undecided ("unknown in our data")
AFTER_NAC_NEG_AXILLA_NEW = {**AFTER_NAC_NEG, "axilla_previously_evaluated": False}
AFTER_NAC_POS = _untreated(
    age=52, tumor_size_cm=3.5, clinical_nodes="positive", neoadjuvant="completed", nac_planned=True
)
RECURRENT = {
    "sex": "female",
    "age": 58,
    "question": "axilla",
    "breast_cancer": "recurrent",
    "recurrence_site": "local",
    "diagnostic_breast_imaging_done": True,
    "imaging_step": "initial",
    "suspicious_node_on": "none",
    "metastatic_suspicion": False,
    "surgery_done": True,
    "neoadjuvant": "none",
    "nac_planned": False,
}
NODE_ON_MAMMO = _no_cancer(age=52, suspicious_node_on="mammography", imaging_step="next")
NODE_ON_US = _no_cancer(age=47, suspicious_node_on="ultrasound", imaging_step="next")
NODE_ON_CT = _no_cancer(age=58, suspicious_node_on="ct", imaging_step="next")
NODE_ON_PET = _no_cancer(age=66, suspicious_node_on="pet_ct", imaging_step="next")
# topic 235 (adults; female or male)
EXTENT_BEFORE_NAC = _untreated(
    age=50, question="breast_extent", tumor_size_cm=4, clinical_nodes="negative", nac_planned=True
)
EXTENT_DURING_NAC = _untreated(
    sex="male",
    age=60,
    question="breast_extent",
    tumor_size_cm=3,
    clinical_nodes="negative",
    neoadjuvant="mid_treatment",
    nac_planned=True,
)
EXTENT_AFTER_NAC = _untreated(
    age=44,
    question="breast_extent",
    tumor_size_cm=5,
    clinical_nodes="positive",
    neoadjuvant="completed",
    nac_planned=True,
)
MALE_NEG_NAC = _untreated(sex="male", age=55, tumor_size_cm=2.5, clinical_nodes="negative", nac_planned=True)
MALE_POS_NAC = _untreated(sex="male", age=60, tumor_size_cm=3, clinical_nodes="positive", nac_planned=True)
AXILLA_AFTER_NAC = _untreated(
    age=50, tumor_size_cm=1.8, clinical_nodes="negative", neoadjuvant="completed", nac_planned=True
)  # 1.8 cm: not 286 V8 (greater than 2 cm)
STAGING = _untreated(
    age=60, question="systemic_staging", tumor_size_cm=4, clinical_nodes="positive", metastatic_suspicion=True
)
RESTAGE_AXILLA = _untreated(
    age=50,
    tumor_size_cm=3,
    clinical_nodes="positive",
    neoadjuvant="completed",
    nac_planned=True,
    suspicious_node_on="ultrasound",
    axilla_previously_evaluated=True,
    imaging_step="next",
)
NODE_ON_MRI_CANCER = _untreated(age=50, tumor_size_cm=2.2, suspicious_node_on="mri", imaging_step="next")
NODE_ON_MAMMO_CANCER = _untreated(age=63, tumor_size_cm=1.2, suspicious_node_on="mammography", imaging_step="next")
for _truth in (NODE_ON_MRI_CANCER, NODE_ON_MAMMO_CANCER):
    _truth.pop("clinical_nodes", None)  # the title says nothing; the clinician does not know yet

F = {"sex": "female"}

PRESENTATIONS: list[Presentation] = [
    # 286 V1: "Female. New palpable, unilateral, axillary lump. Initial imaging of the axilla."
    Presentation(
        "286-1-us",
        "45 y woman, new lump in one axilla, no known cancer",
        {**F, "age": 45, "breast_cancer": "none", "axillary_lump": "unilateral"},
        US,
        LUMP_1,
        ("286", 1),
        UA,
    ),
    Presentation(
        "286-1-mammo",
        "the same woman, diagnostic mammography ordered",
        {**F, "age": 45, "breast_cancer": "none", "axillary_lump": "unilateral"},
        MAMMO,
        LUMP_1,
        ("286", 1),
        MBA,
    ),
    Presentation(
        "286-1-pet",
        "the same woman, PET/CT ordered",
        {**F, "age": 45, "breast_cancer": "none", "axillary_lump": "unilateral"},
        PET,
        LUMP_1,
        ("286", 1),
        UNA,
    ),
    # 286 V2: "... New palpable, bilateral, axillary lumps. Initial imaging ..."
    Presentation(
        "286-2-us",
        "42 y woman, lumps in both axillae, no cancer",
        {**F, "age": 42, "breast_cancer": "none", "axillary_lump": "bilateral"},
        US,
        LUMP_2,
        ("286", 2),
        UA,
    ),
    Presentation(
        "286-2-mammo",
        "the same, diagnostic mammography",
        {**F, "age": 42, "breast_cancer": "none", "axillary_lump": "bilateral"},
        MAMMO,
        LUMP_2,
        ("286", 2),
        UNA,
    ),
    # 286 V3: new cancer <= 2 cm, clinically node-negative, initial imaging after diagnostic mammography/DBT
    Presentation(
        "286-3-us",
        "55 y woman, new 1.4 cm cancer, node-negative",
        {**F, "age": 55, "breast_cancer": "new", "tumor_size_cm": 1.4, "clinical_nodes": "negative"},
        US,
        SMALL_NEG,
        ("286", 3),
        MBA,
    ),
    Presentation(
        "286-3-mri",
        "the same, breast MRI",
        {**F, "age": 55, "breast_cancer": "new", "tumor_size_cm": 1.4, "clinical_nodes": "negative"},
        MRI,
        SMALL_NEG,
        ("286", 3),
        UNA,
    ),
    # 286 V4: the seed patient (new cancer <= 2 cm, clinically node-positive)
    Presentation(
        "286-4-us",
        "the seed patient as typed: US axilla",
        {
            **F,
            "age": 52,
            "breast_cancer": "new",
            "tumor_size_cm": 1.5,
            "clinical_nodes": "positive",
            "diagnostic_breast_imaging_done": True,
        },
        US,
        SEED,
        ("286", 4),
        UA,
    ),
    Presentation(
        "286-4-pet",
        "the seed patient as typed: PET/CT",
        {
            **F,
            "age": 52,
            "breast_cancer": "new",
            "tumor_size_cm": 1.5,
            "clinical_nodes": "positive",
            "diagnostic_breast_imaging_done": True,
        },
        PET,
        SEED,
        ("286", 4),
        UNA,
    ),
    Presentation(
        "286-4-mri",
        "the seed patient as typed: breast MRI",
        {
            **F,
            "age": 52,
            "breast_cancer": "new",
            "tumor_size_cm": 1.5,
            "clinical_nodes": "positive",
            "diagnostic_breast_imaging_done": True,
        },
        MRI,
        SEED,
        ("286", 4),
        MBAD,
    ),
    # 286 V5: new cancer > 2 cm, node-negative
    Presentation(
        "286-5-us",
        "62 y woman, new 2.8 cm cancer, node-negative",
        {**F, "age": 62, "breast_cancer": "new", "tumor_size_cm": 2.8, "clinical_nodes": "negative"},
        US,
        LARGE_NEG,
        ("286", 5),
        MBA,
    ),
    # 286 V6: new cancer > 2 cm, node-positive, prior to treatment
    Presentation(
        "286-6-us",
        "58 y woman, new 3.2 cm cancer, palpable nodes",
        {**F, "age": 58, "breast_cancer": "new", "tumor_size_cm": 3.2, "clinical_nodes": "positive"},
        US,
        LARGE_POS,
        ("286", 6),
        UA,
    ),
    # 286 V8: > 2 cm, node-negative, after completion of NAC
    Presentation(
        "286-8-mri",
        "50 y woman, 3 cm node-negative cancer, NAC completed",
        {
            **F,
            "age": 50,
            "breast_cancer": "new",
            "tumor_size_cm": 3,
            "clinical_nodes": "negative",
            "neoadjuvant": "completed",
        },
        MRI,
        AFTER_NAC_NEG,
        ("286", 8),
        MBA,
    ),
    Presentation(
        "286-8-mri-open",
        "the same, axilla never imaged",
        {
            **F,
            "age": 50,
            "breast_cancer": "new",
            "tumor_size_cm": 3,
            "clinical_nodes": "negative",
            "neoadjuvant": "completed",
        },
        MRI,
        AFTER_NAC_NEG_AXILLA_NEW,
        ("286", 8),
        None,
        "235 V5 applies too and lists no MRI row in our data",
    ),
    # 286 V9: > 2 cm, node-positive, after NAC, prior to surgery
    Presentation(
        "286-9-us",
        "52 y woman, 3.5 cm node-positive cancer, NAC completed",
        {
            **F,
            "age": 52,
            "breast_cancer": "new",
            "tumor_size_cm": 3.5,
            "clinical_nodes": "positive",
            "neoadjuvant": "completed",
        },
        US,
        AFTER_NAC_POS,
        ("286", 9),
        UA,
    ),
    # 286 V10: newly diagnosed locally recurrent cancer
    Presentation(
        "286-10-us",
        "58 y woman, local recurrence in the breast",
        {**F, "age": 58, "breast_cancer": "recurrent", "recurrence_site": "local"},
        US,
        RECURRENT,
        ("286", 10),
        MBA,
    ),
    # 286 V11: suspicious axillary node on mammography or US, no known cancer, next imaging study
    Presentation(
        "286-11-core",
        "52 y woman, node flagged on screening mammogram",
        {**F, "age": 52, "breast_cancer": "none", "suspicious_node_on": "mammography"},
        CORE,
        NODE_ON_MAMMO,
        ("286", 11),
        UA,
    ),
    Presentation(
        "286-11-core-us",
        "47 y woman, node flagged on breast US",
        {**F, "age": 47, "breast_cancer": "none", "suspicious_node_on": "ultrasound"},
        CORE,
        NODE_ON_US,
        ("286", 11),
        UA,
    ),
    # 286 V12: suspicious node on another modality
    Presentation(
        "286-12-us-ct",
        "58 y woman, axillary node on a chest CT",
        {**F, "age": 58, "breast_cancer": "none", "suspicious_node_on": "ct"},
        US,
        NODE_ON_CT,
        ("286", 12),
        UA,
    ),
    Presentation(
        "286-12-us-pet",
        "66 y woman, axillary node on PET/CT",
        {**F, "age": 66, "breast_cancer": "none", "suspicious_node_on": "pet_ct"},
        US,
        NODE_ON_PET,
        ("286", 12),
        UA,
    ),
    # 235 V1: tumour extent within the breast before NAC
    Presentation(
        "235-1-mri",
        "50 y woman, new cancer, NAC planned: extent in the breast",
        {**F, "age": 50, "breast_cancer": "new", "question": "breast_extent", "nac_planned": True},
        MRI,
        EXTENT_BEFORE_NAC,
        ("235", 1),
        UA,
    ),
    Presentation(
        "235-1-pet",
        "the same, PET/CT",
        {**F, "age": 50, "breast_cancer": "new", "question": "breast_extent", "nac_planned": True},
        PET,
        EXTENT_BEFORE_NAC,
        ("235", 1),
        UNA,
    ),
    # 235 V2: breast imaging after initiation or completion of NAC
    Presentation(
        "235-2-usb",
        "60 y man, breast cancer, mid-NAC: breast response",
        {"sex": "male", "age": 60, "breast_cancer": "new", "question": "breast_extent", "neoadjuvant": "mid_treatment"},
        US_BREAST,
        EXTENT_DURING_NAC,
        ("235", 2),
        UA,
    ),
    Presentation(
        "235-2-mri",
        "44 y woman, NAC completed: breast response",
        {**F, "age": 44, "breast_cancer": "new", "question": "breast_extent", "neoadjuvant": "completed"},
        MRI,
        EXTENT_AFTER_NAC,
        ("235", 2),
        UA,
    ),
    # 235 V3: clinically node-negative, axilla before NAC
    Presentation(
        "235-3-us",
        "55 y man, node-negative cancer, NAC planned",
        {"sex": "male", "age": 55, "breast_cancer": "new", "clinical_nodes": "negative", "nac_planned": True},
        US,
        MALE_NEG_NAC,
        ("235", 3),
        UA,
    ),
    Presentation(
        "235-3-mri",
        "the same, breast MRI",
        {"sex": "male", "age": 55, "breast_cancer": "new", "clinical_nodes": "negative", "nac_planned": True},
        MRI,
        MALE_NEG_NAC,
        ("235", 3),
        UNA,
    ),
    # 235 V4: clinically node-positive, axilla before NAC
    Presentation(
        "235-4-us",
        "60 y man, node-positive cancer, NAC planned",
        {"sex": "male", "age": 60, "breast_cancer": "new", "clinical_nodes": "positive", "nac_planned": True},
        US,
        MALE_POS_NAC,
        ("235", 4),
        UA,
    ),
    Presentation(
        "235-4-pet",
        "the same, PET/CT",
        {"sex": "male", "age": 60, "breast_cancer": "new", "clinical_nodes": "positive", "nac_planned": True},
        PET,
        MALE_POS_NAC,
        ("235", 4),
        MBA,
    ),
    # 235 V5: node-negative, after NAC, axilla not previously evaluated
    Presentation(
        "235-5-us",
        "50 y woman, 1.8 cm node-negative cancer, NAC completed",
        {
            **F,
            "age": 50,
            "breast_cancer": "new",
            "tumor_size_cm": 1.8,
            "clinical_nodes": "negative",
            "neoadjuvant": "completed",
        },
        US,
        AXILLA_AFTER_NAC,
        ("235", 5),
        UA,
    ),
    # 235 V6: clinical suspicion of metastatic disease, staging
    Presentation(
        "235-6-pet",
        "60 y woman, new cancer, suspected metastases: staging PET/CT",
        {**F, "age": 60, "breast_cancer": "new", "question": "systemic_staging", "metastatic_suspicion": True},
        PET,
        STAGING,
        ("235", 6),
        UA,
    ),
    Presentation(
        "235-6-bone",
        "the same, bone scan",
        {**F, "age": 60, "breast_cancer": "new", "question": "systemic_staging", "metastatic_suspicion": True},
        BONE,
        STAGING,
        ("235", 6),
        UA,
    ),
    Presentation(
        "235-6-ct",
        "the same, CT chest/abdomen/pelvis",
        {**F, "age": 60, "breast_cancer": "new", "question": "systemic_staging", "metastatic_suspicion": True},
        CT,
        STAGING,
        ("235", 6),
        UA,
    ),
    # 235 V7: node-positive on prior imaging, after NAC, axilla previously evaluated, next study
    Presentation(
        "235-7-us",
        "50 y woman, node-positive on US, NAC completed, axilla imaged before",
        {
            **F,
            "age": 50,
            "breast_cancer": "new",
            "clinical_nodes": "positive",
            "neoadjuvant": "completed",
            "axilla_previously_evaluated": True,
        },
        US,
        RESTAGE_AXILLA,
        ("235", 7),
        UA,
    ),
    # 235 V8: axillary imaging suspicious during initial evaluation, next study
    Presentation(
        "235-8-core",
        "50 y woman, new cancer, node suspicious on the staging MRI",
        {**F, "age": 50, "breast_cancer": "new", "suspicious_node_on": "mri"},
        CORE,
        NODE_ON_MRI_CANCER,
        ("235", 8),
        UA,
    ),
    Presentation(
        "235-8-fna",
        "63 y woman, new cancer, node suspicious on the mammogram",
        {**F, "age": 63, "breast_cancer": "new", "suspicious_node_on": "mammography"},
        FNA,
        NODE_ON_MAMMO_CANCER,
        ("235", 8),
        UA,
    ),
]


@dataclass
class Replay:
    key: str
    asked: list[str]
    category: str | None
    expected: str
    contradicted: list[str]

    @property
    def right(self) -> bool:
        return self.category == self.expected and not self.contradicted


def truth_answers(rec: Recommender, truth: dict[str, Any]) -> dict[str, set[str]]:
    """Per procedure, the categories the truth's own matches give it (what no decision may contradict)."""
    out: dict[str, set[str]] = {}
    for m in rec.recommend(parse_case(truth), detail="brief")["matches"]:
        for r in m["ratings"]:
            if r["category"]:
                out.setdefault(r["procedure"], set()).add(r["category"])
    return out


def replay(rec: Recommender, p: Presentation, limit: int = 10) -> Replay:
    """Answer only the questions asked, from the truth, until the ordered procedure is decided."""
    case = dict(p.typed)
    known = dict(parse_case(p.truth).values) | p.truth  # and the facts the contract derives from it
    asked: list[str] = []
    skip: set[str] = set()
    truth = truth_answers(rec, p.truth)
    contradicted: list[str] = []
    category = None
    for _ in range(limit):
        result = rec.recommend(parse_case(case), detail="brief", procedure=p.procedure, skip=frozenset(skip))
        for d in result["decided"]:
            if d["procedure"] in truth and truth[d["procedure"]] != {d["category"]}:
                contradicted.append(f"{d['procedure']}: decided {d['category']}, truth {sorted(truth[d['procedure']])}")
        decided = {d["procedure"]: d["category"] for d in result["decided"]}
        if p.procedure in decided:
            category = decided[p.procedure]
            break
        question = result["next_question"]
        if question is None:
            break
        name = question["field"]
        asked.append(name)
        if name in known:
            case[name] = known[name]
        else:
            skip.add(name)  # the clinician does not know: "not known"
    return Replay(p.key, asked, category, p.category, sorted(set(contradicted)))


def reference_category(p: Presentation, reference: Path) -> str | None:
    """The category the reference tables give ``p.procedure`` in ``p.variant`` (current editions)."""
    topic, number = p.variant
    if topic == "286":
        with (reference / "acr286_ratings.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if int(row["variant_number"]) == number and row["procedure"] == p.procedure:
                    return row["appropriateness_category"] or None
        return None
    with (reference / "related_topics_ratings.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            current = row["topic"].startswith(topic + " ") and "2017" not in row["topic"]
            if current and int(row["variant_number"]) == number and row["procedure"] == p.procedure:
                return row["appropriateness_category"] or None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args(argv)
    reference = Path(os.environ.get("AXILLA_KG_REFERENCE", REPO.parent / "shared" / "reference"))
    if (reference / "acr286_ratings.csv").is_file():
        for p in PRESENTATIONS:
            if p.category is None:
                continue
            found = reference_category(p, reference)
            if found != p.category:
                print(f"{p.key}: the reference table says {found!r}, the presentation {p.category!r}", file=sys.stderr)
                return 2
    rec = Recommender.load(KnowledgeGraph.load())
    started = time.perf_counter()
    replays = [replay(rec, p) for p in PRESENTATIONS]
    seconds = time.perf_counter() - started
    counts = [len(r.asked) for r in replays]
    summary = {
        "presentations": len(replays),
        "right": sum(r.right for r in replays),
        "contradicted": sum(bool(r.contradicted) for r in replays),
        "mean_questions": round(statistics.mean(counts), 3),
        "max_questions": max(counts),
        "questions": {n: counts.count(n) for n in sorted(set(counts))},
        "seconds": round(seconds, 3),
        "load_average": os.getloadavg()[0],
    }
    ok = summary["right"] == len(replays) and summary["mean_questions"] <= 1 and summary["max_questions"] <= 3
    if args.json:
        body = {"summary": summary, "replays": [r.__dict__ | {"right": r.right} for r in replays]}
        print(json.dumps(body, indent=2))
    else:
        width = max(len(p.key) for p in PRESENTATIONS)
        by_key = {p.key: p for p in PRESENTATIONS}
        for r in replays:
            mark = "ok " if r.right else "BAD"
            asked = ", ".join(r.asked) or "-"
            shown = r.category or "(undecided)"
            print(f"{mark} {r.key:<{width}}  {by_key[r.key].procedure:<53} {shown:<34} asked: {asked}")
            for c in r.contradicted:
                print(f"    contradicted: {c}")
        print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
