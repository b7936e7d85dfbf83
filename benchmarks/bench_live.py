"""Live updates: Report throughput, report-to-visible latency, and Check while folding.

Targets (issue 18 item 1): ``Report`` accepts 1,000 reports/s; an acknowledged report is
counted by ``Check`` within 5 s (p99) over a base of 10^7 identifiers while they arrive; the
live path slows ``Check`` (p50/p99) by no more than 10% against the same server with no intake
fold under the same load.

Method:
* The base: ``n`` public reports, one per HK mobile number, ingested by ``run_ingest`` (so it
  carries the evidence the fold needs); ``n`` is each of ``ctx.sizes``. Or a prebuilt
  snapshots root (``--base-snapshot DIR``, made by ``python -m benchmarks.bench_live
  build-base DIR --size N``): Check then times numbers sampled from it (``SAMPLE``) and
  generated numbers it has no record of, and the reports name generated numbers it lacks.
* The server: a real ``scameter serve --intake-log`` subprocess (the CLI entry point, which
  starts the live fold; ``--no-auth``, ``--report-burst 0`` and no daily cap, so no report is
  held or refused; ``--live-interval 0.5``; one worker).
* The arms (:data:`ARMS`): ``--no-live``; live (folding); and ``--no-live --report-group-max
  1`` (one commit and fsync per ``Report``, the intake before group commit: the reports/s
  baseline). Each run serves the same base once per arm, in an order rotated per run, all
  arms on the same 2 cores with the same processes but the fold.
* Each arm, in phases (:func:`_arm`, report counts in :data:`PHASES`, every report naming a
  number not in the base): ``CHECKS`` sequential ``Check`` calls from one Python client
  (base hits and misses) with no report traffic (idle); then *capacity*: ``SENDERS``
  processes offer ``RATE`` reports/s in total from ``IN_FLIGHT`` threads each (at most 32
  calls in flight, each thread one call at a time): the reports acknowledged per second;
  (the capacity phase offers ``CAPACITY_RATE``, twice ``RATE``, so what is measured is what
  the server acknowledges; each phase's rate is the reports acknowledged over the time from
  the start of the load to the last acknowledgement)
  then, but for the baseline arm, *check*: the same senders offer ``CHECK_RATE`` reports/s,
  a rate every arm sustains, so the live and ``--no-live`` arms carry the same load, while
  the client times sequential ``Check`` calls until the senders are done (no prober runs
  then); *check_full*: the same at ``RATE`` offered (the issue's measurement); then, live
  only, *visible*: reports at ``RATE`` offered and a prober process polling ``Check`` on
  every ``PROBE_EVERY``-th acknowledged one until it is counted (``report_count`` > 0; the
  level alone can be POSSIBLE before, from the phone-range signal): ack-to-visible p50/p99.
* The ratio live / no-live of the Check p50 and p99 is taken per run (the two arms of a run
  are minutes apart at most) and its median over the runs is the figure against 1.1.
* The Python client costs ~0.2 ms a call on this machine; every arm pays it alike. The
  senders issue their reporter tokens and serialise their requests before the load starts
  (the client's cost, not the server's) and send bytes over a raw stub (:func:`_send`).

Run: ``.venv/bin/python -m benchmarks --only live --size 1000000`` (``--quick``: 2,000 base
identifiers, 200 reports, the ``--no-live`` and live arms only). Over a base built here, one
run also ingests the base's reports with and without the evidence sub-database: the extra
ingest seconds and data-file bytes per identifier.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure, percentile, serving_events
from scameter.identifiers import Kind, identifier_key
from scameter.index import Snapshot
from scameter.index.format import TABLE_RECORDS, record_canonical
from scameter.index.publish import current_id
from scameter.ingest.pipeline import run_ingest

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-live-secret-0123456789abcdef"
SERVE = "import sys; from scameter.cli import main; sys.exit(main(['serve', *sys.argv[1:]]))"
RATE = 1_000
#: Offered in the *capacity* phase: more than ``RATE``, so the figure is what the server
#: acknowledges, not what the senders' pacing offers (a phase offered exactly ``RATE`` can
#: only come out at or below it).
CAPACITY_RATE = 2 * RATE
SENDERS = 8
#: Calls each sender keeps in flight (threads, one call at a time each): 32 in all, as many
#: app users reporting at once; group commit needs concurrent calls to group.
IN_FLIGHT = 4
PROBE_EVERY = 10
CHECKS = 4_000
#: Report load of the Check timing: every arm must sustain it for the loads to be equal.
CHECK_RATE = 500
#: Reports sent in each phase of an arm (:func:`_arm`).
PHASES = {"capacity": 10_000, "check": 8_000, "check_full": 12_000, "visible": 5_000}
PHASES_QUICK = {"capacity": 200, "check": 200, "check_full": 200, "visible": 100}
#: The Report method the senders call over a raw stub (:func:`_send`).
REPORT_METHOD = "/scameter.v1.Scameter/Report"
#: The fold's CPU after a phase is read once it stops moving for FOLD_SETTLE s (at most
#: FOLD_WAIT s): it folds every ``--live-interval`` (0.5 s) and may lag the load.
FOLD_SETTLE = 0.7
FOLD_WAIT = 15.0
#: Base numbers sampled from a prebuilt base (``--base-snapshot``) to time Check on.
SAMPLE = 2_000


def build_base(snapshots: Path, n: int, seed: int) -> tuple[str, ...]:
    """Ingest ``n`` public reports (one per HK mobile number, with evidence) into the
    snapshots root ``snapshots`` unless it already has a CURRENT snapshot; the generated
    numbers (the base's first ``n``, then fresh ones)."""
    phones = datagen.phones(n + 50_000, seed)
    if (snapshots / "CURRENT").exists():
        return phones
    when = datetime.now(UTC) - timedelta(days=1)
    src = datagen.write_one_report_each(snapshots.parent / "base.jsonl", phones[:n], when)
    run_ingest([src], snapshots, official_entities=None)
    return phones


def _sampled(snaps: Path, want: int, seed: int) -> tuple[list[str], tuple[str, ...]]:
    """A prebuilt base's phone numbers to check (``SAMPLE``, spread over its records) and
    ``want`` generated numbers it has no record of (the reports to send)."""
    with Snapshot.open(snaps / current_id(snaps), verify=False) as snap:
        phones = snap.bitmap("kind:phone")
        if not len(phones):
            raise ValueError(f"{snaps}: the base snapshot holds no phone number")
        step = max(1, len(phones) // SAMPLE)
        hits: list[str] = []
        for i in range(0, len(phones), step):
            found = snap.reader.by_ordinal(phones[i])
            if found is not None:
                hits.append(record_canonical(found[2]))
        get = snap.reader.get
        fresh = tuple(
            p for p in datagen.phones(want * 2 + 10_000, seed + 1)
            if get(TABLE_RECORDS, identifier_key(Kind.PHONE, p)) is None
        )[:want]  # fmt: skip
    return hits[:SAMPLE], fresh


def _inputs(ctx: BenchContext, n: int) -> tuple[Path, list[str], tuple[str, ...]]:
    """The base snapshots root, the numbers to time Check on (base hits and misses,
    alternating) and the fresh numbers to report: over ``--base-snapshot`` when given, else
    over a base of ``n`` built here."""
    want = sum(PHASES.values())
    given = ctx.extras.get("base_snapshot")
    if given is not None:
        snaps = Path(given)
        hits, fresh = _sampled(snaps, want + SAMPLE, ctx.seed)
        misses = list(fresh[want:])
        fresh = fresh[:want]
    else:
        snaps = ctx.workdir / f"live-{n}" / "snapshots"
        phones = build_base(snaps, n, ctx.seed)
        hits, misses = list(phones[: n // 2 : 97]), list(phones[n : n + 10_000])
        fresh = phones[n + 10_000 : n + 10_000 + want]
    probes = [p for pair in zip(hits, misses, strict=False) for p in pair]
    return snaps, probes, fresh


@contextmanager
def _server(snaps: Path, intake: Path, flags: tuple[str, ...]) -> Iterator[tuple[str, int]]:
    """A ``scameter serve`` subprocess: its address and its process id."""
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth",
            "--intake-log", str(intake), "--report-burst", "0", "--report-daily-cap", "0",
            "--live-interval", "0.5", *flags]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "SCAMETER_REPORTER_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-c", SERVE, *args], cwd=REPO, env=env,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        yield f"127.0.0.1:{serving_events(proc)[0]['port']}", proc.pid
    finally:
        proc.terminate()
        proc.wait(60)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> tuple[float, int] | None:
    """CPU seconds (user + system) and nice value of process ``pid`` (Linux ``/proc``), or
    None when it is gone or there is no ``/proc``."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    # nice, raised to 40 for SCHED_IDLE (policy 5): the fold is below every nice value then.
    nice = 40 if fields[38] == "5" else int(fields[16])
    return (int(fields[11]) + int(fields[12])) / _TICK, nice


def _server_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a server's processes: ``server`` (the process ``pid`` and its children
    but the fold: the workers, a supervisor) and ``fold`` (the children ``serve`` started at
    a lower priority than its own: the live fold runs at SCHED_IDLE, or nice 10 with
    ``--fold-priority low``). Empty without ``/proc``."""
    own = _proc_cpu(pid)
    if own is None:
        return {}
    out = {"server": own[0], "fold": 0.0}
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
            kids = [
                int(k)
                for t in tasks
                for k in Path(f"/proc/{parent}/task/{t}/children").read_text().split()
            ]
        except OSError:
            continue
        for kid in kids:
            got = _proc_cpu(kid)
            if got is not None:
                out["fold" if got[1] > own[1] else "server"] += got[0]
                todo.append(kid)
    return out


def _check_latencies(
    target: str, probes: list[str], checks: int, until: threading.Event | None = None
) -> list[float]:
    """Sequential Check latencies (s, sorted): ``checks`` calls, or until ``until`` is set."""
    from scameter.rpc import Client

    out: list[float] = []
    with Client(target, timeout=10) as c:
        for _ in range(2):
            for p in probes[:100]:  # warm-up
                c.check(p, "phone")
        i = 0
        while (i < checks) if until is None else not until.is_set():
            p = probes[i % len(probes)]
            t = time.perf_counter()
            c.check(p, "phone")
            out.append(time.perf_counter() - t)
            i += 1
    return sorted(out)


def _requests(k: int, mine: tuple[str, ...]) -> list[bytes]:
    """Sender ``k``'s Report requests, serialised, each with its own reporter token: issuing
    tokens is the client's cost (the bank's or the app's), not the server's, so the senders
    make them all before the load starts and the timed loop only sends bytes."""
    from scameter.rpc import issue_reporter_token
    from scameter.rpc.v1 import scameter_pb2 as pb

    out = []
    for j, value in enumerate(mine):
        token = issue_reporter_token(SECRET.encode(), f"+8529{k:03d}{j:04d}", 3600)
        req = pb.ReportRequest(
            identifiers=[pb.ReportedIdentifier(value=value, kind="phone")],
            category="investment",
            text="",
            reporter_token=token,
        )
        out.append(req.SerializeToString())
    return out


def _send(  # noqa: PLR0917 - a process target
    target: str, fresh: tuple[str, ...], k: int, acked: Any, probed: bool, ready: Any, rate: float
) -> None:
    """Sender process ``k``: its share of ``fresh`` at ``rate / SENDERS`` reports/s from
    ``IN_FLIGHT`` threads (each one call at a time) over a raw stub (requests serialised and
    tokens issued before the load: :func:`_requests`); puts ``(value, monotonic ack time)``
    of every ``PROBE_EVERY``-th report on ``acked``, then ``(None, (reports sent, last ack time,
    CPU seconds of the sending loop))``."""
    import grpc

    per = rate / SENDERS / IN_FLIGHT
    sent = [0] * IN_FLIGHT
    last = [0.0] * IN_FLIGHT
    mine = fresh[k::SENDERS]
    requests = _requests(k, mine)

    def thread(t: int, call: Any, start: float) -> None:
        for j in range(t, len(mine), IN_FLIGHT):
            wait = start + (j // IN_FLIGHT) / per - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            call(requests[j], timeout=30)
            sent[t] += 1
            last[t] = time.monotonic()
            if probed and (j * SENDERS + k) % PROBE_EVERY == 0:
                acked.put((mine[j], time.monotonic()))

    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        # bytes in, bytes out: nothing (de)serialised in the timed loop
        call = channel.unary_unary(REPORT_METHOD, None, None)
        ready.wait()
        start = time.monotonic()
        cpu = time.process_time()
        threads = [threading.Thread(target=thread, args=(t, call, start)) for t in range(IN_FLIGHT)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        cpu = time.process_time() - cpu
    acked.put((None, (sum(sent), max(last), cpu)))


def _probe(target: str, acked: Any, out: Any, ready: Any) -> None:
    """Prober process: poll Check on each acknowledged probe until it is counted; puts the
    ack-to-visible seconds and the number of reports sent on ``out``."""
    from scameter.rpc import Client

    pending: dict[str, float] = {}
    seen: list[float] = []
    finished = sent = 0
    last = cpu = 0.0
    with Client(target, timeout=10) as c:
        c.check("+85290000000", "phone")
        ready.wait()
        while finished < SENDERS or pending:
            while not acked.empty():
                value, t = acked.get()
                if value is None:
                    finished += 1
                    sent += int(t[0])
                    last = max(last, t[1])
                    cpu += t[2]
                else:
                    pending[value] = t
            for value, t in list(pending.items()):
                # counted: a report behind it (a number near many listed ones may already be
                # POSSIBLE through the phone-range signal before any report names it)
                if c.check(value, "phone").report_count:
                    seen.append(time.monotonic() - t)
                    del pending[value]
            time.sleep(0.02)
    out.put((seen, sent, last, cpu))


def _count(target: str, acked: Any, out: Any, ready: Any) -> None:
    ready.wait()
    sent = 0
    last = cpu = 0.0
    for _ in range(SENDERS):
        _, (n, t, c) = acked.get()
        sent += int(n)
        last = max(last, t)
        cpu += c
    out.put(([], sent, last, cpu))


def _loaded(  # noqa: PLR0917
    target: str, fresh: tuple[str, ...], probes: list[str], probed: bool, checks: int,
    rate: float = RATE, server: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Check latencies while ``SENDERS`` processes send ``fresh`` as reports at up to ``rate``
    a second (``checks``: 0 for none; ``probed``: and a prober process measures when they
    become visible); the reports acknowledged per second; and CPU microseconds per
    acknowledged report (:func:`_cpu_per_report`) of the server's processes (``server``: the
    pid of ``serve``), the senders' loops and this process (the Check client)."""
    ctx = multiprocessing.get_context("spawn")
    acked, out, ready = ctx.Queue(), ctx.Queue(), ctx.Barrier(SENDERS + 2)
    senders = [
        ctx.Process(target=_send, args=(target, fresh, k, acked, probed, ready, rate))
        for k in range(SENDERS)
    ]
    # Without probing, a process that only counts what the senders sent.
    prober = ctx.Process(target=_probe if probed else _count, args=(target, acked, out, ready))
    for p in (*senders, prober):
        p.start()
    ready.wait()  # every process started and connected: the load starts now
    start = time.monotonic()
    cpu0 = (_server_cpu(server) if server else {}), time.process_time()
    done = threading.Event()

    def wait() -> None:
        for p in senders:
            p.join()
        done.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    busy = _check_latencies(target, probes, checks, done) if checks else []
    waiter.join()
    seen, sent, last, senders_cpu = out.get(timeout=300)
    prober.join(60)
    # to the last acknowledgement (CLOCK_MONOTONIC is one clock for every process), not to
    # the senders' exit
    elapsed = (last if last > start else time.monotonic()) - start
    cpu = _cpu_per_report(server, cpu0, senders_cpu, sent)
    return {"busy": busy, "visible": sorted(seen), "rate": sent / elapsed, "cpu": cpu}


def _cpu_per_report(
    server: int | None, before: tuple[dict[str, float], float], senders: float, sent: int
) -> dict[str, float]:
    """CPU microseconds per report sent, since ``before`` (:func:`_server_cpu`, this
    process's ``process_time``): ``server`` (workers: Report and Check handlers, gRPC, the
    follower threads), ``fold`` (counted until it has caught up: until its CPU stops moving
    for ``FOLD_SETTLE`` s, at most ``FOLD_WAIT`` s), ``senders`` (their sending loops) and
    ``client`` (this process: the Check client and the drain of the server's log)."""
    per = 1e6 / max(1, sent)
    out = {"senders": senders * per, "client": (time.process_time() - before[1]) * per}
    if not server or not before[0]:
        return out
    now = _server_cpu(server)
    deadline = time.monotonic() + FOLD_WAIT
    while now and time.monotonic() < deadline:  # the fold catches up after the load
        time.sleep(FOLD_SETTLE)
        later = _server_cpu(server)
        if not later or later["fold"] - now["fold"] < 0.02:
            break
        now = later
    return out | {k: (now[k] - before[0][k]) * per for k in now if k in before[0]}


#: The server arms of one run: (tag, extra ``serve`` flags). ``group1`` is the intake as it
#: was before group commit (one commit and fsync per Report): the reports/s baseline.
ARMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nolive", ("--no-live",)),
    ("live", ()),
    ("group1", ("--no-live", "--report-group-max", "1")),
)


def _arm(  # noqa: PLR0917
    target: str,
    server: int,
    fresh: dict[str, tuple[str, ...]],
    probes: list[str],
    tag: str,
    checks: int,
) -> dict[str, float]:
    """One server's figures (:data:`ARMS`): idle Check; the reports/s it acknowledges under
    ``RATE`` offered; Check under ``CHECK_RATE`` offered (no prober: the same client load in
    the live and --no-live arms); live, the report-to-counted latency. CPU per report of each
    process (:func:`_cpu_per_report`) in the capacity phase (reports only) and the
    ``check_full`` phase (the issue's load: reports at ``RATE`` and Check)."""
    idle = _check_latencies(target, probes, checks)
    capacity = _loaded(target, fresh["capacity"], probes, False, 0, CAPACITY_RATE, server)
    out = {
        f"idle_p50_{tag}": percentile(idle, 50) * 1e6,
        f"idle_p99_{tag}": percentile(idle, 99) * 1e6,
        f"rate_{tag}": capacity["rate"],
    }
    out |= {f"cpu_capacity_{k}_{tag}": v for k, v in capacity["cpu"].items()}
    if tag == "group1":
        return out
    for phase, rate, suffix in (("check", CHECK_RATE, ""), ("check_full", RATE, "_full")):
        res = _loaded(target, fresh[phase], probes, False, checks, rate, server)
        busy = res["busy"]
        out |= {
            f"busy{suffix}_p50_{tag}": percentile(busy, 50) * 1e6,
            f"busy{suffix}_p99_{tag}": percentile(busy, 99) * 1e6,
            f"check{suffix}_rate_{tag}": res["rate"],
        }
        if phase == "check_full":
            out |= {f"cpu_full_{k}_{tag}": v for k, v in res["cpu"].items()}
    if tag == "live":
        seen = _loaded(target, fresh["visible"], probes, True, 0)["visible"]
        out |= {"vis_p50": percentile(seen, 50), "vis_p99": percentile(seen, 99)}
        out["probes"] = len(seen)
    return out


def _once(ctx: BenchContext, n: int, run: int) -> dict[str, float]:
    """One run: the same report loads against each arm (:data:`ARMS`), in an order that
    rotates with ``run`` so that no arm always goes first."""
    snaps, probes, pool = _inputs(ctx, n)
    sizes = PHASES_QUICK if ctx.quick else PHASES
    fresh: dict[str, tuple[str, ...]] = {}
    at = 0
    for phase, count in sizes.items():
        fresh[phase], at = pool[at : at + count], at + count
    out: dict[str, float] = {}
    arms = ARMS[:2] if ctx.quick else ARMS  # quick: proves the harness runs, within budget
    order = arms[run % len(arms) :] + arms[: run % len(arms)]
    checks = 200 if ctx.quick else CHECKS
    # --serve-workers N: every arm alike, so the ratios compare equal servers
    workers = (
        ("--workers", str(ctx.extras["serve_workers"])) if "serve_workers" in ctx.extras else ()
    )
    for tag, flags in order:
        intake = ctx.workdir / f"live-{n}" / f"intake-{run}-{tag}"
        with _server(snaps, intake, (*flags, *workers)) as (target, server):
            out |= _arm(target, server, fresh, probes, tag, checks)
    for q in ("p50", "p99"):
        out[f"ratio_{q}"] = out[f"busy_{q}_live"] / out[f"busy_{q}_nolive"]
        out[f"ratio_full_{q}"] = out[f"busy_full_{q}_live"] / out[f"busy_full_{q}_nolive"]
    return out


def _evidence_cost(ctx: BenchContext, n: int, run: int) -> dict[str, float]:
    """Ingest the base's reports with and without evidence: seconds and data-file bytes."""
    src = ctx.workdir / f"live-{n}" / "base.jsonl"
    out: dict[str, float] = {}
    for evidence in (False, True):
        root = ctx.workdir / f"live-{n}" / f"cost-{run}-{int(evidence)}"
        t = time.perf_counter()
        result = run_ingest([src], root, evidence=evidence)
        out[f"ingest_s_{int(evidence)}"] = time.perf_counter() - t
        assert result.snapshot_id is not None
        # data.mdb and (format 3.0) the side file evidence.mdb, where the evidence lives
        snap = root / result.snapshot_id
        out[f"bytes_{int(evidence)}"] = sum(f.stat().st_size for f in snap.glob("*.mdb"))
    out["extra_s"] = out["ingest_s_1"] - out["ingest_s_0"]
    out["extra_bytes_per_id"] = (out["bytes_1"] - out["bytes_0"]) / n
    return out


#: (key of _once's result, figure, metric, unit, target)
_GROUP1 = ("rate_group1", "live.reports", "reports_per_s_one_fsync_each", "reports/s", None)
_METRICS = (
    ("rate_nolive", "live.reports", "reports_per_s_nolive", "reports/s", ">= 1000"),
    ("rate_live", "live.reports", "reports_per_s", "reports/s", ">= 1000"),
    ("vis_p50", "live.visible", "visible_p50_s", "s", None),
    ("vis_p99", "live.visible", "visible_p99_s", "s", "<= 5"),
    ("idle_p50_nolive", "live.check_idle", "check_idle_nolive_p50_us", "us", None),
    ("idle_p50_live", "live.check_idle", "check_idle_p50_us", "us", None),
    ("idle_p99_live", "live.check_idle", "check_idle_p99_us", "us", None),
    ("check_rate_nolive", "live.check_reports", "reports_per_s_nolive", "reports/s", None),
    ("check_rate_live", "live.check_reports", "reports_per_s_live", "reports/s", None),
    ("busy_p50_nolive", "live.check_reports", "check_reports_nolive_p50_us", "us", None),
    ("busy_p99_nolive", "live.check_reports", "check_reports_nolive_p99_us", "us", None),
    ("busy_p50_live", "live.check_folding", "check_folding_p50_us", "us", None),
    ("busy_p99_live", "live.check_folding", "check_folding_p99_us", "us", None),
    ("ratio_p50", "live.check_ratio", "folding_over_nolive_p50", "x", "<= 1.1"),
    ("ratio_p99", "live.check_ratio", "folding_over_nolive_p99", "x", "<= 1.1"),
    ("check_full_rate_nolive", "live.check_full", "reports_per_s_nolive", "reports/s", None),
    ("check_full_rate_live", "live.check_full", "reports_per_s_live", "reports/s", None),
    ("busy_full_p50_nolive", "live.check_full", "check_nolive_p50_us", "us", None),
    ("busy_full_p99_nolive", "live.check_full", "check_nolive_p99_us", "us", None),
    ("busy_full_p50_live", "live.check_full", "check_folding_p50_us", "us", None),
    ("busy_full_p99_live", "live.check_full", "check_folding_p99_us", "us", None),
    ("ratio_full_p50", "live.check_full_ratio", "folding_over_nolive_p50", "x", "<= 1.1"),
    ("ratio_full_p99", "live.check_full_ratio", "folding_over_nolive_p99", "x", "<= 1.1"),
    *(
        (
            f"cpu_{phase}_{part}_{tag}",
            f"live.cpu_{phase}",
            f"{part}_{tag}_us_per_report",
            "us",
            None,
        )
        for phase in ("capacity", "full")
        for tag in ("nolive", "live")
        for part in ("server", "fold", "senders", "client")
        if not (tag == "nolive" and part == "fold")
    ),
)
_EVIDENCE = (
    ("ingest_s_0", "live.ingest", "ingest_no_evidence_s", "s", None),
    ("ingest_s_1", "live.ingest", "ingest_evidence_s", "s", None),
    ("extra_bytes_per_id", "live.evidence", "evidence_bytes_per_identifier", "B", None),
)


def run(ctx: BenchContext) -> list[Figure]:
    """``--repeats`` runs (one with ``--quick``) of every arm; with ``--base-snapshot`` over
    that prebuilt base (``ctx.extras["base_snapshot"]``, one size) instead of building one."""
    figures: list[Figure] = []
    prebuilt = ctx.extras.get("base_snapshot") is not None
    for n in ctx.sizes:
        repeats = 1 if ctx.quick else ctx.repeats
        runs = [_once(ctx, n, r) for r in range(repeats)]
        base = "prebuilt base" if prebuilt else "base built here"
        if "serve_workers" in ctx.extras:
            base += f", serve --workers {ctx.extras['serve_workers']}"
        note = f"{repeats} run(s), {base}; {runs[0]['probes']:.0f} probed reports in the first"
        metrics = list(_METRICS) if ctx.quick else [_GROUP1, *_METRICS]
        if not prebuilt:  # the ingest cost of evidence: one run (two ingests of the base)
            evidence = _evidence_cost(ctx, n, 0)
            runs = [r | evidence for r in runs]
            metrics += _EVIDENCE
        for key, bench, metric, unit, target in metrics:
            if not all(key in r for r in runs):  # CPU figures: none without /proc
                continue
            samples = tuple(r[key] for r in runs)
            figures.append(Figure(bench, metric, statistics.median(samples), unit, size=n,
                                  samples=samples, target=target, note=note))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.bench_live build-base DIR --size N``: build the base this
    benchmark serves (``N`` public reports, one per number, with evidence) into the snapshots
    root ``DIR``, for ``python -m benchmarks --only live --base-snapshot DIR``."""
    import argparse

    from benchmarks.__main__ import _size
    from benchmarks.datagen import DEFAULT_SEED

    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_live")
    p.add_argument("command", choices=["build-base"])
    p.add_argument("snapshots", type=Path)
    p.add_argument("--size", type=_size, required=True)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    build_base(args.snapshots, args.size, args.seed)
    print(f"base of {args.size:,} identifiers in {args.snapshots}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
