"""The one error hierarchy of scameter.

Every error the package raises on purpose derives from :class:`ScameterError`. Library
exceptions (lmdb, phonenumbers, OSError, ...) are translated at the boundary with
``raise ... from`` so callers catch one family. Messages say what was wrong and what to do.

Invariant: no message built here contains a user-queried identifier in clear unless the caller
passes it explicitly for display; log lines must use :func:`redact`-style helpers instead.
"""

from __future__ import annotations

from pathlib import Path


class ScameterError(Exception):
    """Root of every error scameter raises on purpose."""


class InvalidIdentifier(ScameterError, ValueError):
    """A value cannot be normalised as the given (or any) identifier kind.

    ``kind`` is the kind that was attempted (``None`` when detection found nothing) and
    ``reason`` a sentence a person can act on. The raw input is kept on ``raw`` for the caller
    to show to the person who typed it; it is deliberately not part of ``str(error)`` so that
    logging an exception never leaks the identifier.
    """

    def __init__(self, kind: str | None, reason: str, raw: str | None = None) -> None:
        self.kind = kind
        self.reason = reason
        self.raw = raw
        label = kind if kind is not None else "identifier"
        super().__init__(f"invalid {label}: {reason}")


class InvalidMessage(ScameterError, ValueError):
    """A message cannot be checked as given (too long for one message check).

    Like :class:`InvalidIdentifier`, ``str(error)`` never contains the message text.
    """


class SnapshotError(ScameterError):
    """A snapshot cannot be used. ``path`` names the file or directory at fault."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {message}")


class SnapshotNotFound(SnapshotError):
    """No snapshot where one was expected (missing directory, file or CURRENT pointer)."""


class SnapshotCorrupt(SnapshotError):
    """A snapshot file is damaged: checksum mismatch, truncated LMDB, unreadable manifest."""


class UnsupportedSnapshotVersion(SnapshotError):
    """The snapshot's major format version is not one this reader understands."""


class SnapshotStale(SnapshotError):
    """The live snapshot is older than the configured maximum age."""


class DeviceFileError(ScameterError, ValueError):
    """A device database or delta is truncated, tampered with, or for another base version."""


class IngestError(ScameterError):
    """An ingest run cannot go on. ``file`` and ``line`` locate the cause where known."""

    def __init__(
        self, message: str, file: Path | str | None = None, line: int | None = None
    ) -> None:
        self.file = None if file is None else Path(file)
        self.line = line
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(f"{where}{message}")


class RejectRatioExceeded(IngestError):
    """Too many input rows were rejected; the snapshot was not published."""


class PolicyError(ScameterError):
    """A policy file is malformed or names an unknown setting."""


class ConfigError(ScameterError):
    """A setting, flag or environment variable has an unusable value."""


__all__ = [
    "ConfigError",
    "DeviceFileError",
    "IngestError",
    "InvalidIdentifier",
    "InvalidMessage",
    "PolicyError",
    "RejectRatioExceeded",
    "ScameterError",
    "SnapshotCorrupt",
    "SnapshotError",
    "SnapshotNotFound",
    "SnapshotStale",
    "UnsupportedSnapshotVersion",
]
