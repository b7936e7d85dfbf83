"""HK phone metadata compiled for the phone fast path (private to :mod:`phone`).

Responsibility: turn libphonenumber's HK metadata, as shipped by the installed ``phonenumbers``,
into the tables :mod:`scameter.identifiers.phone` decides common numbers with, so that the fast
path agrees with ``phonenumbers`` *by construction*:

* ``GENERAL``: the general description's national-number pattern (used by libphonenumber's
  rule for stripping a leading default country code).
* ``VALID_BY_LENGTH[L]``: for every length ``is_possible_number`` accepts for HK, a regex that
  full-matches exactly the L-digit numbers ``is_valid_number`` accepts: the general pattern
  (as a lookahead) and any number type whose possible lengths admit L, as
  ``phonenumbers.phonenumberutil._number_type_helper`` checks them.
* ``PREFIX8``: for 8-digit numbers, the 4-digit prefixes whose validity does not depend on the
  last four digits, with that validity. Proven per prefix with two regex runs, not sampled:
  - *all valid*: the validity regex with every ``\\d`` widened to ``[0-9x]`` matches
    ``prefix + "xxxx"``. ``x`` can only be consumed by a former ``\\d``, so the same match
    path accepts every digit suffix.
  - *none valid*: the validity regex with every digit atom (``\\d``, classes, literal digits)
    widened to also accept ``y`` does not match ``prefix + "yyyy"``. Any valid digit suffix
    would give a match path of the widened regex on ``yyyy``.
  Prefixes proven neither way are left out and decided by the regex.

Invariant: everything here is derived from the installed metadata at import; nothing is typed
in by hand, so upgrading ``phonenumbers`` updates the fast path with it.
"""

from __future__ import annotations

import re
from typing import Final

from phonenumbers import PhoneMetadata

REGION: Final = "HK"

_TYPE_DESCS: Final = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _sources() -> tuple[str, dict[int, str]]:
    """(general pattern, validity pattern source per possible length) from the metadata."""
    meta = PhoneMetadata.metadata_for_region(REGION)
    if meta is None:  # pragma: no cover - phonenumbers always ships HK
        raise RuntimeError("phonenumbers has no metadata for HK")
    general_desc = meta.general_desc
    assert general_desc is not None
    assert general_desc.national_number_pattern is not None
    general = general_desc.national_number_pattern
    if 8 not in general_desc.possible_length:  # pragma: no cover - HK numbers are 8 digits
        raise RuntimeError("HK metadata no longer admits 8-digit numbers; review phone.py")
    local_only = set(general_desc.possible_length_local_only or ())
    by_length: dict[int, str] = {}
    for length in general_desc.possible_length:
        if length in local_only:
            continue
        alternatives: list[str] = []
        for name in _TYPE_DESCS:
            desc = getattr(meta, name)
            if desc is None or desc.national_number_pattern is None:
                continue
            if length in (desc.possible_length or general_desc.possible_length):
                alternatives.append(f"(?:{desc.national_number_pattern})")
        # With no alternatives, "(?:)" only matches the empty string: never valid, as wanted.
        by_length[length] = f"(?=(?:{general})\\Z)(?:{'|'.join(alternatives)})"
    return general, by_length


def widen(pattern: str, extra: str, *, every_digit_atom: bool) -> str | None:
    """``pattern`` with ``\\d`` (and, if ``every_digit_atom``, every class and literal digit)
    also accepting the character ``extra``; None for a construct this does not understand.

    libphonenumber's national-number patterns use only digits, ``\\d``, classes of digits,
    ``(?:...)``, ``|``, ``?`` and ``{m,n}``; the caller's ``\\Z`` is kept as is.
    """
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            esc = pattern[i : i + 2]
            if esc == "\\d":
                out.append(f"[0-9{extra}]")
            elif esc == "\\Z":
                out.append(esc)
            else:
                return None
            i += 2
        elif ch == "[":
            end = pattern.find("]", i)
            if end == -1 or not re.fullmatch(r"\[[0-9-]+\]", pattern[i : end + 1]):
                return None
            cls = pattern[i : end + 1]
            out.append(cls[:-1] + extra + "]" if every_digit_atom else cls)
            i = end + 1
        elif ch == "{":
            end = pattern.find("}", i)
            if end == -1:
                return None
            out.append(pattern[i : end + 1])  # quantifier digits are not atoms
            i = end + 1
        elif ch.isdigit():
            out.append(f"[{ch}{extra}]" if every_digit_atom else ch)
            i += 1
        elif ch in "(?:|)=":
            out.append(ch)
            i += 1
        else:
            return None
        # "(?=" and "(?:" pass through character by character above.
    return "".join(out)


def _prefix_table(valid8: str) -> dict[str, bool]:
    """4-digit prefix -> validity, for prefixes whose validity ignores the last 4 digits."""
    all_rx = widen(valid8, "x", every_digit_atom=False)
    none_rx = widen(valid8, "y", every_digit_atom=True)
    if all_rx is None or none_rx is None:  # pragma: no cover - metadata grew a new construct
        return {}
    all_full = re.compile(all_rx).fullmatch
    none_full = re.compile(none_rx).fullmatch
    table: dict[str, bool] = {}
    for i in range(10_000):
        prefix = f"{i:04d}"
        if all_full(prefix + "xxxx"):
            table[prefix] = True
        elif not none_full(prefix + "yyyy"):
            table[prefix] = False
    return table


_GENERAL_SOURCE, _VALID_SOURCES = _sources()

GENERAL: Final = re.compile(_GENERAL_SOURCE)
VALID_BY_LENGTH: Final = {length: re.compile(src) for length, src in _VALID_SOURCES.items()}
PREFIX8: Final = _prefix_table(_VALID_SOURCES[8])
MAX_LENGTH: Final = max(VALID_BY_LENGTH)

__all__ = ["GENERAL", "MAX_LENGTH", "PREFIX8", "REGION", "VALID_BY_LENGTH", "widen"]
