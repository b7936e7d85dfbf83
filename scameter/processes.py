"""Choosing how to start worker processes (ingest's normalisation pool, bulk's lookup pool).

``fork`` is the cheap choice: workers inherit the imported package and warm caches. It is only
safe from a process that runs a single thread: a child forked while another thread holds a lock
(gRPC's C-core threads, LMDB, logging) can deadlock or crash, which is what happened when the
demo re-ingested from a process that already held a gRPC channel. Native threads are invisible
to :mod:`threading`, so on Linux the kernel's own count (``/proc/self/task``) decides.
Otherwise ``forkserver`` (a clean server process forks the workers) or ``spawn``.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from pathlib import Path
from types import ModuleType

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # not POSIX: ledgers are not locked, so none is ever taken for dead
    fcntl = None


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no procfs: only Python's own threads can be counted
        return threading.active_count() == 1


def can_fork() -> bool:
    """True when forking this process, now, is safe (``fork`` exists; one thread runs)."""
    return "fork" in multiprocessing.get_all_start_methods() and _single_threaded()


def worker_context() -> BaseContext:
    """The multiprocessing context to start workers with from this process, now."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _single_threaded():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


#: Generation-0 threshold while a bulk job runs (CPython's default is 700 allocations).
BULK_GC_THRESHOLD = 50_000


def tune_gc_for_bulk() -> None:
    """Make the cyclic garbage collector cheap for a bulk job in this process.

    Ingest allocates millions of short-lived tuples (events, keys) and creates no reference
    cycles on purpose, while the modules it imports leave ~10^5 long-lived objects (numbering
    metadata, the suffix list). With the default thresholds the collector runs every 700
    allocations and each full collection walks all of them: a quarter of an ingest's time.
    :func:`gc.freeze` moves what exists now out of every collection (and keeps a forked
    worker from copying those pages when the collector would have touched them), and a higher
    threshold makes collections rare. Cycles are still collected, only less often.
    """
    gc.freeze()
    _, g1, g2 = gc.get_threshold()
    gc.set_threshold(BULK_GC_THRESHOLD, g1, g2)


@contextmanager
def gc_tuned_for_bulk() -> Iterator[None]:
    """:func:`tune_gc_for_bulk` for the duration of a ``with`` block, then the previous
    thresholds, with the frozen objects collectable again (a long-lived process such as the
    demo's server must not keep garbage it happened to hold when the job began)."""
    before = gc.get_threshold()
    tune_gc_for_bulk()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """In a forked helper: be killed when ``parent_pid`` dies, however it dies.

    Ingest's helpers (build shards, near-variant sorters) only write files into the build's
    temporary directory; if the main process is killed they must not run on for minutes
    holding its lock. Linux delivers SIGKILL on the parent's death (``PR_SET_PDEATHSIG``);
    elsewhere this does nothing and a helper finishes its share, then exits.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    record_in_ledger()


# --- the worker ledger: a next run removes what a killed one left running ------------------
#
# PR_SET_PDEATHSIG only exists on Linux, fires when the *thread* that forked a child ends, and
# a forkserver's children have the server as their parent. So a job also writes down every
# helper it starts, with the helper's start time, in a ledger file it holds an exclusive flock
# on for its whole life. A ledger whose lock can be taken belongs to a job that died: the next
# run kills each helper still running under the same pid *and* start time (a pid the kernel
# has since given to another process has another start time, and is never touched).

LEDGER_PREFIX = ".ingest-"
LEDGER_SUFFIX = ".workers"
#: The ledger a helper of this process records itself in (inherited across fork; a pool
#: started another way passes it to its initializer).
_LEDGER: list[str] = []  # empty, or the one path (a list: set from functions without `global`)


def start_time(pid: int) -> int | None:
    """The start time of process ``pid`` (clock ticks since boot, ``/proc/PID/stat`` field
    22), or ``None`` when it does not run (or has no ``/proc``). Zombies count as gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw.rsplit(b")", 1)[-1].split()
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def use_ledger(path: str | None) -> None:
    """In a helper started without fork (a forkserver pool): the job's ledger, for
    :func:`die_with_parent` to record this process in."""
    _LEDGER[:] = [] if path is None else [path]


def record_in_ledger() -> None:
    """In a helper process (:func:`die_with_parent` calls it): append ``worker PID START`` to
    the job's ledger, if there is one; one ``O_APPEND`` write, so lines never mix."""
    if not _LEDGER:
        return
    pid = os.getpid()
    with contextlib.suppress(OSError):
        fd = os.open(_LEDGER[0], os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, f"worker {pid} {start_time(pid) or 0}\n".encode("ascii"))
        finally:
            os.close(fd)


class WorkerLedger:
    """The ledger of one job under ``directory``: created and locked by :meth:`open`,
    removed by :meth:`close` when the job ends normally (a killed job's stays behind)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def open(cls, directory: Path) -> WorkerLedger:
        pid = os.getpid()
        path = Path(directory) / f"{LEDGER_PREFIX}{pid}{LEDGER_SUFFIX}"
        fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY | os.O_APPEND, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"ingest {pid} {start_time(pid) or 0}\n".encode("ascii"))
        _LEDGER[:] = [str(path)]
        return cls(path, fd)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if [str(self.path)] == _LEDGER:
            _LEDGER.clear()
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(fd)


def _ledger_lines(text: str, role: str) -> list[tuple[int, int]]:
    """``(pid, start)`` of the ledger lines of ``role`` (``ingest`` or ``worker``)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == role and parts[1].isdigit() and parts[2].isdigit():
            out.append((int(parts[1]), int(parts[2])))
    return out


def _dead_ledger(path: Path) -> str | None:
    """The text of ``path`` when its job is gone (its lock can be taken), else ``None``."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a live job holds it
        return path.read_text(encoding="ascii", errors="replace")
    finally:
        os.close(fd)


def kill_leftovers(directory: Path, wait: float = 5.0) -> tuple[list[int], int]:
    """Remove the ledgers of dead jobs under ``directory`` and SIGKILL their helpers that
    still run with the recorded start time; waits up to ``wait`` s for them to be gone (they
    may hold a build's lock). Returns ``(the dead jobs' pids, processes killed)``."""
    dead: list[int] = []
    killed = 0
    victims: list[tuple[int, int]] = []
    for path in sorted(Path(directory).glob(f"{LEDGER_PREFIX}*{LEDGER_SUFFIX}")):
        text = _dead_ledger(path)
        if text is None:
            continue
        dead += [pid for pid, _ in _ledger_lines(text, "ingest")]
        for pid, started in _ledger_lines(text, "worker"):
            if pid != os.getpid() and started and start_time(pid) == started:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                    victims.append((pid, started))
        with contextlib.suppress(OSError):
            path.unlink()
    deadline = time.monotonic() + wait
    while victims and time.monotonic() < deadline:
        victims = [(p, t) for p, t in victims if start_time(p) == t]
        if victims:
            time.sleep(0.02)
    return dead, killed
