"""Fair use of the query workers: costly queries never hold the last worker, whatever they look like.

Why: the pool already stops a query that runs past ``long_after`` seconds while every other worker
is busy with long queries, and refuses for a while a query that was stopped. Two clients that send
a costly query which finishes just under that bound, each time with a new comment (so the text is
new), kept every worker busy and made 3 ms named queries wait about a second each. Two parts:

* **Recognising a query whatever its spelling.** :func:`query_key` is a digest of the query's
  canonical token form: comments and whitespace dropped (the screen's tokenizer,
  :func:`axilla_kg.graph.sparql_text.tokens`), keywords upper-cased, variables and blank-node
  labels renamed in order of first use (``?a``/``$x`` -> ``?v0``), plus the bound parameters. Two
  queries with the same key have the same algebra up to these renamings, so a new comment, other
  spacing, keyword case or variable names are the same query (a rewrite into different algebra is
  a different query, and is measured on its own).
* **Admission by cost.** :class:`CostBook` remembers how long each key took on a worker (only the
  time on the worker, not the wait for one); a key that took ``costly_after`` seconds or more is
  costly. Costly queries may hold at most ``workers - 1`` workers at once (they wait for a permit,
  within the request's wait limit, then get 503), so one worker is always left for everything else,
  however many costly requests arrive and from however many clients.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

from axilla_kg.graph.results import Term
from axilla_kg.graph.sparql_text import tokens

#: Seconds on a worker from which a query counts as costly.
COSTLY_AFTER = 0.2
_REMEMBERED = 8192  # keys kept (least recently seen dropped first)


def query_key(text: str, bindings: Mapping[str, Term] | None = None) -> str:
    """A digest of the canonical token form of ``text`` with ``bindings`` (see the module docstring).
    The text must have passed the screen (it tokenizes)."""
    names: dict[str, str] = {}
    parts: list[str] = []
    for token in tokens(text):
        if token.kind == "var":
            parts.append(names.setdefault("?" + token.text[1:], f"?v{len(names)}"))
        elif token.kind == "bnode":
            parts.append(names.setdefault(token.text, f"_:b{len(names)}"))
        elif token.kind == "word":
            parts.append(token.keyword)
        else:
            parts.append(token.text)
    # a term's N-Triples text (str of a pyoxigraph term): escaped, so two terms never share one
    bound = sorted((names.get("?" + name, "?" + name), str(value)) for name, value in (bindings or {}).items())
    return hashlib.sha256(repr((parts, bound)).encode()).hexdigest()


class CostBook:
    """Seconds each query key last took on a worker; thread-safe, bounded."""

    def __init__(self, costly_after: float = COSTLY_AFTER, size: int = _REMEMBERED) -> None:
        self.costly_after = costly_after
        self._size = size
        self._seconds: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, key: str, seconds: float) -> None:
        with self._lock:
            self._seconds[key] = seconds
            self._seconds.move_to_end(key)
            while len(self._seconds) > self._size:
                self._seconds.popitem(last=False)

    def is_costly(self, key: str) -> bool:
        with self._lock:
            return self._seconds.get(key, 0.0) >= self.costly_after
