"""The closed vocabulary of report categories.

Responsibility: the one list of categories a snapshot may hold, and the mapping of anything
else to ``other``. Categories come from the public (the ``Report`` RPC) and from files; each
distinct one becomes a string-table entry and a bitmap name in every snapshot, so an open
vocabulary let anyone with a reporter token stop every later build (past 65,536 distinct
strings) or plant text aimed at terminals and spreadsheets. Here it is closed: the scam types
the Hong Kong Police publish, plus the fixed categories the feed adapters give.

Invariant: :func:`canonical_category` returns a member of :data:`CATEGORIES` or ``""`` (no
category), for any input. Documented in ``docs/report-format.md``.
"""

from __future__ import annotations

from typing import Final

#: Every category a snapshot may hold. Append only (names appear in bitmaps and exports).
CATEGORIES: Final[tuple[str, ...]] = (
    # Scam types as the Hong Kong Police publish them.
    "online_shopping",
    "employment",
    "investment",
    "phishing_sms",
    "impersonation_of_officials",
    "romance",
    "loan",
    "guess_who",
    "ticketing",
    "tech_support",
    "rental",
    "impersonation",
    "money_mule",
    "spam",
    # The feed adapters' fixed categories (phishtank/openphish, metamask, URLhaus threats).
    "phishing",
    "crypto_phishing",
    "malware",
    "malware_download",
    "botnet_cc",
    # Anything else.
    "other",
)
OTHER: Final = "other"
#: Longest original category kept (in the intake log only) when it maps to ``other``.
MAX_ORIGINAL: Final = 64

_KNOWN: Final = frozenset(CATEGORIES)
_ALIASES: Final[dict[str, str]] = {
    "shopping": "online_shopping",
    "mule": "money_mule",
    "job": "employment",
    "malware_distribution": "malware_download",
}


def canonical_category(raw: str) -> str:
    """The vocabulary member ``raw`` names (case, spaces and hyphens folded), ``""`` for an
    empty value, ``other`` for anything else."""
    if raw in _KNOWN:  # the common case: already canonical
        return raw
    folded = raw.strip().lower().replace("-", "_").replace(" ", "_")
    if not folded:
        return ""
    if folded in _KNOWN:
        return folded
    return _ALIASES.get(folded, OTHER)


def is_known(raw: str) -> bool:
    """Whether ``raw`` is a vocabulary member as written."""
    return raw in _KNOWN


__all__ = ["CATEGORIES", "MAX_ORIGINAL", "OTHER", "canonical_category", "is_known"]
