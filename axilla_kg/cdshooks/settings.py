"""The CDS Hooks service's start-up settings: who may call it (``--cds-trust``) and where feedback is
kept (``--cds-feedback-db``), turned into the objects the routes use, with one-line errors."""

from __future__ import annotations

import sqlite3
import sys

from axilla_kg.cdshooks.feedback import FeedbackStore
from axilla_kg.cdshooks.trust import Trust, TrustConfigError
from axilla_kg.errors import SettingsError as SettingsError  # re-exported: moved to errors.py


def configure(
    trust_specs: tuple[str, ...] | list[str], public_base: str, feedback_db: str | None, announce: bool = True
) -> tuple[Trust | None, FeedbackStore]:
    """The trust check (None: open to any client, said on standard error) and the feedback store.
    ``public_base`` is the service's public base URL (from ``--public-url``): the JWT audience."""
    trust = None
    if trust_specs:
        try:
            trust = Trust.from_specs(list(trust_specs), public_base)
        except TrustConfigError as exc:
            raise SettingsError(str(exc)) from None
    try:
        store = FeedbackStore(feedback_db or ":memory:")
    except sqlite3.Error as exc:
        raise SettingsError(f"--cds-feedback-db {feedback_db}: {exc}") from None
    if announce:
        if trust is None:
            print(
                "axilla-kg: CDS Hooks are open to any client (no --cds-trust): fine on a trusted network only",
                file=sys.stderr,
            )
        else:
            names = ", ".join(sorted(trust.issuers))
            audience = f"{public_base}/cds-services/..."
            print(f"axilla-kg: CDS Hooks accept JWTs of: {names} (audience {audience})", file=sys.stderr)
    return trust, store
