"""Run the front door alone: ``python -m axilla_kg.web [--host H] [--port P] [--header-timeout S] [--body-timeout S]``.

Port 0 picks a free port; the first line on stdout is the URL once the socket listens, which is
how the tests and benchmarks start it as a real server process. It runs as ``axilla-kg serve``
does (:func:`axilla_kg.server.listener.run`, with the same request limits, head deadline and
middleware, at their defaults), only without the SPARQL endpoint and its query workers.
"""

from __future__ import annotations

import argparse
import sys

from axilla_kg.errors import UsageError
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.server import ServerConfig, listen
from axilla_kg.server.listener import run, stopped_by_sigterm
from axilla_kg.web.app import create_app


def _seconds(text: str) -> float:
    """A deadline in seconds: above 0, at most 600 (as ``axilla-kg serve`` takes them)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got '{text[:40]}'") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"expected seconds above 0 and at most 600, got '{text[:40]}'")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m axilla_kg.web", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    defaults = ServerConfig()
    parser.add_argument("--header-timeout", type=_seconds, default=defaults.header_timeout, metavar="SECONDS")
    parser.add_argument("--body-timeout", type=_seconds, default=defaults.body_timeout, metavar="SECONDS")
    args = parser.parse_args(argv)
    with stopped_by_sigterm():
        try:
            sock = listen(args.host, args.port)
        except UsageError as exc:
            print(f"axilla-kg web: {exc}", file=sys.stderr)
            return 2
        try:
            host, port = sock.getsockname()[:2]
            config = ServerConfig(
                host=args.host, port=int(port), header_timeout=args.header_timeout, body_timeout=args.body_timeout
            )
            base = f"http://{host}:{port}"
            app = create_app(Lookup.load(), base, config)
            print(f"axilla-kg: front door at {base}/topics (CDS Hooks {base}/cds-services)", flush=True)
            run(app, sock, config)
        finally:
            sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
