"""``scameter bulk`` in-process: every row out, in order, verdict columns added, bad rows marked."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from scameter.cli import main
from scameter.cli.output import BULK_COLUMNS

CSV_TEXT = (
    "case,payee,note\n"
    "A-1,6391 2745,police case\n"
    'A-2,not a number!,"a note, with a comma"\n'
    'A-3,18222,"a note\nspanning two lines"\n'
    "A-4,9000 0000,\n"
    "A-5\n"
    "A-6,+852 5123 4567,reported\n"
)
CSV_LEVELS = ["high_risk", "invalid", "verified", "no_record", "invalid", "suspicious"]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "extra", [[], ["--chunk-size", "2", "--workers", "1"], ["--chunk-size", "1", "--workers", "2"]]
)
def test_csv_with_chosen_column(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(CSV_TEXT, encoding="utf-8")
    argv = ["bulk", str(src), "-o", str(out), "--column", "payee", "--snapshots", str(snapshots)]
    status = main([*argv, *extra])
    rows = _read_csv(out)
    assert [r["case"] for r in rows] == ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"]
    assert [r["scameter_level"] for r in rows] == CSV_LEVELS
    assert rows[1]["note"] == "a note, with a comma"
    assert rows[2]["note"] == "a note\nspanning two lines"
    assert rows[0]["scameter_canonical"] == "+85263912745"
    assert rows[1]["scameter_error"]  # the reason is kept
    assert rows[4]["scameter_error"] == "row has no column 2"
    assert status == 1 | 4
    err = capsys.readouterr().err
    summary = "6 rows: 1 high_risk, 1 suspicious, 0 possible, 1 verified, 1 no_record, 2 invalid"
    assert summary in err
    assert "\r" not in err  # no progress bar: stderr is not a terminal


def test_csv_header_and_unknown_column(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(CSV_TEXT, encoding="utf-8")
    argv = ["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots)]
    assert main([*argv, "--column", "nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    main(["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots)])
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == ["case", "payee", "note", *BULK_COLUMNS]
    # 'payee' is among the recognised value column names, so it was picked without --column
    assert _read_csv(out)[0]["scameter_level"] == "high_risk"


def test_jsonl_rows_keep_fields_and_order(snapshots: Path, tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    lines = [
        json.dumps({"id": 1, "value": "6391 2745"}),
        "{broken json",
        json.dumps({"id": 3, "other": "x"}),
        json.dumps("18222"),
        json.dumps({"id": 5, "value": "9000 0000"}),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = main(["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots)])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    assert rows[0]["id"] == 1
    assert rows[0]["scameter"]["level"] == "high_risk"
    assert "line 2 is not JSON" in rows[1]["scameter"]["error"]
    assert rows[1]["input"] == "{broken json"
    assert "no value in field 'value'" in rows[2]["scameter"]["error"]
    assert rows[3]["scameter"]["level"] == "verified"
    assert rows[4]["scameter"]["level"] == "no_record"
    assert status == 5


def test_jsonl_column_field(snapshots: Path, tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"payee": "1684203"}) + "\n", encoding="utf-8")
    main(["bulk", str(src), "-o", str(out), "--column", "payee", "--snapshots", str(snapshots)])
    assert json.loads(out.read_text(encoding="utf-8"))["scameter"]["kind"] == "fps_id"


def test_text_list_stdin_to_stdout(
    snapshots: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = "6391 2745\r\n\n18222\n# not a comment, a value\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    status = main(["bulk", "-", "--snapshots", str(snapshots)])
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["input"] for r in rows] == ["6391 2745", "", "18222", "# not a comment, a value"]
    assert [r["scameter_level"] for r in rows] == ["high_risk", "invalid", "verified", "invalid"]
    assert "4 rows" in captured.err
    assert status == 5


def test_bom_and_format_flag(snapshots: Path, tmp_path: Path) -> None:
    src, out = tmp_path / "payees.data", tmp_path / "out.csv"
    src.write_bytes(b"\xef\xbb\xbfphone\n6391 2745\n")
    main(["bulk", str(src), "-o", str(out), "--format", "csv", "--snapshots", str(snapshots)])
    assert out.read_bytes().startswith(b"\xef\xbb\xbfphone,")  # the input's BOM is kept
    with out.open(encoding="utf-8-sig", newline="") as f:
        assert next(csv.DictReader(f))["phone"] == "6391 2745"


def test_progress_only_when_asked_or_terminal(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("18222\n" * 50, encoding="utf-8")
    base = ["bulk", str(src), "-o", str(tmp_path / "o.csv"), "--snapshots", str(snapshots)]
    main([*base, "--chunk-size", "10"])
    assert capsys.readouterr().err.count("\r") == 0
    main([*base, "--chunk-size", "10", "--progress", "always"])
    err = capsys.readouterr().err
    assert "rows/s" in err
    assert "ETA" in err


def test_missing_input_file(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bulk", str(tmp_path / "nope.csv"), "--snapshots", str(snapshots)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_empty_csv(snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "empty.csv"
    src.write_text("", encoding="utf-8")
    assert main(["bulk", str(src), "--snapshots", str(snapshots)]) == 2
    assert "needs a header row" in capsys.readouterr().err


def test_big5_input_and_json_numbers(snapshots: Path, tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes("名稱,電話\n陳大文,6391 2745\n".encode("big5"))
    argv = ["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots)]
    assert main([*argv, "--encoding", "big5", "--column", "電話"]) == 1
    (row,) = _read_csv(out)
    assert row["名稱"] == "陳大文"
    assert row["scameter_level"] == "high_risk"
    jsrc, jout = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    jsrc.write_text('{"value": 63912745}\n18222\n{"value": true}\n', encoding="utf-8")
    main(["bulk", str(jsrc), "-o", str(jout), "--snapshots", str(snapshots)])
    levels = [json.loads(x)["scameter"].get("level") for x in jout.read_text().splitlines()]
    assert levels == ["high_risk", "verified", None]


def test_unknown_encoding(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("18222\n", encoding="utf-8")
    assert main(["bulk", str(src), "--encoding", "klingon", "--snapshots", str(snapshots)]) == 2
    assert "unknown --encoding" in capsys.readouterr().err


def test_repeated_values_keep_every_row(snapshots: Path, tmp_path: Path) -> None:
    src, out = tmp_path / "in.txt", tmp_path / "out.csv"
    values = ["18222", "6391 2745", "18222", "x@", "6391 2745", "x@"]
    src.write_text("\n".join(values) + "\n", encoding="utf-8")
    assert main(["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots)]) == 5
    rows = _read_csv(out)
    assert [r["input"] for r in rows] == values
    assert [r["scameter_level"] for r in rows] == [
        "verified",
        "high_risk",
        "verified",
        "invalid",
        "high_risk",
        "invalid",
    ]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_raw_keeps_formula_cells_as_they_are(snapshots: Path, tmp_path: Path, workers: str) -> None:
    """Outside cells starting with = / @ / - are neutralised by default and kept under --raw."""
    src = tmp_path / "in.txt"
    values = ['=HYPERLINK("http://evil","x")', "@SUM(A1)", "-cmd", "6391 2745"]
    src.write_text("\n".join(values * 3) + "\n", encoding="utf-8")
    base = ["bulk", str(src), "--snapshots", str(snapshots), "--chunk-size", "1"]
    outputs = {}
    for flag in ([], ["--raw"]):
        out = tmp_path / f"out{len(flag)}.csv"
        main([*base, "-o", str(out), "--workers", workers, *flag])
        outputs[bool(flag)] = [r["input"] for r in _read_csv(out)]
    assert outputs[False][:4] == ["'" + v for v in values[:3]] + ["6391 2745"]
    assert outputs[True] == values * 3


def test_region_reads_local_numbers_and_keeps_them_as_typed(
    snapshots: Path, tmp_path: Path
) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        json.dumps({"value": "6391 2745"}) + "\n" + json.dumps({"value": "+852 6391 2745"}) + "\n",
        encoding="utf-8",
    )
    argv = ["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots), "--region", "SG"]
    assert main(argv) == 1  # the +852 number is still the listed one
    got = [json.loads(x)["scameter"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert [(g["input"], g["canonical"], g["level"]) for g in got] == [
        ("6391 2745", "+6563912745", "no_record"),
        ("+852 6391 2745", "+85263912745", "high_risk"),
    ]
    txt, txt_out = tmp_path / "in.txt", tmp_path / "out.csv"
    txt.write_text("6391 2745\n", encoding="utf-8")
    assert main(["bulk", str(txt), "-o", str(txt_out), "--snapshots", str(snapshots),
                 "--region", "SG"]) == 0  # fmt: skip
    assert (
        txt_out.read_text(encoding="utf-8")
        .splitlines()[1]
        .startswith("6391 2745,no_record,phone,+6563912745,")
    )


def test_bom_and_crlf_are_kept_and_the_column_is_said(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    text = 'case,phone,note\r\nA-1,6391 2745,"two\nlines"\r\nA-2,9000 0000,x\r\n'
    src.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    argv = ["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots)]
    assert main([*argv, "--chunk-size", "1", "--workers", "1"]) == 1
    assert "checking column 'phone'" in capsys.readouterr().err
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcase,phone,note,scameter_level,")
    body = data[3:].decode("utf-8")
    assert body.count("\r\n") == 3  # the header and two rows, CRLF as read
    assert '"two\nlines"' in body  # a newline inside a cell stays as it was
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["scameter_level"] for r in rows] == ["high_risk", "no_record"]

    plain = tmp_path / "plain.txt"
    plain.write_text("6391 2745\n", encoding="utf-8")
    assert main(["bulk", str(plain), "-o", str(out), "--snapshots", str(snapshots)]) == 1
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r" not in out.read_bytes()
    assert main(["bulk", str(plain), "-o", str(out), "--snapshots", str(snapshots), "--excel"]) == 1
    assert out.read_bytes().startswith(b"\xef\xbb\xbfinput,scameter_level")


def test_first_column_is_said_when_no_name_is_known(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("who,where\n6391 2745,x\n", encoding="utf-8")
    assert main(["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots)]) == 1
    assert "no known column name; checking the first column 'who'" in capsys.readouterr().err
    main(["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots), "--column", "who"])
    assert "checking column" not in capsys.readouterr().err  # named: nothing to say


def test_account_without_bank_code_is_marked_with_the_request(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "in.txt", tmp_path / "out.csv"
    src.write_text("012-345678-001\n", encoding="utf-8")
    assert main(["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots)]) == 4
    assert main(["bulk", str(src), "-o", str(out), "--snapshots", str(snapshots),
                 "--kind", "bank_account"]) == 4  # fmt: skip
    assert "add the 3-digit bank code" in _read_csv(out)[0]["scameter_error"]
    assert main(["check", "--snapshots", str(snapshots), "012-345678-001"]) == 4
    assert "add the 3-digit bank code" in capsys.readouterr().out
