"""Where ingest folds its events: in Python memory, or out of core (DuckDB, Spark).

Responsibility: one small interface for :func:`scameter.ingest.pipeline.run_ingest`:
``add`` each chunk's events, ``add_appeals``, ``finish`` (the number of identifiers), then
``records`` (a dry run) or ``feed`` (the snapshot builder), and ``close``. The in-memory fold
is the :class:`~scameter.ingest.aggregate.Aggregator`; the out-of-core folds write the
admitted events to a work directory and aggregate them in SQL
(:mod:`scameter.ingest.ooc`), deciding with the same code.

Invariant: every fold gives the same records for the same events (tests compare the
snapshots' content checksums), and ``close`` removes whatever the fold wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from scameter.errors import IngestError
from scameter.identifiers import Identifier
from scameter.index import Record, SnapshotBuilder
from scameter.ingest.aggregate import Aggregator
from scameter.ingest.duck import DuckStore
from scameter.ingest.evidence import EvidenceRules, process_chunk_with_evidence
from scameter.ingest.granularity import Granularity
from scameter.ingest.ooc import (
    ENGINES,
    EventFiles,
    OutOfCore,
    RowRules,
    WorkDir,
    process_chunk_rows,
)
from scameter.ingest.shards import feed_builder, feed_parts, shard_count
from scameter.ingest.worker import ChunkResult, process_chunk

#: What parses the ``seq``-th task of the input (``runner(seq, *task)``), in a parse worker.
Runner = Callable[..., ChunkResult]


def parse_chunk(evidence: EvidenceRules | None, seq: int, *task: Any) -> ChunkResult:
    """The in-memory fold's runner: the chunk's events (and their evidence when
    ``evidence`` rules are given), in any order of ``seq``."""
    if evidence is None:
        return process_chunk(*task)
    return process_chunk_with_evidence(evidence, *task)


class MemoryFold:
    """The in-memory path: :class:`Aggregator` as it always was."""

    def __init__(self, agg: Aggregator) -> None:
        self.agg = agg

    def runner(self, evidence: EvidenceRules | None) -> Runner:
        """What the parse workers run per task (see :data:`Runner`)."""
        return partial(parse_chunk, evidence)

    def add(self, events: list[tuple[Any, ...]]) -> None:
        self.agg.add_events(events)

    def add_result(self, res: ChunkResult) -> None:
        """Fold one chunk's result (results come in input order)."""
        self.agg.add_events(res.events)

    def add_appeals(self, appeals: Iterable[tuple[str, str, int]]) -> None:
        self.agg.add_appeals(appeals)

    def finish(self) -> int:
        return len(self.agg.keys)

    def records(self, gran: Granularity) -> Iterator[Record]:
        return self.agg.records(gran)

    def feed(self, builder: SnapshotBuilder, gran: Granularity, workers: int) -> None:
        decisions = self.agg.decide(gran)
        shards = shard_count(len(decisions.order), workers)
        feed_builder(builder, self.agg, gran, decisions, shards)

    def close(self) -> None:
        pass


class OutOfCoreFold:
    """Events to CSV files in a work directory, aggregated by DuckDB (or Spark, then
    DuckDB for the second stage) under ``memory_limit`` bytes."""

    def __init__(
        self, agg: Aggregator, snapshots_root: Path, engine: str, memory_limit: int, *,
        threads: int = 2, spark_master: str = "local[2]", spill_needed: int | None = None,
    ) -> None:  # fmt: skip
        self.agg = agg
        self.engine = engine
        self.spark_master = spark_master
        self.work = WorkDir(snapshots_root)
        try:
            self.files = EventFiles(agg, self.work.path)
        except BaseException:
            self.work.close()
            raise
        self._limit, self._threads = memory_limit, threads
        self._spill_needed = spill_needed
        # Opened with the first complete event file: DuckDB starts threads, and the worker
        # pool forks (cheaper than a forkserver) only from a single-threaded process.
        self._store: DuckStore | None = None
        self.ooc: OutOfCore | None = None
        self.appeals = Path()

    @property
    def store(self) -> DuckStore:
        if self._store is None:
            self._store = DuckStore(
                self.work.path, self._limit, self._threads, spill_needed=self._spill_needed
            )
        return self._store

    def runner(self, evidence: EvidenceRules | None) -> Runner:
        """What the parse workers run per task: they admit the events and write their
        table rows (:func:`~scameter.ingest.ooc.process_chunk_rows`), so that this process
        only appends text to the event files."""
        agg = self.agg
        return partial(process_chunk_rows, RowRules(agg.count_rules(), agg.as_of_ts, evidence))

    def add(self, events: list[tuple[Any, ...]]) -> None:
        """Admit and write one chunk's events in this process."""
        self.files.add(events)
        self._load_done()

    def add_result(self, res: ChunkResult) -> None:
        """Write one chunk's result, as :meth:`runner` made it (results come in input
        order, numbered by the runner)."""
        if res.table is None:
            raise IngestError("an out-of-core fold takes the results of its own runner")
        self.files.add_rows(res.table)
        self._load_done()

    def _load_done(self) -> None:
        for path in self.files.take_done():
            self.store.load("ev", path)

    def add_appeals(self, appeals: Iterable[tuple[str, str, int]]) -> None:
        self.appeals = self.files.write_appeals(appeals)

    def finish(self) -> int:
        files, store, agg = self.files, self.store, self.agg
        files.close()
        for path in files.take_done():
            store.load("ev", path)
        store.load("li", files.li_path)
        store.load("ap", self.appeals)
        if self.engine == "spark":
            from scameter.ingest.spark import aggregate_on_spark

            aggregate_on_spark(store, self.work.path, agg, self.spark_master)
        else:
            store.aggregate(as_of=agg.as_of_ts, public_start=agg.public_start)
        store.rank()
        self.ooc = OutOfCore(store.con, agg, self.work.path, agg.lists)
        threshold = agg.policy.appeal_threshold
        agg.stats.extra["appealed"] = (
            int(store.con.execute("SELECT count(*) FROM agg WHERE np >= ?", [threshold])
                .fetchone()[0])
            if threshold else 0
        )  # fmt: skip
        return self.ooc.n

    def _ready(self) -> OutOfCore:
        if self.ooc is None:
            raise IngestError("out-of-core fold used before finish()")
        return self.ooc

    def records(self, gran: Granularity) -> Iterator[Record]:
        ooc = self._ready()
        ooc.decide(gran)
        for kind, value, valid, *rest in ooc.fields(gran):
            yield Record(Identifier(kind, value, valid), *rest)

    def feed(self, builder: SnapshotBuilder, gran: Granularity, workers: int) -> None:
        """Decide and add the records, over ``workers`` processes when there are enough:
        the read-write connection (and DuckDB's threads) closes first, so that this process
        can fork; then every feeding process reads through its own read-only connection."""
        ooc = self._ready()
        builder.intern(self.agg.strings())
        ooc.decide(gran)
        self.store.close()
        path = self.store.path

        def fields_of(shard: int, shards: int) -> Iterator[tuple[Any, ...]]:
            ooc.reconnect(path, memory_limit=reader_memory(self._limit, shards))
            return ooc.fields(gran, shard=shard, shards=shards)

        feed_parts(builder, fields_of, self.agg.stats, shard_count(ooc.n, workers))

    def close(self) -> None:
        try:
            self.files.close()
            if self._store is not None:
                self._store.close()
            if self.ooc is not None:
                self.ooc.con.close()
        finally:
            self.work.close()


Fold = MemoryFold | OutOfCoreFold


#: Python memory per identifier of the in-memory fold (docs/benchmarks.md: 9 GiB at 10^7).
MEMORY_BYTES_PER_ID = 880
#: Input bytes per identifier assumed by ``auto``: a JSONL report naming one new number is
#: 150-230 bytes, a CSV list row 15-40; 100 errs towards DuckDB for report files.
INPUT_BYTES_PER_ID = 100


def reader_memory(memory_limit: int, shards: int) -> int:
    """DuckDB's memory limit for each feeding process's read-only connection: its share of
    half of ``memory_limit``, between 16 and 64 MiB. A batch reads each block once, so a
    larger buffer pool only keeps what was read; DuckDB's default is 80 % of the machine
    per connection, outside ``--memory-limit``. Measured (docs/benchmarks.md, rounds 9 and
    10): reading 2x10^7 ranked rows in 50,000-row batches grew a process by 800 MiB with the
    default and levelled at 300 MiB with 256 MiB; at 10^7 reports each feeder grew about
    280 MiB with 256 MiB and 100 MiB with 64 MiB, in the same feed time."""
    return max(16 << 20, min(64 << 20, memory_limit // (2 * max(1, shards))))


def choose_engine(engine: str, memory_limit: int | None, input_bytes: int | None) -> str:
    """The engine that runs: ``engine`` itself, or for ``auto`` ``duckdb`` when the
    identifiers the input may hold (``input_bytes`` / :data:`INPUT_BYTES_PER_ID`) would need
    more than ``memory_limit`` (default a quarter of the machine) in the in-memory fold at
    :data:`MEMORY_BYTES_PER_ID` each, else ``memory``. An input of unknown size (a pipe) is
    taken as ``memory``'s, the historical default."""
    if engine != "auto":
        return engine
    if not input_bytes:
        return "memory"
    from scameter.ingest.ooc import default_memory_limit

    limit = memory_limit or default_memory_limit()
    needed = input_bytes // INPUT_BYTES_PER_ID * MEMORY_BYTES_PER_ID
    return "duckdb" if needed > limit else "memory"


def make_fold(
    engine: str, agg: Aggregator, snapshots_root: Path, memory_limit: int | None,
    spark_master: str = "local[2]", *, spill_needed: int | None = None,
) -> Fold:  # fmt: skip
    """The fold of ``engine`` (one of :data:`scameter.ingest.ooc.ENGINES`)."""
    if engine not in ENGINES or engine == "auto":
        raise IngestError(f"unknown engine {engine!r} (one of {', '.join(ENGINES)})")
    if engine == "memory":
        return MemoryFold(agg)
    from scameter.ingest.ooc import default_memory_limit

    limit = memory_limit or default_memory_limit()
    return OutOfCoreFold(
        agg, snapshots_root, engine, limit, spark_master=spark_master, spill_needed=spill_needed
    )


__all__ = [
    "INPUT_BYTES_PER_ID",
    "MEMORY_BYTES_PER_ID",
    "Fold",
    "MemoryFold",
    "OutOfCoreFold",
    "choose_engine",
    "make_fold",
    "reader_memory",
]
