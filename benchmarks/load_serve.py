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
before and after.

CDS Hooks phases (issues 19 and 20), against the same server: ``ehr-1`` and ``ehr-16`` run 1 and
16 EHR clients sending the seed patient's ``order-sign`` call (the whole path: strict JSON, FHIR
validation, case, recommendation, cards) and report p50/p99 and their ratio (the calls run in a
pool of worker processes, so 16 clients use every core); ``cds-good`` runs 12 EHR clients alone
and ``cds-hostile`` the same 12 beside 4 hostile clients, each repeating one of: a half-sent body (held
until the server's 408), a 1,000-Condition prefetch (accepted, the most FHIR validation one call
may ask for), a 12,000-Condition prefetch (413), and 40 kB of nested brackets and escaped quotes
(the once-quadratic JSON, 400); the good clients' p99 with hostile ones over their p99 alone is
the figure (target at most 3).

Usage: ``python benchmarks/load_serve.py [--seconds 30] [--clients 16] [--only sparql|cds]``;
figures go to stdout and to benchmarks/results/load-serve-latest.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import multiprocessing.queues
import os
import platform
import random
import re
import socket
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


SEED_REQUEST = REPO / "docs" / "cds-hooks-seed-request.json"
SIGN = "/cds-services/axilla-imaging-order-sign"


def cds_bodies() -> dict[str, tuple[bytes, set[int]]]:
    """The CDS Hooks calls of each client kind, with the statuses each must get."""
    seed = json.loads(SEED_REQUEST.read_text(encoding="utf-8"))

    def with_conditions(n: int) -> bytes:
        request = json.loads(json.dumps(seed))
        entry = seed["prefetch"]["conditions"]["entry"][0]
        request["prefetch"]["conditions"]["entry"] = [entry] * n
        return json.dumps(request, separators=(",", ":")).encode()

    return {
        "ehr": (json.dumps(seed).encode(), {200}),
        "prefetch-1000": (with_conditions(1000), {200}),
        # refused on its Content-Length before the body is read; a client still sending may see the
        # connection reset instead of the 413 (status 0)
        "prefetch-12000": (with_conditions(12_000), {413, 0}),
        "quadratic-json": (("[" * 70 + '\\"' * 20_000).encode(), {400}),
        "half-sent": (json.dumps(seed).encode(), {408}),
    }


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
                if self.conn is not None:
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


class CdsClient(threading.Thread):
    """One EHR (``ehr``) or hostile CDS Hooks client; hostile client ``n`` sends hostile kind ``n % 4``
    again and again (so four hostile clients keep every kind of pressure on at once)."""

    HOSTILE = ("half-sent", "prefetch-1000", "prefetch-12000", "quadratic-json")

    def __init__(self, port: int, kind: str, stop: float, seed: int, bodies: dict[str, tuple[bytes, set[int]]]) -> None:
        super().__init__(daemon=True)
        self.port, self.kind, self.stop_at, self.bodies = port, kind, stop, bodies
        self.turn = seed
        self.results: list[tuple[str, int, bool, float]] = []
        self.conn: http.client.HTTPConnection | None = None

    def _post(self, body: bytes) -> int:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request("POST", SIGN, body=body, headers={"Content-Type": "application/json"})
                response = self.conn.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    return 0
        return 0

    def _half_sent(self, body: bytes) -> int:
        """The head and half the body, then silence until the server answers and closes."""
        answer = b""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=120) as sock:
                head = f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                sock.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body[: len(body) // 2])
                while chunk := sock.recv(65536):
                    answer += chunk
        except OSError:  # a server with no body deadline never answers: the client gives up after 120 s
            return 0
        try:
            return int(answer.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return 0

    def run(self) -> None:
        while time.monotonic() < self.stop_at:
            kind = self.kind if self.kind == "ehr" else self.HOSTILE[self.turn % len(self.HOSTILE)]
            body, expected = self.bodies[kind]
            started = time.perf_counter()
            status = self._half_sent(body) if kind == "half-sent" else self._post(body)
            self.results.append((kind, status, status in expected, time.perf_counter() - started))


def _hostile_clients(
    port: int,
    count: int,
    seconds: float,
    bodies: dict[str, tuple[bytes, set[int]]],
    results: multiprocessing.queues.Queue[list[tuple[str, int, bool, float]]],
) -> None:
    stop = time.monotonic() + seconds
    threads = [CdsClient(port, "hostile", stop, n, bodies) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 300)
    results.put([r for t in threads for r in t.results])


def cds_phase(
    port: int, good: int, hostile: int, seconds: float, bodies: dict[str, tuple[bytes, set[int]]]
) -> dict[str, Any]:
    # hostile clients run in a process of their own: building and sending their bodies must not
    # take this process's GIL from the good clients, whose latency is the figure
    results: multiprocessing.queues.Queue[list[tuple[str, int, bool, float]]] = multiprocessing.Queue()
    attackers = multiprocessing.Process(target=_hostile_clients, args=(port, hostile, seconds, bodies, results))
    if hostile:
        attackers.start()
    stop = time.monotonic() + seconds
    threads = [CdsClient(port, "ehr", stop, n, bodies) for n in range(good)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 300)
    rows = [r for t in threads for r in t.results]
    if hostile:
        rows += results.get(timeout=seconds + 300)
        attackers.join(timeout=60)
    kinds: dict[str, dict[str, Any]] = {}
    for kind in ["ehr", *CdsClient.HOSTILE]:
        mine = [r for r in rows if r[0] == kind]
        if mine:
            statuses: dict[int, int] = defaultdict(int)
            for _, status, _, _ in mine:
                statuses[status] += 1
            kinds[kind] = {
                "requests": len(mine),
                "unexpected": sum(not ok for *_, ok, _ in mine),
                "statuses": dict(statuses),
            }
    good_seconds = [s for k, _, ok, s in rows if k == "ehr" and ok]
    return {
        "good_clients": good,
        "hostile_clients": hostile,
        "requests": len(rows),
        "unexpected": sum(not ok for *_, ok, _ in rows),
        "kinds": kinds,
        "good_p50_ms": round(percentile(good_seconds, 0.50) * 1000, 1),
        "good_p99_ms": round(percentile(good_seconds, 0.99) * 1000, 1),
        "good_per_s": round(len(good_seconds) / seconds, 1),
    }


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
    parser.add_argument("--only", choices=["sparql", "cds"], help="run only these phases (default: all)")
    parser.add_argument("--server-tree", help="serve from another checkout (a before/after comparison)")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "load-serve-latest.json"))
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": args.server_tree or str(REPO)}
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
        port = int(match.group(1))
        goods = good_queries()
        rss_before = tree_rss_kb(process.pid)
        load_before = os.getloadavg()
        report: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "clients": args.clients,
            "seconds_per_phase": args.seconds,
            "workers": args.workers,
        }
        if args.only in (None, "sparql"):
            report["without_runaways"] = phase(base, args.clients, args.seconds, 0, goods)
            report["with_runaways"] = phase(base, args.clients, args.seconds, 2, goods)
            report["with_unique_runaways"] = phase(base, args.clients, args.seconds, 2, goods, unique=True)
        if args.only in (None, "cds"):
            bodies = cds_bodies()
            cds_phase(port, 2, 0, min(args.seconds, 3.0), bodies)  # warm-up: every CDS worker has answered
            report["ehr_1"] = cds_phase(port, 1, 0, args.seconds, bodies)
            report["ehr_16"] = cds_phase(port, 16, 0, args.seconds, bodies)
            report["cds_good"] = cds_phase(port, 12, 0, args.seconds, bodies)
            report["cds_hostile"] = cds_phase(port, 12, 4, args.seconds, bodies)
        rss_after = tree_rss_kb(process.pid)
        load_after = os.getloadavg()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    report["rss_tree_kb_before"] = rss_before
    report["rss_tree_kb_after"] = rss_after
    report["load_average_before"] = [round(x, 2) for x in load_before]
    report["load_average_after"] = [round(x, 2) for x in load_after]
    if "ehr_1" in report:
        report["ehr_16_over_1"] = {
            "p50": round(report["ehr_16"]["good_p50_ms"] / report["ehr_1"]["good_p50_ms"], 2),
            "p99": round(report["ehr_16"]["good_p99_ms"] / report["ehr_1"]["good_p99_ms"], 2),
        }
        report["cds_good_p99_hostile_over_alone"] = round(
            report["cds_hostile"]["good_p99_ms"] / report["cds_good"]["good_p99_ms"], 2
        )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"{args.clients} clients x {args.seconds:g} s per phase, {args.workers} workers")
    print(
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (a shared machine: other work runs too)"
    )
    if "without_runaways" in report:
        print("phase                requests  unexpected  good p50 ms  good p99 ms  per kind (requests/unexpected)")
        phases = (
            ("no runaways", report["without_runaways"]),
            ("2 repeated runaways", report["with_runaways"]),
            ("2 unique runaways", report["with_unique_runaways"]),
        )
        for name, data in phases:
            kinds = ", ".join(f"{k} {v['requests']}/{v['unexpected']}" for k, v in data["kinds"].items())
            print(
                f"{name:<20} {data['requests']:>8}  {data['unexpected']:>10}  {data['good_p50_ms']:>11}  "
                f"{data['good_p99_ms']:>11}  {kinds}"
            )
    if "ehr_1" in report:
        print(
            "CDS phase            requests  unexpected  EHR p50 ms   EHR p99 ms  EHR calls/s  per kind (req/unexpected)"
        )
        for name, key in (
            ("1 EHR client", "ehr_1"),
            ("16 EHR clients", "ehr_16"),
            ("12 EHR alone", "cds_good"),
            ("12 EHR + 4 hostile", "cds_hostile"),
        ):
            data = report[key]
            kinds = ", ".join(f"{k} {v['requests']}/{v['unexpected']}" for k, v in data["kinds"].items())
            print(
                f"{name:<20} {data['requests']:>8}  {data['unexpected']:>10}  {data['good_p50_ms']:>10}  "
                f"{data['good_p99_ms']:>11}  {data['good_per_s']:>11}  {kinds}"
            )
        ratio = report["ehr_16_over_1"]
        print(f"16 vs 1 EHR clients: p50 x{ratio['p50']}, p99 x{ratio['p99']}")
        print(f"EHR p99 beside 4 hostile clients / alone: x{report['cds_good_p99_hostile_over_alone']} (target <= 3)")
    print(f"RSS of the server process tree: {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
