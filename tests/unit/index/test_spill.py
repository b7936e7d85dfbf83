"""The external sorters against Python's stable ``sorted`` as the reference model.

Small ``chunk`` values make every example spill, so the bucket files, the kept last buffer and
the in-bucket stable sort are what is exercised; the skewed-key cases cover both the first-byte
buckets and the sampled splitters.
"""

from __future__ import annotations

import itertools
import os
import pickle
import random
from operator import itemgetter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.errors import SnapshotError
from scameter.index.spill import (
    BUCKETS,
    SEP,
    BytesSorter,
    ExternalSorter,
    GroupingSorter,
    grouped,
    pair_segments,
)

_KEY = itemgetter(0)

# Keys drawn from a small alphabet give many equal keys; a b"\x00" prefix skews everything into
# one first-byte bucket; zero-length keys and values are allowed.
_keys = st.one_of(
    st.binary(max_size=3),
    st.binary(max_size=2).map(lambda b: b"\x00" + b),
    st.sampled_from([b"", b"a", b"ab", b"\xff", SEP, SEP[:3]]),
)
_values = st.one_of(st.binary(max_size=6), st.just(SEP), st.just(b""))
_pairs = st.lists(st.tuples(_keys, _values), max_size=60)
_chunks = st.integers(min_value=1, max_value=9)


def _files(d: Path) -> list[Path]:
    return sorted(d.iterdir())


def _seeded(n: int, seed: int, width: int, prefix: bytes = b"") -> list[bytes]:
    rng = random.Random(seed)
    return [prefix + rng.randbytes(rng.randrange(width)) for _ in range(n)]


@settings(max_examples=150)
@given(pairs=_pairs, chunk=_chunks)
def test_external_sorter_matches_stable_sort(
    tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[bytes, bytes]], chunk: int
) -> None:
    d = tmp_path_factory.mktemp("spill")
    s = ExternalSorter(d, "t", chunk=chunk)
    for k, v in pairs:
        s.add(k, v)
    assert s.count == len(pairs)
    assert list(s.sorted()) == sorted(pairs, key=_KEY)
    assert s.count == len(pairs)
    assert _files(d) == []


@settings(max_examples=150)
@given(pairs=_pairs, chunk=_chunks, first_byte=st.booleans())
def test_runs_and_flat_runs_give_the_sorted_stream_bucket_by_bucket(
    tmp_path_factory: pytest.TempPathFactory,
    pairs: list[tuple[bytes, bytes]],
    chunk: int,
    first_byte: bool,
) -> None:
    """``sorted_runs`` is ``sorted`` cut into lists; ``flat_runs`` holds the same pairs per
    list, unsorted but in the order added, so that a stable sort of each gives the stream."""
    runs = []
    for method in ("sorted_runs", "flat_runs"):
        d = tmp_path_factory.mktemp("spill")
        s = ExternalSorter(d, "t", chunk=chunk, first_byte=first_byte)
        for k, v in pairs:
            s.add(k, v)
        runs.append(list(getattr(s, method)()))
        assert _files(d) == []
    in_runs, flat = runs
    assert list(itertools.chain.from_iterable(in_runs)) == sorted(pairs, key=_KEY)
    assert len(flat) == len(in_runs)
    for ordered, items in zip(in_runs, flat, strict=True):
        it = iter(items)
        assert sorted(zip(it, it, strict=True), key=_KEY) == ordered


@settings(max_examples=150)
@given(items=st.lists(_keys | _values, max_size=60), chunk=_chunks, use_extend=st.booleans())
def test_bytes_sorter_matches_sorted(
    tmp_path_factory: pytest.TempPathFactory, items: list[bytes], chunk: int, use_extend: bool
) -> None:
    d = tmp_path_factory.mktemp("spill")
    s = BytesSorter(d, "t", chunk=chunk)
    if use_extend:
        for i in range(0, len(items), 7):
            s.extend(items[i : i + 7])
    else:
        for b in items:
            s.add(b)
    assert s.count == len(items)
    assert list(s.sorted()) == sorted(items)
    assert _files(d) == []


@pytest.mark.parametrize("chunk", [1, 3, 1000], ids=["spill-each", "spill-some", "in-memory"])
def test_empty_sorters(tmp_path: Path, chunk: int) -> None:
    e = ExternalSorter(tmp_path, "e", chunk=chunk)
    b = BytesSorter(tmp_path, "b", chunk=chunk)
    assert (e.count, b.count) == (0, 0)
    assert list(e.sorted()) == []
    assert list(b.sorted()) == []
    assert list(grouped(ExternalSorter(tmp_path, "g", chunk=chunk).sorted())) == []


@pytest.mark.parametrize("chunk", [2, 1000], ids=["spilled", "in-memory"])
def test_sorted_consumes_and_a_second_call_is_empty(tmp_path: Path, chunk: int) -> None:
    e = ExternalSorter(tmp_path, "e", chunk=chunk)
    b = BytesSorter(tmp_path, "b", chunk=chunk)
    for i in range(5):
        e.add(bytes([5 - i]), b"v%d" % i)
        b.add(bytes([5 - i]))
    assert [k for k, _ in e.sorted()] == [bytes([i]) for i in range(1, 6)]
    assert list(b.sorted()) == [bytes([i]) for i in range(1, 6)]
    assert list(e.sorted()) == []
    assert list(b.sorted()) == []
    assert (e.count, b.count) == (5, 5)
    assert _files(tmp_path) == []


def test_bucket_files_exist_while_spilled_and_go_when_a_merge_is_closed_early(
    tmp_path: Path,
) -> None:
    s = BytesSorter(tmp_path, "b", chunk=10)
    s.extend(_seeded(100, 1, 12))
    assert _files(tmp_path)  # spilled to bucket files
    it = s.sorted()
    next(it)
    it.close()  # type: ignore[attr-defined]
    assert _files(tmp_path) == []


def test_an_item_containing_the_separator_is_framed(tmp_path: Path) -> None:
    items = [b"x" + SEP + b"y", SEP, SEP + SEP, b"", b"x", b"xy"] * 3
    s = BytesSorter(tmp_path, "b", chunk=4)
    for b in items:  # several spills: bucket b"x" gets framed and SEP-split segments
        s.add(b)
    assert list(s.sorted()) == sorted(items)


def test_equal_keys_keep_insertion_order_across_spills(tmp_path: Path) -> None:
    s = ExternalSorter(tmp_path, "e", chunk=3)
    pairs = [(bytes([i % 3]), i.to_bytes(2, "big")) for i in range(40)]
    for k, v in pairs:
        s.add(k, v)
    out = list(grouped(s.sorted()))
    assert [k for k, _ in out] == [b"\x00", b"\x01", b"\x02"]
    for k, values in out:
        assert values == [v for kk, v in pairs if kk == k]


@pytest.mark.parametrize(
    ("prefix", "splitters"),
    [(b"", False), (b"8:+65", True)],
    ids=["hashed-first-byte", "ascii-range-keys-splitters"],
)
def test_bucketing_mode_follows_the_first_spill(
    tmp_path: Path, prefix: bytes, splitters: bool
) -> None:
    items = _seeded(6000, 7, 10, prefix) + _seeded(500, 8, 4)  # later items off the sample
    s = BytesSorter(tmp_path, "b", chunk=2500)
    s.extend(items)
    assert (s._buckets.splitters is not None) is splitters
    assert list(s.sorted()) == sorted(items)
    e = ExternalSorter(tmp_path, "e", chunk=2500)
    pairs = [(k[:6], k) for k in items]
    for k, v in pairs:
        e.add(k, v)
    assert (e._buckets.splitters is not None) is splitters
    assert list(e.sorted()) == sorted(pairs, key=_KEY)
    assert _files(tmp_path) == []


def test_all_equal_keys_fill_one_bucket_and_stay_stable(tmp_path: Path) -> None:
    s = ExternalSorter(tmp_path, "e", chunk=1500)
    pairs = [(b"same", i.to_bytes(4, "big")) for i in range(4000)]
    for k, v in pairs:
        s.add(k, v)
    assert list(s.sorted()) == pairs


def test_bytes_sorter_rejects_items_over_65535_bytes(tmp_path: Path) -> None:
    s = BytesSorter(tmp_path, "b", chunk=1)
    s.add(b"\x01" * 0xFFFF)  # the limit itself is fine
    too_long = b"\x00" * 0x10000
    with pytest.raises(ValueError, match="65535"):
        s.add(too_long)
    with pytest.raises(ValueError, match="65535"):
        s.extend([b"", too_long])
    assert list(s.sorted()) == [b"\x01" * 0xFFFF]


def test_a_damaged_bucket_file_is_reported(tmp_path: Path) -> None:
    s = BytesSorter(tmp_path, "b", chunk=2)
    s.extend([b"\x01a", b"\x01b", b"\x01c"])
    (path,) = _files(tmp_path)
    path.write_bytes(path.read_bytes() + b"junk" + SEP)
    with pytest.raises(SnapshotError, match="does not read back"):
        list(s.sorted())


# -- detach / adopt: parts fed in other processes (pickled across), then taken in -----------


@settings(max_examples=100)
@given(parts=st.lists(_pairs, min_size=3, max_size=3), chunks=st.tuples(_chunks, _chunks))
def test_adopted_pairs_count_as_added_at_adoption(
    tmp_path_factory: pytest.TempPathFactory,
    parts: list[list[tuple[bytes, bytes]]],
    chunks: tuple[int, int],
) -> None:
    d = tmp_path_factory.mktemp("spill")
    main = ExternalSorter(d, "main", chunk=chunks[0])
    other = ExternalSorter(d, "part", chunk=chunks[1])
    for k, v in parts[0]:
        main.add(k, v)
    for k, v in parts[1]:
        other.add(k, v)
    runs = pickle.loads(pickle.dumps(other.detach()))
    assert (other.count, list(other.sorted())) == (0, [])
    main.adopt(runs)
    for k, v in parts[2]:
        main.add(k, v)
    everything = parts[0] + parts[1] + parts[2]
    assert main.count == len(everything)
    assert list(main.sorted()) == sorted(everything, key=_KEY)
    assert _files(d) == []


@settings(max_examples=100)
@given(parts=st.lists(st.lists(_keys, max_size=30), min_size=3, max_size=3), chunk=_chunks)
def test_adopted_items_are_sorted_in(
    tmp_path_factory: pytest.TempPathFactory, parts: list[list[bytes]], chunk: int
) -> None:
    d = tmp_path_factory.mktemp("spill")
    main = BytesSorter(d, "main", chunk=chunk)
    main.extend(parts[0])
    for n, items in enumerate(parts[1:]):
        other = BytesSorter(d, f"part{n}", chunk=chunk + n)
        other.extend(items)
        main.adopt(pickle.loads(pickle.dumps(other.detach())))
    assert main.count == sum(map(len, parts))
    assert list(main.sorted()) == sorted(itertools.chain.from_iterable(parts))
    assert _files(d) == []


@pytest.mark.parametrize(
    ("main_prefix", "part_prefix"),
    [(b"", b"8:+65"), (b"8:+65", b""), (b"8:+65", b"4:+852"), (None, b"8:+65")],
    ids=["bytes-takes-splitters", "splitters-take-bytes", "other-splitters", "undecided"],
)
def test_adopting_other_bucketing_rebuckets(
    tmp_path: Path, main_prefix: bytes | None, part_prefix: bytes
) -> None:
    mine = [] if main_prefix is None else _seeded(3000, 1, 10, main_prefix)
    theirs = _seeded(3000, 2, 10, part_prefix)
    b_main = BytesSorter(tmp_path, "bm", chunk=2500)
    b_main.extend(mine)
    b_part = BytesSorter(tmp_path, "bp", chunk=2500)
    b_part.extend(theirs)
    b_main.adopt(b_part.detach())
    assert list(b_main.sorted()) == sorted(mine + theirs)
    e_main = ExternalSorter(tmp_path, "em", chunk=2500)
    e_part = ExternalSorter(tmp_path, "ep", chunk=2500)
    for sorter, items in ((e_main, mine), (e_part, theirs)):
        for i, k in enumerate(items):
            sorter.add(k[:6], i.to_bytes(2, "big"))
    e_main.adopt(e_part.detach())
    expected = sorted(
        [(k[:6], i.to_bytes(2, "big")) for i, k in enumerate(mine)]
        + [(k[:6], i.to_bytes(2, "big")) for i, k in enumerate(theirs)],
        key=_KEY,
    )
    assert list(e_main.sorted()) == expected
    assert _files(tmp_path) == []


def test_adopting_an_empty_part_changes_nothing(tmp_path: Path) -> None:
    main = BytesSorter(tmp_path, "m", chunk=10)
    main.extend([b"b", b"a"])
    main.adopt(BytesSorter(tmp_path, "p", chunk=10).detach())
    assert _files(tmp_path) == []  # still in memory
    assert list(main.sorted()) == [b"a", b"b"]


@pytest.mark.parametrize("chunk", [1_000_000, 500], ids=["in-memory", "spilled"])
@pytest.mark.parametrize("parts", [2, 3])
def test_parts_sorted_in_forked_processes_make_the_whole(
    tmp_path: Path, chunk: int, parts: int
) -> None:
    """What NearJob does: each forked copy sorts one key range of the same sorter (its
    files included); the ranges in order are the whole stream, and no range removes the
    files of another before that one is read."""
    rng = random.Random(7)
    items = [rng.randbytes(rng.randrange(8, 20)) for _ in range(3000)]
    items += [b"\x00" + x for x in items[:50]]  # a few keys skewed into bucket 0
    s = BytesSorter(tmp_path, "near", chunk=chunk)
    s.extend(items)
    outs = [tmp_path / f"out.{k}" for k in range(parts)]
    cuts = [*(0, 7, 200)[:parts], BUCKETS]  # uneven ranges, one of them tiny
    ranges = [range(a, b) for a, b in itertools.pairwise(cuts)]
    pids = []
    for k in range(1, parts):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                outs[k].write_bytes(pickle.dumps(list(s.sorted(ranges[k]))))
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    got = list(s.sorted(ranges[0]))
    for path in outs[1:]:
        got += pickle.loads(path.read_bytes())
        path.unlink()
    assert got == sorted(items)
    assert list(tmp_path.iterdir()) == []  # every bucket file read and removed


@pytest.mark.parametrize("buckets", [range(0, BUCKETS + 1), range(-1, 3), range(0, 9, 2)])
def test_a_bucket_range_that_does_not_exist_is_refused(tmp_path: Path, buckets: range) -> None:
    with pytest.raises(ValueError, match="is not a range within"):
        BytesSorter(tmp_path, "x").sorted(buckets)


@settings(max_examples=60)
@given(st.lists(_keys, max_size=80), _chunks, st.integers(0, 80))
def test_grouping_sorter_brings_equal_items_together(
    tmp_path_factory: pytest.TempPathFactory, items: list[bytes], chunk: int, cut: int
) -> None:
    """Every item comes out once, equal items adjacent, whatever was spilled or adopted."""
    d = tmp_path_factory.mktemp("g")
    part = GroupingSorter(d, "part", chunk=chunk)
    part.extend(items[cut:])
    whole = GroupingSorter(d, "whole", chunk=chunk)
    whole.extend(items[:cut])
    whole.adopt(part.detach())
    out = list(whole.grouped())
    assert sorted(out) == sorted(items)
    runs = [k for k, _ in itertools.groupby(out)]
    assert len(runs) == len(set(items))  # each distinct item in one run


def test_grouping_sorter_buckets_stay_even_when_items_arrive_in_key_order(
    tmp_path: Path,
) -> None:
    """Phone range keys reach the builder in key order: a BytesSorter draws its key ranges
    from the first chunk (a narrow slice), so nearly everything later lands in its last
    bucket; hashing keeps every bucket near its share."""
    keys = [f"2:+852{n:06d}".encode() for n in range(200_000)]
    ranged = BytesSorter(tmp_path, "ranged", chunk=5_000)
    hashed = GroupingSorter(tmp_path, "hashed", chunk=5_000)
    for k in keys:
        ranged.add(k)
        hashed.add(k)
    share = len(keys) / BUCKETS

    def largest(sorter: BytesSorter) -> int:
        runs = sorter.detach()
        return max(sum(n for _, segs in b for _, n, _ in segs) for b in runs.buckets)

    assert largest(ranged) > 50 * share  # the failure this sorter avoids
    assert largest(hashed) < 2 * share


def test_grouping_sorter_refuses_key_ordered_runs_and_sorting(tmp_path: Path) -> None:
    key_ordered = BytesSorter(tmp_path, "k", chunk=1)
    key_ordered.extend([b"b", b"a"])
    g = GroupingSorter(tmp_path, "g", chunk=1)
    g.add(b"c")
    with pytest.raises(ValueError, match="cannot adopt"):
        g.adopt(key_ordered.detach())
    with pytest.raises(TypeError, match="does not sort"):
        g.sorted()


# Hashed keys (what first-byte sorters take): never empty; a few equal ones.
_hashed_keys = st.one_of(st.binary(min_size=1, max_size=3), st.sampled_from([b"k", SEP]))
_hashed_pairs = st.lists(st.tuples(_hashed_keys, _values), max_size=25)


@settings(max_examples=150, deadline=None)
@given(batches=st.lists(st.tuples(st.booleans(), _hashed_pairs), max_size=8), chunk=_chunks)
def test_segments_made_elsewhere_sort_in_as_if_added_here(
    tmp_path_factory: pytest.TempPathFactory,
    batches: list[tuple[bool, list[tuple[bytes, bytes]]]],
    chunk: int,
) -> None:
    """Batches encoded by ``pair_segments`` (in a parse worker) and pairs added one by one,
    in any mix: the sorted stream is the stable sort of every pair in the order given, with
    the queue flushed at any point (``chunk`` small) and framed segments (``SEP`` values)."""
    d = tmp_path_factory.mktemp("seg")
    s = ExternalSorter(d, "t", chunk=chunk, first_byte=True)
    given_order: list[tuple[bytes, bytes]] = []
    for encoded, pairs in batches:
        if encoded:
            s.extend_segments(pair_segments(pairs))
        else:
            for k, v in pairs:
                s.add(k, v)
        given_order += pairs
    assert s.count == len(given_order)
    assert list(s.sorted()) == sorted(given_order, key=_KEY)
    assert _files(d) == []


def test_segments_survive_a_detach_and_an_adoption(tmp_path: Path) -> None:
    """Segments still queued when the sorter is detached are written first: the adopting
    sorter (as the forked evidence merge does) gets every pair."""
    pairs = [(bytes([i % 7 + 1, i % 3]), b"v%d" % i) for i in range(40)]
    s = ExternalSorter(tmp_path, "a", chunk=1000, first_byte=True)
    s.extend_segments(pair_segments(pairs[:25]))
    s.extend_segments(pair_segments(pairs[25:]))
    runs = s.detach()
    assert runs.count == 40
    assert runs.splitters is None
    other = ExternalSorter(tmp_path, "b", chunk=1000)
    other.adopt(runs)
    assert list(other.sorted()) == sorted(pairs, key=_KEY)


def test_segments_need_a_first_byte_sorter(tmp_path: Path) -> None:
    """A sorter that may choose splitters cannot take first-byte segments."""
    with pytest.raises(ValueError, match="first_byte"):
        ExternalSorter(tmp_path, "t").extend_segments(pair_segments([(b"k", b"v")]))


def test_queued_segments_are_written_as_one_segment_per_encoding_run(tmp_path: Path) -> None:
    """Chunks queued between two flushes become one segment per bucket (framed ones apart):
    the metadata kept until the merge does not grow with the number of chunks."""
    s = ExternalSorter(tmp_path, "t", chunk=1000, first_byte=True)
    pairs = [(b"\x07k%d" % i, b"v%d" % i) for i in range(30)]
    for i in range(0, 30, 3):
        s.extend_segments(pair_segments(pairs[i : i + 3]))
    s.extend_segments(pair_segments([(b"\x07z", SEP)]))  # framed: its own segment
    runs = s.detach()
    assert [len(segs) for _, segs in runs.buckets[7]] == [2]
    other = ExternalSorter(tmp_path, "o", chunk=1000)
    other.adopt(runs)
    assert list(other.sorted()) == sorted([*pairs, (b"\x07z", SEP)], key=_KEY)
