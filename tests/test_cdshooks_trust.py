"""``serve --cds-trust ISSUER=JWKS_FILE`` and CDS Hooks 2.0 feedback, against a real ``axilla-kg serve``
process, as an EHR calls it: keys generated in the test (joserfc), JWTs signed ES384 or RS384 with the
claims CDS Hooks 2.0 asks for, requests built with fhir.resources, feedback read back through the
database file and the ``feedback-report`` command."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from frontdoor_helpers import fetch
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from serving_helpers import served
from test_cdshooks import PET_CT, check_response, seed_request

from conftest import cli_in_process

PUBLIC = "https://cds.example.org"
SIGN_ID = "axilla-imaging-order-sign"
SIGN_PATH = f"/cds-services/{SIGN_ID}"
AUDIENCE = f"{PUBLIC}{SIGN_PATH}"
ALGORITHMS = ["ES384", "RS384"]
STAMP = "2026-12-06T14:00:00Z"


class Keys:
    ec = ECKey.generate_key("P-384", parameters={"kid": "ehr-ec"})
    rsa = RSAKey.generate_key(2048, parameters={"kid": "ehr-rsa"})
    other = ECKey.generate_key("P-384", parameters={"kid": "ehr-ec"})  # same kid, not the trusted key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("trust")
    jwks = folder / "ehr.jwks.json"
    jwks.write_text(
        json.dumps({"keys": [Keys.ec.as_dict(private=False), Keys.rsa.as_dict(private=False)]}), encoding="utf-8"
    )
    db = folder / "feedback.sqlite"
    flags = ["--cds-trust", f"https://ehr.example.org={jwks}", "--public-url", f"{PUBLIC}/sparql"]
    with served(*flags, "--cds-feedback-db", str(db), "--workers", "1") as running:
        yield running.url, db


def token(
    key: Any = Keys.ec,
    alg: str = "ES384",
    iss: str = "https://ehr.example.org",
    aud: str = AUDIENCE,
    lifetime: int = 300,
    jti: str | None = None,
    header: dict[str, Any] | None = None,
) -> str:
    now = int(time.time())
    claims = {"iss": iss, "aud": aud, "exp": now + lifetime, "iat": now, "jti": jti or str(uuid.uuid4())}
    kid = "ehr-rsa" if alg == "RS384" else "ehr-ec"
    return jwt.encode({"alg": alg, "typ": "JWT", "kid": kid, **(header or {})}, claims, key, algorithms=ALGORITHMS)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def call(url: str, bearer: str | None, body: Any, path: str = SIGN_PATH) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    status, _, payload = fetch(url + path, json.dumps(body).encode(), headers)
    return status, json.loads(payload) if payload else None


def _order() -> ServiceRequest:
    return ServiceRequest(
        id="order-1",
        status="draft",
        intent="order",
        code={"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "78815"}]},
        subject={"reference": "Patient/p1"},
    )


def test_a_trusted_token_gets_the_answer(server: tuple[str, Path]) -> None:
    url, _ = server
    for key, alg in ((Keys.ec, "ES384"), (Keys.rsa, "RS384")):
        status, body = call(url, token(key, alg), seed_request(_order()))
        assert status == 200, body
        check_response(body)
        assert body["systemActions"]


@pytest.mark.parametrize(
    ("bearer", "reason"),
    [
        (None, "bearer JWT is required"),
        (token(lifetime=-600), "expired"),
        (token(aud=f"http://127.0.0.1{SIGN_PATH}"), "audience"),
        (token(iss="https://intruder.example.org"), "issuer"),
        (token(key=Keys.other), "signature"),
        (
            _b64({"alg": "none", "typ": "JWT"}) + "." + _b64({"iss": "https://ehr.example.org", "aud": AUDIENCE}) + ".",
            "alg",
        ),
        ("not-a-jwt", "not a JWT"),
    ],
    ids=["no-token", "expired", "wrong-audience", "unknown-issuer", "another-key", "alg-none", "garbage"],
)
def test_an_untrusted_call_is_401_with_the_reason_and_nothing_evaluated(
    server: tuple[str, Path], bearer: str | None, reason: str
) -> None:
    url, db = server
    before = _count(db, "cards")
    status, body = call(url, bearer, seed_request(_order()))
    assert status == 401 and reason in body["error"], body
    assert "cards" not in body and _count(db, "cards") == before  # nothing evaluated, nothing issued


def test_a_replayed_jti_is_refused(server: tuple[str, Path]) -> None:
    url, _ = server
    once = token(jti=f"replay-{uuid.uuid4()}")
    assert call(url, once, seed_request(_order()))[0] == 200
    status, body = call(url, once, seed_request(_order()))
    assert status == 401 and "replay" in body["error"]


def test_a_jku_header_is_never_fetched(server: tuple[str, Path]) -> None:
    """A token signed by an unknown key that points at its own key set: refused, and the key URL is
    never contacted (a listening socket stands in for it)."""
    import select
    import socket

    url, _ = server
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        jku = f"http://127.0.0.1:{listener.getsockname()[1]}/jwks.json"
        status, _ = call(url, token(key=Keys.other, header={"jku": jku}), seed_request(_order()))
        assert status == 401
        assert select.select([listener], [], [], 0)[0] == []


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as con:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # table: a literal of this file


def test_feedback_round_trip_through_the_database_and_the_report(server: tuple[str, Path]) -> None:
    url, db = server
    status, body = call(url, token(), seed_request(_order()))
    assert status == 200
    rating_card = next(c for c in body["cards"] if c["summary"].startswith(PET_CT))
    suggestion_card = next(c for c in body["cards"] if c.get("suggestions"))
    feedback = {
        "feedback": [
            {
                "card": rating_card["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"system": "http://example.org/override", "code": "staging", "display": "Staging"},
                    "userComment": "oncologist asked for systemic staging",
                },
                "outcomeTimestamp": "2026-12-06T14:00:00Z",
            },
            {
                "card": suggestion_card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": suggestion_card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2026-12-06T14:00:05Z",
            },
        ]
    }
    feedback_aud = f"{AUDIENCE}/feedback"
    status, _ = call(url, token(aud=feedback_aud), feedback, SIGN_PATH + "/feedback")
    assert status == 200
    assert call(url, None, feedback, SIGN_PATH + "/feedback")[0] == 401  # feedback needs trust too
    with sqlite3.connect(db) as con:
        stored = con.execute(
            "SELECT outcome, override_code, user_comment FROM feedback WHERE card = ?", (rating_card["uuid"],)
        ).fetchall()
    assert stored == [("overridden", "staging", "oncologist asked for systemic staging")]
    result = cli_in_process("feedback-report", "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = {(r["variant"], r["procedure"]): r for r in json.loads(result.stdout)}
    row = report[("286/4", PET_CT)]
    assert row["overridden"] >= 1 and {"reason": "Staging", "count": row["overridden"]} in row["reasons"]
    assert report[("286/4", PET_CT)]["category"] == "Usually Not Appropriate"


@pytest.mark.parametrize(
    ("entry", "element"),
    [
        ({"card": "not-a-uuid", "outcome": "accepted", "outcomeTimestamp": "2026-12-06T14:00:00Z"}, "feedback[0].card"),
        (
            {"card": str(uuid.uuid4()), "outcome": "maybe", "outcomeTimestamp": "2026-12-06T14:00:00Z"},
            "feedback[0].outcome",
        ),
        (
            {"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": "yesterday"},
            "feedback[0].outcomeTimestamp",
        ),
        (
            {
                "card": str(uuid.uuid4()),
                "outcome": "accepted",
                "overrideReason": {"userComment": "x"},
                "outcomeTimestamp": "2026-12-06T14:00:00Z",
            },
            "feedback[0].overrideReason",
        ),
    ],
)
def test_bad_feedback_is_400_naming_the_element(server: tuple[str, Path], entry: dict[str, Any], element: str) -> None:
    url, _ = server
    status, body = call(url, token(aud=f"{AUDIENCE}/feedback"), {"feedback": [entry]}, SIGN_PATH + "/feedback")
    assert status == 400 and body["element"] == element, body


def test_without_cds_trust_the_service_is_open_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from axilla_kg.cdshooks.settings import configure

    trust, store = configure((), PUBLIC, None)
    store.close()
    assert trust is None
    assert "open to any client (no --cds-trust)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--cds-trust", "https://ehr.example.org=x.json"], "--public-url"),
        (["--cds-trust", "no-equals-sign", "--public-url", f"{PUBLIC}/sparql"], "ISSUER=JWKS_FILE"),
        (
            ["--cds-trust", "https://ehr.example.org=/nonexistent.json", "--public-url", f"{PUBLIC}/sparql"],
            "cannot read",
        ),
    ],
)
def test_bad_trust_settings_are_one_line_exit_2(args: list[str], names: str) -> None:
    result = cli_in_process("serve", "--port", "0", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and names in result.stderr, result.stderr


def test_a_private_key_in_the_trust_file_is_refused(tmp_path: Path) -> None:
    jwks = tmp_path / "private.json"
    jwks.write_text(json.dumps({"keys": [Keys.ec.as_dict(private=True)]}), encoding="utf-8")
    result = cli_in_process("serve", "--port", "0", "--cds-trust", f"e={jwks}", "--public-url", f"{PUBLIC}/sparql")
    assert result.returncode == 2 and "private key" in result.stderr


def test_the_in_memory_store_keeps_only_the_most_recent_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    from axilla_kg.cdshooks import feedback

    monkeypatch.setattr(feedback, "MEMORY_ROWS", 100)
    store = feedback.FeedbackStore()
    for _ in range(1024):
        store.record_cards("s", "h", [{"uuid": str(uuid.uuid4())}])
    kept = store.size()["cards"]
    store.close()
    assert 100 <= kept <= 100 + 256
