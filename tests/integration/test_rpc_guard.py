"""Auth, roles, rate limits, overload, deadlines, health transitions and hot swap under load."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scameter.rpc import Client, RemoteError, issue_reporter_token
from scameter.verdict import Level
from tests.unit.rpc.fakes import FakeSnapshot, FakeSource
from tests.unit.rpc.harness import (
    NOT_SERVING,
    SECRET,
    SERVING,
    Harness,
    await_status,
    health_statuses,
    serve_fake,
)

Call = Callable[[Client], Any]

CALLS: dict[str, Call] = {
    "Check": lambda c: c.check("+85291234567"),
    "Related": lambda c: c.related("+85291234567"),
    "GetSnapshotInfo": lambda c: c.snapshot_info(),
    "CheckPayee": lambda c: c.check_payee("+85291234567"),
    "CheckBatch": lambda c: c.check_batch(["+85291234567"]),
    "Report": lambda c: c.report(
        ["+85255550000"], "investment", "x", issue_reporter_token(SECRET, "r", 600)
    ),
}

#: RPC -> the test keys that may call it (admin may call everything).
ALLOWED = {
    "Check": {"k-admin", "k-check"},
    "Related": {"k-admin", "k-check"},
    "GetSnapshotInfo": {"k-admin", "k-check"},
    "CheckPayee": {"k-admin", "k-payee"},
    "CheckBatch": {"k-admin", "k-bulk"},
    "Report": {"k-admin", "k-report"},
}
KEYS = ["k-admin", "k-check", "k-payee", "k-bulk", "k-report"]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    source = FakeSource(FakeSnapshot("s1", {"+85291234567": Level.HIGH_RISK}))
    with serve_fake(tmp_path_factory.mktemp("guard"), source) as h:
        yield h


@pytest.mark.parametrize(
    ("rpc", "key"),
    [(rpc, key) for rpc in CALLS for key in KEYS],
    ids=[f"{rpc}-{key}" for rpc in CALLS for key in KEYS],
)
def test_roles(harness: Harness, rpc: str, key: str) -> None:
    with Client(harness.target, key) as c:
        if key in ALLOWED[rpc]:
            CALLS[rpc](c)
        else:
            with pytest.raises(RemoteError) as exc:
                CALLS[rpc](c)
            assert exc.value.code == "PERMISSION_DENIED"


@pytest.mark.parametrize("key", [None, "k-unknown"], ids=["no-key", "unknown-key"])
@pytest.mark.parametrize("rpc", list(CALLS))
def test_unauthenticated(harness: Harness, rpc: str, key: str | None) -> None:
    with Client(harness.target, key) as c, pytest.raises(RemoteError) as exc:
        CALLS[rpc](c)
    assert exc.value.code == "UNAUTHENTICATED"


def test_rate_limit_per_key(harness: Harness) -> None:
    """k-slow: 1 request/s, burst 2, on a frozen clock the test advances."""
    with Client(harness.target, "k-slow") as slow, Client(harness.target, "k-check") as other:
        slow.check("+85291234567")
        slow.check("+85291234567")
        with pytest.raises(RemoteError) as exc:
            slow.check("+85291234567")
        assert exc.value.code == "RESOURCE_EXHAUSTED"
        other.check("+85291234567")  # other keys are not affected
        harness.bucket_clock.now += 1.0
        slow.check("+85291234567")
        with pytest.raises(RemoteError):
            slow.check("+85291234567")


def _gated(tmp_path: Path, **config: Any) -> tuple[FakeSnapshot, threading.Event, threading.Event]:
    gate, entered = threading.Event(), threading.Event()
    return FakeSnapshot("slow", gate=gate, entered=entered), gate, entered


def test_overload_fails_fast_with_resource_exhausted(tmp_path: Path) -> None:
    snap, gate, entered = _gated(tmp_path)
    with serve_fake(tmp_path, FakeSource(snap), max_concurrent_rpcs=1) as h:
        with Client(h.target, "k-admin", timeout=30) as a, Client(h.target, "k-admin") as b:
            result: list[Level] = []
            t = threading.Thread(target=lambda: result.append(a.check("+85290000000").level))
            t.start()
            assert entered.wait(10)
            with pytest.raises(RemoteError) as exc:
                b.check("+85290000001")
            assert exc.value.code == "RESOURCE_EXHAUSTED"
            gate.set()
            t.join()
        assert result == [Level.NO_RECORD]


def test_deadline_exceeded(tmp_path: Path) -> None:
    snap, gate, _entered = _gated(tmp_path)
    with serve_fake(tmp_path, FakeSource(snap)) as h, Client(h.target, "k-admin", timeout=0.2) as c:
        try:
            with pytest.raises(RemoteError) as exc:
                c.check("+85290000000")
            assert exc.value.code == "DEADLINE_EXCEEDED"
        finally:
            gate.set()


def test_health_not_serving_until_a_snapshot_then_serving(tmp_path: Path) -> None:
    source = FakeSource()
    with serve_fake(tmp_path, source) as h:
        channel, statuses = health_statuses(h.target, "scameter.v1.Scameter")
        with channel:
            await_status(statuses, NOT_SERVING)
            source.publish(FakeSnapshot("first"))
            await_status(statuses, SERVING)


def test_health_not_serving_when_stale(tmp_path: Path) -> None:
    now = [datetime(2026, 11, 26, 1, 0, tzinfo=UTC)]
    source = FakeSource(FakeSnapshot("s", as_of="2026-11-26T00:00:00Z"))
    with serve_fake(
        tmp_path, source, clock=lambda: now[0], max_snapshot_age=timedelta(hours=2)
    ) as h:
        channel, statuses = health_statuses(h.target)
        with channel, Client(h.target, "k-admin") as c:
            await_status(statuses, SERVING)
            now[0] += timedelta(hours=2, seconds=1)
            await_status(statuses, NOT_SERVING)
            # Stale data still answers: health tells the balancer, lookups keep working.
            assert c.check("+85290000000").snapshot == "s"
            source.publish(FakeSnapshot("fresh", as_of="2026-11-26T03:00:00Z"))
            await_status(statuses, SERVING)


def _answered_by(snapshot: str, seen: set[str], errors: list[BaseException]) -> Callable[[], bool]:
    return lambda: snapshot in seen or bool(errors)


def test_hot_swap_under_concurrent_load_has_zero_errors(tmp_path: Path) -> None:
    source = FakeSource(FakeSnapshot("v0", {"+85291234567": Level.HIGH_RISK}))
    swaps = 8
    seen: set[str] = set()
    errors: list[BaseException] = []
    cond = threading.Condition()
    done = threading.Event()

    def load(target: str) -> None:
        with Client(target, "k-admin", timeout=10) as c:
            while not done.is_set():
                try:
                    v = c.check("+85291234567")
                    b = c.check_batch(["+85291234567", "+85290000000"])
                except Exception as e:
                    errors.append(e)
                    return
                assert v.level is Level.HIGH_RISK
                assert b[0].level is Level.HIGH_RISK
                with cond:
                    seen.add(v.snapshot or "")
                    cond.notify_all()

    with serve_fake(tmp_path, source) as h:
        threads = [threading.Thread(target=load, args=(h.target,)) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for i in range(1, swaps + 1):
                source.publish(FakeSnapshot(f"v{i}", {"+85291234567": Level.HIGH_RISK}))
                with cond:  # wait until a caller has been answered by the new snapshot
                    assert cond.wait_for(_answered_by(f"v{i}", seen, errors), 30)
        finally:
            done.set()
            for t in threads:
                t.join()
    assert errors == []
    assert {f"v{i}" for i in range(1, swaps + 1)} <= seen
