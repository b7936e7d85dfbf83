"""Reporter tokens: short-lived HMAC-signed proofs that the app's backend verified a reporter.

Responsibility: issue and verify reporter tokens, and read the secret that signs them.

* Tokens are standard JSON Web Tokens (RFC 7519) signed with HS256 (HMAC-SHA256, RFC 7518
  section 3.2) through PyJWT, so a backend in any language issues them with its own JWT
  library: claims ``sub`` (the reporter id), ``iat`` and ``exp`` (unix seconds) and
  ``scope`` ("report": the token may call Report and Appeal).
* The earlier home-made format, ``base64url(payload).base64url(HMAC-SHA256(secret,
  base64url(payload)))`` with payload ``{"sub", "exp"}`` (two parts, no header), is still
  accepted until the next major version so apps holding such tokens keep working
  (docs/operations.md, "Reporter tokens").
* :func:`reporter_secret` is the one reading of the secret, used by the server
  (``--reporter-secret-file``, ``SCAMETER_REPORTER_SECRET``) and by :func:`issue_reporter_token`
  alike: surrounding whitespace is not part of it (a file written by ``base64`` ends in a
  newline), and fewer than :data:`MIN_SECRET_BYTES` bytes are refused (RFC 7518 section 3.2:
  an HS256 key is at least 256 bits; PyJWT warns below that).

Invariants:
* Only HS256 is accepted (never ``none`` or another algorithm a forged header names).
* Signatures are compared in constant time (:func:`hmac.compare_digest`; PyJWT does the same).
* Verification never returns a reporter id for a token that is malformed, signed with another
  secret, expired at the injected ``now``, or scoped to something else.
* Error messages never contain the token, the secret or the reporter id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from scameter.errors import ConfigError, ScameterError

#: RFC 7518 section 3.2: "A key of the same size as the hash output (for instance, 256 bits
#: for HS256) or larger MUST be used with this algorithm."
MIN_SECRET_BYTES = 32
#: The scope this server's reporter tokens carry (Report and Appeal).
SCOPE = "report"
#: How far in the future an ``iat`` / ``nbf`` may be (clock skew between backend and server).
_SKEW = 60
_MAKE_SECRET = "head -c 32 /dev/urandom | base64 > reporter.secret"


class ReporterTokenError(ScameterError):
    """A reporter token is malformed, forged (bad signature), expired or out of scope."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        self.expired = expired
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ReporterClaims:
    reporter: str
    expires_at: int


def reporter_secret(secret: bytes | str | os.PathLike[str]) -> bytes:
    """The reporter token secret from its raw bytes (or text), or from the file at a path.

    Surrounding whitespace is stripped (``base64`` and editors end files in a newline); an
    empty secret or one shorter than :data:`MIN_SECRET_BYTES` raises :class:`ConfigError`
    naming the fix. The server and :func:`issue_reporter_token` both read it here, so a token
    issued from a secret file always verifies on a server given the same file."""
    if isinstance(secret, os.PathLike):
        path = Path(secret)
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the reporter secret: {e.strerror}") from e
        where = f"{path}: "
    else:
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        where = ""
    key = raw.strip()
    if not key:
        raise ConfigError(f"{where}the reporter token secret is empty; make one: {_MAKE_SECRET}")
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{where}the reporter token secret is {len(key)} bytes; HS256 needs at least "
            f"{MIN_SECRET_BYTES} (RFC 7518): make one with {_MAKE_SECRET}"
        )
    return key


def issue_reporter_token(
    secret: bytes | str | os.PathLike[str],
    reporter: str,
    ttl: float,
    *,
    now: float | None = None,
) -> str:
    """An HS256 JWT for ``reporter`` valid for ``ttl`` seconds (what the app backend issues).
    ``secret`` is the secret itself or the path of the secret file (see :func:`reporter_secret`)."""
    key = reporter_secret(secret)
    if not reporter:
        raise ValueError("the reporter id must not be empty")
    issued = int(time.time() if now is None else now)
    claims = {"sub": reporter, "iat": issued, "exp": int(issued + ttl), "scope": SCOPE}
    return jwt.encode(claims, key, algorithm="HS256")


def verify_reporter_token(secret: bytes, token: str, *, now: float | None = None) -> ReporterClaims:
    """The claims of a genuine, unexpired token; raises :class:`ReporterTokenError` otherwise.
    ``secret`` as :func:`reporter_secret` returns it (the server reads it once at start)."""
    at = time.time() if now is None else now
    if token.count(".") == 1:
        claims = _legacy_claims(secret, token)
    else:
        claims = _jwt_claims(secret, token)
        _check_times(claims, at)
    reporter, expires = claims.get("sub"), claims.get("exp")
    if not isinstance(reporter, str) or not reporter or type(expires) is not int:
        raise ReporterTokenError("reporter token claims have the wrong types")
    if at >= expires:
        raise ReporterTokenError(
            "reporter token has expired: ask the app for a new one", expired=True
        )
    return ReporterClaims(reporter, expires)


def _jwt_claims(secret: bytes, token: str) -> dict[str, Any]:
    try:
        # Times are checked by _check_times against the injected clock, not PyJWT's own.
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={
                "require": ["sub", "exp"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError as e:
        raise ReporterTokenError("reporter token signature does not verify") from e
    except jwt.InvalidTokenError as e:
        raise ReporterTokenError(
            "reporter token is malformed: expected an HS256 JWT with sub and exp"
        ) from e
    scope = claims.get("scope")
    if scope is not None and (not isinstance(scope, str) or SCOPE not in scope.split()):
        raise ReporterTokenError(f"reporter token is not scoped for {SCOPE!r}")
    return claims


def _check_times(claims: dict[str, Any], at: float) -> None:
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if value is None:
            continue
        if type(value) is not int:
            raise ReporterTokenError(f"reporter token {name} is not a number of seconds")
        if value > at + _SKEW:
            raise ReporterTokenError(f"reporter token {name} is in the future: check the clocks")


# -- the earlier format (accepted until the next major version) --------------------------------


def _b64d(text: str) -> bytes:
    pad = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + pad)


def _legacy_claims(secret: bytes, token: str) -> dict[str, Any]:
    """The claims of a ``payload.signature`` token of the earlier format, signature checked."""
    body, _, sig_text = token.partition(".")
    if not body or not sig_text:
        raise ReporterTokenError("reporter token is malformed: expected an HS256 JWT")
    try:
        sig = _b64d(sig_text)
        payload = _b64d(body)
    except (binascii.Error, ValueError) as e:
        raise ReporterTokenError("reporter token is not base64url") from e
    want = hmac.new(secret, body.encode("ascii", "replace"), hashlib.sha256).digest()
    if not hmac.compare_digest(sig, want):
        raise ReporterTokenError("reporter token signature does not verify")
    try:
        claims = json.loads(payload)
    except ValueError as e:
        raise ReporterTokenError("reporter token payload is not {sub, exp}") from e
    if not isinstance(claims, dict):
        raise ReporterTokenError("reporter token payload is not {sub, exp}")
    return claims


__all__ = [
    "MIN_SECRET_BYTES",
    "ReporterClaims",
    "ReporterTokenError",
    "issue_reporter_token",
    "reporter_secret",
    "verify_reporter_token",
]
