"""The lookup pages in a real browser (Debian's headless Chromium driven by Playwright, nothing
downloaded) and over plain HTTP, against a real uvicorn server process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from frontdoor_helpers import fetch, front_door

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
        for path in ("/case", "/dose", "/topics", "/topics/286/variants/4"):
            tab.goto(base + path)
            unlabeled = tab.evaluate(
                "Array.from(document.querySelectorAll('input,select,textarea'))"
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
    for path in ("/topics", "/topics/286/variants/4", "/case?sex=female&breast_cancer=new", "/dose"):
        page.goto(base + path)
        assert page.evaluate(CONTRAST_JS) == [], path
