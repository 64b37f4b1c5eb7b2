"""Orders as EHRs send them (issue 20): CPT/HCPCS/LOINC codings and order-catalogue text, through the
SSSOM order mapping and the catalogue normaliser; the indication in ``ServiceRequest.reasonCode`` /
``reasonReference``; CDS Hooks 2.0 details (summaries under 140 characters by design, ``resourceId`` a
string, no empty lists). HTTP tests run against a real server process with requests built and
validated with fhir.resources; the mapping file is checked against the graph's procedures."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest
from frontdoor_helpers import fetch, front_door, post_json
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cdshooks import PET_CT, SIGN, check_response, seed_request

from axilla_kg.cdshooks import catalogue, ordermap
from axilla_kg.cdshooks.orders import identify
from axilla_kg.recommend.lookup import Lookup

CPT = "http://www.ama-assn.org/go/cpt"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with front_door() as url:
        yield url


@pytest.fixture(scope="module")
def lookup() -> Lookup:
    return Lookup.load()


def order(code: dict[str, Any], oid: str = "order-1", **extra: Any) -> ServiceRequest:
    return ServiceRequest(
        id=oid, status="draft", intent="order", code=code, subject={"reference": "Patient/p1"}, **extra
    )


def cpt(code: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": CPT, "code": code}]}
    if text is not None:
        concept["text"] = text
    return concept


def _ratings(body: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """Per system action, the rating codings (PAMA code and ACR category) it stamps."""
    out = []
    for action in body.get("systemActions", []):
        for ext in action["resource"]["extension"]:
            if ext["url"].endswith("/pama-rating"):
                out.append([(c["system"], c["code"]) for c in ext["valueCodeableConcept"]["coding"]])
    return out


def _card_view(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a clinician sees of each card, without how the order was read (that differs by design)."""
    return [
        (
            c["summary"],
            c["indicator"],
            c["detail"].split("\n\nHow the order was read:")[0],
            json.dumps(c["links"]),
            len(c.get("suggestions", [])),
        )
        for c in body["cards"]
    ]


# --- the mapping data --------------------------------------------------------------------------------


def test_every_mapping_names_a_procedure_of_the_graph_with_a_source(lookup: Lookup) -> None:
    mapping = ordermap.shipped()
    rows = [r for rs in mapping.by_code.values() for r in rs] + list(mapping.catalogue)
    assert rows
    for row in rows:
        assert row.procedure in lookup.procedure_info, row
        assert row.source.startswith("https://") and 0 < row.confidence <= 1
    # the codes the issue names, with the meaning their public descriptors give
    assert [r.procedure for r in mapping.for_coding(CPT, "78815")] == [PET_CT]
    assert [r.procedure for r in mapping.for_coding(CPT, "77049")] == ["MRI breast without and with IV contrast"]
    assert [r.procedure for r in mapping.for_coding(CPT, "78306")] == ["Bone scan whole body"]
    assert {r.procedure for r in mapping.for_coding(CPT, "76642")} == {"US breast", "US axilla"}


def test_a_broken_mapping_file_is_refused_with_its_line(tmp_path: Any) -> None:
    good = (ordermap.ontology_dir() / ordermap.FILE_NAME).read_text(encoding="utf-8")
    bad = good.replace("\tskos:exactMatch\t", "\tskos:closeMatch\t", 1)
    path = tmp_path / ordermap.FILE_NAME
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ordermap.MappingFileError, match=r"line \d+: predicate_id 'skos:closeMatch'"):
        ordermap.read(path)


@pytest.mark.parametrize(
    ("text", "modalities", "regions", "contrast", "laterality"),
    [
        ("NM PET/CT SKULL BASE TO MID-THIGH", ("PET/CT",), ("skull-base-to-mid-thigh",), None, None),
        ("US Axilla", ("US",), ("axilla",), None, None),
        ("US AXILLA RT", ("US",), ("axilla",), None, "right"),
        ("MRI BREAST BILAT W/O & W CONTRAST", ("MRI",), ("breast",), "without-and-with", "bilateral"),
        ("MR Breast Left WO", ("MRI",), ("breast",), "without", "left"),
        ("MRI BREAST W WO", ("MRI",), ("breast",), "without-and-with", None),
        ("MRI BREAST WWO", ("MRI",), ("breast",), "without-and-with", None),
        ("MRI BREAST WITH AND WITHOUT CONTRAST", ("MRI",), ("breast",), "without-and-with", None),
        ("MRI BREAST W/O CONTRAST", ("MRI",), ("breast",), "without", None),
        ("CT CAP WITH IV CONTRAST", ("CT",), ("chest-abdomen-pelvis",), "with", None),
        # CMS short descriptors and LOINC playbook names, as EHRs put them in Coding.display
        ("MRI BREAST C-+ W/CAD BI", ("MRI",), ("breast",), "without-and-with", "bilateral"),
        ("PET IMAGE W/CT SKULL-THIGH", ("PET/CT",), ("skull-base-to-mid-thigh",), None, None),
        ("PET+CT Skull base to mid-thigh W 18F-FDG IV", ("PET/CT",), ("skull-base-to-mid-thigh",), None, None),
        ("MR Breast - bilateral WO and W contrast IV", ("MRI",), ("breast",), "without-and-with", "bilateral"),
        ("CT CHEST/ABD/PELVIS W CONTRAST", ("CT",), ("chest-abdomen-pelvis",), "with", None),
        ("MAMMO DIAG BILAT", ("MG",), ("breast",), None, "bilateral"),
        ("NM BONE SCAN", ("bone-scan",), ("whole-body",), None, None),
        (
            "US axilla and PET/CT skull base to mid-thigh",
            ("PET/CT", "US"),
            ("skull-base-to-mid-thigh", "axilla"),
            None,
            None,
        ),
    ],
)
def test_the_normaliser_reads_catalogue_text(
    text: str, modalities: tuple[str, ...], regions: tuple[str, ...], contrast: str | None, laterality: str | None
) -> None:
    form = catalogue.normalise(text)
    assert form.modalities == modalities and form.regions == regions
    assert form.contrast == contrast and form.laterality == laterality


# --- orders over HTTP ----------------------------------------------------------------------------------


def test_cpt_78815_and_catalogue_text_get_the_same_card_and_rating_as_the_acr_name(base: str) -> None:
    """Issue 20's "Done when": the seed patient's PET/CT order, three ways."""
    answers = []
    for code in ({"text": PET_CT}, cpt("78815"), {"text": "NM PET/CT SKULL BASE TO MID-THIGH"}):
        status, body = post_json(base + SIGN, seed_request(order(code)))
        assert status == 200, body
        check_response(body)
        answers.append(body)
    reference = answers[0]
    assert _ratings(reference) and _ratings(reference)[0][0][1] == "not-appropriate"
    for other in answers[1:]:
        assert _ratings(other) == _ratings(reference)
        assert _card_view(other) == _card_view(reference)
    assert "CPT 78815" in answers[1]["cards"][0]["detail"]


@pytest.mark.parametrize(
    ("code", "procedure"),
    [
        (cpt("77049"), "MRI breast without and with IV contrast"),
        (cpt("78306"), "Bone scan whole body"),
        ({"text": "US Axilla"}, "US axilla"),
        ({"text": "US AXILLA LEFT"}, "US axilla"),
    ],
)
def test_coded_and_catalogue_orders_are_rated_as_their_acr_procedure(
    base: str, code: dict[str, Any], procedure: str
) -> None:
    _, by_name = post_json(base + SIGN, seed_request(order({"text": procedure})))
    status, body = post_json(base + SIGN, seed_request(order(code)))
    assert status == 200
    check_response(body)
    assert _ratings(body) == _ratings(by_name)
    assert body["cards"][0]["summary"] == by_name["cards"][0]["summary"]
    assert body["cards"][0]["summary"].startswith(procedure)


def test_a_code_covering_two_studies_lets_the_indication_decide(base: str) -> None:
    """CPT 76642 (limited breast US including the axilla) covers US breast and US axilla; for the seed
    patient the axillary question rates only one of them, so the order is rated as that one and the
    card says which other study the code covers."""
    status, body = post_json(base + SIGN, seed_request(order(cpt("76642"))))
    assert status == 200
    check_response(body)
    _, us_axilla = post_json(base + SIGN, seed_request(order({"text": "US axilla"})))
    assert _ratings(body) == _ratings(us_axilla)
    assert "also covers" in body["cards"][0]["detail"] and "US breast" in body["cards"][0]["detail"]


def test_an_order_that_maps_to_nothing_says_so_and_carries_no_rating(base: str) -> None:
    for code in ({"text": "CT HEAD W/O"}, cpt("99213"), {"text": "Complete blood count"}):
        status, body = post_json(base + SIGN, seed_request(order(code)))
        assert status == 200
        check_response(body)
        assert "systemActions" not in body
        [card] = body["cards"]
        assert card["summary"].startswith("Order not recognised")


# --- the indication wherever the EHR puts it -------------------------------------------------------


def _without_conditions(request: dict[str, Any]) -> dict[str, Any]:
    del request["prefetch"]["conditions"]
    return request


def test_reason_code_gives_the_indication_when_no_condition_is_prefetched(base: str) -> None:
    reasons = {"reasonCode": [{"coding": [{"system": ICD, "code": "C50.911"}, {"system": ICD, "code": "C77.3"}]}]}
    _, with_conditions = post_json(base + SIGN, seed_request(order({"text": PET_CT})))
    status, body = post_json(base + SIGN, _without_conditions(seed_request(order({"text": PET_CT}, **reasons))))
    assert status == 200
    check_response(body)
    assert _ratings(body) == _ratings(with_conditions)
    detail = body["cards"][0]["detail"]
    assert "reasonCode" in detail and "C50.911" in detail
    _, without = post_json(base + SIGN, _without_conditions(seed_request(order({"text": PET_CT}))))
    assert "systemActions" not in without  # without the reason the same order is not rated


def test_reason_reference_points_into_the_prefetch(base: str) -> None:
    request = seed_request(order({"text": PET_CT}, reasonReference=[{"reference": "Condition/c1"}]))
    status, body = post_json(base + SIGN, request)
    assert status == 200
    assert "reasonReference[0]" in body["cards"][0]["detail"]
    request = seed_request(order({"text": PET_CT}, reasonReference=[{"reference": "Condition/missing"}]))
    status, body = post_json(base + SIGN, request)
    assert "not in the conditions prefetch" in body["cards"][0]["detail"]


def test_a_reason_the_conditions_do_not_state_is_reported(base: str) -> None:
    request = seed_request(order({"text": PET_CT}, reasonCode=[{"coding": [{"system": ICD, "code": "C50.911"}]}]))
    request["prefetch"]["conditions"]["entry"] = request["prefetch"]["conditions"]["entry"][1:]  # nodes only
    status, body = post_json(base + SIGN, request)
    assert status == 200
    detail = body["cards"][0]["detail"]
    assert "breast_cancer = new; the prefetched Conditions do not" in detail


# --- CDS Hooks 2.0 to the letter ----------------------------------------------------------------------


def test_summaries_are_under_140_by_design_and_never_cut(base: str) -> None:
    """The ask-for-data card of an order whose rating needs many facts: the summary is whole words of
    our own wording (ending on a complete label), the full list is in the detail."""
    request = seed_request(order({"text": PET_CT}), size_cm=None)
    request["prefetch"] = {"patient": request["prefetch"]["patient"]}
    status, body = post_json(base + SIGN, request)
    assert status == 200
    for card in body["cards"]:
        assert len(card["summary"]) < 140
        assert re.search(r"[A-Za-z)\]0-9]$", card["summary"]), card["summary"]
        assert "()" not in card["detail"] and ", ," not in card["detail"]


def test_no_empty_list_in_text_when_no_condition_is_sent(base: str) -> None:
    request = seed_request(order({"text": PET_CT}))
    request["prefetch"]["conditions"]["entry"] = []
    status, body = post_json(base + SIGN, request)
    assert status == 200
    for card in body["cards"]:
        assert "()" not in card["summary"] + card["detail"]


def test_delete_action_resource_id_is_a_string(base: str) -> None:
    status, body = post_json(base + SIGN, seed_request(order(cpt("78815"))))
    assert status == 200
    deletes = [
        a for c in body["cards"] for s in c.get("suggestions", []) for a in s["actions"] if a["type"] == "delete"
    ]
    assert deletes and all(a["resourceId"] == "ServiceRequest/order-1" for a in deletes)


# --- issue 18's card: decided answers first, the one next question, the pre-filled case page ---------


def test_a_rated_order_leads_with_the_decided_answers(base: str) -> None:
    status, body = post_json(base + SIGN, seed_request(order(cpt("78815"))))
    assert status == 200
    detail = body["cards"][0]["detail"]
    assert detail.startswith("Decided for this patient by the facts given:")
    decided_part, rating_part = detail.split("\n\n")[:2]
    # US axilla is decided Usually Appropriate for the seed patient (issue 18), shown before the rating
    assert "- **US axilla**: Usually Appropriate" in decided_part
    assert rating_part.startswith(f"**{PET_CT}** is rated **Usually Not Appropriate**")


def test_an_undecided_order_names_one_question_and_links_the_prefilled_case_page(base: str) -> None:
    request = seed_request(order({"text": "US Axilla"}))
    del request["prefetch"]["procedures"]  # no treatment history: the order is not decided yet
    status, body = post_json(base + SIGN, request)
    assert status == 200
    check_response(body)
    assert "systemActions" not in body
    [card] = body["cards"]
    assert "next question:" in card["summary"]
    label = card["summary"].split("next question: ", 1)[1]
    assert f"The next question: **{label}**" in card["detail"]
    case_link = card["links"][0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(case_link["url"]).query)
    assert case_link["url"].startswith(base + "/case?")
    assert query == {
        "sex": ["female"],
        "age": ["52"],
        "breast_cancer": ["new"],
        "clinical_nodes": ["positive"],
        "tumor_size_cm": ["1.5"],
        "procedure": ["US axilla"],
    }
    status, _, page = fetch(case_link["url"])  # the case page (web branch) takes exactly these parameters
    assert status == 200 and b"US axilla" in page


def test_a_reason_that_contradicts_the_conditions_is_reported_and_not_used(base: str) -> None:
    """The record's Condition says an active (new) breast cancer; the order's reason lists Z85.3 (personal
    history of breast cancer) with C50.911, i.e. a recurrence: the field is left out, both are shown, and
    the order is not rated on either reading."""
    reasons = {"reasonCode": [{"coding": [{"system": ICD, "code": "C50.911"}, {"system": ICD, "code": "Z85.3"}]}]}
    status, body = post_json(base + SIGN, seed_request(order({"text": PET_CT}, **reasons)))
    assert status == 200
    check_response(body)
    assert "systemActions" not in body
    detail = body["cards"][0]["detail"]
    assert "disagreement on breast_cancer: the record says new" in detail
    assert "the order's reason says recurrent" in detail


def test_every_procedure_in_every_record_shape_gets_short_whole_summaries(lookup: Lookup) -> None:
    """Every ACR procedure of the graph ordered for the seed patient with the full record, without the
    tumour size, without treatment history and with no record at all: every card's summary is under
    140 characters (the card builder refuses a longer one rather than cut it), no list in text is
    empty. Run on the service's pure request -> cards function (the HTTP path is tested above)."""
    from axilla_kg.cdshooks.request import parse_request
    from axilla_kg.cdshooks.service import HookService

    service = HookService(lookup, "http://127.0.0.1:1")

    def shapes(name: str) -> Iterator[dict[str, Any]]:
        yield seed_request(order({"text": name}))
        yield seed_request(order({"text": name}), size_cm=None)
        bare = seed_request(order({"text": name}))
        del bare["prefetch"]["procedures"]
        yield bare
        empty = seed_request(order({"text": name}))
        empty["prefetch"] = {}
        yield empty

    seen = 0
    for name in lookup.procedures:
        for request in shapes(name):
            answer = service.answer(parse_request(json.dumps(request).encode(), "order-sign"))
            for card in answer["cards"]:
                seen += 1
                assert len(card["summary"]) < 140, card["summary"]
                assert "()" not in card["summary"] + card["detail"], card["detail"]
                assert not card["detail"].rstrip().endswith(":"), card["detail"]
    assert seen >= 4 * len(lookup.procedures)


CATALOGUE_NAMES = [
    "NM PET/CT SKULL BASE TO MID-THIGH",
    "US Axilla",
    "MRI BREAST W/O & W CONTRAST",
    "MR BREAST WO",
    "MAMMO DIAG",
    "CT CHEST/ABD/PELVIS W CONTRAST",
    "NM BONE SCAN WHOLE BODY",
    "US GUIDED CORE BIOPSY AXILLARY NODE",
    "US BREAST",
]


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(CATALOGUE_NAMES),
    side=st.sampled_from(["", " LEFT", " RIGHT", " BILAT", " RT", " LT", " BILATERAL"]),
    case=st.sampled_from([str.upper, str.lower, str.title]),
    noise=st.sampled_from(["", ",", " ;", "  "]),
)
def test_side_case_and_punctuation_never_change_the_study(
    lookup: Lookup, name: str, side: str, case: Any, noise: str
) -> None:
    """Laterality is kept for display only (ACR procedures are side-less); letter case and stray
    punctuation are not part of a catalogue name."""
    reference = identify(lookup, {"text": name})
    assert reference.status == "known"
    varied = identify(lookup, {"text": case(name + side) + noise})
    assert (varied.status, varied.procedures) == (reference.status, reference.procedures)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=400))
def test_any_text_is_read_without_error(lookup: Lookup, text: str) -> None:
    found = identify(lookup, {"text": text, "coding": [{"system": CPT, "code": "78815"}]})
    assert found.status in ("known", "ambiguous")
    if found.status == "known":
        assert found.procedures == (PET_CT,)


def test_a_done_study_whose_code_may_have_imaged_the_axilla_leaves_the_imaging_step_open(base: str) -> None:
    """A completed CPT 76642 (breast US including the axilla when performed) may or may not have
    imaged the axilla: the imaging step is not derived ("initial" would be a guess) and the card says why."""
    request = seed_request(order({"text": "US axilla"}))
    done = Procedure(id="pr2", status="completed", subject={"reference": "Patient/p1"}, code=cpt("76642"))
    request["prefetch"]["procedures"]["entry"].append({"resource": json.loads(done.model_dump_json(exclude_none=True))})
    status, body = post_json(base + SIGN, request)
    assert status == 200
    check_response(body)
    detail = body["cards"][0]["detail"]
    assert "imaging step not known" in detail and "`imaging_step`:" not in detail.split("Not used")[0]


def test_an_unmapped_loinc_code_is_read_by_its_playbook_name(lookup: Lookup) -> None:
    """A LOINC radiology-playbook coding whose code is not in the mapping is read by its display (the
    playbook name); without a readable display it may be any study and never agrees with the text."""
    loinc = "http://loinc.org"
    named = identify(lookup, {"coding": [{"system": loinc, "code": "00000-0", "display": "US Axilla - left"}]})
    assert (named.status, named.procedures) == ("known", ("US axilla",))
    bare = identify(lookup, {"text": "US axilla", "coding": [{"system": loinc, "code": "00000-0"}]})
    assert bare.status == "ambiguous"
