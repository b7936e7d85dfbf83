"""Hash-prefix search over a snapshot's ``hashes`` table (the server side of private lookups).

Responsibility: given hash prefixes (the lengths of :data:`~scameter.index.hashes.PREFIX_LENGTHS`),
return every full hash of a stored record under them with the record's verdict payload:
level, kind, categories, reason codes, report and reporter counts; never sources, owners,
clusters or anything else that says who reported.

Live updates (docs/architecture.md, "Live updates"): :class:`LiveHashes` is the same table
for the records of a live delta (:class:`~scameter.index.delta.Overlay`); :func:`search` given
one answers from base + delta as a full build of the same inputs would: a base record whose
identifier the delta holds is left out (the delta's record, or its removal, stands for it),
and the delta's records are found under their own full hashes.

Invariants: the table only narrows the search (2-byte bucket, then the next bytes); every
answer is re-derived from the record itself (:func:`~scameter.index.hashes.record_hashes`),
so a 64-bit key collision or a stale entry can never answer with another record's data.
Records sharing a full hash (URL expressions) answer with the worst, then the most reported,
then the smallest identifier key: the same record whatever the order of the prefixes or the
origin (base or delta) of the candidates. Nothing here logs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256

from scameter.errors import SnapshotError
from scameter.identifiers.model import KIND_TAGS, Kind
from scameter.index import format as fmt
from scameter.index.hashes import PREFIX_LENGTHS, record_hashes
from scameter.index.reader import SnapshotReader
from scameter.verdict import Level

#: Most prefixes one search takes (a URL has at most 30 expressions).
MAX_PREFIXES = 64
_VERIFIED_CODE = fmt.LEVEL_CODES[Level.VERIFIED]
_EXPR_TAGS = frozenset(KIND_TAGS[k][0] for k in (Kind.URL, Kind.DOMAIN))


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


#: A candidate record: (table, identifier key, packed record, its string table).
Hit = tuple[int, bytes, bytes, Sequence[str]]


def _table_of(buf: bytes) -> int:
    """The table a full build writes a record to (the allowlist holds the VERIFIED ones)."""
    return fmt.TABLE_ALLOW if buf[1] == _VERIFIED_CODE else fmt.TABLE_RECORDS


def _hashes_of(buf: bytes, strings: Sequence[str]) -> list[bytes]:
    """The full hashes a packed record is found under (:func:`record_hashes`), decoding only
    what they need: a URL or domain its listing, any other kind its canonical value (hashed
    as :func:`~scameter.index.hashes.identifier_hash` does: a record's first byte is its
    kind's tag)."""
    if buf[0] in _EXPR_TAGS:
        r = fmt.decode_record(buf, strings)
        return record_hashes(r.kind, r.canonical, r.listing)
    return [sha256(buf[:1] + fmt.record_canonical(buf).encode("utf-8")).digest()]


#: A :class:`LiveHashes` bucket entry: the full hash (32 bytes), then the identifier key (8).
_ENTRY = 40


class LiveHashes:
    """The ``hashes`` table of a live delta's records, in memory, updated in place.

    :meth:`take` runs on the worker's follower thread and :meth:`layer` on handler threads;
    one lock makes each change whole to a search (a record replaced is seen before or after,
    never both or neither). Cost of a take: one SHA-256 a record (a URL or domain: one
    decode, and one hash a listing expression), no decode of anything else. Everything is
    kept as ``bytes`` in dicts, no tuples: nothing the garbage collector has to walk (tuples
    made the follower's per-record cost five times what it is without the hashes).
    """

    __slots__ = ("_buckets", "_lock", "_of", "_records", "_strings")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: 2-byte hash head (the ``hashes`` table's bucket, HASH_BUCKET_BYTES) -> the
        #: :data:`_ENTRY`-byte entries of the delta's records hashed under it, concatenated.
        self._buckets: dict[bytes, bytes] = {}
        #: Every identifier key the delta holds -> its full hashes, concatenated (``b""``: a
        #: removal), and -> its packed record (``b""``: a removal).
        self._of: dict[bytes, bytes] = {}
        self._records: dict[bytes, bytes] = {}
        self._strings: Sequence[str] = ()

    def take(self, records: Mapping[bytes, bytes], strings: Sequence[str]) -> None:
        """Take in delta records: identifier key -> packed record, or ``b""`` (the record
        fell out); ``strings``: the delta's string table (append-only) as of them."""
        new = [(key, buf, _hashes_of(buf, strings) if buf else ()) for key, buf in records.items()]
        with self._lock:
            self._strings = strings
            buckets, of = self._buckets, self._of
            for key, buf, hashes in new:
                old = of.get(key, b"")
                for i in range(0, len(old), 32):
                    head = old[i : i + 2]
                    blob = buckets[head]
                    kept = b"".join(
                        blob[j : j + _ENTRY]
                        for j in range(0, len(blob), _ENTRY)
                        if blob[j + 32 : j + _ENTRY] != key
                    )
                    if kept:
                        buckets[head] = kept
                    else:
                        del buckets[head]
                for h in hashes:
                    buckets[h[:2]] = buckets.get(h[:2], b"") + h + key
                of[key] = b"".join(hashes)
                self._records[key] = buf

    def layer(self, hits: list[Hit], wanted: list[bytes]) -> list[Hit]:
        """``hits`` (the base's candidates under ``wanted``) less those of identifiers the
        delta holds, plus the delta's records under ``wanted``: one dict probe a prefix."""
        with self._lock:
            of, buckets, records, strings = self._of, self._buckets, self._records, self._strings
            out = [hit for hit in hits if hit[1] not in of]
            for p in wanted:
                blob = buckets.get(p[:2])
                if blob is None:
                    continue
                n = len(p)
                for i in range(0, len(blob), _ENTRY):
                    if blob[i : i + n] == p:
                        buf = records[blob[i + 32 : i + _ENTRY]]
                        out.append((_table_of(buf), blob[i + 32 : i + _ENTRY], buf, strings))
        return out

    def __len__(self) -> int:
        return len(self._of)


def _base_hits(reader: SnapshotReader, wanted: list[bytes]) -> list[Hit]:
    """The base records hashed under ``wanted`` (the table narrows; the caller checks)."""
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
    strings = reader.strings
    out: list[Hit] = []
    for ordinal in ordinals:
        hit = reader.by_ordinal(ordinal)
        if hit is not None:
            out.append((hit[0], bytes(hit[1]), hit[2], strings))
    return out


def _better(m: HashMatch, key: bytes, seen: tuple[HashMatch, bytes]) -> bool:
    """Whether ``m`` (of identifier ``key``) answers for its hash rather than ``seen``: the
    worse level, then the more reports, then the smaller key (an order-free tie-break)."""
    a, b = seen
    rank, other = (
        (fmt.LEVEL_CODES[m.level], m.report_count),
        (fmt.LEVEL_CODES[a.level], a.report_count),
    )
    return rank > other or (rank == other and key < b)


def search(
    reader: SnapshotReader, prefixes: Iterable[bytes], live: LiveHashes | None = None
) -> list[HashMatch]:
    """Every full hash under ``prefixes`` (checked with :func:`check_prefixes`), sorted by
    hash then worst level first; with ``live``, from the base and that delta together.
    Raises :class:`NoHashTable` for a snapshot without one."""
    wanted = check_prefixes(prefixes)
    if reader.hashes is None:
        raise NoHashTable(reader.path, "this snapshot has no hashes table; rebuild it")
    hits = _base_hits(reader, wanted)
    if live is not None:
        hits = live.layer(hits, wanted)
    out: dict[tuple[bytes, int], tuple[HashMatch, bytes]] = {}
    for table, key, buf, strings in hits:
        r = fmt.decode_record(buf, strings)
        for h in record_hashes(r.kind, r.canonical, r.listing):
            if not any(h.startswith(p) for p in wanted):
                continue
            m = HashMatch(h, r.kind, r.level, r.categories, r.reasons, r.report_count, r.reporters)
            seen = out.get((h, table))
            # Records sharing a URL expression: the worst (then most reported) answers, as in
            # the ``urlexpr`` table.
            if seen is None or _better(m, key, seen):
                out[h, table] = (m, key)
    return sorted(
        (m for m, _ in out.values()), key=lambda m: (m.full_hash, -fmt.LEVEL_CODES[m.level])
    )


__all__ = ["MAX_PREFIXES", "HashMatch", "LiveHashes", "NoHashTable", "check_prefixes", "search"]
