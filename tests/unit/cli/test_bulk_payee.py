"""``scameter bulk --payee``: each CSV row is a transfer payee, annotated with the hook's answer."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scameter.cli import main
from scameter.cli.bulk_payee import PAYEE_COLUMNS

PAYEES = (
    "ref,proxy_id,account,note\n"
    "P-1,6391 2745,,x\n"  # HIGH RISK proxy id (a phone number)
    "P-2,1684203,004-123-456789-001,y\n"  # HIGH RISK FPS ID, unlisted account
    "P-3,5123 4567,,z\n"  # SUSPICIOUS: no alert
    "P-4,,,\n"  # neither field
    "P-5,not a payee!,,\n"  # invalid proxy id
    "P-6,9000 0000,,\n"  # NO RECORD
    "P-7\n"  # short row: no payee columns at all
)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("extra", [[], ["--chunk-size", "2", "--workers", "2"]])
def test_payee_rows_get_the_hook_answer(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    src, out = tmp_path / "payees.csv", tmp_path / "out.csv"
    src.write_text(PAYEES, encoding="utf-8")
    argv = ["bulk", "--payee", str(src), "-o", str(out), "--snapshots", str(snapshots)]
    status = main([*argv, *extra])
    rows = _rows(out)
    assert list(rows[0]) == ["ref", "proxy_id", "account", "note", *PAYEE_COLUMNS]
    assert [r["ref"] for r in rows] == [f"P-{i}" for i in range(1, 8)]
    levels = [r["scameter_level"] for r in rows]
    assert levels == [
        "high_risk", "high_risk", "suspicious", "invalid", "invalid", "no_record", "invalid"
    ]  # fmt: skip
    assert [r["scameter_alert"] for r in rows] == ["true", "true"] + ["false"] * 5
    assert rows[0]["scameter_triggered_by"] == "proxy_id"
    assert "HIGH RISK" in rows[0]["scameter_warning_en"]
    assert "高危" in rows[0]["scameter_warning_zh_hant"]
    assert rows[2]["scameter_warning_en"] == ""  # warnings only at HIGH RISK
    assert all(rows[i]["scameter_error"] for i in (3, 4, 6))
    assert status == 1 | 4
    err = capsys.readouterr().err
    assert "proxy id column 'proxy_id' and account column 'account'" in err


def test_payee_columns_by_name_and_refusals(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "payees.csv", tmp_path / "out.csv"
    src.write_text("who,acct\nA,6391 2745\n", encoding="utf-8")
    base = ["bulk", "--payee", str(src), "-o", str(out), "--snapshots", str(snapshots)]
    assert main(base) == 2
    assert "--proxy-column" in capsys.readouterr().err
    assert main([*base, "--proxy-column", "acct"]) == 1
    assert _rows(out)[0]["scameter_level"] == "high_risk"
    assert main([*base, "--account-column", "nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
