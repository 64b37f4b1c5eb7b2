"""Hostile input to the CDS Hooks feedback endpoint and to the order reader (issue 20): oversized,
malformed or injection-shaped feedback is refused with a 400 naming the element or stored verbatim as
data; an order text too long to be a catalogue name never agrees with a code (so it cannot smuggle a
second study past the ambiguity check). Against a real server process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from frontdoor_helpers import fetch, front_door, post_json
from test_cdshooks import SIGN, check_response, seed_request

FEEDBACK = SIGN + "/feedback"
STAMP = "2026-12-06T14:00:00Z"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with front_door() as url:
        yield url


def _entry(**extra: Any) -> dict[str, Any]:
    return {"card": str(uuid.uuid4()), "outcome": "overridden", "outcomeTimestamp": STAMP, **extra}


@pytest.mark.parametrize(
    ("body", "element"),
    [
        ({"feedback": [_entry() for _ in range(101)]}, "feedback"),
        ({"feedback": []}, "feedback"),
        ({"feedback": "all of them"}, "feedback"),
        ({"feedback": [_entry(overrideReason={"userComment": "x" * 5000})]}, "feedback[0].overrideReason.userComment"),
        ({"feedback": [_entry(card={"$ne": None})]}, "feedback[0].card"),
        ({"feedback": [_entry(overrideReason={"reason": "nope"})]}, "feedback[0].overrideReason.reason"),
        ({"feedback": [_entry(acceptedSuggestions=[{"id": str(uuid.uuid4())}])]}, "feedback[0].acceptedSuggestions"),
    ],
)
def test_bad_feedback_is_refused_naming_the_element(base: str, body: dict[str, Any], element: str) -> None:
    status, answer = post_json(base + FEEDBACK, body)
    assert status == 400 and answer["element"] == element, answer


def test_malformed_json_feedback_is_400(base: str) -> None:
    for raw in (b'{"feedback": [' * 200, b'{"feedback": NaN}', b"\xff"):
        status, answer = post_json(base + FEEDBACK, raw)
        assert status == 400 and answer["error"]


def test_injection_shaped_feedback_is_stored_as_data(base: str) -> None:
    """SQL and markup in the comment and reason are bound parameters: stored verbatim, tables intact,
    and the report page still answers."""
    nasty = "'); DROP TABLE feedback; -- <script>alert(1)</script>"
    reason = {"reason": {"code": nasty, "display": nasty}, "userComment": nasty}
    for _ in range(2):
        raw = json.dumps({"feedback": [_entry(overrideReason=reason)]}).encode()
        status, _, _ = fetch(base + FEEDBACK, raw, {"Content-Type": "application/json"})
        assert status == 200
    status, _, page = fetch(base + "/feedback")
    assert status == 200 and b"<script>alert(1)" not in page


def test_an_overlong_order_text_never_agrees_with_a_code(base: str) -> None:
    text = "FDG-PET/CT skull base to mid-thigh " + "x" * 300 + " and US axilla"
    order = ServiceRequest(
        id="order-1",
        status="draft",
        intent="order",
        code={"text": text, "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "78815"}]},
        subject={"reference": "Patient/p1"},
    )
    status, body = post_json(base + SIGN, seed_request(order))
    assert status == 200
    check_response(body)
    assert "systemActions" not in body and body["cards"][0]["summary"].startswith("Ambiguous order")
    assert json.dumps(body).count("x" * 300) <= 1  # the text is echoed once (escaped), never re-read


@pytest.mark.parametrize(
    "code",
    [
        {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "[click](http://evil.example)"}]},
        {"text": "US axilla", "reasonReference": None},
    ],
)
def test_client_codes_and_references_are_inert_in_the_card(base: str, code: dict[str, Any]) -> None:
    """A code or a reference a client sent is escaped where the card repeats it (never a link)."""
    extra: dict[str, Any] = {}
    if "reasonReference" in code:
        code = {"text": code["text"]}
        extra["reasonReference"] = [{"reference": "Condition/[x](http://evil.example)"}]
    order = ServiceRequest(
        id="order-1", status="draft", intent="order", code=code, subject={"reference": "Patient/p1"}, **extra
    )
    status, body = post_json(base + SIGN, seed_request(order))
    assert status == 200
    check_response(body)
    text = json.dumps([c["detail"] for c in body["cards"]])
    assert "](http" not in text and "evil" in text
