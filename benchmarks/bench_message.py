"""Message extraction throughput (issue 17's target), per core.

Responsibility: time :func:`scameter.identifiers.extract` on seeded 300-character bilingual SMS
scam texts (:func:`benchmarks.datagen.sms_messages`: English and Traditional Chinese, links
plain, schemeless, defanged and full-width, HK phones, e-mails, labelled FPS IDs and bank
accounts, ``wa.me`` / ``t.me`` links, one text in eight with no identifier), then extraction
plus verdicts: the distinct identifiers each message yields, answered by
``Snapshot.check_many`` (one call per exact kind found; ``check_identifier`` for links and
domains) on a snapshot where half of the messages'
phones, domains and e-mails are listed.

``message.check_message`` times the shipped path, :func:`scameter.index.message.check_message`
(what ``scameter check --message``, ``bulk --message-column`` and the ``CheckMessage`` RPC
run: extraction, then ``Snapshot.check`` per distinct identifier, items with spans), and
``message.rpc_check_message`` the ``CheckMessage`` RPC's latency seen by a Python client
(one call in flight, a real ``python -m scameter.rpc`` server with one worker on loopback),
p50 and p99 per pass, with the ``Check`` RPC of one phone number as the baseline measured in
the same run.

Target (issue 17): extraction + verdicts >= 5,000 messages per second per core. Figures are
messages per second, the median of ``ctx.repeats`` timed passes over the same list after a
warm-up, single-threaded; ``params["cpu_rate"]`` is the same per CPU second (the per-core
figure when the machine is shared). Reported, never asserted.

Invariants: inputs depend only on ``ctx.seed``; the message count does not follow
``ctx.sizes`` (a message is the unit here), it is fixed: 5,000, or 500 with ``--quick``.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure, percentile, rate_figure
from scameter.identifiers import Identifier, Kind, extract
from scameter.index import Record, Snapshot
from scameter.index.message import check_message as shipped_check_message
from scameter.verdict import Level, ReasonCode, Verdict

NAME = "message"
MESSAGES = 5_000
QUICK_MESSAGES = 500
AS_OF_TS = 1_764_000_000


def _records(n: int, seed: int) -> Iterator[Record]:
    """Every other phone, domain and e-mail the messages use, listed (SUSPICIOUS)."""
    reasons = (ReasonCode.PUBLIC_REPORTS,)
    for i, phone in enumerate(datagen.phones(n, seed)):
        if i % 2 == 0:
            yield Record(Identifier(Kind.PHONE, phone), Level.SUSPICIOUS, reasons=reasons)
    for i, domain in enumerate(datagen.domains(n, seed)):
        if i % 2 == 0:
            yield Record(
                Identifier(Kind.DOMAIN, domain),
                Level.SUSPICIOUS,
                reasons=reasons,
                listing=domain + "/",
            )
    for i, email in enumerate(datagen.emails(n, seed)):
        if i % 2 == 0:
            yield Record(Identifier(Kind.EMAIL, email), Level.SUSPICIOUS, reasons=reasons)


def check_message(snap: Snapshot, text: str) -> list[Verdict]:
    """What a message check does: extract, then one ``check_many`` per exact kind found;
    links and domains (already canonical) go to ``check_identifier``, which is what
    ``check_many`` does for them after normalising them again."""
    by_kind: dict[Kind, list[str]] = defaultdict(list)
    verdicts: list[Verdict] = []
    for ident in extract(text).identifiers():
        if ident.kind is Kind.URL or ident.kind is Kind.DOMAIN:
            verdicts.append(snap.check_identifier(ident))
        else:
            by_kind[ident.kind].append(ident.value)
    for kind, values in by_kind.items():
        verdicts += snap.check_many(values, kind)
    return verdicts


def _rate(
    bench: str, fn: Callable[[str], object], texts: Sequence[str], ctx: BenchContext, note: str
) -> Figure:
    """:func:`rate_figure` over ``texts`` plus the CPU-time rate in ``params["cpu_rate"]``."""
    cpu: list[float] = []

    def run() -> None:
        c0 = time.process_time()
        for text in texts:
            fn(text)
        cpu.append(time.process_time() - c0)

    target = None if bench.endswith("extract") else ">= 5000"
    fig = rate_figure(
        bench, run, len(texts), ctx, size=len(texts), target=target, note=note, unit="msgs/s"
    )
    timed = [c for c in cpu[ctx.warmup :] if c > 0]
    cpu_rate = statistics.median(len(texts) / c for c in timed) if timed else 0.0
    return dataclasses.replace(fig, params={"cpu_rate": round(cpu_rate)})


def _latencies(call: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    """Microseconds of each sequential ``call(text)``, sorted."""
    out: list[float] = []
    clock = time.perf_counter
    for text in texts:
        t0 = clock()
        call(text)
        out.append((clock() - t0) * 1e6)
    out.sort()
    return out


def _rpc_figures(ctx: BenchContext, root: Path, texts: Sequence[str]) -> list[Figure]:
    """CheckMessage p50/p99 against a real one-worker server, with Check as the baseline."""
    from benchmarks.bench_rpc import server
    from scameter.rpc import Client

    calls = texts[: 500 if ctx.quick else 2_000]
    phone = datagen.phones(1, ctx.seed)[0]
    runs: dict[str, list[list[float]]] = {"message": [], "check": []}
    with server(root, 1) as target, Client(target, timeout=10) as client:
        client.wait_ready(timeout=60)
        for i in range(ctx.warmup + ctx.repeats):
            message = _latencies(client.check_message, calls)
            check = _latencies(lambda _t: client.check(phone, "phone"), calls)
            if i >= ctx.warmup:
                runs["message"].append(message)
                runs["check"].append(check)
    figures = []
    for name, label in (("message", "rpc_check_message"), ("check", "rpc_check_baseline")):
        for q in (50, 99):
            samples = tuple(percentile(lat, q) for lat in runs[name])
            figures.append(
                Figure(
                    f"{NAME}.{label}",
                    f"p{q}_us",
                    statistics.median(samples),
                    "us",
                    size=len(calls),
                    samples=samples,
                    note=(
                        "CheckMessage of the SMS texts" if name == "message" else
                        "Check of one phone number, same server and client"
                    ) + ", one call in flight, Python client on loopback, 1 server worker",
                )
            )  # fmt: skip
    return figures


def run(ctx: BenchContext) -> list[Figure]:
    n = QUICK_MESSAGES if ctx.quick else MESSAGES
    texts = datagen.sms_messages(n, ctx.seed)
    found = sum(len(extract(t).identifiers()) for t in texts)
    figures = [
        _rate(
            f"{NAME}.extract",
            extract,
            texts,
            ctx,
            f"300-char bilingual SMS, {found / n:.2f} identifiers per message",
        )
    ]
    root = ctx.workdir / "snapshots"
    manifest = datagen.publish_records(
        root, _records(n, ctx.seed), as_of=datetime.fromtimestamp(AS_OF_TS, UTC)
    )
    with Snapshot.open(root / manifest.snapshot_id) as snap:
        figures.append(
            _rate(
                f"{NAME}.extract_and_verdicts",
                lambda text: check_message(snap, text),
                texts,
                ctx,
                "extract + Snapshot.check_many per kind; half the identifiers listed",
            )
        )
        figures.append(
            _rate(
                f"{NAME}.check_message",
                lambda text: shipped_check_message(snap, text),
                texts,
                ctx,
                "the shipped scameter.index.message.check_message (Snapshot.check per "
                "identifier, items with spans)",
            )
        )
    figures += _rpc_figures(ctx, root, texts)
    return figures


if __name__ == "__main__":
    import sys
    import tempfile

    quick = "--quick" in sys.argv
    context = BenchContext(sizes=[MESSAGES], workdir=Path(tempfile.mkdtemp()), quick=quick)
    for fig in run(context):
        if fig.unit == "us":
            print(f"{fig.benchmark:32s} {fig.metric} {fig.value:>8,.0f} us {fig.note}")
            continue
        lo, hi = fig.spread
        cpu = fig.params.get("cpu_rate", 0)
        print(
            f"{fig.benchmark:32s} wall {fig.value:>8,.0f} [{lo:,.0f}..{hi:,.0f}] "
            f"cpu {cpu:>8,.0f} {fig.unit} target {fig.target or '-'} {fig.note}"
        )
