"""The ingest pipeline: inputs in, one published snapshot (plus its rejects and diff) out.

Responsibility: :func:`run_ingest` wires the stages of design.md section 2::

    read (adapters, main process) -> parse + validate + normalise (worker pool, chunks)
    -> aggregate per identifier (main, streaming) -> policy decision -> sorted Records
    -> SnapshotBuilder.build -> rejects.jsonl beside it -> publish (atomic CURRENT swap)

Invariants:

* CURRENT changes only in the final :func:`publish` call, after the snapshot directory is
  complete and fsynced. A crash, a kill, a reject ratio above the limit or any error before that
  leaves the previous snapshot live; the builder leaves at most a ``.tmp-*`` directory.
* Chunks are processed in parallel but their results are folded in input order, and the
  aggregation is order-independent anyway: the same inputs, policy and ``as_of`` give the same
  records and so the same content checksum.
* Memory: at most ``2 * workers + 2`` chunks are in flight; aggregation keeps O(distinct
  identifiers) compact state (see :mod:`scameter.ingest.aggregate`).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from scameter.errors import IngestError, PolicyError, RejectRatioExceeded, SnapshotError
from scameter.identifiers import registrable_domain
from scameter.index import IndexPolicy, Manifest, Record, Snapshot, SnapshotBuilder, publish
from scameter.index.popular import PopularSet
from scameter.index.publish import give_to_group, remove_stale_builds
from scameter.index.signing import EccKey, sign_snapshot
from scameter.index.space import (
    current_dir,
    disk_full_names,
    ensure_input_space,
    ensure_space,
)
from scameter.ingest.adapters import (
    FORMATS,
    LINE_FORMATS,
    AdapterOptions,
    InputFile,
    data_bytes,
    detect_format,
    intake_appeals,
    intake_chunks,
    item_chunks,
    line_blocks,
)
from scameter.ingest.aggregate import Aggregator, Stats
from scameter.ingest.evidence import EvidenceCollector
from scameter.ingest.folds import Fold, Runner, choose_engine, make_fold
from scameter.ingest.granularity import Granularity
from scameter.ingest.policy import SOURCES, Policy
from scameter.ingest.rejects import SCRATCH_DIR, RejectWriter
from scameter.ingest.warninglists import (
    NONE,
    POPULAR_LISTS,
    Warninglists,
    load_warninglists,
    loaded,
    remember,
)
from scameter.ingest.worker import ChunkResult
from scameter.processes import (
    WorkerLedger,
    die_with_parent,
    gc_tuned_for_bulk,
    kill_leftovers,
    tune_gc_for_bulk,
    use_ledger,
    worker_context,
)
from scameter.times import utc_now

#: Default key for reporter hashes when the caller has none (tests, local files). Production
#: deployments pass their own secret (``SCAMETER_REPORTER_KEY``) so hashes cannot be reversed.
DEFAULT_REPORTER_KEY = b"scameter-reporter-hash-v1"
CHUNK_ITEMS = 10_000
#: Below this much input a pool costs more than it saves: run in-process.
_POOL_MIN_BYTES = 4 << 20

_log = logging.getLogger(__name__)
Progress = Callable[[int, int | None], None]
Task = tuple[str, AdapterOptions, str, int, Any]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one ingest did. ``counts`` is kind -> level -> identifiers in the snapshot."""

    snapshot_id: str | None
    published: bool
    records_read: int
    rejected: int
    rejects_path: Path
    counts: dict[str, dict[str, int]]
    added: int = 0
    removed: int = 0
    changed: int = 0
    manifest: Manifest | None = None
    ignored: int = 0
    identifiers: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    #: Rejected rows per limit of scameter.ingest.limits (``{"date_range": 2}``).
    limits: dict[str, int] = field(default_factory=dict)
    #: Text-only reports kept without identifiers (in ``rejects_path``, ``no_identifiers``).
    no_identifiers: int = 0
    #: The engine that aggregated (``auto`` resolved: memory, duckdb or spark).
    engine: str = "memory"


@dataclass(slots=True)
class _Inputs:
    """The inputs of one run: names, formats, digests, and a byte-progress counter."""

    paths: list[Path]
    formats: list[str]
    names: list[str]
    digests: dict[str, str] = field(default_factory=dict)
    total_bytes: int | None = 0
    #: What the inputs hold once read (gzip expanded, estimated): the engine choice, the
    #: pool and the disk estimate follow it; None when an input is not a regular file.
    data_bytes: int | None = 0
    finished_bytes: int = 0
    current: InputFile | None = None
    #: Intake log (resolved path) -> the last sequence number read from it.
    intake_cursors: dict[str, int] = field(default_factory=dict)
    #: Appeals read from the intake logs among the inputs (Aggregator.add_appeals).
    appeals: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def done_bytes(self) -> int:
        """Bytes read so far (reading runs at most a few chunks ahead of the results)."""
        return self.finished_bytes + (self.current.consumed if self.current is not None else 0)


def official_entities_file() -> Path:
    """The package's hand-checked Hong Kong official entities (allow rows, JSONL)."""
    return Path(str(resources.files("scameter").joinpath("data", "official_entities.jsonl")))


def _check_readable(path: Path, what: str) -> None:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except FileNotFoundError:
        raise IngestError(f"{what} missing (reinstall scameter, or skip it)", path) from None
    except OSError as exc:
        raise IngestError(f"cannot read {what}: {exc.strerror}", path) from exc


def _plan(
    inputs: Sequence[Path],
    input_format: str | None,
    official: Path | None = None,
    per_input: Sequence[str | None] | None = None,
) -> _Inputs:
    paths = [Path(p) for p in inputs]
    if not paths:
        raise IngestError("no input files")
    given = list(per_input) if per_input is not None else [None] * len(paths)
    if len(given) != len(paths):
        raise IngestError(f"{len(given)} per-input formats for {len(paths)} inputs")
    for fmt in (input_format, *given):
        if fmt is not None and fmt not in FORMATS:
            raise IngestError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    formats, names, seen = [], [], set()
    total: int | None = 0
    data: int | None = 0
    for p, own in zip(paths, given, strict=True):
        if not p.exists():
            raise IngestError("input not found", p)
        formats.append(own or input_format or detect_format(p))
        name, n = p.name, 1
        while name in seen:  # digests are keyed by file name: keep two "reports.jsonl" apart
            n += 1
            name = f"{p.name}#{n}"
        seen.add(name)
        names.append(name)
        if not p.is_file():
            total = data = None
        elif total is not None and data is not None:
            total, data = total + p.stat().st_size, data + data_bytes(p)
    if official is not None:
        # Loaded like any allow file, whatever format the other inputs have.
        _check_readable(official, "official entities file")
        paths.append(official)
        formats.append("jsonl")
        names.append(official.name if official.name not in seen else f"{official.name}#pkg")
    return _Inputs(paths, formats, names, total_bytes=total, data_bytes=data)


def _tasks(plan: _Inputs, base: AdapterOptions) -> Iterator[Task]:
    for path, fmt, name in zip(plan.paths, plan.formats, plan.names, strict=True):
        label = str(path)
        # Rows that name no provider are the file's: two files are two providers.
        opts = replace(base, provider=base.provider or name)
        if fmt == "intake":
            sha = hashlib.sha256()
            cursor: list[int] = []
            for chunk in intake_chunks(path, CHUNK_ITEMS, sha, cursor):
                yield fmt, opts, label, 0, chunk
            plan.appeals.extend(intake_appeals(path, sha))
            plan.digests[name] = sha.hexdigest()
            plan.intake_cursors[os.path.realpath(path)] = cursor[-1] if cursor else -1
            continue
        inp = plan.current = InputFile(path)
        try:
            if fmt in LINE_FORMATS:
                for first, block in line_blocks(inp):
                    yield fmt, opts, label, first, block
            else:
                for chunk in item_chunks(fmt, inp, opts, CHUNK_ITEMS):
                    yield fmt, opts, label, 0, chunk
            plan.digests[name] = inp.digest()
            plan.finished_bytes += inp.consumed
        finally:
            plan.current = None
            inp.close()


def _pool_worker_init(ledger: str | None) -> None:
    """A pool worker writes itself into the run's worker ledger (a next run kills it if this
    one was killed and it lives on), dies with the process that started it
    (``PR_SET_PDEATHSIG``: after a ``kill -9`` of ingest no worker lives on as an orphan),
    then tunes its GC for bulk."""
    use_ledger(ledger)
    die_with_parent(os.getppid())  # records this worker in the ledger
    tune_gc_for_bulk()


def _remove_leftovers(snapshots_root: Path) -> None:
    """What a killed run left: its helpers still running (by their ledger), its build
    directory and its rejects scratch file; one log line when there was something."""
    dead, killed = kill_leftovers(snapshots_root)
    builds = remove_stale_builds(snapshots_root)
    for pid in dead:
        for scratch in (snapshots_root / SCRATCH_DIR).glob(f"rejects-*-{pid}.jsonl"):
            scratch.unlink(missing_ok=True)
    if dead or killed or builds:
        _log.warning(
            "removed what %d ingest run(s) that did not finish left: %d worker process(es) "
            "killed, %d temporary build director(ies) deleted",
            len(dead), killed, len(builds),
        )  # fmt: skip


def _results(
    tasks: Iterator[Task],
    workers: int,
    ledger: WorkerLedger | None,
    run: Runner,
) -> Iterator[ChunkResult]:
    """Chunk results in task order; a bounded number of chunks in flight. ``run(seq,
    *task)`` parses the ``seq``-th task (the fold's runner: it may also encode the events'
    evidence and write their table rows, in the worker that parsed them)."""
    if workers <= 1:
        for seq, t in enumerate(tasks):
            yield run(seq, *t)
        return
    # fork when this process is single-threaded (cheap: workers inherit the imported modules);
    # forkserver otherwise, e.g. when a caller such as the demo holds a gRPC channel.
    ex = ProcessPoolExecutor(
        workers,
        mp_context=worker_context(),
        initializer=_pool_worker_init,
        initargs=(None if ledger is None else str(ledger.path),),
    )
    pending: deque[Future[ChunkResult]] = deque()
    try:
        for seq, t in enumerate(tasks):
            pending.append(ex.submit(run, seq, *t))
            if len(pending) >= 2 * workers + 2:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def _index_policy(policy: Policy) -> IndexPolicy:
    """The index settings of ``policy``, plus every popular registrable domain exempted from
    near matching.

    Shared platforms and top sites (the tables granularity uses) are looked up far more often
    than any lookalike is listed: without the exemption a listed ``goog1e.com`` would make a
    lookup of ``google.com`` answer "similar to a reported domain" (design section 5). The
    exemption only stops *querying* them fuzzily (and indexing them as listed neighbours);
    exact listings, the lookalike itself and other near misses still match.
    """
    try:
        base = IndexPolicy(**dict(policy.index))
    except TypeError as exc:
        raise PolicyError(f"[index] settings: {exc}") from exc
    gran = Granularity.default(policy.extra_shared_platforms, policy.extra_top_sites)
    # The popular-site warninglists are exempted at lookup time from the snapshot's
    # ``popular`` set: two million names do not belong in the manifest.
    exempt = set(base.near_exempt_domains)
    for host in (*gran.platforms, *gran.top_sites):
        reg = registrable_domain(host)
        if reg is not None:
            exempt.add(reg)
    # Sorted: the policy is part of the manifest, so its order must not depend on set order.
    return replace(base, near_exempt_domains=tuple(sorted(exempt)))


@gc_tuned_for_bulk()  # see scameter.processes: a quarter of the time otherwise
def run_ingest(
    inputs: Sequence[Path],
    snapshots_root: Path,
    *,
    as_of: datetime | None = None,
    policy: Policy | None = None,
    dry_run: bool = False,
    max_reject_ratio: float = 0.05,
    input_format: str | None = None,
    input_formats: Sequence[str | None] | None = None,
    source: str | None = None,
    category: str | None = None,
    column: str | None = None,
    kind: str | None = None,
    workers: int | None = None,
    reporter_key: bytes = DEFAULT_REPORTER_KEY,
    progress: Progress | None = None,
    stage: Callable[[str], None] | None = None,
    provider: str | None = None,
    official_entities: Path | None = None,
    cache_dir: Path | None = None,
    sign_key: EccKey | None = None,
    region: str | None = None,
    group: int | None = None,
    evidence: bool = True,
    engine: str = "memory",
    memory_limit: int | None = None,
    shards: int = 1,
    space_check: bool = True,
) -> IngestResult:
    """Read ``inputs``, build a snapshot under ``snapshots_root`` and publish it as CURRENT.

    ``source`` / ``category`` / ``kind`` are defaults for rows that do not say (list-style
    feeds: source ``feed``); ``column`` names the identifier column of a plain CSV.
    ``progress(done, total)`` is called after each chunk, in input bytes (``total`` None when
    unknown); ``stage(text)`` when reading is over and the snapshot is being built.
    ``dry_run`` reads, validates and decides everything but builds nothing. ``as_of`` (an
    aware datetime, default now) is the instant the ageing windows end at. ``provider``
    names who stands behind rows that do not say (default: each input's file name).
    ``official_entities`` replaces the package's official-entities file (loaded unless the
    policy's ``official_entities`` is false). The policy's ``warninglists`` are read first;
    a missing or unreadable list or official-entities file is an :class:`IngestError`
    naming it. ``cache_dir`` keeps the compiled popular-site set between processes (the
    command passes ``<data_dir>/cache``). ``region`` (an ISO code such as ``SG``) reads the
    local phone numbers of rows that name no ``region`` as numbers of that country.
    ``group`` (a group id, see :func:`scameter.index.publish.resolve_group`) group-owns the
    snapshot directory, its files and ``CURRENT`` (default: as created, the user's group).
    ``evidence`` (default on) keeps each identifier's events in the snapshot for the live
    fold of ``serve --intake-log`` (:mod:`scameter.ingest.evidence`).
    ``engine``: where events are aggregated: ``memory`` (Python arrays), ``duckdb`` (embedded,
    spilling to disk under ``memory_limit`` bytes, default a quarter of the machine) or
    ``spark`` (the ``spark`` extra); the snapshot is the same (:mod:`scameter.ingest.folds`).
    ``shards`` > 1 splits the snapshot's ``records`` over that many key-range files
    (:mod:`scameter.index.recordtable`). ``space_check=False`` skips both disk checks
    (:mod:`scameter.index.space`; ``--skip-space-check``): a full disk still fails the run
    with the directory named, nothing published.
    Raises :class:`RejectRatioExceeded` (nothing published) when more than
    ``max_reject_ratio`` of the rows were rejected. ``input_formats`` gives one format (or
    None) per input, overriding ``input_format`` for that input.
    """
    policy = policy or Policy()
    if source is not None and source not in SOURCES:
        raise IngestError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")
    when = utc_now() if as_of is None else as_of.astimezone(UTC).replace(microsecond=0)
    snapshots_root = Path(snapshots_root)
    index_policy = _index_policy(policy)
    official = (official_entities or official_entities_file()) if policy.official_entities else None
    plan = _plan(inputs, input_format, official, input_formats)
    lists, lists_key = _warninglists(policy, snapshots_root, cache_dir)
    opts = AdapterOptions(
        source=source,
        category=category,
        column=column,
        kind=kind,
        reporter_key=reporter_key,
        extra_platforms=policy.extra_shared_platforms,
        extra_top_sites=policy.extra_top_sites,
        as_of=int(when.timestamp()),
        warninglists=lists_key,
        provider=provider or "",
        region=region,
    )
    if workers is None:
        big = plan.data_bytes is None or plan.data_bytes >= _POOL_MIN_BYTES
        workers = min(os.cpu_count() or 1, 4) if big else 1
    engine = choose_engine(engine, memory_limit, plan.data_bytes)
    spill_needed = _prepare_root(
        snapshots_root, plan, engine, dry_run=dry_run, evidence=evidence, check=space_check,
        memory_limit=memory_limit,
    )  # fmt: skip
    ledger = WorkerLedger.open(snapshots_root)
    agg = Aggregator(policy, when, lists)
    fold = make_fold(engine, agg, snapshots_root, memory_limit, spill_needed=spill_needed)
    rejects = RejectWriter(snapshots_root)
    collector = _evidence(snapshots_root, agg, evidence, dry_run)
    rows = rejected_rows = 0
    try:
        package_label = str(official) if official is not None else None
        runner = fold.runner(collector.worker_rules)
        for res in _results(_tasks(plan, opts), workers, ledger, runner):
            if res.label != package_label:  # the package's own rows are not the caller's
                rows += res.rows
                rejected_rows += res.rejected_rows
            rejects.write(res.label, res.rejects, res.ignored)
            fold.add_result(res)
            collector.add_encoded(res.evidence)
            if progress is not None:
                progress(plan.done_bytes, plan.total_bytes)
        rejects.close()
        fold.add_appeals(plan.appeals)
        if rows == 0:
            raise IngestError("the inputs hold no rows: refusing to publish an empty snapshot")
        if rejected_rows > max_reject_ratio * rows:
            raise RejectRatioExceeded(
                f"{rejected_rows} of {rows} rows rejected ({rejected_rows / rows:.1%} > "
                f"{max_reject_ratio:.1%}); nothing published, CURRENT unchanged; "
                f"reasons in {rejects.path}",
                rejects.path,
            )
        identifiers = fold.finish()
        if stage is not None:
            what = "deciding" if dry_run else "building the snapshot:"
            stage(f"{what} {identifiers:,} identifiers seen")
        result = _finish(fold, identifiers, agg, policy, index_policy, plan, when,
                         snapshots_root, rejects, rows, rejected_rows, dry_run, workers, lists,
                         sign_key, group, collector, shards, space_check)  # fmt: skip
        return replace(result, engine=engine)
    finally:
        rejects.close()
        collector.close()
        fold.close()
        ledger.close()


def _prepare_root(
    snapshots_root: Path,
    plan: _Inputs,
    engine: str,
    *,
    dry_run: bool,
    evidence: bool,
    check: bool = True,
    memory_limit: int | None = None,
) -> int | None:
    """Create ``snapshots_root``, remove a killed run's leftovers, and (not on a dry run)
    check the disk before any work (``check``); returns the out-of-core work estimate in
    bytes."""
    snapshots_root.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(snapshots_root)
    if dry_run:
        return None
    from scameter.ingest.ooc import default_memory_limit  # as folds does: duckdb stays lazy

    need = ensure_input_space(
        snapshots_root,
        plan.data_bytes,
        out_of_core=engine != "memory",
        evidence=evidence,
        parent=current_dir(snapshots_root),
        check=check,
        memory_limit=memory_limit or default_memory_limit(),
    )
    return need.ooc if need is not None else None


def _evidence(
    snapshots_root: Path, agg: Aggregator, evidence: bool, dry_run: bool
) -> EvidenceCollector:
    """The evidence kept for the live fold (nothing kept on a dry run or without it), and
    the domain-link index the fold's linking reads (filed by ``agg`` while it links)."""
    enabled = evidence and not dry_run
    collector = EvidenceCollector(
        snapshots_root, agg.count_rules(), CHUNK_ITEMS * 50, enabled=enabled,
        cap=agg.policy.hub_reports,
    )  # fmt: skip
    if enabled:
        agg.domain_sink = collector
    return collector


def _finish(  # noqa: PLR0917 - private, one call site
    fold: Fold,
    identifiers: int,
    agg: Aggregator,
    policy: Policy,
    index_policy: IndexPolicy,
    plan: _Inputs,
    when: datetime,
    snapshots_root: Path,
    rejects: RejectWriter,
    rows: int,
    rejected_rows: int,
    dry_run: bool,
    workers: int,
    lists: Warninglists,
    sign_key: EccKey | None = None,
    group: int | None = None,
    collector: EvidenceCollector | None = None,
    shards: int = 1,
    space_check: bool = True,
) -> IngestResult:
    gran = Granularity.default(policy.extra_shared_platforms, policy.extra_top_sites, lists)
    counts: dict[str, dict[str, int]] = {}

    def counted(records: Iterator[Record]) -> Iterator[Record]:
        for rec in records:
            per_kind = counts.setdefault(rec.identifier.kind.value, {})
            per_kind[rec.level.value] = per_kind.get(rec.level.value, 0) + 1
            yield rec

    if dry_run:
        n = sum(1 for _ in counted(fold.records(gran)))
        return IngestResult(None, False, rows, rejected_rows, rejects.finish(None), counts,
                            ignored=rejects.ignored, identifiers=n,
                            stats=_stats(agg.stats), limits=dict(rejects.limits),
                            no_identifiers=rejects.no_identifiers)  # fmt: skip
    needed = ensure_space(
        snapshots_root,
        identifiers,
        current_dir(snapshots_root),
        evidence_on_disk=collector.bytes if collector is not None else 0,
        check=space_check,
    )
    builder = SnapshotBuilder(
        snapshots_root,
        as_of=when,
        parent="current",
        policy=index_policy,
        ingest_policy=policy.to_dict(),
        inputs=dict(sorted(plan.digests.items())),
        parallel=workers > 1,
        shards=shards,
    )
    with disk_full_names(snapshots_root, needed), builder:
        builder.set_popular(lists.popular, lists.digests)
        if collector is not None and collector.sorter is not None:
            builder.set_evidence(collector.sorter, plan.intake_cursors)
            if collector.domains is not None:
                builder.set_domain_links(collector.domains, collector.cap)
            agg.stats.extra["evidence_events"] = collector.events
            agg.stats.extra["evidence_bytes"] = collector.bytes
        fold.feed(builder, gran, workers)
        manifest = builder.build()
    counts = {kind: dict(levels) for kind, levels in manifest.counts.items()}
    n = manifest.total
    snapshot_dir = snapshots_root / manifest.snapshot_id
    rejects_path = rejects.finish(snapshot_dir)
    added = removed = changed = 0
    if manifest.parent_id is not None:
        with Snapshot.open(snapshot_dir, verify=False) as snap:
            added, removed, changed = (
                len(snap.bitmap(name)) for name in ("added", "removed", "changed")
            )
    if sign_key is not None:  # before CURRENT names it: a trusting server never sees it unsigned
        sign_snapshot(snapshot_dir, sign_key)
    if (
        group is not None
    ):  # also before CURRENT: a server of the group never meets 0640 it can't read
        give_to_group(snapshot_dir, group)
    publish(snapshots_root, manifest.snapshot_id, group=group)
    return IngestResult(
        snapshot_id=manifest.snapshot_id,
        published=True,
        records_read=rows,
        rejected=rejected_rows,
        rejects_path=rejects_path,
        counts=counts,
        added=added,
        removed=removed,
        changed=changed,
        manifest=manifest,
        ignored=rejects.ignored,
        identifiers=n,
        stats=_stats(agg.stats),
        limits=dict(rejects.limits),
        no_identifiers=rejects.no_identifiers,
    )


def _warninglists(
    policy: Policy, snapshots_root: Path, cache_dir: Path | None
) -> tuple[Warninglists, str | None]:
    """The policy's warninglists and the key workers find them under (None: none).

    The popular set (the costly part) comes from the CURRENT snapshot when that one was
    compiled from files with the same digests.
    """
    if policy.warninglists == "none":
        return NONE, None
    key = "" if policy.warninglists == "bundled" else policy.warninglists

    def from_parent(digests: dict[str, str]) -> PopularSet | None:
        try:
            with Snapshot.open_current(snapshots_root) as snap:
                reader = snap.reader
                # the snapshot keeps every list's digest; the popular set depends on the
                # popular lists' (``digests``) alone
                have = reader.popular_digests() or {}
                if all(have.get(name) == digest for name, digest in digests.items()):
                    popular = reader.popular
                    if list(popular.lists) == list(POPULAR_LISTS.values()):
                        return popular
        except (SnapshotError, OSError):
            return None
        return None

    lists = loaded(key)  # this process's, e.g. an earlier ingest of a long-running caller
    if lists is None:
        lists = load_warninglists(
            Path(key) if key else None, cached=from_parent, cache_dir=cache_dir
        )
        remember(key, lists)
    return lists, key


def _stats(s: Stats) -> dict[str, int]:
    demoted = {f"demoted:{name}": n for name, n in sorted(s.demoted.items())}
    return demoted | {
        "reports": s.reports,
        "counted": s.counted,
        "aged_out": s.aged_out,
        "future": s.future,
        "status_rejected": s.status_rejected,
        "allow": s.allow,
        "delist": s.delist,
        "delisted": s.delisted,
    }


__all__ = ["DEFAULT_REPORTER_KEY", "IngestResult", "run_ingest"]
