"""HTTP routes of the CDS Hooks service (Starlette): discovery and one POST route per service.

CDS Hooks clients include browser-based sandboxes, so these routes answer CORS requests from any
origin (they carry no cookies and change nothing). Errors are JSON: ``{"error", "element"}``.

The route itself only reads the body (under the server's body deadline and this service's size
cap); everything that costs CPU runs in a worker process (:mod:`axilla_kg.cdshooks.execution` on
an :class:`axilla_kg.server.offload.OffLoop`), so one heavy call never stalls another route and
concurrent calls use every core. A call past its deadline is a 503, a full pool a 503 with
``Retry-After``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from axilla_kg.cdshooks import execution
from axilla_kg.cdshooks.feedback import FeedbackStore, parse_feedback
from axilla_kg.cdshooks.request import MAX_BODY, BadRequest
from axilla_kg.cdshooks.service import SERVICES, HookService, discovery
from axilla_kg.cdshooks.trust import Trust, Unauthorized
from axilla_kg.server.offload import Busy, OffLoop, WorkTimeout

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON as :func:`axilla_kg.cdshooks.execution.encode` writes it, with the CORS headers."""
    return _raw(execution.encode(body), status, headers)


def _raw(payload: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(payload, status_code=status, media_type="application/json", headers={**CORS, **(headers or {})})


def offloaded(service: HookService) -> OffLoop:
    """The worker processes that run calls for ``service`` (each loads its own copy of the graph)."""
    return OffLoop(execution.start, (service.base_url,), preload=("axilla_kg.cdshooks.execution",))


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
    return _json(
        {"error": f"unauthorized: {reason}", "element": "Authorization"},
        401,
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _checked(trust: Trust | None, request: Request, *paths: str) -> Response | None:
    """None when the caller may go on (no ``--cds-trust``, or a trusted JWT for one of ``paths``).
    Checked here, in the server's process, before the body is read: cheap, and one replay cache."""
    if trust is None:
        return None
    try:
        trust.check(request.headers.get("authorization"), paths)
    except Unauthorized as exc:
        return _unauthorized(str(exc))
    return None


def routes(
    service: HookService,
    offload: OffLoop | None = None,
    trust: Trust | None = None,
    feedback: FeedbackStore | None = None,
) -> list[BaseRoute]:
    """``GET /cds-services``, ``POST /cds-services/{id}`` and ``POST /cds-services/{id}/feedback`` (plus
    CORS pre-flight). Calls run on ``offload`` (by default a new pool of worker processes,
    :func:`offloaded`). With ``trust`` every POST needs a trusted JWT; ``feedback`` stores feedback and
    the cards issued (default: an in-memory database)."""
    listing = discovery()
    pool = offload if offload is not None else offloaded(service)
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
            body = await _body(request)
        except BadRequest as exc:
            return _json({"error": str(exc), "element": exc.element}, 413, {"Connection": "close"})
        try:
            status, payload, issued = await pool.run(execution.answer_call, hook, body)
        except Busy as exc:
            return _json({"error": f"service busy: {exc}; retry shortly", "element": ""}, 503, {"Retry-After": "1"})
        except WorkTimeout as exc:
            return _json({"error": f"call stopped: {exc}", "element": ""}, 503)
        if issued is not None:
            store.record_cards(sid, *issued)
        return _raw(payload, status)

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
