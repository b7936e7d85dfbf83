"""Rendering: table, colours, JSON lines, bulk cells, summary; and the progress bar."""

from __future__ import annotations

import io
import json

import pytest

from scameter.cli.common import exit_status
from scameter.cli.output import (
    BULK_COLUMNS,
    bulk_values,
    details,
    render_json_lines,
    render_table,
    summary_line,
)
from scameter.cli.progress import Progress
from scameter.verdict import Language, Level, Reason, ReasonCode, SimilarTo, Verdict

HIGH = Verdict(
    "6391 2745",
    "phone",
    "+85263912745",
    Level.HIGH_RISK,
    (Reason.of(ReasonCode.POLICE_CONFIRMED),),
    ("investment",),
    3,
    2,
    cluster_size=3,
    cluster_worst=Level.HIGH_RISK,
)
NEAR = Verdict(
    "hsbc-secure.top",
    "domain",
    "hsbc-secure.top",
    Level.SUSPICIOUS,
    (Reason.of(ReasonCode.NEAR_MATCH),),
    similar_to=SimilarTo("hsbc-secure.com", 2, Level.HIGH_RISK),
)
NONE = Verdict("9000 0000", "phone", "+85290000000", Level.NO_RECORD)
BAD = Verdict.invalid("x@", "invalid identifier: not recognised as any kind")


def test_details_words() -> None:
    assert details(HIGH) == (
        "Linked to a case investigated by the police. 3 reports from 2 reporters. "
        "Categories: investment. Linked to 2 other identifiers, worst HIGH RISK."
    )
    assert "hsbc-secure.com (HIGH RISK, distance 2)" in details(NEAR)
    assert details(NONE) == "No record found. This does not mean it is safe."
    assert details(BAD) == BAD.error


def test_table_plain_and_coloured() -> None:
    plain = render_table([HIGH, NONE, BAD], colour=False)
    assert "\x1b[" not in plain
    lines = plain.splitlines()
    assert len(lines) == 4
    assert lines[3].split()[:2] == ["x@", "INVALID"]
    coloured = render_table([HIGH, NONE, BAD], colour=True)
    assert "\x1b[1;31mHIGH RISK" in coloured
    assert "\x1b[35mNO RECORD" in coloured
    assert coloured.count("\x1b[0m") == 2  # INVALID is not painted


def test_json_lines_are_to_dict() -> None:
    lines = render_json_lines([HIGH, BAD]).splitlines()
    assert [json.loads(x) for x in lines] == [HIGH.to_dict(), BAD.to_dict()]


def test_bulk_values_align_with_columns() -> None:
    for v in (HIGH, NEAR, NONE, BAD):
        assert len(bulk_values(v)) == len(BULK_COLUMNS)
    assert bulk_values(BAD)[0] == "invalid"
    assert bulk_values(BAD)[-1] == BAD.error
    assert bulk_values(NEAR)[7] == "hsbc-secure.com (distance 2)"


def test_summary_and_exit_status() -> None:
    assert summary_line({"high_risk": 2, "invalid": 1}, 1234) == (
        "1,234 rows: 2 high_risk, 0 suspicious, 0 possible, 0 verified, 0 no_record, 1 invalid"
    )
    assert exit_status([NONE]) == 0
    assert exit_status([NEAR, NONE]) == 1
    assert exit_status([BAD]) == 4
    assert exit_status([HIGH, BAD]) == 5


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_disabled_writes_nothing() -> None:
    out = io.StringIO()
    p = Progress(out, enabled=False, total_bytes=100)
    p.update(10, 50)
    p.close()
    assert out.getvalue() == ""
    assert p.items == 10


def test_progress_rate_eta_and_throttle() -> None:
    out, clock = io.StringIO(), FakeClock()
    p = Progress(out, enabled=True, total_bytes=1000, clock=clock, interval=1.0)
    clock.now = 2.0
    p.update(20_000, 250)
    assert p.line() == " 25% [######------------------] 20,000 rows  10k rows/s  ETA 0:06"
    drawn = out.getvalue()
    clock.now = 2.5
    p.update(1, 260)  # inside the interval: no redraw
    assert out.getvalue() == drawn
    p.close()
    assert out.getvalue().endswith("\r\x1b[K")


@pytest.mark.parametrize("total", [None, 0])
def test_progress_without_total_has_no_eta(total: int | None) -> None:
    clock = FakeClock()
    p = Progress(io.StringIO(), enabled=True, total_bytes=total, clock=clock)
    clock.now = 1.0
    p.update(5)
    assert p.line() == "5 rows  5 rows/s"


def test_progress_in_bytes() -> None:
    clock = FakeClock()
    p = Progress(io.StringIO(), enabled=True, unit="bytes", clock=clock)
    p.set_total(4_000_000)
    clock.now = 2.0
    p.update(1_000_000, 1_000_000)
    assert p.line() == " 25% [######------------------] 1.0 MB  0.5 MB/s  ETA 0:06"


def test_progress_stage_replaces_the_eta_and_redraws_at_once() -> None:
    out, clock = io.StringIO(), FakeClock()
    p = Progress(out, enabled=True, unit="bytes", clock=clock, interval=60.0)
    p.set_total(4_000_000)
    clock.now = 2.0
    p.update(4_000_000, 4_000_000)
    clock.now = 2.1  # inside the redraw interval: a stage is drawn anyway
    p.stage("building the snapshot: 12 identifiers")
    assert p.line() == (
        "100% [########################] 4.0 MB  1.9 MB/s  building the snapshot: 12 identifiers"
    )
    assert out.getvalue().endswith(p.line() + "\x1b[K")


def test_case_ids_are_shown_and_neutralised() -> None:
    from dataclasses import replace

    v = replace(HIGH, case_ids=("app-2", "app-\x1b[2J1"), case_count=30)
    line = render_table([v], colour=False)
    assert "Cases (30, latest 2): app-2, app-\\x1b[2J1." in line
    assert "\x1b" not in line
    zh = details(v, Language.ZH_HANT)
    assert "個案（共 30 宗，最近 2 宗）：app-2, app-\x1b[2J1。" in zh
    assert "Cases" not in details(HIGH)
