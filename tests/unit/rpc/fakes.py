"""Small fakes of the snapshot source and manifest the servicer is written against.

They implement :mod:`scameter.rpc.source`'s Protocols with a dict, plus the one property the
real SnapshotManager guarantees and the swap test checks: a snapshot acquired before a swap
stays usable until released, and a released, replaced snapshot refuses further use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from scameter.errors import InvalidIdentifier, SnapshotNotFound
from scameter.index.batchpath import BatchAnswer
from scameter.verdict import CheckContext, Level, Reason, ReasonCode, Verdict


@dataclass(frozen=True, slots=True)
class FakeManifest:
    snapshot_id: str
    as_of: str = "2026-11-26T00:00:00Z"
    built_at: str = "2026-11-26T00:05:00Z"
    parent_id: str | None = None
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    total: int = 0


def fake_kind(raw: str) -> str:
    if "@" in raw:
        return "email"
    if raw.lstrip("+").replace(" ", "").isdigit():
        return "phone"
    return "domain"


def fake_normalize(kind: str | None, raw: str) -> tuple[str, str]:
    """Trivial canonical form: strip spaces; ``bad...`` is invalid."""
    if raw.startswith("bad"):
        raise InvalidIdentifier(kind or "phone", "not a valid number", raw)
    k = kind or fake_kind(raw)
    return k, raw.replace(" ", "").lower()


class FakeSnapshot:
    """A dict of canonical value -> (level, reasons); everything else is NO RECORD."""

    def __init__(
        self,
        snapshot_id: str,
        listed: Mapping[str, Level] | None = None,
        *,
        as_of: str = "2026-11-26T00:00:00Z",
        gate: threading.Event | None = None,
        entered: threading.Event | None = None,
    ) -> None:
        self.id = snapshot_id
        self.listed = dict(listed or {})
        self.manifest = FakeManifest(
            snapshot_id,
            as_of=as_of,
            counts={"phone": {"high_risk": len(self.listed)}},
            total=len(self.listed),
        )
        self.closed = False
        self.gate = gate
        self.entered = entered

    def check(
        self, raw: str, kind: str | None = None, *, context: CheckContext | None = None
    ) -> Verdict:
        if self.closed:
            raise AssertionError("lookup on a closed snapshot")
        if self.entered is not None:
            self.entered.set()
        if self.gate is not None:
            self.gate.wait()
        k, canonical = fake_normalize(kind, raw)
        level = self.listed.get(canonical, Level.NO_RECORD)
        reasons: tuple[Reason, ...] = (
            (Reason.of(ReasonCode.NO_RECORD),)
            if level is Level.NO_RECORD
            else (Reason.of(ReasonCode.POLICE_CONFIRMED),)
        )
        if context is not None and context.overseas and canonical.startswith("+852"):
            reasons += (Reason.of(ReasonCode.OVERSEAS_CALL_LOCAL_NUMBER),)
            level = Level.SUSPICIOUS if level is Level.NO_RECORD else level
        return Verdict(
            input=raw,
            kind=k,
            canonical=canonical,
            level=level,
            reasons=reasons,
            categories=("investment",) if level is not Level.NO_RECORD else (),
            report_count=3 if level is not Level.NO_RECORD else 0,
            snapshot=self.id,
        )

    def check_many(self, raws: Sequence[str], kind: str | None = None) -> list[Verdict]:
        out = []
        for raw in raws:
            try:
                out.append(self.check(raw, kind))
            except InvalidIdentifier as e:
                out.append(Verdict.invalid(raw, str(e), e.kind))
        return out

    def check_batch(self, raws: Sequence[str], kind: str | None = None) -> BatchAnswer:
        # Every row with its full verdict: a batch answer with no plain misses.
        n = len(raws)
        return BatchAnswer(raws, list(self.check_many(raws, kind)), [None] * n, [None] * n, self.id)

    def related(
        self, raw: str, kind: str | None = None, *, limit: int | None = None
    ) -> list[Verdict]:
        base = self.check(raw, kind)
        others = [self.check(v) for v in sorted(self.listed) if v != base.canonical]
        others = [replace(v, cluster_size=len(others) + 1) for v in others]
        return others[:limit]


class FakeSource:
    """Refcounted current-snapshot holder with a publish() for tests."""

    def __init__(self, snap: FakeSnapshot | None = None) -> None:
        self._lock = threading.Lock()
        self._current = snap
        self._refs: dict[int, int] = {}
        self._retired: set[int] = set()
        self.snapshots: dict[int, FakeSnapshot] = {}

    def publish(self, snap: FakeSnapshot) -> None:
        with self._lock:
            old = self._current
            self._current = snap
            if old is not None:
                if self._refs.get(id(old), 0) == 0:
                    old.closed = True
                else:
                    self._retired.add(id(old))
                    self.snapshots[id(old)] = old

    @contextmanager
    def acquire(self) -> Iterator[FakeSnapshot]:
        with self._lock:
            snap = self._current
            if snap is None:
                raise SnapshotNotFound("/fake", "no CURRENT")
            self._refs[id(snap)] = self._refs.get(id(snap), 0) + 1
        try:
            yield snap
        finally:
            with self._lock:
                self._refs[id(snap)] -= 1
                if self._refs[id(snap)] == 0 and id(snap) in self._retired:
                    snap.closed = True
                    self._retired.discard(id(snap))
