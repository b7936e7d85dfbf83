"""Types of the optional compiled module ``scameter.index._speedups`` (source: ``_speedups.c``).

Absent when the package was installed without a C compiler; ``scameter/index/assembly.py``
then uses its pure-Python hit path (the reference implementation of the same answers).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scameter.verdict import Reason, Verdict

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

# -- the batch loops (scameter/index/batchloops.py holds their pure twins) ------------------

def decode_hits(
    from_record: Callable[[str, bytes], Verdict],
    rows: list[int],
    bufs: list[bytes | None],
    raws: Sequence[str],
    canonicals: list[str | None],
    verdicts: list[Verdict | None],
    deriving: frozenset[str],
    /,
) -> list[int]:
    """The plain hits of a batch (``batchloops.decode_hits_python``)."""

def no_records(
    verdicts: Sequence[Verdict | None],
    inputs: Sequence[str],
    kinds: Sequence[str | None],
    canonicals: Sequence[str | None],
    reasons: tuple[Reason, ...],
    snapshot: str | None,
    verdict_type: type[Verdict],
    cls: type[Verdict],
    /,
) -> list[Verdict]:
    """Every plain miss's NO RECORD verdict (``verdict.with_no_records``)."""
