"""``scameter serve`` configuration: the flags as one table, their parsing, the validated config.

Responsibility: :data:`SERVE_ARGS` declares every flag of ``scameter serve`` and
``python -m scameter.rpc`` (documented, row for row, in docs/operations.md, "Flags"; a test
compares the two); :func:`config_from_args` turns parsed flags and the environment into one
:class:`ServerConfig`, which validates itself on construction.

Invariants:
* Plain values only: no gRPC object, no open file (the reporter secret file is read once, in
  :func:`config_from_args`). A supervising parent builds its configuration here and forks
  the workers with nothing of gRPC's or LMDB's alive.
* A flag whose destination names a :class:`ServerConfig` field fills that field as parsed;
  the field list is written once, in the dataclass.
* The reporter token secret comes from ``--reporter-secret-file`` or, failing that,
  ``SCAMETER_REPORTER_SECRET`` in the environment the caller passes (never read at import).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from scameter.errors import ConfigError
from scameter.intake import live_dir_for
from scameter.rpc.tokens import reporter_secret
from scameter.settings import Arg, ArgTable, OneOf, add_arguments, iter_args

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024  # a 10,000-item batch response is ~1-2 MiB


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything ``scameter serve`` needs; validated on construction."""

    snapshots_root: Path
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
    http: str | None = None
    page_rate: float = 20.0
    trust_key: Path | None = None
    report_daily_cap: int = 20
    report_burst: int = 10
    report_burst_window: float = 3600.0  # seconds
    report_group_max: int = 256  # intake.GROUP_MAX
    cache_seconds: int = 300
    no_record_cache_seconds: int = 60
    no_live: bool = False
    live_dir: Path | None = None
    live_interval: float = 0.5
    fold_priority: str = "idle"
    live_split_max_reports: int = 10_000  # ingest.livesplits.SPLIT_MAX_REPORTS

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
        if self.http is not None:
            split_listen(self.http, "--http")
        if self.page_rate <= 0:
            raise ConfigError("--page-rate must be positive")
        self._check_report_policy()
        if self.cache_seconds < 0 or self.no_record_cache_seconds < 0:
            raise ConfigError("--cache-seconds and --no-record-cache-seconds must be >= 0")
        self._check_live()

    @property
    def delta_dir(self) -> Path | None:
        """The live delta the workers layer over the snapshot (None: no live updates)."""
        if self.intake_log is None or self.no_live:
            return None
        return (self.live_dir or live_dir_for(self.intake_log)) / "delta"

    def _check_live(self) -> None:
        if self.live_interval <= 0:
            raise ConfigError("--live-interval must be > 0")
        if self.live_split_max_reports < 0:
            raise ConfigError("--live-split-max-reports must be >= 0")

    def _check_report_policy(self) -> None:
        if self.report_daily_cap < 0 or self.report_burst < 0 or self.report_burst_window <= 0:
            raise ConfigError(
                "--report-daily-cap/--report-burst must be >= 0, --report-burst-window > 0"
            )
        if self.report_group_max < 1:
            raise ConfigError("--report-group-max must be at least 1")

    def hash_key(self) -> bytes | None:
        """Key for reporter hashes: configured, else derived from the token secret."""
        if self.reporter_hash_key is not None:
            return self.reporter_hash_key
        if self.reporter_token_secret is None:
            return None
        return hmac.new(
            self.reporter_token_secret, b"scameter reporter hash", hashlib.sha256
        ).digest()


def split_listen(listen: str, flag: str = "--listen") -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{flag} {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:50051")
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


#: The flags of ``scameter serve`` / ``python -m scameter.rpc`` (docs/operations.md, "Flags").
#: ``--snapshots`` keeps the metavar its destination had before it was named ``snapshots_root``,
#: so ``--help`` reads as it always did.
SERVE_ARGS: ArgTable = (
    Arg(("--snapshots",), dest="snapshots_root", metavar="SNAPSHOTS", type=Path, required=True,
        help="directory holding CURRENT and snapshots"),
    Arg(("--listen",), default=DEFAULT_LISTEN, help="HOST:PORT to listen on (default %(default)s)"),
    Arg(("--workers",), type=int, default=1, help="worker processes sharing the port"),
    Arg(("--threads",), type=int, default=16, help="handler threads per worker"),
    Arg(("--metrics-port",), type=int,
        help="Prometheus port of worker 0 (worker i: port + i)"),
    Arg(("--metrics-host",), default="127.0.0.1", help="address the metrics endpoints bind"),
    OneOf(
        (
            Arg(("--auth-keys",), type=Path, help="TOML file of hashed API keys with roles"),
            Arg(("--no-auth",), action="store_true", help="accept every call (local use)"),
        ),
        required=True,
    ),
    Arg(("--tls-cert",), type=Path, help="PEM server certificate chain"),
    Arg(("--tls-key",), type=Path, help="PEM server private key"),
    Arg(("--tls-client-ca",), type=Path,
        help="PEM CA bundle: require client certificates (mTLS)"),
    Arg(("--max-concurrent-rpcs",), type=int, default=256,
        help="per worker; beyond: RESOURCE_EXHAUSTED"),
    Arg(("--max-batch",), type=int, default=10_000, help="CheckBatch cap (identifiers per call)"),
    Arg(("--max-message-bytes",), type=int, default=DEFAULT_MAX_MESSAGE,
        help="gRPC message limit"),
    Arg(("--intake-log",), type=Path, help="LMDB intake log directory for Report"),
    Arg(("--reporter-secret-file",), type=Path,
        help="file holding the reporter token HS256 secret (>= 32 bytes, whitespace stripped)"),
    Arg(("--max-snapshot-age",), type=parse_duration, help="NOT_SERVING beyond this (e.g. 36h)"),
    Arg(("--poll-interval",), type=float, default=1.0, help="seconds between CURRENT checks"),
    Arg(("--grace",), type=float, default=10.0, help="seconds in-flight calls get on shutdown"),
    Arg(("--http",), metavar="HOST:PORT",
        help="also serve the HTTP/JSON API, /openapi.json and the search page here"),
    Arg(("--page-rate",), type=float, default=20.0,
        help="searches per second the public search page answers (per worker)"),
    Arg(("--trust-key",), type=Path, metavar="FILE",
        help="Ed25519 public key (PEM): serve only snapshots whose manifest it signed"),
    Arg(("--report-daily-cap",), type=int, default=20,
        help="Report: stored reports per reporter per UTC day; beyond: RESOURCE_EXHAUSTED "
        "(0: no cap)"),
    Arg(("--report-burst",), type=int, default=10,
        help="Report: this many reports from new reporters on one identifier within the "
        "burst window start a hold for review (0: off)"),
    Arg(("--report-burst-window",), type=float, default=3600.0, metavar="S",
        help="Report: the burst window in seconds (default 3600)"),
    Arg(("--report-group-max",), type=int, default=256, metavar="N",
        help="Report/Appeal: concurrent calls share one fsynced intake commit, at most N "
        "(1: one fsync per report; default 256)"),
    Arg(("--cache-seconds",), type=int, default=300,
        help="cache_duration of listed and verified verdicts (default %(default)s)"),
    Arg(("--no-record-cache-seconds",), type=int, default=60,
        help="cache_duration of NO RECORD and invalid verdicts (default %(default)s)"),
    Arg(("--no-live",), action="store_true",
        help="with --intake-log: do not fold reports into lookups until the next ingest"),
    Arg(("--live-dir",), type=Path, metavar="DIR",
        help="where the live delta and its rejects are kept (default: <intake log>.live)"),
    Arg(("--live-interval",), type=float, default=0.5, metavar="S",
        help="seconds between folds of the intake log into the live delta (default 0.5)"),
    Arg(("--fold-priority",), choices=("idle", "low"), default="idle",
        help="the live fold's CPU priority: idle (only spare CPU, lookups never wait for "
             "it; it lags while the cores are saturated) or low (nice 10: a small share "
             "even then) (default %(default)s)"),
    Arg(("--live-split-max-reports",), type=int, default=10_000, metavar="N",
        help="the live fold re-checks the links of a cluster a member leaves when its "
             "members hold at most N reports together (a larger one splits at the next "
             "ingest; 0: none live) (default %(default)s)"),
)  # fmt: skip

#: Flags that fill a ServerConfig field of the same name as they were parsed.
_FIELD_FLAGS = tuple(
    a.name for a in iter_args(SERVE_ARGS) if a.name in ServerConfig.__dataclass_fields__
)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``scameter serve`` flags (:data:`SERVE_ARGS`) on ``parser``."""
    add_arguments(parser, SERVE_ARGS)


def config_from_args(ns: argparse.Namespace, env: Mapping[str, str] | None = None) -> ServerConfig:
    """A :class:`ServerConfig` from parsed flags. The reporter secret comes from
    ``--reporter-secret-file`` or, failing that, ``SCAMETER_REPORTER_SECRET`` in ``env``."""
    secret: bytes | None = None
    if ns.reporter_secret_file is not None:
        secret = reporter_secret(ns.reporter_secret_file)
    elif env is not None and env.get("SCAMETER_REPORTER_SECRET"):
        secret = reporter_secret(env["SCAMETER_REPORTER_SECRET"])
    flags = {name: getattr(ns, name) for name in _FIELD_FLAGS}
    return ServerConfig(**flags, reporter_token_secret=secret)


def with_listen(config: ServerConfig, listen: str) -> ServerConfig:
    """``config`` serving on ``listen`` instead (validated again)."""
    return dataclasses.replace(config, listen=listen)


__all__ = [
    "DEFAULT_LISTEN",
    "DEFAULT_MAX_MESSAGE",
    "SERVE_ARGS",
    "ServerConfig",
    "add_serve_arguments",
    "config_from_args",
    "parse_duration",
    "split_listen",
    "with_listen",
]
