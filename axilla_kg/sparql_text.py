"""SPARQL at the level of tokens: screening a query before any engine sees it, and binding
named-query parameters into query text safely.

Why a tokenizer and not a regular expression over the text: a keyword such as ``SERVICE`` may
legitimately appear inside a string, an IRI, a comment, a prefixed name (``ex:SERVICE``) or a
variable (``?service``); only a bare-word token is the keyword. In SPARQL every bare word is a
keyword, a built-in function name, ``a`` or ``true``/``false`` (user names always carry a ``:``,
``?`` or ``$``), so finding a dangerous keyword among the bare-word tokens finds every use of it.
The scan is done on the text as sent and again after SPARQL codepoint escapes (``\\u0053``) are
decoded, because the SPARQL grammar lets a parser decode them before tokenizing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from axilla_kg.errors import UsageError
from axilla_kg.terms import IRI, XSD_STRING, BNode, Term

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'
              |"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$][^\W][\w\u00B7\u0300-\u036F\u203F-\u2040]*)
  | (?P<bnode>_:(?:[\w\-]|\.(?=[\w\-]))*)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>(?:[^\W\d_](?:[\w\-]|\.(?=[\w\-]))*)?:(?:[\w\-:%]|\\[^\s]|\.(?=[\w\-:%\\]))*)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<word>[^\W\d][\w]*)
  | (?P<punct>\^\^|\|\||&&|!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)

UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def keyword(self) -> str:
        """The upper-cased text of a bare word ('' for any other token)."""
        return self.text.upper() if self.kind == "word" else ""


class QueryRefused(UsageError):
    """A query this endpoint will not run: an update, SERVICE, LOAD or a FROM dataset clause."""


def tokens(text: str) -> Iterator[Token]:
    """The significant tokens of a query (whitespace and comments dropped)."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind in ("ws", "comment"):
            continue
        yield Token(kind, match.group(), match.start())


_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def decode_codepoint_escapes(text: str) -> str:
    """Apply SPARQL 1.1 §19.2 codepoint escapes to the whole text, as some parsers do first."""

    def replace(match: re.Match[str]) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):
            return match.group()

    return _CODEPOINT.sub(replace, text)


@dataclass(frozen=True)
class Screened:
    """What screening learnt about an acceptable query: its form (SELECT, ASK, CONSTRUCT, DESCRIBE),
    or '' when the text does not start like a query (the engine's parser then says what is wrong)."""

    form: str

    @property
    def is_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


@lru_cache(maxsize=1024)
def screen(text: str) -> Screened:
    """Refuse anything that could write or reach outside this process; return the query form.

    A pure function of the text, so its verdicts are memoised: clients repeat their queries, and
    tokenizing a 2 kB query costs about 0.3 ms, a third of what evaluating it does. (A refusal is
    an exception, which ``lru_cache`` does not store: a refused text is scanned again each time.)

    Raises :class:`QueryRefused` for SPARQL Update operations, ``SERVICE`` (a server-side request
    to another host), ``LOAD`` and ``FROM``/``FROM NAMED`` (which some engines fetch over HTTP).
    """
    form = ""
    for variant in (text, decode_codepoint_escapes(text)) if "\\" in text else (text,):
        for token in tokens(variant):
            word = token.keyword
            if not word:
                continue
            if word in UPDATE_KEYWORDS:
                raise QueryRefused(
                    f"SPARQL Update ({word}) is refused: this endpoint is read-only (offset {token.start})"
                )
            if word == "SERVICE":
                raise QueryRefused(
                    f"SERVICE is refused: this endpoint makes no requests to other hosts (offset {token.start})"
                )
            if word == "FROM":
                raise QueryRefused(
                    "FROM / FROM NAMED is refused: this endpoint never fetches graphs; "
                    f"query its default graph instead (offset {token.start})"
                )
            if not form and word in QUERY_FORMS:
                form = word
    return Screened(form)


# --- binding parameters into query text ------------------------------------------------------
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_IRI_OK = re.compile(r"[^<>\"{}|^`\\\x00-\x20]*")
_LANG_OK = re.compile(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*")


def sparql_term(term: Term) -> str:
    """A term as SPARQL syntax that can only ever be read back as that one term.

    Strings are written as one double-quoted token with every quote, backslash and line break
    escaped; IRIs and language tags are checked against the grammar and refused otherwise. So a
    user value can never end the token early and add syntax of its own.
    """
    if isinstance(term, IRI):
        if not _IRI_OK.fullmatch(term.value):
            raise UsageError(f"not a valid IRI for a query: {term.value!r}")
        return f"<{term.value}>"
    if isinstance(term, BNode):
        raise UsageError("a blank node cannot be a query parameter")
    body = "".join(_ECHAR.get(ch, ch) for ch in term.value)
    # a 'u' after an escaped backslash is written as \u0075, so that parsers which decode codepoint
    # escapes over the whole text first (SPARQL 1.1 §19.2) and parsers which do not read the same value
    body = body.replace("\\\\u", "\\\\\\u0075").replace("\\\\U", "\\\\\\u0055")
    if term.lang:
        if not _LANG_OK.fullmatch(term.lang):
            raise UsageError(f"not a valid language tag: {term.lang!r}")
        return f'"{body}"@{term.lang}'
    if term.datatype == XSD_STRING:
        return f'"{body}"'
    return f'"{body}"^^{sparql_term(IRI(term.datatype))}'


def bind_parameters(text: str, bindings: Mapping[str, Term]) -> str:
    """Bind variables in a query's text, for engines that cannot take bindings (remote endpoints).

    Variables that the query never assigns get a ``VALUES`` block at the start of the outermost
    ``WHERE`` group, so they are bound before anything else in that group is evaluated, as with
    Oxigraph substitutions or rdflib initial bindings. A variable the query itself assigns
    (``BIND(... AS ?x)`` or ``(... AS ?x)``) cannot also come from ``VALUES``; it is constrained
    with ``FILTER(sameTerm(?x, value))`` at the end of that group instead. Values are written with
    :func:`sparql_term`, never pasted.
    """
    if not bindings:
        return text
    toks = list(tokens(text))
    assigned = {
        toks[i + 1].text[1:] for i, t in enumerate(toks[:-1]) if t.keyword == "AS" and toks[i + 1].kind == "var"
    }
    open_index = _outer_group(toks)
    if open_index is None:
        raise UsageError("cannot bind parameters: the query has no WHERE group")
    depth = 0
    close_index = None
    for i in range(open_index, len(toks)):
        if toks[i].text == "{":
            depth += 1
        elif toks[i].text == "}":
            depth -= 1
            if depth == 0:
                close_index = i
                break
    if close_index is None:
        raise UsageError("cannot bind parameters: the query's WHERE group is not closed")
    values = {name: term for name, term in bindings.items() if name not in assigned}
    filters = {name: term for name, term in bindings.items() if name in assigned}
    for name in bindings:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise UsageError(f"not a valid variable name: {name!r}")
    head = ""
    if values:
        names = " ".join(f"?{n}" for n in values)
        row = " ".join(sparql_term(t) for t in values.values())
        head = f" VALUES ({names}) {{ ({row}) }} "
    tail = "".join(f" FILTER(sameTerm(?{n}, {sparql_term(t)}))" for n, t in filters.items())
    start = toks[open_index].start + 1
    end = toks[close_index].start
    return text[:start] + head + text[start:end] + tail + " " + text[end:]


def _outer_group(toks: list[Token]) -> int | None:
    """Index of the '{' that opens the query's outermost WHERE group.

    After SELECT, ASK or DESCRIBE the first '{' is that group (the WHERE keyword is optional, and a
    subquery's WHERE comes later); after CONSTRUCT the template comes first, so it is the '{' that
    follows the WHERE keyword.
    """
    form_index = next((i for i, t in enumerate(toks) if t.keyword in QUERY_FORMS), None)
    if form_index is None:
        return None
    need_where = toks[form_index].keyword == "CONSTRUCT"
    for i in range(form_index + 1, len(toks)):
        if need_where:
            if toks[i].keyword == "WHERE":
                need_where = False
        elif toks[i].text == "{":
            return i
    return None
