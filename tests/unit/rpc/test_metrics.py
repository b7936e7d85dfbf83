"""Per-call metrics: tallied per thread, summed at scrape, exported as prometheus-client would."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from scameter.rpc.metrics import LATENCY_BUCKETS, Metrics
from scameter.verdict import Level

#: Latencies on, between and beyond the bucket bounds.
SECONDS = [0.0, 0.0001, 0.00011, 0.0005, 0.002, 0.0049, 1.0, 5.0, 7.5, 0.03]


def _samples(registry: CollectorRegistry, prefix: str) -> dict[tuple[str, object], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if s.name.startswith(prefix) and not s.name.endswith("_created")
    }


def test_latency_and_requests_match_prometheus_client() -> None:
    m = Metrics(3)
    ref = CollectorRegistry()
    hist = Histogram("scameter_rpc_latency_seconds", "h", ["worker", "method"],
                     buckets=LATENCY_BUCKETS, registry=ref)  # fmt: skip
    reqs = Counter("scameter_rpc_requests", "c", ["worker", "method", "code"], registry=ref)
    for i, s in enumerate(SECONDS):
        method, code = ("Check", "OK") if i % 3 else ("CheckBatch", "INVALID_ARGUMENT")
        m.observe(method, code, s)
        hist.labels("3", method).observe(s)
        reqs.labels("3", method, code).inc()
    for prefix in ("scameter_rpc_latency_seconds", "scameter_rpc_requests"):
        assert _samples(m.registry, prefix) == _samples(ref, prefix)
    text = generate_latest(m.registry).decode()
    assert 'scameter_rpc_requests_total{code="OK",method="Check",worker="3"} 6.0' in text
    assert 'le="0.00025",method="Check",worker="3"}' in text


def test_threads_tally_apart_and_sum_at_scrape() -> None:
    m = Metrics(0)

    def work() -> None:
        for _ in range(1000):
            m.observe("Check", "OK", 0.0003)
            m.verdict(Level.NO_RECORD)
        m.verdict(Level.HIGH_RISK, 5)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r = m.registry
    ok = {"worker": "0", "method": "Check", "code": "OK"}
    assert r.get_sample_value("scameter_rpc_requests_total", ok) == 8000
    lat = {"worker": "0", "method": "Check"}
    assert r.get_sample_value("scameter_rpc_latency_seconds_count", lat) == 8000
    assert r.get_sample_value("scameter_rpc_latency_seconds_bucket", {**lat, "le": "0.00025"}) == 0
    assert (
        r.get_sample_value("scameter_rpc_latency_seconds_bucket", {**lat, "le": "0.0005"}) == 8000
    )
    level = {"worker": "0", "level": "no_record"}
    assert r.get_sample_value("scameter_verdicts_total", level) == 8000
    high = {"worker": "0", "level": "high_risk"}
    assert r.get_sample_value("scameter_verdicts_total", high) == 40
    # Every level has its series from the start, at zero.
    verified = {"worker": "0", "level": "verified"}
    assert (
        Metrics(1).registry.get_sample_value("scameter_verdicts_total", {**verified, "worker": "1"})
        == 0
    )


def test_record_is_observe_and_verdict_in_one_call() -> None:
    """The servicer's per-call ``record`` counts what ``observe`` + ``verdict`` count; a call
    without a verdict (an error) counts no level."""
    one, two = Metrics(0), Metrics(0)
    calls = [("Check", "OK", 0.0003, Level.HIGH_RISK), ("Check", "INVALID_ARGUMENT", 0.002, None)]
    calls += [("Check", "OK", s, Level.NO_RECORD) for s in SECONDS]
    for method, code, seconds, level in calls:
        one.record(method, code, seconds, level)
        two.observe(method, code, seconds)
        if level is not None:
            two.verdict(level)
    for prefix in ("scameter_rpc_", "scameter_verdicts"):
        assert _samples(one.registry, prefix) == _samples(two.registry, prefix)
    assert one.registry.get_sample_value(
        "scameter_verdicts_total", {"worker": "0", "level": "no_record"}
    ) == len(SECONDS)
