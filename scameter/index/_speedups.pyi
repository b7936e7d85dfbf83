"""Types of the optional compiled module ``scameter.index._speedups`` (source: ``_speedups.c``).

Absent when the package was installed without a C compiler; ``scameter/index/assembly.py``
then uses its pure-Python hit path (the reference implementation of the same answers).
"""

from collections.abc import Callable, Mapping
from typing import Any

from scameter.verdict import Verdict

class HitDecoder:
    """The compiled hit path of one ``VerdictAssembler``."""

    def __init__(
        self,
        verdict_type: type[Verdict],
        no_extra: Mapping[str, Any],
        kind_values: tuple[str | None, ...],
        trait_cache: dict[bytes, Any],
        iso_cache: dict[int, str],
        iso_utc: Callable[[int], str],
        snapshot_id: str | None,
        fallback: Callable[..., Verdict],
    ) -> None: ...
    def from_record(
        self,
        raw: str,
        buf: bytes,
        *,
        canonical: str | None = None,
        kind: str | None = None,
        matched: str | None = None,
        allowed: bool = False,
    ) -> Verdict: ...

def crc32(data: bytes | bytearray | memoryview, /) -> int:
    """CRC-32 of ``data``, as ``zlib.crc32(data)``."""
