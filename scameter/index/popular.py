"""The popular-site set: registrable domains on a popularity warninglist, as sorted hashes.

Responsibility: :class:`PopularSet`, the compact form in which ingest carries the Tranco and
Chrome CrUX top-1M warninglists (about 2 million names) and the snapshot stores them (the
optional ``popular`` sub-database, ``docs/snapshot-format.md``), so that a lookup can tell a
real brand's other domains (``hsbc.com`` next to an allowlisted ``hsbc.com.hk``) from a
look-alike without loading any warninglist.

Each list is a sorted ``array('Q')`` of ``xxh3_64`` of the names (UTF-8, lower-case ASCII as
the PSL gives them): 8 bytes a name, 16 MB for both lists, against well over 100 MB for a
Python set of the strings. Membership is one hash and one binary search. A 64-bit collision
could only make a non-popular name count as popular, i.e. spare it from the *look-alike* rules
(never from an exact listing); at 2 * 10^6 names that is a chance of about 10^-13 per lookup.

Invariants: the arrays are sorted and free of duplicates; blobs are little-endian on disk
whatever the machine's byte order, so a snapshot reads the same everywhere.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping

import xxhash

_hash = xxhash.xxh3_64_intdigest


def domain_hash(name: str) -> int:
    """The 64-bit hash a popular name is stored under."""
    return _hash(name.encode("utf-8"))


def _sorted_array(hashes: Iterable[int]) -> array[int]:
    return array("Q", sorted(set(hashes)))


class PopularSet:
    """Per warninglist (in precedence order), the sorted hashes of its names."""

    __slots__ = ("lists",)

    def __init__(self, lists: Mapping[str, array[int]]) -> None:
        self.lists: dict[str, array[int]] = dict(lists)

    @classmethod
    def compile(cls, names: Mapping[str, Iterable[str]]) -> PopularSet:
        """From the names of each list (hashed, de-duplicated and sorted here)."""
        return cls({name: _sorted_array(map(domain_hash, vals)) for name, vals in names.items()})

    def which(self, domain: str) -> str | None:
        """The first list naming ``domain`` exactly, or ``None``."""
        if not self.lists:
            return None
        h = _hash(domain.encode("utf-8"))
        for name, arr in self.lists.items():
            i = bisect_left(arr, h)
            if i < len(arr) and arr[i] == h:
                return name
        return None

    def __contains__(self, domain: object) -> bool:
        return isinstance(domain, str) and self.which(domain) is not None

    def __len__(self) -> int:
        return sum(len(a) for a in self.lists.values())

    def __bool__(self) -> bool:
        return any(self.lists.values())

    def to_blobs(self) -> dict[str, bytes]:
        """List name -> the little-endian bytes of its hashes (what the snapshot stores)."""
        out = {}
        for name, arr in self.lists.items():
            data = arr
            if sys.byteorder == "big":  # pragma: no cover - no big-endian CI machine
                data = array("Q", arr)
                data.byteswap()
            out[name] = data.tobytes()
        return out

    @classmethod
    def from_blobs(cls, blobs: Iterable[tuple[str, bytes]]) -> PopularSet:
        """The inverse of :meth:`to_blobs` (in the given order)."""
        lists: dict[str, array[int]] = {}
        for name, blob in blobs:
            arr = array("Q")
            arr.frombytes(blob)
            if sys.byteorder == "big":  # pragma: no cover
                arr.byteswap()
            lists[name] = arr
        return cls(lists)


EMPTY = PopularSet({})

__all__ = ["EMPTY", "PopularSet", "domain_hash"]
