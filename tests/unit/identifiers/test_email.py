"""Vector table for the email kind (RFC 5321/5322 pragmatic subset, IDNA domains)."""

from __future__ import annotations

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import normalize

VALID = [
    ("foo@example.com", "foo@example.com"),
    ("Foo.Bar@Example.COM", "foo.bar@example.com"),
    ("  foo@example.com  ", "foo@example.com"),
    ("mailto:foo@example.com?subject=hi", "foo@example.com"),
    ("MAILTO:foo@example.com", "foo@example.com"),
    ("first.last+tag@gmail.com", "first.last+tag@gmail.com"),  # no Gmail folding
    ("f.o.o@gmail.com", "f.o.o@gmail.com"),
    ("user@bücher.example", "user@xn--bcher-kva.example"),
    ("ｆｏｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "foo@example.com"),
    ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("a@b.co", "a@b.co"),
    ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
]


@pytest.mark.parametrize(("raw", "canonical"), VALID, ids=[v[0][:40] for v in VALID])
def test_canonical_form(raw: str, canonical: str) -> None:
    ident = normalize("email", raw)
    assert ident.value == canonical
    assert normalize("email", ident.value) == ident


INVALID = [
    ("", "empty"),
    ("foo", "no '@'"),
    ("@example.com", "nothing before"),
    ("foo@", "no domain"),
    ("a@b@example.com", "extra '@'"),
    ('"a b"@example.com', "quoted"),
    (".foo@example.com", "misplaced dot"),
    ("foo.@example.com", "misplaced dot"),
    ("fo..o@example.com", "misplaced dot"),
    ("fo o@example.com", "not allowed"),
    ("foo@localhost", "at least one dot"),
    ("foo@[192.0.2.1]", "IP-literal"),
    ("foo@exa mple.com", "bad domain"),
    ("x" * 65 + "@example.com", "longer than 64"),
    ("x" * 64 + "@" + ("b" * 50 + ".") * 4 + "com", "longer than 254"),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID, ids=[v[1] + ":" + v[0][:20] for v in INVALID])
def test_rejects_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize("email", raw)
    assert info.value.kind == "email"
    assert reason in info.value.reason
