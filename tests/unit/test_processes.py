"""Worker start method: fork only from a single-threaded process."""

from __future__ import annotations

import subprocess
import sys
import threading

from scameter.processes import worker_context


def test_a_fresh_single_threaded_process_forks() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from scameter.processes import worker_context;"
            "print(worker_context().get_start_method())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "fork"


def test_another_running_thread_rules_out_fork() -> None:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert worker_context().get_start_method() in {"forkserver", "spawn"}
    finally:
        stop.set()
        t.join()


def test_a_grpc_channel_rules_out_fork_in_a_fresh_process() -> None:
    # gRPC's C-core threads are native: invisible to the threading module, seen by the kernel.
    code = (
        "import grpc\n"
        "from scameter.processes import worker_context\n"
        "ch = grpc.insecure_channel('127.0.0.1:9')\n"
        "try:\n"
        "    grpc.channel_ready_future(ch).result(timeout=0.3)\n"
        "except grpc.FutureTimeoutError:\n"
        "    pass\n"
        "print(worker_context().get_start_method())\n"
        "ch.close()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() in {"forkserver", "spawn"}
