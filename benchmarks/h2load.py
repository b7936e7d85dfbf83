"""gRPC load from ``h2load`` (nghttp2's C load generator) and the bare-grpcio floor server.

Responsibility: drive a gRPC unary method with h2load and turn its per-request log into a rate
and latency percentiles; start a bare grpcio echo server (the floor) in its own process.

Why h2load: a Python gRPC client spends ~200 us of CPU per call, on the same 2 cores as the
server, so Python clients cap the measured rate and inflate latency. h2load is event-driven C
(a few us per request), so the server, not the client, is what gets measured.

Invariants:
* gRPC over plain HTTP/2 (gRPC over HTTP2 spec, PROTOCOL-HTTP2.md): ``POST /pkg.Service/Method``
  with ``content-type: application/grpc`` and ``te: trailers``; the body is one
  length-prefixed message: a compressed-flag byte (0), a 4-byte big-endian length, the bytes.
* h2load sees HTTP statuses only; a gRPC error is HTTP 200 with ``grpc-status`` in trailers
  and *no* DATA. So every run also checks the DATA byte count against ``requests x`` the framed
  size of the expected response: any shortfall means gRPC errors (``H2Result.grpc_errors``).
* One body file per run: h2load repeats it, so one run measures one identifier (a hit or a
  miss); callers rotate bodies across runs.
* The echo server (``python -m benchmarks.h2load echo THREADS``) answers every method with
  the request bytes (no (de)serialisation), prints its port on stdout, and exits on SIGTERM.
"""

from __future__ import annotations

import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

H2LOAD = "h2load"


def available() -> str | None:
    """Path of the h2load binary (Debian: ``apt-get install nghttp2-client``), or None."""
    return shutil.which(H2LOAD)


def frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, bytes."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


@dataclass(frozen=True, slots=True)
class H2Result:
    """One h2load run: completed requests per second and sorted latencies (seconds)."""

    rate: float
    latencies: list[float]
    requests: int
    non_200: int  # HTTP statuses other than 200 (or failed/errored requests)
    data_bytes: int  # response DATA bytes h2load received
    grpc_errors: int  # responses without a message (trailers-only: a gRPC error status)
    client_cpu_us: float  # h2load's own CPU (user + system) per request, warm-up included

    @property
    def errors(self) -> int:
        return self.non_200 + self.grpc_errors


_FINISHED = re.compile(r"finished in ([0-9.]+)(us|ms|s),")
_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
_TRAFFIC = re.compile(r"\((\d+)\) data")
_REQS = re.compile(r"requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed")


def run(
    url: str,
    body: bytes,
    *,
    clients: int,
    streams: int,
    seconds: float,
    rps: float = 0.0,
    response_size: int | None = None,
    warmup: int = 200,
    headers: Sequence[str] = (),
) -> H2Result:
    """Load ``url`` (``http://host:port/pkg.Svc/Method``) with ``body`` (an unframed message).

    Closed loop (``rps`` 0): ``clients`` connections x ``streams`` in flight each. Open loop:
    ``rps`` in total, split evenly over the clients (h2load's ``--rps`` is per client).
    ``response_size``: the expected *unframed* response size, for the gRPC error check.
    ``warmup``: requests sent (and not measured) before the timed run. ``headers``: more
    request headers (``"authorization: Bearer KEY"``), sent on every call.
    """
    exe = available()
    if exe is None:
        raise FileNotFoundError("h2load not found (apt-get install nghttp2-client)")
    with tempfile.TemporaryDirectory(prefix="h2load-") as tmp:
        body_path = Path(tmp) / "body"
        body_path.write_bytes(frame(body))
        log_path = Path(tmp) / "log"
        cmd = [exe, url, "-d", str(body_path), "-c", str(clients), "-m", str(streams)]
        cmd += ["-H", "content-type: application/grpc", "-H", "te: trailers"]
        for header in headers:
            cmd += ["-H", header]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        if warmup:
            # Connections and the server's first calls, untimed (h2load's --warm-up-time
            # would add its DATA to the byte count the error check relies on).
            pre = [exe, url, "-d", str(body_path), "-c", str(clients), "-m", str(streams)]
            pre += ["-H", "content-type: application/grpc", "-H", "te: trailers"]
            for header in headers:
                pre += ["-H", header]
            pre += ["-n", str(max(clients * streams, warmup))]
            subprocess.run(pre, capture_output=True, check=False, timeout=60)
        cmd += ["--log-file", str(log_path)]
        if rps:
            # h2load starts every client at once and paces each on its own timer, so
            # --rps alone sends synchronised bursts of ``clients`` calls (measured on the
            # echo floor at 900/s: p50 2.6 ms with 16 clients, 0.44 ms staggered). Start
            # one client per 1/rps instead (-r 1 --rate-period), which spreads their phases
            # over the period; -r excludes -D, so the run is -n calls long.
            cmd += ["--rps", f"{max(0.1, rps / clients):.3f}", "-n", str(round(rps * seconds))]
            cmd += ["-r", "1", "--rate-period", f"{max(1, round(1000 / rps))}ms"]
        else:
            cmd += ["-D", f"{round(seconds * 1000)}ms"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode != 0:
            raise RuntimeError(f"h2load failed ({out.returncode}): {out.stderr[-500:]}")
        lat: list[float] = []
        non_200 = 0
        # Columns: start (us since epoch), HTTP status, us until the end of the response.
        for line in log_path.read_text(encoding="ascii").splitlines():
            _start, status, micros = line.split("\t")
            if status != "200":
                non_200 += 1
            lat.append(int(micros) / 1e6)
    lat.sort()
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    fin = _FINISHED.search(out.stdout)
    elapsed = float(fin.group(1)) * _UNIT[fin.group(2)] if fin and rps else seconds
    reqs = _REQS.search(out.stdout)
    done = int(reqs.group(1)) if reqs else len(lat)
    failed = int(reqs.group(2)) if reqs else 0
    traffic = _TRAFFIC.search(out.stdout)
    data = int(traffic.group(1)) if traffic else -1
    grpc_errors = 0
    if response_size is not None:
        framed = response_size + 5
        grpc_errors = max(0, -(-(done * framed - data) // framed))  # ceil of the shortfall
    return H2Result(
        rate=done / elapsed,
        latencies=lat,
        requests=done,
        non_200=non_200 + failed,
        data_bytes=data,
        grpc_errors=grpc_errors,
        client_cpu_us=cpu / max(1, done + warmup) * 1e6,
    )


@contextmanager
def echo_server(threads: int) -> Iterator[int]:
    """A bare grpcio echo server in a subprocess (the floor); yields its port."""
    cmd = [sys.executable, "-m", "benchmarks.h2load", "echo", str(threads)]
    proc = subprocess.Popen(
        cmd, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError("echo server did not start")
        yield int(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve_echo(threads: int) -> None:
    """The floor: grpcio with one generic handler that returns the request bytes."""
    import threading
    from concurrent import futures

    import grpc

    def echo(request: bytes, _context: grpc.ServicerContext) -> bytes:
        return request

    handler = grpc.unary_unary_rpc_method_handler(echo)  # no (de)serialisers: raw bytes

    class Any(grpc.GenericRpcHandler):  # type: ignore[type-arg]
        def service(self, _details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:  # type: ignore[type-arg]
            return handler

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads))
    server.add_generic_rpc_handlers((Any(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(port, flush=True)
    stop.wait()
    server.stop(1).wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["echo"]:
        _serve_echo(int(sys.argv[2]) if len(sys.argv) > 2 else 16)
