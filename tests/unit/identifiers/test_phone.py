"""Vector table for the phone kind: E.164 canonical form, HK defaults, short codes, errors."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.errors import InvalidIdentifier
from scameter.identifiers import _phonemeta, detect, normalize
from scameter.identifiers import phone as phone_module
from scameter.identifiers.model import Kind
from scameter.identifiers.phone import normalize_phone, normalize_phone_slow

# (raw, canonical, valid)
VALID = [
    ("+85291234567", "+85291234567", True),
    ("91234567", "+85291234567", True),
    ("9123 4567", "+85291234567", True),
    ("9123-4567", "+85291234567", True),
    ("9123.4567", "+85291234567", True),
    ("85291234567", "+85291234567", True),
    ("852 9123 4567", "+85291234567", True),
    ("+852 9123 4567", "+85291234567", True),
    ("+852-9123-4567", "+85291234567", True),
    ("(852) 9123 4567", "+85291234567", True),
    ("(+852) 9123-4567", "+85291234567", True),
    ("00852 9123 4567", "+85291234567", True),
    ("001 852 9123 4567", "+85291234567", True),
    ("  9123 4567\t", "+85291234567", True),
    ("９１２３ ４５６７", "+85291234567", True),
    ("＋８５２ ９１２３ ４５６７", "+85291234567", True),
    ("9123\u200b4567", "+85291234567", True),
    ("2345 6789", "+85223456789", True),
    ("+852 1234 5678", "+85212345678", False),
    ("12345678", "+85212345678", False),
    ("+44 20 7946 0958", "+442079460958", True),
    ("0044 20 7946 0958", "+442079460958", True),
    ("+86 138 1234 5678", "+8613812345678", True),
    ("0086 138 1234 5678", "+8613812345678", True),
    ("18222", "18222", True),
    ("999", "999", True),
    ("1823", "1823", True),
]


@pytest.mark.parametrize(("raw", "canonical", "valid"), VALID, ids=[v[0] for v in VALID])
def test_canonical_form(raw: str, canonical: str, valid: bool) -> None:
    ident = normalize(Kind.PHONE, raw)
    assert ident.kind is Kind.PHONE
    assert ident.value == canonical
    assert ident.valid is valid
    assert normalize_phone_slow(raw) == ident


INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("abc", "characters"),
    ("9123 4567 ext 5", "characters"),
    ("91+234567", "'+' may only lead"),
    ("+852 123", "too short"),
    ("+852 1234 5678 9012 3456", "too long"),
    ("+999 1234 5678", "country"),
    ("12", "too short"),
    ("---", "no digits"),
    ("1" * 80, "longer than"),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID, ids=[f"{v[1]}:{v[0]!r}" for v in INVALID])
def test_impossible_numbers_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize("phone", raw)
    assert info.value.kind == "phone"
    assert reason in info.value.reason
    assert str(info.value).startswith("invalid phone: ")
    assert raw.strip() == "" or raw not in str(info.value)  # never the raw value in clear


def test_e164_output_reparses_to_the_same_number() -> None:
    ident = normalize_phone("9123 4567")
    parsed = phonenumbers.parse(ident.value, None)
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == ident.value


def test_short_codes_stay_digits_and_fps_lengths_do_not() -> None:
    # A 7-digit value is never taken as a short code, so it cannot look like an FPS ID.
    assert normalize_phone("1234567").value == "+8521234567"
    assert normalize_phone("18222").value == "18222"


@pytest.mark.parametrize("raw", ["+85291234567", "91234567", "+852 1234 5678", "18222"])
def test_idempotent(raw: str) -> None:
    once = normalize_phone(raw)
    assert normalize_phone(once.value) == once


FAST_FORMS = ["+85291234567", "91234567", "9123 4567", "85291234567", "+85280012345", "800123456"]


@pytest.mark.parametrize("raw", FAST_FORMS, ids=FAST_FORMS)
def test_common_forms_take_the_fast_path(raw: str) -> None:
    # The property test compares results; this one makes sure it is not comparing the slow
    # path with itself.
    hit = phone_module._fast(raw)
    assert hit is not None
    assert hit == normalize_phone_slow(raw)


def test_fast_path_regexes_come_from_the_installed_metadata() -> None:
    meta = phonenumbers.PhoneMetadata.metadata_for_region("HK")
    assert meta is not None
    assert meta.general_desc is not None
    assert set(_phonemeta.VALID_BY_LENGTH) == set(meta.general_desc.possible_length)
    # every 8-digit prefix's validity was proven independent of the last four digits
    assert len(_phonemeta.PREFIX8) == 10_000


@pytest.mark.parametrize("prefix", ["2345", "5123", "9123", "4060", "8100", "1234", "8528"])
def test_prefix_table_agrees_with_the_regex(prefix: str) -> None:
    full = _phonemeta.VALID_BY_LENGTH[8].fullmatch
    for suffix in ("0000", "4567", "9999"):
        assert _phonemeta.PREFIX8[prefix] is (full(prefix + suffix) is not None)


def test_fast_path_agrees_with_phonenumbers_on_every_4_digit_prefix() -> None:
    # Deterministic sweep beside the hypothesis property: one 8-digit number per 4-digit
    # prefix, as typed nationally and in E.164, against phonenumbers directly.
    mismatches = []
    for i in range(10_000):
        national = f"{i:04d}{(i * 7919) % 10_000:04d}"
        for raw in (national, "+852" + national):
            if raw.startswith("00"):
                continue  # the documented "00" international-prefix rule departs on purpose
            try:
                number = phonenumbers.parse(raw, "HK")
                possible = phonenumbers.is_possible_number(number)
                expected = (
                    (
                        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                        bool(phonenumbers.is_valid_number(number)),
                    )
                    if possible
                    else None
                )
            except phonenumbers.NumberParseException:
                expected = None
            try:
                ident = normalize_phone(raw)  # fast path (incl. the inline E.164 branch)
                ours: tuple[str, bool] | None = (ident.value, ident.valid)
            except InvalidIdentifier:
                ours = None
            if ours != expected:
                mismatches.append(raw)
    assert mismatches == []


@pytest.mark.parametrize(
    "raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678"]
)
def test_mainland_mobile_without_86_is_read_as_plus_86(raw: str) -> None:
    """People in Hong Kong type mainland mobiles without the country code."""
    for fn in (normalize_phone, normalize_phone_slow):
        ident = fn(raw)
        assert (ident.value, ident.valid) == ("+8613812345678", True)
    assert [i.value for i in detect(raw)][:1] == ["+8613812345678"]


def test_eleven_digits_that_are_not_a_mainland_mobile_keep_the_hk_reading() -> None:
    # 12... is no mainland mobile prefix: the old reading (an impossible HK number) stands.
    assert normalize_phone("12345678901").value == "+85212345678901"
    assert not normalize_phone("12345678901").valid


_CN_FORMS = [
    lambda d: f"+86{d}",
    lambda d: f"+86 {d}",
    lambda d: f"+86 {d[:3]} {d[3:7]} {d[7:]}",
    lambda d: f"+(86) {d[:3]}-{d[3:7]}-{d[7:]}",
    lambda d: f"+ 86 {d[:3]}.{d[3:7]}.{d[7:]}",
    lambda d: f"+86/{d}",
]


@settings(max_examples=400, deadline=None)
@given(
    national=st.text(alphabet="0123456789", min_size=10, max_size=10).map(lambda s: "1" + s),
    form=st.sampled_from(range(len(_CN_FORMS))),
)
def test_mainland_numbers_with_their_country_code_read_as_the_parser_reads_them(
    national: str, form: int
) -> None:
    """Every 11-digit national number from 1 (carrier and IP-dialling prefixes such as
    ``17951`` and ``12593`` included, which the parser strips), in typed forms: the fast
    reading gives the full path's identifier, or both refuse with one reason."""
    raw = _CN_FORMS[form](national)
    assert _read(normalize_phone, raw) == _read(normalize_phone_slow, raw)


def _read(normalizer: Callable[[str], object], raw: str) -> object:
    """The identifier, or the reason it is refused."""
    try:
        return normalizer(raw)
    except InvalidIdentifier as exc:
        return ("refused", exc.reason)


@pytest.mark.parametrize(
    ("raw", "taken"),
    [("+86 138 1234 5678", True), ("+8613912345678", True), ("+86 17951 234567", False),
     ("+86 10 1234 5678", False), ("+852 9123 4567", False)],
)  # fmt: skip
def test_mainland_mobiles_take_the_fast_reading(raw: str, taken: bool) -> None:
    """So the property above compares two paths, not the full path with itself; a number
    the parser would strip a prefix from is left to it."""
    hit = phone_module._mainland(raw.translate(phone_module._DELETE_SEPARATORS))
    assert (hit is not None) is taken
    if hit is not None:
        assert hit == normalize_phone_slow(raw)
        assert hit.valid
