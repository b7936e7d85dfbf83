"""``scameter check`` and ``scameter related``: answers for a few values, for a person or a script.

Responsibility: read values (arguments, else stdin lines), ask the backend (local snapshot or
``--remote`` server), print a table or JSON lines, and turn the answers into the exit bitmask.

Invariants:
* One output row per input value, in input order; an invalid value is a row with its reason.
* Exit status: 1 something HIGH RISK or SUSPICIOUS, 2 lookup failed, 4 some input invalid
  (bits add up). A failed lookup is one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from scameter.cli.common import (
    REMOTE_TIMEOUT,
    Arg,
    Backend,
    Command,
    CommandError,
    SubParsers,
    exit_status,
    open_backend,
)
from scameter.cli.output import render_json_lines, render_table
from scameter.errors import InvalidIdentifier, ScameterError
from scameter.identifiers.phone import DEFAULT_REGION, localize_phone, parse_region
from scameter.identifiers.registry import KIND_NAMES
from scameter.settings import Settings
from scameter.verdict import Channel, CheckContext, Language, Verdict, in_language, parse_language

KIND_CHOICES = list(KIND_NAMES)
CHANNELS = tuple(c.value for c in Channel)


def _values(args_values: Sequence[str]) -> list[str]:
    if args_values:
        return list(args_values)
    if sys.stdin is None or sys.stdin.isatty():
        raise CommandError("no values to check: give VALUE arguments or pipe one per line on stdin")
    values = [line.strip() for line in sys.stdin if line.strip()]
    if not values:
        raise CommandError("no values to check: stdin was empty; give VALUE arguments")
    return values


def _lookup(backend: Backend, call: str, fn: Callable[[], list[Verdict]]) -> list[Verdict]:
    """Run a lookup; any failure of the backend itself becomes one line and status 2."""
    try:
        return fn()
    except CommandError:
        raise
    except Exception as exc:
        raise CommandError(f"{call} failed against {backend.name}: {exc}") from exc


def _print(verdicts: Sequence[Verdict], args: argparse.Namespace, settings: Settings) -> None:
    out = sys.stdout
    language: Language = args.lang
    verdicts = [in_language(v, language) for v in verdicts]
    if args.json:
        out.write(render_json_lines(verdicts))
    else:
        colour = settings.use_color(out.isatty())
        out.write(render_table(verdicts, colour=colour, language=language))
    out.flush()


def _check_each(
    backend: Backend, values: Sequence[str], kind: str | None, context: CheckContext
) -> list[Verdict]:
    """Each value with the call context (the batch forms take none): an invalid value is a
    row with its reason, exactly as in a batch, and never stops the others."""
    out: list[Verdict] = []
    for value in values:
        try:
            out.append(backend.check(value, kind, context))
        except InvalidIdentifier as exc:
            out.append(Verdict.invalid(value, str(exc), exc.kind or None))
    return out


def _check_private(values: list[str], kind: str | None, settings: Settings) -> list[Verdict]:
    """``check --private``: only hash prefixes leave this machine (docs/privacy.md)."""
    from scameter.errors import InvalidIdentifier
    from scameter.private import PrivateClient

    if not settings.remote:
        raise CommandError("--private asks a server: give --remote HOST:PORT")
    out: list[Verdict] = []
    with PrivateClient(settings.remote, settings.api_key, timeout=REMOTE_TIMEOUT) as client:
        for v in values:
            try:
                out.append(client.check(v, kind))
            except InvalidIdentifier as e:
                out.append(Verdict.invalid(v, e.reason, e.kind))
            except ScameterError as e:
                raise CommandError(f"private check failed against {settings.remote}: {e}") from e
    return out


def _language(text: str) -> Language:
    try:
        return parse_language(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


#: ``--lang``: the language of reason sentences and labels (check and related).
LANG_ARG = Arg(
    ("--lang",),
    type=_language,
    default=Language.EN,
    metavar="TAG",
    help="language of the answers: en (default) or zh-Hant (also zh-HK, zh-TW)",
)


def region_arg(text: str) -> str:
    """``--region CC`` (check, bulk, ingest): an ISO region libphonenumber knows, upper case."""
    try:
        return parse_region(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def in_region(values: Sequence[str], region: str) -> list[str]:
    """``values`` with local phone numbers of ``region`` given their country code."""
    return list(values) if region == DEFAULT_REGION else [localize_phone(v, region) for v in values]


def as_typed(verdicts: Sequence[Verdict], typed: Sequence[str]) -> list[Verdict]:
    """``verdicts`` showing each input as the user typed it (undoing :func:`in_region`)."""
    return [
        v if v.input == t else replace(v, input=t) for v, t in zip(verdicts, typed, strict=True)
    ]


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    if args.message:
        if args.private:
            raise CommandError(
                "--private does not check messages: it would send the text; check the "
                "identifiers in it one by one with --private"
            )
        from scameter.cli.messages import run_messages

        return run_messages(args, settings)
    if args.sender:
        raise CommandError("--sender goes with --message: it is the sender of a message")
    typed = _values(args.values)
    values = in_region(typed, args.region)
    if args.private:
        if args.context or args.overseas:
            raise CommandError("--context and --overseas need the value itself; drop --private")
        verdicts = as_typed(_check_private(values, args.kind, settings), typed)
        _print(verdicts, args, settings)
        return exit_status(verdicts)
    context = None
    if args.context or args.overseas:
        context = CheckContext(
            channel=Channel(args.context) if args.context else None, overseas=bool(args.overseas)
        )
    backend = open_backend(settings)
    try:
        if context is not None:
            verdicts = _lookup(
                backend,
                "check",
                lambda: _check_each(backend, values, args.kind, context),
            )
        else:
            verdicts = _lookup(backend, "check", lambda: backend.check_many(values, args.kind))
    finally:
        backend.close()
    verdicts = as_typed(verdicts, typed)
    _print(verdicts, args, settings)
    return exit_status(verdicts)


def run_related(args: argparse.Namespace, settings: Settings) -> int:
    backend = open_backend(settings)
    try:
        verdicts = _lookup(
            backend, "related", lambda: backend.related(args.value, args.kind, args.limit)
        )
    finally:
        backend.close()
    if not verdicts:
        sys.stderr.write("no related identifiers: it is not in a cluster of the snapshot\n")
        return 0
    _print(verdicts, args, settings)
    return exit_status(verdicts)


CHECK = Command(
    "check",
    help="check phone numbers, URLs, accounts... (one line each)",
    description=(
        "Check values against the current snapshot (or --remote server). Values come from "
        "the arguments, else one per line on stdin. Exit status: bitmask of 1 (HIGH RISK or "
        "SUSPICIOUS found), 2 (lookup failed), 4 (some input invalid). With --message each "
        "VALUE is a whole message (- reads one from stdin), answered with every identifier in it."
    ),
    run=run_check,
    args=(
        Arg(("values",), nargs="*", metavar="VALUE"),
        Arg(("--kind",), choices=KIND_CHOICES, help="kind of every value (default: detect)"),
        Arg(("--json",), action="store_true", help="one JSON object per value"),
        Arg(("--context",), choices=CHANNELS, help="where the value was seen"),
        Arg(("--overseas",), action="store_true", help="the call or message came from overseas"),
        Arg(
            ("--private",),
            action="store_true",
            help="with --remote: send only hash prefixes, match locally (docs/privacy.md)",
        ),
        Arg(("--message",), action="store_true",
            help="each VALUE is a message (SMS, WhatsApp, e-mail text; - for stdin): check "
            "every identifier in it"),
        Arg(("--sender",), metavar="ID",
            help="with --message: the sender shown on the phone (#NAME, a number...)"),
        LANG_ARG,
        Arg(
            ("--region",),
            type=region_arg,
            default=DEFAULT_REGION,
            metavar="CC",
            help="read local phone numbers as numbers of this country (default HK)",
        ),
    ),
)  # fmt: skip

RELATED = Command(
    "related",
    help="identifiers reported together with VALUE (its cluster)",
    description="List the cluster of VALUE: identifiers named in the same reports.",
    run=run_related,
    args=(
        Arg(("value",), metavar="VALUE"),
        Arg(("--kind",), choices=KIND_CHOICES),
        Arg(("--limit",), type=int, default=50, help="at most this many (default 50)"),
        Arg(("--json",), action="store_true"),
        LANG_ARG,
    ),
)


def add_parsers(sub: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    CHECK.add_to(sub, parents)
    RELATED.add_to(sub, parents)


__all__ = ["CHECK", "KIND_CHOICES", "RELATED", "add_parsers", "run_check", "run_related"]
