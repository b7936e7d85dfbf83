"""What only the HTTP/JSON side has: the OpenAPI document, JSON errors, the page without a
browser, and rich google.rpc error details on both transports (the shared behaviour of every
RPC runs over both in test_rpc_service.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from scameter.rpc.http import kebab, rpc_paths
from scameter.rpc.openapi import dumps, openapi_document
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.verdict import Level
from tests.unit.rpc.fakes import FakeSnapshot, FakeSource
from tests.unit.rpc.harness import Harness, serve_fake
from tests.unit.rpc.http_client import HttpClient

REPO = Path(__file__).resolve().parents[2]
LISTED = {"+85291234567": Level.HIGH_RISK, "hkpost-redelivery.top": Level.SUSPICIOUS}


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    source = FakeSource(FakeSnapshot("snap-h", LISTED))
    with serve_fake(tmp_path, source, transport="http", max_message_bytes=4096) as h:
        yield h


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_every_rpc_has_a_kebab_case_path() -> None:
    names = [m.name for m in pb.DESCRIPTOR.services_by_name["Scameter"].methods]
    assert set(rpc_paths().values()) == set(names)
    assert kebab("CheckBatch") == "check-batch"
    assert kebab("GetSnapshotInfo") == "get-snapshot-info"
    assert "/v1/check-payee" in rpc_paths()


def test_committed_openapi_is_current_and_served(harness: Harness) -> None:
    committed = (REPO / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == dumps(openapi_document()), "run: python scripts/gen_openapi.py"
    status, headers, body = _get(harness.http_base + "/openapi.json")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    served = json.loads(body)
    assert served == json.loads(committed)
    assert set(served["paths"]) == set(rpc_paths())
    verdict = served["components"]["schemas"]["Verdict"]["properties"]
    assert verdict["reportCount"]["type"] == "integer"
    assert verdict["level"] == {"$ref": "#/components/schemas/Level"}


def test_proto3_json_mapping_on_the_wire(harness: Harness) -> None:
    c = HttpClient(harness.http_base, "k-admin")
    status, body = c.post("/v1/check", {"identifier": "+852 9123 4567"})
    assert status == 200
    v = body["verdict"]
    assert v["level"] == "LEVEL_HIGH_RISK"  # enums as names
    assert v["canonical"] == "+85291234567"
    assert v["snapshot"] == "snap-h"
    assert v["cacheDuration"] == "300s"  # google.protobuf.Duration in JSON
    status, body = c.post("/v1/check-batch", {"identifiers": ["+852 9123 4567", "+852 6999 0000"]})
    assert [x["cacheDuration"] for x in body["verdicts"]] == ["300s", "60s"]
    status, body = c.post("/v1/get-snapshot-info", {})
    assert body["total"] == str(len(LISTED))  # uint64 as a string


@pytest.mark.parametrize(
    ("path", "body", "auth", "want"),
    [
        ("/v1/check", {"identifier": "x", "colour": 1}, "k-admin", (400, "INVALID_ARGUMENT")),
        ("/v1/check", {"identifier": "+85291234567"}, None, (401, "UNAUTHENTICATED")),
        ("/v1/check", {"identifier": "+85291234567"}, "nope", (401, "UNAUTHENTICATED")),
        ("/v1/check-batch", {"identifiers": ["1"]}, "k-check", (403, "PERMISSION_DENIED")),
        ("/v1/check", {"identifier": "9" * 5000}, "k-admin", (429, "RESOURCE_EXHAUSTED")),
    ],
    ids=["unknown-field", "no-key", "bad-key", "wrong-role", "too-large"],
)
def test_errors_are_google_json_errors(
    harness: Harness,
    path: str,
    body: dict[str, Any],
    auth: str | None,
    want: tuple[int, str],
) -> None:
    status, answer = HttpClient(harness.http_base, auth).post(path, body)
    assert (status, answer["error"]["status"]) == want
    assert answer["error"]["code"] == status
    assert answer["error"]["message"]


def test_invalid_identifier_has_bad_request_and_error_info_on_both(harness: Harness) -> None:
    status, answer = HttpClient(harness.http_base, "k-admin").post(
        "/v1/check", {"identifier": "bad-number", "kind": "phone"}
    )
    assert status == 400
    err = answer["error"]
    assert err["message"] == "invalid phone: not a valid number"
    by_type = {d["@type"].rsplit("/", 1)[1]: d for d in err["details"]}
    assert by_type["google.rpc.BadRequest"]["fieldViolations"] == [
        {"field": "identifier", "description": "not a valid number"}
    ]
    assert by_type["google.rpc.ErrorInfo"]["metadata"] == {
        "kind": "phone",
        "reason": "not a valid number",
    }
    with grpc.insecure_channel(harness.target) as ch:
        stub = pb_grpc.ScameterStub(ch)
        with pytest.raises(grpc.RpcError) as exc:
            stub.Check(
                pb.CheckRequest(identifier="bad-number", kind="phone"),
                metadata=(("authorization", "Bearer k-admin"),),
                timeout=5,
            )
    st = rpc_status.from_call(exc.value)  # type: ignore[arg-type]
    assert st is not None
    assert st.message == err["message"]  # one wording on both transports
    br = error_details_pb2.BadRequest()
    assert st.details[0].Unpack(br)
    assert br.field_violations[0].field == "identifier"


def test_rate_limit_carries_retry_info_on_both(harness: Harness) -> None:
    c = HttpClient(harness.http_base, "k-slow")
    statuses = [c.post("/v1/check", {"identifier": "+85290000000"})[0] for _ in range(2)]
    assert statuses == [200, 200]  # the burst of 2
    status, answer = c.post("/v1/check", {"identifier": "+85290000000"})
    assert status == 429
    retry = [d for d in answer["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry
    assert retry[0]["retryDelay"].endswith("s")
    assert float(retry[0]["retryDelay"][:-1]) > 0
    with grpc.insecure_channel(harness.target) as ch:
        stub = pb_grpc.ScameterStub(ch)
        with pytest.raises(grpc.RpcError) as exc:
            stub.Check(
                pb.CheckRequest(identifier="+85290000000"),
                metadata=(("authorization", "Bearer k-slow"),),
                timeout=5,
            )
    st = rpc_status.from_call(exc.value)  # type: ignore[arg-type]
    assert st is not None
    info = error_details_pb2.RetryInfo()
    assert st.details[0].Unpack(info)
    assert info.retry_delay.ToNanoseconds() > 0


def test_http_calls_share_the_grpc_metrics(harness: Harness) -> None:
    HttpClient(harness.http_base, "k-admin").check("+85291234567")
    reg = harness.running.metrics.registry
    ok = {"worker": "0", "method": "Check", "code": "OK"}
    assert reg.get_sample_value("scameter_rpc_requests_total", ok) == 1


def test_healthz(harness: Harness) -> None:
    status, _, body = _get(harness.http_base + "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "SERVING"})


def _post_form(url: str, q: str) -> str:
    data = urllib.parse.urlencode({"q": q}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
        assert r.headers["Cache-Control"] == "no-store"
        return str(r.read().decode("utf-8"))


def test_page_answers_a_post_in_both_languages(harness: Harness) -> None:
    status, _headers, body = _get(harness.http_base + "/")
    page = body.decode()
    assert status == 200
    assert '<form method="post" action="/">' in page
    assert '<label for="q">' in page
    assert "http" not in page.replace('content="width', "")  # nothing external
    en = _post_form(harness.http_base + "/", "+852 9123 4567")
    assert 'data-level="high_risk"' in en
    assert "HIGH RISK" in en
    zh = _post_form(harness.http_base + "/zh-hant", "+852 9123 4567")
    assert 'lang="zh-Hant"' in zh
    assert "高危" in zh


def test_page_checks_each_identifier_of_a_pasted_message(harness: Harness) -> None:
    msg = "Your parcel is held. Pay at hkpost-redelivery.top or call +852 9123 4567 now"
    page = _post_form(harness.http_base + "/", msg)
    assert page.count('class="verdict"') == 2
    assert page.index('data-level="high_risk"') < page.index('data-level="suspicious"')
