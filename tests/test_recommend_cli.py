"""recommend / batch / audit through the installed console script: the contract from outside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cases_gold import GOLD_286

from conftest import run_cli

V4_FLAGS = [
    "--sex",
    "female",
    "--age",
    "52",
    "--question",
    "axilla",
    "--neoadjuvant",
    "none",
    "--imaging-step",
    "initial",
    "--breast-cancer",
    "new",
    "--tumor-size-cm",
    "1.5",
    "--clinical-nodes",
    "positive",
    "--diagnostic-breast-imaging-done",
    "true",
]


def test_flags_table() -> None:
    proc = run_cli("recommend", *V4_FLAGS)
    assert proc.returncode == 0, proc.stderr
    assert "ACR topic 286, variant 4" in proc.stdout and "US axilla" in proc.stdout
    assert "Matched because" in proc.stdout


def test_flags_and_case_file_give_the_same_json(tmp_path: Path) -> None:
    by_flags = run_cli("recommend", *V4_FLAGS, "--format", "json")
    path = tmp_path / "case.json"
    path.write_text(json.dumps(GOLD_286[4]), encoding="utf-8")
    by_file = run_cli("recommend", "--case", str(path), "--format", "json")
    by_stdin = run_cli("recommend", "--case", "-", "--format", "json", stdin=json.dumps(GOLD_286[4]))
    assert by_flags.returncode == by_file.returncode == by_stdin.returncode == 0
    assert json.loads(by_flags.stdout) == json.loads(by_file.stdout) == json.loads(by_stdin.stdout)
    result = json.loads(by_file.stdout)
    assert [(m["topic"], m["variant"]) for m in result["matches"] if m["topic"] == "286"] == [("286", 4)]
    assert isinstance(result["matches"][0]["variant"], int)
    # topic 235 V4 ("prior to neoadjuvant chemotherapy") stays open: whether NAC is planned is unknown
    assert result["needs"] == ["nac_planned"]
    assert [(c["topic"], c["variant"]) for c in result["candidates"]] == [("235", 4)]


def test_no_match_is_an_answer() -> None:
    proc = run_cli("recommend", "--sex", "male", "--format", "json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["matches"] == []


@pytest.mark.parametrize(
    ("args", "stdin", "field"),
    [
        (["--sex", "female", "--tumor-size-cm", "abc", "--breast-cancer", "new"], None, "tumor_size_cm"),
        (["--sex", "female", "--breast-cancer", "none", "--tumor-size-cm", "1.5"], None, "tumor_size_cm"),
        (["--sex", "female", "--node-side", "ipsilateral"], None, "node_side"),
        (["--sex", "female", "--metastatic-suspicion", "maybe"], None, "metastatic_suspicion"),
        (["--sex", "female", "--question", "armpit"], None, "question"),
        (
            ["--sex", "female", "--breast-cancer", "none", "--metastatic-suspicion", "true"],
            None,
            "metastatic_suspicion",
        ),
        (["--case", "-"], '{"sex": "female", "recurrence_site": "local", "breast_cancer": "new"}', "recurrence_site"),
        (["--case", "-"], '{"sex": "female", "imaging_step": 1}', "imaging_step"),
        (["--case", "-"], '{"sex": "female", "nodes": "positive"}', "nodes"),
        (["--case", "-"], '{"sex": "female", "breast_cancer": "new", "tumor_size_cm": -2}', "tumor_size_cm"),
        (["--case", "-"], '{"sex": "female", "clinical_nodes": "maybe"}', "clinical_nodes"),
    ],
)
def test_invalid_case_one_line_exit_2_nothing_on_stdout(args: list[str], stdin: str | None, field: str) -> None:
    proc = run_cli("recommend", *args, "--format", "json", stdin=stdin)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"field '{field}'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_batch_keeps_order_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [json.dumps(GOLD_286[n]) for n in (1, 4, 9)]
    lines.insert(1, '{"sex": "female", "tumor_size_cm": "big"}')
    lines.insert(3, "{not json")
    lines.insert(4, "")
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli("recommend", "--cases", str(path))
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6]  # a blank line is answered too (an error)
    assert "tumor_size_cm" in out[1]["error"] and out[1]["field"] == "tumor_size_cm"
    assert "not valid JSON" in out[3]["error"] and "blank line" in out[4]["error"]
    good = [o for o in out if "error" not in o]
    assert [[m["variant"] for m in o["matches"] if m["topic"] == "286"] for o in good] == [[1], [4], [9]]


def test_batch_output_equals_single_case_output(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in GOLD_286.values()) + "\n", encoding="utf-8")
    batch = [json.loads(line) for line in run_cli("recommend", "--cases", str(path)).stdout.splitlines()]
    for number, result in zip(GOLD_286, batch, strict=True):
        single = json.loads(
            run_cli("recommend", "--case", "-", "--format", "json", stdin=json.dumps(GOLD_286[number])).stdout
        )
        del result["line"]
        assert result == single


def test_audit(tmp_path: Path) -> None:
    head = "order_id,sex,breast_cancer,tumor_size_cm,clinical_nodes,diagnostic_breast_imaging_done,"
    rows = [
        head + "neoadjuvant,imaging_step,nac_planned,age,procedure",
        "a1,female,new,1.5,positive,true,none,initial,,52,US axilla",
        "a2,female,new,1.5,positive,true,none,initial,,52,FDG-PET/CT skull base to mid-thigh",
        "a3,female,new,1.5,positive,true,none,initial,,52,MRI breast without and with IV contrast",
        "a4,male,none,,,,,,,,US axilla",
        "a5,female,new,1.5,positive,true,none,initial,,52,Mammography screening",
        "a6,female,new,big,positive,true,none,initial,,52,US axilla",
        "a7,female,new,1.5,positive,true,none,initial,,52,US axila",
        # 286 V4 (Usually Not Appropriate) and 235 V4 (May Be Appropriate) both match: no lenient pick
        "a8,female,new,1.5,positive,true,none,initial,true,52,FDG-PET/CT skull base to mid-thigh",
        # the imaging step is not known: 286 V4 is only a candidate
        "a9,female,new,1.5,positive,true,none,,false,52,US axilla",
        # a bone scan for the seed patient: no match rates it, nothing calls it appropriate
        "a10,female,new,1.5,positive,true,none,initial,,52,Bone scan whole body",
    ]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    proc = run_cli("audit", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    verdicts = {o["order_id"]: o["verdict"] for o in body["orders"]}
    assert verdicts["a1"] == "appropriate"
    # nac_planned not given: 235 V4 could still apply and rates PET/CT and MRI otherwise than 286 V4
    # (issue 18: an undecided order says which field decides it)
    assert verdicts["a2"] == "needs more information" and verdicts["a3"] == "needs more information"
    a2 = next(o for o in body["orders"] if o["order_id"] == "a2")
    assert a2["message"].startswith("decided by nac_planned")
    assert verdicts["a4"] == "no criteria apply"
    assert verdicts["a5"] == "not rated in our data"
    assert verdicts["a6"] == "invalid" and verdicts["a7"] == "invalid"
    assert verdicts["a8"] == "conflicting criteria"
    a8 = next(o for o in body["orders"] if o["order_id"] == "a8")
    assert "Usually Not Appropriate in 286 V4" in a8["message"] and "May Be Appropriate in 235 V4" in a8["message"]
    assert verdicts["a9"] == "needs more information"
    a9 = next(o for o in body["orders"] if o["order_id"] == "a9")
    assert "imaging_step" in a9["message"] and "286 V4" in a9["message"]
    assert verdicts["a10"] != "appropriate"
    assert all(o["confidence"] for o in body["orders"] if o["acr_category"])
    a7 = next(o for o in body["orders"] if o["order_id"] == "a7")
    assert "did you mean 'US axilla'" in a7["message"] and ":8:" in a7["message"]
    summary = {r["verdict"]: r["orders"] for r in body["summary"]["by_verdict"]}
    assert sum(summary.values()) == len(rows) - 1
    assert summary["conflicting criteria"] == 1 and summary["needs more information"] == 3
    assert summary["appropriate"] == 1 and summary["invalid"] == 2
    table = run_cli("audit", str(path))
    assert "Summary by verdict" in table.stdout and "Summary by procedure" in table.stdout


def test_audit_grades_from_decided_answers(tmp_path: Path) -> None:
    """Issue 18: an order decided Usually Appropriate is appropriate with facts missing (235 V4
    and 286 V4 both could apply and agree on US axilla); an undecided order names the field that
    decides it; a verdict resting only on low-confidence rows says so in the verdict (235 V5's US
    axilla row is low confidence in the reference table: two sources disagree)."""
    rows = [
        "order_id,sex,age,breast_cancer,question,clinical_nodes,neoadjuvant,axilla_previously_evaluated,"
        "imaging_step,tumor_size_cm,diagnostic_breast_imaging_done,procedure",
        "d1,female,52,new,axilla,positive,,,initial,1.5,true,US axilla",
        "d2,female,52,new,axilla,positive,,,,1.5,true,US axilla",
        "d3,female,50,new,axilla,negative,completed,false,initial,1.5,,US axilla",
    ]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    proc = run_cli("audit", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    orders = {o["order_id"]: o for o in json.loads(proc.stdout)["orders"]}
    assert orders["d1"]["verdict"] == "appropriate"
    assert orders["d1"]["message"] == "decided: Usually Appropriate in 286 V4 (candidate); 235 V4 (candidate)"
    assert orders["d2"]["verdict"] == "needs more information"
    assert orders["d2"]["message"].startswith("decided by imaging_step (imaging step)")
    assert orders["d3"]["verdict"] == "appropriate (low confidence only)"
    assert orders["d3"]["confidence"] == "low"


def test_audit_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("sex,procedur\nfemale,US axilla\n", encoding="utf-8")
    proc = run_cli("audit", str(path))
    assert proc.returncode == 2 and proc.stdout == "" and ":1:" in proc.stderr
