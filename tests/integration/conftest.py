"""Fixtures shared by the integration tests that run the Node examples (examples/node/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.rpc.procs import REPO

NODE_EXAMPLES = REPO / "examples" / "node"


@pytest.fixture(scope="session")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the Node examples and their npm dependencies (@grpc/grpc-js,
    @grpc/proto-loader), installed once per session from the npm registry. Tests using it skip
    themselves when node or npm is missing; an install that fails is a failure, not a skip."""
    npm = shutil.which("npm")
    assert npm is not None, "node_dir used without npm: skip the test first"
    work = tmp_path_factory.mktemp("node")
    for example in NODE_EXAMPLES.iterdir():
        if example.suffix in (".json", ".mjs"):
            shutil.copy(example, work / example.name)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error",
         "--cache", str(work / ".npm-cache")],
        cwd=work, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"npm install failed: {done.stderr[-2000:]}"
    return work
