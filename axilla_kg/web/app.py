"""The front door as one ASGI app: the lookup home and pages, CDS Hooks and the SPARQL query page.

``front_routes(lookup, base_url)`` is what a host app mounts (``axilla-kg serve`` does);
``create_app`` puts them, with a query page and ``/health``, under the server's own middleware
(:func:`axilla_kg.server.assemble`: error answers, request limits) for the standalone runner
(``python -m axilla_kg.web``) that the tests and benchmarks start as a real uvicorn process.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from axilla_kg.cdshooks.feedback import FeedbackStore
from axilla_kg.cdshooks.routes import routes as cds_routes
from axilla_kg.cdshooks.service import HookService
from axilla_kg.cdshooks.trust import Trust
from axilla_kg.graph.queries import QueryLibrary
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.server import ServerConfig, assemble
from axilla_kg.server.page import render_page
from axilla_kg.web.routes import SECURITY_HEADERS
from axilla_kg.web.routes import routes as page_routes


def front_routes(
    lookup: Lookup, base_url: str, trust: Trust | None = None, feedback: FeedbackStore | None = None
) -> list[BaseRoute]:
    """Lookup pages plus CDS Hooks; ``base_url`` (http://host:port) is used for card links; ``trust``
    and ``feedback`` are the CDS Hooks caller check and feedback database (``axilla_kg.cdshooks.settings``)."""
    lookup.warm()
    service = HookService(lookup, base_url.rstrip("/"))
    store = feedback if feedback is not None else FeedbackStore()  # the report page reads what the route writes
    return [*page_routes(lookup, store), *cds_routes(service, trust=trust, feedback=store)]


def create_app(lookup: Lookup, base_url: str, config: ServerConfig) -> Starlette:
    """The standalone app: the front door (its home at ``/``) plus the SPARQL page at ``/query``
    (its queries need the ``/sparql`` endpoint of ``axilla-kg serve``) and ``/health``, under the
    middleware and request limits of ``config`` that ``axilla-kg serve`` runs too."""
    page = render_page(QueryLibrary.load())
    page_csp = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    }

    async def query_page(request: Request) -> Response:
        return HTMLResponse(page, headers=page_csp)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "triples": len(lookup.kg)})

    return assemble([Route("/query", query_page), Route("/health", health), *front_routes(lookup, base_url)], config)
