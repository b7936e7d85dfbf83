"""``scameter clusters``: the largest or worst co-report clusters of a snapshot.

Responsibility: the analyst's view of scam networks: identifiers named together in reports
form a cluster (docs/report-format.md); this lists clusters by size or worst level with their
kinds, a few members and their case ids, as a table or JSON lines.

Invariants: read-only; the snapshot is closed before the command returns; one output line (or
JSON object) per cluster, most important first.
"""

from __future__ import annotations

import argparse
import json
import sys

from scameter.cli.common import Arg, Command, SubParsers, at_least_one, open_snapshot
from scameter.cli.output import visible
from scameter.settings import Settings
from scameter.verdict import LEVEL_LABELS


def run_clusters(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.index.clusters import list_clusters

    snap = open_snapshot(settings, args.id)
    try:
        found = list_clusters(snap, order=args.by, limit=args.limit, sample=args.sample)
    finally:
        snap.close()
    out = sys.stdout
    if args.json:
        for c in found:
            row = {
                "cluster": c.cluster,
                "size": c.size,
                "worst": c.worst.value,
                "kinds": dict(sorted(c.kinds.items())),
                "sample": [
                    {"kind": v.kind, "canonical": v.canonical, "level": v.level.value}
                    for v in c.sample
                ],
                "case_ids": list(c.case_ids),
                "case_count": c.case_count,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return 0
    if not found:
        out.write("no clusters: no report in this snapshot names two identifiers\n")
        return 0
    out.write(f"{'CLUSTER':>8}  {'SIZE':>6}  {'WORST':<10}  KINDS / SAMPLE; CASES\n")
    for c in found:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(c.kinds.items()))
        sample = ", ".join(v.canonical or v.input for v in c.sample)  # canonical: no raw text
        label = LEVEL_LABELS[c.worst][0]
        cases = ""
        if c.case_count:
            hidden = c.case_count - len(c.case_ids)
            more = f" (+{hidden} more)" if hidden else ""
            cases = f"; cases: {', '.join(c.case_ids)}{more}"
        line = f"{c.cluster:>8}  {c.size:>6}  {label:<10}  {kinds}: {sample}{cases}"
        out.write(visible(line) + "\n")  # case ids (and values) are outside text
    return 0


CLUSTERS = Command(
    "clusters",
    help="the largest or worst clusters of co-reported identifiers (scam networks)",
    description=(
        "List the clusters of the current snapshot (identifiers named in the same reports), "
        "largest first or worst level first, with their kinds, a sample of members and "
        "their case ids."
    ),
    run=run_clusters,
    args=(
        Arg(("--by",), choices=("size", "level"), default="size", help="order (default size)"),
        Arg(
            ("--limit",),
            type=at_least_one("clusters"),
            default=20,
            help="clusters shown (default 20)",
        ),
        Arg(
            ("--sample",),
            type=at_least_one("members"),
            default=5,
            help="members shown each (default 5)",
        ),
        Arg(("--id",), metavar="ID", help="snapshot id (default: live)"),
        Arg(("--json",), action="store_true", help="one JSON object per cluster"),
    ),
)


def add_parser(sub: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    CLUSTERS.add_to(sub, parents)


__all__ = ["CLUSTERS", "add_parser", "run_clusters"]
