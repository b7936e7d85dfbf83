"""The private-lookup RPCs' work: ``SearchHashes`` answers and ``GetDeviceUpdate`` payloads.

Responsibility: turn :func:`scameter.index.hashsearch.search` matches into a padded
``SearchHashesResponse``, and serve device databases and deltas
(:mod:`scameter.device.export`), memoised per (snapshot, base version).

Live updates (docs/architecture.md, "Live updates"): ``SearchHashes`` answers from the base
snapshot and the live delta layered over it (the worker's :class:`~scameter.index.delta.Overlay`,
the same for every worker), and a server that folds reports live tells clients to cache for
:data:`LIVE_CACHE_SECONDS` / :data:`LIVE_NEGATIVE_CACHE_SECONDS`, so that a report reaches a
private check about as soon as it reaches ``Check``. Device databases are of the base snapshot
alone (docs/privacy.md, "Device database": a version is a snapshot id).

Invariants (docs/privacy.md):
* Nothing here logs; the servicer's error path logs only an exception's type.
* Every ``SearchHashesResponse`` is padded to a size class (256 bytes doubling), so its
  length tells only roughly how many hashes came back, never exactly, and an empty answer is
  as long as a one-hash answer.
* A wrong prefix length, or too many prefixes, is INVALID_ARGUMENT.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import grpc

from scameter.device.export import export_since
from scameter.index.hashsearch import NoHashTable, check_prefixes, search
from scameter.index.snapshot import Snapshot
from scameter.rpc import convert
from scameter.rpc.status import Abort
from scameter.rpc.v1 import scameter_pb2 as pb

#: How long a client may answer from a returned full hash (seconds).
CACHE_SECONDS = 600
#: How long a client may treat a queried prefix as holding nothing else (seconds): short, so a
#: number listed after a check is seen soon (a snapshot is published several times a day).
NEGATIVE_CACHE_SECONDS = 300
#: The same two for a server folding reports live (``serve --intake-log``): a prefix's answer
#: may change within seconds, a listed hash's level or counts with the next reports.
LIVE_CACHE_SECONDS = 60
LIVE_NEGATIVE_CACHE_SECONDS = 1
#: Smallest size class of a padded answer (bytes); classes double from it.
PAD_MIN = 256
#: Device payloads kept per worker (each (snapshot, base) pair is computed once).
DEVICE_CACHE = 8


def _varint_len(n: int) -> int:
    return max(1, (n.bit_length() + 6) // 7)


def pad(resp: pb.SearchHashesResponse) -> None:
    """Fill ``resp.padding`` so the encoded message is exactly a size class."""
    resp.padding = b""
    n = resp.ByteSize()
    target = PAD_MIN
    while True:
        while target < n + 2:
            target *= 2
        for width in (1, 2, 3, 4):
            k = target - n - 1 - width
            if k >= 1 and _varint_len(k) == width:
                resp.padding = bytes(k)
                return
        target *= 2  # a varint width boundary: the next class fits


def _snapshot(view: object) -> Snapshot:
    """The served snapshot itself (a test's fake source has no hash table or files)."""
    if not isinstance(view, Snapshot):
        raise Abort(grpc.StatusCode.UNIMPLEMENTED, "this server serves no private lookups")
    return view


def follows_delta(source: object) -> bool:
    """Whether ``source`` (the servicer's snapshot source) layers a live delta over its
    snapshots: a :class:`~scameter.index.SnapshotManager` of ``serve --intake-log`` (a test's
    fake source, or a manager without a delta, does not)."""
    return getattr(source, "delta", None) is not None


def search_hashes(view: object, prefixes: object, *, live: bool = False) -> pb.SearchHashesResponse:
    """The padded answer to a ``SearchHashes`` request, from the snapshot and its live delta
    when one is layered over it; ``live``: the server folds reports live (cache durations)."""
    snap = _snapshot(view)
    try:
        wanted = check_prefixes(prefixes)  # type: ignore[arg-type]
    except ValueError as e:
        raise Abort(grpc.StatusCode.INVALID_ARGUMENT, str(e)) from None
    overlay = snap.overlay
    try:
        matches = search(snap.reader, wanted, None if overlay is None else overlay.hashes())
    except NoHashTable:
        raise Abort(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the served snapshot has no hashes table (built before private lookups); rebuild it",
        ) from None
    resp = pb.SearchHashesResponse(snapshot_id=snap.id)
    add = resp.full_hashes.add
    for m in matches:
        add(
            full_hash=m.full_hash,
            kind=m.kind.value,
            level=convert.level_to_pb(m.level),
            categories=m.categories,
            reason_codes=m.reasons,
            report_count=m.report_count,
            reporters=m.reporters,
        )
    live = live or overlay is not None
    resp.cache_duration.FromSeconds(LIVE_CACHE_SECONDS if live else CACHE_SECONDS)
    resp.negative_cache_duration.FromSeconds(
        LIVE_NEGATIVE_CACHE_SECONDS if live else NEGATIVE_CACHE_SECONDS
    )
    pad(resp)
    return resp


class DeviceUpdates:
    """Device databases and deltas, computed once per (snapshot id, base version)."""

    def __init__(self, size: int = DEVICE_CACHE) -> None:
        self._size = size
        self._memo: OrderedDict[tuple[str, str], tuple[bytes, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def update(self, view: object, version: str) -> tuple[bytes, bool]:
        """``(data, full)`` for an app holding ``version`` (empty: none)."""
        snap = _snapshot(view)
        key = (snap.id, version)
        with self._lock:
            hit = self._memo.get(key)
            if hit is not None:
                self._memo.move_to_end(key)
                return hit
        out = export_since(snap.reader, snap.path.parent, version)
        with self._lock:
            self._memo[key] = out
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return out


__all__ = [
    "CACHE_SECONDS",
    "LIVE_CACHE_SECONDS",
    "LIVE_NEGATIVE_CACHE_SECONDS",
    "NEGATIVE_CACHE_SECONDS",
    "DeviceUpdates",
    "follows_delta",
    "pad",
    "search_hashes",
]
