"""CheckMessage and text-only reports over a real server (in-process, 127.0.0.1:0) on a real
snapshot: the same answers as the in-process check_message, the size limit and the cap, the
role, and text-only reports through the intake log into ingest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scameter.errors import InvalidMessage
from scameter.identifiers import normalize
from scameter.index import SnapshotManager
from scameter.index.message import MAX_MESSAGE_BYTES, check_message
from scameter.ingest import Policy, run_ingest
from scameter.rpc import Client, RemoteError, issue_reporter_token
from scameter.rpc.servicer import default_normalizer
from scameter.verdict import Channel, CheckContext, Level
from tests.unit.cli.conftest import build_fixture_snapshot
from tests.unit.rpc.harness import SECRET, Harness, serve_fake

HK_POST_SMS = (
    "【HK Post】Your parcel is held. Pay HK$12 at https://hkpost-redelivery.top/track "
    "or call 6391 2745"
)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[SnapshotManager]:
    build_fixture_snapshot(tmp_path / "snapshots")
    mgr = SnapshotManager(tmp_path / "snapshots", poll_interval=0.02)
    mgr.start()
    yield mgr
    mgr.stop()


@pytest.fixture
def harness(tmp_path: Path, manager: SnapshotManager) -> Iterator[Harness]:
    with serve_fake(tmp_path, manager, normalizer=default_normalizer) as h:
        yield h


MESSAGES = [
    (HK_POST_SMS, None),
    (HK_POST_SMS, "#HKPost"),
    ("香港郵政：包裹未能派遞 6391\u202e2745", "+852 9000 0000"),
    ("hxxps://hkpost-redelivery[.]top/x 、5123 4567", None),
    ("\x00\x01 junk \udcff", None),
    ("", "HSBC"),
]


def test_remote_answers_equal_local(harness: Harness, manager: SnapshotManager) -> None:
    ctx = CheckContext(Channel.SMS, overseas=True)
    with Client(harness.target, "k-check") as c, manager.acquire() as snap:
        for raw, sender in MESSAGES:
            text = raw.encode("utf-8", "replace").decode()  # protobuf strings are valid UTF-8
            assert c.check_message(text, sender=sender) == check_message(snap, text, sender=sender)
            assert c.check_message(text, sender=sender, context=ctx) == check_message(
                snap, text, sender=sender, context=ctx
            )
        answer = c.check_message(HK_POST_SMS)
    assert answer.level is Level.HIGH_RISK
    assert [i.span for i in answer.items] == [(43, 78), (87, 96)]


def test_over_64_kib_is_invalid_argument_and_the_cap_truncates(harness: Harness) -> None:
    with Client(harness.target, "k-check", timeout=30) as c:
        with pytest.raises(InvalidMessage, match="64 KiB"):
            c.check_message("x" * (MAX_MESSAGE_BYTES + 1))
        assert c.check_message("x" * (MAX_MESSAGE_BYTES - 10) + " 6391 2745").level is (
            Level.HIGH_RISK
        )
        numbers = [n for n in (f"6{i:03d} {i:04d}" for i in range(100, 400))
                   if normalize("phone", n).valid][:101]  # fmt: skip
        answer = c.check_message(" ".join(numbers))
    assert answer.truncated
    assert len(answer.items) == 100


def test_needs_the_check_role(harness: Harness) -> None:
    with Client(harness.target, "k-payee") as c, pytest.raises(RemoteError) as exc:
        c.check_message("hello")
    assert exc.value.code == "PERMISSION_DENIED"


def test_text_only_reports_are_extracted_kept_and_ingested(
    tmp_path: Path, harness: Harness
) -> None:
    token = issue_reporter_token(SECRET, "+85298765432", 600)
    with Client(harness.target, "k-report") as c:
        got = c.report_text("Pay at https://scam-parcel.top/pay or call 5123 9876", "sms", token)
        none = c.report_text("they were rude on the phone", "sms", token)
        again = c.report_text("they were rude on the phone", "sms", token)
        with pytest.raises(RemoteError) as exc:
            c.report_text("   ", "sms", token)
    assert exc.value.code == "INVALID_ARGUMENT"
    assert (got["identifiers"], got["duplicate"], got["truncated"]) == (2, False, False)
    assert (none["identifiers"], none["duplicate"]) == (0, False)
    assert again["duplicate"]
    assert again["report_id"] == none["report_id"]
    rows = list(harness.intake.iter_reports())
    assert [r["identifiers"] for r in rows] == [
        [{"kind": "url", "value": "https://scam-parcel.top/pay"},
         {"kind": "phone", "value": "+85251239876"}],
        [],
    ]  # fmt: skip
    assert rows[1]["text"] == "they were rude on the phone"
    harness.intake.close()
    out = tmp_path / "built"
    # Without the bundled official entities, so the counts are the intake's own.
    own = Policy(official_entities=False)
    result = run_ingest([tmp_path / "intake"], out, max_reject_ratio=0.5, policy=own)
    assert result.no_identifiers == 1
    assert result.counts == {"phone": {"possible": 1}, "url": {"possible": 1}}
    kept = result.rejects_path.read_text(encoding="utf-8")
    assert '"reason": "no_identifiers"' in kept
    assert "they were rude on the phone" in kept
