"""Canonical identifiers: one pure normaliser per kind, detection, and the 8-byte key.

The same functions serve ingest and lookups, so a report of ``9123 4567`` and a lookup of
``+852-9123-4567`` meet at one key. Every normaliser is pure, does no I/O (the Public Suffix
List comes from tldextract's bundled snapshot) and is idempotent. Each kind is declared once,
by the ``SPEC`` of its own module; :mod:`scameter.identifiers.registry` derives the per-kind
tables from those specs.
"""

from scameter.identifiers.bank import HK_BANK_CODES, bank_name, normalize_bank_account
from scameter.identifiers.crypto import normalize_crypto_wallet
from scameter.identifiers.detect import detect
from scameter.identifiers.domain import registrable_domain
from scameter.identifiers.email import normalize_email
from scameter.identifiers.extract import Extraction, Found, extract
from scameter.identifiers.fps import normalize_fps_id
from scameter.identifiers.ip import normalize_ip
from scameter.identifiers.model import (
    KIND_TAGS,
    Identifier,
    Kind,
    expression_key,
    identifier_key,
)
from scameter.identifiers.normalize import normalize
from scameter.identifiers.phone import normalize_phone
from scameter.identifiers.platform import normalize_platform_account
from scameter.identifiers.registry import KIND_SPECS, NORMALIZERS, SPEC_BY_KIND
from scameter.identifiers.sms_sender import normalize_sms_sender
from scameter.identifiers.spec import KindSpec
from scameter.identifiers.url import canonical_url, expressions_for_canonical, url_expressions

__all__ = [
    "HK_BANK_CODES",
    "KIND_SPECS",
    "KIND_TAGS",
    "NORMALIZERS",
    "SPEC_BY_KIND",
    "Extraction",
    "Found",
    "Identifier",
    "Kind",
    "KindSpec",
    "bank_name",
    "canonical_url",
    "detect",
    "expression_key",
    "expressions_for_canonical",
    "extract",
    "identifier_key",
    "normalize",
    "normalize_bank_account",
    "normalize_crypto_wallet",
    "normalize_email",
    "normalize_fps_id",
    "normalize_ip",
    "normalize_phone",
    "normalize_platform_account",
    "normalize_sms_sender",
    "registrable_domain",
    "url_expressions",
]
