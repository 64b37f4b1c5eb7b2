"""Typed errors. Every mistake a user can make maps to one of these; the CLI prints the
message on one line and exits 2, so a user never sees a traceback for their own input."""

from __future__ import annotations


class AxillaKGError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = 2


class UsageError(AxillaKGError):
    """A request the library cannot answer as asked (unknown variant, bad parameter...)."""


class UnknownVariantError(UsageError):
    """The topic has no variant with that number."""


class UnknownTopicError(UsageError):
    """No topic with that key is in the graph."""


class UnknownQueryError(UsageError):
    """No named query with that name exists."""


class ParameterError(UsageError):
    """A named query parameter is missing, unknown or has a value of the wrong type."""


class QuerySyntaxError(UsageError):
    """A SPARQL query does not parse."""


class DataError(AxillaKGError):
    """Input data (a Turtle file, a CSV table) is malformed; the message names file and line."""


class UnknownProcedureError(UsageError):
    """A procedure name is not in the graph's procedure list."""
