"""The ``scameter`` command: one entry point for analysts, operators and the demo.

Responsibility: parse the command line, build the one :class:`~scameter.settings.Settings`
from flags and ``SCAMETER_*`` variables, run the subcommand, and map failures to one line on
stderr and a non-zero exit status (a traceback only with ``--debug``).

Subcommands live one family per module: ``check``/``related`` (check.py), ``bulk``,
``ingest`` (ingest_cmd.py), ``snapshot`` (snapshot.py), ``serve`` (serve_cmd.py), ``demo``,
``device`` (device_cmd.py), ``completion`` (completion.py).
Each declares itself as a :class:`~scameter.cli.common.Command` whose arguments are one
table; the options several commands share are the tables here (:data:`GENERAL_ARGS`,
:data:`LOOKUP_ARGS`, :data:`SNAPSHOTS_ARGS`). ``docs/settings.md`` is checked against them.

Invariants:
* :func:`main` never raises (except for interpreter exits it did not cause); it returns the
  exit status, so tests call it in-process.
* The environment is read here, once, and nowhere at import time.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from scameter.cli import (
    appeals,
    bulk,
    check,
    clusters,
    completion,
    demo,
    device_cmd,
    ingest_cmd,
    serve_cmd,
    snapshot,
)
from scameter.cli.common import (
    EXIT_FAILED,
    Arg,
    ArgTable,
    CommandError,
    OneOf,
    Section,
    add_arguments,
)
from scameter.errors import ScameterError
from scameter.settings import load_settings


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scameter")
    except PackageNotFoundError:  # running from a source tree without an install
        return "unknown"


_SNAPSHOTS_HELP = "directory holding CURRENT (default: $SCAMETER_SNAPSHOTS, then the user data dir)"
_MODES = ("auto", "always", "never")

#: Options every subcommand takes, before or after its name. SUPPRESS: an option the user did
#: not give must not overwrite one given before the subcommand name (argparse copies
#: sub-parser defaults over the parent namespace).
GENERAL_ARGS: ArgTable = (
    Section(
        "general options",
        (
            Arg(("--debug",), action="store_true", default=argparse.SUPPRESS, help="tracebacks"),
            Arg(("--color",), choices=_MODES, default=argparse.SUPPRESS, help="colours"),
            Arg(("--progress",), choices=_MODES, default=argparse.SUPPRESS,
                help="progress bar on stderr (auto: on a terminal)"),
        ),
    ),
)  # fmt: skip

#: Where ``check``, ``bulk`` and ``related`` look: a local snapshot or a server.
LOOKUP_ARGS: ArgTable = (
    Section(
        "where to look",
        (
            OneOf(
                (
                    Arg(("--snapshots",), dest="snapshots_root", metavar="DIR",
                        help=_SNAPSHOTS_HELP),
                    Arg(("--remote",), metavar="HOST:PORT", help="ask a scameter server instead"),
                )
            ),
            Arg(("--api-key",), metavar="KEY", help="API key for --remote ($SCAMETER_API_KEY)"),
            Arg(("--tls-ca",), metavar="PEM", help="CA bundle: reach --remote over TLS"),
            Arg(("--tls-cert",), metavar="PEM", help="client certificate for mTLS (--remote)"),
            Arg(("--tls-key",), metavar="PEM", help="private key of --tls-cert"),
        ),
    ),
)  # fmt: skip

#: Where ``ingest`` and ``snapshot`` work: a local snapshots directory.
SNAPSHOTS_ARGS: ArgTable = (
    Arg(("--snapshots",), dest="snapshots_root", metavar="DIR", help=_SNAPSHOTS_HELP),
)


def _parent(table: ArgTable) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    add_arguments(p, table)
    return p


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser. Given the command line, subcommands it cannot be running are
    built without their heavy imports (``serve`` needs grpc); without one, everything is."""
    common = _parent(GENERAL_ARGS)
    parser = argparse.ArgumentParser(
        prog="scameter",
        parents=[common],
        description=(
            "Scam-intelligence lookups: check phone numbers, URLs, payees and accounts against "
            "immutable snapshots, build snapshots from reports, serve them over gRPC."
        ),
        epilog="Start with 'scameter demo'. Settings: docs/settings.md.",
    )
    parser.add_argument("--version", action="version", version=f"scameter {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    lookup = [common, _parent(LOOKUP_ARGS)]
    local = [common, _parent(SNAPSHOTS_ARGS)]
    check.add_parsers(sub, lookup)
    bulk.add_parser(sub, lookup)
    ingest_cmd.add_parser(sub, local)
    snapshot.add_parser(sub, local)
    clusters.add_parser(sub, local)
    appeals.add_parser(sub, [common])
    serve_cmd.add_parser(sub, [common], full=argv is None or "serve" in argv)
    demo.add_parser(sub, [common])
    device_cmd.add_parser(sub, [common])
    completion.add_parser(sub, [common])
    return parser


def _error(message: str) -> None:
    sys.stderr.write(f"scameter: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``scameter`` command with ``argv`` (default ``sys.argv[1:]``); return the status."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(args_list)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version and usage errors (status 2)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else EXIT_FAILED
    try:
        settings = load_settings(vars(args), os.environ)
    except ScameterError as exc:
        _error(str(exc))
        return EXIT_FAILED
    try:
        status: int = args.func(args, settings)
        return status
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error. Point stdout at devnull so the
        # interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        if settings.debug:
            traceback.print_exc()
        status = exc.status if isinstance(exc, CommandError) else EXIT_FAILED
        if isinstance(exc, ScameterError):
            _error(str(exc))
        elif isinstance(exc, OSError):
            _error(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
        elif isinstance(exc, NotImplementedError):
            _error(f"'{args.command}' is not available in this build yet ({exc or 'stub'})")
        else:
            hint = "" if settings.debug else " (run with --debug for the traceback)"
            _error(f"internal error: {type(exc).__name__}: {exc}{hint}")
        return status


__all__ = ["GENERAL_ARGS", "LOOKUP_ARGS", "SNAPSHOTS_ARGS", "build_parser", "main"]
