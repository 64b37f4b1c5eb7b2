"""Run the front door alone under uvicorn: ``python -m axilla_kg.web [--host H] [--port P]``.

Port 0 picks a free port; the first line on stdout is the URL once the socket listens, which is
how the tests and benchmarks start it as a real server process.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn

from axilla_kg.recommend.lookup import Lookup
from axilla_kg.web.app import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m axilla_kg.web", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # replies go out at once (no 40 ms Nagle wait)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(f"axilla-kg web: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    base = f"http://{host}:{port}"
    app = create_app(Lookup.load(), base)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_keep_alive=5, limit_concurrency=256))
    print(f"axilla-kg: front door at {base}/topics (CDS Hooks {base}/cds-services)", flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
