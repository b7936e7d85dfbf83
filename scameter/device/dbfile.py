"""The device database file: full databases and deltas, encoded, decoded and applied.

Layout (docs/privacy.md, "Device database"; all integers little-endian)::

    8   magic b"SCMDEVDB"
    1   file format version (1)
    1   type: 0 full database, 1 delta
    2+n version: the snapshot id the lists are from (u16 length + UTF-8)
    2+n base: the snapshot id a delta applies to (empty in a full database)
    1   number of lists
    per list:
      1   level code (2 possible, 3 suspicious, 4 high risk, 5 verified: the snapshot's codes)
      4   entries in the resulting list
      32  sha256 of the resulting list, each value as 4 big-endian bytes, in order
      full:  Rice block of the sorted 32-bit prefixes
      delta: u32 removal count, u32 addition count, Rice block of the removals (indices
             into the base's sorted list), then Rice block of the additions (32-bit prefixes)
    32  sha256 of every byte before it

Invariants: decoding checks the trailing sha256 first (a truncated or tampered file is refused
before anything is parsed), then each list's sha256 after decoding or applying: a mismatch is a
:class:`~scameter.errors.DeviceFileError`, never a silently wrong list. A delta names its
base; applying it to another version is refused.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from scameter.device.rice import U32, RiceBlock
from scameter.device.rice import decode as rice_decode
from scameter.device.rice import encode as rice_encode
from scameter.errors import DeviceFileError
from scameter.verdict import Level

MAGIC = b"SCMDEVDB"
FILE_VERSION = 1
FULL, DELTA = 0, 1
#: The lists a device database holds, in file order, with their (snapshot format) level codes.
LEVEL_CODES: Mapping[Level, int] = {
    Level.POSSIBLE: 2,
    Level.SUSPICIOUS: 3,
    Level.HIGH_RISK: 4,
    Level.VERIFIED: 5,
}
LEVEL_BY_CODE = {v: k for k, v in LEVEL_CODES.items()}
_LIST_HEAD = struct.Struct("<BI32s")
_COUNTS = struct.Struct("<II")


def list_digest(values: U32) -> bytes:
    """sha256 of a decoded list: each value as 4 big-endian bytes, in order."""
    return hashlib.sha256(values.astype(">u4").tobytes()).digest()


@dataclass(frozen=True, slots=True)
class DeviceList:
    """One level's list: the decoded sorted prefixes (full) or the delta's parts."""

    entries: int
    sha256: bytes
    values: U32 = field(default_factory=lambda: np.empty(0, np.uint32))
    removals: U32 = field(default_factory=lambda: np.empty(0, np.uint32))
    additions: U32 = field(default_factory=lambda: np.empty(0, np.uint32))


@dataclass(frozen=True, slots=True)
class DeviceFile:
    """A decoded device database (``full``) or delta."""

    full: bool
    version: str
    base: str
    lists: dict[Level, DeviceList]

    @property
    def entries(self) -> int:
        return sum(lst.entries for lst in self.lists.values())

    def digest(self) -> str:
        """sha256 (hex) over the decoded lists in file order: each list's own sha256."""
        h = hashlib.sha256()
        for level in LEVEL_CODES:
            lst = self.lists.get(level)
            if lst is not None:
                h.update(bytes((LEVEL_CODES[level],)) + lst.sha256)
        return h.hexdigest()


def _text(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<H", len(b)) + b


def _frame(kind: int, version: str, base: str, body: list[bytes]) -> bytes:
    out = MAGIC + bytes((FILE_VERSION, kind)) + _text(version) + _text(base) + b"".join(body)
    return out + hashlib.sha256(out).digest()


def encode_full(version: str, lists: Mapping[Level, U32]) -> bytes:
    """A full database of ``lists`` (level -> sorted distinct uint32 prefixes)."""
    body = [bytes((len(LEVEL_CODES),))]
    for level, code in LEVEL_CODES.items():
        values = np.asarray(lists.get(level, np.empty(0, np.uint32)), dtype=np.uint32)
        body.append(_LIST_HEAD.pack(code, values.size, list_digest(values)))
        body.append(rice_encode(values).to_bytes())
    return _frame(FULL, version, "", body)


def encode_delta(old: DeviceFile, new: DeviceFile) -> bytes:
    """The delta that turns the full database ``old`` into the full database ``new``."""
    if not (old.full and new.full):
        raise ValueError("a delta is computed between two full databases")
    body = [bytes((len(LEVEL_CODES),))]
    empty = DeviceList(0, list_digest(np.empty(0, np.uint32)))
    for level, code in LEVEL_CODES.items():
        a = old.lists.get(level, empty).values
        b = new.lists.get(level, empty).values
        removals = np.flatnonzero(~np.isin(a, b, assume_unique=True)).astype(np.uint32)
        additions = np.setdiff1d(b, a, assume_unique=True).astype(np.uint32)
        body.append(_LIST_HEAD.pack(code, b.size, list_digest(b)))
        body.append(_COUNTS.pack(removals.size, additions.size))
        body.append(rice_encode(removals, span=max(int(a.size), 1)).to_bytes())
        body.append(rice_encode(additions).to_bytes())
    return _frame(DELTA, new.version, old.version, body)


def _read_text(buf: bytes, pos: int) -> tuple[str, int]:
    if pos + 2 > len(buf):
        raise ValueError("truncated header")
    (n,) = struct.unpack_from("<H", buf, pos)
    if pos + 2 + n > len(buf):
        raise ValueError("truncated header")
    return buf[pos + 2 : pos + 2 + n].decode("utf-8"), pos + 2 + n


def _read_list(buf: bytes, pos: int, full: bool) -> tuple[Level, DeviceList, int]:
    if pos + _LIST_HEAD.size > len(buf):
        raise ValueError("truncated list header")
    code, entries, digest = _LIST_HEAD.unpack_from(buf, pos)
    pos += _LIST_HEAD.size
    level = LEVEL_BY_CODE.get(code)
    if level is None:
        raise ValueError(f"unknown list code {code}")
    if full:
        block, pos = RiceBlock.from_bytes(buf, pos)
        values = rice_decode(block, present=entries > 0)
        if values.size != entries or list_digest(values) != digest:
            raise ValueError(f"the {level.value} list does not match its sha256")
        return level, DeviceList(entries, digest, values=values), pos
    if pos + _COUNTS.size > len(buf):
        raise ValueError("truncated delta counts")
    nrem, nadd = _COUNTS.unpack_from(buf, pos)
    rblock, pos = RiceBlock.from_bytes(buf, pos + _COUNTS.size)
    ablock, pos = RiceBlock.from_bytes(buf, pos)
    removals = rice_decode(rblock, present=nrem > 0)
    additions = rice_decode(ablock, present=nadd > 0)
    if removals.size != nrem or additions.size != nadd:
        raise ValueError(f"the {level.value} delta does not hold the counts it states")
    return level, DeviceList(entries, digest, removals=removals, additions=additions), pos


def decode(buf: bytes) -> DeviceFile:
    """Parse and check a device database or delta (:class:`DeviceFileError` on any fault)."""
    try:
        return _decode(bytes(buf))
    except DeviceFileError:
        raise
    except (ValueError, struct.error, UnicodeDecodeError) as e:
        raise DeviceFileError(f"not a valid device database or delta: {e}") from e


def _decode(buf: bytes) -> DeviceFile:
    if len(buf) < len(MAGIC) + 2 + 32 or not buf.startswith(MAGIC):
        raise DeviceFileError("not a scameter device database (bad magic or too short)")
    body, check = buf[:-32], buf[-32:]
    if hashlib.sha256(body).digest() != check:
        raise DeviceFileError("checksum mismatch: the file is truncated or was modified")
    if body[8] != FILE_VERSION:
        raise DeviceFileError(f"device file version {body[8]} is not supported (1 is)")
    kind = body[9]
    if kind not in (FULL, DELTA):
        raise DeviceFileError(f"unknown device file type {kind}")
    version, pos = _read_text(body, 10)
    base, pos = _read_text(body, pos)
    n = body[pos]
    pos += 1
    lists: dict[Level, DeviceList] = {}
    for _ in range(n):
        level, lst, pos = _read_list(body, pos, kind == FULL)
        lists[level] = lst
    if pos != len(body):
        raise ValueError("trailing bytes after the last list")
    return DeviceFile(kind == FULL, version, base, lists)


def apply_delta(base: DeviceFile, delta: DeviceFile) -> DeviceFile:
    """``base`` (full) updated by ``delta``; every resulting list is checked by its sha256."""
    if not base.full or delta.full:
        raise DeviceFileError("apply a delta to a full database")
    if delta.base != base.version:
        raise DeviceFileError(
            f"this delta applies to version {delta.base!r}, not {base.version!r}; "
            "fetch a full database or the matching delta"
        )
    lists: dict[Level, DeviceList] = {}
    empty = np.empty(0, np.uint32)
    for level, d in delta.lists.items():
        old = base.lists[level].values if level in base.lists else empty
        if d.removals.size and int(d.removals.max()) >= old.size:
            raise DeviceFileError(f"the {level.value} removals index past the base list")
        kept = np.delete(old, d.removals)
        # Both sorted: insert the additions at their places (a merge; np.union1d hashes and
        # took 15 times as long). A duplicate or misplaced value fails the sha256 below.
        values = np.insert(kept, np.searchsorted(kept, d.additions), d.additions)
        if values.size != d.entries or list_digest(values) != d.sha256:
            raise DeviceFileError(
                f"the {level.value} list after the delta does not match its sha256: "
                "the base or the delta is not the one it claims to be"
            )
        lists[level] = DeviceList(d.entries, d.sha256, values=values)
    return DeviceFile(True, delta.version, "", lists)


def encode_file(db: DeviceFile) -> bytes:
    """Re-encode a decoded full database."""
    if not db.full:
        raise ValueError("only a full database is re-encoded")
    return encode_full(db.version, {lv: lst.values for lv, lst in db.lists.items()})


__all__ = [
    "LEVEL_CODES",
    "DeviceFile",
    "DeviceList",
    "apply_delta",
    "decode",
    "encode_delta",
    "encode_file",
    "encode_full",
    "list_digest",
]
