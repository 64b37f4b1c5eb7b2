"""``axilla_kg.vocab``: the short names every writer and report uses, against hand-written
expectations."""

from __future__ import annotations

from axilla_kg import vocab


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
    text = vocab.text_by_iri(vocab.CATEGORIES)
    assert text[vocab.AX + "UsuallyAppropriate"] == "Usually Appropriate"
    assert text[vocab.AX + "CategoryNotStated"] == ""
    assert vocab.text_by_iri(vocab.RRLS)[vocab.AX + "RRL-3"] == "☢☢☢"
    assert len(text) == len(vocab.CATEGORIES)


def test_sparql_prefixes() -> None:
    assert vocab.sparql_prefixes("ax", "rdf") == (
        f"PREFIX ax: <{vocab.AX}>\nPREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
    )
