"""FHIR CPG bundle, SSSOM mappings, the flat ratings CSV and its import (round trip and errors)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdf_compare import isomorphic

from axilla_kg.authoring.importing import import_ratings
from axilla_kg.export import SourceGraph
from axilla_kg.export.fhir import fhir_bundle
from axilla_kg.export.rdf import AX
from axilla_kg.export.sssom import CURIE_MAP, sssom_tsv
from axilla_kg.export.table import COLUMNS, ratings_csv

from conftest import TTL_PREFIXES, Exported, python_cli

AXD = "https://w3id.org/axilla-kg/id/"
UCUM = "http://unitsofmeasure.org"
USAGE_CONTEXT = "http://terminology.hl7.org/CodeSystem/usage-context-type"


@pytest.fixture(scope="module")
def source(export_source: SourceGraph) -> SourceGraph:
    """The shipped graph as the exporters read it, shared by the whole run (see conftest)."""
    return export_source


def _variants(g: rdflib.Graph) -> list[rdflib.term.Node]:
    return list(g.subjects(rdflib.RDF.type, AX.Variant))


# --- FHIR -------------------------------------------------------------------------------------
def test_fhir_bundle_validates_as_fhir_r4b(source) -> None:  # type: ignore[no-untyped-def]
    from fhir.resources.R4B.bundle import Bundle

    bundle = Bundle.model_validate(fhir_bundle(source))
    assert bundle.type == "collection" and bundle.entry


def test_fhir_one_plan_per_variant_one_action_per_rating(source) -> None:  # type: ignore[no-untyped-def]
    g = source.graph
    data = fhir_bundle(source)
    resources = [e["resource"] for e in data["entry"]]
    plans = [r for r in resources if r["resourceType"] == "PlanDefinition"]
    activities = {r["url"]: r for r in resources if r["resourceType"] == "ActivityDefinition"}
    assert len(plans) == len(_variants(g))
    assert len(activities) == len(set(g.subjects(rdflib.RDF.type, AX.Procedure)))
    categories = {
        str(lbl)
        for c in g.subjects(rdflib.RDF.type, AX.AppropriatenessCategory)
        for lbl in g.objects(c, rdflib.RDFS.label)
    }
    for plan in plans:
        key, number = plan["id"].removeprefix("acr-").rsplit("-variant-", 1)
        variant = rdflib.URIRef(f"{AXD}topic-{key}-variant-{number}")
        title = str(next(g.objects(variant, AX.officialTitle)))
        assert title in plan["description"]
        ratings = list(g.subjects(AX.ratedVariant, variant))
        assert len(plan.get("action", [])) == len(ratings)
        for action in plan.get("action", []):
            assert action["definitionCanonical"] in activities
            assert activities[action["definitionCanonical"]]["title"] == action["title"]
            assert action["code"][0]["coding"][0]["display"] in categories
    v4 = next(p for p in plans if p["id"] == "acr-286-variant-4")
    assert "INCOMPLETE" in v4["description"]
    contexts = {c["code"]["code"] for c in v4["useContext"]}
    assert {"gender", "focus"} <= contexts


def _plan(bundle: dict, plan_id: str) -> dict:  # type: ignore[type-arg]
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == plan_id)


def test_fhir_age_bounds_are_exact_quantities_in_years(source) -> None:  # type: ignore[no-untyped-def]
    """Every ``ax:ageBelowYears`` bound of the graph (read here with rdflib) is an exact FHIR age
    Quantity in UCUM years with the strict comparator, not a yes/no concept."""
    g = source.graph
    bounds = list(g.subject_objects(AX.ageBelowYears))
    assert bounds, "the graph has an age bound to check"
    bundle = fhir_bundle(source)
    for variant, limit in bounds:
        key = str(next(g.objects(next(g.objects(variant, AX.inTopic)), AX.topicKey)))
        number = int(next(g.objects(variant, AX.variantNumber)))
        contexts = _plan(bundle, f"acr-{key}-variant-{number}")["useContext"]
        ages = [c for c in contexts if c["code"]["code"] == "age"]
        assert {"value": int(limit), "comparator": "<", "unit": "a", "system": UCUM, "code": "a"} in [
            c.get("valueQuantity") for c in ages
        ]
        assert not any("ageBelowYears" in json.dumps(c) for c in contexts)


def test_fhir_maps_a_new_feature_from_the_ontology_alone(tmp_path: Path) -> None:
    """Adding a feature is an ontology edit: a bound on a feature the code has never heard of,
    with its UCUM unit, becomes an exact Quantity; an accepted value becomes a focus concept."""
    from axilla_kg.export import load_source

    extra = tmp_path / "weight.ttl"
    extra.write_text(
        TTL_PREFIXES
        + """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ax:featTestWeight a ax:PatientFeature ; rdfs:label "body weight"@en ; ax:ucumUnit "kg" .
ax:testWeightBelowKg ax:constrainsFeature ax:featTestWeight ; ax:boundFacet "maxExclusive" ;
    rdfs:label "body weight below (kg)"@en .
ax:testAcceptsColour ax:constrainsFeature ax:featTestWeight ; rdfs:label "colour"@en .
ax:TestBlue rdfs:label "blue"@en .
axd:topic-286-variant-1 ax:testWeightBelowKg 80.5 ; ax:testAcceptsColour ax:TestBlue .
""",
        encoding="utf-8",
    )
    contexts = _plan(fhir_bundle(load_source(extra=[extra]), topic="286"), "acr-286-variant-1")["useContext"]
    assert {
        "code": {"system": USAGE_CONTEXT, "code": "focus"},
        "valueQuantity": {"value": 80.5, "comparator": "<", "unit": "kg", "system": UCUM, "code": "kg"},
    } in contexts
    blue = [c for c in contexts if c.get("valueCodeableConcept", {}).get("text") == "colour: blue"]
    assert blue and blue[0]["valueCodeableConcept"]["coding"][0]["code"] == "TestBlue"


def test_cli_export_fhir_to_file(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    done = python_cli("export", "--format", "fhir", "--topic", "286", "--output", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    plans = [e for e in data["entry"] if e["resource"]["resourceType"] == "PlanDefinition"]
    assert len(plans) == 12


# --- SSSOM ------------------------------------------------------------------------------------
def _sssom_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    meta = [line for line in text.splitlines() if line.startswith("#")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return meta, list(csv.DictReader(io.StringIO(body), delimiter="\t"))


def _expand(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return CURIE_MAP[prefix] + local


def test_sssom_is_exactly_the_graphs_mapping_triples(source) -> None:  # type: ignore[no-untyped-def]
    g = source.graph
    meta, rows = _sssom_rows(sssom_tsv(source))
    assert any(m.startswith("#mapping_set_id: ") for m in meta) and any(m.startswith("#license: ") for m in meta)
    assert rows, "no mappings exported"
    exported = {(_expand(r["subject_id"]), _expand(r["predicate_id"]), _expand(r["object_id"])) for r in rows}
    in_graph = {
        (str(s), str(p), str(o))
        for p in (rdflib.SKOS[m + "Match"] for m in ("exact", "close", "broad", "narrow", "related"))
        for s, o in g.subject_objects(p)
        if str(s).startswith(AXD) and isinstance(o, rdflib.URIRef)
    }
    assert exported == in_graph
    for row in rows:
        assert row["mapping_justification"] == "semapv:ManualMappingCuration"
        assert "Verified at: http" in row["comment"], row
        assert row["object_id"].split(":")[0] in {"SNOMED", "LOINC", "NCIT", "RADLEX"}


# --- CSV export and import --------------------------------------------------------------------
def test_csv_has_one_row_per_rating(source) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(ratings_csv(source))))
    assert len(rows) == len(set(source.graph.subjects(rdflib.RDF.type, AX.AppropriatenessRating)))
    assert list(rows[0]) == COLUMNS


def _ratings_subgraph(g: rdflib.Graph, key: str) -> rdflib.Graph:
    out = rdflib.Graph()
    topic = rdflib.URIRef(f"{AXD}topic-{key}")
    for variant in g.subjects(AX.inTopic, topic):
        for p in (AX.variantNumber, AX.officialTitle, AX.inTopic, rdflib.RDFS.label):
            for o in g.objects(variant, p):
                out.add((variant, p, o))
        for rating in g.subjects(AX.ratedVariant, variant):
            out += g.triples((rating, None, None))
            for record in g.objects(rating, AX.hasSourceRecord):
                out += g.triples((record, None, None))
    return out


@pytest.mark.parametrize("key", ["286", "235-2017", "153"])
def test_export_import_round_trip_gives_the_identical_graph(tmp_path: Path, source, key: str) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "ratings.csv"
    table.write_text(ratings_csv(source, topic=key), encoding="utf-8")
    imported = rdflib.Graph()
    imported.parse(data=import_ratings(table, key), format="turtle")
    expected = _ratings_subgraph(source.graph, key)
    assert len(expected) > 20
    assert isomorphic(_quads(_ratings_subgraph(imported, key)), _quads(expected))


def _quads(graph: rdflib.Graph) -> list[ox.Quad]:
    """rdflib's triples as pyoxigraph quads, for the canonical-form comparison of rdf_compare."""
    return list(ox.parse(graph.serialize(format="nt"), format=ox.RdfFormat.N_TRIPLES))


def test_cli_import_writes_turtle_that_loads_with_the_graph(tmp_path: Path, exported: Exported) -> None:
    table, out = tmp_path / "t.csv", tmp_path / "topic-286.ttl"
    # the table `export --format csv --topic 286` prints (the CLI's export is tested above)
    table.write_bytes(exported("csv", "286").encode("utf-8"))
    done = python_cli("import-ratings", str(table), "--topic", "286", "--output", str(out))
    assert done.returncode == 0, done.stderr
    shown = python_cli("show", "4", "--format", "json", "--data", str(out))
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["ratings"]) == 3  # merging identical triples adds nothing


def _bad_table(tmp_path: Path, source, column: str, value: str) -> Path:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(ratings_csv(source, topic="286"))))
    rows[1][column] = value  # file line 3
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("procedure", "X-ray of the moon", "unknown procedure 'X-ray of the moon'"),
        ("category", "Sometimes Appropriate", "field 'category' has unknown value"),
        ("rrl", "☢☢☢☢☢☢", "field 'rrl' has unknown value"),
        ("rating", "12", "field 'rating' must be a whole number 1-9"),
        ("topic", "235", "field 'topic' is '235'"),
    ],
)
def test_import_rejects_a_bad_row_naming_its_line_and_writes_nothing(
    tmp_path: Path,
    source,
    column: str,
    value: str,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    table = _bad_table(tmp_path, source, column, value)
    out = tmp_path / "out.ttl"
    done = python_cli("import-ratings", str(table), "--topic", "286", "--output", str(out))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.csv:3:" in lines[0] and message in lines[0], done.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".out.ttl.*"))
