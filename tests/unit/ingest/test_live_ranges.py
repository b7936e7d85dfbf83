"""Phone-range signals of numbers listed live equal a full build's, neighbours included."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path
from typing import Any

from scameter.index import Snapshot
from scameter.index import format as fmt
from scameter.index.delta import Overlay
from scameter.ingest.live import LiveFolder
from scameter.ingest.liveranges import RangeCounter
from scameter.intake import IntakeLog, live_dir_for
from scameter.verdict import Level, ReasonCode, Verdict
from tests.unit.ingest.test_live import (
    _append,
    _base,
    _fold,
    _fold_and_close,
    _layered,
    _roots,
    _row,
    _view,
)

#: Two listed numbers in the base: their block is one short of a range (3 by default).
SHORT = ["+85291234501", "+85291234502"]
#: Three: a listed range already, which a live report makes four.
LISTED = ["+85262345601", "+85262345602", "+85262345603"]
NEIGHBOURS = [
    "+85291234503",  # the number reported live
    "+85291234509",  # its 1-digit block
    "+85291234577",  # its 2-digit block only
    "+85262345609",
    "+85262345699",
    "+85291239999",  # in no block of theirs
]


def _range_view(v: Verdict) -> tuple[Any, ...]:
    return (*_view(v), v.matched, tuple(r.text for r in v.reasons))


def test_a_number_listed_live_gives_its_neighbours_the_full_build_range_signal(
    tmp_path: Path,
) -> None:
    base_rows = [_row(p, "phone", i) for i, p in enumerate(SHORT + LISTED)]
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows)
    with IntakeLog(full_dir / "intake") as log:
        _append(log, ("phone", "+85291234503"), 60)
        _append(log, ("phone", "+85262345604"), 61)
    with Snapshot.open_current(snaps) as before:
        assert before.check("+85291234509").level is Level.NO_RECORD
        assert "3 listed numbers" in before.check("+85262345609").reasons[0].text
    # live: two folds, the worker following each (its second poll reads only the new entries)
    with IntakeLog(live_dir / "intake") as log:
        _append(log, ("phone", "+85262345604"), 61)
    _fold(live_dir, snaps).close()
    m = _layered(snaps, live_dir)
    with IntakeLog(live_dir / "intake") as log:
        _append(log, ("phone", "+85291234503"), 60)
    # the server's folder is another process: the follower keeps the delta open here
    child = multiprocessing.get_context("spawn").Process(target=_fold_and_close,
                                                         args=(snaps, live_dir))  # fmt: skip
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert m.follow_delta()
    full = _base(full_dir, base_rows)
    try:
        live = m.snapshot
        with Snapshot.open_current(full) as expected:
            want = [_range_view(expected.check(q)) for q in NEIGHBOURS]
            assert [_range_view(live.check(q)) for q in NEIGHBOURS] == want
            assert live.key_probe.ready()  # the batch path pre-filters by keys and blocks
            batch = live.check_batch(NEIGHBOURS, "phone").to_list()
            assert [_range_view(v) for v in batch] == want
        v = live.check("+85291234509")
        assert v.level is Level.POSSIBLE
        assert [r.code for r in v.reasons] == [ReasonCode.PHONE_RANGE]
        assert v.matched == "+8529123450x"
        assert "3 listed numbers" in v.reasons[0].text
        assert "4 listed numbers" in live.check("+85262345609").reasons[0].text
        assert live.check("+85291239999").level is Level.NO_RECORD
    finally:
        m.stop()


def test_a_number_no_longer_listed_lowers_its_blocks_below_the_threshold(tmp_path: Path) -> None:
    """The -1 side: the delta's count of a block stands for the base's entry, listed or not."""
    snaps = _base(tmp_path, [_row(p, "phone", i) for i, p in enumerate(LISTED)])
    with Snapshot.open_current(snaps) as snap:
        counter = RangeCounter(snap.reader)
        assert counter.has_blocks(LISTED[0])
        assert not counter.has_blocks("12")
        counts = counter.counts([(LISTED[0], -1)], lambda rkey: None)
        assert counts == {b"1:+8526234560": fmt.U32.pack(2), b"2:+852623456": fmt.U32.pack(2)}
        # a later change starts from the delta's count, not the base's
        again = counter.counts([(LISTED[1], -1)], counts.get)
        assert again[b"2:+852623456"] == fmt.U32.pack(1)
        overlay = Overlay(snap.id, tmp_path, snap.policy)
        overlay.update(1, {}, (), counts)
        assert overlay.range_blocks == frozenset({"+852623456"})
        base = snap.reader

        def get(rkey: bytes) -> bytes | None:
            value: bytes | None = base.txn().get(rkey, db=base.ranges)
            return value

        assert get(b"1:+8526234560") is not None  # the base lists the block
        assert overlay.range_hits("+85262345609", get) == {}
        overlay.update(2, {}, (), {b"1:+8526234560": fmt.U32.pack(3)})
        assert overlay.range_hits("+85262345609", get) == {"+85262345609": (1, fmt.U32.pack(3))}


def test_counts_moved_over_many_small_folds_equal_a_full_build(tmp_path: Path) -> None:
    """Seeded reports over two dense blocks, folded 4 at a time (many folds, counts moved
    incrementally, some blocks starting under the threshold, some over): every number of the
    blocks answers as after one full ingest."""
    rng = random.Random(18)
    blocks = ["+8529123", "+8526234"]
    numbers = [f"{b}{i:04d}"[:12] for b in blocks for i in range(0, 100, 7)]
    base_rows = [_row(p, "phone", i) for i, p in enumerate(numbers[::3])]
    reports = [(rng.choice(numbers), 200 + i) for i in range(40)]
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            for number, reporter in reports:
                _append(log, ("phone", number), reporter)
    folder = LiveFolder(snaps, live_dir / "intake", live_dir_for(live_dir / "intake"), batch=4)
    folds = 0
    while folder.fold_once():
        folds += 1
    folder.close()
    assert folds == 10
    full = _base(full_dir, base_rows)
    m = _layered(snaps, live_dir)
    probes = [f"{b}{i:02d}"[:12] for b in ("+852912300", "+852623400") for i in range(100)]
    try:
        with Snapshot.open_current(full) as expected, Snapshot.open_current(snaps) as before:
            want = [_range_view(expected.check(q)) for q in probes]
            assert [_range_view(m.snapshot.check(q)) for q in probes] == want
            old = [_range_view(before.check(q)) for q in probes]
        changed = [q for q, a, b in zip(probes, old, want, strict=True) if a[-2:] != b[-2:]]
        assert len(changed) > 50  # range answers (block, count) the reports moved
        assert sum(v[1] == (ReasonCode.PHONE_RANGE,) for v in want) > 20  # ranges were made
    finally:
        m.stop()
