"""Sharded snapshots end to end: ``scameter ingest --shards`` then ``check`` and ``snapshot
verify`` in subprocesses, a gRPC server on loopback serving and hot-swapping sharded snapshots
(signed, verified before the swap), and a build killed while writing its shards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from scameter.identifiers import Identifier, Kind
from scameter.index import Record, Snapshot, SnapshotBuilder, SnapshotManager, publish
from scameter.index.publish import current_id
from scameter.index.signing import generate_keys, load_private_key, load_public_key, sign_snapshot
from scameter.rpc import Client
from scameter.rpc.servicer import default_normalizer
from scameter.verdict import Level
from tests.children import reaped
from tests.unit.rpc.harness import serve_fake

REPO = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def scameter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scameter", *args],
        cwd=REPO, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def test_cli_ingest_check_verify_and_a_missing_shard(tmp_path: Path) -> None:
    src = tmp_path / "list.txt"
    src.write_text("".join(f"+8529{i:07d}\n" for i in range(0, 4000, 3)))
    root = tmp_path / "snaps"
    done = scameter("ingest", str(src), "--snapshots", str(root), "--kind", "phone",
                    "--source", "police", "--shards", "4", "--as-of", "2026-11-01")  # fmt: skip
    assert done.returncode == 0, done.stderr
    sid = current_id(root)
    assert sorted(p.name for p in (root / sid).glob("shard-*")) == [
        f"shard-{i:03d}" for i in range(4)
    ]
    hit = scameter("check", "--snapshots", str(root), "--json", "+85290000003")
    assert '"level": "high_risk"' in hit.stdout, hit.stderr  # exit status 1: a listed value
    miss = scameter("check", "--snapshots", str(root), "--json", "+85251234567")
    assert '"level": "no_record"' in miss.stdout, miss.stderr
    assert miss.returncode != hit.returncode
    verify = scameter("snapshot", "verify", "--snapshots", str(root))
    assert verify.returncode == 0, verify.stderr
    info = scameter("snapshot", "info", "--snapshots", str(root))
    assert "format     4.0 (4 key-range shards)" in info.stdout, info.stderr
    bad = scameter("ingest", str(src), "--snapshots", str(root), "--shards", "0")
    assert bad.returncode != 0
    assert "--shards" in bad.stderr
    assert "Traceback" not in bad.stderr
    (root / sid / "shard-003" / "data.mdb").unlink()
    gone = scameter("check", "--snapshots", str(root), "+85290000003")
    assert gone.returncode != 0
    lines = [line for line in gone.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, gone.stderr
    assert "shard-003/data.mdb" in lines[0]


def _sharded(root: Path, phones: list[str], gen: int) -> str:
    with SnapshotBuilder(root, as_of=AS_OF, shards=4) as b:
        for p in phones:
            b.add(Record(Identifier(Kind.PHONE, p), Level.HIGH_RISK, categories=(f"gen{gen}",),
                         report_count=gen + 1, reporters=1))  # fmt: skip
        return b.build().snapshot_id


def _until(predicate: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_grpc_serves_and_hot_swaps_sharded_snapshots(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    key, pub = tmp_path / "team.pem", tmp_path / "team.pub.pem"
    generate_keys(key, pub)
    phones = [f"+8526{i:07d}" for i in range(0, 3000, 7)]
    first = _sharded(root, phones, 0)
    sign_snapshot(root / first, load_private_key(key))
    publish(root, first)
    manager = SnapshotManager(root, poll_interval=0.02, verify=True, trust_key=load_public_key(pub))
    manager.start()
    try:
        with (
            serve_fake(tmp_path, manager, normalizer=default_normalizer) as h,
            Client(h.target, "k-admin") as c,
        ):
            probes = [phones[0], phones[-1], "+85260000001", phones[len(phones) // 2]]
            with manager.acquire() as local:
                assert local.reader.table.sharded
                for raw in probes:
                    assert c.check(raw) == local.check(raw)
                assert c.check_batch(probes) == local.check_many(probes)
            assert c.check(phones[0]).level is Level.HIGH_RISK
            second = _sharded(root, [*phones, "+85260000001"], 1)
            sign_snapshot(root / second, load_private_key(key))
            publish(root, second)
            assert _until(lambda: c.check("+85260000001").level is Level.HIGH_RISK)
            assert c.check(phones[0]).snapshot == second
            # A shard changed after signing: the full hash before the swap refuses it.
            third = _sharded(root, [*phones, "+85251230002"], 2)
            sign_snapshot(root / third, load_private_key(key))
            shard = root / third / "shard-002" / "data.mdb"
            data = bytearray(shard.read_bytes())
            data[len(data) // 2] ^= 0xFF
            shard.write_bytes(data)
            publish(root, third)
            assert _until(lambda: manager.verify_failures == 1)
            assert c.check("+85251230002").level is Level.NO_RECORD
            assert c.check(phones[0]).snapshot == second
    finally:
        manager.stop()


def test_a_sharded_build_killed_while_writing_leaves_current(tmp_path: Path) -> None:
    first = _sharded(tmp_path, ["+85291230000"], 0)
    publish(tmp_path, first)
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC, datetime
        from pathlib import Path
        from scameter.identifiers import Identifier, Kind
        from scameter.index import Record, SnapshotBuilder
        from scameter.index import builder as b
        from scameter.verdict import Level

        real = b.write_bitmaps  # runs after every record is in its shard
        def stall(*args):
            print("writing", flush=True)
            sys.stdin.read()  # wait here until killed
            return real(*args)
        b.write_bitmaps = stall
        sb = SnapshotBuilder(Path({str(tmp_path)!r}), as_of=datetime.now(UTC), shards=4)
        for i in range(5000):
            sb.add(Record(Identifier(Kind.PHONE, f"+8526{{i:07d}}"), Level.SUSPICIOUS))
        sb.build()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    with reaped(proc):
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert current_id(tmp_path) == first
    leftovers = [p for p in tmp_path.iterdir() if p.name not in ("CURRENT", first)]
    assert [p.name[:5] for p in leftovers] == [".tmp-"]
    assert len(list(leftovers[0].glob("shard-*/data.mdb"))) == 4
    with Snapshot.open_current(tmp_path) as s:
        assert s.id == first
        assert s.check("+85291230000").level is Level.HIGH_RISK
    # The next build removes the dead build's directory, shards and all.
    second = _sharded(tmp_path, ["+85291230001"], 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["CURRENT", first, second])
