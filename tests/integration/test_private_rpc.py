"""Private lookups end to end on loopback: ``SearchHashes`` and ``GetDeviceUpdate`` over a
real snapshot, the private client, its Safe Browsing v5 cache, padding, bad prefixes, and the
server's logs, which must never hold a queried prefix or identifier."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from scameter.device import DeviceDatabase
from scameter.identifiers import Identifier, Kind
from scameter.index import Record, SnapshotBuilder, SnapshotManager, publish
from scameter.index.hashes import identifier_hash, lookup_hashes
from scameter.private import PrivateClient
from scameter.rpc.servicer import default_normalizer
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.verdict import Level, ReasonCode
from tests.unit.rpc.harness import serve_fake

MD = (("authorization", "Bearer k-check"),)
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
RECORDS = [
    (Kind.PHONE, "+85291234567", Level.HIGH_RISK, None),
    (Kind.PHONE, "+85261234567", Level.SUSPICIOUS, None),
    (Kind.DOMAIN, "evil-shop.example", Level.HIGH_RISK, None),
    (Kind.URL, "http://sites.google.com/view/scam", Level.SUSPICIOUS, None),
    (Kind.PHONE, "+85222900000", Level.VERIFIED, "Some Bank"),
    (Kind.FPS_ID, "1234567", Level.POSSIBLE, None),
    # enough numbers for a delta to be smaller than a full database
    *[(Kind.PHONE, f"+8525{i:07d}", Level.POSSIBLE, None) for i in range(400)],
]
QUERIES = [
    ("9123 4567", "phone"),
    ("+852 6123 4567", "phone"),
    ("+85290000001", "phone"),
    ("https://www.evil-shop.example/login?x=1", "url"),
    ("http://sites.google.com/view/scam/page", "url"),
    ("http://sites.google.com/view/other", "url"),
    ("2290 0000", "phone"),
    ("1234567", "fps_id"),
]


def build(root: Path, records: list[tuple[Kind, str, Level, str | None]], as_of: datetime) -> str:
    with SnapshotBuilder(root, as_of=as_of) as b:
        for kind, value, level, owner in records:
            b.add(
                Record(
                    Identifier(kind, value),
                    level,
                    reasons=(ReasonCode.POLICE_CONFIRMED,) if level is Level.HIGH_RISK else (),
                    categories=("investment",),
                    sources=("police",),
                    report_count=3,
                    reporters=2,
                    owner=owner,
                )
            )
        manifest = b.build()
    publish(root, manifest.snapshot_id)
    return manifest.snapshot_id


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, SnapshotManager]]:
    root = tmp_path / "snapshots"
    build(root, RECORDS, AS_OF)
    mgr = SnapshotManager(root, poll_interval=0.02)
    mgr.start()
    try:
        with serve_fake(tmp_path, mgr, normalizer=default_normalizer) as h:
            yield h.target, mgr
    finally:
        mgr.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_private_answers_equal_server_levels(
    served: tuple[str, SnapshotManager], caplog: pytest.LogCaptureFixture
) -> None:
    target, mgr = served
    caplog.set_level(logging.DEBUG)
    with PrivateClient(target, "k-check") as pc, mgr.acquire() as snap:
        for raw, kind in QUERIES:
            private = pc.check(raw, kind)
            public = snap.check(raw, kind)
            assert (private.level, private.canonical) == (public.level, public.canonical), raw
            if public.level is not Level.NO_RECORD:
                assert private.report_count == public.report_count == 3
        assert pc.check("9123 4567", "phone").categories == ("investment",)
        sent = list(pc.sent)
    # Only prefixes went out: 2 bytes for phones, 4 for URL expressions; never a full hash.
    assert sent
    assert {len(p) for p in sent} <= {2, 3, 4}
    # The server's logs (captured at DEBUG from every logger) hold no prefix or identifier.
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for p in sent:
        assert p.hex() not in text
        assert repr(p) not in text
    for raw, _ in QUERIES:
        assert raw not in text
    for _, value, _, _ in RECORDS:
        assert value not in text


def test_cache_follows_safe_browsing_v5(served: tuple[str, SnapshotManager]) -> None:
    target, _ = served
    clock = Clock()
    with PrivateClient(target, "k-check", clock=clock) as pc:
        assert pc.check("9123 4567", "phone").level is Level.HIGH_RISK
        assert pc.check("+85290000001", "phone").level is Level.NO_RECORD
        n = len(pc.sent)
        # Cached: the positive for its cache_duration, the miss for the negative duration.
        assert pc.check("9123 4567", "phone").level is Level.HIGH_RISK
        assert pc.check("+85290000001", "phone").level is Level.NO_RECORD
        assert len(pc.sent) == n
        clock.now += 301  # past the negative cache (300 s), inside the positive one (600 s)
        assert pc.check("9123 4567", "phone").level is Level.HIGH_RISK
        assert len(pc.sent) == n
        assert pc.check("+85290000001", "phone").level is Level.NO_RECORD
        assert len(pc.sent) == n + 1


def _stub(target: str) -> tuple[grpc.Channel, pb_grpc.ScameterStub]:
    ch = grpc.insecure_channel(target)
    return ch, pb_grpc.ScameterStub(ch)


def test_answers_are_padded_and_bad_prefixes_refused(served: tuple[str, SnapshotManager]) -> None:
    target, _ = served
    ch, stub = _stub(target)
    with ch:
        listed = identifier_hash(Kind.PHONE, "+85291234567")
        hit = stub.SearchHashes(pb.SearchHashesRequest(hash_prefixes=[listed[:2]]), metadata=MD)
        miss = stub.SearchHashes(
            pb.SearchHashesRequest(hash_prefixes=[b"\xff\xff\xff\xfe"]), metadata=MD
        )
        assert [f.full_hash for f in hit.full_hashes] == [listed]
        assert hit.full_hashes[0].level == pb.LEVEL_HIGH_RISK
        assert hit.full_hashes[0].reason_codes == ["police_confirmed"]
        assert not miss.full_hashes
        assert hit.ByteSize() == miss.ByteSize() == 256
        assert hit.cache_duration.seconds == 600
        assert miss.negative_cache_duration.seconds == 300
        for bad in ([b"\x01"], [b"\x01" * 5], [b"\x01" * 32], []):
            with pytest.raises(grpc.RpcError) as e:
                stub.SearchHashes(pb.SearchHashesRequest(hash_prefixes=bad), metadata=MD)
            assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_url_expressions_match_locally(served: tuple[str, SnapshotManager]) -> None:
    target, _ = served
    with PrivateClient(target, "k-check") as pc:
        v = pc.check("https://a.b.evil-shop.example/x/y?z=1", "url")
        assert v.level is Level.HIGH_RISK
        assert v.matched == "evil-shop.example/"
        hashes = lookup_hashes(Identifier(Kind.URL, "https://a.b.evil-shop.example/x/y?z=1"))
        assert not set(pc.sent) & set(hashes)  # never a full hash


def test_device_update_full_then_delta(tmp_path: Path, served: tuple[str, SnapshotManager]) -> None:
    target, mgr = served
    ch, stub = _stub(target)
    with ch:
        first = stub.GetDeviceUpdate(pb.GetDeviceUpdateRequest(version=""), metadata=MD)
        assert first.full
        db = DeviceDatabase.from_bytes(first.data)
        assert db.version == first.version
        assert db.check("9123 4567", "phone")
        assert not db.check("+85290000001", "phone")
        root = tmp_path / "snapshots"
        newer = [*RECORDS[1:], (Kind.PHONE, "+85290000001", Level.SUSPICIOUS, None)]
        new_id = build(root, newer, AS_OF + timedelta(hours=6))
        deadline = time.monotonic() + 10  # wait for the hot swap (polled every 20 ms)
        while time.monotonic() < deadline:
            with mgr.acquire() as snap:
                if snap.id == new_id:
                    break
            time.sleep(0.02)
        upd = stub.GetDeviceUpdate(pb.GetDeviceUpdateRequest(version=db.version), metadata=MD)
        assert upd.version == new_id
        assert not upd.full
        assert len(upd.data) < len(first.data)
        db2 = db.apply(upd.data)
        assert db2.check("+85290000001", "phone")
        assert not db2.check("9123 4567", "phone")
        unknown = stub.GetDeviceUpdate(
            pb.GetDeviceUpdateRequest(version="20200101T000000Z-x"), metadata=MD
        )
        assert unknown.full
        assert DeviceDatabase.from_bytes(unknown.data).info() == db2.info()
        # Versions no file system takes as a name (found by the RPC fuzz drill: they were
        # INTERNAL) are unknown versions too: a full database.
        for odd in ("x" * 70_000, "a\x00b", "\u00e9" * 200):
            got = stub.GetDeviceUpdate(pb.GetDeviceUpdateRequest(version=odd), metadata=MD)
            assert got.full
            assert DeviceDatabase.from_bytes(got.data).info() == db2.info()


def test_cli_check_private(
    served: tuple[str, SnapshotManager], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scameter.cli import main

    target, _ = served
    values = ["9123 4567", "+85290000001", "https://x.evil-shop.example/a", "not an id at all"]
    status = main(["check", "--json", "--private", "--remote", target, "--api-key", "k-check",
                   *values])  # fmt: skip
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 5  # an alert and an invalid input
    assert [r.get("level") for r in rows[:3]] == ["high_risk", "no_record", "high_risk"]
    assert rows[3]["error"]
    local = main(["check", "--json", "--snapshots", str(tmp_path / "snapshots"), *values[:3]])
    assert local == 1
    plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["level"] for r in plain] == [r["level"] for r in rows[:3]]
    assert main(["check", "--private", "9123 4567"]) == 2
    assert "--remote" in capsys.readouterr().err
