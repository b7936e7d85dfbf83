"""STUB (being written): Safe Browsing v4 URL canonicalisation and lookup expressions."""

from __future__ import annotations


def canonical_url(raw: str) -> str:
    """Safe Browsing v4 canonical URL (``http://host/path?query``); raises InvalidIdentifier."""
    raise NotImplementedError


def url_expressions(raw: str) -> list[str]:
    """The host-suffix x path-prefix lookup expressions of ``raw`` (at most 30)."""
    raise NotImplementedError


def expressions_for_canonical(canonical: str) -> list[str]:
    """Lookup expressions of an already-canonical URL (no re-canonicalisation)."""
    raise NotImplementedError
