"""The derivation table (``scameter.identifiers.derive``): vectors per row, chains, the ingest
subset, ``tel:``/``sms:`` spellings, and the documented table equal to the code's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind, detect, normalize, normalize_phone
from scameter.identifiers.derive import DERIVATIONS, DERIVING_KINDS, derive

DOCS = Path(__file__).resolve().parents[3] / "docs" / "identifiers.md"

# (id, kind, canonical input, expected [(row name, kind, value)], expected at ingest)
VECTORS: list[tuple[str, Kind, str, list[tuple[str, str, str]], list[Any] | None]] = [
    (
        "email-domain",
        Kind.EMAIL,
        "a@mail.evil.example",
        [("email-domain", "domain", "mail.evil.example")],
        [],
    ),
    ("url-ipv4", Kind.URL, "http://203.0.113.9/login", [("url-ip", "ip", "203.0.113.9")], None),
    ("url-ipv6", Kind.URL, "http://[2001:db8::1]/x", [("url-ip", "ip", "2001:db8::1")], None),
    (
        "url-telegram",
        Kind.URL,
        "https://t.me/some_handle",
        [("url-account", "platform_account", "telegram:some_handle")],
        None,
    ),
    (
        "url-wa-me-chain",
        Kind.URL,
        "https://wa.me/85263912745",
        [
            ("url-account", "platform_account", "whatsapp:+85263912745"),
            ("url-account", "phone", "+85263912745"),
        ],
        None,
    ),
    (
        "url-whatsapp-api",
        Kind.URL,
        "https://api.whatsapp.com/send?phone=85263912745",
        [("url-whatsapp-phone", "phone", "+85263912745")],
        None,
    ),
    (
        "url-whatsapp-scheme",
        Kind.URL,
        "whatsapp://send/?phone=85263912745&text=hi",
        [("url-whatsapp-phone", "phone", "+85263912745")],
        None,
    ),
    (
        "account-phone",
        Kind.PLATFORM_ACCOUNT,
        "telegram:+85263912745",
        [("account-phone", "phone", "+85263912745")],
        None,
    ),
    ("account-handle", Kind.PLATFORM_ACCOUNT, "telegram:some_handle", [], None),
    ("url-plain", Kind.URL, "https://example.com/x", [], None),
    ("url-not-a-profile", Kind.URL, "https://t.me/joinchat/abcdef", [], None),
    ("url-whatsapp-no-phone", Kind.URL, "https://api.whatsapp.com/send?text=hi", [], None),
    ("url-host-ends-in-digit-not-ip", Kind.URL, "http://a.b1/", [], None),
    ("phone-none", Kind.PHONE, "+85263912745", [], None),
]


@pytest.mark.parametrize(
    ("kind", "value", "expected", "ingest"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS]
)
def test_vectors(
    kind: Kind, value: str, expected: list[tuple[str, str, str]], ingest: list[Any] | None
) -> None:
    got = [(row.name, i.kind.value, i.value) for row, i in derive(Identifier(kind, value))]
    assert got == expected
    at_ingest = [
        (row.name, i.kind.value, i.value) for row, i in derive(Identifier(kind, value), ingest=True)
    ]
    assert at_ingest == (expected if ingest is None else ingest)
    for _, ident in derive(Identifier(kind, value)):
        assert normalize(ident.kind, ident.value) == ident  # the target's own canonical form
    assert (kind.value in DERIVING_KINDS) == any(d.source is kind for d in DERIVATIONS)


@pytest.mark.parametrize(
    "raw",
    ["tel:+85263912745", "TEL:+852-6391-2745;ext=12", "sms:63912745?body=hi", "smsto:63912745"],
)
def test_link_spellings_are_phone_numbers(raw: str) -> None:
    assert normalize_phone(raw).value == "+85263912745"
    assert [(i.kind, i.value) for i in detect(raw)] == [(Kind.PHONE, "+85263912745")]


def test_sms_link_to_several_numbers_is_refused() -> None:
    with pytest.raises(InvalidIdentifier, match="several numbers"):
        normalize_phone("sms:63912745,51234567")


def test_mailto_is_an_email() -> None:
    assert [i.value for i in detect("mailto:A@Evil.Example?subject=x")] == ["a@evil.example"]


def test_docs_table_is_the_code_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Derived identifiers", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (\w+) \| (\w+) \| (yes|no) \|", section, re.M)
    assert rows == [
        (d.name, d.source.value, d.target.value, "yes" if d.at_ingest else "no")
        for d in DERIVATIONS
    ]
