"""Engine-neutral RDF terms and query results.

Both query engines (Oxigraph and rdflib) convert their answers into these small immutable
values, so that output formatting, the Python API and the engine-equivalence tests never
depend on which engine answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_INTEGER_TYPES = {XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")}


@dataclass(frozen=True, order=True)
class IRI:
    value: str

    def python(self) -> str:
        return self.value

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True)
class BNode:
    value: str

    def python(self) -> str:
        return "_:" + self.value

    def __str__(self) -> str:
        return "_:" + self.value


@dataclass(frozen=True, order=True)
class Literal:
    value: str
    datatype: str = XSD_STRING
    lang: str | None = None

    def python(self) -> str | int | bool | Decimal | float:
        """The natural Python value: int, Decimal, float, bool or str."""
        try:
            if self.datatype in _INTEGER_TYPES:
                return int(self.value)
            if self.datatype == XSD + "decimal":
                return Decimal(self.value)
            if self.datatype in (XSD + "double", XSD + "float"):
                return float(self.value)
        except (ValueError, InvalidOperation):
            return self.value
        if self.datatype == XSD + "boolean":
            return self.value in ("true", "1")
        return self.value

    def __str__(self) -> str:
        return self.value


Term = IRI | BNode | Literal


def canonical(term: Term | None) -> Term | None:
    """Normalise lexical variants that engines and stores may print differently ('2.0' vs '2' for a
    decimal, '1' vs 'true' for a boolean): the same RDF value, compared as one term."""
    if isinstance(term, Literal) and term.datatype == XSD + "decimal":
        try:
            number = Decimal(term.value)
        except InvalidOperation:
            return term
        text = format(number.normalize(), "f")
        return Literal(text if "." in text else text + ".0", term.datatype)
    if isinstance(term, Literal) and term.datatype == XSD + "boolean" and term.value in ("0", "1"):
        # "1" and "0" are valid lexical forms of xsd:boolean (Virtuoso writes them); XSD's canonical
        # forms are "true" and "false"
        return Literal("true" if term.value == "1" else "false", term.datatype)
    if isinstance(term, Literal) and term.lang is not None:
        return Literal(term.value, RDF_LANGSTRING, term.lang.lower())
    return term


@dataclass
class QueryResult:
    """The answer to one query: a table (SELECT), a boolean (ASK) or triples (CONSTRUCT/DESCRIBE)."""

    kind: str  # "select" | "ask" | "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[tuple[Term, Term, Term]] = field(default_factory=list)

    def records(self) -> list[dict[str, object]]:
        """SELECT rows as dicts of plain Python values (None for unbound)."""
        return [
            {
                name: (cell.python() if cell is not None else None)
                for name, cell in zip(self.variables, row, strict=True)
            }
            for row in self.rows
        ]

    def canonical_rows(self) -> list[tuple[Term | None, ...]]:
        return [tuple(canonical(cell) for cell in row) for row in self.rows]
