"""Schema rows and timestamps."""

from __future__ import annotations

import pytest

from scameter.ingest.rows import ALLOW, DELIST, REPORT, RowError, parse_time, row_from_mapping
from scameter.times import parse_iso_utc

TIMES = [
    ("date-only", "2026-11-01", 1793491200),
    ("zulu", "2026-11-01T00:00:00Z", 1793491200),
    ("offset", "2026-11-01T08:00:00+08:00", 1793491200),
    ("naive-is-utc", "2026-11-01 00:00:00", 1793491200),
    ("epoch-int", 1793491200, 1793491200),
    ("epoch-str", "1793491200", 1793491200),
    ("missing", None, None),
    ("empty", "", None),
]


@pytest.mark.parametrize(("value", "ts"), [t[1:] for t in TIMES], ids=[t[0] for t in TIMES])
def test_parse_time(value: object, ts: int | None) -> None:
    assert parse_time(value) == ts


ISO = [
    "2026-11-01",
    "2026-11-01T09:30:00Z",
    "2026-11-01T09:30:00z",
    " 2026-11-01T09:30:00.5+08:00 ",
    "2026-11-01 09:30:00",
    "2026-11-01T09:30:00-05:30",
]


@pytest.mark.parametrize("text", ISO)
def test_iso_times_are_the_instants_of_the_one_iso_parser(text: str) -> None:
    assert parse_time(text) == int(parse_iso_utc(text).timestamp())


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", True, [1]], ids=str)
def test_bad_times(value: object) -> None:
    with pytest.raises(RowError, match="bad date"):
        parse_time(value)


def test_report_row_defaults_and_identifier_forms() -> None:
    row = row_from_mapping(
        {"identifiers": ["9123 4567", {"kind": "url", "value": "http://x.example/"}]},
        source="feed",
        category="c",
    )
    assert row[0] == REPORT
    assert row[2:4] == ("feed", "confirmed")  # a feed row is the feed's listing unless it says
    assert row[7] == "c"
    assert row[8] == ((None, "9123 4567"), ("url", "http://x.example/"))
    single = row_from_mapping({"kind": "phone", "value": "9123 4567"})
    assert single[2] == "public"
    assert single[8] == (("phone", "9123 4567"),)


def test_allow_and_delist_rows() -> None:
    assert row_from_mapping({"type": "allow", "kind": "phone", "value": "1", "owner": "o"}) == (
        ALLOW, "phone", "1", "o")  # fmt: skip
    row = row_from_mapping({"type": "delist", "value": "1", "at": "2026-11-01"})
    assert row == (DELIST, None, "1", "", 1793491200)


BAD = [
    ("no-identifiers", {"type": "report"}, "names no identifier"),
    ("empty-list", {"identifiers": []}, "non-empty list"),
    ("bad-item", {"identifiers": [3]}, "object"),
    ("no-value", {"identifiers": [{"kind": "phone"}]}, "without a value"),
    ("unknown-type", {"type": "appeal"}, "unknown row type"),
    ("allow-no-value", {"type": "allow"}, "allow row without a value"),
    ("field-type", {"source": ["police"], "value": "1"}, "'source' must be a string"),
]


@pytest.mark.parametrize(("obj", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_rows(obj: dict[str, object], match: str) -> None:
    with pytest.raises(RowError, match=match):
        row_from_mapping(obj)
