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
* Recording is allocation-light. The per-call series (requests, latency, verdicts) are
  tallied per method and handler thread in plain ints (no lock: each thread writes only its
  own tally; one probe finds it, :class:`Recorder`) and summed when Prometheus scrapes
  (:class:`_CallCollector`); the others are prometheus-client metrics.
"""

from __future__ import annotations

import socket
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

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


#: Bound once: :meth:`Recorder.record` runs on every call.
_get_ident = threading.get_ident
_bisect = bisect_left


class _Series:
    """One method's calls in one handler thread since start (only that thread writes)."""

    __slots__ = ("buckets", "codes", "levels", "sum")

    def __init__(self) -> None:
        #: status code -> calls
        self.codes: dict[str, int] = {}
        #: calls per latency bucket (the last: above every bound), and their sum
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.sum = 0.0
        #: verdicts returned, by level
        self.levels: dict[Level, int] = dict.fromkeys(Level, 0)


class Recorder:
    """The per-call series of one method (``None``: verdicts alone, :meth:`Metrics.verdict`),
    tallied per handler thread: :meth:`record` finds its thread's tally with one probe."""

    __slots__ = ("_by_thread", "_lock", "method")

    def __init__(self, method: str | None) -> None:
        self.method = method
        self._by_thread: dict[int, _Series] = {}
        self._lock = threading.Lock()

    def series(self) -> _Series:
        """This thread's tally. Keyed by thread id: a thread that ended leaves its counts to
        the next thread given the same id (counts are never lost, the table stays small)."""
        ident = _get_ident()
        s = self._by_thread.get(ident)
        if s is None:
            with self._lock:
                s = self._by_thread.setdefault(ident, _Series())
        return s

    def record(self, code: str, seconds: float, level: Level | None) -> None:
        """One call ended with ``code`` after ``seconds``; its verdict's ``level`` (None:
        no verdict, e.g. an error)."""
        s = self._by_thread.get(_get_ident()) or self.series()
        codes = s.codes
        codes[code] = codes.get(code, 0) + 1
        s.buckets[_bisect(LATENCY_BUCKETS, seconds)] += 1
        s.sum += seconds
        if level is not None:
            s.levels[level] += 1

    def tallies(self) -> list[_Series]:
        # list() of a dict's values is atomic under the GIL: a thread adding its tally
        # meanwhile cannot break the iteration.
        return list(self._by_thread.values())


class _CallCollector(Collector):
    """``scameter_rpc_requests``, ``scameter_rpc_latency_seconds`` and ``scameter_verdicts``:
    the tallies of every method and handler thread, summed at scrape time."""

    def __init__(self, worker: str, recorders: dict[str | None, Recorder]) -> None:
        self._worker = worker
        self._recorders = recorders

    def collect(self) -> Iterator[Metric]:
        requests: dict[tuple[str, str], int] = {}
        latency: dict[str, list[int]] = {}
        sums: dict[str, float] = {}
        levels = dict.fromkeys(Level, 0)
        for method, recorder in list(self._recorders.items()):
            for t in recorder.tallies():
                # dict() and list() copies are atomic under the GIL (see Recorder.tallies).
                for level, n in dict(t.levels).items():
                    levels[level] += n
                if method is None:
                    continue
                for code, n in dict(t.codes).items():
                    requests[method, code] = requests.get((method, code), 0) + n
                total = latency.setdefault(method, [0] * len(t.buckets))
                for i, n in enumerate(list(t.buckets)):
                    total[i] += n
                sums[method] = sums.get(method, 0.0) + t.sum
        w = self._worker
        req = CounterMetricFamily(
            "scameter_rpc_requests",
            "RPCs handled, by method and status code.",
            labels=["worker", "method", "code"],
        )
        for (method, code), n in sorted(requests.items()):
            req.add_metric([w, method, code], n)
        yield req
        lat = HistogramMetricFamily(
            "scameter_rpc_latency_seconds",
            "Server-side handling time per RPC method.",
            labels=["worker", "method"],
        )
        for method, counts in sorted(latency.items()):
            cumulative, buckets = 0, []
            for bound, n in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                cumulative += n
                buckets.append((_le(bound), cumulative))
            lat.add_metric([w, method], buckets, sums[method])
        yield lat
        verdicts = CounterMetricFamily(
            "scameter_verdicts",
            "Verdicts returned, by level (batch items included).",
            labels=["worker", "level"],
        )
        for level, n in levels.items():
            verdicts.add_metric([w, level.value], n)
        yield verdicts


def _le(bound: float) -> str:
    label: str = floatToGoString(bound)  # type: ignore[no-untyped-call]  # as Histogram's
    return label


class Metrics:
    def __init__(self, worker: int = 0) -> None:
        self.worker = str(worker)
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        #: method -> its per-call series (None: verdicts counted apart from a call).
        self._recorders: dict[str | None, Recorder] = {None: Recorder(None)}
        self._recorders_lock = threading.Lock()
        self._verdicts = self._recorders[None]
        r.register(_CallCollector(self.worker, self._recorders))
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

    def recorder(self, method: str) -> Recorder:
        """The series of ``method``; the servicer binds each method's ``record`` once."""
        rec = self._recorders.get(method)
        if rec is None:
            with self._recorders_lock:
                rec = self._recorders.setdefault(method, Recorder(method))
        return rec

    def observe(self, method: str, code: str, seconds: float) -> None:
        """One ``method`` call ended with ``code`` after ``seconds``."""
        self.recorder(method).record(code, seconds, None)

    def record(self, method: str, code: str, seconds: float, level: Level | None) -> None:
        """One call: :meth:`observe`, and :meth:`verdict` of ``level`` unless it is None
        (:meth:`Recorder.record` of ``method``)."""
        self.recorder(method).record(code, seconds, level)

    def live_snapshot(self, snapshot_id: str | None) -> None:
        """Point ``scameter_snapshot_info`` at ``snapshot_id`` (None: no snapshot loaded)."""
        if snapshot_id == self._live_snapshot:
            return
        if self._live_snapshot is not None:
            self.snapshot_info.remove(self.worker, self._live_snapshot)
        if snapshot_id is not None:
            self.snapshot_info.labels(self.worker, snapshot_id).set(1)
        self._live_snapshot = snapshot_id

    def verdict(self, level: Level, count: int = 1) -> None:
        """``count`` verdicts of ``level`` returned (a batch counts its items)."""
        self._verdicts.series().levels[level] += count

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


__all__ = ["LATENCY_BUCKETS", "Metrics", "Recorder", "start_metrics_server"]
