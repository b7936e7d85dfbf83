"""Prometheus metrics of one server process.

Responsibility: the counters, histograms and gauges the server exports, in a registry owned by
the process (not prometheus-client's global one), so several in-process servers in tests do not
collide and each worker exports exactly its own numbers.

Multi-worker layout (docs/operations.md, "Metrics"): worker ``i`` serves ``/metrics`` on
``metrics_port + i``; Prometheus scrapes every port and sums with ``sum without (worker)``.
We chose one port per worker over prometheus-client's multiprocess mode because the latter
needs a shared directory cleaned at start-up and cannot do gauges per worker cleanly.

Invariants:
* Label values are bounded sets (RPC names, status-code names, levels): never an identifier or
  an API key. Principals (key names from the key file) are a small configured set.
* Recording is allocation-light: labelled children are cached on first use.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from scameter.verdict import Level

#: Latency buckets (seconds) centred on the sub-millisecond target of the service.
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
    5.0,
)


class Metrics:
    def __init__(self, worker: int = 0) -> None:
        self.worker = str(worker)
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "scameter_rpc_requests",
            "RPCs handled, by method and status code.",
            ["worker", "method", "code"],
            registry=r,
        )
        self.latency = Histogram(
            "scameter_rpc_latency_seconds",
            "Server-side handling time per RPC method.",
            ["worker", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.verdicts = Counter(
            "scameter_verdicts",
            "Verdicts returned, by level (batch items included).",
            ["worker", "level"],
            registry=r,
        )
        self.identifiers = Counter(
            "scameter_batch_identifiers",
            "Identifiers looked up by CheckBatch (Check calls are in scameter_rpc_requests).",
            ["worker"],
            registry=r,
        ).labels(self.worker)
        self.reports = Counter(
            "scameter_reports",
            "Reports accepted, by whether they were duplicates.",
            ["worker", "duplicate"],
            registry=r,
        )
        self.snapshot_age = Gauge(
            "scameter_snapshot_age_seconds",
            "Age of the live snapshot's data (now - as_of); -1 when none is loaded.",
            ["worker"],
            registry=r,
        ).labels(self.worker)
        self.serving = Gauge(
            "scameter_serving",
            "1 when the health status is SERVING, else 0.",
            ["worker"],
            registry=r,
        ).labels(self.worker)
        self.verify_failures = Gauge(
            "scameter_snapshot_verify_failures",
            "Snapshots refused since start because their content hash did not match.",
            ["worker"],
            registry=r,
        ).labels(self.worker)
        self.current_unservable = Gauge(
            "scameter_current_unservable",
            "1 when CURRENT names a snapshot this worker cannot serve (garbage, missing, "
            "corrupt, failed verification); the previous snapshot keeps serving.",
            ["worker"],
            registry=r,
        ).labels(self.worker)
        self.snapshot_info = Gauge(
            "scameter_snapshot_info",
            "1 for the snapshot this worker serves (label snapshot_id); no series before one "
            "is loaded.",
            ["worker", "snapshot_id"],
            registry=r,
        )
        self._live_snapshot: str | None = None
        self.snapshot_age.set(-1)
        self._req: dict[tuple[str, str], Counter] = {}
        self._lat: dict[str, Histogram] = {}
        self._lvl = {lv: self.verdicts.labels(self.worker, lv.value) for lv in Level}

    def observe(self, method: str, code: str, seconds: float) -> None:
        c = self._req.get((method, code))
        if c is None:
            c = self._req[(method, code)] = self.requests.labels(self.worker, method, code)
        c.inc()
        h = self._lat.get(method)
        if h is None:
            h = self._lat[method] = self.latency.labels(self.worker, method)
        h.observe(seconds)

    def live_snapshot(self, snapshot_id: str | None) -> None:
        """Point ``scameter_snapshot_info`` at ``snapshot_id`` (None: no snapshot loaded)."""
        if snapshot_id == self._live_snapshot:
            return
        if self._live_snapshot is not None:
            self.snapshot_info.remove(self.worker, self._live_snapshot)
        if snapshot_id is not None:
            self.snapshot_info.labels(self.worker, snapshot_id).set(1)
        self._live_snapshot = snapshot_id

    def verdict(self, level: Level) -> None:
        self._lvl[level].inc()

    def report(self, duplicate: bool) -> None:
        self.reports.labels(self.worker, "true" if duplicate else "false").inc()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged (the access log would be every 15 s per worker)."""


class _V6Server(ThreadingWSGIServer):
    address_family = socket.AF_INET6


def start_metrics_server(host: str, port: int, registry: CollectorRegistry) -> ThreadingWSGIServer:
    """Serve ``registry`` at ``/metrics`` (and nowhere else: 404) on ``host:port`` in a daemon
    thread; ``port`` 0 picks a free one (``server_address[1]``)."""
    inner = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found: the metrics are at /metrics\n"]
        return inner(environ, start_response)  # type: ignore[no-any-return]

    server_class = _V6Server if ":" in host else ThreadingWSGIServer
    httpd = make_server(host.strip("[]"), port, app, server_class, handler_class=_QuietHandler)
    threading.Thread(target=httpd.serve_forever, name="scameter-metrics", daemon=True).start()
    return httpd


__all__ = ["LATENCY_BUCKETS", "Metrics", "start_metrics_server"]
