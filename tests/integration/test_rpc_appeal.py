"""The Appeal RPC on a real server on loopback, over gRPC and HTTP/JSON (``POST /v1/appeal``):
stored durably in the intake log's appeals, deduplicated per reporter, identifier and day,
under the per-reporter daily cap, role ``report`` and the same reporter token as Report; an
ingest of the log lowers a public-only listing appealed by enough distinct reporters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scameter.errors import InvalidIdentifier
from scameter.index import Snapshot
from scameter.ingest.pipeline import run_ingest
from scameter.ingest.policy import Policy
from scameter.rpc import RemoteError, issue_reporter_token
from scameter.verdict import Level, ReasonCode
from tests.unit.rpc.fakes import FakeSnapshot, FakeSource
from tests.unit.rpc.harness import SECRET, TRANSPORTS, Harness, serve_fake


@pytest.fixture(params=TRANSPORTS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    source = FakeSource(FakeSnapshot("snap-1", {}))
    with serve_fake(tmp_path, source, report_daily_cap=3, transport=request.param) as h:
        yield h


def test_appeal_is_stored_once_per_reporter_and_day(harness: Harness) -> None:
    token = issue_reporter_token(SECRET, "+85298765432", 600)
    with harness.client("k-report") as c:
        aid, dup = c.appeal("+852 5555 0000", "This is my bakery's number", token)
        aid2, dup2 = c.appeal("+85255550000", "still mine", token, kind="phone")
    assert aid.startswith("appeal-")
    assert (dup, dup2) == (False, True)
    assert aid2 == aid
    rows = list(harness.intake.iter_appeals())
    assert [r["id"] for r in rows] == [aid]
    assert rows[0]["type"] == "appeal"
    assert rows[0]["identifier"] == {"kind": "phone", "value": "+85255550000"}
    assert rows[0]["reason"] == "This is my bakery's number"
    assert "+85298765432" not in json.dumps(rows)  # the reporter is stored hashed only
    assert list(harness.intake.iter_reports()) == []  # appeals are not reports


def test_appeals_share_the_daily_cap_with_reports(harness: Harness) -> None:
    token = issue_reporter_token(SECRET, "+85291110000", 600)
    with harness.client("k-report") as c:
        c.report(["+852 5555 0001"], "investment", "x", token)
        c.appeal("+852 5555 0002", "wrong number", token)
        c.appeal("+852 5555 0003", "wrong number", token)
        with pytest.raises(RemoteError) as exc:
            c.appeal("+852 5555 0004", "wrong number", token)
    assert exc.value.code == "RESOURCE_EXHAUSTED"
    assert "3 reports and appeals a day" in exc.value.details
    assert len(list(harness.intake.iter_appeals())) == 2


def test_appeal_needs_the_report_role(harness: Harness) -> None:
    token = issue_reporter_token(SECRET, "+85298765432", 600)
    with harness.client("k-check") as c, pytest.raises(RemoteError) as exc:
        c.appeal("+852 5555 0000", "mine", token)
    assert exc.value.code == "PERMISSION_DENIED"
    with harness.client("k-admin") as c:
        assert not c.appeal("+852 5555 0000", "mine", token)[1]


@pytest.mark.parametrize(
    "token",
    [
        issue_reporter_token(b"another-secret-0123456789abcdefghij", "+85298765432", 600),
        issue_reporter_token(SECRET, "+85298765432", -1),
        "",
    ],
    ids=["forged", "expired", "missing"],
)
def test_appeal_refuses_bad_tokens(harness: Harness, token: str) -> None:
    with harness.client("k-report") as c, pytest.raises(RemoteError) as exc:
        c.appeal("+852 5555 0000", "mine", token)
    assert exc.value.code == "UNAUTHENTICATED"
    assert list(harness.intake.iter_appeals()) == []


@pytest.mark.parametrize(
    ("value", "reason", "field"),
    [("+852 5555 0000", "", "reason"), ("+852 5555 0000", "x" * 1001, "reason"),
     ("", "mine", "identifier")],
    ids=["no-reason", "reason-too-long", "no-identifier"],
)  # fmt: skip
def test_appeal_refuses_bad_requests(harness: Harness, value: str, reason: str, field: str) -> None:
    token = issue_reporter_token(SECRET, "+85298765432", 600)
    with harness.client("k-report") as c, pytest.raises(RemoteError) as exc:
        c.appeal(value, reason, token)
    assert exc.value.code == "INVALID_ARGUMENT"
    assert field in exc.value.details
    with harness.client("k-report") as c, pytest.raises(InvalidIdentifier):
        c.appeal("bad-number", "mine", token)
    assert list(harness.intake.iter_appeals()) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ingest_lowers_an_appealed_public_listing(transport: str, tmp_path: Path) -> None:
    """Three public reporters make +85255551111 SUSPICIOUS; five distinct appealers lower it
    to POSSIBLE (reason ``appealed``) at the next ingest. A police-confirmed number appealed
    as often stays HIGH RISK; an appealed number nobody reported is not listed at all."""
    police = tmp_path / "police.jsonl"
    police.write_text(json.dumps({
        "identifiers": [{"kind": "phone", "value": "+85255552222"}], "source": "police",
        "status": "confirmed", "category": "investment",
        "reported_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
    }) + "\n", encoding="utf-8")  # fmt: skip
    source = FakeSource(FakeSnapshot("snap-1", {}))
    with serve_fake(tmp_path, source, transport=transport) as h, h.client("k-report") as c:
        for i in range(3):
            token = issue_reporter_token(SECRET, f"+8529000{i:04d}", 600)
            c.report(["+852 5555 1111"], "investment", "x", token)
        for i in range(5):
            token = issue_reporter_token(SECRET, f"+8529100{i:04d}", 600)
            for number in ("+852 5555 1111", "+852 5555 2222", "+852 5555 3333"):
                c.appeal(number, "it is a real shop", token)
    snaps = tmp_path / "out"
    for policy in (Policy(appeal_threshold=0), Policy()):
        run_ingest([tmp_path / "intake", police], snaps, policy=policy, workers=1)
        with Snapshot.open_current(snaps) as snap:
            public = snap.check("+85255551111", "phone")
            confirmed = snap.check("+85255552222", "phone")
            unlisted = snap.check("+85255553333", "phone")
        if policy.appeal_threshold == 0:
            assert public.level is Level.SUSPICIOUS
            continue
        assert public.level is Level.POSSIBLE
        assert [r.code for r in public.reasons][:2] == [
            ReasonCode.PUBLIC_REPORTS,
            ReasonCode.APPEALED,
        ]
        assert public.reporters == 3
    assert confirmed.level is Level.HIGH_RISK
    assert unlisted.level is Level.NO_RECORD
