"""Guideline-rule stage: SPARQL report queries in ``queries/checks/*.rq`` (ROBOT report style).

Each file starts with a header::

    # id: rating-score-outside-category
    # level: ERROR
    # description: A rating's 1-9 score lies outside the rating band of its appropriateness category.

and is a SELECT whose rows are problems. Recognised variables: ``?focus`` (required: the entity
the problem is about), ``?other`` (a second entity involved) and ``?message`` (a row-specific
explanation; the description is used when it is unbound). Adding a rule is adding a file; the
runner needs no change. Rules run on Oxigraph, which answers each in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.findings import Finding, Level
from axilla_kg.errors import DataError
from axilla_kg.graph.queries import read_header
from axilla_kg.graph.results import Term, lexical
from axilla_kg.resources import queries_dir

STAGE = "rules"


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    description: str
    text: str
    path: Path


def rules_dir() -> Path:
    return queries_dir() / "checks"


def parse_rule(path: Path) -> Rule:
    """Read one rule file; a malformed header is a data error naming the file."""
    text = path.read_text(encoding="utf-8")
    fields = read_header(text).fields
    missing = [name for name in ("id", "level", "description") if not fields.get(name)]
    if missing:
        raise DataError(f"{path}: rule header lacks '# {missing[0]}:'")
    if fields["id"] != path.stem:
        raise DataError(f"{path}: rule id '{fields['id']}' must equal the file name '{path.stem}'")
    try:
        level = Level.parse(fields["level"])
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from None
    return Rule(fields["id"], level, fields["description"], text, path)


def load_rules(folder: Path | None = None) -> list[Rule]:
    return [parse_rule(path) for path in sorted((folder or rules_dir()).glob("*.rq"))]


def run_rule(ctx: CheckContext, rule: Rule) -> list[Finding]:
    result = ctx.kg.sparql(rule.text)
    if result.kind != "select" or "focus" not in result.variables:
        raise DataError(f"{rule.path}: a rule must be a SELECT with a ?focus variable")
    index = {name: i for i, name in enumerate(result.variables)}
    findings = []
    for row in result.rows:
        focus = row[index["focus"]]
        if focus is None:
            continue
        entities = [_entity(ctx, focus)]
        other = row[index["other"]] if "other" in index else None
        if other is not None:
            entities.append(_entity(ctx, other))
        message = lexical(row[index["message"]]) if "message" in index else None
        findings.append(
            Finding(rule.id, rule.level, message if message is not None else rule.description, tuple(entities), STAGE)
        )
    return findings


def check_rules(ctx: CheckContext) -> list[Finding]:
    """Run every guideline rule; findings sorted by rule then entity for stable output."""
    findings: list[Finding] = []
    for rule in load_rules():
        findings.extend(run_rule(ctx, rule))
    return sorted(findings, key=lambda f: (f.rule, f.entities))


def _entity(ctx: CheckContext, term: Term) -> tuple[str, str]:
    """An IRI with its label; a blank node (``_:label``) or a literal as its text, with no label."""
    if isinstance(term, ox.NamedNode):
        return ctx.entity(term.value)
    return (str(term) if isinstance(term, ox.BlankNode) else term.value, "")
