"""A read-only, screened SPARQL 1.1 endpoint over the knowledge graph (``axilla-kg serve``).

Layout: ``protocol`` speaks HTTP and the SPARQL Protocol, ``worker`` evaluates queries in
killable worker processes, ``formats`` negotiates and writes result formats, ``page`` is the HTML
query page; query screening lives in :mod:`axilla_kg.sparql_text`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import sys
from collections.abc import Callable
from types import FrameType

from axilla_kg.errors import DataError, UsageError
from axilla_kg.server.protocol import Endpoint, Server, ServerConfig, make_handler
from axilla_kg.server.worker import WorkerPool

__all__ = ["ServerConfig", "serve"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(config: ServerConfig, announce: Callable[[str], None] | None = None) -> None:
    """Run the endpoint until interrupted (Ctrl+C or SIGTERM); announce the URL once listening."""
    try:
        pool = WorkerPool(config.workers, config.data, config.memory_mb)
    except RuntimeError as exc:
        raise DataError(str(exc)) from None
    server: Server | None = None
    try:
        endpoint = Endpoint(config, pool)
        try:
            server = Server((config.host, config.port), make_handler(endpoint))
        except OSError as exc:
            raise UsageError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from None

        def stop(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        host, port = str(server.server_address[0]), int(server.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        if not _is_loopback(host):
            print(f"axilla-kg serve: warning: listening on {host}, reachable from other machines", file=sys.stderr)
        (announce or _print)(
            f"axilla-kg: serving {pool.triples} triples at http://{shown}:{port}/sparql "
            f"(query page http://{shown}:{port}/; {pool.size} workers, time limit {config.timeout:g} s, "
            f"max {config.max_results} results)"
        )
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever(poll_interval=0.5)
    finally:
        if server is not None:
            server.server_close()
        pool.close()


def _print(line: str) -> None:
    print(line, flush=True)
