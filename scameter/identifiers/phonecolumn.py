"""HK phone numbers as people type them, recognised for a whole column at once.

Responsibility: :func:`typed_hk_numbers` finds, in one pass of ``numpy`` over a batch of
strings, the rows that are Hong Kong numbers written in the commonest ways (``91234567``,
``9123 4567``, ``9123-4567``, ``+852 9123 4567``, ``+85291234567``) and gives their E.164
canonical values, so that the batch path (:mod:`scameter.index.batchpath`) builds no
:class:`~scameter.identifiers.model.Identifier` and calls no normaliser for them.

Which rows it takes, and why the answer is exactly the per-row one: a row is taken when it

* is at most 20 characters long, holds no NUL, and consists of ASCII digits and the
  separators `` -()`` only, except for an optional leading ``+``; starts with a digit, that
  ``+`` or ``(``, and ends with a digit;
* without its separators is 8 digits not starting with ``0`` nor ``852`` (a subscriber
  number), or ``852`` and 8 digits not starting with ``0``, with or without a leading ``+``;
* has a national number whose 4-digit prefix decides validity alone, and valid
  (``_phonemeta.PREFIX8``, proven from libphonenumber's metadata).

For such a row :func:`~scameter.identifiers.phone.normalize_phone` deletes the separators
(every one of them is in its ``_DELETE_SEPARATORS``) and reaches its ``_national`` / ``+852``
branch with the same 8 digits, or, for ``852`` and 8 digits without ``+``, libphonenumber's
rule that strips a leading country code (the 11 digits never full-match HK's general pattern,
``8[0-46-9]...|9...|[2-7]...``, while a valid national number does): it gives
``Identifier(PHONE, "+852" + national, valid=True)``. ``detect`` returns exactly that one
candidate (rule 5: its fast path for the 8-digit and ``+852`` shapes, the digit-string rule for
the others). Every other row (other spellings, unallocated or regex-decided numbers, other
kinds) is left to the per-row path. ``tests/property/test_phonecolumn_properties.py`` pins
both equalities on random spellings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from scameter.identifiers._phonemeta import PREFIX8
from scameter.identifiers.model import Identifier, Kind

#: Longest row taken: ``detect``'s fast-path bound (``_FAST_MAX``), plus one column to see
#: longer rows (numpy truncates them silently to the dtype's width).
_MAX_CHARS: Final = 20
_WIDTH: Final = _MAX_CHARS + 1
_ZERO: Final = ord("0")
_OPEN: Final = ord("(")
#: Character classes (bit flags) by byte.
_BLANK, _DIGIT, _SEP, _PLUS_C, _OTHER = 1, 2, 4, 8, 16
_CLASS: Final = np.full(256, _OTHER, dtype=np.uint8)
_CLASS[0] = _BLANK
_CLASS[ord("0") : ord("9") + 1] = _DIGIT
_CLASS[[ord(c) for c in " -()"]] = _SEP
_CLASS[ord("+")] = _PLUS_C
#: 4-digit prefix -> 1 (every 8-digit number under it valid), 0 (none), 2 (the regex decides).
_PREFIX_VALID: Final = np.full(10_000, 2, dtype=np.int8)
for _prefix, _valid in PREFIX8.items():
    _PREFIX_VALID[int(_prefix)] = 1 if _valid else 0
_PLACE: Final = np.array([1000, 100, 10, 1], dtype=np.int64)
_E164_HEAD: Final = np.array([ord(c) for c in "+852"], dtype=np.uint32)
#: Below this many rows numpy's fixed costs outweigh the per-row path.
MIN_ROWS: Final = 32

IntArray = npt.NDArray[np.intp]


def typed_hk_numbers(raws: Sequence[str]) -> tuple[IntArray, list[str]]:
    """The rows of ``raws`` that are valid HK numbers in a typed spelling (module docstring),
    ascending, and their E.164 values; none when a row is not a ``str``."""
    n = len(raws)
    try:
        nul = "\x00" in "".join(raws)
    except TypeError:  # a row that is not text: the per-row path words its error
        n = 0
    if n == 0:
        return np.empty(0, dtype=np.intp), []
    codes = _char_codes(raws, n, nul)
    cls = _CLASS[codes]
    digit = cls == _DIGIT
    plus = cls[:, 0] == _PLUS_C
    # Every character a digit or a separator (a '+' only first), then the row's end (no
    # NUL inside, see _char_codes): one OR over the row's classes.
    seen = np.bitwise_or.reduce(cls[:, 1:], axis=1)
    length = _WIDTH - np.count_nonzero(cls == _BLANK, axis=1)
    last_digit = digit[np.arange(n), length - 1]
    shaped = ((seen & (_OTHER | _PLUS_C)) == 0) & (cls[:, _MAX_CHARS] == _BLANK)
    shaped &= (digit[:, 0] | plus | (codes[:, 0] == _OPEN)) & last_digit
    count = np.count_nonzero(digit, axis=1)
    local = shaped & ~plus & (count == 8)
    e164 = shaped & (count == 11)  # "852" and 8 digits, with or without the "+"
    rows_l, nat_l = _national(codes, digit, local, 8, 0)
    rows_e, nat_e = _national(codes, digit, e164, 11, 3)
    keep = ~((nat_l[:, 0] == 8) & (nat_l[:, 1] == 5) & (nat_l[:, 2] == 2))  # "852...": parser
    rows = np.concatenate([rows_l[keep], rows_e])
    national = np.concatenate([nat_l[keep], nat_e])
    ok = (national[:, 0] != 0) & (_PREFIX_VALID[national[:, :4] @ _PLACE] == 1)
    rows, national = rows[ok], national[ok]
    order = np.argsort(rows, kind="stable")
    rows, national = rows[order], national[order]
    out = np.empty((len(rows), 12), dtype=np.uint32)
    out[:, :4] = _E164_HEAD
    out[:, 4:] = national + _ZERO
    values: list[str] = out.view("U12").ravel().tolist()
    return rows, values


def _char_codes(raws: Sequence[str], n: int, nul: bool) -> npt.NDArray[np.uint8]:
    """The first :data:`_WIDTH` characters of each row as bytes (a character above 127 as 127,
    a row holding a NUL as all ``x``: neither is ever taken)."""
    try:
        codes = np.array(raws, dtype=f"S{_WIDTH}").view(np.uint8)
    except UnicodeEncodeError:
        wide = np.array(raws, dtype=f"U{_WIDTH}").view(np.uint32)
        codes = np.minimum(wide, 127).astype(np.uint8)
    codes = codes.reshape(n, _WIDTH)
    if nul:
        # numpy ends a string at its first trailing NUL: such rows are left out.
        codes[[i for i, raw in enumerate(raws) if "\x00" in raw]] = ord("x")
    return codes


def _national(
    codes: npt.NDArray[np.uint8],
    digit: npt.NDArray[np.bool_],
    rows: npt.NDArray[np.bool_],
    count: int,
    skip: int,
) -> tuple[IntArray, npt.NDArray[np.int64]]:
    """The rows of mask ``rows`` whose digits (``count`` of each) start with ``852`` when
    ``skip`` is 3, and their 8 national digits as integers."""
    idx = np.flatnonzero(rows)
    digits = codes[idx][digit[idx]].reshape(-1, count).astype(np.int64) - _ZERO
    if skip:
        cc = (digits[:, 0] == 8) & (digits[:, 1] == 5) & (digits[:, 2] == 2)
        idx, digits = idx[cc], digits[cc]
    return idx, digits[:, skip:]


def phone(value: str) -> Identifier:
    """The identifier of a value :func:`typed_hk_numbers` gave (valid by construction)."""
    return Identifier(Kind.PHONE, value, True)


__all__ = ["MIN_ROWS", "phone", "typed_hk_numbers"]
