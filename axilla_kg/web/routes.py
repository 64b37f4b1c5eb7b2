"""The lookup pages (Starlette routes, Jinja2 templates with autoescaping).

Every value a page shows goes through Jinja2's HTML escaping; path parameters are checked
against the graph (topic keys, variant numbers) before anything is looked up, and form values
go through the case contract or are bound as query parameters by the named queries. Each page
carries its own strict Content-Security-Policy (no script at all, styles and images from this
server only), so the pages are equally strict wherever the routes are mounted.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from axilla_kg.cdshooks.feedback import FeedbackStore, summarise
from axilla_kg.contract.cases import CaseError, parse_case
from axilla_kg.contract.fields import CaseField
from axilla_kg.errors import AxillaKGError
from axilla_kg.recommend.dose import dose_report
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.vocab import by_category_text
from axilla_kg.web import convertors  # noqa: F401  (registers {number:variant_number})
from axilla_kg.web.forms import form_fields, read_form
from axilla_kg.web.present import group_related
from axilla_kg.web.search import Results, SearchError, SearchIndex
from axilla_kg.web.workflow import DiagramError, render_svg, workflow_dot

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
#: the style of a category, keyed by the category individual (its text is terminology.ttl's)
CATEGORY_CLASS = by_category_text(
    {
        "ax:UsuallyAppropriate": "cat-ua",
        "ax:MayBeAppropriate": "cat-mba",
        "ax:MayBeAppropriateDisagreement": "cat-mba",
        "ax:UsuallyNotAppropriate": "cat-una",
    }
)
_URL = re.compile(r"https?://[^\s()<>\"']+")
DOSE_SLOTS = 4
MAX_DOSE_STUDIES = 20


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined, auto_reload=False
    )
    env.filters["category_class"] = lambda c: CATEGORY_CLASS.get(c or "", "cat-none")
    env.filters["urls"] = lambda text: _URL.findall(str(text or ""))
    env.filters["evidence"] = evidence_links
    return env


def evidence_links(source: object) -> list[tuple[str, str]]:
    """The links of a rating's source text, the ACR evidence first: the ACR appendix (the
    evidence table), then the ACR narrative, then any other public source, each URL once."""
    found = list(dict.fromkeys(_URL.findall(str(source or ""))))

    def kind(url: str) -> tuple[int, str]:
        if "acsearch.acr.org" in url and "GetAppendix" in url:
            return 0, "ACR appendix"
        if "acr.org" in url:
            return 1, "ACR narrative"
        return 2, urllib.parse.urlsplit(url).hostname or "source"

    ranked = sorted(found, key=lambda u: kind(u)[0])
    return [(kind(u)[1], u) for u in ranked]


class Pages:
    """The page handlers over one :class:`Lookup` (and the CDS Hooks feedback store, when given)."""

    def __init__(self, lookup: Lookup, feedback: FeedbackStore | None = None) -> None:
        self.lookup = lookup
        self.feedback = feedback
        self.env = _environment()
        self.fields = form_fields(lookup.recommender.feature_labels)
        self._svg: dict[tuple[str, int], bytes] = {}
        self.index = SearchIndex(lookup)
        self.doses = {name: info.get("adult_dose") for name, info in lookup.procedure_info.items()}

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = self.env.get_template(name).render(**context)
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def not_found(self, message: str) -> HTMLResponse:
        return self.render("error.html", 404, title="Not found", message=message)

    def _topic(self, request: Request) -> str | None:
        topic = str(request.path_params["topic"])
        return topic if topic in self.lookup.variants else None

    def _ordered_topics(self) -> list[dict[str, Any]]:
        by_key = {str(t["topic"]): t for t in self.lookup.topics}
        return [by_key[k] for k in self.lookup.topic_order()]

    # --- pages ----------------------------------------------------------------------------------
    def home(self, request: Request) -> Response:
        return self.render("home.html", title="Lookup", topics=self._ordered_topics())

    def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        results: Results | None = None
        error, status = None, 200
        try:
            results = self.index.search(query) if query.strip() else None
        except SearchError as exc:
            error, status, query = str(exc), 400, query[:200]
        return self.render("search.html", status, title="Search", query=query, results=results, error=error)

    def topics(self, request: Request) -> Response:
        return self.render("topics.html", title="Topics", topics=self._ordered_topics(), variants=self.lookup.variants)

    def topic(self, request: Request) -> Response:
        topic = self._topic(request)
        if topic is None:
            return self.not_found("No topic with that key is in the graph.")
        head = next(t for t in self.lookup.topics if str(t["topic"]) == topic)
        return self.render(
            "topic.html", title=f"Topic {topic}", topic=head, key=topic, variants=self.lookup.variants[topic]
        )

    def variant(self, request: Request) -> Response:
        topic = self._topic(request)
        number = int(request.path_params["number"])
        if topic is None or not self.lookup.has_variant(topic, number):
            return self.not_found("No such variant in the graph.")
        s = self.lookup.summary(topic, number)
        related = group_related(s["related_variants"])
        return self.render(
            "variant.html", title=f"Topic {topic}, variant {number}", s=s, doses=self.doses, key=topic, related=related
        )

    def workflow_svg(self, request: Request) -> Response:
        topic = self._topic(request)
        number = int(request.path_params["number"])
        if topic is None or not self.lookup.has_variant(topic, number):
            return Response("no such variant", 404, media_type="text/plain", headers=SECURITY_HEADERS)
        key = (topic, number)
        svg = self._svg.get(key)
        if svg is None:
            workflow = self.lookup.summary(topic, number)["workflow"]
            if not workflow:
                return Response("no workflow", 404, media_type="text/plain", headers=SECURITY_HEADERS)
            try:
                svg = render_svg(workflow_dot(workflow))
            except DiagramError as exc:
                return Response(str(exc), 503, media_type="text/plain", headers=SECURITY_HEADERS)
            self._svg[key] = svg
        return Response(svg, media_type="image/svg+xml", headers={**SECURITY_HEADERS, "Cache-Control": "max-age=3600"})

    def case(self, request: Request) -> Response:
        """The case page: the answer first (decided studies, then the one next question as a single
        control that carries the given facts as hidden fields), the matches below, the full form
        folded. The case comes as query parameters named by the contract fields, plus an optional
        ``procedure`` (an ordered study, e.g. from a CDS card), so any link can open it pre-filled."""
        values = {f.name: request.query_params.get(f.name, "") for f in self.fields}
        ordered = request.query_params.get("procedure", "").strip()
        submitted = any(values.values())
        result: dict[str, Any] | None = None
        error: CaseError | None = None
        status = 200
        try:
            if ordered and ordered not in self.lookup.procedure_info:
                raise CaseError("procedure", f"'{ordered[:100]}' is not a procedure in the graph")
            if submitted:
                case = parse_case(read_form(self.fields, values))
                # reads caches only (Lookup.warm); an ordered study focuses the next question on it
                result = self.lookup.recommender.recommend(case, procedure=ordered or None)
        except CaseError as exc:
            error, status, result = exc, 400, None
        labels = {f.name: f.label for f in self.fields}
        by_name = {f.name: f for f in self.fields}
        decided: list[dict[str, Any]] = list((result or {}).get("decided") or [])
        question = (result or {}).get("next_question")
        if question is not None and question.get("field") not in by_name:
            question = None  # a field this form does not know cannot be asked here
        return self.render(
            "case.html",
            status,
            title="Patient case",
            fields=self.fields,
            values=values,
            given=[(f.name, text, _shown(f, text)) for f in self.fields if (text := values[f.name].strip())],
            ordered=ordered if error is None or error.field != "procedure" else "",
            ordered_answer=next((d for d in decided if d["procedure"] == ordered), None),
            result=result,
            decided=decided,
            has_decided=result is not None and "decided" in result,
            question=question,
            question_field=by_name[question["field"]] if question else None,
            error=error,
            labels={**labels, "procedure": "ordered procedure"},
            doses=self.doses,
        )

    def feedback_report(self, request: Request) -> Response:
        """Overrides per variant and procedure, from the store the CDS Hooks feedback route writes."""
        rows = summarise(self.feedback.rows()) if self.feedback is not None else []
        for row in rows:
            topic, _, number = str(row["variant"]).partition("/")
            known = number.isdigit() and topic in self.lookup.variants and self.lookup.has_variant(topic, int(number))
            row.update(topic=topic, number=number, link=f"/topics/{topic}/variants/{number}" if known else None)
        return self.render("feedback.html", title="Feedback report", rows=rows)

    def dose(self, request: Request) -> Response:
        chosen = [p for p in request.query_params.getlist("procedure") if p][:MAX_DOSE_STUDIES]
        age_text = request.query_params.get("age", "").strip()
        report, error, status = None, None, 200
        if chosen:
            try:
                if age_text and not re.fullmatch(r"[0-9]{1,3}", age_text):
                    raise AxillaKGError(f"age: expected whole years as digits, got '{age_text[:20]}'")
                unknown = [p for p in chosen if p not in self.lookup.procedure_info]
                if unknown:
                    raise AxillaKGError(f"procedure: '{unknown[0][:100]}' is not a procedure in the graph")
                with self.lookup.lock:  # a named query on the shared engine
                    report = dose_report(self.lookup.kg, chosen, int(age_text) if age_text else None).as_dict()
            except AxillaKGError as exc:
                error, status = str(exc), 400
        slots = [*chosen, *[""] * max(DOSE_SLOTS - len(chosen), 1)]
        return self.render(
            "dose.html",
            status,
            title="Radiation dose",
            procedures=self.lookup.procedures,
            slots=slots,
            age=age_text,
            report=report,
            error=error,
        )


def _shown(f: CaseField, text: str) -> str:
    """A given value as the page writes it: yes/no for booleans, words for enum values."""
    text = text.strip()
    if f.kind == "boolean":
        return {"true": "yes", "false": "no"}.get(text, text)
    if f.kind == "decimal" and f.unit:
        return f"{text} {f.unit}"
    return text.replace("_", " ")


def routes(lookup: Lookup, feedback: FeedbackStore | None = None) -> list[BaseRoute]:
    """The lookup pages: ``/`` (the lookup home), ``/search``, ``/topics``, ``/topics/{topic}``,
    variant pages and their workflow diagrams, ``/case`` (the patient case) and ``/dose`` (the dose
    calculator) and ``/feedback`` (the CDS cards' override report, read from ``feedback``, the store
    the CDS Hooks feedback route writes). Call after ``lookup.warm()``: the search index is built
    from its caches."""
    pages = Pages(lookup, feedback)
    return [
        Route("/", pages.home),
        Route("/search", pages.search),
        Route("/topics", pages.topics),
        Route("/topics/{topic}", pages.topic),
        Route("/topics/{topic}/variants/{number:variant_number}", pages.variant),
        Route("/topics/{topic}/variants/{number:variant_number}/workflow.svg", pages.workflow_svg),
        Route("/case", pages.case),
        Route("/dose", pages.dose),
        Route("/feedback", pages.feedback_report),
        Route("/lookup", lambda request: RedirectResponse("/")),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
