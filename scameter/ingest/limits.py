"""Per-row limits of ingest: every limit of the storage format, checked on each row.

Responsibility: the bounds a row must respect so that one hostile or broken row is rejected
(file, line, reason) instead of aborting the whole build: string sizes of the packed record,
identifiers per report, JSON nesting depth (checked before parsing), and the accepted date
range. Each rejected row's reason starts with ``limit <name>:`` so the run's summary counts
the rejects per limit (:func:`limit_of`). Documented in ``docs/report-format.md``.

The other limits of the format cannot be reached from a row: categories come from a closed
vocabulary (:mod:`scameter.categories`: a few dozen strings, never 65,536, never a long LMDB
key), sources and statuses are fixed lists, reasons are declared in code; report and reporter
counts saturate at 2^32 - 1.
"""

from __future__ import annotations

from typing import Final

from scameter.index.format import MAX_STRING_BYTES
from scameter.ingest.rows import RowError

#: Deepest JSON nesting a row may have (a report is 3 deep); deeper is rejected unparsed.
MAX_JSON_DEPTH: Final = 32
#: Identifiers one report may name (each pair of them is a cluster link).
MAX_REPORT_IDENTIFIERS: Final = 1000
#: Longest canonical identifier, listing or owner in bytes (the record's u16 lengths).
MAX_VALUE_BYTES: Final = MAX_STRING_BYTES
#: Earliest accepted report / delisting time: 2000-01-01T00:00:00Z.
MIN_TIME: Final = 946_684_800
#: How far past ``as_of`` a time may be (clock skew between reporters and the builder).
FUTURE_SLACK: Final = 86_400

LIMITS: Final = ("json_depth", "report_identifiers", "value_bytes", "date_range")


def limit_error(name: str, detail: str) -> RowError:
    """The row error of limit ``name`` (its reason names the limit for the summary)."""
    return RowError(f"limit {name}: {detail}")


def limit_of(reason: str) -> str | None:
    """The limit a reject reason names, or None."""
    if reason.startswith("limit "):
        return reason[6:].partition(":")[0]
    return None


def check_json_depth(text: str | bytes) -> None:
    """Raise the ``json_depth`` row error when ``text`` nests deeper than MAX_JSON_DEPTH.

    A cheap count first (C speed): a line with fewer brackets than the limit cannot be too
    deep; only the rest is scanned, skipping string contents."""
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= MAX_JSON_DEPTH:
            return
        text = text.decode("utf-8", errors="replace")
    elif text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise limit_error("json_depth", f"JSON nested deeper than {MAX_JSON_DEPTH}")
        elif ch in "]}":
            depth -= 1


def check_value(what: str, value: str) -> None:
    """Raise the ``value_bytes`` row error when ``value`` is too long to store."""
    if len(value) > MAX_VALUE_BYTES // 4 and len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise limit_error("value_bytes", f"{what} longer than {MAX_VALUE_BYTES} bytes")


def check_identifier_count(n: int) -> None:
    if n > MAX_REPORT_IDENTIFIERS:
        raise limit_error(
            "report_identifiers",
            f"{n} identifiers in one report (at most {MAX_REPORT_IDENTIFIERS})",
        )


def check_time(ts: int, as_of: int) -> None:
    """Raise the ``date_range`` row error for a time before 2000 or after as_of + 1 day."""
    if ts < MIN_TIME or ts > as_of + FUTURE_SLACK:
        raise limit_error(
            "date_range",
            "date outside 2000-01-01T00:00:00Z .. as_of + 1 day (a mistyped year?)",
        )


__all__ = [
    "LIMITS",
    "MAX_JSON_DEPTH",
    "MAX_REPORT_IDENTIFIERS",
    "MAX_VALUE_BYTES",
    "check_identifier_count",
    "check_json_depth",
    "check_time",
    "check_value",
    "limit_error",
    "limit_of",
]
