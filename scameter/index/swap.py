"""Hot swap: :class:`SnapshotManager` follows ``CURRENT`` without failing a lookup.

Responsibility: hold the live :class:`Snapshot`, notice when ``CURRENT`` names another one,
open and warm the new snapshot *before* swapping one reference, and close the old LMDB
environment only once every lookup that acquired it has finished (reference counts).

Invariants:
* A lookup that entered :meth:`acquire` uses one snapshot for its whole duration, so each
  answer comes wholly from one snapshot.
* A snapshot that fails to open (corrupt, missing) is never swapped in; the old one stays
  live and the error is kept on :attr:`last_error` (and raised by :meth:`refresh`'s caller
  only on the very first load, when there is nothing to keep serving).
* With ``verify=True`` (servers) a snapshot's whole content hash is checked
  (:meth:`Snapshot.verify`) before it is first served or swapped in, in the watcher thread,
  while the previous one keeps serving. A snapshot that fails is never served: the error is
  logged with both ids, counted on :attr:`verify_failures`, and that id is not hashed again
  until ``CURRENT`` names another one. A ``CURRENT`` that is garbage or names an unloadable
  snapshot is logged (once per distinct error) and kept on :attr:`last_error`.
* Mapped files are never rewritten: snapshots are immutable, we only open new directories.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path

from scameter.errors import SnapshotCorrupt, SnapshotError, SnapshotNotFound, SnapshotStale
from scameter.index.delta import DeltaFollower
from scameter.index.publish import current_id
from scameter.index.signing import EccKey, check_signature
from scameter.index.snapshot import Snapshot
from scameter.times import iso_utc, utc_now

log = logging.getLogger("scameter.index.swap")


class _Holder:
    """A snapshot plus the lookups currently using it; also the context manager
    :meth:`SnapshotManager.acquire` returns (``__exit__`` releases one use).

    The hot path takes no lock: a use is one entry in :attr:`users` (``list.append`` and
    ``list.pop`` are atomic), and the snapshot closes once it is retired and has no users.
    Each side writes first and reads second (a user pops, then reads :attr:`retired`; the
    swap sets :attr:`retired`, then reads :attr:`users`), so at least one of them sees both
    and closes it; :meth:`close_once` makes a second close a no-op.
    """

    __slots__ = ("_closed", "_lock", "retired", "snapshot", "users")

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.users: list[None] = []
        self.retired = False
        self._closed = False
        self._lock = threading.Lock()

    @property
    def refs(self) -> int:
        """The number of lookups using this snapshot now."""
        return len(self.users)

    def close_if_idle(self) -> None:
        if self.retired and not self.users:
            self.close_once()

    def close_once(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.snapshot.close()

    def __enter__(self) -> Snapshot:
        return self.snapshot

    def __exit__(self, *exc: object) -> None:
        self.users.pop()
        if self.retired:
            self.close_if_idle()


class SnapshotManager:
    """Serve the snapshot ``snapshots_root/CURRENT`` names, swapping when it changes."""

    def __init__(
        self,
        snapshots_root: Path,
        *,
        poll_interval: float = 1.0,
        max_age: timedelta | None = None,
        clock: Callable[[], datetime] = utc_now,
        verify: bool = False,
        trust_key: EccKey | None = None,
        delta: Path | None = None,
        delta_interval: float = 0.25,
    ) -> None:
        self.snapshots_root = Path(snapshots_root)
        #: The live delta this server layers over its snapshot (``serve --intake-log``).
        self.delta = None if delta is None else DeltaFollower(delta)
        self.delta_interval = delta_interval
        self._delta_thread: threading.Thread | None = None
        #: With a key, only snapshots whose manifest it signed are served (index.signing).
        self.trust_key = trust_key
        self.verify = verify
        #: Snapshots refused because their content hash did not match (since start).
        self.verify_failures = 0
        self._refused: dict[str, SnapshotError] = {}  # id -> why (not re-hashed every poll)
        self._logged: str | None = None
        self.poll_interval = poll_interval
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._holder: _Holder | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_swap: list[Callable[[Snapshot | None, Snapshot], None]] = []
        self.last_error: SnapshotError | None = None
        self.swaps = 0

    # -- reading --------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The live snapshot (loads it on first use). Prefer :meth:`acquire` for lookups."""
        holder = self._holder
        if holder is None:
            self.refresh()
            holder = self._holder
            assert holder is not None
        return holder.snapshot

    def acquire(self) -> AbstractContextManager[Snapshot]:
        """Use the live snapshot for one lookup (or a batch): ``with manager.acquire() as
        snap``; it stays open until the ``with`` block ends. No lock on this path (see
        :class:`_Holder`): a use is registered first, then the live reference re-read; a
        swap between the two makes the call let go and take the new snapshot."""
        holder = self._holder
        while True:
            if holder is None:
                self.refresh()
                holder = self._holder
                if holder is None:  # stop() ran meanwhile
                    raise SnapshotNotFound(self.snapshots_root, "no snapshot loaded")
            holder.users.append(None)
            live = self._holder
            if live is holder:  # still live after the use was counted: a swap sees the use
                return holder
            holder.users.pop()  # swapped meanwhile: that one may be closing; take the new one
            holder.close_if_idle()
            holder = live

    def age(self) -> timedelta | None:
        holder = self._holder
        if holder is None:
            return None
        return self._clock() - holder.snapshot.as_of

    @property
    def stale(self) -> bool:
        age = self.age()
        return self.max_age is not None and age is not None and age > self.max_age

    def ensure_fresh(self) -> None:
        """Raise :class:`SnapshotStale` when the live snapshot is older than ``max_age``."""
        if self.stale:
            holder = self._holder
            assert holder is not None
            raise SnapshotStale(
                holder.snapshot.path,
                f"snapshot as of {iso_utc(holder.snapshot.as_of)} is older than "
                f"{self.max_age}; run `scameter ingest` and publish a new one",
            )

    # -- swapping -------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Check ``CURRENT`` now; open, warm and swap in a new snapshot. True if swapped.

        Raises on the first load only; later failures keep the old snapshot and are kept
        on :attr:`last_error`.
        """
        try:
            sid = current_id(self.snapshots_root)
            holder = self._holder
            if holder is not None and holder.snapshot.id == sid:
                return False
            refused = self._refused.get(sid)
            if refused is not None:
                raise refused
            new = self._open_checked(sid)
        except SnapshotError as e:
            self.last_error = e
            self._log_failure(e)
            if self._holder is None:
                raise
            return False
        with self._lock:
            old = self._holder
            if old is not None and old.snapshot.id == new.id:
                new.close()  # another thread swapped the same snapshot in first
                return False
            self._holder = _Holder(new)
            close_old = False
            if old is not None:
                old.retired = True
                close_old = not old.users
        self.last_error = None
        self._logged = None
        self.swaps += 1
        log.info(
            "snapshot swapped" if old is not None else "snapshot loaded",
            extra={
                "event": "snapshot_swap",
                "old_snapshot": None if old is None else old.snapshot.id,
                "new_snapshot": new.id,
            },
        )
        if close_old and old is not None:
            old.close_once()
        for cb in self.on_swap:
            cb(None if old is None else old.snapshot, new)
        return True

    def _open_checked(self, sid: str) -> Snapshot:
        """Open and warm ``sid``; with :attr:`verify`, hash its content first (see module)."""
        new = Snapshot.open(self.snapshots_root / sid)
        try:
            if self.trust_key is not None:
                check_signature(self.snapshots_root / sid, self.trust_key)
            if self.verify:
                new.verify()
            new.reader.warm()
        except SnapshotError as e:
            new.close()
            if isinstance(e, SnapshotCorrupt):
                self.verify_failures += 1
                self._refused = {sid: e}  # only the latest: CURRENT moves on
                holder = self._holder
                log.error(
                    "snapshot failed verification; not served",
                    extra={
                        "snapshot": sid,
                        "serving": None if holder is None else holder.snapshot.id,
                        "error": str(e),
                    },
                )
                self._logged = str(e)
            raise
        return new

    def _log_failure(self, e: SnapshotError) -> None:
        """Log a CURRENT that cannot be served, once per distinct error."""
        text = str(e)
        if text == self._logged:
            return
        self._logged = text
        holder = self._holder
        log.error(
            "CURRENT names no servable snapshot; keeping the live one",
            extra={"serving": None if holder is None else holder.snapshot.id, "error": text},
        )

    def start(self) -> None:
        """Start the background watcher (polls ``CURRENT`` every ``poll_interval`` s)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="scameter-snapshot-watch")
        self._thread.daemon = True
        self._thread.start()
        if self.delta is not None:
            self._delta_thread = threading.Thread(
                target=self._follow, name="scameter-delta-follow", daemon=True
            )
            self._delta_thread.start()

    def follow_delta(self) -> bool:
        """Install the live delta's latest generation on the live snapshot now; True when
        an overlay applies."""
        holder = self._holder
        if self.delta is None or holder is None:
            return False
        snap = holder.snapshot
        overlay = self.delta.poll(snap.id, snap.policy)
        if overlay is None and self.delta.base not in (None, snap.id) and self.refresh():
            # The fold moved to a newer base first: swap to it now rather than at the next
            # CURRENT poll (meanwhile the old base would answer without the live reports).
            return self.follow_delta()
        if overlay is not snap.overlay or (
            overlay is not None and overlay.shape != snap.overlay_shape
        ):  # a new overlay, or one now holding a kind the rule table does not layer
            snap.set_overlay(overlay)
        elif overlay is not None:
            snap.key_probe.extra = overlay.keys  # updated in place: its key array is new
            snap.key_probe.extra_ranges = overlay.probe_ranges()
        return snap.overlay is not None

    def _follow(self) -> None:
        logged = None
        while not self._stop.wait(self.delta_interval):
            try:
                self.follow_delta()
                logged = None
            except Exception as e:  # an unreadable delta: retry next poll, log once per error
                if str(e) != logged:
                    logged = str(e)
                    log.warning("live delta unreadable", extra={"error": logged})

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_interval):
            with contextlib.suppress(SnapshotError):
                self.refresh()

    def stop(self) -> None:
        """Stop the watcher (waits for it) and close the live snapshot once idle."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        follower, self._delta_thread = self._delta_thread, None
        if follower is not None:
            follower.join()
        if self.delta is not None:
            self.delta.close()
        with self._lock:
            holder, self._holder = self._holder, None
            if holder is not None:
                holder.retired = True
        if holder is not None:
            holder.close_if_idle()

    def __enter__(self) -> SnapshotManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
