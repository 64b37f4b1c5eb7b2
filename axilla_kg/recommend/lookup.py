"""Read-only, cached views of the graph for the front door (the web pages and CDS Hooks).

The graph never changes while a server runs, so everything a page or a CDS Hooks answer shows
is computed once per variant or procedure through the library's own APIs (named queries,
:func:`~axilla_kg.graph.summary.variant_summary`, :class:`~axilla_kg.recommend.recommender.Recommender`) and
then served from memory: a warm lookup costs a dictionary access, which is what keeps the CDS
Hooks p99 low under concurrent order entry. No query here is built from user input; the only
values that reach a query are topic keys and variant numbers already checked against the graph.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.summary import list_variants, topic_keys, variant_summary
from axilla_kg.recommend.recommender import PRIMARY_TOPIC, Recommender

#: Mapping predicates that let an external code stand for one of our procedures: the external
#: concept is the same (exactMatch) or narrower (narrowMatch: e.g. a right-sided LOINC code of a
#: side-less procedure), so an order carrying it *is* an order of our procedure. A broadMatch
#: (the external concept is broader) never identifies our procedure and is not used.
IDENTIFYING_MATCHES = (
    "http://www.w3.org/2004/02/skos/core#exactMatch",
    "http://www.w3.org/2004/02/skos/core#narrowMatch",
)

#: How the reasoner-derived IRIs of external code systems map to FHIR ``Coding.system`` URIs.
CODE_SYSTEMS = {
    "https://loinc.org/": "http://loinc.org",
    "http://snomed.info/id/": "http://snomed.info/sct",
}


@dataclass
class Lookup:
    """The loaded graph plus the caches the front door reads from."""

    kg: KnowledgeGraph
    recommender: Recommender
    _summaries: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    #: held for every query on the shared engine: the servers call from several threads
    lock: threading.Lock = field(default_factory=threading.Lock)
    topics: list[dict[str, Any]] = field(default_factory=list)
    variants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    procedures: list[str] = field(default_factory=list)
    procedure_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    procedure_codes: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, kg: KnowledgeGraph | None = None) -> Lookup:
        kg = kg or KnowledgeGraph.load()
        out = cls(kg, Recommender.load(kg))
        out.topics = [dict(r) for r in kg.records("topics")]
        out.variants = {key: list_variants(kg, key) for key in topic_keys(kg)}
        details = kg.records("procedure-details")
        out.procedure_info = {str(r["procedure"]): dict(r) for r in details}
        out.procedures = sorted(out.procedure_info)
        out.procedure_codes = _procedure_codes(kg)
        return out

    def topic_order(self) -> list[str]:
        """Topic keys, the primary topic (286) first."""
        keys = [str(t["topic"]) for t in self.topics]
        return sorted(keys, key=lambda k: (k != PRIMARY_TOPIC, k))

    def has_variant(self, topic: str, number: int) -> bool:
        return any(v["variant"] == number for v in self.variants.get(topic, []))

    def summary(self, topic: str, number: int) -> dict[str, Any]:
        """:func:`variant_summary` of one variant, computed once (callers check it exists)."""
        key = (topic, number)
        cached = self._summaries.get(key)
        if cached is None:
            with self.lock:
                cached = self._summaries.get(key)
                if cached is None:
                    cached = variant_summary(self.kg, number, topic)
                    self._summaries[key] = cached
        return cached

    def ratings_of(self, topic: str, number: int) -> dict[str, str]:
        """procedure -> ACR category of one variant (procedures the source rated with a category)."""
        return {r["procedure"]: r["category"] for r in self.summary(topic, number)["ratings"] if r["category"]}

    def axillary_imaging(self) -> frozenset[str]:
        """Our imaging studies of the axilla (region axilla, not an intervention)."""
        return frozenset(
            name
            for name, info in self.procedure_info.items()
            if info.get("region") == "axilla" and not info.get("interventional")
        )

    def procedure_for_code(self, system: str, code: str) -> str | None:
        return self.procedure_codes.get((system, code))

    def warm(self) -> None:
        """Fill every cache up front, so no request pays for a first lookup and
        :meth:`Recommender.recommend` never queries the engine while serving (it only reads the
        per-variant parts cached here)."""
        for topic, variants in self.variants.items():
            for v in variants:
                self.summary(topic, int(v["variant"]))
        with self.lock:
            for compiled in self.recommender.classifier.variants:
                self.recommender.info(compiled)


def _procedure_codes(kg: KnowledgeGraph) -> dict[tuple[str, str], str]:
    """(FHIR system, code) -> our procedure name, from the verified mappings in mappings.ttl."""
    rows = [
        row for match in IDENTIFYING_MATCHES for row in kg.read("procedure-identifying-matches", match=match).records()
    ]
    out: dict[tuple[str, str], str] = {}
    for row in rows:
        target = str(row["target"])
        for prefix, system in CODE_SYSTEMS.items():
            if target.startswith(prefix):
                out[(system, target[len(prefix) :])] = str(row["name"])
    return out
