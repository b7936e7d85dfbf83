"""Settings: precedence flag > SCAMETER_* > default, validation, and the documented table."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from scameter.errors import ConfigError
from scameter.settings import SETTINGS, Mode, Settings, load_settings

DOCS = Path(__file__).resolve().parents[3] / "docs" / "settings.md"
#: Fields that are derived, not settings a user sets.
_DERIVED = {"snapshots_origin", "no_color_env"}


def test_every_setting_is_in_the_code_table_and_the_docs() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)} - _DERIVED
    assert {s.name for s in SETTINGS} == fields
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert documented == fields, f"undocumented: {fields - documented}"
    for s in SETTINGS:
        for var in re.findall(r"SCAMETER_\w+|NO_COLOR", s.env or ""):
            assert f"`{var}`" in text, f"{var} is not in docs/settings.md"
        if s.flag:
            assert f"`{s.flag}" in text, f"{s.flag} is not in docs/settings.md"


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({}, {"SCAMETER_DATA_DIR": str(tmp_path)})
    assert s.snapshots == tmp_path / "snapshots"
    assert s.snapshots_origin == "default"
    assert (s.remote, s.api_key, s.debug) == (None, None, False)
    assert (s.color, s.progress, s.chunk_size, s.workers) == (Mode.AUTO, Mode.AUTO, 10_000, 0)


def test_flag_beats_environment() -> None:
    env = {"SCAMETER_SNAPSHOTS": "/env", "SCAMETER_CHUNK_SIZE": "5", "SCAMETER_REMOTE": "h:1"}
    s = load_settings({"snapshots": "/flag", "chunk_size": 7}, env)
    assert (s.snapshots, s.snapshots_origin, s.chunk_size) == (Path("/flag"), "flag", 7)
    assert s.remote == "h:1"
    s = load_settings({}, env)
    assert (s.snapshots, s.snapshots_origin, s.chunk_size) == (Path("/env"), "env", 5)


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
