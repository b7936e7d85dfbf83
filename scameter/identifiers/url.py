"""Safe Browsing v4 URL canonicalisation and lookup expressions: the ``url`` identifier kind.

Responsibility: turn a URL as people paste it into the one canonical string Google Safe
Browsing v4 defines ("URLs and Hashing", section Canonicalization,
https://developers.google.com/safe-browsing/v4/urls-hashing), and list the host-suffix x
path-prefix expressions (section Suffix/Prefix Expressions) a lookup probes. Where the text
is silent, the reference client google/safebrowsing ``urls.go`` decides.

The steps, in the specification's order:

1. cut the fragment at the first ``#``; trim surrounding whitespace; remove every tab, CR
   and LF (not their escapes);
2. percent-unescape repeatedly until nothing changes. This works on bytes: the unescaped
   URL can hold any byte, so from here on text is carried as Latin-1 (one char per byte);
3. split ``scheme://userinfo@host:port/path?query``. No scheme means ``http``; a scheme not
   followed by ``//`` (``mailto:``, ``javascript:``) is not a web URL and is rejected;
4. host: IDN (valid UTF-8, non-ASCII) -> punycode; collapse runs of dots; strip leading and
   trailing dots; an IPv4 address in any legal encoding -> dotted quad (:mod:`._ipv4`); a
   bracketed IPv6 address -> RFC 5952 compressed hex form; otherwise ASCII lower-case;
5. path: resolve ``/./`` and ``/../``, collapse ``//``; keep a trailing slash; empty -> ``/``.
   The query is left as it is;
6. percent-escape every byte <= 0x20, >= 0x7F, ``#`` and ``%`` with upper-case hex.

The result is ``scheme://host/path[?query]``: user info and port are dropped, as the
specification's examples do (``http://www.gotaport.com:1234/`` -> ``http://www.gotaport.com/``);
``?`` with an empty query is kept (``http://www.google.com/q?`` stays as it is).

Departures, each deliberate:

* the unescape loop has no round limit and cannot hang: after a few C-speed passes it
  switches to a single left-to-right pass that reaches the same fixed point (percent-escapes
  cannot overlap, so the rewriting is confluent), linear in the input length. The reference
  gives up after 1024 rounds instead;
* the scheme is lower-cased (RFC 3986 section 3.1: schemes are case-insensitive);
* ``//host/path`` (scheme-relative) is read as ``http://host/path``;
* a port that is not a number up to 65535, an unclosed or invalid ``[IPv6]`` literal, and a
  URL without a host raise :class:`InvalidIdentifier` (the reference keeps some of those);
* an IDN host that IDNA refuses keeps its bytes, percent-escaped, as any other odd host.

Invariants: :func:`canonical_url` is idempotent; its result is printable ASCII with no
whitespace and no ``#``, where ``%`` only starts an upper-case escape; every input either
canonicalises or raises :class:`InvalidIdentifier` (kind ``url``), in time linear in its
length. :func:`expressions_for_canonical` returns at most 30 distinct expressions, without
scheme, exact host first.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote_to_bytes

from scameter.errors import InvalidIdentifier
from scameter.identifiers._ipv4 import canonical_ipv4
from scameter.identifiers.domain import ascii_host
from scameter.identifiers.model import Identifier, Kind, make_identifier
from scameter.identifiers.spec import KindSpec

_KIND = "url"
_Raw = str | bytes

# Leading/trailing whitespace trimmed first (the reference uses Go's strings.TrimSpace, which
# trims Unicode White_Space; Python's str.strip() would also eat \x1c-\x1f, so list them).
_WHITESPACE = (
    " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Bytes input: only ASCII whitespace (a lone 0x85 or 0xA0 byte is not UTF-8 whitespace).
_ASCII_WHITESPACE = " \t\n\v\f\r"
# Anything that needs the byte path: percent signs, controls, space and non-ASCII. A URL
# without any of these needs neither unescaping nor escaping (the common case).
_SLOW_RE = re.compile("[\x00-\x20\x7f-\U0010ffff%]")
# The common shape: [scheme://]host[/path][?query], the host plain dotted labels, every char
# printable ASCII other than '#' and '%' (path: also not '?').
_FAST_RE = re.compile(
    r"(?:([A-Za-z][A-Za-z0-9+.\-]*)://)?"
    r"([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)"
    r'(/[!"$&->@-~]*)?'
    r'(\?[!"$&-~]*)?'
)
_ESCAPE_SEQ_RE = re.compile(rb"%[0-9A-Fa-f]{2}")
# Step 6: bytes <= 0x20, >= 0x7F, '#' and '%' (text here is Latin-1, one char per byte), as
# a str.translate table indexed by byte value.
_ESCAPE_TABLE = [
    f"%{b:02X}" if b <= 0x20 or b >= 0x7F or b in b"#%" else chr(b) for b in range(256)
]
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# urls.go getScheme: "host:80/..." is a host and port, not a scheme named "host".
_PORT_AFTER_RE = re.compile(r":[0-9]+(?:/|$)")
_DOTS_RE = re.compile(r"\.{2,}")
# What an IDNA result may hold to stay a host when the canonical URL is parsed again.
_SAFE_IDNA_HOST_RE = re.compile(r"[a-z0-9._\-]*")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_MAX_PORT = 65535
# A host of at most 253 ASCII characters (RFC 1035) comes from far fewer UTF-8 bytes than this
# (UTS #46 deletes "ignored" code points such as U+00AD, but no real link carries 2 kB of them).
_MAX_IDNA_HOST_BYTES = 2048
_FAST_UNESCAPE_ROUNDS = 4
# Safe Browsing v4, Suffix/Prefix Expressions: the exact host plus up to 4 suffixes formed
# from the last 5 components; the exact path (with and without query) plus up to 4 prefixes.
_MAX_HOST_COMPONENTS = 5
_MAX_PATH_PREFIXES = 4


def _invalid(reason: str, raw: _Raw) -> InvalidIdentifier:
    """The error for ``raw``; bytes input is kept as text for display (never in the message)."""
    shown = raw if isinstance(raw, str) else raw.decode("utf-8", "backslashreplace")
    return InvalidIdentifier(_KIND, reason, shown)


def _unescape_fully(data: bytes) -> bytes:
    """The fixed point of repeated percent-unescaping (spec step "repeatedly unescape").

    ``unquote_to_bytes`` decodes one pass of ``%XX`` (leaving ``%`` not followed by two hex
    digits as is); a few passes settle almost every real URL. Deeper nesting (``%2525...``)
    goes to :func:`_unescape_single_pass` so hostile input costs linear time.
    """
    for _ in range(_FAST_UNESCAPE_ROUNDS):
        data = unquote_to_bytes(data)
        if _ESCAPE_SEQ_RE.search(data) is None:
            return data
    return _unescape_single_pass(data)


def _unescape_single_pass(data: bytes) -> bytes:
    """Left-to-right unescape that decodes ``%XX`` again whenever a decoded byte completes one.

    An output buffer with no ``%XX`` in it can only gain one at its end, so checking the last
    three bytes after each append keeps the buffer free of escapes: the result is the fixed
    point the specification's loop reaches, in O(n).
    """
    out = bytearray()
    for byte in data:
        out.append(byte)
        while len(out) >= 3 and out[-3] == 0x25 and out[-2] in _HEX and out[-1] in _HEX:
            value = int(out[-2:], 16)
            del out[-3:]
            out.append(value)
    return bytes(out)


def _split_scheme(text: str) -> tuple[str, str]:
    """``(scheme, rest)`` as urls.go ``getScheme`` splits them; scheme ``""`` if none."""
    match = _SCHEME_RE.match(text)
    if match is None:
        return "", text
    colon = match.end() - 1
    if _PORT_AFTER_RE.match(text, colon) is not None:
        return "", text
    return text[:colon].lower(), text[colon + 1 :]


def _check_port(port: str, raw: _Raw) -> None:
    """A port is empty or decimal up to 65535 (RFC 3986 section 3.2.3); it is then dropped."""
    if port and not (
        len(port) <= 5 and port.isascii() and port.isdigit() and int(port) <= _MAX_PORT
    ):
        raise _invalid("the port is not a number from 0 to 65535", raw)


def _ipv6_host(authority: str, raw: _Raw) -> str:
    """``[IPv6]`` with optional port -> ``[compressed]`` (spec: drop leading zeros, use ``::``)."""
    end = authority.find("]")
    if end < 0:
        raise _invalid("the IPv6 address has no closing ']'", raw)
    tail = authority[end + 1 :]
    if tail:
        if tail[0] != ":":
            raise _invalid("unexpected text after the IPv6 address", raw)
        _check_port(tail[1:], raw)
    try:
        address = ipaddress.IPv6Address(authority[1:end])
    except ValueError as exc:
        raise _invalid("not a valid IPv6 address in brackets", raw) from exc
    scope = f"%{address.scope_id}" if address.scope_id else ""
    return f"[{_ipv6_text(address.packed)}{scope}]"


def _ipv6_text(packed: bytes) -> str:
    """RFC 5952 text of 16 address bytes: lower-case hex pieces, the first longest run of two
    or more zero pieces as ``::``, and never dotted IPv4 (the WHATWG URL IPv6 serializer).

    Written out rather than ``IPv6Address.compressed`` because Python 3.13 prints IPv4-mapped
    addresses in dotted form, and a canonical form must not depend on the Python version.
    """
    pieces = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    best_start, best_len = -1, 1
    i = 0
    while i < 8:
        if pieces[i]:
            i += 1
            continue
        j = i
        while j < 8 and not pieces[j]:
            j += 1
        if j - i > best_len:
            best_start, best_len = i, j - i
        i = j
    if best_start < 0:
        return ":".join(f"{p:x}" for p in pieces)
    head = ":".join(f"{p:x}" for p in pieces[:best_start])
    tail = ":".join(f"{p:x}" for p in pieces[best_start + best_len :])
    return f"{head}::{tail}"


def _host(authority: str, raw: _Raw) -> str:
    """Canonical host of an authority (user info and port dropped), as spec step 4 says."""
    at = authority.rfind("@")
    if at >= 0:
        authority = authority[at + 1 :]
    if authority.startswith("["):
        return _ipv6_host(authority, raw)
    colon = authority.find(":")
    if colon >= 0:
        _check_port(authority[colon + 1 :], raw)
        authority = authority[:colon]
    host = authority
    if not host.isascii():
        host = _idna_host(host)
    if ".." in host:
        host = _DOTS_RE.sub(".", host)
    if host.startswith(".") or host.endswith("."):
        host = host.strip(".")
    if not host:
        raise _invalid("the URL has no host name", raw)
    if host[0] == "[":
        # Only a whole authority in brackets is an IPv6 literal; "..[x]" must not become one.
        raise _invalid("not a valid IPv6 address in brackets", raw)
    if host[0].isdigit() or host[-1].isdigit():
        ip = canonical_ipv4(host)
        if ip is not None:
            return ip
    if host.isascii():
        return host.lower()
    # Latin-1 text standing for bytes: lower-case the ASCII letters only, never other bytes.
    return host.encode("latin-1").lower().decode("latin-1")


def _idna_host(host: str) -> str:
    """Punycode for a host whose bytes are UTF-8 text; the bytes unchanged otherwise."""
    if len(host) > _MAX_IDNA_HOST_BYTES:
        return host  # cannot become a DNS name of <= 253 characters; spare the IDNA work
    try:
        text = host.encode("latin-1").decode("utf-8")
        encoded = ascii_host(text)
    except (UnicodeError, InvalidIdentifier):
        return host
    # A mapping that yields '/', '?', '@', ':' or '%' (full-width forms do) would change how
    # the canonical URL parses the second time; keep such hosts as escaped bytes instead.
    if _SAFE_IDNA_HOST_RE.fullmatch(encoded) is None:
        return host
    return encoded


def _clean_path(path: str) -> str:
    """Resolve ``.`` and ``..`` segments and collapse ``//`` (Go ``path.Clean`` as urls.go
    uses it), keeping a trailing slash when the input had one; empty -> ``/``."""
    if not path:
        return "/"
    if "//" not in path and "/." not in path:
        return path
    segments: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    if not segments:
        return "/"
    cleaned = "/" + "/".join(segments)
    return cleaned + "/" if path.endswith("/") else cleaned


def _assemble(text: str, raw: _Raw) -> str:
    """Parse an unescaped URL (spec step 3 on) into ``scheme://host/path[?query]``."""
    scheme, rest = _split_scheme(text)
    if scheme:
        if not rest.startswith("//"):
            raise _invalid(
                "not a web URL: no '//' after the scheme (as in mailto: or javascript:)", raw
            )
        rest = rest[2:]
    else:
        scheme = "http"
        if rest.startswith("//"):
            rest = rest[2:]
    question = rest.find("?")
    if question >= 0:
        query = rest[question:]
        rest = rest[:question]
    else:
        query = ""
    slash = rest.find("/")
    if slash >= 0:
        authority, path = rest[:slash], _clean_path(rest[slash:])
    else:
        authority, path = rest, "/"
    host = _host(authority, raw)
    return f"{scheme}://{host}{path}{query}"


def canonical_url(raw: str | bytes) -> str:
    """Safe Browsing v4 canonical URL (``http://host/path?query``); raises InvalidIdentifier.

    ``raw`` is text, or bytes taken as they are (the specification's examples are byte
    strings such as ``http://\\x01\\x80.com/``); text is encoded as UTF-8 first.

    One platform rule follows the specification: the pages of one Google Form
    (``viewform``, ``formResponse``, ``/u/0/`` account paths, any query) are one form, so
    they share one canonical URL (see :func:`_google_form`).
    """
    canonical = _sb_canonical(raw)
    if _GOOGLE_FORMS in canonical:
        return _google_form(canonical)
    return canonical


#: Google Forms: ``/forms/d/e/<published id>/<page>`` or ``/forms/d/<edit id>/<page>``,
#: optionally under a signed-in account's ``/u/<n>/``. Every page of a form (the form, its
#: answer endpoint, the closed and already-answered pages) names the same form.
_GOOGLE_FORMS = "://docs.google.com/forms/"
_GOOGLE_FORM_RE = re.compile(
    r"(https?)://docs\.google\.com/forms(?:/u/\d+)?/d/(e/)?([A-Za-z0-9_-]{10,})"
    r"/(?:viewform|formresponse|closedform|alreadyresponded)(?:\?.*)?",
    re.IGNORECASE | re.DOTALL,
)


def _google_form(canonical: str) -> str:
    """``https://docs.google.com/forms/d/e/<id>/viewform`` for any page of that form (the
    id's case is kept: ids are case-sensitive); other Google Docs URLs are left alone."""
    m = _GOOGLE_FORM_RE.fullmatch(canonical)
    if m is None:
        return canonical
    scheme, published, form_id = m.groups()
    return f"{scheme}://docs.google.com/forms/d/{published or ''}{form_id}/viewform"


def _sb_canonical(raw: str | bytes) -> str:
    """The Safe Browsing v4 canonicalisation itself (:func:`canonical_url` without the
    platform rule)."""
    if isinstance(raw, bytes):
        # Latin-1 maps each byte to one char, so the text steps below act on the bytes.
        text = raw.decode("latin-1")
        whitespace = _ASCII_WHITESPACE
        encoding = "latin-1"
    else:
        text = raw
        whitespace = _WHITESPACE
        encoding = "utf-8"
    hash_at = text.find("#")
    if hash_at >= 0:
        text = text[:hash_at]
    text = text.strip(whitespace)
    fast = _FAST_RE.fullmatch(text)
    if fast is not None:
        # The common shape, all printable ASCII without '%': nothing to unescape or escape,
        # no IDN, no user info, port or odd dots; the same result as _assemble, sooner.
        scheme, host, path, query = fast.groups()
        if host[0].isdigit() or host[-1].isdigit():
            host = canonical_ipv4(host) or host
        return (
            f"{scheme.lower() if scheme else 'http'}://{host.lower()}"
            f"{_clean_path(path) if path else '/'}{query or ''}"
        )
    if _SLOW_RE.search(text) is None:
        # Printable ASCII without '%': nothing to unescape, nothing to escape, no IDN.
        return _assemble(text, raw)
    if "\t" in text or "\r" in text or "\n" in text:
        text = text.replace("\t", "").replace("\r", "").replace("\n", "")
    # surrogatepass: a lone surrogate (not valid UTF-8) still becomes definite bytes.
    data = text.encode(encoding, "surrogatepass")
    if b"%" in data:
        data = _unescape_fully(data)
    canonical = _assemble(data.decode("latin-1"), raw)
    return canonical.translate(_ESCAPE_TABLE)


def split_canonical(canonical: str) -> tuple[str, str]:
    """``(host, path_and_query)`` of a canonical URL: ``("a.b", "/x?y")``."""
    start = canonical.find("://") + 3
    slash = canonical.find("/", start)
    return canonical[start:slash], canonical[slash:]


def url_host(canonical: str) -> str:
    """The host of a canonical URL (dotted quad, ``[IPv6]`` or lower-case ASCII name)."""
    return split_canonical(canonical)[0]


def _is_ip_host(host: str) -> bool:
    """Canonical hosts are IP addresses exactly when bracketed or four decimal parts."""
    if host.startswith("["):
        return True
    if not host[-1].isdigit():
        return False
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts)


def _lookup_hosts(host: str) -> list[str]:
    """Exact host, then suffixes of its last 5 components, longest first, never the TLD."""
    hosts = [host]
    if _is_ip_host(host):
        return hosts
    cut = host.rfind(".")
    suffixes: list[str] = []
    while cut > 0 and len(suffixes) < _MAX_HOST_COMPONENTS - 1:
        cut = host.rfind(".", 0, cut)
        if cut < 0:
            break
        suffixes.append(host[cut + 1 :])
    suffixes.reverse()
    hosts.extend(suffixes)
    return hosts


def _lookup_paths(path_and_query: str) -> list[str]:
    """Exact path with query, exact path, then ``/`` and up to 3 more directory prefixes."""
    question = path_and_query.find("?")
    if question >= 0:
        path = path_and_query[:question]
        # An empty query adds no expression (Chrome and urls.go both skip it).
        paths = [path_and_query, path] if question + 1 < len(path_and_query) else [path]
    else:
        path = path_and_query
        paths = [path]
    if path != "/":
        paths.append("/")
        end = 0
        for _ in range(_MAX_PATH_PREFIXES - 1):
            end = path.find("/", end + 1)
            if end < 0:
                break
            prefix = path[: end + 1]
            if prefix == path:
                break
            paths.append(prefix)
    return paths


def expressions_for_canonical(canonical: str) -> list[str]:
    """Lookup expressions of an already-canonical URL (no re-canonicalisation).

    Order: for each host (exact first, then shorter suffixes), the exact path with query,
    without query, then prefixes from the root, as the specification lists its example
    (``a.b.c/1/2.html?param=1``, ``a.b.c/1/2.html``, ``a.b.c/``, ``a.b.c/1/``, ``b.c/...``).
    """
    host, path_and_query = split_canonical(canonical)
    paths = _lookup_paths(path_and_query)
    return [h + p for h in _lookup_hosts(host) for p in paths]


def url_expressions(raw: str | bytes) -> list[str]:
    """The host-suffix x path-prefix lookup expressions of ``raw`` (at most 30)."""
    return expressions_for_canonical(canonical_url(raw))


def normalize_url(raw: str) -> Identifier:
    """Canonical ``url`` identifier of ``raw`` (value: :func:`canonical_url`).

    Any scheme followed by ``//`` is canonicalised as Safe Browsing does (``https``, ``ftp``);
    a missing scheme means ``http``.
    """
    return make_identifier(Kind.URL, canonical_url(raw))


SPEC = KindSpec(
    kind=Kind.URL,
    tag=0x02,
    normalize=normalize_url,
    display_name="URL",
    column_hints=("url",),
)

__all__ = [
    "SPEC",
    "canonical_url",
    "expressions_for_canonical",
    "normalize_url",
    "split_canonical",
    "url_expressions",
    "url_host",
]
