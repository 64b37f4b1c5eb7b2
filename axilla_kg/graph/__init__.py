"""The read side: query results over pyoxigraph's terms, SPARQL engines (Oxigraph, rdflib, a remote
endpoint), the named queries, query screening, ``KnowledgeGraph`` and the variant summary."""
