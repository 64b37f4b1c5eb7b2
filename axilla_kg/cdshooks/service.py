"""The two CDS Hooks services (``order-select`` and ``order-sign``) and their discovery entry.

Both answer the same way: derive the patient case from the prefetched resources, run
:meth:`Recommender.recommend` once, judge each draft ServiceRequest, and answer cards plus
the PAMA ``systemActions``. The system actions are given twice with the same content: at the top
level, where CDS Hooks 2.0 puts them, and under ``extension.systemActions``, where the Argonaut
PAMA profile (written before 2.0) puts them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from axilla_kg.cdshooks.cards import (
    ambiguous_card,
    make_card,
    md_escape,
    order_cards,
    summary,
    system_action,
    unknown_card,
)
from axilla_kg.cdshooks.feedback import CARD_EXTENSION
from axilla_kg.cdshooks.fhir_case import Derivation, derive_case
from axilla_kg.cdshooks.indication import reason_facts
from axilla_kg.cdshooks.orders import Verdict, identify, judge_order
from axilla_kg.cdshooks.request import HookRequest
from axilla_kg.contract.cases import CaseError, parse_case
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.vocab import AXD

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&code=http://loinc.org|21889-1",
    "procedures": "Procedure?patient={{context.patientId}}",
}
SERVICES = {
    "axilla-imaging-order-select": "order-select",
    "axilla-imaging-order-sign": "order-sign",
}
DATA_ID = AXD
#: Sent as pama-rating-qcdsm-consulted. The profile wants the CMS G-code of a qualified CDS
#: mechanism; this tool is not one, and says so rather than borrowing a code.
QCDSM = "axilla-kg (not a CMS-qualified CDS mechanism)"


def discovery() -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": hook,
                "id": sid,
                "title": f"ACR axilla imaging appropriateness ({hook})",
                "description": "Rates draft imaging orders against ACR Appropriateness Criteria topic 286 "
                "(Imaging of the Axilla) and related breast topics; asks for missing facts instead of guessing.",
                "prefetch": PREFETCH,
            }
            for sid, hook in SERVICES.items()
        ]
    }


@dataclass
class HookService:
    """Request in, cards out: :meth:`answer` is a pure function of the request and the loaded graph
    (no I/O, no shared mutable state), so it runs wherever the server puts it (event loop or a worker
    process)."""

    lookup: Lookup
    base_url: str

    def _procedures_of(self, concept: dict[str, Any] | None) -> tuple[str, ...]:
        """The ACR procedures a record's Procedure.code names (several when its code covers several)."""
        found = identify(self.lookup, concept)
        return found.procedures if found.status == "known" else ()

    def _case(
        self, request: HookRequest, order: dict[str, Any], procedures: tuple[str, ...]
    ) -> tuple[Derivation, dict[str, Any] | None, Any]:
        """The order's case (the record plus the order's own reason) and its recommendation, with the
        next question focused on the ordered study when the order names one."""
        reason, notes = reason_facts(order, request.prefetch)
        derived = derive_case(
            request.prefetch,
            self._procedures_of,
            axillary_imaging=self.lookup.axillary_imaging(),
            reason=reason,
        )
        derived.notes.extend(notes)
        try:
            case = parse_case(dict(derived.data))
            focus = procedures[0] if len(procedures) == 1 else None
            return derived, self.lookup.recommender.recommend(case, detail="brief", procedure=focus), None
        except CaseError as exc:
            return derived, None, exc

    def answer(self, request: HookRequest) -> dict[str, Any]:
        labels = self.lookup.recommender.feature_labels
        cards: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        consult = f"urn:uuid:{uuid.uuid4()}"
        for order in request.orders:
            found = identify(self.lookup, order.get("code"))
            if found.status == "ambiguous":
                cards.append(ambiguous_card(self.base_url, order, found))
                continue
            if found.status == "unknown":
                cards.append(unknown_card(self.base_url, order, found))
                continue
            derived, result, problem = self._case(request, order, found.procedures)
            if result is None:
                field = problem.field or "sex"
                if field in derived.data:  # a contradiction in the record, not a missing fact
                    cards.append(self._contradiction(found.procedures[0], str(problem)))
                    continue
                verdict = Verdict("needs", found.procedures[0], needs=[field])
            else:
                verdict = judge_order(self.lookup, result, found.procedures)
            issued = order_cards(self.base_url, order, verdict, labels, derived, found, result)
            rating = {
                "procedure": verdict.procedure,
                "category": verdict.category,
                "pama": verdict.pama,
                "kind": verdict.kind,
                "variants": [f"{t}/{n}" for t, n in verdict.variants],
            }
            for card in issued:  # what the card rates, for the feedback report (CDS Hooks 2.0 card extension)
                card["extension"] = {CARD_EXTENSION: rating}
            cards.extend(issued)
            if verdict.pama is not None:
                auc = (
                    f"{DATA_ID}topic-{verdict.variants[0][0]}-variant-{verdict.variants[0][1]}"
                    if verdict.variants
                    else None
                )
                actions.append(system_action(order, verdict, consult, QCDSM, auc))
        out: dict[str, Any] = {"cards": cards}
        if actions:
            out["systemActions"] = actions
            out["extension"] = {"systemActions": actions}
        return out

    def _contradiction(self, procedure: str, message: str) -> dict[str, Any]:
        return make_card(
            summary(f"{procedure}: no rating - the record contradicts itself"),
            "warning",
            f"The facts read from the record break the case contract: {md_escape(message)}.",
            self.base_url,
            [],
        )
