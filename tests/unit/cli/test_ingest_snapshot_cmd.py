"""``scameter ingest`` and ``scameter snapshot info|diff|export|verify`` in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scameter.cli import main

REPORTS: list[dict[str, object]] = [
    {
        "type": "report",
        "id": "p1",
        "source": "police",
        "status": "confirmed",
        "reported_at": "2026-10-01T00:00:00Z",
        "reporter": "hkpf:adcc",
        "category": "investment",
        "identifiers": [{"kind": "phone", "value": "6391 2745"}, {"value": "1684203"}],
    },
    {"type": "allow", "kind": "phone", "value": "18222", "owner": "HKPF Anti-Scam Helpline"},
]
MORE: dict[str, object] = {
    "type": "report",
    "id": "t1",
    "source": "telecom",
    "status": "confirmed",
    "reported_at": "2026-10-02T00:00:00Z",
    "reporter": "telecom:csl",
    "category": "phishing_sms",
    "identifiers": [{"kind": "url", "value": "https://hkpost-redelivery.top/track"}],
}


def _write(path: Path, rows: list[dict[str, object]], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + extra, encoding="utf-8")
    return path


def _ingest(snaps: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> int:
    return main(
        ["ingest", "--snapshots", str(snaps), "--as-of", "2026-11-01", *extra, *map(str, inputs)]
    )


def _published(out: str) -> str:
    first = out.splitlines()[0]
    assert first.endswith(" published"), out
    return first.split()[1]


def test_ingest_then_check_info_export_verify_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snaps = tmp_path / "snaps"
    one = _write(tmp_path / "one.jsonl", REPORTS)
    assert _ingest(snaps, one, extra=("--no-official-entities",)) == 0
    out = capsys.readouterr()
    first = _published(out.out)
    assert "records read 2, rejected 0" in out.out
    assert "\r" not in out.err  # no progress bar off a terminal

    assert main(["check", "--snapshots", str(snaps), "6391 2745"]) == 1
    assert "HIGH RISK" in capsys.readouterr().out

    assert main(["snapshot", "info", "--snapshots", str(snaps)]) == 0
    info = capsys.readouterr().out
    assert f"snapshot   {first}" in info
    assert "total      3 identifiers" in info
    assert main(["snapshot", "info", "--json", "--snapshots", str(snaps), first]) == 0
    assert json.loads(capsys.readouterr().out)["snapshot"] == first

    main(
        ["snapshot", "export", "--level", "high_risk", "--kind", "phone", "--snapshots", str(snaps)]
    )
    assert capsys.readouterr().out.splitlines() == ["+85263912745"]
    main(["snapshot", "export", "--json", "--snapshots", str(snaps)])
    exported = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {(r["kind"], r["level"]) for r in exported} == {
        ("phone", "high_risk"),
        ("fps_id", "high_risk"),
        ("phone", "verified"),
    }

    assert main(["snapshot", "verify", "--snapshots", str(snaps)]) == 0
    assert f"ok: snapshot {first} is intact" in capsys.readouterr().out

    two = _write(tmp_path / "two.jsonl", [*REPORTS, MORE])
    assert _ingest(snaps, two, extra=("--no-official-entities",)) == 0
    second = _published(capsys.readouterr().out)
    assert main(["snapshot", "diff", "--snapshots", str(snaps), first, second]) == 0
    diff = capsys.readouterr().out.splitlines()
    assert diff[0] == f"{first} -> {second}: 1 added, 0 removed, 0 changed"
    assert diff[1].split() == ["+", "url", "https://hkpost-redelivery.top/track", "high_risk"]


def test_dry_run_publishes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snaps = tmp_path / "snaps"
    assert _ingest(snaps, _write(tmp_path / "r.jsonl", REPORTS), extra=("--dry-run",)) == 0
    assert "dry run, nothing published" in capsys.readouterr().out
    assert not (snaps / "CURRENT").exists()


def test_reject_ratio_fails_without_publishing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snaps = tmp_path / "snaps"
    bad = _write(tmp_path / "r.jsonl", REPORTS, extra="{not json\n{not json either\n")
    status = _ingest(snaps, bad, extra=("--max-reject-ratio", "0.1"))
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert not (snaps / "CURRENT").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ingest", "--snapshots", "s", "missing.jsonl"], "does not exist"),
        (["ingest", "--as-of", "yesterday", "--snapshots", "s", "x"], "ISO 8601"),
        (["ingest", "--max-reject-ratio", "2", "--snapshots", "s", "x"], "between 0 and 1"),
        (["snapshot", "info", "--snapshots", "nowhere"], "scameter demo"),
        (["snapshot", "verify", "--snapshots", "nowhere", "abc"], "no snapshot 'abc'"),
    ],
    ids=["missing-input", "bad-as-of", "bad-ratio", "no-snapshot", "unknown-id"],
)
def test_errors_are_one_line(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_verify_detects_damage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snaps = tmp_path / "snaps"
    _ingest(snaps, _write(tmp_path / "r.jsonl", REPORTS))
    sid = _published(capsys.readouterr().out)
    manifest = snaps / sid / "manifest.json"
    data = json.loads(manifest.read_text())
    data["total"] = 999
    manifest.write_text(json.dumps(data))
    assert main(["snapshot", "verify", "--snapshots", str(snaps), sid]) == 2
    err = capsys.readouterr().err
    assert str(snaps / sid) in err
    assert len(err.strip().splitlines()) == 1


def test_bare_as_of_date_is_the_end_of_that_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report made at 10:00 on the as-of day counts; one the next day is left out, said so."""
    snaps = tmp_path / "snaps"
    rows = [
        {**REPORTS[0], "reported_at": "2026-11-01T10:00:00Z"},
        {**MORE, "reported_at": "2026-11-02T09:00:00Z"},
    ]
    assert _ingest(snaps, _write(tmp_path / "r.jsonl", rows)) == 0
    out = capsys.readouterr().out
    assert _published(out).startswith("20261101T235959Z-")
    assert "reports dated after as_of (2026-11-01T23:59:59Z): 1 left out" in out
    assert main(["check", "--snapshots", str(snaps), "6391 2745"]) == 1
    assert "HIGH RISK" in capsys.readouterr().out


def test_snapshot_prune_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snaps = tmp_path / "snaps"
    one = _write(tmp_path / "one.jsonl", REPORTS)
    two = _write(tmp_path / "two.jsonl", [MORE])
    for extra in ((), (str(two),), (str(one),)):
        assert _ingest(snaps, one, *map(Path, extra)) == 0
    ids = sorted(p.name for p in snaps.iterdir() if not p.name.startswith(".") and p.is_dir())
    capsys.readouterr()
    assert main(["snapshot", "prune", "--keep", "1", "--json", "--snapshots", str(snaps)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["removed"]) == 1
    assert len(result["kept"]) == 2
    left = {p.name for p in snaps.iterdir() if not p.name.startswith(".") and p.is_dir()}
    assert left == set(ids) - set(result["removed"])
    assert main(["snapshot", "prune", "--keep", "0", "--snapshots", str(snaps)]) == 2
    assert "whole number of snapshots" in capsys.readouterr().err


def test_forms_people_type_match_their_listing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A listed Google Form matches its other pages; a mainland mobile typed without 86."""
    form = "https://docs.google.com/forms/d/e/1FAIpQLSfScamForm0001/viewform?usp=sf_link"
    row = {
        **REPORTS[0],
        "identifiers": [{"kind": "url", "value": form}, {"value": "+86 138 1234 5678"}],
    }
    snaps = tmp_path / "snaps"
    assert _ingest(snaps, _write(tmp_path / "r.jsonl", [row])) == 0
    capsys.readouterr()
    values = [
        "https://docs.google.com/forms/u/0/d/e/1FAIpQLSfScamForm0001/formResponse",
        "13812345678",
        "https://docs.google.com/forms/d/e/1FAIpQLSfOtherForm999/viewform",
    ]
    assert main(["check", "--json", "--snapshots", str(snaps), *values]) == 1
    got = [json.loads(x)["level"] for x in capsys.readouterr().out.splitlines()]
    assert got == ["high_risk", "high_risk", "no_record"]


def test_clusters_by_size_and_level(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = {  # a public report naming three identifiers: one cluster of 3, POSSIBLE at most
        **MORE,
        "id": "u1",
        "source": "public",
        "status": "unverified",
        "reporter": "+85290000001",
        "identifiers": [{"value": "5111 0001"}, {"value": "5111 0002"}, {"value": "5111 0003"}],
    }
    snaps = tmp_path / "snaps"
    assert _ingest(snaps, _write(tmp_path / "r.jsonl", [*REPORTS, big])) == 0
    capsys.readouterr()
    assert main(["clusters", "--json", "--snapshots", str(snaps)]) == 0
    by_size = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [c["size"] for c in by_size] == [3, 2]
    assert by_size[1]["worst"] == "high_risk"
    assert by_size[1]["kinds"] == {"fps_id": 1, "phone": 1}
    assert {m["canonical"] for m in by_size[1]["sample"]} == {"+85263912745", "1684203"}
    assert (by_size[0]["case_ids"], by_size[0]["case_count"]) == (["u1"], 1)
    assert (by_size[1]["case_ids"], by_size[1]["case_count"]) == (["p1"], 1)
    assert main(["clusters", "--by", "level", "--limit", "1", "--snapshots", str(snaps)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 2
    assert "HIGH RISK" in table[1]
    assert "+85263912745" in table[1]
    assert table[1].endswith("; cases: p1")


def test_ingest_region_is_the_default_for_rows_that_do_not_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snaps = tmp_path / "snaps"
    rows: list[dict[str, object]] = [
        {"source": "police", "status": "confirmed", "category": "investment",
         "reported_at": "2026-10-01T00:00:00Z", "value": "8123 4567"},
        {"source": "police", "status": "confirmed", "category": "investment",
         "reported_at": "2026-10-01T00:00:00Z", "value": "6391 2745", "region": "HK"},
    ]  # fmt: skip
    src = _write(tmp_path / "sg.jsonl", rows)
    assert _ingest(snaps, src, extra=("--no-official-entities", "--region", "sg")) == 0
    capsys.readouterr()
    main(["snapshot", "export", "--kind", "phone", "--snapshots", str(snaps)])
    assert sorted(capsys.readouterr().out.splitlines()) == ["+6581234567", "+85263912745"]
    assert _ingest(snaps, src, extra=("--region", "Mars")) == 2
    assert "unknown region 'Mars'" in capsys.readouterr().err


def test_each_input_may_name_its_own_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``FORMAT:PATH`` gives one input its format while the others keep theirs: a police
    JSONL file next to a hosts feed whose name says nothing, in one run."""
    snaps = tmp_path / "snaps"
    police = _write(tmp_path / "police.jsonl", REPORTS[:1])
    feed = tmp_path / "feed.dat"
    feed.write_text("0.0.0.0 hkpost-redelivery.top\n", encoding="utf-8")
    assert _ingest(snaps, police, Path(f"hosts:{feed}"), extra=("--no-official-entities",)) == 0
    capsys.readouterr()
    main(["snapshot", "export", "--snapshots", str(snaps)])
    exported = capsys.readouterr().out.splitlines()
    assert "+85263912745" in exported
    assert any("hkpost-redelivery.top" in line for line in exported)
    # --format still applies to the inputs without a prefix, and an unknown prefix is a path.
    assert _ingest(snaps, Path(f"nosuch:{feed}"), extra=("--format", "hosts")) == 2
    assert f"input nosuch:{feed} does not exist" in capsys.readouterr().err


def test_a_file_whose_name_looks_like_a_prefix_stays_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "hosts:odd.jsonl", REPORTS[:1])  # an existing file wins over the prefix
    assert (
        _ingest(tmp_path / "snaps", Path("hosts:odd.jsonl"), extra=("--no-official-entities",)) == 0
    )
