"""Vector tables for fps_id, bank_account and ip."""

from __future__ import annotations

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import normalize
from scameter.identifiers.bank import HK_BANK_CODES, bank_name

FPS_VALID = [
    ("1234567", "1234567"),
    ("123456789", "123456789"),
    ("123 4567", "1234567"),
    ("123-456-789", "123456789"),
    ("１２３４５６７", "1234567"),
    (" 1234567 ", "1234567"),
]


@pytest.mark.parametrize(("raw", "canonical"), FPS_VALID, ids=[v[0] for v in FPS_VALID])
def test_fps_canonical(raw: str, canonical: str) -> None:
    ident = normalize("fps_id", raw)
    assert (ident.value, ident.valid) == (canonical, True)


FPS_INVALID = [
    ("12345678", "7 or 9 digits, this has 8"),
    ("123456", "7 or 9 digits, this has 6"),
    ("1234567890", "this has 10"),
    ("12345a7", "only digits"),
    ("", "empty"),
]


@pytest.mark.parametrize(("raw", "reason"), FPS_INVALID, ids=[v[0] or "empty" for v in FPS_INVALID])
def test_fps_rejects(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match="invalid fps_id") as info:
        normalize("fps_id", raw)
    assert reason in info.value.reason


BANK_VALID = [
    ("004-123-456789001", "004-123-456789001", True),
    ("004 123 456 789 001", "004-123-456789001", True),
    ("004123456789001", "004-123-456789001", True),
    ("004-123456789001", "004-123-456789001", True),
    ("012-875-1-234567", "012-875-1234567", True),
    ("024-123-456789-001", "024-123-456789001", True),
    ("003-123-456789", "003-123-456789", True),
    ("389-747-123456789012", "389-747-123456789012", True),
    ("９９９-123-456789", "999-123-456789", False),  # unknown code: kept, flagged
]


@pytest.mark.parametrize(("raw", "canonical", "valid"), BANK_VALID, ids=[v[0] for v in BANK_VALID])
def test_bank_canonical(raw: str, canonical: str, valid: bool) -> None:
    ident = normalize("bank_account", raw)
    assert (ident.value, ident.valid) == (canonical, valid)
    assert normalize("bank_account", ident.value) == ident


BANK_INVALID = [
    ("004-123-45678", "too short"),
    ("004-123-4567890123456", "too long"),
    ("004-ABC-456789", "only digits"),
    ("", "empty"),
]


@pytest.mark.parametrize(
    ("raw", "reason"), BANK_INVALID, ids=[v[0] or "empty" for v in BANK_INVALID]
)
def test_bank_rejects(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match="invalid bank_account") as info:
        normalize("bank_account", raw)
    assert reason in info.value.reason


def test_bank_code_table_names_the_big_banks() -> None:
    assert "Hongkong and Shanghai" in (bank_name("004") or "")
    assert bank_name("024") == "Hang Seng Bank, Limited"
    assert bank_name("999") is None
    assert all(len(c) == 3 and c.isdigit() for c in HK_BANK_CODES)


IP_VALID = [
    ("192.0.2.1", "192.0.2.1"),
    (" 192.0.2.1 ", "192.0.2.1"),
    ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ("[2001:db8::1]", "2001:db8::1"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    ("::1", "::1"),
    ("１９２.０.２.１", "192.0.2.1"),
]


@pytest.mark.parametrize(("raw", "canonical"), IP_VALID, ids=[v[0] for v in IP_VALID])
def test_ip_canonical(raw: str, canonical: str) -> None:
    assert normalize("ip", raw).value == canonical


IP_INVALID = ["256.1.1.1", "01.2.3.4", "1.2.3", "fe80::1%eth0", "example.com", "", "1.2.3.4.5"]


@pytest.mark.parametrize("raw", IP_INVALID, ids=[v or "empty" for v in IP_INVALID])
def test_ip_rejects(raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match="invalid ip"):
        normalize("ip", raw)


def test_ipv4_fast_path_agrees_with_ipaddress() -> None:
    import ipaddress

    from scameter.identifiers.ip import _dotted_quad

    for text in ["0.0.0.0", "255.255.255.255", "1.02.3.4", "256.0.0.1", "1.2.3", "1.2.3.4.5"]:
        try:
            canonical = str(ipaddress.IPv4Address(text)) == text
        except ValueError:
            canonical = False
        assert _dotted_quad(text) is canonical
