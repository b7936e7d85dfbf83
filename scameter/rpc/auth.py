"""API keys, roles and per-key rate limits.

Responsibility: turn a call's metadata into an authorised principal, or an :class:`Abort` with
UNAUTHENTICATED (no or unknown key), PERMISSION_DENIED (key lacks the role) or
RESOURCE_EXHAUSTED (key over its rate).

Key file (TOML, documented in docs/operations.md, "API keys")::

    [[key]]
    name = "bank-a-fps"                     # shown in logs and metrics, never the key
    sha256 = "9f86d0...15b0f00a08"          # hex SHA-256 of the key string (the key is not stored)
    roles = ["payee", "check"]              # check, payee, bulk, report, admin
    rate = 500.0                            # requests per second (optional; default unlimited)
    burst = 1000                            # bucket size (optional; default max(rate, 1))

Keys are presented as ``authorization: Bearer <key>`` metadata (RFC 6750 section 2.1 style).

Invariants:
* Only SHA-256 digests are held in memory; lookup hashes the presented key and compares the
  digest by dict membership (the digest of a random 256-bit key leaks nothing useful by timing).
* ``admin`` implies every role.
* With :class:`NoAuth` (``--no-auth``) every call is authorised as principal ``anonymous``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import grpc

from scameter.errors import ConfigError
from scameter.rpc.ratelimit import SharedBucket, SharedBuckets, TokenBucket
from scameter.rpc.status import Abort, error_info, retry_info

log = logging.getLogger("scameter.rpc")


class Role(StrEnum):
    CHECK = "check"  # Check, Related, GetSnapshotInfo
    PAYEE = "payee"  # CheckPayee (the FPS hook)
    BULK = "bulk"  # CheckBatch
    REPORT = "report"  # Report, Appeal
    ADMIN = "admin"  # everything


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    sha256: str
    roles: frozenset[Role]
    rate: float | None = None
    burst: float | None = None

    def allows(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles


_ALL_ROLES = frozenset(Role)


class Authorizer(Protocol):
    """What the servicer needs: the principal's name, or an :class:`Abort`."""

    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str: ...


_sha256 = hashlib.sha256


def hash_key(key: str) -> str:
    return _sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> tuple[str, str]:
    """A new random API key and the SHA-256 hex digest to put in the key file."""
    key = "sk_" + secrets.token_urlsafe(32)
    return key, hash_key(key)


def _bearer(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    for k, v in metadata:
        if k == "authorization" and isinstance(v, str):
            scheme, _, token = v.partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    return None


class KeyStore:
    """The configured keys with one token bucket per rate-limited key."""

    def __init__(
        self,
        keys: Iterable[ApiKey],
        *,
        clock: Callable[[], float] | None = None,
        shared: SharedBuckets | None = None,
    ) -> None:
        """``shared``: the server's bucket table, so a key's rate holds across all workers
        (see :mod:`scameter.rpc.ratelimit`); without it each KeyStore has its own buckets."""
        self._keys: dict[str, ApiKey] = {}
        self._buckets: dict[str, TokenBucket | SharedBucket] = {}
        #: digest -> (key, the roles it has, admin expanded; its bucket): one probe a call.
        self._grants: dict[str, tuple[ApiKey, frozenset[Role], TokenBucket | SharedBucket | None]]
        for key in keys:
            if key.sha256 in self._keys:
                raise ConfigError(f"API key {key.name!r} has the same digest as another key")
            self._keys[key.sha256] = key
            if key.rate is not None:
                burst = key.burst if key.burst is not None else max(key.rate, 1.0)
                if shared is not None:
                    self._buckets[key.sha256] = shared.bucket(key.sha256, key.rate, burst)
                    continue
                kw = {} if clock is None else {"clock": clock}
                self._buckets[key.sha256] = TokenBucket(key.rate, burst, **kw)
        self._grants = {
            digest: (key, _ALL_ROLES if Role.ADMIN in key.roles else key.roles,
                     self._buckets.get(digest))
            for digest, key in self._keys.items()
        }  # fmt: skip

    def __len__(self) -> int:
        return len(self._keys)

    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str:
        token = _bearer(metadata)
        if token is None:
            raise Abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "missing API key: send 'authorization: Bearer <key>' metadata",
            )
        grant = self._grants.get(_sha256(token.encode("utf-8")).hexdigest())  # = hash_key
        if grant is None:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED, "unknown API key")
        key, roles, bucket = grant
        if role not in roles:  # = not key.allows(role)
            raise Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"API key {key.name!r} lacks the {role.value!r} role",
            )
        if bucket is not None and not bucket.try_take():
            wait = bucket.retry_after()
            raise Abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"API key {key.name!r} is over its rate limit; retry after {wait:.3f}s",
                rich=(retry_info(wait), error_info("RATE_LIMITED", key=key.name)),
            )
        return key.name

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        clock: Callable[[], float] | None = None,
        shared: SharedBuckets | None = None,
    ) -> KeyStore:
        """Read a TOML key file (format in the module docstring)."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the API key file: {e.strerror}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from e
        keys = _parse_keys(path, data)
        try:
            return cls(keys, clock=clock, shared=shared)
        except (ConfigError, ValueError) as e:
            raise ConfigError(f"{path}: {e}") from e


_KEY_SETTINGS = frozenset({"name", "sha256", "roles", "rate", "burst"})


def _parse_keys(path: Path, data: Mapping[str, object]) -> list[ApiKey]:
    entries = data.get("key", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected one or more [[key]] tables")
    unknown = set(data) - {"key"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level setting(s): {sorted(unknown)}")
    return [_parse_key(f"{path}: [[key]] #{i}", entry) for i, entry in enumerate(entries, 1)]


def _parse_key(where: str, entry: object) -> ApiKey:
    """One ``[[key]]`` table; errors name the file and the entry (``where``)."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table")
    extra = set(entry) - _KEY_SETTINGS
    if extra:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(extra)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: 'name' must be a non-empty string")
    digest = _digest(where, entry.get("sha256"))
    roles = _roles(where, entry.get("roles"))
    rate, burst = _positive(where, entry, "rate"), _positive(where, entry, "burst")
    if burst is not None and rate is None:
        raise ConfigError(f"{where}: 'burst' needs 'rate'")
    return ApiKey(
        name=name,
        sha256=digest,
        roles=roles,
        rate=rate,
        burst=None if burst is None else max(1.0, burst),
    )


def _digest(where: str, digest: object) -> str:
    """The key's SHA-256: 64 hex digits, stored lower-case."""
    if not isinstance(digest, str) or len(digest) != 64:
        raise ConfigError(f"{where}: 'sha256' must be 64 hex digits (sha256 of the key)")
    try:
        bytes.fromhex(digest)
    except ValueError as e:
        raise ConfigError(f"{where}: 'sha256' is not hexadecimal") from e
    return digest.lower()


def _roles(where: str, roles: object) -> frozenset[Role]:
    if not isinstance(roles, list) or not roles:
        raise ConfigError(f"{where}: 'roles' must list one or more of {[r.value for r in Role]}")
    try:
        return frozenset(Role(r) for r in roles)
    except ValueError as e:
        raise ConfigError(f"{where}: unknown role; use {[r.value for r in Role]}") from e


def _positive(where: str, entry: Mapping[str, object], label: str) -> float | None:
    """``rate`` or ``burst``: absent, or a positive number."""
    val = entry.get(label)
    if val is None:
        return None
    if not isinstance(val, int | float) or val <= 0:
        raise ConfigError(f"{where}: '{label}' must be a positive number")
    return float(val)


class ReloadingKeyStore:
    """A :class:`KeyStore` that follows its file: re-read on :meth:`request_reload` (the
    server calls it on SIGHUP) and when the file's size, mtime or inode changes (checked at
    most every ``check_every`` seconds, with one ``stat``). A file that fails to load keeps
    the keys in force and logs the error; the next change or SIGHUP tries again. Rate-limit
    buckets live in the shared table by key digest, so a reload does not refill them.
    """

    def __init__(
        self,
        path: Path,
        *,
        shared: SharedBuckets | None = None,
        check_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._shared = shared
        self._check_every = check_every
        self._clock = clock
        self._lock = threading.Lock()
        self._reload = False
        self._store = KeyStore.load(path, shared=shared)
        self._seen = self._signature()
        self._next_check = clock() + check_every

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns, st.st_ino

    def request_reload(self) -> None:
        """Re-read the file at the next call (safe from a signal handler)."""
        self._reload = True

    def __len__(self) -> int:
        return len(self._store)

    def _maybe_reload(self) -> None:
        now = self._clock()
        if not self._reload and now < self._next_check:
            return
        with self._lock:
            self._next_check = now + self._check_every
            sig = self._signature()
            if not self._reload and sig == self._seen:
                return
            self._reload = False
            self._seen = sig
            try:
                self._store = KeyStore.load(self.path, shared=self._shared)
            except ConfigError as e:
                log.error(
                    "API key file not reloaded; the keys in force stay", extra={"error": str(e)}
                )
                return
            log.info(
                "API key file reloaded", extra={"event": "keys_reloaded", "keys": len(self._store)}
            )

    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str:
        # _maybe_reload's first test, inlined: a call frame less on every RPC.
        if self._reload or self._clock() >= self._next_check:
            self._maybe_reload()
        return self._store.authorize(metadata, role)


class NoAuth:
    """``--no-auth``: every call is allowed, as principal ``anonymous``."""

    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str:
        return "anonymous"


__all__ = [
    "ApiKey",
    "Authorizer",
    "KeyStore",
    "NoAuth",
    "ReloadingKeyStore",
    "Role",
    "generate_key",
    "hash_key",
]
