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
import urllib.parse
import uuid
from typing import Any

from axilla_kg.cdshooks import codes
from axilla_kg.cdshooks.fhir_case import Derivation
from axilla_kg.cdshooks.markdown import md_escape
from axilla_kg.cdshooks.orders import Identified, Verdict, variant_pairs
from axilla_kg.vocab import CATEGORY_SYSTEM

SOURCE_LABEL = "axilla-kg: ACR Appropriateness Criteria (topic 286 Imaging of the Axilla)"
#: Shown in every card: the tables are partial and ACR owns the content.
CAVEAT = (
    "ACR Appropriateness Criteria content (c) American College of Radiology; the graph is partial. "
    "Not a substitute for the ACR documents or clinical judgement."
)


def variant_url(base: str, topic: str, variant: int) -> str:
    return f"{base}/topics/{topic}/variants/{variant}"


def _variant_links(base: str, variants: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [
        {"label": f"ACR topic {t}, variant {n}", "url": variant_url(base, t, n), "type": "absolute"}
        for t, n in variants
    ]


def _names(variants: list[tuple[str, int]]) -> str:
    return ", ".join(f"{t} V{n}" for t, n in variants)


#: CDS Hooks 2.0: a card's summary "SHALL be less than 140 characters". Every summary below is built
#: from short parts; optional parts are added only while the whole stays under the limit, and the full
#: wording is always in ``detail``. A summary is never cut.
SUMMARY_LIMIT = 140


def summary(base: str, *optional: str) -> str:
    """``base`` plus each optional part that still fits (in order); never cut."""
    if len(base) >= SUMMARY_LIMIT:
        raise ValueError(f"summary by design under {SUMMARY_LIMIT} characters, got {len(base)}: {base!r}")
    out = base
    for part in optional:
        if len(out + part) < SUMMARY_LIMIT:
            out += part
    return out


def make_card(summary_text: str, indicator: str, detail: str, base: str, links: list[dict[str, Any]]) -> dict[str, Any]:
    if len(summary_text) >= SUMMARY_LIMIT:
        raise ValueError(f"card summary over the CDS Hooks limit: {summary_text!r}")
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary_text,
        "indicator": indicator,
        "detail": f"{detail}\n\n{CAVEAT}",
        "source": {"label": SOURCE_LABEL, "url": f"{base}/topics"},
        "links": links,
    }


def _list(items: list[str], empty: str) -> str:
    """A list in prose; ``empty`` (a whole phrase) when there is nothing to list."""
    return ", ".join(items) if items else empty


def case_url(base: str, case: dict[str, Any], procedure: str | None = None) -> str:
    """The case page pre-filled with what the EHR sent (contract field names as query parameters,
    values in their contract spelling: booleans true/false, numbers plain decimals) and, when the
    order names one study, ``procedure`` (the page then leads with that study's answer)."""

    def spell(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    pairs = [(k, spell(v)) for k, v in case.items()]
    if procedure:
        pairs.append(("procedure", procedure))
    return f"{base}/case?" + urllib.parse.urlencode(pairs)


def _facts(derived: Derivation) -> str:
    used = "".join(f"\n- `{k}`: {v}" for k, v in derived.evidence.items()) or " none"
    out = f"\n\nPatient facts read from the record:{used}"
    if derived.notes:
        out += "\n\nNot used, or in disagreement:" + "".join(f"\n- {n}" for n in derived.notes)
    return out


def _reading(found: Identified) -> str:
    if not found.readings:
        return ""
    return "\n\nHow the order was read:" + "".join(f"\n- {r}" for r in found.readings)


def _decided_lines(result: dict[str, Any] | None, first: str | None) -> str:
    """The decided answers (issue 18) for the patient, the ordered study first."""
    decided = list((result or {}).get("decided") or [])
    if not decided:
        return ""
    decided.sort(key=lambda d: d.get("procedure") != first)
    lines = "".join(
        f"\n- **{d['procedure']}**: {d['category']}"
        + (f" (radiation {d['rrl']})" if d.get("rrl") else "")
        + (f", confidence {d['confidence']}" if d.get("confidence") else "")
        + (f" - ACR {_names(variant_pairs(d.get('variants')))}" if d.get("variants") else "")
        for d in decided
    )
    return f"Decided for this patient by the facts given:{lines}\n\n"


def _unrated_card(
    base: str, order: dict[str, Any], found: Identified, summary: str, indicator: str, why: str
) -> dict[str, Any]:
    """A card for an order that is not rated: what the order says, why it is not rated, how it was read."""
    detail = f"The order '{md_escape(_display(order))}' {why}" + _reading(found)
    return make_card(summary, indicator, detail, base, [])


def ambiguous_card(base: str, order: dict[str, Any], found: Identified) -> dict[str, Any]:
    """Issue 19: codings and text naming different studies (or a text naming several) are never rated."""
    return _unrated_card(
        base,
        order,
        found,
        "Ambiguous order: its codes and text name different studies - not rated",
        "warning",
        "does not name one study: its parts disagree or name several. "
        "No rating and no PAMA stamp are given; correct the order so that its codes and text name the same study.",
    )


def unknown_card(base: str, order: dict[str, Any], found: Identified) -> dict[str, Any]:
    return _unrated_card(
        base,
        order,
        found,
        "Order not recognised as a study these criteria rate - no rating",
        "info",
        "maps to none of the ACR procedures of this graph (by a code in the order mapping, the exact ACR "
        "procedure name or a catalogue name), so no rating and no PAMA stamp are given.",
    )


def order_cards(
    base: str,
    order: dict[str, Any],
    verdict: Verdict,
    labels: dict[str, str],
    derived: Derivation,
    found: Identified | None = None,
    result: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The card(s) for one draft order (its study identified)."""
    # evidence strings hold only validated values (codes checked against the code tables, FHIR
    # dates and decimals, our own procedure names); notes and readings are escaped
    facts = _facts(derived) + (_reading(found) if found else "")
    links = _variant_links(base, verdict.variants)
    name = verdict.procedure or ""
    lead = _decided_lines(result, name)
    if verdict.kind == "needs":
        question = (result or {}).get("next_question")
        field = question["field"] if question else (verdict.needs[0] if verdict.needs else None)
        label = (question or {}).get("label") or labels.get(field or "", field or "")
        asked = "; ".join(f"**{labels.get(f, f)}** (`{f}`)" for f in verdict.needs)
        waiting = _list([f"{t} V{n}" for t, n in verdict.variants], "none listed")
        case_link = {
            "label": "Answer it on the case page (pre-filled)",
            "url": case_url(base, derived.data, None if verdict.covered else name),
            "type": "absolute",
        }
        why = f": {md_escape(str(question['why']))}" if question and question.get("why") else ""
        return [
            make_card(
                summary(f"{name}: no rating yet", f" - next question: {label}" if label else ""),
                "warning",
                lead
                + (f"The next question: **{label}** (`{field}`){why}. " if field else "")
                + f"The rating of **{name}** depends on facts the record does not state: {asked or 'none named'}. "
                f"Variants waiting on them: {waiting}.{facts}",
                base,
                [case_link, *links],
            )
        ]
    if verdict.kind == "conflict":
        parts = "; ".join(f"{d['category']} in {d['topic']} V{d['variant']}" for d in verdict.disagreements)
        return [
            make_card(
                summary(f"{name}: criteria conflict - no single rating"),
                "warning",
                f"{lead}Matching variants rate **{name}** differently: {parts}. {facts}",
                base,
                links,
            )
        ]
    if verdict.kind == "several":
        parts = "; ".join(f"**{p}**: {what}" for p, what in verdict.covered)
        return [
            make_card(
                summary("Order covers several ACR studies rated differently - no single rating"),
                "warning",
                f"{lead}The order's code covers several ACR procedures and the facts do not single one out: {parts}. "
                f"Order the study you mean. {facts}",
                base,
                links,
            )
        ]
    if verdict.kind == "no-criteria":
        return [
            make_card(
                summary(f"{name}: no criteria apply"),
                "info",
                f"{lead}No variant of these criteria fits. {facts}",
                base,
                [],
            )
        ]
    if verdict.kind == "unrated":
        which = (
            f"Matching variants ({_names(verdict.variants)}) have no rating"
            if verdict.variants
            else "No matching variant has a rating"
        )
        return [
            make_card(
                summary(f"{name}: not rated in our data"),
                "info",
                f"{lead}{which} for **{name}** in this graph; the tables are partial, so this is not a rating. {facts}",
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
    if verdict.covered:
        detail += " The order's code also covers: " + "; ".join(f"{p} ({what})" for p, what in verdict.covered) + "."
    card = make_card(
        summary(f"{name}: {verdict.category}", f" (ACR {_names(verdict.variants)})"),
        indicator,
        f"{lead}{detail} {facts}",
        base,
        links,
    )
    cards = [card]
    alt = verdict.alternative
    if alt is not None:
        suggestion = make_card(
            summary(f"Consider {alt['procedure']}", f": {alt['category']}, lower radiation ({alt['rrl']})"),
            "info",
            f"In ACR {alt['topic']} V{alt['variant']}, **{alt['procedure']}** is {alt['category']} with relative "
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
                "resourceId": f"ServiceRequest/{order['id']}",  # CDS Hooks 2.0: a string
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
