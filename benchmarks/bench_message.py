"""Message extraction throughput (issue 17's target), per core.

Responsibility: time :func:`scameter.identifiers.extract` on seeded 300-character bilingual SMS
scam texts (:func:`benchmarks.datagen.sms_messages`: English and Traditional Chinese, links
plain, schemeless, defanged and full-width, HK phones, e-mails, labelled FPS IDs and bank
accounts, ``wa.me`` / ``t.me`` links, one text in eight with no identifier), then extraction
plus verdicts: the distinct identifiers each message yields, answered by
``Snapshot.check_many`` (one call per exact kind found; ``check_identifier`` for links and
domains) on a snapshot where half of the messages'
phones, domains and e-mails are listed.

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

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure, rate_figure
from scameter.identifiers import Identifier, Kind, extract
from scameter.index import Record, Snapshot
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

    target = ">= 5000" if bench.endswith("verdicts") else None
    fig = rate_figure(
        bench, run, len(texts), ctx, size=len(texts), target=target, note=note, unit="msgs/s"
    )
    timed = [c for c in cpu[ctx.warmup :] if c > 0]
    cpu_rate = statistics.median(len(texts) / c for c in timed) if timed else 0.0
    return dataclasses.replace(fig, params={"cpu_rate": round(cpu_rate)})


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
    return figures


if __name__ == "__main__":
    import sys
    import tempfile
    from pathlib import Path

    quick = "--quick" in sys.argv
    context = BenchContext(sizes=[MESSAGES], workdir=Path(tempfile.mkdtemp()), quick=quick)
    for fig in run(context):
        lo, hi = fig.spread
        cpu = fig.params.get("cpu_rate", 0)
        print(
            f"{fig.benchmark:32s} wall {fig.value:>8,.0f} [{lo:,.0f}..{hi:,.0f}] "
            f"cpu {cpu:>8,.0f} {fig.unit} target {fig.target or '-'} {fig.note}"
        )
