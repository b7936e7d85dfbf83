"""An in-process scameter server on 127.0.0.1:0 with injected fakes, for RPC tests."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from scameter.intake import IntakeLog, hash_reporter
from scameter.rpc.auth import ApiKey, Authorizer, KeyStore, Role, hash_key
from scameter.rpc.client import Client
from scameter.rpc.server import ServerConfig
from scameter.rpc.source import SnapshotSource
from scameter.rpc.worker import RunningServer, start_worker
from tests.unit.rpc.fakes import fake_normalize
from tests.unit.rpc.http_client import HttpClient

#: The transports integration tests run over.
TRANSPORTS = ("grpc", "http")

SECRET = b"test-reporter-secret-0123456789abcdef"
HASH_KEY = b"test-reporter-hash-key"

#: API key string -> (name, roles, rate, burst)
KEYS: dict[str, tuple[str, frozenset[Role], float | None, float | None]] = {
    "k-admin": ("admin", frozenset({Role.ADMIN}), None, None),
    "k-check": ("checker", frozenset({Role.CHECK}), None, None),
    "k-payee": ("bank", frozenset({Role.PAYEE}), None, None),
    "k-bulk": ("bulk", frozenset({Role.BULK}), None, None),
    "k-report": ("app", frozenset({Role.REPORT}), None, None),
    "k-slow": ("slow", frozenset({Role.CHECK}), 1.0, 2.0),
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keystore(clock: Callable[[], float]) -> KeyStore:
    return KeyStore(
        [
            ApiKey(name, hash_key(key), roles, rate, burst)
            for key, (name, roles, rate, burst) in KEYS.items()
        ],
        clock=clock,
    )


@dataclass
class Harness:
    running: RunningServer
    target: str
    intake: IntakeLog
    bucket_clock: FakeClock
    transport: str = "grpc"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.running.http_port}"

    def client(self, api_key: str | None = None, **kw: Any) -> Client | HttpClient:
        """A client of this server over ``transport`` (``grpc`` or ``http``)."""
        if self.transport == "http":
            return HttpClient(self.http_base, api_key, **kw)
        return Client(self.target, api_key, **kw)


@contextmanager
def serve_fake(
    tmp: Path,
    source: SnapshotSource,
    *,
    authorizer: Authorizer | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    normalizer: Callable[[str | None, str], tuple[str, str]] = fake_normalize,
    transport: str = "grpc",
    **config: Any,
) -> Iterator[Harness]:
    bucket_clock = FakeClock()
    cfg = ServerConfig(
        snapshots_root=tmp / "snapshots",
        listen="127.0.0.1:0",
        no_auth=True,
        intake_log=tmp / "intake",
        reporter_token_secret=SECRET,
        poll_interval=config.pop("poll_interval", 0.02),
        http=config.pop("http", "127.0.0.1:0" if transport == "http" else None),
        **config,
    )
    intake = IntakeLog(tmp / "intake")
    running = start_worker(
        cfg,
        source=source,
        authorizer=authorizer if authorizer is not None else keystore(bucket_clock),
        intake=intake,
        reporter_hasher=lambda r: hash_reporter(r, HASH_KEY),
        normalizer=normalizer,
        clock=clock,
    )
    try:
        yield Harness(running, f"127.0.0.1:{running.port}", intake, bucket_clock, transport)
    finally:
        running.stop(None)
        intake.close()


def health_statuses(target: str, service: str = "") -> tuple[grpc.Channel, queue.Queue[int]]:
    """Start a health Watch; statuses arrive on the returned queue as they change."""
    channel = grpc.insecure_channel(target)
    stub = health_pb2_grpc.HealthStub(channel)
    q: queue.Queue[int] = queue.Queue()
    stream = stub.Watch(health_pb2.HealthCheckRequest(service=service))

    def pump() -> None:
        try:
            for resp in stream:
                q.put(resp.status)
        except grpc.RpcError:
            pass

    threading.Thread(target=pump, daemon=True).start()
    return channel, q


def await_status(q: queue.Queue[int], wanted: int, timeout: float = 10.0) -> None:
    """Consume statuses until ``wanted`` arrives (fails after ``timeout``: a safety net)."""
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while True:
        left = (deadline - datetime.now(UTC)).total_seconds()
        status = q.get(timeout=max(left, 0.001))
        if status == wanted:
            return


SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
