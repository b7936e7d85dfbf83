"""Instructions per in-process lookup, counted by valgrind's callgrind (deterministic, unlike
timings on a shared machine).

Usage::

    PYTHONPATH=. .venv/bin/python scripts/callgrind_lookups.py [--cases phone-hit,url,...]

It builds a small snapshot in a temporary directory, then runs this script under
``valgrind --tool=callgrind`` once with every case looked up ``N1`` times, and once per case
with that case looked up ``N2`` times (the others ``N1``); it prints
``(Ir(case at N2) - Ir(all at N1)) / (N2 - N1)``: the instructions of one lookup, with
interpreter start-up, imports, snapshot opening and warm-up cancelled out. The inner runs fix
``PYTHONHASHSEED``, so a count repeats exactly (to within a few instructions per lookup).
``--bypass-crc`` counts every case a second time with the record CRC-32 check replaced by a
C call that returns the residue (the check's cost is the difference). To compare with another
version of the code, run the same command with ``PYTHONPATH``
pointing at its tree (``git archive REV | tar -x -C /tmp/base``; the snapshot is built by the
code under test).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

#: case -> (input, kind): what one lookup checks.
CASES: dict[str, tuple[str, str | None]] = {
    "phone-hit": ("+85263912745", "phone"),
    "phone-miss": ("+85298765432", "phone"),
    "url": ("https://www.example.com/some/page?id=1", "url"),
    "url-ip": ("http://203.0.113.9/login", "url"),
    "email": ("someone@example.org", "email"),
    "wa-me": ("https://wa.me/85263912745", None),
}
N1, N2 = 200, 1200
_COLLECTED = re.compile(r"Collected : (\d+)")


def build(root: Path) -> None:
    """A snapshot with the listed identifiers the cases hit, among 2,000 others."""
    from scameter.identifiers import normalize
    from scameter.index import Record, SnapshotBuilder, publish
    from scameter.verdict import Level, ReasonCode

    police = (ReasonCode.POLICE_CONFIRMED,)
    with SnapshotBuilder(root, as_of=datetime(2026, 11, 1, tzinfo=UTC)) as b:
        b.add(Record(normalize("phone", "+85263912745"), Level.HIGH_RISK, police))
        b.add(Record(normalize("ip", "203.0.113.9"), Level.HIGH_RISK, police))
        b.add(Record(normalize("domain", "evil-shop.com"), Level.HIGH_RISK, police))
        for i in range(2000):
            b.add(Record(normalize("phone", f"+8525{i:07d}"), Level.POSSIBLE))
        manifest = b.build()
    publish(root, manifest.snapshot_id)


def bypass_crc() -> None:
    """Replace the record CRC-32 check by a C call that returns the CRC residue without
    reading the record (``getattr(residue, "real", record)`` is the residue): the lookups then
    cost what they would without the check, so the difference is the check's cost."""
    import functools

    import scameter.index.assembly as asm
    from scameter.index import format as fmt

    stand_in = functools.partial(getattr, fmt.CRC_RESIDUE, "real")
    asm._crc32 = stand_in  # type: ignore[assignment]
    fmt._crc32 = stand_in  # type: ignore[assignment]


def inner(root: Path, cases: list[str], longer: str | None) -> None:
    from scameter.index import Snapshot

    if os.environ.get("SCAMETER_BYPASS_CRC") == "1":
        bypass_crc()

    with Snapshot.open_current(root) as snap:
        check = snap.check
        for case in cases:
            raw, kind = CASES[case]
            for _ in range(200):  # warm-up: memos, first read transaction, lazy imports
                check(raw, kind)
            for _ in range(N2 if case == longer else N1):
                check(raw, kind)


def instructions(root: Path, cases: list[str], longer: str | None) -> int:
    cmd = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--inner", "--cases", ",".join(cases), "--root", str(root),
    ]  # fmt: skip
    if longer is not None:
        cmd += ["--longer", longer]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    found = _COLLECTED.findall(done.stderr)
    if not found:
        raise SystemExit(f"callgrind printed no total: {done.stderr[-500:]}")
    return int(found[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--longer", help=argparse.SUPPRESS)
    p.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    p.add_argument(
        "--bypass-crc",
        action="store_true",
        help="also count with the record CRC-32 check bypassed (its cost per lookup)",
    )
    args = p.parse_args()
    cases = args.cases.split(",")
    if args.inner:
        inner(args.root, cases, args.longer)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "snapshots"
        build(root)
        for bypass in (False, True) if args.bypass_crc else (False,):
            os.environ["SCAMETER_BYPASS_CRC"] = "1" if bypass else "0"
            label = " (CRC check bypassed)" if bypass else ""
            base = instructions(root, cases, None)
            for case in cases:
                per = (instructions(root, cases, case) - base) / (N2 - N1)
                print(f"{case:10} {per:10,.0f} instructions per lookup{label}", flush=True)


if __name__ == "__main__":
    main()
