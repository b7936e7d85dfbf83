"""A device database from a snapshot: per level, the sorted 32-bit prefixes of its hashes.

Responsibility: walk a snapshot's records (listed and allowlisted), take the first 4 bytes of
each full hash (:func:`~scameter.index.hashes.record_hashes`, the one definition) as a
big-endian u32, and group them by level. An identifier listed and allowlisted appears in both
lists: the app answers VERIFIED and confirms online, as the server does.

Invariant: reads only; works on any snapshot, with or without the ``hashes`` table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scameter.device.dbfile import LEVEL_CODES, DeviceFile, DeviceList, decode, list_digest
from scameter.device.dbfile import encode_delta as _encode_delta
from scameter.device.dbfile import encode_full as _encode_full
from scameter.device.rice import U32
from scameter.errors import SnapshotError
from scameter.index import format as fmt
from scameter.index.hashes import record_hashes
from scameter.index.reader import SnapshotReader
from scameter.verdict import Level


def prefix_lists(reader: SnapshotReader) -> dict[Level, U32]:
    """Level -> sorted distinct 32-bit prefixes of every record of that level."""
    buckets: dict[int, list[bytes]] = {code: [] for code in LEVEL_CODES.values()}
    strings = reader.strings
    for table in (fmt.TABLE_RECORDS, fmt.TABLE_ALLOW):
        for _, buf in reader.iter_table(table):
            target = buckets.get(buf[1])
            if target is None:
                continue
            r = fmt.decode_record(buf, strings)
            target.extend(h[:4] for h in record_hashes(r.kind, r.canonical, r.listing))
    out: dict[Level, U32] = {}
    for level, code in LEVEL_CODES.items():
        raw = b"".join(buckets[code])
        out[level] = np.unique(np.frombuffer(raw, dtype=">u4")).astype(np.uint32)
    return out


def export_full(reader: SnapshotReader) -> bytes:
    """The full device database of the snapshot (version: its id)."""
    return _encode_full(reader.id, prefix_lists(reader))


def full_file(reader: SnapshotReader) -> DeviceFile:
    """The full database of the snapshot, decoded (the base side of a delta)."""
    lists = prefix_lists(reader)
    return DeviceFile(
        True,
        reader.id,
        "",
        {lv: DeviceList(int(v.size), list_digest(v), values=v) for lv, v in lists.items()},
    )


def export_since(reader: SnapshotReader, snapshots_root: Path, since: str) -> tuple[bytes, bool]:
    """A delta from snapshot ``since`` to ``reader``'s, or the full database when ``since`` is
    unknown, unreadable or the same age (then ``full`` is True): ``(data, full)``.
    A delta larger than the full database is replaced by the full database too."""
    full = full_file(reader)
    full_bytes = _encode_full(full.version, {lv: lst.values for lv, lst in full.lists.items()})
    if not since or "/" in since or since.startswith(".") or "\x00" in since or len(since) > 255:
        return full_bytes, True  # not a snapshot id (found by the RPC fuzz drill: 70 kB, NUL)
    try:
        base_reader = SnapshotReader.open(Path(snapshots_root) / since, verify=False)
    except (SnapshotError, OSError, ValueError):  # a name the file system refuses
        return full_bytes, True
    try:
        base = full_file(base_reader)
    finally:
        base_reader.close()
    delta = _encode_delta(base, full)
    if len(delta) >= len(full_bytes):
        return full_bytes, True
    return delta, False


__all__ = ["decode", "export_full", "export_since", "full_file", "prefix_lists"]
