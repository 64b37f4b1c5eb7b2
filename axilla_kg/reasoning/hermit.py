"""HermiT in this process: class satisfiability questions through the OWL API, over JPype.

:class:`axilla_kg.reasoning.reasoner.CaseQuestions` explains why satisfiability answers a case's
matches and refutations exactly. This module is the Java side of it, written in Python against the
OWL API and HermiT classes of owlready2's HermiT jar, in the process's one JVM
(:func:`axilla_kg.reasoning.jvm.start`): loading an ontology and checking its consistency once,
then a question is a ``Reasoner.isSatisfiable`` call (milliseconds), not a process.

A *term* of a question is a class IRI (a class of the ontology, or one defined by :meth:`define`)
or ``"!"`` + IRI for its complement, or a tuple of such terms for their union. An IRI that is
neither is an error: a fresh class would make every question "satisfiable". A *question* is a
list of terms, standing for their intersection.

Many questions can be asked at once where only "all of them" is wanted
(:meth:`HermitSession.none_satisfiable`, :meth:`HermitSession.all_satisfiable`): a yes proves the
answer of every question, by logic alone; a no says only that some question differs, and the
caller asks again in smaller groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

from axilla_kg.errors import HermitError
from axilla_kg.reasoning import jvm

#: a class IRI, ``"!"`` + a class IRI (its complement), or a tuple of those (their union)
Term: TypeAlias = str | tuple[str, ...]
#: the individuals :meth:`HermitSession.all_satisfiable` asserts (never a name of the ontology)
WITNESS_NS = "urn:axilla-kg:witness:"


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

    def satisfiable(self, terms: Sequence[Term]) -> bool:
        """Whether the intersection of ``terms`` is satisfiable with respect to the ontology."""
        return bool(self.reasoner.isSatisfiable(self._question(terms)))

    def none_satisfiable(self, questions: Sequence[Sequence[Term]]) -> bool:
        """Whether every question is unsatisfiable, asked as one: their union is unsatisfiable
        exactly when each of them is. (HermiT refutes the branches of one union in one tableau,
        many times faster than one question each.)"""
        if not questions:
            return True
        return not self.reasoner.isSatisfiable(self._union([self._question(q) for q in questions]))

    def all_satisfiable(self, questions: Sequence[Sequence[Term]]) -> bool:
        """True only if every question is satisfiable, checked at once: the ontology plus one fresh
        individual asserted into each question's class is consistent, and a model of that puts an
        element into each class. False when a question is unsatisfiable, or when the classes,
        each satisfiable, cannot all have elements in one model (fresh individuals can still meet
        through the ontology's named individuals): the caller then asks in smaller groups."""
        if not questions:
            return True
        import java.util
        from org.semanticweb.HermiT import Configuration, Reasoner
        from org.semanticweb.owlapi.model import IRI

        manager = self.ontology.getOWLOntologyManager()
        copy = manager.createOntology(self.ontology.getAxioms())
        try:
            assertions = java.util.HashSet()
            for k, question in enumerate(questions):
                witness = IRI.create(f"{WITNESS_NS}{k}")
                if self.ontology.containsIndividualInSignature(witness):
                    raise HermitError(f"the ontology already names the individual {WITNESS_NS}{k}")
                individual = self.factory.getOWLNamedIndividual(witness)
                assertions.add(self.factory.getOWLClassAssertionAxiom(self._question(question), individual))
            manager.addAxioms(copy, assertions)
            reasoner = Reasoner(Configuration(), copy)
            try:
                return bool(reasoner.isConsistent())
            finally:
                reasoner.dispose()
        finally:
            manager.removeOntology(copy)

    def entailed(self, individual: str, term: Term) -> bool:
        """Whether the ontology entails that its named ``individual`` is in ``term``'s class."""
        java_iri = self._iri(individual)
        if not self.ontology.containsIndividualInSignature(java_iri):
            raise HermitError(f"not an individual of the ontology: {individual}")
        named = self.factory.getOWLNamedIndividual(java_iri)
        return bool(self.reasoner.isEntailed(self.factory.getOWLClassAssertionAxiom(self._term(term), named)))

    def close(self) -> None:
        """Free HermiT's structures (the JVM stays up for the next question)."""
        self.reasoner.dispose()
        self.defined = {}

    def _iri(self, iri: str) -> Any:
        from org.semanticweb.owlapi.model import IRI

        return IRI.create(iri)

    def _question(self, terms: Sequence[Term]) -> Any:
        """The intersection of ``terms`` as one class expression."""
        if not terms:
            raise HermitError("a satisfiability question needs at least one term")
        import java.util

        expressions = java.util.HashSet()
        for token in terms:
            expressions.add(self._term(token))
        if expressions.size() == 1:
            return expressions.iterator().next()
        return self.factory.getOWLObjectIntersectionOf(expressions)

    def _union(self, expressions: Sequence[Any]) -> Any:
        import java.util

        members = java.util.HashSet()
        for expression in expressions:
            members.add(expression)
        return members.iterator().next() if members.size() == 1 else self.factory.getOWLObjectUnionOf(members)

    def _term(self, token: Term) -> Any:
        if isinstance(token, tuple):
            if not token:
                raise HermitError("an empty union is not a term")
            return self._union([self._term(member) for member in token])
        negated = token.startswith("!")
        iri = token[1:] if negated else token
        expression = self.defined.get(iri)
        if expression is None:
            java_iri = self._iri(iri)
            if not self.ontology.containsClassInSignature(java_iri):
                raise HermitError(f"not a class: {iri}")
            expression = self.factory.getOWLClass(java_iri)
        return self.factory.getOWLObjectComplementOf(expression) if negated else expression
