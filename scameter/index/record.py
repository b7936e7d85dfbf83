"""The aggregated identifier record: what ingest produces and the snapshot builder consumes.

A :class:`Record` is already decided: ingest has applied the policy (windows, delistings,
allowlist) and chosen a level. The index only stores and answers; it never re-scores.
"""

from __future__ import annotations

from dataclasses import dataclass

from scameter.identifiers.model import Identifier
from scameter.verdict import Level, ReasonCode


@dataclass(frozen=True, slots=True)
class Record:
    """One identifier as it goes into a snapshot.

    * ``level``: the decided level; ``VERIFIED`` together with ``owner`` for allowlist entries.
    * ``reasons``: reason codes behind the level (e.g. ``POLICE_CONFIRMED``).
    * ``categories`` / ``sources``: sorted, de-duplicated names (``investment``, ``police``...).
    * ``first_reported`` / ``last_reported``: Unix seconds (UTC) or ``None``.
    * ``cluster``: id of the co-reporting cluster (connected component), ``None`` if alone.
    * ``listing``: for URL and domain records, the Safe Browsing expression the listing is
      stored under: ``evil.example/`` for a dedicated scam domain (matches every path and
      subdomain) or ``host/path`` for a page on a shared platform. ``None`` for other kinds.
    * ``owner``: the verified owner's name for allowlist entries.
    * ``case_ids``: the ids of the latest reports behind it (at most 20, latest first);
      ``case_count``: how many counted reports carried an id (may exceed ``len(case_ids)``).
    """

    identifier: Identifier
    level: Level
    reasons: tuple[ReasonCode, ...] = ()
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    report_count: int = 0
    reporters: int = 0
    first_reported: int | None = None
    last_reported: int | None = None
    cluster: int | None = None
    listing: str | None = None
    owner: str | None = None
    case_ids: tuple[str, ...] = ()
    case_count: int = 0
