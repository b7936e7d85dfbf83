"""Every row is its own fate: a row over a storage limit, too deeply nested or dated
outside the accepted range is rejected with its file, line and reason; the build goes on,
publishes, and its summary counts the rejects per limit. Categories are a closed vocabulary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.categories import CATEGORIES, canonical_category
from scameter.index import Snapshot
from scameter.ingest import run_ingest
from scameter.ingest.limits import MAX_JSON_DEPTH, check_json_depth, limit_of
from scameter.ingest.rows import RowError
from scameter.verdict import Level

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


def _report(value: str, **extra: object) -> str:
    row: dict[str, object] = {"source": "police", "status": "confirmed",
                              "reported_at": "2026-11-01T00:00:00Z",
                              "identifiers": [{"kind": "phone", "value": value}]}  # fmt: skip
    row.update(extra)
    return json.dumps(row)


HOSTILE = {
    "deep": "[" * 100_000 + "]" * 100_000,
    "deep-object": '{"a":' * 5000 + "1" + "}" * 5000,
    "long-url": json.dumps({"source": "police", "status": "confirmed",
                            "reported_at": "2026-11-01T00:00:00Z",
                            "identifiers": [{"kind": "url",
                                             "value": "http://evil.example/" + "a" * 70_000}]}),
    "long-owner": json.dumps({"type": "allow", "kind": "phone", "value": "+85223456789",
                              "owner": "B" * 70_000}),
    "year-1": _report("+85291230001", reported_at="0001-01-01T00:00:00Z"),
    "negative-epoch": _report("+85291230002", reported_at=-86400),
    "far-future": _report("+85291230003", reported_at="2099-01-01T00:00:00Z"),
    "many-identifiers": json.dumps({"source": "police", "status": "confirmed",
                                    "reported_at": "2026-11-01T00:00:00Z",
                                    "identifiers": [f"+8529{i:07d}" for i in range(1500)]}),
}  # fmt: skip
EXPECTED_LIMIT = {
    "deep": "json_depth",
    "deep-object": "json_depth",
    "long-url": "value_bytes",
    "long-owner": "value_bytes",
    "year-1": "date_range",
    "negative-epoch": "date_range",
    "far-future": "date_range",
    "many-identifiers": "report_identifiers",
}


def test_hostile_rows_are_rejected_one_by_one(tmp_path: Path) -> None:
    lines = [_report("+85291234567")]
    lines += HOSTILE.values()
    lines.append(_report("+85291234568", category='=HYPERLINK("http://evil","x")\x1b[2J'))
    lines.append(_report("+85291234569", reported_at="2026-11-21T00:00:00Z"))  # as_of + 1 day
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run_ingest([path], tmp_path / "snaps", as_of=AS_OF, workers=1, max_reject_ratio=1.0)
    assert res.published
    rejects = [json.loads(x) for x in res.rejects_path.read_text().splitlines()]
    by_line = {r["line"]: r for r in rejects if r["action"] == "rejected"}
    for i, name in enumerate(HOSTILE, start=2):
        assert limit_of(by_line[i]["reason"]) == EXPECTED_LIMIT[name], name
        assert by_line[i]["file"].endswith("reports.jsonl")
        assert len(by_line[i]["raw"]) <= 300
    assert res.rejected == len(HOSTILE)
    expected: dict[str, int] = {}
    for name in EXPECTED_LIMIT.values():
        expected[name] = expected.get(name, 0) + 1
    assert res.limits == expected
    with Snapshot.open_current(tmp_path / "snaps") as s:
        assert s.check("+85291234567", "phone").level is Level.HIGH_RISK
        v = s.check("+85291234568", "phone")
        assert v.level is Level.HIGH_RISK
        assert v.categories == ("other",)
        # Inside the slack: accepted (no reject), counted by the first build as of a later time.
        assert s.check("+85291234569", "phone").level is Level.NO_RECORD
        for value in ("+85291230001", "+85291230002", "+85291230003"):
            assert s.check(value, "phone").level is Level.NO_RECORD
    assert len(lines) not in by_line


def test_deep_json_is_refused_before_parsing() -> None:
    check_json_depth("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    check_json_depth('{"a": "' + "[" * 1000 + '"}')  # brackets inside a string do not count
    with pytest.raises(RowError, match="limit json_depth"):
        check_json_depth("[" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(RowError, match="limit json_depth"):
        check_json_depth(b"{" * 1000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("investment", "investment"),
        ("Online Shopping", "online_shopping"),
        ("phishing-sms", "phishing_sms"),
        ("shopping", "online_shopping"),
        ("", ""),
        ("   ", ""),
        ('=HYPERLINK("http://evil","x")', "other"),
        ("x" * 10_000, "other"),
        ("\x1b]0;pwned\x07", "other"),
    ],
    ids=["known", "spaced", "hyphen", "alias", "empty", "blank", "formula", "long", "escape"],
)
def test_category_vocabulary(raw: str, expected: str) -> None:
    assert canonical_category(raw) == expected
    assert canonical_category(raw) in (*CATEGORIES, "")


def test_adapter_categories_are_in_the_vocabulary() -> None:
    for cat in ("phishing", "crypto_phishing", "malware", "malware_download"):
        assert canonical_category(cat) == cat
