"""Bounded loopback load against the front door: CDS Hooks latency and the lookup pages' time.

Starts ``python -m axilla_kg.web --port 0`` (a real uvicorn process), then:

* CDS Hooks ``order-sign`` with the seed patient ordering FDG-PET/CT (the full path: JSON parse,
  FHIR validation of every resource, case derivation, recommend, cards, PAMA system actions), for
  1 and 16 concurrent clients (threads of this process, one keep-alive connection each), a fixed
  number of requests per client after a warm-up; p50/p99/max latency and throughput;
* each lookup page (topics, a variant page, its workflow SVG, the seed case form, the dose
  calculator) at 1 client: median and p99 time from request to last byte over loopback, which
  is the server's time plus a loopback round trip.

An answer other than HTTP 200 (with the expected shape) counts as an error. Prints a table and
writes the figures to benchmarks/results/frontdoor-latest.json (or --json PATH). Asserts nothing
about speed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SEED_REQUEST = REPO / "docs" / "cds-hooks-seed-request.json"
PAGES = {
    "topics": "/topics",
    "variant page": "/topics/286/variants/4",
    "workflow svg": "/topics/286/variants/4/workflow.svg",
    "case form (seed)": "/case?sex=female&age=52&breast_cancer=new&tumor_size_cm=1.5&clinical_nodes=positive"
    "&diagnostic_breast_imaging_done=true",
    "dose calculator": "/dose?procedure=US+axilla&procedure=Mammography+diagnostic",
}


def start() -> tuple[subprocess.Popen[str], str, int]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "axilla_kg.web", "--port", "0"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    match = re.search(r"http://(127\.0\.0\.1):(\d+)/topics", process.stdout.readline())
    if not match:
        process.kill()
        raise SystemExit("the front door did not start")
    return process, match.group(1), int(match.group(2))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def hook_client(host: str, port: int, body: bytes, count: int, out: list[float], errors: list[str]) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    for _ in range(count):
        started = time.perf_counter()
        conn.request("POST", "/cds-services/axilla-imaging-order-sign", body, headers)
        response = conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200 or b"not-appropriate" not in payload:
            errors.append(f"{response.status}")
        out.append(elapsed)
    conn.close()


def run_hooks(host: str, port: int, clients: int, per_client: int) -> dict[str, Any]:
    body = SEED_REQUEST.read_bytes()
    hook_client(host, port, body, 20, [], [])  # warm-up
    latencies: list[float] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=hook_client, args=(host, port, body, per_client, latencies, errors))
        for _ in range(clients)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * percentile(latencies, 0.5), 2),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
        "max_ms": round(1000 * max(latencies), 2),
        "errors": len(errors),
    }


def run_pages(host: str, port: int, count: int) -> list[dict[str, Any]]:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    rows = []
    for name, path in PAGES.items():
        times: list[float] = []
        errors = 0
        for i in range(count + 5):
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if i >= 5:  # the first requests warm caches (e.g. the diagram is drawn once)
                times.append(time.perf_counter() - started)
                errors += response.status != 200
        rows.append(
            {
                "page": name,
                "requests": count,
                "median_ms": round(1000 * percentile(times, 0.5), 2),
                "p99_ms": round(1000 * percentile(times, 0.99), 2),
                "errors": errors,
            }
        )
    conn.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1600, help="CDS Hooks requests per run (split over clients)")
    parser.add_argument("--page-requests", type=int, default=200, help="requests per lookup page")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "frontdoor-latest.json")
    args = parser.parse_args()
    process, host, port = start()
    try:
        hooks = [run_hooks(host, port, c, max(1, args.requests // c)) for c in (1, 16)]
        pages = run_pages(host, port, args.page_requests)
    finally:
        process.terminate()
        process.wait(timeout=10)
    print("CDS Hooks order-sign, seed patient ordering FDG-PET/CT")
    print(f"{'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
    for h in hooks:
        print(
            f"{h['clients']:>7} {h['requests']:>8} {h['per_second']:>8} {h['p50_ms']:>8} {h['p99_ms']:>8} "
            f"{h['max_ms']:>8} {h['errors']:>6}"
        )
    print("\nLookup pages, 1 client (request to last byte over loopback)")
    print(f"{'page':<18} {'median ms':>9} {'p99 ms':>8} {'errors':>6}")
    for p in pages:
        print(f"{p['page']:<18} {p['median_ms']:>9} {p['p99_ms']:>8} {p['errors']:>6}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "cds_hooks": hooks,
        "pages": pages,
    }
    args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
