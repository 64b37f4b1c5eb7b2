"""CDS Hooks cards and PAMA system actions from the per-order verdicts.

One card per draft order: the rating with the matched variant(s) and a link to each variant's
page; a suggestion (replace the order with the lower-radiation Usually Appropriate study) where
there is one; or, when facts are missing, no rating and a card asking for exactly those facts.
Rated orders also get a ``systemActions`` update that attaches the Argonaut PAMA rating
extensions to the unchanged ServiceRequest. Text a client sent (an order's display text) is
escaped before it goes into Markdown, so it cannot turn into a link or formatting.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from axilla_kg.cdshooks import codes
from axilla_kg.cdshooks.orders import Verdict
from axilla_kg.vocab import CATEGORY_SYSTEM

SOURCE_LABEL = "axilla-kg: ACR Appropriateness Criteria (topic 286 Imaging of the Axilla)"
#: Shown in every card: the tables are partial and ACR owns the content.
CAVEAT = (
    "ACR Appropriateness Criteria content (c) American College of Radiology; the graph is partial. "
    "Not a substitute for the ACR documents or clinical judgement."
)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def md_escape(text: str) -> str:
    """Client text made inert in Markdown (and one line)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def variant_url(base: str, topic: str, variant: int) -> str:
    return f"{base}/topics/{topic}/variants/{variant}"


def _variant_links(base: str, variants: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [
        {"label": f"ACR topic {t}, variant {n}", "url": variant_url(base, t, n), "type": "absolute"}
        for t, n in variants
    ]


def _names(variants: list[tuple[str, int]]) -> str:
    return ", ".join(f"{t} V{n}" for t, n in variants)


def make_card(summary: str, indicator: str, detail: str, base: str, links: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary[:140],
        "indicator": indicator,
        "detail": f"{detail}\n\n{CAVEAT}",
        "source": {"label": SOURCE_LABEL, "url": f"{base}/topics"},
        "links": links,
    }


def order_cards(
    base: str, order: dict[str, Any], verdict: Verdict, labels: dict[str, str], evidence: dict[str, str]
) -> list[dict[str, Any]]:
    """The card(s) for one draft order."""
    ordered = md_escape(_display(order))
    # evidence strings hold only validated values (codes checked against the code tables, FHIR
    # dates and decimals, our own procedure names), never free text from the request
    used = "".join(f"\n- `{k}`: {v}" for k, v in evidence.items()) or " none"
    facts = f"\n\nPatient facts read from the record:{used}"
    links = _variant_links(base, verdict.variants)
    if verdict.kind == "unknown-procedure":
        return [
            make_card(
                f"{_display(order)[:80]}: not an imaging study these criteria rate",
                "info",
                f"The order '{ordered}' does not name one of the ACR procedures in this graph "
                "(by a verified code or the exact ACR procedure name), so no rating is given.",
                base,
                [],
            )
        ]
    name = verdict.procedure or ""
    if verdict.kind == "needs":
        asked = ", ".join(labels.get(f, f) for f in verdict.needs)
        return [
            make_card(
                f"{name}: no rating yet - needs {asked}"[:140],
                "warning",
                f"The rating of **{name}** depends on facts the record does not state: "
                + "; ".join(f"**{labels.get(f, f)}** (`{f}`)" for f in verdict.needs)
                + f". Variants waiting on them: {_names(verdict.variants)}. {facts}",
                base,
                links,
            )
        ]
    if verdict.kind == "conflict":
        parts = "; ".join(f"{d['category']} in {d['topic']} V{d['variant']}" for d in verdict.disagreements)
        return [
            make_card(
                f"{name}: conflicting criteria - no single rating",
                "warning",
                f"Matching variants rate **{name}** differently: {parts}. {facts}",
                base,
                links,
            )
        ]
    if verdict.kind == "no-criteria":
        return [
            make_card(f"{name}: no criteria apply", "info", f"No variant of these criteria fits. {facts}", base, [])
        ]
    if verdict.kind == "unrated":
        return [
            make_card(
                f"{name}: not rated in our data",
                "info",
                f"Matching variants ({_names(verdict.variants)}) have no rating for **{name}** in this graph; "
                f"their tables are partial, so this is not a rating. {facts}",
                base,
                links,
            )
        ]
    indicator = "warning" if verdict.pama == "not-appropriate" else "info"
    detail = f"**{name}** is rated **{verdict.category}** in ACR {_names(verdict.variants)}."
    if verdict.disagreements:
        detail += " Other matching variants differ: " + "; ".join(
            f"{d['category']} in {d['topic']} V{d['variant']}" for d in verdict.disagreements
        )
        detail += "."
    card = make_card(
        f"{name}: {verdict.category} (ACR {_names(verdict.variants)})", indicator, f"{detail} {facts}", base, links
    )
    cards = [card]
    alt = verdict.alternative
    if alt is not None:
        suggestion = make_card(
            f"Consider {alt['procedure']}: Usually Appropriate, lower radiation ({alt['rrl']})",
            "info",
            f"In ACR {alt['topic']} V{alt['variant']}, **{alt['procedure']}** is Usually Appropriate with relative "
            f"radiation level {alt['rrl']}, lower than the ordered {name} ({verdict.rrl}).",
            base,
            _variant_links(base, [(alt["topic"], alt["variant"])]),
        )
        suggestion["selectionBehavior"] = "at-most-one"
        suggestion["suggestions"] = [_replace(order, alt["procedure"])]
        cards.append(suggestion)
    return cards


def _display(order: dict[str, Any]) -> str:
    concept = order.get("code") or {}
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text
    for c in concept.get("coding") or []:
        if c.get("display"):
            return str(c["display"])
    return f"ServiceRequest/{order.get('id', '')}"


def _replace(order: dict[str, Any], procedure: str) -> dict[str, Any]:
    """A suggestion replacing the draft order by one for ``procedure`` (same patient and intent)."""
    new = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": order.get("intent", "order"),
        "code": {"text": procedure},
        "subject": order.get("subject"),
    }
    if order.get("reasonCode"):
        new["reasonCode"] = order["reasonCode"]
    actions: list[dict[str, Any]] = [{"type": "create", "description": f"Order {procedure}", "resource": new}]
    if order.get("id"):
        actions.insert(
            0,
            {
                "type": "delete",
                "description": f"Remove the draft order {_display(order)}",
                "resourceId": [f"ServiceRequest/{order['id']}"],
            },
        )
    return {"label": f"Order {procedure} instead", "uuid": str(uuid.uuid4()), "isRecommended": True, "actions": actions}


def system_action(
    order: dict[str, Any], verdict: Verdict, consult_id: str, qcdsm: str, auc_iri: str | None
) -> dict[str, Any]:
    """The PAMA ``update``: the same ServiceRequest with the rating extensions appended."""
    resource = copy.deepcopy(order)
    coding = [{"system": codes.PAMA_RATING_SYSTEM, "code": verdict.pama}]
    if verdict.category:
        coding.append({"system": CATEGORY_SYSTEM, "code": verdict.category, "display": verdict.category})
    extensions = [
        {"url": codes.PAMA_RATING, "valueCodeableConcept": {"coding": coding}},
        {"url": codes.PAMA_QCDSM, "valueString": qcdsm},
        {"url": codes.PAMA_CONSULT_ID, "valueUri": consult_id},
    ]
    if auc_iri:
        extensions.append({"url": codes.PAMA_AUC_APPLIED, "valueUri": auc_iri})
    resource["extension"] = [*(resource.get("extension") or []), *extensions]
    return {"type": "update", "description": f"PAMA rating {verdict.pama}", "resource": resource}
