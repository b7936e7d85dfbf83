"""Reporter tokens: short-lived HMAC-signed proofs that the app's backend verified a reporter.

Responsibility: issue and verify ``base64url(payload).base64url(signature)`` tokens where
``payload`` is compact JSON ``{"sub": <reporter id>, "exp": <unix seconds>}`` and
``signature = HMAC-SHA256(secret, base64url(payload))`` (RFC 2104; the signed-input layout is
the one JWS compact serialisation uses, RFC 7515 section 5.1, without a header since the
algorithm is fixed). base64url is RFC 4648 section 5 without padding.

Invariants:
* Signatures are compared in constant time (:func:`hmac.compare_digest`).
* Verification never returns a reporter id for a token that is malformed, signed with another
  secret, or expired at the injected ``now``.
* Error messages never contain the token or the reporter id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from scameter.errors import ScameterError


class ReporterTokenError(ScameterError):
    """A reporter token is malformed, forged (bad signature) or expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        self.expired = expired
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ReporterClaims:
    reporter: str
    expires_at: int


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    pad = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + pad)


def _sign(secret: bytes, signed: bytes) -> bytes:
    return hmac.new(secret, signed, hashlib.sha256).digest()


def issue_reporter_token(
    secret: bytes, reporter: str, ttl: float, *, now: float | None = None
) -> str:
    """A token for ``reporter`` valid for ``ttl`` seconds (what the app backend issues)."""
    if not secret:
        raise ValueError("the reporter token secret must not be empty")
    if not reporter:
        raise ValueError("the reporter id must not be empty")
    issued = time.time() if now is None else now
    payload = json.dumps(
        {"sub": reporter, "exp": int(issued + ttl)}, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
    body = _b64e(payload)
    return f"{body}.{_b64e(_sign(secret, body.encode('ascii')))}"


def verify_reporter_token(secret: bytes, token: str, *, now: float | None = None) -> ReporterClaims:
    """The claims of a genuine, unexpired token; raises :class:`ReporterTokenError` otherwise."""
    body, sep, sig_text = token.partition(".")
    if not sep or not body or not sig_text or "." in sig_text:
        raise ReporterTokenError("reporter token is malformed: expected payload.signature")
    try:
        sig = _b64d(sig_text)
        payload = _b64d(body)
    except (binascii.Error, ValueError) as e:
        raise ReporterTokenError("reporter token is not base64url") from e
    if not hmac.compare_digest(sig, _sign(secret, body.encode("ascii", "replace"))):
        raise ReporterTokenError("reporter token signature does not verify")
    try:
        claims = json.loads(payload)
        reporter, expires = claims["sub"], claims["exp"]
    except (ValueError, TypeError, KeyError) as e:
        raise ReporterTokenError("reporter token payload is not {sub, exp}") from e
    if not isinstance(reporter, str) or not reporter or not isinstance(expires, int):
        raise ReporterTokenError("reporter token payload has the wrong types")
    if (time.time() if now is None else now) >= expires:
        raise ReporterTokenError(
            "reporter token has expired: ask the app for a new one", expired=True
        )
    return ReporterClaims(reporter, expires)


__all__ = [
    "ReporterClaims",
    "ReporterTokenError",
    "issue_reporter_token",
    "verify_reporter_token",
]
