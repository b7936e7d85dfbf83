"""Dispatch from a kind to its normaliser: the one entry point ingest and lookups share.

Responsibility: map a :class:`Kind` (or its string value) to the per-kind module's normaliser.
Unknown kinds and non-string input raise :class:`InvalidIdentifier`, like bad values do, so a
caller handling one error type handles everything.

Invariants: every normaliser registered here is pure and idempotent
(``normalize(k, normalize(k, x).value) == normalize(k, x)``), raises only
:class:`InvalidIdentifier` for bad input, and returns an :class:`Identifier` of kind ``k``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers.bank import normalize_bank_account
from scameter.identifiers.crypto import normalize_crypto_wallet
from scameter.identifiers.domain import normalize_domain
from scameter.identifiers.email import normalize_email
from scameter.identifiers.fps import normalize_fps_id
from scameter.identifiers.ip import normalize_ip
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.phone import normalize_phone
from scameter.identifiers.platform import normalize_platform_account
from scameter.identifiers.url import normalize_url


def _platform(raw: str) -> Identifier:
    return normalize_platform_account(raw)


#: Kind -> normaliser. Keys are StrEnum members, which hash and compare as their string
#: values, so ``NORMALIZERS.get("phone")`` finds the phone normaliser without conversion.
NORMALIZERS: Final[dict[str, Callable[[str], Identifier]]] = {
    Kind.PHONE: normalize_phone,
    Kind.URL: normalize_url,
    Kind.DOMAIN: normalize_domain,
    Kind.EMAIL: normalize_email,
    Kind.FPS_ID: normalize_fps_id,
    Kind.BANK_ACCOUNT: normalize_bank_account,
    Kind.PLATFORM_ACCOUNT: _platform,
    Kind.CRYPTO_WALLET: normalize_crypto_wallet,
    Kind.IP: normalize_ip,
}

_KINDS_TEXT: Final = ", ".join(k.value for k in Kind)


def normalize(kind: Kind | str, raw: str) -> Identifier:
    """Canonical identifier of ``raw`` as ``kind``.

    Raises :class:`InvalidIdentifier` naming the kind and the reason when ``raw`` is not a
    valid ``kind``, or when ``kind`` is not a known kind.
    """
    fn = NORMALIZERS.get(kind)
    if fn is None:
        raise InvalidIdentifier(str(kind), f"unknown identifier kind; use one of {_KINDS_TEXT}")
    if not isinstance(raw, str):
        raise InvalidIdentifier(str(kind), "the value must be text")
    return fn(raw)


__all__ = ["NORMALIZERS", "normalize"]
