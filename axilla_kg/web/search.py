"""Full-text search over the graph's topics, variant titles, rated procedures and differentials.

The index is an in-memory SQLite FTS5 table (the standard library's ``sqlite3``), built once when
the pages start from what the read layer already returns (:class:`~axilla_kg.recommend.lookup.Lookup`:
the ``topics`` and ``variants`` named queries and each variant's summary), so a search is one
indexed ``MATCH`` and never a scan over strings. One index row per searchable thing:

* ``topic``: the topic's title;
* ``variant``: the variant's official title;
* ``procedure``: one row per rating of a variant: the procedure's name, and in a second column
  its modality and body region (so "PET" finds "FDG-PEM", whose modality is dedicated PET);
* ``differential``: one row per differential of a variant: the diagnosis and its distinguishing
  features.

User text never becomes FTS5 syntax: it is cut into word tokens (letters and digits), each one
quoted as a prefix term, all required (``"pet"* "axilla"*``); the expression is then bound as a
parameter. Hits are grouped per variant (best rank first) and carry the matching text split into
plain and highlighted segments, so the template escapes every character it shows.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from axilla_kg.errors import SearchError as SearchError  # re-exported: moved to errors.py
from axilla_kg.recommend.lookup import Lookup

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_ROWS = 500
_START, _END = "\ue000", "\ue001"  # private-use markers around highlighted words
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Hit:
    """One matching index row: its kind, highlighted text segments and, for a rating, the row."""

    kind: str
    segments: list[tuple[str, bool]]
    rating: dict[str, Any] | None = None
    #: a procedure's modality and region, highlighted, when the match is there
    extra: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class VariantResult:
    topic: str
    variant: int
    title: str
    complete: bool
    edition: str = "current"
    hits: list[Hit] = field(default_factory=list)

    @property
    def title_segments(self) -> list[tuple[str, bool]]:
        """The title, highlighted where it matched."""
        for h in self.hits:
            if h.kind == "variant":
                return h.segments
        return [(self.title, False)]

    @property
    def rating_hits(self) -> list[Hit]:
        return [h for h in self.hits if h.rating is not None]

    @property
    def differential_hits(self) -> list[Hit]:
        return [h for h in self.hits if h.kind == "differential"]


@dataclass
class Results:
    query: str
    topics: list[tuple[dict[str, Any], list[tuple[str, bool]]]]
    variants: list[VariantResult]

    @property
    def count(self) -> int:
        return len(self.topics) + len(self.variants)


def fts_expression(text: str) -> str | None:
    """The FTS5 query for ``text``: each word token quoted as a required prefix term; ``None``
    when the text has no word at all."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(f"q: more than {MAX_QUERY_CHARS} characters")
    terms = _WORD.findall(text.lower())[:MAX_TERMS]
    if not terms:
        return None
    return " ".join('"' + t.replace('"', '""') + '"*' for t in terms)


def _segments(marked: str) -> list[tuple[str, bool]]:
    """``a \ue000b\ue001 c`` -> [("a ", False), ("b", True), (" c", False)]."""
    out: list[tuple[str, bool]] = []
    for i, part in enumerate(re.split(f"[{_START}{_END}]", marked)):
        if part:
            out.append((part, i % 2 == 1))
    return out


class SearchIndex:
    """The FTS5 index over one :class:`Lookup` (call after ``lookup.warm()``; it reads the caches)."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self.lock = threading.Lock()  # one connection, shared by the server's threads
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5("
            "text, extra, kind UNINDEXED, topic UNINDEXED, variant UNINDEXED, ref UNINDEXED, tokenize='unicode61')"
        )
        self._ratings: dict[tuple[str, int, int], dict[str, Any]] = {}
        self._variants: dict[tuple[str, int], dict[str, Any]] = {}
        self._topics: dict[str, dict[str, Any]] = {str(t["topic"]): t for t in lookup.topics}
        self._build()

    def _build(self) -> None:
        rows: list[tuple[str, str, str, str, int | None, int | None]] = []
        for topic in self.lookup.topic_order():
            head = self._topics[topic]
            edition = f" ({head['edition']} edition)" if head.get("edition") not in (None, "current") else ""
            rows.append((f"{head['title']}{edition}", "", "topic", topic, None, None))
            for v in self.lookup.variants[topic]:
                number = int(v["variant"])
                self._variants[(topic, number)] = v
                rows.append((str(v["title"]), "", "variant", topic, number, None))
                summary = self.lookup.summary(topic, number)
                for i, r in enumerate(summary["ratings"]):
                    info = self.lookup.procedure_info.get(r["procedure"], {})
                    described = ", ".join(str(x) for x in (info.get("modality"), info.get("region")) if x)
                    self._ratings[(topic, number, i)] = r
                    rows.append((str(r["procedure"]), described, "procedure", topic, number, i))
                for d in summary["differentials"]:
                    features = d.get("distinguishing_features") or []
                    text = str(d["diagnosis"]) + (f": {', '.join(map(str, features))}" if features else "")
                    rows.append((text, "", "differential", topic, number, None))
        self.db.executemany("INSERT INTO docs(text, extra, kind, topic, variant, ref) VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.commit()

    def search(self, text: str) -> Results:
        """Topics and variants matching ``text`` (every word, as a prefix), best first."""
        expression = fts_expression(text)
        if expression is None:
            return Results(text, [], [])
        with self.lock:
            found = self.db.execute(
                "SELECT kind, topic, variant, ref, highlight(docs, 0, ?, ?), highlight(docs, 1, ?, ?) FROM docs "
                "WHERE docs MATCH ? ORDER BY rank LIMIT ?",
                (_START, _END, _START, _END, expression, MAX_ROWS),
            ).fetchall()
        topics: list[tuple[dict[str, Any], list[tuple[str, bool]]]] = []
        variants: dict[tuple[str, int], VariantResult] = {}
        for kind, topic, variant, ref, marked, extra in found:
            if kind == "topic":
                topics.append((self._topics[topic], _segments(marked)))
                continue
            key = (str(topic), int(variant))
            result = variants.get(key)
            if result is None:
                head = self._variants[key]
                edition = str(self._topics[key[0]].get("edition") or "current")
                result = VariantResult(key[0], key[1], str(head["title"]), bool(head["complete"]), edition)
                variants[key] = result
            rating = self._ratings[(key[0], key[1], int(ref))] if kind == "procedure" else None
            shown_extra = _segments(extra) if _START in extra else []
            result.hits.append(Hit(kind, _segments(marked), rating, shown_extra))
        # best match first, but a superseded edition (history, never matched) after the current ones
        ordered = sorted(variants.values(), key=lambda v: v.edition != "current")
        return Results(text, topics, ordered)
