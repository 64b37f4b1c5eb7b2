"""The read side: RDF terms, SPARQL engines (Oxigraph, rdflib, a remote endpoint), the named
queries, query screening, ``KnowledgeGraph`` and the variant summary."""
