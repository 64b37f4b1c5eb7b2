"""The symbolic definitions stage (interval and set algebra on the compiled variant classes) gives
HermiT's answers: the same overlapping pairs, on the shipped graph and on generated ACR-style
samples; every reported gap is a class HermiT finds disjoint from every variant of its topic; and
every case the compiled classifier sees refuted by a whole topic lies in a reported gap."""

from __future__ import annotations

import itertools
import json
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD

from axilla_kg.checks import run_checks
from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.definitions import Compiled, Gap, neutral_values, reference_overlaps, topic_gaps
from axilla_kg.checks.regions import Constraint, Interval, Region, admits, domain
from axilla_kg.contract.cases import CaseError, parse_case
from axilla_kg.contract.features import Feature
from axilla_kg.reasoning.reasoner import satisfiable_pairs
from axilla_kg.recommend.classify import Classifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import acr_scale  # noqa: E402

AX = "https://w3id.org/axilla-kg/vocab#"


def _compiled(ctx: CheckContext) -> Compiled:
    return Compiled.from_classifier(Classifier.from_graph(ctx.kg))


def _symbolic_pairs(compiled: Compiled) -> set[tuple[str, str]]:
    out = set()
    for a, b in itertools.combinations(compiled.classifier.variants, 2):
        if compiled.meet(a, b) is not None:
            out.add((min(a.class_iri, b.class_iri), max(a.class_iri, b.class_iri)))
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("acr-sample")
    acr_scale.generate(10, 40, 120, seed=3, out=out, faults=1)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("data", ["shipped", "sample"])
def test_overlaps_equal_hermit(data: str, sample: Path) -> None:
    ctx = CheckContext.load([] if data == "shipped" else [sample / "graph.ttl"])
    try:
        compiled = _compiled(ctx)
        symbolic = _symbolic_pairs(compiled)
        # HermiT's overlapping pairs; the algebra's answer is only a claim HermiT confirms or not
        expected = reference_overlaps(ctx, compiled.classifier.variants, claimed=symbolic)
        assert symbolic == expected
        assert expected  # the comparison is not vacuous: some pairs do overlap
    finally:
        ctx.close()


@pytest.mark.slow
def test_a_wrong_claim_leaves_hermits_overlaps_alone() -> None:
    """The claim only decides which questions HermiT is asked: an overlapping pair left out of it
    and a disjoint pair put in still come back as HermiT answers them (each pair asked alone)."""
    ctx = CheckContext.load([])
    try:
        compiled = _compiled(ctx)
        symbolic = _symbolic_pairs(compiled)
        classes = sorted({v.class_iri for v in compiled.classifier.variants})
        overlap = min(symbolic)
        disjoint = next(p for p in itertools.combinations(classes, 2) if p not in symbolic and overlap[0] in p)
        chosen = [v for v in compiled.classifier.variants if v.class_iri in {*overlap, *disjoint}]
        truth = {p for p in symbolic if set(p) <= {*overlap, *disjoint}}
        assert overlap in truth and disjoint not in truth
        wrong = (truth - {overlap}) | {disjoint}
        assert reference_overlaps(ctx, chosen, claimed=wrong) == truth
    finally:
        ctx.close()


def _restriction(g: rdflib.Graph, feature: Feature, c: Constraint) -> BNode | None:
    """``∃prop.(the constraint)`` as OWL, or None when the constraint admits every value."""
    node = BNode()
    g.add((node, RDF.type, OWL.Restriction))
    g.add((node, OWL.onProperty, URIRef(feature.prop)))
    if isinstance(c, Interval):
        datatype = XSD.integer if feature.kind == "integer" else XSD.decimal
        facets = []
        for bound, open_, lower in ((c.lo, c.lo_open, True), (c.hi, c.hi_open, False)):
            if bound is None:
                continue
            facet = BNode()
            name = (
                ("minExclusive" if open_ else "minInclusive")
                if lower
                else ("maxExclusive" if open_ else "maxInclusive")
            )
            g.add((facet, XSD[name], Literal(bound, datatype=datatype)))
            facets.append(facet)
        if not facets:
            return None
        filler = BNode()
        g.add((filler, RDF.type, RDFS.Datatype))
        g.add((filler, OWL.onDatatype, datatype))
        lst = BNode()
        Collection(g, lst, facets)
        g.add((filler, OWL.withRestrictions, lst))
        g.add((node, OWL.someValuesFrom, filler))
        return node
    if feature.kind == "boolean":
        if len(c) != 1:
            return None
        g.add((node, OWL.hasValue, Literal(next(iter(c)), datatype=XSD.boolean)))
        return node
    filler = BNode()
    g.add((filler, RDF.type, OWL.Class))
    lst = BNode()
    Collection(g, lst, [URIRef(feature.value_iris[v]) for v in sorted(c)])
    g.add((filler, OWL.oneOf, lst))
    g.add((node, OWL.someValuesFrom, filler))
    return node


def _gap_class(g: rdflib.Graph, iri: str, box: Region, features: dict[str, Feature], neutral: dict[str, Any]) -> None:
    members: list[Any] = [URIRef(AX + "PatientCase")]
    fixed: Region = {
        k: frozenset([v])
        if not isinstance(v, int) or isinstance(v, bool)
        else Interval(Decimal(v), False, Decimal(v), False, True)
        for k, v in neutral.items()
    }
    for name, c in {**fixed, **box}.items():
        node = _restriction(g, features[name], c)
        if node is not None:
            members.append(node)
    expr, lst = BNode(), BNode()
    Collection(g, lst, members)
    g.add((expr, RDF.type, OWL.Class))
    g.add((expr, OWL.intersectionOf, lst))
    g.add((URIRef(iri), RDF.type, OWL.Class))
    g.add((URIRef(iri), RDFS.label, Literal("gap class (test)")))
    g.add((URIRef(iri), OWL.equivalentClass, expr))


@pytest.mark.slow
@pytest.mark.parametrize("data", ["shipped", "sample"])
def test_every_gap_is_disjoint_from_its_topic_for_hermit(data: str, sample: Path, tmp_path: Path) -> None:
    extra = [] if data == "shipped" else [sample / "graph.ttl"]
    ctx = CheckContext.load(extra)
    try:
        compiled = _compiled(ctx)
        features = {f.name: f for f in compiled.registry.features}
        g = rdflib.Graph()
        asked: dict[str, list[str]] = {}
        for _topic, mine in itertools.groupby(compiled.classifier.variants, key=lambda v: v.topic_iri):
            variants = list(mine)
            for k, gap in enumerate(x for x in topic_gaps(compiled, variants) if x.excluded is None):
                iri = f"urn:axilla-kg:test-gap:{len(asked)}:{k}"
                _gap_class(g, iri, gap.box, features, neutral_values(compiled.registry))
                asked[iri] = [v.class_iri for v in variants]
        assert asked, "no gap to hold against the reasoner"
        path = tmp_path / "gaps.ttl"
        g.serialize(path, format="turtle")
        pairs = [(gap, cls) for gap, variant_classes in asked.items() for cls in variant_classes]
        # the gap against each variant of its topic (not every pair of classes): none may overlap
        assert satisfiable_pairs(pairs, extra=[*extra, path], claimed=()) == set()
    finally:
        ctx.close()


def _random_case(rng: random.Random, fields: list[Feature], scope: Region, neutral: dict[str, Any]) -> dict[str, Any]:
    """A case over ``fields``, inside the topic's scope (what every variant requires alike)."""
    case: dict[str, Any] = dict(neutral)
    for f in fields:
        dom = scope.get(f.name, domain(f))
        if isinstance(dom, frozenset):
            case[f.name] = rng.choice(sorted(dom, key=str))
        else:
            choices = [
                x
                for x in (Decimal("0.5"), 1, 2, Decimal("2.5"), 3, 5, Decimal("7.5"), 12, 18, 50)
                if dom.contains(Decimal(x))
            ]
            case[f.name] = int(choices and rng.choice(choices)) if f.kind == "integer" else float(rng.choice(choices))
    return case


def _inside(gap: Gap, values: dict[str, Any]) -> bool:
    if gap.excluded is not None:
        return bool(values.get(gap.excluded[0]) == gap.excluded[1])
    return all(values.get(k) is not None and admits(c, values[k]) for k, c in gap.box.items())


@pytest.mark.parametrize("data", ["shipped", "sample"])
def test_every_case_a_whole_topic_refutes_is_in_a_reported_gap(data: str, sample: Path) -> None:
    ctx = CheckContext.load([] if data == "shipped" else [sample / "graph.ttl"])
    try:
        compiled = _compiled(ctx)
        rng = random.Random(7)
        features = {f.name: f for f in compiled.registry.features}
        neutral = neutral_values(compiled.registry)
        checked = refuted = 0
        for _topic, mine in itertools.groupby(compiled.classifier.variants, key=lambda v: v.topic_iri):
            variants = [v for v in mine if compiled.region(v) is not None]
            found = topic_gaps(compiled, variants)
            names = sorted({t.field for v in variants for t in v.tests if t.field not in neutral})
            fields = sorted((features[name] for name in names), key=lambda f: f.order)
            regions = [compiled.region(v) or {} for v in variants]
            scope = {k: c for k, c in regions[0].items() if all(r.get(k) == c for r in regions)}
            for _ in range(300):
                try:
                    case = parse_case(_random_case(rng, fields, scope, neutral), compiled.registry)
                except CaseError:
                    continue
                checked += 1
                if any(all(r is not False for r in v.evaluate(case)) for v in variants):
                    continue
                refuted += 1
                values = case.values
                inside = [gap for gap in found if _inside(gap, values)]
                assert inside, json.dumps(case.to_json())
        assert checked > 100 and refuted > 0
    finally:
        ctx.close()


def test_answer_key_matched_exactly(sample: Path) -> None:
    """The sample's planted faults, and nothing else, beyond the shipped graph's own findings."""
    stages = ["definitions", "shapes", "rules"]
    base = {(f.rule, frozenset(i for i, _ in f.entities)) for f in run_checks(stages=stages).findings}
    found = {
        (f.rule, frozenset(i for i, _ in f.entities))
        for f in run_checks([sample / "graph.ttl"], stages=stages).findings
    }
    key = {(e["rule"], frozenset(e["iris"])) for e in json.loads((sample / "answer-key.json").read_text())}
    expected = {k for k in key if k[0] != "logic-unsatisfiable-class"}  # the logic stage's (test_check_scale)
    assert found - base == expected
    assert {k[0] for k in key} >= {
        "variant-overlap",
        "variant-gap",
        "cross-topic-conflict",
        "logic-unsatisfiable-class",
    }


@pytest.mark.slow
def test_logic_module_finds_the_unsatisfiable_classes_of_the_whole_graph(sample: Path, tmp_path: Path) -> None:
    """The logic stage asks -U of a module (and the algebra of the variant classes); HermiT on
    the whole graph, every individual included, must find the same unsatisfiable classes."""
    import re

    from axilla_kg.graph.knowledge import KnowledgeGraph
    from axilla_kg.reasoning.jvm import hermit_classpath, run_java
    from axilla_kg.reasoning.reasoner import merged_ntriples

    report = run_checks([sample / "graph.ttl"], stages=["logic"])
    found = {f.entities[0][0] for f in report.findings if f.rule == "logic-unsatisfiable-class"}
    nt = tmp_path / "whole.nt"
    merged_ntriples(KnowledgeGraph.load([sample / "graph.ttl"]).files, nt)
    done = run_java(
        hermit_classpath(), ["org.semanticweb.HermiT.cli.CommandLine", "-k", "-U", nt.as_uri()], timeout=900
    )
    section = (done.stdout + done.stderr).split("owl:Nothing':", 1)[-1]
    whole = {iri for iri in re.findall(r"<([^>]+)>", section) if not iri.endswith("#Nothing")}
    assert found == whole and found  # the sample plants an unsatisfiable variant class
