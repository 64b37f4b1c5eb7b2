"""HermiT in this process: class satisfiability questions through the OWL API, over JPype.

:class:`axilla_kg.reasoning.reasoner.CaseQuestions` explains why satisfiability answers a case's
matches and refutations exactly. This module is the Java side of it, written in Python against the
OWL API and HermiT classes of owlready2's HermiT jar, in the process's one JVM
(:func:`axilla_kg.reasoning.jvm.start`): loading an ontology and checking its consistency once,
then a question is a ``Reasoner.isSatisfiable`` call (milliseconds), not a process.

A *term* of a question is a class IRI (a class of the ontology, or one defined by :meth:`define`)
or ``"!"`` + IRI for its complement. An IRI that is neither is an error: a fresh class would make
every question "satisfiable".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from axilla_kg.errors import HermitError
from axilla_kg.reasoning import jvm


def load_ontology(path: Path) -> tuple[Any, Any]:
    """``path`` (N-Triples, RDF/XML or any OWL API syntax) read by a fresh OWL API manager:
    the ontology and the manager's data factory. Raises :class:`HermitError` naming the file."""
    jvm.start()
    import jpype
    from java.io import File
    from org.semanticweb.owlapi.apibinding import OWLManager

    manager = OWLManager.createOWLOntologyManager()
    try:
        ontology = manager.loadOntologyFromOntologyDocument(File(str(path)))
    except jpype.JException as exc:
        raise HermitError(f"{path.name}: the OWL API cannot read it: {jvm.java_error(exc)}") from None
    return ontology, manager.getOWLDataFactory()


class HermitSession:
    """One ontology loaded into HermiT, asked many satisfiability questions."""

    def __init__(self, ontology_file: Path) -> None:
        self.ontology, self.factory = load_ontology(ontology_file)
        from org.semanticweb.HermiT import Configuration, Reasoner

        self.reasoner = Reasoner(Configuration(), self.ontology)
        self.defined: dict[str, Any] = {}

    def consistent(self) -> bool:
        return bool(self.reasoner.isConsistent())

    def define(self, path: Path) -> int:
        """Read ``path``'s classes with exactly one ``EquivalentClasses`` axiom each: later questions
        may name them, standing for their defining expression (nothing is added to the ontology).
        Replaces the previous definitions; returns how many classes were defined."""
        from org.semanticweb.owlapi.model import AxiomType

        definitions, _ = load_ontology(path)
        found: dict[str, Any] = {}
        for axiom in definitions.getAxioms(AxiomType.EQUIVALENT_CLASSES):
            named = list(axiom.getNamedClasses())
            if len(named) != 1 or axiom.getClassExpressions().size() != 2:
                raise HermitError(f"an equivalence in {path.name} does not define one class: {axiom}")
            cls = named[0]
            iri = str(cls.getIRI())
            for expression in axiom.getClassExpressions():
                if not expression.equals(cls):
                    if iri in found:
                        raise HermitError(f"defined more than once: {iri}")
                    found[iri] = expression
        for iri in found:
            if self.ontology.containsClassInSignature(self._iri(iri)):
                raise HermitError(f"already a class of the ontology: {iri}")
        self.defined = found
        return len(found)

    def satisfiable(self, terms: Sequence[str]) -> bool:
        """Whether the intersection of ``terms`` is satisfiable with respect to the ontology."""
        import java.util

        if not terms:
            raise HermitError("a satisfiability question needs at least one term")
        expressions = java.util.HashSet()
        for token in terms:
            expressions.add(self._term(token))
        question = (
            expressions.iterator().next()
            if expressions.size() == 1
            else self.factory.getOWLObjectIntersectionOf(expressions)
        )
        return bool(self.reasoner.isSatisfiable(question))

    def close(self) -> None:
        """Free HermiT's structures (the JVM stays up for the next question)."""
        self.reasoner.dispose()
        self.defined = {}

    def _iri(self, iri: str) -> Any:
        from org.semanticweb.owlapi.model import IRI

        return IRI.create(iri)

    def _term(self, token: str) -> Any:
        negated = token.startswith("!")
        iri = token[1:] if negated else token
        expression = self.defined.get(iri)
        if expression is None:
            java_iri = self._iri(iri)
            if not self.ontology.containsClassInSignature(java_iri):
                raise HermitError(f"not a class: {iri}")
            expression = self.factory.getOWLClass(java_iri)
        return self.factory.getOWLObjectComplementOf(expression) if negated else expression
