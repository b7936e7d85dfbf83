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
* The key file holds only SHA-256 digests. A presented key is hashed and its digest looked up
  by dict membership (the digest of a random 256-bit key leaks nothing useful by timing).
* A key that verified is remembered by its ``authorization`` header value (in its one
  canonical spelling, ``Bearer <key>``) for the life of the key table, so each worker hashes
  each key once, not once per call (the SHA-256 was a fifth of a ``Check``'s handler:
  docs/benchmarks.md, "Round 9: the Check handler"). Only keys that verified are
  remembered, so the table holds at most one entry per configured key whatever callers send;
  it is dropped with the table when the key file is reloaded, so a revoked key is refused
  from the reload on. Its lookup compares a presented value only with a remembered one of the
  same 64-bit keyed string hash (the dict's probe), so it times nothing about a valid key.
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


def _bearer_token(value: str | bytes) -> str | None:
    """The key of an ``authorization`` value ``Bearer <key>`` (scheme in any case), else None."""
    if isinstance(value, str):
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token:
            return token.strip()
    return None


_MISSING_KEY = "missing API key: send 'authorization: Bearer <key>' metadata"

#: What a verified key grants: the key, the roles it has (admin expanded), its bucket.
_Grant = tuple[ApiKey, frozenset[Role], TokenBucket | SharedBucket | None]


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
        self._grants: dict[str, _Grant]
        #: ``authorization`` value -> its grant, for the keys that verified (module
        #: invariants): a presented key is hashed once per worker, not on every call.
        self._seen: dict[str | bytes, _Grant] = {}
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
        # The call's key is that of its first authorization value naming one (RFC 6750
        # style); a remembered value is that key's, already verified.
        seen = self._seen
        for name, value in metadata:
            if name == "authorization":
                grant = seen.get(value)
                if grant is not None:
                    break
                token = _bearer_token(value)
                if token is not None:
                    grant = self._verify(value, token)
                    break
        else:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED, _MISSING_KEY)
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

    def _verify(self, value: str | bytes, token: str) -> _Grant:
        """The grant of ``token``, sent as the ``authorization`` value ``value``; remembered
        when ``value`` is the key's canonical spelling (so one entry per key at most)."""
        grant = self._grants.get(_sha256(token.encode("utf-8")).hexdigest())  # = hash_key
        if grant is None:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED, "unknown API key")
        if value == "Bearer " + token:
            self._seen[value] = grant
        return grant

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
