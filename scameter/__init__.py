"""scameter: a high-throughput scam-intelligence lookup engine.

This module only re-exports the public API. To look a value up::

    from scameter import open_snapshot

    with open_snapshot() as snapshot:
        verdict = snapshot.check("6391 2745")
"""

import os as _os

# numpy's OpenBLAS starts a pool of native threads when it is first imported. scameter uses
# numpy only for array search and bit arithmetic (no BLAS), and any extra thread makes the
# process unsafe to fork, so ingest and bulk would lose their worker pools
# (scameter.processes.can_fork). Ask for a one-thread pool, unless the user already chose.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
_os.environ.setdefault("OMP_NUM_THREADS", "1")
_os.environ.setdefault("MKL_NUM_THREADS", "1")

from scameter.errors import (
    IngestError,
    InvalidIdentifier,
    ScameterError,
    SnapshotCorrupt,
    SnapshotError,
    SnapshotNotFound,
    UnsupportedSnapshotVersion,
)
from scameter.facade import open_snapshot
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
    "open_snapshot",
    "url_expressions",
]
