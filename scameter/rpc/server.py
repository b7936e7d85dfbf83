"""``scameter serve``: configuration, flags, worker processes, signals and logs.

Responsibility: turn a :class:`ServerConfig` into running worker processes that share one
port, and shut them down cleanly. The CLI only wires :func:`add_serve_arguments`,
:func:`config_from_args` and :func:`serve` (rpc never imports cli).

Invariants:
* The parent forks every worker before any gRPC object exists (gRPC's core is not fork-safe
  once started) and each worker opens LMDB, the intake log and its server after the fork.
  Workers bind the same ``host:port`` with ``SO_REUSEPORT``; the kernel spreads *connections*
  (not calls) across them, so clients spread load by opening several channels.
* With ``:0`` and several workers the parent first reserves a free port by binding (not
  listening) a SO_REUSEPORT socket, so every worker lands on the same port.
* SIGTERM / SIGINT: every worker stops accepting, finishes in-flight calls (up to ``grace``
  seconds) and exits 0; the parent forwards the signal, waits, and returns 0 when all did.
* Logs are JSON lines on stderr; they carry no queried identifier, token or API key. The first
  line a worker prints once it accepts calls is ``{"event": "serving", "port": ...}``.
* Auth is off only with the explicit ``no_auth`` (logged as a warning).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from scameter.errors import ConfigError, ScameterError

log = logging.getLogger("scameter.rpc")

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024  # a 10,000-item batch response is ~1-2 MiB
#: A worker restarted more than MAX_RESTARTS times within CRASH_WINDOW seconds stops the server.
MAX_RESTARTS = 5
CRASH_WINDOW = 60.0


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything ``scameter serve`` needs; validated on construction."""

    snapshots: Path
    listen: str = DEFAULT_LISTEN
    workers: int = 1
    threads: int = 16
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    auth_keys: Path | None = None
    no_auth: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    max_concurrent_rpcs: int = 256
    max_batch: int = 10_000
    max_message_bytes: int = DEFAULT_MAX_MESSAGE
    related_limit: int = 100
    intake_log: Path | None = None
    reporter_token_secret: bytes | None = None
    reporter_hash_key: bytes | None = None
    max_snapshot_age: timedelta | None = None
    poll_interval: float = 1.0
    grace: float = 10.0

    def __post_init__(self) -> None:
        if self.no_auth == (self.auth_keys is not None):
            raise ConfigError("give exactly one of --auth-keys FILE or --no-auth")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("--tls-cert and --tls-key go together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ConfigError("--tls-client-ca (mTLS) needs --tls-cert and --tls-key")
        if self.workers < 1 or self.threads < 1:
            raise ConfigError("--workers and --threads must be at least 1")
        if self.max_batch < 1 or self.max_concurrent_rpcs < 1 or self.max_message_bytes < 1024:
            raise ConfigError("--max-batch/--max-concurrent-rpcs/--max-message-bytes too small")
        if self.poll_interval <= 0 or self.grace < 0:
            raise ConfigError("--poll-interval must be > 0 and --grace >= 0")
        if self.metrics_port is not None and not 0 <= self.metrics_port < 65536:
            raise ConfigError("--metrics-port must be a TCP port")
        if (self.intake_log is None) != (self.reporter_token_secret is None):
            raise ConfigError("Report needs both --intake-log and a reporter token secret")
        split_listen(self.listen)

    def hash_key(self) -> bytes | None:
        """Key for reporter hashes: configured, else derived from the token secret."""
        if self.reporter_hash_key is not None:
            return self.reporter_hash_key
        if self.reporter_token_secret is None:
            return None
        return hmac.new(
            self.reporter_token_secret, b"scameter reporter hash", hashlib.sha256
        ).digest()


def split_listen(listen: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:50051")
    return host.strip("[]"), int(port)


def parse_duration(text: str) -> timedelta:
    """``90`` (seconds), ``45m``, ``36h`` or ``2d``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    unit = text[-1:] if text[-1:] in units else "s"
    number = text[:-1] if text[-1:] in units else text
    try:
        value = float(number)
    except ValueError as e:
        raise ConfigError(f"{text!r} is not a duration like 90, 45m, 36h or 2d") from e
    if value <= 0:
        raise ConfigError(f"duration {text!r} must be positive")
    return timedelta(seconds=value * units[unit])


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``scameter serve`` flags (documented in docs/operations.md)."""
    a = parser.add_argument
    a("--snapshots", type=Path, required=True, help="directory holding CURRENT and snapshots")
    a("--listen", default=DEFAULT_LISTEN, help="HOST:PORT to listen on (default %(default)s)")
    a("--workers", type=int, default=1, help="worker processes sharing the port")
    a("--threads", type=int, default=16, help="handler threads per worker")
    a("--metrics-port", type=int, help="Prometheus port of worker 0 (worker i: port + i)")
    a("--metrics-host", default="127.0.0.1", help="address the metrics endpoints bind")
    auth = parser.add_mutually_exclusive_group(required=True)
    auth.add_argument("--auth-keys", type=Path, help="TOML file of hashed API keys with roles")
    auth.add_argument("--no-auth", action="store_true", help="accept every call (local use)")
    a("--tls-cert", type=Path, help="PEM server certificate chain")
    a("--tls-key", type=Path, help="PEM server private key")
    a("--tls-client-ca", type=Path, help="PEM CA bundle: require client certificates (mTLS)")
    a("--max-concurrent-rpcs", type=int, default=256, help="per worker; beyond: RESOURCE_EXHAUSTED")
    a("--max-batch", type=int, default=10_000, help="CheckBatch cap (identifiers per call)")
    a("--max-message-bytes", type=int, default=DEFAULT_MAX_MESSAGE, help="gRPC message limit")
    a("--intake-log", type=Path, help="LMDB intake log directory for Report")
    a("--reporter-secret-file", type=Path, help="file holding the reporter token HMAC secret")
    a("--max-snapshot-age", type=parse_duration, help="NOT_SERVING beyond this (e.g. 36h)")
    a("--poll-interval", type=float, default=1.0, help="seconds between CURRENT checks")
    a("--grace", type=float, default=10.0, help="seconds in-flight calls get on shutdown")


def config_from_args(ns: argparse.Namespace, env: Mapping[str, str] | None = None) -> ServerConfig:
    """A :class:`ServerConfig` from parsed flags. The reporter secret comes from
    ``--reporter-secret-file`` or, failing that, ``SCAMETER_REPORTER_SECRET`` in ``env``."""
    secret: bytes | None = None
    if ns.reporter_secret_file is not None:
        try:
            secret = ns.reporter_secret_file.read_bytes().strip()
        except OSError as e:
            raise ConfigError(f"{ns.reporter_secret_file}: cannot read: {e.strerror}") from e
    elif env is not None and env.get("SCAMETER_REPORTER_SECRET"):
        secret = env["SCAMETER_REPORTER_SECRET"].encode("utf-8")
    if secret is not None and len(secret) < 16:
        raise ConfigError("the reporter token secret must be at least 16 bytes")
    return ServerConfig(
        snapshots=ns.snapshots,
        listen=ns.listen,
        workers=ns.workers,
        threads=ns.threads,
        metrics_port=ns.metrics_port,
        metrics_host=ns.metrics_host,
        auth_keys=ns.auth_keys,
        no_auth=bool(ns.no_auth),
        tls_cert=ns.tls_cert,
        tls_key=ns.tls_key,
        tls_client_ca=ns.tls_client_ca,
        max_concurrent_rpcs=ns.max_concurrent_rpcs,
        max_batch=ns.max_batch,
        max_message_bytes=ns.max_message_bytes,
        intake_log=ns.intake_log,
        reporter_token_secret=secret,
        max_snapshot_age=ns.max_snapshot_age,
        poll_interval=ns.poll_interval,
        grace=ns.grace,
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, worker, message and the record's extras."""

    _STD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def __init__(self, worker: int) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "worker": self.worker,
            "pid": os.getpid(),
            "msg": record.getMessage(),
        }
        for k, v in record.__dict__.items():
            if k not in self._STD:
                out[k] = v
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(worker: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(worker))
    root = logging.getLogger("scameter")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def _reserve_port(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, 0))
    return s


def run_worker(config: ServerConfig, index: int) -> int:
    """Run one worker in this process until SIGTERM/SIGINT; returns its exit code."""
    from scameter.index import SnapshotManager
    from scameter.intake import IntakeLog, hash_reporter
    from scameter.rpc.auth import Authorizer, KeyStore, NoAuth
    from scameter.rpc.worker import start_worker

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
        authorizer = KeyStore.load(config.auth_keys)
    manager = SnapshotManager(config.snapshots, poll_interval=config.poll_interval)
    manager.start()
    intake = None if config.intake_log is None else IntakeLog(config.intake_log)
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
        extra={"event": "serving", "port": running.port, "metrics_port": running.metrics_port},
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
        if config.workers == 1:
            return run_worker(config, 0)
        return _supervise(config)
    except ScameterError as e:
        log.error("cannot serve", extra={"error": str(e)})
        return 2


def _supervise(config: ServerConfig) -> int:
    host, port = split_listen(config.listen)
    reserved = None
    if port == 0:
        reserved = _reserve_port(host)
        port = reserved.getsockname()[1]
        config = _with_listen(config, f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    stopping = threading.Event()
    children: dict[int, int] = {}  # pid -> worker index

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # child: no gRPC object exists yet in this process
            # Drop the parent's handlers (they would signal our siblings); run_worker installs
            # the worker's own at once.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 1
            try:
                configure_logging(index)
                code = run_worker(config, index)
            except BaseException as e:
                log.error("worker failed", extra={"error_type": type(e).__name__, "error": str(e)})
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = index

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for i in range(config.workers):
        spawn(i)
    failed = False
    restarts: dict[int, list[float]] = {}
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
            continue
        index = children.pop(pid, None)
        if index is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        if stopping.is_set():
            failed |= code != 0
            continue
        now = time.monotonic()
        recent = [t for t in restarts.get(index, []) if now - t < CRASH_WINDOW] + [now]
        restarts[index] = recent
        if len(recent) > MAX_RESTARTS:
            log.error(
                "worker keeps crashing; stopping the server",
                extra={"worker_index": index, "code": code, "restarts": len(recent)},
            )
            failed = True
            on_signal(signal.SIGTERM, None)
            continue
        log.error("worker exited; restarting", extra={"worker_index": index, "code": code})
        time.sleep(1.0)  # crash-loop brake, not synchronisation
        if not stopping.is_set():
            spawn(index)
    if reserved is not None:
        reserved.close()
    return 1 if failed else 0


def _with_listen(config: ServerConfig, listen: str) -> ServerConfig:
    from dataclasses import replace

    return replace(config, listen=listen)


def main(argv: list[str] | None = None) -> int:
    """``python -m scameter.rpc``: the same flags as ``scameter serve``."""
    parser = argparse.ArgumentParser(prog="python -m scameter.rpc")
    add_serve_arguments(parser)
    try:
        config = config_from_args(parser.parse_args(argv), os.environ)
    except ConfigError as e:
        parser.error(str(e))
    return serve(config)


__all__ = [
    "ServerConfig",
    "add_serve_arguments",
    "config_from_args",
    "configure_logging",
    "main",
    "parse_duration",
    "run_worker",
    "serve",
    "split_listen",
]
