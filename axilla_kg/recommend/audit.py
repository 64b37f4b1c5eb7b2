"""``audit``: where a department's axillary imaging orders fall in the criteria.

Each CSV row is a patient case (columns named as the case contract's fields; an empty cell is
"not known") plus the ordered ``procedure`` (exact ACR name) and optionally an ``order_id``.
The verdict is that of a careful reviewer, never the most lenient rating:

* appropriate / may be appropriate / not appropriate: every matching variant that rates the
  procedure puts it in that category band;
* conflicting criteria: matching variants rate it in different bands (every rating is named);
* needs more information: no match rates it but a candidate does (the fields that would decide);
* no criteria apply (nothing matches), not rated in our data (matches, none rates it), or invalid
  (the row breaks the contract; the message names line and field).

A bad row is reported in place and does not stop the review of the others.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axilla_kg.contract.cases import CaseError
from axilla_kg.contract.features import Feature
from axilla_kg.errors import DataError
from axilla_kg.formats.output import records_table, text_table
from axilla_kg.inputs.csvfile import read_table
from axilla_kg.inputs.numbers import NumberSyntaxError, parse_decimal, parse_whole
from axilla_kg.recommend.recommender import Recommender, topic_order

#: confidence levels that are not a plain ACR answer
LOW_CONFIDENCE = frozenset({"low"})
#: appended to a verdict that rests only on low-confidence rows
LOW_ONLY = "(low confidence only)"
VERDICTS = (
    "appropriate",
    f"appropriate {LOW_ONLY}",
    "may be appropriate",
    f"may be appropriate {LOW_ONLY}",
    "not appropriate",
    f"not appropriate {LOW_ONLY}",
    "conflicting criteria",
    "needs more information",
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
ORDER_COLUMNS = ["line", "order_id", "procedure", "verdict", "variants", "acr_category", "rrl", "confidence", "message"]


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


def _cell_value(feature: Feature, text: str) -> Any:
    """A CSV cell typed as the JSON contract types the field (the registry says how)."""
    name = feature.name
    if feature.kind in ("integer", "decimal"):
        try:
            return parse_whole(text) if feature.kind == "integer" else parse_decimal(text)
        except NumberSyntaxError as exc:
            raise CaseError(name, f"expected {exc}") from None
    if feature.kind == "boolean":
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
    fields = recommender.registry.fields
    unknown = [h for h in header if h not in fields and h not in ("procedure", "order_id")]
    if unknown:
        close = difflib.get_close_matches(unknown[0], fields, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise DataError(f"{path}:1: unknown column '{unknown[0]}'{hint}")
    procedures = _procedure_names(recommender)
    report = AuditReport()
    for row in table.rows:
        report.orders.append(_judge(recommender, procedures, path, row.line, row.cells, row.extra))
    return report


def _procedure_names(recommender: Recommender) -> list[str]:
    rows = recommender.kg.sparql("SELECT ?name WHERE { ?p ax:procedureName ?name }").rows
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
        "confidence": None,
        "message": None,
    }
    features = {f.name: f for f in recommender.registry.features}
    try:
        if extra:  # more cells than header columns
            raise CaseError("", "more cells than the header has columns")
        data = {
            k: _cell_value(features[k], v.strip())
            for k, v in row.items()
            if k in features and v is not None and v.strip()
        }
        case = recommender.reader.parse(data)
        if procedure not in procedures:
            close = difflib.get_close_matches(procedure, procedures, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise CaseError("procedure", f"'{procedure}' is not an ACR procedure name in the graph{hint}")
    except CaseError as exc:
        order["message"] = f"{path.name}:{line}: {exc}"
        return order
    result = recommender.recommend(case, detail="brief", procedure=procedure)
    matches = sorted(result["matches"], key=lambda m: (topic_order(m["topic"]), m["variant"]))
    order["variants"] = [f"{m['topic']} V{m['variant']}" for m in matches]
    decided = next((d for d in result["decided"] if d["procedure"] == procedure), None)
    if decided is not None:
        return _graded(recommender, order, decided)
    rated = [
        (m, r) for m in matches for r in m["ratings"] if r["procedure"] == procedure and r["category"] in _BY_CATEGORY
    ]
    conflict = next((c for c in result["conflicts"] if c["procedure"] == procedure), None)
    question = result["next_question"]
    if conflict is not None:
        order["verdict"] = "conflicting criteria"
        _describe(order, rated)
        ratings = "; ".join(f"{r['category']} in {r['topic']} V{r['variant']}" for r in conflict["ratings"])
        lead = conflict.get("more_specific")
        if lead:
            narrow = ", ".join(f"{v['topic']} V{v['variant']}" for v in lead["variants"])
            broad = ", ".join(f"{v['topic']} V{v['variant']}" for v in lead["inside"])
            ratings = f"more specific: {narrow} ({lead['category']}; its patient class is inside {broad}'s); {ratings}"
        order["message"] = ratings
        return order
    by_number = {(v.topic, v.number): v for v in recommender.classifier.variants}
    hopeful = []
    for c in result["candidates"]:
        info = recommender.info(by_number[(c["topic"], c["variant"])])
        for r in info.payload["ratings"]:
            if r["procedure"] == procedure and r["category"] in _BY_CATEGORY:
                hopeful.append((c, r))
    if question is not None and (rated or hopeful):
        order["verdict"] = "needs more information"
        shown = [f"{r['category']} in {m['topic']} V{m['variant']}" for m, r in rated]
        shown += [f"{r['category']} in {c['topic']} V{c['variant']} (candidate)" for c, r in hopeful]
        order["message"] = f"decided by {question['field']} ({question['label']}); rated " + "; ".join(shown)
        return order
    if rated:  # the matches agree, but a variant that could still apply has no row for it in our data
        verdicts = {_BY_CATEGORY[r["category"]] for _, r in rated}
        _describe(order, rated)
        order["verdict"] = _low(recommender, verdicts.pop(), [r for _, r in rated])
        order["message"] = (
            "; ".join(f"{r['category']} in {m['topic']} V{m['variant']}" for m, r in rated)
            + "; not decided: a variant that could apply lists no rating for it in our data"
        )
        return order
    if hopeful:
        order["verdict"] = "needs more information"
        needs = recommender.registry.fields
        wanted = {f for c, _ in hopeful for f in c["needs"]}
        order["message"] = (
            "rated only by candidates: "
            + "; ".join(f"{r['category']} in {c['topic']} V{c['variant']}" for c, r in hopeful)
            + f"; give {', '.join(f for f in needs if f in wanted)}"
        )
        return order
    order["verdict"] = "no criteria apply" if not matches else "not rated in our data"
    return order


def _graded(recommender: Recommender, order: dict[str, Any], decided: dict[str, Any]) -> dict[str, Any]:
    """An order whose category the facts given already decide (every variant that could still
    apply agrees): graded from that answer even when facts are missing."""
    names = [
        f"{v['topic']} V{v['variant']}" + (" (candidate)" if v["status"] == "candidate" else "")
        for v in decided["variants"]
    ]
    order["variants"] = [f"{v['topic']} V{v['variant']}" for v in decided["variants"]]
    order["acr_category"] = decided["category"]
    order["rrl"] = decided["rrl"]
    order["confidence"] = decided["confidence"]
    rows = _rows_for(recommender, decided)
    order["verdict"] = _low(recommender, _BY_CATEGORY.get(decided["category"], "not rated in our data"), rows)
    order["confidence"] = ", ".join(sorted({r["confidence"] for r in rows if r["confidence"]}))
    order["message"] = f"decided: {decided['category']} in " + "; ".join(names)
    return order


def _rows_for(recommender: Recommender, decided: dict[str, Any]) -> list[dict[str, Any]]:
    """The rating rows a decided answer rests on."""
    by_number = {(v.topic, v.number): v for v in recommender.classifier.variants}
    rows = []
    for v in decided["variants"]:
        for r in recommender.info(by_number[(v["topic"], v["variant"])]).payload["ratings"]:
            if r["procedure"] == decided["procedure"]:
                rows.append(r)
    return rows


def _low(recommender: Recommender, verdict: str, rows: list[dict[str, Any]]) -> str:
    """A verdict resting only on low-confidence rows says so in the verdict itself."""
    if rows and all(r.get("confidence") in LOW_CONFIDENCE for r in rows):
        return f"{verdict} {LOW_ONLY}"
    return verdict


def _describe(order: dict[str, Any], rated: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    if not rated:
        return
    order["acr_category"] = "; ".join(sorted({r["category"] for _, r in rated}, key=_category_order))
    order["rrl"] = rated[0][1]["rrl"]
    order["confidence"] = ", ".join(sorted({r["confidence"] for _, r in rated if r["confidence"]}))


def _category_order(category: str) -> int:
    return list(_BY_CATEGORY).index(category)


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
