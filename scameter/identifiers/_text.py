"""Text folding shared by the identifier normalisers (private).

Responsibility: turn what people type or paste into the plain text the per-kind parsers
expect: Unicode NFKC folding (full-width ``９１２３`` and ``＠`` become ASCII, ideographic
spaces become spaces), removal of zero-width and bidi control characters that survive a
copy-paste from chat apps, and stripping of surrounding whitespace.

Invariants: every function here is pure, total (never raises) and idempotent; ASCII input
takes a fast path with no Unicode work.
"""

from __future__ import annotations

import re
import unicodedata

#: Invisible characters that copy-paste from messaging apps leaves inside identifiers:
#: zero-width space/joiners, word joiner, BOM, and the bidi marks and embeddings (Unicode
#: General Category Cf). They carry no meaning in any identifier kind handled here.
_INVISIBLE = dict.fromkeys(
    [
        0x200B,  # ZERO WIDTH SPACE
        0x200C,  # ZERO WIDTH NON-JOINER
        0x200D,  # ZERO WIDTH JOINER
        0x200E,  # LEFT-TO-RIGHT MARK
        0x200F,  # RIGHT-TO-LEFT MARK
        0x202A,  # LRE
        0x202B,  # RLE
        0x202C,  # PDF
        0x202D,  # LRO
        0x202E,  # RLO
        0x2060,  # WORD JOINER
        0x2066,  # LRI
        0x2067,  # RLI
        0x2068,  # FSI
        0x2069,  # PDI
        0xFEFF,  # ZERO WIDTH NO-BREAK SPACE (BOM)
    ]
)

_SURROGATE_RE = re.compile("[\ud800-\udfff]")

#: Separators people put inside digit strings: space, dash, dot, slash, brackets.
_DIGIT_SEPARATORS = str.maketrans("", "", " \t-./()")

#: Every Unicode dash-like character folded to ASCII '-'. NFKC leaves these alone.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63", "-"))


def fold(raw: str) -> str:
    """NFKC-fold ``raw``, drop invisible format characters and dashes, strip whitespace."""
    if raw.isascii():
        return raw.strip()
    # Lone surrogates (bytes decoded with surrogateescape) cannot be encoded to UTF-8 for the
    # key; they become U+FFFD, which no normaliser accepts.
    text = _SURROGATE_RE.sub("\ufffd", raw)
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_DASHES)
    # NFKC is not closed under removal of characters in rare combining cases; one more pass
    # keeps the function idempotent.
    return unicodedata.normalize("NFKC", text).strip()


def strip_digit_separators(text: str) -> str:
    """Remove spaces, tabs, dashes, dots, slashes and brackets (for digit-only kinds)."""
    return text.translate(_DIGIT_SEPARATORS)


def is_ascii_digits(text: str) -> bool:
    """True when ``text`` is non-empty and only ASCII ``0-9`` (``str.isdigit`` alone is not)."""
    return text.isascii() and text.isdigit()
