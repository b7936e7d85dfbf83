"""SMS sender ids: the ``#`` alphanumeric senders of Hong Kong's SMS Sender Registration Scheme.

Under OFCA's SMS Sender Registration Scheme (SSRS, in force since 2023) an SMS from a
registered sender displays its sender id with a ``#`` prefix (``#HSBC``, ``#GovHK``), and
telecoms refuse ``#`` ids from anyone who has not registered. A registered id is what the
allowlist makes VERIFIED; a message claiming to be from a bank without one is a scam sign.

Canonical form: ``#`` followed by 1 to 11 characters from ASCII letters, digits, ``-``, ``_``,
``&`` and ``.``, letters upper-cased: ``#hsbc`` -> ``#HSBC``. Eleven characters is the limit of
an alphanumeric originating address (3GPP TS 23.040 section 9.1.2.5: 11 GSM 7-bit characters
in the TP-OA field), which is also the limit the scheme uses.

Decisions (see ``docs/identifiers.md``):

* **Case-insensitive, stored upper-case.** Phones render the id as sent, and people retype it
  in any case; ``#govhk`` and ``#GovHK`` name the same registration.
* **Inner spaces are dropped.** Some registered ids hold a space: Chong Hing Bank prints its id
  as ``#Chong Hing``. A person retyping it writes ``#ChongHing``, ``#chong hing`` or
  ``#Chong  Hing`` as often as the original, and all must meet at one key, so spaces between
  characters are accepted and removed: ``#Chong Hing`` -> ``#CHONGHING``. The canonical value
  then stays within the alphabet above, one token with no space, safe in CSV cells, command
  lines and the message extractor. Two registrations differing only by a space would merge;
  ids are vetted by the scheme, so that cost is theoretical, and a missed match of a real
  bank's sender (a false "unregistered sender" warning) is not. The 11-character limit is
  checked on the id as displayed, with each run of spaces counted as one character.
* **No ``#``, no sender id.** A sender shown without ``#`` (``HSBC``) is by definition *not*
  registered; prefixing one would turn a spoofed sender into the registered one's key (and its
  VERIFIED answer). Such input is rejected with a reason that says so.
* Full-width input (``＃ＨＳＢＣ``) is NFKC-folded like every kind (``_text.fold``); tabs,
  newlines and every other character are rejected with the character named.

Invariants: pure; idempotent; the value matches ``#[A-Z0-9\\-_&.]{1,11}``.
"""

from __future__ import annotations

import re
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers._text import fold
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.spec import KindSpec

_KIND: Final = Kind.SMS_SENDER

#: The longest sender id, without its ``#`` (3GPP TS 23.040 9.1.2.5, alphanumeric address).
MAX_SENDER_LENGTH: Final = 11

#: Characters a sender id may hold besides spaces (the scheme's alphabet), upper case.
SENDER_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_&.")

_CANONICAL_RE: Final = re.compile(r"#[A-Z0-9\-_&.]{1,11}")
_SPACES_RE: Final = re.compile(" +")


def normalize_sms_sender(raw: str) -> Identifier:
    """Canonical ``sms_sender`` identifier of ``raw``; raises :class:`InvalidIdentifier`."""
    if _CANONICAL_RE.fullmatch(raw):
        return Identifier(_KIND, raw)
    text = fold(raw)
    if not text:
        raise InvalidIdentifier(_KIND, "empty", raw)
    if text[0] != "#":
        raise InvalidIdentifier(
            _KIND,
            "a registered SMS sender id starts with '#' (#GovHK); a sender shown without '#' "
            "is not registered under the SMS Sender Registration Scheme",
            raw,
        )
    shown = _SPACES_RE.sub(" ", text[1:].strip(" ")).upper()
    if not shown:
        raise InvalidIdentifier(
            _KIND,
            f"nothing after the '#': a sender id has 1 to {MAX_SENDER_LENGTH} characters",
            raw,
        )
    bad = next((c for c in shown if c != " " and c not in SENDER_ALPHABET), None)
    if bad is not None:
        raise InvalidIdentifier(
            _KIND,
            f"a sender id holds only ASCII letters, digits, '-', '_', '&' and '.', "
            f"not U+{ord(bad):04X}",
            raw,
        )
    if len(shown) > MAX_SENDER_LENGTH:
        raise InvalidIdentifier(
            _KIND,
            f"{len(shown)} characters after the '#': a sender id has at most "
            f"{MAX_SENDER_LENGTH}, spaces included",
            raw,
        )
    return Identifier(_KIND, "#" + shown.replace(" ", ""))


SPEC: Final = KindSpec(
    kind=_KIND,
    tag=0x0A,
    normalize=normalize_sms_sender,
    display_name="SMS sender id",
    column_hints=("sms_sender",),
    detect_leads=("#",),
)

__all__ = ["MAX_SENDER_LENGTH", "SENDER_ALPHABET", "SPEC", "normalize_sms_sender"]
