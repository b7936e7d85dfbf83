"""Hong Kong bank accounts: ``BBB-NNN-AAAA...`` (bank code, branch code, account number).

A Hong Kong account for local transfers (CHATS, FPS, cheques) is addressed by a 3-digit bank
(clearing) code assigned by HKICL, a 3-digit branch code, and an account number whose length
depends on the bank and the product (HSBC: 9 digits incl. a 3-digit suffix; Hang Seng: 9;
Bank of China (HK): 9 or 12; virtual banks: up to 12 ...). Nothing here assumes one length per
bank.

Canonical form: ``BBB-NNN-AAAA...`` — bank code, branch code, account digits, joined by
``-``: ``004-123-456789001``. Separators people type (spaces, dashes, dots, slashes) are
dropped and the digits re-grouped, so ``004 123 456 789 001``, ``004-123456789001`` and
``004123456789001`` meet at one key. The split is positional (3 + 3 + rest), never taken from
the user's grouping, which varies by bank statement.

Lengths: the account part is 6..12 digits, so the whole is 12..18 digits. Shorter or longer
input is rejected with a reason.

Unknown bank codes: accepted with ``valid=False`` rather than rejected. New banks get codes
(the 2019-2020 virtual banks took 387-395) and a report naming an account is evidence worth
keeping even before this table catches up; the flag lets a UI say "unknown bank code".

Accounts typed without their bank code: HSBC and Hang Seng print an account as 3-6-3 digits
(branch, account, suffix: ``012-345678-001``), without the bank code. Read positionally that
is bank ``012`` (Bank of China), branch ``345``: a wrong account that misses the listed
``004-012-345678001``. Such input (digits in three groups of exactly 3, 6 and 3) is refused
with :data:`MISSING_BANK_CODE`, which asks for the bank code, rather than matched against
every bank: the same 9 digits are different accounts at different banks, and a verdict must
name one. The same 12 digits without separators cannot be told apart from a full account and
are read positionally, as before.

Invariants: pure; idempotent; the value matches ``\\d{3}-\\d{3}-\\d{6,12}``.
"""

from __future__ import annotations

import re
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers._text import fold, is_ascii_digits, strip_digit_separators
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.spec import KindSpec

_KIND: Final = Kind.BANK_ACCOUNT
MIN_ACCOUNT_DIGITS: Final = 6
MAX_ACCOUNT_DIGITS: Final = 12

#: Known HK bank (clearing) codes. Source: HKICL's public "Bank Code" / member list
#: (https://www.hkicl.com.hk, Clearing > Members) cross-checked against the HKMA Register of
#: Authorized Institutions (https://apps.hkma.gov.hk/eng/index.php, "Register of AIs") and
#: the banks' own published transfer instructions, as of 2024. Conservative: codes whose owner
#: could not be confirmed from two sources are left out (they still normalise, valid=False).
HK_BANK_CODES: Final[dict[str, str]] = {
    "003": "Standard Chartered Bank (Hong Kong) Limited",
    "004": "The Hongkong and Shanghai Banking Corporation Limited",
    "006": "Citibank, N.A.",
    "007": "JPMorgan Chase Bank, N.A.",
    "009": "China Construction Bank (Asia) Corporation Limited",
    "012": "Bank of China (Hong Kong) Limited",
    "015": "The Bank of East Asia, Limited",
    "016": "DBS Bank (Hong Kong) Limited",
    "018": "China CITIC Bank International Limited",
    "020": "CMB Wing Lung Bank Limited",
    "022": "Oversea-Chinese Banking Corporation Limited",
    "024": "Hang Seng Bank, Limited",
    "025": "Shanghai Commercial Bank Limited",
    "027": "Bank of Communications Co., Ltd. (Hong Kong Branch)",
    "035": "OCBC Bank (Hong Kong) Limited",
    "039": "Chiyu Banking Corporation Limited",
    "040": "Dah Sing Bank, Limited",
    "041": "Chong Hing Bank Limited",
    "043": "Nanyang Commercial Bank, Limited",
    "047": "MUFG Bank, Ltd.",
    "054": "Deutsche Bank AG",
    "055": "Bank of America, N.A.",
    "056": "BNP Paribas",
    "061": "Tai Sang Bank Limited",
    "065": "Sumitomo Mitsui Banking Corporation",
    "072": "Industrial and Commercial Bank of China (Asia) Limited",
    "074": "Barclays Bank PLC",
    "103": "UBS AG",
    "128": "Fubon Bank (Hong Kong) Limited",
    "250": "Citibank (Hong Kong) Limited",
    "382": "Bank of Communications (Hong Kong) Limited",
    "387": "ZA Bank Limited",
    "388": "Livi Bank Limited",
    "389": "Mox Bank Limited",
    "390": "WeLab Bank Limited",
    "391": "Fusion Bank Limited",
    "392": "PAO Bank Limited",
    "393": "Ant Bank (Hong Kong) Limited",
    "395": "Airstar Bank Limited",
}

#: Why an account typed as 3-6-3 digits (no bank code) is refused (module docstring).
MISSING_BANK_CODE: Final = (
    "this looks like an account number without its bank code (HSBC and Hang Seng print "
    "3-6-3 digits): add the 3-digit bank code in front, e.g. 004 for HSBC or 024 for "
    "Hang Seng: 004-012-345678-001"
)
_GROUP_3_6_3: Final = re.compile(r"\s*\d{3}[\s\-./]+\d{6}[\s\-./]+\d{3}\s*")

_MIN_DIGITS: Final = 6 + MIN_ACCOUNT_DIGITS
_MAX_DIGITS: Final = 6 + MAX_ACCOUNT_DIGITS


def bank_name(code: str) -> str | None:
    """The bank's name for a 3-digit HK bank code, or None when the code is not in the table."""
    return HK_BANK_CODES.get(code)


def missing_bank_code(text: str) -> bool:
    """True for digits grouped 3-6-3 (``012-345678-001``): an account without its bank code."""
    return _GROUP_3_6_3.fullmatch(text) is not None


def normalize_bank_account(raw: str) -> Identifier:
    """Canonical ``bank_account`` identifier of ``raw``; raises :class:`InvalidIdentifier`."""
    folded = fold(raw)
    if missing_bank_code(folded):
        raise InvalidIdentifier(_KIND, MISSING_BANK_CODE, raw)
    digits = strip_digit_separators(folded)
    if not digits:
        raise InvalidIdentifier(_KIND, "empty", raw)
    if not is_ascii_digits(digits):
        raise InvalidIdentifier(
            _KIND, "a bank account has only digits (bank code, branch, account)", raw
        )
    n = len(digits)
    if n < _MIN_DIGITS:
        raise InvalidIdentifier(
            _KIND,
            f"too short ({n} digits): expected a 3-digit bank code, a 3-digit branch code and "
            f"{MIN_ACCOUNT_DIGITS}-{MAX_ACCOUNT_DIGITS} account digits",
            raw,
        )
    if n > _MAX_DIGITS:
        raise InvalidIdentifier(
            _KIND, f"too long ({n} digits): at most {_MAX_DIGITS} digits in all", raw
        )
    code = digits[:3]
    value = f"{code}-{digits[3:6]}-{digits[6:]}"
    return Identifier(_KIND, value, code in HK_BANK_CODES)


SPEC: Final = KindSpec(
    kind=_KIND,
    tag=0x06,
    normalize=normalize_bank_account,
    display_name="bank account",
    column_hints=("account",),
)

__all__ = [
    "HK_BANK_CODES",
    "MAX_ACCOUNT_DIGITS",
    "MIN_ACCOUNT_DIGITS",
    "MISSING_BANK_CODE",
    "SPEC",
    "bank_name",
    "missing_bank_code",
    "normalize_bank_account",
]
