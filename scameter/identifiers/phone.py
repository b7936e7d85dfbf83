"""Phone numbers: E.164 via ``phonenumbers`` (libphonenumber), default region Hong Kong.

Canonical forms (see ``docs/identifiers.md``):

* a number of possible length for its country: E.164, ``+85291234567`` (ITU-T E.164:
  ``+``, country code, national significant number, no separators);
* an HK short code libphonenumber's short-number metadata knows (``18222``, ``999``,
  ``1823``): its national digits, ``18222``. E.164 has no form for short codes, and the lack
  of a leading ``+`` keeps the two forms apart. Short codes are taken at 3-6 digits only, so a
  short code's canonical form never looks like an FPS ID (7 or 9 digits); their keys would not
  collide anyway, as the kind tag differs.

Validity: only *impossible* numbers (wrong length, unknown country code) raise
:class:`InvalidIdentifier`. Numbers of possible length in unallocated ranges are kept with
``valid=False`` because scammers use them.

Fast path: the common HK spellings (``+85291234567``, ``91234567``, ``9123 4567``,
``85291234567``, ``+852 9123-4567``, ``00852 ...``, ``001 852 ...``) are decided with a few
string operations and tables compiled *at import time from phonenumbers' own HK metadata*
(:mod:`scameter.identifiers._phonemeta`: per-length validity regexes mirroring
``_number_type_helper``, and a proven 4-digit prefix table for 8-digit numbers), with each
branch mirroring a step of ``phonenumbers.parse`` (e.g. ``_maybe_extract_country_code``).
Anything the fast path is not certain of goes to the full parser.
``tests/property/test_identifier_properties.py`` checks agreement on generated numbers.

Links: ``tel:`` (RFC 3966), ``sms:`` and ``smsto:`` (RFC 5724) spell one number, so their
number is read (``tel:+852-6391-2745;ext=1`` and ``sms:63912745?body=hi`` are ``+85263912745``;
an ``sms:`` link to several numbers is refused: check each). Only the slow path looks at them.

Invariants: pure, no I/O; ``normalize_phone(normalize_phone(x).value) == normalize_phone(x)``.
"""

from __future__ import annotations

import re
from typing import Final

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberFormat, ValidationResult, shortnumberinfo

from scameter.errors import InvalidIdentifier
from scameter.identifiers import _phonemeta
from scameter.identifiers._text import fold
from scameter.identifiers.model import Identifier, Kind, make_identifier
from scameter.identifiers.spec import KindSpec

DEFAULT_REGION: Final = "HK"
_HK_CC: Final = "852"
_KIND: Final = Kind.PHONE

#: Characters a person may type in a phone number besides digits: E.123 uses spaces and
#: brackets, people add dashes, dots and slashes. ``+`` only leads. Letters (vanity numbers,
#: extensions) are rejected: a reported number never needs them.
_ALLOWED_PUNCT: Final = frozenset(" -.()/+")
_DELETE_SEPARATORS: Final = str.maketrans("", "", " -.()/")

#: phonenumbers refuses longer input (``_MAX_INPUT_STRING_LENGTH``); refuse earlier with a reason.
_MAX_RAW: Final = 64

_general_full = _phonemeta.GENERAL.fullmatch
#: Length -> fullmatch of the valid numbers of that length (possible lengths only).
_VALID_FULL: Final = {length: rx.fullmatch for length, rx in _phonemeta.VALID_BY_LENGTH.items()}
_valid8_full = _VALID_FULL[8]
#: 4-digit prefix -> validity of every 8-digit number under it (proven, see _phonemeta).
_PREFIX8: Final = _phonemeta.PREFIX8
_prefix8 = _PREFIX8.get
#: HK's longest possible national number: longer input takes libphonenumber's TOO_LONG branch.
_MAX_LENGTH: Final = _phonemeta.MAX_LENGTH


def _make(value: str, valid: bool) -> Identifier:
    """A phone ``Identifier`` without the frozen dataclass ``__init__``
    (:func:`~scameter.identifiers.model.make_identifier`: the E.164 fast path targets ~1 us)."""
    return make_identifier(_KIND, value, valid)


# --- The typed-HK-number shortcut (issue 20): compiled where it was built, else not taken.

try:
    from scameter.identifiers._phonefast import TypedHK as _TypedHK
except ImportError:  # built without a C compiler: the Python paths below answer alone
    _TypedHK = None  # type: ignore[assignment,misc]

#: Which implementation answers the typed HK numbers first: ``"compiled"``
#: (``scameter.identifiers._phonefast``, built by ``pip install`` where a C compiler is found)
#: or ``"python"`` (no shortcut: :func:`normalize_phone`'s and ``detect``'s own fast paths).
TYPED_HK_PATH: Final = "python" if _TypedHK is None else "compiled"
_TYPED_SEPARATORS: Final = str.maketrans("", "", " -()")
_TYPED_FIRST: Final = frozenset("0123456789+(")
_TYPED_MAX: Final = 20
#: The phone kind's key tag (``SPEC.tag`` below, part of the format): the compiled shortcut
#: computes the keys of the numbers it takes.
SPEC_TAG: Final = b"\x01"


def typed_hk_python(raw: object) -> Identifier | None:
    """The reference of the compiled shortcut (``_phonefast.c``, same rules, for tests).

    The phone identifier of a *valid* HK number typed in a common spelling, else None: the
    one-row form of :func:`scameter.identifiers.phonecolumn.typed_hk_numbers`, which takes
    exactly these rows: an exact ``str`` of 1-20 ASCII characters, digits and `` -()`` only
    but for one leading ``+``, starting with a digit, ``+`` or ``(`` and ending with a digit;
    its digits 8 not starting with ``0`` nor ``852`` without ``+``, or ``852`` and 8 not
    starting with ``0``; and a national number whose 4-digit prefix is proven all-valid
    (``_phonemeta.PREFIX8``). For those, :func:`normalize_phone` and ``detect`` give
    ``Identifier(PHONE, "+852" + national, True)`` (phonecolumn's docstring says why).
    """
    if raw.__class__ is not str:
        return None
    text: str = raw
    if not 0 < len(text) <= _TYPED_MAX or not text.isascii():
        return None
    plus = text[0] == "+"
    if text[0] not in _TYPED_FIRST or not text[-1].isdigit():
        return None
    digits = (text[1:] if plus else text).translate(_TYPED_SEPARATORS)
    if not digits.isdigit():  # ASCII: only 0-9 are digits
        return None
    if len(digits) == 8 and not plus and not digits.startswith(_HK_CC):
        national = digits
    elif len(digits) == 11 and digits.startswith(_HK_CC):
        national = digits[3:]
    else:
        return None
    if national[0] == "0" or _prefix8(national[:4]) is not True:
        return None
    return _make("+852" + national, True)


def _prefix_valid_table() -> bytes:
    """``PREFIX8`` for the compiled shortcut: byte ``int(prefix)`` is 1 for a prefix proven
    all-valid, 0 for every other (proven invalid, or decided by the regex)."""
    table = bytearray(10_000)
    for prefix, valid in _PREFIX8.items():
        if valid:
            table[int(prefix)] = 1
    return bytes(table)


_typed_hk: Final = (
    None if _TypedHK is None else _TypedHK(Identifier, _KIND, _prefix_valid_table(), SPEC_TAG)
)
#: The compiled shortcut's ``match`` (same answers as :func:`typed_hk_python`, None where it
#: declines), or None when the extension is not built.
typed_hk_compiled: Final = None if _typed_hk is None else _typed_hk.match
#: The compiled shortcut's ``keyed``: ``(identifier, its key)`` where ``match`` answers (same
#: answers as :func:`typed_hk_keyed_python`), or None when the extension is not built. Lookups
#: of a typed number take their key from here (``scameter.index.exact``).
typed_hk_keyed: Final = None if _typed_hk is None else _typed_hk.keyed


def typed_hk_keyed_python(raw: object) -> tuple[Identifier, bytes] | None:
    """The reference of :data:`typed_hk_keyed`: :func:`typed_hk_python` and the identifier's
    key (:attr:`Identifier.key`), or None where it declines."""
    ident = typed_hk_python(raw)
    return None if ident is None else (ident, ident.key)


def _validity(national: str) -> bool | None:
    """``is_valid_number`` of an HK national number of possible length; None otherwise."""
    if len(national) == 8:
        valid = _prefix8(national[:4])
        if valid is not None:
            return valid
    full = _VALID_FULL.get(len(national))
    return None if full is None else full(national) is not None


def _national(digits: str) -> Identifier | None:
    """Identifier for bare ASCII ``digits`` read as an HK national number, or None if unsure.

    Sure means: at least 7 digits (3-6 may be short codes), no leading ``0`` (international
    prefix, Italian leading zero), no leading ``852`` (phonenumbers may strip it as a country
    code), and a length ``is_possible_number`` accepts (else the parser words the error).
    """
    if len(digits) < 7 or digits[0] == "0" or digits.startswith(_HK_CC):
        return None
    if len(digits) == 11 and _MAINLAND_MOBILE.fullmatch(digits):
        return None  # a mainland mobile without its 86: _slow reads it
    valid = _validity(digits)
    return None if valid is None else _make("+852" + digits, valid)


def _fast(raw: str) -> Identifier | None:
    """The common HK spellings, or None to fall back to the full parser.

    Agrees with phonenumbers by construction: every regex comes from its HK metadata, and each
    branch mirrors a step of ``phonenumbers.parse`` for input of that exact shape.
    """
    if raw[:4] == "+852":
        national = raw[4:]
        if national.isdigit() and national.isascii() and national[0] != "0":
            # With a '+' the country code is explicit: no default-region stripping applies.
            valid = _validity(national)
            if valid is not None:
                return _make(raw, valid)
        return None
    if raw.isdigit():
        if not raw.isascii():
            return None
        if raw.startswith(_HK_CC) and len(raw) <= _MAX_LENGTH:
            # phonenumbers strips a leading default country code when the whole number does
            # not match the general pattern but the rest does (its other branch, a TOO_LONG
            # whole number, needs more digits than HK's longest possible length).
            national = raw[3:]
            if national[:1] not in ("", "0") and not _general_full(raw) and _general_full(national):
                valid = _validity(national)
                if valid is not None:
                    return _make("+852" + national, valid)
            return None
        return _national(raw)
    if len(raw) == 9 and raw[4] == " ":
        digits = raw[:4] + raw[5:]
        if digits.isdigit() and digits.isascii():
            return _national(digits)
    return None


def _nanp_max_length() -> int:
    """Longest possible national number for country code 1, from the installed metadata."""
    region = phonenumbers.region_code_for_country_code(1)
    meta = PhoneMetadata.metadata_for_region(region)
    assert meta is not None
    assert meta.general_desc is not None
    return max(meta.general_desc.possible_length)


_NANP_MAX_LENGTH: Final = _nanp_max_length()


def _fast_idd(digits: str) -> Identifier | None:
    """``00852 ...`` and ``001 852 ...`` (ASCII digits only) without the parser, or None.

    Mirrors :func:`_slow`'s "00" rule: the plain ``00`` reading (``+852...``) wins when it is a
    valid number. For ``001852...`` the plain reading is ``+1 852...``, which is TOO_LONG for
    country code 1 when it has more digits than NANP's longest possible number (no national
    prefix is stripped, as the rest does not start with 1); the HK carrier reading then strips
    the IDD ``001`` and yields ``+852...``, the form :func:`_fast` decides.
    """
    if digits.startswith("00852"):
        hit = _fast("+" + digits[2:])
        if hit is not None and hit.valid:
            return hit
    elif digits.startswith("001852") and len(digits) - 3 > _NANP_MAX_LENGTH:
        return _fast("+" + digits[3:])
    return None


_REASONS: Final = {
    ValidationResult.TOO_SHORT: "too short to be a phone number",
    ValidationResult.TOO_LONG: "too long to be a phone number",
    ValidationResult.INVALID_LENGTH: "not a possible length for a number of that country",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country calling code",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local-only number: include the area code",
}


def _check_characters(text: str, raw: str) -> bool:
    """Reject characters no phone number has; True when a leading ``+`` is present."""
    plus = False
    seen_digit = False
    for ch in text:
        if ch.isdigit():
            if not ch.isascii():  # NFKC already folded full-width; others are not phone digits
                raise InvalidIdentifier(_KIND, "contains non-ASCII digits", raw)
            seen_digit = True
        elif ch == "+":
            if plus or seen_digit:
                raise InvalidIdentifier(_KIND, "'+' may only lead a phone number", raw)
            plus = True
        elif ch not in _ALLOWED_PUNCT:
            raise InvalidIdentifier(
                _KIND, "contains characters other than digits, spaces, dashes and brackets", raw
            )
    return plus


def _short_code(digits: str) -> bool:
    """True for an HK short code libphonenumber knows (``18222``, ``999``, ``1823``)."""
    # libphonenumber's HK short-code metadata admits up to 7 digits, but 7 is an FPS ID
    # length; the short codes people report (999, 1823, 18222, 18281) have 3-6.
    if not 3 <= len(digits) <= 6:
        return False
    if digits[0] == "0":
        return False  # HK short codes never lead with 0, and int() below would drop it
    number = phonenumbers.PhoneNumber(country_code=852, national_number=int(digits))
    return bool(shortnumberinfo.is_valid_short_number_for_region(number, DEFAULT_REGION))


#: RFC 3966 / RFC 5724 link schemes that name one number (lower case, with the colon).
URI_SCHEMES: Final = ("tel:", "sms:", "smsto:")


def _uri_number(raw: str) -> str:
    """The number of a ``tel:`` / ``sms:`` / ``smsto:`` link, else ``raw`` unchanged."""
    head = raw[:7].lstrip().lower()
    if not head.startswith(URI_SCHEMES):
        return raw
    number = raw.lstrip().partition(":")[2]
    # tel: parameters follow ';' (RFC 3966 section 3), sms: fields follow '?' (RFC 5724).
    number = number.split(";", 1)[0].split("?", 1)[0]
    if "," in number:
        raise InvalidIdentifier(_KIND, "a link to several numbers: check each number", raw)
    return number


def _slow(raw: str, *, fast: bool = True) -> Identifier:
    """Any spelling: fold, check, then short codes, the fast path again, ``00``, the parser."""
    text, plus, digits = _folded(_uri_number(raw), raw)
    if not plus and _short_code(digits):
        return Identifier(_KIND, digits, True)
    if fast:
        hit = _fast_folded(digits, plus)
        if hit is not None:
            return hit
    if not plus and digits.startswith("00"):
        return _double_zero(text, digits, raw)
    if not plus and _MAINLAND_MOBILE.fullmatch(digits):
        mainland = _parse_possible("+86" + digits, raw)
        if mainland.valid:
            return mainland
    return _parse_possible(text, raw)


#: A mainland China mobile as people in Hong Kong type it, without ``86``: 11 digits from
#: ``13`` to ``19``. No Hong Kong number has 11 digits, so the reading is unambiguous; it is
#: taken only when libphonenumber confirms a valid +86 number.
_MAINLAND_MOBILE: Final = re.compile(r"1[3-9]\d{9}")


def _folded(number: str, raw: str) -> tuple[str, bool, str]:
    """(folded text, has a leading ``+``, its digits) of ``number`` (``raw`` without a link
    scheme); InvalidIdentifier for no phone at all."""
    text = fold(number)
    if not text:
        raise InvalidIdentifier(_KIND, "empty", raw)
    if len(text) > _MAX_RAW:
        raise InvalidIdentifier(_KIND, f"longer than {_MAX_RAW} characters", raw)
    plus = _check_characters(text, raw)
    digits = "".join(c for c in text if c.isdigit())
    if not digits:
        raise InvalidIdentifier(_KIND, "contains no digits", raw)
    return text, plus, digits


def _fast_folded(digits: str, plus: bool) -> Identifier | None:
    """The fast path again after folding: full-width and separated spellings of the common
    forms. Only separators were dropped, which phonenumbers ignores as well."""
    hit = _fast("+" + digits if plus else digits)
    if hit is None and not plus and digits.startswith("00"):
        hit = _fast_idd(digits)
    return hit


def _double_zero(text: str, digits: str, raw: str) -> Identifier:
    """A number written with a leading ``00`` and no ``+``.

    "00" is the international prefix of most of the world and how people in HK write
    "0086 ..." or "00852 ...". phonenumbers' HK metadata instead reads the carrier IDDs
    001/002/0030/0050/0059/006-009, so "00852" would become Mexico (+52) and "0086"
    Australia (+61). Prefer the plain "00" reading when it yields a valid number.
    """
    try:
        generic: Identifier | None = _parse_possible("+" + digits[2:], raw)
    except InvalidIdentifier:
        generic = None
    if generic is not None and generic.valid:
        return generic
    try:
        carrier = _parse_possible(text, raw)
    except InvalidIdentifier:
        if generic is None:
            raise
        return generic
    return carrier if carrier.valid or generic is None else generic


def _parse_possible(text: str, raw: str) -> Identifier:
    """phonenumbers' reading of ``text`` if it is a possible number; else InvalidIdentifier."""
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(_KIND, _parse_reason(exc), raw) from exc
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        raise InvalidIdentifier(_KIND, _REASONS.get(possible, "not a possible number"), raw)
    value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return Identifier(_KIND, value, bool(phonenumbers.is_valid_number(number)))


def _parse_reason(exc: phonenumbers.NumberParseException) -> str:
    kinds = phonenumbers.NumberParseException
    return {
        kinds.INVALID_COUNTRY_CODE: "unknown country calling code",
        kinds.NOT_A_NUMBER: "not a phone number",
        kinds.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
        kinds.TOO_SHORT_NSN: "too short to be a phone number",
        kinds.TOO_LONG: "too long to be a phone number",
    }.get(exc.error_type, "not a phone number")


def normalize_phone(raw: str) -> Identifier:
    """Canonical phone identifier of ``raw`` (E.164, or an HK short code's digits).

    Raises :class:`InvalidIdentifier` (kind ``phone``) for impossible numbers.
    """
    if typed_hk_compiled is not None and (typed := typed_hk_compiled(raw)) is not None:
        return typed  # a valid HK number as typed, in C (TYPED_HK_PATH); else the paths below
    if len(raw) == 12 and raw[:4] == "+852":
        # The E.164 form inline (no call): the commonest input of lookups.
        national = raw[4:]
        if national.isdigit() and national.isascii() and national[0] != "0":
            valid = _prefix8(national[:4])
            if valid is None:
                valid = _valid8_full(national) is not None
            return _make(raw, valid)
    hit = _fast(raw)
    if hit is not None:
        return hit
    if raw.isascii():
        # Typed ASCII forms ("+852 9123-4567", "(852) 9123 4567"): deleting the separators
        # _check_characters allows gives exactly the string _slow hands to _fast, whenever
        # that string is all digits (with at most one leading '+'); anything else falls through.
        compact = raw.translate(_DELETE_SEPARATORS)
        hit = _fast(compact)
        if hit is not None:
            return hit
        if compact[:3] == "+86":
            hit = _mainland(compact)
            if hit is not None:
                return hit
    return _slow(raw)


_CN: Final = PhoneMetadata.metadata_for_region("CN")
#: What phonenumbers strips from a mainland national number before reading it (a national
#: or carrier prefix, its CN metadata's ``national_prefix_for_parsing``), matched as it
#: matches it: at the start. Without CN metadata every number takes the full path.
_CN_STRIP: Final = re.compile(
    (_CN.national_prefix_for_parsing or "(?!)") if _CN is not None else ""
).match


def _mainland(compact: str) -> Identifier | None:
    """A mainland China mobile-length number typed with its country code (``compact``:
    ``+86`` and 11 digits from ``1``, separators deleted), read as ``phonenumbers.parse``
    reads it without running the parser, or None for the full path.

    With an explicit ``+86`` the parser's only step that could change the digits is
    stripping a national or carrier prefix (CN's ``national_prefix_for_parsing``, e.g. the
    ``17951`` IP-dialling prefix); where that pattern does not match, the number is country
    code 86 and the national digits as typed, and phonenumbers' own possibility and validity
    checks decide as they do after parsing. About 7 us instead of 30-40 us for the full
    path (at 10^8 reports, the scale mix's numbers past Hong Kong's are mainland mobiles).
    """
    national = compact[3:]
    if len(national) != 11 or national[0] != "1" or not national.isdigit() or _CN_STRIP(national):
        return None
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(national))
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None  # the full path gives the reason
    return _make("+86" + national, bool(phonenumbers.is_valid_number(number)))


def normalize_phone_slow(raw: str) -> Identifier:
    """The reference path: :func:`normalize_phone` with no fast path at all (for tests)."""
    return _slow(raw, fast=False)


#: What a local number of another region may look like: digits and the separators people
#: type, nothing else (a URL, an email or an account id is never touched).
_LOCAL_RE: Final = re.compile(r"[0-9 ()./-]{3,40}")


def parse_region(text: str) -> str:
    """An ISO 3166-1 alpha-2 region libphonenumber knows (``hk``, ``SG``, ``CN``...), upper
    case; :class:`ValueError` with a hint otherwise."""
    region = text.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"unknown region {text!r}: give an ISO 3166 two-letter code such as HK, SG, CN, GB"
        )
    return region


def localize_phone(raw: str, region: str) -> str:
    """``raw`` in E.164 when it is a local number of ``region`` (``"8123 4567"`` with ``SG``
    -> ``"+6581234567"``), else ``raw`` unchanged.

    For reading lists and reports from outside Hong Kong: the engine's default region is HK,
    so a local number of another country must carry its country code before it reaches the
    normal path. Values with a ``+`` or ``00`` already say their country; anything that is not
    a plain digit string (URLs, emails, accounts) is returned as it is.
    """
    if region == DEFAULT_REGION:
        return raw
    text = fold(raw).strip()
    if not text or text[0] == "+" or text.startswith("00") or not _LOCAL_RE.fullmatch(text):
        return raw
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(number):
        return raw
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


SPEC: Final = KindSpec(
    kind=_KIND,
    tag=SPEC_TAG[0],
    normalize=normalize_phone,
    display_name="phone number",
    column_hints=("phone", "number"),
    detect_prefixes=frozenset(s.rstrip(":") for s in URI_SCHEMES),  # tel:, sms:, smsto: links
)

__all__ = [
    "DEFAULT_REGION",
    "SPEC",
    "TYPED_HK_PATH",
    "URI_SCHEMES",
    "localize_phone",
    "normalize_phone",
    "normalize_phone_slow",
    "parse_region",
    "typed_hk_compiled",
    "typed_hk_keyed",
    "typed_hk_keyed_python",
    "typed_hk_python",
]
