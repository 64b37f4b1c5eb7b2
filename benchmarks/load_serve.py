"""Load and abuse test of ``axilla-kg serve``: 16 clients for 30 s with good, bad, runaway and
deep-nesting queries, twice (without and with runaways). Asserts nothing about speed.

Each client is a thread of this process with its own keep-alive HTTP connection (reopened after
the server closes it). Every request has one expected status:

* good: named queries and small ad-hoc SELECT/ASK/CONSTRUCT queries -> 200 (and a parseable body);
* bad: malformed SPARQL, SERVICE (the issue's reproducer), updates, FROM, a bad Content-Length ->
  400/403/413 as documented;
* deep: 10,000 nested braces, parentheses, ``1+1+...`` or UNION branches -> 400;
* runaway: a three-way cross product of the graph -> 503 (stopped at the time limit, or refused
  when the other workers already run long queries).

Phase A runs good, bad and deep clients; phase B replaces two of the sixteen clients with
clients that send the same runaway query again and again (the server refuses a text it stopped
recently at once); phase C's two runaway clients make every runaway text unique (a numbered
comment), so each one costs a worker. Reported: requests and unexpected statuses per kind, good-request p50/p99 per
phase, and the resident memory (RSS) of the whole server process tree (server plus workers)
before and after. Usage: ``python benchmarks/load_serve.py [--seconds 30] [--clients 16]``;
figures go to stdout and to benchmarks/results/load-serve-latest.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from axilla_kg.graph.queries import QueryLibrary  # noqa: E402
from axilla_kg.graph.sparql_text import bind_parameters  # noqa: E402

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DEEP = [
    "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000,
    "SELECT * WHERE { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "SELECT * WHERE { FILTER(" + "+".join(["1"] * 10_000) + ") }",
    "SELECT * WHERE { " + " UNION ".join(["{}"] * 10_000) + " }",
]
BAD = [
    ("SELECT * WHERE { ?s ?p ", {400}),
    ("SELECT * WHERE { ?s ?p 1.e5SERVICE SILENT <http://127.0.0.1:9/x> { } }", {403}),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", {403}),
    ("SELECT * FROM <http://127.0.0.1:9/g> WHERE { ?s ?p ?o }", {403}),
    ("SELECT * WHERE { ?s ?p ?o } #" + "x" * 140_000, {413}),
]


def good_queries() -> list[str]:
    library = QueryLibrary.load()
    named = library.get("appropriate-studies")
    texts = [bind_parameters(named.text, named.bindings({"variant": v})) for v in range(1, 13)]
    texts += [
        "SELECT ?key ?n WHERE { ?t a ax:Topic ; ax:topicKey ?key ; ax:topicNumber ?n } ORDER BY ?key",
        "ASK { ?t ax:topicKey '286' }",
        "CONSTRUCT { ?t ax:topicKey ?k } WHERE { ?t ax:topicKey ?k }",
    ]
    return texts


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (kB)."""
    children: dict[int, list[int]] = defaultdict(list)
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
        match = re.search(r"VmRSS:\s+(\d+)", status)
        rss[int(entry.name)] = int(match.group(1)) if match else 0
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


class Client(threading.Thread):
    def __init__(self, base: str, kind: str, stop: float, seed: int, goods: list[str]) -> None:
        super().__init__(daemon=True)
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.kind, self.stop_at, self.random, self.goods = kind, stop, random.Random(seed), goods
        self.results: list[tuple[str, int, bool, float]] = []  # kind, status, expected, seconds
        self.conn: http.client.HTTPConnection | None = None

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, data
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    return 0, b""
        return 0, b""

    def one(self) -> None:
        kind = self.kind
        if kind == "mixed":
            kind = self.random.choices(["good", "bad", "deep"], weights=[8, 1, 1])[0]
        expected: set[int]
        if kind == "good":
            text, expected = self.random.choice(self.goods), {200}
        elif kind == "bad":
            text, expected = self.random.choice(BAD)
        elif kind == "deep":
            text, expected = self.random.choice(DEEP), {400}
        elif kind == "runaway":
            text, expected = RUNAWAY, {503}
        else:  # a unique runaway: same work, new text
            text, expected = f"{RUNAWAY} # {self.random.random()}", {503}
        started = time.perf_counter()
        if self.random.random() < 0.5 and len(text) < 4000:
            status, body = self._send("GET", "/sparql?" + urllib.parse.urlencode({"query": text}), None, {})
        else:
            status, body = self._send("POST", "/sparql", text.encode(), {"Content-Type": "application/sparql-query"})
        seconds = time.perf_counter() - started
        ok = status in expected
        if ok and kind == "good":
            ok = bool(body)
        self.results.append((kind, status, ok, seconds))

    def run(self) -> None:
        while time.monotonic() < self.stop_at:
            self.one()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def phase(
    base: str, clients: int, seconds: float, runaways: int, goods: list[str], unique: bool = False
) -> dict[str, Any]:
    stop = time.monotonic() + seconds
    kinds = ["unique-runaway" if unique else "runaway"] * runaways + ["mixed"] * (clients - runaways)
    threads = [Client(base, kind, stop, seed, goods) for seed, kind in enumerate(kinds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 300)
    rows = [r for t in threads for r in t.results]
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in ("good", "bad", "deep", "runaway", "unique-runaway"):
        mine = [r for r in rows if r[0] == kind]
        statuses: dict[int, int] = defaultdict(int)
        for _, status, _, _ in mine:
            statuses[status] += 1
        by_kind[kind] = {
            "requests": len(mine),
            "unexpected": sum(not ok for _, _, ok, _ in mine),
            "statuses": dict(sorted(statuses.items())),
        }
    good = [s for k, _, ok, s in rows if k == "good" and ok]
    return {
        "runaway_clients": runaways,
        "requests": len(rows),
        "unexpected": sum(not ok for _, _, ok, _ in rows),
        "kinds": by_kind,
        "good_p50_ms": round(percentile(good, 0.50) * 1000, 1),
        "good_p99_ms": round(percentile(good, 0.99) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "load-serve-latest.json"))
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "axilla_kg", "serve", "--port", "0", "--workers", str(args.workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        match = re.search(r"http://127\.0\.0\.1:(\d+)/sparql", process.stdout.readline())
        if not match:
            print("serve did not start", file=sys.stderr)
            return 1
        base = f"http://127.0.0.1:{match.group(1)}"
        goods = good_queries()
        rss_before = tree_rss_kb(process.pid)
        without = phase(base, args.clients, args.seconds, 0, goods)
        with_runaways = phase(base, args.clients, args.seconds, 2, goods)
        with_unique = phase(base, args.clients, args.seconds, 2, goods, unique=True)
        rss_after = tree_rss_kb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "clients": args.clients,
        "seconds_per_phase": args.seconds,
        "workers": args.workers,
        "without_runaways": without,
        "with_runaways": with_runaways,
        "with_unique_runaways": with_unique,
        "rss_tree_kb_before": rss_before,
        "rss_tree_kb_after": rss_after,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"{args.clients} clients x {args.seconds:g} s per phase, {args.workers} workers")
    print("phase                requests  unexpected  good p50 ms  good p99 ms  per kind (requests/unexpected)")
    phases = (("no runaways", without), ("2 repeated runaways", with_runaways), ("2 unique runaways", with_unique))
    for name, data in phases:
        kinds = ", ".join(f"{k} {v['requests']}/{v['unexpected']}" for k, v in data["kinds"].items())
        print(
            f"{name:<20} {data['requests']:>8}  {data['unexpected']:>10}  {data['good_p50_ms']:>11}  "
            f"{data['good_p99_ms']:>11}  {kinds}"
        )
    print(f"RSS of the server process tree: {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
