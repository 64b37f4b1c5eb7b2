"""Named SPARQL queries: ``queries/*.rq`` files with a typed parameter header.

Header format (comment lines at the top of the file)::

    # title: Appropriate studies for a variant
    # answers: Which studies are Usually or May Be Appropriate for the variant, best first?
    # param variant: integer, required. The variant number within the topic.
    # param topic: string, default 286. The topic key (286, 235, 235-2017, ...).
    # param outcome: string, optional. Left unbound (matches anything) when not given.

Parameters become SPARQL variables of the same name and are bound by the engine
(substitution / initial bindings), never pasted into the query text, so a value can never
change the shape of a query. Values are converted to typed RDF terms from the declared type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from axilla_kg.errors import ParameterError, UnknownQueryError
from axilla_kg.graph.results import XSD, Term
from axilla_kg.resources import queries_dir

_PARAM = re.compile(
    r"^#\s*param\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<type>integer|decimal|string|boolean|iri)"
    r"\s*,\s*(?:(?P<required>required)|(?P<optional>optional)|default\s+(?P<default>\S+))\s*\.\s*(?P<doc>.*)$"
)
_MAX_VALUE_CHARS = 2048  # a parameter value is a number, a key or an IRI: never longer than this
_FIELD = re.compile(r"^#\s*([A-Za-z]+)\s*:\s*(.*?)\s*$")  # "# title: ..." (not "# param name: ...")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    default: str | None
    doc: str

    def term(self, raw: object) -> Term:
        """Convert a user value (a CLI string or a Python value) to a typed RDF term."""
        import pyoxigraph as ox

        text = str(raw).strip() if not isinstance(raw, bool) else ("true" if raw else "false")
        if len(text) > _MAX_VALUE_CHARS:
            raise ParameterError(f"parameter '{self.name}': value of {len(text)} characters is too long")
        shown = text if len(text) <= 40 else text[:40] + "..."
        if self.type == "integer":
            # ASCII digits only (\d would take other scripts' digits), at most 18 of them
            if isinstance(raw, bool) or not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
                raise ParameterError(f"parameter '{self.name}' must be a whole number (up to 18 digits), got '{shown}'")
            return ox.Literal(str(int(text)), datatype=ox.NamedNode(XSD + "integer"))
        if self.type == "decimal":
            # plain decimal notation: an exponent such as 1e999999999 would expand to a billion digits
            if not re.fullmatch(r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})", text):
                raise ParameterError(f"parameter '{self.name}' must be a plain decimal number, got '{shown}'")
            try:
                value = Decimal(text)
            except InvalidOperation:
                raise ParameterError(f"parameter '{self.name}' must be a number, got '{shown}'") from None
            return ox.Literal(format(value, "f"), datatype=ox.NamedNode(XSD + "decimal"))
        if self.type == "boolean":
            if text.lower() not in ("true", "false"):
                raise ParameterError(f"parameter '{self.name}' must be true or false, got '{raw}'")
            return ox.Literal(text.lower(), datatype=ox.NamedNode(XSD + "boolean"))
        if self.type == "iri":
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*", text):
                raise ParameterError(f"parameter '{self.name}' must be an absolute IRI, got '{raw}'")
            try:
                return ox.NamedNode(text)
            except ValueError:  # RFC 3987 is stricter than the pattern above (a bad percent escape, say)
                raise ParameterError(f"parameter '{self.name}' must be an absolute IRI, got '{raw}'") from None
        return ox.Literal(text)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    answers: str
    parameters: tuple[Parameter, ...]
    text: str
    path: Path

    def bindings(self, values: dict[str, object]) -> dict[str, Term]:
        """Typed bindings for the given values plus defaults; unknown or missing names are errors."""
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(known))
        if unknown:
            expected = ", ".join(known) or "none"
            raise ParameterError(f"query '{self.name}' has no parameter '{unknown[0]}' (its parameters: {expected})")
        out: dict[str, Term] = {}
        for param in self.parameters:
            if param.name in values and values[param.name] is not None:
                out[param.name] = param.term(values[param.name])
            elif param.default is not None:
                out[param.name] = param.term(param.default)
            elif param.required:
                raise ParameterError(
                    f"query '{self.name}' needs parameter '{param.name}' ({param.doc.rstrip('.')}); "
                    f"pass --param {param.name}=VALUE"
                )
        return out


@dataclass
class QueryLibrary:
    queries: dict[str, NamedQuery] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | None = None) -> QueryLibrary:
        library = cls()
        for path in sorted((folder or queries_dir()).glob("*.rq")):
            query = parse_query_file(path)
            library.queries[query.name] = query
        return library

    def get(self, name: str) -> NamedQuery:
        if name not in self.queries:
            raise UnknownQueryError(
                f"unknown query '{name}' (run 'axilla-kg queries' to list them: {', '.join(sorted(self.queries))})"
            )
        return self.queries[name]

    def __iter__(self) -> Iterator[NamedQuery]:
        return iter(self.queries[name] for name in sorted(self.queries))

    def __len__(self) -> int:
        return len(self.queries)


@dataclass(frozen=True)
class Header:
    """The comment block a ``.rq`` file starts with: its ``# key: value`` fields, and its other
    comment lines (the ``# param`` lines of a named query)."""

    fields: dict[str, str]
    other: list[str]


def read_header(text: str) -> Header:
    """The header of a ``.rq`` file (named queries and check rules share this one reader): the
    leading comment lines, blank lines between them allowed, up to the first line of SPARQL."""
    fields: dict[str, str] = {}
    other: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _FIELD.match(line)
        if match:
            fields[match.group(1)] = match.group(2)
        else:
            other.append(line)
    return Header(fields, other)


def parse_query_file(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    header = read_header(text)
    params: list[Parameter] = []
    for line in header.other:
        match = _PARAM.match(line)
        if match:
            params.append(
                Parameter(match["name"], match["type"], bool(match["required"]), match["default"], match["doc"].strip())
            )
        elif line.lstrip("# ").startswith("param"):
            raise ValueError(f"{path}: malformed parameter line: {line}")
    fields = header.fields
    if "param" in fields:
        raise ValueError(f"{path}: malformed parameter line: # param: {fields['param']}")
    if "title" not in fields or "answers" not in fields:
        raise ValueError(f"{path}: header must give '# title:' and '# answers:'")
    return NamedQuery(path.stem, fields["title"], fields["answers"], tuple(params), text, path)
