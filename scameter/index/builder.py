"""Writing snapshots: :class:`SnapshotBuilder`, :func:`publish` and :func:`current_id`.

Responsibility: turn a stream of already-decided :class:`Record` values (any order) into one
immutable snapshot directory, and move the ``CURRENT`` pointer.

Invariants:
* Memory stays bounded: records, URL expressions, near-match variants and phone-range
  prefixes go through :class:`ExternalSorter` (sorted runs spilled to disk, merged at build).
  What stays in memory is per-cluster counters, per-bitmap ordinal arrays and the brand list.
* Everything is written under ``snapshots_root/.tmp-*`` and fsynced, then the directory is
  renamed to ``snapshots_root/<snapshot id>`` (rename is atomic on POSIX) and
  ``snapshots_root`` is fsynced. A builder that
  dies half way leaves only a ``.tmp-*`` directory, which no reader opens, and never touches
  ``CURRENT``; :func:`publish` is a separate, explicit step.
* Keys are appended in sorted order (``MDB_APPEND``), so pages are packed full.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256 as _sha256
from pathlib import Path
from typing import Any, Literal

from scameter.errors import SnapshotError, SnapshotNotFound
from scameter.identifiers import Kind, expression_key, identifier_key, registrable_domain
from scameter.identifiers.model import KIND_TAGS
from scameter.index import domlinks
from scameter.index import format as fmt
from scameter.index.chunks import default_threads, file_entry
from scameter.index.format import IndexPolicy, Manifest
from scameter.index.hashes import record_hashes
from scameter.index.near import (
    NS_DOMAIN,
    allowed_distance,
    handle_namespace,
    split_registrable,
    variant_keys,
)
from scameter.index.popular import PopularSet
from scameter.index.publish import (
    LOCK_FILE,
    current_id,
    fsync_dir,
    fsync_file,
    lock_build,
    remove_stale_builds,
)
from scameter.index.reader import SnapshotReader
from scameter.index.record import Record
from scameter.index.spill import BytesSorter, ExternalSorter, GroupingSorter, SpilledRuns
from scameter.index.writers import (
    EvidenceJob,
    NearJob,
    RangesJob,
    ShardSinks,
    open_build_env,
    write_bitmaps,
    write_evidence,
    write_hashes,
    write_near,
    write_ranges,
    write_records,
    write_urlexpr,
)
from scameter.processes import can_fork
from scameter.times import iso_utc, utc_now
from scameter.verdict import SEVERITY, Level, ReasonCode

_log = logging.getLogger(__name__)

#: Near-match variants past which a build sorts and groups them in a forked process while it
#: writes the records (:class:`~scameter.index.writers.NearJob`); below it forking costs more.
NEAR_FORK_MIN = 500_000
#: How many forked processes share that sort (each takes a key range): the cores the writer
#: leaves (measured on 2 cores: a second sorting process only slowed the writer as much).
NEAR_PARTS = max(1, min((os.cpu_count() or 1) - 1, 4))
#: Relative costs (dev VM) of writing one record (with its URL expressions and ranges) and of
#: sorting + grouping one near variant: the writer's own share of the variants is sized so
#: that it ends when the forked processes do.
_WRITE_COST, _NEAR_COST = 5.0, 0.85
#: Whether a build counts the phone ranges in a forked process
#: (:class:`~scameter.index.writers.RangesJob`) while it writes the records: off. A forked
#: child maps the whole parent's anonymous memory copy-on-write, and the issue-21 memory
#: figure (RssAnon summed over the process tree) counts it again: 715 -> 860-945 MiB at 10^6
#: reports (docs/benchmarks.md, round 6), for about 0.2 s of wall time per 10^6. The bytes
#: are the same either way (tests run it on).
FORK_SIDE_JOBS = False
#: Evidence entries past which a build merges them in a forked process (:class:`~scameter.
#: index.writers.EvidenceJob`) while it writes the records; below it forking costs more.
EVIDENCE_FORK_MIN = 200_000
#: Phone-range keys (several per listed number) past which a build sorts and counts them in a
#: forked process (:class:`~scameter.index.writers.RangesJob`) while it writes the records.
RANGES_FORK_MIN = 500_000
_KIND_TAG = {kind: tag[0] for kind, tag in KIND_TAGS.items()}
_TAG_BYTES = KIND_TAGS
_TABLE_BYTE = {t: bytes((t,)) for t in (fmt.TABLE_RECORDS, fmt.TABLE_ALLOW)}
_LISTED = (Level.POSSIBLE, Level.SUSPICIOUS, Level.HIGH_RISK)


def _expression(kind: Kind, value: str, listing: str | None) -> str | None:
    """The Safe Browsing expression a URL / domain record is stored under.

    Ingest normally sets the record's ``listing``; without it a domain is listed as
    ``domain/`` (every path and subdomain) and a URL as its own full expression (host + path
    + query). ``None`` for the other kinds.
    """
    if listing is not None:
        return listing
    if kind is Kind.DOMAIN:
        return value + "/"
    if kind is Kind.URL:
        _, sep, rest = value.partition("://")
        return rest if sep else value
    return None


def host_of_expression(expr: str) -> str | None:
    """``evil.example`` for the host-level expression ``evil.example/``; else ``None``."""
    if expr.endswith("/") and expr.count("/") == 1:
        return expr[:-1]
    return None


@dataclass(frozen=True, slots=True)
class BuilderPart:
    """What one feeding process added (see :meth:`SnapshotBuilder.start_part`): its spilled
    sorter files (records and URL expressions; near variants and phone ranges) and counters."""

    pairs: tuple[SpilledRuns, SpilledRuns]
    items: tuple[SpilledRuns, SpilledRuns, SpilledRuns]
    clusters: dict[int, list[int]]
    brands: list[list[str | None]]


class SnapshotBuilder:
    """Build one snapshot under ``snapshots_root`` from records added in any order.

    ``parent``: ``"current"`` diffs against the snapshot ``CURRENT`` names (none if there is
    no ``CURRENT``), a snapshot id diffs against that one, ``None`` builds without a parent.
    :meth:`build` writes and returns the manifest but does not publish; call
    :func:`publish`. Use as a context manager to :meth:`abort` on an exception.
    ``parallel=False`` keeps the whole build in this process (it otherwise forks helpers for
    the near-match variants when there are many and forking is safe); the bytes are the same.
    ``shards`` > 1 splits ``records`` over that many key-range files (format 4.0,
    :mod:`scameter.index.recordtable`).
    """

    def __init__(
        self,
        snapshots_root: Path,
        *,
        as_of: datetime,
        parent: str | Literal["current"] | None = "current",
        policy: IndexPolicy = IndexPolicy(),  # noqa: B008 - frozen, so a shared default is safe
        ingest_policy: Mapping[str, Any] | None = None,
        inputs: Mapping[str, str] | None = None,
        chunk: int = 500_000,
        parallel: bool = True,
        shards: int = 1,
    ) -> None:
        if not 1 <= shards <= fmt.MAX_SHARDS:
            raise ValueError(f"shards must be between 1 and {fmt.MAX_SHARDS}, not {shards}")
        self.snapshots_root = snapshots_root = Path(snapshots_root)
        self.parallel = parallel
        #: ``records`` split over this many key-range shard files (format 4.0); 1: one file.
        self.shards = shards
        snapshots_root.mkdir(parents=True, exist_ok=True)
        if as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware (UTC)")
        self.as_of = as_of.astimezone(UTC)
        self.policy = policy
        self.ingest_policy = dict(ingest_policy or {})
        self.inputs = dict(inputs or {})
        if parent == "current":
            try:
                self.parent_id: str | None = current_id(snapshots_root)
            except SnapshotNotFound:
                self.parent_id = None
        else:
            self.parent_id = parent
        if self.parent_id is not None and not (snapshots_root / self.parent_id).is_dir():
            raise SnapshotNotFound(
                snapshots_root / self.parent_id, "parent snapshot not found; pass parent=None"
            )
        remove_stale_builds(snapshots_root)
        self._tmp = Path(tempfile.mkdtemp(prefix=fmt.TMP_PREFIX, dir=snapshots_root))
        self._lock = lock_build(self._tmp)
        self._spill = self._tmp / "spill"
        self._spill.mkdir()
        self._chunk = chunk
        self._new_sorters("")
        self._range_heads = tuple((f"{d}:".encode("ascii"), d) for d in policy.phone_range_digits)
        self._near_exempt = frozenset(policy.near_exempt_domains)
        self._strings = fmt.StringTable()
        self._label_ids: dict[
            tuple[tuple[ReasonCode, ...], tuple[str, ...], tuple[str, ...]],
            tuple[int, int, int, bytes],
        ] = {}
        self._clusters: dict[int, list[int]] = {}
        self._brands: list[list[str | None]] = []
        self._part_strings: int | None = None
        self._popular: tuple[dict[str, bytes], dict[str, str]] | None = None
        self._evidence: ExternalSorter | None = None
        self._evidence_job: EvidenceJob | None = None
        self._intake_cursors: dict[str, int] = {}
        self._domlinks: tuple[ExternalSorter, int] | None = None
        self._done = False

    def set_popular(self, popular: PopularSet, digests: Mapping[str, str]) -> None:
        """Store ``popular`` (the optional ``popular`` sub-database) with the digests of the
        list files it was compiled from, so the next build can reuse it."""
        if popular:
            self._popular = (popular.to_blobs(), dict(sorted(digests.items())))

    def set_evidence(self, evidence: ExternalSorter, intake_cursors: Mapping[str, int]) -> None:
        """Store ``evidence`` (identifier key -> encoded events, any order, several values a
        key) in the ``evidence`` sub-database, and the intake cursors (intake log path -> last
        sequence number read) in ``meta``: what the live fold of ``serve`` starts from."""
        self._evidence = evidence
        self._intake_cursors = dict(sorted(intake_cursors.items()))

    def set_domain_links(self, entries: ExternalSorter, cap: int) -> None:
        """Store ``entries`` (expression key -> :mod:`~scameter.index.domlinks` entry, any
        order) in the side file's ``domlinks`` sub-database (written, empty too, whenever
        this is called: a snapshot without it is one built before it); ``cap``: the
        ingest policy's ``hub_reports``, which merges colliding keys alike."""
        self._domlinks = (entries, cap)

    def _new_sorters(self, tag: str) -> None:
        chunk = self._chunk
        self._records = ExternalSorter(self._spill, f"records{tag}", chunk=chunk)
        self._urlexpr = ExternalSorter(self._spill, f"urlexpr{tag}", chunk=chunk)
        self._near = BytesSorter(self._spill, f"near{tag}", chunk=chunk * 4)
        self._ranges = GroupingSorter(self._spill, f"ranges{tag}", chunk=chunk * 2)
        self._hashes = BytesSorter(self._spill, f"hashes{tag}", chunk=chunk * 2)

    # -- feeding from several processes ---------------------------------------------------

    def intern(self, strings: Iterable[str]) -> None:
        """Assign string ids to ``strings`` now, in this order (first-seen order otherwise).

        Call it before :meth:`start_part` with every reason, category and source the records
        can carry: the ids are then the same whichever process adds which record.
        """
        for text in strings:
            self._strings.id(text)

    def start_part(self, tag: str) -> None:
        """In a process forked from the one that will :meth:`build`: collect the records
        added from now on apart, for :meth:`finish_part` to hand back and :meth:`adopt` to
        take in. ``tag`` keeps this part's spill files apart from every other part's."""
        if not tag or not tag.isalnum():
            raise ValueError("a part tag is a non-empty alphanumeric string")
        self._new_sorters("-" + tag)
        self._clusters = {}
        self._brands = []
        self._part_strings = len(self._strings.strings)

    def finish_part(self) -> BuilderPart:
        """The part collected since :meth:`start_part`: sorted spill files and counters."""
        if self._part_strings is None:
            raise RuntimeError("finish_part() without start_part()")
        if len(self._strings.strings) != self._part_strings:
            raise RuntimeError(
                "a record carried a reason, category or source not interned before the part "
                "started; intern() every label first"
            )
        self._done = True  # this copy of the builder must not build
        return BuilderPart(
            (self._records.detach(), self._urlexpr.detach()),
            (self._near.detach(), self._ranges.detach(), self._hashes.detach()),
            self._clusters,
            self._brands,
        )

    def prepare_to_adopt(self) -> None:
        """What :meth:`adopt` and :meth:`build` would do first, done now by a process about to
        wait for its parts: spill its own buffered items (adopt spills them before taking a
        part in), and start merging the evidence in a forked process
        (:class:`~scameter.index.writers.EvidenceJob`). The bytes built are the same."""
        if self._done:
            raise RuntimeError("builder already built or aborted")
        for sorter in (self._records, self._urlexpr, self._near, self._ranges, self._hashes):
            sorter.spill_buffer()
        if self._evidence_job is None:
            self._evidence_job = self._start_evidence_job()

    def _start_evidence_job(self) -> EvidenceJob | None:
        if (
            self.parallel
            and self._evidence is not None
            and self._evidence.count >= EVIDENCE_FORK_MIN
            and can_fork()
        ):
            return EvidenceJob(self._evidence, self._spill / "evidence.merged")
        return None

    def adopt(self, part: BuilderPart) -> None:
        """Take in the records of a part finished in another process."""
        if self._done:
            raise RuntimeError("builder already built or aborted")
        self._records.adopt(part.pairs[0])
        self._urlexpr.adopt(part.pairs[1])
        self._near.adopt(part.items[0])
        self._ranges.adopt(part.items[1])
        self._hashes.adopt(part.items[2])
        for cluster, (size, worst) in part.clusters.items():
            c = self._clusters.get(cluster)
            if c is None:
                self._clusters[cluster] = [size, worst]
            else:
                c[0] += size
                c[1] = max(c[1], worst)
        self._brands.extend(part.brands)

    # -- adding ---------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        """Queue one record. Records may arrive in any order; duplicates fail at build."""
        ident = record.identifier
        self.add_fields(
            ident.kind,
            ident.value,
            ident.valid,
            record.level,
            record.reasons,
            record.categories,
            record.sources,
            record.report_count,
            record.reporters,
            record.first_reported,
            record.last_reported,
            record.cluster,
            record.listing,
            record.owner,
            record.case_ids,
            record.case_count,
            ident.key,
        )

    def add_fields(  # noqa: PLR0917 - a Record's fields, positional: the ingest hot path
        self,
        kind: Kind,
        value: str,
        valid: bool,
        level: Level,
        reasons: tuple[ReasonCode, ...],
        categories: tuple[str, ...],
        sources: tuple[str, ...],
        report_count: int,
        reporters: int,
        first: int | None,
        last: int | None,
        cluster: int | None,
        listing: str | None,
        owner: str | None,
        case_ids: tuple[str, ...] = (),
        case_count: int = 0,
        key: bytes | None = None,
    ) -> None:
        """:meth:`add` given a :class:`Record`'s fields in order (identifier as kind, value,
        valid), without building the object: ingest adds millions. ``key`` defaults to the
        identifier's key."""
        if self._done:
            raise RuntimeError("builder already built or aborted")
        if level is Level.NO_RECORD:
            raise ValueError("a NO_RECORD record cannot be stored; leave it out")
        table = fmt.TABLE_ALLOW if level is Level.VERIFIED else fmt.TABLE_RECORDS
        # Records share a handful of (reasons, categories, sources) combinations: intern
        # each combination once (string ids are assigned in first-seen order either way).
        labels = (reasons, categories, sources)
        block = self._label_ids.get(labels)
        if block is None:
            st = self._strings
            block = self._label_ids[labels] = fmt.label_block(
                [st.id(r.value) for r in reasons],
                [st.id(c) for c in categories],
                [st.id(s) for s in sources],
            )
        canonical = value.encode("utf-8")
        payload = fmt.pack_record(
            _KIND_TAG[kind],
            fmt.LEVEL_CODES[level],
            canonical,
            valid,
            block,
            report_count,
            reporters,
            first,
            last,
            cluster,
            listing,
            owner,
            case_ids,
            case_count,
        )
        if key is None:
            key = identifier_key(kind, value)
        # The canonical value rides in the sort key so that a (64-bit, practically never seen)
        # key collision is settled by value, not by which record was added first.
        self._records.add(key + _TABLE_BYTE[table] + canonical, payload)
        sev = SEVERITY[level]
        if cluster is not None:
            c = self._clusters.get(cluster)
            if c is None:
                self._clusters[cluster] = [1, sev]
            else:
                c[0] += 1
                c[1] = max(c[1], sev)
        self._add_hashes(kind, value, canonical, listing, _TABLE_BYTE[table] + key)
        if kind is Kind.PHONE:
            if level in _LISTED:
                # range_key(value, d) for each d, from the already encoded (ASCII) number
                self._ranges.extend([head + canonical[:-d] for head, d in self._range_heads])
        elif kind is Kind.URL or kind is Kind.DOMAIN:
            self._add_url(_expression(kind, value, listing), report_count, owner, key, table, sev)
        elif kind is Kind.PLATFORM_ACCOUNT and table == fmt.TABLE_RECORDS:
            platform, _, handle = value.partition(":")
            self._add_near(handle_namespace(platform), handle, key, handle)

    def _add_hashes(
        self, kind: Kind, value: str, canonical: bytes, listing: str | None, ref: bytes
    ) -> None:
        """Queue the record's ``hashes`` entries: 4-byte hash prefix + table + key."""
        if kind is Kind.URL or kind is Kind.DOMAIN:
            for h in record_hashes(kind, value, listing):
                self._hashes.add(h[:4] + ref)
        else:  # hashes.identifier_hash, inlined (canonical is already UTF-8)
            self._hashes.add(_sha256(_TAG_BYTES[kind] + canonical).digest()[:4] + ref)

    def _add_url(  # noqa: PLR0917 - private
        self, expr: str | None, report_count: int, owner: str | None, key: bytes, table: int,
        sev: int,
    ) -> None:  # fmt: skip
        if expr is None:
            return
        count = min(report_count, 0xFFFFFFFF)
        head = bytes((table, sev)) + fmt.U32.pack(count) + key
        self._urlexpr.add(expression_key(expr), head + expr.encode("utf-8"))
        if "/" in expr[:-1] and "?" not in expr and not expr.endswith("/"):
            # A path listing covers that path and below (design section 5): Safe Browsing's
            # prefix expressions end in "/", so store the directory form as well.
            below = expr + "/"
            self._urlexpr.add(expression_key(below), head + below.encode("utf-8"))
        host = host_of_expression(expr)
        if host is None:
            return
        reg = registrable_domain(host)
        if reg is None:
            return
        label, _ = split_registrable(reg)
        if table == fmt.TABLE_ALLOW:
            # An allowlisted popular domain (a bank among the top sites) stays a brand: the
            # exemption is about fuzzy matching *of* it, not impersonation of it.
            self._brands.append([label, reg, owner])
        elif reg not in self._near_exempt:
            self._add_near(NS_DOMAIN, label, key, reg)

    def _add_near(self, namespace: bytes, text: str, key: bytes, stored: str) -> None:
        """Queue the deletion variants of ``text``; each entry carries ``stored`` (the listed
        registrable domain or handle) so lookups verify candidates without a record fetch."""
        p = self.policy
        if len(text) < p.near_min_length:
            return
        k = allowed_distance(
            len(text), p.near_max_distance, p.near_distance2_min_length, p.near_distance2_max_length
        )
        b = stored.encode("utf-8")[:255]
        entry = key + bytes((len(b),)) + b
        self._near.extend([vk + entry for vk in variant_keys(namespace, text, k)])

    # -- building -------------------------------------------------------------------------

    def __enter__(self) -> SnapshotBuilder:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()

    def abort(self) -> None:
        """Remove every temporary file; the builder cannot be used afterwards."""
        self._done = True
        if self._evidence_job is not None:
            self._evidence_job.cancel()
            self._evidence_job = None
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def build(self) -> Manifest:
        """Write the snapshot directory ``snapshots_root/<id>`` and return its manifest (not
        published)."""
        if self._done:
            raise RuntimeError("builder already built or aborted")
        try:
            manifest = self._build()
        except BaseException:
            self.abort()
            raise
        self._done = True
        return manifest

    def _build(self) -> Manifest:
        # Forked before LMDB is opened: the child never holds the environment.
        near_job = None
        if self.parallel and self._near.count >= NEAR_FORK_MIN and can_fork():
            children = NEAR_PARTS
            near_job = NearJob(
                self._near,
                self.policy.near_max_candidates,
                self._spill / "near.grouped",
                children,
                _own_near_share(self._records.count, self._near.count, children),
            )
        evidence_job = self._evidence_job or self._start_evidence_job()
        self._evidence_job = None
        ranges_job = None
        if (
            FORK_SIDE_JOBS
            and self.parallel
            and self._ranges.count >= RANGES_FORK_MIN
            and can_fork()
        ):
            threshold = self.policy.phone_range_min_listed
            ranges_job = RangesJob(self._ranges, threshold, self._spill / "ranges.counted")
        try:
            return self._write(near_job, evidence_job, ranges_job)
        except BaseException:
            for job in (near_job, evidence_job, ranges_job):
                if job is not None:
                    job.cancel()
            raise

    def _write(
        self,
        near_job: NearJob | None,
        evidence_job: EvidenceJob | None,
        ranges_job: RangesJob | None = None,
    ) -> Manifest:
        env = open_build_env(self._tmp, subdir=True, max_dbs=fmt.MAX_DBS)
        # The side file: what lookups never read (case ids, evidence), docs/snapshot-format.md.
        side = open_build_env(self._tmp / fmt.SIDE_FILE, subdir=False, max_dbs=4)
        sinks = ShardSinks(self._tmp, self.shards) if self.shards > 1 else None
        version = fmt.FORMAT_VERSION if sinks is None else fmt.SHARDED_FORMAT_VERSION
        try:
            dbs = {name: env.open_db(name) for name in fmt.BUILT_DBS}
            parent = self._open_parent()
            try:
                counts, total, bitmaps, collisions = write_records(
                    env,
                    dbs,
                    self._records,
                    self._strings.strings,
                    self._clusters,
                    parent,
                    (side, side.open_db(fmt.DB_CASES)),
                    sinks,
                )
            finally:
                if parent is not None:
                    parent.close()
            write_urlexpr(env, dbs[fmt.DB_URLEXPR], self._urlexpr)
            if ranges_job is not None:
                ranges_job.finish(env, dbs[fmt.DB_PHONE_RANGES])
            else:
                write_ranges(
                    env, dbs[fmt.DB_PHONE_RANGES], self._ranges, self.policy.phone_range_min_listed
                )
            bitmaps[fmt.NEAR_FILTER] = (
                write_near(env, dbs[fmt.DB_NEAR], self._near, self.policy.near_max_candidates)
                if near_job is None
                else near_job.finish(env, dbs[fmt.DB_NEAR])
            )
            write_bitmaps(env, dbs[fmt.DB_BITMAPS], bitmaps)
            del bitmaps  # not held through the hashes and the evidence
            if self._popular is not None:
                blobs, digests = self._popular
                pop = env.open_db(fmt.DB_POPULAR)
                with env.begin(write=True, db=pop) as txn:
                    txn.put(fmt.POPULAR_DIGESTS, json.dumps(digests).encode("utf-8"))
                    for order, (name, blob) in enumerate(blobs.items()):
                        # The key keeps the lists' precedence: b"\x01tranco", b"\x02crux".
                        txn.put(bytes([order + 1]) + name.encode("utf-8"), blob)
            write_hashes(env, dbs, self._hashes, sinks)
            self._write_evidence(side, evidence_job)
            meta = {
                b"format_version": version,
                b"strings": self._strings.strings,
                b"brands": sorted(self._brands, key=_brand_order),
                b"policy": self.policy.to_dict(),
                b"diff_parent": self.parent_id,
                b"collisions": collisions,
            }
            if self._evidence is not None:
                meta[fmt.META_INTAKE_CURSORS.encode("ascii")] = self._intake_cursors
            with env.begin(write=True) as txn:
                for k in sorted(meta):
                    txn.put(k, json.dumps(meta[k]).encode("utf-8"), db=dbs[fmt.DB_META])
            env.sync(True)
            side.sync(True)
            if sinks is not None:
                sinks.close(sync=True)
        finally:
            env.close()
            side.close()
            if sinks is not None:
                sinks.close(sync=False)
        shutil.rmtree(self._spill, ignore_errors=True)
        files = self._file_entries(sinks)
        body: dict[str, Any] = {
            "format_version": version,
            "parent_id": self.parent_id,
            "as_of": iso_utc(self.as_of),
            "counts": counts,
            "total": total,
            "policy": self.policy.to_dict(),
            "ingest_policy": self.ingest_policy,
            "inputs": self.inputs,
            "files": files,
        }
        if sinks is not None:
            body["shards"] = sinks.entries()
        checksum = fmt.content_checksum(body)
        # The id starts with as_of in ISO 8601's basic format (20261101T000000Z): the
        # extended form iso_utc writes, without its separators.
        base = f"{iso_utc(self.as_of).replace('-', '').replace(':', '')}-{checksum[:12]}"
        snapshot_id, n = base, 1
        while (self.snapshots_root / snapshot_id).exists():
            n += 1
            snapshot_id = f"{base}-{n}"
        manifest = Manifest(
            snapshot_id=snapshot_id,
            built_at=iso_utc(utc_now()),
            checksum=checksum,
            **body,
        )
        mpath = self._tmp / fmt.MANIFEST_FILE
        mpath.write_text(manifest.to_json(), encoding="utf-8")
        fsync_file(mpath)
        # Readable by the group (a server running as another user of the creating user's
        # group), never by others; mkdtemp made the directory 0700 (docs/operations.md).
        for f in self._tmp.iterdir():
            if f.is_file() and f.name != LOCK_FILE:
                f.chmod(fmt.FILE_MODE)
            elif f.is_dir():  # a shard directory
                for g in f.iterdir():
                    g.chmod(fmt.FILE_MODE)
                f.chmod(fmt.DIR_MODE)
        self._tmp.chmod(fmt.DIR_MODE)
        # The lock file is not part of the snapshot. It goes just before the rename, not
        # before the fsyncs: a build killed while it has no lock file leaves a .tmp-* that
        # the next build keeps for an hour (seen under load in the kill -9 drill).
        (self._tmp / LOCK_FILE).unlink(missing_ok=True)
        dest = self.snapshots_root / snapshot_id
        os.rename(self._tmp, dest)
        fsync_dir(dest)
        self._unlock()
        fsync_dir(self.snapshots_root)
        return manifest

    def _write_evidence(self, side: Any, job: EvidenceJob | None) -> None:
        """The ``evidence`` sub-database (from the forked merge when there is one) and the
        ``domlinks`` one."""
        if job is not None:
            job.finish(side, side.open_db(fmt.DB_EVIDENCE))
        elif self._evidence is not None:
            write_evidence(side, side.open_db(fmt.DB_EVIDENCE), self._evidence)
        if self._domlinks is not None:
            entries, cap = self._domlinks
            domlinks.write(side, side.open_db(fmt.DB_DOMLINKS), entries, cap)

    def _file_entries(self, sinks: ShardSinks | None) -> dict[str, dict[str, Any]]:
        """fsync every data file and compute its ``files`` entry (chunk hashes and the
        whole-file sha256); a sharded build's files are hashed in parallel, one per thread
        (the whole-file hash of one big file is otherwise one core's work)."""
        names = [fmt.DATA_FILE, fmt.SIDE_FILE]
        if sinks is None:
            out = {}
            for name in names:
                fsync_file(self._tmp / name)
                out[name] = file_entry(self._tmp / name)
            return out
        names += [e["file"] for e in sinks.entries()]

        def entry(name: str) -> dict[str, Any]:
            fsync_file(self._tmp / name)
            if "/" in name:
                fsync_dir((self._tmp / name).parent)
            return file_entry(self._tmp / name, threads=1)

        with ThreadPoolExecutor(default_threads()) as pool:
            return dict(zip(names, pool.map(entry, names), strict=True))

    def _open_parent(self) -> SnapshotReader | None:
        if self.parent_id is None:
            return None
        try:
            return SnapshotReader.open(self.snapshots_root / self.parent_id, verify=False)
        except SnapshotError as e:
            # A parent this version cannot read (damaged, or written by a newer scameter with
            # another format major) only costs the diff bitmaps: the new snapshot stands alone.
            _log.warning("building without a diff: parent %s unreadable (%s)", self.parent_id, e)
            self.parent_id = None
            return None


def _own_near_share(records: int, variants: int, children: int) -> float:
    """The writer's share of the near variants: with ``p`` of ``N`` variants itself, it ends
    with its children when ``O + p N = (1 - p) N / k`` (``O``: its other writing)."""
    n = variants * _NEAR_COST / children
    share = (n - records * _WRITE_COST) / (n + variants * _NEAR_COST)
    return min(0.5, max(0.0, share))


def _brand_order(brand: list[str | None]) -> tuple[str, str, str]:
    label, reg, owner = brand
    return reg or "", label or "", owner or ""
