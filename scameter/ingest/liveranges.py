"""Phone-range signals of the live delta: the ``phone_ranges`` counts a full build would
store, kept up to date for the prefix blocks a fold changes.

Responsibility: a full build (``SnapshotBuilder.add`` feeding ``writers.write_ranges``)
counts, for each ``d`` of ``policy.phone_range_digits``, the listed (POSSIBLE, SUSPICIOUS,
HIGH RISK) phone records sharing ``canonical[:-d]`` and stores every block holding at least
``policy.phone_range_min_listed`` of them, with its count. :class:`RangeCounter` gives the
fold the same count for every block of a number whose listing the fold changed (listed now
and not before, or the reverse), incrementally (docs/architecture.md, "Live updates").

Invariants:

* The delta's ``ranges`` entry of a block is the block's live count (u32, whatever the
  threshold: lookups apply it), written the first time a number of the block changes and
  moved by one at each later change. Its starting point is the base's count: the base's
  ``phone_ranges`` entry, or, for a block the base does not list (fewer numbers than the
  threshold), the base records of the block's ``10**d`` numbers counted once per base
  (memoised). A block with no delta entry has no change in the delta: the base's answer.
* So a fold costs, per number whose listing changed, one read of the delta's entry per
  block, and once per block and base the base's entry (and, where the base lists no range
  there, its ``10**d`` records): in proportion to the change, never to the base.
* Only numbers whose last digits are digits have blocks (phone canonicals are E.164 or digit
  short codes; any other is left to the next ingest).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import xxhash

from scameter.identifiers import Kind
from scameter.identifiers.model import KIND_TAGS
from scameter.index import format as fmt
from scameter.index.delta import LISTED
from scameter.index.format import record_canonical
from scameter.index.reader import SnapshotReader
from scameter.verdict import Level

#: Level codes a full build counts in a phone range (the builder's ``_LISTED``).
LISTED_CODES = frozenset(fmt.LEVEL_CODES[lv] for lv in (Level.POSSIBLE, Level.SUSPICIOUS,
                                                        Level.HIGH_RISK))  # fmt: skip
#: Base counts of blocks memoised per base.
BASE_MEMO = 100_000
_PHONE_TAG = KIND_TAGS[Kind.PHONE]
_xxh3 = xxhash.xxh3_64_digest
#: A delta entry by key, or ``None`` when the delta holds nothing under it.
DeltaGet = Callable[[bytes], bytes | None]


def delta_listed(value: bytes, number: str) -> bool:
    """Whether a delta value (``b"L"`` + record, or a removal) lists ``number`` in a range."""
    if value[:1] != LISTED or value[2] not in LISTED_CODES:
        return False
    return record_canonical(value[1:]) == number


class RangeCounter:
    """The live ``phone_ranges`` counts over one base (see the module invariants)."""

    def __init__(self, reader: SnapshotReader) -> None:
        policy = reader.policy
        self.digits = tuple(policy.phone_range_digits)
        self.span = max(self.digits, default=0)
        self._reader = reader
        self._get = reader.table.get
        #: Range key -> the base's count of listed numbers in the block.
        self._memo: dict[bytes, int] = {}

    def base_listed(self, key: bytes, number: str) -> bool:
        """Whether the base lists ``number`` (key ``key``) in a range."""
        buf = self._get(key)
        return buf is not None and buf[1] in LISTED_CODES and record_canonical(buf) == number

    def has_blocks(self, number: str) -> bool:
        """Whether ``number`` counts in phone ranges at all (digits at its end)."""
        span = self.span
        return bool(span) and len(number) > span and number[-span:].isdigit()

    def counts(self, changes: list[tuple[str, int]], delta_get: DeltaGet) -> dict[bytes, bytes]:
        """Range key -> new stored count of every block of the numbers of ``changes``
        (number, +1 newly listed / -1 no longer listed); ``delta_get``: the delta's current
        ``ranges`` entries (the fold's own transaction)."""
        out: dict[bytes, int] = {}
        for number, step in changes:
            for d in sorted(self.digits, reverse=True):  # a large block counts its smaller
                rkey = f"{d}:{number[:-d]}".encode("ascii")
                n = out.get(rkey)
                if n is None:
                    stored = delta_get(rkey)
                    n = self._base_count(rkey, d) if stored is None else fmt.U32.unpack(stored)[0]
                out[rkey] = n + step
        return {k: fmt.U32.pack(max(0, n)) for k, n in out.items()}

    def _base_count(self, rkey: bytes, d: int) -> int:
        """The base's count of listed numbers in the block ``rkey`` (memoised)."""
        n = self._memo.get(rkey)
        if n is not None:
            return n
        reader = self._reader
        stored = reader.txn().get(rkey, db=reader.ranges)
        if stored is not None:
            n = fmt.U32.unpack(stored)[0]
        else:  # below the threshold in the base: count its numbers' records
            prefix = rkey[rkey.index(b":") + 1 :].decode("ascii")
            listed = self._base_listed_in(prefix, d)
            n = len(listed)
            # the smaller blocks inside it, counted on the way (under the threshold too, so
            # the base stores none of them)
            for sub in self.digits:
                if sub < d:
                    for i in range(10 ** (d - sub)):
                        inner = f"{prefix}{i:0{d - sub}d}"
                        k = f"{sub}:{inner}".encode("ascii")
                        self._memo.setdefault(k, sum(t.startswith(inner) for t in listed))
        if len(self._memo) >= BASE_MEMO:
            self._memo.clear()
        self._memo[rkey] = n
        return n

    def _base_listed_in(self, prefix: str, d: int) -> list[str]:
        """The numbers of the block ``prefix`` + ``d`` digits the base lists in a range (keys
        hashed from the shared head; one sorted ``getmulti`` over an unsharded base)."""
        head = _PHONE_TAG + prefix.encode("ascii")
        tails = _tails(d)
        keys = {_xxh3(head + tail): tail for tail in tails}
        reader = self._reader
        if reader.table.sharded:
            found = [(k, self._get(k)) for k in keys]
        else:
            found = reader.txn().cursor(db=reader.records).getmulti(sorted(keys))
        out = []
        for k, buf in found:
            if buf is not None and buf[1] in LISTED_CODES:
                number = prefix + keys[k].decode("ascii")
                if record_canonical(buf) == number:
                    out.append(number)
        return out


@functools.cache
def _tails(d: int) -> tuple[bytes, ...]:
    """The ``10**d`` digit strings of ``d`` digits, as bytes."""
    return tuple(f"{i:0{d}d}".encode("ascii") for i in range(10**d))


__all__ = ["LISTED_CODES", "RangeCounter", "delta_listed"]
