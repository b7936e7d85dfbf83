"""``scameter completion bash|zsh`` in a real subprocess, each script run by the real shell.

The zsh test needs Debian's ``zsh``: skipped where it is missing and
``SCAMETER_REQUIRE_SYSTEM_TOOLS`` is unset (``.ci/run`` installs it and sets it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = subprocess.run(
        [sys.executable, "-m", "scameter", "completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stderr == ""
    path = tmp_path_factory.mktemp("completion") / "scameter.bash"
    path.write_text(out.stdout)
    return path


def _complete(script: Path, *words: str) -> list[str]:
    """COMPREPLY when the cursor is on the last of ``words`` (after ``scameter``)."""
    line = " ".join(f"'{w}'" for w in ("scameter", *words))
    program = (
        f"source '{script}'; COMP_WORDS=({line}); COMP_CWORD={len(words)}; "
        '_scameter_complete; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(
        ["bash", "--norc", "-c", program], capture_output=True, text=True, timeout=30, check=True
    )
    assert out.stderr == ""
    return out.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_generated_script_completes_commands_actions_and_options(script: Path) -> None:
    assert _complete(script, "sn") == ["snapshot"]
    assert "serve" in _complete(script, "se")
    assert {"info", "verify", "prune"} <= set(_complete(script, "snapshot", ""))
    assert _complete(script, "check", "--j") == ["--json"]
    assert "--cache-seconds" in _complete(script, "serve", "--ca")
    # an option's value in between does not lose the command path
    assert _complete(script, "--color", "never", "bulk", "--col") == ["--color", "--column"]
    assert _complete(script, "completion", "") == [
        "--color", "--debug", "--help", "--progress", "bash", "zsh"
    ]  # fmt: skip


ZSH = shutil.which("zsh")
#: Runs the zsh script's function as zsh's completion system would call it, with ``words``,
#: ``CURRENT`` and ``PREFIX`` set and ``compadd`` / ``_files`` standing in for the builtins
#: (they print what would be offered: ``compadd`` filters by the prefix as the real one does).
ZSH_HARNESS = """
compdef() {{ print -r -- "compdef $*" }}
source {script}
compadd() {{ local -a m; m=(${{(M)${{(P)2}}:#${{PREFIX}}*}}); print -rl -- $m; (( $#m )) }}
_files() {{ print -r -- __files__ }}
words=({words}); CURRENT=$#words; PREFIX=${{words[-1]}}
_scameter_complete
"""


def _zsh_complete(script: Path, *words: str) -> list[str]:
    assert ZSH is not None
    line = " ".join(f"'{w}'" for w in ("scameter", *words))
    program = ZSH_HARNESS.format(script=script, words=line)
    out = subprocess.run([ZSH, "-f", "-c", program], capture_output=True, text=True,
                         timeout=30, check=True)  # fmt: skip
    assert out.stderr == ""
    lines = [line for line in out.stdout.splitlines() if line]
    assert lines[0] == "compdef _scameter_complete scameter"
    return lines[1:]


@pytest.mark.skipif(
    ZSH is None and not os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"),
    reason="needs zsh (apt-get install zsh)",
)
def test_the_zsh_script_completes_like_the_bash_one(tmp_path: Path, script: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "scameter", "completion", "zsh"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    zsh_script = tmp_path / "_scameter"
    zsh_script.write_text(out.stdout)
    assert out.stdout.startswith("#compdef scameter\n")
    for words in (
        ("sn",),
        ("snapshot", ""),
        ("check", "--j"),
        ("serve", "--ca"),
        ("--color", "never", "bulk", "--col"),
        ("completion", ""),
        ("appeals", "--"),
    ):
        assert _zsh_complete(zsh_script, *words) == _complete(script, *words), words  # fmt: skip
    # No word fits (a file argument): zsh's file completion takes over.
    assert _zsh_complete(zsh_script, "bulk", "inp") == ["__files__"]
    # The script registers with zsh's real completion system.
    assert ZSH is not None
    real = subprocess.run(
        [ZSH, "-f", "-c", f"autoload -Uz compinit; compinit -u -D; source {zsh_script}; "
         "print -r -- ${_comps[scameter]}"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert real.stdout.strip() == "_scameter_complete"
