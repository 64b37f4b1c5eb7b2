"""Numbers typed by people (CLI flags, CSV cells, JSON): plain decimal notation only.

Python's own parsers accept far more than a clinician means: ``int("4_5")`` is 45,
``Decimal("1_5")`` is 15 (cm!), ``int("٤٥")`` is 45, ``Decimal("1e999999999")`` is a number
whose plain form has a billion digits, and ``float("1e-400")`` is 0.0. One strict grammar —
optional minus, ASCII digits, optional fraction — with a length cap removes all of these, and
keeps the value exact (``Decimal``).
"""

from __future__ import annotations

import re
from decimal import Decimal

from axilla_kg.errors import NumberSyntaxError

#: Longest number text accepted anywhere; far above any clinical value, far below the sizes
#: that make Python's int/str conversion slow or refuse (4,300 digits).
MAX_NUMBER_CHARS = 100

_WHOLE = re.compile(r"-?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def _check(text: str, pattern: re.Pattern[str], expected: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise NumberSyntaxError(f"a number of at most {MAX_NUMBER_CHARS} characters, got {len(text)} characters")
    if not pattern.fullmatch(text):
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise NumberSyntaxError(f"{expected}, got {shown!r}")


def parse_whole(text: str) -> int:
    """A whole number such as ``45`` or ``-3``; raises :class:`NumberSyntaxError`."""
    _check(text, _WHOLE, "a whole number in plain decimal notation (e.g. 45)")
    return int(text)


def parse_decimal(text: str) -> Decimal:
    """A decimal such as ``1.5`` kept exact; raises :class:`NumberSyntaxError`."""
    _check(text, _DECIMAL, "a number in plain decimal notation (e.g. 1.5)")
    return Decimal(text)


def is_plain_decimal(text: str) -> bool:
    """True when ``text`` is a plain decimal number within the length cap."""
    return len(text) <= MAX_NUMBER_CHARS and _DECIMAL.fullmatch(text) is not None
