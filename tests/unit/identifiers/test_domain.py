"""Vectors for :mod:`scameter.identifiers.domain`: host canonical form and PSL lookups.

PSL expectations follow the Public Suffix List (https://publicsuffix.org/list/) as bundled in
``tldextract``: ``gov.hk`` and ``co.uk`` are public suffixes, ``github.io`` and ``pages.dev``
are private-section suffixes and count as suffixes here.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers.domain import (
    normalize_domain,
    normalize_host,
    public_suffix,
    registrable_domain,
)
from scameter.identifiers.model import Kind

HOSTS = [
    ("lower", "example.com", "example.com"),
    ("upper_trailing_dot", "WWW.Example.COM.", "www.example.com"),
    ("surrounding_space", "  example.com\n", "example.com"),
    ("idn_latin", "BÜCHER.de", "xn--bcher-kva.de"),
    ("idn_japanese_ideographic_dot", "例え。テスト", "xn--r8jz45g.xn--zckzah"),
    ("fullwidth_dot_ff0e", "example．com", "example.com"),
    ("halfwidth_dot_ff61", "example｡com", "example.com"),
    ("fullwidth_letters", "ＥＸＡＭＰＬＥ.com", "example.com"),
    ("punycode_kept", "XN--BCHER-KVA.de", "xn--bcher-kva.de"),
    ("underscore", "a_b.example.com", "a_b.example.com"),
    ("emoji_idna2003", "💩.la", "xn--ls8h.la"),
    ("sharp_s_nontransitional", "faß.de", "xn--fa-hia.de"),
    ("single_label", "localhost", "localhost"),
    ("max_label", "a" * 63 + ".com", "a" * 63 + ".com"),
]


@pytest.mark.parametrize(("raw", "expected"), [h[1:] for h in HOSTS], ids=[h[0] for h in HOSTS])
def test_normalize_host(raw: str, expected: str) -> None:
    assert normalize_host(raw) == expected
    assert normalize_host(expected) == expected  # idempotent


BAD_HOSTS = [
    ("empty", "", "empty"),
    ("only_dot", ".", "empty"),
    ("double_dot", "foo..com", "empty label"),
    ("leading_dot", ".foo.com", "empty label"),
    ("label_64", "a" * 64 + ".com", "63"),
    ("host_254", ("a" * 62 + ".") * 4 + "abc", "253"),
    ("space", "ex ample.com", "U+0020"),
    ("nul", "\x00.com", "U+0000"),
    ("ipv4", "1.2.3.4", "IP address"),
    ("ipv6", "[::1]", "IP address"),
    ("bad_punycode", "xn--zz.com", "punycode"),
    ("lone_surrogate", "a\ud800.com", "IDNA"),
]


@pytest.mark.parametrize(
    ("raw", "reason"), [h[1:] for h in BAD_HOSTS], ids=[h[0] for h in BAD_HOSTS]
)
def test_normalize_host_rejects(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_host(raw)
    assert info.value.kind == "domain"
    assert reason in info.value.reason


PASTED = [
    ("bare", "Example.COM", "example.com"),
    ("url", "https://example.com/path?q=1#frag", "example.com"),
    ("url_userinfo_port", "http://user:pw@Example.com:8080/x", "example.com"),
    ("scheme_less_path", "www.example.com/login", "www.example.com"),
    ("host_port", "example.com:443", "example.com"),
]


@pytest.mark.parametrize(("raw", "expected"), [h[1:] for h in PASTED], ids=[h[0] for h in PASTED])
def test_normalize_domain(raw: str, expected: str) -> None:
    ident = normalize_domain(raw)
    assert ident.kind is Kind.DOMAIN
    assert ident.value == expected
    assert ident.valid


def test_idna_error_message_does_not_quote_the_host() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_host("a\u05d0.example")  # mixed-direction label: IDNA 2008 and 2003 refuse
    assert "IDNA" in info.value.reason
    assert "\u05d0" not in str(info.value)
    assert info.value.raw == "a\u05d0.example"


def test_normalize_domain_keeps_raw_on_error() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_domain("https://bad..host/")
    assert info.value.raw == "https://bad..host/"
    assert "bad..host" not in str(info.value)


PSL = [
    ("plain", "example.com", "example.com", "com"),
    ("subdomain", "a.b.example.com", "example.com", "com"),
    ("co_uk", "www.example.co.uk", "example.co.uk", "co.uk"),
    ("gov_hk", "www.police.gov.hk", "police.gov.hk", "gov.hk"),
    ("com_hk", "shop.example.com.hk", "example.com.hk", "com.hk"),
    ("private_github_io", "foo.github.io", "foo.github.io", "github.io"),
    ("private_github_io_sub", "x.foo.github.io", "foo.github.io", "github.io"),
    ("private_pages_dev", "a.b.pages.dev", "b.pages.dev", "pages.dev"),
    ("punycode_tld", "xn--bcher-kva.xn--p1ai", "xn--bcher-kva.xn--p1ai", "xn--p1ai"),
    ("default_rule_unknown_tld", "a.evil.zzzunknown", "evil.zzzunknown", "zzzunknown"),
    ("bare_suffix", "co.uk", None, "co.uk"),
    ("bare_private_suffix", "github.io", None, "github.io"),
    ("bare_gov_hk", "gov.hk", None, "gov.hk"),
    ("single_label", "localhost", None, "localhost"),
    ("ipv4", "1.2.3.4", None, None),
]


@pytest.mark.parametrize(
    ("host", "registrable", "suffix"), [p[1:] for p in PSL], ids=[p[0] for p in PSL]
)
def test_psl(host: str, registrable: str | None, suffix: str | None) -> None:
    assert registrable_domain(host) == registrable
    assert public_suffix(host) == suffix


def test_registrable_domain_offline() -> None:
    """With sockets disabled in a fresh interpreter, the PSL lookup still answers."""
    code = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled by test")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from scameter.identifiers.domain import registrable_domain
        print(registrable_domain("www.police.gov.hk"), registrable_domain("foo.github.io"))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["police.gov.hk", "foo.github.io"]
    assert "network disabled" not in done.stderr


def test_registrable_domain_of_overlong_host() -> None:
    """URL hosts are not length-checked; an overlong one still answers (and is not cached)."""
    host = "a." * 50_000 + "com"
    assert registrable_domain(host) == "a.com"
    assert public_suffix(host) == "com"
