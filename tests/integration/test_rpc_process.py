"""The server as a real process: durable reports across kill -9, graceful SIGTERM, workers."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import grpc
import pytest

from scameter.index import Snapshot
from scameter.ingest.pipeline import run_ingest
from scameter.intake import IntakeLog
from scameter.rpc import Client, issue_reporter_token
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.verdict import Level
from tests.unit.rpc.procs import build_snapshot, server_process

SECRET = "process-test-secret-0123456789abcdef"
LISTED = "+85291234567"
REPORTED = "+85255550123"


def test_acknowledged_report_survives_kill_9_and_reaches_ingest(tmp_path: Path) -> None:
    snaps, intake = tmp_path / "snapshots", tmp_path / "intake"
    build_snapshot(snaps, [LISTED])
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth"]
    args += ["--intake-log", str(intake)]
    with server_process(args, env={"SCAMETER_REPORTER_SECRET": SECRET}) as srv:
        with Client(srv.target, timeout=10) as c:
            assert c.check(LISTED).level is Level.HIGH_RISK
            token = issue_reporter_token(SECRET.encode(), "+85298765432", 600)
            report_id, duplicate = c.report([("phone", "5555 0123")], "investment", "hi", token)
        assert not duplicate
        srv.proc.send_signal(signal.SIGKILL)  # right after the ack: no chance to flush
        assert srv.proc.wait(30) == -signal.SIGKILL
    with IntakeLog(intake, readonly=True) as log:
        rows = list(log.iter_reports())
    assert [r["id"] for r in rows] == [report_id]
    result = run_ingest([intake], snaps, input_format="intake")
    assert result is not None
    with Snapshot.open_current(snaps) as snap:
        v = snap.check(REPORTED, "phone")
    assert v.level is not Level.NO_RECORD
    assert v.report_count == 1


# The blocking hook lives in the test's launcher, never in the product: a SnapshotManager whose
# acquire() on an RPC handler thread announces itself on stdout and waits for "go" on stdin.
HOLD = """
import sys, threading, contextlib
import scameter.index as index
import scameter.rpc.server as server

class Held(index.SnapshotManager):
    @contextlib.contextmanager
    def acquire(self):
        with super().acquire() as snap:
            if threading.current_thread().name.startswith("scameter-w"):
                print("entered", flush=True)
                sys.stdin.readline()
            yield snap

server.SnapshotManager = Held  # the manager run_worker creates
sys.exit(server.main(sys.argv[1:]))
"""


def test_sigterm_finishes_the_in_flight_call_and_exits_0(tmp_path: Path) -> None:
    snaps = tmp_path / "snapshots"
    build_snapshot(snaps, [LISTED])
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth", "--grace", "30"]
    with server_process(args, code=HOLD) as srv:
        assert srv.proc.stdin is not None
        assert srv.proc.stdout is not None
        with grpc.insecure_channel(srv.target) as ch:
            stub = pb_grpc.ScameterStub(ch)
            call = stub.Check.future(pb.CheckRequest(identifier=LISTED), timeout=60)
            assert srv.proc.stdout.readline().strip() == "entered"
            srv.proc.send_signal(signal.SIGTERM)
            srv.read_event("draining")
            srv.proc.stdin.write("go\n")
            srv.proc.stdin.flush()
            resp = call.result()
        assert resp.verdict.level == pb.LEVEL_HIGH_RISK
        assert srv.proc.wait(30) == 0
        srv.read_event("stopped")


@pytest.mark.parametrize("workers", [2])
def test_workers_share_one_port(tmp_path: Path, workers: int) -> None:
    snaps = tmp_path / "snapshots"
    build_snapshot(snaps, [LISTED])
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth"]
    args += ["--workers", str(workers)]
    with server_process(args) as srv:
        ports = {srv.port} | {srv.read_event("serving")["port"] for _ in range(workers - 1)}
        assert ports == {srv.port}
        pids = {e["pid"] for e in srv.events if e.get("event") == "serving"}
        assert len(pids) == workers
        errors: list[BaseException] = []

        def hammer() -> None:
            try:
                with Client(srv.target, timeout=10) as c:
                    for _ in range(20):
                        assert c.check(LISTED).level is Level.HIGH_RISK
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(60) == 0


def test_a_killed_worker_is_restarted(tmp_path: Path) -> None:
    snaps = tmp_path / "snapshots"
    build_snapshot(snaps, [LISTED])
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth", "--workers", "2"]
    with server_process(args) as srv:
        second = srv.read_event("serving")
        victim = int(second["pid"])
        os.kill(victim, signal.SIGKILL)
        srv.read_event("serving")  # the replacement announces itself
        pids = [e["pid"] for e in srv.events if e.get("event") == "serving"]
        assert len(pids) == 3
        assert pids[-1] != victim
        with Client(srv.target, timeout=10) as c:
            assert c.check(LISTED).level is Level.HIGH_RISK
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(60) == 0


def _key_file(path: Path, *entries: tuple[str, str, str]) -> None:
    """A key file of ``(name, key, extra TOML)`` entries."""
    from scameter.rpc.auth import hash_key

    path.write_text(
        "".join(
            f'[[key]]\nname = "{name}"\nsha256 = "{hash_key(key)}"\nroles = ["check"]\n{extra}\n'
            for name, key, extra in entries
        ),
        encoding="utf-8",
    )


def _outcome(target: str, key: str) -> str:
    try:
        with Client(target, key, timeout=10) as c:
            c.check(LISTED)
    except Exception as e:
        return getattr(e, "code", type(e).__name__)
    return "OK"


def test_rate_limit_holds_across_workers_and_sighup_reloads_keys(tmp_path: Path) -> None:
    snaps, keys = tmp_path / "snapshots", tmp_path / "keys.toml"
    build_snapshot(snaps, [LISTED])
    _key_file(keys, ("slow", "sk_slow", "rate = 0.001\nburst = 3"), ("old", "sk_old", ""))
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--workers", "2"]
    with server_process([*args, "--auth-keys", str(keys)]) as srv:
        srv.read_event("serving")  # both workers are up
        # A fresh connection per call lands on either worker (SO_REUSEPORT); with per-worker
        # buckets up to 2 x 3 calls would pass.
        outcomes = [_outcome(srv.target, "sk_slow") for _ in range(12)]
        assert outcomes.count("OK") == 3
        assert set(outcomes) == {"OK", "RESOURCE_EXHAUSTED"}
        # Replace "old" by "new"; SIGHUP makes every worker re-read the file.
        _key_file(keys, ("slow", "sk_slow", "rate = 0.001\nburst = 3"), ("new", "sk_new", ""))
        srv.proc.send_signal(signal.SIGHUP)
        got: list[str] = []
        for _ in range(50):
            got = [_outcome(srv.target, k) for k in ("sk_new", "sk_old") for _ in range(4)]
            if got == ["OK"] * 4 + ["UNAUTHENTICATED"] * 4:
                break
            threading.Event().wait(0.2)
        assert got == ["OK"] * 4 + ["UNAUTHENTICATED"] * 4
        # The reload kept the slow key's empty bucket: no refill by reloading.
        assert _outcome(srv.target, "sk_slow") == "RESOURCE_EXHAUSTED"
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(60) == 0
