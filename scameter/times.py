"""Time values: the one place where instants become text and text becomes instants.

Responsibility: every layer keeps an instant as a timezone-aware UTC :class:`datetime` (or, on
the storage hot paths, Unix seconds) and turns it into text only at an edge, through
:func:`iso_utc`; text from outside becomes an instant only through :func:`parse_iso_utc`.

Invariants:
* Output is RFC 3339 / ISO 8601 in UTC with a ``Z`` and whole seconds:
  ``2026-11-01T09:30:00Z``. Nothing else in the package formats a time.
* Parsing accepts what :meth:`datetime.fromisoformat` accepts plus a trailing ``Z`` or ``z``;
  a naive time means UTC (documented in ``docs/report-format.md``). The result is aware UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_CACHE: dict[int, str] = {}


def iso_utc(value: datetime | int | float) -> str:
    """``2026-11-01T09:30:00Z`` for an aware datetime or Unix seconds (fractions dropped).

    Unix seconds are memoised: report times repeat across records and ``strftime`` costs about
    as much as an LMDB probe, so the lookup path formats each distinct second once.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime has no defined instant; give it a timezone")
        return value.astimezone(UTC).strftime(_FORMAT)
    ts = int(value)
    s = _CACHE.get(ts)
    if s is None:
        if len(_CACHE) > 100_000:
            _CACHE.clear()
        s = _CACHE[ts] = time.strftime(_FORMAT, time.gmtime(ts))
    return s


def parse_iso_utc(text: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime; :class:`ValueError` when it is not one."""
    t = text.strip()
    if t[-1:] in ("Z", "z"):
        t = t[:-1] + "+00:00"
    dt = datetime.fromisoformat(t)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def utc_now() -> datetime:
    """The current instant, aware UTC, whole seconds (the default clock)."""
    return datetime.now(UTC).replace(microsecond=0)


__all__ = ["iso_utc", "parse_iso_utc", "utc_now"]
