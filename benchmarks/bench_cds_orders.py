"""What reading orders as EHRs send them and checking the caller's JWT cost, next to a whole CDS call.

In one process, on the service's pure request -> cards function (``HookService.answer``, what a pool
worker runs) with the seed patient's request:

* the seed PET/CT order named three ways — the exact ACR name, CPT 78815, the catalogue text "NM
  PET/CT SKULL BASE TO MID-THIGH" — and an ambiguous one (text "US axilla" with CPT 78815): median
  and p99 of a whole answer, and of :func:`axilla_kg.cdshooks.orders.identify` alone;
* :meth:`axilla_kg.cdshooks.trust.Trust.check` for an ES384 and an RS384 token (keys made here), the
  part that runs on the server's event loop before a call is dispatched.

Realistic input: the request is the full FHIR request the tests send (validated resources, four
prefetch keys). Prints a table and writes benchmarks/results/cds-orders-latest.json (or --json PATH).
Asserts nothing about speed. ``--repeat N`` sets the timed runs per row (default 300).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

CPT = "http://www.ama-assn.org/go/cpt"


def _time(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    for _ in range(max(3, repeat // 20)):  # warm-up
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 4),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "cds-orders-latest.json")
    args = parser.parse_args(argv)

    from fhir.resources.R4B.servicerequest import ServiceRequest
    from joserfc import jwt
    from joserfc.jwk import ECKey, KeySet, RSAKey
    from test_cdshooks import PET_CT, seed_request

    from axilla_kg.cdshooks.orders import identify
    from axilla_kg.cdshooks.request import parse_request
    from axilla_kg.cdshooks.service import HookService
    from axilla_kg.cdshooks.trust import Trust
    from axilla_kg.recommend.lookup import Lookup

    lookup = Lookup.load()
    lookup.warm()
    service = HookService(lookup, "http://127.0.0.1:1")
    orders = {
        "ACR name": {"text": PET_CT},
        "CPT 78815": {"coding": [{"system": CPT, "code": "78815"}]},
        "catalogue text": {"text": "NM PET/CT SKULL BASE TO MID-THIGH"},
        "ambiguous (text + CPT)": {"text": "US axilla", "coding": [{"system": CPT, "code": "78815"}]},
    }
    rows: list[dict[str, Any]] = []
    for label, code in orders.items():
        order = ServiceRequest(id="o1", status="draft", intent="order", code=code, subject={"reference": "Patient/p1"})
        body = json.dumps(seed_request(order)).encode()
        rows.append(
            {
                "what": f"answer, order by {label}",
                **_time(lambda b=body: service.answer(parse_request(b, "order-sign")), args.repeat),
            }
        )
        rows.append({"what": f"identify, order by {label}", **_time(lambda c=code: identify(lookup, c), args.repeat)})

    ec = ECKey.generate_key("P-384", parameters={"kid": "ec"})
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa"})
    keys = KeySet.import_key_set({"keys": [ec.as_dict(private=False), rsa.as_dict(private=False)]})
    trust = Trust({"ehr": keys}, "https://cds.example.org")
    path = "/cds-services/axilla-imaging-order-sign"
    for alg, key in (("ES384", ec), ("RS384", rsa)):
        tokens = iter(
            jwt.encode(
                {"alg": alg, "kid": "ec" if alg == "ES384" else "rsa"},
                {
                    "iss": "ehr",
                    "aud": f"https://cds.example.org{path}",
                    "exp": int(time.time()) + 600,
                    "iat": int(time.time()),
                    "jti": str(uuid.uuid4()),
                },
                key,
                algorithms=["ES384", "RS384"],
            )
            for _ in range(args.repeat * 2)
        )
        rows.append(
            {
                "what": f"JWT check {alg}",
                **_time(lambda t=tokens: trust.check("Bearer " + next(t), (path,)), args.repeat),
            }
        )

    load = os.getloadavg()
    width = max(len(r["what"]) for r in rows)
    print(f"{'what':<{width}}  p50 ms   p99 ms")
    for r in rows:
        print(f"{r['what']:<{width}}  {r['p50_ms']:>7.3f}  {r['p99_ms']:>7.3f}")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.repeat} runs per row")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "load_average": load,
                "repeat": args.repeat,
                "rows": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
