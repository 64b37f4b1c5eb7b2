"""Review rules for the ontology files: metadata, labels and definitions, provenance."""

from __future__ import annotations

import pytest

SKOS_DEF = "http://www.w3.org/2004/02/skos/core#definition"


def test_ontology_metadata(kg) -> None:  # type: ignore[no-untyped-def]
    rows = kg.sparql(
        """SELECT ?version ?title ?license ?created ?source WHERE {
             ?o a owl:Ontology ; owl:versionIRI ?version ; dcterms:title ?title ; dcterms:license ?license ;
                dcterms:created ?created ; dcterms:source ?source }"""
    ).records()
    assert rows and str(rows[0]["version"]).startswith("https://w3id.org/axilla-kg/ontology/")


@pytest.mark.parametrize("kind", ["owl:Class", "owl:ObjectProperty", "owl:DatatypeProperty"])
def test_every_class_and_property_has_label_and_definition(kg, kind: str) -> None:  # type: ignore[no-untyped-def]
    missing = kg.sparql(
        f"""SELECT ?x WHERE {{ ?x a {kind} .
              FILTER(STRSTARTS(STR(?x), "https://w3id.org/axilla-kg/"))
              FILTER NOT EXISTS {{ ?x rdfs:label ?l . ?x skos:definition ?d }} }}"""
    ).records()
    assert missing == []


def test_every_own_term_is_declared(kg) -> None:  # type: ignore[no-untyped-def]
    """A misspelt property in a content file would otherwise silently create a new one."""
    undeclared = kg.sparql(
        """SELECT DISTINCT ?p WHERE { ?s ?p ?o . FILTER(STRSTARTS(STR(?p), "https://w3id.org/axilla-kg/vocab#"))
             FILTER NOT EXISTS { ?p a ?kind . FILTER(?kind IN (owl:ObjectProperty, owl:DatatypeProperty,
                                                            owl:AnnotationProperty)) } }"""
    ).records()
    assert undeclared == []
    untyped = kg.sparql(
        """SELECT DISTINCT ?o WHERE { ?s ?p ?o . FILTER(isIRI(?o) && STRSTARTS(STR(?o), "https://w3id.org/axilla-kg/"))
             FILTER(?p != owl:versionIRI) FILTER NOT EXISTS { ?o a ?t } }"""
    ).records()
    assert untyped == [], "an IRI is used but never defined (a typo?)"


@pytest.mark.parametrize(
    "kind",
    ["AppropriatenessRating", "DifferentialDiagnosis", "WorkflowBranch", "Pitfall", "ClinicalFact", "VariantRelation"],
)
def test_every_fact_has_source_and_confidence(kg, kind: str) -> None:  # type: ignore[no-untyped-def]
    missing = kg.sparql(
        f"""SELECT ?x WHERE {{ ?x a ax:{kind} .
              FILTER NOT EXISTS {{ ?x ax:confidence ?c ; ax:hasSourceRecord ?s . ?s a ax:SourceRecord }} }}"""
    ).records()
    assert missing == []
    count = kg.sparql(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?x a ax:{kind} }}").records()[0]["n"]
    assert count > 0


def test_every_variant_states_completeness_and_definition_source(kg) -> None:  # type: ignore[no-untyped-def]
    missing = kg.sparql(
        """SELECT ?v WHERE { ?v a ax:Variant .
             FILTER NOT EXISTS { ?v ax:ratingTableComplete ?c ; ax:definitionSource ?s ; ax:officialTitle ?t } }"""
    ).records()
    assert missing == []


def test_every_procedure_has_exactly_one_adult_rrl(kg) -> None:  # type: ignore[no-untyped-def]
    rows = kg.sparql(
        """SELECT ?p (COUNT(?l) AS ?n) WHERE { ?p a ax:Procedure . OPTIONAL { ?p ax:adultRRL ?l } }
           GROUP BY ?p HAVING (COUNT(?l) != 1)"""
    ).records()
    assert rows == []


def test_no_ionizing_modality_has_rrl_o_and_vice_versa(kg) -> None:  # type: ignore[no-untyped-def]
    rows = kg.sparql(
        """SELECT ?p WHERE { ?p ax:usesIonizingRadiation ?ion ; ax:adultRRL ?l . ?l ax:rrlOrder ?o .
             FILTER((?ion && ?o = 0) || (!?ion && ?o > 0)) }"""
    ).records()
    assert rows == []
