"""``recommend --ask`` and ``--procedure``: questions on stderr, answers from stdin, the final
answer alone on stdout; a wrong answer is asked again, never a traceback; a bad flag is one line,
exit 2, nothing on stdout."""

from __future__ import annotations

import json
import subprocess

from conftest import cli_command, cli_env, run_cli, run_cli_subprocess

SEED = [
    "--sex", "female", "--age", "52", "--breast-cancer", "new", "--tumor-size-cm", "1.5",
    "--clinical-nodes", "positive", "--diagnostic-breast-imaging-done", "true",
]  # fmt: skip
US = "US axilla"
PET = "FDG-PET/CT skull base to mid-thigh"


def _decided(stdout: str) -> dict[str, str]:
    return {d["procedure"]: d["category"] for d in json.loads(stdout)["decided"]}


def test_ask_decides_us_axilla_in_one_question() -> None:
    proc = run_cli("recommend", *SEED, "--ask", "--procedure", US, "--format", "json", stdin="initial\n")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["asked"] == [{"field": "imaging_step", "answer": "initial"}]
    assert _decided(proc.stdout)[US] == "Usually Appropriate"
    assert "imaging_step [initial/next" in proc.stderr


def test_ask_decides_pet_ct_in_two_questions_in_a_real_pipe() -> None:
    proc = run_cli_subprocess(
        "recommend", *SEED, "--ask", "--procedure", PET, "--format", "json", stdin="initial\nno\n"
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert [a["field"] for a in result["asked"]] == ["imaging_step", "nac_planned"]
    assert _decided(proc.stdout)[PET] == "Usually Not Appropriate"
    assert result["next_question"] is None


def test_a_wrong_answer_is_asked_again() -> None:
    proc = run_cli("recommend", *SEED, "--ask", "--procedure", US, stdin="inital\ninitial\n")
    assert proc.returncode == 0, proc.stderr
    assert "field 'imaging_step': 'inital' is not one of initial, next (did you mean 'initial'?)" in proc.stderr
    assert proc.stdout.startswith("Case: ") and "DECIDED" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_not_known_skips_the_field_and_asks_another() -> None:
    proc = run_cli("recommend", *SEED, "--ask", "--format", "json", stdin="\n")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["asked"][0] == {"field": "imaging_step", "answer": None}
    assert result["next_question"] is None or result["next_question"]["field"] != "imaging_step"


def test_three_wrong_answers_stop_with_one_line_and_nothing_on_stdout() -> None:
    proc = run_cli("recommend", *SEED, "--ask", stdin="x\ny\nz\n")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert (
        proc.stderr.strip().splitlines()[-1]
        == "axilla-kg: error: field 'imaging_step': 'z' is not one of initial, next"
    )


def test_an_answer_that_contradicts_the_case_names_both_fields() -> None:
    """A size is given, so 'none' (not offered) contradicts it: the message names both fields."""
    proc = run_cli(
        "recommend", "--sex", "female", "--tumor-size-cm", "1.5", "--ask", "--format", "json", stdin="none\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "breast_cancer [new/recurrent" in proc.stderr
    assert 'field \'tumor_size_cm\': "1.5" contradicts breast_cancer "none"' in proc.stderr
    assert json.loads(proc.stdout)["asked"] == []  # stdin ended before a valid answer


def test_invalid_utf8_answer_is_asked_again() -> None:
    proc = subprocess.run(
        [*cli_command(), "recommend", *SEED, "--ask", "--procedure", US, "--format", "json"],
        input=b"\xff\xfe\ninitial\n",
        capture_output=True,
        timeout=120,
        env=cli_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert b"field 'imaging_step': the answer is not UTF-8 text" in proc.stderr
    assert json.loads(proc.stdout)["asked"] == [{"field": "imaging_step", "answer": "initial"}]


def test_bad_procedure_is_one_line_exit_2() -> None:
    proc = run_cli("recommend", *SEED, "--procedure", "US axila")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "axilla-kg: error: --procedure: 'US axila' is not a procedure of this graph (did you mean 'US axilla'?)\n"
    )


def test_ask_refuses_stdin_case_and_batch() -> None:
    for args in (["--case", "-", "--ask"], ["--cases", "-", "--ask"], ["--cases", "-", "--procedure", US]):
        proc = run_cli("recommend", *args, stdin="{}\n")
        assert proc.returncode == 2 and proc.stdout == "", args
        assert len(proc.stderr.strip().splitlines()) == 1
