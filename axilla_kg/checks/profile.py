"""Profile stage: is the graph (``ontology/inferred/`` included) OWL 2 DL?

The reasoners only give the graph its meaning when it is OWL 2 DL: an undeclared property, a
property punned as object and data property, or a non-simple property in a cardinality
restriction makes HermiT guess, or silently drop axioms. ROBOT's ``validate-profile`` is the
model: the OWL API's own ``OWL2DLProfile`` decides, not a hand-written approximation of it. The
OWL API is already here, inside owlready2's HermiT jar: this module calls
``OWL2DLProfile.checkOntology`` from Python through JPype, in the process's one JVM
(:func:`axilla_kg.reasoning.jvm.start`; a JRE is enough), on the stage's N-Triples file. Every
violation is an ERROR finding; violations of one kind about one entity are reported once, with
their count. Without a Java runtime the stage cannot decide and says so in one WARN finding
rather than passing silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.findings import Finding, Level
from axilla_kg.errors import ProfileCheckUnavailable
from axilla_kg.reasoning import jvm
from axilla_kg.reasoning.hermit import HermitError, load_ontology

STAGE = "profile"
_IRI = re.compile(r"<([^<>\s]+)>|\b(owl|rdfs?|xsd):([A-Za-z_][\w.-]*)")
# the OWL API abbreviates IRIs of the reserved vocabularies with these prefixes
_RESERVED = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


@dataclass(frozen=True)
class Violation:
    """One OWL API profile violation: its kind (the OWL API class name) and its text."""

    kind: str
    text: str

    @property
    def rule(self) -> str:
        """``UseOfUndeclaredClass`` → ``profile-use-of-undeclared-class`` (``...ClassIRI`` → ``...-class-iri``)."""
        return "profile-" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", self.kind).lower()

    @property
    def subject(self) -> str:
        """The entity the violation is about: the first IRI in the OWL API's message."""
        match = _IRI.search(without_ontology_id(self.text))
        if match is None:
            return ""
        return match.group(1) or _RESERVED[match.group(2)] + match.group(3)


def profile_violations(files: Sequence[Path]) -> dict[Path, list[Violation]]:
    """The OWL 2 DL violations of each file (N-Triples, RDF/XML...), each read by its own OWL API
    manager, so files are checked independently. A file the OWL API cannot read gets one
    ``UnreadableOntology`` violation."""
    try:
        jvm.start()
    except jvm.JavaUnavailable as exc:
        raise ProfileCheckUnavailable(f"the OWL 2 DL profile check: {exc}") from None
    from org.semanticweb.owlapi.profiles import OWL2DLProfile

    out: dict[Path, list[Violation]] = {}
    for path in files:
        try:
            ontology, _ = load_ontology(path)
        except HermitError as exc:
            out[path] = [Violation("UnreadableOntology", str(exc))]
            continue
        report = OWL2DLProfile().checkOntology(ontology)
        out[path] = [Violation(str(v.getClass().getSimpleName()), _one_line(str(v))) for v in report.getViolations()]
        ontology.getOWLOntologyManager().removeOntology(ontology)
    return out


def check_profile(ctx: CheckContext) -> list[Finding]:
    """One ERROR finding per (violation kind, entity); nothing when the graph is OWL 2 DL."""
    nt = ctx.ntriples()
    try:
        violations = profile_violations([nt])[nt]
    except ProfileCheckUnavailable as exc:
        return [Finding("profile-not-checked", Level.WARN, f"OWL 2 DL profile not checked: {exc}", stage=STAGE)]
    grouped: dict[tuple[str, str], list[Violation]] = {}
    for violation in violations:
        grouped.setdefault((violation.rule, violation.subject), []).append(violation)
    findings = []
    for (rule, subject), group in sorted(grouped.items()):
        first = without_ontology_id(group[0].text)
        more = f" ({len(group)} axioms like this)" if len(group) > 1 else ""
        message = f"not OWL 2 DL: {first}{more}"
        entities = (ctx.entity(subject),) if subject else ()
        findings.append(Finding(rule, Level.ERROR, message, entities, STAGE))
    return findings


def without_ontology_id(text: str) -> str:
    """The OWL API appends ``in OntologyID(...)`` to every message; it names our own ontology."""
    return re.sub(r"\s+in OntologyID\(.*?\)\)?\]?$", "]", text).replace("]]", "]")


def _one_line(text: str) -> str:
    return text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
