"""Hot swap under load: lookups on threads while CURRENT flips many times.

Each snapshot carries its own generation marker (a category and a report count), so a test
can tell that every answer came wholly from one snapshot: the verdict's snapshot id, its
category and its count must all name the same generation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from scameter.identifiers import Identifier, Kind
from scameter.index import Record, Snapshot, SnapshotManager, publish
from scameter.verdict import Level
from tests.unit.index.helpers import build

PHONES = [f"+8529123{i:04d}" for i in range(50)]
GENERATIONS = 4
FLIPS = 60
READERS = 4


def _generation(root: Path, gen: int) -> str:
    records = [
        Record(
            Identifier(Kind.PHONE, p),
            Level.SUSPICIOUS,
            categories=(f"gen{gen}",),
            report_count=gen + 1,
        )
        for p in PHONES
    ]
    return build(root, records, publish_it=False)


def _closed(snap: Snapshot) -> bool:
    return snap.closed


def _stale(manager: SnapshotManager) -> bool:
    return manager.stale


@pytest.fixture(scope="module")
def generations(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("swap")
    ids = {_generation(root, g): g for g in range(GENERATIONS)}
    assert len(ids) == GENERATIONS
    return root, ids


def test_lookups_never_fail_and_never_mix_snapshots(
    generations: tuple[Path, dict[str, int]],
) -> None:
    root, ids = generations
    order = list(ids)
    publish(root, order[0])
    manager = SnapshotManager(root)
    manager.refresh()
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: set[str] = set()
    counts = [0] * READERS

    def reader(n: int) -> None:
        try:
            i = 0
            while not stop.is_set():
                with manager.acquire() as snap:
                    if i % 3 == 0:
                        batch = snap.check_many(PHONES[:10], Kind.PHONE)
                    else:
                        batch = [snap.check(PHONES[i % len(PHONES)], Kind.PHONE)]
                for v in batch:
                    gen = ids[v.snapshot or ""]
                    assert v.categories == (f"gen{gen}",)
                    assert v.report_count == gen + 1
                    assert v.snapshot == batch[0].snapshot
                    seen.add(v.snapshot or "")
                counts[n] += 1
                i += 1
        except BaseException as e:  # reported to the main thread
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    for t in threads:
        t.start()
    try:
        for flip in range(1, FLIPS + 1):
            publish(root, order[flip % GENERATIONS])
            assert manager.refresh(), manager.last_error
            if errors:
                break
    finally:
        stop.set()
        for t in threads:
            t.join()
        manager.stop()
    assert not errors, errors[0]
    assert manager.swaps == FLIPS + 1
    assert all(counts), counts
    assert seen <= set(ids)


def test_old_snapshot_closes_only_after_in_flight_lookups(
    generations: tuple[Path, dict[str, int]],
) -> None:
    root, ids = generations
    order = list(ids)
    publish(root, order[0])
    swapped: list[tuple[Snapshot | None, Snapshot]] = []
    with SnapshotManager(root) as manager:
        manager.on_swap.append(lambda old, new: swapped.append((old, new)))
        with manager.acquire() as held:
            publish(root, order[1])
            assert manager.refresh()
            assert manager.snapshot.id == order[1]
            assert not _closed(held)  # still in use: must stay open
            assert held.check(PHONES[0], Kind.PHONE).snapshot == order[0]
        assert _closed(held)
        assert not manager.refresh()  # CURRENT unchanged
        assert [(o.id if o else None, n.id) for o, n in swapped] == [
            (None, order[0]),
            (order[0], order[1]),
        ]


class _SwapOnFirstUse(list[None]):
    """A holder's use list whose first ``append`` lets a swap land right after it: the
    window between a lookup counting its use and re-reading the live reference."""

    def __init__(self, swap: Callable[[], None]) -> None:
        super().__init__()
        self._swap: Callable[[], None] | None = swap

    def append(self, item: None) -> None:
        super().append(item)
        swap, self._swap = self._swap, None
        if swap is not None:
            swap()


def test_swap_between_counting_a_use_and_reading_the_live_snapshot(
    generations: tuple[Path, dict[str, int]],
) -> None:
    """acquire takes no lock: a swap in that window must neither close the snapshot under
    the lookup nor leak it; the lookup moves to the new snapshot and the old one closes."""
    root, ids = generations
    order = list(ids)
    publish(root, order[0])
    with SnapshotManager(root) as manager:
        old = manager.snapshot

        def swap() -> None:
            publish(root, order[1])
            assert manager.refresh()
            assert not _closed(old)  # the use counted first keeps it open through the swap

        holder = manager._holder
        assert holder is not None
        holder.users = _SwapOnFirstUse(swap)
        with manager.acquire() as snap:
            assert snap.id == order[1]
            assert _closed(old)  # let go by the lookup, nobody else used it: closed once
            assert snap.check(PHONES[0], Kind.PHONE).snapshot == order[1]
        assert not _closed(snap)
        assert manager._holder is not None
        assert manager._holder.refs == 0


def test_watcher_thread_follows_current(generations: tuple[Path, dict[str, int]]) -> None:
    root, ids = generations
    order = list(ids)
    publish(root, order[2])
    swapped = threading.Event()
    manager = SnapshotManager(root, poll_interval=0.01)
    manager.refresh()
    manager.on_swap.append(lambda old, new: swapped.set())
    manager.start()
    try:
        publish(root, order[3])
        assert swapped.wait(timeout=30)
        with manager.acquire() as snap:
            assert snap.id == order[3]
    finally:
        manager.stop()


def test_bad_new_snapshot_keeps_the_old_one(generations: tuple[Path, dict[str, int]]) -> None:
    root, ids = generations
    order = list(ids)
    publish(root, order[0])
    with SnapshotManager(root) as manager:
        manager.refresh()
        (root / "CURRENT").write_text("does-not-exist\n")
        assert not manager.refresh()
        assert manager.last_error is not None
        with manager.acquire() as snap:
            assert snap.id == order[0]
    publish(root, order[0])


def test_max_age_marks_the_snapshot_stale(generations: tuple[Path, dict[str, int]]) -> None:
    from datetime import UTC, datetime, timedelta

    from scameter.errors import SnapshotStale

    root, ids = generations
    publish(root, next(iter(ids)))
    now = [datetime(2026, 11, 1, 12, tzinfo=UTC)]  # the snapshots are as of 2026-11-01 00:00
    with SnapshotManager(root, max_age=timedelta(hours=24), clock=lambda: now[0]) as manager:
        manager.refresh()
        assert manager.age() == timedelta(hours=12)
        assert not _stale(manager)
        manager.ensure_fresh()
        now[0] += timedelta(days=1)
        assert _stale(manager)
        with pytest.raises(SnapshotStale, match="older than"):
            manager.ensure_fresh()


def test_each_swap_is_logged_with_old_and_new_ids(
    generations: tuple[Path, dict[str, int]], caplog: pytest.LogCaptureFixture
) -> None:
    root, ids = generations
    first, second = list(ids)[:2]
    publish(root, first)
    caplog.set_level(logging.INFO, logger="scameter.index.swap")
    with SnapshotManager(root, poll_interval=60) as manager:
        manager.refresh()
        publish(root, second)
        assert manager.refresh()
    events = [
        (r.getMessage(), r.__dict__["old_snapshot"], r.__dict__["new_snapshot"])
        for r in caplog.records
        if r.__dict__.get("event") == "snapshot_swap"
    ]
    assert events == [("snapshot loaded", None, first), ("snapshot swapped", first, second)]
