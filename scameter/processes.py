"""Choosing how to start worker processes (ingest's normalisation pool, bulk's lookup pool).

``fork`` is the cheap choice: workers inherit the imported package and warm caches. It is only
safe from a process that runs a single thread: a child forked while another thread holds a lock
(gRPC's C-core threads, LMDB, logging) can deadlock or crash, which is what happened when the
demo re-ingested from a process that already held a gRPC channel. Native threads are invisible
to :mod:`threading`, so on Linux the kernel's own count (``/proc/self/task``) decides.
Otherwise ``forkserver`` (a clean server process forks the workers) or ``spawn``.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import BaseContext


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
