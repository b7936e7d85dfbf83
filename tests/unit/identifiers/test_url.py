"""Vectors for :mod:`scameter.identifiers.url`: Safe Browsing v4 canonicalisation and expressions.

Sources:

* SPEC: Google Safe Browsing API v4, "URLs and Hashing", sections Canonicalization and
  Suffix/Prefix Expressions, https://developers.google.com/safe-browsing/v4/urls-hashing
  (every ``Canonicalize(...)`` example listed there, and the three expression examples).
* GO: the reference client google/safebrowsing, ``urls_test.go`` (TestCanonicalURL,
  TestParseIPAddress, TestGeneratePatterns, TestGenerateLookupPaths), where it agrees with
  the specification. Where it does not, the specification wins and the vector says so.
"""

from __future__ import annotations

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers._ipv4 import canonical_ipv4
from scameter.identifiers.model import Kind
from scameter.identifiers.url import (
    canonical_url,
    expressions_for_canonical,
    normalize_url,
    split_canonical,
    url_expressions,
    url_host,
)

# (id, input, canonical). Inputs given as bytes are byte strings in the source.
SPEC_CANONICAL: list[tuple[str, str | bytes, str]] = [
    ("spec01_pct2525", "http://host/%25%32%35", "http://host/%25"),
    ("spec02_pct2525_twice", "http://host/%25%32%35%25%32%35", "http://host/%25%25"),
    ("spec03_pct252525", "http://host/%2525252525252525", "http://host/%25"),
    ("spec04_pct_inside", "http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
    ("spec05_lone_pct", "http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"),
    ("spec06_plain", "http://www.google.com/", "http://www.google.com/"),
    (
        "spec07_escaped_ip_host",
        "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/"
        "%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
        "http://168.188.99.26/.secure/www.ebay.com/",
    ),
    (
        "spec08_spaces_kept_escaped",
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/"
        ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/"
        ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
    ),
    (
        "spec09_hash_in_host",
        "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833"
        "%252944_55%252B",
        "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
    ),
    ("spec10_decimal_ip", "http://3279880203/blah", "http://195.127.0.11/blah"),
    ("spec11_dotdot", "http://www.google.com/blah/..", "http://www.google.com/"),
    ("spec12_no_scheme_slash", "www.google.com/", "http://www.google.com/"),
    ("spec13_no_scheme", "www.google.com", "http://www.google.com/"),
    ("spec14_fragment", "http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
    ("spec15_host_case", "http://www.GOOgle.com/", "http://www.google.com/"),
    ("spec16_trailing_dots", "http://www.google.com.../", "http://www.google.com/"),
    (
        "spec17_tab_cr_lf",
        "http://www.google.com/foo\tbar\rbaz\n2",
        "http://www.google.com/foobarbaz2",
    ),
    ("spec18_empty_query", "http://www.google.com/q?", "http://www.google.com/q?"),
    ("spec19_query_qmark", "http://www.google.com/q?r?", "http://www.google.com/q?r?"),
    ("spec20_query_qmarks", "http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
    ("spec21_two_fragments", "http://evil.com/foo#bar#baz", "http://evil.com/foo"),
    ("spec22_semicolon", "http://evil.com/foo;", "http://evil.com/foo;"),
    ("spec23_query_semicolon", "http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
    ("spec24_control_bytes_host", b"http://\x01\x80.com/", "http://%01%80.com/"),
    ("spec25_no_trailing_slash", "http://notrailingslash.com", "http://notrailingslash.com/"),
    ("spec26_port_dropped", "http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
    ("spec27_surrounding_space", "  http://www.google.com/  ", "http://www.google.com/"),
    ("spec28_leading_space_host", "http:// leadingspace.com/", "http://%20leadingspace.com/"),
    ("spec29_escaped_space_host", "http://%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("spec30_escaped_space_no_scheme", "%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("spec31_https", "https://www.securesite.com/", "https://www.securesite.com/"),
    ("spec32_escaped_hash_path", "http://host.com/ab%23cd", "http://host.com/ab%23cd"),
    (
        "spec33_double_slash",
        "http://host.com//twoslashes?more//slashes",
        "http://host.com/twoslashes?more//slashes",
    ),
]

GO_CANONICAL: list[tuple[str, str | bytes, str]] = [
    ("go_idn_bytes", b"http://www.\xc3\xbcmlat.com/", "http://www.xn--mlat-zra.com/"),
    ("go_escaped_scheme", "http%3A%2F%2Fwackyurl.com:80/", "http://wackyurl.com/"),
    ("go_weird_host", "http://W!eird<>Ho$^.com/", "http://w!eird<>ho$^.com/"),
    (
        "go_many_dots",
        "http://i.have.way.too.many.dots.com/",
        "http://i.have.way.too.many.dots.com/",
    ),
    ("go_ftp", "ftp://ftp.myfiles.com/", "ftp://ftp.myfiles.com/"),
    # urls.go prints lower-case hex; the specification asks for upper case.
    ("go_escape_hex_upper", "http://some%1bhost.com/%1b", "http://some%1Bhost.com/%1B"),
    ("go_ipv6", "http://[2001:470:1:18::114]/", "http://[2001:470:1:18::114]/"),
    ("go_hex_ip", "http://0x12.0x43.0x44.0x01", "http://18.67.68.1/"),
    ("go_ip_port", "http://192.168.0.1:80/index.html", "http://192.168.0.1/index.html"),
    ("go_leading_dots", "http://..google.com/foo.html", "http://google.com/foo.html"),
    ("go_dots_port", "http://google.com.:8080/foo.html", "http://google.com/foo.html"),
    ("go_path_dots", "http://a.com/foo/.././bar/./../foo.html", "http://a.com/foo.html"),
    ("go_path_slashes", "http://a.com//a//b///c////", "http://a.com/a/b/c/"),
    ("go_host_port_no_scheme", "www.google.com:8080/foo.html", "http://www.google.com/foo.html"),
    ("go_host_port_only", "www.google.com:80", "http://www.google.com/"),
]

OURS_CANONICAL: list[tuple[str, str | bytes, str]] = [
    ("idn_text", "http://BÜCHER.de/Ä", "http://xn--bcher-kva.de/%C3%84"),
    ("idn_ideographic_dot", "http://例え。テスト/", "http://xn--r8jz45g.xn--zckzah/"),
    ("idn_escaped_utf8", "http://%E4%BE%8B%E3%81%88.jp/", "http://xn--r8jz45g.jp/"),
    # Mixed left-to-right and right-to-left label: IDNA 2008 and 2003 both refuse it.
    ("idn_refused_kept_as_bytes", "http://a\u05d0.com/", "http://a%D7%90.com/"),
    ("userinfo_dropped", "https://user:pw@Example.com:8443/x", "https://example.com/x"),
    ("scheme_upper", "HTTPS://example.com/", "https://example.com/"),
    ("scheme_relative", "//example.com/a", "http://example.com/a"),
    ("ipv6_compressed", "http://[2001:0DB8:0000::1]:8080/", "http://[2001:db8::1]/"),
    ("ipv6_first_longest_zero_run", "http://[1:0:0:2:0:0:3:4]/", "http://[1::2:0:0:3:4]/"),
    ("ipv6_longest_zero_run", "http://[1:0:0:2:0:0:0:3]/", "http://[1:0:0:2::3]/"),
    ("ipv6_no_zero_run", "http://[1:2:3:4:5:6:7:0]/", "http://[1:2:3:4:5:6:7:0]/"),
    ("ipv6_all_zero", "http://[::]/", "http://[::]/"),
    ("ipv6_v4_mapped_hex", "http://[::ffff:1.2.3.4]/", "http://[::ffff:102:304]/"),
    ("ipv6_v4_compat_hex", "http://[::192.9.5.5]/ipng", "http://[::c009:505]/ipng"),
    ("ipv6_zone", "http://[fe80::1%25eth0]/", "http://[fe80::1%25eth0]/"),
    ("octal_ip", "http://012.034.01.055/", "http://10.28.1.45/"),
    ("short_ip", "http://10.1/", "http://10.0.0.1/"),
    ("not_ip_five_parts", "http://1.2.3.4.5/", "http://1.2.3.4.5/"),
    ("query_not_cleaned", "http://a.com/x?y=/../z//w", "http://a.com/x?y=/../z//w"),
    ("escaped_qmark_becomes_query", "http://a.com/x%3Fy", "http://a.com/x?y"),
    ("escaped_dotdot", "http://a.com/b/%2E%2E/c", "http://a.com/c"),
    ("unicode_space_trimmed", "\u3000http://a.com/\u00a0", "http://a.com/"),
    ("lone_surrogate", "http://a.com/\ud800", "http://a.com/%ED%A0%80"),
    ("nul_byte", "http://a.com/\x00", "http://a.com/%00"),
    ("nested_escapes_deep", "http://a.com/%" + "25" * 3000 + "41", "http://a.com/A"),
    ("bytes_high", b"http://a.com/\xff", "http://a.com/%FF"),
]

ALL_CANONICAL = SPEC_CANONICAL + GO_CANONICAL + OURS_CANONICAL


@pytest.mark.parametrize(
    ("raw", "expected"), [v[1:] for v in ALL_CANONICAL], ids=[v[0] for v in ALL_CANONICAL]
)
def test_canonical_url(raw: str | bytes, expected: str) -> None:
    assert canonical_url(raw) == expected
    assert canonical_url(expected) == expected


def test_spec_examples_all_present() -> None:
    # The v4 page lists 33 Canonicalize() examples; losing one from the table must fail.
    assert len(SPEC_CANONICAL) == 33
    assert len({v[0] for v in ALL_CANONICAL}) == len(ALL_CANONICAL)


INVALID: list[tuple[str, str, str]] = [
    # GO TestCanonicalURL: all of these lack a usable host.
    ("empty", "", "no host"),
    ("colon", ":", "no host"),
    ("path_only", "/blah", "no host"),
    ("fragment_only", "#ref", "no host"),
    ("path_fragment", "/blah#ref", "no host"),
    ("query_fragment", "?query#ref", "no host"),
    ("path_query_fragment", "/blah?query#ref", "no host"),
    ("path_param", "/blah;param", "no host"),
    ("scheme_fragment", "http://#ref", "no host"),
    ("scheme_path", "http:///blah#ref", "no host"),
    ("scheme_query", "http://?query#ref", "no host"),
    ("scheme_path_query", "http:///blah?query#ref", "no host"),
    ("scheme_path_param", "http:///blah;param", "no host"),
    ("scheme_path_param_query", "http:///blah;param?query#ref", "no host"),
    ("mailto", "mailto:bryner@google.com", "not a web URL"),
    ("scheme_without_slashes", "http:www.google.com:8080/foo.html", "not a web URL"),
    ("bad_port_as_scheme", "www.google.com:xxyy/foo.html:80", "not a web URL"),
    ("only_dots_host", "http://.../", "no host"),
    ("port_letters", "http://a.com:8o/", "port"),
    ("port_too_big", "http://a.com:65536/", "port"),
    ("port_huge", "http://a.com:" + "9" * 5000 + "/", "port"),
    ("ipv6_unclosed", "http://[::1/", "closing"),
    ("ipv6_invalid", "http://[1:2:3]/", "IPv6"),
    ("ipv6_trailing_junk", "http://[::1]x/", "after the IPv6"),
    ("bracket_after_dots", "http://..[a]/", "IPv6"),
]


@pytest.mark.parametrize(("raw", "reason"), [v[1:] for v in INVALID], ids=[v[0] for v in INVALID])
def test_invalid(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        canonical_url(raw)
    assert info.value.kind == "url"
    assert reason in info.value.reason
    assert info.value.raw == raw


def test_invalid_bytes_keeps_raw_as_text() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        canonical_url(b"http:///\xff")
    assert info.value.raw == "http:///\\xff"


# GO TestParseIPAddress (the trailing-rubbish case "10.192.95.89 xy" is left out: urls.go
# escapes the space before it parses IPs, so that rule never applies to a URL).
IPV4 = [
    ("five_parts", "123.123.0.0.1", None),
    ("plain", "255.0.0.1", "255.0.0.1"),
    ("mixed_hex_octal", "12.0x12.01234", "12.18.2.156"),
    ("overflowing_first_part", "276.2.3", "20.2.0.3"),
    ("octal", "012.034.01.055", "10.28.1.45"),
    ("hex", "0x12.0x43.0x44.0x01", "18.67.68.1"),
    ("decimal", "167838211", "10.1.2.3"),
    ("decimal_high", "3279880203", "195.127.0.11"),
    ("max", "4294967295", "255.255.255.255"),
    ("too_big", "4294967296", None),
    ("bad_hex", "1.2.3.00x0", None),
    ("bad_octal", "08.1.1.1", None),
    ("name", "example.com", None),
]


@pytest.mark.parametrize(("host", "expected"), [v[1:] for v in IPV4], ids=[v[0] for v in IPV4])
def test_canonical_ipv4(host: str, expected: str | None) -> None:
    assert canonical_ipv4(host) == expected


# SPEC Suffix/Prefix Expressions examples, in the order the specification lists them.
SPEC_EXPRESSIONS: list[tuple[str, str, list[str]]] = [
    (
        "spec_a_b_c",
        "http://a.b.c/1/2.html?param=1",
        [
            "a.b.c/1/2.html?param=1",
            "a.b.c/1/2.html",
            "a.b.c/",
            "a.b.c/1/",
            "b.c/1/2.html?param=1",
            "b.c/1/2.html",
            "b.c/",
            "b.c/1/",
        ],
    ),
    (
        "spec_seven_components",
        "http://a.b.c.d.e.f.g/1.html",
        [
            "a.b.c.d.e.f.g/1.html",
            "a.b.c.d.e.f.g/",
            "c.d.e.f.g/1.html",
            "c.d.e.f.g/",
            "d.e.f.g/1.html",
            "d.e.f.g/",
            "e.f.g/1.html",
            "e.f.g/",
            "f.g/1.html",
            "f.g/",
        ],
    ),
    ("spec_ip", "http://1.2.3.4/1/", ["1.2.3.4/1/", "1.2.3.4/"]),
]

OTHER_EXPRESSIONS: list[tuple[str, str, list[str]]] = [
    ("go_empty_query", "http://a.b/?", ["a.b/"]),
    ("go_single_label", "http://b/", ["b/"]),
    ("go_two_labels", "http://a.b/", ["a.b/"]),
    (
        "go_deep_path",
        "http://a.b.c/1/2/3/4/5/",
        [
            "a.b.c/1/2/3/4/5/",
            "a.b.c/",
            "a.b.c/1/",
            "a.b.c/1/2/",
            "a.b.c/1/2/3/",
            "b.c/1/2/3/4/5/",
            "b.c/",
            "b.c/1/",
            "b.c/1/2/",
            "b.c/1/2/3/",
        ],
    ),
    (
        "go_ipv6",
        "http://[2001:470:1:18::114]/a/b",
        ["[2001:470:1:18::114]/a/b", "[2001:470:1:18::114]/", "[2001:470:1:18::114]/a/"],
    ),
    ("go_ip_no_suffixes", "http://1.2.3.4/a/b", ["1.2.3.4/a/b", "1.2.3.4/", "1.2.3.4/a/"]),
    (
        # urls.go keeps 7 host components here; the specification's 5 are followed.
        "nine_components",
        "https://a.b.c.d.e.f.g.h.i/",
        ["a.b.c.d.e.f.g.h.i/", "e.f.g.h.i/", "f.g.h.i/", "g.h.i/", "h.i/"],
    ),
    ("no_scheme", "b.c/", ["b.c/"]),
    ("not_an_ip", "http://1.2.3.4.5/", ["1.2.3.4.5/", "2.3.4.5/", "3.4.5/", "4.5/"]),
]

ALL_EXPRESSIONS = SPEC_EXPRESSIONS + OTHER_EXPRESSIONS


@pytest.mark.parametrize(
    ("raw", "expected"), [v[1:] for v in ALL_EXPRESSIONS], ids=[v[0] for v in ALL_EXPRESSIONS]
)
def test_url_expressions(raw: str, expected: list[str]) -> None:
    assert url_expressions(raw) == expected
    assert expressions_for_canonical(canonical_url(raw)) == expected


def test_expressions_at_most_thirty() -> None:
    expressions = url_expressions("http://a.b.c.d.e.f.g.h/1/2/3/4/5/6.html?q=1")
    assert len(expressions) == 30
    assert len(set(expressions)) == 30
    assert expressions[0] == "a.b.c.d.e.f.g.h/1/2/3/4/5/6.html?q=1"
    assert expressions[-1] == "g.h/1/2/3/"


def test_helpers() -> None:
    canonical = canonical_url("https://user@Sub.Example.com:8443/a/b?c=d")
    assert split_canonical(canonical) == ("sub.example.com", "/a/b?c=d")
    assert url_host(canonical) == "sub.example.com"
    ident = normalize_url("Example.com")
    assert ident.kind is Kind.URL
    assert ident.value == "http://example.com/"


HOSTILE: list[tuple[str, str | bytes]] = [
    ("nested_2525", "http://h/%" + "25" * 100_000 + "32%35"),
    ("repeated_2525", "http://h/" + "%2525" * 20_000),
    ("many_percents", "http://h/" + "%" * 100_000),
    ("half_escapes", "http://" + "%2" * 50_000),
    ("long_host", "http://" + "a." * 50_000 + "/"),
    ("long_dotdot", "http://h/" + "/.." * 30_000),
    ("long_plain", "x" * 100_000),
    ("nul_bytes", "\x00" * 100_000),
    ("ip_like", "1." * 50_000),
    ("digits_host", "http://" + "1" * 100_000 + "/"),
    ("hex_host", "http://0x" + "f" * 100_000 + "/"),
    ("surrogates", "http://\ud800\udfff/\udc00"),
    ("random_bytes", bytes(range(256)) * 100),
]


@pytest.mark.parametrize("raw", [v[1] for v in HOSTILE], ids=[v[0] for v in HOSTILE])
def test_hostile_input_terminates(raw: str | bytes) -> None:
    """Canonicalises or raises InvalidIdentifier; the output is stable (no timing asserted)."""
    try:
        canonical = canonical_url(raw)
    except InvalidIdentifier:
        return
    assert canonical_url(canonical) == canonical
    assert canonical.isascii()
    assert "#" not in canonical
    assert len(url_expressions(raw)) <= 30


_FORM = "1FAIpQLSfAbCdEf123_-xyz"


@pytest.mark.parametrize(
    "raw",
    [
        f"https://docs.google.com/forms/d/e/{_FORM}/viewform",
        f"https://docs.google.com/forms/d/e/{_FORM}/viewform?usp=sf_link",
        f"https://docs.google.com/forms/d/e/{_FORM}/formResponse",
        f"https://docs.google.com/forms/u/0/d/e/{_FORM}/viewform",
        f"https://docs.google.com/forms/u/1/d/e/{_FORM}/formResponse?pli=1#top",
        f"HTTPS://DOCS.GOOGLE.COM/forms/d/e/{_FORM}/closedform",
    ],
)
def test_every_page_of_one_google_form_is_one_url(raw: str) -> None:
    assert canonical_url(raw) == f"https://docs.google.com/forms/d/e/{_FORM}/viewform"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Another form stays another form; the id's case is kept (ids are case-sensitive).
        (
            "https://docs.google.com/forms/d/e/1FAIpQLSfOTHERform00/formResponse",
            "https://docs.google.com/forms/d/e/1FAIpQLSfOTHERform00/viewform",
        ),
        # Other Google Docs URLs and unknown form pages are left to the specification.
        ("https://docs.google.com/document/d/abc123/edit", "https://docs.google.com/document/d/abc123/edit"),
        (
            f"https://docs.google.com/forms/d/e/{_FORM}/edit",
            f"https://docs.google.com/forms/d/e/{_FORM}/edit",
        ),
    ],
)  # fmt: skip
def test_google_form_rule_touches_nothing_else(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected
