"""Cleaning a pasted message for extraction, with a map back to the original offsets (private).

Responsibility: turn a message as pasted (full-width forms, chat-app invisibles, bidi tricks,
defanged links) into the plain text the extractor's patterns read, and remember where every
cleaned character came from, so each identifier found can be reported with its span in the
*original* text, in code points.

Steps, in order:

1. **Controls.** C0 and C1 control characters other than tab, LF and CR, and lone surrogates
   (bytes decoded with ``surrogateescape``), become one space each: binary junk then separates
   tokens instead of gluing them together. Invisible format characters (zero-width space and
   joiners, word joiner, soft hyphen, BOM, the bidi marks, embeddings, overrides and isolates
   U+200E/F, U+202A-U+202E, U+2066-U+2069) are removed: they are invisible on screen, so the
   text a person sees, and the link a browser opens, run across them. RLO (U+202E) makes
   ``moc.knab`` display as ``bank.com``; removing it leaves the logical order, which is what
   a browser would actually open. Either way the positions are recorded, and items whose span
   covers one are flagged.
2. **NFKC** (Unicode Standard Annex #15), character by character: full-width ``ｈｔｔｐｓ：／／``
   and ``９１２３``, the full-width comma and colon (``，：`` become ``,:``) and other
   compatibility characters fold to ASCII; Unicode dashes become ``-`` (NFKC leaves them).
   Per character rather than per string so that the map stays exact; the one difference,
   that a base letter and a following combining mark are not composed, never matters to the
   ASCII-shaped identifiers extracted here.
3. **Defanging** (:data:`DEFANGS`): ``hxxp``/``hxxps`` before ``://`` become ``http``/``https``;
   ``[.]``, ``(.)``, ``{.}``, ``[dot]``, ``(dot)``, ``{dot}`` become ``.``; ``[:]`` ``:``;
   ``[://]`` ``://``; ``[@]`` and ``[at]`` ``@``. Case-insensitive. Recorded, so items can be
   flagged ``defanged``.

Invariants: total (never raises), pure; ASCII text without controls or defangs takes a path
with no per-character work and an identity map; :meth:`TextMap.span` maps a cleaned span
``[a, b)`` to the smallest original span that produced exactly those characters, so that
cleaning ``original[start:end]`` gives back ``clean[a:b]`` (up to the flagged removals).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Final

#: Invisible format characters removed outright (see step 1).
INVISIBLE: Final = frozenset(
    "\u00ad"  # SOFT HYPHEN
    "\u200b\u200c\u200d"  # ZERO WIDTH SPACE / NON-JOINER / JOINER
    "\u200e\u200f"  # LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2060\u2061\u2062\u2063\u2064"  # WORD JOINER and the invisible operators
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
    "\ufeff"  # ZERO WIDTH NO-BREAK SPACE (BOM)
)

#: Controls and the invisibles: everything step 1 touches, for one search over the text.
_CONTROL_RE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(INVISIBLE)) + "]"
)

_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d")

#: Defanged spelling (lower case) -> what it stands for.
DEFANGS: Final[dict[str, str]] = {
    "[.]": ".",
    "(.)": ".",
    "{.}": ".",
    "[dot]": ".",
    "(dot)": ".",
    "{dot}": ".",
    "[:]": ":",
    "[://]": "://",
    "[@]": "@",
    "[at]": "@",
}
# hxxp / hxxps only where a scheme separator (plain or defanged) follows: "hxxp" alone is a word.
_DEFANG_RE: Final = re.compile(
    r"(?<![A-Za-z0-9])h[x*]{2}p(?=s?(?::|\[:\]|\[://\]))|"
    + "|".join(re.escape(k) for k in sorted(DEFANGS, key=len, reverse=True)),
    re.IGNORECASE,
)

#: A character every defanged spelling contains: a cheap scan before the full pattern.
_DEFANG_HINT_RE: Final = re.compile(r"[\[({]|[xX*]{2}[pP]")


class _FoldTable(dict[int, str]):
    """Code point -> its cleaned text (steps 1 and 2), filled lazily as ``str.translate`` asks.

    Computing NFKC for every code point up front would cost half a second at import; messages
    use a few hundred distinct characters, each computed once per process.
    """

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        if ch in "\t\n\r":
            out = ch
        elif ch in INVISIBLE:
            out = ""
        elif cp < 0x20 or 0x7F <= cp <= 0x9F or 0xD800 <= cp <= 0xDFFF:
            out = " "  # controls and lone surrogates separate tokens
        elif ch in _DASHES:
            out = "-"
        else:
            out = unicodedata.normalize("NFKC", ch)
        self[cp] = out
        return out


_FOLD: Final = _FoldTable()


class OffsetMap:
    """Where each character of a rewritten text came from in the text it was rewritten from.

    Sparse: a rewritten character maps to ``its index + delta``, where ``delta`` changes only
    after a removal or a length-changing replacement (recorded in ``_shift_at`` / ``_deltas``);
    a character produced by a length-changing replacement maps to the whole replaced stretch
    (``_explicit``). A text with no such change has an empty map: the identity.
    """

    __slots__ = ("_deltas", "_explicit", "_shift_at")

    def __init__(self) -> None:
        self._shift_at: list[int] = [0]
        self._deltas: list[int] = [0]
        self._explicit: dict[int, tuple[int, int]] = {}

    def replaced(self, at: int, produced: int, consumed: int) -> None:
        """Rewritten ``[at, at+produced)`` came from ``consumed`` source characters.

        Calls come in increasing ``at`` order; ``produced == consumed == 1`` need no call.
        """
        source = at + self._deltas[-1]
        for i in range(at, at + produced):
            self._explicit[i] = (source, source + consumed)
        self._shift_at.append(at + produced)
        self._deltas.append(self._deltas[-1] + consumed - produced)

    def start(self, i: int) -> int:
        """Source offset of the first character behind rewritten character ``i``."""
        hit = self._explicit.get(i)
        if hit is not None:
            return hit[0]
        return i + self._deltas[bisect_right(self._shift_at, i) - 1]

    def end(self, i: int) -> int:
        """Source offset just past the characters behind rewritten character ``i``."""
        hit = self._explicit.get(i)
        if hit is not None:
            return hit[1]
        return i + 1 + self._deltas[bisect_right(self._shift_at, i) - 1]


@dataclass(frozen=True, slots=True)
class TextMap:
    """Cleaned text plus the way back to the original.

    ``maps`` rewrite the original step by step (fold, then defang); a span of ``text`` maps
    back through them in reverse. ``controls`` and ``defangs`` are sorted original offsets of
    removed/replaced controls and of defanged spellings.
    """

    text: str
    maps: tuple[OffsetMap, ...]
    controls: tuple[int, ...]
    defangs: tuple[int, ...]

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the cleaned ``[a, b)`` (``a < b``)."""
        for m in reversed(self.maps):
            a, b = m.start(a), m.end(b - 1)
        return a, b

    def controls_in(self, start: int, end: int) -> bool:
        """True when a removed or replaced control lies in the original ``[start, end)``."""
        return _any_in(self.controls, start, end)

    def defanged_in(self, start: int, end: int) -> bool:
        """True when a defanged spelling starts in the original ``[start, end)``."""
        return _any_in(self.defangs, start, end)


def _any_in(points: tuple[int, ...], start: int, end: int) -> bool:
    if not points:
        return False
    i = bisect_left(points, start)
    return i < len(points) and points[i] < end


@functools.cache
def _change_re() -> re.Pattern[str]:
    """Every character steps 1 and 2 may change, as one character class (built on first use).

    The Basic Multilingual Plane is computed exactly (about 3,000 code points are not NFKC
    stable; 10 ms, once per process); every astral character is included, so the rare ones
    that change (mathematical bold ``𝐡𝐭𝐭𝐩``, segmented digits) are folded too and the common
    ones (emoji) merely take the per-character path.
    """
    is_nfkc = unicodedata.is_normalized
    cps = [
        cp for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF and not is_nfkc("NFKC", chr(cp))
    ]
    cps += [ord(c) for c in INVISIBLE | _DASHES]
    cps += [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
    ranges: list[list[int]] = []
    for cp in sorted(set(cps)):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[{body}\\ud800-\\udfff\\U00010000-\\U0010ffff]+")


def _fold(text: str) -> tuple[str, OffsetMap | None, tuple[int, ...]]:
    """Steps 1 and 2: the cleaned text, its map (None: identity) and the control offsets."""
    if text.isascii() and _CONTROL_RE.search(text) is None:
        return text, None, ()
    pieces: list[str] = []
    omap: OffsetMap | None = None
    delta = 0
    pos = 0
    fold = _FOLD
    for m in _change_re().finditer(text):
        a, b = m.span()
        pieces.append(text[pos:a])
        for i in range(a, b):
            out = fold[ord(text[i])]
            pieces.append(out)
            if len(out) != 1:
                if omap is None:
                    omap = OffsetMap()
                omap.replaced(i - delta, len(out), 1)
                delta += 1 - len(out)
        pos = b
    pieces.append(text[pos:])
    controls = tuple(m.start() for m in _CONTROL_RE.finditer(text))
    return "".join(pieces), omap, controls


def clean(text: str) -> TextMap:
    """Steps 1-3 of the module docstring on ``text``; never raises."""
    folded, omap, controls = _fold(text)
    maps = () if omap is None else (omap,)
    if _DEFANG_HINT_RE.search(folded) is None or _DEFANG_RE.search(folded) is None:
        return TextMap(folded, maps, controls, ())
    dmap = OffsetMap()
    pieces: list[str] = []
    defangs: list[int] = []
    pos = 0
    out_len = 0
    for m in _DEFANG_RE.finditer(folded):
        a, b = m.span()
        pieces.append(folded[pos:a])
        out_len += a - pos
        plain = DEFANGS.get(m.group().lower(), "http")
        pieces.append(plain)
        if len(plain) != b - a:  # "[.]" -> ".": the one character stands for the spelling
            dmap.replaced(out_len, len(plain), b - a)
        out_len += len(plain)
        defangs.append(a if omap is None else omap.start(a))
        pos = b
    pieces.append(folded[pos:])
    return TextMap("".join(pieces), (*maps, dmap), controls, tuple(defangs))


def visible(text: str) -> str:
    """``text`` with every control and invisible format character shown as a ``\\uXXXX`` escape.

    For displaying untrusted text (a message, a raw match) on a terminal or page: escape
    sequences and bidi overrides can then neither act nor hide. Tab, LF and CR are escaped too.
    """
    return _VISIBLE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_VISIBLE_RE: Final = re.compile(
    "[\t\n\r\x00-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(INVISIBLE)) + "]"
)

__all__ = ["DEFANGS", "INVISIBLE", "OffsetMap", "TextMap", "clean", "visible"]
