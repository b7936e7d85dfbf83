"""``scameter serve``: run the gRPC service over the snapshots in a directory.

Responsibility: wiring only. The flags, their validation and the server itself belong to
:mod:`scameter.rpc.server` (``add_serve_arguments``, ``config_from_args``, ``serve``); this
module puts them behind the ``serve`` subcommand so every front end shares one entry point.

Invariant: grpc is imported only when ``serve`` runs, never for other subcommands.
"""

from __future__ import annotations

import argparse
import os

from scameter.settings import Settings


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.rpc.server import config_from_args, serve

    if args.snapshots is None:  # same default as every other command (docs/settings.md)
        args.snapshots = settings.snapshots
    return serve(config_from_args(args, os.environ))


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
    *,
    full: bool = True,
) -> None:
    """Add ``serve``; with ``full=False`` only its name and help (no grpc import), for
    command lines that do not run ``serve``: that keeps ``scameter check`` quick to start."""
    p = sub.add_parser(
        "serve",
        parents=parents,
        help="serve lookups, payee checks and reports over gRPC",
        description=(
            "Run the scameter.v1 gRPC service (health, reflection, hot swap on CURRENT). "
            "Operations guide: docs/operations.md."
        ),
    )
    if not full:
        return
    try:
        from scameter.rpc.server import add_serve_arguments
    except ImportError as exc:  # the rpc layer is optional at import time for other commands
        p.set_defaults(func=_unavailable(str(exc)))
        return
    add_serve_arguments(p)
    # --snapshots means the same everywhere: flag, then SCAMETER_SNAPSHOTS, then the user data
    # dir. The rpc layer declares it required; relax that here and fill it in from Settings.
    for action in p._actions:
        if action.dest == "snapshots":
            action.required = False
            action.default = None
    p.set_defaults(func=run_serve)


def _unavailable(reason: str) -> object:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        raise NotImplementedError(f"the gRPC server cannot be loaded: {reason}")

    return run


__all__ = ["add_parser", "run_serve"]
