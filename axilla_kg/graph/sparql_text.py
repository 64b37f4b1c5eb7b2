"""SPARQL at the level of tokens: screening a query before any engine sees it, and binding
named-query parameters into query text safely.

Why a tokenizer and not a regular expression over the text: a keyword such as ``SERVICE`` may
legitimately appear inside a string, an IRI, a comment, a prefixed name (``ex:SERVICE``) or a
variable (``?service``); only a bare-word token is the keyword. In SPARQL every bare word is a
keyword, a built-in function name, ``a`` or ``true``/``false`` (user names always carry a ``:``,
``?`` or ``$``), so finding a dangerous keyword among the bare-word tokens finds every use of it.

Why the tokenizer is hand-written and scans each character a bounded number of times: it runs on
attacker-controlled text before anything else, so it must be linear in the length of the text
(a backtracking regular expression over name runs was quadratic: 21 s for 16 kB). Its terminals
follow the SPARQL 1.1 grammar (section 19.8) exactly, and where a parser could read the text
another way the screen errs on the side of refusing:

* Oxigraph matches keywords character by character without requiring a word boundary, so
  ``1.e5SERVICE`` or ``trueSERVICE`` is a number or boolean followed by ``SERVICE``; the screen
  therefore refuses any bare-word run that *contains* ``SERVICE``.
* ``<`` is an IRI or the less-than operator depending on the parser's position; an IRI token that
  contains ``)`` (the only way out of an expression) and ``SERVICE`` is refused.
* The text is scanned as sent and again after SPARQL codepoint escapes (``\\u0053``) are decoded,
  because the grammar lets a parser decode them before tokenizing.
* A string that never ends is refused: the screen never leaves a tail of the text unexamined.

The screen also caps the size of a query, its nesting depth and its operator count: Oxigraph's
parser and evaluator recurse, and a thousand chained path steps or a few thousand nested brackets
overflow the stack of the process (a crash, not an error). This is one barrier of two; the other
does not depend on parsing at all (see :mod:`axilla_kg.sandbox`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from axilla_kg.errors import QueryRefused, QueryRejected, QueryTooLarge, UsageError
from axilla_kg.graph.results import XSD_STRING, Term

if TYPE_CHECKING:
    import pyoxigraph as ox

# --- the terminals of the SPARQL 1.1 grammar (section 19.8) ------------------------------------
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_STRING_ESCAPE = r"""\\[tbnrf\\"']|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"""  # ECHAR, or a codepoint escape


def char_class(spec: str) -> str:
    """The regex class of the characters ``spec`` lists (single characters and ``a-b`` ranges; a
    backslash makes the next character a plain one), written as the negation of its complement.

    ``re`` compiles a class by visiting each BMP code point it names: the grammar's name classes name
    about 54,000, their complements about 11,000, and compiling the five patterns made of them was a
    tenth of a one-line ``recommend --cases`` run. The same characters either way
    (``tests/test_sparql_text.py`` compares the two on every code point)."""
    tokens: list[tuple[str, bool]] = []  # (character, written plainly: may be a range's hyphen)
    at = 0
    while at < len(spec):
        if spec[at] == "\\":
            tokens.append((spec[at + 1], False))
            at += 2
        else:
            tokens.append((spec[at], True))
            at += 1
    ranges: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if i + 2 < len(tokens) and tokens[i + 1] == ("-", True):
            ranges.append((ord(tokens[i][0]), ord(tokens[i + 2][0])))
            i += 3
        else:
            ranges.append((ord(tokens[i][0]), ord(tokens[i][0])))
            i += 1
    complement: list[str] = []
    start = 0
    for low, high in sorted(ranges):
        if low > start:
            complement.append(_span(start, low - 1))
        start = max(start, high + 1)
    if start <= 0x10FFFF:
        complement.append(_span(start, 0x10FFFF))
    return "[^" + "".join(complement) + "]"


def _span(low: int, high: int) -> str:
    return re.escape(chr(low)) if low == high else re.escape(chr(low)) + "-" + re.escape(chr(high))


# every pattern below is possessive: a failed attempt never rescans text it has consumed
_WS = re.compile(r"[ \t\r\n]++")
_COMMENT = re.compile(r"#[^\r\n]*+")
_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*+>')
_STRINGS = {
    "'''": re.compile("'''(?:(?:''|')?+(?:[^'\\\\]|" + _STRING_ESCAPE + "))*+'''"),
    '"""': re.compile('"""(?:(?:""|")?+(?:[^"\\\\]|' + _STRING_ESCAPE + '))*+"""'),
    "'": re.compile("'(?:[^'\\\\\\n\\r]|" + _STRING_ESCAPE + ")*+'"),
    '"': re.compile('"(?:[^"\\\\\\n\\r]|' + _STRING_ESCAPE + ')*+"'),
}
_VAR = re.compile(
    "[?$]" + char_class(_PN_CHARS_U + "0-9") + char_class(_PN_CHARS_U + "0-9\u00b7\u0300-\u036f\u203f-\u2040") + "*+"
)
_BNODE = re.compile("_:" + char_class(_PN_CHARS_U + "0-9") + char_class(_PN_CHARS + ".") + "*+")
_LANGTAG = re.compile(r"@[a-zA-Z]++(?:-[a-zA-Z0-9]++)*+")
_NAME_RUN = re.compile(char_class(_PN_CHARS_BASE) + char_class(_PN_CHARS + ".") + "*+")
_PN_LOCAL = re.compile(f"(?:{char_class(_PN_CHARS_U + ':0-9')}|{_PLX})(?:{char_class(_PN_CHARS + '.:')}|{_PLX})*+")
_NUMBER = re.compile(
    r"[0-9]++\.[0-9]*+[eE][+-]?[0-9]++|\.[0-9]++[eE][+-]?[0-9]++|[0-9]++[eE][+-]?[0-9]++|[0-9]*+\.[0-9]++|[0-9]++"
)
_WORD_PART = re.compile(r"[A-Za-z0-9_]++|[^A-Za-z0-9_]")
_PUNCT = re.compile(r"\^\^|\|\||&&|!=|<=|>=|.", re.DOTALL)
_NAME_START = re.compile(char_class(_PN_CHARS_BASE))

UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})

MAX_QUERY_CHARS = 128 * 1024  # the named queries are under 3 kB; a hand-written query rarely passes 10 kB
MAX_DEPTH = 64  # nested { ( [ : Oxigraph overflows its stack somewhere between 2,000 and 5,000
MAX_OPERATORS = 512  # operators, path steps, UNION/OPTIONAL/MINUS: 1,000 chained path steps overflow it
_OPERATORS = frozenset({"+", "-", "*", "/", "|", "^", "||", "&&", "=", "!=", "<", ">", "<=", ">=", "!"})
_CHAINING_WORDS = frozenset({"UNION", "OPTIONAL", "MINUS"})
_OPENERS = frozenset("{([")
_CLOSERS = frozenset("})]")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def keyword(self) -> str:
        """The upper-cased text of a bare word ('' for any other token)."""
        return self.text.upper() if self.kind == "word" else ""


def tokens(text: str) -> Iterator[Token]:
    """The significant tokens of a query (whitespace and comments dropped), in one linear pass.

    Raises :class:`QueryRejected` for an unterminated string, which no SPARQL parser accepts.
    """
    pos = 0
    end = len(text)
    while pos < end:
        char = text[pos]
        if char in " \t\r\n":
            pos = _matched(_WS, text, pos).end()
            continue
        if char == "#":
            pos = _matched(_COMMENT, text, pos).end()
            continue
        if char in "'\"":
            match = _string(text, pos)
            yield Token("string", match.group(), pos)
            pos = match.end()
            continue
        if char == ":":
            stop = _local_end(text, pos + 1)
            yield Token("pname", text[pos:stop], pos)
            pos = stop
            continue
        if _NAME_START.match(char):
            stop = _matched(_NAME_RUN, text, pos).end()
            if stop < end and text[stop] == ":" and text[stop - 1] != ".":
                stop = _local_end(text, stop + 1)
                yield Token("pname", text[pos:stop], pos)
            else:
                # not a prefixed name: bare words (keywords) and the punctuation between them
                for part in _WORD_PART.finditer(text, pos, stop):
                    piece = part.group()
                    kind = "word" if piece[0].isalnum() or piece[0] == "_" else "punct"
                    yield Token(kind, piece, part.start())
            pos = stop
            continue
        kind, match = _other(text, pos, char)
        stop = match.end()
        if kind == "bnode":
            stop = _strip_dots(text, pos + 2, stop)
        yield Token(kind, text[pos:stop], pos)
        pos = stop


def _matched(pattern: re.Pattern[str], text: str, pos: int) -> re.Match[str]:
    match = pattern.match(text, pos)
    assert match is not None, "the caller checked the first character"
    return match


def _string(text: str, pos: int) -> re.Match[str]:
    char = text[pos]
    if text.startswith(char * 3, pos):
        match = _STRINGS[char * 3].match(text, pos)
        if match is None:
            raise QueryRejected(f"malformed SPARQL: unterminated string starting at offset {pos}")
        return match
    match = _STRINGS[char].match(text, pos)
    if match is None:
        raise QueryRejected(f"malformed SPARQL: unterminated string starting at offset {pos}")
    return match


def _local_end(text: str, pos: int) -> int:
    """The end of a prefixed name's local part that starts at ``pos`` (possibly empty)."""
    local = _PN_LOCAL.match(text, pos)
    return _strip_dots(text, pos, local.end()) if local else pos


def _other(text: str, pos: int, char: str) -> tuple[str, re.Match[str]]:
    """IRIs, variables, blank nodes, language tags, numbers, else one punctuation token."""
    match: re.Match[str] | None = None
    kind = "punct"
    if char == "<":
        match, kind = _IRIREF.match(text, pos), "iri"
    elif char in "?$":
        match, kind = _VAR.match(text, pos), "var"
    elif char == "_" and text.startswith("_:", pos):
        match, kind = _BNODE.match(text, pos), "bnode"
    elif char == "@":
        match, kind = _LANGTAG.match(text, pos), "langtag"
    elif "0" <= char <= "9" or (char == "." and "0" <= text[pos + 1 : pos + 2] <= "9"):
        match, kind = _NUMBER.match(text, pos), "number"
    if match is None:
        return "punct", _matched(_PUNCT, text, pos)
    return kind, match


def _strip_dots(text: str, start: int, stop: int) -> int:
    """A prefixed name or blank node label cannot end with '.': give trailing dots back
    (an escaped dot, ``\\.``, is part of the name)."""
    while stop > start and text[stop - 1] == "." and not (stop - 2 >= start and text[stop - 2] == "\\"):
        stop -= 1
    return stop


_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def decode_codepoint_escapes(text: str) -> str:
    """Apply SPARQL 1.1 section 19.2 codepoint escapes to the whole text, as some parsers do first."""

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


def screen(text: str, max_chars: int = MAX_QUERY_CHARS) -> Screened:
    """Refuse anything that could write or reach outside this process; return the query form.

    The size is checked before anything else looks at the text, and the scan is linear. Verdicts on
    short texts are memoised (clients repeat their queries); a refusal is an exception, which
    ``lru_cache`` does not store, so a refused text is scanned again each time.

    Raises :class:`QueryRefused` (403) for SPARQL Update operations, ``SERVICE`` (a server-side
    request to another host), ``LOAD`` and ``FROM``/``FROM NAMED`` (which some engines fetch over
    HTTP); :class:`QueryRejected` (400) for a query nested or chained beyond the limits or that does
    not tokenize; :class:`QueryTooLarge` (413) for one over ``max_chars`` characters.
    """
    if len(text) > max_chars:
        raise QueryTooLarge(f"query of {len(text)} characters exceeds the limit of {max_chars}")
    if len(text) <= 4096:
        return _screen_cached(text)
    return _screen(text)


@lru_cache(maxsize=1024)
def _screen_cached(text: str) -> Screened:
    return _screen(text)


def _screen(text: str) -> Screened:
    form = ""
    for variant in (text, decode_codepoint_escapes(text)) if "\\" in text else (text,):
        depth = 0
        operators = 0
        for token in tokens(variant):
            kind = token.kind
            if kind == "word":
                word = token.text.upper()
                _check_word(word, token.start)
                operators += word in _CHAINING_WORDS
                if not form and word in QUERY_FORMS:
                    form = word
            elif kind == "punct":
                if token.text in _OPENERS:
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise QueryRejected(
                            f"query nested more than {MAX_DEPTH} brackets deep (offset {token.start}); "
                            "deeper nesting is refused"
                        )
                elif token.text in _CLOSERS:
                    depth = max(0, depth - 1)
                else:
                    operators += token.text in _OPERATORS
            elif kind == "iri" and ")" in token.text and "SERVICE" in token.text.upper():
                raise QueryRefused(
                    f"SERVICE is refused: a query here never makes requests to other hosts (offset {token.start})"
                )
            if operators > MAX_OPERATORS:
                raise QueryRejected(
                    f"query chains more than {MAX_OPERATORS} operators, path steps or UNION/OPTIONAL/MINUS "
                    f"(offset {token.start}); longer chains are refused"
                )
    return Screened(form)


def _check_word(word: str, offset: int) -> None:
    """A bare word: SERVICE anywhere in it (keywords need no boundary), an update keyword, FROM."""
    if "SERVICE" in word:
        raise QueryRefused(f"SERVICE is refused: a query here never makes requests to other hosts (offset {offset})")
    if word in UPDATE_KEYWORDS:
        raise QueryRefused(f"SPARQL Update ({word}) is refused: the graph is read-only (offset {offset})")
    if word == "FROM":
        raise QueryRefused(
            f"FROM / FROM NAMED is refused: graphs are never fetched; query its default graph instead (offset {offset})"
        )


# --- binding parameters into query text ------------------------------------------------------
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_IRI_OK = re.compile(r"[^<>\"{}|^`\\\x00-\x20]*")
_LANG_OK = re.compile(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*")


def query_iri(text: str) -> ox.NamedNode:
    """``text`` as an IRI a query may hold (a graph name, a public URL), or a one-line usage error."""
    import pyoxigraph as ox

    try:
        iri = ox.NamedNode(text)
    except ValueError:
        raise UsageError(f"not a valid IRI for a query: {text!r}") from None
    sparql_term(iri)
    return iri


def sparql_term(term: Term) -> str:
    """A term as SPARQL syntax that can only ever be read back as that one term.

    Strings are written as one double-quoted token with every quote, backslash and line break
    escaped; IRIs and language tags are checked against the grammar and refused otherwise (pyoxigraph
    already refuses to build such terms; the check keeps this function safe on its own). So a user
    value can never end the token early and add syntax of its own.
    """
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        if not _IRI_OK.fullmatch(term.value):
            raise UsageError(f"not a valid IRI for a query: {term.value!r}")
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        raise UsageError("a blank node cannot be a query parameter")
    body = "".join(_ECHAR.get(ch, ch) for ch in term.value)
    # a 'u' after an escaped backslash is written as \u0075, so that parsers which decode codepoint
    # escapes over the whole text first (SPARQL 1.1 §19.2) and parsers which do not read the same value
    body = body.replace("\\\\u", "\\\\\\u0075").replace("\\\\U", "\\\\\\u0055")
    if term.language:
        if not _LANG_OK.fullmatch(term.language):
            raise UsageError(f"not a valid language tag: {term.language!r}")
        return f'"{body}"@{term.language}'
    if term.datatype.value == XSD_STRING:
        return f'"{body}"'
    return f'"{body}"^^{sparql_term(term.datatype)}'


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
