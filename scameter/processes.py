"""Choosing how to start worker processes (ingest's normalisation pool, bulk's lookup pool).

``fork`` is the cheap choice: workers inherit the imported package and warm caches. It is only
safe from a process that runs a single thread: a child forked while another thread holds a lock
(gRPC's C-core threads, LMDB, logging) can deadlock or crash, which is what happened when the
demo re-ingested from a process that already held a gRPC channel. Native threads are invisible
to :mod:`threading`, so on Linux the kernel's own count (``/proc/self/task``) decides.
Otherwise ``forkserver`` (a clean server process forks the workers) or ``spawn``.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
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
