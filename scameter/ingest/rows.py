"""Rows of the report schema, before normalisation: the common shape every adapter produces.

Responsibility: the :data:`RawRow` tuples (report / allow / delist), :class:`RowError` for a
row that cannot be used, and the parsing shared by the JSONL, CSV and intake readers
(:func:`row_from_mapping`) and timestamps (:func:`parse_time`). The schema is documented in
``docs/report-format.md``.

Rows are plain tuples, not dataclasses: millions of them cross process boundaries (pickled)
and a tuple is the cheapest thing to build and pickle. Layouts::

    (REPORT, id, source, status, reported_at, reporter, reporter_hash, category, idents,
     provider)
    (ALLOW, kind, value, owner)
    (DELIST, kind, value, reason, at)

``idents`` is a tuple of ``(kind or None, raw value)``; ``reported_at`` / ``at`` are Unix seconds
(UTC) or ``None`` when the row has no date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from scameter.identifiers.extract import extract
from scameter.identifiers.phone import localize_phone, parse_region
from scameter.index.message import message_size_error
from scameter.times import parse_iso_utc

REPORT = 0
ALLOW = 1
DELIST = 2

RawRow = tuple[Any, ...]
Ident = tuple[str | None, str]


class RowError(ValueError):
    """This row cannot be used; ``reason`` is what goes into rejects.jsonl."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: The rejects.jsonl reason of a text-only report in which no identifier was found.
NO_IDENTIFIERS = "no_identifiers"


class TextOnlyReport(Exception):
    """A text-only report in which no identifier was found: nothing to list, but the report
    is kept (written whole to rejects.jsonl as ``ignored``, reason :data:`NO_IDENTIFIERS`,
    and counted), never lost."""


def parse_time_text(text: str) -> int:
    """Unix seconds of an ISO 8601 (or numeric) string; :class:`RowError` when it is none.

    The instant is the one :func:`scameter.times.parse_iso_utc` reads (naive times are UTC),
    kept as Unix seconds: rows cross process boundaries by the million and aggregation
    compares their times once per report.
    """
    text = text.strip()
    if not text:
        raise RowError("empty date")
    try:
        # This runs once per report in the workers' hot loop. ``fromisoformat`` accepts a
        # subset of what parse_iso_utc accepts ("2026-11-01", "...T09:30:00Z", "+08:00") and
        # yields the same instant at about 60% of its cost (measured); the rest (a lower-case
        # "z") goes through parse_iso_utc itself, so the two cannot disagree.
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            dt = parse_iso_utc(text)
        except ValueError:
            if text.replace(".", "", 1).isdigit():
                try:
                    return int(float(text))
                except (OverflowError, ValueError):
                    raise RowError(f"bad date {text[:40]!r}") from None
            raise RowError(
                f"bad date {text[:40]!r}: use ISO 8601, e.g. 2026-11-01T09:30:00Z"
            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # documented: naive times are UTC (as parse_iso_utc)
    return int(dt.timestamp())


def parse_time(value: object) -> int | None:
    """Unix seconds of an ISO 8601 string or a number; ``None`` for a missing value."""
    if type(value) is str:  # the common case first: this runs once per report
        return parse_time_text(value) if value else None
    if value is None:
        return None
    if isinstance(value, bool):
        raise RowError("bad date: a boolean")
    if isinstance(value, int | float):
        try:
            return int(value)
        except (OverflowError, ValueError):  # inf, nan: not a time
            raise RowError(f"bad date {value!r}") from None
    raise RowError(f"bad date of type {type(value).__name__}")


def _str(row: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = row.get(name)
    if type(value) is str and value:  # fast path: this runs ~9 times per report
        return value
    if value is None or value == "":
        return default
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RowError(f"field {name!r} must be a string")
    return str(value)


def _region(row: Mapping[str, Any]) -> str | None:
    """The row's (or item's) ``region``: local phone numbers of that country (default HK)."""
    text = _str(row, "region")
    if text is None:
        return None
    try:
        return parse_region(text)
    except ValueError as e:
        raise RowError(str(e)) from None


def _localized(idents: tuple[Ident, ...], region: str | None) -> tuple[Ident, ...]:
    if region is None:
        return idents
    return tuple(
        (kind, localize_phone(value, region) if kind in (None, "phone") else value)
        for kind, value in idents
    )


def _idents(row: Mapping[str, Any], region: str | None = None) -> tuple[Ident, ...]:
    """The row's identifiers; local phone numbers read in the row's ``region`` when it says,
    else in ``region`` (``ingest --region``), else as Hong Kong numbers."""
    if "region" in row:
        return _localized(_idents_as_given(row), _region(row))
    return _localized(_idents_as_given(row), region)


def _idents_as_given(row: Mapping[str, Any]) -> tuple[Ident, ...]:
    items = row.get("identifiers")
    if items is None or items == []:
        value = _str(row, "value")
        if value is not None:
            return ((_str(row, "kind"), value),)
        text = row.get("text")
        if isinstance(text, str) and text.strip():
            return text_identifiers(text)
        if items is None:
            raise RowError("report names no identifier (no 'identifiers', 'value' or 'text')")
    if not isinstance(items, list) or not items:
        raise RowError("'identifiers' must be a non-empty list")
    out: list[Ident] = []
    for item in items:
        if type(item) is dict:
            value = item.get("value")
            kind = item.get("kind")
            if (
                type(value) is str
                and value
                and (kind is None or type(kind) is str)
                and "region" not in item
            ):
                out.append((kind or None, value))  # fast path: the usual {kind, value}
                continue
        elif isinstance(item, str):
            out.append((None, item))
            continue
        if not isinstance(item, dict):
            raise RowError("each identifier must be an object {kind, value} or a string")
        value = _str(item, "value")
        if value is None:
            raise RowError("identifier without a value")
        out.extend(_localized(((_str(item, "kind"), value),), _region(item)))
    return tuple(out)


def text_identifiers(text: str) -> tuple[Ident, ...]:
    """The identifiers of a text-only report: those extraction finds in its text, as
    ``(kind, canonical)`` pairs, which the normal canonical path then takes unchanged.

    Raises :class:`RowError` for a text over the 64 KiB message limit and
    :class:`TextOnlyReport` when the text names none.
    """
    problem = message_size_error(text)
    if problem is not None:
        raise RowError(f"text: {problem}")
    found = extract(text).identifiers()
    if not found:
        raise TextOnlyReport(NO_IDENTIFIERS)
    return tuple((i.kind.value, i.value) for i in found)


def row_from_mapping(
    row: Mapping[str, Any],
    *,
    source: str | None = None,
    category: str | None = None,
    region: str | None = None,
) -> RawRow:
    """A :data:`RawRow` from a schema object (JSONL line, CSV row, intake record).

    ``source`` / ``category`` / ``region`` are the caller's defaults for rows that do not say
    (``region``: a parsed ISO code, for local phone numbers; None reads them as HK numbers).
    """
    kind_of_row = _str(row, "type", "report")
    if kind_of_row == "report":
        src = _str(row, "source", source or "public")
        return (
            REPORT,
            _str(row, "id"),
            src,
            # A feed row is the feed's listing unless it says otherwise (docs/report-format.md).
            _str(row, "status", "confirmed" if src == "feed" else "unverified"),
            parse_time(row.get("reported_at")),
            _str(row, "reporter"),
            _str(row, "reporter_hash"),
            _str(row, "category", category or ""),
            _idents(row, region),
            _str(row, "provider"),
        )
    if kind_of_row == "allow":
        value = _str(row, "value")
        if value is None:
            raise RowError("allow row without a value")
        return (ALLOW, _str(row, "kind"), value, _str(row, "owner", ""))
    if kind_of_row == "delist":
        value = _str(row, "value")
        if value is None:
            raise RowError("delist row without a value")
        return (
            DELIST,
            _str(row, "kind"),
            value,
            _str(row, "reason", ""),
            parse_time(row.get("at")),
        )
    raise RowError(f"unknown row type {kind_of_row!r} (report, allow or delist)")


def feed_row(
    value: str,
    *,
    kind: str | None,
    source: str,
    category: str,
    status: str = "confirmed",
    reported_at: int | None = None,
    report_id: str | None = None,
    region: str | None = None,
) -> RawRow:
    """A one-identifier report from a list-style feed (the provider stands behind the list);
    ``region`` (``ingest --region``) reads a local phone number as a number of that country."""
    idents = _localized(((kind, value),), region)
    return (
        REPORT, report_id, source, status, reported_at, None, None, category, idents, None,
    )  # fmt: skip


__all__ = [
    "ALLOW",
    "DELIST",
    "NO_IDENTIFIERS",
    "REPORT",
    "Ident",
    "RawRow",
    "RowError",
    "TextOnlyReport",
    "feed_row",
    "parse_time",
    "parse_time_text",
    "row_from_mapping",
    "text_identifiers",
]
