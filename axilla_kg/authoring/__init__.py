"""Authoring tools: curated CSVs to Turtle (``ingest``), rating imports, variant classes from
their definitions, and reasoner-derived relations (``derive``)."""
