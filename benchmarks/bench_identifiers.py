"""Identifier normalisation and detection throughput (issue 2's targets), per core.

Responsibility: time each kind's normaliser on seeded, realistic raw inputs (what people type,
not canonical values, except the E.164 figure), URL canonicalisation + lookup expressions, and
``detect`` on a mixed list. Every figure is items per second, the median of ``ctx.repeats``
timed passes over the same list after a warm-up; single-threaded, so per core.

Targets (issue 2): HK phone in national form >= 300k/s; E.164 input >= 1M/s; URL
canonicalisation + expressions >= 60k/s; ``detect`` on a mixed list >= 100k/s. Figures are
reported, never asserted.

Invariants: inputs depend only on ``ctx.seed``; a normaliser that is not implemented yet gives
a ``skipped`` figure, never an exception; every input is checked to normalise before timing,
so a figure never measures the error path by accident.
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import time
from collections.abc import Callable, Sequence

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure, rate_figure, skipped
from scameter.identifiers import detect, normalize
from scameter.identifiers.crypto import eip55_checksum
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.phone import normalize_phone
from scameter.identifiers.url import canonical_url, expressions_for_canonical

NAME = "identifiers"
ITEMS = 50_000
QUICK_ITEMS = 2_000

_PLATFORMS = ("telegram", "instagram", "x", "tiktok", "carousell")
_BANKS = ("004", "024", "012", "003", "015", "389")


def _mixed_case(rng: random.Random, text: str) -> str:
    return "".join(c.upper() if rng.random() < 0.3 else c for c in text)


def inputs(n: int, seed: int) -> dict[str, list[str]]:
    """Seeded raw inputs per figure name (``n`` each)."""
    rng = random.Random(f"{seed}:bench-identifiers")
    phones = datagen.phones(n, seed)
    return {
        "phone_national": [p[4:] for p in phones],
        "phone_e164": list(phones),
        "phone_typed": datagen.raw_phone_forms(phones, seed),
        "email": [_mixed_case(rng, e) for e in datagen.emails(n, seed)],
        "fps_id": [f"{f[:3]}-{f[3:]}" for f in datagen.fps_ids(n, seed)],
        "bank_account": [
            f"{rng.choice(_BANKS)}-{rng.randrange(1000):03d}-{rng.randrange(10**9):09d}"
            for _ in range(n)
        ],
        "platform_account": [
            f"{rng.choice(_PLATFORMS)}:@{_mixed_case(rng, 'user_')}{rng.randrange(10**7)}"
            for _ in range(n)
        ],
        "crypto_wallet": ["0x" + eip55_checksum(rng.randbytes(20).hex()) for _ in range(n)],
        "ip": list(datagen.ips(n, seed)),
        "domain": [d.upper() for d in datagen.domains(n, seed)],
        "url": [u.replace("http://", "HTTP://") for u in datagen.urls(n, seed)],
    }


def mixed_list(data: dict[str, list[str]], n: int, seed: int) -> list[str]:
    """What a search box receives: mostly phones and links, then the other kinds."""
    rng = random.Random(f"{seed}:bench-detect")
    weights = {
        "phone_typed": 35,
        "url": 20,
        "domain": 10,
        "email": 8,
        "fps_id": 5,
        "bank_account": 5,
        "platform_account": 7,
        "crypto_wallet": 3,
        "ip": 3,
    }
    names = list(weights)
    picks = rng.choices(names, weights=[weights[k] for k in names], k=n)
    out = [data[name][i % len(data[name])] for i, name in enumerate(picks)]
    out += ["@scam_king", "hello", "12", "not an identifier at all"] * (n // 100)
    return out


def _loop(fn: Callable[[str], object], items: Sequence[str]) -> Callable[[], None]:
    def run() -> None:
        for item in items:
            fn(item)

    return run


def _rate(
    bench: str,
    fn: Callable[[str], object],
    items: Sequence[str],
    ctx: BenchContext,
    *,
    target: str | None,
    note: str,
) -> Figure:
    """:func:`rate_figure` plus the CPU-time rate of the same runs in ``params``.

    The machine the benchmarks run on is often shared; wall-clock rates then understate what
    one core does. ``params["cpu_rate"]`` (items per CPU second of this process, median) is the
    per-core figure under contention; the figure's value stays the wall-clock median.
    """
    loop = _loop(fn, items)
    cpu: list[float] = []

    def run() -> None:
        c0 = time.process_time()
        loop()
        cpu.append(time.process_time() - c0)

    fig = rate_figure(bench, run, len(items), ctx, size=len(items), target=target, note=note)
    timed = [c for c in cpu[ctx.warmup :] if c > 0]
    cpu_rate = statistics.median(len(items) / c for c in timed) if timed else 0.0
    return dataclasses.replace(fig, params={"cpu_rate": round(cpu_rate)})


def _url_and_expressions(raw: str) -> list[str]:
    return expressions_for_canonical(canonical_url(raw))


def _kind_fn(kind: Kind) -> Callable[[str], Identifier]:
    return lambda raw: normalize(kind, raw)


def run(ctx: BenchContext) -> list[Figure]:
    n = QUICK_ITEMS if ctx.quick else ITEMS
    data = inputs(n, ctx.seed)
    figures: list[Figure] = []
    cases: list[tuple[str, Callable[[str], object], str | None, str]] = [
        ("phone_national", normalize_phone, ">= 300000", "91234567 (fast path)"),
        ("phone_e164", normalize_phone, ">= 1000000", "+85291234567 (fast path)"),
        ("phone_typed", normalize_phone, None, "mix of 8 typed HK forms"),
        ("phone_national_dispatch", _kind_fn(Kind.PHONE), None, "normalize('phone', ...)"),
        ("email", _kind_fn(Kind.EMAIL), None, ""),
        ("fps_id", _kind_fn(Kind.FPS_ID), None, ""),
        ("bank_account", _kind_fn(Kind.BANK_ACCOUNT), None, ""),
        ("platform_account", _kind_fn(Kind.PLATFORM_ACCOUNT), None, ""),
        ("crypto_wallet", _kind_fn(Kind.CRYPTO_WALLET), None, "EIP-55 mixed case (keccak)"),
        ("ip", _kind_fn(Kind.IP), None, ""),
        ("domain", _kind_fn(Kind.DOMAIN), None, "upper-case input"),
        ("url_canonical_expressions", _url_and_expressions, ">= 60000", "canonical + expressions"),
    ]
    for name, fn, target, note in cases:
        items = data["phone_national" if name == "phone_national_dispatch" else name.split("_c")[0]]
        if name == "url_canonical_expressions":
            items = data["url"]
        bench = f"{NAME}.{name}"
        try:
            for item in items[:50]:
                fn(item)  # must normalise: never time the error path by accident
        except NotImplementedError as exc:
            figures.append(skipped(bench, f"not implemented yet: {exc}"))
            continue
        figures.append(_rate(bench, fn, items, ctx, target=target, note=note))
    mixed = mixed_list(data, n, ctx.seed)
    figures.append(
        _rate(
            f"{NAME}.detect_mixed",
            detect,
            mixed,
            ctx,
            target=">= 100000",
            note="phones, links, domains, emails, FPS, bank, handles, wallets, IPs, junk",
        )
    )
    return figures


if __name__ == "__main__":
    import sys
    import tempfile
    from pathlib import Path

    quick = "--quick" in sys.argv
    context = BenchContext(sizes=[ITEMS], workdir=Path(tempfile.mkdtemp()), quick=quick)
    for fig in run(context):
        lo, hi = fig.spread
        cpu = fig.params.get("cpu_rate", 0)
        print(
            f"{fig.benchmark:40s} wall {fig.value:>10,.0f} [{lo:,.0f}..{hi:,.0f}] "
            f"cpu {cpu:>10,.0f} {fig.unit} target {fig.target or '-'} {fig.note}"
        )
