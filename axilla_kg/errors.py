"""Typed errors. Every mistake a user can make maps to one of these; the CLI prints the
message on one line and exits 2, so a user never sees a traceback for their own input."""

from __future__ import annotations

from collections.abc import Mapping


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


class RowError(DataError):
    """One row of a table is wrong: ``FILE:LINE: field 'NAME' PROBLEM`` (or without the field).

    The parts are kept, not only the text, because ``import-ratings`` validates its rows with
    ``ingest``'s code under ``ingest``'s column names and must report them at its own table's line
    and under its own column names (:meth:`at`)."""

    def __init__(self, file: str, line: int, problem: str, field: str | None = None) -> None:
        self.file, self.line, self.problem, self.field = file, line, problem, field
        named = f"field '{field}' " if field else ""
        super().__init__(f"{file}:{line}: {named}{problem}")

    def at(self, file: str, line: int, columns: Mapping[str, str]) -> RowError:
        """The same problem reported at another table's ``line``, its field renamed by ``columns``."""
        field = columns.get(self.field, self.field) if self.field else None
        return RowError(file, line, self.problem, field)


class UnknownProcedureError(UsageError):
    """A procedure name is not in the graph's procedure list."""
