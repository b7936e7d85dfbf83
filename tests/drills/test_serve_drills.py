"""Drills against ``scameter serve`` as real processes (2 workers on one loopback port):

* ``kill -9`` of a serving worker, twice, and hot swaps every few hundred ms while clients
  call Check and Report: every acknowledged report id is in the intake log, no answer is
  wrong, and calls fail only in the moment a worker dies (its in-flight calls);
* a short soak, clients and repeated swaps with no kill: zero failed calls.

Counts are printed (``-s``) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from scameter.errors import ScameterError
from scameter.intake import IntakeLog
from scameter.rpc import Client, issue_reporter_token
from scameter.verdict import Level
from tests.unit.rpc.procs import ServerProcess, build_snapshot, server_process

SECRET = "drill-serve-reporter-secret-0123456789"
LISTED = "+85291234567"
#: A failed call within this long after a kill is one of the killed worker's in-flight calls.
KILL_WINDOW = 2.0


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    checks: int = 0
    wrong: int = 0
    acked: list[str] = field(default_factory=list)
    failures: list[tuple[float, str, str]] = field(default_factory=list)  # (when, rpc, code)

    def failed(self, rpc: str, e: ScameterError) -> None:
        with self.lock:
            self.failures.append((time.monotonic(), rpc, str(getattr(e, "code", type(e).__name__))))


def _checker(target: str, stop: threading.Event, t: Tally) -> None:
    with Client(target, timeout=10) as c:
        while not stop.is_set():
            try:
                level = c.check(LISTED).level
            except ScameterError as e:
                t.failed("Check", e)
                continue
            with t.lock:
                t.checks += 1
                t.wrong += level is not Level.HIGH_RISK


_numbers = itertools.count()


def _reporter(target: str, stop: threading.Event, t: Tally) -> None:
    with Client(target, timeout=10) as c:
        while not stop.is_set():
            n = next(_numbers)  # a new number and a new reporter each time: no cap, no burst
            token = issue_reporter_token(SECRET.encode(), f"+8529{n:07d}", 600)
            try:
                report_id, _ = c.report([("phone", f"5{n:07d}")], "investment", "drill", token)
            except ScameterError as e:
                t.failed("Report", e)
                continue
            with t.lock:
                t.acked.append(report_id)


#: Hot swaps every drill makes at least (the soak asserts them).
MIN_SWAPS = 10


def _run(tmp: Path, seconds: float, kills: int) -> tuple[Tally, int, list[float], set[str]]:
    snaps, intake = tmp / "snapshots", tmp / "intake"
    build_snapshot(snaps, [LISTED])
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth", "--workers", "2"]
    args += ["--intake-log", str(intake), "--poll-interval", "0.1"]
    tally, stop, swaps, kill_times = Tally(), threading.Event(), 0, []
    with server_process(args, env={"SCAMETER_REPORTER_SECRET": SECRET}) as srv:
        srv.read_event("serving")  # both workers up
        _drain(srv)
        threads = [
            threading.Thread(target=_checker, args=(srv.target, stop, tally)) for _ in range(3)
        ]
        threads += [
            threading.Thread(target=_reporter, args=(srv.target, stop, tally)) for _ in range(2)
        ]
        for th in threads:
            th.start()
        start = time.monotonic()
        kill_at = [start + seconds * (k + 1) / (kills + 1) for k in range(kills)]
        try:
            # At least ``seconds``, MIN_SWAPS swaps and every kill: counts, not a rate, so
            # that a slow machine runs longer rather than failing (at most 6x ``seconds``).
            while time.monotonic() - start < seconds * 6 and (
                time.monotonic() - start < seconds or swaps < MIN_SWAPS or kill_at
            ):
                build_snapshot(snaps, [LISTED, f"+8529123{swaps:04d}"])  # a hot swap
                swaps += 1
                if kill_at and time.monotonic() >= kill_at[0]:
                    kill_at.pop(0)
                    kill_times.append(time.monotonic())
                    _kill_a_worker(srv)
                time.sleep(0.3)
        finally:
            stop.set()
            for th in threads:
                th.join(30)
        assert srv.proc.poll() is None, "the supervisor stayed up"
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(60) == 0
    with IntakeLog(intake, readonly=True) as log:
        logged = {r["id"] for r in log.iter_reports()}
    return tally, swaps, kill_times, logged


def _drain(srv: ServerProcess) -> threading.Thread:
    """Read the server's log lines into ``srv.events`` for the rest of its life: a log pipe
    nobody reads fills up and blocks the server (every swap logs a line per worker)."""

    def pump() -> None:
        assert srv.proc.stderr is not None
        for line in srv.proc.stderr:
            with contextlib.suppress(ValueError):
                srv.events.append(json.loads(line))

    th = threading.Thread(target=pump, daemon=True)
    th.start()
    return th


def _serving(srv: ServerProcess) -> list[int]:
    return [int(e["pid"]) for e in list(srv.events) if e.get("event") == "serving"]


def _kill_a_worker(srv: ServerProcess) -> None:
    """SIGKILL the latest serving worker, then wait for its replacement to serve."""
    before = _serving(srv)
    os.kill(before[-1], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while len(_serving(srv)) == len(before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_serving(srv)) > len(before), "the supervisor restarted the worker"


def test_kill_9_of_a_worker_and_hot_swaps_lose_no_acknowledged_report(tmp_path: Path) -> None:
    tally, swaps, kill_times, logged = _run(tmp_path, seconds=8.0, kills=2)
    lost = [r for r in tally.acked if r not in logged]
    outside = [
        f for f in tally.failures if not any(0 <= f[0] - k < KILL_WINDOW for k in kill_times)
    ]
    print(
        f"\nkill+swap drill: {tally.checks} checks, {len(tally.acked)} acknowledged reports, "
        f"{swaps} swaps, {len(kill_times)} worker kills; lost {len(lost)}, wrong {tally.wrong}, "
        f"failed calls {len(tally.failures)} ({len(outside)} outside the kill moments): "
        f"{sorted({(rpc, code) for _, rpc, code in tally.failures})}"
    )
    assert len(kill_times) == 2
    assert tally.checks > 0
    assert tally.acked
    assert lost == []
    assert tally.wrong == 0
    assert outside == []


def test_soak_clients_and_swaps_fail_no_call(tmp_path: Path) -> None:
    tally, swaps, _, logged = _run(tmp_path, seconds=8.0, kills=0)
    print(
        f"\nsoak: {tally.checks} checks, {len(tally.acked)} reports, {swaps} swaps; failed "
        f"calls {len(tally.failures)}, wrong {tally.wrong}, lost {len(set(tally.acked) - logged)}"
    )
    assert swaps >= MIN_SWAPS
    assert tally.failures == []
    assert tally.wrong == 0
    assert set(tally.acked) <= logged
