"""Synthetic guideline graphs at ACR scale, with planted faults and their answer key.

ACR publishes about 198 topics, 1,760 variants and 8,815 rated recommendations (October 2020
release). This generator writes a graph with that structure, to measure ``axilla-kg check`` on
and to test that it finds what it must and nothing else::

    python benchmarks/acr_scale.py --topics 198 --variants 1760 --ratings 8815 --seed 1 --out DIR
    python -m axilla_kg check --data DIR/graph.ttl

The structure follows the real graph:

* every topic has its own patient features, written as ontology data (``ax:PatientFeature``
  individuals with their case property, values and value class, as in ``ontology/terminology.ttl``):
  an enumerated presentation, a yes/no finding and a size in centimetres; a shared "condition"
  feature says which clinical condition a topic is about (one value per topic);
* each topic's variants partition its patients: the topic's feature space is split box by box
  (presentation first, then the finding, then size thresholds) and each box becomes one variant's
  OWL defined class, in the fragment the compiled classifier reads;
* ratings (1-9 score, category, median) with their own source records, on a shared catalogue of
  synthetic procedures of which each topic uses a subset.

Planted faults, each in a topic of its own, written to ``DIR/answer-key.json`` as a list of
``{"rule", "iris"}`` (the check rule that must report the fault and the IRIs of the entities it
names): an extra variant inside another (``variant-overlap``), a variant left out of a partition
(``variant-gap``), a variant whose size bounds cannot both hold (``logic-unsatisfiable-class``), two
topics about one condition that rate a procedure differently (``cross-topic-conflict``), and rating
rows that contradict themselves (``rating-score-outside-category``, ``rating-median-inconsistent``,
``conflicting-duplicate-rating``). Everything else in the graph is clean: ``check`` must report the
shipped graph's own findings plus exactly the answer key. Terms are built with pyoxigraph and
serialised by it (no Turtle is pasted together).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox

AX = "https://w3id.org/axilla-kg/vocab#"
AXD = "https://w3id.org/axilla-kg/id/"
SYN = AXD + "syn/"
OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PREFIXES = {"ax": AX, "axd": AXD, "syn": SYN, "owl": OWL, "rdf": RDF, "rdfs": RDFS, "xsd": XSD, "skos": SKOS}

# (category local name, score band) of the three ACR categories with a band
CATEGORIES = (("UsuallyAppropriate", (7, 9)), ("MayBeAppropriate", (4, 6)), ("UsuallyNotAppropriate", (1, 3)))
TOPIC_BASE = 10_000  # synthetic topic numbers, far from ACR's


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def lit(value: object) -> ox.Literal:
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=n(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=n(XSD + "integer"))
    if isinstance(value, Decimal):
        return ox.Literal(str(value), datatype=n(XSD + "decimal"))
    return ox.Literal(str(value))


def en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


A = n(RDF + "type")
LABEL = n(RDFS + "label")
DEFINITION = n(SKOS + "definition")


@dataclass
class Box:
    """One variant's patients: presentation values (None = any), finding (None = any), size (lo, hi]."""

    pres: frozenset[int] | None = None
    flag: bool | None = None
    lo: Decimal | None = None
    hi: Decimal | None = None
    contradictory: bool = False  # planted: size > 5 and <= 2

    def narrower(self) -> Box:
        """A non-empty box strictly inside this one (a size band inside its size interval)."""
        lo = self.lo if self.lo is not None else Decimal(0)
        hi = self.hi if self.hi is not None else lo + 4
        width = hi - lo
        return Box(self.pres, self.flag, lo + width / 4, hi - width / 4)


@dataclass
class Topic:
    index: int
    pres_values: int
    boxes: list[Box] = field(default_factory=list)
    condition: int = -1  # index of the condition value its variants accept
    procedures: list[int] = field(default_factory=list)

    @property
    def number(self) -> int:
        return TOPIC_BASE + self.index


def split(rng: random.Random, topic: Topic, count: int) -> list[Box]:
    """``count`` boxes that partition the topic's feature space (presentation x finding x size)."""
    boxes = [Box()]
    while len(boxes) < count:
        i = rng.randrange(len(boxes))
        box = boxes[i]
        values = sorted(box.pres) if box.pres is not None else list(range(topic.pres_values))
        if len(values) > 1 and rng.random() < 0.6:
            cut = rng.randrange(1, len(values))
            parts = [
                Box(frozenset(values[:cut]), box.flag, box.lo, box.hi),
                Box(frozenset(values[cut:]), box.flag, box.lo, box.hi),
            ]
        elif box.flag is None and rng.random() < 0.7:
            parts = [Box(box.pres, True, box.lo, box.hi), Box(box.pres, False, box.lo, box.hi)]
        else:
            lo = box.lo if box.lo is not None else Decimal(0)
            hi = box.hi if box.hi is not None else lo + 4
            threshold = lo + (hi - lo) / 2
            parts = [Box(box.pres, box.flag, box.lo, threshold), Box(box.pres, box.flag, threshold, box.hi)]
        boxes[i : i + 1] = parts
    return boxes


def spread(rng: random.Random, total: int, slots: int, minimum: int) -> list[int]:
    """``slots`` positive counts, each at least ``minimum``, summing to ``total``."""
    if total < slots * minimum:
        raise SystemExit(f"cannot spread {total} over {slots} with at least {minimum} each")
    counts = [minimum] * slots
    for _ in range(total - slots * minimum):
        counts[rng.randrange(slots)] += 1
    return counts


class Writer:
    """Accumulates triples and builds the RDF lists OWL needs."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: ox.NamedNode | ox.BlankNode, p: ox.NamedNode, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        self.triples.append(ox.Triple(s, p, o))

    def rdf_list(self, items: list[ox.NamedNode | ox.BlankNode | ox.Literal]) -> ox.NamedNode | ox.BlankNode:
        head: ox.NamedNode | ox.BlankNode = n(RDF + "nil")
        for item in reversed(items):
            node = ox.BlankNode()
            self.add(node, n(RDF + "first"), item)
            self.add(node, n(RDF + "rest"), head)
            head = node
        return head

    def restriction(self, prop: str, **kind: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.BlankNode:
        node = ox.BlankNode()
        self.add(node, A, n(OWL + "Restriction"))
        self.add(node, n(OWL + "onProperty"), n(prop))
        for key, value in kind.items():
            self.add(node, n(OWL + key), value)
        return node

    def facet(self, prop: str, facet: str, value: Decimal) -> ox.BlankNode:
        datatype = ox.BlankNode()
        self.add(datatype, A, n(RDFS + "Datatype"))
        self.add(datatype, n(OWL + "onDatatype"), n(XSD + "decimal"))
        bound = ox.BlankNode()
        self.add(bound, n(XSD + facet), lit(value))
        self.add(datatype, n(OWL + "withRestrictions"), self.rdf_list([bound]))
        return self.restriction(prop, someValuesFrom=datatype)


class Generator:
    def __init__(self, topics: int, variants: int, ratings: int, seed: int, faults: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.w = Writer()
        self.key: list[dict[str, Any]] = []
        self.topics_n, self.variants_n, self.ratings_n = topics, variants, ratings
        self.faults = faults if faults is not None else max(1, topics // 40)
        self.row = 1

    # --- vocabulary: features of every topic ------------------------------------------------------
    def feature(self, name: str, label: str, prop: str, order: int, kind: str, values: list[str] | None = None) -> None:
        w, f = self.w, n(SYN + f"feat-{name}")
        w.add(f, A, n(AX + "PatientFeature"))
        w.add(f, A, n(OWL + "NamedIndividual"))
        w.add(f, LABEL, en(label))
        w.add(f, DEFINITION, en(f"Synthetic patient feature '{label}' of a generated benchmark graph."))
        w.add(f, n(AX + "caseField"), lit(name))
        w.add(f, n(AX + "caseProperty"), n(prop))
        w.add(f, n(AX + "caseOrder"), lit(order))
        p = n(prop)
        w.add(p, A, n(OWL + ("ObjectProperty" if kind == "enum" else "DatatypeProperty")))
        w.add(p, A, n(OWL + "FunctionalProperty"))
        w.add(p, LABEL, en(f"has {label}"))
        w.add(p, n(RDFS + "domain"), n(AX + "PatientCase"))
        if kind == "boolean":
            w.add(p, n(RDFS + "range"), n(XSD + "boolean"))
        elif kind == "decimal":
            w.add(p, n(RDFS + "range"), n(XSD + "decimal"))
            w.add(f, n(AX + "casePositive"), lit(True))
            w.add(f, n(AX + "caseUnit"), lit("centimetres"))
        else:
            cls = n(SYN + f"Values-{name}")
            w.add(cls, A, n(OWL + "Class"))
            w.add(cls, LABEL, en(f"{label} value"))
            w.add(cls, n(RDFS + "subClassOf"), n(AX + "PatientFeatureValue"))
            w.add(p, n(RDFS + "range"), cls)
            members = []
            for i, value in enumerate(values or []):
                v = self.value_iri(name, i)
                members.append(v)
                w.add(v, A, cls)
                w.add(v, A, n(OWL + "NamedIndividual"))
                w.add(v, LABEL, en(f"{label}: {value}"))
                w.add(v, DEFINITION, en(f"Value '{value}' of the synthetic feature '{label}'."))
                w.add(v, n(AX + "caseValue"), lit(value))
                w.add(v, n(AX + "valueOfFeature"), f)
                w.add(v, n(AX + "caseOrder"), lit(i + 1))
            if len(members) > 1:
                node = ox.BlankNode()
                w.add(node, A, n(OWL + "AllDifferent"))
                w.add(node, n(OWL + "distinctMembers"), w.rdf_list(list(members)))

    @staticmethod
    def value_iri(name: str, i: int) -> ox.NamedNode:
        return n(SYN + f"value-{name}-{i}")

    def topic_features(self, t: Topic) -> None:
        base = 1000 + 3 * t.index
        self.feature(
            f"syn{t.index}_presentation",
            f"topic {t.number} presentation",
            SYN + f"t{t.index}-presentation",
            base,
            "enum",
            [f"p{i}" for i in range(t.pres_values)],
        )
        self.feature(
            f"syn{t.index}_finding", f"topic {t.number} finding", SYN + f"t{t.index}-finding", base + 1, "boolean"
        )
        self.feature(f"syn{t.index}_size_cm", f"topic {t.number} size", SYN + f"t{t.index}-size", base + 2, "decimal")

    # --- the graph -------------------------------------------------------------------------------
    def build(self) -> None:
        rng = self.rng
        faults = self.faults
        # the planted overlaps and unsatisfiable classes are extra variants; a gap removes one
        partition_total = self.variants_n - faults
        topics = [Topic(i, rng.choice((2, 3, 3, 4))) for i in range(self.topics_n)]
        for t, count in zip(topics, spread(rng, partition_total, self.topics_n, 3), strict=True):
            t.boxes = split(rng, t, count)
            t.condition = t.index
        order = list(range(self.topics_n))
        rng.shuffle(order)
        plan: dict[int, list[str]] = {}
        for kind in ("gap", "overlap", "unsat", "rating", "cross"):
            for _ in range(faults):
                free = [i for i in order if i not in plan]
                if kind == "gap":
                    free = [i for i in free if self.droppable(topics[i]) is not None]
                if not free:
                    raise SystemExit(f"not enough topics to plant {faults} faults of each kind")
                plan[free[0]] = [kind]
                if kind == "cross":
                    partner = next(i for i in order if i not in plan)
                    plan[partner] = ["cross-partner"]
                    topics[partner].condition = topics[free[0]].condition
        self.feature(
            "syn_condition", "synthetic clinical condition", SYN + "condition", 999, "enum",
            [f"c{t.index}" for t in topics],
        )  # fmt: skip
        for t in topics:
            self.topic_features(t)
        rows: list[tuple[Topic, Box]] = []
        for t in topics:
            kind = plan.get(t.index, [""])[0]
            boxes = list(t.boxes)
            if kind == "gap":
                index = self.droppable(t)
                assert index is not None
                boxes.pop(index)
            elif kind == "overlap":
                boxes.append(boxes[0].narrower())
            elif kind == "unsat":
                boxes.append(Box(boxes[0].pres, boxes[0].flag, Decimal(5), Decimal(2), contradictory=True))
            rows += [(t, box) for box in boxes]
        assert len(rows) == self.variants_n, (len(rows), self.variants_n)
        # ratings: each variant at least one (two in the rating-fault topics), on its topic's procedures
        planted_ratings = 3 * faults  # a twin per rating fault, two probe rows per cross-topic pair
        counts = spread(rng, self.ratings_n - planted_ratings, len(rows), 1)
        for i, (t, _box) in enumerate(rows):
            if plan.get(t.index) == ["rating"] and counts[i] < 2:
                donor = max(range(len(counts)), key=counts.__getitem__)
                counts[donor] -= 1
                counts[i] += 1
        pool = max(30, self.ratings_n // 25)
        for p in range(pool):
            self.procedure(p)
        most: dict[int, int] = {}
        for (t, _box), c in zip(rows, counts, strict=True):
            most[t.index] = max(most.get(t.index, 0), c)
        for t in topics:
            t.procedures = rng.sample(range(pool), min(pool, max(most[t.index], rng.randint(8, 15))))
        for index, kinds in plan.items():
            if kinds == ["cross-partner"]:  # disjoint from the planter's procedures, but for the probe
                planter = next(
                    i for i, k in plan.items() if k == ["cross"] and topics[i].condition == topics[index].condition
                )
                taken = set(topics[planter].procedures)
                topics[index].procedures = [p for p in range(pool) if p not in taken][: len(topics[index].procedures)]
        numbers: dict[int, int] = {}
        first: dict[int, ox.NamedNode] = {}
        rating_done: set[int] = set()
        for (t, box), count in zip(rows, counts, strict=True):
            number = numbers[t.index] = numbers.get(t.index, 0) + 1
            v = self.variant(t, number, box)
            first.setdefault(t.index, v)
            if box.contradictory:
                self.key.append({"rule": "logic-unsatisfiable-class", "iris": [self.class_iri(t, number)]})
            chosen = rng.sample(t.procedures, count)
            ratings = [self.rating(v, t, number, p, rng.choice(CATEGORIES)) for p in chosen]
            if plan.get(t.index) == ["rating"] and t.index not in rating_done and len(ratings) > 1:
                rating_done.add(t.index)
                self.rating_faults(v, t, number, chosen[0], ratings)
        for t in topics:
            kind = plan.get(t.index, [""])[0]
            if kind == "overlap":
                last = SYN + f"topic-{t.number}-variant-{numbers[t.index]}"
                self.key.append({"rule": "variant-overlap", "iris": [str(first[t.index].value), last]})
            elif kind == "gap":
                self.key.append({"rule": "variant-gap", "iris": [self.topic_iri(t)]})
            elif kind == "cross":
                partner = next(
                    i for i, k in plan.items() if k == ["cross-partner"] and topics[i].condition == t.condition
                )
                probe = pool + len([e for e in self.key if e["rule"] == "cross-topic-conflict"])
                self.procedure(probe, probe=True)
                v, w = first[t.index], first[partner]
                self.rating(v, t, 1, probe, CATEGORIES[0])
                self.rating(w, topics[partner], 1, probe, CATEGORIES[2])
                self.key.append({"rule": "cross-topic-conflict", "iris": [str(v.value), str(w.value)]})
        for t in topics:
            self.topic(t)

    def droppable(self, t: Topic) -> int | None:
        """A box whose removal leaves a gap every remaining variant still frames (every feature it
        constrains keeps being constrained differently by the rest), or None."""
        if len(t.boxes) < 3:
            return None
        for i in range(len(t.boxes)):
            rest = t.boxes[:i] + t.boxes[i + 1 :]
            framed = (
                (len({b.pres for b in rest}) > 1 or all(b.pres is None for b in rest))
                and (len({(b.lo, b.hi) for b in rest}) > 1 or all(b.lo is None and b.hi is None for b in rest))
                and (len({b.flag for b in rest}) > 1 or all(b.flag is None for b in rest))
            )
            if framed:
                return i
        return None

    def rating_faults(
        self, v: ox.NamedNode, t: Topic, number: int, procedure: int, ratings: list[ox.NamedNode]
    ) -> None:
        """Three contradictory rating rows in one variant: a score outside its category's band, a
        median outside it, and a second row for a rated procedure in another category."""
        first = ratings[0]
        self.key.append(
            {"rule": "rating-score-outside-category", "iris": [str(first.value), AX + "UsuallyAppropriate"]}
        )
        self.restate(first, "UsuallyAppropriate", 2, 2)
        if len(ratings) > 1:
            second = ratings[1]
            self.restate(second, "UsuallyAppropriate", 8, 3)
            self.key.append(
                {"rule": "rating-median-inconsistent", "iris": [str(second.value), AX + "UsuallyAppropriate"]}
            )
        twin = self.rating(v, t, number, procedure, CATEGORIES[2], suffix="-twin")
        pair = sorted([str(first.value), str(twin.value)])
        self.key.append({"rule": "conflicting-duplicate-rating", "iris": pair})

    def restate(self, rating: ox.NamedNode, category: str, score: int, median: int) -> None:
        """Replace a rating's category, score and median (a planted contradiction)."""
        replaced = {AX + "category", AX + "ratingScore", AX + "medianRating"}
        self.w.triples = [t for t in self.w.triples if not (t.subject == rating and t.predicate.value in replaced)]
        self.w.add(rating, n(AX + "category"), n(AX + category))
        self.w.add(rating, n(AX + "ratingScore"), lit(score))
        self.w.add(rating, n(AX + "medianRating"), lit(median))

    def topic_iri(self, t: Topic) -> str:
        return SYN + f"topic-{t.number}"

    def class_iri(self, t: Topic, number: int) -> str:
        return SYN + f"topic-{t.number}-variant-{number}-patient"

    def topic(self, t: Topic) -> None:
        w, s = self.w, n(self.topic_iri(t))
        w.add(s, A, n(AX + "Topic"))
        w.add(s, A, n(OWL + "NamedIndividual"))
        w.add(s, LABEL, en(f"synthetic topic {t.number}"))
        w.add(s, n(AX + "topicNumber"), lit(t.number))
        w.add(s, n(AX + "topicKey"), lit(str(t.number)))
        w.add(s, n(AX + "topicTitle"), lit(f"Synthetic topic {t.number}"))
        w.add(s, n(AX + "edition"), lit("current"))

    def source(self, name: str) -> ox.NamedNode:
        w, s = self.w, n(SYN + f"src-{name}")
        self.row += 1
        w.add(s, A, n(AX + "SourceRecord"))
        w.add(s, A, n(OWL + "NamedIndividual"))
        w.add(s, LABEL, en(f"synthetic.csv line {self.row}"))
        w.add(s, n(AX + "sourceFile"), lit("synthetic.csv"))
        w.add(s, n(AX + "sourceRow"), lit(self.row))
        w.add(s, n(AX + "confidence"), n(AX + "ConfidenceHigh"))
        return s

    def procedure(self, p: int, probe: bool = False) -> None:
        w, s = self.w, n(SYN + f"proc-{p}")
        name = f"synthetic {'probe ' if probe else ''}US {p}"
        w.add(s, A, n(AX + "Procedure"))
        w.add(s, A, n(OWL + "NamedIndividual"))
        w.add(s, LABEL, en(name))
        w.add(s, n(AX + "procedureName"), lit(name))
        w.add(s, DEFINITION, en("Synthetic ultrasound procedure of a generated benchmark graph."))
        w.add(s, n(AX + "modality"), n(AX + "Ultrasound"))
        w.add(s, n(AX + "usesIonizingRadiation"), lit(False))
        w.add(s, n(AX + "adultRRL"), n(AX + "RRL-O"))
        w.add(s, n(AX + "rrlSource"), n(AXD + "src-rrl-procedures"))
        w.add(s, n(AX + "rrlConfidence"), n(AX + "ConfidenceHigh"))

    def variant(self, t: Topic, number: int, box: Box) -> ox.NamedNode:
        w = self.w
        v = n(SYN + f"topic-{t.number}-variant-{number}")
        cls = n(self.class_iri(t, number))
        w.add(v, A, n(AX + "Variant"))
        w.add(v, A, n(OWL + "NamedIndividual"))
        w.add(v, LABEL, en(f"synthetic topic {t.number} variant {number}"))
        w.add(v, n(AX + "inTopic"), n(self.topic_iri(t)))
        w.add(v, n(AX + "variantNumber"), lit(number))
        w.add(v, n(AX + "officialTitle"), lit(f"Synthetic topic {t.number}, variant {number}: {describe(box)}."))
        w.add(v, n(AX + "ratingTableComplete"), lit(True))
        w.add(v, n(AX + "definitionSource"), self.source(f"{t.number}-v{number}"))
        w.add(v, n(AX + "patientClass"), cls)
        w.add(cls, A, n(OWL + "Class"))
        w.add(cls, LABEL, en(f"patient matching synthetic topic {t.number} variant {number}"))
        w.add(cls, n(AX + "classOfVariant"), v)
        members: list[ox.NamedNode | ox.BlankNode | ox.Literal] = [n(AX + "PatientCase")]
        cond = self.value_iri("syn_condition", t.condition)
        members.append(w.restriction(SYN + "condition", hasValue=cond))
        name = f"syn{t.index}_presentation"
        if box.pres is not None:
            values = sorted(box.pres)
            if len(values) == 1:
                members.append(
                    w.restriction(SYN + f"t{t.index}-presentation", hasValue=self.value_iri(name, values[0]))
                )
            else:
                one_of = ox.BlankNode()
                w.add(one_of, A, n(OWL + "Class"))
                w.add(one_of, n(OWL + "oneOf"), w.rdf_list([self.value_iri(name, i) for i in values]))
                members.append(w.restriction(SYN + f"t{t.index}-presentation", someValuesFrom=one_of))
        if box.flag is not None:
            members.append(w.restriction(SYN + f"t{t.index}-finding", hasValue=lit(box.flag)))
        if box.lo is not None:
            members.append(w.facet(SYN + f"t{t.index}-size", "minExclusive", box.lo))
        if box.hi is not None:
            members.append(w.facet(SYN + f"t{t.index}-size", "maxInclusive", box.hi))
        expr = ox.BlankNode()
        w.add(expr, A, n(OWL + "Class"))
        w.add(expr, n(OWL + "intersectionOf"), w.rdf_list(members))
        w.add(cls, n(OWL + "equivalentClass"), expr)
        return v

    def rating(
        self, v: ox.NamedNode, t: Topic, number: int, p: int, category: tuple[str, tuple[int, int]], suffix: str = ""
    ) -> ox.NamedNode:
        w = self.w
        r = n(SYN + f"rating-{t.number}-{number}-{p}{suffix}")
        name, (low, high) = category
        score = self.rng.randint(low, high)
        w.add(r, A, n(AX + "AppropriatenessRating"))
        w.add(r, A, n(OWL + "NamedIndividual"))
        w.add(r, LABEL, en(f"synthetic US {p} in synthetic topic {t.number} variant {number}"))
        w.add(r, n(AX + "ratedVariant"), v)
        w.add(r, n(AX + "ratedProcedure"), n(SYN + f"proc-{p}"))
        w.add(r, n(AX + "category"), n(AX + name))
        w.add(r, n(AX + "listedRRL"), n(AX + "RRL-O"))
        w.add(r, n(AX + "ratingScore"), lit(score))
        w.add(r, n(AX + "medianRating"), lit(score))
        w.add(r, n(AX + "confidence"), n(AX + "ConfidenceHigh"))
        w.add(r, n(AX + "hasSourceRecord"), self.source(f"{t.number}-v{number}-p{p}{suffix}"))
        return r


def describe(box: Box) -> str:
    parts = []
    if box.pres is not None:
        parts.append("presentation " + " or ".join(f"p{i}" for i in sorted(box.pres)))
    if box.flag is not None:
        parts.append("with the finding" if box.flag else "without the finding")
    if box.lo is not None:
        parts.append(f"size over {box.lo} cm")
    if box.hi is not None:
        parts.append(f"size at most {box.hi} cm")
    return ", ".join(parts) or "any patient"


def generate(
    topics: int, variants: int, ratings: int, seed: int, out: Path, faults: int | None = None
) -> list[dict[str, Any]]:
    """Write ``out/graph.ttl`` and ``out/answer-key.json``; returns the answer key."""
    if topics < 10 or variants < 4 * topics or ratings < variants + 10:
        raise SystemExit("need at least 10 topics, 4 variants per topic and more ratings than variants")
    gen = Generator(topics, variants, ratings, seed, faults)
    gen.build()
    out.mkdir(parents=True, exist_ok=True)
    graph, key = out / "graph.ttl", out / "answer-key.json"
    tmp = graph.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        ox.serialize(gen.w.triples, handle, ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    tmp.replace(graph)
    ordered = sorted(gen.key, key=lambda e: (str(e["rule"]), [str(i) for i in e["iris"]]))
    key.write_text(json.dumps(ordered, indent=1) + "\n", encoding="utf-8")
    return ordered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--topics", type=int, default=198)
    parser.add_argument("--variants", type=int, default=1760)
    parser.add_argument("--ratings", type=int, default=8815)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", type=int, default=None, help="faults of each kind (default topics/40, at least 1)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    key = generate(args.topics, args.variants, args.ratings, args.seed, args.out, args.faults)
    print(f"{args.out / 'graph.ttl'}: {args.topics} topics, {args.variants} variants, {args.ratings} ratings; "
          f"{len(key)} planted faults in {args.out / 'answer-key.json'}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
