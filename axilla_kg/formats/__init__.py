"""Writers: the deterministic Turtle writer, query-result rendering (tables, SPARQL results)
and atomic file writing."""
