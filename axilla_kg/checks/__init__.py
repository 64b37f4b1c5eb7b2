"""``axilla-kg check``: logic (OWL reasoner), shape (SHACL) and guideline-rule (SPARQL) checks.

Use ``run_checks()`` for a ``CheckReport``; add a stage with ``register_stage()``.
"""

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.findings import Entity, Finding, Level, StageResult
from axilla_kg.checks.runner import STAGES, CheckReport, Stage, register_stage, run_checks

__all__ = [
    "STAGES",
    "CheckContext",
    "CheckReport",
    "Entity",
    "Finding",
    "Level",
    "Stage",
    "StageResult",
    "register_stage",
    "run_checks",
]
