"""One serving process: the gRPC server, its health service, snapshot monitor and metrics.

Responsibility: assemble and run a single gRPC server in the current process from a
:class:`~scameter.rpc.config.ServerConfig` and injected collaborators. :mod:`scameter.rpc.server`
runs one per process (the supervisor forks several); tests start one in-process on
``127.0.0.1:0``.

Invariants:
* Health (``grpc.health.v1``, service ``""`` and ``scameter.v1.Scameter``) is NOT_SERVING until
  a snapshot can be acquired, and again whenever the live one is older than ``max_snapshot_age``
  (lookups keep answering from it: stale data beats no answer; the load balancer decides).
* The monitor reacts within ``poll_interval`` and waits on an Event, so stopping is immediate.
* ``stop()`` first flips health to NOT_SERVING (so balancers drain), then stops accepting and
  lets in-flight calls finish for up to ``grace`` seconds.
* Nothing here creates a gRPC object at import time (the parent forks before any exists).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

from scameter.errors import SnapshotError
from scameter.intake import IntakePolicy
from scameter.rpc import convert
from scameter.rpc.auth import Authorizer
from scameter.rpc.config import ServerConfig, split_listen
from scameter.rpc.http import HttpContext, HttpServer, build_app, ssl_options
from scameter.rpc.metrics import Metrics, start_metrics_server
from scameter.rpc.servicer import ScameterServicer
from scameter.rpc.source import IntakeSink, SnapshotSource, snapshot_age
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.times import utc_now

log = logging.getLogger("scameter.rpc")

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["Scameter"].full_name
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthMonitor:
    """Keeps the health status in line with the snapshot source (see module invariants)."""

    def __init__(
        self,
        source: SnapshotSource,
        servicer: health.HealthServicer,
        metrics: Metrics,
        *,
        max_age: timedelta | None,
        interval: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._source = source
        self._health = servicer
        self._metrics = metrics
        self._max_age = None if max_age is None else max_age.total_seconds()
        self._interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scameter-health", daemon=True)
        self.status: Any = None

    def evaluate(self) -> bool:
        """Recompute the status now; returns whether it is SERVING."""
        serving = False
        try:
            with self._source.acquire() as snap:
                age = snapshot_age(snap.manifest, self._clock())
                sid = snap.id
            self._metrics.snapshot_age.set(age)
            self._metrics.live_snapshot(sid)
            serving = self._max_age is None or age <= self._max_age
        except SnapshotError:
            self._metrics.snapshot_age.set(-1)
            self._metrics.live_snapshot(None)
        # A SnapshotManager's view of CURRENT (fakes in tests have none).
        self._metrics.verify_failures.set(getattr(self._source, "verify_failures", 0))
        unservable = getattr(self._source, "last_error", None) is not None
        self._metrics.current_unservable.set(1 if unservable else 0)
        status = _SERVING if serving else _NOT_SERVING
        if status != self.status and not self._stop.is_set():
            self.status = status
            for name in ("", SERVICE_NAME):
                self._health.set(name, status)
            self._metrics.serving.set(1 if serving else 0)
            log.info("health", extra={"serving": serving})
        return serving

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.evaluate()
            except Exception as e:  # the monitor must outlive a bad manifest
                log.error("health check failed", extra={"error_type": type(e).__name__})

    def start(self) -> None:
        self.evaluate()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


@dataclass(slots=True)
class RunningServer:
    """A started server. ``port`` is the bound port (useful with ``:0``)."""

    server: grpc.Server
    port: int
    health: health.HealthServicer
    monitor: HealthMonitor
    metrics: Metrics
    metrics_port: int | None
    _http: Any = None
    web: HttpServer | None = None

    @property
    def http_port(self) -> int | None:
        """The bound HTTP/JSON port (``--http``), ``None`` without one."""
        return None if self.web is None else self.web.port

    def stop(self, grace: float | None) -> None:
        """Drain: NOT_SERVING, stop accepting, finish in-flight calls (up to ``grace`` s)."""
        self.monitor.stop()
        self.health.enter_graceful_shutdown()
        if self.web is not None:
            self.web.stop()
        self.server.stop(grace).wait()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def wait(self) -> None:
        self.server.wait_for_termination()


def server_options(config: ServerConfig) -> list[tuple[str, int]]:
    return [
        # Several workers share one port only when asked; one worker refuses a busy port
        # (grpc's default is SO_REUSEPORT on, which would silently share with a stray server).
        ("grpc.so_reuseport", 1 if config.workers > 1 else 0),
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
    ]


def _credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    ca = config.tls_client_ca.read_bytes() if config.tls_client_ca is not None else None
    return grpc.ssl_server_credentials(
        [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


#: grpc.reflection.v1 is v1alpha renamed: the same messages, field for field, under a new package.
#: grpcio-reflection ships v1alpha's code only, so v1 is the same servicer under v1's method path.
REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"


def _enable_reflection(server: grpc.Server) -> None:
    """Serve ``grpc.reflection.v1`` and ``grpc.reflection.v1alpha`` (older grpcurl, Postman)."""
    names = (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME, REFLECTION_V1)
    servicer = reflection.ReflectionServicer(names)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    info = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(REFLECTION_V1, {"ServerReflectionInfo": info}),)
    )


class _Handlers:
    """Collects the method handlers the generated ``add_ScameterServicer_to_server`` makes."""

    def __init__(self) -> None:
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}  # type: ignore[type-arg]

    def add_generic_rpc_handlers(self, _handlers: object) -> None:
        pass

    def add_registered_method_handlers(
        self,
        _service: str,
        handlers: dict[str, grpc.RpcMethodHandler],  # type: ignore[type-arg]
    ) -> None:
        self.handlers = dict(handlers)


#: The hot methods, served by raw-bytes handlers: the servicer parses the request and returns
#: the serialised answer (scameter/rpc/convert.py, "The wire path of the hot RPCs").
WIRE_METHODS = {
    "Check": "check_wire",
    "CheckBatch": "check_batch_wire",
    "CheckPayee": "check_payee_wire",
    "CheckPayeeBatch": "check_payee_batch_wire",
}


def _add_servicer(servicer: ScameterServicer, server: grpc.Server) -> None:
    """Register the service: the generated handlers, with :data:`WIRE_METHODS` replaced by
    raw-bytes handlers (no (de)serialiser: bytes in, bytes out)."""
    collected = _Handlers()
    pb_grpc.add_ScameterServicer_to_server(servicer, collected)  # type: ignore[arg-type]
    handlers = collected.handlers
    for method, attribute in WIRE_METHODS.items():
        handlers[method] = grpc.unary_unary_rpc_method_handler(getattr(servicer, attribute))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
    server.add_registered_method_handlers(SERVICE_NAME, handlers)  # type: ignore[attr-defined]


def start_worker(
    config: ServerConfig,
    *,
    source: SnapshotSource,
    authorizer: Authorizer,
    intake: IntakeSink | None = None,
    reporter_hasher: Callable[[str], str] | None = None,
    index: int = 0,
    clock: Callable[[], datetime] = utc_now,
    normalizer: Callable[[str | None, str], tuple[str, str]] | None = None,
) -> RunningServer:
    """Build, bind and start one gRPC server; returns once it accepts connections."""
    metrics = Metrics(index)
    convert.set_cache_durations(config.cache_seconds, config.no_record_cache_seconds)
    extra: dict[str, Any] = {} if normalizer is None else {"normalizer": normalizer}
    servicer = ScameterServicer(
        source,
        authorizer,
        metrics,
        intake=intake,
        reporter_secret=config.reporter_token_secret,
        reporter_hasher=reporter_hasher,
        max_batch=config.max_batch,
        related_limit=config.related_limit,
        max_message_bytes=config.max_message_bytes,
        intake_policy=IntakePolicy(
            config.report_daily_cap,
            config.report_burst,
            timedelta(seconds=config.report_burst_window),
        ),
        clock=clock,
        **extra,
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(
            max_workers=config.threads, thread_name_prefix=f"scameter-w{index}"
        ),
        options=server_options(config),
        # Overload fails fast with RESOURCE_EXHAUSTED instead of queueing behind the pool.
        maximum_concurrent_rpcs=config.max_concurrent_rpcs,
    )
    _add_servicer(servicer, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    _enable_reflection(server)
    creds = _credentials(config)
    address = config.listen
    port = (
        server.add_secure_port(address, creds)
        if creds is not None
        else server.add_insecure_port(address)
    )
    if port == 0:
        raise OSError(f"cannot listen on {address}: the address is in use or invalid")
    monitor = HealthMonitor(
        source,
        health_servicer,
        metrics,
        max_age=config.max_snapshot_age,
        interval=config.poll_interval,
        clock=clock,
    )
    monitor.start()
    http = None
    metrics_port = None
    if config.metrics_port is not None:
        wanted = config.metrics_port + index if config.metrics_port else 0
        http = start_metrics_server(config.metrics_host, wanted, metrics.registry)
        metrics_port = int(http.server_address[1])
    server.start()
    running = RunningServer(server, port, health_servicer, monitor, metrics, metrics_port, http)
    if config.http is not None:
        try:
            running.web = _start_http(config, servicer, monitor, metrics, clock)
        except Exception:
            running.stop(None)
            raise
    return running


def _start_http(
    config: ServerConfig,
    servicer: ScameterServicer,
    monitor: HealthMonitor,
    metrics: Metrics,
    clock: Callable[[], datetime],
) -> HttpServer:
    """The HTTP/JSON API and search page of ``--http``, over the same servicer."""
    from scameter.rpc.openapi import openapi_document
    from scameter.rpc.page import PageAuth, SearchPage

    assert config.http is not None
    page_servicer = ScameterServicer(
        servicer.source, PageAuth(config.page_rate), metrics, clock=clock
    )
    app = build_app(
        servicer,
        max_bytes=config.max_message_bytes,
        threads=config.threads,
        openapi=openapi_document,
        health=lambda: monitor.status == _SERVING,
        page=SearchPage(page_servicer, HttpContext),
    )
    host, port = split_listen(config.http, "--http")
    web = HttpServer(
        app,
        host,
        port,
        reuse_port=config.workers > 1,
        concurrency=config.max_concurrent_rpcs,
        ssl=ssl_options(config.tls_cert, config.tls_key, config.tls_client_ca),
    )
    web.start()
    return web


__all__ = [
    "REFLECTION_V1",
    "SERVICE_NAME",
    "WIRE_METHODS",
    "HealthMonitor",
    "RunningServer",
    "server_options",
    "start_worker",
]
