"""Verdict quality on real public lists: false alarms on legitimate sites, recall of held-back rows.

Not a speed figure: this measures whether answers hold up on real data (issue 15). It ingests
the real phishing and scam lists under ``shared/data`` as a user loads them (``scameter ingest
--format list`` over the files, the default ``feed`` source and policy), holding back a fifth
of each list's rows, then checks:

* **legitimate bank websites** (US FDIC-insured banks and MAS-regulated institutions: real
  sites, mostly not famous) as ``https://HOST/``: how many come back SUSPICIOUS or HIGH RISK
  (target: at most 1 in 1,000, none HIGH RISK) and how many POSSIBLE;
* **popular sites** (Tranco top 10k, Moz top 500) the same way;
* **the held-back fifth** of the feed rows (never ingested): how many still answer anything but
  NO RECORD, and how many of those through a near-match reason (look-alike, brand imitation),
  i.e. how much the engine generalises beyond its exact listings.

The held-back split is deterministic (``xxh3_64`` of the line, one in five), so before/after
figures are on the same rows. The data lives outside the repository (``../shared/data`` next
to it, or ``SCAMETER_BENCH_DATA``); without it this module reports a skipped figure, as it does
on CI. Tests never read that data.

Run: ``.venv/bin/python -m benchmarks --only quality``.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import xxhash

from benchmarks.core import BenchContext, Figure, skipped
from scameter.index import Snapshot
from scameter.ingest import run_ingest
from scameter.verdict import Level, ReasonCode, Verdict

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
HOLD_OUT = 5  # one row in five is held back

#: The feed lists, as files under the data directory (gzip or plain), one entry per line.
FEEDS: tuple[str, ...] = (
    "phishing_urls/phishing_database_links_active.txt.gz",
    "phishing_urls/phishing_database_links_inactive.txt.gz",
    "phishing_urls/phishing_database_domains_active.txt.gz",
    "phishing_urls/phishing_database_domains_all.txt.gz",
    "scam_domains/jarelllama_scams_light.txt",
    "scam_domains/gaso_scam_urls.txt",
)
BANKS: tuple[str, ...] = (
    "banks/fdic_insured_bank_websites.txt",
    "banks/mas_regulated_fi_websites.txt",
)
NEAR_REASONS = frozenset(
    {ReasonCode.NEAR_MATCH, ReasonCode.BRAND_IMPERSONATION, ReasonCode.HOMOGRAPH}
)
ALARM = frozenset({Level.SUSPICIOUS, Level.HIGH_RISK})


def data_dir() -> Path | None:
    """Where the shared data is: ``SCAMETER_BENCH_DATA``, else ``../shared/data``."""
    env = os.environ.get("SCAMETER_BENCH_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return path if (path / "SOURCES.md").is_file() else None


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            text = line.strip()
            if text and not text.startswith(("#", "!")):
                yield text


def held_back(line: str) -> bool:
    """One row in :data:`HOLD_OUT`, chosen by content so every run holds back the same rows."""
    return xxhash.xxh3_64_intdigest(line.encode("utf-8")) % HOLD_OUT == 0


def split_feeds(data: Path, out: Path, limit: int | None = None) -> tuple[list[Path], list[str]]:
    """Write each feed minus its held-back rows under ``out``; return the files and the rows
    held back (distinct, in first-seen order). ``limit``: read only that many rows a list."""
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    held: dict[str, None] = {}
    for rel in FEEDS:
        src = data / rel
        dst = out / Path(rel).name.removesuffix(".gz")
        with dst.open("w", encoding="utf-8") as f:
            for n, line in enumerate(_lines(src)):
                if limit is not None and n >= limit:
                    break
                if held_back(line):
                    held.setdefault(line, None)
                else:
                    f.write(line + "\n")
        files.append(dst)
    return files, list(held)


def hosts(paths: Iterable[Path]) -> list[str]:
    """Distinct lower-case host names of bank-list files (one host per line)."""
    seen: dict[str, None] = {}
    for p in paths:
        for line in _lines(p):
            seen.setdefault(line.lower().strip("."), None)
    return list(seen)


def toplist(data: Path) -> list[str]:
    tranco = [d for d in _lines(data / "toplists/tranco_top10k.csv") if d != "Domain"]
    moz = [row["rootDomain"] for row in json.loads((data / "toplists/moz_top500.json").read_text())]
    return list(dict.fromkeys(d.lower() for d in (*tranco, *moz)))


@dataclass(slots=True)
class Tally:
    """Levels of a checked set, with a few examples of each alarming answer."""

    levels: Counter[str] = field(default_factory=Counter)
    near: int = 0
    alarms: list[str] = field(default_factory=list)

    def add(self, v: Verdict, label: str) -> None:
        self.levels["invalid" if v.error else v.level.value] += 1
        if v.error is None and any(r.code in NEAR_REASONS for r in v.reasons):
            self.near += 1
        if v.level in ALARM and len(self.alarms) < 12:
            self.alarms.append(f"{label}={v.level.value}")

    @property
    def total(self) -> int:
        return sum(self.levels.values())

    def count(self, *levels: Level) -> int:
        return sum(self.levels[lv.value] for lv in levels)


def check_sites(snap: Snapshot, sites: list[str]) -> Tally:
    tally = Tally()
    for host, v in zip(sites, snap.check_many([f"https://{h}/" for h in sites]), strict=True):
        tally.add(v, host)
    return tally


def check_rows(snap: Snapshot, rows: list[str]) -> Tally:
    tally = Tally()
    for row, v in zip(rows, snap.check_many(rows), strict=True):
        tally.add(v, row)
    return tally


def run(ctx: BenchContext) -> list[Figure]:
    data = data_dir()
    if data is None:
        return [
            skipped(
                "quality.real_lists",
                "needs the shared public lists (../shared/data next to the repository, or "
                "SCAMETER_BENCH_DATA=DIR); not part of the repository",
            )
        ]
    # --quick proves the module runs on a slice of each list; those figures are not quotable.
    feeds, held = split_feeds(data, ctx.workdir / "feeds", 2_000 if ctx.quick else None)
    snaps = ctx.workdir / "snapshots"
    result = run_ingest(feeds, snaps, as_of=AS_OF, input_format="list", max_reject_ratio=1.0)
    figures: list[Figure] = []
    with Snapshot.open_current(snaps) as snap:
        banks = check_sites(snap, hosts(data / b for b in BANKS))
        top = check_sites(snap, toplist(data))
        recall = check_rows(snap, held)
    note_ingest = (
        f"{result.records_read:,} feed rows ingested ({result.rejected:,} rejected) from "
        f"{len(FEEDS)} lists; {len(held):,} rows held back"
    )
    for name, tally, target in (
        ("quality.bank_sites", banks, "<= 0.001 suspicious+high_risk, 0 high_risk"),
        ("quality.top_sites", top, None),
    ):
        alarms = tally.count(*ALARM)
        figures.append(
            Figure(
                benchmark=name,
                metric="alarm_ratio",
                value=alarms / max(1, tally.total),
                unit="ratio",
                size=tally.total,
                target=target,
                note=f"{alarms} SUSPICIOUS or HIGH RISK ({tally.count(Level.HIGH_RISK)} HIGH "
                f"RISK), {tally.count(Level.POSSIBLE)} POSSIBLE of {tally.total}; e.g. "
                f"{', '.join(tally.alarms) or 'none'}",
                params={"levels": dict(tally.levels)},
            )
        )
    caught = recall.total - recall.levels[Level.NO_RECORD.value] - recall.levels["invalid"]
    figures.append(
        Figure(
            benchmark="quality.held_back_recall",
            metric="recall",
            value=caught / max(1, recall.total),
            unit="ratio",
            size=recall.total,
            note=f"{caught} of {recall.total} held-back feed rows answer something (of them "
            f"{recall.near} through a near-match reason); {note_ingest}",
            params={"levels": dict(recall.levels), "near": recall.near},
        )
    )
    return figures
