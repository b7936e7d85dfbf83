"""``ingest --engine auto``, the disk check before any work, and a DuckDB spill that fills
its disk: one clear line naming the directory and the space needed."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from scameter.cli import main
from scameter.errors import IngestError
from scameter.index import space
from scameter.ingest.adapters import data_bytes
from scameter.ingest.duck import DuckStore
from scameter.ingest.folds import INPUT_BYTES_PER_ID, MEMORY_BYTES_PER_ID, choose_engine
from scameter.ingest.pipeline import _plan


class _Usage(NamedTuple):
    total: int
    used: int
    free: int


def _reports(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            row = {"type": "report", "source": "public", "status": "unverified",
                   "reporter": f"u{i % 50}", "category": "investment",
                   "reported_at": "2026-10-01T00:00:00Z",
                   "value": f"6{i % 4000:03d} {i:04d}"}  # fmt: skip
            fh.write(json.dumps(row) + "\n")
    return path


def test_auto_compares_the_input_with_the_memory_limit() -> None:
    per_id = INPUT_BYTES_PER_ID
    limit = 1000 * MEMORY_BYTES_PER_ID  # fits 1000 identifiers in memory
    assert choose_engine("auto", limit, 1000 * per_id) == "memory"
    assert choose_engine("auto", limit, 1001 * per_id) == "duckdb"
    assert choose_engine("auto", limit, None) == "memory"  # a pipe: the historical default
    assert choose_engine("duckdb", limit, 1) == "duckdb"
    assert choose_engine("memory", limit, 10**15) == "memory"
    assert choose_engine("auto", None, 10**6) == "memory"  # a quarter of this machine


@pytest.mark.parametrize(("limit", "ran"), [("64KB", "duckdb"), ("1GB", "memory")])
def test_ingest_auto_says_which_engine_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], limit: str, ran: str
) -> None:
    src = _reports(tmp_path / "r.jsonl", 600)  # ~110 KB: ~1,100 identifiers by the rule
    snaps = tmp_path / "snaps"
    argv = ["ingest", "--snapshots", str(snaps), "--as-of", "2026-11-01", "--engine", "auto",
            "--memory-limit", limit, "--no-official-entities", "--progress", "never",
            str(src)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"engine {ran} (chosen by --engine auto)" in out.splitlines()
    assert (snaps / "CURRENT").is_file()


def test_input_estimate_adds_snapshot_evidence_and_duckdb_work() -> None:
    n = 10**9
    est = space.estimate_for_input(n, out_of_core=True, evidence=True)
    assert est.snapshot == space.estimate(n // space.INPUT_BYTES_PER_IDENTIFIER)
    assert est.evidence == int(n * space.EVIDENCE_PER_INPUT_BYTE)
    assert est.ooc == int(n * space.OOC_PER_INPUT_BYTE)
    assert est.total == est.snapshot + est.evidence + est.ooc
    bare = space.estimate_for_input(n, out_of_core=False, evidence=False)
    assert (bare.evidence, bare.ooc) == (0, 0)
    assert space.ensure_input_space(Path("/"), None, out_of_core=True, evidence=True) is None


def test_ingest_refuses_before_reading_when_input_needs_more_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _reports(tmp_path / "r.jsonl", 3000)
    snaps = tmp_path / "snaps"
    need = space.estimate_for_input(src.stat().st_size, out_of_core=True, evidence=True)
    free = need.total - 1
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: _Usage(10**12, 10**12 - free, free))
    argv = ["ingest", "--snapshots", str(snaps), "--as-of", "2026-11-01", "--engine", "duckdb",
            "--no-official-entities", "--progress", "never", str(src)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert str(snaps) in err
    assert f"needs about {space.human(need.total)} here" in err
    assert f"DuckDB work and spill {space.human(need.ooc)}" in err
    assert f"{space.human(free)} is free; nothing was read" in err
    assert not (snaps / "CURRENT").exists()
    assert not [p for p in snaps.iterdir() if p.name.startswith(".tmp")]


def test_a_full_disk_while_duckdb_spills_names_the_directory_and_the_space(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # DuckDB stops spilling at max_temp_directory_size (by default the disk's free space):
    # a 1 MiB cap is a disk with 1 MiB left.
    store = DuckStore(work, 64 << 20, 1, spill_needed=300 << 20, spill_limit=1 << 20)
    try:
        with pytest.raises(IngestError) as err:
            store.run(
                "CREATE TABLE t AS SELECT i % 3000000 AS k, count(*) AS c, "
                "min('abcdefgh' || i::VARCHAR) AS s FROM range(6000000) r(i) GROUP BY k"
            )
    finally:
        store.close()
    text = str(err.value)
    assert "\n" not in text
    assert f"the disk under {work / 'spill'} filled up while DuckDB spilled" in text
    assert "needs about 300.0 MiB (estimate)" in text
    assert "is free" in text


def test_duckdb_out_of_memory_names_the_step_and_the_limit(tmp_path: Path) -> None:
    """What cannot spill (one list of every row) fails under the limit with one line that
    names the limit and the statement's head, so an operator knows which step to give
    memory to."""
    work = tmp_path / "work"
    work.mkdir()
    store = DuckStore(work, 64 << 20, 1)
    try:
        with pytest.raises(IngestError) as err:
            store.run("CREATE TABLE big AS SELECT list(i) AS l FROM range(100000000) r(i)")
    finally:
        store.close()
    text = str(err.value)
    assert "\n" not in text
    assert "DuckDB ran out of memory under --memory-limit 64 MiB" in text
    assert "(in `CREATE TABLE big AS ...`)" in text
    assert "nothing published, CURRENT unchanged" in text


def test_gzip_input_counts_as_what_it_holds(tmp_path: Path) -> None:
    """The engine choice and the disk estimate follow the reports, not the compressed bytes:
    a gzip file (one member or several, as ``cat a.gz b.gz`` makes) is estimated from its
    first MiB's compression ratio, within a few percent of the plain file here."""
    plain = _reports(tmp_path / "r.jsonl", 20_000)
    body = plain.read_bytes()
    one = tmp_path / "r.jsonl.gz"
    one.write_bytes(gzip.compress(body, 1))
    half = len(body) // 2
    two = tmp_path / "r2.jsonl.gz"
    two.write_bytes(gzip.compress(body[:half], 1) + gzip.compress(body[half:], 1))
    assert one.stat().st_size * 4 < len(body)  # it compresses
    for gz in (one, two):
        est = data_bytes(gz)
        assert abs(est - len(body)) < 0.05 * len(body), (gz.name, est, len(body))
        assert _plan([gz], None).data_bytes == est
        assert _plan([gz], None).total_bytes == gz.stat().st_size  # progress: bytes read
    assert data_bytes(plain) == len(body)
    limit = len(body) // INPUT_BYTES_PER_ID * MEMORY_BYTES_PER_ID // 2
    assert choose_engine("auto", limit, _plan([one], None).data_bytes) == "duckdb"
    assert choose_engine("auto", limit, one.stat().st_size) == "memory"  # what it used to do


def test_a_damaged_gzip_input_is_estimated_at_its_size_or_more(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b" + b"\x00" * 5000)
    assert data_bytes(bad) == 5000 + 2
