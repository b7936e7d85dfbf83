"""``scameter check --message`` and ``scameter bulk --message-column`` in-process."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

from scameter.cli import main

HK_POST_SMS = (
    "【HK Post】Your parcel is held. Pay HK$12 at https://hkpost-redelivery.top/track "
    "or call 6391 2745"
)


def _check(snapshots: Path, *args: str) -> int:
    return main(["check", "--snapshots", str(snapshots), "--message", *args])


def test_table_per_message(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(snapshots, HK_POST_SMS, "see you at 7") == 1
    out = capsys.readouterr().out
    assert out.startswith("message 1: HIGH RISK: 2 identifiers found\nINPUT ")
    lines = out.splitlines()
    assert lines[2].split()[:3] == ["https://hkpost-redelivery.top/track", "HIGH", "RISK"]
    assert lines[3].startswith("6391 2745 ")
    assert "message 2: NO RECORD: no identifiers found" in lines


def test_json_object_per_message(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(snapshots, "--json", HK_POST_SMS, "nothing here") == 1
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert list(first) == ["input", "level", "items", "truncated"]
    assert first["input"] == HK_POST_SMS
    assert first["level"] == "high_risk"
    assert [i["canonical"] for i in first["items"]] == [
        "https://hkpost-redelivery.top/track",
        "+85263912745",
    ]
    for item in first["items"]:
        a, b = item["span"]
        assert HK_POST_SMS[a:b] == item["input"]
        assert item["controls_removed"] is False
        assert item["sender"] is False
        assert {"kind", "reasons", "report_count", "snapshot"} <= set(item)
    assert second == {"input": "nothing here", "level": "no_record", "items": [],
                      "truncated": False}  # fmt: skip


def test_sender_rule_and_registered_sender(
    snapshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(snapshots, "--json", "--sender", "+852 9000 0000", "香港郵政：包裹未能派遞") == 0
    (obj,) = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    (sender,) = obj["items"]
    assert sender["sender"] is True
    assert sender["span"] is None
    assert sender["reasons"][-1]["code"] == "unregistered_sender"
    assert obj["level"] == "possible"
    assert _check(snapshots, "--json", "--sender", "#HKPost", "香港郵政：包裹未能派遞") == 0
    (obj,) = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert obj["level"] == "verified"
    assert obj["items"][0]["verified_owner"] == "Hongkong Post"


def test_controls_are_shown_escaped(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "call 6391\u202e 2745 \x1b[2J\x9b now"
    assert _check(snapshots, text) == 1
    table = capsys.readouterr().out
    assert "\u202e" not in table
    assert "\x1b" not in table
    assert "\x9b" not in table
    assert "6391\\u202e 2745" in table
    assert _check(snapshots, "--json", text) == 1
    raw = capsys.readouterr().out
    assert "\u202e" not in raw
    assert "\x1b" not in raw
    assert "\x9b" not in raw
    obj = json.loads(raw)
    assert obj["input"] == text  # JSON's own escapes: the text comes back exactly
    assert obj["items"][0]["controls_removed"] is True


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_stdin_is_one_message(
    snapshots: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, b"line one 6391 2745\nline two 5123 4567\n")
    assert _check(snapshots, "--json", "-") == 1
    (obj,) = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert [i["canonical"] for i in obj["items"]] == ["+85263912745", "+85251234567"]


def test_binary_junk_is_no_identifiers_exit_0(
    snapshots: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, bytes(range(256)) * 8)
    assert _check(snapshots, "-") == 0
    captured = capsys.readouterr()
    assert captured.out == "message 1: NO RECORD: no identifiers found\n"
    assert captured.err == ""


def test_over_64_kib_is_invalid_exit_4(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(snapshots, "x" * 70_000, "6391 2745") == 5
    out = capsys.readouterr().out
    assert out.startswith("message 1: INVALID: message of 70,000 bytes is over the 64 KiB")
    assert "message 2: HIGH RISK" in out
    assert _check(snapshots, "--json", "x" * 70_000) == 4
    obj = json.loads(capsys.readouterr().out)
    assert obj["level"] is None
    assert "64 KiB" in obj["error"]


def test_sender_needs_message(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--snapshots", str(snapshots), "--sender", "#HKPost", "x"]) == 2
    assert "--sender goes with --message" in capsys.readouterr().err


def _bulk(snapshots: Path, *args: str) -> int:
    return main(["bulk", "--snapshots", str(snapshots), *args])


def test_bulk_message_column_csv(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "sms.csv", tmp_path / "out.csv"
    rows = [
        ["id", "sms"],
        ["1", HK_POST_SMS],
        ["2", "dinner, at 7?"],
        ["3", "x" * 70_000],  # over the 64 KiB message limit
        ["4", "y" * 200_000 + " 6391 2745"],  # over csv's own 128 KiB field limit too
        ["5"],
        ["6", 'quote "q" 5123 4567'],
    ]
    with src.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    assert _bulk(snapshots, str(src), "--message-column", "sms", "-o", str(out)) == 5
    with out.open(encoding="utf-8", newline="") as f:
        got = list(csv.reader(f))
    assert got[0] == ["id", "sms", "scameter_level", "scameter_identifiers", "scameter_matched",
                      "scameter_truncated", "scameter_error"]  # fmt: skip
    assert [r[0] for r in got[1:]] == ["1", "2", "3", "4", "5", "6"]
    assert got[1][1] == HK_POST_SMS
    assert got[1][2:6] == [
        "high_risk",
        "url:https://hkpost-redelivery.top/track; phone:+85263912745",
        "https://hkpost-redelivery.top/track (high_risk); +85263912745 (high_risk)",
        "",
    ]
    assert got[2][2:] == ["no_record", "", "", "", ""]
    for row in (got[3], got[4]):
        assert row[2] == "invalid"
        assert "64 KiB" in row[6]
    assert got[5][:3] == ["5", "", "invalid"]
    assert "no column 2" in got[5][6]
    assert got[6][1] == 'quote "q" 5123 4567'
    assert got[6][2] == "suspicious"
    err = capsys.readouterr().err
    summary = "6 rows: 1 high_risk, 1 suspicious, 0 possible, 0 verified, 1 no_record, 3 invalid"
    assert summary in err


def test_bulk_message_column_jsonl(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "sms.jsonl"
    lines = [
        json.dumps({"id": 1, "text": HK_POST_SMS}, ensure_ascii=False),
        json.dumps({"id": 2, "text": 5}),
        "not json",
        json.dumps({"id": 4, "text": "call 6391\u202e2745"}, ensure_ascii=False),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _bulk(snapshots, str(src), "--message-column", "text") == 5
    out = capsys.readouterr().out
    assert "\u202e" not in out
    objs = [json.loads(line) for line in out.splitlines()]
    assert objs[0]["id"] == 1
    assert objs[0]["scameter"]["level"] == "high_risk"
    assert "input" not in objs[0]["scameter"]
    assert [i["span"] for i in objs[0]["scameter"]["items"]] == [[43, 78], [87, 96]]
    assert objs[1]["scameter"]["error"] == "line 2 has no text in 'text'"
    assert objs[2]["input"] == "not json"
    assert "not JSON" in objs[2]["scameter"]["error"]
    assert objs[3]["text"] == "call 6391\u202e2745"
    assert objs[3]["scameter"]["items"][0]["controls_removed"] is True


def test_bulk_column_and_message_column_exclude_each_other(
    snapshots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "a.csv"
    src.write_text("sms\nhello\n", encoding="utf-8")
    assert _bulk(snapshots, str(src), "--column", "sms", "--message-column", "sms") == 2
    assert "not allowed with argument" in capsys.readouterr().err
    txt = tmp_path / "a.txt"
    txt.write_text("hello\n", encoding="utf-8")
    assert _bulk(snapshots, str(txt), "--message-column", "x") == 2
    assert "--message-column needs a CSV or JSON Lines input" in capsys.readouterr().err


def test_lang_translates_the_items(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--sender", "+852 9000 0000", "香港郵政：6391 2745")
    assert _check(snapshots, "--lang", "zh-Hant", "--json", *args) == 1
    (obj,) = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    sender, phone = obj["items"]
    assert sender["reasons"][-1]["text"].startswith("訊息聲稱來自銀行或政府機構")
    assert phone["reasons"][0]["text"] == "與警方調查的案件有關。"
    assert _check(snapshots, "--lang", "zh-Hant", *args) == 1
    assert "與警方調查的案件有關。" in capsys.readouterr().out
