"""The domain-link index: which identifiers of a build's window share a registrable domain.

Responsibility: the value encoding of the side file's ``domlinks`` sub-database
(:data:`~scameter.index.format.DB_DOMLINKS`) and of the live delta's ``domains`` entries, and
its writer. A full build links the URLs, domains and e-mail addresses on one host-level link
expression (``evil-shop.example/``: ``scameter.ingest.clusters.domain_link_key``) unless the
expression gathers more than ``hub_reports`` identifiers or one of them is allowlisted; the
live fold (:mod:`scameter.ingest.livedomains`) reads one entry per touched expression to link
a new identifier exactly so (docs/architecture.md, "Live updates").

Entry (key: the expression's 8-byte expression key, as ``urlexpr``'s, so no domain is stored
in clear): :data:`HEAD` (u8 flags, u32 identifiers of the window on it, listed or not), then,
only when no flag is set, their 8-byte identifier keys in byte order. Flags:
:data:`HUB` (more than the cap, ``hub_reports``: the keys are left out, so an entry is at most
``5 + 8 * hub_reports`` bytes) and :data:`ALLOWED` (one of them is allowlisted: the
expression never links, the keys are left out).

Invariants:

* An entry is a function of the set of identifiers on the expression (keys sorted and
  de-duplicated), so every engine writes the same bytes whatever order it finds them in.
* Two expressions whose keys collide (64 bits) are merged (:func:`merge`): their counts add
  up, as if one expression held both; a collision can only make a domain link less.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from scameter.index.spill import ExternalSorter

HEAD = struct.Struct("<BI")
#: More identifiers than the cap: the keys are left out.
HUB = 1
#: One of the identifiers is allowlisted: the expression never links; the keys are left out.
ALLOWED = 2
KEY_SIZE = 8
#: Entries written per LMDB batch.
_BATCH = 10_000


def pack(count: int, keys: Iterable[bytes] | None, *, cap: int, allowed: bool = False) -> bytes:
    """The entry of ``count`` identifiers, ``keys`` their identifier keys (``None``: not
    known, only for an entry that is a hub or allowed)."""
    flags = (HUB if count > cap else 0) | (ALLOWED if allowed else 0)
    if flags:
        return HEAD.pack(flags, min(count, 0xFFFFFFFF))
    if keys is None:
        raise ValueError("the keys of an entry under the cap are needed")
    ordered = sorted(set(keys))
    return HEAD.pack(0, len(ordered)) + b"".join(ordered)


def unpack(value: bytes) -> tuple[int, int, list[bytes]]:
    """``(flags, count, keys)`` of an entry (``keys`` empty when a flag is set)."""
    flags, count = HEAD.unpack_from(value)
    body = value[HEAD.size :]
    return flags, count, [bytes(body[i : i + KEY_SIZE]) for i in range(0, len(body), KEY_SIZE)]


def merge(a: bytes, b: bytes, cap: int) -> bytes:
    """One entry for two expressions whose keys collide (see the module invariants)."""
    fa, na, ka = unpack(a)
    fb, nb, kb = unpack(b)
    if (fa | fb) & ALLOWED:
        return pack(na + nb, None, cap=cap, allowed=True)
    if (fa | fb) & HUB:
        return pack(max(na + nb, cap + 1), None, cap=cap)
    keys = set(ka) | set(kb)
    return pack(len(keys), keys, cap=cap)


def _merged(items: Iterator[tuple[bytes, bytes]], cap: int) -> Iterator[tuple[bytes, bytes]]:
    """Sorted ``(key, entry)`` items with equal keys merged."""
    key: bytes | None = None
    value = b""
    for k, v in items:
        if k == key:
            value = merge(value, v, cap)
            continue
        if key is not None:
            yield key, value
        key, value = k, v
    if key is not None:
        yield key, value


def write(env: Any, db: Any, entries: ExternalSorter, cap: int) -> int:
    """Write the ``domlinks`` sub-database from ``entries`` (expression key -> entry, any
    order) in key order; returns the number of entries."""
    n = 0
    batch: list[tuple[bytes, bytes]] = []
    with env.begin(write=True, db=db) as txn:
        cur = txn.cursor()
        for item in _merged(entries.sorted(), cap):
            batch.append(item)
            if len(batch) >= _BATCH:
                n += cur.putmulti(batch, append=True)[1]
                batch = []
        if batch:
            n += cur.putmulti(batch, append=True)[1]
    return n


__all__ = ["ALLOWED", "HEAD", "HUB", "KEY_SIZE", "merge", "pack", "unpack", "write"]
