"""STUB (being written): dispatch to the per-kind normalisers."""

from __future__ import annotations

from scameter.identifiers.model import Identifier, Kind


def normalize(kind: Kind | str, raw: str) -> Identifier:
    """Canonical identifier of ``raw`` as ``kind``; raises InvalidIdentifier."""
    raise NotImplementedError
