"""Hypothesis properties of the identifier layer.

* idempotence for every kind: ``normalize(k, normalize(k, x).value) == normalize(k, x)``;
* equivalent spellings of one phone number give one key;
* arbitrary text (and decoded random bytes) never raise anything but InvalidIdentifier, and
  ``detect`` never raises at all;
* the phone fast path agrees with ``phonenumbers.parse`` + ``is_possible`` / ``is_valid`` and
  with the fast-path-free reference :func:`normalize_phone_slow`.
"""

from __future__ import annotations

import ipaddress

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import shortnumberinfo

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Kind, detect, normalize
from scameter.identifiers.crypto import eip55_checksum
from scameter.identifiers.phone import normalize_phone, normalize_phone_slow

PROFILE = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
#: The fast path is the riskiest code here: more examples.
FAST_PROFILE = settings(PROFILE, max_examples=600)

digits8 = st.text(alphabet="0123456789", min_size=8, max_size=8)
hk_mobile = st.builds(
    lambda a, b: a + b, st.sampled_from("2345679"), st.text("0123456789", min_size=7, max_size=7)
)
separators = st.sampled_from(["", " ", "-", ".", "  "])


def _spellings(national: str) -> st.SearchStrategy[str]:
    a, b = national[:4], national[4:]
    return st.builds(
        lambda sep, pre, fw: _fullwidth(f"{pre}{a}{sep}{b}") if fw else f"{pre}{a}{sep}{b}",
        separators,
        st.sampled_from(["", "+852 ", "+852", "852 ", "00852 ", "001 852 ", "(852) ", "+852-"]),
        st.booleans(),
    )


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@PROFILE
@given(hk_mobile.flatmap(lambda n: st.tuples(st.just(n), _spellings(n), _spellings(n))))
def test_equivalent_phone_spellings_share_one_key(case: tuple[str, str, str]) -> None:
    national, one, other = case
    a = normalize(Kind.PHONE, one)
    b = normalize(Kind.PHONE, other)
    assert a.value == "+852" + national
    assert a.key == b.key


def _reference(raw: str) -> tuple[str, bool] | None:
    """What phonenumbers alone says: (E.164, valid), or None when not a possible number.

    HK short codes (3-6 digits, short-number metadata) are their digits, as documented.
    """
    try:
        number = phonenumbers.parse(raw, "HK")
    except phonenumbers.NumberParseException:
        return None
    digits = "".join(c for c in raw if c.isdigit())
    if (
        not raw.startswith("+")
        and 3 <= len(digits) <= 6
        and digits[0] != "0"
        and shortnumberinfo.is_valid_short_number_for_region(number, "HK")
    ):
        return digits, True
    if (
        phonenumbers.is_possible_number_with_reason(number)
        != phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, bool(phonenumbers.is_valid_number(number))


@FAST_PROFILE
@given(
    st.one_of(digits8, st.text(alphabet="0123456789", min_size=1, max_size=14)),
    st.sampled_from(
        [
            "{d}",
            "+852{d}",
            "852{d}",
            "{a} {b}",
            "+852 {a} {b}",
            "{a}-{b}",
            "00852{d}",
            "001 852 {d}",
        ]
    ),
)
def test_phone_fast_path_agrees_with_phonenumbers(d: str, form: str) -> None:
    raw = form.format(d=d, a=d[:4], b=d[4:])
    ours: tuple[str, bool] | None
    try:
        ident = normalize_phone(raw)
        ours = (ident.value, ident.valid)
    except InvalidIdentifier:
        ours = None
    if not raw.startswith("00"):  # our "00" rule departs from phonenumbers on purpose
        assert ours == _reference(raw)
    slow: tuple[str, bool] | None
    try:
        ref = normalize_phone_slow(raw)
        slow = (ref.value, ref.valid)
    except InvalidIdentifier:
        slow = None
    assert ours == slow


# --- idempotence per kind -------------------------------------------------------------------

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
hosts = st.builds(
    lambda a, b, tld: f"{a}.{b}.{tld}", label, label, st.sampled_from(["com", "hk", "com.hk", "io"])
)

KIND_INPUTS: dict[Kind, st.SearchStrategy[str]] = {
    Kind.PHONE: st.one_of(
        hk_mobile.flatmap(_spellings),
        digits8,
        st.builds(
            lambda cc, n: f"+{cc} {n}",
            st.sampled_from(["1", "44", "86", "81", "65"]),
            st.text("0123456789", min_size=6, max_size=11),
        ),
        st.sampled_from(["999", "18222", "1823"]),
    ),
    Kind.EMAIL: st.builds(
        lambda local, host: f"{local}@{host}",
        st.text(alphabet="abcXYZ019._+-", min_size=1, max_size=20),
        hosts,
    ),
    Kind.FPS_ID: st.text("0123456789- ", min_size=7, max_size=11),
    Kind.BANK_ACCOUNT: st.builds(
        lambda code, rest: f"{code}-{rest}",
        st.sampled_from(["004", "024", "012", "999"]),
        st.text("0123456789 -", min_size=8, max_size=20),
    ),
    Kind.PLATFORM_ACCOUNT: st.builds(
        lambda p, at, h: f"{p}:{at}{h}",
        st.sampled_from(
            [
                "telegram",
                "TG",
                "instagram",
                "x",
                "twitter",
                "tiktok",
                "carousell",
                "wechat",
                "line",
                "facebook",
                "signal",
                "whatsapp",
            ]
        ),
        st.sampled_from(["", "@", "@@"]),
        st.text(alphabet="abcXYZ0189._-+ ", min_size=1, max_size=34),
    ),
    Kind.CRYPTO_WALLET: st.builds(
        lambda b, case: (
            "0x" + (eip55_checksum(b.hex()) if case == "mixed" else getattr(b.hex(), case)())
        ),
        st.binary(min_size=20, max_size=20),
        st.sampled_from(["mixed", "lower", "upper"]),
    ),
    Kind.IP: st.one_of(
        st.integers(0, 2**32 - 1).map(lambda i: str(ipaddress.IPv4Address(i))),
        st.integers(0, 2**128 - 1).map(lambda i: ipaddress.IPv6Address(i).exploded.upper()),
    ),
    Kind.DOMAIN: st.builds(lambda h, dot: h.upper() + dot, hosts, st.sampled_from(["", "."])),
    Kind.URL: st.builds(
        lambda h, p: f"HTTP://{h}/{p}", hosts, st.text(alphabet="abc/%2E.?=&#", max_size=20)
    ),
    Kind.SMS_SENDER: st.builds(
        lambda lead, body: lead + body,
        st.sampled_from(["#", "＃", "# ", ""]),
        st.text(alphabet="abcXYZ019-_&. 　\t", min_size=0, max_size=14),
    ),
}


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
def test_idempotent(kind: Kind) -> None:
    @PROFILE
    @given(KIND_INPUTS[kind])
    def check(raw: str) -> None:
        try:
            once = normalize(kind, raw)
        except InvalidIdentifier:
            return
        assert once.kind is kind
        assert normalize(kind, once.value) == once

    check()


# --- robustness -----------------------------------------------------------------------------

any_text = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.text(alphabet="0123456789+-() @.:/xX", max_size=30),
)


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
def test_random_text_only_raises_invalid_identifier(kind: Kind) -> None:
    @PROFILE
    @given(any_text)
    def check(raw: str) -> None:
        error: InvalidIdentifier | None = None
        try:
            ident = normalize(kind, raw)
        except InvalidIdentifier as exc:
            error = exc
        if error is not None:
            assert error.kind == kind.value
        else:
            assert ident.kind is kind

    check()


@PROFILE
@given(any_text)
def test_detect_never_raises_and_agrees_with_normalize(raw: str) -> None:
    for ident in detect(raw):
        assert normalize(ident.kind, ident.value) == ident


@PROFILE
@given(st.text(alphabet="0123456789.", max_size=16))
def test_ipv4_fast_path_agrees_with_ipaddress(text: str) -> None:
    from scameter.identifiers.ip import _dotted_quad

    try:
        canonical = str(ipaddress.IPv4Address(text)) == text
    except ValueError:
        canonical = False
    assert _dotted_quad(text) is canonical


@FAST_PROFILE
@given(
    st.text(alphabet="0123456789 -+().", min_size=1, max_size=22).map(
        lambda s: s if s.startswith("+") or s[:1].isdigit() else "+852" + s
    )
)
def test_detect_fast_path_equals_the_full_rules(raw: str) -> None:
    """detect()'s shortcut for HK numbers as typed gives exactly what the rules give."""
    from scameter.identifiers.detect import _detect

    assert detect(raw) == _detect(raw)


@pytest.mark.parametrize(
    "raw", ["9123 4567", "9123-4567", "+852 9123 4567", "+852-9123-4567", "+852 91234567"]
)
def test_detect_reads_hk_spellings_as_one_phone(raw: str) -> None:
    assert detect(raw) == [normalize(Kind.PHONE, "+85291234567")]
