"""Auto-detection: every plausible identifier kind of an untyped value, most likely first.

Responsibility: what Scameter's own search box does. ``detect(raw)`` never raises; junk gives
``[]``. Each candidate is produced by the kind's own normaliser, so detection never invents a
canonical form the normaliser would not give.

Rules, in the order they are tried (documented in ``docs/identifiers.md``). Rules 1, 2 and 6
use the hints each kind declares in its spec (:mod:`scameter.identifiers.registry`); the rest
arbitrate between kinds that share a spelling, which only this module, seeing them all, can do.

1. A kind's exclusive shape (``detect_shape``): ``0x...`` is an EVM wallet (``crypto_wallet``).
2. ``prefix:rest`` with a prefix some kind claims (``detect_prefixes``): a platform
   (``telegram:foo``), a chain (``btc:...``) or ``mailto:``.
3. ``@handle``: platform accounts on the platforms where handles are written with ``@``, in
   order of how often HK scam reports name them: telegram, instagram, x, tiktok. Every
   platform whose handle rules accept the value is returned.
4. ``local@domain``: an e-mail address.
5. Values starting with a digit, ``+`` or ``(``: dotted-quad IPv4 -> ip; digit strings
   (separators allowed, full-width folded):
   * ``+`` or ``00`` prefix: phone only.
   * 8 digits: phone (HK subscriber numbers are 8 digits; FPS IDs are 7 or 9, never 8).
   * 7 or 9 digits: FPS ID, then phone if it is a *valid* E.164 number (``800123456`` is an
     HK toll-free number).
   * 3-6 digits: phone if libphonenumber knows it as an HK short code (``18222``, ``999``).
   * a first group of exactly 3 digits that is a known HK bank code, 12-18 digits in all
     (``004-123-456789001``): bank account only (this beats the ``00`` rule).
   * 12-18 digits starting with a known HK bank code: bank account, then phone if valid;
     otherwise phone if valid (as typed, else with ``+`` prepended: ``8613812345678``).
6. Links (``scheme://``, ``host/path``): a link to a host some kind claims
   (``detect_link_hosts``: a platform's profile links) gives that kind first, then the URL; any
   other link gives the URL.
7. IPv6 literals: ip.
8. Base58/bech32 shapes (``1...``, ``3...``, ``bc1...``, ``T...``): bitcoin/tron wallets whose
   checksum verifies (a checksum is what makes a random word not an address).
9. Bare host names with a dot: domain, then the URL ``http://host/``; ``host:port``: the URL.

Invariants: never raises (only :class:`InvalidIdentifier` is expected from the normalisers and
it is swallowed); no duplicates; every returned identifier is what ``normalize(kind, raw)``
gives for that kind (``raw`` as typed, or the sub-part named above).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers._text import fold, is_ascii_digits, strip_digit_separators
from scameter.identifiers.bank import HK_BANK_CODES, normalize_bank_account
from scameter.identifiers.crypto import normalize_crypto_wallet
from scameter.identifiers.domain import normalize_domain
from scameter.identifiers.email import normalize_email
from scameter.identifiers.fps import normalize_fps_id
from scameter.identifiers.ip import normalize_ip
from scameter.identifiers.model import Identifier
from scameter.identifiers.phone import normalize_phone
from scameter.identifiers.platform import normalize_platform_account
from scameter.identifiers.registry import DETECT_LINK_HOSTS, DETECT_PREFIXES, DETECT_SHAPES
from scameter.identifiers.url import normalize_url

#: Platforms tried for a bare ``@handle``, most likely first.
AT_HANDLE_PLATFORMS: Final = ("telegram", "instagram", "x", "tiktok")

_MAX_RAW: Final = 2048
_IP_CHARS: Final = frozenset("0123456789abcdefABCDEF.:[]%")
_BASE58ISH_RE: Final = re.compile(
    r"[13T][1-9A-HJ-NP-Za-km-z]{25,40}|[bB][cC]1[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}"
)
_FIRST_GROUP_RE: Final = re.compile(r"[\s\-./()]+")
_IPV4_RE: Final = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_HOSTISH_RE: Final = re.compile(r"[^\s/@:]+\.[^\s/@:.]+\.?")
_HOST_PORT_RE: Final = re.compile(r"[^\s/@:]+\.[^\s/@:.]+\.?:\d{1,5}")


def _try(fn: Callable[[str], Identifier], raw: str) -> Identifier | None:
    try:
        return fn(raw)
    except InvalidIdentifier:
        return None


def _url(raw: str) -> Identifier | None:
    return _try(normalize_url, raw)


def _add(out: list[Identifier], ident: Identifier | None) -> None:
    if ident is not None and ident not in out:
        out.append(ident)


def _valid_phone(raw: str) -> Identifier | None:
    ident = _try(normalize_phone, raw)
    return ident if ident is not None and ident.valid else None


def _digits(text: str, raw: str) -> list[Identifier] | None:
    """Candidates for a digit string, or None when ``text`` is not one."""
    plus = text.startswith("+")
    digits = strip_digit_separators(text[1:] if plus else text)
    if not is_ascii_digits(digits):
        return None
    out: list[Identifier] = []
    n = len(digits)
    if n == 8 and not plus:
        # The commonest case first: HK subscriber numbers are 8 digits, FPS IDs never are.
        _add(out, _try(normalize_phone, text))
        return out
    if (
        not plus
        and 12 <= n <= 18
        and digits[:3] in HK_BANK_CODES
        and _FIRST_GROUP_RE.split(text, maxsplit=1)[0] == digits[:3]
    ):
        # "004-123-456789001": a bank code written as its own group beats the "00" prefix;
        # such a grouping is not how anyone writes a phone number, so no phone candidate.
        _add(out, _try(normalize_bank_account, digits))
    elif plus or digits.startswith("00"):
        _add(out, _try(normalize_phone, text))
        if not out and not plus and 12 <= n <= 18 and digits[:3] in HK_BANK_CODES:
            _add(out, _try(normalize_bank_account, digits))
    elif n in (7, 9):
        _add(out, _try(normalize_fps_id, digits))
        phone = _valid_phone(digits)
        if phone is not None and phone.value.startswith("+"):
            _add(out, phone)
    elif n <= 6:
        _add(out, _valid_phone(digits))
    else:
        if 12 <= n <= 18 and digits[:3] in HK_BANK_CODES:
            _add(out, _try(normalize_bank_account, digits))
        phone = _valid_phone(digits)
        if phone is None and n >= 10:
            phone = _valid_phone("+" + digits)
        _add(out, phone)
    return out


def _prefixed(text: str, raw: str) -> list[Identifier] | None:
    """Candidates for ``prefix:rest`` forms, or None when the prefix is not one we know."""
    fn = DETECT_PREFIXES.get(text.partition(":")[0].strip().lower())
    if fn is None:
        return None
    return [i for i in (_try(fn, text),) if i is not None]


def _link(text: str) -> list[Identifier]:
    out: list[Identifier] = []
    rest = text.split("://", 1)[-1]
    host = rest.split("/", 1)[0].lower()
    for sub in ("www.", "m.", "mobile.", "web."):
        if host.startswith(sub):
            host = host[len(sub) :]
            break
    fn = DETECT_LINK_HOSTS.get(host)
    if fn is not None:
        _add(out, _try(fn, text))
    _add(out, _url(text))
    return out


def _detect(raw: str) -> list[Identifier]:
    text = fold(raw)
    if not text or len(text) > _MAX_RAW:
        return []
    first = text[0]
    for shape, fn in DETECT_SHAPES:
        if shape(text):
            return [i for i in (_try(fn, text),) if i is not None]
    if first.isdigit() or first in "+(":
        if _IPV4_RE.fullmatch(text):
            return [i for i in (_try(normalize_ip, text),) if i is not None]
        digits = _digits(text, raw)
        if digits is not None:
            return digits
    if ":" in text and "://" not in text:
        found = _prefixed(text, raw)
        if found is not None:
            return found
        if _HOST_PORT_RE.fullmatch(text):
            return _link(text)  # "evil.example:8080" is a site, not a domain
    if first == "@":
        out: list[Identifier] = []
        if "@" not in text[1:]:
            for platform in AT_HANDLE_PLATFORMS:
                with contextlib.suppress(InvalidIdentifier):
                    _add(out, normalize_platform_account(text, platform))
        return out
    if "@" in text and "/" not in text:
        return [i for i in (_try(normalize_email, text),) if i is not None]
    if "://" in text or "/" in text:
        return _link(text)
    if any(c.isspace() for c in text):
        return []
    if _IP_CHARS.issuperset(text) and ("." in text or ":" in text):
        ip = _try(normalize_ip, text)
        if ip is not None:
            return [ip]
    if _BASE58ISH_RE.fullmatch(text):
        wallet = _try(normalize_crypto_wallet, text)
        if wallet is not None:
            return [wallet]
    if _HOSTISH_RE.fullmatch(text):
        out = []
        domain = _try(normalize_domain, text)
        if domain is not None:
            out.append(domain)
            _add(out, _url(text))
        return out
    return []


def detect(raw: str) -> list[Identifier]:
    """Every plausible kind for ``raw``, most likely first; ``[]`` for junk. Never raises."""
    if not isinstance(raw, str):  # untyped callers (CSV cells, RPC) may pass None
        return []  # type: ignore[unreachable]
    n = len(raw)
    if (n == 8 or (n == 12 and raw[:4] == "+852")) and raw[-8:].isdigit() and raw.isascii():
        # The two commonest queries, "91234567" and "+85291234567", skip the dispatch below;
        # _detect reaches the same single normalize_phone call for them (rule 5).
        phone = _try(normalize_phone, raw)
        return [] if phone is None else [phone]
    return _detect(raw)


__all__ = ["AT_HANDLE_PLATFORMS", "detect"]
