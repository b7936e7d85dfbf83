"""Auto-detection: every plausible identifier kind of an untyped value, most likely first.

Responsibility: what Scameter's own search box does. ``detect(raw)`` never raises; junk gives
``[]``. Each candidate is produced by the kind's own normaliser, so detection never invents a
canonical form the normaliser would not give.

Rules, in the order they are tried (documented in ``docs/identifiers.md``). Rules 1, 2 and 6
use the hints each kind declares in its spec (:mod:`scameter.identifiers.registry`); the rest
arbitrate between kinds that share a spelling, which only this module, seeing them all, can do.

1. A lead some kind claims (``detect_leads``): ``0x...`` is an EVM wallet (``crypto_wallet``).
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
   * 12 digits grouped 3-6-3 (``012-345678-001``, an HSBC / Hang Seng account without its
     bank code): nothing; :func:`not_recognised` asks for the bank code.
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
from scameter.identifiers.bank import (
    HK_BANK_CODES,
    MAX_ACCOUNT_DIGITS,
    MIN_ACCOUNT_DIGITS,
    MISSING_BANK_CODE,
    missing_bank_code,
    normalize_bank_account,
)
from scameter.identifiers.crypto import normalize_crypto_wallet
from scameter.identifiers.domain import normalize_domain
from scameter.identifiers.email import normalize_email
from scameter.identifiers.fps import normalize_fps_id
from scameter.identifiers.ip import normalize_ip
from scameter.identifiers.model import Identifier
from scameter.identifiers.phone import normalize_phone, typed_hk_compiled
from scameter.identifiers.platform import LINK_SUBDOMAINS, normalize_platform_account
from scameter.identifiers.registry import DETECT_LEADS, DETECT_LINK_HOSTS, DETECT_PREFIXES
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
#: Lengths of a bank account's digits: 3 (bank code) + 3 (branch) + the account's 6..12.
_BANK_DIGITS: Final = range(6 + MIN_ACCOUNT_DIGITS, 6 + MAX_ACCOUNT_DIGITS + 1)

#: The fast path of detect(): HK numbers as typed, at most "+852 - 9123 - 4567" long.
_FAST_MAX: Final = 20
_FAST_FIRST: Final = frozenset("0123456789+")
#: Every kind's leads, for one ``str.startswith`` test of rule 1.
_LEADS: Final = tuple(lead for lead, _ in DETECT_LEADS)
# Bound once: CPython 3.11 compiles ``NAME.get(...)`` on an imported name as an attribute load
# plus a bound-method call.
_prefix_kind: Final = DETECT_PREFIXES.get
_link_kind: Final = DETECT_LINK_HOSTS.get


def _try(fn: Callable[[str], Identifier], raw: str) -> Identifier | None:
    try:
        return fn(raw)
    except InvalidIdentifier:
        return None


def _only(fn: Callable[[str], Identifier], raw: str) -> list[Identifier]:
    """``[fn(raw)]``, or ``[]`` when ``raw`` is not valid for ``fn``'s kind."""
    ident = _try(fn, raw)
    return [] if ident is None else [ident]


def _add(out: list[Identifier], ident: Identifier | None) -> None:
    if ident is not None and ident not in out:
        out.append(ident)


def _valid_phone(raw: str) -> Identifier | None:
    ident = _try(normalize_phone, raw)
    return ident if ident is not None and ident.valid else None


# --- rule 5: digit strings. One function per case, chosen by _digits in the documented order.


def _bank_code_first(digits: str) -> bool:
    return len(digits) in _BANK_DIGITS and digits[:3] in HK_BANK_CODES


def _international(text: str, digits: str) -> list[Identifier]:
    """``00...`` without ``+``: a phone by its international prefix, else a bank account."""
    out = _only(normalize_phone, text)
    if not out and _bank_code_first(digits):
        _add(out, _try(normalize_bank_account, digits))
    return out


def _fps_length(digits: str) -> list[Identifier]:
    """7 or 9 digits: the FPS ID, then the phone if it is a valid E.164 number."""
    out = _only(normalize_fps_id, digits)
    phone = _valid_phone(digits)
    if phone is not None and phone.value.startswith("+"):
        _add(out, phone)
    return out


def _long_digits(digits: str) -> list[Identifier]:
    """10+ digits: a bank account by its code, then a phone as typed or with ``+`` prepended."""
    out: list[Identifier] = []
    if _bank_code_first(digits):
        _add(out, _try(normalize_bank_account, digits))
    phone = _valid_phone(digits)
    if phone is None and len(digits) >= 10:
        phone = _valid_phone("+" + digits)
    _add(out, phone)
    return out


def _digits(text: str) -> list[Identifier] | None:
    """Candidates for a digit string, or None when ``text`` is not one."""
    plus = text[0] == "+"
    digits = strip_digit_separators(text[1:] if plus else text)
    if not is_ascii_digits(digits):
        return None
    if plus:
        return _only(normalize_phone, text)
    n = len(digits)
    if n == 8:
        # The commonest case first: HK subscriber numbers are 8 digits, FPS IDs never are.
        return _only(normalize_phone, text)
    if n == 12 and missing_bank_code(text):
        return []  # an account without its bank code: see not_recognised
    if _bank_code_first(digits) and _FIRST_GROUP_RE.split(text, maxsplit=1)[0] == digits[:3]:
        # "004-123-456789001": a bank code written as its own group beats the "00" prefix;
        # such a grouping is not how anyone writes a phone number, so no phone candidate.
        return _only(normalize_bank_account, digits)
    if digits.startswith("00"):
        return _international(text, digits)
    if n in (7, 9):
        return _fps_length(digits)
    if n <= 6:
        return [] if (phone := _valid_phone(digits)) is None else [phone]
    return _long_digits(digits)


# --- rules 1-9 (module docstring), one function per rule, then the dispatch that orders them.


def _lead(text: str) -> list[Identifier]:
    """Rule 1: text starting with a kind's lead is that kind alone."""
    for lead, fn in DETECT_LEADS:
        if text.startswith(lead):
            return _only(fn, text)
    return []  # not reached: _detect calls this only when some lead matched


def _prefixed(text: str) -> list[Identifier] | None:
    """Rule 2: ``word:rest`` with a word some kind claims; also ``host:port`` (rule 9)."""
    fn = _prefix_kind(text.partition(":")[0].strip().lower())
    if fn is not None:
        return _only(fn, text)
    if _HOST_PORT_RE.fullmatch(text):
        return _link(text)  # "evil.example:8080" is a site, not a domain
    return None


def _at_handle(text: str) -> list[Identifier]:
    """Rule 3: ``@handle`` on every platform whose rules accept it."""
    out: list[Identifier] = []
    if "@" not in text[1:]:
        for platform in AT_HANDLE_PLATFORMS:
            with contextlib.suppress(InvalidIdentifier):
                _add(out, normalize_platform_account(text, platform))
    return out


def _numeric(text: str) -> list[Identifier] | None:
    """Rule 5: a dotted-quad IPv4 address or a digit string; None for anything else."""
    if _IPV4_RE.fullmatch(text):
        return _only(normalize_ip, text)
    return _digits(text)


def _link(text: str) -> list[Identifier]:
    """Rule 6: the identifier a link's host names (a profile), then the URL itself."""
    out: list[Identifier] = []
    host = text.split("://", 1)[-1].split("/", 1)[0].lower()
    for sub in LINK_SUBDOMAINS:
        if host.startswith(sub):
            host = host[len(sub) :]
            break
    fn = _link_kind(host)
    if fn is not None:
        _add(out, _try(fn, text))
    _add(out, _try(normalize_url, text))
    return out


def _bare(text: str) -> list[Identifier]:
    """Rules 7-9, for a bare word (no ``/``, no e-mail, no known prefix): an IPv6 literal, a
    checksummed bitcoin / tron address, else a host name."""
    if any(c.isspace() for c in text):
        return []  # words with spaces between them are no identifier of these kinds
    if _IP_CHARS.issuperset(text) and ("." in text or ":" in text):
        ip = _try(normalize_ip, text)
        if ip is not None:
            return [ip]
    if _BASE58ISH_RE.fullmatch(text):
        wallet = _try(normalize_crypto_wallet, text)
        if wallet is not None:
            return [wallet]
    return _host(text)


def _host(text: str) -> list[Identifier]:
    """Rule 9: a bare host name is a domain, then the site ``http://host/``."""
    if not _HOSTISH_RE.fullmatch(text):
        return []
    domain = _try(normalize_domain, text)
    if domain is None:
        return []
    out = [domain]
    _add(out, _try(normalize_url, text))
    return out


def _detect(raw: str) -> list[Identifier]:
    """The rules in the order they are tried; each guard is the rule's cheap precondition.

    Rule 5 is tried right after rule 1: digit strings are the commonest input, and it cannot
    change another rule's answer, as it answers only for digit strings and dotted quads, which
    no prefix, ``@`` or e-mail rule accepts.
    """
    text = fold(raw)
    if not text or len(text) > _MAX_RAW:
        return []
    if text[0] == "=" or not text.isprintable():
        # A spreadsheet formula (``=cmd|"/c calc"!A1``) or text with control characters
        # (terminal escapes) names no identifier: no kind starts with "=" or holds controls.
        return []
    if text.startswith(_LEADS):
        return _lead(text)
    first = text[0]
    if (first.isdigit() or first in "+(") and (found := _numeric(text)) is not None:
        return found
    if ":" in text and "://" not in text and (found := _prefixed(text)) is not None:
        return found
    if first == "@":
        return _at_handle(text)
    if "@" in text and "/" not in text:
        return _only(normalize_email, text)  # rule 4
    if "/" in text:  # "scheme://..." or "host/path"
        return _link(text)
    return _bare(text)


def detect(raw: str) -> list[Identifier]:
    """Every plausible kind for ``raw``, most likely first; ``[]`` for junk. Never raises."""
    if typed_hk_compiled is not None and (typed := typed_hk_compiled(raw)) is not None:
        # A valid HK number as typed, in C (phone.TYPED_HK_PATH): the one candidate the
        # paths below give it (rule 5, see phonecolumn's docstring); anything else goes on.
        return [typed]
    if not isinstance(raw, str):  # untyped callers (CSV cells, RPC) may pass None
        return []  # type: ignore[unreachable]
    if len(raw) <= _FAST_MAX and raw.isascii() and raw[-1:].isdigit() and raw[0] in _FAST_FIRST:
        # The commonest queries, HK numbers as people write them ("91234567", "9123 4567",
        # "+852 9123-4567"), skip the dispatch below. _detect reaches the same single
        # normalize_phone call for them (rule 5): an ASCII text that starts and ends with a
        # character fold() keeps is its own fold, and its digits without spaces and dashes
        # are 8 (a subscriber number) or +852 and 8.
        digits = raw.replace(" ", "").replace("-", "")
        if (len(digits) == 8 and digits.isdigit()) or (
            len(digits) == 12 and digits[:4] == "+852" and digits[4:].isdigit()
        ):
            phone = _try(normalize_phone, raw)
            return [] if phone is None else [phone]
    return _detect(raw)


def not_recognised(raw: str) -> str:
    """Why ``raw`` gave no candidate: the bank-code request for an account typed 3-6-3
    without its bank code (``012-345678-001``), else "not recognised as any kind"."""
    if isinstance(raw, str) and missing_bank_code(fold(raw)):
        return MISSING_BANK_CODE
    return "not recognised as any kind"


__all__ = ["AT_HANDLE_PLATFORMS", "detect", "not_recognised"]
