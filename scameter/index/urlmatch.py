"""URL and domain lookups: Safe Browsing expressions against ``urlexpr`` (design section 5).

Responsibility: the URL / domain half of the lookup rules, as methods mixed into
:class:`~scameter.index.reader.Snapshot` through :class:`~scameter.index.lookup.LookupMixin`:

* every Safe Browsing expression of the canonical URL (host suffixes x path prefixes, see
  :func:`scameter.identifiers.expressions_for_canonical`) is probed in ``urlexpr`` with one
  ``getmulti``; the worst listing wins and ``matched`` names its expression;
* a domain is checked as ``http://<host>/`` plus its own record;
* an allowlist match outranks listings, except a HIGH RISK *path* listing (an expression with
  a path other than ``/``), which wins for that path on an allowlisted platform host;
* nothing listed: the near-match signals of :mod:`scameter.index.nearmatch`.

Invariants: an expression whose stored text differs from the probed one (a 64-bit key
collision) is ignored; no logging, no I/O beyond LMDB reads of a mapped file.
"""

from __future__ import annotations

from typing import Any

from scameter.identifiers import Identifier, Kind, expression_key, expressions_for_canonical
from scameter.index import format as fmt
from scameter.index.nearmatch import NearMatchMixin
from scameter.verdict import SEVERITY, Level, Verdict


class UrlMatchMixin(NearMatchMixin):
    """URL and domain answers; the host class provides the LMDB handles (``Snapshot``)."""

    _allow: Any
    _urlexpr: Any
    _allow_keys: frozenset[bytes]

    # Provided by LookupMixin (declared here for the type checker).
    def _from_record(
        self,
        raw: str,
        buf: bytes,
        *,
        canonical: str | None = None,
        kind: str | None = None,
        matched: str | None = None,
    ) -> Verdict:
        raise NotImplementedError

    def _check_url(self, raw: str, canonical: str, url: str, *, domain: bool = False) -> Verdict:
        exprs = expressions_for_canonical(url)
        kind = Kind.DOMAIN.value if domain else Kind.URL.value
        txn = self._txn()
        found = txn.cursor(db=self._urlexpr).getmulti([expression_key(e) for e in exprs])
        best: tuple[int, bytes, str] | None = None
        allow: tuple[bytes, str] | None = None
        if found:
            wanted = set(exprs)
            for _, value in found:
                flags = value[0]
                pos = 1
                lkey = akey = None
                if flags & 1:
                    lkey = value[pos : pos + 8]
                    pos += 8
                if flags & 2:
                    akey = value[pos : pos + 8]
                    pos += 8
                expr = value[pos:].decode("utf-8")
                if expr not in wanted:
                    continue  # expression-key collision
                if lkey is not None:
                    buf = txn.get(lkey, db=self._records)
                    if buf is not None:
                        sev = SEVERITY[fmt.record_level(buf)]
                        if best is None or sev > best[0]:
                            best = (sev, buf, expr)
                if akey is not None and allow is None:
                    abuf = txn.get(akey, db=self._allow)
                    if abuf is not None:
                        allow = (abuf, expr)
        if domain:
            key = Identifier(Kind.DOMAIN, canonical).key
            buf = txn.get(key, db=self._records)
            if buf is not None and fmt.record_canonical(buf) == canonical:
                sev = SEVERITY[fmt.record_level(buf)]
                if best is None or sev > best[0]:
                    best = (sev, buf, canonical + "/")
            if allow is None and key in self._allow_keys:
                abuf = txn.get(key, db=self._allow)
                if abuf is not None and fmt.record_canonical(abuf) == canonical:
                    allow = (abuf, canonical + "/")
        if allow is not None and not (
            best is not None and best[0] == SEVERITY[Level.HIGH_RISK] and _has_path(best[2])
        ):
            abuf, aexpr = allow
            return self._from_record(raw, abuf, canonical=canonical, kind=kind, matched=aexpr)
        if best is not None:
            return self._from_record(raw, best[1], canonical=canonical, kind=kind, matched=best[2])
        host = url.partition("://")[2].partition("/")[0]
        return self._host_miss(raw, kind, canonical, host)


def _has_path(expr: str) -> bool:
    """``True`` for ``host/path...`` expressions, ``False`` for host-level ``host/``."""
    return not expr.endswith("/") or expr.count("/") > 1 or "?" in expr
