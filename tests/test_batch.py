"""Batch mode: one output line per input line, in order, whatever the line holds; a file descriptor
and a stream get the same bytes; the class cache never changes an answer."""

from __future__ import annotations

import io
import json
import random
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.contract.cases import CaseError, loads_case, parse_case
from axilla_kg.contract.features import Feature
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend import batch
from axilla_kg.recommend.partition import Validity
from axilla_kg.recommend.recommender import Recommender, dumps

from conftest import cli_command, cli_env


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


#: Lines that broke batch mode (issue 11) or could: each must give exactly its own error line (with
#: this text in it; "" where the wording is the JSON decoder's or the case contract's business).
BAD_LINES: list[tuple[bytes, str]] = [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"sex": "female", "age": NaN}', ""),
    (b'{"sex": "female", "breast_cancer": "new", "tumor_size_cm": Infinity}', ""),
    (b'{"sex": "female", "breast_cancer": "new", "tumor_size_cm": -Infinity}', ""),
    (b'{"sex": "female", "age": ' + b"9" * 5000 + b"}", ""),
    (b'{"sex": "female", "age": 1e999}', ""),
    (b"[" * 100_000 + b"]" * 100_000, ""),
    (b'{"sex": "female", "x": ' + b"[" * 100_000 + b"}", ""),
    (b'{"sex": "female", "tumour_size_cm": 2}', "tumour_size_cm"),
    (b'{"sex": "female", "tumor_size_cm": "big"}', "tumor_size_cm"),
    (b'"just a string"', "JSON object"),
    (b"", "blank line"),
    (b"   \t\r", "blank line"),
    (b"\x00\x01", ""),
    (b'{"sex": "female", "age": 1e999999999}', "age"),
    (b'{"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1e999999999}', "tumor_size_cm"),
    (b'{"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1e-400}', "tumor_size_cm"),
    (b'{"sex": "female", "sex": "male"}', "sex"),
    (b"\xef\xbb\xbf{not json", "not valid JSON"),
]


def _good(rng: random.Random) -> dict[str, Any]:
    case: dict[str, Any] = {"sex": rng.choice(["female", "male"]), "breast_cancer": rng.choice(["none", "new"])}
    if case["breast_cancer"] != "none":
        case["tumor_size_cm"] = rng.choice([2, 2.0, 2.0000001, 1.99, round(rng.uniform(0.3, 7), 2)])
        case["clinical_nodes"] = rng.choice(["negative", "positive"])
        case["neoadjuvant"] = rng.choice(["none", "mid_treatment", "completed"])
    else:
        case["axillary_lump"] = rng.choice(["none", "unilateral", "bilateral"])
    case["age"] = rng.choice([None, 16, 18, 55])
    case["diagnostic_breast_imaging_done"] = rng.choice([None, True, False])
    return case


def _input(n: int, seed: int = 5) -> tuple[bytes, dict[int, str]]:
    """``n`` lines, good cases with every bad line of :data:`BAD_LINES` spread among them;
    returns the bytes and, per bad line number, the text its error must mention."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    bad: dict[int, str] = {}
    for number in range(1, n + 1):
        if number % 101 == 0:
            line, expect = BAD_LINES[(number // 101) % len(BAD_LINES)]
            lines.append(line)
            bad[number] = expect
        else:
            lines.append(json.dumps(_good(rng)).encode())
    return b"\n".join(lines) + b"\n", bad


def _check(rec: Recommender, data: bytes, bad: dict[int, str], output: bytes, every: int = 1) -> None:
    """One output line per input line, in order; errors where expected; every (``every``-th) answer
    exactly the single-case answer (compact JSON of ``{"line": N, **recommend(case)}``)."""
    inputs = data.split(b"\n")[:-1]
    outputs = output.split(b"\n")
    assert outputs[-1] == b""
    outputs = outputs[:-1]
    assert len(outputs) == len(inputs)
    for number, (line, answer) in enumerate(zip(inputs, outputs, strict=True), start=1):
        got = json.loads(answer)
        assert got["line"] == number
        if number in bad:
            assert set(got) <= {"line", "error", "field"} and bad[number] in got["error"], got
            continue
        assert "error" not in got, got
        if number % every == 0:
            assert answer.decode() == dumps({"line": number, **rec.recommend(loads_case(line.decode()))})


def test_every_bad_line_gets_its_own_error_line(rec: Recommender) -> None:
    data, bad = _input(len(BAD_LINES) * 101 + 50)
    out = io.BytesIO()
    counts = batch.run(rec, io.BytesIO(data), out)
    _check(rec, data, bad, out.getvalue())
    assert counts == {"cases": len(data.split(b"\n")) - 1, "errors": len(bad)}


@pytest.mark.parametrize("broken", ["tails", "tail", "validity"])
def test_a_bug_in_the_compiled_answers_costs_speed_not_answers(
    rec: Recommender, broken: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When answering the new classes as a lot fails (a bug, not a user's mistake), they are answered
    one by one; when a class's compiled answer or its validity check fails too, its lines take the
    strict path (the recommender's answer, or the contract's error): every line is still right."""
    data, bad = _input(len(BAD_LINES) * 101 + 50, seed=11)

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(batch.ClassAnswers, "tails", fails)  # the lot fails...
    if broken == "tail":
        monkeypatch.setattr(batch.ClassAnswers, "_compiled", fails)  # ... and each class's compiled answer
    if broken == "validity":
        monkeypatch.setattr(Validity, "many", fails)  # ... and the lot's check
        monkeypatch.setattr(Validity, "__call__", fails)  # ... and each class's
    out = io.BytesIO()
    batch.run(rec, io.BytesIO(data), out)
    _check(rec, data, bad, out.getvalue())


def test_lines_seen_again_while_the_memo_of_lines_pauses_are_answered_alike(rec: Recommender) -> None:
    """A block whose lines were hardly ever seen before (a varied extract) pauses the memo of lines
    seen for the next blocks (:data:`batch.SEEN_PAUSE`): lines sent again then are read and keyed
    like new ones, and get the same answers; a block that repeats lines keeps the memo on."""
    rng = random.Random(3)
    # distinct bytes for every line (the spaces after the brace), cases of few kinds
    first = [b"{" + b" " * (i % 900) + json.dumps(_good(rng))[1:].encode() for i in range(batch.BLOCK_LINES)]
    answerer = batch.BatchRecommender(rec)
    pieces, _ = answerer.answer_block((1, first))
    assert answerer.seen_paused == batch.SEEN_PAUSE  # no line of the first block was seen before
    again, _ = answerer.answer_block((1, first[::-1]))  # the same lines, in reverse, while paused
    assert answerer.seen_paused == batch.SEEN_PAUSE - 1
    lines = b"".join(pieces).splitlines()
    assert b"".join(again).splitlines() == [
        b'{"line":%d,' % (n + 1) + line.split(b",", 1)[1] for n, line in enumerate(reversed(lines))
    ]
    for number, line in enumerate(lines[:50], start=1):
        assert line.decode() == dumps({"line": number, **rec.recommend(loads_case(first[number - 1].decode()))})
    resumed = batch.BatchRecommender(rec)
    resumed.answer_block((1, first))
    resumed.seen_paused = 0  # (the pause over) a block of lines seen before: the memo answers them, stays on
    resumed.answer_block((1, first[: batch.BLOCK_LINES // 2] * 2))
    assert resumed.seen_paused == 0


def test_a_file_descriptor_gets_the_same_bytes_as_a_stream(rec: Recommender, tmp_path: Path) -> None:
    """Through a real file descriptor (``os.writev``, blocks of lines) and through a Python stream."""
    data, bad = _input(3 * batch.BLOCK_LINES + 77, seed=7)
    path = tmp_path / "out.jsonl"
    with path.open("wb") as out:
        counts = batch.run(rec, io.BytesIO(data), out)
    assert counts["errors"] == len(bad)
    stream = io.BytesIO()
    batch.run(rec, io.BytesIO(data), stream)
    assert path.read_bytes() == stream.getvalue()
    _check(rec, data, bad, stream.getvalue())


def test_text_streams_and_line_lists(rec: Recommender) -> None:
    """The Python API takes lines (str) and text streams too; the last line needs no newline."""
    lines = ['{"sex": "male"}\n', "oops\n", '{"sex": "female", "axillary_lump": "unilateral"}']
    out = io.StringIO()
    batch.run(rec, lines, out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [a["line"] for a in answers] == [1, 2, 3]
    assert "error" in answers[1]
    assert answers[2] == json.loads(dumps({"line": 3, **rec.recommend(loads_case(lines[2]))}))


def test_over_long_line_is_answered_without_keeping_it(rec: Recommender) -> None:
    long = b'{"sex": "female", "pad": "' + b"x" * (batch.MAX_LINE_BYTES + 10) + b'"}'
    data = b'{"sex": "male"}\n' + long + b'\n{"sex": "male"}'
    out = io.BytesIO()
    batch.run(rec, io.BytesIO(data), out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [a["line"] for a in answers] == [1, 2, 3]
    assert "longer than" in answers[1]["error"] and "matches" in answers[2]


def test_cached_answers_equal_fresh_answers(rec: Recommender) -> None:
    cached = batch.BatchRecommender(rec, "brief")
    rng = random.Random(9)
    for number in range(1, 400):
        text = json.dumps(_good(rng))
        expected = dumps({"line": number, **rec.recommend(loads_case(text), detail="brief")})
        assert cached.answer(number, text) == expected


# --- the cell key is generic: two cases differing in one attribute share a cell only if their answers agree
def _candidates(feature: Feature, key: batch.CellKey) -> list[Any]:
    """Values worth trying for one case field, from its kind and the bounds the variants test."""
    values: list[Any] = [None, *feature.values]
    if feature.kind == "boolean":
        values += [True, False]
    limits = [limit for n, tests in key.bounded if n == feature.name for _, limit in tests]
    if feature.kind in ("decimal", "integer"):
        for limit in limits or [Decimal(1)]:
            values += [limit, limit + 1, limit - 1 if limit > 1 else limit / 2]
            if feature.kind == "decimal":
                values += [limit + Decimal("0.0000001"), limit - Decimal("0.0000001"), limit * 3]
    return values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_cases_differing_in_one_attribute_share_a_cell_only_with_equal_answers(rec: Recommender, seed: int) -> None:
    key = batch.CellKey(rec)
    rng = random.Random(seed)
    base = parse_case(_good(rng))
    for feature in rec.registry.features:
        attribute = feature.name
        for value in _candidates(feature, key):
            try:
                other = parse_case({**base.to_json(), attribute: value})
            except CaseError:
                continue
            if other == base and other.assumed == base.assumed:
                continue
            if key(base) == key(other):
                mine, theirs = rec.recommend(base), rec.recommend(other)
                del mine["case"], theirs["case"]
                assert mine == theirs, (attribute, base, other)


def test_every_case_attribute_is_part_of_the_key(rec: Recommender) -> None:
    """A new case field joins the key with no code change: the key has one class per contract field,
    and the bounds it sides numbers by are the classifier's."""
    key = batch.CellKey(rec)
    case = parse_case({"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1.5, "age": 40})
    assert len(key(case)) == len(batch.case_attributes(rec))
    bounds = {(t.field, t.op, t.limit) for v in rec.classifier.variants for t in v.tests if t.kind == "bound"}
    assert {(name, op, limit) for name, tests in key.bounded for op, limit in tests} == bounds


# --- --detail ref ---------------------------------------------------------------------------------
def test_detail_ref_rebuilds_the_full_answers(rec: Recommender, tmp_path: Path) -> None:
    data, _ = _input(500, seed=11)
    full, ref = io.BytesIO(), io.BytesIO()
    batch.run(rec, io.BytesIO(data), full)
    counts = batch.run(rec, io.BytesIO(data), ref, detail="ref")
    details = json.loads(batch.details_document(counts["details"]))
    assert len(ref.getvalue()) < len(full.getvalue())
    for short, long in zip(ref.getvalue().splitlines(), full.getvalue().splitlines(), strict=True):
        answer = json.loads(short)
        for match in answer.get("matches", []):
            assert set(match) == {"topic", "variant", "ref"}
        if "matches" in answer:
            answer["matches"] = [details[m["ref"]] for m in answer["matches"]]
        assert answer == json.loads(long)


# --- the command line -----------------------------------------------------------------------------
def _cli(*args: str, stdin: bytes | None = None, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*cli_command(), "recommend", *args], input=stdin, stdout=stdout, stderr=subprocess.PIPE, env=cli_env()
    )


def test_cli_bad_lines_never_end_the_run(rec: Recommender, tmp_path: Path) -> None:
    """Issue 11: one bad line ended the run (0 of 5 lines, or 12,288 of 20,000 then a traceback),
    and one invalid-UTF-8 line rejected the whole batch. Now every line is answered."""
    data, bad = _input(20_000, seed=3)
    path = tmp_path / "cases.jsonl"
    path.write_bytes(data)
    proc = _cli("--cases", str(path))
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()[-2000:]
    _check(rec, data, bad, proc.stdout, every=20)
    five = b"\n".join([b'{"sex": "male"}', b'{"sex": "female", "age": NaN}', b"\xff", b"[" * 100_000, b"{}"])
    proc = _cli("--cases", "-", "--detail", "brief", stdin=five + b"\n")
    assert proc.returncode == 0 and proc.stderr == b""
    assert [json.loads(line)["line"] for line in proc.stdout.splitlines()] == [1, 2, 3, 4, 5]


def test_cli_detail_ref_writes_the_details_document(tmp_path: Path) -> None:
    details = tmp_path / "details.json"
    case = {"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1.5, "clinical_nodes": "positive"}
    # the seed patient, every criterion of 286 V4 stated (open world: nothing else is assumed)
    case |= {"neoadjuvant": "none", "imaging_step": "initial"}
    stdin = json.dumps({**case, "diagnostic_breast_imaging_done": True}).encode() + b"\n"
    proc = _cli("--cases", "-", "--detail", "ref", "--details", str(details), stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    refs = [m["ref"] for m in json.loads(proc.stdout)["matches"]]
    document = json.loads(details.read_text(encoding="utf-8"))
    assert refs and sorted(document) == sorted(set(refs))
    assert all(document[r]["ratings"] for r in refs)


@pytest.mark.parametrize(
    "args",
    [("--detail", "ref"), ("--details", "x.json"), ("--sex", "male", "--detail", "ref", "--details", "x.json")],
)
def test_cli_detail_ref_needs_details_and_cases(args: tuple[str, ...], tmp_path: Path) -> None:
    proc = _cli(*(["--cases", "-"] if "--sex" not in args else []), *args, stdin=b'{"sex": "male"}\n')
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode().count("\n") == 1 and "--detail ref" in proc.stderr.decode()


def test_cli_full_disk_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    data, _ = _input(3 * batch.BLOCK_LINES, seed=1)
    path = tmp_path / "cases.jsonl"
    path.write_bytes(data)
    with open("/dev/full", "wb") as full:
        proc = _cli("--cases", str(path), stdout=full)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "cannot write" in err


def test_progress_meter(rec: Recommender) -> None:
    progress = io.StringIO()
    batch.run(rec, [json.dumps(_good(random.Random(1))) + "\n"] * 50, io.StringIO(), progress=progress)
    assert progress.getvalue().endswith("\n") and "50 cases" in progress.getvalue()
