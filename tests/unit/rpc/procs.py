"""Start ``scameter serve`` as a real subprocess and learn its port from its first log line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scameter.identifiers import Identifier, Kind
from scameter.index import Record, SnapshotBuilder, publish
from scameter.verdict import Level, ReasonCode

REPO = Path(__file__).resolve().parents[3]


def build_snapshot(
    root: Path,
    phones: Sequence[str],
    *,
    as_of: datetime | None = None,
    level: Level = Level.HIGH_RISK,
) -> str:
    """Build and publish a snapshot listing ``phones`` (canonical E.164); returns its id."""
    with SnapshotBuilder(root, as_of=as_of or datetime.now(UTC)) as b:
        for p in phones:
            b.add(
                Record(
                    Identifier(Kind.PHONE, p),
                    level,
                    reasons=(ReasonCode.POLICE_CONFIRMED,),
                    categories=("investment",),
                    sources=("police",),
                    report_count=1,
                    reporters=1,
                )
            )
        manifest = b.build()
    publish(root, manifest.snapshot_id)
    return manifest.snapshot_id


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    port: int
    events: list[dict[str, Any]]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def read_event(self, name: str) -> dict[str, Any]:
        """Block until the server logs ``{"event": name}`` (or exits)."""
        assert self.proc.stderr is not None
        return _read_until(self.proc.stderr, name, self.events)


def _read_until(stream: IO[str], name: str, seen: list[dict[str, Any]]) -> dict[str, Any]:
    for line in stream:
        try:
            event: dict[str, Any] = json.loads(line)
        except ValueError:
            continue
        seen.append(event)
        if event.get("event") == name:
            return event
    raise AssertionError(f"server exited before logging {name!r}: {seen}")


@contextmanager
def server_process(
    args: Sequence[str], *, code: str | None = None, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    """Run ``python -m scameter.rpc ARGS`` (or ``python -c CODE ARGS``)."""
    cmd = [sys.executable, *(["-c", code] if code else ["-m", "scameter.rpc"]), *args]
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=full_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Its own process group: the supervisor's workers and live fold go with it below,
        # even when a failing test leaves it no time to stop them itself.
        start_new_session=True,
    )
    events: list[dict[str, Any]] = []
    try:
        assert proc.stderr is not None
        serving = _read_until(proc.stderr, "serving", events)
        yield ServerProcess(proc, int(serving["port"]), events)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        # Whatever of the group outlived the supervisor (workers, the live fold).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for s in (proc.stdin, proc.stdout, proc.stderr):
            if s is not None:
                s.close()
