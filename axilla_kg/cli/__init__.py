"""The ``axilla-kg`` command line: a thin layer over the library API, one module per verb group."""

from axilla_kg.cli.main import main

__all__ = ["main"]
