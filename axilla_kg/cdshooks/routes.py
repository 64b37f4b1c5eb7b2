"""HTTP routes of the CDS Hooks service (Starlette): discovery and one POST route per service.

CDS Hooks clients include browser-based sandboxes, so these routes answer CORS requests from any
origin (they carry no cookies and change nothing). Errors are JSON: ``{"error", "element"}``.
"""

from __future__ import annotations

import simplejson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from axilla_kg.cdshooks.feedback import FeedbackStore, parse_feedback
from axilla_kg.cdshooks.request import MAX_BODY, BadRequest, parse_request
from axilla_kg.cdshooks.service import SERVICES, HookService, discovery
from axilla_kg.cdshooks.trust import Trust, Unauthorized

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


def _json(body: object, status: int = 200) -> Response:
    """JSON with FHIR decimals written exactly as received (simplejson writes ``Decimal`` as a
    number without a detour through float), so an echoed ServiceRequest keeps e.g. ``1.50``."""
    text = simplejson.dumps(body, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode("utf-8"), status_code=status, media_type="application/json", headers=CORS)


async def _body(request: Request) -> bytes:
    """The request body, refused as soon as it passes the cap (a client cannot make us buffer more)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest("", f"request body over {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _unauthorized(reason: str) -> Response:
    """401 with the reason (CDS Hooks 2.0: the client's JWT was not accepted); nothing was evaluated."""
    response = _json({"error": f"unauthorized: {reason}", "element": "Authorization"}, 401)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _checked(trust: Trust | None, request: Request, *paths: str) -> Response | None:
    """None when the caller may go on (no ``--cds-trust``, or a trusted JWT for one of ``paths``)."""
    if trust is None:
        return None
    try:
        trust.check(request.headers.get("authorization"), paths)
    except Unauthorized as exc:
        return _unauthorized(str(exc))
    return None


def routes(service: HookService, trust: Trust | None = None, feedback: FeedbackStore | None = None) -> list[BaseRoute]:
    """``GET /cds-services``, ``POST /cds-services/{id}`` and ``POST /cds-services/{id}/feedback`` (plus
    CORS pre-flight). With ``trust`` every POST needs a trusted JWT (checked first, in this process, so
    one replay cache sees every call); ``feedback`` stores feedback and the cards issued (default: an
    in-memory database)."""
    listing = discovery()
    store = feedback if feedback is not None else FeedbackStore()

    async def discover(request: Request) -> Response:
        return _json(listing)

    async def preflight(request: Request) -> Response:
        return Response(status_code=204, headers=CORS)

    async def call(request: Request) -> Response:
        sid = request.path_params["service_id"]
        hook = SERVICES.get(sid)
        if hook is None:
            return _json({"error": f"no CDS service '{sid}'", "element": "id"}, 404)
        denied = _checked(trust, request, f"/cds-services/{sid}")
        if denied is not None:
            return denied
        try:
            parsed = parse_request(await _body(request), hook)
        except BadRequest as exc:
            return _json({"error": str(exc), "element": exc.element}, 400)
        answer = service.answer(parsed)
        store.record_cards(sid, parsed.hook_instance, answer["cards"])
        return _json(answer)

    async def feedback_call(request: Request) -> Response:
        sid = request.path_params["service_id"]
        if sid not in SERVICES:
            return _json({"error": f"no CDS service '{sid}'", "element": "id"}, 404)
        denied = _checked(trust, request, f"/cds-services/{sid}/feedback", f"/cds-services/{sid}")
        if denied is not None:
            return denied
        try:
            entries = parse_feedback(await _body(request))
        except BadRequest as exc:
            return _json({"error": str(exc), "element": exc.element}, 400)
        store.record_feedback(sid, entries)
        return Response(status_code=200, headers=CORS)

    return [
        Route("/cds-services", discover, methods=["GET"]),
        Route("/cds-services", preflight, methods=["OPTIONS"]),
        Route("/cds-services/{service_id}", call, methods=["POST"]),
        Route("/cds-services/{service_id}", preflight, methods=["OPTIONS"]),
        Route("/cds-services/{service_id}/feedback", feedback_call, methods=["POST"]),
        Route("/cds-services/{service_id}/feedback", preflight, methods=["OPTIONS"]),
    ]
