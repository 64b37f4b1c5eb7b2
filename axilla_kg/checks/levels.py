"""Report profiles: a team's own level for each rule, as ROBOT's ``report --profile``.

A profile is a text file with one rule per line, its level first::

    # our release gate: overlaps block, gaps are fine
    ERROR   variant-overlap
    IGNORE  variant-gap
    INFO    low-confidence-fact

Levels are ERROR, WARN, INFO, and IGNORE (the rule's findings are left out of the report).
Blank lines and ``#`` comments are skipped. A line naming a rule ``check`` does not have, or a
level it does not know, is a usage error naming the file and line: a profile that silently
missed its rule would let the findings through at their default level.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from axilla_kg.checks.findings import Finding, Level
from axilla_kg.errors import UsageError

IGNORE = "IGNORE"
#: Rules whose ids are not known before a run: one per OWL API violation kind, one per SHACL shape.
OPEN_RULES = re.compile(r"^(profile|shape)-[a-z0-9][a-z0-9-]*$")
STAGE_RULES = (
    "logic-inconsistent",
    "logic-unsatisfiable-class",
    "logic-reasoner-failed",
    "variant-overlap",
    "variant-gap",
    "cross-topic-conflict",
    "check-stage-skipped",
)


def known_rules() -> set[str]:
    """The rule ids ``check`` can report (besides the open families in ``OPEN_RULES``)."""
    from axilla_kg.checks.rules import load_rules
    from axilla_kg.checks.untrusted import RULE as INPUT_RULE

    return set(STAGE_RULES) | {INPUT_RULE} | {rule.id for rule in load_rules()}


def read_profile(path: str | Path) -> dict[str, Level | None]:
    """Rule id → level (None: ignore). Raises :class:`UsageError` on the first bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--profile {path}: cannot read it ({exc.__class__.__name__})") from None
    known = known_rules()
    out: dict[str, Level | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        parts = content.split()
        if len(parts) != 2:
            raise UsageError(f"{path}:{number}: expected 'LEVEL rule-id', found {content[:60]!r}")
        level_text, rule = parts
        if rule not in known and not OPEN_RULES.match(rule):
            raise UsageError(f"{path}:{number}: unknown rule '{rule[:60]}'")
        if level_text.upper() == IGNORE:
            out[rule] = None
            continue
        try:
            out[rule] = Level.parse(level_text)
        except ValueError:
            raise UsageError(
                f"{path}:{number}: unknown level '{level_text[:20]}' (expected ERROR, WARN, INFO or IGNORE)"
            ) from None
    return out


def apply_profile(findings: list[Finding], profile: dict[str, Level | None]) -> list[Finding]:
    """The findings at their effective levels; ignored rules are dropped."""
    out = []
    for f in findings:
        if f.rule not in profile:
            out.append(f)
            continue
        level = profile[f.rule]
        if level is not None:
            out.append(f if f.level is level else replace(f, level=level))
    return out
