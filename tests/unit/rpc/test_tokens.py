"""Reporter tokens: issue/verify vectors and a round-trip property."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scameter.rpc.tokens import ReporterTokenError, issue_reporter_token, verify_reporter_token

SECRET = b"0123456789abcdef-secret"
NOW = 1_800_000_000.0


def _tamper_payload(token: str) -> str:
    body, sig = token.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    forged = payload.replace(b'"sub":"alice"', b'"sub":"mallory"')
    return base64.urlsafe_b64encode(forged).rstrip(b"=").decode() + "." + sig


GOOD = issue_reporter_token(SECRET, "alice", 60, now=NOW)


@pytest.mark.parametrize(
    ("token", "expired"),
    [
        (issue_reporter_token(b"another-secret-xyz", "alice", 60, now=NOW), False),
        (issue_reporter_token(SECRET, "alice", 60, now=NOW - 61), True),
        (_tamper_payload(GOOD), False),
        ("", False),
        ("no-dot", False),
        ("a.b.c", False),
        ("!!!.???", False),
        (GOOD.split(".")[0] + ".", False),
    ],
    ids=[
        "wrong-secret",
        "expired",
        "tampered",
        "empty",
        "no-dot",
        "three-parts",
        "not-b64",
        "no-sig",
    ],
)
def test_refused(token: str, expired: bool) -> None:
    with pytest.raises(ReporterTokenError) as exc:
        verify_reporter_token(SECRET, token, now=NOW)
    assert exc.value.expired is expired
    assert "alice" not in str(exc.value)


def test_valid_until_expiry() -> None:
    claims = verify_reporter_token(SECRET, GOOD, now=NOW + 59)
    assert claims.reporter == "alice"
    assert claims.expires_at == int(NOW + 60)
    with pytest.raises(ReporterTokenError):
        verify_reporter_token(SECRET, GOOD, now=NOW + 60)


@pytest.mark.parametrize(
    ("secret", "reporter"), [(b"", "a"), (SECRET, "")], ids=["no-secret", "no-id"]
)
def test_issue_needs_secret_and_reporter(secret: bytes, reporter: str) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        issue_reporter_token(secret, reporter, 60)


@given(st.text(min_size=1, max_size=40), st.binary(min_size=1, max_size=64))
def test_round_trip(reporter: str, secret: bytes) -> None:
    token = issue_reporter_token(secret, reporter, 10, now=NOW)
    assert verify_reporter_token(secret, token, now=NOW).reporter == reporter
