"""External sort of byte strings and ``(key, value)`` byte pairs for the snapshot builder.

Responsibility: let :class:`SnapshotBuilder` accept records, URL expressions, near-match
variants and phone ranges in any order with bounded memory. Items are buffered up to ``chunk``;
while everything fits one chunk, :meth:`sorted` is a plain in-memory ``list.sort``.

Past one chunk the sorters run a *distribution* (bucket) sort rather than sorting each spilled
run and ``heapq.merge``-ing the runs in Python (~1.5 us an item in all, measured at 2*10^7
33-byte items; this design is about half that). Each full buffer is partitioned, unsorted,
into up to 256 key ranges ("buckets") and every bucket's share is appended to that bucket's file
with one write. :meth:`sorted` then reads one bucket file whole, splits it into items, sorts that
bucket in memory and yields it, bucket after bucket in key order. Every per-item step apart from
the partition loop runs in C (``bytes.join``, ``bytes.split``, ``zip``, ``list.sort``).

Buckets: by default the first byte of the key. Most keys the builder sorts start with an xxh3
hash, so a bucket holds ~1/256 of the items and memory at merge time is ~total/256 items. When
the first spilled chunk shows first bytes far from uniform, the sorter switches, once and for
all, to 255 splitter keys drawn as quantiles of that chunk and buckets by ``bisect``; this
costs more per item but keeps buckets small for any key distribution resembling the first
chunk's. Items that arrive in key order do not resemble their first chunk (it is the lowest
slice): :class:`GroupingSorter` is for those when only equal items need to meet (the phone
range keys, counted per prefix), bucketing by a hash of the item. Correctness never depends
on the distribution: a bucket of any size (all items equal, or all in one range) is sorted
correctly, it just needs that much memory.

Invariants:
* :class:`ExternalSorter` yields pairs ordered by key bytes, then by insertion order among equal
  keys (the builder groups on it). Equal keys always land in the same bucket; a bucket file is
  appended in spill order and each spill's share keeps buffer order, and the in-bucket
  ``list.sort`` on the key alone is stable.
* :class:`BytesSorter` yields items in byte order; items are at most 65 535 bytes
  (``ValueError`` otherwise, raised by ``add``/``extend``).
* Bucket file segments are either ``SEP``-terminated items (``SEP.join(items) + SEP``, split
  back by ``bytes.split`` in C) or, if an item happens to contain ``SEP``, length-framed
  (``u32 length + item`` each). ``SEP`` has no border (its first byte occurs nowhere else in it),
  so its occurrences never overlap: ``blob.count(SEP) == len(items)`` after joining proves that
  every occurrence is a separator, and the split is exact. A pair is stored as two items.
* ``detach`` spills everything and hands the bucket files over as :class:`SpilledRuns` (plain
  data: a part fed in a forked process sends it back by pickle); ``adopt`` takes them in as if
  their items were added at that moment. Same bucketing: the files join the buckets as they
  are (own files are sealed first, so each bucket's file order is insertion order); other
  splitters: they are read and re-bucketed, one of their buckets at a time.
* :meth:`sorted` consumes the sorter: a second call yields nothing. Bucket files are unlinked as
  soon as they are read, and the rest when the merge ends or is closed early.
"""

from __future__ import annotations

import bisect
import itertools
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Generic, TypeVar

from scameter.errors import SnapshotError

_KEY = itemgetter(0)
_T = TypeVar("_T")
_U32 = struct.Struct("<I")
_MAX_ITEM = 0xFFFF
_BUCKETS = 256
BUCKETS = _BUCKETS  # key ranges a sorter is split into (BytesSorter.sorted(buckets))

# No byte of SEP equals its first byte, so SEP has no border and occurrences cannot overlap
# (see the module invariants). 0xFF, 0xFE, 0xC0, 0xC1 and 0xF5-0xFD never occur in UTF-8, so
# text never contains it; binary hash bytes match it with probability 2**-64 per position.
SEP = b"\xff\xfe\xc0\xc1\xf5\xf8\xfb\xfd"

# Switch to sampled splitters when the first spill's largest first-byte bucket exceeds 8 times
# the uniform share (a hashed 2M chunk has ~7 800 +- 90 per byte, far below), and is not tiny.
_SKEW_FACTOR = 8
_SKEW_FLOOR = 1024
_SAMPLE = 64 * _BUCKETS


_Seg = tuple[int, int, bool]  # one appended segment: (byte size, item count, framed)


@dataclass(frozen=True, slots=True)
class SpilledRuns:
    """A detached sorter's items, in its bucket files, for another sorter to :meth:`adopt`.

    Plain data (it crosses a process boundary by pickle): ``count`` items; the bucketing
    (``splitters``, ``None`` for first-byte buckets); per bucket, its files in order, each with
    its segments. The files belong to whoever adopts this.
    """

    count: int  # pairs or items, as the sorter counts them
    splitters: tuple[bytes, ...] | None
    buckets: tuple[tuple[tuple[Path, tuple[_Seg, ...]], ...], ...]
    hashed: bool = False  # bucketed by a hash of the item (GroupingSorter), not by key range


class _Buckets:
    """The bucket files of one sorter: bucketing, per-bucket files and segments, read-back.

    A bucket is a list of files read in order; the sorter's own spills append to one file
    per bucket, until files are adopted: then own files are sealed and later spills start new
    ones, so a bucket's file order stays insertion order.
    """

    __slots__ = (
        "_active", "_dir", "_gen", "_name", "_queued", "decided", "hashed", "items", "pieces",
        "queued_bytes", "splitters",
    )  # fmt: skip

    def __init__(self, workdir: Path, name: str) -> None:
        self._dir = workdir
        self._name = name
        # None: bucket = first byte of the key. A list: bucket = bisect_right(splitters, key).
        self.splitters: list[bytes] | None = None
        self.decided = False  # bucketing fixed (first spill or first adoption)
        self.hashed = False  # bucket = a hash of the item (GroupingSorter)
        self.items = 0  # items in files (flat: a pair is two items here)
        self.pieces: list[list[tuple[Path, list[_Seg]]]] = [[] for _ in range(_BUCKETS)]
        self._active: list[Path | None] = [None] * _BUCKETS
        self._gen = 0
        #: Encoded segments not written yet (:meth:`queue`), per bucket, and their bytes.
        self._queued: list[list[tuple[bytes, int, bool]]] = [[] for _ in range(_BUCKETS)]
        self.queued_bytes = 0

    def choose(self, keys: list[bytes], sizes: list[int]) -> list[bytes] | None:
        """Fix the bucketing from the first spill: splitters if its first-byte ``sizes`` are
        skewed (returned), else first bytes (``None``)."""
        self.decided = True
        if max(sizes) <= max(_SKEW_FLOOR, _SKEW_FACTOR * len(keys) // _BUCKETS):
            return None
        step = max(1, len(keys) // _SAMPLE)
        sample = sorted(keys[::step])
        picks = {sample[len(sample) * j // _BUCKETS] for j in range(1, _BUCKETS)}
        self.splitters = sorted(picks)
        return self.splitters

    def append(self, bucket: int, items: list[bytes]) -> None:
        """Append one segment (``items``, in order) to ``bucket``'s own file."""
        self._write(bucket, [encode_segment(items)])

    def queue(self, bucket: int, segment: tuple[bytes, int, bool]) -> None:
        """Append one encoded segment (:func:`encode_segment`) to ``bucket``, written with
        the others queued there at the next :meth:`flush` (any read, export or append
        flushes first, so the queue never changes the order)."""
        self._queued[bucket].append(segment)
        self.queued_bytes += len(segment[0])
        self.items += segment[1]

    def flush(self) -> None:
        """Write the queued segments, one file append per bucket, consecutive segments of
        one encoding joined into one (a segment's metadata is kept until the bucket is read:
        one per queued chunk and bucket would be 2.6x10^6 tuples, about 300 MB, at 10^8)."""
        if not self.queued_bytes:
            return
        queued, self._queued = self._queued, [[] for _ in range(_BUCKETS)]
        self.queued_bytes = 0
        for bucket, segments in enumerate(queued):
            if segments:
                self.items -= sum(n for _, n, _ in segments)
                self._write(bucket, _joined(segments))

    def _write(self, bucket: int, segments: list[tuple[bytes, int, bool]]) -> None:
        self.flush()
        path = self._active[bucket]
        if path is None:
            path = self._dir / f"{self._name}.{self._gen}.{bucket:03d}.bucket"
            self._active[bucket] = path
            self.pieces[bucket].append((path, []))
        segs = self.pieces[bucket][-1][1]
        with path.open("ab") as f:
            for blob, count, framed in segments:
                f.write(blob)
                segs.append((len(blob), count, framed))
                self.items += count

    def take(self, bucket: int) -> list[bytes]:
        """Every item of ``bucket``, in append order; removes its files."""
        self.flush()
        pieces = self.pieces[bucket]
        self.pieces[bucket] = []
        self._active[bucket] = None
        out: list[bytes] = []
        for path, segs in pieces:
            out += _read_piece(path, segs)
        return out

    def export(self, count: int) -> SpilledRuns:
        """Every file (``count`` sorter items), for the sorter to hand over and forget."""
        self.flush()
        return SpilledRuns(
            count,
            None if self.splitters is None else tuple(self.splitters),
            tuple(tuple((p, tuple(segs)) for p, segs in b) for b in self.pieces),
            self.hashed,
        )

    def same_bucketing(self, runs: SpilledRuns) -> bool:
        mine = None if self.splitters is None else tuple(self.splitters)
        return mine == runs.splitters and self.hashed == runs.hashed

    def graft(self, runs: SpilledRuns) -> None:
        """Adopt ``runs`` (same bucketing) after every item spilled so far."""
        self.flush()
        for mine, theirs in zip(self.pieces, runs.buckets, strict=True):
            mine.extend((path, list(segs)) for path, segs in theirs)
        self._active = [None] * _BUCKETS  # seal: later spills go to new files
        self._gen += 1
        self.items += sum(n for b in runs.buckets for _, segs in b for _, n, _ in segs)

    def discard(self, buckets: range = range(_BUCKETS)) -> None:
        """Remove the files of ``buckets`` not read (a merge closed early)."""
        self.flush()
        for i in buckets:
            for path, _ in self.pieces[i]:
                path.unlink(missing_ok=True)
            self.pieces[i] = []


def encode_segment(items: list[bytes]) -> tuple[bytes, int, bool]:
    """``items`` as one bucket-file segment: ``(bytes, item count, framed)``, the items
    joined by :data:`SEP`, or framed by lengths when one of them contains it."""
    blob = SEP.join(items) + SEP
    framed = blob.count(SEP) != len(items)
    if framed:  # an item contains SEP: frame this segment by lengths instead
        pack = _U32.pack
        blob = b"".join([pack(len(x)) + x for x in items])
    return blob, len(items), framed


#: Pairs made in another process, bucketed by the first byte of their key and encoded
#: (:func:`pair_segments`): ``(bucket, segment)`` for :meth:`ExternalSorter.extend_segments`.
Segments = list[tuple[int, tuple[bytes, int, bool]]]


def pair_segments(pairs: Iterable[tuple[bytes, bytes]]) -> Segments:
    """``pairs`` (in order) as the segments a first-byte :class:`ExternalSorter` files
    (``first_byte=True``): made where the pairs are, e.g. a parse worker, so that the
    process that owns the sorter writes bytes instead of handling every pair. Keys are
    hashes, never empty."""
    lists: list[list[bytes]] = [[] for _ in range(_BUCKETS)]
    for key, value in pairs:
        items = lists[key[0]]
        items.append(key)
        items.append(value)
    return [(i, encode_segment(items)) for i, items in enumerate(lists) if items]


def _joined(segments: list[tuple[bytes, int, bool]]) -> list[tuple[bytes, int, bool]]:
    """``segments`` with each run of one encoding (joined by SEP, or framed) made one: the
    bytes of both encodings concatenate into a segment of the same encoding."""
    out: list[tuple[bytes, int, bool]] = []
    for framed, run in itertools.groupby(segments, key=lambda seg: seg[2]):
        group = list(run)
        if len(group) == 1:
            out.append(group[0])
        else:
            out.append((b"".join([g[0] for g in group]), sum(g[1] for g in group), framed))
    return out


def _read_piece(path: Path, segs: list[_Seg] | tuple[_Seg, ...]) -> list[bytes]:
    """The items of one bucket file (then removed), checked against its segment list."""
    data = path.read_bytes()
    path.unlink()
    if any(framed for _, _, framed in segs):
        items = _parse_segments(data, segs)
    else:
        items = data.split(SEP)
        items.pop()  # the empty tail after the last SEP
    if len(items) != sum(n for _, n, _ in segs) or len(data) != sum(z for z, _, _ in segs):
        raise SnapshotError(path, "spill bucket file does not read back; rebuild")
    return items


def _parse_segments(data: bytes, segs: list[_Seg] | tuple[_Seg, ...]) -> list[bytes]:
    out: list[bytes] = []
    pos = 0
    unpack = _U32.unpack_from
    for size, count, framed in segs:
        end = pos + size
        if not framed:
            part = data[pos:end].split(SEP)
            part.pop()
            out += part
        else:
            for _ in range(count):
                (n,) = unpack(data, pos)
                pos += 4
                out.append(data[pos : pos + n])
                pos += n
        pos = end
    return out


def _by_first_byte_python(buf: list[bytes]) -> list[list[bytes]]:
    lists: list[list[bytes]] = [[] for _ in range(_BUCKETS)]
    apps = [b.append for b in lists]
    it = iter(buf)
    while True:
        try:
            for b in it:
                apps[b[0]](b)
            return lists
        except IndexError:  # b"" sorts first: bucket 0; the loop resumes after it
            apps[0](b)


def _by_first_key_byte_python(buf: list[tuple[bytes, bytes]]) -> list[list[tuple[bytes, bytes]]]:
    lists: list[list[tuple[bytes, bytes]]] = [[] for _ in range(_BUCKETS)]
    apps = [b.append for b in lists]
    it = iter(buf)
    while True:
        try:
            for kv in it:
                apps[kv[0][0]](kv)
            return lists
        except IndexError:  # empty key
            apps[0](kv)


def _by_splitters_python(buf: list[bytes], splitters: list[bytes]) -> list[list[bytes]]:
    lists: list[list[bytes]] = [[] for _ in range(_BUCKETS)]
    apps = [b.append for b in lists]
    find = bisect.bisect_right
    for b in buf:
        apps[find(splitters, b)](b)
    return lists


def _by_key_splitters_python(
    buf: list[tuple[bytes, bytes]], splitters: list[bytes]
) -> list[list[tuple[bytes, bytes]]]:
    lists: list[list[tuple[bytes, bytes]]] = [[] for _ in range(_BUCKETS)]
    apps = [b.append for b in lists]
    find = bisect.bisect_right
    for kv in buf:
        apps[find(splitters, kv[0])](kv)
    return lists


try:
    from scameter.index import _recordsfast
except ImportError:  # built without a C compiler: the Python loops above
    _recordsfast = None  # type: ignore[assignment]

_compiled_partition = None if _recordsfast is None else getattr(_recordsfast, "partition", None)


def _by_first_byte(buf: list[bytes]) -> list[list[bytes]]:
    """``buf`` in bucket lists by first byte (``b""`` in bucket 0), in order."""
    got = None if _compiled_partition is None else _compiled_partition(buf, None, False)
    return _by_first_byte_python(buf) if got is None else got


def _by_first_key_byte(buf: list[tuple[bytes, bytes]]) -> list[list[tuple[bytes, bytes]]]:
    """``buf``'s pairs in bucket lists by the key's first byte, in order."""
    got = None if _compiled_partition is None else _compiled_partition(buf, None, True)
    return _by_first_key_byte_python(buf) if got is None else got


def _by_splitters(buf: list[bytes], splitters: list[bytes]) -> list[list[bytes]]:
    """``buf`` in bucket lists by ``bisect_right(splitters, item)``, in order."""
    got = None if _compiled_partition is None else _compiled_partition(buf, splitters, False)
    return _by_splitters_python(buf, splitters) if got is None else got


def _by_key_splitters(
    buf: list[tuple[bytes, bytes]], splitters: list[bytes]
) -> list[list[tuple[bytes, bytes]]]:
    """``buf``'s pairs in bucket lists by ``bisect_right(splitters, key)``, in order."""
    got = None if _compiled_partition is None else _compiled_partition(buf, splitters, True)
    return _by_key_splitters_python(buf, splitters) if got is None else got


class _Sorter(Generic[_T]):
    """What both sorters share: the buffer, the bucket files, handing them over and taking
    them in (:meth:`detach` / :meth:`adopt`)."""

    def __init__(self, workdir: Path, name: str, chunk: int, *, first_byte: bool = False) -> None:
        self._dir = workdir
        self._name = name
        self._chunk = chunk
        self._buf: list[_T] = []
        #: Buckets by the first byte of the key from the start (hashed keys are uniform):
        #: what :func:`pair_segments` made elsewhere can then be filed as it is.
        self._first_byte = first_byte
        self._buckets = self._new_buckets()
        self._spilled = 0

    def _new_buckets(self) -> _Buckets:
        store = _Buckets(self._dir, self._name)
        store.decided = self._first_byte
        return store

    @property
    def directory(self) -> Path:
        """Where this sorter spills (a sorter it feeds may spill beside it)."""
        return self._dir

    @property
    def count(self) -> int:
        """Items added (or adopted) so far, less any detached."""
        return self._spilled + len(self._buf)

    def _spill(self) -> None:
        raise NotImplementedError

    def _from_flat(self, flat: list[bytes]) -> list[_T]:
        """Buffer items from a bucket file's flat item list."""
        raise NotImplementedError

    def spill_buffer(self) -> None:
        """Spill what is buffered now (what :meth:`adopt` would spill first; a process that
        waits for its parts to arrive does it while it waits)."""
        if self._buf:
            self._spill()

    def detach(self) -> SpilledRuns:
        """Spill everything and hand the files over (for :meth:`adopt`, possibly in another
        process sharing ``workdir``); this sorter is then empty."""
        if self._buf:
            self._spill()
        runs = self._buckets.export(self._spilled)
        self._buckets = self._new_buckets()
        self._spilled = 0
        return runs

    def adopt(self, runs: SpilledRuns) -> None:
        """Take in a detached sorter's items as if added now (after every item so far)."""
        if not runs.count:
            return
        if self._buf:
            self._spill()  # what was added before comes first among equal keys
        store = self._buckets
        if not store.decided:
            store.decided = True
            store.splitters = None if runs.splitters is None else list(runs.splitters)
            store.hashed = runs.hashed
        if store.hashed != runs.hashed:
            raise ValueError("a hash-bucketed sorter and a key-ordered one cannot adopt each other")
        if store.same_bucketing(runs):
            store.graft(runs)
            self._spilled += runs.count
            return
        for pieces in runs.buckets:  # other splitters: re-bucket, one of theirs at a time
            flat: list[bytes] = []
            for path, segs in pieces:
                flat += _read_piece(path, segs)
            self._buf = self._from_flat(flat)
            if self._buf:
                self._spill()


class ExternalSorter(_Sorter[tuple[bytes, bytes]]):
    """Sort an unbounded stream of ``(key, value)`` pairs, stable for equal keys."""

    def __init__(
        self, workdir: Path, name: str, *, chunk: int = 500_000, first_byte: bool = False
    ) -> None:
        super().__init__(workdir, name, chunk, first_byte=first_byte)

    def _from_flat(self, flat: list[bytes]) -> list[tuple[bytes, bytes]]:
        it = iter(flat)  # a pair is stored as two items
        return list(zip(it, it, strict=False))

    def extend_segments(self, segments: Segments) -> None:
        """Add pairs encoded elsewhere by :func:`pair_segments`, after every pair so far (a
        sorter made with ``first_byte``): their bytes are queued for the bucket files as
        they are, about ``chunk`` pairs' worth at a time, with no object per pair here."""
        if not self._first_byte:
            raise ValueError("extend_segments needs a sorter made with first_byte=True")
        if self._buf:
            self._spill()  # what was added before comes first among equal keys
        store = self._buckets
        queue = store.queue
        items = 0
        for bucket, segment in segments:
            queue(bucket, segment)
            items += segment[1]
        self._spilled += items // 2
        if store.queued_bytes >= self._chunk * 64:
            store.flush()

    def add(self, key: bytes, value: bytes) -> None:
        buf = self._buf
        buf.append((key, value))
        if len(buf) >= self._chunk:
            self._spill()

    def _partition(self) -> list[list[tuple[bytes, bytes]]]:
        buf, self._buf = self._buf, []
        store = self._buckets
        if store.decided:
            if store.splitters is not None:
                return _by_key_splitters(buf, store.splitters)
            return _by_first_key_byte(buf)
        lists = _by_first_key_byte(buf)
        splitters = store.choose([kv[0] for kv in buf], [len(x) for x in lists])
        if splitters is not None:
            return _by_key_splitters(buf, splitters)
        return lists

    def _spill(self) -> None:
        n = len(self._buf)
        lists = self._partition()
        append = self._buckets.append
        chain = itertools.chain.from_iterable
        for i, pairs in enumerate(lists):
            if pairs:
                append(i, list(chain(pairs)))
        self._spilled += n

    def sorted(self) -> Iterator[tuple[bytes, bytes]]:
        """Every pair added, in key order (stable for equal keys). Consumes the sorter."""
        return itertools.chain.from_iterable(self.sorted_runs())

    def sorted_runs(self) -> Iterator[list[tuple[bytes, bytes]]]:
        """:meth:`sorted` as consecutive lists (one per bucket), for a consumer that walks
        them by index in C rather than pair by pair (``writers.write_records``): each of
        :meth:`flat_runs` paired and stably sorted. Consumes the sorter."""
        return (_sorted_pairs(flat) for flat in self.flat_runs())

    def flat_runs(self) -> Iterator[list[bytes]]:
        """Every pair added, unsorted, as one flat list (``[key, value, key, value, ...]``)
        per bucket in order: the buckets' keys are ascending from one list to the next,
        and within a list pairs are in the order added, for a consumer that sorts and groups
        them itself (``writers.group_pairs``). Consumes the sorter."""
        store = self._buckets
        self._spilled += len(self._buf)
        if not store.items:
            buf, self._buf = self._buf, []
            return iter([list(itertools.chain.from_iterable(buf))])
        rest = self._partition()
        self._buckets = self._new_buckets()  # consumed: a second call is empty
        return self._flat(store, rest)

    @staticmethod
    def _flat(store: _Buckets, rest: list[list[tuple[bytes, bytes]]]) -> Iterator[list[bytes]]:
        try:
            for i in range(_BUCKETS):
                flat = store.take(i)
                flat += itertools.chain.from_iterable(rest[i])
                rest[i] = []
                yield flat
        finally:
            store.discard()


def _sorted_pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    it = iter(flat)  # a pair is stored as two items
    pairs = list(zip(it, it, strict=True))
    pairs.sort(key=_KEY)  # stable: equal keys keep the order added
    return pairs


def grouped(stream: Iterator[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, list[bytes]]]:
    """Group a key-ordered stream: ``(key, [values in order])``."""
    for key, items in itertools.groupby(stream, key=_KEY):
        yield key, [v for _, v in items]


class BytesSorter(_Sorter[bytes]):
    """External sort of plain byte strings (at most 65 535 bytes each), no tie-breaking.

    Used for the near-match variants, by far the most numerous items: ``bytes`` sort in C.
    """

    def __init__(self, workdir: Path, name: str, *, chunk: int = 2_000_000) -> None:
        super().__init__(workdir, name, chunk)

    def _from_flat(self, flat: list[bytes]) -> list[bytes]:
        return flat

    def add(self, item: bytes) -> None:
        if len(item) > _MAX_ITEM:
            raise ValueError(f"BytesSorter items are at most {_MAX_ITEM} bytes, got {len(item)}")
        buf = self._buf
        buf.append(item)
        if len(buf) >= self._chunk:
            self._spill()

    def extend(self, items: list[bytes]) -> None:
        if items and max(map(len, items)) > _MAX_ITEM:
            raise ValueError(f"BytesSorter items are at most {_MAX_ITEM} bytes")
        self._buf += items
        if len(self._buf) >= self._chunk:
            self._spill()

    def _partition(self) -> list[list[bytes]]:
        buf, self._buf = self._buf, []
        store = self._buckets
        if store.decided:
            if store.splitters is not None:
                return _by_splitters(buf, store.splitters)
            return _by_first_byte(buf)
        lists = _by_first_byte(buf)
        splitters = store.choose(buf, [len(x) for x in lists])
        if splitters is not None:
            return _by_splitters(buf, splitters)
        return lists

    def _spill(self) -> None:
        n = len(self._buf)
        lists = self._partition()
        append = self._buckets.append
        for i, items in enumerate(lists):
            if items:
                append(i, items)
        self._spilled += n

    def sorted(self, buckets: range | None = None) -> Iterator[bytes]:
        """Every item, in byte order. Consumes the sorter.

        With ``buckets`` (a sub-range of ``range(BUCKETS)``), only the items of those key
        ranges: every key of one bucket sorts before every key of the next, so consecutive
        ranges in order are the whole stream. This is for forked processes that each sort
        one range of the same (copied) sorter: a range reads and removes only its own files.
        """
        whole = buckets is None
        if buckets is None:
            buckets = range(_BUCKETS)
        elif buckets.step != 1 or not 0 <= buckets.start <= buckets.stop <= _BUCKETS:
            raise ValueError(f"buckets {buckets} is not a range within 0..{_BUCKETS}")
        store = self._buckets
        if not store.items and whole:
            self._spilled += len(self._buf)
            self._buf.sort()
            buf, self._buf = self._buf, []
            return iter(buf)
        self._spilled += len(self._buf)
        rest = self._partition()
        self._buckets = self._new_buckets()
        return self._merge(store, rest, buckets)

    @staticmethod
    def _merge(store: _Buckets, rest: list[list[bytes]], buckets: range) -> Iterator[bytes]:
        try:
            for i in buckets:
                items = store.take(i)
                items += rest[i]
                rest[i] = []
                items.sort()
                yield from items
        finally:
            store.discard(buckets)


class GroupingSorter(BytesSorter):
    """Equal byte strings brought together, with bounded memory whatever the order they
    arrive in: :meth:`grouped` yields every item with equal items adjacent, each bucket sorted,
    the buckets in no key order.

    The buckets are a hash of the item (CRC-32), not key ranges: a :class:`BytesSorter` picks
    its key ranges from its first chunk, which is a narrow slice of the key space when the
    items arrive in key order, as the phone range keys do (the builder is fed in key order):
    at 10^8 reports nearly every range key fell into the last bucket, one 3.4 GiB list at
    the merge. A hash spreads any order evenly; only the counting of equal items needs them
    adjacent (:func:`scameter.index.writers.write_ranges` then sorts what it keeps)."""

    def _partition(self) -> list[list[bytes]]:
        buf, self._buf = self._buf, []
        store = self._buckets
        if store.decided and not store.hashed:
            raise ValueError("a GroupingSorter adopted key-ordered runs")
        store.decided = store.hashed = True
        lists: list[list[bytes]] = [[] for _ in range(_BUCKETS)]
        apps = [b.append for b in lists]
        crc = zlib.crc32
        for b in buf:
            apps[crc(b) & 0xFF](b)
        return lists

    def grouped(self) -> Iterator[bytes]:
        """Every item, equal items adjacent (bucket by bucket, each sorted). Consumes the
        sorter."""
        return BytesSorter.sorted(self)

    def sorted(self, buckets: range | None = None) -> Iterator[bytes]:
        raise TypeError("a GroupingSorter groups equal items; it does not sort (grouped())")
