"""Settings: precedence flag > SCAMETER_* > default, validation, the documented table, and
the commands' argument tables the documentation is checked against."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest

from scameter import cli
from scameter.cli import bulk, check, demo, ingest_cmd, snapshot
from scameter.cli.common import Command
from scameter.errors import ConfigError
from scameter.settings import (
    SETTINGS,
    Arg,
    ArgTable,
    Mode,
    OneOf,
    Section,
    SettingDoc,
    Settings,
    add_arguments,
    iter_args,
    load_settings,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "settings.md"
#: Fields that are derived, not settings a user sets.
_DERIVED = {"snapshots_origin", "no_color_env"}


def test_every_setting_is_in_the_code_table_and_the_docs() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)} - _DERIVED
    assert {s.field_name for s in SETTINGS} == fields
    names = {s.name for s in SETTINGS}
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert documented == names, f"undocumented: {names - documented}"
    for s in SETTINGS:
        for var in re.findall(r"SCAMETER_\w+|NO_COLOR", s.env or ""):
            assert f"`{var}`" in text, f"{var} is not in docs/settings.md"
        if s.flag:
            assert f"`{s.flag}" in text, f"{s.flag} is not in docs/settings.md"


def _tables() -> dict[str, ArgTable]:
    """Every argument table of ``scameter`` (``serve``'s are the server's own, documented in
    docs/operations.md and checked in tests/unit/rpc/test_config.py)."""
    tables = {
        "general": cli.GENERAL_ARGS,
        "lookup": cli.LOOKUP_ARGS,
        "snapshots": cli.SNAPSHOTS_ARGS,
    }
    for module in (check, bulk, ingest_cmd, snapshot, demo):
        for value in vars(module).values():
            for command in value if isinstance(value, tuple) else (value,):
                if isinstance(command, Command):
                    tables[command.name] = command.args
    return tables


def _usage(arg: Arg) -> str:
    """How docs/settings.md writes a flag: ``--snapshots DIR``, ``--color auto\\|always...``."""
    flag = arg.flags[-1]
    if arg.metavar is not None:
        return f"{flag} {arg.metavar}"
    if arg.choices is not None:
        return flag + " " + "\\|".join(arg.choices)
    return flag


def _documented_flags() -> dict[str, str]:
    """Setting name -> its flag cell in docs/settings.md, backticks off (``""``: no flag)."""
    out: dict[str, str] = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)]
        if len(cells) > 3 and re.fullmatch(r"`\w+`", cells[1]):
            out[cells[1].strip("`")] = cells[2].strip("`")
    return out


SETTING_FLAGS = [
    (table, arg)
    for table, items in _tables().items()
    for arg in iter_args(items)
    if arg.name in {s.field_name for s in SETTINGS}
]


@pytest.mark.parametrize(
    ("table", "arg"), SETTING_FLAGS, ids=[f"{t}:{a.flags[-1]}" for t, a in SETTING_FLAGS]
)
def test_setting_flags_match_the_docs(table: str, arg: Arg) -> None:
    doc = next(s for s in SETTINGS if s.field_name == arg.name)
    assert arg.flags[-1] == doc.flag, f"{table}: {arg.flags} sets {doc.name}, not {doc.flag}"
    assert _documented_flags()[doc.name] == _usage(arg)


@pytest.mark.parametrize("doc", [s for s in SETTINGS if s.flag], ids=lambda s: s.name)
def test_every_documented_flag_is_declared(doc: SettingDoc) -> None:
    assert any(arg.name == doc.field_name for _, arg in SETTING_FLAGS), f"{doc.flag}: no command"


def test_tables_build_the_parsers_they_describe() -> None:
    """A table's rows reach argparse as written: groups, exclusivity, only the set options."""
    table: ArgTable = (
        Arg(("value",), metavar="VALUE"),
        Arg(("--flag",), action="store_true", help="a switch"),
        Section("where", (OneOf((Arg(("--a",), dest="a_root"), Arg(("--b",))), required=True),)),
    )
    parser = argparse.ArgumentParser()
    add_arguments(parser, table)
    ns = parser.parse_args(["x", "--a", "1"])
    assert (ns.value, ns.flag, ns.a_root, ns.b) == ("x", False, "1", None)
    with pytest.raises(SystemExit):
        parser.parse_args(["x", "--a", "1", "--b", "2"])
    assert [a.name for a in iter_args(table)] == ["value", "flag", "a_root", "b"]
    assert Arg(("--flag",), action="store_true").options() == {"action": "store_true"}


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({}, {"SCAMETER_DATA_DIR": str(tmp_path)})
    assert s.snapshots_root == tmp_path / "snapshots"
    assert s.snapshots_origin == "default"
    assert (s.remote, s.api_key, s.debug) == (None, None, False)
    assert (s.color, s.progress, s.chunk_size, s.workers) == (Mode.AUTO, Mode.AUTO, 10_000, 0)


def test_flag_beats_environment() -> None:
    env = {"SCAMETER_SNAPSHOTS": "/env", "SCAMETER_CHUNK_SIZE": "5", "SCAMETER_REMOTE": "h:1"}
    s = load_settings({"snapshots_root": "/flag", "chunk_size": 7}, env)
    assert (s.snapshots_root, s.snapshots_origin, s.chunk_size) == (Path("/flag"), "flag", 7)
    assert s.remote == "h:1"
    s = load_settings({}, env)
    assert (s.snapshots_root, s.snapshots_origin, s.chunk_size) == (Path("/env"), "env", 5)


BAD = [
    ({"SCAMETER_CHUNK_SIZE": "many"}, "SCAMETER_CHUNK_SIZE"),
    ({"SCAMETER_CHUNK_SIZE": "0"}, "at least 1"),
    ({"SCAMETER_WORKERS": "-1"}, "SCAMETER_WORKERS"),
    ({"SCAMETER_DEBUG": "maybe"}, "boolean"),
    ({"SCAMETER_COLOR": "purple"}, "auto, always, never"),
    ({"SCAMETER_PROGRESS": "x"}, "SCAMETER_PROGRESS"),
]


@pytest.mark.parametrize(("env", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({}, {"SCAMETER_DATA_DIR": "/d", **env})


COLOUR = [
    ("auto", "", True, True),
    ("auto", "", False, False),
    ("auto", "1", True, False),
    ("always", "1", False, True),
    ("never", "", True, False),
]


@pytest.mark.parametrize(("mode", "no_color", "tty", "expected"), COLOUR)
def test_colour_decision(mode: str, no_color: str, tty: bool, expected: bool) -> None:
    env = {"SCAMETER_DATA_DIR": "/d", "SCAMETER_COLOR": mode, "NO_COLOR": no_color}
    assert load_settings({}, env).use_color(tty) is expected


def test_progress_decision() -> None:
    env = {"SCAMETER_DATA_DIR": "/d"}
    assert load_settings({}, env).show_progress(True)
    assert not load_settings({}, env).show_progress(False)
    assert load_settings({"progress": "always"}, env).show_progress(False)
    assert not load_settings({"progress": "never"}, env).show_progress(True)


def test_debug_from_env() -> None:
    assert load_settings({}, {"SCAMETER_DATA_DIR": "/d", "SCAMETER_DEBUG": "yes"}).debug


def test_reporter_key_is_a_secret() -> None:
    env = {"SCAMETER_DATA_DIR": "/d", "SCAMETER_REPORTER_KEY": "k" * 32, "SCAMETER_API_KEY": "a"}
    s = load_settings({}, env)
    assert s.reporter_key == b"k" * 32
    assert "kkkk" not in repr(s)
    assert "api_key" not in repr(s)
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        load_settings({}, {**env, "SCAMETER_REPORTER_KEY": "short"})
