"""Ingest: read reports, feeds, allowlists and delistings; apply policy; publish snapshots.

The public API (re-exports only; see :mod:`scameter.ingest.pipeline` for the stages)::

    result = run_ingest([Path("reports.jsonl")], snapshots_root, as_of=..., policy=...)
"""

from scameter.ingest.adapters import FORMATS, detect_format
from scameter.ingest.pipeline import DEFAULT_REPORTER_KEY, IngestResult, run_ingest
from scameter.ingest.policy import SOURCES, STATUSES, Policy, load_policy

__all__ = [
    "DEFAULT_REPORTER_KEY",
    "FORMATS",
    "SOURCES",
    "STATUSES",
    "IngestResult",
    "Policy",
    "detect_format",
    "load_policy",
    "run_ingest",
]
