"""``scameter serve`` entry points: one worker in this process, or a supervisor over several.

Responsibility: :func:`serve` runs a validated :class:`~scameter.rpc.config.ServerConfig`
(one worker in this process, or :func:`~scameter.rpc.supervisor.supervise` forking several);
:func:`run_worker` wires one worker's real collaborators (snapshot manager, API keys, intake
log) and runs it until SIGTERM/SIGINT; :func:`main` is ``python -m scameter.rpc``. The flags
and config live in :mod:`scameter.rpc.config`, logging in :mod:`scameter.rpc.logs`, process
supervision in :mod:`scameter.rpc.supervisor`, the gRPC server itself in
:mod:`scameter.rpc.worker`. The CLI only wires :func:`add_serve_arguments`,
:func:`config_from_args` and :func:`serve` (rpc never imports cli).

Invariants:
* The snapshot manager, the intake log and the gRPC server are created inside
  :func:`run_worker` only, i.e. in the worker process after any fork, never in a supervising
  parent (gRPC's core and LMDB environments must not cross a fork).
* SIGTERM / SIGINT: the worker stops accepting, finishes in-flight calls (up to ``grace``
  seconds) and returns 0.
* The first line a worker logs once it accepts calls is ``{"event": "serving", "port": ...}``.
* Auth is off only with the explicit ``no_auth`` (logged as a warning).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import threading

from scameter.errors import ConfigError, ScameterError
from scameter.index import SnapshotManager
from scameter.index.signing import load_public_key
from scameter.intake import IntakeLog, hash_reporter
from scameter.rpc.auth import Authorizer, NoAuth, ReloadingKeyStore
from scameter.rpc.config import (
    ServerConfig,
    add_serve_arguments,
    config_from_args,
    parse_duration,
    split_listen,
)
from scameter.rpc.logs import configure_logging
from scameter.rpc.ratelimit import SharedBuckets
from scameter.rpc.supervisor import supervise
from scameter.rpc.worker import start_worker

log = logging.getLogger("scameter.rpc")


def run_worker(config: ServerConfig, index: int, shared: SharedBuckets | None = None) -> int:
    """Run one worker in this process until SIGTERM/SIGINT; returns its exit code.

    ``shared``: the rate-limit buckets all workers share (made by :func:`serve` before the
    fork). SIGHUP re-reads the API key file.
    """
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    authorizer: Authorizer
    if config.no_auth:
        log.warning("authentication is OFF (--no-auth): every caller has every role")
        authorizer = NoAuth()
    else:
        assert config.auth_keys is not None
        keys = ReloadingKeyStore(config.auth_keys, shared=shared)
        signal.signal(signal.SIGHUP, lambda _s, _f: keys.request_reload())
        authorizer = keys
    # verify=True: a snapshot's content hash is checked before it is first served or swapped
    # in (docs/operations.md, "Tampered or damaged snapshots").
    manager = SnapshotManager(
        config.snapshots_root,
        poll_interval=config.poll_interval,
        verify=True,
        trust_key=None if config.trust_key is None else load_public_key(config.trust_key),
        delta=config.delta_dir,
    )
    manager.start()
    intake = (
        None
        if config.intake_log is None
        else IntakeLog(config.intake_log, group_max=config.report_group_max)
    )
    key = config.hash_key()
    hasher = None if key is None else (lambda reporter: hash_reporter(reporter, key))
    try:
        running = start_worker(
            config,
            source=manager,
            authorizer=authorizer,
            intake=intake,
            reporter_hasher=hasher,
            index=index,
        )
    except Exception:
        manager.stop()
        raise
    log.info(
        "serving",
        extra={
            "event": "serving",
            "port": running.port,
            "metrics_port": running.metrics_port,
            "http_port": running.http_port,
        },
    )
    while not stop.wait(3600):
        pass
    log.info("draining", extra={"event": "draining", "grace": config.grace})
    running.stop(config.grace)
    manager.stop()
    if intake is not None:
        intake.close()
    log.info("stopped", extra={"event": "stopped"})
    return 0


def serve(config: ServerConfig) -> int:
    """Run ``scameter serve``; returns the process exit code (0 after a graceful stop)."""
    configure_logging(0)
    try:
        shared = SharedBuckets()  # before any fork: every worker maps the same buckets
        if config.workers == 1:
            return run_worker(config, 0, shared)
        return supervise(config, functools.partial(run_worker, shared=shared))
    except ScameterError as e:
        log.error("cannot serve", extra={"error": str(e)})
        return 2


def main(argv: list[str] | None = None) -> int:
    """``python -m scameter.rpc``: the same flags as ``scameter serve``."""
    parser = argparse.ArgumentParser(prog="python -m scameter.rpc")
    add_serve_arguments(parser)
    try:
        config = config_from_args(parser.parse_args(argv), os.environ)
    except ConfigError as e:
        parser.error(str(e))
    return serve(config)


# ServerConfig and the flag helpers are defined in scameter.rpc.config; they stay importable
# from here, where callers of the server (and its tests) have always found them.
__all__ = [
    "ServerConfig",
    "add_serve_arguments",
    "config_from_args",
    "main",
    "parse_duration",
    "run_worker",
    "serve",
    "split_listen",
]
