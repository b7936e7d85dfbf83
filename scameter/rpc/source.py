"""What the servicer needs from the rest of scameter, as typing Protocols.

Responsibility: name the narrow surface the RPC layer uses, so the servicer is tested against
small fakes and wired to :class:`scameter.index.SnapshotManager` and
:class:`scameter.intake.IntakeLog` in production without importing them here.

Invariants:
* ``SnapshotSource.acquire()`` yields a snapshot that stays open until the ``with`` block ends,
  even if a newer one is published meanwhile (the manager refcounts; hot swap never fails a
  call). It raises :class:`scameter.errors.SnapshotError` when no snapshot is loaded.
* ``IntakeSink.append`` returns only after the report is durable (fsync'd).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from scameter.index.batchpath import BatchAnswer
from scameter.intake import IntakePolicy
from scameter.times import parse_iso_utc
from scameter.verdict import CheckContext, Verdict


class ManifestView(Protocol):
    @property
    def snapshot_id(self) -> str: ...
    @property
    def parent_id(self) -> str | None: ...
    @property
    def as_of(self) -> str: ...
    @property
    def built_at(self) -> str: ...
    @property
    def counts(self) -> Mapping[str, Mapping[str, int]]: ...
    @property
    def total(self) -> int: ...


class SnapshotView(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def manifest(self) -> ManifestView: ...

    def check(
        self, raw: str, kind: str | None = None, *, context: CheckContext | None = None
    ) -> Verdict: ...

    def check_many(self, raws: Sequence[str], kind: str | None = None) -> list[Verdict]: ...

    def check_batch(self, raws: Sequence[str], kind: str | None = None) -> BatchAnswer: ...

    def related(
        self, raw: str, kind: str | None = None, *, limit: int | None = None
    ) -> list[Verdict]: ...


class SnapshotSource(Protocol):
    def acquire(self) -> AbstractContextManager[SnapshotView]: ...


class IntakeSink(Protocol):
    def append(
        self,
        *,
        identifiers: list[tuple[str | None, str]],
        category: str,
        text: str,
        reporter_hash: str,
        source: str,
        reported_at: datetime,
        policy: IntakePolicy | None = None,
    ) -> tuple[str, bool]: ...

    def append_appeal(
        self,
        *,
        identifier: tuple[str, str],
        reason: str,
        reporter_hash: str,
        appealed_at: datetime,
        policy: IntakePolicy | None = None,
    ) -> tuple[str, bool]: ...


def snapshot_age(manifest: ManifestView, now: datetime) -> float:
    """Seconds between the snapshot's data time (``as_of``) and ``now``."""
    return (now - parse_iso_utc(manifest.as_of)).total_seconds()


__all__ = [
    "IntakeSink",
    "ManifestView",
    "SnapshotSource",
    "SnapshotView",
    "snapshot_age",
]
