"""scameter: a high-throughput scam-intelligence lookup engine.

This module only re-exports the public API.
"""

from scameter.errors import (
    IngestError,
    InvalidIdentifier,
    ScameterError,
    SnapshotCorrupt,
    SnapshotError,
    SnapshotNotFound,
    UnsupportedSnapshotVersion,
)
from scameter.identifiers import (
    Identifier,
    Kind,
    canonical_url,
    detect,
    normalize,
    url_expressions,
)
from scameter.verdict import Level, Reason, ReasonCode, Verdict

__all__ = [
    "Identifier",
    "IngestError",
    "InvalidIdentifier",
    "Kind",
    "Level",
    "Reason",
    "ReasonCode",
    "ScameterError",
    "SnapshotCorrupt",
    "SnapshotError",
    "SnapshotNotFound",
    "UnsupportedSnapshotVersion",
    "Verdict",
    "canonical_url",
    "detect",
    "normalize",
    "url_expressions",
]
