"""Only trusted EHRs get in, when configured: ``serve --cds-trust ISSUER=JWKS_FILE`` (repeatable).

CDS Hooks 2.0 ("Trusting CDS Clients"): the client sends ``Authorization: Bearer <JWT>``, signed by a
key of its own, with ``iss`` (the client), ``aud`` (the CDS Service's URL, as in discovery), ``exp``,
``iat`` and ``jti`` (unique per request). This module checks it with joserfc (pinned in pyproject):

- the issuer must be one of ``--cds-trust``; its keys come from a local JWKS file read at start-up;
  a ``jku`` (or ``x5u``) header is never fetched, and ``kid`` only picks among the trusted keys;
- the signature must be ES384 or RS384 (``alg: none`` and every other algorithm refused);
- ``aud`` must equal the URL of the service called, built from ``--public-url`` (never from the
  request's Host header, which the client controls); ``exp`` must be in the future (at most an hour
  ahead), ``iat`` present and not in the future;
- ``jti`` must not have been seen from that issuer before it expired (a replay cache in the server's
  main process, so one cache sees every request; bounded, oldest expiry dropped first).

Anything else is 401 with the reason; the check runs before the request body is parsed, so nothing is
evaluated for an untrusted caller. Without ``--cds-trust`` the service stays open (and says so).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc import errors, jws, jwt
from joserfc.jwk import KeySet

from axilla_kg.errors import TrustConfigError as TrustConfigError  # re-exported: moved to errors.py
from axilla_kg.errors import Unauthorized as Unauthorized

ALGORITHMS = ["ES384", "RS384"]
#: Clock skew allowed on ``exp`` and ``iat`` (seconds), and the longest token life accepted.
LEEWAY = 30
MAX_LIFETIME = 3600
#: Most remembered ``jti``; beyond it the entries closest to expiry are dropped first.
MAX_SEEN = 100_000
MAX_TOKEN = 16_384


def load_issuer(spec: str) -> tuple[str, KeySet]:
    """``ISSUER=JWKS_FILE`` -> (issuer, its public keys)."""
    issuer, sep, file = spec.partition("=")
    if not sep or not issuer or not file:
        raise TrustConfigError(f"--cds-trust expects ISSUER=JWKS_FILE, got '{spec[:100]}'")
    path = Path(file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TrustConfigError(f"--cds-trust {issuer[:60]}: cannot read {file}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrustConfigError(f"--cds-trust {issuer[:60]}: {file} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise TrustConfigError(f"--cds-trust {issuer[:60]}: {file} is not a JWKS (a 'keys' list)")
    for i, key in enumerate(data["keys"]):
        if not isinstance(key, dict) or key.get("kty") not in ("EC", "RSA"):
            raise TrustConfigError(f"--cds-trust {issuer[:60]}: {file} keys[{i}] is not an EC or RSA key")
        if "d" in key:
            raise TrustConfigError(f"--cds-trust {issuer[:60]}: {file} keys[{i}] holds a private key; give public keys")
    try:
        return issuer, KeySet.import_key_set(data)  # type: ignore[arg-type]  # checked above
    except (errors.JoseError, ValueError, TypeError) as exc:
        raise TrustConfigError(f"--cds-trust {issuer[:60]}: {file}: {exc}") from None


@dataclass
class Trust:
    """The trusted issuers and the replay cache. ``base_url`` is the service's public base
    (``https://host``, from ``--public-url``): a service's ``aud`` is ``{base_url}/cds-services/{id}``."""

    issuers: dict[str, KeySet]
    base_url: str
    _seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_specs(cls, specs: list[str], base_url: str) -> Trust:
        issuers: dict[str, KeySet] = {}
        for spec in specs:
            issuer, keys = load_issuer(spec)
            if issuer in issuers:
                raise TrustConfigError(f"--cds-trust names issuer '{issuer[:60]}' twice")
            issuers[issuer] = keys
        return cls(issuers, base_url.rstrip("/"))

    def check(self, authorization: str | None, audiences: tuple[str, ...], now: float | None = None) -> str:
        """The trusted issuer of a request, or :class:`Unauthorized` with the reason. ``audiences``
        are the URLs (paths under the public base) this request may be addressed to."""
        now = time.time() if now is None else now
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer JWT is required (Authorization: Bearer ...)")
        token = token.strip()
        if len(token) > MAX_TOKEN:
            raise Unauthorized("the bearer token is too long")
        try:
            unverified = jws.extract_compact(token.encode("ascii"))
            header = unverified.headers()
            claims = json.loads(unverified.payload)
        except (errors.JoseError, ValueError, UnicodeError):
            raise Unauthorized("the bearer token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"JWT alg must be one of {', '.join(ALGORITHMS)}")
        issuer = claims.get("iss") if isinstance(claims, dict) else None
        keys = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if keys is None or not isinstance(issuer, str):
            raise Unauthorized("the JWT issuer (iss) is not trusted")
        try:
            verified = jwt.decode(token, keys, algorithms=ALGORITHMS)
        except errors.JoseError:
            raise Unauthorized("the JWT signature does not verify with a key of its issuer") from None
        return self._claims(issuer, verified.claims, audiences, now)

    def _claims(self, issuer: str, claims: dict[str, Any], audiences: tuple[str, ...], now: float) -> str:
        wanted = [f"{self.base_url}{path}" for path in audiences]
        aud = claims.get("aud")
        given = aud if isinstance(aud, list) else [aud]
        if not any(a in wanted for a in given):
            raise Unauthorized(f"the JWT audience (aud) must be {wanted[0]}")
        exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise Unauthorized("the JWT has no expiry (exp)")
        if exp + LEEWAY < now:
            raise Unauthorized("the JWT has expired")
        if exp - now > MAX_LIFETIME:
            raise Unauthorized(f"the JWT lives longer than {MAX_LIFETIME} s")
        if not isinstance(iat, (int, float)) or isinstance(iat, bool):
            raise Unauthorized("the JWT has no issue time (iat)")
        if iat - LEEWAY > now:
            raise Unauthorized("the JWT was issued in the future (iat)")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise Unauthorized("the JWT has no jti")
        key = (issuer, jti)
        with self._lock:
            if len(self._seen) >= MAX_SEEN:
                for old in [k for k, t in self._seen.items() if t + LEEWAY < now]:
                    del self._seen[old]
            if len(self._seen) >= MAX_SEEN:
                del self._seen[min(self._seen, key=self._seen.__getitem__)]
            seen = self._seen.get(key)
            if seen is not None and seen + LEEWAY >= now:
                raise Unauthorized("the JWT id (jti) was already used (replay)")
            self._seen[key] = float(exp)
        return issuer
