"""Ad-hoc timing of the record CRC-32 (format 2.0) on ``check()`` hits; see docs/benchmarks.md.

Run: ``.venv/bin/python -m benchmarks.record_crc``.
"""

from __future__ import annotations

import tempfile
import timeit
import zlib
from pathlib import Path
from typing import Any

import scameter.index.assembly as asm
from scameter.identifiers import Identifier, Kind
from scameter.index import Snapshot
from scameter.verdict import Level
from tests.unit.index.helpers import build, rec

N = 2000


def _no_crc(_buf: Any, _start: int = 0) -> int:
    return 0x2144DF1C  # the residue: a Python call in place of the C crc32


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="scameter-crc-"))
    values = [f"+8529123{i:04d}" for i in range(N)]
    records = [rec(Kind.PHONE, v, Level.HIGH_RISK, categories=("investment",)) for v in values]
    sid = build(root, records)
    with Snapshot.open(root / sid) as s:
        key = Identifier(Kind.PHONE, values[7]).key
        buf = s.reader.txn().get(key, db=s.reader.records)
        n = 200_000
        crc = min(timeit.repeat(lambda: zlib.crc32(buf), number=n, repeat=3)) / n * 1e9

        def run() -> None:
            for v in values:
                s.check(v, "phone")

        with_crc = sorted(timeit.repeat(run, number=20, repeat=3))[1] / (20 * N) * 1e6
        real = asm._crc32
        asm._crc32 = _no_crc
        try:
            no_crc = sorted(timeit.repeat(run, number=20, repeat=3))[1] / (20 * N) * 1e6
        finally:
            asm._crc32 = real
    print(f"record {len(buf)} bytes; crc32 {crc:.0f} ns")
    print(f"check() hit median: {with_crc:.2f} us with CRC, {no_crc:.2f} us with a stand-in")


if __name__ == "__main__":
    main()
