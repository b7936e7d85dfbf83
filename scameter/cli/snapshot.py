"""``scameter snapshot info|diff|export|verify|prune``: look at and tidy published snapshots.

Responsibility: the analyst's and operator's view of the snapshot directory: what the live
snapshot holds, what changed between two, a block list by level and kind, and an integrity
check. All reads go through :mod:`scameter.index`; nothing here writes a snapshot, and only
``prune`` (through :mod:`scameter.index.prune`) removes one.

Invariants: snapshots are opened read-only and closed before the command returns; a missing
or damaged snapshot is one line naming the path (the index's ``SnapshotError`` messages).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from scameter.cli.check import KIND_CHOICES
from scameter.cli.common import (
    Arg,
    Command,
    CommandError,
    SubParsers,
    at_least_one,
    open_snapshot,
)
from scameter.cli.export import EXPORT_FORMATS, ExportContext, ExportCounts, ExportFormat, keep
from scameter.settings import Settings
from scameter.verdict import Level

_LEVELS = [lv.value for lv in (Level.HIGH_RISK, Level.SUSPICIOUS, Level.POSSIBLE, Level.VERIFIED)]


def _jsonable(obj: Any) -> Any:
    """Plain JSON data from dataclasses, enums, bitmaps and sets (for ``--json``)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    if isinstance(obj, Iterable):
        return [_jsonable(v) for v in obj]
    return str(obj)


def _counts_table(counts: dict[str, dict[str, int]]) -> list[str]:
    levels = _LEVELS + sorted({lv for c in counts.values() for lv in c} - set(_LEVELS))
    width = max([len("kind"), *(len(k) for k in counts)])
    head = "kind".ljust(width) + "".join(f"{lv:>12}" for lv in levels)
    rows = [
        k.ljust(width) + "".join(f"{counts[k].get(lv, 0):>12,}" for lv in levels)
        for k in sorted(counts)
    ]
    return [head, *rows]


def run_info(args: argparse.Namespace, settings: Settings) -> int:
    snap = open_snapshot(settings, args.id)
    try:
        stats = snap.stats()
    finally:
        snap.close()
    if args.json:
        sys.stdout.write(json.dumps(_jsonable(stats), indent=2, sort_keys=True) + "\n")
        return 0
    lines = [
        f"snapshot   {stats.get('snapshot')}",
        f"parent     {stats.get('parent') or '-'}",
        f"as of      {stats.get('as_of')}",
        f"built at   {stats.get('built_at')}",
        f"format     {stats.get('format_version')}"
        + (f" ({stats['shards']} key-range shards)" if stats.get("shards", 1) > 1 else ""),
        f"total      {stats.get('total', 0):,} identifiers, "
        f"{stats.get('clusters', 0):,} clusters of co-reported identifiers",
        "",
        *_counts_table(stats.get("counts") or {}),
    ]
    for title in ("categories", "sources"):
        sizes = stats.get(title) or {}
        if sizes:
            top = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))
            lines += ["", f"{title}: " + ", ".join(f"{k} {v:,}" for k, v in top)]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def run_diff(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.index import diff_snapshots

    old = open_snapshot(settings, args.a)
    try:
        new = open_snapshot(settings, args.b)
        try:
            diff = diff_snapshots(old, new)
        finally:
            new.close()
    finally:
        old.close()
    if args.json:
        sys.stdout.write(json.dumps(_jsonable(diff), indent=2, sort_keys=True) + "\n")
        return 0
    counts = diff.counts()
    lines = [
        f"{diff.old_id} -> {diff.new_id}: {counts['added']:,} added, "
        f"{counts['removed']:,} removed, {counts['changed']:,} changed"
    ]
    for mark, entries in (("+", diff.added), ("-", diff.removed), ("~", diff.changed)):
        for e in entries[: args.limit]:
            old = "" if e.old_level is None else e.old_level.value
            new = "" if e.new_level is None else e.new_level.value
            change = f"{old} -> {new}" if old and new else old or new
            lines.append(f"{mark} {e.kind:<16} {e.canonical}  {change}")
        if len(entries) > args.limit:
            lines.append(f"{mark} ... {len(entries) - args.limit:,} more (--limit N, or --json)")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _export_device(args: argparse.Namespace, settings: Settings) -> int:
    """``export --format device -o FILE [--since ID]``: the device database or a delta."""
    from scameter.device.dbfile import decode
    from scameter.device.export import export_since

    if not args.output:
        raise CommandError("--format device writes a binary file: give -o FILE")
    snap = open_snapshot(settings, args.id)
    try:
        data, full = export_since(snap.reader, snap.path.parent, args.since or "")
    finally:
        snap.close()
    out = Path(args.output)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    db = decode(data)
    what = "full database" if full else f"delta from {db.base}"
    if args.since and full:
        what += f" ({args.since} is not a snapshot here any more)"
    sys.stderr.write(
        f"exported device {what}: version {db.version}, {db.entries:,} entries, "
        f"{len(data):,} bytes -> {out}\n"
    )
    return 0


def _export_format(args: argparse.Namespace) -> ExportFormat:
    name = "json" if args.json else args.format
    if args.json and args.format not in (None, "json"):
        raise CommandError(
            f"--json is --format json; it cannot be combined with --format {args.format}"
        )
    fmt = EXPORT_FORMATS[name or "lines"]
    if fmt.name in ("hosts", "rpz") and args.level == Level.VERIFIED.value:
        raise CommandError(f"--format {fmt.name} is a block list: it never holds VERIFIED entries")
    return fmt


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    fmt = _export_format(args)
    write = fmt.write
    if write is None:  # device: a binary database, not records
        return _export_device(args, settings)
    if args.since:
        raise CommandError("--since is for --format device")
    snap = open_snapshot(settings, args.id)
    counts = ExportCounts()
    ctx = ExportContext(snap.id, int(snap.as_of.timestamp()))
    try:
        records = (
            r
            for r in snap.export(level=args.level, kind=args.kind)
            if keep(r, fmt, counts, args.level)
        )
        if args.output is None:
            write(records, sys.stdout, counts, ctx)
        else:
            _write_file(Path(args.output), lambda out: write(records, out, counts, ctx))
    finally:
        snap.close()
    n = counts.written
    left = [
        f"{v:,} {what}"
        for v, what in (
            (counts.verified, "VERIFIED (allowlisted) left out"),
            (counts.duplicates, "duplicate entries written once"),
            (counts.skipped, f"not whole-host listings, which --format {fmt.name} cannot express"),
        )
        if v
    ]
    where = f" to {args.output}" if args.output else ""
    extra = f" ({'; '.join(left)})" if left else ""
    sys.stderr.write(f"exported {n:,} identifier{'' if n == 1 else 's'}{where}{extra}\n")
    return 0


def _write_file(path: Path, write: Callable[[TextIO], None]) -> None:
    """Write through a temporary file beside ``path``, renamed into place when complete, so a
    resolver reloading the file never reads half a list."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            write(out)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {exc.strerror}") from exc


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    snap = open_snapshot(settings, args.id)
    try:
        chunks = snap.verify()
        sid = snap.manifest.snapshot_id
    finally:
        snap.close()
    how = f"{chunks} chunk{'s' if chunks != 1 else ''}" if chunks else "whole file, format 2.0/2.1"
    sys.stdout.write(f"ok: snapshot {sid} is intact (its manifest's hashes match: {how})\n")
    return 0


def run_prune(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.index.prune import prune

    root = settings.snapshots_root
    if not root.is_dir():
        raise CommandError(f"no snapshots directory at {root}")
    result = prune(root, args.keep, dry_run=args.dry_run)
    if args.json:
        sys.stdout.write(json.dumps(_jsonable(result), sort_keys=True) + "\n")
        return 0
    verb = "would remove" if args.dry_run else "removed"
    lines = [f"{verb} {len(result.removed)} snapshot(s), kept {len(result.kept)}"]
    lines += [f"  {verb}: {sid}" for sid in result.removed]
    lines += [f"  in use by a running process, kept: {sid}" for sid in result.in_use]
    if result.rejects_removed:
        lines.append(f"{verb} {len(result.rejects_removed)} old scratch rejects file(s)")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


#: ``scameter snapshot ACTION``: one command per action.
ACTIONS: tuple[Command, ...] = (
    Command(
        "info",
        help="what a snapshot holds (default: live)",
        run=run_info,
        args=(Arg(("id",), nargs="?", metavar="ID"), Arg(("--json",), action="store_true")),
    ),
    Command(
        "diff",
        help="added / removed / changed from A to B",
        run=run_diff,
        args=(
            Arg(("a",), metavar="A"),
            Arg(("b",), metavar="B"),
            Arg(("--limit",), type=int, default=20, help="items shown per list (default 20)"),
            Arg(("--json",), action="store_true"),
        ),
    ),
    Command(
        "export",
        help="a block list (lines, hosts file, DNS RPZ) or JSON lines of the records",
        run=run_export,
        args=(
            Arg(("--level",), choices=[lv.value for lv in Level]),
            Arg(("--kind",), choices=KIND_CHOICES),
            Arg(("--id",), metavar="ID", help="snapshot id (default: live)"),
            Arg(
                ("--format",),
                choices=list(EXPORT_FORMATS),
                help="; ".join(f"{f.name}: {f.help}" for f in EXPORT_FORMATS.values())
                + " (default lines)",
            ),
            Arg(("--json",), action="store_true", help="the same as --format json"),
            Arg(
                ("-o", "--output"),
                metavar="FILE",
                help="write here (default: stdout; device: required)",
            ),
            Arg(
                ("--since",),
                metavar="SNAPSHOT_ID",
                help="device: a delta from that snapshot (a full database if it is gone)",
            ),
        ),
    ),
    Command(
        "verify",
        help="re-check a snapshot's checksums",
        run=run_verify,
        args=(Arg(("id",), nargs="?", metavar="ID"),),
    ),
    Command(
        "prune",
        help="remove old snapshots (never CURRENT, its parent or one in use) and old rejects",
        run=run_prune,
        args=(
            Arg(
                ("--keep",),
                type=at_least_one("snapshots"),
                default=5,
                metavar="N",
                help="newest snapshots kept besides CURRENT and its parent (default 5)",
            ),
            Arg(("--dry-run",), action="store_true", help="say what would go; remove nothing"),
            Arg(("--json",), action="store_true"),
        ),
    ),
)


def add_parser(sub: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("snapshot", help="inspect, compare, export and verify snapshots")
    actions = p.add_subparsers(dest="snapshot_command", metavar="ACTION", required=True)
    for action in ACTIONS:
        action.add_to(actions, parents)


__all__ = [
    "ACTIONS",
    "add_parser",
    "run_diff",
    "run_export",
    "run_info",
    "run_prune",
    "run_verify",
]
