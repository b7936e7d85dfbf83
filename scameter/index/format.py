"""The snapshot's on-disk vocabulary: format version, sub-database names, the index policy,
the manifest, and the packed record encoding.

Responsibility: everything both the builder and the reader must agree on byte for byte.
``docs/snapshot-format.md`` documents the same layout; change them together.

Invariants:
* Records are struct-packed (little-endian) with a per-snapshot string table for reason
  codes, categories and sources; never pickle. Every stored record ends with the CRC-32 of
  the bytes before it (format 2.0): a damaged or edited record is an error when it is read,
  never an answer. Each record carries its canonical value so a
  64-bit key collision is detected at lookup and answered as no match.
* Level and kind codes below are part of the format: never renumber one.
* The manifest checksum covers every manifest field except ``checksum``, ``snapshot_id`` and
  ``built_at``, and (through ``files``) the sha256 of every data file: ``data.mdb`` and the
  side file ``evidence.mdb`` (3.0), which holds what lookups never read.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any

from scameter.durable import FILE_MODE as DURABLE_FILE_MODE
from scameter.errors import SnapshotCorrupt
from scameter.identifiers import registry
from scameter.identifiers.model import Kind
from scameter.verdict import Level

#: ``major.minor``; a reader accepts any minor of a major it knows.
#: 1.1 added the ``near_filter`` bitmap (optional: a 1.0 snapshot is probed without it).
#: 2.0 adds a CRC-32 to every packed record; 1.x snapshots are refused (rebuild them).
#: 2.1 adds the case ids after the owner (flag :data:`F_CASES`); a 2.0 record has none.
#: 2.2 adds chunk hashes to the manifest's ``files`` entries (index/chunks.py); a 2.0 or 2.1
#: reader still checks a 2.2 snapshot by its whole-file sha256, a 2.2 reader older ones likewise.
#: 3.0 (issue 21, bytes per identifier): a 26-byte record header (u32 times, the cluster fields
#: only in clustered records), case ids and evidence moved to a second file that lookups never
#: map (:data:`SIDE_FILE`), ordinals stored in chunks. A 3.0 reader refuses 2.x snapshots
#: with a one-line error that says to rebuild them with ``scameter ingest``.
#: 4.0 (issue 21, sharded snapshots): the ``records`` table split by key range over
#: :data:`SHARD_FILE` files named in the manifest's ``shards`` (``data.mdb`` keeps every other
#: table, its own ``records`` empty). Only a sharded build writes 4.0: a single-file build still
#: writes 3.0, byte for byte as before, and a 3.x reader refuses a 4.0 snapshot instead of
#: answering NO RECORD for everything.
FORMAT_VERSION = "3.0"
SHARDED_FORMAT_VERSION = "4.0"
SUPPORTED_MAJORS = frozenset({3, 4})
#: What a reader says about a snapshot of a major it does not read (after the version).
REBUILD_HINT = {
    1: "rebuild it with `scameter ingest` (this scameter reads format 3.x)",
    2: "rebuild it with `scameter ingest` (this scameter reads format 3.x)",
}

DATA_FILE = "data.mdb"
#: The side file (3.0): what lookups never read, the live fold's ``evidence`` and the records'
#: ``cases``. A plain LMDB file (``subdir=False``) beside ``data.mdb``, mapped only on first
#: use (the live fold, ``related`` / ``clusters``, export of case ids).
SIDE_FILE = "evidence.mdb"
#: A shard of a sharded snapshot (4.0): ``shard-000/data.mdb``..., each an LMDB directory
#: holding one ``records`` sub-database over a contiguous key range.
SHARD_FILE = "shard-{:03d}/data.mdb"
#: Most shards a snapshot may have (one LMDB environment each, opened lazily).
MAX_SHARDS = 256
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "CURRENT"
TMP_PREFIX = ".tmp-"
#: Modes of a published snapshot: group-readable (a server of the same group), not world.
DIR_MODE = 0o750
FILE_MODE = DURABLE_FILE_MODE

# Named LMDB sub-databases (see docs/snapshot-format.md).
DB_RECORDS = b"records"
DB_ALLOW = b"allow"
DB_URLEXPR = b"urlexpr"
DB_NEAR = b"near"
DB_PHONE_RANGES = b"phone_ranges"
DB_ORDINALS = b"ordinals"
DB_BITMAPS = b"bitmaps"
DB_META = b"meta"
#: Optional (a reader opens a snapshot without it): the hash-prefix table of private lookups.
DB_HASHES = b"hashes"
#: Sub-databases every snapshot has.
ALL_DBS = (
    DB_RECORDS,
    DB_ALLOW,
    DB_URLEXPR,
    DB_NEAR,
    DB_PHONE_RANGES,
    DB_ORDINALS,
    DB_BITMAPS,
    DB_META,
)
#: Optional sub-databases: written when there is something to put in them; a reader opens a
#: snapshot without them (older builds, ``warninglists = "none"``).
#: ``popular``: the popular-site set (:mod:`scameter.index.popular`), list name -> blob.
DB_POPULAR = b"popular"
#: ``evidence``: identifier key (8 bytes) -> the ingest events that can still count for it, as
#: one JSON array of event arrays (the live fold of ``serve`` re-decides a touched identifier
#: from them; docs/architecture.md, "Live updates"). Absent: built with ``--no-evidence``.
DB_EVIDENCE = b"evidence"
#: ``domlinks`` (in :data:`SIDE_FILE`, written with ``evidence``): expression key of a
#: host-level link expression (``clusters.domain_link_key``) -> the identifiers of the window
#: on it (:mod:`scameter.index.domlinks`), for the live fold's domain links. Absent: built
#: before it, or with ``--no-evidence``.
DB_DOMLINKS = b"domlinks"
OPTIONAL_DBS = (DB_POPULAR, DB_EVIDENCE, DB_DOMLINKS)
#: ``cases`` (3.0, in :data:`SIDE_FILE`): identifier key + table byte -> a record's case ids
#: (u32 count, u8 n, n x (u16 len + UTF-8)) followed by their CRC-32.
DB_CASES = b"cases"
#: Sub-databases of :data:`SIDE_FILE`.
SIDE_DBS = (DB_EVIDENCE, DB_CASES, DB_DOMLINKS)
#: ``meta`` key of the intake cursors: intake log path (resolved) -> last sequence number read.
META_INTAKE_CURSORS = "intake_cursors"
#: ``popular`` key of the JSON object of the list digests the set was compiled from.
POPULAR_DIGESTS = b"_digests"
MAX_DBS = 16
#: Sub-databases a builder writes: the required ones and the optional ones.
BUILT_DBS = (*ALL_DBS, DB_HASHES)
#: ``hashes``: keys are the first HASH_BUCKET_BYTES of a full hash; each value is the
#: concatenation, in hash order, of HASH_ENTRY-byte entries: the next 2 hash bytes and the
#: record's u32 ordinal (little-endian; 3.0, before: table byte + 8-byte key).
HASH_BUCKET_BYTES = 2
HASH_ENTRY = 6

#: Table tag stored in the ordinal map: which sub-db holds the record.
TABLE_RECORDS = 0
TABLE_ALLOW = 1

#: Level codes (format): 0 is reserved for "none".
LEVEL_CODES: dict[Level, int] = {
    Level.NO_RECORD: 1,
    Level.POSSIBLE: 2,
    Level.SUSPICIOUS: 3,
    Level.HIGH_RISK: 4,
    Level.VERIFIED: 5,
}
LEVEL_BY_CODE: dict[int, Level] = {v: k for k, v in LEVEL_CODES.items()}
#: Levels a stored record can have (NO RECORD is never stored).
_STORED_LEVEL_CODES = frozenset(LEVEL_BY_CODE) - {LEVEL_CODES[Level.NO_RECORD]}
#: Kind tag byte -> kind: the tags each kind declares in its spec (scameter.identifiers.registry).
KIND_BY_TAG: Mapping[int, Kind] = registry.KIND_BY_TAG

# Record flags.
F_VALID = 0x01
F_FIRST = 0x02
F_LAST = 0x04
F_CLUSTER = 0x08
F_LISTING = 0x10
F_OWNER = 0x20
#: The record ends (before its CRC) with its case ids: u32 count, u8 n, n x (u16 len + UTF-8).
#: A stored 3.0 record never has them inline (the builder moves them to ``cases`` in the side
#: file and sets :data:`F_SIDE_CASES`); the live fold's in-memory records keep them inline.
F_CASES = 0x40
#: The record's case ids are in the side file's ``cases`` under its key and table (3.0).
F_SIDE_CASES = 0x80
#: Case ids a record holds at most (the u8 n above; ingest keeps 20).
MAX_RECORD_CASES = 255

#: Record header (3.0): kind tag, level, flags, n reasons, n categories, n sources, ordinal,
#: report count, reporters, first, last (u32 Unix seconds).
HEADER = struct.Struct("<BBBBBBIIIII")
OFF_ORDINAL = 6
#: Cluster block, right after the header in a record with :data:`F_CLUSTER` (and only there):
#: cluster worst level code, cluster size, cluster id.
CLUSTER = struct.Struct("<BIQ")
OFF_CLUSTER_WORST = HEADER.size
OFF_CLUSTER_SIZE = HEADER.size + 1
OFF_CLUSTER_ID = HEADER.size + 5
#: Where the string ids start: after the header, and after the cluster block if there is one.
BODY_PLAIN = HEADER.size
BODY_CLUSTERED = HEADER.size + CLUSTER.size
#: Largest time a record holds (u32 seconds: 2106-02-07).
MAX_TIME = 0xFFFFFFFF
U16 = struct.Struct("<H")
_U16_PACK = U16.pack
U32 = struct.Struct("<I")
#: ``bitmaps`` entry holding the near-key pre-filter: a roaring bitmap of :data:`NEAR_PREFIX`
#: of every distinct ``near`` key. Not an ordinal bitmap (its values are hash prefixes).
NEAR_FILTER = "near_filter"
#: The filter's 32-bit value of a near key: its first 4 bytes, big-endian (the xxh3 high half).
NEAR_PREFIX = struct.Struct(">I")
ORDINAL_KEY = struct.Struct(">I")  # big-endian so LMDB's byte order is numeric order
#: ``ordinals`` (3.0): key ORDINAL_KEY of ``ordinal // ORDINALS_PER_CHUNK``, value the chunk's
#: ORDINAL_ENTRY-byte entries (table byte + 8-byte key) in ordinal order. 453 entries fill
#: one 4 KiB overflow page (453 x 9 + 16 bytes of page header = 4093).
ORDINALS_PER_CHUNK = 453
ORDINAL_ENTRY = 9
#: Longest string of a record (canonical value, listing, owner): its u16 length prefix.
MAX_STRING_BYTES = 0xFFFF
#: Every stored record ends with ``zlib.crc32`` of the bytes before it, little-endian. CRC-32
#: has a fixed residue: the CRC of (data + its CRC, little-endian) is this constant whatever
#: the data, so a reader checks a record with one ``crc32`` call over the whole value.
CRC_SIZE = 4
CRC_RESIDUE = 0x2144DF1C
_crc32 = zlib.crc32


def seal(body: bytes | bytearray) -> bytes:
    """A record as stored: ``body`` followed by its CRC-32 (little-endian)."""
    return bytes(body) + _crc32(body).to_bytes(CRC_SIZE, "little")


def record_intact(buf: bytes) -> bool:
    """Whether a stored record's CRC-32 matches its bytes."""
    return _crc32(buf) == CRC_RESIDUE


def corrupt_record(
    where: object, buf: bytes, why: str = "failed its CRC-32 check"
) -> SnapshotCorrupt:
    """The error for a damaged or edited record (never answered): names the file and the
    record's ordinal, says what to do."""
    ordinal = U32.unpack_from(buf, OFF_ORDINAL)[0] if len(buf) >= HEADER.size else -1
    return SnapshotCorrupt(
        str(where),
        f"record with ordinal {ordinal} {why}: the snapshot is damaged or was tampered "
        "with; run `scameter snapshot verify`, then rebuild it or publish another one",
    )


@dataclass(frozen=True, slots=True)
class IndexPolicy:
    """Thresholds of the lookup signals; stored in the manifest of every snapshot.

    * ``near_max_distance``: largest edit distance for a near match (domains, handles).
    * ``near_min_length``: labels / handles shorter than this are never near-matched.
    * ``near_distance2_min_length`` / ``near_distance2_max_length``: distance 2 only for
      listed labels of a length in this range; others near-match at distance 1 (short names
      would match too much; long ones would make the deletion index grow quadratically).
    * ``brand_words``: words scammers glue to a brand (``hsbc-secure-login``).
    * ``brand_min_length``: brand labels shorter than this are not used for impersonation.
    * ``near_exempt_domains``: registrable domains never near-matched (popular platforms).
    * ``phone_range_min_listed`` / ``phone_range_digits``: a number whose prefix (minus the
      last 1 or 2 digits) is shared by at least that many listed numbers is POSSIBLE.
    * ``overseas_min_level``: level given to a ``+852`` number on an overseas incoming call
      when nothing worse is known.
    * ``related_limit``: default bound of :meth:`Snapshot.related`.
    * ``near_max_candidates``: cap on listed values kept per deletion variant.
    """

    near_max_distance: int = 2
    near_min_length: int = 5
    near_distance2_min_length: int = 8
    near_distance2_max_length: int = 12
    brand_words: tuple[str, ...] = (
        "login",
        "secure",
        "security",
        "verify",
        "verification",
        "account",
        "update",
        "support",
        "official",
        "hk",
        "online",
        "service",
        "services",
        "bank",
        "banking",
        "app",
        "auth",
        "help",
        "pay",
        "web",
    )
    brand_min_length: int = 4
    near_exempt_domains: tuple[str, ...] = ()
    phone_range_min_listed: int = 3
    phone_range_digits: tuple[int, ...] = (1, 2)
    overseas_min_level: Level = Level.POSSIBLE
    related_limit: int = 100
    near_max_candidates: int = 32

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["overseas_min_level"] = self.overseas_min_level.value
        for k, v in out.items():
            if isinstance(v, tuple):
                out[k] = list(v)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexPolicy:
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for k, v in data.items():
            if k not in known:
                continue  # a newer minor version may add settings; ignore them
            value = tuple(v) if isinstance(v, list) else v
            kwargs[k] = Level(str(value)) if k == "overseas_min_level" else value
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class Manifest:
    """``manifest.json``: what a snapshot is, what built it, and how to verify it."""

    format_version: str
    snapshot_id: str
    parent_id: str | None
    as_of: str
    built_at: str
    counts: dict[str, dict[str, int]]
    total: int
    policy: dict[str, Any]
    ingest_policy: dict[str, Any]
    inputs: dict[str, str]
    checksum: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Sharded snapshots (4.0) only, in key order: ``{"file", "lo", "hi", "records"}`` per
    #: shard (``lo`` / ``hi``: hex of its first key and of the next shard's first key, ``hi``
    #: ``None`` for the last). Left out of the JSON of a single-file snapshot.
    shards: list[dict[str, Any]] = field(default_factory=list)

    @property
    def index_policy(self) -> IndexPolicy:
        return IndexPolicy.from_dict(self.policy)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.shards:
            del out["shards"]  # a single-file manifest stays the 3.0 one, checksum and all
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in data and n not in ("files", "shards")]
        if missing:
            raise ValueError(f"manifest lacks {', '.join(missing)}")
        return cls(**{n: data[n] for n in names if n in data})

    def expected_checksum(self) -> str:
        return content_checksum(self.to_dict())


def content_checksum(manifest: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of the manifest minus id, build time and checksum."""
    body = {k: v for k, v in manifest.items() if k not in ("checksum", "snapshot_id", "built_at")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shard_bounds(n: int) -> list[bytes]:
    """The first keys of shards 1 to ``n - 1`` of an ``n``-shard snapshot: the 64-bit key space
    cut into ``n`` equal ranges. Keys are ``xxh3_64`` digests, uniform over the space, so the
    shards hold nearly equal counts (within a fraction of a percent at 10^6 records) without
    a pass to find quantiles, and a shard's range is known before its first record."""
    return [((i << 64) // n).to_bytes(8, "big") for i in range(1, n)]


def major_of(version: str) -> int:
    try:
        return int(version.split(".", 1)[0])
    except ValueError:
        return -1


class StringTable:
    """Interning of reason codes, categories and sources to u16 ids (build side)."""

    __slots__ = ("_ids", "strings")

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._ids: dict[str, int] = {}

    def id(self, s: str) -> int:
        i = self._ids.get(s)
        if i is None:
            i = len(self.strings)
            if i > 0xFFFF:
                raise ValueError("more than 65536 distinct categories/sources/reasons")
            self._ids[s] = i
            self.strings.append(s)
        return i


@lru_cache(maxsize=64)
def _u16_array(n: int) -> struct.Struct:
    """``n`` little-endian u16s (compiled once per length: encode runs once per record)."""
    return struct.Struct(f"<{n}H")


def label_block(
    reason_ids: Sequence[int], category_ids: Sequence[int], source_ids: Sequence[int]
) -> tuple[int, int, int, bytes]:
    """The string-id part of a record: the three counts and the packed u16 ids (a builder
    computes it once per distinct combination)."""
    nr, nc, ns = len(reason_ids), len(category_ids), len(source_ids)
    if max(nr, nc, ns) > 255:
        raise ValueError("a record carries at most 255 reasons, categories and sources each")
    n = nr + nc + ns
    return nr, nc, ns, _u16_array(n).pack(*reason_ids, *category_ids, *source_ids) if n else b""


def body_start(flags: int) -> int:
    """Offset of a record's string ids: after the header and its cluster block, if any."""
    return BODY_CLUSTERED if flags & F_CLUSTER else BODY_PLAIN


def _time(t: int | None) -> int:
    if t is None:
        return 0
    if not 0 <= t <= MAX_TIME:
        raise ValueError(f"report time {t} is outside 1970-01-01..2106-02-07")
    return t


def pack_record(  # noqa: PLR0917 - the hot path of a build: positional on purpose
    kind_tag: int,
    level_code: int,
    canonical: bytes,
    valid: bool,
    labels: tuple[int, int, int, bytes],
    report_count: int,
    reporters: int,
    first: int | None,
    last: int | None,
    cluster: int | None,
    listing: str | None,
    owner: str | None,
    case_ids: Sequence[str] = (),
    case_count: int = 0,
) -> bytes:
    """Pack one record; the writer patches in its ordinal and its cluster's size and worst
    level. ``canonical`` is already UTF-8; ``labels`` is :func:`label_block` of its ids;
    ``case_ids`` (latest first) and ``case_count`` are stored when either is set (inline: the
    builder moves them to the side file, :func:`split_cases`)."""
    flags = F_VALID if valid else 0
    # One branch per optional part and no per-record helper calls: this runs once per record
    # of a build (10^7 times at that scale); the bytes are those of the general layout above.
    if first is None:
        t_first = 0
    else:
        flags |= F_FIRST
        t_first = first if 0 <= first <= MAX_TIME else _time(first)
    if last is None:
        t_last = 0
    else:
        flags |= F_LAST
        t_last = last if 0 <= last <= MAX_TIME else _time(last)
    nr, nc, ns, ids = labels
    size = len(canonical)
    if size > 0xFFFF:
        raise ValueError("identifier, listing or owner longer than 65535 bytes")
    if cluster is not None:
        flags |= F_CLUSTER
    tail = b""
    if listing is not None or owner is not None or case_ids or case_count:
        parts: list[bytes] = []
        for s, flag in ((listing, F_LISTING), (owner, F_OWNER)):
            if s is not None:
                b = s.encode("utf-8")
                if len(b) > 0xFFFF:
                    raise ValueError("identifier, listing or owner longer than 65535 bytes")
                parts += (_U16_PACK(len(b)), b)
                flags |= flag
        if case_ids or case_count:
            parts.append(_pack_cases(case_ids, case_count))
            flags |= F_CASES
        tail = b"".join(parts)
    header = HEADER.pack(
        kind_tag,
        level_code,
        flags,
        nr,
        nc,
        ns,
        0,
        report_count if report_count <= 0xFFFFFFFF else 0xFFFFFFFF,
        reporters if reporters <= 0xFFFFFFFF else 0xFFFFFFFF,
        t_first,
        t_last,
    )
    if cluster is not None:
        header += CLUSTER.pack(0, 0, cluster)
    return header + ids + _U16_PACK(size) + canonical + tail


def _pack_cases(case_ids: Sequence[str], case_count: int) -> bytes:
    if len(case_ids) > MAX_RECORD_CASES:
        raise ValueError(f"a record holds at most {MAX_RECORD_CASES} case ids")
    out = [U32.pack(min(max(case_count, len(case_ids)), 0xFFFFFFFF)), bytes((len(case_ids),))]
    for cid in case_ids:
        b = cid.encode("utf-8")
        if len(b) > MAX_STRING_BYTES:
            raise ValueError("case id longer than 65535 bytes")
        out += (_U16_PACK(len(b)), b)
    return b"".join(out)


#: The reference of the compiled ``pack_record`` (``scameter/index/_recordsfast.c``), which
#: answers the nominal positional call and hands every other call to this function.
pack_record_python = pack_record


def compiled_loops() -> Any:
    """The module ``scameter.index._recordsfast`` when it was built from this layout of the
    format (its ``LAYOUT``), else None: a build then runs the Python loops, never a guess."""
    try:
        from scameter.index import _recordsfast
    except ImportError:  # built without a C compiler (docs/architecture.md)
        return None
    want = {
        "HEADER_SIZE": HEADER.size,
        "CLUSTER_SIZE": CLUSTER.size,
        "OFF_ORDINAL": OFF_ORDINAL,
        "OFF_CLUSTER_WORST": OFF_CLUSTER_WORST,
        "OFF_CLUSTER_SIZE": OFF_CLUSTER_SIZE,
        "OFF_CLUSTER_ID": OFF_CLUSTER_ID,
        "CRC_SIZE": CRC_SIZE,
        "F_CLUSTER": F_CLUSTER,
        "F_LISTING": F_LISTING,
        "F_OWNER": F_OWNER,
        "F_CASES": F_CASES,
        "F_SIDE_CASES": F_SIDE_CASES,
        "ORDINAL_ENTRY": ORDINAL_ENTRY,
        "F_VALID": F_VALID,
        "F_FIRST": F_FIRST,
        "F_LAST": F_LAST,
        "MAX_RECORD_CASES": MAX_RECORD_CASES,
        "MAX_STRING_BYTES": MAX_STRING_BYTES,
    }
    return _recordsfast if getattr(_recordsfast, "LAYOUT", None) == want else None


_loops = compiled_loops()
if _loops is not None:
    _loops.set_pack_fallback(pack_record_python)
    pack_record = _loops.pack_record  # the compiled form of the function above


def _cases_offset(buf: bytes | bytearray) -> int:
    """Offset of the inline case block of a record (just after its last string)."""
    flags = buf[2]
    pos = body_start(flags) + 2 * (buf[3] + buf[4] + buf[5])
    for _ in range(1 + bool(flags & F_LISTING) + bool(flags & F_OWNER)):
        pos += 2 + (buf[pos] | buf[pos + 1] << 8)
    return pos


def split_cases(body: bytes) -> tuple[bytes, bytes | None]:
    """An unsealed record with inline case ids -> the record without them (flag
    :data:`F_SIDE_CASES` instead of :data:`F_CASES`) and the case block; a record without
    case ids is returned as it is, with ``None``."""
    if not body[2] & F_CASES:
        return body, None
    pos = _cases_offset(body)
    head = bytearray(body[:pos])
    head[2] = (head[2] & ~F_CASES) | F_SIDE_CASES
    return bytes(head), body[pos:]


def decode_cases(block: bytes | memoryview, pos: int = 0) -> tuple[tuple[str, ...], int]:
    """``(case ids, case count)`` of a case block (u32 count, u8 n, n x (u16 len + UTF-8))."""
    (count,) = U32.unpack_from(block, pos)
    n = block[pos + 4]
    pos += 5
    ids = []
    for _ in range(n):
        ln = block[pos] | block[pos + 1] << 8
        ids.append(bytes(block[pos + 2 : pos + 2 + ln]).decode("utf-8"))
        pos += 2 + ln
    return tuple(ids), count


def record_cases(buf: bytes) -> tuple[tuple[str, ...], int]:
    """``(case ids, case count)`` held inline by a record (the live fold's records; ``((), 0)``
    for a stored 3.0 record, whose case ids are in the side file: ``SnapshotReader.cases``).
    Not CRC-checked here: callers answer from records they already checked."""
    if not buf[2] & F_CASES:
        return (), 0
    return decode_cases(buf, _cases_offset(buf))


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A decoded record as the reader sees it (string ids already resolved)."""

    kind: Kind
    canonical: str
    valid: bool
    level: Level
    reasons: tuple[str, ...]
    categories: tuple[str, ...]
    sources: tuple[str, ...]
    ordinal: int
    report_count: int
    reporters: int
    first: int | None
    last: int | None
    cluster: int | None
    cluster_size: int
    cluster_worst: Level | None
    listing: str | None
    owner: str | None
    case_ids: tuple[str, ...] = ()
    case_count: int = 0


def decode_record(buf: bytes, strings: Sequence[str], table: int | None = None) -> RawRecord:
    """Unpack one stored record (inverse of :func:`pack_record` + :func:`seal`); a record
    that fails its CRC or holds an unknown kind or level code (or, given its ``table``, a
    level impossible there) raises SnapshotCorrupt."""
    if _crc32(buf) != CRC_RESIDUE:
        raise corrupt_record(DATA_FILE, buf)
    if buf[0] not in KIND_BY_TAG or buf[1] not in _STORED_LEVEL_CODES:
        raise corrupt_record(DATA_FILE, buf, "holds an unknown kind or level code")
    if table is not None and (buf[1] == LEVEL_CODES[Level.VERIFIED]) != (table == TABLE_ALLOW):
        raise corrupt_record(DATA_FILE, buf, "has a level that is impossible in its table")
    (tag, level, flags, nr, nc, ns, ordinal, count, reporters, first, last) = HEADER.unpack_from(
        buf, 0
    )
    cworst, csize, cluster = (
        CLUSTER.unpack_from(buf, HEADER.size) if flags & F_CLUSTER else (0, 0, 0)
    )
    pos = body_start(flags)
    n = nr + nc + ns
    ids: tuple[int, ...] = struct.unpack_from(f"<{n}H", buf, pos) if n else ()
    pos += 2 * n
    (ln,) = U16.unpack_from(buf, pos)
    canonical = buf[pos + 2 : pos + 2 + ln].decode("utf-8")
    pos += 2 + ln
    listing = owner = None
    if flags & F_LISTING:
        (ln,) = U16.unpack_from(buf, pos)
        listing = buf[pos + 2 : pos + 2 + ln].decode("utf-8")
        pos += 2 + ln
    if flags & F_OWNER:
        (ln,) = U16.unpack_from(buf, pos)
        owner = buf[pos + 2 : pos + 2 + ln].decode("utf-8")
    case_ids, case_count = record_cases(buf)
    return RawRecord(
        kind=KIND_BY_TAG[tag],
        canonical=canonical,
        valid=bool(flags & F_VALID),
        level=LEVEL_BY_CODE[level],
        reasons=tuple(strings[i] for i in ids[:nr]),
        categories=tuple(strings[i] for i in ids[nr : nr + nc]),
        sources=tuple(strings[i] for i in ids[nr + nc :]),
        ordinal=ordinal,
        report_count=count,
        reporters=reporters,
        first=first if flags & F_FIRST else None,
        last=last if flags & F_LAST else None,
        cluster=cluster if flags & F_CLUSTER else None,
        cluster_size=csize,
        cluster_worst=LEVEL_BY_CODE.get(cworst),
        listing=listing,
        owner=owner,
        case_ids=case_ids,
        case_count=case_count,
    )


def record_canonical(buf: bytes) -> str:
    """Only the canonical value of a packed record (the collision check, no full decode)."""
    pos = (BODY_CLUSTERED if buf[2] & F_CLUSTER else BODY_PLAIN) + 2 * (buf[3] + buf[4] + buf[5])
    (ln,) = U16.unpack_from(buf, pos)
    return buf[pos + 2 : pos + 2 + ln].decode("utf-8")


def record_level(buf: bytes) -> Level:
    """The level of a stored record, CRC-checked (a tampered level is never used)."""
    level = LEVEL_BY_CODE.get(buf[1])
    if _crc32(buf) != CRC_RESIDUE or level is None:
        raise corrupt_record(DATA_FILE, buf)
    return level
