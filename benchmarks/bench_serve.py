"""Bounded loopback load against ``axilla-kg serve``, with an Oxigraph server as the reference.

Both servers hold the same graph (the Oxigraph server gets it through ``axilla-kg push``) and get
the same query texts: the named query "appropriate-studies" (variant 4, parameters bound into the
text exactly as the remote engine does) and a COUNT over all triples. For 1, 4 and 16 concurrent
clients (threads of this process, one keep-alive HTTP connection each, GET requests) a fixed
number of requests is sent after a warm-up; the table gives throughput, p50/p99 latency and the
error count (anything but HTTP 200 with a parseable SPARQL JSON body is an error). Prints a table,
writes every figure to benchmarks/results/serve-latest.json (or --json PATH). Asserts nothing
about speed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from axilla_kg.graph.queries import QueryLibrary  # noqa: E402
from axilla_kg.graph.remote import push  # noqa: E402
from axilla_kg.graph.sparql_text import bind_parameters  # noqa: E402

COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_serve(workers: int) -> tuple[subprocess.Popen[str], str]:
    code = "import sys; from axilla_kg.cli import main; sys.exit(main())"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", "0", "--workers", str(workers)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/sparql", line)
    if not match:
        process.kill()
        raise SystemExit(f"axilla-kg serve did not start: {line!r}")
    return process, f"http://127.0.0.1:{match.group(1)}/sparql"


def start_oxigraph(location: str) -> tuple[subprocess.Popen[str], str]:
    exe = shutil.which("oxigraph")
    if exe is None:
        raise SystemExit("the 'oxigraph' server command is missing: pip install oxigraph==0.5.13")
    port = free_port()
    process = subprocess.Popen(
        [exe, "serve", "--location", location, "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit("oxigraph server did not start") from None
            time.sleep(0.1)
    push(base + "/store")
    return process, base + "/query"


def one_run(url: str, query: str, clients: int, requests: int, warmup: int) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(url)
    path = parts.path + "?" + urllib.parse.urlencode({"query": query})
    headers = {"Accept": "application/sparql-results+json"}
    per_client = requests // clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    rows: list[int] = []
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

        def ask() -> tuple[bool, int]:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    return False, 0
                return True, len(json.loads(body)["results"]["bindings"])
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                conn.close()
                return False, 0

        for _ in range(warmup // clients + 1):
            ask()
        barrier.wait()
        for _ in range(per_client):
            started = time.perf_counter()
            ok, count = ask()
            latencies[index].append(time.perf_counter() - started)
            if not ok:
                errors[index] += 1
            elif index == 0 and not rows:
                rows.append(count)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    samples = sorted(x for per in latencies for x in per)

    def pct(p: float) -> float:
        return samples[min(len(samples) - 1, max(0, round(p * len(samples)) - 1))] * 1000

    return {
        "clients": clients,
        "requests": len(samples),
        "seconds": round(elapsed, 3),
        "qps": round(len(samples) / elapsed, 1),
        "p50_ms": round(pct(0.50), 3),
        "p99_ms": round(pct(0.99), 3),
        "errors": sum(errors),
        "rows": rows[0] if rows else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per cell (default 3000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 requests per cell")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of axilla-kg serve (default 2)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "serve-latest.json")
    args = parser.parse_args()
    requests = 300 if args.quick else args.requests
    warmup = 50 if args.quick else 200

    named = QueryLibrary.load().get("appropriate-studies")
    queries = {
        "appropriate-studies (variant 4)": bind_parameters(named.text, named.bindings({"variant": 4})),
        "COUNT(*) of all triples": COUNT_QUERY,
    }
    servers: dict[str, tuple[subprocess.Popen[str], str]] = {}
    results: list[dict[str, Any]] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as location:
        try:
            servers["axilla-kg serve"] = start_serve(args.workers)
            servers["oxigraph server"] = start_oxigraph(location)
            for query_name, text in queries.items():
                for clients in (1, 4, 16):
                    for server_name, (_process, url) in servers.items():
                        print(f"  {server_name}: {query_name}, {clients} clients", file=sys.stderr)
                        cell = one_run(url, text, clients, requests, warmup)
                        results.append({"server": server_name, "query": query_name, **cell})
        finally:
            for process, _url in servers.values():
                process.terminate()
                process.wait(timeout=10)
    total = time.perf_counter() - began

    import pyoxigraph

    header = (
        f"axilla-kg serve load benchmark - {datetime.now(UTC).isoformat(timespec='seconds')} - "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs - Python {platform.python_version()}, "
        f"pyoxigraph {pyoxigraph.__version__}, oxigraph server 0.5.13 - serve --workers {args.workers}"
    )
    print(header)
    print(f"{'query':32} {'clients':>7} {'server':16} {'q/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'rows':>5}")
    for row in results:
        print(
            f"{row['query']:32} {row['clients']:>7} {row['server']:16} {row['qps']:>8.0f} {row['p50_ms']:>8.2f} "
            f"{row['p99_ms']:>8.2f} {row['errors']:>6} {row['rows']!s:>5}"
        )
    print("\nthroughput ratio, oxigraph server / axilla-kg serve:")
    for query_name in queries:
        for clients in (1, 4, 16):
            cells = {r["server"]: r for r in results if r["query"] == query_name and r["clients"] == clients}
            ratio = cells["oxigraph server"]["qps"] / cells["axilla-kg serve"]["qps"]
            print(f"  {query_name:32} {clients:>2} clients: {ratio:.2f}x")
    print(f"\n(total benchmark time {total:.1f} s)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {"header": header, "requests_per_cell": requests, "warmup": warmup, "results": results}
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.json)
    if any(r["errors"] for r in results):
        raise SystemExit("some requests failed (see the errors column)")


if __name__ == "__main__":
    main()
