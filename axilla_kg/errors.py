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


# --- the SPARQL screen (graph.sparql_text) -----------------------------------------------------------


class QueryRefused(UsageError):
    """A query this endpoint will not run: an update, SERVICE, LOAD or a FROM dataset clause."""

    status = 403


class QueryRejected(QueryRefused):
    """A query the screen cannot vouch for: too deeply nested, too long a chain, or not tokenizable."""

    status = 400


class QueryTooLarge(QueryRejected):
    """A query text over the size limit (checked before anything else reads it)."""

    status = 413


# --- remote stores (graph.remote) --------------------------------------------------------------------


class RemoteError(UsageError):
    """A remote endpoint could not be reached or refused a request; the message says which and why."""


# --- the patient-case contract (contract.cases) ------------------------------------------------------


class CaseError(AxillaKGError):
    """A patient case that breaks the contract; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field '{field}': {message}" if field else message)
        self.field = field


# --- safe input (inputs) -----------------------------------------------------------------------------


class NumberSyntaxError(ValueError):
    """The text is not a plain decimal number (the message says why, without the field name)."""


class JSONInputError(DataError):
    """JSON text the tool refuses; ``field`` names the object key involved ('' when none)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- the network barrier (sandbox) -------------------------------------------------------------------


class SandboxUnavailable(RuntimeError):
    """The network barrier cannot be installed on this system (not Linux, or no libseccomp)."""


# --- the reasoners and the JVM (reasoning) -----------------------------------------------------------


class JavaUnavailable(AxillaKGError):
    """No Java runtime (``libjvm``) to start the in-process JVM, or it failed to start."""


class HermitError(AxillaKGError):
    """HermiT or the OWL API could not answer (an unreadable file, a term that is not a class...)."""


class ReasonerUnavailable(AxillaKGError):
    """No Java runtime to run the reasoner."""


class InconsistentGraphError(AxillaKGError):
    """The graph (with whatever the question added) is logically inconsistent, so the reasoner
    cannot answer class questions; ``check`` reports it as a finding instead of failing."""


# --- the check stages (checks) -----------------------------------------------------------------------


class ProfileCheckUnavailable(ReasonerUnavailable):
    """No Java runtime to run the OWL API's profile checker."""


# --- answers (recommend) -----------------------------------------------------------------------------


class CompileError(AxillaKGError):
    """A variant class uses an OWL construct the fast path cannot evaluate exactly."""


class BatchOutputError(AxillaKGError):
    """Writing the answers failed (disk full, a worker killed): the output is incomplete."""


# --- the SPARQL server (server) ----------------------------------------------------------------------


class HTTPError(Exception):
    """An error answer of the endpoint: its HTTP status and the message of its body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class QueryTimeout(Exception):
    """The worker did not answer within the time limit (it has been killed)."""


class WorkerLost(Exception):
    """Workers died while answering this query, twice (e.g. it exhausted the memory limit)."""


class PoolBusy(Exception):
    """No worker became free in time, or the query would have taken the last free worker for long."""


class NotAcceptable(Exception):
    """None of the media types the client accepts can carry this kind of answer."""


class ResultTooLarge(Exception):
    """A serialised answer would exceed the server's byte cap."""


class Terminated(BaseException):
    """SIGTERM arrived (raised by the server's handler, :func:`axilla_kg.server.listener.stopped_by_sigterm`).
    A BaseException, like KeyboardInterrupt: no ``except Exception`` on the way may swallow it."""


class Busy(Exception):
    """More calls are running or waiting than the pool admits."""


class WorkTimeout(Exception):
    """A call ran past its deadline and was stopped."""


# --- the front door (web, cdshooks) ------------------------------------------------------------------


class DiagramError(Exception):
    """``dot`` is missing, failed or overran its time limit."""


class BadRequest(Exception):
    """A CDS Hooks request the service refuses; ``element`` names the part of it (a JSON path)."""

    def __init__(self, element: str, message: str) -> None:
        super().__init__(f"{element}: {message}" if element else message)
        self.element = element
        self.message = message


class SearchError(ValueError):
    """The search text cannot be used (too long); the message names the field."""


class MappingFileError(Exception):
    """The shipped mapping file is broken (a bug in this package's data, not in a request)."""


class SettingsError(Exception):
    """A CDS Hooks start-up setting that cannot be used (the message names the flag)."""


class TrustConfigError(Exception):
    """A ``--cds-trust`` value or JWKS file that cannot be used (a user error at start-up)."""


class Unauthorized(Exception):
    """The request is not from a trusted client; the message is the reason given in the 401."""
