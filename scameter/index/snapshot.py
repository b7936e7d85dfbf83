"""The public face of an open snapshot: :class:`Snapshot` answers lookups.

Responsibility: put one :class:`~scameter.index.reader.SnapshotReader` (the database) and the
lookup rules over it together, and read from the top: :meth:`Snapshot.check` normalises its
input (or detects its kinds) and hands each identifier to the rule of its kind:

* URLs and domains: :class:`~scameter.index.urlmatch.UrlRules` (Safe Browsing expressions);
* every other kind: :class:`~scameter.index.exact.ExactRules` (its own record, the allowlist,
  the call context);
* both fall back to :class:`~scameter.index.nearmatch.NearRules` when nothing is listed, and
  end in :class:`~scameter.index.assembly.VerdictAssembler`, which makes the verdict;
* then :class:`~scameter.index.derived.DerivedRules` answers what the input implies (an
  e-mail's domain, a link's number or IP address...) and keeps the worst. Every lookup method
  ends there, single or batched, so every entry point answers derived inputs alike.

:meth:`Snapshot.check_batch` and :meth:`Snapshot.check_many` answer the same through the batch
hot path (:mod:`scameter.index.batchpath`, with the key array of
:mod:`scameter.index.keyprobe`); ``related``, ``export`` and ``stats`` are views over
the reader's bitmaps.

Invariants: the snapshot is immutable, so every rule may memoise per snapshot; a snapshot is
thread-safe (each thread has its own read transaction); none of this logs or does I/O beyond
LMDB reads of a mapped file.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from pyroaring import BitMap

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind, detect, normalize
from scameter.identifiers.derive import DERIVING_KINDS
from scameter.identifiers.detect import not_recognised
from scameter.identifiers.normalize import NORMALIZERS
from scameter.index.assembly import VerdictAssembler
from scameter.index.batchpath import BatchAnswer, BatchPath
from scameter.index.delta import LayeredRules, Overlay
from scameter.index.derived import DerivedRules
from scameter.index.exact import ExactRules
from scameter.index.format import (
    F_CLUSTER,
    KIND_BY_TAG,
    LEVEL_CODES,
    OFF_CLUSTER_ID,
    TABLE_ALLOW,
    TABLE_RECORDS,
    record_canonical,
    record_cases,
)
from scameter.index.keyprobe import KeyProbe
from scameter.index.nearmatch import NearRules
from scameter.index.publish import current_id
from scameter.index.reader import SnapshotReader
from scameter.index.record import Record
from scameter.index.urlmatch import UrlRules
from scameter.verdict import CheckContext, Level, Verdict, worst

#: The single-item rule of a kind: (raw, identifier, context) -> verdict.
Rule = Callable[[str, Identifier, CheckContext | None], Verdict]
#: A kind's whole ``check(raw, kind)`` in one call: (raw, context) -> verdict.
DirectRule = Callable[[str, CheckContext | None], Verdict]
#: Every kind answered by its own record (the others are URLs and domains).
EXACT_KINDS = frozenset(k for k in Kind if k not in (Kind.URL, Kind.DOMAIN))
_T = TypeVar("_T")
_VERIFIED_CODE = LEVEL_CODES[Level.VERIFIED]
_CLUSTER_ID = slice(OFF_CLUSTER_ID, OFF_CLUSTER_ID + 8)  # the cluster block's u64 cluster id


class Snapshot:
    """One open, immutable snapshot. Thread-safe; close it (or use ``with``) when done."""

    def __init__(self, reader: SnapshotReader, *, compiled: bool | None = None) -> None:
        """``compiled``: the hit path's implementation (:class:`VerdictAssembler`; ``None``:
        the compiled one where it is built)."""
        #: The database; the index's own tools (diff, builder, hot swap) read through it.
        self.reader = reader
        self.path = reader.path
        self.manifest = reader.manifest
        self.id = reader.id
        self.policy = reader.policy
        #: The data's reference time, aware UTC (the manifest's ``as_of``).
        self.as_of = reader.as_of
        self._assemble = assemble = VerdictAssembler(reader, compiled=compiled)
        self._near = near = NearRules(reader, assemble)
        exact = ExactRules(reader, assemble, near)
        urls = UrlRules(reader, assemble, near)
        #: The rule that answers each kind.
        self._rules: dict[Kind, Rule] = dict.fromkeys(EXACT_KINDS, exact.answer)
        self._rules[Kind.URL] = urls.answer_url
        self._rules[Kind.DOMAIN] = urls.answer_domain
        self._exact = exact
        self._urls = urls
        #: The overlay shape the layered rules were made for (:attr:`Overlay.shape`).
        self.overlay_shape: Any = None
        #: The snapshot's own rules (``_rules`` holds layered ones while a delta applies).
        self._base_rules = dict(self._rules)
        #: The live delta layered over this snapshot (:meth:`set_overlay`), or ``None``.
        self.overlay: Overlay | None = None
        #: Kind (or its value) -> (its normaliser, its rule): the path of ``check(raw, kind)``.
        self._paths = {k: (norm, self._rules[Kind(k)]) for k, norm in NORMALIZERS.items()}
        #: Kind (or its value) -> its whole ``check(raw, kind)`` in one call, taken before
        #: ``_paths`` where there is one (:meth:`_direct_rules`).
        self._direct = self._direct_rules()
        #: The last step of every lookup (over the rules above, which it never re-enters).
        self._derived = DerivedRules(self._rules)
        #: The batch path: the snapshot's key array (built on the first batch) in front of
        #: the single-item path above.
        self.key_probe = KeyProbe(reader)
        self._batch = BatchPath(
            self.id, self.key_probe, self.check, self._check_ident, assemble.from_record,
            compiled=compiled,
        )  # fmt: skip

    def set_overlay(self, overlay: Overlay | None) -> None:
        """Layer a live delta over this snapshot (``None`` or an empty one: none).

        Lookups of every entry point (check, batches, derived inputs, related) then check the
        delta first (:class:`~scameter.index.delta.LayeredRules`); without one the rules are
        the snapshot's own and the hot path is unchanged. The rule table is updated in place
        (the derived rules and the batch path read it), one kind at a time.
        """
        if overlay is not None and (not len(overlay) or overlay.base_id != self.id):
            overlay = None
        if overlay is None:
            rules = self._base_rules
            self.overlay_shape = None
        else:
            miss = self._near.host_miss
            layered = LayeredRules(
                overlay, self._exact, self._base_rules, miss, self.reader, urls=self._urls,
                near=self._near, assemble=self._assemble,
            )  # fmt: skip
            rules = layered.rules()
            self.overlay_shape = overlay.shape
        self._rules.update(rules)
        self._paths = {k: (norm, self._rules[Kind(k)]) for k, norm in NORMALIZERS.items()}
        self._direct = self._direct_rules()
        self.key_probe.extra = None if overlay is None else overlay.keys
        self.key_probe.extra_ranges = () if overlay is None else overlay.probe_ranges()
        # Near matches (handles, hosts) read the delta's near entries beside the base's.
        self._near.live = overlay if overlay is not None and overlay.near_active else None
        self.overlay = overlay

    def _direct_rules(self) -> dict[Kind | str, DirectRule]:
        """The kinds ``check(raw, kind)`` answers in one call: phones, through the typed-number
        shortcut of :meth:`ExactRules.answer_typed` (the normaliser and the key hash in C),
        when it is built and the snapshot's own rules answer (no live delta layered over
        them; a sharded snapshot routes its reads elsewhere). Phones derive nothing, so the
        derivation step is skipped too (checked here)."""
        if (
            not self._exact.typed
            or self._rules[Kind.PHONE] != self._exact.answer
            or Kind.PHONE.value in DERIVING_KINDS
        ):
            return {}
        return {Kind.PHONE: self._exact.answer_typed}

    # -- opening and closing --------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, verify: bool = True, compiled: bool | None = None) -> Snapshot:
        """Open the snapshot directory ``path``.

        Always checks the manifest's version and the data file's size; with ``verify`` also
        the manifest checksum. :meth:`verify` does the full sha256 of the data file.
        ``compiled``: see :meth:`__init__` (tests run both hit paths).
        """
        reader = SnapshotReader.open(path, verify=verify)
        try:
            return cls(reader, compiled=compiled)
        except BaseException:
            reader.close()
            raise

    @classmethod
    def open_current(cls, snapshots_root: Path) -> Snapshot:
        """Open the snapshot ``snapshots_root/CURRENT`` names."""
        snapshots_root = Path(snapshots_root)
        return cls.open(snapshots_root / current_id(snapshots_root))

    def verify(self, threads: int | None = None) -> int:
        """Full verification: manifest checksum and the data file's chunk hashes, in parallel
        (:meth:`SnapshotReader.verify`). Returns the number of chunks hashed."""
        return self.reader.verify(threads)

    def close(self) -> None:
        self.reader.close()

    @property
    def closed(self) -> bool:
        return self.reader.closed

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Snapshot({self.id!r}, total={self.manifest.total})"

    # -- lookups --------------------------------------------------------------------------

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
            # Phones: the whole check in one call (_direct_rules). Every other kind: its
            # normaliser and rule directly (normalize() adds a dispatch and a type check: a
            # tenth of a phone check); anything unusual takes normalize() and its errors.
            direct = self._direct.get(kind)
            if direct is not None and raw.__class__ is str:
                return direct(raw, context)
            path = self._paths.get(kind)
            if path is not None and raw.__class__ is str:
                norm, rule = path
                v = rule(raw, norm(raw), context)
            else:
                ident = normalize(kind, raw)
                v = self._rules[ident.kind](raw, ident, context)
        else:
            candidates = detect(raw)
            if not candidates:
                raise InvalidIdentifier(None, not_recognised(raw), raw)
            rules = self._rules
            if len(candidates) == 1:
                ident = candidates[0]
                v = rules[ident.kind](raw, ident, context)
            else:
                v = worst([rules[c.kind](raw, c, context) for c in candidates])
        # Cross-kind derivation (module docstring): one set lookup for kinds that have none.
        return self._derived.apply(v) if v.kind in DERIVING_KINDS else v

    def check_identifier(
        self,
        ident: Identifier,
        *,
        raw: str | None = None,
        context: CheckContext | None = None,
    ) -> Verdict:
        """Answer for an already-canonical identifier."""
        v = self._rules[ident.kind](ident.value if raw is None else raw, ident, context)
        return self._derived.apply(v) if v.kind in DERIVING_KINDS else v

    def _check_ident(self, ident: Identifier, raw: str) -> Verdict:
        # The batch path's full path for one identifier: derivation included, as in check.
        v = self._rules[ident.kind](raw, ident, None)
        return self._derived.apply(v) if v.kind in DERIVING_KINDS else v

    def check_many(self, raws: Sequence[str], kind: Kind | str | None = None) -> list[Verdict]:
        """Bulk lookups: never raises per item (invalid input gives ``Verdict.invalid``).

        Output order = input order; each verdict equals the single-item answer (see
        :meth:`check_batch`, which this materialises).
        """
        return self._paused(lambda: self.check_batch(raws, kind).to_list())

    def check_batch(self, raws: Sequence[str], kind: Kind | str | None = None) -> BatchAnswer:
        """Bulk lookups through the batch hot path (:mod:`scameter.index.batchpath`): the
        batch is normalised and hashed, its keys tested at once against the snapshot's key
        array, and only rows that may match get a verdict object; the rest are plain NO
        RECORD rows (kind and canonical value only). Never raises per item; raises
        ``ValueError`` for an unknown ``kind``."""
        k = None if kind is None else Kind(kind)
        return self._paused(lambda: self._batch.answer(raws, k))

    @staticmethod
    def _paused(work: Callable[[], _T]) -> _T:
        """``work()`` with the cyclic GC paused. A batch allocates a few objects per item and
        none of them forms a cycle; left on, the GC would rescan the growing result lists
        over and over (measured: a third of the time, and half of building the verdicts of
        plain misses). Re-enabled even on error."""
        if not gc.isenabled():
            return work()
        gc.disable()
        try:
            return work()
        finally:
            gc.enable()

    def related(
        self, raw: str, kind: Kind | str | None = None, *, limit: int | None = None
    ) -> list[Verdict]:
        """Members of the identifier's cluster, worst first (bounded by ``limit``), each with
        its case ids (``Verdict.case_ids`` / ``case_count``)."""
        limit = self.policy.related_limit if limit is None else limit
        idents = [normalize(kind, raw)] if kind is not None else detect(raw)
        reader = self.reader
        overlay = self.overlay
        held = {} if overlay is None else overlay.records
        for ident in idents:
            key = ident.key
            live = held.get(key)
            if live is not None:  # the delta's record (its cluster as the fold linked it)
                if not live:
                    return []  # fell out
                if record_canonical(live) == ident.value:
                    return self._cluster_of(live)[:limit]
            for table in (TABLE_RECORDS, TABLE_ALLOW):
                buf = reader.get(table, key)
                if buf is None or record_canonical(buf) != ident.value:
                    continue
                return self._cluster_of(buf)[:limit]
        return []

    def _cluster_of(self, buf: bytes) -> list[Verdict]:
        """The members of the cluster of the record ``buf`` (none: not in a cluster), the
        live cluster its id now answers as when a delta changed it."""
        if self.overlay is not None:
            buf = self.overlay.live_record(buf)
        if not buf[2] & F_CLUSTER:
            return []
        return self._cluster(int.from_bytes(buf[_CLUSTER_ID], "little"))

    def cluster_members(self, cluster: int) -> list[Verdict]:
        """Every member of cluster ``cluster``, worst first, with case ids (see
        :meth:`related`)."""
        return self._cluster(cluster)

    def _cluster(self, cluster: int) -> list[Verdict]:
        from_record = self._assemble.from_record
        members: list[Verdict] = []
        overlay = self.overlay
        # a live cluster: the members of every base cluster the delta joined into it
        sources = [cluster] if overlay is None else overlay.cluster_sources(cluster)
        bitmap = self.reader.bitmap
        ordinals = bitmap(f"cluster:{sources[0]}") if len(sources) == 1 else BitMap.union(
            BitMap(), *(bitmap(f"cluster:{cid}") for cid in sources)
        )  # fmt: skip
        for ordinal in ordinals:
            hit = self.reader.by_ordinal(ordinal)
            if hit is not None:
                buf = hit[2]
                live = None if overlay is None else overlay.resolve(buf)
                v = from_record(record_canonical(buf), live or buf, allowed=hit[0] == TABLE_ALLOW)
                # after from_record's CRC check; from the side file for a built record
                case_ids, case_count = self.reader.cases(hit[0], hit[1], buf)
                if case_count:
                    v = dataclasses.replace(v, case_ids=case_ids, case_count=case_count)
                members.append(v)
        if self.overlay is not None:
            members = self._layered_members(members, cluster)
        members.sort(key=lambda v: (-v.severity, -v.report_count, v.canonical or ""))
        return members

    def _layered_members(self, members: list[Verdict], cluster: int) -> list[Verdict]:
        """Cluster members as the live delta answers them: the base's (a member whose record
        fell out leaves the list) and the delta's records the fold put in that cluster."""
        overlay = self.overlay
        assert overlay is not None
        records = overlay.records
        out: list[Verdict] = []
        fresh: list[Identifier] = []
        for v in members:
            if v.kind is None or v.canonical is None:
                continue
            ident = Identifier(Kind(v.kind), v.canonical)
            held = records.get(ident.key)
            if held is None:
                out.append(v)
                continue
            cid = int.from_bytes(held[_CLUSTER_ID], "little") if held[2] & F_CLUSTER else None
            if cid is not None and overlay.live_cluster(cid) == cluster:
                fresh.append(ident)  # answered through the delta below
            # else: the delta's record took it out of this cluster (it left, or a split)
        seen = {ident.key for ident in fresh}
        for key in overlay.cluster_keys(cluster):
            buf = records.get(key)
            if buf and key not in seen:
                fresh.append(Identifier(KIND_BY_TAG[buf[0]], record_canonical(buf)))
        for ident in fresh:
            buf = records[ident.key]
            if not buf or record_canonical(buf) != ident.value:
                continue  # fell out (or a 64-bit key collision)
            # as _cluster reads a member: its record alone, with its live cluster
            live = overlay.live_record(buf)
            v = overlay.assemble.from_record(ident.value, live, allowed=buf[1] == _VERIFIED_CODE)
            case_ids, case_count = record_cases(buf)
            if case_count:
                v = dataclasses.replace(v, case_ids=case_ids, case_count=case_count)
            out.append(v)
        return out

    # -- bitmap views ---------------------------------------------------------------------

    def bitmap(self, name: str) -> BitMap:
        """The named bitmap (``level:high_risk``, ``kind:phone``, ``cluster:7``, ``added``...);
        empty if the snapshot has none of that name. Cached; treat as read-only."""
        return self.reader.bitmap(name)

    def bitmap_names(self, prefix: str = "") -> list[str]:
        return self.reader.bitmap_names(prefix)

    def export(self, *, level: Any = None, kind: Kind | str | None = None) -> Iterator[Record]:
        """Records by ordinal, filtered by level and/or kind through bitmap algebra."""
        reader = self.reader
        bm = reader.bitmap("all")
        if level is not None:
            bm = bm & reader.bitmap(f"level:{getattr(level, 'value', level)}")
        if kind is not None:
            bm = bm & reader.bitmap(f"kind:{Kind(kind).value}")
        for ordinal in bm:
            hit = reader.by_ordinal(ordinal)
            if hit is not None:
                yield reader.to_record(hit[2], hit[0], hit[1])

    def stats(self) -> dict[str, Any]:
        """Counts from the manifest plus category and source sizes from the bitmaps."""
        m = self.manifest
        reader = self.reader
        return {
            "snapshot": self.id,
            "parent": m.parent_id,
            "as_of": m.as_of,
            "built_at": m.built_at,
            "format_version": m.format_version,
            "shards": max(1, len(m.shards)),
            "total": m.total,
            "counts": m.counts,
            "categories": {
                n.split(":", 1)[1]: len(reader.bitmap(n)) for n in reader.bitmap_names("category:")
            },
            "sources": {
                n.split(":", 1)[1]: len(reader.bitmap(n)) for n in reader.bitmap_names("source:")
            },
            "clusters": len(reader.bitmap_names("cluster:")),
            "bytes": sum(int(f.get("size", 0)) for f in m.files.values()),
        }


__all__ = ["Snapshot"]
