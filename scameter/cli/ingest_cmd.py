"""``scameter ingest``: build and publish a snapshot from report files, feeds and intake logs.

Responsibility: the command-line front of :func:`scameter.ingest.run_ingest`: flags in, a
progress bar on a terminal, the snapshot id and a summary out.

Invariants: nothing is published on ``--dry-run`` or when the reject ratio is exceeded (the
pipeline guarantees it; this module only reports); the summary goes to stdout, the progress
bar to stderr and only on a terminal.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from scameter.cli.check import KIND_CHOICES, region_arg
from scameter.cli.common import Arg, Command, CommandError, SubParsers
from scameter.cli.progress import Progress
from scameter.index.publish import resolve_group
from scameter.index.signing import EccKey, load_private_key
from scameter.settings import INGEST_ENGINES, Settings
from scameter.times import iso_utc, parse_iso_utc

_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_as_of(text: str) -> datetime:
    """ISO 8601 (``2026-11-01``, ``2026-11-01T08:00:00Z``...) as an aware UTC datetime.

    A bare date means the END of that day (23:59:59 UTC): ``--as-of 2026-11-01`` counts every
    report made on 1 November, as a person asking "as of that day" expects.
    """
    try:
        if _BARE_DATE.fullmatch(text.strip()):
            day = date.fromisoformat(text.strip())
            return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        return parse_iso_utc(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time, e.g. 2026-11-01 or 2026-11-01T08:00:00Z"
        ) from None


def _ratio(text: str) -> float:
    try:
        r = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1") from None
    if not 0 <= r <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1")
    return r


def _head(result: Any, dry_run: bool) -> list[str]:
    verb = "validated (dry run, nothing published)" if dry_run else "published"
    if not dry_run and not getattr(result, "published", True):
        verb = "built but NOT published"
    return [
        f"snapshot {result.snapshot_id or '-'} {verb}",
        f"records read {result.records_read:,}, rejected {result.rejected:,}"
        + (f" (see {result.rejects_path})" if result.rejected and result.rejects_path else ""),
    ]


def _set_aside(result: Any) -> list[str]:
    """Rows over a limit and text-only reports: counted, never silently dropped."""
    lines: list[str] = []
    limits: dict[str, int] = getattr(result, "limits", None) or {}
    if limits:
        per = ", ".join(f"{name} {n:,}" for name, n in sorted(limits.items()))
        lines.append(f"  rejected over a limit: {per}")
    kept = getattr(result, "no_identifiers", 0)
    if kept:
        lines.append(
            f"kept {kept:,} text-only report{'s' if kept != 1 else ''} with no identifiers "
            f"(no_identifiers in {result.rejects_path})"
        )
    return lines


def _policy_notes(result: Any, as_of: str) -> list[str]:
    """Reports after as_of and warninglist demotions."""
    stats: dict[str, int] = getattr(result, "stats", None) or {}
    lines: list[str] = []
    future = stats.get("future", 0)
    if future:
        lines.append(
            f"reports dated after as_of ({as_of}): {future:,} left out "
            "(a later --as-of counts them)"
        )
    demoted = {k.split(":", 1)[1]: n for k, n in stats.items() if k.startswith("demoted:")}
    if demoted:
        per = ", ".join(f"{n:,} warninglist:{name}" for name, n in sorted(demoted.items()))
        lines.append(f"held at POSSIBLE by warninglists (one unconfirmed source): {per}")
    return lines


def _summary(result: Any, dry_run: bool, as_of: str = "now", engine: str = "memory") -> str:
    lines = _head(result, dry_run) + _set_aside(result)
    ran = getattr(result, "engine", engine)
    lines.append(f"engine {ran}" + (" (chosen by --engine auto)" if engine == "auto" else ""))
    counts: dict[str, dict[str, int]] = result.counts or {}
    for kind in sorted(counts):
        per = ", ".join(f"{n:,} {lv}" for lv, n in sorted(counts[kind].items()) if n)
        lines.append(f"  {kind:<17} {per}")
    notes = _policy_notes(result, as_of)
    future_first = [n for n in notes if n.startswith("reports dated after")]
    lines += future_first
    lines.append(
        f"vs parent: {result.added:,} added, {result.removed:,} removed, {result.changed:,} changed"
    )
    lines += [n for n in notes if n not in future_first]
    return "\n".join(lines) + "\n"


def _sign_key(path: str | None) -> EccKey | None:
    if path is None:
        return None
    try:
        return load_private_key(Path(path))
    except (OSError, ValueError) as e:
        raise CommandError(f"--sign-key {path}: not a readable Ed25519 private key ({e})") from e


def _release_held(inputs: list[Path]) -> None:
    """``--release-held``: move the burst-held reports of every intake log input into it."""
    from scameter.intake import IntakeLog, is_intake_dir

    for path in inputs:
        if is_intake_dir(path):
            with IntakeLog(path) as log:
                n = log.release_held()
            sys.stderr.write(f"ingest: released {n} held report(s) into {path}\n")


def _split_format(text: str, known: tuple[str, ...]) -> tuple[str | None, str]:
    """``FORMAT:PATH`` -> (FORMAT, PATH) when FORMAT is a known format and ``text`` itself
    names no existing file; anything else is a plain path."""
    head, sep, rest = text.partition(":")
    if sep and head in known and rest and not Path(text).exists():
        return head, rest
    return None, text


def _inputs(
    given: list[str], default: str | None, known: tuple[str, ...]
) -> tuple[list[Path], list[str | None]]:
    """The input paths and their own formats (``FORMAT:PATH``; None: ``--format`` or
    detected). ``-`` is stdin, which cannot be sniffed, so it needs a format."""
    inputs: list[Path] = []
    formats: list[str | None] = []
    for text in given:
        fmt, path = _split_format(text, known)
        if path == "-":
            # The pipeline reads paths; on POSIX stdin has one. A pipe cannot be sniffed for
            # its format and read again, so the format must be given.
            if not (fmt or default):
                raise CommandError(
                    "reading stdin ('-') needs --format (e.g. --format jsonl) or a prefix (jsonl:-)"
                )
            inputs.append(Path("/dev/stdin"))
        elif not Path(path).exists():
            raise CommandError(f"input {path} does not exist")
        else:
            inputs.append(Path(path))
        formats.append(fmt)
    return inputs, formats


def run_ingest_command(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.ingest import DEFAULT_REPORTER_KEY, FORMATS, Policy, load_policy, run_ingest

    if args.format is not None and args.format not in FORMATS:
        raise CommandError(f"unknown --format {args.format!r}; one of: {', '.join(FORMATS)}")
    # Before anything is read or built: a group this user cannot give files to stops here.
    group = None if settings.snapshot_group is None else resolve_group(settings.snapshot_group)

    inputs, formats = _inputs(args.inputs, args.format, FORMATS)
    if args.release_held:
        _release_held(inputs)
    policy = load_policy(Path(args.policy)) if args.policy else None
    sign_key = _sign_key(args.sign_key)
    if args.no_official_entities:
        policy = replace(policy or Policy(), official_entities=False)
    progress = Progress(
        sys.stderr, enabled=settings.show_progress(sys.stderr.isatty()), unit="bytes"
    )

    def on_progress(done: int, total: int | None) -> None:
        # The pipeline reports input bytes read (and the total when every input is a file).
        progress.set_total(total)
        progress.update(done - progress.items, done)

    settings.snapshots_root.mkdir(parents=True, exist_ok=True)
    try:
        result = run_ingest(
            inputs,
            settings.snapshots_root,
            as_of=args.as_of,
            policy=policy,
            dry_run=args.dry_run,
            max_reject_ratio=args.max_reject_ratio,
            input_format=args.format,
            input_formats=formats,
            source=args.source,
            category=args.category,
            column=args.column,
            kind=args.kind,
            workers=settings.workers or None,
            reporter_key=settings.reporter_key or DEFAULT_REPORTER_KEY,
            progress=on_progress if progress.enabled else None,
            stage=progress.stage if progress.enabled else None,
            provider=args.provider,
            sign_key=sign_key,
            group=group,
            region=args.region,
            cache_dir=settings.data_dir / "cache",
            evidence=not args.no_evidence,
            engine=settings.ingest_engine,
            memory_limit=settings.memory_limit,
            shards=settings.shards,
            space_check=not settings.skip_space_check,
        )
    finally:
        progress.close()
    as_of = "now" if args.as_of is None else iso_utc(args.as_of)
    sys.stdout.write(_summary(result, args.dry_run, as_of, settings.ingest_engine))
    return 0


INGEST = Command(
    "ingest",
    help="build a snapshot from reports, feeds, allowlists, delistings; publish it",
    description=(
        "Read INPUT files (report JSONL/CSV, feed dumps, allowlists, delistings, an intake "
        "log directory), build a snapshot and make it CURRENT in --snapshots DIR. Bad rows "
        "go to rejects.jsonl in the snapshot directory. Formats: docs/report-format.md."
    ),
    run=run_ingest_command,
    args=(
        Arg(("inputs",), nargs="+", metavar="INPUT",
            help="file, directory, or - for stdin; FORMAT:PATH gives that input its own "
            "format (urlhaus:dump.csv)"),
        Arg(
            ("--as-of",),
            type=parse_as_of,
            metavar="ISO",
            help="'now' for ageing; a bare date means the end of that day (23:59:59 UTC)",
        ),
        Arg(("--policy",), metavar="FILE", help="TOML policy overriding the defaults"),
        Arg(("--sign-key",), metavar="FILE",
            help="Ed25519 private key (PEM): sign the manifest (manifest.sig) before publishing"),
        Arg(("--group",), dest="snapshot_group", metavar="NAME",
            help="group that owns the published snapshot and CURRENT (default: your primary "
            "group); you must be a member ($SCAMETER_SNAPSHOT_GROUP)"),
        Arg(("--release-held",), action="store_true",
            help="first move the reports held for review (burst hold, held.jsonl) into each "
            "intake log input, so this run counts them"),
        Arg(("--dry-run",), action="store_true", help="validate and build, do not publish"),
        Arg(("--max-reject-ratio",), type=_ratio, default=0.05, metavar="R",
            help="fail without publishing when more rows are rejected (default 0.05)"),
        Arg(("--format",), metavar="F",
            help="format of every input without its own FORMAT: prefix; default: detected "
            "per file (jsonl, csv, list, hosts, urlhaus, phishtank, openphish, metamask, "
            "intake: docs/report-format.md)"),
        Arg(("--kind",), choices=KIND_CHOICES, help="kind for list rows that do not say"),
        Arg(("--workers",), type=int, metavar="N", help="normalising processes"),
        Arg(("--source",), help="source for rows that do not say (e.g. feed, telecom)"),
        Arg(("--category",), help="category for rows that do not say"),
        Arg(("--column",), metavar="NAME", help="CSV column holding the identifier"),
        Arg(("--provider",), metavar="NAME",
            help="who stands behind rows that do not say (default: each file's name); "
            "distinct providers corroborate a listing"),
        Arg(("--region",), type=region_arg, metavar="CC",
            help="read local phone numbers of rows that name no region as numbers of this "
            "country (default HK)"),
        Arg(("--engine",), dest="ingest_engine", choices=INGEST_ENGINES,
            help="where to aggregate: memory (default), duckdb (out of core, spills to disk "
            "under --memory-limit), spark (the spark extra), auto (duckdb when the input may "
            "hold more identifiers than --memory-limit fits in memory at ~880 B each, else "
            "memory); the snapshot is the same"),
        Arg(("--memory-limit",), metavar="SIZE",
            help="memory limit of --engine duckdb (and the budget --engine auto compares the "
                 "input with), e.g. 1.5GB (default: a quarter of RAM)"),
        Arg(("--shards",), type=int, metavar="N",
            help="split the records table over N key-range files, built in parallel and "
            "opened lazily (default 1: one file; docs/operations.md, 'Sharded snapshots')"),
        Arg(("--skip-space-check",), action="store_true",
            help="build without first comparing the disk estimate with the free space "
            "(a full disk still fails the run, nothing published; docs/operations.md)"),
        Arg(("--no-evidence",), action="store_true",
            help="do not keep each identifier's events in the snapshot (smaller; a server "
            "then folds no live reports over it until the next ingest)"),
        Arg(("--no-official-entities",), action="store_true",
            help="do not load the bundled Hong Kong official entities (policy key "
            "official_entities)"),
    ),
)  # fmt: skip


def add_parser(sub: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    INGEST.add_to(sub, parents)


__all__ = ["INGEST", "add_parser", "parse_as_of", "run_ingest_command"]
