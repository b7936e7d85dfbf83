"""URL and domain lookups: Safe Browsing expressions against ``urlexpr`` (design section 5).

Responsibility: the URL / domain rules, read through a
:class:`~scameter.index.reader.SnapshotReader` by :class:`UrlRules`:

* every Safe Browsing expression of the canonical URL (host suffixes x path prefixes, see
  :func:`scameter.identifiers.expressions_for_canonical`) is probed in ``urlexpr`` with one
  ``getmulti``; the worst listing wins and ``matched`` names its expression;
* a domain is checked as ``http://<host>/`` plus its own record;
* an allowlist match outranks listings, except a HIGH RISK *path* listing (an expression with
  a path other than ``/``), which wins for that path on an allowlisted platform host;
* nothing listed: the near-match signals of :class:`~scameter.index.nearmatch.NearRules`.

Invariants: an expression whose stored text differs from the probed one (a 64-bit key
collision) is ignored, and so is a domain record whose canonical value differs; no logging,
no I/O beyond LMDB reads of a mapped file.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import xxhash

from scameter.identifiers import (
    Identifier,
    Kind,
    expression_key,
    expressions_for_canonical,
    identifier_key,
)
from scameter.identifiers.model import NAMESPACE_URL_EXPRESSION
from scameter.index.assembly import VerdictAssembler
from scameter.index.format import record_canonical, record_level
from scameter.index.nearmatch import NearRules
from scameter.index.reader import SnapshotReader
from scameter.verdict import SEVERITY, CheckContext, Level, Verdict

_URL = Kind.URL.value
_DOMAIN = Kind.DOMAIN.value
_HIGH_RISK = SEVERITY[Level.HIGH_RISK]
#: ``urlexpr`` entry flags (docs/snapshot-format.md, "url-expression entry").
_LISTED, _ALLOWED = 0x01, 0x02
_xxh3 = xxhash.xxh3_64_digest  # = expression_key's hash (identifiers/model.py)
_expr_tagged = NAMESPACE_URL_EXPRESSION.__add__
_encode = str.encode


class _Listing(NamedTuple):
    """A listed record found under an expression, with its severity for "the worst wins"."""

    severity: int
    record: bytes
    expression: str


class _Allowed(NamedTuple):
    """An allowlisted record found under an expression."""

    record: bytes
    expression: str


class UrlRules:
    """URL and domain answers of one snapshot."""

    def __init__(self, reader: SnapshotReader, assemble: VerdictAssembler, near: NearRules) -> None:
        self._reader = reader
        self._local = reader.local
        self._record = reader.table.get
        #: ``records`` of ``data.mdb`` read inline (``None``: a sharded snapshot, read through
        #: the router ``_record``).
        self._records = None if reader.table.sharded else reader.records
        self._allow = reader.allow
        self._urlexpr = reader.urlexpr
        self._allow_keys = reader.allow_keys
        self._from_record = assemble.from_record
        self._near = near

    def answer_url(self, raw: str, ident: Identifier, context: CheckContext | None) -> Verdict:
        """The verdict of a canonical URL (``context`` does not change URL answers)."""
        return self._answer(raw, ident.value, ident.value, _URL)

    def answer_domain(self, raw: str, ident: Identifier, context: CheckContext | None) -> Verdict:
        """The verdict of a domain: its ``http://<host>/`` expressions and its own record."""
        return self._answer(raw, ident.value, f"http://{ident.value}/", _DOMAIN)

    def allowed_entry(self, raw: str, canonical: str, kind: Kind) -> tuple[bytes, Verdict] | None:
        """The allow record a URL or domain's answer consults (``None``: none), as (its
        identifier key, its allowed verdict), whether or not a path listing outranks it: for
        a live delta's layered rule (:mod:`scameter.index.delta`), which answers with the
        delta's record of that key where it holds one. Not the hot path."""
        txn = self._reader.txn()
        url = canonical if kind is Kind.URL else f"http://{canonical}/"
        listing, allowed = self._probe(txn, expressions_for_canonical(url))
        if kind is Kind.DOMAIN:
            listing, allowed = self._own_record(txn, canonical, listing, allowed)
        if allowed is None:
            return None
        buf = allowed.record
        key = _xxh3(bytes(buf[:1]) + record_canonical(buf).encode("utf-8"))  # = identifier_key
        v = self._from_record(
            raw, buf, canonical=canonical, kind=kind.value, matched=allowed.expression, allowed=True
        )
        return key, v

    def listings(
        self, raw: str, canonical: str, kind: Kind
    ) -> tuple[list[tuple[str, bytes, Verdict]], tuple[bytes, Verdict] | None]:
        """Every listing a URL or domain's answer weighs, in the order :meth:`_answer` weighs
        them: (expression, record key, its verdict) of the listed record ``urlexpr`` holds
        under each of its expressions; and a domain's own record (its key and verdict, under
        ``<domain>/``), weighed last. For a live delta's layered rule
        (:mod:`scameter.index.delta`), which weighs its own entries beside them. Not the hot
        path."""
        txn = self._reader.txn()
        url = canonical if kind is Kind.URL else f"http://{canonical}/"
        exprs = expressions_for_canonical(url)
        keys = list(map(_xxh3, map(_expr_tagged, map(_encode, exprs))))
        found = txn.cursor(db=self._urlexpr).getmulti(keys)
        wanted = set(exprs)
        out: list[tuple[str, bytes, Verdict]] = []
        own: tuple[bytes, Verdict] | None = None
        decode = self._from_record
        for _, value in found:
            lkey, _, expr = _parse_entry(value)
            buf = None if lkey is None or expr not in wanted else self._record(lkey)
            if lkey is not None and buf is not None:
                v = decode(raw, buf, canonical=canonical, kind=kind.value, matched=expr)
                out.append((expr, lkey, v))
        if kind is Kind.DOMAIN:
            key = identifier_key(Kind.DOMAIN, canonical)
            buf = self._record(key)
            if buf is not None and record_canonical(buf) == canonical:
                expr = canonical + "/"
                own = key, decode(raw, buf, canonical=canonical, kind=kind.value, matched=expr)
        return out, own

    def _answer(self, raw: str, canonical: str, url: str, kind: str) -> Verdict:
        try:
            txn = self._local.txn  # SnapshotReader.txn() inlined: this is the hot path
        except AttributeError:
            txn = self._reader.txn()
        listing, allowed = self._probe(txn, expressions_for_canonical(url))
        if kind == _DOMAIN:
            listing, allowed = self._own_record(txn, canonical, listing, allowed)
        if allowed is not None and not _path_listing_wins(listing):
            return self._from_record(
                raw,
                allowed.record,
                canonical=canonical,
                kind=kind,
                matched=allowed.expression,
                allowed=True,
            )
        if listing is not None:
            return self._from_record(
                raw, listing.record, canonical=canonical, kind=kind, matched=listing.expression
            )
        host = url.partition("://")[2].partition("/")[0]
        return self._near.host_miss(raw, kind, canonical, host)

    def _probe(self, txn: Any, exprs: list[str]) -> tuple[_Listing | None, _Allowed | None]:
        """The worst listing and the first allowlist entry under any of ``exprs`` (one
        ``getmulti`` on ``urlexpr``, then the records they point to)."""
        # expression_key() of each, as one chain of C calls
        keys = list(map(_xxh3, map(_expr_tagged, map(_encode, exprs))))
        found = txn.cursor(db=self._urlexpr).getmulti(keys)
        listing: _Listing | None = None
        allowed: _Allowed | None = None
        if not found:
            return listing, allowed
        wanted = set(exprs)
        records = self._records
        for _, value in found:
            lkey, akey, expr = _parse_entry(value)
            if expr not in wanted:
                continue  # expression-key collision
            if lkey is not None:
                buf = self._record(lkey) if records is None else txn.get(lkey, None, records)
                if buf is not None:
                    listing = _worse(listing, _Listing(SEVERITY[record_level(buf)], buf, expr))
            if akey is not None and allowed is None:
                abuf = txn.get(akey, db=self._allow)
                if abuf is not None:
                    allowed = _Allowed(abuf, expr)
        return listing, allowed

    def _own_record(
        self, txn: Any, canonical: str, listing: _Listing | None, allowed: _Allowed | None
    ) -> tuple[_Listing | None, _Allowed | None]:
        """A domain's own record (``records`` and ``allow``), matched as ``<domain>/``,
        merged into what the expressions found."""
        key = identifier_key(Kind.DOMAIN, canonical)
        expr = canonical + "/"
        buf = self._record(key)
        if buf is not None and record_canonical(buf) == canonical:
            listing = _worse(listing, _Listing(SEVERITY[record_level(buf)], buf, expr))
        if allowed is None and key in self._allow_keys:
            abuf = txn.get(key, db=self._allow)
            if abuf is not None and record_canonical(abuf) == canonical:
                allowed = _Allowed(abuf, expr)
        return listing, allowed


def expression_entry(reader: SnapshotReader, expr: str) -> tuple[bytes | None, bytes | None]:
    """The listed and the allowlisted record key ``urlexpr`` holds under the expression
    ``expr`` (``None`` each: none), for the live fold's domain links
    (:mod:`scameter.ingest.live`). Not the hot path."""
    value = reader.txn().get(expression_key(expr), db=reader.urlexpr)
    if value is None:
        return None, None
    lkey, akey, stored = _parse_entry(bytes(value))
    return (lkey, akey) if stored == expr else (None, None)


def _parse_entry(value: bytes) -> tuple[bytes | None, bytes | None, str]:
    """A ``urlexpr`` entry: (listed record key, allowlisted record key, expression)."""
    flags = value[0]
    pos = 1
    lkey = akey = None
    if flags & _LISTED:
        lkey = value[pos : pos + 8]
        pos += 8
    if flags & _ALLOWED:
        akey = value[pos : pos + 8]
        pos += 8
    return lkey, akey, value[pos:].decode("utf-8")


def _worse(best: _Listing | None, candidate: _Listing) -> _Listing:
    """The more severe of two listings (the first one found wins ties)."""
    return candidate if best is None or candidate.severity > best.severity else best


def _path_listing_wins(listing: _Listing | None) -> bool:
    """A HIGH RISK listing of a *path* outranks an allowlisted host (a scam page hosted on an
    official platform); a host-level listing never does."""
    return listing is not None and listing.severity == _HIGH_RISK and _has_path(listing.expression)


def path_listing_wins(level: Level, expression: str | None) -> bool:
    """Whether a listing of ``level`` under ``expression`` outranks an allowlisted entry
    (:func:`_path_listing_wins` of a verdict's level and ``matched``)."""
    return level is Level.HIGH_RISK and expression is not None and _has_path(expression)


def _has_path(expr: str) -> bool:
    """``True`` for ``host/path...`` expressions, ``False`` for host-level ``host/``."""
    return not expr.endswith("/") or expr.count("/") > 1 or "?" in expr


__all__ = ["UrlRules", "expression_entry", "path_listing_wins"]
