"""FPS IDs: the numeric proxy identifiers of Hong Kong's Faster Payment System.

Canonical form: the digits alone, ``1234567`` or ``123456789``. An FPS ID is 7 or 9 digits
(HKICL FPS: the 7-digit IDs issued to individuals and merchants, 9-digit IDs for businesses);
people write them with spaces or dashes and sometimes paste full-width digits, so those are
folded and stripped. Any other length is rejected with a reason: an 8-digit number is a phone
number (the FPS proxy types are mobile number, e-mail and FPS ID, and HK subscriber numbers
are 8 digits), which is why FPS IDs avoid that length.

Invariants: pure; the canonical value is 7 or 9 ASCII digits; idempotent.
"""

from __future__ import annotations

from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers._text import fold, is_ascii_digits, strip_digit_separators
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.spec import KindSpec

_KIND: Final = Kind.FPS_ID
FPS_ID_LENGTHS: Final = frozenset({7, 9})


def normalize_fps_id(raw: str) -> Identifier:
    """Canonical ``fps_id`` identifier of ``raw``; raises :class:`InvalidIdentifier`."""
    if len(raw) in FPS_ID_LENGTHS and is_ascii_digits(raw):
        return Identifier(_KIND, raw)
    digits = strip_digit_separators(fold(raw))
    if not digits:
        raise InvalidIdentifier(_KIND, "empty", raw)
    if not is_ascii_digits(digits):
        raise InvalidIdentifier(_KIND, "an FPS ID has only digits", raw)
    if len(digits) not in FPS_ID_LENGTHS:
        raise InvalidIdentifier(_KIND, f"an FPS ID has 7 or 9 digits, this has {len(digits)}", raw)
    return Identifier(_KIND, digits)


SPEC: Final = KindSpec(
    kind=_KIND,
    tag=0x05,
    normalize=normalize_fps_id,
    display_name="FPS ID",
    column_hints=("fps_id",),
)

__all__ = ["FPS_ID_LENGTHS", "SPEC", "normalize_fps_id"]
