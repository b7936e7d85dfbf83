"""STUB (being written): auto-detection of identifier kinds."""

from __future__ import annotations

from scameter.identifiers.model import Identifier


def detect(raw: str) -> list[Identifier]:
    """Every plausible kind for ``raw``, most likely first; ``[]`` for junk. Never raises."""
    raise NotImplementedError
