"""A memo that cannot grow past a fixed number of entries: memory stays flat whatever the input.

The audit, batch ``recommend --cases`` and the Spark workers remember what they worked out once —
a verdict per class of order, the variants' statuses, a field's score — because millions of rows
fall into far fewer classes. But realistic extracts keep meeting new classes (a generated 10
million-row file meets new ones to the end), so a memo that only stops at a large count keeps the
process growing for millions of rows, and a memo that is cleared when full forgets everything it
knew at once.

:class:`Memo` is a ``dict`` whose inserts, once it holds ``limit`` entries, first drop the older
half (a ``dict`` keeps insertion order, so the oldest are its first keys). Reads are the plain
``dict`` methods, at plain ``dict`` speed — no bookkeeping on a hit, as a least-recently-used
order would need — and a class met again since the last drop is kept. A memo is only a cache of a
function of its key, so what it forgets is worked out again, identically: a bound changes time,
never an answer (``tests/test_audit_memo.py`` holds a tiny bound equal to an unbounded run).

The limits are entry counts chosen from the measured size of an entry of each memo and from what
a miss costs (see ``benchmarks/README.md``, "Flat memory"): each memo holds a few tens of
megabytes at most (the field scores, whose misses cost most, about a hundred), and an audit's
peak stops growing within its first million rows.
"""

from __future__ import annotations

from itertools import islice
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """A ``dict`` of at most ``limit`` entries: a new key arriving when it is full drops the older
    half of the entries first (in insertion order)."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        if limit < 1:
            raise ValueError(f"a memo needs a limit of at least 1 entry, got {limit}")
        self.limit = limit

    def __setitem__(self, key: K, value: V) -> None:
        if len(self) >= self.limit and key not in self:
            self.forget_older_half()
        super().__setitem__(key, value)

    def forget_older_half(self) -> None:
        """Drop the first-inserted half of the entries (at least one)."""
        for key in list(islice(iter(self), max(1, len(self) // 2))):
            del self[key]
