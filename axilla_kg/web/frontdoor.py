"""The front door as ``axilla-kg serve`` mounts it beside the SPARQL endpoint.

The dependency runs one way: the front door (this package) uses the server's query page and
configuration, and the server knows nothing of the front door. The CLI assembles the two:
``serve(config, front_door=front_door_routes)``. The server calls it once it listens, with the
configuration holding the real port (``--port 0`` picks one), which the card links need.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from axilla_kg.cdshooks.settings import configure
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.server.protocol import ServerConfig
from axilla_kg.web.app import front_routes


def front_door_routes(config: ServerConfig) -> list[BaseRoute]:
    """The lookup pages and the CDS Hooks service (its trust and feedback settings from ``config``)
    for a server with ``config``."""
    base = config.endpoint_url.removesuffix("/sparql")
    trust, feedback = configure(config.cds_trust, base, config.cds_feedback_db)
    return list(front_routes(Lookup.load(), base, trust=trust, feedback=feedback))
