"""Runtime settings of the ``scameter`` command: one frozen value built at the entry point.

Responsibility: turn command-line flags and ``SCAMETER_*`` environment variables into one
:class:`Settings`, validated, that the CLI passes down to whatever it calls; and the small
declarative vocabulary (:class:`Arg`, :class:`OneOf`, :class:`Section`) in which every command
(``scameter ...`` and ``python -m scameter.rpc``) declares its flags as one table, so that the
parsers are built from the same data the documentation is checked against.

Invariants:
* Nothing here reads the environment at import time. :func:`load_settings` takes the
  environment as an argument (the CLI passes ``os.environ``), so tests pass a plain dict.
* Precedence for every setting: an explicit flag, then its ``SCAMETER_*`` variable, then the
  default. ``NO_COLOR`` (https://no-color.org) is honoured as well as ``SCAMETER_COLOR``.
* Every setting is listed in :data:`SETTINGS` and documented in ``docs/settings.md``; a test
  fails when one is missing from the table.
* A bad value raises :class:`~scameter.errors.ConfigError` naming the variable or flag.
* The snapshots directory is ``snapshots_root`` inside the package (the :class:`Settings`
  attribute and the argparse destination); users see it as the ``snapshots`` setting, the
  ``--snapshots`` flag and ``SCAMETER_SNAPSHOTS``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from scameter.errors import ConfigError


class Mode(StrEnum):
    """A tri-state switch for terminal decorations (colour, progress bar)."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class SettingDoc:
    """One documented setting: its name, flag, variable, default and meaning.

    ``attribute`` is the :class:`Settings` field (and the argparse destination of ``flag``)
    when the package's internal name differs from the documented one.
    """

    name: str
    flag: str | None
    env: str | None
    default: str
    doc: str
    attribute: str = ""

    @property
    def field_name(self) -> str:
        """The :class:`Settings` attribute this setting fills."""
        return self.attribute or self.name


#: The documented settings. ``docs/settings.md`` holds the same table for readers.
SETTINGS: tuple[SettingDoc, ...] = (
    SettingDoc(
        "data_dir",
        None,
        "SCAMETER_DATA_DIR",
        "per-user data dir (platformdirs)",
        "Where scameter keeps its own files: default snapshots, the demo's data.",
    ),
    SettingDoc(
        "snapshots",
        "--snapshots",
        "SCAMETER_SNAPSHOTS",
        "<data_dir>/snapshots",
        "Directory holding CURRENT and the snapshot directories.",
        attribute="snapshots_root",
    ),
    SettingDoc(
        "remote",
        "--remote",
        "SCAMETER_REMOTE",
        "unset (local lookups)",
        "HOST:PORT of a scameter gRPC server; when set, check/bulk/related ask it.",
    ),
    SettingDoc(
        "api_key",
        "--api-key",
        "SCAMETER_API_KEY",
        "unset",
        "API key sent to the server with --remote.",
    ),
    SettingDoc(
        "tls_ca",
        "--tls-ca",
        "SCAMETER_TLS_CA",
        "unset (plaintext)",
        "PEM CA bundle: reach --remote over TLS, verifying the server against it.",
    ),
    SettingDoc(
        "tls_cert",
        "--tls-cert",
        "SCAMETER_TLS_CERT",
        "unset",
        "PEM client certificate for a --remote server that requires mTLS (with --tls-key).",
    ),
    SettingDoc(
        "tls_key",
        "--tls-key",
        "SCAMETER_TLS_KEY",
        "unset",
        "PEM private key of --tls-cert.",
    ),
    SettingDoc(
        "reporter_key",
        None,
        "SCAMETER_REPORTER_KEY",
        "a fixed development key",
        "Secret key of the reporter-id hashes ingest stores (set it in production).",
    ),
    SettingDoc(
        "debug",
        "--debug",
        "SCAMETER_DEBUG",
        "off",
        "Show a full traceback on errors instead of one line.",
    ),
    SettingDoc(
        "color",
        "--color",
        "SCAMETER_COLOR (and NO_COLOR)",
        "auto",
        "auto: ANSI colours only on a terminal; NO_COLOR set turns auto off.",
    ),
    SettingDoc(
        "progress",
        "--progress",
        "SCAMETER_PROGRESS",
        "auto",
        "auto: progress bar on stderr only when stderr is a terminal.",
    ),
    SettingDoc(
        "chunk_size",
        "--chunk-size",
        "SCAMETER_CHUNK_SIZE",
        "10000",
        "Rows per batch in bulk; bounds memory and sizes remote batches.",
    ),
    SettingDoc(
        "workers",
        "--workers",
        "SCAMETER_WORKERS",
        "0 (one per core, at most 4)",
        "Worker processes for bulk against a local snapshot; 1 runs in-process.",
    ),
    SettingDoc(
        "snapshot_group",
        "--group",
        "SCAMETER_SNAPSHOT_GROUP",
        "the creating user's primary group",
        "Group that ingest makes own each snapshot directory, its files and CURRENT.",
    ),
    SettingDoc(
        "ingest_engine",
        "--engine",
        "SCAMETER_INGEST_ENGINE",
        "memory",
        "Where ingest aggregates: memory (Python), duckdb (spills to disk), spark, auto.",
    ),
    SettingDoc(
        "memory_limit",
        "--memory-limit",
        "SCAMETER_MEMORY_LIMIT",
        "a quarter of the machine's memory",
        "Memory limit of ingest --engine duckdb/auto (e.g. 1.5GB); beyond it DuckDB spills.",
    ),
    SettingDoc(
        "shards",
        "--shards",
        "SCAMETER_SHARDS",
        "1",
        "Key-range shard files ingest splits the records table over (1: one file; at most 256).",
    ),
    SettingDoc(
        "skip_space_check",
        "--skip-space-check",
        "SCAMETER_SKIP_SPACE_CHECK",
        "off",
        "Ingest builds without first comparing its disk estimate with the free space.",
    ),
)

#: Settings attribute -> the flag named in error messages (``--data-dir`` has no flag of its
#: own but may be passed by a caller, so every attribute has one).
_FLAGS = {s.field_name: s.flag or f"--{s.name.replace('_', '-')}" for s in SETTINGS}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings. ``snapshots_origin`` says where ``snapshots_root`` came from
    (``flag``, ``env`` or ``default``) so error messages can tell the user what to change."""

    data_dir: Path
    snapshots_root: Path
    snapshots_origin: str = "default"
    remote: str | None = None
    api_key: str | None = field(default=None, repr=False)
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    reporter_key: bytes | None = field(default=None, repr=False)
    debug: bool = False
    color: Mode = Mode.AUTO
    no_color_env: bool = False
    progress: Mode = Mode.AUTO
    chunk_size: int = 10_000
    workers: int = 0
    snapshot_group: str | None = None
    ingest_engine: str = "memory"
    #: Bytes (None: the engine's default, a quarter of the machine).
    memory_limit: int | None = None
    #: ``records`` shard files of a snapshot ingest builds (1: the single-file layout).
    shards: int = 1
    skip_space_check: bool = False

    def use_color(self, is_tty: bool) -> bool:
        """Whether to write ANSI colours to a stream whose ``isatty()`` is ``is_tty``."""
        if self.color is Mode.ALWAYS:
            return True
        if self.color is Mode.NEVER or self.no_color_env:
            return False
        return is_tty

    def show_progress(self, is_tty: bool) -> bool:
        """Whether to draw a progress bar on a stream whose ``isatty()`` is ``is_tty``."""
        if self.progress is Mode.AUTO:
            return is_tty
        return self.progress is Mode.ALWAYS


def default_data_dir() -> Path:
    """The per-user data directory (e.g. ``~/.local/share/scameter`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("scameter", appauthor=False))


def _bool(value: str, origin: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"{origin}={value!r} is not a boolean; use 1/0, true/false, yes/no")


def _mode(value: str, origin: str) -> Mode:
    try:
        return Mode(value.strip().lower())
    except ValueError:
        raise ConfigError(f"{origin}={value!r}: use one of auto, always, never") from None


def _int(value: str, origin: str, minimum: int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(f"{origin}={value!r} is not an integer") from None
    if n < minimum:
        raise ConfigError(f"{origin}={value!r} must be at least {minimum}")
    return n


def load_settings(flags: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    """Build :class:`Settings` from parsed flags (``None`` = not given) and an environment.

    ``flags`` keys are :class:`Settings` attributes (the argparse destinations, e.g.
    ``snapshots_root`` for ``--snapshots``); missing keys count as not given.
    """

    def pick(name: str, var: str) -> tuple[Any, str] | None:
        value = flags.get(name)
        if value is not None and value is not False:
            return value, _FLAGS[name]
        if env.get(var):
            return env[var], var
        return None

    got = pick("data_dir", "SCAMETER_DATA_DIR")
    data_dir = Path(got[0]).expanduser() if got else default_data_dir()

    got = pick("snapshots_root", "SCAMETER_SNAPSHOTS")
    if got is None:
        snapshots_root, origin = data_dir / "snapshots", "default"
    else:
        snapshots_root = Path(got[0]).expanduser()
        origin = "flag" if got[1].startswith("--") else "env"

    got = pick("remote", "SCAMETER_REMOTE")
    remote = str(got[0]) if got else None
    got = pick("api_key", "SCAMETER_API_KEY")
    api_key = str(got[0]) if got else None
    tls = {}
    for name in ("tls_ca", "tls_cert", "tls_key"):
        got = pick(name, f"SCAMETER_{name.upper()}")
        tls[name] = Path(str(got[0])).expanduser() if got else None
    if (tls["tls_cert"] is None) != (tls["tls_key"] is None):
        raise ConfigError("--tls-cert and --tls-key go together")

    # A secret: from the environment only (a flag would show in `ps`), never repr'd.
    reporter_key = (
        env["SCAMETER_REPORTER_KEY"].encode() if env.get("SCAMETER_REPORTER_KEY") else None
    )
    if reporter_key is not None and len(reporter_key) < 16:
        raise ConfigError("SCAMETER_REPORTER_KEY must be at least 16 bytes")

    debug = bool(flags.get("debug")) or _bool(env.get("SCAMETER_DEBUG", ""), "SCAMETER_DEBUG")

    got = pick("color", "SCAMETER_COLOR")
    color = _mode(str(got[0]), got[1]) if got else Mode.AUTO
    got = pick("progress", "SCAMETER_PROGRESS")
    progress = _mode(str(got[0]), got[1]) if got else Mode.AUTO

    got = pick("chunk_size", "SCAMETER_CHUNK_SIZE")
    chunk_size = _int(str(got[0]), got[1], 1) if got else 10_000
    got = pick("workers", "SCAMETER_WORKERS")
    workers = _int(str(got[0]), got[1], 0) if got else 0
    got = pick("snapshot_group", "SCAMETER_SNAPSHOT_GROUP")
    snapshot_group = str(got[0]).strip() if got else None
    engine, memory_limit = _ingest_engine(pick)
    shards = _shards(pick)
    skip_space_check = bool(flags.get("skip_space_check")) or _bool(
        env.get("SCAMETER_SKIP_SPACE_CHECK", ""), "SCAMETER_SKIP_SPACE_CHECK"
    )

    return Settings(
        data_dir=data_dir,
        snapshots_root=snapshots_root,
        snapshots_origin=origin,
        remote=remote,
        api_key=api_key,
        tls_ca=tls["tls_ca"],
        tls_cert=tls["tls_cert"],
        tls_key=tls["tls_key"],
        reporter_key=reporter_key,
        debug=debug,
        color=color,
        # https://no-color.org: "when present and not an empty string".
        no_color_env=bool(env.get("NO_COLOR")),
        progress=progress,
        chunk_size=chunk_size,
        workers=workers,
        snapshot_group=snapshot_group or None,
        ingest_engine=engine,
        memory_limit=memory_limit,
        shards=shards,
        skip_space_check=skip_space_check,
    )


#: Most ``records`` shards of one snapshot (= scameter.index.format.MAX_SHARDS).
MAX_SHARDS = 256
#: The engines of ``ingest --engine`` (scameter.ingest.folds; settings sit below ingest).
INGEST_ENGINES = ("memory", "duckdb", "spark", "auto")
_SIZE_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
               "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}  # fmt: skip


def parse_size(text: str) -> int:
    """``1.5GB``, ``800MiB``, ``2000000000`` as bytes; ValueError for anything else."""
    s = text.strip().upper().replace(" ", "")
    num = s.rstrip("KMGTIB")
    unit = s[len(num) :]
    try:
        value = float(num) if unit in _SIZE_UNITS else -1.0
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"{text!r} is not a size such as 1.5GB or 800MiB")
    return int(value * _SIZE_UNITS[unit])


def _shards(pick: Any) -> int:
    """``shards`` from ``--shards`` or ``SCAMETER_SHARDS``: 1 to :data:`MAX_SHARDS`."""
    got = pick("shards", "SCAMETER_SHARDS")
    if not got:
        return 1
    shards = _int(str(got[0]), got[1], 1)
    if shards > MAX_SHARDS:
        raise ConfigError(f"{got[1]}={shards} must be at most {MAX_SHARDS}")
    return shards


def _ingest_engine(pick: Any) -> tuple[str, int | None]:
    """``ingest_engine`` and ``memory_limit`` (bytes) from flags or the environment."""
    got = pick("ingest_engine", "SCAMETER_INGEST_ENGINE")
    engine = str(got[0]).strip().lower() if got else "memory"
    if engine not in INGEST_ENGINES:
        origin = got[1] if got else "--engine"
        raise ConfigError(f"{origin}: {engine!r} is not one of {', '.join(INGEST_ENGINES)}")
    got = pick("memory_limit", "SCAMETER_MEMORY_LIMIT")
    if not got:
        return engine, None
    try:
        return engine, parse_size(str(got[0]))
    except ValueError as exc:
        raise ConfigError(f"{got[1]}: {exc}") from None


# --- flags as data ---------------------------------------------------------------------------
#
# Every command declares its flags as one table of these values; ``add_arguments`` turns the
# table into ``argparse`` calls, and the tests read the same tables to check the documentation
# (docs/settings.md, docs/operations.md). They live here, below the CLI and the server, because
# both ``scameter`` and ``python -m scameter.rpc`` declare flags with them.


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument, as ``parser.add_argument(*flags, **options)`` would take it.

    Only the options that are set are passed on: argparse refuses some combinations that
    would be harmless defaults here (``type`` with ``store_true``, ``required`` or ``dest``
    for a positional), so a row reads like the call it stands for and nothing more.
    """

    flags: tuple[str, ...]
    help: str | None = None
    type: Callable[[str], Any] | None = None
    default: Any = None
    choices: Sequence[str] | None = None
    metavar: str | None = None
    nargs: str | None = None
    action: str | None = None
    required: bool = False
    dest: str | None = None

    @property
    def name(self) -> str:
        """The destination attribute: ``dest``, else what argparse derives from the flags."""
        if self.dest is not None:
            return self.dest
        long = next((f for f in self.flags if f.startswith("--")), self.flags[0])
        return long.lstrip("-").replace("-", "_")

    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``add_argument``: the options that are set."""
        out: dict[str, Any] = {}
        for key in ("help", "type", "default", "choices", "metavar", "nargs", "action", "dest"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.required:
            out["required"] = True
        return out


@dataclass(frozen=True, slots=True)
class OneOf:
    """Mutually exclusive arguments: at most one of them, exactly one when ``required``."""

    args: tuple[Arg, ...]
    required: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """Arguments listed under their own heading in ``--help``."""

    title: str
    items: tuple[Arg | OneOf, ...]


ArgTable = tuple[Arg | OneOf | Section, ...]


def add_arguments(parser: argparse._ActionsContainer, table: ArgTable) -> None:
    """Declare every row of ``table`` on ``parser``, in order (``--help`` keeps that order)."""
    for item in table:
        if isinstance(item, Arg):
            parser.add_argument(*item.flags, **item.options())
        elif isinstance(item, OneOf):
            add_arguments(parser.add_mutually_exclusive_group(required=item.required), item.args)
        else:
            add_arguments(parser.add_argument_group(item.title), item.items)


def iter_args(table: Sequence[Arg | OneOf | Section]) -> Iterator[Arg]:
    """Every :class:`Arg` of ``table``, groups and sections flattened, in order."""
    for item in table:
        if isinstance(item, Arg):
            yield item
        elif isinstance(item, OneOf):
            yield from item.args
        else:
            yield from iter_args(item.items)


__all__ = [
    "SETTINGS",
    "Arg",
    "ArgTable",
    "Mode",
    "OneOf",
    "Section",
    "SettingDoc",
    "Settings",
    "add_arguments",
    "default_data_dir",
    "iter_args",
    "load_settings",
]
