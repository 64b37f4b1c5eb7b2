"""Making client text inert in the cards' Markdown (``detail``): every Markdown special character is
escaped and the text is made one line, so an order's text or a code a client sent can never turn
into a link, an image or formatting. Our own wording is written as Markdown; anything a client sent
passes through :func:`md_escape` where it is first put into a sentence."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def md_escape(text: str) -> str:
    """Client text made inert in Markdown (and one line)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
