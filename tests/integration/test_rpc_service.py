"""Every RPC of scameter.v1 against an in-process server on 127.0.0.1:0 (fake snapshot).

Each test runs over both transports (``harness`` is parametrised): gRPC through
:class:`scameter.rpc.Client` and HTTP/JSON through :class:`tests.unit.rpc.http_client.HttpClient`,
so the two answer the same calls the same way (errors, roles, intake, metrics)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from scameter.errors import InvalidIdentifier
from scameter.rpc import Client, RemoteError, issue_reporter_token
from scameter.verdict import Channel, CheckContext, Level, ReasonCode
from tests.unit.rpc.fakes import FakeSnapshot, FakeSource
from tests.unit.rpc.harness import SECRET, TRANSPORTS, Harness, serve_fake
from tests.unit.rpc.http_client import HttpClient

AnyClient = Client | HttpClient

LISTED = {
    "+85291234567": Level.HIGH_RISK,
    "+85261111111": Level.SUSPICIOUS,
    "123-456789-001": Level.HIGH_RISK,
    "evil.example": Level.HIGH_RISK,
}


@pytest.fixture
def source() -> FakeSource:
    return FakeSource(FakeSnapshot("snap-1", LISTED))


@pytest.fixture(params=TRANSPORTS)
def harness(
    request: pytest.FixtureRequest, tmp_path: Path, source: FakeSource
) -> Iterator[Harness]:
    with serve_fake(tmp_path, source, max_batch=50, transport=request.param) as h:
        yield h


@pytest.fixture
def admin(harness: Harness) -> Iterator[AnyClient]:
    with harness.client("k-admin", timeout=10) as c:
        yield c


def test_check_returns_the_in_process_verdict(admin: AnyClient, source: FakeSource) -> None:
    got = admin.check("+852 9123 4567")
    with source.acquire() as snap:
        want = snap.check("+852 9123 4567")
    assert got == want
    assert got.level is Level.HIGH_RISK
    assert got.snapshot == "snap-1"


def test_check_passes_the_call_context(admin: AnyClient) -> None:
    plain = admin.check("+85290000000", "phone")
    overseas = admin.check(
        "+85290000000", "phone", context=CheckContext(Channel.INCOMING_CALL, overseas=True)
    )
    assert ReasonCode.OVERSEAS_CALL_LOCAL_NUMBER not in {r.code for r in plain.reasons}
    assert ReasonCode.OVERSEAS_CALL_LOCAL_NUMBER in {r.code for r in overseas.reasons}


def test_check_answers_in_the_language_asked(admin: AnyClient) -> None:
    english = admin.check("+852 9123 4567")
    chinese = admin.check("+852 9123 4567", language="zh-HK")
    assert [r.code for r in chinese.reasons] == [r.code for r in english.reasons]
    assert chinese.reasons[0].text == english.reasons[0].code.sentences.zh_hant
    batch = admin.check_batch(["+852 9123 4567", "+85290000001"], language="zh-Hant")
    assert batch[1].reasons[0].text == ReasonCode.NO_RECORD.sentences.zh_hant
    with pytest.raises(RemoteError) as exc:
        admin.check("+852 9123 4567", language="fr")
    assert exc.value.code == "INVALID_ARGUMENT"
    assert "one of: en, zh-Hant" in exc.value.details


def test_region_reads_local_numbers_of_that_country(admin: AnyClient) -> None:
    sg = admin.check("8123 4567", region="sg")
    assert (sg.input, sg.canonical) == ("8123 4567", "+6581234567")
    assert admin.check("8123 4567").canonical != "+6581234567"
    batch = admin.check_batch(["8123 4567", "https://example.com/"], region="SG")
    assert [v.input for v in batch] == ["8123 4567", "https://example.com/"]
    assert batch[0].canonical == "+6581234567"
    assert batch[1].kind in ("url", "domain")  # untouched by the region
    with pytest.raises(RemoteError) as exc:
        admin.check("8123 4567", region="XX")
    assert exc.value.code == "INVALID_ARGUMENT"
    assert "unknown region" in exc.value.details


def test_invalid_identifier_is_invalid_argument_with_reason(admin: AnyClient) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        admin.check("bad-number", "phone")
    assert exc.value.kind == "phone"
    assert exc.value.reason == "not a valid number"
    assert exc.value.raw == "bad-number"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.check("+85291234567", "telex"),
        lambda c: c.check_batch(["+85291234567"], "telex"),
        lambda c: c.related("+85291234567", "telex"),
    ],
    ids=["check", "batch", "related"],
)
def test_unknown_kind_is_invalid_argument(
    admin: AnyClient, call: Callable[[AnyClient], object]
) -> None:
    with pytest.raises(RemoteError) as exc:
        call(admin)
    assert exc.value.code == "INVALID_ARGUMENT"
    assert "unknown identifier kind" in exc.value.details


def test_batch_gives_per_item_verdicts_and_errors(admin: AnyClient) -> None:
    got = admin.check_batch(["+85291234567", "bad1", "nobody@example.com"])
    assert [v.level for v in got] == [Level.HIGH_RISK, Level.NO_RECORD, Level.NO_RECORD]
    assert got[1].error is not None
    assert "not a valid number" in got[1].error
    assert got[0].error is None
    assert got[2].kind == "email"


def test_batch_over_the_cap_is_invalid_argument(admin: AnyClient) -> None:
    assert len(admin.check_batch(["+8529000000"] * 50)) == 50
    with pytest.raises(RemoteError) as exc:
        admin.check_batch(["+8529000000"] * 51)
    assert exc.value.code == "INVALID_ARGUMENT"
    assert "cap of 50" in exc.value.details


@pytest.mark.parametrize(
    ("given", "want"),
    [
        (("+85291234567", None), (True, Level.HIGH_RISK, "proxy_id")),
        ((None, "123-456789-001"), (True, Level.HIGH_RISK, "account")),
        (("+85261111111", "999-000000-000"), (False, Level.SUSPICIOUS, "proxy_id")),
        (("+85261111111", "123-456789-001"), (True, Level.HIGH_RISK, "account")),
        (("someone@example.com", None), (False, Level.NO_RECORD, None)),
    ],
    ids=["proxy-high", "account-high", "suspicious-no-alert", "worst-wins", "no-record"],
)
def test_check_payee(
    admin: AnyClient,
    given: tuple[str | None, str | None],
    want: tuple[bool, Level, str | None],
) -> None:
    proxy, account = given
    alert = want[0]
    r = admin.check_payee(proxy, account)
    assert (r.alert, r.level, r.triggered_by) == want
    assert len(r.verdicts) == (proxy is not None) + (account is not None)
    if alert:
        assert r.warning_en is not None
        assert "HIGH RISK" in r.warning_en
        assert r.warning_zh_hant is not None
        assert "高危" in r.warning_zh_hant
    else:
        assert r.warning_en is None
        assert r.warning_zh_hant is None


def test_check_payee_needs_an_identifier(admin: AnyClient) -> None:
    with pytest.raises(RemoteError) as exc:
        admin.check_payee()
    assert exc.value.code == "INVALID_ARGUMENT"


def test_check_payee_batch_answers_each_payee_in_order(harness: Harness) -> None:
    payees: list[tuple[str | None, str | None]] = [
        ("+85291234567", None),
        (None, None),
        ("+85261111111", "123-456789-001"),
        ("bad-number", None),
        ("someone@example.com", None),
    ]
    with harness.client("k-payee", timeout=10) as bank:
        got = bank.check_payee_batch(payees, language="zh-Hant")
        singles = [bank.check_payee(p, a) for p, a in (payees[0], payees[2], payees[4])]
    assert [(r.alert, r.level, r.triggered_by) for r in got] == [
        (True, Level.HIGH_RISK, "proxy_id"),
        (False, Level.NO_RECORD, None),
        (True, Level.HIGH_RISK, "account"),
        (False, Level.NO_RECORD, None),
        (False, Level.NO_RECORD, None),
    ]
    assert [r.error is not None for r in got] == [False, True, False, True, False]
    assert got[1].error is not None
    assert "proxy_id" in got[1].error
    # Same answers as one CheckPayee each, reasons in the language asked.
    for batch, single in zip((got[0], got[2], got[4]), singles, strict=True):
        assert (batch.alert, batch.level, batch.warning_en) == (
            single.alert,
            single.level,
            single.warning_en,
        )
        assert [v.level for v in batch.verdicts] == [v.level for v in single.verdicts]
    first = got[0].verdicts[0].reasons[0]
    assert first.text == first.code.sentences.zh_hant


def test_check_payee_batch_needs_the_payee_role_and_respects_the_cap(harness: Harness) -> None:
    with harness.client("k-check", timeout=10) as c, pytest.raises(RemoteError) as exc:
        c.check_payee_batch([("+85291234567", None)])
    assert exc.value.code == "PERMISSION_DENIED"
    with harness.client("k-payee", timeout=10) as bank, pytest.raises(RemoteError) as exc:
        bank.check_payee_batch([("+85291234567", None)] * 51)
    assert exc.value.code == "INVALID_ARGUMENT"
    assert "cap of 50" in exc.value.details


def test_report_is_logged_once_and_duplicates_absorbed(harness: Harness) -> None:
    token = issue_reporter_token(SECRET, "+85298765432", 600)
    with harness.client("k-report") as c:
        rid, dup = c.report(["+852 5555 0000"], "investment", "said he was a broker", token)
        rid2, dup2 = c.report([("phone", "+85255550000")], "investment", "again", token)
    assert (dup, dup2) == (False, True)
    assert rid2 == rid
    rows = list(harness.intake.iter_reports())
    assert len(rows) == 1
    assert rows[0]["id"] == rid
    assert rows[0]["identifiers"] == [{"kind": "phone", "value": "+85255550000"}]
    assert "+85298765432" not in str(rows[0])  # the reporter is stored hashed only


@pytest.mark.parametrize(
    "token",
    [
        issue_reporter_token(b"another-secret-0123456789abcdefghij", "+85298765432", 600),
        issue_reporter_token(SECRET, "+85298765432", -1),
        "not-a-token",
        "",
    ],
    ids=["forged", "expired", "malformed", "missing"],
)
def test_report_refuses_bad_tokens(harness: Harness, token: str) -> None:
    with harness.client("k-report") as c, pytest.raises(RemoteError) as exc:
        c.report(["+85255550000"], "investment", "x", token)
    assert exc.value.code == "UNAUTHENTICATED"
    assert harness.intake.count() == 0


def test_report_rejects_invalid_identifiers(harness: Harness) -> None:
    token = issue_reporter_token(SECRET, "r1", 600)
    with harness.client("k-report") as c, pytest.raises(InvalidIdentifier):
        c.report(["bad-one"], "investment", "x", token)
    assert harness.intake.count() == 0


def test_related_is_bounded(admin: AnyClient) -> None:
    got = admin.related("+85291234567", limit=2)
    assert len(got) == 2
    assert all(v.cluster_size == len(LISTED) for v in got)
    assert "+85291234567" not in {v.canonical for v in got}


def test_snapshot_info(admin: AnyClient) -> None:
    info = admin.snapshot_info()
    assert info["snapshot_id"] == "snap-1"
    assert info["total"] == len(LISTED)
    assert info["counts"] == {"phone": {"high_risk": len(LISTED)}}
    assert info["age_seconds"] > 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_snapshot_is_unavailable(tmp_path: Path, transport: str) -> None:
    with (
        serve_fake(tmp_path, FakeSource(), transport=transport) as h,
        h.client("k-admin") as c,
    ):
        with pytest.raises(RemoteError) as exc:
            c.check("+85291234567")
        assert exc.value.code == "UNAVAILABLE"


def test_health_and_reflection_are_served(harness: Harness) -> None:
    with grpc.insecure_channel(harness.target) as ch:
        status = health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service="scameter.v1.Scameter"), timeout=5
        )
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        services = ProtoReflectionDescriptorDatabase(ch).get_services()
    assert "scameter.v1.Scameter" in services
    assert "grpc.health.v1.Health" in services


def test_metrics_count_requests_and_levels(harness: Harness, admin: AnyClient) -> None:
    admin.check("+85291234567")
    with pytest.raises(InvalidIdentifier):
        admin.check("bad", "phone")
    reg = harness.running.metrics.registry
    ok = {"worker": "0", "method": "Check", "code": "OK"}
    bad = {"worker": "0", "method": "Check", "code": "INVALID_ARGUMENT"}
    assert reg.get_sample_value("scameter_rpc_requests_total", ok) == 1
    assert reg.get_sample_value("scameter_rpc_requests_total", bad) == 1
    level = {"worker": "0", "level": "high_risk"}
    assert reg.get_sample_value("scameter_verdicts_total", level) == 1
    count = reg.get_sample_value(
        "scameter_rpc_latency_seconds_count", {"worker": "0", "method": "Check"}
    )
    assert count == 2


def test_batch_whose_answer_cannot_fit_is_refused_up_front(
    tmp_path: Path, source: FakeSource
) -> None:
    """items x worst-case verdict size over --max-message-bytes: INVALID_ARGUMENT naming the
    largest batch that fits, before any lookup (the fake source counts none)."""
    from scameter.rpc.servicer import VERDICT_FIXED_BYTES, VERDICT_INPUT_FACTOR

    limit = 64 * 1024
    per_item = VERDICT_FIXED_BYTES + VERDICT_INPUT_FACTOR * len("+8529000000")
    fits = (limit - 1024) // per_item
    with (
        serve_fake(tmp_path, source, max_batch=10_000, max_message_bytes=limit) as h,
        Client(h.target, "k-admin", timeout=10) as c,
    ):
        assert len(c.check_batch(["+8529000000"] * fits)) == fits
        with pytest.raises(RemoteError) as exc:
            c.check_batch(["+8529000000"] * (fits + 1))
    assert exc.value.code == "INVALID_ARGUMENT"
    assert f"send at most {fits} of these" in exc.value.details
