"""Compiled snapshots: format, builder, reader, near-match indexes, bitmaps, hot swap."""

from scameter.index.record import Record

__all__ = ["Record"]
