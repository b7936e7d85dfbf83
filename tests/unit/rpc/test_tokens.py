"""Reporter tokens: HS256 JWTs, the earlier format still accepted, the one secret reading."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scameter.errors import ConfigError
from scameter.rpc.tokens import (
    MIN_SECRET_BYTES,
    ReporterTokenError,
    issue_reporter_token,
    reporter_secret,
    verify_reporter_token,
)

SECRET = b"0123456789abcdef-secret-0123456789abcdef"
OTHER = b"another-secret-xyz-0123456789abcdef-0000"
NOW = 1_800_000_000.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def legacy_token(secret: bytes, claims: dict[str, object]) -> str:
    """A token of the earlier format (base64url(payload).base64url(HMAC)), written out here as
    the previous release issued it, so the compatibility path is tested against the format
    rather than against the code that reads it."""
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return body + "." + _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())


def _tamper(token: str) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "mallory"
    return f"{head}.{_b64(json.dumps(claims).encode())}.{sig}"


GOOD = issue_reporter_token(SECRET, "alice", 60, now=NOW)
LEGACY = legacy_token(SECRET, {"sub": "alice", "exp": int(NOW + 60)})


def test_issued_token_is_a_standard_hs256_jwt() -> None:
    header = jwt.get_unverified_header(GOOD)
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(GOOD, SECRET, algorithms=["HS256"], options={"verify_signature": True,
                        "verify_exp": False, "verify_iat": False})  # fmt: skip
    assert claims == {"sub": "alice", "iat": int(NOW), "exp": int(NOW + 60), "scope": "report"}


@pytest.mark.parametrize("token", [GOOD, LEGACY], ids=["jwt", "legacy"])
def test_valid_until_expiry(token: str) -> None:
    claims = verify_reporter_token(SECRET, token, now=NOW + 59)
    assert claims.reporter == "alice"
    assert claims.expires_at == int(NOW + 60)
    with pytest.raises(ReporterTokenError) as exc:
        verify_reporter_token(SECRET, token, now=NOW + 60)
    assert exc.value.expired


def test_token_from_another_jwt_library_verifies() -> None:
    """What a backend signs with its own library (here PyJWT directly: no ``iat``, no
    ``scope``, extra claims) is accepted."""
    token = jwt.encode({"sub": "bob", "exp": int(NOW + 30), "jti": "x1"}, SECRET, "HS256")
    assert verify_reporter_token(SECRET, token, now=NOW).reporter == "bob"


def _jwt(claims: dict[str, object], secret: bytes | None = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


REFUSED = {
    "wrong-secret": (issue_reporter_token(OTHER, "alice", 60, now=NOW), False),
    "expired": (issue_reporter_token(SECRET, "alice", 60, now=NOW - 61), True),
    "tampered": (_tamper(GOOD), False),
    "alg-none": (_jwt({"sub": "alice", "exp": int(NOW + 60)}, None, "none"), False),
    "hs512": (_jwt({"sub": "alice", "exp": int(NOW + 60)}, SECRET + SECRET, "HS512"), False),
    "no-exp": (_jwt({"sub": "alice"}), False),
    "no-sub": (_jwt({"exp": int(NOW + 60)}), False),
    "sub-not-string": (_jwt({"sub": 42, "exp": int(NOW + 60)}), False),
    "exp-not-int": (_jwt({"sub": "alice", "exp": "soon"}), False),
    # RFC 7519 4.1.3: a token meant for another audience is refused by one that has none.
    "audience": (_jwt({"sub": "alice", "exp": int(NOW + 60), "aud": "elsewhere"}), False),
    "other-scope": (_jwt({"sub": "alice", "exp": int(NOW + 60), "scope": "admin"}), False),
    "issued-in-future": (
        _jwt({"sub": "alice", "exp": int(NOW + 900), "iat": int(NOW + 90)}),
        False,
    ),
    "legacy-wrong-secret": (legacy_token(OTHER, {"sub": "alice", "exp": int(NOW + 60)}), False),
    "legacy-expired": (legacy_token(SECRET, {"sub": "alice", "exp": int(NOW - 1)}), True),
    "legacy-not-object": (legacy_token(SECRET, {"sub": ["alice"], "exp": 1}), False),
    "empty": ("", False),
    "no-dot": ("no-dot", False),
    "four-parts": ("a.b.c.d", False),
    "not-b64": ("!!!.???", False),
    "no-sig": (LEGACY.split(".")[0] + ".", False),
}


@pytest.mark.parametrize(("token", "expired"), REFUSED.values(), ids=REFUSED.keys())
def test_refused(token: str, expired: bool) -> None:
    with pytest.raises(ReporterTokenError) as exc:
        verify_reporter_token(SECRET, token, now=NOW)
    assert exc.value.expired is expired
    assert "alice" not in str(exc.value)
    assert SECRET.decode() not in str(exc.value)


def test_issue_needs_a_reporter() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        issue_reporter_token(SECRET, "", 60)


@pytest.mark.parametrize(
    ("secret", "message"),
    [(b"", "is empty"), (b"  \n", "is empty"), (b"x" * (MIN_SECRET_BYTES - 1), "is 31 bytes")],
    ids=["empty", "blank", "short"],
)
def test_unusable_secret_is_refused_naming_the_fix(secret: bytes, message: str) -> None:
    for call in (lambda: reporter_secret(secret), lambda: issue_reporter_token(secret, "a", 60)):
        with pytest.raises(ConfigError, match=message) as exc:
            call()
        assert "head -c 32 /dev/urandom | base64 > reporter.secret" in str(exc.value)


def test_secret_file_with_trailing_newline_gives_tokens_the_server_accepts(
    tmp_path: Path,
) -> None:
    """The issue's bug: ``base64`` ends the file in a newline; the server strips it, so the
    issuer must too. Both read the file through ``reporter_secret``."""
    path = tmp_path / "reporter.secret"
    path.write_bytes(base64.b64encode(b"k" * 32) + b"\n")
    server_key = reporter_secret(path)  # what config_from_args holds
    assert not server_key.endswith(b"\n")
    token = issue_reporter_token(path, "carol", 60, now=NOW)
    assert verify_reporter_token(server_key, token, now=NOW).reporter == "carol"
    # Given the file's raw bytes instead of its path, the issuer reads them the same way.
    token = issue_reporter_token(path.read_bytes(), "carol", 60, now=NOW)
    assert verify_reporter_token(server_key, token, now=NOW).reporter == "carol"


def test_unreadable_secret_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the reporter secret"):
        reporter_secret(tmp_path / "missing")


_SECRETS = st.binary(min_size=MIN_SECRET_BYTES, max_size=64).filter(
    lambda b: len(b.strip()) >= MIN_SECRET_BYTES
)


@given(st.text(min_size=1, max_size=40), _SECRETS)
def test_round_trip(reporter: str, secret: bytes) -> None:
    token = issue_reporter_token(secret, reporter, 10, now=NOW)
    assert verify_reporter_token(reporter_secret(secret), token, now=NOW).reporter == reporter
