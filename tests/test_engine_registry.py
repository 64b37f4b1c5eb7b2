"""The engine registry is what ``--engine`` offers: an engine registered in
``axilla_kg.graph.engines`` is listed (with its description) and used by the CLI with no CLI change.

The registration happens in a separate interpreter, so the registry of the test process stays the
shipped one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from axilla_kg.graph import engines

from conftest import cli_env, cli_in_process

SCRIPT = textwrap.dedent(
    """
    import contextlib, io, json
    from axilla_kg.graph import engines
    from axilla_kg.cli import main

    class SecondOxigraph(engines.OxigraphEngine):
        name = "oxigraph-second"

    engines.register("oxigraph-second", SecondOxigraph, "a second Oxigraph store, registered by a test")

    def run(*argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                code = main(list(argv))
            except SystemExit as exc:
                code = exc.code
        return code, out.getvalue()

    help_code, help_text = run("query", "--help")
    code, answer = run("query", "variants", "--engine", "oxigraph-second", "--format", "json")
    print(json.dumps({"help": " ".join(help_text.split()), "code": code, "answer": answer}))
    """
)


def test_the_shipped_registry_is_what_the_cli_offers() -> None:
    assert engines.available() == ["oxigraph", "rdflib"]
    assert [info.name for info in engines.described()] == ["oxigraph", "rdflib"]
    assert all(info.description for info in engines.described())
    help_text = " ".join(cli_in_process("query", "--help").stdout.split())
    assert "--engine {oxigraph,rdflib}" in help_text
    for info in engines.described():
        assert f"{info.name} ({info.description})" in help_text


def test_a_registered_engine_is_offered_and_used_by_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=cli_env(), check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "--engine {oxigraph,oxigraph-second,rdflib}" in report["help"]
    assert "oxigraph-second (a second Oxigraph store, registered by a test)" in report["help"]
    assert report["code"] == 0
    expected = cli_in_process("query", "variants", "--format", "json")
    assert json.loads(report["answer"]) == json.loads(expected.stdout)
    assert len(json.loads(report["answer"])["results"]["bindings"]) > 10
