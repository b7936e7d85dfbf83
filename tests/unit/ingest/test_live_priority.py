"""The live fold's CPU priority (``serve --fold-priority``): lookups first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
#: /proc/PID/stat after the command's closing parenthesis: index 16 is nice, 38 the policy.
_READ = (
    "import sys; from scameter.ingest.live import lower_priority; lower_priority(sys.argv[1]); "
    "f = open('/proc/self/stat').read().rsplit(')', 1)[1].split(); print(f[16], f[38])"
)


def _priority(choice: str) -> tuple[int, int]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", _READ, choice], env=env, check=True,
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    return int(out[0]), int(out[1])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux /proc")
def test_idle_folds_only_on_spare_cpu_and_low_is_nice_10() -> None:
    own = os.nice(0)
    nice, policy = _priority("idle")
    assert policy == getattr(os, "SCHED_IDLE", 5) == 5  # SCHED_IDLE, nice unchanged
    assert nice == own
    nice, policy = _priority("low")
    assert policy == 0  # SCHED_OTHER
    assert nice == min(own + 10, 19)
