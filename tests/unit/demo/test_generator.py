"""The seeded demo-data generator: deterministic, schema-valid, realistic, and the bundled copy."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import phonenumbers
import pytest

from scameter import demo
from scameter.demo import generator, vocabulary
from scameter.identifiers import HK_BANK_CODES, Kind, normalize
from scameter.identifiers.platform import PLATFORMS

REPORT_KEYS = {
    "type",
    "id",
    "source",
    "status",
    "reported_at",
    "reporter",
    "category",
    "identifiers",
}


def test_deterministic_and_seeded() -> None:
    assert list(demo.generate(300, 7)) == list(demo.generate(300, 7))
    assert list(demo.generate(300, 7)) != list(demo.generate(300, 8))
    assert len(list(demo.generate(123, 1))) == 123
    assert list(demo.generate(2, 1)) == list(demo.generate(50, 1))[:2]


def test_reports_follow_the_schema() -> None:
    categories = {name for name, _ in demo.CATEGORIES}
    statuses = {"confirmed", "unverified", "rejected"}
    earliest = demo.DEFAULT_AS_OF - timedelta(days=366)
    ids = set()
    for row in demo.generate(2000, 3):
        assert set(row) == REPORT_KEYS
        assert row["type"] == "report"
        assert row["source"] in demo.SOURCES
        assert row["status"] in statuses
        assert row["category"] in categories
        when = datetime.fromisoformat(row["reported_at"].replace("Z", "+00:00"))
        assert earliest <= when <= demo.DEFAULT_AS_OF
        assert row["identifiers"]
        ids.add(row["id"])
    assert len(ids) == 2000


def test_every_identifier_normalises_and_mix_is_realistic() -> None:
    kinds: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for row in demo.generate(3000, 11):
        sources[row["source"]] += 1
        for ident in row["identifiers"]:
            normalize(ident["kind"], ident["value"])  # raises on anything invalid
            kinds[ident["kind"]] += 1
    # Every kind a source reports shows up; the demo need not cover a kind added later.
    assert set(kinds) == {k.value for ks in vocabulary.SOURCE_KINDS.values() for k in ks}
    assert set(kinds) <= {k.value for k in Kind}
    assert set(sources) == set(demo.SOURCES)
    assert kinds.most_common(1)[0][0] == "phone"  # phone-heavy, as the field is


@pytest.mark.parametrize(
    ("prefixes", "kind"),
    [
        (demo.MOBILE_PREFIXES, phonenumbers.PhoneNumberType.MOBILE),
        (demo.FIXED_PREFIXES, phonenumbers.PhoneNumberType.FIXED_LINE),
    ],
    ids=["mobile", "fixed"],
)
def test_phone_prefixes_are_real_ranges(prefixes: tuple[str, ...], kind: int) -> None:
    for prefix in prefixes:
        for tail in ("00000", "54321", "99999"):
            number = phonenumbers.parse(prefix + tail, "HK")
            assert phonenumbers.number_type(number) == kind, prefix + tail


def test_phones_are_valid_hk_numbers() -> None:
    for raw in demo.phones(500, 5):
        ident = normalize("phone", raw)
        assert ident.value.startswith("+852")
        assert ident.valid


def test_allowlist_is_official_and_normalises() -> None:
    rows = demo.allowlist()
    assert {r["type"] for r in rows} == {"allow"}
    values = {normalize(r["kind"], r["value"]).value for r in rows}
    assert {"18222", "999", "police.gov.hk", "adcc.gov.hk", "hsbc.com.hk"} <= values
    assert all(r["owner"] for r in rows)


def test_scam_number_blocks_are_consecutive() -> None:
    campaign = next(c for c in (generator._campaign(1, i) for i in range(200)) if len(c.phones) > 3)
    numbers = [int(p) for p in campaign.phones]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_write_sample_matches_the_generator(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    assert demo.write_sample(out, 40, 9) == 40
    assert [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()] == list(
        demo.generate(40, 9)
    )


def test_regenerating_the_bundled_sample_reproduces_it_byte_for_byte(tmp_path: Path) -> None:
    # What `python -m scameter.demo` writes, with the documented SAMPLE_SEED and SAMPLE_REPORTS:
    # the committed files (the demo tour and the README depend on them) must be exactly that.
    demo.write_bundled_sample(tmp_path)
    bundled = demo.bundled_sample_dir()
    for name in ("reports.jsonl", "allowlist.jsonl"):
        assert (tmp_path / name).read_bytes() == (bundled / name).read_bytes(), name
    assert len((bundled / "reports.jsonl").read_bytes().splitlines()) == demo.SAMPLE_REPORTS


def test_the_demo_draws_on_the_identifier_layers_tables() -> None:
    # Bank codes and platforms come from scameter.identifiers; a typo in the demo's choice of
    # banks would silently drop a bank from the filtered table, so the count is pinned too.
    assert set(vocabulary.BANK_CODES) <= set(HK_BANK_CODES)
    assert len(vocabulary.BANK_CODES) == 16
    assert set(vocabulary.CAMPAIGN_PLATFORMS) <= set(PLATFORMS)
