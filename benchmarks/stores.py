"""The comparison stores of ``bench_baselines``: LMDB floor, SQLite, and a throwaway Redis server.

Responsibility: load the same ``(key, value)`` pairs into each store the way a competent user
of that store would, and report what each costs on disk or in memory. The lookups themselves
are timed by ``bench_baselines``.

Invariants:

* Every store is keyed by the same 8-byte identifier keys
  (:func:`scameter.identifiers.model.identifier_key`) and holds the same value bytes, so
  differences are the lookup machinery, not the data.
* :func:`redis_server` starts its own ``redis-server`` on 127.0.0.1 on a free port, with
  persistence off (``--save "" --appendonly no``) in a private directory, and always stops it
  (SIGTERM, then SIGKILL after a grace period), also when the body raises.
* Nothing here is imported by the ``scameter`` package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import struct
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lmdb

#: The value every baseline stores per identifier: level, flags, a category and a source id,
#: report count, distinct reporters, first and last reported (Unix seconds), then the canonical
#: string (so a 64-bit key collision could be detected, as in our snapshot). ~34 bytes for a
#: phone: smaller than our snapshot's record, which keeps the comparison conservative.
PAYLOAD = struct.Struct("<BBHHIIII")

REDIS_BATCH = 1000  # keys per MSET / per pipeline round trip


def payload(canonical: str, i: int) -> bytes:
    """The stored value for the ``i``-th identifier (deterministic, varied counts and dates)."""
    first = 1_730_000_000 + (i * 7919) % 31_000_000
    return (
        PAYLOAD.pack(2, 1, 3, 1, 3 + i % 11, 3 + i % 7, first, first + 86_400) + canonical.encode()
    )


def disk_bytes(path: Path) -> int:
    """Bytes a file or directory tree takes: apparent size, but never more than its blocks
    (so a sparse, pre-sized file counts for what is written, not for its map size)."""
    paths = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    total = 0
    for p in paths:
        st = p.stat()
        total += min(st.st_size, st.st_blocks * 512) if st.st_blocks else st.st_size
    return total


# -- LMDB: the floor -------------------------------------------------------------------------


def build_lmdb(path: Path, pairs: Sequence[tuple[bytes, bytes]]) -> int:
    """Write sorted ``pairs`` (append mode, one transaction) and return the used bytes."""
    path.mkdir(parents=True, exist_ok=True)
    map_size = max(64 << 20, len(pairs) * 256 * 2)
    env = lmdb.open(str(path), map_size=map_size, subdir=True, sync=False, metasync=False)
    try:
        with env.begin(write=True) as txn:
            cur = txn.cursor()
            for k, v in sorted(pairs):
                cur.put(k, v, append=True)
        env.sync(True)
        info, stat = env.info(), env.stat()
        used = (int(info["last_pgno"]) + 1) * int(stat["psize"])
    finally:
        env.close()
    return used


def open_lmdb(path: Path) -> Any:
    """Open read-only and lock-free, as a snapshot reader does (no writer while mapped)."""
    return lmdb.open(str(path), readonly=True, lock=False, subdir=True, readahead=False)


# -- SQLite with an index ---------------------------------------------------------------------


def build_sqlite(path: Path, pairs: Sequence[tuple[bytes, bytes]]) -> int:
    """A ``WITHOUT ROWID`` table keyed by the 8-byte key BLOB (the primary key is the B-tree);
    returns the database file's size."""
    con = sqlite3.connect(path)
    try:
        # Bulk-load settings only: durability is irrelevant for a read benchmark's fixture.
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("CREATE TABLE ids (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        with con:
            con.executemany("INSERT INTO ids (k, v) VALUES (?, ?)", sorted(pairs))
    finally:
        con.close()
    return path.stat().st_size


def open_sqlite(path: Path) -> sqlite3.Connection:
    """Read-only connection; the page cache is sized to hold the database (warm, like LMDB)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    size_kib = path.stat().st_size // 1024 + 1024
    con.execute(f"PRAGMA cache_size = -{size_kib}")
    return con


# -- Redis ------------------------------------------------------------------------------------


class RedisUnavailable(RuntimeError):
    """``redis-server`` or redis-py is missing, or the server did not come up."""


@dataclass(frozen=True, slots=True)
class RedisHandle:
    client: Any  # redis.Redis
    process: subprocess.Popen[bytes]
    port: int
    version: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: redis exits cleanly, and with --save "" writes nothing
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def redis_server(workdir: Path, *, timeout: float = 15.0) -> Iterator[RedisHandle]:
    """A private ``redis-server`` on 127.0.0.1 for the duration of the ``with`` block."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise RedisUnavailable(
            "redis-server is not installed (Debian: apt-get install redis-server); "
            "the Redis baseline was skipped"
        )
    try:
        import redis
    except ImportError as exc:
        raise RedisUnavailable(f"redis-py is not installed ({exc}); pip install redis") from exc
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    argv = [
        exe,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--daemonize", "no",
        "--protected-mode", "yes",
        "--databases", "1",
        "--logfile", str(workdir / "redis.log"),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
        deadline = time.monotonic() + timeout
        while True:
            # redis-server has no readiness signal other than accepting commands: poll PING.
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (workdir / "redis.log").read_text(errors="replace")[-500:]
                    raise RedisUnavailable(f"redis-server did not start: {log}") from None
                time.sleep(0.02)
        version = str(client.info("server").get("redis_version", "?"))
        yield RedisHandle(client=client, process=proc, port=port, version=version)
        client.close()
    finally:
        _stop(proc)


def redis_used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def redis_cpu_seconds(client: Any) -> float:
    """Server CPU time (user + system) so far, from ``INFO cpu``."""
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def load_redis(client: Any, pairs: Sequence[tuple[bytes, bytes]]) -> int:
    """``MSET`` the pairs in batches; returns the ``used_memory`` growth in bytes."""
    before = redis_used_memory(client)
    for i in range(0, len(pairs), REDIS_BATCH):
        client.mset(dict(pairs[i : i + REDIS_BATCH]))
    return redis_used_memory(client) - before


def process_cpu_seconds() -> float:
    """This process's CPU time (user + system), all threads."""
    t = os.times()
    return t.user + t.system
