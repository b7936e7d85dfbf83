"""Feeding the snapshot builder from several processes at once.

Responsibility: :func:`feed_builder` turns the aggregator's decisions into records and adds
them to a :class:`~scameter.index.SnapshotBuilder`, split over ``shards`` processes. Building a
record (its listing, its encoded bytes, its near-match variants and range keys) is the largest
per-identifier cost of an ingest and is independent from record to record, so on a machine with
two cores the work halves. This process feeds shard 0 itself while forked children feed the
others into their own spill files; then it adopts their parts and builds.

Invariants:

* The snapshot is byte-identical whatever the number of shards: the records are the same
  (each is a function of its identifier's state and the serial decisions), string ids are
  interned up front in a fixed order, and the builder settles every tie by value.
* Children are forked only from a single-threaded process (:func:`scameter.processes.
  can_fork`); otherwise, and for one shard, everything runs here, serially.
* A child that fails or dies makes the ingest fail (nothing is published); its files are in
  the builder's temporary directory, which the builder removes on abort.
* A child dies with the main process (:func:`scameter.processes.die_with_parent`).
* A child never runs the parent's clean-up code: it leaves through ``os._exit`` (what
  ``multiprocessing`` does for forked children), so the builder's ``with`` block, open reject
  files and buffered output stay the parent's.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from scameter.errors import IngestError
from scameter.index import SnapshotBuilder
from scameter.index.builder import BuilderPart
from scameter.ingest.aggregate import Aggregator, Decisions, Stats
from scameter.ingest.granularity import Granularity
from scameter.processes import can_fork, die_with_parent

#: Below this many identifiers a forked child costs more than it saves.
MIN_PER_SHARD = 50_000


def shard_count(identifiers: int, workers: int) -> int:
    """How many processes should feed the builder: one per worker, at most one per
    :data:`MIN_PER_SHARD` identifiers, and one when forking is not safe here."""
    if workers <= 1 or identifiers < 2 * MIN_PER_SHARD or not can_fork():
        return 1
    return max(1, min(workers, identifiers // MIN_PER_SHARD))


def feed_builder(
    builder: SnapshotBuilder,
    agg: Aggregator,
    gran: Granularity,
    decisions: Decisions,
    shards: int = 1,
) -> None:
    """Add every decided record to ``builder`` (the caller then builds)."""
    builder.intern(agg.strings())

    def fields_of(shard: int, shards: int) -> Iterator[tuple[Any, ...]]:
        return agg.fields(gran, decisions, shard=shard, shards=shards)

    feed_parts(builder, fields_of, agg.stats, shards)


FieldsOf = Callable[[int, int], Iterator[tuple[Any, ...]]]


def feed_parts(builder: SnapshotBuilder, fields_of: FieldsOf, stats: Stats, shards: int) -> None:
    """Add the records ``fields_of(shard, shards)`` yields for every shard to ``builder``:
    shard 0 here, the others in forked children (``stats.delisted`` gathers their counts).
    ``fields_of`` runs in the process that feeds that shard, after the fork."""
    if shards > 1 and not can_fork():
        shards = 1
    children: list[tuple[Any, Connection]] = []
    if shards > 1:
        ctx = multiprocessing.get_context("fork")
        # Anything buffered would be written twice: by this process and by a child's exit.
        sys.stdout.flush()
        sys.stderr.flush()
        for k in range(1, shards):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_feed_part,
                args=(builder, fields_of, stats, k, shards, send, os.getpid()),
                name=f"scameter-build-{k}",
                daemon=True,
            )
            proc.start()
            send.close()
            children.append((proc, recv))
    try:
        add = builder.add_fields
        for fields in fields_of(0, shards):
            add(*fields)
        if children:
            # This process is done before its children (they also connect and fork): what
            # adopt and build would do first is done while it waits.
            builder.prepare_to_adopt()
        for k, (proc, recv) in enumerate(children, 1):
            part, delisted = _receive(k, proc, recv)
            builder.adopt(part)
            stats.delisted += delisted  # decided (and counted) in the child
    finally:
        for proc, recv in children:
            recv.close()
            if proc.is_alive():
                proc.kill()
            proc.join()


def _receive(k: int, proc: Any, recv: Connection) -> tuple[BuilderPart, int]:
    try:
        got = recv.recv()
    except EOFError:
        proc.join()
        raise IngestError(
            f"build process {k} ended without its records (exit code {proc.exitcode}); "
            "nothing published"
        ) from None
    if isinstance(got, str):
        raise IngestError(f"build process {k} failed: {got}; nothing published")
    part, delisted = got
    if not isinstance(part, BuilderPart):
        raise IngestError(f"build process {k} sent {type(part).__name__}, not its records")
    return part, delisted


def _feed_part(  # noqa: PLR0917 - the target of one Process, called positionally
    builder: SnapshotBuilder,
    fields_of: FieldsOf,
    stats: Stats,
    shard: int,
    shards: int,
    send: Connection,
    parent: int,
) -> None:
    """Child: feed one shard into a part of the (forked copy of the) builder, send it back."""
    die_with_parent(parent)
    out: tuple[BuilderPart, int] | str
    try:
        delisted = stats.delisted
        builder.start_part(f"p{shard}")
        add = builder.add_fields
        for fields in fields_of(shard, shards):
            add(*fields)
        out = builder.finish_part(), stats.delisted - delisted
    except Exception as exc:
        out = f"{type(exc).__name__}: {exc}"
    send.send(out)
    send.close()


__all__ = ["MIN_PER_SHARD", "feed_builder", "feed_parts", "shard_count"]
