"""Types of the optional compiled module ``scameter.ingest._rowsfast`` (``_rowsfast.c``).

Absent when the package was installed without a C compiler; ``scameter/ingest/ooc.py`` and
``scameter/ingest/evidence.py`` then write every chunk's rows and evidence through their
pure-Python references (``ROWS_PATH``). Each function returns None for a chunk it does not
handle exactly: the caller then runs the reference on it.
"""

from collections.abc import Callable
from typing import Any

def event_rows(
    events: list[tuple[Any, ...]],
    rules: dict[tuple[int, int], tuple[int, int]],
    as_of: int,
    seq: int,
    bits: dict[str, int],
    category_bit: Callable[[str], int],
    provider_number: Callable[[str], int],
    corroborate: int,
    /,
) -> tuple[str, int, str, int, int, int, int, int, int, int] | None: ...
def encode_pairs(
    events: list[tuple[Any, ...]],
    rules: dict[tuple[int, int], tuple[int, int]],
    tags: dict[str, bytes],
    key_id: Callable[[bytes], bytes],
    dumps: Callable[[Any], bytes],
    sep: bytes,
    /,
) -> tuple[list[tuple[int, tuple[bytes, int, bool]]], int, int] | None: ...
