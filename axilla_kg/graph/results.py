"""Query answers as pyoxigraph terms, and the few value helpers pyoxigraph has no equivalent for.

Every engine answers with pyoxigraph's own terms (``NamedNode``, ``BlankNode``, ``Literal``): the
Oxigraph engine's terms are used as they come, the rdflib engine's are converted in
:mod:`axilla_kg.graph.engines`, a remote store's SPARQL JSON in :mod:`axilla_kg.graph.remote`.
There is no term model of our own.

Why a result holder at all: pyoxigraph's ``QuerySolutions`` cannot be the answer every engine
gives. It is a single-pass iterator (the read layer, the output writers and the tests read an
answer more than once), it cannot be built from terms (the rdflib engine and a remote store have
terms, not an Oxigraph query), and it cannot be pickled. So :class:`QueryResult` is a thin holder:
the variables and the rows (tuples of pyoxigraph terms, ``None`` when unbound) of a SELECT, the
boolean of an ASK, the triples of a CONSTRUCT/DESCRIBE.

Why the helper functions: pyoxigraph gives a literal's lexical form and datatype but not its
Python value (:func:`python_value`: ``int``, ``Decimal``, ``float``, ``bool``, ``str``); it keeps
lexical variants apart that stores print differently (:func:`canonical`, for comparing answers of
two stores); and ``str()`` of its terms is their N-Triples form, where callers want the bare text
(:func:`lexical`). Language tags need no helper: pyoxigraph lower-cases them when a literal is made.

pyoxigraph is imported where a term is first looked at, not when this module is: ``axilla-kg
--version`` and the argument parser, which import the package, load no RDF library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
_BOOLEAN = XSD + "boolean"
_DECIMAL = XSD + "decimal"
_INTEGER_TYPES = ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")


def _boolean(text: str) -> bool:
    return text in ("true", "1")


#: datatype IRI -> the Python value of a lexical form (ValueError/InvalidOperation when it is none)
_CONVERT: dict[str, Callable[[str], int | Decimal | float | bool]] = {
    **{XSD + name: int for name in _INTEGER_TYPES},
    _DECIMAL: Decimal,
    XSD + "double": float,
    XSD + "float": float,
    _BOOLEAN: _boolean,
}

#: an RDF term as the engines answer it (for annotations only: pyoxigraph's classes are the terms)
Term: TypeAlias = "ox.NamedNode | ox.BlankNode | ox.Literal"
#: a SELECT row: one term per variable, ``None`` when unbound
Row: TypeAlias = "tuple[Term | None, ...]"


def python_value(term: Term | None) -> str | int | bool | Decimal | float | None:
    """The natural Python value of a term: an IRI's text, ``_:label`` for a blank node, a literal as
    ``int``, ``Decimal``, ``float`` or ``bool`` by its datatype (its lexical form when that does not
    parse, or for any other datatype); ``None`` for an unbound cell."""
    import pyoxigraph as ox

    if term is None:
        return None
    if isinstance(term, ox.Literal):
        text = term.value
        convert = _CONVERT.get(term.datatype.value)
        if convert is None:
            return text
        try:
            return convert(text)
        except (ValueError, InvalidOperation):
            return text
    if isinstance(term, ox.NamedNode):
        return term.value
    return "_:" + term.value


def lexical(term: Term | None) -> str | None:
    """A term's text: an IRI without brackets, a blank node's label, a literal's lexical form
    (``str()`` of a pyoxigraph term is its N-Triples form, quotes and brackets included)."""
    return None if term is None else term.value


def canonical(term: Term | None) -> Term | None:
    """Normalise lexical variants that engines and stores may print differently ('2.0' vs '2' for a
    decimal, '1' vs 'true' for a boolean): the same RDF value, compared as one term."""
    import pyoxigraph as ox

    if not isinstance(term, ox.Literal):
        return term
    datatype = term.datatype
    if datatype.value == _DECIMAL:
        try:
            number = Decimal(term.value)
        except InvalidOperation:
            return term
        form = format(number.normalize(), "f")
        return ox.Literal(form if "." in form else form + ".0", datatype=datatype)
    if datatype.value == _BOOLEAN and term.value in ("0", "1"):
        # "1" and "0" are valid lexical forms of xsd:boolean (Virtuoso writes them); XSD's canonical
        # forms are "true" and "false"
        return ox.Literal("true" if term.value == "1" else "false", datatype=datatype)
    return term


@dataclass
class QueryResult:
    """The answer to one query: a table (SELECT), a boolean (ASK) or triples (CONSTRUCT/DESCRIBE)."""

    kind: str  # "select" | "ask" | "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[tuple[Term, Term, Term]] = field(default_factory=list)

    def records(self) -> list[dict[str, object]]:
        """SELECT rows as dicts of plain Python values (:func:`python_value`; None for unbound)."""
        return [{name: python_value(cell) for name, cell in zip(self.variables, row, strict=True)} for row in self.rows]

    def canonical_rows(self) -> list[Row]:
        """The rows with every term in the :func:`canonical` form, for comparing two stores' answers."""
        return [tuple(canonical(cell) for cell in row) for row in self.rows]
