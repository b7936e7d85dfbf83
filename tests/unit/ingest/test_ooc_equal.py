"""The out-of-core fold (DuckDB) gives exactly the in-memory aggregator's records: random
event streams covering every source and status, windows, undated and future reports,
allow and delist rows, ``~`` keys, appeals, case ids, co-reports, shared domains and
derived forms, compared field by field."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.ingest import ooc, run_ingest, shards
from scameter.ingest.aggregate import Aggregator
from scameter.ingest.folds import MemoryFold, OutOfCoreFold
from scameter.ingest.granularity import Granularity
from scameter.ingest.policy import SOURCES, STATUSES, Policy
from scameter.ingest.warninglists import NONE
from scameter.ingest.worker import EV_ALLOW, EV_DELIST, EV_REPORT
from scameter.processes import can_fork

AS_OF = 1_800_000_000
AS_OF_TIME = datetime.fromtimestamp(AS_OF, UTC)
DAY = 86400
G = Granularity.default()

KEYS = [
    *(f"phone:+8529{n:07d}" for n in range(12)),
    "platform_account:whatsapp:+85290000001",
    "url:https://wa.me/85290000002",
    "url:https://evil-shop.example/a",
    "url:https://pay.evil-shop.example/b",
    "email:refund@evil-shop.example",
    "domain:evil-shop.example",
    "url:https://other-scam.example/x",
    "email:a@other-scam.example",
    "email:someone@gmail.com",
    "url:https://bit.ly/abc",
    "ip:203.0.113.7",
    "url:http://203.0.113.7/login",
    "fps_id:1234567",
    "bank_account:004-123456789001",
    "platform_account:telegram:scammer1",
]


APPEALED = "phone:+85298888888"


def _key(rng: random.Random) -> str:
    key = rng.choice(KEYS)
    return "~" + key if rng.random() < 0.08 else key


def events(seed: int, n: int = 300) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    out: list[tuple[Any, ...]] = []
    for line in range(n):
        r = rng.random()
        if r < 0.05:
            out.append((EV_ALLOW, line, _key(rng), rng.choice(["", "HSBC", "Bank A", "Bank B"])))
            continue
        if r < 0.1:
            at = rng.choice([-1, AS_OF - rng.randrange(200) * DAY])
            out.append((EV_DELIST, line, _key(rng), at))
            continue
        src = rng.randrange(len(SOURCES))
        status = rng.randrange(len(STATUSES))
        if r < 0.2:  # an identifier only the public reports: appeals can lower it
            ts = AS_OF - rng.randrange(-1, 200) * DAY
            out.append((EV_REPORT, line, ts, 1, 0, rng.randrange(1, 9), "", (APPEALED,), "", ""))
            continue
        ts = AS_OF - rng.randrange(-3, 500) * DAY + rng.randrange(DAY)
        if SOURCES[src] != "public" and rng.random() < 0.1:
            ts = -1
        rep = rng.choice([0, 1, 2, 3, 4, 5, 6, 2**63 + 5, 2**64 - 1])
        keys = tuple(_key(rng) for _ in range(rng.choice([1, 1, 1, 2, 3, 6])))
        category = rng.choice(["", "shopping", "investment", "phishing"])
        provider = rng.choice(["", "feed-a", "feed-b", "partner-c"])
        # Case ids CSV must quote (the event files are CSV) among the plain ones.
        case = rng.choice(["", "", 'C,"7"', "C\n8", *(f"C{k:03d}" for k in range(30))])
        out.append((EV_REPORT, line, ts, src, status, rep, category, keys, provider, case))
    return out


def appeals(seed: int) -> list[tuple[str, str, int]]:
    rng = random.Random(seed)
    return [
        (
            rng.choice([*KEYS, APPEALED]),
            f"who{rng.randrange(8)}",
            AS_OF - rng.randrange(-2, 200) * DAY,
        )
        for _ in range(40)
    ] + [(APPEALED, f"fan{k}", AS_OF - k * DAY) for k in range(rng.randrange(8))]


def fields(fold: Any, evs: list[tuple[Any, ...]], apps: list[Any]) -> list[tuple[Any, ...]]:
    for start in range(0, len(evs), 37):
        fold.add(evs[start : start + 37])
    fold.add_appeals(apps)
    fold.finish()
    return [
        (r.identifier.kind, r.identifier.value, r.identifier.valid,
         *(getattr(r, f.name) for f in dataclasses.fields(r)[1:]))
        for r in fold.records(G)
    ]  # fmt: skip


POLICIES = [
    Policy(),
    Policy(appeal_threshold=2, public_threshold_possible=1, public_threshold_suspicious=2),
    Policy(hub_reports=3, max_linked_per_report=3, relist_confirmed_after_delisting=False),
]


@pytest.mark.parametrize("seed", range(9))
def test_duckdb_fold_equals_memory_fold(tmp_path: Path, seed: int) -> None:
    policy = POLICIES[seed % len(POLICIES)]
    evs, apps = events(seed), appeals(seed)
    want = fields(MemoryFold(Aggregator(policy, AS_OF_TIME, NONE)), evs, apps)
    ooc = OutOfCoreFold(Aggregator(policy, AS_OF_TIME, NONE), tmp_path, "duckdb", 256 << 20)
    try:
        got = fields(ooc, evs, apps)
    finally:
        ooc.close()
    assert len(want) > 10
    if policy.hub_reports > 3:
        assert any(f[11] is not None for f in want)  # some clusters
    assert got == want
    assert list(tmp_path.iterdir()) == []  # the work directory is gone


def test_the_random_streams_cover_every_feature() -> None:
    """The equality above means something: the streams reach every rule."""
    seen: set[str] = set()
    for seed in range(9):
        policy = POLICIES[seed % len(POLICIES)]
        for f in fields(MemoryFold(Aggregator(policy, AS_OF_TIME, NONE)), events(seed),
                        appeals(seed)):  # fmt: skip
            seen.update(code.value for code in f[4])
            seen.update({"invalid"} if not f[2] else set())
            seen.update({"cases"} if f[14] else set())
            seen.update({"cluster"} if f[11] is not None else set())
    assert {"allowlisted", "appealed", "public_reports", "police_confirmed", "feed_listing",
            "partner_unverified", "invalid", "cases", "cluster"} <= seen  # fmt: skip


def test_sharded_duckdb_feed_builds_the_same_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The duckdb fold feeds the builder from forked processes, each reading the database
    through its own read-only connection: the snapshot is the single-process one."""
    assert can_fork(), "this test needs a single-threaded test process"
    monkeypatch.setattr(shards, "MIN_PER_SHARD", 5)
    monkeypatch.setattr(ooc, "BATCH", 7)
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "".join(
            json.dumps({"type": "report", "source": ["police", "public", "feed"][n % 3],
                        "reported_at": f"2026-11-0{1 + n % 9}T08:00:00Z",
                        "reporter": f"+8526{n % 13:07d}", "id": f"k{n % 17}",
                        "identifiers": [f"9{n % 97:07d}", f"https://s{n % 5}.scam.example/{n}"]})
            + "\n"
            for n in range(400)
        )
    )  # fmt: skip
    pids = tmp_path / "pids"
    reconnect = ooc.OutOfCore.reconnect

    def spy(self: ooc.OutOfCore, path: Path, memory_limit: int) -> None:
        with pids.open("a") as fh:  # from every feeding process, forked ones included
            fh.write(f"{os.getpid()}\n")
        reconnect(self, path, memory_limit)

    monkeypatch.setattr(ooc.OutOfCore, "reconnect", spy)
    when = datetime(2026, 11, 20, tzinfo=UTC)
    want = run_ingest([rows], tmp_path / "a", as_of=when, workers=1)
    got = run_ingest([rows], tmp_path / "b", as_of=when, workers=3, engine="duckdb")
    assert want.manifest is not None
    assert got.manifest is not None
    assert got.identifiers == want.identifiers > 100
    assert got.manifest.checksum == want.manifest.checksum
    assert len(set(pids.read_text().split())) == 3  # three processes fed the builder


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), n=st.integers(1, 120), policy=st.sampled_from(POLICIES))
def test_property_duckdb_fold_equals_memory_fold(seed: int, n: int, policy: Policy) -> None:
    """Any small random stream (hypothesis shrinks a failure to a short one)."""
    evs, apps = events(seed, n), appeals(seed)
    want = fields(MemoryFold(Aggregator(policy, AS_OF_TIME, NONE)), evs, apps)
    with tempfile.TemporaryDirectory() as tmp:
        fold = OutOfCoreFold(Aggregator(policy, AS_OF_TIME, NONE), Path(tmp), "duckdb", 64 << 20)
        try:
            got = fields(fold, evs, apps)
        finally:
            fold.close()
    assert got == want


@pytest.mark.parametrize("budget", [1, 4, 7])
def test_per_identifier_aggregate_in_parts_equals_memory_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """``agg1`` built in parts (a few keys per part, as 10^8 keys are under a memory limit)
    gives the in-memory records, every key in exactly one part."""
    from scameter.ingest import duck

    limit = 256 << 20
    monkeypatch.setattr(duck, "GROUP_BYTES", limit // budget)
    policy = POLICIES[0]
    evs, apps = events(3), appeals(3)
    want = fields(MemoryFold(Aggregator(policy, AS_OF_TIME, NONE)), evs, apps)
    fold = OutOfCoreFold(Aggregator(policy, AS_OF_TIME, NONE), tmp_path, "duckdb", limit)
    try:
        got = fields(fold, evs, apps)
        parts = fold.store.per_identifier_parts
    finally:
        fold.close()
    assert parts >= len(want) // budget > 1
    assert got == want


class _Sink:
    """Collects the domain-link index a fold files (``Aggregator.domain_sink``)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int, bool, tuple[bytes, ...] | None]] = []

    def add_domain(self, link: str, count: int, allowed: bool, keys: list[bytes] | None) -> None:
        self.entries.append((link, count, allowed, None if keys is None else tuple(sorted(keys))))


@pytest.mark.parametrize("seed", range(6))
def test_duckdb_fold_files_the_memory_folds_domain_link_index(tmp_path: Path, seed: int) -> None:
    """Both engines file the same entry per shared domain (count, allowlisted, keys under
    the cap): the side file's ``domlinks`` is then byte for byte the same."""
    policy = POLICIES[seed % len(POLICIES)]
    # Besides the random stream: a domain of 2 and one of 5 identifiers, none allowlisted.
    spread = [(EV_REPORT, 10_000 + j, AS_OF - DAY, 1, 0, j + 1, "",
               (f"url:https://{'pair' if j < 2 else 'hub'}-scam.example/{j}",), "", "")
              for j in range(7)]  # fmt: skip
    evs, apps = events(seed) + spread, appeals(seed)
    mem_agg, duck_agg = Aggregator(policy, AS_OF_TIME, NONE), Aggregator(policy, AS_OF_TIME, NONE)
    mem_agg.domain_sink, duck_agg.domain_sink = want, got = _Sink(), _Sink()
    fields(MemoryFold(mem_agg), evs, apps)
    ooc = OutOfCoreFold(duck_agg, tmp_path, "duckdb", 256 << 20)
    try:
        fields(ooc, evs, apps)
    finally:
        ooc.close()
    assert sorted(got.entries) == sorted(want.entries)
    assert len({link for link, *_ in want.entries}) == len(want.entries) >= 2
    pair, hub = (
        next(e for e in want.entries if e[0] == f"{d}-scam.example/") for d in ("pair", "hub")
    )
    assert pair[1:3] == (2, False)
    assert pair[3] is not None
    assert len(pair[3]) == 2
    assert hub[1] == 5
    assert (hub[3] is None) is (policy.hub_reports < 5)
