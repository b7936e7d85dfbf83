"""The durable report intake log: what the Report RPC writes and ingest reads.

Responsibility: append public reports from the app to an LMDB environment and commit them to
disk *before* the server acknowledges, then hand them to ingest as rows of the JSONL report
schema (``docs/report-format.md``).

Invariants:

* ``append`` returns only after the write transaction holding its row committed with
  ``sync=True`` and ``metasync=True`` (LMDB fsyncs the data and the meta page), so an
  acknowledged report survives a crash or ``kill -9`` of the server the instant after.
* Group commit: calls of ``append`` / ``append_appeal`` made at the same time by several
  threads of one process share one write transaction and its fsyncs (:meth:`IntakeLog._submit`:
  the first caller leads, commits the calls queued so far, at most ``group_max`` of them,
  while the next ones queue behind it; it then wakes each call of its group once and hands
  the lead to the oldest call still queued). Each call runs in its own nested transaction, in
  arrival order, so it sees every earlier call of its group (dedup, sequence numbers, caps)
  exactly as if they had committed one by one; a call that raises (a cap) takes back only its
  own writes. A failed commit fails every call of its group (:class:`IntakeCommitError`):
  none of them is acknowledged, none of their rows is stored.
* Reporter ids are never stored in clear: callers pass :func:`hash_reporter` output.
* A duplicate (same reporter hash, same identifier, same UTC day) stores nothing new; when every
  identifier of a report is a duplicate the whole report is absorbed and the id of the earlier
  report is returned with ``duplicate=True``.
* Abuse policy (:class:`IntakePolicy`, ``docs/report-format.md``): a reporter over its daily
  cap is refused with :class:`ReporterCapExceeded` (nothing stored); once ``burst`` reports
  from *new* reporters (first seen within the last day) name one identifier within
  ``burst_window``, that report and the next such ones are *held*: appended, fsynced, to
  ``held.jsonl`` in the log directory instead of the log, so ingest counts them only after
  ``scameter ingest --release-held`` moves them into the log (:meth:`IntakeLog.release_held`).
* Reports are kept in append order (8-byte big-endian sequence keys); ``iter_reports`` yields
  them in that order, which makes an ingest of the log deterministic.
* Appeals (a reporter contesting a listing, the Appeal RPC) are rows of type ``appeal`` in
  their own sub-database, fsynced the same way, deduplicated per reporter, identifier and UTC
  day, and counted against the same per-reporter daily cap as reports; ``iter_reports`` never
  yields them (``iter_appeals`` does), so readers of reports are unaffected.

Several server processes may append to one log: LMDB serialises writers across processes.
Open the log after ``fork`` (LMDB environments must not cross a fork).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lmdb

from scameter.categories import MAX_ORIGINAL, canonical_category
from scameter.durable import write_durably
from scameter.errors import IngestError
from scameter.times import iso_utc

_SEQ = struct.Struct(">Q")
_INITIAL_MAP_SIZE = 64 << 20
_MAX_MAP_SIZE = 1 << 40
_META_SEQ = b"seq"
_META_FORMAT = b"format"
_META_APPEAL_SEQ = b"appeal_seq"
FORMAT = b"scameter-intake/1"
#: Held reports (the burst hold), one JSON row a line, in the intake log's directory.
HELD_FILE = "held.jsonl"
_DAY = 86_400.0
#: Calls of append / append_appeal committed together at most (``serve --report-group-max``).
GROUP_MAX = 256


@dataclass(frozen=True, slots=True)
class IntakePolicy:
    """Limits on public reports (``serve --report-daily-cap/--report-burst/...``)."""

    daily_cap: int = 20  # stored reports per reporter per UTC day; 0 = no cap
    burst: int = 10  # reports from new reporters on one identifier that start a hold; 0 = off
    burst_window: timedelta = timedelta(hours=1)


class ReporterCapExceeded(Exception):
    """The reporter already filed its daily cap of reports today (UTC)."""


class IntakeCommitError(IngestError):
    """The write transaction of a group of reports / appeals failed: none is stored."""


#: What one call does inside the group's transaction: its result, and the line it holds
#: (the burst hold; appended to the held file before the group commits), if any.
_Outcome = tuple[tuple[str, bool], bytes | None]
_Op = Callable[[lmdb.Transaction], _Outcome]


class _Call:
    """One append waiting in the group queue; the leader fills ``result`` or ``error``.

    ``wake`` is a lock taken at creation: the waiting thread blocks acquiring it, and only
    the leader that finished its group (or hands it the lead) releases it, so each call is
    woken once, not once per commit (a condition's ``notify_all`` woke every waiting handler
    thread at every commit: at 1,000 reports/s with 32 in flight, most of the intake's CPU)."""

    __slots__ = ("done", "error", "op", "result", "wake")

    def __init__(self, op: _Op) -> None:
        self.op = op
        self.done = False
        self.result: tuple[str, bool] = ("", False)
        self.error: BaseException | None = None
        self.wake = threading.Lock()
        self.wake.acquire()


def _burst_key(kind: str | None, value: str) -> bytes:
    raw = "\x1f".join((kind or "", value.strip())).encode("utf-8")
    return hashlib.blake2b(raw, digest_size=16).digest()


def hash_reporter(reporter: str, key: bytes) -> str:
    """Keyed BLAKE2b-128 of a reporter id, as hex; the only form a reporter id is stored in.

    Keyed (not a plain hash) so that a leaked log cannot be reversed by hashing every phone
    number: without ``key`` the 10^8 possible HK numbers cannot be enumerated against it.
    """
    if not key:
        raise ValueError("hash_reporter needs a non-empty key")
    return hashlib.blake2b(reporter.encode("utf-8"), key=key[:64], digest_size=16).hexdigest()


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("reported_at must be timezone-aware")
    return ts.astimezone(UTC)


def _dedup_key(reporter_hash: str, kind: str | None, value: str, day: str) -> bytes:
    # Hash so dedup keys stay under LMDB's 511-byte key limit whatever the value length.
    raw = "\x1f".join((reporter_hash, kind or "", value.strip(), day)).encode("utf-8")
    return hashlib.blake2b(raw, digest_size=16).digest()


class IntakeLog:
    """An append-only, fsynced log of app reports in one LMDB directory."""

    def __init__(self, path: Path, *, readonly: bool = False, group_max: int = GROUP_MAX) -> None:
        self.path = Path(path)
        if group_max < 1:
            raise ValueError("group_max must be at least 1")
        #: At most this many calls share one commit (1: one fsync per report).
        self.group_max = group_max
        self._mutex = threading.Lock()  # guards _queue and _leading
        self._queue: list[_Call] = []
        self._leading = False
        #: Commits made and calls they carried (for the group-size metric and tests).
        self.commits = 0
        self.committed_calls = 0
        try:
            if not readonly:
                self.path.mkdir(parents=True, exist_ok=True)
            self._env = lmdb.open(
                str(self.path),
                subdir=True,
                map_size=_INITIAL_MAP_SIZE,
                max_dbs=8,
                sync=True,
                metasync=True,
                readonly=readonly,
                lock=True,
            )
            self._reports = self._env.open_db(b"reports", create=not readonly)
            self._dedup = self._env.open_db(b"dedup", create=not readonly)
            self._meta = self._env.open_db(b"meta", create=not readonly)
            self._appeals = self._open_optional(b"appeals", readonly)
            if not readonly:
                self._reporters = self._env.open_db(b"reporters", create=True)
                self._bursts = self._env.open_db(b"bursts", create=True)
        except lmdb.Error as exc:
            raise IngestError(f"cannot open intake log: {exc}", self.path) from exc
        if not readonly:
            with self._env.begin(write=True, db=self._meta) as txn:
                fmt = txn.get(_META_FORMAT)
                if fmt is None:
                    txn.put(_META_FORMAT, FORMAT)
                elif fmt != FORMAT:
                    raise IngestError(f"unknown intake log format {fmt!r}", self.path)

    def _open_optional(self, name: bytes, readonly: bool) -> Any:
        """A sub-database added after the first format: absent from an older log opened
        read-only (None), created otherwise."""
        try:
            return self._env.open_db(name, create=not readonly)
        except lmdb.NotFoundError:
            return None

    def append(
        self,
        *,
        identifiers: Sequence[tuple[str | None, str]],
        category: str,
        text: str,
        reporter_hash: str,
        source: str = "public",
        reported_at: datetime,
        policy: IntakePolicy | None = None,
    ) -> tuple[str, bool]:
        """Store one report durably; returns ``(report_id, duplicate)``.

        Commits (fsync) before returning. ``identifiers`` are ``(kind or None, value)`` pairs,
        ideally already canonical (the server normalises them) so that dedup sees one form.
        A report with no identifiers must have a ``text`` (a text-only report in which none
        was found): it is kept, deduplicated on its text, and ingest counts it as
        ``no_identifiers``. With a ``policy``, raises :class:`ReporterCapExceeded` past the
        daily cap and holds a burst report (its id then starts with ``held-``).
        """
        if not identifiers and not text.strip():
            raise ValueError("a report names at least one identifier or has a text")
        when = _utc(reported_at)
        # The closed vocabulary (scameter.categories): an unknown category is stored as
        # ``other``; the original is kept, bounded, here only (never in a snapshot).
        original = category
        category = canonical_category(category)
        day = iso_utc(when)[:10]  # the UTC calendar day, YYYY-MM-DD
        dkeys = [_dedup_key(reporter_hash, k, v, day) for k, v in identifiers]
        if not dkeys:
            dkeys = [_dedup_key(reporter_hash, "text", text, day)]
        row = {
            "type": "report",
            "source": source,
            "status": "unverified",
            "reported_at": iso_utc(when),
            "reporter_hash": reporter_hash,
            "category": category,
            "text": text,
            "identifiers": [{"kind": k, "value": v} if k else {"value": v} for k, v in identifiers],
        }
        if category != original.strip():
            row["category_original"] = original[:MAX_ORIGINAL]
        op = functools.partial(self._append_op, row, dkeys, policy, when, list(identifiers))
        return self._submit(op)

    def _append_op(  # noqa: PLR0917 - bound by functools.partial
        self,
        row: dict[str, Any],
        dkeys: list[bytes],
        policy: IntakePolicy | None,
        when: datetime,
        identifiers: list[tuple[str | None, str]],
        txn: lmdb.Transaction,
    ) -> _Outcome:
        existing = [txn.get(k, db=self._dedup) for k in dkeys]
        if existing and all(e is not None for e in existing):
            first = existing[0]
            assert first is not None
            return (bytes(first).decode("ascii"), True), None
        if policy is not None:
            hold = self._apply_policy(txn, policy, row, when, identifiers)
            if hold:
                held_id, line = self._hold(txn, row, dkeys, existing)
                return (held_id, False), line
        report_id = self._store(txn, row)
        for k, e in zip(dkeys, existing, strict=True):
            if e is None:
                txn.put(k, report_id.encode("ascii"), db=self._dedup)
        return (report_id, False), None

    # -- group commit ---------------------------------------------------------------------

    def _submit(self, op: _Op) -> tuple[str, bool]:
        """Run ``op`` in a group's write transaction; returns its result once the commit that
        stored it was fsynced (the module invariants).

        The first caller to find no leader leads: it commits the oldest calls queued, at most
        ``group_max`` (its own among them, unless more wait before it: then it leads again),
        wakes each call of the group, and hands the lead to the oldest call still queued
        (woken with ``done`` unset), so exactly one thread leads at a time."""
        call = _Call(op)
        with self._mutex:
            self._queue.append(call)
            lead = not self._leading
            self._leading = True
        if not lead:
            call.wake.acquire()  # done, or handed the lead
        while not call.done:
            with self._mutex:
                group = self._queue[: self.group_max]
                del self._queue[: self.group_max]
            last = call in group  # else more than group_max waited before it: lead again
            try:
                self._run_group(group)
            finally:
                for other in group:
                    if other is not call:
                        other.wake.release()
                if last:
                    self._hand_over()
        if call.error is not None:
            raise call.error
        return call.result

    def _hand_over(self) -> None:
        """The leader is done: the oldest queued call leads next, or nobody (the next caller)."""
        with self._mutex:
            if self._queue:
                self._queue[0].wake.release()  # stays _leading: handed over
            else:
                self._leading = False

    def _run_group(self, group: list[_Call]) -> None:
        """One write transaction for ``group`` (retried whole after growing the map), each
        call in a nested transaction of its own; marks every call done."""
        try:
            while True:
                try:
                    self._group_txn(group)
                    break
                except lmdb.MapFullError:
                    self._grow()
        except BaseException as e:  # the commit failed: no call of the group is stored
            for call in group:
                call.error = IntakeCommitError(
                    f"report not stored, the intake commit failed ({type(e).__name__})", self.path
                )
                call.error.__cause__ = e
            if not isinstance(e, Exception):
                raise
        finally:
            for call in group:
                call.done = True

    def _group_txn(self, group: list[_Call]) -> None:
        held: list[bytes] = []
        txn = self._env.begin(write=True)
        try:
            for call in group:
                call.error = None
                child = self._env.begin(write=True, parent=txn)
                try:
                    call.result, line = call.op(child)
                except lmdb.MapFullError:
                    child.abort()
                    raise
                except Exception as e:  # this call's own failure (a cap): its writes undone
                    child.abort()
                    call.error = e
                    continue
                child.commit()
                if line is not None:
                    held.append(line)
            if held:  # durable before the commit that makes their dedup entries visible
                write_durably(self.path / HELD_FILE, b"".join(held), append=True)
            self._commit_txn(txn)
        except BaseException:
            txn.abort()
            raise
        self.commits += 1
        self.committed_calls += len(group)

    def _commit_txn(self, txn: lmdb.Transaction) -> None:
        """Commit (with sync=True and metasync=True: fsync the data, then the meta page)."""
        txn.commit()

    def _store(self, txn: lmdb.Transaction, row: dict[str, Any]) -> str:
        """Put ``row`` under the next sequence number in ``txn``; returns its report id."""
        return self._put_next(txn, row, self._reports, _META_SEQ, "app")

    def _put_next(
        self, txn: lmdb.Transaction, row: dict[str, Any], db: Any, seq_key: bytes, prefix: str
    ) -> str:
        """Put ``row`` in ``db`` under the next number of the sequence kept at ``seq_key``, with
        its id ``<prefix>-<seq>-<digest>`` (reports: ``app``, appeals: ``appeal``)."""
        raw_seq = txn.get(seq_key, db=self._meta)
        seq = 0 if raw_seq is None else _SEQ.unpack(raw_seq)[0] + 1
        digest = hashlib.blake2b(
            json.dumps(row, sort_keys=True).encode("utf-8") + _SEQ.pack(seq), digest_size=8
        ).hexdigest()
        row_id = f"{prefix}-{seq:010d}-{digest}"
        body = json.dumps({**row, "id": row_id}, sort_keys=True).encode("utf-8")
        txn.put(_SEQ.pack(seq), body, db=db)
        txn.put(seq_key, _SEQ.pack(seq), db=self._meta)
        return row_id

    def _apply_policy(
        self,
        txn: lmdb.Transaction,
        policy: IntakePolicy,
        row: dict[str, Any],
        when: datetime,
        identifiers: list[tuple[str | None, str]],
    ) -> bool:
        """Count the report against its reporter's day (raising past the cap) and against
        the bursts of its identifiers; True when it is to be held."""
        now = when.timestamp()
        first_seen = self._count_reporter(txn, policy, str(row["reporter_hash"]), when)
        if not policy.burst or now - first_seen >= _DAY:
            return False
        window = policy.burst_window.total_seconds()
        hold = False
        for kind, value in identifiers:
            key = _burst_key(kind, value)
            raw_times = txn.get(key, db=self._bursts)
            times = [
                t for t in (json.loads(bytes(raw_times)) if raw_times else []) if now - t < window
            ]
            times.append(now)
            txn.put(key, json.dumps(times[-policy.burst :]).encode(), db=self._bursts)
            hold = hold or len(times) >= policy.burst
        return hold

    def append_appeal(
        self,
        *,
        identifier: tuple[str, str],
        reason: str,
        reporter_hash: str,
        appealed_at: datetime,
        policy: IntakePolicy | None = None,
    ) -> tuple[str, bool]:
        """Store one appeal durably (fsynced before returning); returns ``(appeal_id,
        duplicate)``. The same reporter appealing the same identifier on the same UTC day is a
        duplicate (the first appeal's id comes back, nothing is stored). With a ``policy``,
        an appeal counts against the reporter's daily cap like a report
        (:class:`ReporterCapExceeded`); appeals are never held."""
        kind, value = identifier
        when = _utc(appealed_at)
        row = {
            "type": "appeal",
            "source": "public",
            "appealed_at": iso_utc(when),
            "reporter_hash": reporter_hash,
            "identifier": {"kind": kind, "value": value},
            "reason": reason,
        }
        dkey = _dedup_key(reporter_hash, f"appeal:{kind}", value, iso_utc(when)[:10])
        return self._submit(functools.partial(self._appeal_op, row, dkey, policy, when))

    def _appeal_op(
        self,
        row: dict[str, Any],
        dkey: bytes,
        policy: IntakePolicy | None,
        when: datetime,
        txn: lmdb.Transaction,
    ) -> _Outcome:
        first = txn.get(dkey, db=self._dedup)
        if first is not None:
            return (bytes(first).decode("ascii"), True), None
        if policy is not None:
            self._count_reporter(txn, policy, str(row["reporter_hash"]), when)
        appeal_id = self._put_next(txn, row, self._appeals, _META_APPEAL_SEQ, "appeal")
        txn.put(dkey, appeal_id.encode("ascii"), db=self._dedup)
        return (appeal_id, False), None

    def iter_appeals(self) -> Iterator[dict[str, Any]]:
        """Every stored appeal in append order (``appeal`` rows, docs/report-format.md)."""
        if self._appeals is None:
            return
        with self._env.begin(db=self._appeals, buffers=False) as txn:
            for _key, value in txn.cursor():
                row: dict[str, Any] = json.loads(value)
                yield row

    def _count_reporter(
        self, txn: lmdb.Transaction, policy: IntakePolicy, reporter_hash: str, when: datetime
    ) -> float:
        """Count one stored report or appeal against its reporter's UTC day, raising
        :class:`ReporterCapExceeded` past the cap; returns when the reporter was first seen."""
        reporter = reporter_hash.encode("ascii")
        now = when.timestamp()
        day = int(now // _DAY)
        raw = txn.get(reporter, db=self._reporters)
        first_seen, seen_day, count = (now, day, 0) if raw is None else json.loads(bytes(raw))
        if seen_day != day:
            seen_day, count = day, 0
        if policy.daily_cap and count >= policy.daily_cap:
            raise ReporterCapExceeded(
                f"at most {policy.daily_cap} reports and appeals a day per reporter"
            )
        txn.put(
            reporter, json.dumps([first_seen, seen_day, count + 1]).encode(), db=self._reporters
        )
        return float(first_seen)

    def _hold(
        self,
        txn: lmdb.Transaction,
        row: dict[str, Any],
        dkeys: list[bytes],
        existing: Sequence[bytes | memoryview | None],
    ) -> tuple[str, bytes]:
        """Hold ``row`` instead of storing it: its id and its line for the held file (which
        the group's leader appends, fsynced, before the commit)."""
        digest = hashlib.blake2b(json.dumps(row, sort_keys=True).encode(), digest_size=8)
        report_id = f"held-{digest.hexdigest()}"
        line = json.dumps({**row, "id": report_id}, sort_keys=True) + "\n"
        for k, e in zip(dkeys, existing, strict=True):
            if e is None:
                txn.put(k, report_id.encode("ascii"), db=self._dedup)
        return report_id, line.encode("utf-8")

    def release_held(self) -> int:
        """Move every held report into the log (in the order held); returns how many.

        Done in one write transaction, which a server needs too before it holds a report
        (:meth:`_hold` runs inside its append transaction), so no report held meanwhile is
        lost: the file is read, its rows stored and the file renamed aside, then committed.
        """
        while True:
            try:
                return self._release_txn()
            except lmdb.MapFullError:
                self._grow()

    def _release_txn(self) -> int:
        held = self.path / HELD_FILE
        aside = self.path / (HELD_FILE + ".released")
        with self._env.begin(write=True) as txn:
            try:
                lines = held.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                return 0
            rows = [json.loads(line) for line in lines if line.strip()]
            for row in rows:
                row.pop("id", None)
                self._store(txn, row)
            os.replace(held, aside)
        aside.unlink()
        return len(rows)

    def _grow(self) -> None:
        size = self._env.info()["map_size"] * 2
        if size > _MAX_MAP_SIZE:
            raise IngestError("intake log exceeds the maximum map size", self.path)
        self._env.set_mapsize(size)

    def iter_reports(self) -> Iterator[dict[str, Any]]:
        """Every stored report in append order, as ``report`` rows of the JSONL schema."""
        with self._env.begin(db=self._reports, buffers=False) as txn:
            for _key, value in txn.cursor():
                row: dict[str, Any] = json.loads(value)
                yield row

    def iter_after(
        self, seq: int, limit: int | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(sequence number, row)`` of the stored reports after ``seq`` (-1: all), in append
        order, at most ``limit`` of them: what the live fold of ``serve`` reads."""
        start = _SEQ.pack(seq + 1) if seq >= 0 else b""
        with self._env.begin(db=self._reports, buffers=False) as txn:
            cur = txn.cursor()
            if not cur.set_range(start):
                return
            for n, (key, value) in enumerate(cur.iternext()):
                if limit is not None and n >= limit:
                    return
                row: dict[str, Any] = json.loads(value)
                yield _SEQ.unpack(key)[0], row

    def last_seq(self) -> int:
        """The sequence number of the last stored report (-1: none yet)."""
        with self._env.begin(db=self._meta) as txn:
            raw = txn.get(_META_SEQ)
        return -1 if raw is None else int(_SEQ.unpack(raw)[0])

    def last_appeal_seq(self) -> int:
        """The sequence number of the last stored appeal (-1: none yet)."""
        with self._env.begin(db=self._meta) as txn:
            raw = txn.get(_META_APPEAL_SEQ)
        return -1 if raw is None else int(_SEQ.unpack(raw)[0])

    def count(self) -> int:
        """Number of stored (non-duplicate) reports."""
        with self._env.begin(db=self._reports) as txn:
            return int(txn.stat(self._reports)["entries"])

    def close(self) -> None:
        self._env.close()

    def __enter__(self) -> IntakeLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def live_dir_for(intake_path: Path) -> Path:
    """Where ``serve`` keeps the live delta of an intake log by default (``--live-dir``):
    ``<intake log>.live`` beside it (docs/operations.md, "Live updates")."""
    p = Path(intake_path)
    return p.with_name(p.name + ".live")


def is_intake_dir(path: Path) -> bool:
    """Whether ``path`` looks like an intake log directory (an LMDB ``data.mdb`` inside)."""
    return path.is_dir() and (path / "data.mdb").is_file()


__all__ = [
    "FORMAT",
    "GROUP_MAX",
    "HELD_FILE",
    "IntakeCommitError",
    "IntakeLog",
    "IntakePolicy",
    "ReporterCapExceeded",
    "hash_reporter",
    "is_intake_dir",
    "live_dir_for",
]
