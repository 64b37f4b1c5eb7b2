"""One CLI convention (issue 13): every command described and every option explained, argparse
mistakes as one line, bare ``axilla-kg`` prints the help, shared options mean the same everywhere,
tables wrap long cells instead of cutting them, and a command imports only what it uses."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from axilla_kg.cli.main import build_parser

from conftest import REPO, cli_env, cli_in_process


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse offers no public walk of its tree
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """Every command without a description and every option or argument without a help text."""
    missing = []
    for name, command in subcommands(parser).items():
        if not (command.description or "").strip():
            missing.append(f"{name}: no description")
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}: no help")
    return missing


def test_every_command_has_a_description_and_every_option_a_help() -> None:
    assert undocumented(build_parser()) == []


def test_the_walk_finds_what_is_missing() -> None:
    """The check above can fail: a parser with gaps is reported, gap by gap."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    bare = sub.add_parser("bare")
    bare.add_argument("--format")
    hidden = sub.add_parser("hidden", description="has one")
    hidden.add_argument("--engine", help=argparse.SUPPRESS)
    hidden.add_argument("thing", help="fine")
    assert undocumented(parser) == ["bare: no description", "bare --format: no help", "hidden --engine: no help"]


def test_every_command_is_listed_in_the_help() -> None:
    text = cli_in_process("--help").stdout
    for name in subcommands(build_parser()):
        assert f"    {name} " in text or f"    {name}\n" in text, name


def test_bare_command_prints_the_help() -> None:
    """The documented choice: no command is a request for the help (stdout, exit 0)."""
    result = cli_in_process()
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == build_parser().format_help()
    assert "recommend" in result.stdout and "usage: axilla-kg" in result.stdout


#: the required arguments of each command, so that the unknown option is the only mistake
REQUIRED = {
    "show": ["4"],
    "query": ["topics"],
    "sparql": ["ASK {}"],
    "dose": ["US axilla"],
    "audit": ["orders.csv"],
    "export": ["--format", "ttl"],
    "import-ratings": ["table.csv", "--topic", "286"],
    "feedback-report": ["--db", "feedback.sqlite"],
    "diff": ["235-2017", "235"],
}


@pytest.mark.parametrize("command", sorted(subcommands(build_parser())))
def test_an_unknown_option_is_one_line(command: str) -> None:
    result = cli_in_process(command, *REQUIRED.get(command, []), "--bogus")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"axilla-kg {command}: error: ") and "--bogus" in result.stderr


@pytest.mark.parametrize(
    "args,names",
    [
        (["show"], "variant"),  # a missing positional argument
        (["show", "4", "--format", "yaml"], "--format"),  # a value outside the choices
        (["nonsense"], "nonsense"),  # an unknown command
        (["query"], "name"),
    ],
)
def test_usage_mistakes_are_one_line(args: list[str], names: str) -> None:
    result = cli_in_process(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and names in result.stderr, result.stderr


def option(command: str, flag: str) -> argparse.Action | None:
    parser = subcommands(build_parser())[command]
    return next((a for a in parser._actions if flag in a.option_strings), None)


#: the commands that read the graph and take extra RDF; serve and push take --data too (no engine:
#: serve's workers and push always use Oxigraph)
GRAPH_COMMANDS = ("variants", "show", "query", "sparql", "dose", "recommend", "audit")


def test_shared_options_mean_the_same() -> None:
    """``--data`` and ``--engine`` are the same option wherever they exist (README: "Command line")."""
    first_engine = option("show", "--engine")
    assert first_engine is not None
    for command in GRAPH_COMMANDS:
        engine, data = option(command, "--engine"), option(command, "--data")
        assert engine is not None and data is not None, command
        assert (engine.choices, engine.default, engine.help) == (
            first_engine.choices,
            first_engine.default,
            first_engine.help,
        ), command
        assert isinstance(data, argparse._AppendAction) and data.metavar == "FILE", command
    for command in ("check", "serve", "push"):
        data = option(command, "--data")
        assert isinstance(data, argparse._AppendAction) and data.metavar == "FILE", command
    for command, parser in subcommands(build_parser()).items():
        fmt = next((a for a in parser._actions if "--format" in a.option_strings), None)
        if fmt is None or command == "export":  # export's --format is the RDF/FHIR/CSV syntax
            continue
        assert fmt.default == "table" and "json" in (fmt.choices or ()), command


def test_shared_data_option_loads_extra_rdf() -> None:
    """Behaviour, not only the flag: the same extra file changes the answer of each reader."""
    extra = REPO / "tests" / "fixtures" / "check" / "us-with-radiation.ttl"
    ask = "ASK { ?p ax:procedureName 'US fixture' }"
    assert cli_in_process("sparql", ask).stdout == "false\n"
    assert cli_in_process("sparql", ask, "--data", str(extra)).stdout == "true\n"
    assert cli_in_process("sparql", ask, "--data", str(extra), "--engine", "rdflib").stdout == "true\n"
    dose = cli_in_process("dose", "US fixture", "--data", str(extra), "--format", "json")
    assert dose.returncode == 0 and json.loads(dose.stdout)["studies"][0]["rrl"] == "☢☢☢"


def test_long_cells_wrap_between_words() -> None:
    """A real long title (286 V7) is printed whole, across lines, never cut with an ellipsis."""
    title = json.loads(cli_in_process("show", "7", "--format", "json").stdout)["title"]
    assert len(title) > 150
    table = cli_in_process("variants").stdout
    assert "…" not in table
    lines = table.splitlines()
    start = lines[0].index("title")
    end = lines[0].index("ratings")
    row = next(i for i, line in enumerate(lines) if line.startswith("286    7 "))
    parts = [lines[row][start:end].strip()]
    for line in lines[row + 1 :]:
        if line[:start].strip():  # the next row
            break
        parts.append(line[start:end].strip())
    assert len(parts) > 1 and " ".join(parts) == title
    assert all(len(p) <= 60 for p in parts)


def test_version_imports_no_engine_or_exporter() -> None:
    """``--version`` (and the parser for the help) loads neither the RDF libraries nor the reasoner,
    the exporters or the ontology: a fresh interpreter reports what it imported."""
    code = (
        "import sys, json\nfrom axilla_kg.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), cwd=REPO, timeout=120
    )
    assert proc.stdout.startswith("axilla-kg "), proc.stdout + proc.stderr
    modules = set(json.loads(proc.stderr))
    heavy = {m for m in modules if m.split(".")[0] in ("rdflib", "pyoxigraph", "owlready2", "pyshacl", "starlette")}
    ours = {m for m in modules if m.startswith(("axilla_kg.export", "axilla_kg.checks", "axilla_kg.server"))}
    assert heavy == set() and ours == set(), sorted(heavy | ours)
