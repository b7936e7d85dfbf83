"""``snapshot export --format device [--since]`` and ``scameter device info|apply|check``:
a chain of deltas gives exactly the full export of the last snapshot; a flipped byte, a
truncated file and a delta for another base are refused with one line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from scameter.cli import main
from scameter.identifiers import Identifier, Kind
from scameter.index import Record, SnapshotBuilder, publish
from scameter.verdict import Level
from tests.unit.cli.conftest import AS_OF

BASE = [f"+8525{i:07d}" for i in range(0, 3000, 3)]


def _build(root: Path, phones: list[str], hours: int, extra: list[Record] = ()) -> str:  # type: ignore[assignment]
    with SnapshotBuilder(root, as_of=AS_OF + timedelta(hours=hours)) as b:
        for p in phones:
            level = (Level.POSSIBLE, Level.SUSPICIOUS, Level.HIGH_RISK)[int(p[-4:]) // 7 % 3]
            b.add(Record(Identifier(Kind.PHONE, p), level, report_count=1, reporters=1))
        for r in extra:
            b.add(r)
        manifest = b.build()
    publish(root, manifest.snapshot_id)
    return manifest.snapshot_id


@pytest.fixture
def chain(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "snaps"
    ids = [_build(root, BASE, 0, [Record(Identifier(Kind.PHONE, "+85222900000"), Level.VERIFIED,
                                         owner="Bank")])]  # fmt: skip
    ids.append(_build(root, [*BASE[10:], "+85290000001", "+85290000002"], 6))
    ids.append(_build(root, [*BASE[5:900], "+85290000001", "+85290000003"], 12))
    return root, ids


def _export(root: Path, out: Path, *extra: str) -> int:
    return main(["snapshot", "export", "--snapshots", str(root), "--format", "device",
                 "-o", str(out), *extra])  # fmt: skip


def test_chain_of_deltas_equals_full_export(
    chain: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, ids = chain
    assert _export(root, tmp_path / "v0.db", "--id", ids[0]) == 0
    current = tmp_path / "v0.db"
    for i in (1, 2):
        delta = tmp_path / f"d{i}.delta"
        assert _export(root, delta, "--id", ids[i], "--since", ids[i - 1]) == 0
        assert "delta from" in capsys.readouterr().err
        assert delta.stat().st_size < current.stat().st_size
        out = tmp_path / f"v{i}.db"
        assert main(["device", "apply", str(current), str(delta), "-o", str(out)]) == 0
        current = out
    assert _export(root, tmp_path / "full.db", "--id", ids[2]) == 0
    assert current.read_bytes() == (tmp_path / "full.db").read_bytes()
    capsys.readouterr()
    assert main(["device", "info", str(current)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == ids[2]
    assert info["entries"] == len(BASE[5:900]) + 2
    assert len(info["sha256"]) == 64


def test_check_hit_and_miss(chain: tuple[Path, list[str]], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    root, ids = chain
    db = tmp_path / "v0.db"
    assert _export(root, db, "--id", ids[0]) == 0
    capsys.readouterr()
    listed = "5000 0003"  # BASE holds +85250000003
    assert main(["device", "check", str(db), listed, "9000 0001", "2290 0000"]) == 0
    assert capsys.readouterr().out == f"{listed}\thit\n9000 0001\tmiss\n2290 0000\thit\n"
    assert main(["device", "check", "--json", "--kind", "phone", str(db), listed, "12"]) == 4
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == {"input": listed, "hit": True}
    assert rows[1]["hit"] is None
    assert rows[1]["error"]


def test_tampered_truncated_and_foreign_deltas_refused(
    chain: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, ids = chain
    v0, v1 = tmp_path / "v0.db", tmp_path / "v1.db"
    d2 = tmp_path / "d2.delta"
    assert _export(root, v0, "--id", ids[0]) == 0
    assert _export(root, v1, "--id", ids[1]) == 0
    assert _export(root, d2, "--id", ids[2], "--since", ids[1]) == 0
    capsys.readouterr()
    data = bytearray(v0.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped = tmp_path / "flipped.db"
    flipped.write_bytes(bytes(data))
    assert main(["device", "info", str(flipped)]) == 2
    assert "checksum mismatch" in capsys.readouterr().err
    short = tmp_path / "short.db"
    short.write_bytes(v0.read_bytes()[:-7])
    assert main(["device", "check", str(short), "5000 0003"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "truncated or was modified" in err
    # d2 applies to v1, not v0
    assert main(["device", "apply", str(v0), str(d2), "-o", str(tmp_path / "x.db")]) == 2
    assert "applies to version" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()
    assert main(["device", "apply", str(v1), str(d2), "-o", str(tmp_path / "x.db")]) == 0


def test_unknown_base_gives_full_export(
    chain: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, ids = chain
    out = tmp_path / "x.db"
    assert _export(root, out, "--since", "20200101T000000Z-000000000000") == 0
    assert "full database" in capsys.readouterr().err
    assert main(["device", "info", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == ids[2]
    assert main(["snapshot", "export", "--snapshots", str(root), "--format", "device"]) == 2
    assert "give -o FILE" in capsys.readouterr().err
