"""``scameter appeals``: the appeals in an intake log, grouped per identifier, for review.

Responsibility: the operator's view of the Appeal RPC (docs/report-format.md, "Appeals"):
per contested identifier, how many appeals, from how many distinct reporters, the latest
date and the reasons given, most-appealed first, as a table or JSON lines. Appeals never
delist by themselves: delisting stays the data team's decision, taken from this list.

Invariants: read-only (the log may be open in a running server); the identifier is shown in
clear, since this is an operator tool reading its own data, and is never logged; reasons come
from the public, so control characters in them are made visible before they reach a terminal;
reporters appear only as a count.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scameter.cli.common import Arg, Command, CommandError, SubParsers
from scameter.cli.output import visible
from scameter.settings import Settings


@dataclass(slots=True)
class Contested:
    """The appeals against one identifier."""

    kind: str
    value: str
    appeals: int = 0
    reporters: set[str] = field(default_factory=set)
    latest: str = ""
    reasons: list[str] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        self.appeals += 1
        self.reporters.add(str(row.get("reporter_hash", "")))
        self.latest = max(self.latest, str(row.get("appealed_at", "")))
        reason = str(row.get("reason", ""))
        if reason not in self.reasons:
            self.reasons.append(reason)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "appeals": self.appeals,
            "reporters": len(self.reporters),
            "latest": self.latest,
            "reasons": self.reasons,
        }


def group_appeals(rows: list[dict[str, Any]]) -> list[Contested]:
    """Appeal rows grouped per identifier: most distinct reporters first, then the latest."""
    groups: dict[tuple[str, str], Contested] = {}
    for row in rows:
        ident = row.get("identifier") or {}
        key = (str(ident.get("kind", "")), str(ident.get("value", "")))
        groups.setdefault(key, Contested(*key)).add(row)
    out = sorted(groups.values(), key=lambda c: (c.latest, c.kind, c.value), reverse=True)
    return sorted(out, key=lambda c: len(c.reporters), reverse=True)


def run_appeals(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.intake import IntakeLog, is_intake_dir

    path: Path = args.intake_log
    if not is_intake_dir(path):
        raise CommandError(f"{path}: not an intake log (the directory serve --intake-log writes)")
    with IntakeLog(path, readonly=True) as log:
        found = group_appeals(list(log.iter_appeals()))
    out = sys.stdout
    if args.json:
        for c in found:
            out.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
        return 0
    if not found:
        out.write(f"no appeals in {path}\n")
        return 0
    out.write(f"{'APPEALS':>7}  {'REPORTERS':>9}  {'LATEST':<10}  IDENTIFIER / REASONS\n")
    for c in found:
        ident = visible(f"{c.kind}:{c.value}")
        out.write(f"{c.appeals:>7}  {len(c.reporters):>9}  {c.latest[:10]:<10}  {ident}\n")
        for reason in c.reasons:
            out.write(f"{'':>32}- {visible(reason)}\n")
    return 0


APPEALS = Command(
    "appeals",
    help="list the appeals against listings in an intake log, per identifier, for review",
    description=(
        "Read the appeals the Appeal RPC stored in an intake log and list them per identifier: "
        "appeals, distinct reporters, latest date and the reasons given, most-appealed first. "
        "Appeals never delist by themselves (docs/report-format.md, 'Appeals')."
    ),
    run=run_appeals,
    args=(
        Arg(("--intake-log",), type=Path, metavar="DIR", required=True,
            help="the intake log directory (serve --intake-log)"),
        Arg(("--json",), action="store_true", help="one JSON object per identifier"),
    ),
)  # fmt: skip


def add_parser(sub: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    APPEALS.add_to(sub, parents)


__all__ = ["APPEALS", "add_parser", "group_appeals", "run_appeals"]
