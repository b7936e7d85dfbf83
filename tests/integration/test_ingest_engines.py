"""The acceptance test of out-of-core ingest: one input covering every kind of row (reports of
every source and status, windows, undated and future reports, delistings and relistings, the
allowlist, appeals from an intake log, case ids, co-reports, shared domains, derived forms,
rows of other formats) built by ``scameter ingest`` in a subprocess with the default engine
and with ``--engine duckdb`` gives the same snapshot content checksum."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scameter.ingest import run_ingest
from scameter.intake import IntakeLog, IntakePolicy

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "ingest"
AS_OF = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)


def scameter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scameter", *args],
        cwd=REPO, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def _when(days: float) -> str:
    return (AS_OF - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_reports(path: Path) -> None:
    """Co-reports, shared domains, derived forms, case ids, every source and status."""
    rows: list[dict[str, object]] = []
    sources = ["police", "public", "bank", "telecom", "feed"]
    statuses = ["confirmed", "unverified", "rejected"]
    for n in range(120):
        src, status = sources[n % 5], statuses[(n // 5) % 3]
        idents: list[object] = [{"kind": "phone", "value": f"9{n % 17:03d} {n % 7:04d}"}]
        if n % 4 == 0:
            idents.append({"kind": "url", "value": f"https://shop{n % 3}.scam-mall.example/p{n}"})
        if n % 6 == 0:
            idents.append({"kind": "email", "value": f"pay{n % 5}@scam-mall.example"})
        if n % 9 == 0:
            idents.append({"kind": "url", "value": f"https://wa.me/8529{n % 17:03d}{n % 7:04d}"})
        if n % 11 == 0:
            idents.append({"kind": "fps_id", "value": f"1{n:06d}"})
        row: dict[str, object] = {
            "type": "report", "id": f"case-{n % 40}", "source": src, "status": status,
            "reported_at": _when((n * 7) % 400), "category": ["investment", "shopping", ""][n % 3],
            "reporter": f"+8526000{n % 9:04d}", "identifiers": idents,
        }  # fmt: skip
        if src == "feed":
            row["provider"] = f"feed-{n % 2}"
        rows.append(row)
    for n in range(6):  # a public-only number that appeals lower
        rows.append({"type": "report", "source": "public", "reported_at": _when(n + 1),
                     "reporter": f"+8526100{n:04d}", "identifiers": ["6111 2345"]})  # fmt: skip
    rows.append({"type": "allow", "identifier": {"kind": "phone", "value": "9001 0001"},
                 "owner": "Bank A"})  # fmt: skip
    rows.append({"type": "delist", "identifier": {"kind": "phone", "value": "9002 0002"},
                 "delisted_at": _when(30)})  # fmt: skip
    rows.append({"type": "delist", "identifier": {"kind": "phone", "value": "9003 0003"}})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_intake(path: Path) -> None:
    with IntakeLog(path) as log:
        for i in range(6):
            log.append_appeal(identifier=("phone", "+85261112345"), reason="my number",
                              reporter_hash=f"r{i}", appealed_at=AS_OF - timedelta(days=2),
                              policy=IntakePolicy())  # fmt: skip


def build(root: Path, inputs: list[Path], *engine: str) -> dict[str, object]:
    done = scameter("ingest", "--snapshots", str(root), "--as-of", "2026-11-20", "--workers",
                    "1", *engine, *map(str, inputs))  # fmt: skip
    assert done.returncode == 0, done.stderr
    snap = root / (root / "CURRENT").read_text().strip()
    manifest: dict[str, object] = json.loads((snap / "manifest.json").read_text())
    return manifest


def test_default_and_duckdb_engines_build_the_same_snapshot(tmp_path: Path) -> None:
    reports, intake = tmp_path / "reports.jsonl", tmp_path / "intake"
    write_reports(reports)
    write_intake(intake)
    inputs = [FIXTURES / "policy_rules.jsonl", reports, intake, FIXTURES / "phishtank.csv",
              FIXTURES / "urlhaus.csv", FIXTURES / "openphish.txt"]  # fmt: skip
    memory = build(tmp_path / "a", inputs)
    duck = build(tmp_path / "b", inputs, "--engine", "duckdb", "--memory-limit", "300MB")
    assert memory["total"] == duck["total"]
    assert memory["total"] > 100  # type: ignore[operator]
    assert memory["checksum"] == duck["checksum"]
    # Nothing of the duckdb run's work directory is left behind.
    assert not list((tmp_path / "b").glob(".tmp-*"))


def _spark_missing() -> str | None:
    try:
        import pyspark  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None:
        return "no Java runtime on PATH (apt-get install default-jre-headless)"
    return None


def test_spark_engine_builds_the_same_snapshot_in_local_mode(tmp_path: Path) -> None:
    """Stage one on Spark (``local[2]``, in the ingest subprocess: the JVM and its threads
    end with it) then the same decisions: the same content checksum."""
    missing = _spark_missing()
    if missing is not None:
        if os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"):  # .ci/run installs both
            pytest.fail(missing)
        pytest.skip(missing)
    reports, intake = tmp_path / "reports.jsonl", tmp_path / "intake"
    write_reports(reports)
    write_intake(intake)
    inputs = [FIXTURES / "policy_rules.jsonl", reports, intake]
    memory = build(tmp_path / "a", inputs)
    spark = build(tmp_path / "b", inputs, "--engine", "spark")
    assert memory["total"] == spark["total"]
    assert memory["total"] > 50  # type: ignore[operator]
    assert memory["checksum"] == spark["checksum"]
    assert not list((tmp_path / "b").glob(".tmp-*"))


def test_duckdb_engine_counts_and_dry_run_match_memory(tmp_path: Path) -> None:
    """In process: the summary counters and a dry run's counts are the memory engine's."""
    reports, intake = tmp_path / "reports.jsonl", tmp_path / "intake"
    write_reports(reports)
    write_intake(intake)
    inputs = [FIXTURES / "policy_rules.jsonl", reports, intake]
    for dry_run in (True, False):
        memory = run_ingest(inputs, tmp_path / f"a{dry_run}", as_of=AS_OF, dry_run=dry_run)
        duck = run_ingest(inputs, tmp_path / f"b{dry_run}", as_of=AS_OF, dry_run=dry_run,
                          engine="duckdb", memory_limit=200 << 20)  # fmt: skip
        assert duck.counts == memory.counts
        assert duck.stats == memory.stats
        assert duck.identifiers == memory.identifiers > 50
        assert not list((tmp_path / f"b{dry_run}").glob(".tmp-*"))


def test_spark_engine_without_java_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from scameter.errors import IngestError
    from scameter.ingest import spark

    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.setattr(spark, "_SESSIONS", {})
    with pytest.raises(IngestError, match=r"needs (a Java runtime|the spark extra)"):
        spark.session("local[1]")
