"""Verdict assembly: from a packed record (or from nothing found) to a :class:`Verdict`.

Responsibility: the last step of every lookup rule. :meth:`VerdictAssembler.from_record`
decodes a record of ``records`` or ``allow`` into its verdict (level, reasons with their
sentences, categories, counts, times, cluster, owner); :meth:`VerdictAssembler.no_record`
makes the verdicts of identifiers that are not stored (NO RECORD, or a near-match signal).

Invariants:
* A record's reasons are its stored reason ids that this reader knows (unknown ones, from a
  newer builder, are skipped), or the level's default reason when none is known; a record in
  a cluster whose worst level is worse than its own gets ``CLUSTER_LINK``; an invalid
  (unallocated) number gets ``UNALLOCATED_NUMBER``.
* Level, reasons, categories and cluster worst level are memoised per record *shape* (the
  header bytes and string ids that decide them): records share a few hundred shapes, and
  this keeps string-table work and ``Reason`` construction off the hot path.
* Times are formatted by :func:`scameter.times.iso_utc` only (its memo is read inline).
* A record is answered only if its CRC-32 holds and its values are possible: a known kind
  tag and level code, VERIFIED only in ``allow`` and never in ``records``. Anything else
  raises :class:`~scameter.errors.SnapshotCorrupt`: a tampered record is an error, never an
  answer (format 2.0, docs/snapshot-format.md).
* Two implementations of the hit path, one answer: :meth:`VerdictAssembler.from_record` is
  the compiled ``scameter.index._speedups.HitDecoder`` when the package was built with a C
  compiler (``setup.py``, optional) and :meth:`VerdictAssembler.from_record_python`
  otherwise. The Python method is the reference: the compiled one answers only a nominal hit
  whose record shape is already memoised and calls the Python method, with the same
  arguments, for everything else (a new shape, a failed check, any error), so both raise the
  same :class:`~scameter.errors.SnapshotCorrupt` (tests/property/test_hitpath_props.py).
  The choice is made once, at import (:data:`HIT_PATH`).
"""

from __future__ import annotations

import struct
import zlib
from typing import Protocol

from scameter.errors import SnapshotCorrupt
from scameter.index.format import (
    BODY_CLUSTERED,
    BODY_PLAIN,
    CLUSTER,
    CRC_RESIDUE,
    F_CLUSTER,
    F_FIRST,
    F_LAST,
    F_LISTING,
    F_OWNER,
    F_VALID,
    HEADER,
    KIND_BY_TAG,
    LEVEL_BY_CODE,
    LEVEL_CODES,
    corrupt_record,
)
from scameter.index.reader import SnapshotReader
from scameter.times import _CACHE as _iso_cache
from scameter.times import iso_utc
from scameter.verdict import (
    NO_EXTRA,
    SEVERITY,
    Level,
    Reason,
    ReasonCode,
    SimilarTo,
    Verdict,
    make_no_record,
    make_verdict,
)

try:
    from scameter.index._speedups import HitDecoder as _HitDecoder
except ImportError:  # built without a C compiler: the pure path (docs/architecture.md)
    _HitDecoder = None  # type: ignore[assignment,misc]

#: Which implementation answers a hit: ``"compiled"`` (``scameter.index._speedups``, built by
#: ``pip install`` where a C compiler is found) or ``"python"``.
HIT_PATH = "python" if _HitDecoder is None else "compiled"

_unpack_cluster = CLUSTER.unpack_from
_crc32 = zlib.crc32
_VERIFIED_CODE = LEVEL_CODES[Level.VERIFIED]
_unpack_header = HEADER.unpack_from
_KIND_VALUE = {tag: kind.value for tag, kind in KIND_BY_TAG.items()}
#: The kind value of each tag byte, ``None`` for an unknown tag (the compiled path's table).
_KIND_VALUES = tuple(_KIND_VALUE.get(tag) for tag in range(256))
_CODES = {c.value: c for c in ReasonCode}
_DEFAULT_REASON = {
    Level.HIGH_RISK: ReasonCode.POLICE_CONFIRMED,
    Level.SUSPICIOUS: ReasonCode.PUBLIC_REPORTS,
    Level.POSSIBLE: ReasonCode.PUBLIC_REPORTS,
    Level.VERIFIED: ReasonCode.ALLOWLISTED,
}
#: Compiled structs for the string-id arrays (at most 3 x 255 ids per record).
_IDS = [struct.Struct(f"<{n}H") for n in range(3 * 255 + 1)]
#: Distinct record shapes memoised per snapshot before the memo is dropped and refilled.
TRAIT_CACHE_SIZE = 100_000
#: The reasons of a verdict with nothing found.
NO_RECORD_REASONS = (Reason.of(ReasonCode.NO_RECORD),)

_Traits = tuple[Level, tuple[Reason, ...], tuple[str, ...], Level | None]


class FromRecord(Protocol):
    """The signature of :meth:`VerdictAssembler.from_record_python` (and of the compiled
    ``HitDecoder.from_record``)."""

    def __call__(
        self,
        raw: str,
        buf: bytes,
        *,
        canonical: str | None = None,
        kind: str | None = None,
        matched: str | None = None,
        allowed: bool = False,
    ) -> Verdict: ...


class VerdictAssembler:
    """Builds the verdicts of one snapshot (its string table, its id).

    ``compiled``: whether :attr:`from_record` is the compiled hit path (``None``: when it is
    built, :data:`HIT_PATH`; ``True`` without it raises ImportError; ``False``: the Python
    path, as tests compare both)."""

    #: The verdict a packed record gives (see :meth:`from_record_python`): the compiled
    #: ``HitDecoder.from_record`` or that method itself.
    from_record: FromRecord

    def __init__(self, reader: SnapshotReader, *, compiled: bool | None = None) -> None:
        self._strings = reader.strings
        self._snapshot_id = reader.id
        self._data_path = reader.path / "data.mdb"
        self._reason_cache: dict[tuple[tuple[int, ...], int], tuple[Reason, ...]] = {}
        self._trait_cache: dict[bytes, _Traits] = {}
        if compiled is None:
            compiled = _HitDecoder is not None
        if not compiled:
            self.from_record = self.from_record_python
        elif _HitDecoder is None:
            raise ImportError(
                "scameter.index._speedups is not built (no C compiler at install time): "
                "reinstall scameter where gcc/cc and the Python headers are present"
            )
        else:
            self.from_record = _HitDecoder(
                Verdict,
                NO_EXTRA,
                _KIND_VALUES,
                self._trait_cache,
                _iso_cache,
                iso_utc,
                self._snapshot_id,
                self.from_record_python,
            ).from_record

    @property
    def compiled(self) -> bool:
        """Whether :attr:`from_record` is the compiled hit path."""
        return self.from_record != self.from_record_python

    def from_record_python(
        self,
        raw: str,
        buf: bytes,
        *,
        canonical: str | None = None,
        kind: str | None = None,
        matched: str | None = None,
        allowed: bool = False,
    ) -> Verdict:
        """The verdict a packed record gives for the input ``raw``. ``canonical`` and
        ``kind`` override the record's own (a URL answered by its domain's listing keeps the
        URL); ``matched`` names the listing expression that matched; ``allowed`` says the
        record comes from ``allow`` (the only table where VERIFIED is possible)."""
        if _crc32(buf) != CRC_RESIDUE or (buf[1] == _VERIFIED_CODE) is not allowed:
            raise self._corrupt(buf)
        (tag, _l, flags, nr, nc, ns, _o, count, reporters, first, last) = _unpack_header(buf, 0)
        # The memo lookup of _traits, inlined (this runs once per hit).
        if flags & F_CLUSTER:
            start = BODY_CLUSTERED
            csize = _unpack_cluster(buf, BODY_PLAIN)[1]
            memo = buf[1:6] + buf[BODY_PLAIN : BODY_PLAIN + 1] + buf[start : start + 2 * (nr + nc)]
        else:
            start = BODY_PLAIN
            csize = 0
            memo = buf[1:6] + buf[start : start + 2 * (nr + nc)]
        traits = self._trait_cache.get(memo)
        if traits is None:
            traits = self._traits(buf, memo, start, nr, nc)
        level, reasons, cats, cluster_worst = traits
        pos = start + 2 * (nr + nc + ns)
        ln = buf[pos] | buf[pos + 1] << 8
        if canonical is None:
            canonical = buf[pos + 2 : pos + 2 + ln].decode("utf-8")
        owner = None
        if flags & F_OWNER:
            pos += 2 + ln
            if flags & F_LISTING:
                pos += 2 + (buf[pos] | buf[pos + 1] << 8)
            ln = buf[pos] | buf[pos + 1] << 8
            owner = buf[pos + 2 : pos + 2 + ln].decode("utf-8")
        if kind is None:
            kind = _KIND_VALUE.get(tag)
            if kind is None:
                raise corrupt_record(self._data_path, buf, "holds an unknown kind tag")
        return make_verdict(
            raw,
            kind,
            canonical,
            level,
            reasons,
            cats,
            count,
            reporters,
            (_iso_cache.get(first) or iso_utc(first)) if flags & F_FIRST else None,
            (_iso_cache.get(last) or iso_utc(last)) if flags & F_LAST else None,
            matched,
            None,
            csize,
            cluster_worst,
            owner,
            self._snapshot_id,
        )

    def no_record(
        self,
        raw: str,
        kind: str,
        canonical: str,
        *,
        level: Level = Level.NO_RECORD,
        reasons: tuple[Reason, ...] = NO_RECORD_REASONS,
        similar: SimilarTo | None = None,
        matched: str | None = None,
    ) -> Verdict:
        """The verdict of an identifier that is not stored: NO RECORD by default, or the
        ``level`` and ``reasons`` of a signal (near match, phone range)."""
        if level is Level.NO_RECORD and similar is None and matched is None:
            return make_no_record(raw, kind, canonical, reasons, self._snapshot_id)
        return make_verdict(
            raw, kind, canonical, level, reasons, (), 0, 0, None, None, matched, similar, 0,
            None, None, self._snapshot_id,
        )  # fmt: skip

    def _traits(self, buf: bytes, cache_key: bytes, start: int, nr: int, nc: int) -> _Traits:
        """Level, reasons, categories and cluster worst level of a packed record (memoised
        on the bytes that decide them, ``cache_key``: see the module invariants); its string
        ids start at ``start``."""
        lvl, flags = buf[1], buf[2]
        cworst = buf[BODY_PLAIN] if flags & F_CLUSTER else 0
        ids: tuple[int, ...] = _IDS[nr + nc].unpack_from(buf, start)
        level = LEVEL_BY_CODE.get(lvl)
        if level is None or level is Level.NO_RECORD or (ids and max(ids) >= len(self._strings)):
            raise corrupt_record(self._data_path, buf, "holds an impossible level or string id")
        reasons = self._reasons(ids[:nr], lvl)
        cats = tuple(self._strings[i] for i in ids[nr:])
        cluster_worst = None
        if flags & F_CLUSTER:
            cluster_worst = LEVEL_BY_CODE.get(cworst)
            if cluster_worst is not None and SEVERITY[cluster_worst] > SEVERITY[level]:
                reasons = (*reasons, Reason.of(ReasonCode.CLUSTER_LINK))
        if not flags & F_VALID:
            reasons = (*reasons, Reason.of(ReasonCode.UNALLOCATED_NUMBER))
        if len(self._trait_cache) > TRAIT_CACHE_SIZE:
            self._trait_cache.clear()
        out = (level, reasons, cats, cluster_worst)
        self._trait_cache[cache_key] = out
        return out

    def _corrupt(self, buf: bytes) -> SnapshotCorrupt:
        if _crc32(buf) != CRC_RESIDUE:
            return corrupt_record(self._data_path, buf)
        table = "records" if buf[1] == _VERIFIED_CODE else "allow"
        return corrupt_record(
            self._data_path, buf, f"has a level that is impossible in the {table} table"
        )

    def _reasons(self, ids: tuple[int, ...], level_code: int) -> tuple[Reason, ...]:
        cache_key = (ids, level_code)
        reasons = self._reason_cache.get(cache_key)
        if reasons is None:
            codes = [_CODES[s] for s in (self._strings[i] for i in ids) if s in _CODES]
            if not codes:
                codes = [_DEFAULT_REASON[LEVEL_BY_CODE[level_code]]]
            reasons = tuple(Reason.of(c) for c in codes)
            self._reason_cache[cache_key] = reasons
        return reasons


__all__ = ["NO_RECORD_REASONS", "TRAIT_CACHE_SIZE", "VerdictAssembler"]
