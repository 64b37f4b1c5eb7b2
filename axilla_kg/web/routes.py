"""The lookup pages (Starlette routes, Jinja2 templates with autoescaping).

Every value a page shows goes through Jinja2's HTML escaping; path parameters are checked
against the graph (topic keys, variant numbers) before anything is looked up, and form values
go through the case contract or are bound as query parameters by the named queries. Each page
carries its own strict Content-Security-Policy (no script at all, styles and images from this
server only), so the pages are equally strict wherever the routes are mounted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from axilla_kg.contract.cases import CaseError, parse_case
from axilla_kg.errors import AxillaKGError
from axilla_kg.recommend.dose import dose_report
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.web import convertors  # noqa: F401  (registers {number:variant_number})
from axilla_kg.web.forms import form_fields, read_form
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
CATEGORY_CLASS = {
    "Usually Appropriate": "cat-ua",
    "May Be Appropriate": "cat-mba",
    "May Be Appropriate (Disagreement)": "cat-mba",
    "Usually Not Appropriate": "cat-una",
}
_URL = re.compile(r"https?://[^\s()<>\"']+")
DOSE_SLOTS = 4
MAX_DOSE_STUDIES = 20


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined, auto_reload=False
    )
    env.filters["category_class"] = lambda c: CATEGORY_CLASS.get(c or "", "cat-none")
    env.filters["urls"] = lambda text: _URL.findall(str(text or ""))
    return env


class Pages:
    """The page handlers over one :class:`Lookup`."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self.env = _environment()
        self.fields = form_fields(lookup.recommender.feature_labels)
        self._svg: dict[tuple[str, int], bytes] = {}

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = self.env.get_template(name).render(**context)
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def not_found(self, message: str) -> HTMLResponse:
        return self.render("error.html", 404, title="Not found", message=message)

    def _topic(self, request: Request) -> str | None:
        topic = str(request.path_params["topic"])
        return topic if topic in self.lookup.variants else None

    # --- pages ----------------------------------------------------------------------------------
    def topics(self, request: Request) -> Response:
        order = self.lookup.topic_order()
        by_key = {str(t["topic"]): t for t in self.lookup.topics}
        return self.render(
            "topics.html", title="Topics", topics=[by_key[k] for k in order], variants=self.lookup.variants
        )

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
        doses = {name: info.get("adult_dose") for name, info in self.lookup.procedure_info.items()}
        return self.render("variant.html", title=f"Topic {topic}, variant {number}", s=s, doses=doses, key=topic)

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
        values = {f.name: request.query_params.get(f.name, "") for f in self.fields}
        submitted = any(values.values())
        result, error, status = None, None, 200
        if submitted:
            try:
                case = parse_case(read_form(self.fields, values))
                result = self.lookup.recommender.recommend(case)  # reads caches only (Lookup.warm)
            except CaseError as exc:
                error, status = exc, 400
        labels = {f.name: f.label for f in self.fields}
        return self.render(
            "case.html",
            status,
            title="Patient case",
            fields=self.fields,
            values=values,
            result=result,
            error=error,
            labels=labels,
        )

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


def routes(lookup: Lookup) -> list[BaseRoute]:
    """The lookup pages: ``/topics``, ``/topics/{topic}``, variant pages and their workflow
    diagrams, ``/case`` (the patient-case form) and ``/dose`` (the dose calculator)."""
    pages = Pages(lookup)
    return [
        Route("/topics", pages.topics),
        Route("/topics/{topic}", pages.topic),
        Route("/topics/{topic}/variants/{number:variant_number}", pages.variant),
        Route("/topics/{topic}/variants/{number:variant_number}/workflow.svg", pages.workflow_svg),
        Route("/case", pages.case),
        Route("/dose", pages.dose),
        Route("/lookup", lambda request: RedirectResponse("/topics")),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
