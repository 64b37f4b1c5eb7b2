"""The read layer's internal queries (``queries/internal/*.rq``, :mod:`axilla_kg.graph.reads`):
each one answers the same on both engines, and answers what an independent reading says — the
reference tables of ``/work/shared/reference`` or the Turtle source walked triple by triple with
rdflib (the reference engine), never the query's own earlier output."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from axilla_kg.errors import ParameterError, UnknownQueryError
from axilla_kg.graph.engines import OxigraphEngine
from axilla_kg.graph.queries import QueryLibrary
from axilla_kg.graph.reads import internal_names, internal_query, read, read_store, texts, values
from axilla_kg.resources import ontology_dir

from conftest import read_csv

AX = rdflib.Namespace("https://w3id.org/axilla-kg/vocab#")
SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")

# One parameter set per internal query; a new internal .rq file without an entry here fails the suite.
PARAMS: dict[str, dict[str, Any]] = {
    "aliases": {},
    "all-ratings": {},
    "category-ranks": {},
    "confidence-ranks": {},
    "criterion-notes": {},
    "current-ratings": {},
    "current-variants": {},
    "definition-sources": {},
    "definition-statements": {},
    # the exporters' and vocab.py's reads (issue 22, vocab branch; their own tests check their answers)
    "export-fhir-actions": {"topic": "286"},
    "export-fhir-contexts": {"topic": "286"},
    "export-fhir-procedures": {},
    "export-links": {},
    "export-mappings": {},
    "export-ontology": {},
    "export-sources": {},
    "export-topics": {},
    "export-variants": {"topic": "286"},
    "labels": {},
    "owl-nothing-members": {},
    "patient-class-containment": {},
    "patient-classes": {},
    "procedure-identifying-matches": {"match": str(SKOS.narrowMatch)},
    "procedure-levels": {},
    "procedure-names": {},
    "rating-table-completeness": {},
    "registry-conditions": {},
    "registry-definition-properties": {},
    "registry-derivations": {},
    "registry-exceptions": {},
    "registry-features": {},
    "registry-rules": {},
    "registry-values": {},
    "rrl-orders": {},
    "stated-ratings": {},
    "subjects-under": {"base": "https://w3id.org/axilla-kg/vocab#"},
    "superseded-topics": {},
    "topic-definition-sources": {"topic": "286"},
    "topic-keys": {},
    "topic-labels": {},
    "topic-record": {"topic": "286"},
    "variant-class-structure": {},
    "variant-classes": {},
    "vocab-feature-gap-values": {},
    "vocab-terminology": {},
}
# no row in the shipped graph (each has its own test below that it finds what it should)
EMPTY_ON_SHIPPED = {"owl-nothing-members", "patient-class-containment"}


@pytest.fixture(scope="module")
def source(kg_rdflib) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    """The shipped graph as rdflib parsed it: what the independent triple walks below read."""
    return kg_rdflib.engine.graph


def _unlabelled(rows: list[tuple[Any, ...]]) -> list[tuple[str, ...]]:
    """Rows sorted, each blank node written as '_:' (engines label blank nodes differently)."""
    return sorted(tuple("_:" if isinstance(c, ox.BlankNode) else repr(c) for c in row) for row in rows)


def _strings(rows: list[tuple[str | None, ...]]) -> set[tuple[str, ...]]:
    return {tuple(str(cell) for cell in row) for row in rows}


def test_every_internal_query_has_a_header_a_test_and_is_not_listed_to_users() -> None:
    assert internal_names() == sorted(PARAMS)
    listed = {q.name for q in QueryLibrary.load()}
    for name in internal_names():
        query = internal_query(name)
        assert query.title and query.answers, name
        assert name not in listed, f"{name} is internal but 'axilla-kg queries' would list it"


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_engines_agree(kg, kg_rdflib, name: str) -> None:  # type: ignore[no-untyped-def]
    a, b = kg.read(name, **PARAMS[name]), kg_rdflib.read(name, **PARAMS[name])
    assert a.kind == b.kind
    if a.kind == "graph":  # blank-node labels differ between engines: compare the shape
        assert len(a.triples) == len(b.triples) > 0
        assert Counter(p.value for _s, p, _o in a.triples) == Counter(p.value for _s, p, _o in b.triples)
        return
    assert a.variables == b.variables
    assert _unlabelled(a.canonical_rows()) == _unlabelled(b.canonical_rows())
    assert bool(a.rows) == (name not in EMPTY_ON_SHIPPED), name


# --- single-pattern reads against the same pattern walked with rdflib -----------------------------
@pytest.mark.parametrize(
    ("name", "predicate"),
    [
        ("definition-sources", AX.definitionSource),
        ("patient-classes", AX.patientClass),
        ("aliases", AX.alsoKnownAs),
        ("patient-class-containment", AX.patientClassContainedIn),
    ],
)
def test_pairs_equal_a_triple_walk(kg, source: rdflib.Graph, name: str, predicate: rdflib.URIRef) -> None:  # type: ignore[no-untyped-def]
    expected = {(str(s), str(o)) for s, o in source.subject_objects(predicate)}
    if name == "patient-class-containment":  # variants whose classes are linked, not the classes
        cls_of = {str(c): str(v) for v, c in source.subject_objects(AX.patientClass)}
        expected = {(cls_of[a], cls_of[b]) for a, b in expected if a in cls_of and b in cls_of and a != b}
    assert _strings(texts(kg.read(name))) == expected


def test_procedure_names_are_the_reference_tables_procedures(kg) -> None:  # type: ignore[no-untyped-def]
    reference = {r["procedure"] for r in read_csv("acr286_ratings.csv") + read_csv("related_topics_ratings.csv")}
    assert {str(name) for (name,) in texts(kg.read("procedure-names"))} == reference


def test_category_ranks_follow_the_acr_order(kg) -> None:  # type: ignore[no-untyped-def]
    ranks = dict(values(kg.read("category-ranks")))
    # the ACR's order of categories, best first (rrl_and_categories.md); Disagreement after plain May Be
    assert sorted(ranks, key=ranks.__getitem__) == [
        "Usually Appropriate",
        "May Be Appropriate",
        "May Be Appropriate (Disagreement)",
        "Usually Not Appropriate",
    ]


def test_rrl_orders_count_the_radiation_symbols(kg) -> None:  # type: ignore[no-untyped-def]
    orders = dict(values(kg.read("rrl-orders")))
    assert orders == {"O": 0, **{"☢" * n: n for n in range(1, 6)}}


def test_procedure_levels_agree_with_the_reference_rrl(kg) -> None:  # type: ignore[no-untyped-def]
    levels = {name: symbol for name, symbol, _order in values(kg.read("procedure-levels"))}
    listed = {(r["procedure"], r["relative_radiation_level"]) for r in read_csv("acr286_ratings.csv")}
    for procedure, rrl in listed:
        if rrl:  # the reference lists the adult level where the ACR states one
            assert levels[procedure] == rrl, procedure


def test_all_ratings_of_topic_286_are_the_reference_rows(kg) -> None:  # type: ignore[no-untyped-def]
    rows = [r for r in values(kg.read("all-ratings")) if "/topic-286-variant-" in str(r[0])]
    expected = Counter((int(r["variant_number"]), r["procedure"]) for r in read_csv("acr286_ratings.csv"))
    assert Counter((int(str(v).rsplit("-", 1)[1]), p) for v, p, *_ in rows) == expected


def test_rating_table_completeness_matches_the_turtle(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    expected = {
        (str(v), str(c).lower())
        for v in set(source.subjects(AX.patientClass))
        for c in source.objects(v, AX.ratingTableComplete)
    }
    assert {(str(v), str(c).lower()) for v, c in values(kg.read("rating-table-completeness"))} == expected


def test_topic_keys_and_superseded_topics(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    assert {str(k) for (k,) in texts(kg.read("topic-keys"))} == {"153", "179", "205", "235", "235-2017", "286", "310"}
    superseded = {str(t) for t in source.subjects(AX.supersededBy)}
    assert {str(t) for (t,) in texts(kg.read("superseded-topics"))} == superseded


def test_topic_record_and_definition_sources_of_286(kg) -> None:  # type: ignore[no-untyped-def]
    (record,) = kg.read("topic-record", topic="286").records()
    assert (record["number"], record["edition"], record["superseded_key"]) == (286, "current", None)
    (old,) = kg.read("topic-record", topic="235-2017").records()
    assert old["superseded_by" if "superseded_by" in old else "superseded_key"] == "235"
    numbers = sorted(int(str(n)) for _t, n, _s in texts(kg.read("topic-definition-sources", topic="286")))
    assert numbers == sorted(int(r["variant_number"]) for r in read_csv("acr286_variants.csv"))
    assert kg.read("topic-record", topic="999").rows == []


def test_labels_one_per_labelled_subject(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    labels = dict(_strings(texts(kg.read("labels"))))
    assert set(labels) == {str(s) for s in source.subjects(rdflib.RDFS.label)}
    for iri, text in labels.items():
        assert text in {str(o) for o in source.objects(rdflib.URIRef(iri), rdflib.RDFS.label)}, iri


def test_registry_features_are_the_case_fields(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    names = [str(row[1]) for row in texts(kg.read("registry-features"))]
    assert sorted(names) == sorted(str(o) for o in source.objects(None, AX.caseField))


def test_identifying_matches_bind_the_predicate(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    for predicate in (SKOS.exactMatch, SKOS.narrowMatch, SKOS.broadMatch):
        expected = {
            (str(name), str(target))
            for proc, target in source.subject_objects(predicate)
            for name in source.objects(proc, AX.procedureName)
        }
        rows = kg.read("procedure-identifying-matches", match=str(predicate)).records()
        assert {(str(r["name"]), str(r["target"])) for r in rows} == expected


def test_subjects_under_binds_the_namespace_never_pastes_it(kg) -> None:  # type: ignore[no-untyped-def]
    vocab = {str(r["s"]) for r in kg.read("subjects-under", base=str(AX)).records()}
    assert vocab and all(s.startswith(str(AX)) for s in vocab)
    # a value that would close the string and widen the filter if it were pasted into the text
    hostile = '") || true || STR("'
    assert kg.read("subjects-under", base=hostile).rows == []


def test_owl_nothing_members_found_in_a_planted_graph(tmp_path: Path) -> None:
    planted = tmp_path / "nothing.ttl"
    planted.write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "<https://example.org/b> a owl:Nothing . <https://example.org/a> a owl:Nothing .\n",
        encoding="utf-8",
    )
    engine = OxigraphEngine()
    engine.load(planted)
    assert [str(x) for (x,) in texts(read(engine, "owl-nothing-members"))] == [
        "https://example.org/a",
        "https://example.org/b",
    ]


def test_read_store_runs_on_a_bare_store() -> None:
    import pyoxigraph

    path = ontology_dir() / "procedures.ttl"
    store = pyoxigraph.Store()
    store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    names = {str(n) for (n,) in texts(read_store(store, "procedure-names"))}
    walked = rdflib.Graph().parse(path, format="turtle")
    assert names == {str(o) for o in walked.objects(None, AX.procedureName)}
    reference = {r["procedure"] for r in read_csv("acr286_ratings.csv") + read_csv("related_topics_ratings.csv")}
    assert names == reference


def test_unknown_internal_query_and_bad_parameters() -> None:
    with pytest.raises(UnknownQueryError):
        internal_query("no-such-query")
    with pytest.raises(UnknownQueryError):
        internal_query("../topics")
    with pytest.raises(ParameterError):
        read(OxigraphEngine(), "topic-record")  # its topic is required
    with pytest.raises(ParameterError):
        read(OxigraphEngine(), "procedure-identifying-matches", match="not an iri")


def test_confidence_ranks_cover_the_reference_confidences(kg) -> None:  # type: ignore[no-untyped-def]
    ranks = dict(values(kg.read("confidence-ranks")))
    assert {r["confidence"] for r in read_csv("acr286_ratings.csv")} <= set(ranks)
    # best first: a curated high-confidence fact outranks the seed article, which outranks medium and low
    assert sorted(ranks, key=ranks.__getitem__) == ["high", "seed", "medium", "low"]


def test_current_variants_of_286_carry_the_reference_titles(kg) -> None:  # type: ignore[no-untyped-def]
    rows = [r for r in kg.read("current-variants").records() if str(r["t"]).endswith("/topic-286")]
    titles = {int(str(r["n"])): str(r["title"]) for r in rows}
    assert titles == {int(r["variant_number"]): r["variant_title"] for r in read_csv("acr286_variants.csv")}


def test_rating_reads_count_what_the_turtle_states(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    owl_deprecated = rdflib.URIRef("http://www.w3.org/2002/07/owl#deprecated")
    ratings = set(source.subjects(AX.ratedVariant))
    current = {r for r in ratings if (r, owl_deprecated, rdflib.Literal(True)) not in source}
    assert len(kg.read("current-ratings").rows) == len(current)
    stated = {r for r in ratings for c in source.objects(r, AX.category) if (c, AX.categoryText, None) in source}
    assert len(kg.read("stated-ratings").rows) == len(stated)
    # the reference table of topic 286: every row with a stated category is a stated rating
    rows_286 = [r for r in kg.read("stated-ratings").records() if "/topic-286-variant-" in str(r["v"])]
    assert len(rows_286) == sum(1 for r in read_csv("acr286_ratings.csv") if r["appropriateness_category"])


def test_criterion_notes_and_variant_classes_match_the_turtle(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    assert len(kg.read("criterion-notes").rows) == len(list(source.subject_objects(AX.criterionNote)))
    classes = kg.read("variant-classes").records()
    assert {(str(r["v"]), str(r["cls"])) for r in classes} == {
        (str(v), str(c)) for v, c in source.subject_objects(AX.patientClass)
    }
    equivalent = rdflib.URIRef("http://www.w3.org/2002/07/owl#equivalentClass")
    assert all(r["expr"] is not None for r in classes)
    assert len(classes) == sum(
        1 for _v, c in source.subject_objects(AX.patientClass) if (c, equivalent, None) in source
    )


def test_definition_statements_are_the_ax_statements_about_variants(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    variants = {v for v in source.subjects(AX.inTopic) if (v, AX.variantNumber, None) in source}
    expected = sum(1 for v in variants for p, _o in source.predicate_objects(v) if str(p).startswith(str(AX)))
    rows = kg.read("definition-statements").records()
    assert len(rows) == expected and all(str(r["p"]).startswith(str(AX)) for r in rows)


def test_registry_values_are_the_case_values(kg, source: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    expected = {
        (str(f), str(v)) for v, f in source.subject_objects(AX.valueOfFeature) if (v, AX.caseValue, None) in source
    }
    assert {(str(r[0]), str(r[1])) for r in texts(kg.read("registry-values"))} == expected
    assert len(kg.read("topic-labels").rows) == len(set(source.subjects(AX.topicKey)))
