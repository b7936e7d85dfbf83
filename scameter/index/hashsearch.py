"""Hash-prefix search over a snapshot's ``hashes`` table (the server side of private lookups).

Responsibility: given hash prefixes (the lengths of :data:`~scameter.index.hashes.PREFIX_LENGTHS`),
return every full hash of a stored record under them with the record's verdict payload:
level, kind, categories, reason codes, report and reporter counts; never sources, owners,
clusters or anything else that says who reported.

Invariants: the table only narrows the search (2-byte bucket, then the next bytes); every
answer is re-derived from the record itself (:func:`~scameter.index.hashes.record_hashes`),
so a 64-bit key collision or a stale entry can never answer with another record's data.
Nothing here logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scameter.errors import SnapshotError
from scameter.identifiers.model import Kind
from scameter.index import format as fmt
from scameter.index.hashes import PREFIX_LENGTHS, record_hashes
from scameter.index.reader import SnapshotReader
from scameter.verdict import Level

#: Most prefixes one search takes (a URL has at most 30 expressions).
MAX_PREFIXES = 64


@dataclass(frozen=True, slots=True)
class HashMatch:
    """One full hash under a searched prefix and what the record under it says."""

    full_hash: bytes
    kind: Kind
    level: Level
    categories: tuple[str, ...]
    reasons: tuple[str, ...]
    report_count: int
    reporters: int


class NoHashTable(SnapshotError):
    """The snapshot was built before the ``hashes`` table existed: rebuild it to serve."""


def check_prefixes(prefixes: Iterable[bytes]) -> list[bytes]:
    """The distinct prefixes, or ``ValueError`` naming what is wrong (length, count)."""
    out = list(dict.fromkeys(bytes(p) for p in prefixes))
    if not out:
        raise ValueError("give at least one hash prefix")
    if len(out) > MAX_PREFIXES:
        raise ValueError(f"at most {MAX_PREFIXES} prefixes per search, got {len(out)}")
    lengths = sorted(PREFIX_LENGTHS)
    for p in out:
        if len(p) not in PREFIX_LENGTHS:
            raise ValueError(
                f"a hash prefix is {', '.join(map(str, lengths))} bytes long, got {len(p)}"
            )
    return out


def _rank(m: HashMatch) -> tuple[int, int]:
    return fmt.LEVEL_CODES[m.level], m.report_count


def search(reader: SnapshotReader, prefixes: Iterable[bytes]) -> list[HashMatch]:
    """Every full hash under ``prefixes`` (checked with :func:`check_prefixes`), sorted by
    hash then worst level first. Raises :class:`NoHashTable` for a snapshot without one."""
    wanted = check_prefixes(prefixes)
    if reader.hashes is None:
        raise NoHashTable(reader.path, "this snapshot has no hashes table; rebuild it")
    txn = reader.txn()
    head = fmt.HASH_BUCKET_BYTES
    entry = fmt.HASH_ENTRY
    ordinals: dict[int, None] = {}
    for p in wanted:
        bucket = txn.get(p[:head], db=reader.hashes)
        if bucket is None:
            continue
        rest = p[head:]
        n = len(rest)
        for i in range(0, len(bucket), entry):
            if bucket[i : i + n] == rest:
                ordinals[fmt.U32.unpack_from(bucket, i + 2)[0]] = None
    out: dict[tuple[bytes, int], HashMatch] = {}
    for ordinal in ordinals:
        hit = reader.by_ordinal(ordinal)
        if hit is None:
            continue
        table, _key, buf = hit
        r = fmt.decode_record(buf, reader.strings)
        for h in record_hashes(r.kind, r.canonical, r.listing):
            if not any(h.startswith(p) for p in wanted):
                continue
            m = HashMatch(h, r.kind, r.level, r.categories, r.reasons, r.report_count, r.reporters)
            seen = out.get((h, table))
            # Records sharing a URL expression: the worst (then most reported) answers, as in
            # the ``urlexpr`` table.
            if seen is None or _rank(m) > _rank(seen):
                out[h, table] = m
    return sorted(out.values(), key=lambda m: (m.full_hash, -fmt.LEVEL_CODES[m.level]))


__all__ = ["MAX_PREFIXES", "HashMatch", "NoHashTable", "check_prefixes", "search"]
