"""The installed `axilla-kg` console script, run as a user would, from outside the repository."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
import rdflib

from conftest import cli_command, cli_env, run_cli, write_ttl


def test_show_4_json_contract_from_any_directory(tmp_path: Path) -> None:
    proc = run_cli("show", "4", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["topic"] == "286" and data["variant"] == 4
    assert data["title"].startswith("Female. Newly diagnosed breast cancer, 2 cm or less, with clinical node-positive")
    assert data["complete"] is False
    first = data["ratings"][0]
    assert {"procedure", "category", "rrl", "source", "confidence"} <= set(first)
    assert (first["procedure"], first["category"], first["rrl"]) == ("US axilla", "Usually Appropriate", "O")
    assert data["differentials"] and data["workflow"] and data["pitfalls"] and data["related_variants"]


def test_show_table_says_when_the_table_is_incomplete(tmp_path: Path) -> None:
    proc = run_cli("show", "4", cwd=tmp_path)
    assert proc.returncode == 0
    assert "INCOMPLETE" in proc.stdout and "US axilla" in proc.stdout and "acsearch.acr.org" in proc.stdout
    complete = run_cli("show", "1", cwd=tmp_path)
    assert "Rating table: complete." in complete.stdout


def test_show_other_topic() -> None:
    proc = run_cli("show", "4", "--topic", "235", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["topic"] == "235" and {r["procedure"] for r in data["ratings"]} >= {"US axilla"}


def test_variants_csv() -> None:
    proc = run_cli("variants", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [int(r["variant"]) for r in rows] == list(range(1, 13))
    assert rows[0]["complete"] == "true"


def test_queries_lists_every_named_query() -> None:
    proc = run_cli("queries", "--format", "json")
    names = {q["name"] for q in json.loads(proc.stdout)}
    assert {"appropriate-studies", "variant-ratings", "rating-provenance"} <= names


def test_query_sparql_json_results_format() -> None:
    proc = run_cli("query", "appropriate-studies", "--param", "variant=4", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert "procedure" in data["head"]["vars"]
    first = data["results"]["bindings"][0]
    assert first["procedure"] == {"type": "literal", "value": "US axilla"}
    assert first["variant"] == {"type": "literal", "value": "4", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}


def test_query_tsv_and_csv() -> None:
    tsv = run_cli("query", "variants", "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[:2] == ["?topic", "?variant"] and tsv[1].split("\t")[1] == "1"
    raw = subprocess.run(
        [*cli_command(), "query", "variants", "--format", "csv"], capture_output=True, check=True, env=cli_env()
    )
    assert raw.stdout.startswith(b"topic,variant,title,complete,ratings\r\n"), "SPARQL CSV results use CRLF line ends"


def test_sparql_from_argument_file_and_stdin(tmp_path: Path) -> None:
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?r a ax:AppropriatenessRating }"
    by_arg = run_cli("sparql", text, "--format", "csv").stdout
    query_file = tmp_path / "count.rq"
    query_file.write_text(text, encoding="utf-8")
    by_file = run_cli("sparql", str(query_file), "--format", "csv").stdout
    by_stdin = run_cli("sparql", "-", "--format", "csv", stdin=text).stdout
    assert by_arg == by_file == by_stdin
    assert int(by_arg.splitlines()[1]) > 100


def test_sparql_ask_and_construct() -> None:
    ask = run_cli("sparql", "ASK { axd:topic-286-variant-4 a ax:Variant }", "--format", "json")
    assert json.loads(ask.stdout) == {"head": {}, "boolean": True}
    construct = "CONSTRUCT { ?v rdfs:label ?l } WHERE { ?v ax:inTopic axd:topic-286 ; rdfs:label ?l }"
    # independent expectation: topic 286 has variants 1-12, each labelled "ACR 286 variant N"
    expected = {
        (
            rdflib.URIRef(f"https://w3id.org/axilla-kg/id/topic-286-variant-{n}"),
            rdflib.RDFS.label,
            rdflib.Literal(f"ACR 286 variant {n}", lang="en"),
        )
        for n in range(1, 13)
    }
    turtle = run_cli("sparql", construct)
    assert turtle.returncode == 0, turtle.stderr
    assert set(rdflib.Graph().parse(data=turtle.stdout, format="turtle")) == expected
    jsonld = run_cli("sparql", construct, "--format", "json")
    assert jsonld.returncode == 0, jsonld.stderr
    json.loads(jsonld.stdout)  # one JSON document
    assert set(rdflib.Graph().parse(data=jsonld.stdout, format="json-ld")) == expected


def test_dose_cumulative_band() -> None:
    proc = run_cli("dose", "Mammography diagnostic", "Sestamibi MBI", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["cumulative"]["band"] == "1.1-11 mSv" and data["cumulative"]["complete"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "13"], "topic 286 has no variant 13"),
        (["show", "4", "--topic", "999"], "unknown topic '999'"),
        (["query", "no-such-query"], "unknown query 'no-such-query'"),
        (["query", "variant-ratings"], "needs parameter 'variant'"),
        (["query", "variant-ratings", "--param", "variant=x"], "must be a whole number"),
        (["query", "variant-ratings", "--param", "variant"], "--param expects KEY=VALUE"),
        (["sparql", "SELECT ?s WHERE { ?s ?p }"], "malformed SPARQL"),
        (["sparql", "INSERT DATA { <a:b> <a:c> <a:d> }"], "read-only"),
        (["dose", "US axila"], "unknown procedure 'US axila' (did you mean: 'US axilla'"),
        (["show", "4", "--data", "/no/such/file.ttl"], "/no/such/file.ttl: no such file"),
    ],
)
def test_user_errors_are_one_line_exit_2_no_traceback(args: list[str], message: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr


def test_malformed_extra_data_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "draft.ttl"
    bad.write_text(
        "@prefix ax: <https://w3id.org/axilla-kg/vocab#> .\n\nax:a ax:b ax:c ;\n  ax:d .\n", encoding="utf-8"
    )
    proc = run_cli("show", "4", "--data", str(bad))
    assert proc.returncode == 2 and "draft.ttl" in proc.stderr and "line 4" in proc.stderr
    assert proc.stdout == ""


def test_extra_data_is_queried_with_the_graph(tmp_path: Path) -> None:
    extra = write_ttl(tmp_path / "note.ttl", 'axd:topic-286-variant-4 ax:scopeNote "local note" .\n')
    query = 'ASK { axd:topic-286-variant-4 ax:scopeNote "local note" }'
    assert json.loads(run_cli("sparql", query, "--format", "json", "--data", str(extra)).stdout)["boolean"] is True
    assert json.loads(run_cli("sparql", query, "--format", "json").stdout)["boolean"] is False
