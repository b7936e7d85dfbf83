"""``scameter check`` / ``related`` in-process through ``main(argv)``: output and exit bitmask."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scameter.cli import main
from scameter.cli.output import _width
from tests.unit.cli.conftest import EXPECTED

EXIT_CASES = [
    (["6391 2745"], 1),
    (["5123 4567"], 1),
    (["18222"], 0),
    (["9000 0000"], 0),
    (["not an identifier!"], 4),
    (["6391 2745", "not an identifier!"], 5),
    (["18222", "9000 0000", "x@"], 4),
]


@pytest.mark.parametrize(
    ("values", "status"), EXIT_CASES, ids=[" + ".join(v) for v, _ in EXIT_CASES]
)
def test_exit_bitmask(snapshots: Path, values: list[str], status: int) -> None:
    assert main(["check", "--snapshots", str(snapshots), *values]) == status


@pytest.mark.parametrize(("value", "level"), sorted(EXPECTED.items()))
def test_json_level_per_input(
    snapshots: Path, capsys: pytest.CaptureFixture[str], value: str, level: str
) -> None:
    main(["check", "--json", "--snapshots", str(snapshots), value])
    (line,) = capsys.readouterr().out.splitlines()
    obj = json.loads(line)
    assert obj["input"] == value
    assert obj["level"] == level


def test_json_fields_and_invalid(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--json", "--snapshots", str(snapshots), "6391 2745", "x@"])
    good, bad = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    fields = (
        "input kind canonical level reasons categories report_count reporters first_reported "
        "last_reported matched similar_to cluster_size verified_owner snapshot"
    )
    for name in fields.split():
        assert name in good
    assert good["canonical"] == "+85263912745"
    assert good["reasons"][0]["code"] == "police_confirmed"
    assert set(bad) == {"input", "kind", "error"}
    assert bad["input"] == "x@"


def test_table_has_level_and_reasons_without_colour(
    snapshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", "--snapshots", str(snapshots), "6391 2745", "9000 0000", "18222"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["INPUT", "LEVEL", "KIND", "CANONICAL", "DETAILS"]
    assert "HIGH RISK" in lines[1]
    assert "Linked to a case investigated by the police." in lines[1]
    assert "This does not mean it is safe." in lines[2]
    assert "Hong Kong Police Force Anti-Scam Helpline" in lines[3]
    assert "\x1b[" not in out  # captured stdout is not a terminal


def test_lang_zh_hant_table_and_json(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", "--snapshots", str(snapshots), "--lang", "zh-Hant", "6391 2745", "9000 0000"]
    main(argv)
    lines = capsys.readouterr().out.splitlines()
    assert "高危 HIGH RISK" in lines[1]
    assert "與警方調查的案件有關。" in lines[1]
    assert "未有相關記錄。這不代表安全。" in lines[2]
    # Wide characters take two columns: the KIND column starts at the same column on each row.
    kind_at = [_width(line[: line.index("phone")]) for line in lines[1:3]]
    assert kind_at[0] == kind_at[1] == _width(lines[0][: lines[0].index("KIND")])
    main([*argv, "--json"])
    got = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert got[0]["reasons"][0]["text"] == "與警方調查的案件有關。"
    assert got[0]["reasons"][0]["code"] == "police_confirmed"


def test_lang_zh_hant_derived_match_detail(
    snapshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # wa.me/85263912745 leads to the listed number: the DERIVED_MATCH detail in Chinese too.
    argv = [
        "check",
        "--snapshots",
        str(snapshots),
        "--lang",
        "zh-Hant",
        "https://wa.me/85263912745",
    ]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "此帳戶的電話號碼 +85263912745 屬高危。" in out
    assert "phone number" not in out
    assert main([*argv[:-3], "https://wa.me/85263912745"]) == 1
    assert "The phone number +85263912745 of this account is HIGH RISK." in capsys.readouterr().out


def test_lang_unknown_is_a_usage_error(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--snapshots", str(snapshots), "--lang", "fr", "9000 0000"]) == 2
    assert "unknown language 'fr'; one of: en, zh-Hant" in capsys.readouterr().err


def test_colour_forced_and_no_color(
    snapshots: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["check", "--color", "always", "--snapshots", str(snapshots), "6391 2745"])
    assert "\x1b[1;31mHIGH RISK" in capsys.readouterr().out
    monkeypatch.setenv("SCAMETER_COLOR", "always")
    main(["check", "--snapshots", str(snapshots), "6391 2745"])
    assert "\x1b[" in capsys.readouterr().out
    monkeypatch.setenv("SCAMETER_COLOR", "auto")
    monkeypatch.setenv("NO_COLOR", "1")
    main(["check", "--snapshots", str(snapshots), "6391 2745"])
    assert "\x1b[" not in capsys.readouterr().out


def test_values_from_stdin(
    snapshots: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("6391 2745\n\n18222\n"))
    status = main(["check", "--json", "--snapshots", str(snapshots)])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["input"] for r in rows] == ["6391 2745", "18222"]
    assert status == 1


def test_kind_flag_restricts_detection(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "--json", "--kind", "fps_id", "--snapshots", str(snapshots), "1684203"])
    assert json.loads(capsys.readouterr().out)["kind"] == "fps_id"
    assert status == 1


def test_context_overseas_call(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--json", "--snapshots", str(snapshots)]
    main([*args, "--context", "incoming_call", "--overseas", "9000 0000"])
    obj = json.loads(capsys.readouterr().out)
    assert "overseas_call_local_number" in [r["code"] for r in obj["reasons"]]


def test_snapshots_from_environment(
    snapshots: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAMETER_SNAPSHOTS", str(snapshots))
    assert main(["check", "18222"]) == 0
    assert "VERIFIED" in capsys.readouterr().out


def test_missing_snapshot_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "--snapshots", str(tmp_path / "none"), "18222"])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert "scameter demo" in err
    assert "scameter ingest --snapshots" in err


def test_default_location_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "18222"]) == 2
    assert "the default location" in capsys.readouterr().err


def test_debug_shows_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--debug", "check", "--snapshots", str(tmp_path), "18222"]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert main(["check", "--snapshots", str(tmp_path), "18222"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--kind", "nope", "x"],
        ["nope"],
        [],
        ["check", "--snapshots", "a", "--remote", "b"],
    ],
    ids=["bad-kind", "bad-command", "no-command", "snapshots-and-remote"],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_bad_setting_is_one_line(
    snapshots: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAMETER_COLOR", "purple")
    assert main(["check", "--snapshots", str(snapshots), "18222"]) == 2
    assert "SCAMETER_COLOR" in capsys.readouterr().err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "scameter demo" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("scameter ")


def test_related_lists_cluster(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["related", "--json", "--snapshots", str(snapshots), "6391 2745"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["canonical"] for r in rows} == {"+85263912745", "1684203"}
    assert status == 1


def test_related_of_lone_identifier(snapshots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["related", "--snapshots", str(snapshots), "18222"]) == 0
    assert "no related identifiers" in capsys.readouterr().err


def test_serve_needs_an_auth_choice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--listen", "127.0.0.1:0"]) == 2
    assert "--auth-keys" in capsys.readouterr().err


def test_demo_help_names_the_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--help"]) == 0
    assert "--dir" in capsys.readouterr().out


def test_empty_stdin_is_an_error(
    snapshots: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["check", "--snapshots", str(snapshots)]) == 2
    assert "stdin was empty" in capsys.readouterr().err


def test_context_answers_every_value_and_marks_the_invalid_one(
    snapshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 15 item 6: a context used to abort the whole run on the first invalid value.
    args = ["check", "--json", "--snapshots", str(snapshots), "--context", "sms"]
    status = main([*args, "not a number!", "5123 4567"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == {
        "input": "not a number!",
        "kind": None,
        "error": "invalid identifier: not recognised as any kind",
    }
    assert rows[1]["level"] == "suspicious"
    assert status == 1 | 4
    main(["check", "--json", "--snapshots", str(snapshots), "not a number!"])
    assert json.loads(capsys.readouterr().out) == rows[0]  # the same row as without a context
    status = main([*args, "--overseas", "--kind", "phone", "12", "18222"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0]["kind"] == "phone"
    assert rows[0]["error"].startswith("invalid phone:")
    assert rows[1]["level"] == "verified"  # an SMS, not a call
    assert status == 4


def test_official_number_on_an_overseas_call_is_suspicious(
    snapshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "--json", "--snapshots", str(snapshots), "18222"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["level"] == "verified"
    assert main([*args, "--context", "incoming_call", "--overseas"]) == 1
    obj = json.loads(capsys.readouterr().out)
    assert obj["level"] == "suspicious"
    assert obj["verified_owner"] is None
    assert obj["reasons"][0]["code"] == "spoofed_official_number"
    assert "very likely spoofed" in obj["reasons"][0]["text"]


def test_region_reads_local_numbers_and_shows_them_as_typed(
    snapshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["check", "--snapshots", str(snapshots), "--json", "--region", "SG", "6391 2745"]) == 0
    )
    got = json.loads(capsys.readouterr().out)
    assert (got["input"], got["canonical"], got["level"]) == (
        "6391 2745",
        "+6563912745",
        "no_record",
    )
    assert main(["check", "--snapshots", str(snapshots), "--region", "ZZ", "6391 2745"]) == 2
    assert "unknown region 'ZZ'" in capsys.readouterr().err
