"""The batch pre-filter: which of a batch's identifier keys could be stored at all.

Responsibility: :class:`KeyProbe` holds, per opened snapshot, a sorted ``numpy`` array of
every 64-bit key of ``records`` and ``allow`` (the big-endian ``xxh3_64`` keys read as
unsigned integers) and the phone-range prefixes of ``phone_ranges``, and answers for a whole
batch of keys at once (one ``np.searchsorted``) which ones are present. A key that is absent
from both tables cannot match a record or an allowlist entry, so the batch path
(:mod:`scameter.index.batchpath`) may answer it NO RECORD without a verdict of its own.

Invariants:
* No false negatives: every stored key is in the array; a present key (even a 64-bit
  collision of another identifier) only sends its row down the full single-item path.
* Built lazily, once per snapshot, under a lock (a snapshot is immutable, so it never goes
  stale); reading ``records`` key by key costs about 0.2-0.5 s per 10^6 keys with a warm
  page cache (2-3 s cold) and 8 bytes a key of memory. Only built once it pays
  (:meth:`KeyProbe.worth`): when the rows batches have asked about reach
  1/:data:`ROWS_PER_KEY` of the stored keys. Until then batches take the per-row path, so
  one ``scameter check`` of a few values never reads a 10^8-key table to answer them.
* A table whose keys are not all 8 bytes (a format this module does not know) disables the
  pre-filter: :meth:`KeyProbe.ready` is then ``False`` and every row takes the full path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

# numpy's BLAS thread pool is limited to one thread by scameter/__init__.py (imported first).
import numpy as np
import numpy.typing as npt

from scameter.index.reader import SnapshotReader

#: Bytes of a record key (``xxh3_64``, big-endian: LMDB's byte order is numeric order).
KEY_BYTES = 8
_BE_U64 = np.dtype(">u8")
#: The probe is built once the rows asked about reach 1/ROWS_PER_KEY of the stored keys:
#: building costs ~0.5 us a key, and the probe saves a few us on each row that misses, so
#: a batch answered per row until then costs at most about twice the best choice made with
#: hindsight (the ski-rental bound).
ROWS_PER_KEY = 8

U64Array = npt.NDArray[np.uint64]
#: XXH3 (xxHash 0.8, its specification): inputs of 9 to 16 bytes are hashed with two words of
#: the default secret, ``readLE64(kSecret + 24) ^ readLE64(kSecret + 32)`` and ``readLE64(
#: kSecret + 40) ^ readLE64(kSecret + 48)``, then the avalanche's multiplier.
_XXH3_MIN, _XXH3_MAX = 9, 16
_XXH3_BITFLIP1 = np.uint64(0x6782737BEA4239B9)
_XXH3_BITFLIP2 = np.uint64(0xAF56BC3B0996523A)
_XXH3_PRIME_MX1 = np.uint64(0x165667919E3779F9)
_LOW32 = np.uint64(0xFFFFFFFF)
_LE_U64 = np.dtype("<u8")
_BLOCK_ROWS = 8192
#: A typed HK number as the batch path holds it: ``+852`` and 8 national digits.
_HK_HEAD = "+852"
_HK_DIGITS = 8
#: Bitsets of phone-range blocks kept per probe (the base's entries and a live delta's).
_BLOCK_MEMO = 8


def table_keys(txn: Any, db: Any) -> U64Array | None:
    """Every key of the sub-database ``db`` as sorted native ``uint64``; ``None`` when a key
    is not :data:`KEY_BYTES` long."""
    cursor = txn.cursor(db=db)
    raw = b"".join(cursor.iternext(keys=True, values=False))
    entries = int(txn.stat(db)["entries"])
    if len(raw) != KEY_BYTES * entries:
        return None
    # LMDB returns keys in byte order, which for 8-byte big-endian keys is numeric order.
    return np.frombuffer(raw, dtype=_BE_U64).astype(np.uint64)


def key_array(keys: Iterable[int]) -> U64Array:
    """Integer keys (``xxh3_64_intdigest``) as the array :meth:`KeyProbe.present` takes."""
    return np.array(list(keys), dtype=np.uint64)


def short_keys(tag: bytes, values: npt.NDArray[np.uint8]) -> U64Array:
    """The keys (``xxh3_64_intdigest(tag + value)``) of the rows of ``values``, an ``(m, w)``
    array of the values' UTF-8 bytes, all ``w`` long, with ``9 <= 1 + w <= 16``: the whole
    column at once, as ``Identifier.key`` hashes each.

    This is XXH3's 9-to-16-byte path (seed 0, the default secret), in ``uint64`` arithmetic
    that wraps as C's does; the 64x64->128-bit product is made of 32-bit halves, as xxHash's
    portable ``XXH_mult64to128``. ``tests/unit/index/test_keyprobe_keys.py`` pins it to the
    ``xxhash`` package on random inputs of every such length."""
    m, width = values.shape
    n = 1 + width
    if not _XXH3_MIN <= n <= _XXH3_MAX:
        raise ValueError(f"short_keys: inputs of {n} bytes, not {_XXH3_MIN}-{_XXH3_MAX}")
    # In blocks whose temporaries stay in the cache (measured 4-5x faster than whole
    # columns of 10^5, whose temporaries are fresh pages each).
    out = np.empty(m, dtype=np.uint64)
    for start in range(0, m, _BLOCK_ROWS):
        out[start : start + _BLOCK_ROWS] = _xxh3_block(tag, values[start : start + _BLOCK_ROWS])
    return out


def _xxh3_block(tag: bytes, values: npt.NDArray[np.uint8]) -> U64Array:
    m, width = values.shape
    n = 1 + width
    data = np.empty((m, 16), dtype=np.uint8)
    data[:, 0] = tag[0]
    data[:, 1:n] = values
    lo = np.ascontiguousarray(data[:, :8]).view(_LE_U64).ravel().astype(np.uint64)
    hi = np.ascontiguousarray(data[:, n - 8 : n]).view(_LE_U64).ravel().astype(np.uint64)
    lo ^= _XXH3_BITFLIP1
    hi ^= _XXH3_BITFLIP2
    acc = lo.byteswap() + hi + np.uint64(n)
    acc += _fold_product(lo, hi)
    acc ^= acc >> np.uint64(37)
    acc *= _XXH3_PRIME_MX1
    acc ^= acc >> np.uint64(32)
    return acc


def _fold_product(a: U64Array, b: U64Array) -> U64Array:
    """``lo ^ hi`` of each 128-bit product ``a * b`` (XXH3's ``mul128_fold64``)."""
    a_lo, a_hi = a & _LOW32, a >> np.uint64(32)
    b_lo, b_hi = b & _LOW32, b >> np.uint64(32)
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    cross = (lo_lo >> np.uint64(32)) + (hi_lo & _LOW32) + a_lo * b_hi
    upper = (hi_lo >> np.uint64(32)) + (cross >> np.uint64(32)) + a_hi * b_hi
    lower = (cross << np.uint64(32)) | (lo_lo & _LOW32)
    out: U64Array = lower ^ upper
    return out


def hits(mask: npt.NDArray[np.bool_]) -> list[int]:
    """Positions of the ``True`` entries of ``mask``, as a list."""
    out: list[int] = np.flatnonzero(mask).tolist()
    return out


class KeyProbe:
    """Membership of 64-bit keys in one snapshot's ``records`` and ``allow`` (lazy)."""

    def __init__(self, reader: SnapshotReader) -> None:
        #: The snapshot's reader (the batch path fetches its plain hits' records through it).
        self.reader = reader
        self._lock = threading.Lock()
        self._keys: U64Array | None = None
        #: The ``allow`` keys alone (sorted; empty when the allowlist is).
        self._allow: U64Array = np.empty(0, dtype=np.uint64)
        self._ranges: tuple[tuple[int, frozenset[str]], ...] = ()
        self._usable = True
        self._built = False
        #: The keys of a live delta layered over the snapshot (sorted; ``None``: no delta).
        #: A row whose key is there takes the full path, which checks the delta first.
        self.extra: U64Array | None = None
        #: The phone-range prefix blocks a live delta recounted, as ``(digits, prefixes)``:
        #: a number in one takes the full path too (``Overlay.range_blocks``).
        self.extra_ranges: tuple[tuple[int, frozenset[str]], ...] = ()
        self._asked = 0
        self._blocks: dict[tuple[int, frozenset[str]], npt.NDArray[np.uint8]] = {}
        self._stored: int | None = None

    def worth(self, rows: int) -> bool:
        """Is the probe built and usable, building it now if the rows asked about so far
        (``rows`` more with this batch) make it pay? ``False``: answer this batch per row."""
        if self._built:
            return self._usable
        self._asked += rows
        if self._stored is None:
            reader = self.reader
            txn = reader.txn()
            self._stored = reader.table.entries() + int(txn.stat(reader.allow)["entries"])
        if self._asked * ROWS_PER_KEY < self._stored:
            return False
        return self.ready()

    def ready(self) -> bool:
        """Build the array if needed; ``False`` when this snapshot cannot be pre-filtered."""
        if not self._built:
            self._build()
        return self._usable

    def _build(self) -> None:
        with self._lock:
            if self._built:
                return
            reader = self.reader
            txn = reader.txn()
            parts = [table_keys(t, db) for t, db in reader.table.key_sources()]
            # The shards' key ranges are contiguous and in order: their keys concatenate sorted.
            records = None if any(p is None for p in parts) else _concat(parts)
            allow = table_keys(txn, reader.allow)
            if records is None or allow is None:
                self._usable = False
            else:
                self._keys = np.union1d(records, allow) if len(allow) else records
                self._allow = allow
                self._ranges = _range_prefixes(txn, reader, reader.policy.phone_range_digits)
            self._built = True

    def present(self, keys: U64Array) -> npt.NDArray[np.bool_]:
        """For each key of ``keys``: is it stored in ``records`` or ``allow``? (Call
        :meth:`ready` first.)"""
        out = _member(self._keys, keys)
        extra = self.extra
        if extra is not None:
            out |= _member(extra, keys)
        return out

    def classify(
        self, keys: U64Array
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_] | None]:
        """``(present, plain)`` for each key of ``keys``: :meth:`present`, and whether it is a
        *plain* ``records`` key (stored there, not in ``allow``), which the batch path may
        answer from its record alone; ``plain`` is ``None`` while a live delta is layered
        over the snapshot (:attr:`extra`): every present row then takes the full path,
        which checks the delta first. (Call :meth:`ready` first.)"""
        present = _member(self._keys, keys)
        if self.extra is not None:
            present |= _member(self.extra, keys)
            return present, None
        if not len(self._allow):
            return present, present
        return present, present & ~_member(self._allow, keys)

    def hk_blocks(self, digits: int, prefixes: frozenset[str]) -> npt.NDArray[np.uint8] | None:
        """The HK numbers' blocks of ``prefixes`` (one ``ranges`` entry) as a bitset over
        national numbers less their last ``digits`` digits: bit ``b`` is set when
        ``"+852" + f"{b:0{8 - digits}d}"`` is in ``prefixes``, so a typed HK number (``+852``
        and 8 digits) is in a listed block exactly when its bit is. ``None`` when ``digits``
        leaves no national digits to index (then test the strings). Memoised per entry."""
        if not 1 <= digits <= _HK_DIGITS - 1:
            return None
        key = (digits, prefixes)
        bits = self._blocks.get(key)
        if bits is None:
            if len(self._blocks) >= _BLOCK_MEMO:  # a live delta's entries change: bounded
                self._blocks.clear()
            bits = self._blocks[key] = _block_bits(_HK_DIGITS - digits, prefixes)
        return bits

    @property
    def ranges(self) -> tuple[tuple[int, frozenset[str]], ...]:
        """``(digits, prefixes)`` per ``policy.phone_range_digits``, in order: the phone
        numbers minus their last ``digits`` digits that ``phone_ranges`` lists (and those of
        :attr:`extra_ranges`)."""
        extra = self.extra_ranges
        return self._ranges + extra if extra else self._ranges

    @property
    def size(self) -> int:
        """Keys held (0 before :meth:`ready`)."""
        return 0 if self._keys is None else len(self._keys)


def _member(stored: U64Array | None, keys: U64Array) -> npt.NDArray[np.bool_]:
    """For each of ``keys``: is it in the sorted array ``stored``?"""
    if stored is None or not len(stored):
        return np.zeros(len(keys), dtype=np.bool_)
    idx = np.searchsorted(stored, keys)
    np.minimum(idx, len(stored) - 1, out=idx)
    out: npt.NDArray[np.bool_] = stored[idx] == keys
    return out


def _block_bits(width: int, prefixes: frozenset[str]) -> npt.NDArray[np.uint8]:
    """Bit ``b`` (of ``10**width``) set when ``"+852"`` and ``b`` in ``width`` digits is one
    of ``prefixes`` (:meth:`KeyProbe.hk_blocks`)."""
    head = len(_HK_HEAD)
    blocks = [
        int(p[head:])
        for p in prefixes
        if p.startswith(_HK_HEAD) and len(p) == head + width and p[head:].isascii()
        and p[head:].isdigit()
    ]  # fmt: skip
    bits = np.zeros((10**width + 7) // 8, dtype=np.uint8)
    idx = np.array(blocks, dtype=np.int64)
    np.bitwise_or.at(bits, idx >> 3, np.left_shift(1, idx & 7).astype(np.uint8))
    return bits


def _concat(parts: list[U64Array | None]) -> U64Array:
    arrays = [p for p in parts if p is not None]
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _range_prefixes(
    txn: Any, reader: SnapshotReader, digits: tuple[int, ...]
) -> tuple[tuple[int, frozenset[str]], ...]:
    """The ``phone_ranges`` keys (``b"<digits>:<prefix>"``, see
    :func:`scameter.index.near.range_key`) as one prefix set per digit count."""
    by_digits: dict[int, set[str]] = {d: set() for d in digits}
    for key in txn.cursor(db=reader.ranges).iternext(keys=True, values=False):
        head, _, prefix = bytes(key).decode("ascii").partition(":")
        bucket = by_digits.get(int(head)) if head.isdigit() else None
        if bucket is not None:
            bucket.add(prefix)
    return tuple((d, frozenset(by_digits[d])) for d in digits)


__all__ = [
    "KEY_BYTES",
    "ROWS_PER_KEY",
    "KeyProbe",
    "U64Array",
    "hits",
    "key_array",
    "short_keys",
    "table_keys",
]
