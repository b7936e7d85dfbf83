"""gRPC serving: unary Check latency and max rate, CheckBatch and CheckPayee, 1 and 2 workers.

Targets (issue 5, 2-core machine, client on loopback): Check p50 <= 0.5 ms and p99 <= 2 ms at
half the maximum rate; maximum rate >= 5,000 checks/s; CheckBatch >= 250k identifiers/s;
CheckPayee p99 <= 2 ms. Also: how the rate scales with workers.

Method:
* A snapshot of ``n`` HK mobile numbers (10^5 by default, the issue's size) is built once;
  probes are raw forms people type, hits and misses. The app and the FPS hook know what they
  hold, so calls pass ``kind="phone"``.
* The server is a real ``python -m scameter.rpc`` subprocess with API-key auth, as in
  production (one key with every role, no rate limit; every call presents it, the echo
  floor's calls too), default threads. (Before round 7 it ran ``--no-auth``.)
* Load comes from ``h2load`` (C, nghttp2; :mod:`benchmarks.h2load`) so the client costs a few
  us per call instead of Python's ~200 us on the same 2 cores. h2load repeats one body per
  run, so each run probes one identifier: runs alternate a hit and a miss (different numbers
  each run) and the figure is the median over runs. gRPC status is invisible to h2load: each
  body is first called once from Python (must succeed), and each run checks the DATA bytes
  against the expected response size (a shortfall counts as errors in the note).
* Max rate: closed loop, ``CONNS`` connections x ``STREAMS`` streams in flight. Latency: open
  loop (``--rps``) at half the max rate, p50/p90/p99/p99.9 from h2load's per-request log.
* The floor: a bare grpcio server (generic handler echoing the request bytes, same thread
  pool) in its own process, loaded the same way; figures carry ``floor_ratio`` in ``params``.
* Sequential (issue 20): one connection, one call at a time (h2load ``-c1 -m1``), a hit and
  a miss body, against a 1-worker server and its floor, an echo built as ours (our server
  options, pool and process shape; generic handler, bytes in, bytes out). Both are started
  together after the load phases (neither has served a load phase), get one untimed round,
  then alternate in 1.5 s samples (the order flips every round), so both see the same
  machine and the same history; the figure is the median over rounds of the round's ratio
  (our p50s / the floor's, target <= 1.15), with every round's ratio as samples, and our p99
  (<= 2 ms). The load phases' floor (below) is the plain echo.
* 8 threads (issue 20): closed loop with 8 connections x 1 call in flight against 2 workers
  (target >= 5,000 calls/s); the echo floor (one process) loaded the same way for reference.
* Without h2load (``apt-get install nghttp2-client``) the module falls back to Python client
  processes (:mod:`benchmarks.rpc_pyload`) and says so in every note.

Run: ``.venv/bin/python -m benchmarks --only rpc`` (``--quick``: 10^3 phones, 1 worker, short).
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import grpc

from benchmarks import datagen, h2load
from benchmarks.core import (
    BenchContext,
    Figure,
    percentile,
    serving_events,
    skipped,
    time_runs,
)
from benchmarks.rpc_pyload import BATCH, lat_figures, load
from scameter.identifiers import Identifier, Kind
from scameter.index import Record
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.verdict import Level, ReasonCode

REPO = Path(__file__).resolve().parents[1]
THREADS = 16  # the server's default --threads; the floor uses the same pool


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def build(root: Path, stored: Sequence[str]) -> None:
    levels = (Level.HIGH_RISK, Level.SUSPICIOUS, Level.POSSIBLE)
    datagen.publish_records(
        root,
        (
            Record(
                Identifier(Kind.PHONE, phone),
                levels[i % 3],
                reasons=(ReasonCode.PUBLIC_REPORTS,),
                categories=("investment",),
                sources=("public",),
                report_count=3,
                reporters=3,
            )
            for i, phone in enumerate(stored)
        ),
        as_of=datetime.now(UTC),
    )


#: The API key of the benchmark's servers (``server(..., key=BENCH_KEY)``): auth on, as in
#: production; the key has every role (admin) and no rate limit.
BENCH_KEY = "bench-key"


def key_file(directory: Path, key: str) -> Path:
    """An API key file (docs/operations.md, "API keys") holding ``key`` with every role."""
    from scameter.rpc.auth import hash_key

    path = directory / "bench-keys.toml"
    path.write_text(
        f'[[key]]\nname = "bench"\nsha256 = "{hash_key(key)}"\nroles = ["admin"]\n',
        encoding="utf-8",
    )
    return path


@contextmanager
def server(
    snapshots: Path, workers: int, *, key: str | None = None, repo: Path = REPO
) -> Iterator[str]:
    """``python -m scameter.rpc`` over ``snapshots``: ``--no-auth``, or API-key auth with
    ``key``; ``repo``: the source tree to run (another tree: a baseline in the same run)."""
    cmd = [sys.executable, "-m", "scameter.rpc", "--snapshots", str(snapshots)]
    cmd += ["--listen", "127.0.0.1:0", "--workers", str(workers)]
    if key is None:
        cmd.append("--no-auth")
    else:
        cmd += ["--auth-keys", str(key_file(snapshots.parent, key))]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stderr=subprocess.PIPE, text=True)
    try:
        yield f"127.0.0.1:{serving_events(proc, workers)[0]['port']}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


#: Closed-loop shape: enough connections that SO_REUSEPORT spreads them over 2 workers, and
#: in-flight calls (CONNS x STREAMS) well under the server's maximum_concurrent_rpcs (256).
CONNS = 8
STREAMS = 4
#: Open-loop shape: one call in flight per connection, since h2load --rps with -m > 1 starts
#: calls in bursts (measured: -c1 -m4 at 600/s gave p50 1.4 ms, -c1 -m1 at 1,200/s 0.32 ms on
#: the echo floor). With 16 connections a call waits for the previous one on its connection
#: only when that one took longer than 16 / rate (13 ms at 1,200/s).
OPEN_CONNS = 16
PAYEE_RATE = 1_000.0
METHOD = "/scameter.v1.Scameter/"


def _call(target: str, method: str, body: bytes, key: str | None = None) -> bytes:
    """One raw call from Python: proves the body gets an OK status before h2load sends it."""
    metadata = () if key is None else (("authorization", f"Bearer {key}"),)
    with grpc.insecure_channel(target) as ch:
        fn = ch.unary_unary(METHOD + method, None, None)  # raw bytes both ways
        out: bytes = fn(body, timeout=30, metadata=metadata)
        return out


@dataclass(frozen=True, slots=True)
class Body:
    method: str
    request: bytes
    label: str  # "hit", "miss", "1000 ids", ...


def _bodies(hits: Sequence[str], misses: Sequence[str], runs: int) -> dict[str, list[Body]]:
    """Bodies per figure; Check rotates hit/miss over ``runs`` runs, one number each."""
    checks = [
        Body(
            "Check",
            pb.CheckRequest(
                identifier=(hits if i % 2 == 0 else misses)[i], kind="phone"
            ).SerializeToString(),
            "hit" if i % 2 == 0 else "miss",
        )
        for i in range(runs)
    ]
    payee = [
        Body("CheckPayee", pb.CheckPayeeRequest(proxy_id=hits[i]).SerializeToString(), "hit")
        for i in range(max(1, runs // 2))
    ]
    mixed = [v for pair in zip(hits, misses, strict=False) for v in pair]
    batches = [
        Body(
            "CheckBatch",
            pb.CheckBatchRequest(identifiers=mixed[:size], kind="phone").SerializeToString(),
            f"{size} ids",
        )
        for size in (1_000, 10_000)
        if size <= len(mixed)
    ]
    return {"check": checks, "payee": payee, "batch": batches}


class _Loader:
    """Runs h2load against one target, after one Python call per body (must be OK);
    ``key``: the API key every call presents (the echo floors ignore it)."""

    def __init__(self, target: str, seconds: float, key: str | None = None) -> None:
        self.target = target
        self.seconds = seconds
        self.key = key
        self.headers = () if key is None else (f"authorization: Bearer {key}",)
        self.sizes: dict[bytes, int] = {}

    def __call__(
        self, body: Body, *, rps: float = 0.0, conns: int = CONNS, streams: int = STREAMS
    ) -> h2load.H2Result:
        if body.request not in self.sizes:
            call = _call(self.target, body.method, body.request, self.key)
            self.sizes[body.request] = len(call)
        return h2load.run(
            f"http://{self.target}{METHOD}{body.method}",
            body.request,
            clients=conns,
            streams=streams,
            seconds=self.seconds,
            rps=rps,
            response_size=self.sizes[body.request],
            headers=self.headers,
            # A few calls per connection; 200 batches of 10,000 would take seconds.
            warmup=conns * streams * (2 if body.method == "CheckBatch" else 10),
        )


def _measure(
    load: _Loader, bodies: dict[str, list[Body]], quick: bool, half: float | None
) -> dict[str, Any]:
    """Max rate, latency at ``half`` (default: half this target's max), payee, batches."""
    out: dict[str, Any] = {"errors": 0, "client_cpu_us": []}

    def note(r: h2load.H2Result) -> h2load.H2Result:
        out["errors"] += r.errors
        out["client_cpu_us"].append(r.client_cpu_us)
        return r

    maxes = [note(load(b)).rate for b in bodies["check"]]
    out["max_rate"], out["max_samples"] = statistics.median(maxes), tuple(maxes)
    out["half"] = half or out["max_rate"] / 2
    lat: list[float] = []
    for b in bodies["check"][: 1 if quick else 2]:  # one hit, one miss
        lat += note(load(b, rps=out["half"], conns=OPEN_CONNS, streams=1)).latencies
    out["lat"] = sorted(lat)
    payee: list[float] = []
    for b in bodies["payee"][:1]:
        payee += note(load(b, rps=PAYEE_RATE, conns=OPEN_CONNS, streams=1)).latencies
    out["payee"] = sorted(payee)
    # 8 client threads: one call in flight on each of 8 connections (issue 20).
    threads8 = [note(load(b, conns=8, streams=1)).rate for b in bodies["check"]]
    out["threads8"], out["threads8_samples"] = statistics.median(threads8), tuple(threads8)
    out["batch"] = {}
    for b in bodies["batch"][: 1 if quick else 2]:
        ids = int(b.label.split()[0])
        # One call in flight per connection: a batch is already a lot of work per call.
        out["batch"][ids] = note(load(b, conns=2, streams=1)).rate * ids
    return out


def _run_h2load(
    ctx: BenchContext, root: Path, n: int, hits: Sequence[str], misses: Sequence[str]
) -> list[Figure]:
    seconds = 0.2 if ctx.quick else 4.0
    runs = 2 if ctx.quick else 6
    worker_counts = (1,) if ctx.quick else (1, 2)
    bodies = _bodies(hits, misses, runs)
    env = {**machine(), "load": f"h2load {CONNS}x{STREAMS}"}
    results: dict[int, dict[str, Any]] = {}
    for workers in worker_counts:
        with server(root, workers, key=BENCH_KEY) as target:
            loader = _Loader(target, seconds, BENCH_KEY)
            results[workers] = _measure(loader, bodies, ctx.quick, None)
    with h2load.echo_server(THREADS) as port:
        # The echo gets the same requests, the authorization header included (it ignores it).
        echo = _Loader(f"127.0.0.1:{port}", seconds, BENCH_KEY)
        floor = _measure(echo, bodies, ctx.quick, results[1]["half"])
    # The sequential figure: ours and its floor started together, after the load phases,
    # and sampled the same way (docs/benchmarks.md, "Round 8: the sequential Check ratio").
    with server(root, 1, key=BENCH_KEY) as target, _echo_variant(SEQ_FLOOR) as echo_target:
        seq_seconds = 0.2 if ctx.quick else SEQ_SECONDS
        rounds = 2 if ctx.quick else max(SEQ_ROUNDS, ctx.repeats)
        seq = _sequential(
            _Loader(target, seq_seconds, BENCH_KEY),
            _Loader(echo_target, seq_seconds, BENCH_KEY),
            bodies["check"][:2],
            rounds,
        )
    return [*_figures(n, env, results, floor), *_sequential_figures(n, env, seq)]


#: The sequential figure's floor (issue 20: "a minimal grpcio echo service measured the same
#: way"): the :data:`ABLATION` echo built as ours (our server options, thread pool and
#: maximum_concurrent_rpcs, one process), answering the request bytes unchanged.
SEQ_FLOOR = "echo_as_ours"
#: Seconds per sample and rounds (each round: a hit and a miss body, ours and the floor
#: alternated, the order flipped every round; an even count puts each first equally often).
SEQ_SECONDS = 1.5
SEQ_ROUNDS = 6


def _sequential(ours: _Loader, echo: _Loader, bodies: Sequence[Body], rounds: int) -> Any:
    """Per round: the p50 and p99 of one call at a time for each body (a hit, a miss), ours
    and the floor's, in short samples back to back (the order flips every round), and the
    round's ratio (ours' p50s summed / the floor's). One untimed round first: each server's
    first calls (imports, page faults, the pool's first thread) belong to no sample."""
    for b in bodies:
        for loader in (ours, echo):
            loader(b, conns=1, streams=1)
    out: dict[str, list[float]] = {k: [] for k in ("p50", "p99", "echo_p50", "echo_p99", "ratio")}
    out["errors"] = [0.0]
    for r in range(rounds):
        mine_sum = base_sum = 0.0
        for b in bodies:
            first, second = (ours, echo) if r % 2 == 0 else (echo, ours)
            a = first(b, conns=1, streams=1)
            z = second(b, conns=1, streams=1)
            mine, base = (a, z) if first is ours else (z, a)
            out["errors"][0] += mine.errors + base.errors
            for key, res in (("", mine), ("echo_", base)):
                out[key + "p50"].append(percentile(res.latencies, 50) * 1e3)
                out[key + "p99"].append(percentile(res.latencies, 99) * 1e3)
            mine_sum += out["p50"][-1]
            base_sum += out["echo_p50"][-1]
        out["ratio"].append(mine_sum / base_sum)
    return out


def _sequential_figures(n: int, env: dict[str, Any], seq: Any) -> list[Figure]:
    params = {
        **env,
        "workers": 1,
        "load": "h2load -c1 -m1 (one call at a time)",
        "floor": SEQ_FLOOR,
        "rounds": len(seq["ratio"]),
    }
    note = (
        f"ratio per round (a hit and a miss, ours and the floor alternated in short samples, "
        f"both started together); errors={seq['errors'][0]:.0f}"
    )
    rows = (
        ("rpc.check_sequential", "p50_ratio_vs_echo", "ratio", "x", "<= 1.15"),
        ("rpc.check_sequential", "p50_ms", "p50", "ms", None),
        ("rpc.check_sequential", "p99_ms", "p99", "ms", "<= 2"),
        ("rpc.floor_echo.check_sequential", "p50_ms", "echo_p50", "ms", None),
        ("rpc.floor_echo.check_sequential", "p99_ms", "echo_p99", "ms", None),
    )
    return [
        Figure(bench, metric, statistics.median(seq[key]), unit, size=n,
               samples=tuple(seq[key]), target=target, note=note, params=params)
        for bench, metric, key, unit, target in rows
    ]  # fmt: skip


def _figures(
    n: int, env: dict[str, Any], results: dict[int, dict[str, Any]], floor: dict[str, Any]
) -> list[Figure]:
    figures: list[Figure] = []

    def ratio(ours: float, base: float) -> float:
        return round(ours / base, 2) if base else 0.0

    for workers, r in [*results.items(), (0, floor)]:
        name = "rpc.floor_echo" if workers == 0 else "rpc"
        params = {**env, "workers": workers or 1}
        cpu = statistics.median(r["client_cpu_us"])
        common = f"errors={r['errors']}; h2load CPU {cpu:.1f} us/call"
        fr = {} if workers == 0 else {"floor_ratio": ratio(floor["max_rate"], r["max_rate"])}
        figures.append(
            Figure(
                f"{name}.check",
                "max_rate",
                r["max_rate"],
                "calls/s",
                size=n,
                samples=r["max_samples"],
                target=None if workers == 0 else ">= 5000",
                note=f"closed loop {CONNS}x{STREAMS}; {common}"
                + ("" if workers == 0 else "; floor_ratio = floor rate / ours"),
                params={**params, **fr},
            )
        )
        figures.append(
            Figure(
                f"{name}.check_8_threads",
                "max_rate",
                r["threads8"],
                "calls/s",
                size=n,
                samples=r["threads8_samples"],
                target=">= 5000" if workers == 2 else None,
                note=f"closed loop 8 connections x 1 call (8 client threads); {common}",
                params=params,
            )
        )
        for q, label in ((50, "p50"), (90, "p90"), (99, "p99"), (99.9, "p99.9")):
            v = percentile(r["lat"], q) * 1e3
            fr = (
                {} if workers == 0 else {"floor_ratio": ratio(v, percentile(floor["lat"], q) * 1e3)}
            )
            figures.append(
                Figure(
                    f"{name}.check_half_rate",
                    f"{label}_ms",
                    v,
                    "ms",
                    size=n,
                    target=None if workers == 0 else {50.0: "<= 0.5", 99.0: "<= 2"}.get(q),
                    note=f"open loop at {r['half']:.0f}/s (hit + miss runs); {common}",
                    params={**params, "offered_rate": round(r["half"]), **fr},
                )
            )
        for q, label in ((50, "p50"), (99, "p99")):
            v = percentile(r["payee"], q) * 1e3
            fr = (
                {}
                if workers == 0
                else {"floor_ratio": ratio(v, percentile(floor["payee"], q) * 1e3)}
            )
            figures.append(
                Figure(
                    f"{name}.check_payee",
                    f"{label}_ms",
                    v,
                    "ms",
                    size=n,
                    target="<= 2" if q == 99 and workers else None,
                    note=f"open loop at {PAYEE_RATE:.0f}/s, proxy id a listed phone; {common}",
                    params={**params, "offered_rate": PAYEE_RATE, **fr},
                )
            )
        for ids, rate in r["batch"].items():
            fr = {} if workers == 0 else {"floor_ratio": ratio(floor["batch"][ids], rate)}
            figures.append(
                Figure(
                    f"{name}.check_batch",
                    f"ids_per_s_{ids}",
                    rate,
                    "ids/s",
                    size=n,
                    target=None if workers == 0 else ">= 250000",
                    note=f"batches of {ids} (half hits), 2 connections x 1 call; {common}",
                    params={**params, **fr},
                )
            )
    if 2 in results:
        figures.append(
            Figure(
                "rpc.check",
                "scaling_2_vs_1_workers",
                results[2]["max_rate"] / results[1]["max_rate"],
                "x",
                size=n,
                params=env,
                note="h2load max rate with 2 workers / with 1 (h2load shares the 2 cores)",
            )
        )
    return figures


class _Context:
    """The part of ``grpc.ServicerContext`` the Check handler reads, for in-process timing."""

    def __init__(self, key: str) -> None:
        self._metadata = (("authorization", f"Bearer {key}"), ("user-agent", "bench"))

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def time_remaining(self) -> None:
        return None


def _record(record: Callable[[str, float, Level | None], None], level: Level) -> None:
    """What the wire handler records per call: the request, its latency, its verdict (its
    method's bound ``Recorder.record``)."""
    record("OK", 1e-4, level)


def _repeat(fn: Callable[[], object], calls: int) -> None:
    for _ in range(calls):
        fn()


def _handler_breakdown(
    root: Path, n: int, hits: Sequence[str], misses: Sequence[str], quick: bool
) -> list[Figure]:
    """The Check handler in this process (no gRPC, no client): what one call costs the
    server, and its parts, against a bare echo function (us per call, median of 5)."""
    from scameter.index import SnapshotManager
    from scameter.rpc import convert
    from scameter.rpc.auth import ApiKey, KeyStore, Role, hash_key
    from scameter.rpc.metrics import Metrics
    from scameter.rpc.servicer import ScameterServicer

    calls = 2_000 if quick else 20_000
    manager = SnapshotManager(root, poll_interval=3600, verify=False)
    manager.start()
    try:
        keys = KeyStore([ApiKey("bench", hash_key("bench-key"), frozenset({Role.CHECK}))])
        metrics = Metrics(0)
        servicer = ScameterServicer(manager, keys, metrics)
        context: Any = _Context("bench-key")
        figures: list[Figure] = []
        for label, raw in (("hit", hits[0]), ("miss", misses[0])):
            body = pb.CheckRequest(identifier=raw, kind="phone").SerializeToString()
            with manager.acquire() as snap:
                v = snap.check(raw, "phone")

            def lookup(raw: str = raw) -> None:
                with manager.acquire() as snap:
                    snap.check(raw, "phone")

            def cold_answer(v: Any = v) -> None:
                convert._VERDICT_BYTES.clear()
                convert.check_response_bytes(v)

            parts: dict[str, Callable[[], object]] = {
                "echo": partial(bytes, body),  # the echo floor's handler returns its input
                "handler": partial(servicer.check_wire, body, context),
                "parse": partial(pb.CheckRequest.FromString, body),
                "auth": partial(keys.authorize, context.invocation_metadata(), Role.CHECK),
                "lookup": lookup,
                "metrics": partial(_record, metrics.recorder("Check").record, v.level),
                "answer_cached": partial(convert.check_response_bytes, v),
                "answer_cold": cold_answer,
            }
            for part, fn in parts.items():
                runs = [
                    t / calls * 1e6
                    for t in time_runs(partial(_repeat, fn, calls), repeats=5, warmup=1)
                ]
                figures.append(
                    Figure(
                        "rpc.check_in_process",
                        f"{label}_{part}_us",
                        statistics.median(runs),
                        "us",
                        size=n,
                        samples=tuple(runs),
                        note="one call of the wire Check handler in this process (API key "
                        "auth on) and its parts; 'handler' includes all the others",
                    )
                )
        return figures
    finally:
        manager.stop()


def run(ctx: BenchContext) -> list[Figure]:
    # The issue fixes the snapshot at 10^5 phones; --quick only proves the benchmark runs.
    n = max(1_000, min(ctx.sizes)) if ctx.quick else 100_000
    stored, hits, misses = datagen.hits_and_misses(Kind.PHONE, n, min(n, 20_000), ctx.seed)
    raw_hits = datagen.raw_phone_forms(hits, ctx.seed)
    raw_misses = datagen.raw_phone_forms(misses, ctx.seed + 1)
    root = ctx.workdir / "rpc-snapshots"
    build(root, stored)
    inproc = _handler_breakdown(root, n, raw_hits, raw_misses, ctx.quick)
    if h2load.available():
        return [*inproc, *_run_h2load(ctx, root, n, raw_hits, raw_misses)]
    raw = [v for pair in zip(raw_hits, raw_misses, strict=False) for v in pair]
    note = (
        "h2load absent (apt-get install nghttp2-client): Python clients, their CPU included, "
        "server --no-auth"
    )
    return [skipped("rpc.h2load", note, size=n), *inproc, *_run_python(ctx, root, n, raw, note)]


def _run_python(ctx: BenchContext, root: Path, n: int, raw: list[str], note: str) -> list[Figure]:
    """The Python-client path (no h2load): the figures include the clients' CPU."""
    seconds = 0.5 if ctx.quick else 5.0
    worker_counts = (1,) if ctx.quick else (1, 2)
    env = machine()
    figures: list[Figure] = []
    for workers in worker_counts:
        params = {"workers": workers, **env}
        with server(root, workers) as target:
            procs = 2
            threads = 4
            max_rate, _lat, errs = load(
                "check", target, raw, procs=procs, threads=threads, seconds=seconds
            )
            figures.append(
                Figure(
                    "rpc.check",
                    "max_rate",
                    max_rate,
                    "checks/s",
                    size=n,
                    target=">= 5000",
                    note=f"closed loop, {procs}x{threads} client threads, errors={errs}; {note}",
                    params=params,
                )
            )
            half = max_rate / 2
            _r, lat, errs = load(
                "check", target, raw, procs=procs, threads=threads, seconds=seconds, rate=half
            )
            figures += lat_figures(
                "rpc.check_half_rate",
                lat,
                n,
                {**params, "offered_rate": round(half), "errors": errs},
                {50: "<= 0.5", 99: "<= 2"},
            )
            batch_rate, _l, errs = load(
                "batch", target, raw, procs=1, threads=max(1, workers), seconds=seconds
            )
            figures.append(
                Figure(
                    "rpc.check_batch",
                    "rate",
                    batch_rate * min(BATCH, len(raw)),
                    "ids/s",
                    size=n,
                    target=">= 250000",
                    note=f"batches of {min(BATCH, len(raw))}, errors={errs}",
                    params=params,
                )
            )
            payee_rate = min(500.0, half)
            _r, lat, errs = load(
                "payee", target, raw, procs=1, threads=2, seconds=seconds, rate=payee_rate
            )
            figures += lat_figures(
                "rpc.check_payee",
                lat,
                n,
                {**params, "offered_rate": round(payee_rate), "errors": errs},
                {99: "<= 2"},
            )
    rates = [f.value for f in figures if f.metric == "max_rate"]
    if len(rates) == 2:
        figures.append(
            Figure(
                "rpc.check",
                "scaling_2_vs_1_workers",
                rates[1] / rates[0],
                "x",
                size=n,
                params=env,
                note="max rate with 2 workers / with 1 (client shares the 2 cores)",
            )
        )
    return figures


# -- echo ablation (issue 20's sequential ratio): which part of ours costs what ------------
#: Echo variants: (server built as ours, response bytes, busy-wait us in the handler).
ABLATION = {
    "echo": (False, 0, 0.0),
    "echo_as_ours": (True, 0, 0.0),
    "echo_as_ours_140B": (True, 140, 0.0),
    "echo_as_ours_140B_10us": (True, 140, 10.0),
}


def _serve_echo_as(as_ours: bool, size: int, spin_us: float) -> None:
    """An echo floor; ``as_ours``: built exactly as :func:`scameter.rpc.worker.start_worker`
    builds ours (pool, options, maximum_concurrent_rpcs, registered and generic handlers,
    health, reflection); ``size``: answer that many bytes; ``spin_us``: busy-wait first."""
    import threading
    from concurrent import futures

    from grpc_health.v1 import health, health_pb2_grpc

    from scameter.rpc import worker
    from scameter.rpc.config import ServerConfig

    blob, spin = b"x" * size, spin_us / 1e6

    def echo(request: bytes, _context: grpc.ServicerContext) -> bytes:
        if spin:
            until = time.perf_counter() + spin
            while time.perf_counter() < until:
                pass
        return blob if size else request

    config = ServerConfig(snapshots_root=Path("."), no_auth=True)
    pool = futures.ThreadPoolExecutor(max_workers=config.threads)
    if as_ours:
        server = grpc.server(
            pool,
            options=worker.server_options(config),
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
        )
    else:
        server = grpc.server(pool)
    handlers = {m: grpc.unary_unary_rpc_method_handler(echo) for m in ("Check", "CheckBatch")}
    generic = grpc.method_handlers_generic_handler(worker.SERVICE_NAME, handlers)
    server.add_generic_rpc_handlers((generic,))
    if as_ours:
        server.add_registered_method_handlers(worker.SERVICE_NAME, handlers)  # type: ignore[attr-defined]
        health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
        worker._enable_reflection(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(port, flush=True)
    stop.wait()
    server.stop(1).wait()


@contextmanager
def _echo_variant(name: str) -> Iterator[str]:
    cmd = [sys.executable, "-m", "benchmarks.bench_rpc", "echo-variant", name]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield f"127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def echo_ablation(
    workdir: Path, rounds: int = 5, seconds: float = 1.5, base: Path | None = None
) -> dict[str, list[float]]:
    """Sequential p50 (ms, ``h2load -c1 -m1``) of ours (1 worker; ``--no-auth`` and with API
    keys, the production setting) and each :data:`ABLATION` echo, all up at once and run in
    turn (the order flips every round), a hit and a miss body per round: what the server
    build, the answer's size and 10 us of handler cost. ``base``: another source tree (a
    baseline commit) served the same two ways in the same rounds, as ``base`` and
    ``base_apikey``."""
    n = 100_000
    seed = BenchContext(sizes=[n], workdir=workdir).seed
    stored, hits, misses = datagen.hits_and_misses(Kind.PHONE, n, 20_000, seed)
    root = workdir / "rpc-ablation"
    if not root.exists():
        build(root, stored)
    raw_hits = datagen.raw_phone_forms(hits, seed)
    bodies = _bodies(raw_hits, datagen.raw_phone_forms(misses, seed + 1), 2)["check"][:2]
    trees = {"ours": REPO} if base is None else {"ours": REPO, "base": base}
    with contextlib.ExitStack() as stack:
        # Every echo gets the requests ours_apikey gets, the authorization header included.
        loaders = {
            name: _Loader(stack.enter_context(_echo_variant(name)), seconds, BENCH_KEY)
            for name in ABLATION
        }
        for name, tree in trees.items():
            loaders[name] = _Loader(stack.enter_context(server(root, 1, repo=tree)), seconds)
            target = stack.enter_context(server(root, 1, key=BENCH_KEY, repo=tree))
            loaders[f"{name}_apikey"] = _Loader(target, seconds, BENCH_KEY)
        out: dict[str, list[float]] = {name: [] for name in loaders}
        for r in range(rounds):
            order = list(loaders) if r % 2 == 0 else list(reversed(loaders))
            for body in bodies:
                for name in order:
                    res = loaders[name](body, conns=1, streams=1)
                    out[name].append(percentile(res.latencies, 50) * 1e3)
    return out


def _print_ablation(argv: Sequence[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_rpc ablation")
    parser.add_argument("workdir", type=Path, nargs="?", default=Path("."))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--base", type=Path, help="a baseline source tree, served alongside")
    args = parser.parse_args(argv)
    print(f"load average at the start: {os.getloadavg()}", flush=True)
    p50 = echo_ablation(args.workdir, args.rounds, args.seconds, args.base)
    print(f"load average at the end: {os.getloadavg()}")
    for name, values in p50.items():
        ratios = [a / b for a, b in zip(values, p50["echo"], strict=True)]
        print(
            f"{name:24} p50 {statistics.median(values):.3f} ms "
            f"({min(values):.3f}-{max(values):.3f}); / echo {statistics.median(ratios):.2f}x "
            f"({min(ratios):.2f}-{max(ratios):.2f})"
        )


def main() -> None:
    if sys.argv[1:2] == ["echo-variant"]:
        _serve_echo_as(*ABLATION[sys.argv[2]])
        return
    if sys.argv[1:2] == ["ablation"]:
        _print_ablation(sys.argv[2:])
        return
    ctx = BenchContext(
        sizes=[100_000], workdir=Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    )
    for f in run(ctx):
        print(
            f"{f.benchmark:24} {f.metric:24} {f.value:12.3f} {f.unit:8} target={f.target} {f.note}"
        )


if __name__ == "__main__":
    main()
