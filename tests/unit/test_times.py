"""The one ISO helper: formatting and parsing instants at the edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scameter.times import iso_utc, parse_iso_utc

CASES = [
    ("epoch", 0, "1970-01-01T00:00:00Z"),
    ("seconds", 1_793_610_000, "2026-11-02T09:00:00Z"),
    ("fraction-dropped", 1_793_610_000.9, "2026-11-02T09:00:00Z"),
    ("aware-utc", datetime(2026, 11, 1, 9, 30, tzinfo=UTC), "2026-11-01T09:30:00Z"),
    (
        "aware-hk",
        datetime(2026, 11, 1, 17, 30, tzinfo=timezone(timedelta(hours=8))),
        "2026-11-01T09:30:00Z",
    ),
]


@pytest.mark.parametrize(("value", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_iso_utc(value: datetime | int | float, text: str) -> None:
    assert iso_utc(value) == text


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        iso_utc(datetime(2026, 11, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T09:30:00Z", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
        ("2026-11-01t09:30:00z", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
        ("2026-11-01 17:30:00+08:00", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
        (" 2026-11-01T09:30:00 ", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_iso_utc(text: str, expected: datetime) -> None:
    got = parse_iso_utc(text)
    assert got == expected
    assert got.tzinfo is UTC


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "Z"])
def test_parse_refuses_non_times(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - fromisoformat's own messages vary
        parse_iso_utc(text)


@given(st.integers(min_value=946_684_800, max_value=4_102_444_800))
def test_round_trip(ts: int) -> None:
    assert parse_iso_utc(iso_utc(ts)).timestamp() == ts
