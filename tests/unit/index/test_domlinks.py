"""The domain-link index: entry encoding, merging of colliding keys, and what a build writes
(both engines alike, the cap, the allowlist, ``--no-evidence``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.identifiers import expression_key
from scameter.index import Snapshot, domlinks
from scameter.ingest import run_ingest
from scameter.ingest.evidence import wire_key_id
from scameter.ingest.policy import Policy

K = [bytes([i]) * 8 for i in range(1, 6)]


@pytest.mark.parametrize(
    ("count", "keys", "allowed", "want"),
    [
        (2, [K[1], K[0]], False, (0, 2, [K[0], K[1]])),
        (2, [K[0], K[0], K[1]], False, (0, 2, [K[0], K[1]])),
        (1, [K[2]], False, (0, 1, [K[2]])),
        (4, None, False, (domlinks.HUB, 4, [])),
        (2, None, True, (domlinks.ALLOWED, 2, [])),
        (5, None, True, (domlinks.HUB | domlinks.ALLOWED, 5, [])),
    ],
    ids=["sorted", "deduplicated", "one", "hub", "allowed", "hub-and-allowed"],
)
def test_entries_pack_and_unpack(
    count: int, keys: list[bytes] | None, allowed: bool, want: tuple[int, int, list[bytes]]
) -> None:
    value = domlinks.pack(count, keys, cap=3, allowed=allowed)
    assert domlinks.unpack(value) == want
    assert len(value) == domlinks.HEAD.size + 8 * len(want[2])


def test_an_entry_under_the_cap_needs_its_keys() -> None:
    with pytest.raises(ValueError, match="keys"):
        domlinks.pack(2, None, cap=3)


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ((2, K[:2], False), (2, K[1:3], False), (0, 3, K[:3])),
        ((2, K[:2], False), (2, K[2:4], False), (domlinks.HUB, 4, [])),
        ((2, K[:2], False), (4, None, False), (domlinks.HUB, 6, [])),
        ((2, K[:2], False), (1, None, True), (domlinks.ALLOWED, 3, [])),
    ],
    ids=["union", "union-past-the-cap", "with-a-hub", "with-an-allowlisted"],
)
def test_colliding_entries_merge_as_one_expression_holding_both(
    a: tuple[int, list[bytes] | None, bool],
    b: tuple[int, list[bytes] | None, bool],
    want: tuple[int, int, list[bytes]],
) -> None:
    pa = domlinks.pack(a[0], a[1], cap=3, allowed=a[2])
    pb = domlinks.pack(b[0], b[1], cap=3, allowed=b[2])
    assert domlinks.unpack(domlinks.merge(pa, pb, 3)) == want
    assert domlinks.merge(pa, pb, 3) == domlinks.merge(pb, pa, 3)


NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _report(i: int, *idents: tuple[str, str]) -> dict[str, object]:
    return {"type": "report", "source": "public", "status": "unverified",
            "reported_at": "2026-11-10T08:00:00Z", "reporter_hash": f"{i:032x}",
            "identifiers": [{"kind": k, "value": v} for k, v in idents]}  # fmt: skip


ROWS: list[dict[str, object]] = [
    # two listed e-mail addresses and an unlisted URL on one domain: all three counted
    *(_report(i, ("email", "a@mails.example")) for i in range(3)),
    *(_report(10 + i, ("email", "b@mails.example")) for i in range(3)),
    _report(20, ("url", "https://www.mails.example/x")),
    # four URLs on one domain: past the cap of 3
    *(_report(30 + i, ("url", f"https://hub.example/{i}")) for i in range(4)),
    # an allowlisted domain and a report of a page on it
    {"type": "allow", "kind": "domain", "value": "okbank.example", "owner": "OK Bank"},
    _report(40, ("url", "https://okbank.example/login")),
    # a popular host: listed at host + path, never linked by its domain
    _report(50, ("url", "https://sites.google.com/view/scam")),
]


def _build(tmp_path: Path, name: str, **kw: object) -> Path:
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    res = run_ingest([src], tmp_path / name, as_of=NOW, workers=1,
                     policy=Policy(hub_reports=3, official_entities=False), **kw)  # type: ignore[arg-type]  # fmt: skip
    assert res.manifest is not None
    return tmp_path / name / res.manifest.snapshot_id


def _key(kind: str, value: str) -> bytes:
    return wire_key_id(f"{kind}:{value}")


@pytest.mark.parametrize("engine", ["memory", "duckdb"])
def test_a_build_indexes_every_identifier_of_the_window_by_its_domain(
    tmp_path: Path, engine: str
) -> None:
    with Snapshot.open(_build(tmp_path, engine, engine=engine)) as snap:
        r = snap.reader
        assert r.has_domain_links
        entry = r.domain_links(expression_key("mails.example/"))
        assert entry is not None
        assert domlinks.unpack(entry) == (0, 3, sorted([
            _key("email", "a@mails.example"), _key("email", "b@mails.example"),
            _key("url", "https://www.mails.example/x")]))  # fmt: skip
        assert domlinks.unpack(r.domain_links(expression_key("hub.example/")) or b"") == (
            domlinks.HUB, 4, [])  # fmt: skip
        okbank = r.domain_links(expression_key("okbank.example/")) or b""
        assert domlinks.unpack(okbank) == (domlinks.ALLOWED, 2, [])
        assert r.domain_links(expression_key("sites.google.com/")) is None
        assert r.domain_links(expression_key("nowhere.example/")) is None


def test_both_engines_write_the_same_index_and_without_evidence_none(tmp_path: Path) -> None:
    memory = _build(tmp_path, "memory")
    duck = _build(tmp_path, "duckdb", engine="duckdb")
    assert (memory / "evidence.mdb").read_bytes() == (duck / "evidence.mdb").read_bytes()
    with Snapshot.open(_build(tmp_path, "bare", evidence=False)) as snap:
        assert not snap.reader.has_domain_links
        assert snap.reader.domain_links(expression_key("mails.example/")) is None
