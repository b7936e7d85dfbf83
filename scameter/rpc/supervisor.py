"""The parent of a multi-worker server: fork the workers, forward signals, restart the fallen.

Responsibility: :func:`supervise` runs ``--workers N`` copies of a worker function in forked
processes that share one port, and returns the server's exit code. What a worker does is
injected (``run_worker``), so this module knows processes and signals, not gRPC.

Invariants:
* The parent forks every worker before any gRPC object exists (gRPC's core is not fork-safe
  once started); it never creates one itself. Each worker opens LMDB, the intake log and its
  server after the fork. Workers bind the same ``host:port`` with ``SO_REUSEPORT``.
* With ``:0`` the parent first reserves a free port by binding (not listening) a
  ``SO_REUSEPORT`` socket, so every worker lands on the same port; it holds it until the end.
* SIGTERM / SIGINT: the parent forwards SIGTERM to every worker, waits for all, and returns 0
  when all exited 0. SIGHUP is forwarded as it is (workers re-read the API key file).
* A worker that dies is restarted after :data:`RESTART_DELAY` seconds; one restarted more than
  :data:`MAX_RESTARTS` times within :data:`CRASH_WINDOW` seconds stops the whole server with
  exit code 1, so systemd or Kubernetes sees the failure instead of a silent loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import NoReturn

from scameter.rpc.config import ServerConfig, split_listen, with_listen
from scameter.rpc.logs import configure_logging

log = logging.getLogger("scameter.rpc")

#: A worker restarted more than MAX_RESTARTS times within CRASH_WINDOW seconds stops the server.
MAX_RESTARTS = 5
CRASH_WINDOW = 60.0
#: Seconds before a dead worker is restarted: a crash-loop brake, not synchronisation.
RESTART_DELAY = 1.0

#: ``run_worker(config, index)``: serve in this process until signalled; the exit code.
WorkerMain = Callable[[ServerConfig, int], int]


def supervise(config: ServerConfig, run_worker: WorkerMain) -> int:
    """Run ``config.workers`` forked workers until they stop; the server's exit code."""
    reserved: list[socket.socket] = []
    config = with_listen(config, _fixed(config.listen, reserved))
    if config.http is not None:
        config = dataclasses.replace(config, http=_fixed(config.http, reserved))
    try:
        return _Supervisor(config, run_worker).run()
    finally:
        for sock in reserved:
            sock.close()


def _fixed(listen: str, reserved: list[socket.socket]) -> str:
    """``listen`` with port 0 replaced by a reserved free port (appended to ``reserved``)."""
    host, port = split_listen(listen)
    if port != 0:
        return listen
    sock = _reserve_port(host)
    reserved.append(sock)
    port = sock.getsockname()[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reserve_port(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, 0))
    return s


class _Supervisor:
    """The worker table of the parent: who runs, who is stopping, who crashed when."""

    def __init__(self, config: ServerConfig, run_worker: WorkerMain) -> None:
        self.config = config
        self.run_worker = run_worker
        self.stopping = threading.Event()
        self.children: dict[int, int] = {}  # pid -> worker index
        self.restarts: dict[int, list[float]] = {}  # worker index -> recent restart times
        self.failed = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGHUP, self.forward)
        for i in range(self.config.workers):
            self.spawn(i)
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
                continue
            index = self.children.pop(pid, None)
            if index is not None:
                self._exited(index, os.waitstatus_to_exitcode(status))
        return 1 if self.failed else 0

    def spawn(self, index: int) -> None:
        # SIGTERM/SIGINT wait until the child is in the table: a stop() between the fork and
        # the bookkeeping would miss it, and the server would never finish stopping.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        try:
            pid = os.fork()
            if pid == 0:  # child: no gRPC object exists yet in this process
                self._child(index, blocked)
            self.children[pid] = index
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _child(self, index: int, mask: set[int | signal.Signals]) -> NoReturn:
        # Drop the parent's handlers (they would signal our siblings), then take signals again
        # (``mask``: the parent's mask before spawn blocked them); the worker installs its own.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the worker installs its reload
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        code = 1
        try:
            configure_logging(index)
            code = self.run_worker(self.config, index)
        except BaseException as e:
            log.error("worker failed", extra={"error_type": type(e).__name__, "error": str(e)})
        finally:
            logging.shutdown()
            os._exit(code)

    def forward(self, signum: int, _frame: object = None) -> None:
        """Pass ``signum`` (SIGHUP: re-read the API key file) to every worker."""
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def stop(self, signum: int = signal.SIGTERM, _frame: object = None) -> None:
        """Stop the server: no more restarts, SIGTERM to every worker (a signal handler)."""
        self.stopping.set()
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _exited(self, index: int, code: int) -> None:
        if self.stopping.is_set():
            self.failed |= code != 0
            return
        now = time.monotonic()
        recent = [t for t in self.restarts.get(index, []) if now - t < CRASH_WINDOW] + [now]
        self.restarts[index] = recent
        if len(recent) > MAX_RESTARTS:
            log.error(
                "worker keeps crashing; stopping the server",
                extra={"worker_index": index, "code": code, "restarts": len(recent)},
            )
            self.failed = True
            self.stop()
            return
        log.error("worker exited; restarting", extra={"worker_index": index, "code": code})
        time.sleep(RESTART_DELAY)
        if not self.stopping.is_set():
            self.spawn(index)


__all__ = ["CRASH_WINDOW", "MAX_RESTARTS", "RESTART_DELAY", "WorkerMain", "supervise"]
