"""The parse workers write the out-of-core engine's rows (``ooc.process_chunk_rows``): the
admission in each worker decides as the main process's did, category bits and provider
numbers do not depend on which process saw what first, and the snapshot is the in-memory
path's, byte for byte, with the same summary counts."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.categories import CATEGORIES
from scameter.ingest import adapters, ooc, run_ingest
from scameter.ingest.aggregate import (
    CATEGORY_BITS,
    Admission,
    Aggregator,
    category_bit,
    provider_number,
)
from scameter.ingest.policy import Policy
from scameter.ingest.warninglists import NONE
from scameter.ingest.worker import EV_REPORT
from scameter.processes import can_fork

WHEN = datetime(2026, 11, 20, 12, tzinfo=UTC)
AS_OF = int(WHEN.timestamp())


def _report(cat: str, ts: int = AS_OF - 86400) -> tuple[object, ...]:
    return (EV_REPORT, 1, ts, 1, 0, 7, cat, ("phone:+85291234567",), "", "")


def test_category_bits_are_the_vocabularys_whatever_order_they_come_in() -> None:
    cats = ["romance", "investment", "employment", "romance"]
    bits = []
    for order in (cats, cats[::-1]):
        adm = Admission(Aggregator(Policy(), WHEN, NONE).count_rules(), AS_OF)
        bits.append({ev[6]: cbit for ev, _, cbit, _ in adm.reports([_report(c) for c in order])})
    assert bits[0] == bits[1]
    assert bits[0]["romance"] == 1 << CATEGORIES.index("romance")
    assert len(set(CATEGORY_BITS.values())) == len(CATEGORIES) <= 63  # one BIGINT mask


def test_a_category_outside_the_vocabulary_is_read_as_its_canonical_member() -> None:
    assert category_bit("Romance") == CATEGORY_BITS["romance"]
    assert category_bit("no-such-category") == CATEGORY_BITS["other"]


def test_the_aggregator_names_only_the_categories_it_counted() -> None:
    agg = Aggregator(Policy(), WHEN, NONE)
    future = _report("employment", ts=AS_OF + 86400)
    agg.add_events([_report("romance"), _report("investment"), future])
    assert agg.category_bits == {
        "romance": CATEGORY_BITS["romance"],
        "investment": CATEGORY_BITS["investment"],
    }
    assert (agg.stats.reports, agg.stats.counted, agg.stats.future) == (3, 2, 1)


def test_provider_numbers_are_a_function_of_the_name() -> None:
    names = ["feed-a.csv", "feed-b.csv", "", "telecom-1"]
    numbers = [provider_number(n) for n in names]
    assert len(set(numbers)) == len(names)
    assert all(0 < n < 1 << 63 for n in numbers)  # a signed BIGINT, never "no provider"
    provider_number.cache_clear()
    assert [provider_number(n) for n in names] == numbers


def test_rows_of_a_later_chunk_sort_after_every_row_of_an_earlier_one() -> None:
    rules = Aggregator(Policy(), WHEN, NONE).count_rules()
    many = [_report("romance")] * 5
    first = ooc.event_rows(many, rules, AS_OF, 0)
    second = ooc.event_rows(many[:1], rules, AS_OF, 1)
    last_rs = max(int(line.split(",")[0]) for line in first.ev.splitlines())
    assert first.ev_rows == 5
    assert int(second.ev.split(",")[0]) > last_rs
    assert int(second.ev.split(",")[1]) > max(
        int(line.split(",")[1]) for line in first.ev.splitlines()
    )


def _inputs(tmp_path: Path) -> list[Path]:
    """Reports over two feed files (two providers) and a report file with every source,
    categories, case ids, co-reports, future and aged-out reports; an allowlist and
    delistings: enough lines for dozens of 2 KiB blocks."""
    rng = random.Random(21)
    reports = []
    for n in range(900):
        src = ["police", "public", "bank", "telecom", "feed"][n % 5]
        hours = rng.randrange(-20, 400 * 24)  # a few within hours after as_of
        row = {
            "type": "report", "source": src, "id": f"case-{n % 41}",
            "status": ["confirmed", "unverified", "rejected"][rng.randrange(3)],
            "reported_at": datetime.fromtimestamp(AS_OF - hours * 3600, UTC).isoformat(),
            "category": rng.choice(["romance", "investment", "Employment", "tech-support"]),
            "reporter": f"+8526{rng.randrange(60):07d}", "provider": f"p{n % 3}",
            "identifiers": [f"9{rng.randrange(150):07d}"]
            + ([f"https://s{n % 7}.scam.example/{n}"] if n % 4 == 0 else []),
        }  # fmt: skip
        reports.append(json.dumps(row))
    reports += [
        json.dumps({"type": "allow", "kind": "phone", "value": f"9{n:07d}", "owner": "Bank, Ltd"})
        for n in range(0, 150, 37)
    ]
    reports += [
        json.dumps({"type": "delist", "kind": "phone", "value": f"9{n:07d}", "at": "2026-11-01"})
        for n in range(5, 150, 29)
    ]
    main = tmp_path / "reports.jsonl"
    main.write_text("\n".join(reports) + "\n")
    feeds = []
    for name in ("feed-a.jsonl", "feed-b.jsonl"):
        path = tmp_path / name
        path.write_text(
            "".join(
                json.dumps({"type": "report", "source": "feed", "category": "investment",
                            "identifiers": [f"9{n:07d}"]}) + "\n"
                for n in range(40, 90)
            )
        )  # fmt: skip
        feeds.append(path)
    return [main, *feeds]


@pytest.mark.parametrize("workers", [1, 2])
def test_rows_written_by_the_parse_workers_give_the_memory_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    assert can_fork(), "this test needs a single-threaded test process"
    monkeypatch.setattr(adapters, "BLOCK_BYTES", 2048)  # dozens of chunks per file
    inputs = _inputs(tmp_path)
    assert inputs[0].stat().st_size > 40 * 2048
    want = run_ingest(inputs, tmp_path / "a", as_of=WHEN, workers=1)
    got = run_ingest(inputs, tmp_path / "b", as_of=WHEN, workers=workers, engine="duckdb")
    assert want.manifest is not None
    assert got.manifest is not None
    assert got.identifiers == want.identifiers > 100
    assert got.manifest.checksum == want.manifest.checksum
    for name in ("reports", "counted", "future", "aged_out", "status_rejected", "allow",
                 "delist"):  # fmt: skip
        assert got.stats[name] == want.stats[name], name
    assert got.stats["future"] > 0
    assert got.stats["aged_out"] > 0
    assert got.stats["allow"] > 0
