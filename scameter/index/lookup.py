"""Lookup rules: from a canonical identifier to a :class:`Verdict` (design section 5).

Responsibility: the answer semantics, as methods mixed into :class:`Snapshot`:

* Exact kinds: one probe of ``records`` (plus the in-memory allowlist key set). The
  allowlist outranks public reports: an allowlisted identifier that is also reported stays
  VERIFIED and gets ``SPOOF_ADVICE`` (scammers spoof official numbers and sender ids).
* URLs (``urlmatch.py``): every Safe Browsing expression of the canonical URL is probed in
  ``urlexpr`` (one ``getmulti``); the worst listing wins and ``matched`` names its
  expression. An allowlist match outranks listings, except a HIGH RISK *path* listing (an
  expression with a path other than ``/``), which wins for that path on an allowlisted
  platform host.
* Domains: the ``http://<host>/`` expressions plus the domain's own record.
* Near matches, only when nothing is listed exactly (``nearmatch.py``): brand impersonation
  / homograph of an allowlisted official domain (SUSPICIOUS), edit distance 1..2 to a listed
  registrable domain or platform handle (SUSPICIOUS near a HIGH RISK one, else POSSIBLE),
  phone ranges (POSSIBLE). Each has its own reason code; none is silent.
* Context: a ``+852`` number on an overseas incoming call gets
  ``OVERSEAS_CALL_LOCAL_NUMBER`` and at least ``policy.overseas_min_level`` (POSSIBLE by
  default); a VERIFIED number stays VERIFIED and also gets ``SPOOF_ADVICE``.

Invariant: the hot path does no logging and no I/O beyond LMDB reads of a mapped file.
"""

from __future__ import annotations

import gc
import struct
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import xxhash

from scameter.errors import InvalidIdentifier
from scameter.identifiers import (
    KIND_TAGS,
    Identifier,
    Kind,
    detect,
    normalize,
)
from scameter.identifiers.normalize import NORMALIZERS
from scameter.index import format as fmt
from scameter.index.urlmatch import UrlMatchMixin
from scameter.times import _CACHE as _iso_cache
from scameter.times import iso_utc
from scameter.verdict import (
    SEVERITY,
    Channel,
    CheckContext,
    Level,
    Reason,
    ReasonCode,
    Verdict,
    make_verdict,
    worst,
)

if TYPE_CHECKING:
    from pyroaring import BitMap

_xxh3 = xxhash.xxh3_64_digest  # = Identifier.key's hash (identifiers/model.py)
_HEADER = fmt.HEADER
_F_OWNER, _F_LISTING, _F_FIRST, _F_LAST, _F_CLUSTER = (
    fmt.F_OWNER,
    fmt.F_LISTING,
    fmt.F_FIRST,
    fmt.F_LAST,
    fmt.F_CLUSTER,
)
_KIND_TAGS = KIND_TAGS
_NORMALIZERS = NORMALIZERS
_HSIZE = fmt.HEADER.size
_U16 = fmt.U16
_LEVEL = fmt.LEVEL_BY_CODE
_KIND_VALUE = {tag: kind.value for tag, kind in fmt.KIND_BY_TAG.items()}
_URL = Kind.URL
_DOMAIN = Kind.DOMAIN
_EXACT_KINDS = frozenset(k for k in Kind if k not in (Kind.URL, Kind.DOMAIN))
_DEFAULT_REASON = {
    Level.HIGH_RISK: ReasonCode.POLICE_CONFIRMED,
    Level.SUSPICIOUS: ReasonCode.PUBLIC_REPORTS,
    Level.POSSIBLE: ReasonCode.PUBLIC_REPORTS,
    Level.VERIFIED: ReasonCode.ALLOWLISTED,
}
_CODES = {c.value: c for c in ReasonCode}
#: Compiled structs for the string-id arrays (at most 3 x 255 ids per record).
_IDS = [struct.Struct(f"<{n}H") for n in range(3 * 255 + 1)]


class LookupMixin(UrlMatchMixin):
    """Verdict logic; the host class provides the LMDB handles (see :class:`Snapshot`)."""

    id: str
    policy: fmt.IndexPolicy
    _strings: tuple[str, ...]
    _records: Any
    _allow: Any
    _urlexpr: Any
    _allow_keys: frozenset[bytes]
    _local: threading.local

    # Provided by Snapshot (declared here for the type checker).
    def _by_ordinal(self, ordinal: int) -> tuple[int, bytes, bytes] | None:
        raise NotImplementedError

    def bitmap(self, name: str) -> BitMap:
        raise NotImplementedError

    def _init_lookup(self) -> None:
        self._near_cache = {}
        self._reason_cache: dict[tuple[tuple[int, ...], int], tuple[Reason, ...]] = {}
        self._trait_cache: dict[
            bytes, tuple[Level, tuple[Reason, ...], tuple[str, ...], Level | None]
        ] = {}

    # -- public API -----------------------------------------------------------------------

    def check(
        self,
        raw: str,
        kind: Kind | str | None = None,
        *,
        context: CheckContext | None = None,
    ) -> Verdict:
        """Normalise ``raw`` (as ``kind``, or every plausible kind) and answer.

        Raises :class:`InvalidIdentifier` when ``raw`` is not a valid identifier (of
        ``kind``); :meth:`check_many` returns invalid verdicts instead.
        """
        if kind is not None:
            # The kind's normaliser directly (normalize() adds a dispatch and a type check:
            # a tenth of a phone check); anything unusual takes normalize() and its errors.
            norm = _NORMALIZERS.get(kind)
            if norm is not None and raw.__class__ is str:
                return self._answer(norm(raw), raw, context)
            return self._answer(normalize(kind, raw), raw, context)
        candidates = detect(raw)
        if not candidates:
            raise InvalidIdentifier(None, "not recognised as any identifier kind", raw)
        if len(candidates) == 1:
            return self._answer(candidates[0], raw, context)
        return worst([self._answer(c, raw, context) for c in candidates])

    def check_identifier(
        self,
        ident: Identifier,
        *,
        raw: str | None = None,
        context: CheckContext | None = None,
    ) -> Verdict:
        """Answer for an already-canonical identifier."""
        return self._answer(ident, ident.value if raw is None else raw, context)

    def _answer(self, ident: Identifier, raw: str, context: CheckContext | None) -> Verdict:
        kind = ident.kind
        value = ident.value
        if kind is _URL:
            return self._check_url(raw, value, value)
        if kind is _DOMAIN:
            return self._check_url(raw, value, f"http://{value}/", domain=True)
        key = _xxh3(_KIND_TAGS[kind] + value.encode("utf-8"))  # = ident.key, inlined
        try:
            txn = self._local.txn  # inlined _txn(): this is the hot path
        except AttributeError:
            txn = self._txn()
        buf = txn.get(key, db=self._records)
        if buf is not None:
            if context is None and ident.valid and key not in self._allow_keys:
                # Fast path (a plain listed hit): the verdict decodes the canonical anyway,
                # so the collision check rides along instead of parsing the record twice.
                v = self._from_record(raw, buf)
                if v.canonical == value:
                    return v
                buf = None  # 64-bit key collision: never answer with someone else's record
            elif fmt.record_canonical(buf) != value:
                buf = None
        return self._finish_exact(raw, ident, key, buf, context)

    def check_many(self, raws: Sequence[str], kind: Kind | str | None = None) -> list[Verdict]:
        """Bulk lookups: never raises per item (invalid input gives ``Verdict.invalid``).

        Each distinct input is answered once (repeats share its immutable verdict). A batch of
        one exact kind is normalised and keyed first, the distinct keys are sorted and probed
        with one ``getmulti`` (key order, so LMDB pages are visited in order) inside one read
        transaction, records are decoded only for hits, and phone misses share one sorted
        ``getmulti`` on ``ranges``. Detected kinds, URLs and domains go through the
        single-item path. Output order = input order.
        """
        # The batch allocates a few objects per item and none of them forms a cycle; left on,
        # the cyclic GC would rescan the growing result list over and over (measured: a third
        # of the time). Paused for the batch only, and re-enabled even on error.
        if not gc.isenabled():
            return self._check_many(raws, kind)
        gc.disable()
        try:
            return self._check_many(raws, kind)
        finally:
            gc.enable()

    def _check_many(self, raws: Sequence[str], kind: Kind | str | None) -> list[Verdict]:
        # Bulk files repeat themselves: each distinct input is answered once and its (immutable)
        # verdict shared by its repeats. Only when every item is text: ``1 == True`` would
        # otherwise merge two different invalid inputs.
        if len(raws) > 1 and set(map(type, raws)) == {str}:
            distinct = list(dict.fromkeys(raws))
            if len(distinct) < len(raws):
                by_raw = dict(zip(distinct, self._check_distinct(distinct, kind), strict=True))
                return [by_raw[r] for r in raws]
        return self._check_distinct(raws, kind)

    def _check_distinct(self, raws: Sequence[str], kind: Kind | str | None) -> list[Verdict]:
        if kind is not None:
            k = Kind(kind)
            if k in _EXACT_KINDS:
                return self._check_many_exact(raws, k)
        return self._check_many_general(raws, kind)

    def _check_many_exact(self, raws: Sequence[str], k: Kind) -> list[Verdict]:
        """One exact kind: normalise and key everything, one sorted ``getmulti`` on
        ``records``; phone misses then share one sorted ``getmulti`` on ``ranges``. Each item
        gets exactly the verdict :meth:`check_identifier` gives (same branches, same order)."""
        norm = NORMALIZERS[k]
        kv = k.value
        tag = KIND_TAGS[k]
        xxh = _xxh3
        out: list[Verdict | None] = []
        pending: list[tuple[int, str, Identifier, bytes]] = []
        for raw in raws:
            try:
                ident = norm(raw) if raw.__class__ is str else normalize(k, raw)
            except InvalidIdentifier as e:
                out.append(Verdict.invalid(raw, str(e), kv))
                continue
            pending.append((len(out), raw, ident, xxh(tag + ident.value.encode("utf-8"))))
            out.append(None)
        keys = sorted({p[3] for p in pending})
        txn = self._txn()
        hits: dict[bytes, bytes] = dict(txn.cursor(db=self._records).getmulti(keys)) if keys else {}
        allow = self._allow_keys
        from_record = self._from_record
        phone = k is Kind.PHONE
        misses: list[tuple[int, str, Identifier]] = []
        for i, raw, ident, key in pending:
            buf = hits.get(key)
            if buf is not None:
                if ident.valid and key not in allow:
                    v = from_record(raw, buf)  # the plain listed hit, as in check_identifier
                    if v.canonical == ident.value:
                        out[i] = v
                        continue
                    buf = None  # 64-bit key collision
                elif fmt.record_canonical(buf) != ident.value:
                    buf = None
            if buf is None and phone and key not in allow:
                misses.append((i, raw, ident))  # answered below, from one ranges probe
                continue
            try:
                out[i] = self._finish_exact(raw, ident, key, buf, None)
            except InvalidIdentifier as e:
                out[i] = Verdict.invalid(raw, str(e), kv)
        if misses:
            ranges = self._range_hits([m[2].value for m in misses])
            phone_miss = self._phone_miss
            for i, raw, ident in misses:
                v = phone_miss(raw, ident, ranges)
                if not ident.valid:  # as _finish_exact: no record, no allowlist entry
                    v = _replace(v, reasons=(*v.reasons, Reason.of(ReasonCode.UNALLOCATED_NUMBER)))
                out[i] = v
        return out  # type: ignore[return-value]  # every None slot was filled above

    def _check_many_general(self, raws: Sequence[str], kind: Kind | str | None) -> list[Verdict]:
        # (raw, [(identifier, key or None)]) per input, or a ready invalid verdict.
        items: list[tuple[str, list[tuple[Identifier, bytes | None]]] | Verdict] = []
        exact = _EXACT_KINDS
        if kind is not None:
            k = Kind(kind)
            keyed = k in exact
            for raw in raws:
                try:
                    ident = normalize(k, raw)
                except InvalidIdentifier as e:
                    items.append(Verdict.invalid(raw, str(e), k.value))
                    continue
                items.append((raw, [(ident, ident.key if keyed else None)]))
        else:
            for raw in raws:
                found = detect(raw)
                if not found:
                    items.append(
                        Verdict.invalid(raw, "invalid identifier: not recognised as any kind")
                    )
                    continue
                items.append((raw, [(i, i.key if i.kind in exact else None) for i in found]))
        keys = sorted(
            {
                key
                for item in items
                if not isinstance(item, Verdict)
                for _, key in item[1]
                if key is not None
            }
        )
        txn = self._txn()
        hits: dict[bytes, bytes] = dict(txn.cursor(db=self._records).getmulti(keys)) if keys else {}
        allow = self._allow_keys
        from_record = self._from_record
        out: list[Verdict] = []
        append = out.append
        for item in items:
            if isinstance(item, Verdict):
                append(item)
                continue
            raw, idents = item
            vs: list[Verdict] = []
            for ident, key in idents:
                try:
                    if key is None:
                        vs.append(self._answer(ident, raw, None))
                        continue
                    buf = hits.get(key)
                    if buf is not None and ident.valid and key not in allow:
                        v = from_record(raw, buf)  # the plain listed hit, as in check_identifier
                        if v.canonical == ident.value:
                            vs.append(v)
                            continue
                        buf = None
                    elif buf is not None and fmt.record_canonical(buf) != ident.value:
                        buf = None
                    vs.append(self._finish_exact(raw, ident, key, buf, None))
                except InvalidIdentifier as e:
                    vs.append(Verdict.invalid(raw, str(e), ident.kind.value))
            append(vs[0] if len(vs) == 1 else worst(vs))
        return out

    def related(
        self, raw: str, kind: Kind | str | None = None, *, limit: int | None = None
    ) -> list[Verdict]:
        """Members of the identifier's cluster, worst first (bounded by ``limit``)."""
        limit = self.policy.related_limit if limit is None else limit
        idents = [normalize(kind, raw)] if kind is not None else detect(raw)
        txn = self._txn()
        for ident in idents:
            key = ident.key
            for db in (self._records, self._allow):
                buf = txn.get(key, db=db)
                if buf is None or fmt.record_canonical(buf) != ident.value:
                    continue
                if not buf[2] & fmt.F_CLUSTER:
                    return []
                cluster = int.from_bytes(buf[_HSIZE - 8 : _HSIZE], "little")
                members: list[Verdict] = []
                for ordinal in self.bitmap(f"cluster:{cluster}"):
                    hit = self._by_ordinal(ordinal)
                    if hit is not None:
                        members.append(self._from_record(fmt.record_canonical(hit[2]), hit[2]))
                members.sort(key=lambda v: (-v.severity, -v.report_count, v.canonical or ""))
                return members[:limit]
        return []

    # -- verdict assembly -----------------------------------------------------------------

    def _reasons(self, ids: tuple[int, ...], level_code: int) -> tuple[Reason, ...]:
        cache_key = (ids, level_code)
        reasons = self._reason_cache.get(cache_key)
        if reasons is None:
            codes = [_CODES[s] for s in (self._strings[i] for i in ids) if s in _CODES]
            if not codes:
                codes = [_DEFAULT_REASON[_LEVEL[level_code]]]
            reasons = tuple(Reason.of(c) for c in codes)
            self._reason_cache[cache_key] = reasons
        return reasons

    def _traits(
        self, buf: bytes, nr: int, nc: int
    ) -> tuple[Level, tuple[Reason, ...], tuple[str, ...], Level | None]:
        """Level, reasons, categories and cluster worst level of a packed record.

        Memoised on the bytes that decide them (level, flags, cluster worst, counts and the
        reason / category ids): records share a few hundred combinations at most, and this
        keeps string-table work off the hot path.
        """
        cache_key = buf[1:7] + buf[_HSIZE : _HSIZE + 2 * (nr + nc)]
        hit = self._trait_cache.get(cache_key)
        if hit is not None:
            return hit
        lvl, flags, cworst = buf[1], buf[2], buf[3]
        ids: tuple[int, ...] = _IDS[nr + nc].unpack_from(buf, _HSIZE)
        level = _LEVEL[lvl]
        reasons = self._reasons(ids[:nr], lvl)
        cats = tuple(self._strings[i] for i in ids[nr:])
        cluster_worst = None
        if flags & fmt.F_CLUSTER:
            cluster_worst = _LEVEL.get(cworst)
            if cluster_worst is not None and SEVERITY[cluster_worst] > SEVERITY[level]:
                reasons = (*reasons, Reason.of(ReasonCode.CLUSTER_LINK))
        if not flags & fmt.F_VALID:
            reasons = (*reasons, Reason.of(ReasonCode.UNALLOCATED_NUMBER))
        if len(self._trait_cache) > 100_000:
            self._trait_cache.clear()
        out = (level, reasons, cats, cluster_worst)
        self._trait_cache[cache_key] = out
        return out

    def _from_record(
        self,
        raw: str,
        buf: bytes,
        *,
        canonical: str | None = None,
        kind: str | None = None,
        matched: str | None = None,
    ) -> Verdict:
        (tag, _l, flags, _w, nr, nc, ns, _o, count, reporters, csize, first, last, _c) = (
            _HEADER.unpack_from(buf, 0)
        )
        # The memo lookup of _traits, inlined (this runs once per hit).
        traits = self._trait_cache.get(buf[1:7] + buf[_HSIZE : _HSIZE + 2 * (nr + nc)])
        if traits is None:
            traits = self._traits(buf, nr, nc)
        level, reasons, cats, cluster_worst = traits
        pos = _HSIZE + 2 * (nr + nc + ns)
        ln = buf[pos] | buf[pos + 1] << 8
        if canonical is None:
            canonical = buf[pos + 2 : pos + 2 + ln].decode("utf-8")
        owner = None
        if flags & _F_OWNER:
            pos += 2 + ln
            if flags & _F_LISTING:
                pos += 2 + (buf[pos] | buf[pos + 1] << 8)
            ln = buf[pos] | buf[pos + 1] << 8
            owner = buf[pos + 2 : pos + 2 + ln].decode("utf-8")
        return make_verdict(
            raw,
            _KIND_VALUE[tag] if kind is None else kind,
            canonical,
            level,
            reasons,
            cats,
            count,
            reporters,
            (_iso_cache.get(first) or iso_utc(first)) if flags & _F_FIRST else None,
            (_iso_cache.get(last) or iso_utc(last)) if flags & _F_LAST else None,
            matched,
            None,
            csize if flags & _F_CLUSTER else 0,
            cluster_worst,
            owner,
            self.id,
        )

    def _finish_exact(
        self,
        raw: str,
        ident: Identifier,
        key: bytes,
        buf: bytes | None,
        context: CheckContext | None,
    ) -> Verdict:
        kind = ident.kind
        allow = None
        if key in self._allow_keys:
            allow = self._txn().get(key, db=self._allow)
            if allow is not None and fmt.record_canonical(allow) != ident.value:
                allow = None
        if allow is not None:
            v = self._from_record(raw, allow)
            if buf is not None:
                reported = self._from_record(raw, buf)
                v = _replace(
                    v,
                    reasons=(*v.reasons, Reason.of(ReasonCode.SPOOF_ADVICE)),
                    report_count=reported.report_count,
                    reporters=reported.reporters,
                    categories=reported.categories,
                    first_reported=reported.first_reported,
                    last_reported=reported.last_reported,
                )
        elif buf is not None:
            v = self._from_record(raw, buf)
        elif kind is Kind.PHONE:
            v = self._phone_miss(raw, ident)
        elif kind is Kind.PLATFORM_ACCOUNT:
            v = self._handle_miss(raw, ident)
        else:
            v = self._no_record(raw, kind.value, ident.value)
        if not ident.valid and buf is None and allow is None:
            v = _replace(v, reasons=(*v.reasons, Reason.of(ReasonCode.UNALLOCATED_NUMBER)))
        if context is not None and kind is Kind.PHONE:
            v = self._apply_context(v, ident, context)
        return v

    def _apply_context(self, v: Verdict, ident: Identifier, context: CheckContext) -> Verdict:
        if not (
            context.channel is Channel.INCOMING_CALL
            and context.overseas
            and ident.value.startswith("+852")
        ):
            return v
        extra = [Reason.of(ReasonCode.OVERSEAS_CALL_LOCAL_NUMBER)]
        level = v.level
        if level is Level.VERIFIED:
            if all(r.code is not ReasonCode.SPOOF_ADVICE for r in v.reasons):
                extra.append(Reason.of(ReasonCode.SPOOF_ADVICE))
        elif SEVERITY[level] < SEVERITY[self.policy.overseas_min_level]:
            level = self.policy.overseas_min_level
        reasons = v.reasons
        if level is not v.level and v.level is Level.NO_RECORD:
            reasons = tuple(r for r in reasons if r.code is not ReasonCode.NO_RECORD)
        return _replace(v, level=level, reasons=(*reasons, *extra))


def _replace(v: Verdict, **changes: Any) -> Verdict:
    from dataclasses import replace

    return replace(v, **changes)
