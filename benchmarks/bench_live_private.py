"""Private lookups over a live delta, in process: what the delta adds to ``SearchHashes``, and
what a worker pays to keep the delta's full hashes.

Method: the base and delta of :mod:`benchmarks.bench_live_lookup` (``n`` public reports, one
per HK mobile number, ingested with evidence; ``DELTA`` further reports folded by
:class:`~scameter.ingest.live.LiveFolder`), then:

* ``live_private.search_base`` / ``search_layered`` / ``search_delta_hit``: CPU microseconds
  (``time.process_time``) of one :func:`scameter.rpc.private.search_hashes` call (the
  servicer's work: search, answer, padding; no gRPC), one 2-byte phone prefix a call, over
  ``PROBES`` prefixes of base numbers, in rounds that alternate the snapshot without an
  overlay and with it installed; ``search_delta_hit``: prefixes of numbers the delta lists.
  The median of ``ctx.repeats`` rounds. A 2-byte phone prefix is a bucket of about
  ``n / 65,536`` base records, each decoded and hashed: the cost grows with ``n``.
* ``live_private.take_us_per_record``: what keeping the delta's full hashes adds to a
  worker's follower (``Overlay.update`` of the ``DELTA`` records in generations of
  ``FOLLOW_POLL``, with :meth:`Overlay.hashes` made first, minus the same without it):
  microseconds per record, under the GIL its handler threads need.
* ``live_private.first_search_us_per_record``: the first private search on a worker makes
  the delta's full hashes from every record (:meth:`Overlay.hashes`): microseconds per record.

Run: ``.venv/bin/python -m benchmarks --only live_private --size 1000000``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from benchmarks.bench_live_lookup import DELTA, FOLLOW_POLL, _setup, delta_records
from benchmarks.core import BenchContext, Figure
from scameter.identifiers import Kind
from scameter.index import Snapshot
from scameter.index.delta import DeltaFollower, Overlay
from scameter.index.hashes import identifier_hash
from scameter.rpc.private import search_hashes

PROBES = 2_000


def _prefix(phone: str) -> bytes:
    return identifier_hash(Kind.PHONE, phone)[:2]


def _us_per_search(snap: Snapshot, prefixes: list[bytes]) -> float:
    t = time.process_time()
    for p in prefixes:
        search_hashes(snap, [p])
    return (time.process_time() - t) / len(prefixes) * 1e6


def _take_us(items: list[tuple[bytes, bytes]], strings: tuple[str, ...], hashes: bool) -> float:
    """CPU microseconds per record of taking ``items`` in, with or without the hashes."""
    overlay = Overlay("bench", Path("."))
    if hashes:
        overlay.hashes()
    t = time.process_time()
    for gen, i in enumerate(range(0, len(items), FOLLOW_POLL)):
        overlay.update(gen, dict(items[i : i + FOLLOW_POLL]), strings)
    return (time.process_time() - t) / max(1, len(items)) * 1e6


def _first_us(items: list[tuple[bytes, bytes]], strings: tuple[str, ...]) -> float:
    overlay = Overlay("bench", Path("."))
    overlay.update(0, dict(items), strings)
    t = time.process_time()
    overlay.hashes()
    return (time.process_time() - t) / max(1, len(items)) * 1e6


def run(ctx: BenchContext) -> list[Figure]:
    figures: list[Figure] = []
    for n in ctx.sizes:
        delta = min(DELTA, max(10, n // 10)) if ctx.quick else DELTA
        snaps, delta_dir, phones = _setup(ctx.workdir, n, delta, ctx.seed)
        probes = min(PROBES, n, delta)
        base_prefixes = [_prefix(p) for p in phones[:probes]]
        delta_prefixes = [_prefix(p) for p in phones[n : n + probes]]
        samples: dict[str, list[float]] = {}
        follower = DeltaFollower(delta_dir)
        with Snapshot.open_current(snaps) as snap:
            overlay = follower.poll(snap.id)
            assert overlay is not None
            assert len(overlay) == delta
            overlay.hashes()
            for p in base_prefixes[:200]:  # warm the pages
                search_hashes(snap, [p])
            for _ in range(ctx.repeats):
                for mode in ("base", "layered"):
                    snap.set_overlay(overlay if mode == "layered" else None)
                    samples.setdefault(f"search_{mode}", []).append(
                        _us_per_search(snap, base_prefixes)
                    )
                    if mode == "layered":
                        samples.setdefault("search_delta_hit", []).append(
                            _us_per_search(snap, delta_prefixes)
                        )
            snap.set_overlay(None)
        follower.close()
        items, strings = delta_records(delta_dir)
        for _ in range(ctx.repeats):
            plain, with_hashes = _take_us(items, strings, False), _take_us(items, strings, True)
            samples.setdefault("take", []).append(with_hashes - plain)
            samples.setdefault("first", []).append(_first_us(items, strings))
        note = f"delta of {delta} records; {probes} prefixes a round; {ctx.repeats} rounds"
        for key, target in (("search_base", None), ("search_layered", None),
                            ("search_delta_hit", None)):  # fmt: skip
            s = tuple(samples[key])
            figures.append(Figure(f"live_private.{key}", "cpu_us_per_call", statistics.median(s),
                                  "us", size=n, samples=s, target=target, note=note))  # fmt: skip
        for key, metric in (("take", "take_us_per_record"),
                            ("first", "first_search_us_per_record")):  # fmt: skip
            s = tuple(samples[key])
            figures.append(Figure(f"live_private.{key}", metric, statistics.median(s), "us",
                                  size=n, samples=s, note=note))  # fmt: skip
    return figures


__all__ = ["run"]
