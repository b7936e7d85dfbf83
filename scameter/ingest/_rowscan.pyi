"""Types of the optional compiled module ``scameter.ingest._rowscan`` (``_rowscan.c``).

Absent when the package was installed without a C compiler; ``scameter/ingest/worker.py``
then reads every JSONL line through its pure-Python fast path (``ROWSCAN_PATH``).
"""

from collections.abc import Callable
from typing import Any

def scan(
    block: bytes,
    first_line: int,
    ctx: tuple[Any, ...],
    events: list[tuple[Any, ...]],
    fallback: Callable[[int, bytes], object],
    /,
) -> int: ...
