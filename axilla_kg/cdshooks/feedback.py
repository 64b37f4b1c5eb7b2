"""CDS Hooks 2.0 feedback: what the clinician did with each card, kept for the guideline authors.

``POST /cds-services/{id}/feedback`` (CDS Hooks 2.0, "Feedback") sends ``{"feedback": [...]}``, each
entry naming a ``card`` (the uuid we issued), its ``outcome`` (``accepted`` or ``overridden``), the
``acceptedSuggestions`` (``[{"id": uuid}]``), an optional ``overrideReason`` (``{"reason": Coding,
"userComment": str}``) and the ``outcomeTimestamp``. Each is stored in an embedded SQLite database
(:mod:`sqlite3`), next to the cards the service issued (their procedure, rating and ACR variants,
recorded when the answer leaves), so the report can say, per variant and procedure, how often the
rating was overridden and why: :func:`override_report` (the ``feedback-report`` command and the web
page read it).

Everything a client sends is validated first (a :class:`~axilla_kg.cdshooks.request.BadRequest` naming
the element) and bound as SQL parameters, never pasted into SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from axilla_kg.cdshooks.request import BadRequest, loads

OUTCOMES = frozenset({"accepted", "overridden"})
#: Most feedback entries in one request, and longest free text kept (a comment is a note, not a file).
MAX_ENTRIES = 100
MAX_TEXT = 2000
#: Without a database file the store is in memory: it keeps the most recent cards and feedback only.
MEMORY_ROWS = 50_000
#: The card extension that carries what a card rates (so feedback can be grouped by variant).
CARD_EXTENSION = "axilla-kg-rating"
SCHEMA = """
CREATE TABLE IF NOT EXISTS cards (
    uuid TEXT PRIMARY KEY, service TEXT NOT NULL, hook_instance TEXT NOT NULL, procedure TEXT,
    category TEXT, pama TEXT, variants TEXT NOT NULL, issued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL, card TEXT NOT NULL, outcome TEXT NOT NULL,
    accepted_suggestions TEXT NOT NULL, override_system TEXT, override_code TEXT, override_display TEXT,
    user_comment TEXT, outcome_timestamp TEXT NOT NULL, received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_card ON feedback(card);
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _text(value: Any, element: str, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(element, "a non-empty string" if required else "a string")
    if len(value) > MAX_TEXT:
        raise BadRequest(element, f"longer than {MAX_TEXT} characters")
    return value


def _uuid(value: Any, element: str) -> str:
    text = _text(value, element, required=True)
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        raise BadRequest(element, "a card or suggestion uuid") from None


def parse_feedback(body: bytes) -> list[dict[str, Any]]:
    """The validated feedback entries of one request (CDS Hooks 2.0 Feedback)."""
    data = loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("feedback"), list) or not data["feedback"]:
        raise BadRequest("feedback", "required, a non-empty list")
    if len(data["feedback"]) > MAX_ENTRIES:
        raise BadRequest("feedback", f"at most {MAX_ENTRIES} entries per request")
    out = []
    for i, entry in enumerate(data["feedback"]):
        where = f"feedback[{i}]"
        if not isinstance(entry, dict):
            raise BadRequest(where, "a JSON object")
        card = _uuid(entry.get("card"), f"{where}.card")
        outcome = entry.get("outcome")
        if outcome not in OUTCOMES:
            raise BadRequest(f"{where}.outcome", f"one of {', '.join(sorted(OUTCOMES))}")
        stamp = _text(entry.get("outcomeTimestamp"), f"{where}.outcomeTimestamp", required=True)
        try:
            dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"{where}.outcomeTimestamp", "an ISO 8601 date-time") from None
        accepted_in = entry.get("acceptedSuggestions") or []
        if not isinstance(accepted_in, list) or len(accepted_in) > MAX_ENTRIES:
            raise BadRequest(f"{where}.acceptedSuggestions", f"a list of at most {MAX_ENTRIES} {{id}} objects")
        accepted = [
            _uuid((s if isinstance(s, dict) else {}).get("id"), f"{where}.acceptedSuggestions[{j}].id")
            for j, s in enumerate(accepted_in)
        ]
        if accepted and outcome != "accepted":
            raise BadRequest(f"{where}.acceptedSuggestions", "only with outcome 'accepted'")
        reason_in = entry.get("overrideReason")
        reason: dict[str, str | None] = {"system": None, "code": None, "display": None, "comment": None}
        if reason_in is not None:
            if outcome != "overridden" or not isinstance(reason_in, dict):
                raise BadRequest(f"{where}.overrideReason", "an object, only with outcome 'overridden'")
            coding = reason_in.get("reason")
            if coding is not None:
                if not isinstance(coding, dict):
                    raise BadRequest(f"{where}.overrideReason.reason", "a Coding")
                reason["system"] = _text(coding.get("system"), f"{where}.overrideReason.reason.system")
                reason["code"] = _text(coding.get("code"), f"{where}.overrideReason.reason.code")
                reason["display"] = _text(coding.get("display"), f"{where}.overrideReason.reason.display")
            reason["comment"] = _text(reason_in.get("userComment"), f"{where}.overrideReason.userComment")
        out.append({"card": card, "outcome": outcome, "accepted": accepted, "reason": reason, "at": stamp})
    return out


class FeedbackStore:
    """The database: one connection, used under a lock (the server calls from its event loop and
    threads; each write is a few rows)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self.in_memory = self.path == ":memory:"
        self._writes = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record_cards(self, service: str, hook_instance: str, cards: list[dict[str, Any]]) -> None:
        """Remember the cards an answer issued, with what each rates (its ``extension``)."""
        rows = []
        for card in cards:
            rating = (card.get("extension") or {}).get(CARD_EXTENSION) or {}
            rows.append(
                (
                    card["uuid"],
                    service,
                    hook_instance,
                    rating.get("procedure"),
                    rating.get("category"),
                    rating.get("pama"),
                    json.dumps(rating.get("variants") or []),
                    _now(),
                )
            )
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._bound()

    def _bound(self) -> None:
        """In memory, drop the oldest rows beyond :data:`MEMORY_ROWS` (checked every 256 writes)."""
        self._writes += 1
        if not self.in_memory or self._writes % 256:
            return
        for table in ("cards", "feedback"):
            self._db.execute(
                f"DELETE FROM {table} WHERE rowid <= (SELECT max(rowid) FROM {table}) - ?",  # table: a literal
                (MEMORY_ROWS,),
            )

    def record_feedback(self, service: str, entries: list[dict[str, Any]]) -> int:
        rows = [
            (
                service,
                e["card"],
                e["outcome"],
                json.dumps(e["accepted"]),
                e["reason"]["system"],
                e["reason"]["code"],
                e["reason"]["display"],
                e["reason"]["comment"],
                e["at"],
                _now(),
            )
            for e in entries
        ]
        with self._lock:
            self._db.executemany(
                "INSERT INTO feedback (service, card, outcome, accepted_suggestions, override_system, "
                "override_code, override_display, user_comment, outcome_timestamp, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._bound()
        return len(rows)

    def size(self) -> dict[str, int]:
        """Rows held per table (cards issued, feedback received)."""
        with self._lock:
            return {
                "cards": int(self._db.execute("SELECT count(*) FROM cards").fetchone()[0]),
                "feedback": int(self._db.execute("SELECT count(*) FROM feedback").fetchone()[0]),
            }

    def rows(self) -> list[dict[str, Any]]:
        """Every feedback entry joined with its card (a card we never issued has no procedure)."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT f.service, f.card, f.outcome, f.accepted_suggestions, f.override_code, "
                "f.override_display, f.user_comment, f.outcome_timestamp, c.procedure, c.category, c.pama, "
                "c.variants FROM feedback f LEFT JOIN cards c ON c.uuid = f.card ORDER BY f.id"
            )
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def override_report(path: str | Path) -> list[dict[str, Any]]:
    """Per ACR variant and procedure: feedback received, overrides, accepted, and the override reasons
    with their counts (most frequent first) - what the guideline authors read. Feedback on a card this
    database never issued is grouped under variant ``unknown``."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no feedback database at {path}")
    store = FeedbackStore(path)
    try:
        return summarise(store.rows())
    finally:
        store.close()


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`override_report` over rows already read (``FeedbackStore.rows()``): the web page reads
    the store the running service writes, which may live in memory."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        variants = json.loads(row["variants"]) if row["variants"] else []
        for variant in variants or ["unknown"]:
            key = (str(variant), row["procedure"] or "unknown")
            group = groups.setdefault(
                key,
                {
                    "variant": key[0],
                    "procedure": key[1],
                    "category": row["category"],
                    "feedback": 0,
                    "overridden": 0,
                    "accepted": 0,
                    "reasons": Counter(),
                },
            )
            group["feedback"] += 1
            if row["outcome"] == "overridden":
                group["overridden"] += 1
                reason = row["override_display"] or row["override_code"] or "no reason given"
                group["reasons"][reason] += 1
            else:
                group["accepted"] += 1
    out = []
    for group in sorted(groups.values(), key=lambda g: (-g["overridden"], g["variant"], g["procedure"])):
        reasons: Counter[str] = group.pop("reasons")
        group["reasons"] = [{"reason": r, "count": n} for r, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0]))]
        out.append(group)
    return out
