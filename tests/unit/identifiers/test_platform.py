"""Vector table for platform accounts: per-platform handle rules and profile-link forms."""

from __future__ import annotations

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import normalize
from scameter.identifiers.platform import PLATFORMS, normalize_platform_account

VALID = [
    ("telegram:@Scam_King", "telegram:scam_king"),
    ("Telegram: scam_king", "telegram:scam_king"),
    ("tg:scam_king", "telegram:scam_king"),
    ("https://t.me/Scam_King", "telegram:scam_king"),
    ("t.me/scam_king", "telegram:scam_king"),
    ("telegram.me/scam_king/", "telegram:scam_king"),
    ("telegram:+852 9123 4567", "telegram:+85291234567"),
    ("whatsapp:9123 4567", "whatsapp:+85291234567"),
    ("whatsapp:+852-9123-4567", "whatsapp:+85291234567"),
    ("https://wa.me/85291234567", "whatsapp:+85291234567"),
    ("wa.me/8613812345678", "whatsapp:+8613812345678"),
    ("signal:Alice.01", "signal:alice.01"),
    ("signal:+85291234567", "signal:+85291234567"),
    ("wechat:Scam_Boss88", "wechat:scam_boss88"),
    ("weixin:scam-boss", "wechat:scam-boss"),
    ("line:scam.king", "line:scam.king"),
    ("line:@@abc1234", "line:@abc1234"),
    ("https://line.me/ti/p/~scamking", "line:scamking"),
    ("instagram:@Some.One_", "instagram:some.one_"),
    ("instagram.com/some.one", "instagram:some.one"),
    ("https://www.instagram.com/some.one/?hl=en", "instagram:some.one"),
    ("facebook:John.Doe.123", "facebook:johndoe123"),
    ("https://www.facebook.com/john.doe.123", "facebook:johndoe123"),
    ("https://m.facebook.com/profile.php?id=100012345678901", "facebook:100012345678901"),
    ("x:@ScamKing", "x:scamking"),
    ("twitter:ScamKing", "x:scamking"),
    ("https://twitter.com/ScamKing", "x:scamking"),
    ("https://x.com/scamking/status/1", "x:scamking"),
    ("tiktok:@scam.king", "tiktok:scam.king"),
    ("https://www.tiktok.com/@scam.king/video/1", "tiktok:scam.king"),
    ("carousell:Scam_Seller", "carousell:scam_seller"),
    ("https://www.carousell.com.hk/u/scam_seller/", "carousell:scam_seller"),
]


@pytest.mark.parametrize(("raw", "canonical"), VALID, ids=[v[0] for v in VALID])
def test_canonical_form(raw: str, canonical: str) -> None:
    ident = normalize("platform_account", raw)
    assert ident.value == canonical
    assert normalize("platform_account", ident.value) == ident


def test_hint_for_bare_handles() -> None:
    assert normalize_platform_account("@Foo_Bar", "telegram").value == "telegram:foo_bar"
    assert normalize_platform_account("Foo_Bar", "twitter").value == "x:foo_bar"


def test_every_platform_has_a_rule() -> None:
    for name in PLATFORMS:
        handle = (
            "+85291234567" if name == "whatsapp" else "abc.01" if name == "signal" else "abcdefg"
        )
        assert normalize_platform_account(f"{name}:{handle}").value.startswith(f"{name}:")


INVALID = [
    ("scam_king", "platform:handle"),
    ("myspace:foo", "unknown platform"),
    ("telegram:abc", "telegram"),  # too short
    ("telegram:1abcdef", "telegram"),  # must start with a letter
    ("telegram:" + "a" * 33, "telegram"),
    ("t.me/joinchat/AAAA", "not a profile"),
    ("https://t.me/+AbCdEf", "invite"),
    ("instagram.com/p/Cxyz", "not a profile"),
    ("instagram:.dot", "instagram"),
    ("instagram:a..b", "instagram"),
    ("x:" + "a" * 16, "x handle"),
    ("whatsapp:123", "whatsapp"),
    ("facebook:abc", "facebook"),
    ("https://example.com/foo", "known platform"),
    ("telegram:@", "empty handle"),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID, ids=[v[0] for v in INVALID])
def test_rejects_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize("platform_account", raw)
    assert info.value.kind == "platform_account"
    assert reason in info.value.reason
