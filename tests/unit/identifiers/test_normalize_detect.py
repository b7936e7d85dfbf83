"""The dispatcher (``normalize``) and auto-detection (``detect``)."""

from __future__ import annotations

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind, detect, normalize
from scameter.identifiers.normalize import NORMALIZERS


def test_every_kind_has_a_normaliser() -> None:
    assert set(NORMALIZERS) == set(Kind)


@pytest.mark.parametrize("kind", ["phone", Kind.PHONE], ids=["str", "enum"])
def test_kind_may_be_a_string_or_the_enum(kind: str) -> None:
    assert normalize(kind, "91234567").value == "+85291234567"


def test_unknown_kind_is_an_invalid_identifier() -> None:
    with pytest.raises(InvalidIdentifier, match="unknown identifier kind") as info:
        normalize("fax", "12345")
    assert info.value.kind == "fax"
    assert isinstance(info.value, ValueError)


# (raw, expected "kind:value" strings in order)
DETECT = [
    ("91234567", ["phone:+85291234567"]),
    ("9123 4567", ["phone:+85291234567"]),
    ("+852 9123 4567", ["phone:+85291234567"]),
    ("00852 9123 4567", ["phone:+85291234567"]),
    ("1234567", ["fps_id:1234567"]),
    ("123456789", ["fps_id:123456789"]),
    ("800 123 456", ["fps_id:800123456", "phone:+852800123456"]),
    ("18222", ["phone:18222"]),
    ("8613812345678", ["phone:+8613812345678"]),
    ("004-123-456789001", ["bank_account:004-123-456789001"]),
    ("004123456789001", ["bank_account:004-123-456789001"]),
    (
        "@scam_king",
        [
            "platform_account:telegram:scam_king",
            "platform_account:instagram:scam_king",
            "platform_account:x:scam_king",
            "platform_account:tiktok:scam_king",
        ],
    ),
    (
        "@ab",
        ["platform_account:instagram:ab", "platform_account:x:ab", "platform_account:tiktok:ab"],
    ),
    ("telegram:@Scam_King", ["platform_account:telegram:scam_king"]),
    ("Foo@Example.COM", ["email:foo@example.com"]),
    ("mailto:foo@example.com", ["email:foo@example.com"]),
    ("192.0.2.1", ["ip:192.0.2.1"]),
    ("2001:DB8::1", ["ip:2001:db8::1"]),
    (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        ["crypto_wallet:ethereum:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"],
    ),
    (
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        ["crypto_wallet:bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"],
    ),
    (
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        ["crypto_wallet:bitcoin:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"],
    ),
    (
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        ["crypto_wallet:tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"],
    ),
    ("example.com", ["domain:example.com", "url:http://example.com/"]),
    (
        "https://t.me/scam_king",
        ["platform_account:telegram:scam_king", "url:https://t.me/scam_king"],
    ),
    ("www.example.com/login", ["url:http://www.example.com/login"]),
    ("evil.example:8080", ["url:http://evil.example/"]),
    ("#HSBC", ["sms_sender:#HSBC"]),
    ("#Chong Hing", ["sms_sender:#CHONGHING"]),
    ("＃ＧｏｖＨＫ", ["sms_sender:#GOVHK"]),
]


@pytest.mark.parametrize(("raw", "expected"), DETECT, ids=[d[0] for d in DETECT])
def test_detect(raw: str, expected: list[str]) -> None:
    found = detect(raw)
    assert [str(i) for i in found] == expected
    for ident in found:  # detection never invents a form the normaliser would not give
        assert normalize(ident.kind, ident.value) == ident


JUNK = [
    "",
    "   ",
    "hello",
    "hello world",
    "12",
    "!!!",
    "@",
    "@@",
    "a@",
    "0x",
    "1.2",
    "T",
    "\x00",
    "💣",
    "#",
    "#匯豐銀行",
    "#twelve_chars",
]


@pytest.mark.parametrize("raw", JUNK, ids=[repr(j) for j in JUNK])
def test_junk_gives_nothing(raw: str) -> None:
    assert detect(raw) == []


def test_make_identifier_is_an_ordinary_identifier() -> None:
    """``make_identifier`` (the lookups' constructor, no dataclass ``__init__``) gives the
    value the dataclass gives: same type, equality, hash, key and immutability."""
    import dataclasses

    from scameter.identifiers.model import make_identifier

    for args in ((Kind.URL, "http://evil.example/"), (Kind.PHONE, "+85220000000", False)):
        made, plain = make_identifier(*args), Identifier(*args)
        assert type(made) is Identifier
        assert made == plain
        assert hash(made) == hash(plain)
        assert made.key == plain.key
        assert repr(made) == repr(plain)
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.value = "x"  # type: ignore[misc]
