"""``axilla_kg.vocab``: the short names every writer and report uses, against hand-written
expectations."""

from __future__ import annotations

import rdflib

from axilla_kg import vocab
from axilla_kg.resources import ontology_dir


def test_curie_picks_the_prefix_and_refuses_what_it_cannot_shorten() -> None:
    assert vocab.curie(vocab.AX + "Variant") == "ax:Variant"
    assert vocab.curie(vocab.AXD + "topic-286-variant-4") == "axd:topic-286-variant-4"
    assert vocab.curie("http://www.w3.org/2002/07/owl#Class") == "owl:Class"
    assert vocab.curie(vocab.AX) is None  # the namespace itself has no local part
    assert vocab.curie("https://example.org/x") is None
    assert vocab.curie(vocab.AXD + "topic-286", ("ax",)) is None  # only the prefixes asked for


def test_plain_curies_are_what_a_turtle_writer_can_emit() -> None:
    assert vocab.curie(vocab.AXD + "a b", plain=True) is None
    assert vocab.curie(vocab.AXD + "a/b", plain=True) is None
    assert vocab.curie(vocab.AXD + "ends.", plain=True) is None
    assert vocab.curie(vocab.AXD + "RRL-O.2", plain=True) == "axd:RRL-O.2"
    assert vocab.curie(vocab.AXD + "a/b") == "axd:a/b"  # display takes any remainder


def test_local_name() -> None:
    assert vocab.local_name(vocab.AX + "featClinicalNodes") == "featClinicalNodes"
    assert vocab.local_name(vocab.AXD + "topic-286-variant-4-patient") == "topic-286-variant-4-patient"


def test_the_printed_vocabularies_turn_round() -> None:
    text = vocab.text_by_iri("category")
    assert vocab.categories()["Usually Appropriate"] == "ax:UsuallyAppropriate"
    assert text[vocab.AX + "UsuallyAppropriate"] == "Usually Appropriate"
    assert text[vocab.AX + "CategoryNotStated"] == ""
    assert vocab.text_by_iri("rrl")[vocab.AX + "RRL-3"] == "☢☢☢"
    assert vocab.rrls()["Varies"] == "ax:RRL-Varies"
    assert vocab.soes()["Expert Consensus"] == "ax:SOE-ExpertConsensus"
    assert list(vocab.confidences()) == ["high", "seed", "medium", "low"]  # by ax:confidenceRank
    assert len(text) == len(vocab.categories())


def test_the_tables_are_terminology_ttl_read_independently() -> None:
    """Every table equals what rdflib reads from ``ontology/terminology.ttl`` in this test."""
    graph = rdflib.Graph().parse(ontology_dir() / "terminology.ttl", format="turtle")
    ax = rdflib.Namespace(vocab.AX)
    expected_categories = {
        str(graph.value(c, ax.categoryText) or ""): (
            f"ax:{str(c)[len(vocab.AX) :]}",
            int(graph.value(c, ax.categoryRank)),
        )
        for c in graph.subjects(rdflib.RDF.type, ax.AppropriatenessCategory)
    }
    assert vocab.categories() == {text: curie for text, (curie, _) in expected_categories.items()}
    ranks = vocab.rank_by_iri("category")
    assert {vocab.text_by_iri("category")[iri]: rank for iri, rank in ranks.items()} == {
        text: rank for text, (_, rank) in expected_categories.items()
    }
    assert list(vocab.categories()) == [t for t, _ in sorted(expected_categories.items(), key=lambda kv: kv[1][1])]
    expected_rrls = {str(s): f"ax:{str(level)[len(vocab.AX) :]}" for level, s in graph.subject_objects(ax.rrlSymbol)}
    assert vocab.rrls() == expected_rrls
    assert "(RRL not known)" not in vocab.rrls()  # no symbol is printed for it


def test_tables_keyed_by_individual_read_their_texts_from_the_ontology() -> None:
    table = vocab.by_category_text({"ax:UsuallyAppropriate": "ua", "ax:MayBeAppropriateDisagreement": "d"})
    assert table == {"Usually Appropriate": "ua", "May Be Appropriate (Disagreement)": "d"}
    assert vocab.category_text("ax:UsuallyNotAppropriate") == "Usually Not Appropriate"


def test_curie_with_a_prefix_map_takes_the_longest_base() -> None:
    table = {"SNOMED": "http://snomed.info/id/", "S": "http://snomed.info/"}
    assert vocab.curie("http://snomed.info/id/123", table) == "SNOMED:123"
    assert vocab.curie("http://snomed.info/sct", table) == "S:sct"
    assert vocab.curie("https://example.org/x", table) is None


def test_sparql_prefixes() -> None:
    assert vocab.sparql_prefixes("ax", "rdf") == (
        f"PREFIX ax: <{vocab.AX}>\nPREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
    )
