"""Types of the optional compiled module ``scameter.index._recordsfast`` (``_recordsfast.c``).

Absent when the package was installed without a C compiler; ``scameter/index/writers.py``
then packs a build's records with ``pack_records_python`` (``RECORDS_PATH``).
"""

from typing import Any

LAYOUT: dict[str, int]

def pack_records(
    items: list[tuple[bytes, bytes]],
    start: int,
    stop: int,
    limit: int,
    state: list[Any],
    pending: Any,
    clusters: dict[int, list[int]],
    codes: bytes,
    /,
) -> int: ...
def crc32(data: bytes | bytearray | memoryview, /) -> int: ...
def group_pairs(flat: list[bytes], /) -> list[tuple[bytes, bytes]] | None: ...
def partition(
    buf: list[Any], splitters: list[bytes] | None, pairs: bool, /
) -> list[list[Any]] | None: ...
