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
import secrets
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import grpc

from scameter.errors import ConfigError
from scameter.rpc.ratelimit import TokenBucket
from scameter.rpc.status import Abort, error_info, retry_info


class Role(StrEnum):
    CHECK = "check"  # Check, Related, GetSnapshotInfo
    PAYEE = "payee"  # CheckPayee (the FPS hook)
    BULK = "bulk"  # CheckBatch
    REPORT = "report"  # Report
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


class Authorizer(Protocol):
    """What the servicer needs: the principal's name, or an :class:`Abort`."""

    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str: ...


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


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

    def __init__(self, keys: Iterable[ApiKey], *, clock: Callable[[], float] | None = None) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._buckets: dict[str, TokenBucket] = {}
        for key in keys:
            if key.sha256 in self._keys:
                raise ConfigError(f"API key {key.name!r} has the same digest as another key")
            self._keys[key.sha256] = key
            if key.rate is not None:
                burst = key.burst if key.burst is not None else max(key.rate, 1.0)
                kw = {} if clock is None else {"clock": clock}
                self._buckets[key.sha256] = TokenBucket(key.rate, burst, **kw)

    def __len__(self) -> int:
        return len(self._keys)

    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str:
        token = _bearer(metadata)
        if token is None:
            raise Abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "missing API key: send 'authorization: Bearer <key>' metadata",
            )
        digest = hash_key(token)
        key = self._keys.get(digest)
        if key is None:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED, "unknown API key")
        if not key.allows(role):
            raise Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"API key {key.name!r} lacks the {role.value!r} role",
            )
        bucket = self._buckets.get(digest)
        if bucket is not None and not bucket.try_take():
            wait = bucket.retry_after()
            raise Abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"API key {key.name!r} is over its rate limit; retry after {wait:.3f}s",
                rich=(retry_info(wait), error_info("RATE_LIMITED", key=key.name)),
            )
        return key.name

    @classmethod
    def load(cls, path: Path, *, clock: Callable[[], float] | None = None) -> KeyStore:
        """Read a TOML key file (format in the module docstring)."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the API key file: {e.strerror}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from e
        keys = _parse_keys(path, data)
        try:
            return cls(keys, clock=clock)
        except ConfigError as e:
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


class NoAuth:
    """``--no-auth``: every call is allowed, as principal ``anonymous``."""

    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str:
        return "anonymous"


__all__ = ["ApiKey", "Authorizer", "KeyStore", "NoAuth", "Role", "generate_key", "hash_key"]
