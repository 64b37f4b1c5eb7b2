"""The namespaces and prefixes the project writes: one home, so an IRI base is spelled once.

Every writer (Turtle, query results, exports, the SPARQL endpoint) and every reader that shortens
IRIs to prefixed names takes its prefixes from here.
"""

from __future__ import annotations

PREFIXES: dict[str, str] = {
    "ax": "https://w3id.org/axilla-kg/vocab#",
    "axd": "https://w3id.org/axilla-kg/id/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
}
