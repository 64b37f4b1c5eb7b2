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
from axilla_kg.cdshooks.request import MAX_BODY, BadRequest
from axilla_kg.cdshooks.service import SERVICES, HookService, discovery
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


def routes(service: HookService, offload: OffLoop | None = None) -> list[BaseRoute]:
    """``GET /cds-services`` and ``POST /cds-services/{id}`` (plus CORS pre-flight). Calls run on
    ``offload`` (by default a new pool of worker processes, :func:`offloaded`)."""
    listing = discovery()
    pool = offload if offload is not None else offloaded(service)

    async def discover(request: Request) -> Response:
        return _json(listing)

    async def preflight(request: Request) -> Response:
        return Response(status_code=204, headers=CORS)

    async def call(request: Request) -> Response:
        sid = request.path_params["service_id"]
        hook = SERVICES.get(sid)
        if hook is None:
            return _json({"error": f"no CDS service '{sid}'", "element": "id"}, 404)
        try:
            body = await _body(request)
        except BadRequest as exc:
            return _json({"error": str(exc), "element": exc.element}, 413, {"Connection": "close"})
        try:
            status, payload = await pool.run(execution.answer_call, hook, body)
        except Busy as exc:
            return _json({"error": f"service busy: {exc}; retry shortly", "element": ""}, 503, {"Retry-After": "1"})
        except WorkTimeout as exc:
            return _json({"error": f"call stopped: {exc}", "element": ""}, 503)
        return _raw(payload, status)

    return [
        Route("/cds-services", discover, methods=["GET"]),
        Route("/cds-services", preflight, methods=["OPTIONS"]),
        Route("/cds-services/{service_id}", call, methods=["POST"]),
        Route("/cds-services/{service_id}", preflight, methods=["OPTIONS"]),
    ]
