"""Canonical identifiers: one pure normaliser per kind, detection, and the 8-byte key.

The same functions serve ingest and lookups, so a report of ``9123 4567`` and a lookup of
``+852-9123-4567`` meet at one key. Every normaliser is pure, does no I/O (the Public Suffix
List comes from tldextract's bundled snapshot) and is idempotent.
"""

from scameter.identifiers.detect import detect
from scameter.identifiers.domain import registrable_domain
from scameter.identifiers.model import (
    KIND_TAGS,
    Identifier,
    Kind,
    expression_key,
    identifier_key,
)
from scameter.identifiers.normalize import normalize
from scameter.identifiers.url import canonical_url, expressions_for_canonical, url_expressions

__all__ = [
    "KIND_TAGS",
    "Identifier",
    "Kind",
    "canonical_url",
    "detect",
    "expression_key",
    "expressions_for_canonical",
    "identifier_key",
    "normalize",
    "registrable_domain",
    "url_expressions",
]
