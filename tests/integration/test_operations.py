"""What operators read: JSON log lines (RFC 3339 time, request id), the Prometheus endpoint
(only at /metrics, naming the live snapshot) and gRPC reflection v1 beside v1alpha."""

from __future__ import annotations

import io
import json
import logging
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2

from scameter.rpc import Client, issue_reporter_token
from scameter.rpc.logs import JsonFormatter, rfc3339
from scameter.verdict import Level
from tests.unit.rpc.fakes import FakeSnapshot, FakeSource
from tests.unit.rpc.harness import SECRET, serve_fake

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_rfc3339() -> None:
    assert rfc3339(1796587800.1239) == "2026-12-06T20:10:00.123Z"
    assert rfc3339(0.0) == "1970-01-01T00:00:00.000Z"


def test_log_lines_have_rfc3339_time_and_one_request_id_per_call(tmp_path: Path) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter(0))
    logger = logging.getLogger("scameter.rpc")
    logger.addHandler(handler)
    old_level = logger.level
    # debug: an accepted report is logged at debug since 1,000 reports/s made a line each a
    # tenth of a worker's Python time (docs/operations.md, "Logs")
    logger.setLevel(logging.DEBUG)
    try:
        source = FakeSource(FakeSnapshot("s"))
        with serve_fake(tmp_path, source) as h, Client(h.target, "k-admin") as c:
            for phone in ("+85291234567", "+85261234567"):
                token = issue_reporter_token(SECRET, phone, 60)
                c.report(["+85290000000"], "investment", "text", token)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines
    assert all(RFC3339_MS.match(line["ts"]) for line in lines)
    reports = [line for line in lines if "report_id" in line]
    assert len(reports) == 2
    ids = [line["request_id"] for line in reports]
    assert all(re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", i) for i in ids)
    assert ids[0] != ids[1]
    outside = [line for line in lines if line["msg"] == "health"]
    assert outside
    assert all("request_id" not in line for line in outside)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_metrics_only_at_its_path_and_name_the_live_snapshot(tmp_path: Path) -> None:
    source = FakeSource(FakeSnapshot("snap-a", {"+85291234567": Level.HIGH_RISK}))
    with serve_fake(tmp_path, source, metrics_port=0) as h:
        base = f"http://127.0.0.1:{h.running.metrics_port}"
        status, text = _get(base + "/metrics")
        assert status == 200
        assert 'scameter_snapshot_info{snapshot_id="snap-a",worker="0"} 1.0' in text
        for path in ("/", "/metrics/x", "/favicon.ico"):
            assert _get(base + path)[0] == 404
        source.publish(FakeSnapshot("snap-b"))
        deadline = time.monotonic() + 10
        while 'snapshot_id="snap-b"' not in text and time.monotonic() < deadline:
            time.sleep(0.02)
            text = _get(base + "/metrics")[1]
    assert 'scameter_snapshot_info{snapshot_id="snap-b",worker="0"} 1.0' in text
    assert 'snapshot_id="snap-a"' not in text  # only the live one has a series


@pytest.mark.parametrize("package", ["grpc.reflection.v1", "grpc.reflection.v1alpha"])
def test_reflection_v1_and_v1alpha(tmp_path: Path, package: str) -> None:
    source = FakeSource(FakeSnapshot("s"))
    with serve_fake(tmp_path, source) as h, grpc.insecure_channel(h.target) as ch:
        call = ch.stream_stream(
            f"/{package}.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="scameter.v1.Verdict"),
        ]
        listed, found = list(call(iter(requests), timeout=5))
    names = {s.name for s in listed.list_services_response.service}
    assert {"scameter.v1.Scameter", "grpc.reflection.v1.ServerReflection"} <= names
    assert "grpc.reflection.v1alpha.ServerReflection" in names
    assert found.file_descriptor_response.file_descriptor_proto
