"""Properties of URL canonicalisation and host normalisation (hypothesis).

* idempotence: a canonical URL (host) canonicalises to itself;
* equivalent spellings (host case, a trailing dot, percent-encoded unreserved characters,
  the default scheme, a fragment, surrounding whitespace) share one canonical form and key;
* arbitrary text or bytes either canonicalise or raise :class:`InvalidIdentifier`;
* at most 30 distinct lookup expressions, the same from raw and from canonical input;
* the regex fast path of :func:`canonical_url` agrees with the general parser.
"""

from __future__ import annotations

import ipaddress
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.errors import InvalidIdentifier
from scameter.identifiers.domain import normalize_domain, normalize_host, registrable_domain
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.url import (
    _FAST_RE,
    _assemble,
    _ipv6_text,
    canonical_url,
    expressions_for_canonical,
    normalize_url,
    url_expressions,
)

# Every property runs with deadline=None: the first call in a process loads the IDNA tables
# and the bundled PSL (~0.3 s, once), which would trip hypothesis' per-example deadline.
_LABEL = st.text(string.ascii_letters + string.digits, min_size=1, max_size=12)
_HOST = st.lists(_LABEL, min_size=1, max_size=7).map(".".join)
_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_SEGMENT = st.text(_UNRESERVED + "!$&'()*+,;=:@", min_size=0, max_size=10)
_PATH = st.lists(_SEGMENT, max_size=7).map(lambda parts: "/" + "/".join(parts))
_QUERY = st.one_of(st.just(""), st.text(_UNRESERVED + "=&/?", max_size=15).map("?{}".format))
# URL-shaped text with the characters that make canonicalisation interesting.
_URLISH = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("%/.:@?#[]\\ \t\n0123456789abcdefABCDEFxX")),
        st.characters(),
    ),
    max_size=60,
)


def _canonical_or_none(raw: str | bytes) -> str | None:
    try:
        return canonical_url(raw)
    except InvalidIdentifier:
        return None


@settings(deadline=None)
@given(st.one_of(_URLISH, st.text(max_size=80)))
def test_canonical_url_is_idempotent_or_invalid(raw: str) -> None:
    canonical = _canonical_or_none(raw)
    if canonical is not None:
        assert canonical_url(canonical) == canonical
        assert canonical.isascii()
        assert "#" not in canonical
        assert not any(ch.isspace() for ch in canonical)


@settings(deadline=None)
@given(st.binary(max_size=80))
def test_bytes_never_raise_anything_else(raw: bytes) -> None:
    canonical = _canonical_or_none(raw)
    if canonical is not None:
        assert canonical_url(canonical) == canonical


@settings(deadline=None)
@given(
    st.one_of(_URLISH, st.text(max_size=80)).map("http://example.com/{}".format)
    | st.builds(lambda h, p: f"http://{h}{p}", _URLISH, _PATH)
)
def test_expressions_bounded_distinct_and_consistent(raw: str) -> None:
    canonical = _canonical_or_none(raw)
    if canonical is None:
        return
    expressions = url_expressions(raw)
    assert 1 <= len(expressions) <= 30
    assert len(set(expressions)) == len(expressions)
    assert expressions == expressions_for_canonical(canonical)
    # The exact URL is always probed (an empty query "?" adds no expression of its own).
    exact = canonical.split("://", 1)[1]
    if exact.find("?") == len(exact) - 1:
        exact = exact[:-1]
    assert exact in expressions


def _percent_encode_some(text: str, mask: int) -> str:
    """Percent-encode the unreserved characters whose position bit is set in ``mask``."""
    return "".join(
        f"%{ord(ch):02x}" if (mask >> (i % 60)) & 1 and ch in _UNRESERVED else ch
        for i, ch in enumerate(text)
    )


@settings(deadline=None)
@given(_HOST, _PATH, _QUERY, st.integers(min_value=0, max_value=2**60), st.booleans())
def test_equivalent_spellings_share_one_key(
    host: str, path: str, query: str, mask: int, https: bool
) -> None:
    scheme = "https" if https else "http"
    plain = normalize_url(f"{scheme}://{host.lower()}{path}{query}")
    spellings = [
        f"{scheme.upper()}://{host.upper()}.{path}{query}",
        f"  {scheme}://{host}{_percent_encode_some(path, mask)}{query}#frag\n",
        f"{scheme}://{_percent_encode_some(host, mask)}{path}{query}",
    ]
    if not https:
        spellings.append(f"{host}{path}{query}")
    for spelling in spellings:
        ident = normalize_url(spelling)
        assert ident == plain
        assert ident.key == plain.key


@settings(deadline=None)
@given(_HOST, st.sampled_from([".", "\u3002", "\uff0e", "\uff61"]), st.booleans())
def test_domain_spellings_share_one_key(host: str, dot: str, trailing: bool) -> None:
    if host.rsplit(".", 1)[-1].isdigit():
        return  # an IP address, not a domain
    canonical = normalize_host(host)
    assert normalize_host(canonical) == canonical
    spelled = host.upper().replace(".", dot) + ("." if trailing else "")
    assert normalize_domain(spelled) == Identifier(Kind.DOMAIN, canonical)
    assert normalize_domain(f"https://{host}/x").key == normalize_domain(canonical).key


@settings(deadline=None)
@given(st.text(max_size=40))
def test_normalize_host_idempotent_or_invalid(raw: str) -> None:
    try:
        canonical = normalize_host(raw)
    except InvalidIdentifier:
        return
    assert normalize_host(canonical) == canonical
    registrable = registrable_domain(canonical)
    assert registrable is None or canonical.endswith(registrable)


_FAST_HOST = st.lists(
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=6)
    | st.sampled_from(["0x1f", "012", "4294967295", "256", "08"]),
    min_size=1,
    max_size=5,
).map(".".join)
_FAST_PATH = st.text(alphabet="/.ab;:@!$&'()*+,=~", max_size=20).map("/{}".format)


@settings(deadline=None)
@given(
    st.sampled_from(["", "http://", "HTTPS://", "ftp://", "a+b-c.d://"]),
    _FAST_HOST,
    st.one_of(st.just(""), _FAST_PATH),
    _QUERY,
)
def test_fast_path_agrees_with_general_parser(
    scheme: str, host: str, path: str, query: str
) -> None:
    """The regex fast path of canonical_url gives what the general parser gives."""
    text = f"{scheme}{host}{path}{query}"
    assert _FAST_RE.fullmatch(text) is not None
    assert canonical_url(text) == _assemble(text, text)


@given(
    st.lists(
        st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xDB8]) | st.integers(0, 0xFFFF),
        min_size=8,
        max_size=8,
    )
)
def test_ipv6_text_is_rfc5952(pieces: list[int]) -> None:
    packed = b"".join(p.to_bytes(2, "big") for p in pieces)
    address = ipaddress.IPv6Address(packed)
    text = _ipv6_text(packed)
    assert ipaddress.IPv6Address(text) == address
    if address.ipv4_mapped is None:  # Python 3.13+ prints those in dotted form
        assert text == address.compressed
