"""Full hashes for private lookups: the one definition, and each kind's prefix length.

Responsibility: say, once, which SHA-256 stands for a listed identifier, so the snapshot's
``hashes`` table, the ``SearchHashes`` RPC, the device database, the Python private client
(:mod:`scameter.private`) and the Node example all agree byte for byte.

Definition (docs/privacy.md, "Hashes"):

* ``url`` and ``domain``: ``sha256(utf8(expression))`` of each Safe Browsing lookup
  expression (``evil.example/``, ``sites.google.com/view/scam/``), with no tag, exactly as
  Safe Browsing hashes them, so its published test vectors apply. A listed URL or domain is
  hashed under the expression the snapshot stores it under (its listing), and a path listing
  without a trailing ``/`` also under its directory form, as the ``urlexpr`` table does.
* every other kind: ``sha256(tag || utf8(canonical))``, ``tag`` the kind's one-byte tag
  (docs/snapshot-format.md, "Keys").

Prefix length per kind (:data:`PREFIX_BYTES`): the longest whole number of bytes whose bucket
still holds at least :data:`MIN_BUCKET` plausible identifiers of the kind, given the size of
the kind's identifier space (:data:`SPACE`), between :data:`MIN_PREFIX` and
:data:`MAX_PREFIX`. The computation is written out in docs/privacy.md.

Invariants: pure, no I/O; the hash of a value depends on its kind and canonical form only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from scameter.identifiers.model import KIND_TAGS, Identifier, Kind
from scameter.identifiers.url import expressions_for_canonical

#: A bucket (the identifiers sharing one prefix) must hide a query among at least this many
#: plausible identifiers of its kind.
MIN_BUCKET = 1_000
#: Shortest prefix accepted: a shorter one would ask for 1/256 of every list at once.
MIN_PREFIX = 2
#: Longest prefix: Safe Browsing v5's 4 bytes; the device database stores 4-byte prefixes.
MAX_PREFIX = 4

#: Size of each kind's space of plausible identifiers (a lower bound; docs/privacy.md).
SPACE: Mapping[Kind, int] = {
    Kind.PHONE: 10**8,  # Hong Kong's 8-digit numbers
    Kind.FPS_ID: 10**9,  # 9-digit FPS ids (plus the older 7-digit ones)
    Kind.BANK_ACCOUNT: 50 * 10**3 * 10**6,  # ~50 bank codes x 3-digit branch x >= 6 digits
    Kind.IP: 2**32,  # IPv4 alone
    Kind.SMS_SENDER: 40**6,  # '#' + up to 6 of the 40 allowed characters
    Kind.URL: 2**64,  # unbounded in practice
    Kind.DOMAIN: 2**64,
    Kind.EMAIL: 2**64,
    Kind.PLATFORM_ACCOUNT: 2**64,
    Kind.CRYPTO_WALLET: 2**160,
}


def prefix_bytes_for(space: int) -> int:
    """Longest prefix (bytes) whose ``space / 256**n`` buckets keep >= MIN_BUCKET values."""
    n = MIN_PREFIX
    while n < MAX_PREFIX and space // 256 ** (n + 1) >= MIN_BUCKET:
        n += 1
    return n


#: Kind -> the prefix length (bytes) its clients send.
PREFIX_BYTES: Mapping[Kind, int] = {kind: prefix_bytes_for(SPACE[kind]) for kind in Kind}
#: Every prefix length the server accepts.
PREFIX_LENGTHS: frozenset[int] = frozenset(PREFIX_BYTES.values())


def identifier_hash(kind: Kind, canonical: str) -> bytes:
    """``sha256(tag || utf8(canonical))``: the full hash of a non-URL identifier."""
    return hashlib.sha256(KIND_TAGS[kind] + canonical.encode("utf-8")).digest()


def expression_hash(expression: str) -> bytes:
    """``sha256(utf8(expression))``: Safe Browsing's full hash of a lookup expression."""
    return hashlib.sha256(expression.encode("utf-8")).digest()


def listing_expressions(kind: Kind, canonical: str, listing: str | None) -> list[str]:
    """The expressions a stored URL / domain record answers to (empty for other kinds).

    Its listing when ingest set one, else ``domain/`` for a domain and ``host/path?query``
    for a URL; a path listing without ``/`` or query also under its directory form
    (docs/snapshot-format.md, "url-expression entry").
    """
    if listing is not None:
        expr = listing
    elif kind is Kind.DOMAIN:
        expr = canonical + "/"
    elif kind is Kind.URL:
        _, sep, rest = canonical.partition("://")
        expr = rest if sep else canonical
    else:
        return []
    if "/" in expr[:-1] and "?" not in expr and not expr.endswith("/"):
        return [expr, expr + "/"]
    return [expr]


def record_hashes(kind: Kind, canonical: str, listing: str | None) -> list[bytes]:
    """The full hashes a stored record is found under."""
    if kind is Kind.URL or kind is Kind.DOMAIN:
        return [expression_hash(e) for e in listing_expressions(kind, canonical, listing)]
    return [identifier_hash(kind, canonical)]


def lookup_expressions(ident: Identifier) -> list[str]:
    """The Safe Browsing expressions a lookup of a URL or domain probes (<= 30)."""
    if ident.kind is Kind.DOMAIN:
        return expressions_for_canonical(f"http://{ident.value}/")
    return expressions_for_canonical(ident.value)


def lookup_hashes(ident: Identifier) -> list[bytes]:
    """The full hashes a client computes to check ``ident`` (one per expression for URLs)."""
    if ident.kind is Kind.URL or ident.kind is Kind.DOMAIN:
        return [expression_hash(e) for e in lookup_expressions(ident)]
    return [identifier_hash(ident.kind, ident.value)]


def prefixes(hashes: Iterable[bytes], kind: Kind) -> list[bytes]:
    """The distinct prefixes (the kind's length) of ``hashes``, in first-seen order."""
    n = PREFIX_BYTES[kind]
    return list(dict.fromkeys(h[:n] for h in hashes))


__all__ = [
    "MAX_PREFIX",
    "MIN_BUCKET",
    "MIN_PREFIX",
    "PREFIX_BYTES",
    "PREFIX_LENGTHS",
    "SPACE",
    "expression_hash",
    "identifier_hash",
    "listing_expressions",
    "lookup_expressions",
    "lookup_hashes",
    "prefix_bytes_for",
    "prefixes",
    "record_hashes",
]
