"""The downstream workflow of a variant as a diagram: DOT generated from the graph, drawn by
Graphviz ``dot`` as SVG.

Node identifiers are generated (``n0``, ``n1``...); the graph's texts go in only as quoted DOT
labels with backslashes and quotes escaped, so no text can add DOT statements or escape
sequences. ``dot`` runs with a time limit and no shell. Nothing a user sends reaches the DOT:
the topic and variant are checked against the graph before the summary is read.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from axilla_kg.errors import DiagramError

DOT_TIMEOUT = 10.0  # seconds


def dot_label(text: str) -> str:
    """A DOT quoted string holding ``text`` literally, wrapped near 28 characters per line."""
    words, lines, line = str(text).split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > 28:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    escaped = [part.replace("\\", "\\\\").replace('"', '\\"') for part in lines]
    return '"' + "\\n".join(escaped) + '"'


def workflow_dot(workflow: list[dict[str, Any]]) -> str:
    """study (box) -> outcome (ellipse) -> next step (rounded box), one node per distinct text."""
    ids: dict[tuple[str, str], str] = {}
    lines = [
        "digraph workflow {",
        '  graph [rankdir=LR, bgcolor="white", fontname="DejaVu Sans", nodesep=0.25, ranksep=0.5];',
        '  node [fontname="DejaVu Sans", fontsize=11, color="#1f3a5f", fontcolor="#111111"];',
        '  edge [color="#44546a"];',
    ]
    styles = {
        "study": 'shape=box, style="filled", fillcolor="#dbe8f6"',
        "outcome": 'shape=ellipse, style="filled", fillcolor="#fff4d6"',
        "step": 'shape=box, style="rounded,filled", fillcolor="#e3f1e0"',
    }

    def node(kind: str, text: str) -> str:
        key = (kind, text)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            lines.append(f"  {ids[key]} [label={dot_label(text)}, {styles[kind]}];")
        return ids[key]

    edges: list[str] = []
    for item in workflow:
        outcome = node("outcome", item["outcome"])
        for study in item.get("after") or []:
            edges.append(f"  {node('study', study)} -> {outcome};")
        for step in item.get("next_steps") or []:
            edges.append(f"  {outcome} -> {node('step', step)};")
    seen: set[str] = set()
    for edge in edges:
        if edge not in seen:
            seen.add(edge)
            lines.append(edge)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_source: str) -> bytes:
    """SVG bytes from DOT source (``dot -Tsvg``, time-limited)."""
    exe = shutil.which("dot")
    if exe is None:
        raise DiagramError("Graphviz 'dot' is not installed (Debian package graphviz)")
    try:
        done = subprocess.run(
            [exe, "-Tsvg"], input=dot_source.encode(), capture_output=True, timeout=DOT_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise DiagramError(f"dot ran longer than {DOT_TIMEOUT:g} s") from None
    if done.returncode != 0:
        raise DiagramError(f"dot failed: {done.stderr.decode(errors='replace').strip()[:200]}")
    return done.stdout
