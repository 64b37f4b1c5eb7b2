"""What a check reports: findings with a rule id, a level and the entities involved.

Every stage (logic, shapes, guideline rules, and the reasoner-definition rules of the patient-case
model) returns the same ``Finding`` record, so the summary, the output formats and the exit status
never depend on which stage produced a problem.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Level(enum.IntEnum):
    """Severity, ordered so that ``level >= Level.WARN`` reads naturally (``--fail-on``)."""

    INFO = 1
    WARN = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Level:
        """Read a level name as written in a rule header or a SHACL severity ('warning' -> WARN)."""
        key = text.strip().upper()
        aliases = {"WARNING": "WARN", "VIOLATION": "ERROR", "INFORMATION": "INFO"}
        key = aliases.get(key, key)
        try:
            return cls[key]
        except KeyError:
            raise ValueError(f"unknown level '{text}' (expected ERROR, WARN or INFO)") from None


Entity = tuple[str, str]
"""An entity a finding is about: (IRI, label); the label is '' when the graph has none."""


@dataclass(frozen=True)
class Finding:
    """One problem found in the graph.

    ``witness`` is a patient case in the ``recommend --case`` JSON format, for findings about
    variant definitions (overlaps, gaps), so that a knowledge engineer can replay it. ``source``
    says where the finding's subject comes from (a source record, a file:line) when known.
    """

    rule: str
    level: Level
    message: str
    entities: tuple[Entity, ...] = ()
    stage: str = ""
    witness: dict[str, Any] | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level.name,
            "stage": self.stage,
            "message": self.message,
            "entities": [{"iri": iri, "label": label} for iri, label in self.entities],
            "witness": self.witness,
            "source": self.source,
        }


@dataclass
class StageResult:
    """The findings of one stage and how long it took (the summary reports both)."""

    name: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
