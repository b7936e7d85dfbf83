"""Rendering verdicts for people and for programs.

Responsibility: the human table of ``check``/``related`` (Scameter's colours, the reasons in
words), the one-object-per-line JSON, and the verdict columns ``bulk`` adds to every row.

Invariants:
* ANSI escapes only when the caller says colour is on (a terminal, ``NO_COLOR`` unset: see
  :meth:`scameter.settings.Settings.use_color`); the text is identical otherwise.
* NO RECORD is never worded as safe: its detail is the fixed sentence of ``REASON_TEXT``.
* JSON is exactly :meth:`Verdict.to_dict`, one object per line, UTF-8 (no ASCII escaping).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from scameter.verdict import LEVEL_LABELS, REASON_TEXT, Level, ReasonCode, Verdict

# ANSI SGR sequences for Scameter's colours; orange needs the 256-colour palette (208).
_ANSI: dict[Level, str] = {
    Level.HIGH_RISK: "\x1b[1;31m",
    Level.SUSPICIOUS: "\x1b[1;38;5;208m",
    Level.POSSIBLE: "\x1b[1;33m",
    Level.NO_RECORD: "\x1b[35m",
    Level.VERIFIED: "\x1b[1;32m",
}
_RESET = "\x1b[0m"
INVALID_LABEL = "INVALID"

#: Columns ``bulk`` appends to CSV rows (and the keys of the ``scameter`` object in JSONL).
BULK_COLUMNS: tuple[str, ...] = (
    "scameter_level",
    "scameter_kind",
    "scameter_canonical",
    "scameter_reasons",
    "scameter_categories",
    "scameter_report_count",
    "scameter_matched",
    "scameter_similar_to",
    "scameter_owner",
    "scameter_error",
)

_TABLE_HEAD = ("INPUT", "LEVEL", "KIND", "CANONICAL", "DETAILS")


def level_label(v: Verdict) -> str:
    """``HIGH RISK``, ``NO RECORD``, ... or ``INVALID`` for an input that was not understood."""
    return INVALID_LABEL if v.error is not None else LEVEL_LABELS[v.level][0]


def details(v: Verdict) -> str:
    """The reasons and the facts behind them, in one line of words."""
    if v.error is not None:
        return v.error
    parts = [r.text for r in v.reasons] or [REASON_TEXT[ReasonCode.NO_RECORD]]
    if v.verified_owner:
        parts.append(f"Owner: {v.verified_owner}.")
    if v.report_count:
        reports = "report" if v.report_count == 1 else "reports"
        who = "reporter" if v.reporters == 1 else "reporters"
        # ``reporters`` counts distinct verified public reporters; police or partner reports
        # have none, and "from 0 reporters" would read as a contradiction.
        by = f" from {v.reporters} {who}" if v.reporters else ""
        parts.append(f"{v.report_count} {reports}{by}.")
    if v.categories:
        parts.append(f"Categories: {', '.join(v.categories)}.")
    if v.similar_to is not None and v.similar_to.canonical not in " ".join(parts):
        s = v.similar_to
        parts.append(
            f"Similar to {s.canonical} ({LEVEL_LABELS[s.level][0]}, distance {s.distance})."
        )
    if v.similar_to is None and v.matched and v.matched != v.canonical:
        parts.append(f"Matched {v.matched}.")
    if v.cluster_size > 1:
        worst = "" if v.cluster_worst is None else f", worst {LEVEL_LABELS[v.cluster_worst][0]}"
        others = v.cluster_size - 1
        noun = "identifier" if others == 1 else "identifiers"
        parts.append(f"Linked to {others} other {noun}{worst}.")
    return " ".join(parts)


def _paint(text: str, level: Level | None, colour: bool) -> str:
    if not colour or level is None:
        return text
    return f"{_ANSI[level]}{text}{_RESET}"


def render_table(verdicts: Sequence[Verdict], *, colour: bool) -> str:
    """An aligned table, one row per verdict, ending with a newline."""
    rows = [
        (v.input, level_label(v), v.kind or "-", v.canonical or "-", details(v)) for v in verdicts
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_TABLE_HEAD[:4])]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(_TABLE_HEAD[:4], widths, strict=True))
        + "  "
        + _TABLE_HEAD[4]
    ]
    for v, row in zip(verdicts, rows, strict=True):
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        cells[1] = _paint(cells[1], None if v.error else v.level, colour)
        lines.append("  ".join(cells) + "  " + row[4])
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_json_lines(verdicts: Iterable[Verdict]) -> str:
    """One JSON object per verdict per line (``Verdict.to_dict``)."""
    return "".join(json.dumps(v.to_dict(), ensure_ascii=False) + "\n" for v in verdicts)


def bulk_values(v: Verdict) -> list[object]:
    """The :data:`BULK_COLUMNS` cells for one verdict (empty strings where nothing applies).

    Hot path of ``bulk`` (once per row): no enum ``.value`` lookups (``Level`` is a StrEnum,
    so ``csv`` writes it as its value) and no work for the empty columns of NO RECORD rows.
    """
    if v.error is not None:
        return ["invalid", v.kind or "", "", "", "", "", "", "", "", v.error]
    reasons = v.reasons
    similar = ""
    if v.similar_to is not None:
        similar = f"{v.similar_to.canonical} (distance {v.similar_to.distance})"
    return [
        v.level,
        v.kind or "",
        v.canonical or "",
        " ".join([r.code for r in reasons]) if reasons else "",
        " ".join(v.categories),
        v.report_count,
        v.matched or "",
        similar,
        v.verified_owner or "",
        "",
    ]


def summary_line(counts: dict[str, int], rows: int) -> str:
    """``1,000 rows: 3 high_risk, 10 suspicious, ... 2 invalid``: every level, worst first."""
    order = [lv.value for lv in (Level.HIGH_RISK, Level.SUSPICIOUS, Level.POSSIBLE)]
    order += [Level.VERIFIED.value, Level.NO_RECORD.value, "invalid"]
    parts = [f"{counts.get(name, 0):,} {name}" for name in order]
    return f"{rows:,} rows: " + ", ".join(parts)


__all__ = [
    "BULK_COLUMNS",
    "INVALID_LABEL",
    "bulk_values",
    "details",
    "level_label",
    "render_json_lines",
    "render_table",
    "summary_line",
]
