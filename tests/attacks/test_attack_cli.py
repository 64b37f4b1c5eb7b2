"""The CLI contract under attack (issue 11): exit 2, one line on stderr, nothing on stdout and
nothing half-written. One real subprocess per command (the contract is about what a user's
shell sees); the reproducers of the rest run in process through ``main``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from cases_gold import GOLD_286

from axilla_kg.cli import main
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend.recommender import Recommender

from conftest import cli_command, cli_env, run_cli


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("axilla-kg") and ": error: " in lines[0] and expected in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    laughs = root / "laughs.rdf"
    laughs.write_text('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaa">]>\n<r>&a;</r>\n')
    orders = root / "orders.csv"
    orders.write_bytes("procedure,sex\nUS axilla,female\n".encode("utf-16"))
    table = root / "table.csv"
    table.write_text("topic,variant\n")
    return {"laughs": laughs, "orders": orders, "table": table, "dir": root}


COMMANDS = {
    "variants": (["variants", "--data", "/dev/zero"], "/dev/zero: not a regular file"),
    "show": (["show", "4_5"], "argument variant: expected a whole number"),
    "queries": (["queries", "--format", "xml"], "invalid choice"),
    "query": (["query", "variants", "--data", "{laughs}"], "RDF/XML with a DOCTYPE"),
    "sparql": (["sparql", "ASK {}", "--data", "{laughs}"], "RDF/XML with a DOCTYPE"),
    "dose": (["dose", "US axilla", "--age", "1_0"], "argument --age: expected a whole number"),
    "check": (["check", "--data", "{laughs}"], "RDF/XML with a DOCTYPE"),
    "export": (["export", "--format", "ttl", "-o", "{dir}"], "is a directory"),
    "import-ratings": (
        ["import-ratings", "{table}", "--topic", "999", "--topic-title", 'T\n<urn:evil> <urn:p> "injected" .\n#'],
        "--topic-title must be one line",
    ),
    "recommend": (["recommend", "--sex", "female", "--breast-cancer", "new", "--tumor-size-cm", "1_5"], "1_5"),
    "audit": (["audit", "{orders}"], "the table is UTF-16"),
    "push": (["push", "--update-endpoint", "http://127.0.0.1:9/none", "--data", "/dev/zero"], "not a regular file"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_fails_with_one_line(command: str, files: dict[str, Path]) -> None:
    args, expected = COMMANDS[command]
    named = {"{" + key + "}": str(path) for key, path in files.items()}
    proc = run_cli(*[named.get(a, a) for a in args])
    _assert_one_line_error(proc, expected)


@pytest.mark.parametrize("streaming", [False, True])
def test_stdout_on_dev_full_is_one_line(streaming: bool, tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"sex": "female"}\n')
    args = ["recommend", "--cases", str(cases)] if streaming else ["export", "--format", "ttl"]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*cli_command(), *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
            timeout=120,
            check=False,
        )
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("axilla-kg: error: cannot write the ") and line.endswith(": No space left on device")


def test_case_file_attacks_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    attacks = {
        '{"sex": "female", "age": NaN}': "field 'age': NaN is not a number",
        '{"sex": "female", "age": 1e999999999}': "field 'age': number '1e999999999' is not in plain decimal",
        '{"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1e-400}': "field 'tumor_size_cm'",
        '{"sex": "female", "sex": "male"}': "field 'sex': given twice",
        "[" * 100_000: "nested more than 64 levels deep",
    }
    for text, expected in attacks.items():
        case = tmp_path / "case.json"
        case.write_text(text)
        assert main(["recommend", "--case", str(case)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and expected in err, err
    assert main(["recommend", "--case", "/dev/zero"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "larger than the 1 MiB limit" in err


def test_error_messages_stay_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = tmp_path / "evil\nsecond line.csv"
    assert main(["audit", str(name)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "evil\\nsecond line.csv: no such file" in err


def test_output_keeps_the_mode_and_refuses_a_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    target.chmod(0o640)
    assert main(["export", "--format", "csv", "-o", str(target)]) == 0
    assert (target.stat().st_mode & 0o777) == 0o640 and target.read_text().startswith("topic,")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(["export", "--format", "csv", "-o", str(link)]) == 2
    assert link.is_symlink()
    assert "is a symbolic link" in capsys.readouterr().err
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert main(["export", "--format", "csv", "-o", str(fifo)]) == 2
    assert "FIFO" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.csv", "out.csv"]


def test_brief_table_for_every_gold_case(kg: KnowledgeGraph) -> None:
    """``recommend --detail brief`` (table) crashed with KeyError 'title' whenever candidates or
    nearest variants were listed (e.g. --sex male)."""
    from axilla_kg.cli.recommending import render_text
    from axilla_kg.contract.cases import parse_case

    recommender = Recommender.load(kg)
    cases = [*GOLD_286.values(), {"sex": "male"}, {"sex": "female"}, {"sex": "male", "breast_cancer": "new"}]
    for data in cases:
        result = recommender.recommend(parse_case(json.loads(json.dumps(data))), detail="brief")
        text = render_text(result)
        assert text.startswith("Case: sex=")
    male = render_text(recommender.recommend(parse_case({"sex": "male"}), detail="brief"))
    assert "could match" in male or "Nearest variants" in male
