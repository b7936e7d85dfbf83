"""Platform accounts: ``platform:handle`` with each platform's own handle rules.

Canonical form: ``platform:handle`` where ``platform`` is one of :data:`PLATFORMS` (aliases such
as ``twitter`` -> ``x``, ``tg`` -> ``telegram`` are folded) and ``handle`` follows the
platform's rules below. Handles on every platform listed are case-insensitive, so all are
lower-cased; a leading ``@`` is decoration and dropped (except LINE, see below).

| platform | handle | source of the rule |
|---|---|---|
| whatsapp | E.164 phone number | accounts are phone numbers (``wa.me/<digits>``) |
| telegram | ``[a-z][a-z0-9_]{4,31}`` or an E.164 phone | Telegram username rules (5-32 chars) |
| signal | ``name.NN`` username or an E.164 phone | Signal usernames: nickname + 2+ digits |
| wechat | ``[a-z][a-z0-9_-]{5,19}`` or an E.164 phone | WeChat ID rules (6-20 chars) |
| line | ``[a-z0-9._-]{4,20}``; ``@`` kept for official accounts | LINE ID rules |
| instagram | ``[a-z0-9._]{1,30}``, no leading/trailing/double dot | Instagram username rules |
| facebook | ``[a-z0-9.]{5,50}``, dots removed; or a numeric id | "periods don't count" (FB help) |
| x | ``[a-z0-9_]{1,15}`` | X/Twitter username rules |
| tiktok | ``[a-z0-9._]{2,24}`` | TikTok username rules |
| carousell | ``[a-z0-9._-]{3,30}`` | Carousell username rules |

Accepted input: ``telegram:@Foo``, ``Telegram: foo``, a platform hint plus ``@foo``, and
profile URLs (``https://t.me/foo``, ``instagram.com/foo``, ``wa.me/85291234567``,
``facebook.com/profile.php?id=100...``, ``tiktok.com/@foo``, ``carousell.com.hk/u/foo``).
URL paths that are not profiles (``t.me/joinchat/...``, ``instagram.com/p/...``) are rejected,
so :mod:`detect` falls back to the ``url`` kind for them.

Invariants: pure; idempotent; the handle never contains ``:`` or ``/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers._text import fold
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.phone import normalize_phone
from scameter.identifiers.spec import KindSpec

_KIND: Final = Kind.PLATFORM_ACCOUNT

PLATFORMS: Final = (
    "whatsapp",
    "telegram",
    "signal",
    "wechat",
    "line",
    "instagram",
    "facebook",
    "x",
    "tiktok",
    "carousell",
)

PLATFORM_ALIASES: Final[dict[str, str]] = {
    **{p: p for p in PLATFORMS},
    "twitter": "x",
    "tg": "telegram",
    "wa": "whatsapp",
    "ig": "instagram",
    "insta": "instagram",
    "fb": "facebook",
    "weixin": "wechat",
    "wx": "wechat",
    "douyin": "tiktok",
}

_TELEGRAM_RE: Final = re.compile(r"[a-z][a-z0-9_]{4,31}")
_SIGNAL_RE: Final = re.compile(r"[a-z_][a-z0-9_]{2,31}\.[0-9]{2,10}")
_WECHAT_RE: Final = re.compile(r"[a-z][a-z0-9_-]{5,19}")
_LINE_RE: Final = re.compile(r"@?[a-z0-9._-]{4,20}")
_INSTAGRAM_RE: Final = re.compile(r"(?!\.)(?!.*\.\.)[a-z0-9._]{1,30}(?<!\.)")
_FACEBOOK_RE: Final = re.compile(r"[a-z0-9]{5,50}")
_X_RE: Final = re.compile(r"[a-z0-9_]{1,15}")
_TIKTOK_RE: Final = re.compile(r"[a-z0-9._]{2,24}")
_CAROUSELL_RE: Final = re.compile(r"[a-z0-9._-]{3,30}")


def _reject(platform: str, rule: str, raw: str) -> InvalidIdentifier:
    return InvalidIdentifier(_KIND, f"not a valid {platform} handle: {rule}", raw)


def _phone_handle(platform: str, handle: str, raw: str) -> str:
    try:
        value = normalize_phone(handle).value
    except InvalidIdentifier as exc:
        raise _reject(platform, exc.reason, raw) from None
    if not value.startswith("+"):
        raise _reject(platform, "a short code is not an account; give the full number", raw)
    return value


def _looks_like_phone(handle: str) -> bool:
    return handle[:1] == "+" or (handle[:1].isdigit() and sum(c.isdigit() for c in handle) >= 7)


def _regex_rule(
    platform: str, pattern: re.Pattern[str], rule: str, *, phone_ok: bool = False
) -> Callable[[str, str], str]:
    def check(handle: str, raw: str) -> str:
        if phone_ok and _looks_like_phone(handle):
            return _phone_handle(platform, handle, raw)
        handle = handle.lower()
        if pattern.fullmatch(handle) is None:
            raise _reject(platform, rule, raw)
        return handle

    return check


def _whatsapp(handle: str, raw: str) -> str:
    # wa.me links carry the international number without '+'; a bare national number is HK.
    digits = handle.replace(" ", "").replace("-", "")
    if digits.isascii() and digits.isdigit() and len(digits) > 8:
        handle = "+" + digits
    return _phone_handle("whatsapp", handle, raw)


def _line(handle: str, raw: str) -> str:
    # LINE official accounts' basic IDs start with '@' and live apart from personal IDs,
    # so the '@' is part of the handle here; it arrives doubled from "line:@@id" only.
    handle = handle.lower()
    if _LINE_RE.fullmatch(handle) is None:
        raise _reject("line", "4-20 of a-z 0-9 . - _ (official accounts start with @)", raw)
    return handle


def _facebook(handle: str, raw: str) -> str:
    handle = handle.lower()
    if handle.isascii() and handle.isdigit():
        return handle  # numeric profile id (profile.php?id=...)
    handle = handle.replace(".", "")
    if _FACEBOOK_RE.fullmatch(handle) is None:
        raise _reject("facebook", "5-50 of a-z 0-9 and dots, or a numeric profile id", raw)
    return handle


_RULES: Final[dict[str, Callable[[str, str], str]]] = {
    "whatsapp": _whatsapp,
    "telegram": _regex_rule(
        "telegram", _TELEGRAM_RE, "5-32 of a-z 0-9 _, starting with a letter", phone_ok=True
    ),
    "signal": _regex_rule("signal", _SIGNAL_RE, "a nickname, a dot and 2+ digits", phone_ok=True),
    "wechat": _regex_rule(
        "wechat", _WECHAT_RE, "6-20 of a-z 0-9 _ -, starting with a letter", phone_ok=True
    ),
    "line": _line,
    "instagram": _regex_rule(
        "instagram", _INSTAGRAM_RE, "1-30 of a-z 0-9 . _, no leading, trailing or double dot"
    ),
    "facebook": _facebook,
    "x": _regex_rule("x", _X_RE, "1-15 of a-z 0-9 _"),
    "tiktok": _regex_rule("tiktok", _TIKTOK_RE, "2-24 of a-z 0-9 . _"),
    "carousell": _regex_rule("carousell", _CAROUSELL_RE, "3-30 of a-z 0-9 . _ -"),
}

#: Profile URL hosts (after dropping ``www.``/``m.``/``mobile.``) and their platform.
URL_HOSTS: Final[dict[str, str]] = {
    "t.me": "telegram",
    "telegram.me": "telegram",
    "telegram.dog": "telegram",
    "wa.me": "whatsapp",
    "instagram.com": "instagram",
    "instagr.am": "instagram",
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "x.com": "x",
    "twitter.com": "x",
    "tiktok.com": "tiktok",
    "carousell.com.hk": "carousell",
    "carousell.com": "carousell",
    "carousell.sg": "carousell",
    "line.me": "line",
    "weixin.qq.com": "wechat",
}

#: First path segments that are site features, not profiles.
_RESERVED: Final[dict[str, frozenset[str]]] = {
    "telegram": frozenset({"joinchat", "addstickers", "share", "proxy", "socks", "c", "s"}),
    "instagram": frozenset({"p", "reel", "reels", "explore", "stories", "accounts", "tv"}),
    "facebook": frozenset(
        {"groups", "pages", "events", "watch", "marketplace", "share", "story.php", "photo"}
    ),
    "x": frozenset({"i", "home", "search", "explore", "intent", "share", "hashtag"}),
}


#: Subdomains that do not change which profile a link names (``m.facebook.com/x``); the first
#: one a host starts with is dropped before looking it up in :data:`URL_HOSTS`.
LINK_SUBDOMAINS: Final = ("www.", "m.", "mobile.", "web.")


def _profile_segment(platform: str, segments: list[str], raw: str) -> str:
    """The usual profile path, ``host/handle``: the first segment, unless it is a site page."""
    if not segments or segments[0].lower() in _RESERVED.get(platform, frozenset()):
        raise _reject(platform, "this link is not a profile", raw)
    if segments[0].startswith("+"):
        raise _reject(platform, "invite links are not accounts", raw)
    return segments[0]


def _facebook_link(segments: list[str], query: str, raw: str) -> str | None:
    """``profile.php?id=N`` names the numeric profile; other paths are handles."""
    if segments[:1] != ["profile.php"]:
        return None
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "id" and value:
            return value
    raise _reject("facebook", "profile.php without an id", raw)


def _carousell_link(segments: list[str], query: str, raw: str) -> str | None:
    """``carousell.com.hk/u/name``: the handle follows ``u``."""
    if len(segments) >= 2 and segments[0] == "u":
        return _profile_segment("carousell", segments[1:], raw)
    return None


def _line_link(segments: list[str], query: str, raw: str) -> str | None:
    """``line.me/ti/p/~id``: the LINE ID, without the ``~`` of personal IDs."""
    if segments[:2] == ["ti", "p"] and len(segments) >= 3:
        handle = segments[2]
        return handle[1:] if handle.startswith("~") else handle
    return None


#: Platforms whose profile links have their own paths; None from one means "the usual path".
_LINK_RULES: Final[dict[str, Callable[[list[str], str, str], str | None]]] = {
    "facebook": _facebook_link,
    "carousell": _carousell_link,
    "line": _line_link,
}


def _link_parts(text: str) -> tuple[str, list[str], str]:
    """(host without port or ``www.``-like prefix, path segments, query) of a link."""
    scheme_end = text.find("://")
    rest = text[scheme_end + 3 :] if scheme_end != -1 else text
    host, _, path = rest.partition("/")
    host = host.lower().split(":", 1)[0]
    for sub in LINK_SUBDOMAINS:
        if host.startswith(sub):
            host = host[len(sub) :]
            break
    path, _, query = path.partition("?")
    segments = [s for s in path.split("#", 1)[0].split("/") if s]
    return host, segments, query


def _from_url(text: str, raw: str) -> tuple[str, str] | None:
    """(platform, handle) of a profile URL, None when the host is not a known platform."""
    host, segments, query = _link_parts(text)
    platform = URL_HOSTS.get(host)
    if platform is None:
        return None
    special = _LINK_RULES.get(platform)
    handle = None if special is None else special(segments, query, raw)
    if handle is None:
        handle = _profile_segment(platform, segments, raw)
    return platform, handle


def _split(text: str, raw: str, hint: str | None) -> tuple[str, str]:
    prefix, colon, rest = text.partition(":")
    if colon and "/" not in prefix:
        platform = PLATFORM_ALIASES.get(prefix.strip().lower())
        if platform is not None:
            return platform, rest.strip()
        if prefix.lower() not in ("http", "https"):
            raise InvalidIdentifier(
                _KIND, f"unknown platform; use one of {', '.join(PLATFORMS)}", raw
            )
    if "/" in text or text.lower().startswith(("t.me", "wa.me")):
        found = _from_url(text, raw)
        if found is not None:
            return found
        raise InvalidIdentifier(_KIND, "not a profile link of a known platform", raw)
    if hint is not None:
        platform = PLATFORM_ALIASES.get(hint.lower())
        if platform is None:
            raise InvalidIdentifier(
                _KIND, f"unknown platform; use one of {', '.join(PLATFORMS)}", raw
            )
        return platform, text
    raise InvalidIdentifier(_KIND, "write platform:handle, e.g. telegram:some_handle", raw)


def normalize_platform_account(raw: str, platform: str | None = None) -> Identifier:
    """Canonical ``platform_account`` of ``raw``; ``platform`` is a hint for bare handles."""
    text = fold(raw)
    if not text:
        raise InvalidIdentifier(_KIND, "empty", raw)
    if len(text) > 512:
        raise InvalidIdentifier(_KIND, "too long to be an account", raw)
    name, handle = _split(text, raw, platform)
    if (name != "line" and handle.startswith("@")) or (name == "line" and handle.startswith("@@")):
        handle = handle[1:]
    if not handle:
        raise _reject(name, "empty handle", raw)
    return Identifier(_KIND, f"{name}:{_RULES[name](handle, raw)}")


SPEC: Final = KindSpec(
    kind=_KIND,
    tag=0x07,
    normalize=normalize_platform_account,
    display_name="platform account",
    detect_prefixes=frozenset(PLATFORM_ALIASES),
    detect_link_hosts=frozenset(URL_HOSTS),
)

__all__ = [
    "LINK_SUBDOMAINS",
    "PLATFORMS",
    "PLATFORM_ALIASES",
    "SPEC",
    "URL_HOSTS",
    "normalize_platform_account",
]
