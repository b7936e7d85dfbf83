"""The near-match variants sorted and grouped in a forked process: the same snapshot bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scameter.errors import SnapshotError
from scameter.identifiers import Kind
from scameter.index import Snapshot, SnapshotBuilder, writers
from scameter.index import builder as builder_module
from scameter.processes import can_fork
from scameter.verdict import Level
from tests.unit.index.helpers import AS_OF, build, rec

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork (Linux, one thread)")

# Labels that share deletion variants (the groups with several entries), platform handles,
# and phones (no variants at all).
RECORDS = [
    *(rec(Kind.DOMAIN, f"scam{i:04d}-pay.example", Level.HIGH_RISK) for i in range(300)),
    *(rec(Kind.DOMAIN, f"quickloan{i}.example", Level.SUSPICIOUS) for i in range(40)),
    *(rec(Kind.PLATFORM_ACCOUNT, f"telegram:fastmoney{i:03d}", Level.POSSIBLE) for i in range(50)),
    *(rec(Kind.PHONE, f"+8529123{i:04d}", Level.HIGH_RISK) for i in range(100)),
]


@pytest.mark.parametrize(("parts", "own"), [(1, 0.0), (1, 0.3), (2, 0.5), (3, 0.1)])
@pytest.mark.parametrize("chunk", [500_000, 333], ids=["in-memory", "spilled"])
def test_forked_near_build_writes_the_serial_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, parts: int, own: float
) -> None:
    serial = build(tmp_path / "serial", RECORDS, chunk=chunk)
    monkeypatch.setattr(builder_module, "NEAR_FORK_MIN", 0)
    monkeypatch.setattr(builder_module, "NEAR_PARTS", parts)
    # The writer's own share: none, some, and the most it takes.
    monkeypatch.setattr(builder_module, "_own_near_share", lambda *a: own)
    forked = build(tmp_path / "forked", RECORDS, chunk=chunk)
    assert forked == serial  # the id carries the content checksum
    with Snapshot.open(tmp_path / "forked" / forked) as snap:
        near = snap.check("scam0007-pay.exampel", Kind.DOMAIN)
        assert near.similar_to is not None
        assert snap.check("telegram:fastmoney0070", Kind.PLATFORM_ACCOUNT).similar_to is not None
    leftovers = [p.name for p in (tmp_path / "forked").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_a_failing_near_process_fails_the_build_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(stream: object, cap: int, out: Path) -> None:
        os._exit(7)  # the child dies half way; the parent must not publish

    monkeypatch.setattr(builder_module, "NEAR_FORK_MIN", 0)
    monkeypatch.setattr(writers, "_near_child", crash)
    with pytest.raises(SnapshotError, match=r"near-match build process failed \(exit 7\)"):
        build(tmp_path, RECORDS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("records", "variants", "children", "expected"),
    [
        (1_600_000, 21_000_000, 1, 0.28),  # the 10^7-report benchmark: the writer takes ~1/4
        (1_600_000, 600_000, 1, 0.0),  # few variants: the child does them all
        (0, 21_000_000, 1, 0.5),  # nothing else to write: half each
        (0, 21_000_000, 3, 0.25),  # ... a quarter each with three children
    ],
)
def test_the_writer_takes_the_share_that_ends_with_its_children(
    records: int, variants: int, children: int, expected: float
) -> None:
    assert builder_module._own_near_share(records, variants, children) == pytest.approx(
        expected, abs=0.01
    )


def test_parallel_false_keeps_the_build_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork(*args: object) -> None:
        raise AssertionError("forked although parallel=False")

    reference = build(tmp_path / "reference", RECORDS, publish_it=False)
    monkeypatch.setattr(builder_module, "NEAR_FORK_MIN", 0)
    monkeypatch.setattr(builder_module, "NearJob", no_fork)
    with SnapshotBuilder(tmp_path, as_of=AS_OF, parent=None, parallel=False) as b:
        for r in RECORDS:
            b.add(r)
        manifest = b.build()
    assert manifest.snapshot_id == reference
