"""A tiny, deterministic Turtle writer.

Generated ontology files are committed and reviewed as diffs, so the same input must give
byte-identical output; rdflib's serializer is both slower to import and free to reorder, so
the generator writes Turtle itself from plain Python values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from axilla_kg.errors import DataError
from axilla_kg.vocab import PREFIXES


@dataclass(frozen=True)
class Ref:
    """A reference to a resource: a prefixed name (``ax:Foo``) or a full IRI."""

    value: str

    def turtle(self) -> str:
        if ":" in self.value and not self.value.startswith(("http://", "https://")):
            return self.value
        iri = _IRI_UNSAFE.sub(_percent, self.value)
        import pyoxigraph  # the IRI grammar (RFC 3987) is the parser's to decide, not a regex's

        try:
            pyoxigraph.NamedNode(iri)
        except ValueError as exc:
            raise DataError(f"not a valid IRI: {self.value!r} ({exc})") from None
        return "<" + iri + ">"


#: Characters Turtle's IRIREF cannot hold (controls, space, <>"{}|^`\); percent-encoded, so a
#: URL taken from a citation can never end the IRI early and start a triple of its own.
_IRI_UNSAFE = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f]')


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))


@dataclass(frozen=True)
class Lang:
    """A language-tagged string."""

    text: str
    lang: str = "en"


@dataclass(frozen=True)
class Typed:
    """A literal with a datatype: ``"18"^^xsd:integer``."""

    text: str
    datatype: Ref


@dataclass(frozen=True)
class Blank:
    """An anonymous resource written in place: ``[ a owl:Restriction ; owl:onProperty ax:p ]``.
    Predicates are prefixed names or ``a``, written by the code, never taken from data."""

    pairs: tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Collection:
    """An RDF list written in place: ``( ax:A ax:B )``; ``multiline`` puts one item on a line
    (for lists of class expressions, so a change to one shows as one line of the diff)."""

    items: tuple[Value, ...]
    multiline: bool = False


Value = Ref | Lang | str | int | bool | Decimal | Typed | Blank | Collection


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
#: What a quoted literal must escape: its delimiter, the backslash, and every control character
#: (line separators included), so user text stays one literal on one line.
_LITERAL_UNSAFE = re.compile(r'[\\"\x00-\x1f\x7f-\x9f\u2028\u2029]')


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"


def _escape(text: str) -> str:
    _require_unicode(text)
    return _LITERAL_UNSAFE.sub(_escape_char, text)


def _require_unicode(text: str) -> None:
    """Lone surrogates (e.g. undecodable command-line bytes) cannot be written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(f"text {text!r} is not valid Unicode (undecodable bytes?)") from None


def comment(text: str) -> str:
    """One Turtle comment line: line breaks and other controls shown as escapes, never obeyed."""
    _require_unicode(text)
    return "# " + _LITERAL_UNSAFE.sub(lambda m: m.group() if m.group() in '\\"' else _escape_char(m), text)


def term(value: Value) -> str:
    """Render one object value as Turtle."""
    if isinstance(value, Ref):
        return value.turtle()
    if isinstance(value, Lang):
        return f'"{_escape(value.text)}"@{value.lang}'
    if isinstance(value, Typed):
        return f'"{_escape(value.text)}"^^{value.datatype.turtle()}'
    if isinstance(value, Blank):
        return "[ " + " ; ".join(f"{p} {term(v)}" for p, v in value.pairs) + " ]"
    if isinstance(value, Collection):
        if value.multiline:
            return "(\n" + "".join(f"            {term(v)}\n" for v in value.items) + "        )"
        return "( " + " ".join(term(v) for v in value.items) + " )"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text if "." in text else text + ".0"
    return f'"{_escape(value)}"'


@dataclass
class Resource:
    """One subject with its predicate/object pairs, kept in insertion order."""

    subject: str
    pairs: list[tuple[str, Value]] = field(default_factory=list)

    def add(self, predicate: str, value: Value | None) -> Resource:
        if value is not None:
            self.pairs.append((predicate, value))
        return self

    def turtle(self) -> str:
        lines = [self.subject]
        grouped: dict[str, list[Value]] = {}
        for predicate, value in self.pairs:
            grouped.setdefault(predicate, []).append(value)
        body = [f"    {p} " + " , ".join(term(v) for v in values) for p, values in grouped.items()]
        return lines[0] + "\n" + " ;\n".join(body) + " ."


def document(header: Iterable[str], resources: Iterable[Resource]) -> str:
    """A whole Turtle document: comment header, prefixes, then resources in the given order."""
    parts = [comment(line).rstrip() for line in header]
    parts.extend(f"@prefix {p}: <{iri}> ." for p, iri in PREFIXES.items())
    text = "\n".join(parts) + "\n"
    for resource in resources:
        text += "\n" + resource.turtle() + "\n"
    return text
