"""Running one CDS Hooks call: the CPU-heavy part, in a worker process, under caps.

Why here and not in the route: parsing the body, validating every FHIR resource, deriving the
case, classifying and building the cards take from milliseconds to seconds of CPU, and the route
runs on the server's event loop, which every other route shares. :func:`answer_call` is the whole
of that work as one function of plain values (the hook and the body bytes) returning plain values
(a status and the JSON bytes), so :class:`axilla_kg.server.offload.OffLoop` can run it in a worker
process with a deadline. Each worker builds its own :class:`HookService` once (:func:`start`).

The caps, so that neither a request nor its answer can grow without bound: a request names at
most ``MAX_DRAFT_ORDERS`` draft orders and ``MAX_PREFETCH_ENTRIES`` resources per prefetched
Bundle (checked before any resource is validated, in :mod:`axilla_kg.cdshooks.request`), and an
answer over ``MAX_ANSWER_BYTES`` is replaced by a 413 that says so.
"""

from __future__ import annotations

from typing import Any

import simplejson

from axilla_kg.cdshooks.request import BadRequest, parse_request
from axilla_kg.cdshooks.service import HookService

#: Bytes of one JSON answer (a card per draft order, a few kB each).
MAX_ANSWER_BYTES = 2 * 1024 * 1024

_service: HookService | None = None


def start(base_url: str) -> None:
    """Worker initializer: load the knowledge graph and the service once per process."""
    global _service
    from axilla_kg.recommend.lookup import Lookup

    lookup = Lookup.load()
    lookup.warm()
    _service = HookService(lookup, base_url)


def use(service: HookService) -> None:
    """Run calls with this service in the current process (no worker pool)."""
    global _service
    _service = service


def encode(body: object) -> bytes:
    """JSON with FHIR decimals written exactly as received (simplejson writes ``Decimal`` as a
    number without a detour through float), so an echoed ServiceRequest keeps e.g. ``1.50``."""
    text = simplejson.dumps(body, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


#: What an answer issued, for the feedback store in the server's process: the hook instance and, per
#: card, its uuid and what it rates (``{"uuid", "extension"}``); None when no card was issued.
Issued = tuple[str, list[dict[str, Any]]] | None


def answer_call(hook: str, body: bytes) -> tuple[int, bytes, Issued]:
    """The status and JSON body of one call to the service for ``hook``, and the cards it issued;
    never raises for bad input."""
    if _service is None:  # pragma: no cover - start() or use() runs first
        raise RuntimeError("the CDS Hooks service is not loaded in this process")
    try:
        parsed = parse_request(body, hook)
    except BadRequest as exc:
        return 400, encode({"error": str(exc), "element": exc.element}), None
    answered = _service.answer(parsed)
    answer = encode(answered)
    if len(answer) > MAX_ANSWER_BYTES:
        message = f"the answer would be {len(answer)} bytes, over the limit of {MAX_ANSWER_BYTES}: send fewer orders"
        return 413, encode({"error": message, "element": "context.draftOrders"}), None
    cards = [{"uuid": c["uuid"], "extension": c.get("extension")} for c in answered["cards"]]
    return 200, answer, (parsed.hook_instance, cards)
