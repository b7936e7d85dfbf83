"""Ingest applies the derivation table (issue 15 item 4): a report of a link lists what the
link leads to; an e-mail address never lists its whole mail domain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.index import Snapshot
from scameter.ingest import run_ingest
from scameter.ingest.adapters import AdapterOptions
from scameter.ingest.worker import process_chunk
from scameter.verdict import Level, ReasonCode

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
OPTS = AdapterOptions(reporter_key=b"k")


def _keys(identifiers: list[object], *, fast: bool) -> tuple[str, ...]:
    row = {"source": "police", "status": "confirmed", "reported_at": "2026-11-01",
           "identifiers": identifiers}  # fmt: skip
    res = process_chunk("jsonl", OPTS, "f", 1, (json.dumps(row) + "\n").encode(), fast=fast)
    assert not res.rejects
    (event,) = res.events
    keys: tuple[str, ...] = event[7]  # type, line, ts, source, status, reporter, category, KEYS
    return keys


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "general-path"])
@pytest.mark.parametrize(
    ("identifiers", "expected"),
    [
        (
            [{"kind": "url", "value": "https://wa.me/85263912745"}],
            ("url:https://wa.me/85263912745", "platform_account:whatsapp:+85263912745",
             "phone:+85263912745"),
        ),
        (["wa.me/85263912745"], ("platform_account:whatsapp:+85263912745", "phone:+85263912745")),
        (
            [{"kind": "url", "value": "http://203.0.113.9/login"}],
            ("url:http://203.0.113.9/login", "ip:203.0.113.9"),
        ),
        (
            # Named twice (the link and the number): listed once.
            [{"kind": "url", "value": "https://api.whatsapp.com/send?phone=85263912745"},
             {"kind": "phone", "value": "6391 2745"}],
            ("url:https://api.whatsapp.com/send?phone=85263912745", "phone:+85263912745"),
        ),
        ([{"kind": "email", "value": "a@gmail.com"}], ("email:a@gmail.com",)),
        ([{"kind": "phone", "value": "tel:+85263912745"}], ("phone:+85263912745",)),
    ],
    ids=["wa-me-url", "wa-me-detected", "ip-host", "send-link-and-number", "email", "tel"],
)  # fmt: skip
def test_report_keys(identifiers: list[object], expected: tuple[str, ...], fast: bool) -> None:
    assert _keys(identifiers, fast=fast) == expected


def test_reported_link_lists_the_number(tmp_path: Path) -> None:
    data = tmp_path / "reports.jsonl"
    data.write_text(
        json.dumps({"source": "police", "status": "confirmed", "reported_at": "2026-11-01",
                    "identifiers": ["https://wa.me/85263912745", "someone@evil-mail.example"]})
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    run_ingest([data], tmp_path / "snaps", as_of=AS_OF, workers=1)
    with Snapshot.open_current(tmp_path / "snaps") as s:
        v = s.check("6391 2745")
        assert v.level is Level.HIGH_RISK
        assert ReasonCode.DERIVED_MATCH not in {r.code for r in v.reasons}  # its own record
        assert s.check("evil-mail.example").level is Level.NO_RECORD  # no domain from an address
