"""The server over real snapshots (SnapshotBuilder + SnapshotManager): same answers as the
in-process lookup, health before/after the first publish, hot swap under load."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scameter.index import SnapshotManager
from scameter.rpc import Client, issue_reporter_token
from scameter.rpc.servicer import default_normalizer
from scameter.verdict import Channel, CheckContext, Level
from tests.unit.rpc.harness import (
    NOT_SERVING,
    SECRET,
    SERVING,
    await_status,
    health_statuses,
    serve_fake,
)
from tests.unit.rpc.procs import build_snapshot

LISTED = ["+85291234567", "+85261234567", "+85251234567"]
PROBES = ["9123 4567", "+852 6123-4567", "+85290000000", "5123 4567"]


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[SnapshotManager]:
    mgr = SnapshotManager(tmp_path / "snapshots", poll_interval=0.02)
    mgr.start()
    yield mgr
    mgr.stop()


def test_remote_verdicts_equal_local_ones(tmp_path: Path, manager: SnapshotManager) -> None:
    build_snapshot(tmp_path / "snapshots", LISTED)
    with (
        serve_fake(tmp_path, manager, normalizer=default_normalizer) as h,
        Client(h.target, "k-admin") as c,
        manager.acquire() as local,  # LMDB: one open environment per process
    ):
        for raw in PROBES:
            assert c.check(raw) == local.check(raw)
            assert c.check(raw).to_dict() == local.check(raw).to_dict()
        ctx = CheckContext(Channel.INCOMING_CALL, overseas=True)
        assert c.check(PROBES[2], context=ctx) == local.check(PROBES[2], context=ctx)
        assert c.check_batch(PROBES) == local.check_many(PROBES)
        assert c.related(PROBES[0]) == local.related(PROBES[0], limit=100)
        payee = c.check_payee(proxy_id="9123 4567")
        assert payee.alert
        assert payee.level is Level.HIGH_RISK
        info = c.snapshot_info()
        assert info["snapshot_id"] == local.id
        assert info["total"] == len(LISTED)
        token = issue_reporter_token(SECRET, "+85298765432", 60)
        _rid, duplicate = c.report(["9123 4567"], "investment", "a broker", token)
        assert not duplicate
        rows = list(h.intake.iter_reports())
        assert rows[0]["identifiers"] == [{"kind": "phone", "value": "+85291234567"}]


def test_health_serving_after_the_first_publish(tmp_path: Path, manager: SnapshotManager) -> None:
    with serve_fake(tmp_path, manager, normalizer=default_normalizer) as h:
        channel, statuses = health_statuses(h.target)
        with channel:
            await_status(statuses, NOT_SERVING)
            build_snapshot(tmp_path / "snapshots", LISTED)
            await_status(statuses, SERVING)


def _seen(snapshot: str, seen: set[str], errors: list[BaseException]) -> Callable[[], bool]:
    return lambda: snapshot in seen or bool(errors)


def test_swap_real_snapshots_under_load(tmp_path: Path, manager: SnapshotManager) -> None:
    root = tmp_path / "snapshots"
    build_snapshot(root, LISTED)
    seen: set[str] = set()
    errors: list[BaseException] = []
    cond = threading.Condition()
    done = threading.Event()

    def load(target: str) -> None:
        with Client(target, "k-admin", timeout=10) as c:
            while not done.is_set():
                try:
                    v = c.check("9123 4567")
                    c.check_batch(PROBES)
                except Exception as e:
                    errors.append(e)
                    return
                with cond:
                    seen.add(v.snapshot or "")
                    cond.notify_all()

    with serve_fake(tmp_path, manager, normalizer=default_normalizer) as h:
        threads = [threading.Thread(target=load, args=(h.target,)) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            for i in range(3):
                sid = build_snapshot(root, [*LISTED, f"+8529876543{i}"])
                with cond:
                    assert cond.wait_for(_seen(sid, seen, errors), 30)
        finally:
            done.set()
            for t in threads:
                t.join()
    assert errors == []
    assert len(seen) >= 4
