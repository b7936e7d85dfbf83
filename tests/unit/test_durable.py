"""write_durably: appends or replaces, and a new file gets the group-readable mode."""

from __future__ import annotations

import stat
from pathlib import Path

from scameter.durable import FILE_MODE, write_durably


def test_append_replace_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_durably(path, b"a\n", append=True)
    write_durably(path, b"b\n", append=True)
    assert path.read_bytes() == b"a\nb\n"
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE & ~_umask()
    write_durably(path, b"c", append=False)
    assert path.read_bytes() == b"c"


def _umask() -> int:
    import os

    old = os.umask(0)
    os.umask(old)
    return old
