"""``scameter device info|apply|check``: the reference device matcher on the command line.

Responsibility: let an operator or an app developer look into a device database
(``snapshot export --format device``), apply a delta to it, and check values against it the
way the app does, to compare an app's answers with the reference (:mod:`scameter.device`).

Invariants: a database or delta whose checksum fails, or a delta for another base, is one line
on stderr and exit status 2 (:class:`~scameter.errors.DeviceFileError`); the output file of
``apply`` is written to a temporary name and renamed, so it is never half written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from scameter.cli.check import KIND_CHOICES
from scameter.cli.common import EXIT_INVALID, EXIT_OK, Arg, Command, SubParsers
from scameter.errors import InvalidIdentifier
from scameter.settings import Settings


def run_info(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.device import DeviceDatabase

    db = DeviceDatabase.load(Path(args.file))
    sys.stdout.write(json.dumps(db.info(), sort_keys=True) + "\n")
    return EXIT_OK


def run_apply(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.device import DeviceDatabase

    db = DeviceDatabase.load(Path(args.base)).apply(Path(args.delta).read_bytes())
    out = Path(args.output)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(db.to_bytes())
    os.replace(tmp, out)
    sys.stderr.write(f"applied: version {db.version}, {db.entries:,} entries -> {out}\n")
    return EXIT_OK


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.device import DeviceDatabase

    db = DeviceDatabase.load(Path(args.file))
    status = EXIT_OK
    out = sys.stdout
    for value in args.values:
        try:
            hit: bool | None = db.check(value, args.kind)
            error = None
        except InvalidIdentifier as e:
            hit, error = None, e.reason
            status |= EXIT_INVALID
        if args.json:
            row: dict[str, object] = {"input": value, "hit": hit}
            if error is not None:
                row["error"] = error
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            word = "invalid" if hit is None else "hit" if hit else "miss"
            out.write(f"{value}\t{word}\n")
    return status


ACTIONS: tuple[Command, ...] = (
    Command(
        "info",
        help="version, entries and sha256 of a device database (one JSON object)",
        run=run_info,
        args=(Arg(("file",), metavar="FILE"),),
    ),
    Command(
        "apply",
        help="apply a delta to a device database; the checksum is verified",
        run=run_apply,
        args=(
            Arg(("base",), metavar="BASE"),
            Arg(("delta",), metavar="DELTA"),
            Arg(("-o", "--output"), metavar="OUT", required=True, help="updated database"),
        ),
    ),
    Command(
        "check",
        help="VALUE<TAB>hit|miss for each value, as the app's on-device match",
        description=(
            "Check values against a device database as an app does: canonicalise, hash, look "
            "up the 32-bit prefix. A hit means 'maybe listed' (confirm with check --private); "
            "a miss is final for this version. Exit status 4 when some value is invalid."
        ),
        run=run_check,
        args=(
            Arg(("file",), metavar="FILE"),
            Arg(("values",), nargs="+", metavar="VALUE"),
            Arg(("--kind",), choices=KIND_CHOICES, help="kind of every value (default: detect)"),
            Arg(("--json",), action="store_true", help="one JSON object per value"),
        ),
    ),
)


def add_parser(sub: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("device", help="inspect, update and query device databases")
    actions = p.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    for action in ACTIONS:
        action.add_to(actions, parents)


__all__ = ["ACTIONS", "add_parser"]
