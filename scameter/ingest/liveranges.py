"""Phone-range signals of the live delta: the ``phone_ranges`` entries a full build writes,
for the prefix blocks a fold changed.

Responsibility: a full build (``SnapshotBuilder.add`` feeding ``writers.write_ranges``)
counts, for each ``d`` of ``policy.phone_range_digits``, the listed (POSSIBLE, SUSPICIOUS,
HIGH RISK) phone records sharing ``canonical[:-d]``, and stores every block holding at least
``policy.phone_range_min_listed`` of them with its count. :class:`RangeCounter` reproduces
that count for the blocks a fold touched, over the base's records with the delta's standing
for the keys it holds (docs/architecture.md, "Live updates").

Invariants:

* The unit of work is the *span block*: the ``10**D`` numbers sharing ``canonical[:-D]``, D
  the largest of ``phone_range_digits``; every smaller block of a number lies inside its span
  block. A fold that changes whether a number is listed recounts that number's span block
  and writes an entry for *every* block inside it (its count, or ``b""``: not a listed range
  live), so a lookup of a number in a touched span block needs nothing of the base's ranges.
* Cost in proportion to the numbers whose listing changed: ``10**D`` key reads of the delta
  per span block, and ``10**D`` of the base once per span block and base (memoised, bounded).
* Only numbers whose last D characters are digits have span blocks (phone canonicals are
  E.164 or digit short codes; any other is left to the next ingest).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

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
#: Span blocks whose base listing is memoised per base (each holds up to 10**D numbers).
BASE_MEMO = 20_000
_PHONE_TAG = KIND_TAGS[Kind.PHONE]
_xxh3 = xxhash.xxh3_64_digest
#: A delta value of a key, or ``None`` when the delta holds nothing of it.
DeltaGet = Callable[[bytes], bytes | None]


def phone_key(number: str) -> bytes:
    """The identifier key of a phone canonical (= ``Identifier(Kind.PHONE, number).key``)."""
    return _xxh3(_PHONE_TAG + number.encode("utf-8"))


def delta_listed(value: bytes, number: str) -> bool:
    """Whether a delta value (``b"L"`` + record, or a removal) lists ``number`` in a range."""
    if value[:1] != LISTED or value[2] not in LISTED_CODES:
        return False
    return record_canonical(value[1:]) == number


class RangeCounter:
    """The live ``phone_ranges`` entries of one base (see the module invariants)."""

    def __init__(self, reader: SnapshotReader) -> None:
        policy = reader.policy
        self.digits = tuple(policy.phone_range_digits)
        self.span = max(self.digits, default=0)
        self.threshold = policy.phone_range_min_listed
        self._get = reader.table.get
        #: Span-block prefix -> (its numbers and keys, the numbers the base lists).
        self._memo: dict[str, tuple[list[tuple[str, bytes]], frozenset[str]]] = {}

    def base_listed(self, key: bytes, number: str) -> bool:
        """Whether the base lists ``number`` (key ``key``) in a range."""
        buf = self._get(key)
        return buf is not None and buf[1] in LISTED_CODES and record_canonical(buf) == number

    def block_of(self, number: str) -> str | None:
        """The span-block prefix of ``number``, or ``None`` when it has none."""
        span = self.span
        if not span or len(number) <= span or not number[-span:].isdigit():
            return None
        return number[:-span]

    def entries(self, prefixes: Iterable[str], delta_get: DeltaGet) -> dict[bytes, bytes]:
        """Range key -> stored count (``b""``: not listed live) of every block inside the span
        blocks ``prefixes``, the delta (``delta_get``, the fold's own transaction, this fold's
        records included) standing for the base where it holds a key."""
        out: dict[bytes, bytes] = {}
        span, threshold, pack = self.span, self.threshold, fmt.U32.pack
        for prefix in sorted(prefixes):
            numbers, base = self._block(prefix)
            listed = []
            for number, key in numbers:
                value = delta_get(key)
                if number in base if value is None else delta_listed(value, number):
                    listed.append(number)
            for d in self.digits:
                counts = Counter(n[:-d] for n in listed)
                width = span - d
                subs = [prefix + f"{i:0{width}d}" for i in range(10**width)] if width else [prefix]
                for sub in subs:
                    n = counts.get(sub, 0)
                    out[f"{d}:{sub}".encode("ascii")] = pack(n) if n >= threshold else b""
        return out

    def _block(self, prefix: str) -> tuple[list[tuple[str, bytes]], frozenset[str]]:
        """The span block's numbers with their keys, and those the base lists (memoised)."""
        hit = self._memo.get(prefix)
        if hit is None:
            span = self.span
            texts = (f"{prefix}{i:0{span}d}" for i in range(10**span))
            numbers = [(n, phone_key(n)) for n in texts]
            base = frozenset(n for n, k in numbers if self.base_listed(k, n))
            if len(self._memo) >= BASE_MEMO:
                self._memo.clear()
            hit = self._memo[prefix] = (numbers, base)
        return hit


__all__ = ["LISTED_CODES", "RangeCounter", "delta_listed", "phone_key"]
