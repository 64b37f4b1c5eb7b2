"""Profile stage: is the graph (``ontology/inferred/`` included) OWL 2 DL?

The reasoners only give the graph its meaning when it is OWL 2 DL: an undeclared property, a
property punned as object and data property, or a non-simple property in a cardinality
restriction makes HermiT guess, or silently drop axioms. ROBOT's ``validate-profile`` is the
model: the OWL API's own ``OWL2DLProfile`` decides, not a hand-written approximation of it. The
OWL API is already here, inside owlready2's HermiT jar, so ``java/ProfileCheck.java`` (a few
lines around ``OWL2DLProfile.checkOntology``) is compiled once with ``javac`` against that jar
into a per-user cache and run on the stage's N-Triples file. Every violation is an ERROR
finding; violations of one kind about one entity are reported once, with their count.

Compiling needs a JDK (Debian ``default-jdk-headless``); without ``javac`` and without a cached
build the stage cannot decide and says so in one WARN finding rather than passing silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.findings import Finding, Level
from axilla_kg.reasoning.jvm import CompilerUnavailable, compiled_classpath, java_available, run_java
from axilla_kg.reasoning.reasoner import ReasonerUnavailable

STAGE = "profile"
SOURCE = Path(__file__).resolve().parent / "java" / "ProfileCheck.java"
TIMEOUT_S = 600
_IRI = re.compile(r"<([^<>\s]+)>|\b(owl|rdfs?|xsd):([A-Za-z_][\w.-]*)")
# the OWL API abbreviates IRIs of the reserved vocabularies with these prefixes
_RESERVED = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


class ProfileCheckUnavailable(ReasonerUnavailable):
    """No JDK to compile the profile checker and no compiled copy in the cache."""


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


def checker_classpath() -> str:
    """Directory of the compiled ``ProfileCheck`` plus the HermiT jar; compiles on first use
    (see :func:`axilla_kg.reasoning.jvm.compiled_classpath`)."""
    try:
        return compiled_classpath(SOURCE, "profile-check")
    except CompilerUnavailable as exc:
        raise ProfileCheckUnavailable(f"the OWL 2 DL profile check: {exc}") from None


def profile_violations(files: Sequence[Path]) -> dict[Path, list[Violation]]:
    """The OWL 2 DL violations of each file (N-Triples, RDF/XML...), checked independently in one JVM."""
    if not java_available():
        raise ReasonerUnavailable("the OWL 2 DL profile check needs Java: install a JDK (default-jdk-headless)")
    done = run_java(checker_classpath(), ["ProfileCheck", *map(str, files)], timeout=TIMEOUT_S, heap=False)
    if done.returncode != 0:
        raise ReasonerUnavailable(f"the OWL 2 DL profile check failed: {_first_line(done.stderr)}")
    return parse_report(done.stdout, files)


def parse_report(stdout: str, files: Sequence[Path]) -> dict[Path, list[Violation]]:
    """Read ``ProfileCheck``'s output (see the Java source) back into violations per file."""
    by_name = {str(f): f for f in files}
    out: dict[Path, list[Violation]] = {f: [] for f in files}
    current: Path | None = None
    for line in stdout.splitlines():
        head, _, rest = line.partition("\t")
        if head == "FILE":
            current = by_name.get(rest)
        elif current is None or head in ("IN-PROFILE", "NOT-IN-PROFILE"):
            continue
        elif head == "UNREADABLE":
            out[current].append(Violation("UnreadableOntology", rest))
        elif rest:
            out[current].append(Violation(head, rest))
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


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"
