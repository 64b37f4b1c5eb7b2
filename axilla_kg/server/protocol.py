"""The server's configuration, its HTTP errors, and the SPARQL service description.

Kept apart from the ASGI application (``app.py``) and the HTTP listener (``listener.py``) so that
the limits of one server are one frozen value every part reads, and so that the service
description is built as RDF terms and written by pyoxigraph: nothing a client sends (in
particular its ``Host`` header) ever goes into it.
"""

from __future__ import annotations

from dataclasses import dataclass

from axilla_kg.errors import HTTPError as HTTPError  # re-exported: moved to errors.py
from axilla_kg.server.formats import GRAPH_FORMATS


@dataclass(frozen=True)
class ServerConfig:
    """Limits and bindings of one server; every one is a command-line flag of ``axilla-kg serve``."""

    host: str = "127.0.0.1"
    port: int = 7070
    data: tuple[str, ...] = ()
    workers: int = 2
    timeout: float = 10.0  # seconds a query may run before its worker is killed
    max_results: int = 100_000  # triples of a CONSTRUCT/DESCRIBE answer
    max_answer_mb: int = 16  # bytes of any answer, in MiB
    max_body: int = 1_048_576  # bytes of a POST body
    max_query_chars: int = 128 * 1024  # characters of a query text, checked before it is read
    memory_mb: int = 2048  # address-space limit of each worker process; 0 = none
    max_connections: int = 64  # open connections plus running requests; more get 503
    header_timeout: float = 10.0  # seconds for a request line and its headers to arrive
    body_timeout: float = 30.0  # seconds for a request body to arrive
    idle_timeout: float = 5.0  # seconds an idle keep-alive connection is kept
    cors: bool = False
    access_log: bool = False
    public_url: str | None = None  # the endpoint's URL as clients see it (behind a reverse proxy)
    cds_trust: tuple[str, ...] = ()  # ISSUER=JWKS_FILE: only these EHRs may call CDS Hooks (cdshooks.trust)
    cds_feedback_db: str | None = None  # SQLite file for CDS Hooks feedback (None: in memory)

    @property
    def endpoint_url(self) -> str:
        """The URL of ``/sparql`` for the service description and as the base of relative IRIs."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/sparql"

    @property
    def base_iri(self) -> str:
        return self.endpoint_url


_RESULT_FORMAT_IRIS = [
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
]


def service_description(config: ServerConfig, triples: int, fmt: str) -> tuple[bytes, str]:
    """The SPARQL 1.1 Service Description of this endpoint in graph format ``fmt``, and its media type."""
    import pyoxigraph as ox

    sd = "http://www.w3.org/ns/sparql-service-description#"
    void = "http://rdfs.org/ns/void#"
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service, dataset, graph = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    statements = [
        ox.Triple(service, rdf_type, ox.NamedNode(sd + "Service")),
        ox.Triple(service, ox.NamedNode(sd + "endpoint"), ox.NamedNode(config.endpoint_url)),
        ox.Triple(service, ox.NamedNode(sd + "supportedLanguage"), ox.NamedNode(sd + "SPARQL11Query")),
        *(
            ox.Triple(service, ox.NamedNode(sd + "resultFormat"), ox.NamedNode("http://www.w3.org/ns/formats/" + name))
            for name in _RESULT_FORMAT_IRIS
        ),
        ox.Triple(service, ox.NamedNode(sd + "defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, ox.NamedNode(sd + "Dataset")),
        ox.Triple(dataset, ox.NamedNode(sd + "defaultGraph"), graph),
        ox.Triple(graph, rdf_type, ox.NamedNode(sd + "Graph")),
        ox.Triple(
            graph,
            ox.NamedNode(void + "triples"),
            ox.Literal(str(triples), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ),
    ]
    writers = {
        "turtle": ox.RdfFormat.TURTLE,
        "ntriples": ox.RdfFormat.N_TRIPLES,
        "jsonld": ox.RdfFormat.JSON_LD,
        "rdfxml": ox.RdfFormat.RDF_XML,
    }
    prefixes = {"sd": sd, "void": void} if fmt in ("turtle", "rdfxml") else None
    body = ox.serialize(statements, format=writers[fmt], prefixes=prefixes) or b""
    return body, GRAPH_FORMATS[fmt] + "; charset=utf-8"
