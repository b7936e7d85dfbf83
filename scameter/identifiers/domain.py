"""Hosts and registrable domains: the ``domain`` identifier kind.

Responsibility: turn what people paste as a domain (``WWW.Example.COM.``, ``bücher.example``,
``例え。テスト``, ``https://example.com/path``) into one canonical host, and find the
registrable domain (eTLD+1) of a host with the Public Suffix List.

Invariants:

* :func:`normalize_host` returns lower-case ASCII only: letters, digits, ``-`` and ``_``,
  labels of 1..63 characters joined by single dots, at most 253 characters, no trailing dot.
  Non-ASCII labels are mapped with UTS #46 (case folding, full-width forms and the ideographic
  and full-width dots U+3002, U+FF0E, U+FF61 become ``.``) and encoded as IDNA 2008 A-labels
  (``xn--...``) by the ``idna`` package. It is idempotent: a canonical host maps to itself.
* ``_`` is accepted although RFC 952/1123 host names forbid it: DNS itself allows it, browsers
  resolve such hosts and scam sites use them (``a_b.example.com``), so rejecting them would
  hide reports. Anything else outside letters, digits, ``-``, ``_`` and ``.`` is rejected.
* IP literals are not domains: a host whose last label is all digits (how the WHATWG URL
  standard recognises an IPv4 host) or that is bracketed is rejected here; the ``ip`` kind and
  the URL layer (:mod:`scameter.identifiers.url`) handle IP hosts.
* :func:`registrable_domain` never touches the network: ``tldextract`` is built once, lazily,
  with no suffix-list URLs and no disk cache, so it reads only the PSL snapshot bundled in the
  package. Private-section suffixes (``github.io``, ``pages.dev``) count as public suffixes,
  so ``foo.github.io`` is its own registrable domain.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import idna

from scameter.errors import InvalidIdentifier
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.spec import KindSpec

if TYPE_CHECKING:
    import tldextract

_KIND = "domain"

# RFC 1035 section 2.3.4: labels are at most 63 octets and a name at most 255 octets on the
# wire, which is 253 characters in dotted text without the trailing dot.
_MAX_LABEL = 63
_MAX_HOST = 253

# One canonical ASCII host (the fast path's test): lower-case LDH plus "_", non-empty labels.
_CANONICAL_ASCII_RE = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_LABEL_RE = re.compile(r"[a-z0-9_-]+")

# Dots that IDNA (RFC 3490 section 3.1, UTS #46 mapping) treats as label separators.
_UNICODE_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})

# IDNA's own messages quote the offending label, and error messages must not carry the
# identifier (scameter.errors), so the reason is fixed; the library error stays chained.
_IDNA_REASON = "the host name is not a valid internationalised domain name (IDNA)"

# How many distinct hosts the PSL lookup remembers; hosts repeat heavily in lookups.
_PSL_CACHE_SIZE = 65_536


def normalize_host(raw: str) -> str:
    """Canonical lower-case ASCII (punycode) host of ``raw``.

    One trailing dot (the DNS root) is dropped. Raises :class:`InvalidIdentifier` (kind
    ``domain``) for empty labels, over-long labels or hosts, characters that cannot appear in a
    host name, IDNA failures and IP literals.
    """
    host = raw.strip()
    if host.isascii():
        host = host.lower()
    else:
        try:
            host = ascii_host(host)
        except InvalidIdentifier as exc:
            raise InvalidIdentifier(_KIND, exc.reason, raw) from None
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise InvalidIdentifier(_KIND, "the host name is empty", raw)
    if len(host) > _MAX_HOST:
        raise InvalidIdentifier(_KIND, f"the host name is longer than {_MAX_HOST} characters", raw)
    if _CANONICAL_ASCII_RE.fullmatch(host) is None:
        _raise_bad_host(host, raw)
    labels = host.split(".")
    for label in labels:
        if len(label) > _MAX_LABEL:
            raise InvalidIdentifier(
                _KIND, f"a label of the host name is longer than {_MAX_LABEL} characters", raw
            )
        if label.startswith("xn--"):
            _check_a_label(label, raw)
    if labels[-1].isdigit():
        raise InvalidIdentifier(_KIND, "an IP address is not a domain; use the ip kind", raw)
    return host


def ascii_host(host: str) -> str:
    """UTS #46-map ``host`` and encode each non-ASCII label as an IDNA A-label (``xn--``).

    ASCII labels and empty labels are left alone, so callers keep their own rules for them
    (this module accepts ``_``, which IDNA 2008 would refuse; the URL layer accepts anything
    Safe Browsing does). Only labels that still hold non-ASCII characters after mapping go
    through ``idna.alabel`` (IDNA 2008 validity: contextual rules, bidi, disallowed code
    points), falling back to IDNA 2003 for symbols. Raises :class:`InvalidIdentifier`.
    """
    host = host.translate(_UNICODE_DOTS)
    try:
        # std3_rules=False: the ASCII character checks are the caller's (see module docstring).
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidIdentifier(_KIND, _IDNA_REASON) from exc
    labels = mapped.split(".")
    for i, label in enumerate(labels):
        if label.isascii():
            continue
        try:
            labels[i] = idna.alabel(label).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            labels[i] = _idna2003_label(label, exc)
    return ".".join(labels)


def _idna2003_label(label: str, error: Exception) -> str:
    """A-label by IDNA 2003 (RFC 3490, Python's ``idna`` codec) for a label IDNA 2008 refuses.

    IDNA 2008 disallows symbols such as emoji, but such names are registered (``xn--ls8h.la``)
    and browsers still resolve them; a scam site on one must still get one canonical key.
    """
    try:
        return label.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidIdentifier(_KIND, _IDNA_REASON) from error


def _check_a_label(label: str, raw: str) -> None:
    """Reject an ``xn--`` label whose payload is not decodable punycode (RFC 3492)."""
    try:
        label[4:].encode("ascii").decode("punycode")
    except UnicodeError as exc:
        raise InvalidIdentifier(_KIND, "an xn-- label is not valid punycode", raw) from exc


def _raise_bad_host(host: str, raw: str) -> None:
    """Raise the most useful :class:`InvalidIdentifier` for a host that failed the pattern."""
    if host.startswith("[") or ":" in host:
        raise InvalidIdentifier(_KIND, "an IP address is not a domain; use the ip kind", raw)
    if any(not label for label in host.split(".")):
        raise InvalidIdentifier(_KIND, "the host name has an empty label (two dots)", raw)
    bad = next(ch for ch in host if not (_LABEL_RE.fullmatch(ch) or ch == "."))
    raise InvalidIdentifier(
        _KIND, f"the host name contains a character not allowed in a domain (U+{ord(bad):04X})", raw
    )


def _host_part(raw: str) -> str:
    """The host of a pasted URL-ish value (``https://user@host:8080/path`` -> ``host``).

    People paste links where a domain is asked for; taking the authority's host is what they
    mean. Scheme, userinfo, port, path, query and fragment are dropped.
    """
    text = raw.strip()
    scheme_end = text.find("://")
    if scheme_end != -1:
        text = text[scheme_end + 3 :]
    for sep in "/?#\\":
        cut = text.find(sep)
        if cut != -1:
            text = text[:cut]
    at = text.rfind("@")
    if at != -1:
        text = text[at + 1 :]
    colon = text.rfind(":")
    if colon != -1 and "]" not in text[colon:] and text[colon + 1 :].isdigit():
        text = text[:colon]
    return text


def normalize_domain(raw: str) -> Identifier:
    """Canonical ``domain`` identifier of ``raw`` (value: :func:`normalize_host`).

    Accepts a bare host or a pasted URL, of which only the host is kept.
    """
    host = _host_part(raw) if any(ch in raw for ch in "/@:?#\\") else raw
    try:
        value = normalize_host(host)
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(_KIND, exc.reason, raw) from None
    return Identifier(Kind.DOMAIN, value)


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    """The one offline PSL extractor, built on first use (never at import time).

    ``suffix_list_urls=()`` disables every fetch and ``cache_dir=None`` every disk cache, so
    ``tldextract`` falls back to the PSL snapshot bundled in its package. Importing here also
    keeps ``tldextract``'s own import-time environment reads out of ``import scameter``.
    """
    import tldextract

    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def _split(host: str) -> tuple[str, str] | None:
    """``(public suffix, registrable domain or "")`` of a canonical host; None for an IP.

    Only hosts of legal DNS length are cached: URL hosts are not length-checked, and a cache
    of 65,536 hostile 100 kB hosts would hold gigabytes.
    """
    if len(host) > _MAX_HOST:
        return _split_uncached(host)
    return _split_cached(host)


def _split_uncached(host: str) -> tuple[str, str] | None:
    if not host or host.startswith("[") or host.rsplit(".", 1)[-1].isdigit():
        return None
    ext = _extractor()(host)
    suffix = ext.suffix
    if not suffix:
        # No PSL rule matched: the PSL algorithm's default rule "*" applies
        # (https://publicsuffix.org/list/ "If no rules match, the prevailing rule is '*'"),
        # so the last label is the suffix. tldextract leaves the suffix empty instead.
        head, _, suffix = host.rpartition(".")
        domain = head.rpartition(".")[2]
    else:
        domain = ext.domain
    return suffix, f"{domain}.{suffix}" if domain else ""


_split_cached = functools.lru_cache(maxsize=_PSL_CACHE_SIZE)(_split_uncached)


def registrable_domain(host: str) -> str | None:
    """Registrable domain (eTLD+1, private suffixes count) of a canonical host, or None.

    None for a bare public suffix (``co.uk``, ``github.io``), a single label under the
    default rule and IP hosts. ``host`` should come from :func:`normalize_host` or the URL
    layer; it is not re-normalised here (hot path).
    """
    parts = _split(host)
    if parts is None or not parts[1]:
        return None
    return parts[1]


def listed_suffix(host: str) -> str | None:
    """Public suffix of a canonical host when a PSL rule lists it, else None.

    Unlike :func:`public_suffix`, the PSL's default rule ``*`` does not count: ``file.txt``
    has no listed suffix, ``hkpost.top`` has ``top``. Free text is full of ``word.word``
    tokens; only a listed suffix makes one a plausible host (the message extractor's test).
    """
    if not host or len(host) > _MAX_HOST:
        return None
    return _listed_cached(host)


@functools.lru_cache(maxsize=_PSL_CACHE_SIZE)
def _listed_cached(host: str) -> str | None:
    if host.startswith("[") or host.rsplit(".", 1)[-1].isdigit():
        return None
    return _extractor()(host).suffix or None


def public_suffix(host: str) -> str | None:
    """Public suffix (PSL, private section included) of a canonical host; None for an IP."""
    parts = _split(host)
    return None if parts is None else parts[0]


SPEC = KindSpec(
    kind=Kind.DOMAIN,
    tag=0x03,
    normalize=normalize_domain,
    display_name="domain name",
    column_hints=("domain",),
)

__all__ = [
    "SPEC",
    "ascii_host",
    "listed_suffix",
    "normalize_domain",
    "normalize_host",
    "public_suffix",
    "registrable_domain",
]
