"""Small files written durably: the bytes are on disk (fsynced) before the call returns.

Responsibility: the one way scameter appends a line to a log it must not lose (held reports,
the live fold's rejects) or writes a small file whole (a manifest signature): ``os.open`` with
the snapshot / intake file mode, one ``write``, ``fsync``, close.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Files other members of the group may read (the snapshot and intake modes).
FILE_MODE = 0o640


def write_durably(path: Path, data: bytes, *, append: bool, mode: int = FILE_MODE) -> None:
    """Write ``data`` to ``path`` (appended, or replacing the file) and fsync it; a new file
    gets ``mode``."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["FILE_MODE", "write_durably"]
