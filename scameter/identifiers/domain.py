"""STUB (being written): hosts and registrable domains (PSL via tldextract, offline)."""

from __future__ import annotations


def registrable_domain(host: str) -> str | None:
    """Registrable domain (eTLD+1, private suffixes count) of a canonical host, or None."""
    raise NotImplementedError
