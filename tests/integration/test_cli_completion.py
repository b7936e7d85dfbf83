"""``scameter completion bash`` in a real subprocess, its script run by a real bash."""

from __future__ import annotations

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
        "--color", "--debug", "--help", "--progress", "bash"
    ]  # fmt: skip
