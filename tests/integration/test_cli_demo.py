"""``scameter demo`` end to end in a real subprocess, and ``python -m scameter``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_whole_tour(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scameter", "demo", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    steps = [
        "1. Ingest:",
        "2. Server:",
        "6391 2745 (+85263912745): HIGH RISK",
        "18222: VERIFIED",
        "https://hkpost-redellvery.top/track?id=HK2211: SUSPICIOUS",
        "alert=True level=high_risk",
        "6 rows: 3 high_risk",
        "5388 6120 (+85253886120): NO RECORD",
        "8. Re-ingest with the intake log",
        "9. Hot swap",
        "server stopped (exit status 0)",
    ]
    positions = [out.find(step) for step in steps]
    missing = [s for s, p in zip(steps, positions, strict=True) if p < 0]
    assert not missing, f"{missing}\n{out}\n{proc.stderr}"
    assert positions == sorted(positions), out  # printed in the tour's order
    after_swap = out[out.find("9. Hot swap") :]
    assert "5388 6120 (+85253886120): SUSPICIOUS" in after_swap
    assert (tmp_path / "snapshots" / "CURRENT").is_file()
    # Only the command's own errors count: gRPC may log harmless lines of its own to stderr.
    assert "scameter: error" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scameter", "check", "--snapshots", str(tmp_path), "18222"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("scameter: error: no snapshot in")
    assert proc.stdout == ""


def test_ingest_from_stdin(tmp_path: Path) -> None:
    report = (
        '{"type": "report", "id": "p1", "source": "police", "status": "confirmed", '
        '"reported_at": "2026-10-01T00:00:00Z", "reporter": "hkpf:adcc", "category": "loan", '
        '"identifiers": [{"kind": "phone", "value": "6391 2745"}]}\n'
    )
    base = [sys.executable, "-m", "scameter", "ingest", "--snapshots", str(tmp_path)]
    proc = subprocess.run(
        [*base, "--format", "jsonl", "-"],
        input=report,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "records read 1, rejected 0" in proc.stdout
    assert (tmp_path / "CURRENT").is_file()
    proc = subprocess.run(
        [*base, "-"], input=report, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 2
    assert "needs --format" in proc.stderr
