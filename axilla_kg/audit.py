"""``audit``: where a department's axillary imaging orders fall in the criteria.

Each CSV row is a patient case (columns named as the case contract's fields; an empty cell is
"not known") plus the ordered ``procedure`` (exact ACR name) and optionally an ``order_id``.
When several variants match, topic 286's rating decides, then other topics', and a variant
with criteria the case fields cannot express (e.g. "clinical suspicion of metastatic disease")
only when nothing else rates the procedure; disagreeing ratings are named in the message.
Every order gets one verdict — appropriate, may be appropriate, not appropriate, no criteria
apply (no variant matches), not rated in our data (a variant matches but our table has no rating
for the procedure), or invalid (the row breaks the contract; the message names line and field).
A bad row is reported in place and does not stop the review of the others.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axilla_kg.cases import FIELDS, CaseError, parse_case
from axilla_kg.errors import DataError
from axilla_kg.inputs.csvfile import read_table
from axilla_kg.inputs.numbers import NumberSyntaxError, parse_decimal, parse_whole
from axilla_kg.output import records_table, text_table
from axilla_kg.recommend import PRIMARY_TOPIC, Recommender, _topic_order

VERDICTS = (
    "appropriate",
    "may be appropriate",
    "not appropriate",
    "no criteria apply",
    "not rated in our data",
    "invalid",
)
_BY_CATEGORY = {
    "Usually Appropriate": "appropriate",
    "May Be Appropriate": "may be appropriate",
    "May Be Appropriate (Disagreement)": "may be appropriate",
    "Usually Not Appropriate": "not appropriate",
}
ORDER_COLUMNS = ["line", "order_id", "procedure", "verdict", "variants", "acr_category", "rrl", "message"]


@dataclass
class AuditReport:
    orders: list[dict[str, Any]] = field(default_factory=list)

    def by_verdict(self) -> list[dict[str, Any]]:
        counts = Counter(o["verdict"] for o in self.orders)
        total = len(self.orders) or 1
        return [{"verdict": v, "orders": counts[v], "share": round(counts[v] / total, 4)} for v in VERDICTS]

    def by_procedure(self) -> list[dict[str, Any]]:
        procedures = sorted({o["procedure"] for o in self.orders})
        rows = []
        for name in procedures:
            mine = [o for o in self.orders if o["procedure"] == name]
            counts = Counter(o["verdict"] for o in mine)
            rows.append({"procedure": name, "orders": len(mine), **{v: counts[v] for v in VERDICTS}})
        return rows


def _cell_value(name: str, text: str) -> Any:
    if name in ("age", "tumor_size_cm"):
        try:
            return parse_whole(text) if name == "age" else parse_decimal(text)
        except NumberSyntaxError as exc:
            raise CaseError(name, f"expected {exc}") from None
    if name == "diagnostic_breast_imaging_done":
        if text.lower() not in ("true", "false"):
            raise CaseError(name, f"expected true or false, got '{text}'")
        return text.lower() == "true"
    return text


def audit_orders(recommender: Recommender, path: Path) -> AuditReport:
    """Read and judge every order; an unreadable file or a header without ``procedure`` is an
    error for the whole run, a bad row only for that row."""
    table = read_table(path)  # strict UTF-8 (BOM accepted), size cap, distinct column names
    header = table.header
    if "procedure" not in header:
        raise DataError(f"{path}:1: the header needs a 'procedure' column (and case-field columns)")
    unknown = [h for h in header if h not in FIELDS and h not in ("procedure", "order_id")]
    if unknown:
        close = difflib.get_close_matches(unknown[0], FIELDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise DataError(f"{path}:1: unknown column '{unknown[0]}'{hint}")
    procedures = _procedure_names(recommender)
    report = AuditReport()
    for row in table.rows:
        report.orders.append(_judge(recommender, procedures, path, row.line, row.cells, row.extra))
    return report


def _procedure_names(recommender: Recommender) -> list[str]:
    rows = recommender.kg.sparql(
        "PREFIX ax: <https://w3id.org/axilla-kg/vocab#> SELECT ?name WHERE { ?p ax:procedureName ?name }"
    ).rows
    return sorted(str(r[0]) for r in rows)


def _judge(
    recommender: Recommender, procedures: list[str], path: Path, line: int, row: dict[str, str], extra: int = 0
) -> dict[str, Any]:
    procedure = (row.get("procedure") or "").strip()
    order: dict[str, Any] = {
        "line": line,
        "order_id": (row.get("order_id") or "").strip() or None,
        "procedure": procedure,
        "verdict": "invalid",
        "variants": [],
        "acr_category": None,
        "rrl": None,
        "message": None,
    }
    try:
        if extra:  # more cells than header columns
            raise CaseError("", "more cells than the header has columns")
        data = {k: _cell_value(k, v.strip()) for k, v in row.items() if k in FIELDS and v is not None and v.strip()}
        case = parse_case(data)
        if procedure not in procedures:
            close = difflib.get_close_matches(procedure, procedures, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise CaseError("procedure", f"'{procedure}' is not an ACR procedure name in the graph{hint}")
    except CaseError as exc:
        order["message"] = f"{path.name}:{line}: {exc}"
        return order
    matches = recommender.recommend(case)["matches"]
    if not matches:
        order["verdict"] = "no criteria apply"
        return order
    # Which rating decides: topic 286 (this tool's topic) first, then other topics, and variants
    # with criteria the case cannot express (``also_requires``) only when nothing else rates it.
    found: list[tuple[int, int, str, dict[str, Any]]] = []
    for m in sorted(matches, key=lambda m: (_topic_order(m["topic"]), m["variant"])):
        name = f"{m['topic']} V{m['variant']}"
        order["variants"].append(name)
        tier = 2 if m["also_requires"] else (0 if m["topic"] == PRIMARY_TOPIC else 1)
        for rating in m["ratings"]:
            verdict = _BY_CATEGORY.get(rating["category"] or "")
            if rating["procedure"] == procedure and verdict is not None:
                found.append((tier, VERDICTS.index(verdict), name, rating))
    if not found:
        order["verdict"] = "not rated in our data"
        return order
    tier, rank, name, rating = min(found, key=lambda f: (f[0], f[1]))
    order["verdict"] = VERDICTS[rank]
    order["acr_category"] = rating["category"]
    order["rrl"] = rating["rrl"]
    others = sorted({f"{f[3]['category']} in {f[2]}" for f in found if f[2] != name and f[1] != rank})
    order["message"] = f"rated in {name}" + (f"; differs: {', '.join(others)}" if others else "")
    return order


def render_audit(report: AuditReport, fmt: str) -> str:
    orders = [{**o, "variants": " ".join(o["variants"])} for o in report.orders]
    if fmt in ("csv", "tsv"):
        return records_table(orders, ORDER_COLUMNS, fmt)
    if fmt == "json":
        body = {
            "orders": report.orders,
            "summary": {"by_verdict": report.by_verdict(), "by_procedure": report.by_procedure()},
        }
        return json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    text = "Orders\n" + text_table(ORDER_COLUMNS, [[o[c] for c in ORDER_COLUMNS] for o in orders]) + "\n"
    summary = [[r["verdict"], r["orders"], f"{100 * r['share']:.1f}%"] for r in report.by_verdict()]
    text += "\nSummary by verdict\n" + text_table(["verdict", "orders", "share"], summary) + "\n"
    columns = ["procedure", "orders", *VERDICTS]
    rows = [[r[c] for c in columns] for r in report.by_procedure()]
    text += "\nSummary by procedure\n" + text_table(columns, rows) + "\n"
    return text
