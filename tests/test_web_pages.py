"""The lookup pages in a real browser (Debian's headless Chromium driven by Playwright, nothing
downloaded) and over plain HTTP, against a real uvicorn server process."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from frontdoor_helpers import fetch, front_door, post_json
from test_cdshooks import PET_CT, SIGN, seed_request

from axilla_kg.graph.knowledge import KnowledgeGraph

from conftest import require_tool

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with front_door() as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_tool(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    yield tab
    context.close()
    assert problems == []  # no CSP violation, no failed load, no script error


#: every variant with a rating row of a PET study (a procedure named PET, or of a PET modality),
#: asked of the graph directly, not through the pages' index
PET_VARIANTS = """
SELECT DISTINCT ?topic ?variant WHERE {
  ?r ax:ratedVariant ?v ; ax:ratedProcedure ?p .
  ?v ax:variantNumber ?variant ; ax:inTopic ?t .
  ?t ax:topicKey ?topic .
  ?p ax:procedureName ?name .
  OPTIONAL { ?p ax:modality ?m . ?m rdfs:label ?modality }
  FILTER(REGEX(?name, "(^|[^A-Za-z])PET") || REGEX(STR(?modality), "(^|[^A-Za-z])PET"))
}
"""


def test_home_leads_to_search_case_dose_and_the_query_page(page: Any, base: str) -> None:
    page.goto(base + "/")
    assert page.locator("h1").inner_text().startswith("Axillary imaging")
    for name in ("Patient case", "Dose calculator"):
        assert page.get_by_role("link", name=name).first.is_visible()
    page.get_by_role("link", name="SPARQL query page").click()
    page.wait_for_load_state()
    assert page.url == base + "/query"
    assert page.locator("textarea#query").count() == 1  # the query page, now on its own path
    page.goto(base + "/")
    page.get_by_role("link", name="Topic 286: Imaging of the Axilla").click()
    page.wait_for_load_state()
    assert page.url.endswith("/topics/286")


def test_searching_pet_lists_every_variant_that_rates_a_pet_study(page: Any, base: str, kg: KnowledgeGraph) -> None:
    expected = {(str(r["topic"]), int(r["variant"])) for r in kg.sparql(PET_VARIANTS).records()}
    assert len(expected) > 5  # the graph rates PET in many variants: the check is not vacuous
    page.goto(base + "/")
    page.get_by_label("Search topics, variant titles, procedures and differential diagnoses").fill("PET")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert page.url == base + "/search?q=PET"
    links = page.locator("li.variant-hit h3 a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    found = set()
    for href in links:
        _, _, topic, _, number = href.split("/")
        found.add((topic, int(number)))
    assert len(links) == len(found)  # each variant once
    assert found == expected
    first = page.locator("li.variant-hit").first
    assert first.locator("mark").first.inner_text() == "PET"
    assert first.locator(".rating-hits .cat").first.inner_text() in (
        "Usually Appropriate",
        "May Be Appropriate",
        "May Be Appropriate (Disagreement)",
        "Usually Not Appropriate",
    )


@pytest.mark.parametrize(
    ("query", "variant"),
    [
        ("lymphoma", None),  # a differential diagnosis
        ("palpable breast masses", "/topics/153"),  # a topic title
        ("bilateral axillary lump", "/topics/286/variants/2"),  # a variant title
    ],
)
def test_search_finds_differentials_topics_and_titles(base: str, query: str, variant: str | None) -> None:
    status, _, body = fetch(base + "/search?q=" + query.replace(" ", "+"))
    text = body.decode()
    assert status == 200
    if variant is None:
        assert "Differential: " in text and "<mark>" in text
    else:
        assert f'href="{variant}"' in text


def test_search_text_is_escaped_and_never_fts_syntax(base: str) -> None:
    for hostile in ('"', "NEAR(", "pet OR *", "<b>x</b>", "a:b", "^", ")"):
        status, _, body = fetch(base + "/search?q=" + urllib.parse.quote(hostile))
        assert status == 200, hostile
        assert b"<b>x</b>" not in body
    status, _, body = fetch(base + "/search?q=" + "a" * 201)
    assert status == 400 and b"q: more than 200 characters" in body


def _fill_case(page: Any, base: str, values: dict[str, str]) -> None:
    page.goto(base + "/case")
    for label, value in values.items():
        field = page.get_by_label(label, exact=True)
        if label in OPTIONAL and field.count() == 0:
            continue  # a field the contract does not have (yet)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Find the variants").click()
    page.wait_for_load_state()


SEED = {
    "sex": "female",
    "age": "52",
    "known breast cancer": "new",
    "primary tumour size": "1.5",
    "clinical nodal status": "positive",
    "diagnostic mammography or DBT done": "true",
    "neoadjuvant therapy phase": "none",
    "imaging step": "initial",
}
#: fields of the issue-10 contract (feature registry); older contracts lack them
OPTIONAL = {"imaging step"}


def test_seed_patient_shows_us_axilla_usually_appropriate_first(page: Any, base: str) -> None:
    _fill_case(page, base, SEED)
    first = page.locator("article.match").first
    assert first.locator("h3").inner_text() == "Topic 286, variant 4"
    row = first.locator("table.ratings tbody tr").first
    assert row.locator("th").inner_text() == "US axilla"
    assert row.locator("td").first.inner_text() == "Usually Appropriate"
    first.locator("h3 a").click()
    page.wait_for_load_state()
    assert page.url.endswith("/topics/286/variants/4")


#: the seed patient as the case page's URL (the form a CDS card links to): the facts of SEED
SEED_URL = (
    "/case?sex=female&age=52&breast_cancer=new&tumor_size_cm=1.5&clinical_nodes=positive"
    "&diagnostic_breast_imaging_done=true&neoadjuvant=none&imaging_step=initial"
)
#: the seed patient as a clinician types her (issue 18): 52, new cancer, 1.5 cm, node-positive,
#: diagnostic mammography done; no treatment phase, no imaging step
SEED_AS_TYPED = (
    "/case?sex=female&age=52&breast_cancer=new&tumor_size_cm=1.5&clinical_nodes=positive"
    "&diagnostic_breast_imaging_done=true"
)
#: her full truth, from the seed article (tests/cases_gold.py SEED_PATIENT): untreated, first imaging
#: of the axilla; NAC not yet planned (the article considers it after a positive node biopsy); no node
#: flagged on earlier imaging, the axilla not evaluated before, no surgery, no metastatic suspicion
SEED_TRUTH = {
    "neoadjuvant": "none",
    "imaging_step": "initial",
    "nac_planned": "false",
    "question": "axilla",
    "suspicious_node_on": "none",
    "axilla_previously_evaluated": "false",
    "surgery_done": "false",
    "metastatic_suspicion": "false",
    "axillary_lump": "unilateral",
    "node_side": "ipsilateral",
}
IN_VIEW_JS = """
(el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= -1 && r.left >= 0
    && r.bottom <= window.innerHeight + 1 && r.right <= window.innerWidth
    && el.scrollWidth <= el.clientWidth + 1;
}
"""


def _decided(page: Any) -> dict[str, tuple[str, str]]:
    rows = page.locator("#answer table.answer tbody tr")
    return {
        rows.nth(i).locator("th").inner_text(): (
            rows.nth(i).locator("td").nth(0).inner_text(),
            rows.nth(i).locator("td").nth(1).inner_text(),
        )
        for i in range(rows.count())
    }


def test_seed_answer_is_visible_without_scrolling_at_1280x800(browser: Any, base: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    try:
        tab.goto(base + SEED_URL)
        assert tab.evaluate("window.scrollY") == 0
        row = tab.locator("#answer table.answer tbody tr").filter(has_text="US axilla")
        for cell in (row.locator("th"), row.locator(".cat"), row.locator("td.rrl")):
            assert cell.evaluate(IN_VIEW_JS), cell
        assert row.locator(".cat").inner_text() == "Usually Appropriate"
        assert row.locator("td.rrl").inner_text() == "O (0 mSv)"  # the ACR relative radiation level and dose band
        # the full form is folded below the answer
        assert tab.locator("details#case-form").get_attribute("open") is None
        assert not tab.get_by_label("primary tumour size", exact=True).is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("path", [SEED_URL, "/topics/286/variants/4", "/search?q=PET"])
def test_phone_shows_every_category_and_radiation_level_unclipped(browser: Any, base: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    tab = context.new_page()
    try:
        tab.goto(base + path)
        badges = tab.locator("main .cat")
        levels = tab.locator("main .rrl")
        assert badges.count() > 0 and levels.count() > 0
        for locator in (badges, levels):
            for i in range(locator.count()):
                item = locator.nth(i)
                item.scroll_into_view_if_needed()
                assert item.evaluate(IN_VIEW_JS), (path, item.inner_text())
        assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        context.close()


@pytest.mark.parametrize(
    ("procedure", "category", "most"),
    [("US axilla", "Usually Appropriate", 1), ("FDG-PET/CT skull base to mid-thigh", "Usually Not Appropriate", 2)],
)
def test_the_next_question_is_one_control_that_works_without_script(
    browser: Any, base: str, procedure: str, category: str, most: int
) -> None:
    """The seed patient as typed (issue 18's done-when): answering only the questions the page
    asks, each through its single control, decides US axilla Usually Appropriate after at most one
    question and PET/CT Usually Not Appropriate after at most two (the 286 V4 table), script off."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    tab = context.new_page()
    try:
        tab.goto(base + SEED_AS_TYPED + "&procedure=" + urllib.parse.quote_plus(procedure))
        # as typed she is undecided: the treatment phase and the imaging step are not known, and
        # 235 V8 (the next imaging step) could still apply
        assert procedure not in _decided(tab)
        asked = 0
        while procedure not in _decided(tab) and asked < 4:
            form = tab.locator("#next-question form")
            controls = form.locator("select:visible, input:visible")
            assert controls.count() == 1  # one question, one control
            field = controls.first.get_attribute("name")
            assert field is not None and field in SEED_TRUTH
            given = form.locator("input[type=hidden]").evaluate_all("e => e.map(i => i.name + '=' + i.value)")
            assert "age=52" in given and f"procedure={procedure}" in given  # the given facts travel along
            controls.first.select_option(SEED_TRUTH[field])
            with tab.expect_navigation():
                form.get_by_role("button", name="Answer").click()
            asked += 1
        assert _decided(tab)[procedure][0] == category
        assert 1 <= asked <= most
        assert category in tab.locator("#answer .ordered").inner_text()
    finally:
        context.close()


def test_the_next_question_is_answered_with_the_keyboard_alone(page: Any, base: str) -> None:
    page.goto(base + SEED_AS_TYPED)
    field = page.locator("#next-question select").get_attribute("name")
    for _ in range(15):  # the skip link, the menu, "change", then the question
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SELECT":
            break
    assert page.evaluate("document.activeElement.name") == field
    page.keyboard.press("ArrowDown")  # the first answer
    chosen = page.evaluate("document.activeElement.value")
    assert chosen
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Answer"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"{field}={chosen}" in page.url and "age=52" in page.url


def test_an_unknown_ordered_procedure_is_named(base: str) -> None:
    status, _, body = fetch(base + SEED_AS_TYPED + "&procedure=%3Cb%3ENope")
    assert status == 400
    assert b"field &#39;procedure&#39;: &#39;&lt;b&gt;Nope&#39; is not a procedure in the graph" in body


def test_underspecified_case_shows_its_questions(page: Any, base: str) -> None:
    without_size = {k: v for k, v in SEED.items() if k != "primary tumour size"}
    _fill_case(page, base, without_size)
    candidates = page.locator("#candidates")
    text = candidates.inner_text()
    assert "Topic 286, variant 4" in text and "Topic 286, variant 6" in text
    assert "Needs: primary tumour size" in text


def test_variant_page_draws_its_workflow_diagram(page: Any, base: str) -> None:
    require_tool("dot")
    page.goto(base + "/topics/286/variants/4")
    image = page.locator("#workflow-diagram")
    image.wait_for()
    width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
    if width == 0:
        page.wait_for_function("document.getElementById('workflow-diagram').naturalWidth > 0")
        width = image.evaluate("img => img.naturalWidth")
    assert width > 200
    assert "INCOMPLETE" in page.locator(".banner").inner_text()
    assert page.locator("table.ratings tbody tr").count() == 3


def test_every_form_control_has_a_label_and_the_phone_layout_fits(browser: Any, base: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    tab = context.new_page()
    try:
        paths = (
            "/",
            "/search?q=PET",
            "/case",
            SEED_AS_TYPED,
            "/dose",
            "/topics",
            "/topics/286/variants/4",
            "/feedback",
        )
        for path in paths:
            tab.goto(base + path)
            unlabeled = tab.evaluate(
                "Array.from(document.querySelectorAll('input:not([type=hidden]),select,textarea'))"
                ".filter(e => !e.labels || e.labels.length === 0).length"
            )
            assert unlabeled == 0, path
            overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)
        tab.goto(base + "/case")
        tab.keyboard.press("Tab")
        assert tab.evaluate("document.activeElement.textContent") == "Skip to content"
    finally:
        context.close()


def test_related_variants_show_each_other_variant_once_with_its_title_and_relation(
    page: Any, base: str, kg: KnowledgeGraph
) -> None:
    rows = kg.records("related-variants", topic="286", variant=4)
    others = {(str(r["other_topic"]), int(r["other_variant"])): r["other_title"] for r in rows}
    assert len(rows) > len(others)  # the graph repeats pairs (both directions, asserted and inferred)
    page.goto(base + "/topics/286/variants/4")
    items = page.locator("ul.related > li")
    assert items.count() == len(others)
    seen = set()
    for i in range(items.count()):
        item = items.nth(i)
        _, _, topic, _, number = item.locator("a").get_attribute("href").split("/")
        seen.add((topic, int(number)))
        assert others[(topic, int(number))] in item.inner_text()
        how = item.locator(".how").inner_text().lower()
        assert "none" not in how and ("inferred by the reasoner" in how or "named as related by the sources" in how)
    assert seen == set(others)
    v3 = items.filter(has_text="Topic 286, variant 3").locator(".how").inner_text()
    assert "differs in exactly one patient feature" in v3.lower() and "clinical nodal status" in v3


@pytest.mark.parametrize("width", [1280, 375])
def test_each_rating_row_links_its_evidence_and_keeps_file_names_whole(
    browser: Any, base: str, kg: KnowledgeGraph, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    tab = context.new_page()
    try:
        for topic, number in (("153", 1), ("286", 4), ("235", 2)):
            tab.goto(f"{base}/topics/{topic}/variants/{number}")
            rows = tab.locator("table.ratings tbody tr")
            assert rows.count() > 0
            for i in range(rows.count()):
                row = rows.nth(i)
                procedure = row.locator("th").inner_text()
                urls = {
                    str(r["url"])
                    for r in kg.records("rating-provenance", topic=topic, variant=number, procedure=procedure)
                    if r["url"]
                }
                links = row.locator("td.source a")
                hrefs = links.evaluate_all("as => as.map(a => a.getAttribute('href'))")
                assert set(hrefs) == urls, (topic, number, procedure)
                appendix = [u for u in urls if "GetAppendix" in u]
                if appendix:  # the ACR evidence table leads
                    assert hrefs[0] in appendix and links.first.inner_text() == "ACR appendix"
                record = row.locator("td.source .file")
                assert record.evaluate("e => e.getClientRects().length") == 1  # never broken over lines
                assert ":" in record.inner_text() and ".csv" in record.inner_text()
    finally:
        context.close()


def test_feedback_report_page_shows_overrides_per_variant_and_procedure(page: Any, base: str) -> None:
    """A CDS card issued, overridden with a reason through the CDS Hooks feedback route, then read
    on the report page: the same store, a real server, a real browser."""
    page.goto(base + "/feedback")
    before = page.locator("table.feedback tbody tr").filter(has_text=PET_CT).filter(has_text="Topic 286, variant 4")
    overridden_before = int(before.locator("td").nth(3).inner_text()) if before.count() else 0
    order = ServiceRequest(
        id="order-1", status="draft", intent="order", code={"text": PET_CT}, subject={"reference": "Patient/p1"}
    )
    status, body = post_json(base + SIGN, seed_request(order))
    assert status == 200
    card = next(c for c in body["cards"] if c["summary"].startswith(PET_CT))
    reason = {"system": "http://example.org/override", "code": "staging", "display": "<b>Staging</b> asked"}
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": reason, "userComment": "oncologist asked"},
                "outcomeTimestamp": "2026-12-06T14:00:00Z",
            }
        ]
    }
    status, _, _ = fetch(base + SIGN + "/feedback", json.dumps(feedback).encode(), {"Content-Type": "application/json"})
    assert status == 200
    page.goto(base + "/feedback")
    row = page.locator("table.feedback tbody tr").filter(has_text=PET_CT).filter(has_text="Topic 286, variant 4")
    assert row.count() == 1
    assert row.locator("th a").get_attribute("href") == "/topics/286/variants/4"
    assert row.locator(".cat").inner_text() == "Usually Not Appropriate"
    assert int(row.locator("td").nth(3).inner_text()) == overridden_before + 1
    assert "<b>Staging</b> asked (" in row.locator("td").nth(5).inner_text()  # shown as text, escaped
    page.goto(base + "/")
    page.get_by_role("link", name="feedback report").click()
    page.wait_for_load_state()
    assert page.url == base + "/feedback"


def test_dose_calculator_adds_the_bands(page: Any, base: str) -> None:
    page.goto(base + "/dose")
    page.get_by_label("Study 1", exact=True).select_option("US axilla")
    page.get_by_label("Study 2", exact=True).select_option("Mammography diagnostic")
    page.get_by_role("button", name="Calculate").click()
    page.wait_for_load_state()
    assert page.locator(".total strong").inner_text() == "0.1-1 mSv"


def test_pages_send_a_strict_csp_and_escape_what_they_echo(base: str) -> None:
    status, headers, body = fetch(base + "/case?sex=%3Cscript%3Ealert(1)%3C/script%3E")
    assert status == 400
    assert b"<script>" not in body and b"&lt;script&gt;" in body
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/topics/999", 404),
        ("/topics/286/variants/99", 404),
        ("/topics/286/variants/99/workflow.svg", 404),
        ("/case?sex=female&age=4_5", 400),
        ("/case?sex=female&breast_cancer=new&tumor_size_cm=1e9", 400),
        ("/dose?procedure=Nope", 400),
        ("/dose?procedure=US+axilla&age=-3", 400),
        ("/topics/286", 200),
    ],
)
def test_bad_input_gets_a_clear_status(base: str, path: str, status: int) -> None:
    assert fetch(base + path)[0] == status


def test_workflow_svg_is_svg(base: str) -> None:
    require_tool("dot")
    status, headers, body = fetch(base + "/topics/286/variants/4/workflow.svg")
    assert status == 200 and headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in body and b"US axilla" in body


CONTRAST_JS = """
() => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      const v = rgb(c);
      if (v.length < 4 || v[3] > 0) return v;
    }
    return [255, 255, 255];
  };
  const worst = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.childNodes.length || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) worst.push(el.tagName + '.' + el.className + ': ' + ratio.toFixed(2));
  }
  return worst;
}
"""


def test_text_contrast_meets_wcag_aa(page: Any, base: str) -> None:
    """Every element with its own text has a contrast ratio of at least 4.5:1 (WCAG 2 AA)."""
    page.set_content('<p style="color:#999">grey on white is 2.85:1</p>')
    assert page.evaluate(CONTRAST_JS) == ["P.: 2.85"]  # the check itself can fail
    pages = ("/", "/search?q=PET", "/topics", "/topics/286/variants/4", SEED_AS_TYPED, "/case?sex=female", "/dose")
    pages += ("/feedback",)
    for path in pages:
        page.goto(base + path)
        assert page.evaluate(CONTRAST_JS) == [], path
