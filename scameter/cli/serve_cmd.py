"""``scameter serve``: run the gRPC service over the snapshots in a directory.

Responsibility: wiring only. The flags (:data:`scameter.rpc.config.SERVE_ARGS`), their
validation and the server itself belong to :mod:`scameter.rpc`; this module puts them behind
the ``serve`` subcommand so every front end shares one entry point.

Invariants:
* grpc is imported only when ``serve`` runs, never for other subcommands.
* ``--snapshots`` means what it means for every other command: the flag, then
  ``SCAMETER_SNAPSHOTS``, then the user data dir (docs/settings.md). ``python -m scameter.rpc``
  requires it; here it is optional and filled in from :class:`Settings`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from scameter.cli.common import Arg, ArgTable, SubParsers, add_arguments
from scameter.settings import Settings

if TYPE_CHECKING:
    from scameter.rpc.config import ServerConfig


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.rpc.server import config_from_args, serve

    if args.snapshots_root is None:  # same default as every other command (docs/settings.md)
        args.snapshots_root = settings.snapshots_root
    config = config_from_args(args, os.environ)
    folder = _start_folder(config)
    try:
        return serve(config)
    finally:
        if folder is not None:
            folder.terminate()
            folder.join(10)
            if folder.is_alive():
                folder.kill()
                folder.join()


def _start_folder(config: ServerConfig) -> BaseProcess | None:
    """The live fold of ``--intake-log`` (docs/architecture.md, "Live updates"): one child
    process, started before any gRPC object exists, that dies with the server."""
    delta = config.delta_dir
    if delta is None or config.intake_log is None:
        return None
    from scameter.ingest.live import run_folder
    from scameter.ingest.pipeline import DEFAULT_REPORTER_KEY
    from scameter.processes import worker_context

    ctx: Any = worker_context()
    proc: BaseProcess = ctx.Process(
        target=run_folder,
        args=(
            config.snapshots_root,
            config.intake_log,
            delta.parent,
            config.live_interval,
            DEFAULT_REPORTER_KEY,
            os.getpid(),
            config.fold_priority,
            config.live_split_max_reports,
        ),
        name="scameter-live-fold",
        daemon=True,
    )
    proc.start()
    return proc


def _optional_snapshots(table: ArgTable) -> ArgTable:
    """``table`` with ``--snapshots`` no longer required (Settings supplies the default)."""
    return tuple(
        dataclasses.replace(item, required=False)
        if isinstance(item, Arg) and item.name == "snapshots_root"
        else item
        for item in table
    )


def add_parser(
    sub: SubParsers,
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
        from scameter.rpc.config import SERVE_ARGS
    except ImportError as exc:  # the rpc layer is optional at import time for other commands
        p.set_defaults(func=_unavailable(str(exc)))
        return
    add_arguments(p, _optional_snapshots(SERVE_ARGS))
    p.set_defaults(func=run_serve)


def _unavailable(reason: str) -> object:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        raise NotImplementedError(f"the gRPC server cannot be loaded: {reason}")

    return run


__all__ = ["add_parser", "run_serve"]
