"""URL listing granularity: dedicated domains at the registrable domain, platforms at path."""

from __future__ import annotations

from pathlib import Path

import pytest

from scameter.ingest.granularity import Granularity, parse_platform_lines, split_canonical_url
from scameter.ingest.warninglists import load_warninglists

#: A tiny copy of the MISP warninglists laid out as pymispwarninglists ships them.
FAKE_LISTS = Path(__file__).parents[2] / "fixtures" / "warninglists"
G = Granularity.default(lists=load_warninglists(FAKE_LISTS))

# (id, host, path, query, expected listing)
CASES = [
    ("dedicated-domain", "login.evil.example", "/a/b", None, "evil.example/"),
    ("dedicated-root", "evil.example", "/", None, "evil.example/"),
    ("psl-private-user-site", "scammer.github.io", "/x", None, "scammer.github.io/"),
    ("shortener-path", "bit.ly", "/3abc", None, "bit.ly/3abc"),
    ("shortener-bare", "bit.ly", "/", None, None),
    ("cloud-doc-path", "docs.google.com", "/forms/d/e/X/viewform", "usp=sf", (
        "docs.google.com/forms/d/e/X/viewform")),
    ("cloud-doc-bare", "docs.google.com", "/", None, None),
    ("social-www-bare", "www.facebook.com", "/", None, None),
    ("social-generic-path-keeps-query", "www.facebook.com", "/profile.php", "id=1", (
        "www.facebook.com/profile.php?id=1")),
    ("video-keeps-query", "www.youtube.com", "/watch", "v=abc", "www.youtube.com/watch?v=abc"),
    ("site-builder-user", "someone.wixsite.com", "/shop", None, "someone.wixsite.com/"),
    ("site-builder-bare", "wixsite.com", "/", None, None),
    ("site-builder-www", "www.wixsite.com", "/", None, None),
    ("top-site-subdomain", "mail.yahoo.com", "/", None, None),
    ("top-site-page", "www.paypal.com", "/signin", None, "www.paypal.com/signin"),
    ("messaging-link", "t.me", "/scam_channel", None, "t.me/scam_channel"),
    ("ip-host", "203.0.113.7", "/i", None, "203.0.113.7/"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("host", "path", "query", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_listing(host: str, path: str, query: str | None, expected: str | None) -> None:
    assert G.listing(host, path, query) == expected


def test_extra_platforms_from_policy() -> None:
    g = Granularity.default(["scam-friendly-host.example subdomains"], ["big.example"])
    assert g.listing("a.scam-friendly-host.example", "/") == "a.scam-friendly-host.example/"
    assert g.listing("big.example", "/") is None
    with pytest.raises(ValueError, match="unknown mode"):
        parse_platform_lines(["x.example everything"])


SPLITS = [
    ("plain", "http://evil.example/a?b=c", ("evil.example", "/a", "b=c")),
    ("port-and-user", "http://u@evil.example:8080/", ("evil.example", "/", None)),
    ("ipv6", "http://[2001:db8::1]:80/x", ("[2001:db8::1]", "/x", None)),
    ("no-path", "http://evil.example", ("evil.example", "/", None)),
]


@pytest.mark.parametrize(("url", "parts"), [s[1:] for s in SPLITS], ids=[s[0] for s in SPLITS])
def test_split_canonical_url(url: str, parts: tuple[str, str, str | None]) -> None:
    assert split_canonical_url(url) == parts


def test_bundled_data_is_sane() -> None:
    assert G.popular("google.com")
    assert not G.popular("hkpost-redelivery.top")
    for host in ("bit.ly", "docs.google.com", "t.me", "wa.me", "linktr.ee", "github.io"):
        assert host in G.platforms


PSL_PRIVATE = [
    ("s3-bucket", "elonmusk-gives.s3.amazonaws.com", "elonmusk-gives.s3.amazonaws.com/"),
    ("s3-endpoint-bare", "s3.amazonaws.com", None),
    ("tripod-user", "someone.tripod.com", "someone.tripod.com/"),
]


@pytest.mark.parametrize(
    ("host", "expected"), [c[1:] for c in PSL_PRIVATE], ids=[c[0] for c in PSL_PRIVATE]
)
def test_psl_private_names_under_a_platform_are_dedicated(host: str, expected: str | None) -> None:
    assert G.listing(host, "/") == expected
