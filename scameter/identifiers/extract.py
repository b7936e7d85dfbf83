"""Extraction: every identifier in a pasted message (SMS, WhatsApp, e-mail text), with its span.

Responsibility: :func:`extract` finds the identifiers a scam message carries (links, bare
domains, phone numbers, e-mail addresses, labelled FPS IDs and bank accounts, checksummed
wallets, a leading ``#`` sender id, IP addresses) and returns each with the exact substring of
the original text it came from, its span in code points of the original text, its canonical
:class:`Identifier` (from the kind's own normaliser, so canonical forms are the usual ones)
and flags (``defanged``, ``had_controls``). Cross-kind derivations (a ``wa.me`` link's number,
an e-mail's domain) are not made here: the link is reported as a URL, the address as an
e-mail, and the lookup layer derives the rest.

How (``docs/identifiers.md``, "Extraction", says it for users):

1. :mod:`._textmap` removes controls and bidi tricks, NFKC-folds and defangs the text, keeping
   a map to the original offsets. Everything below reads the cleaned text.
2. Passes in priority order; a match overlapping one already taken is dropped, so a link's
   host is not also a domain and an e-mail's digits are not a phone:
   sender id, links with a scheme, e-mail addresses, labelled bank accounts and FPS IDs,
   wallets, bare hosts (links without a scheme, domains, IPv4), phone numbers.
3. Phones are found by a cheap pattern for digit runs with separators, then only those
   candidates are parsed (``phonenumbers`` via :func:`normalize_phone`, whose fast path takes
   the compacted forms); libphonenumber's ``PhoneNumberMatcher`` over whole texts is ten
   times slower. Only numbers libphonenumber calls *valid* are taken: free text is full of
   8-digit references and amounts.
4. Items are sorted by position and cut after ``limit`` distinct identifiers, with
   ``truncated`` set: never silently.

Delimiters: identifiers are ASCII-shaped, plus Latin, Greek and Cyrillic letters in hosts (so
homoglyph domains such as ``hsbс.com`` with a Cyrillic ``с`` are found), so any other
character ends one: CJK text, Chinese punctuation that NFKC keeps (``。「」『』【】、``), emoji.
``。`` between an ASCII label and a listed public suffix (``hkpost。top``) is read as a dot and
flagged ``defanged``: scam texts use it to dodge link filters.

Invariants: :func:`extract` never raises on any ``str`` (junk gives no items) and is
deterministic; every item's ``raw`` is ``text[span[0]:span[1]]``; items are in text order and do
not overlap; at most ``limit`` distinct identifiers; every identifier is what
``normalize(kind, x)`` gives for the cleaned match ``x``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers import _textmap
from scameter.identifiers._textmap import TextMap, visible
from scameter.identifiers.bank import HK_BANK_CODES, normalize_bank_account
from scameter.identifiers.crypto import normalize_crypto_wallet
from scameter.identifiers.domain import listed_suffix, normalize_domain, registrable_domain
from scameter.identifiers.email import normalize_email
from scameter.identifiers.fps import normalize_fps_id
from scameter.identifiers.ip import normalize_ip
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.phone import normalize_phone
from scameter.identifiers.sms_sender import normalize_sms_sender
from scameter.identifiers.url import normalize_url

#: Default cap on distinct identifiers per message (issue 17: "checks the first 100").
DEFAULT_LIMIT: Final = 100


@dataclass(frozen=True, slots=True)
class Found:
    """One identifier found in a message.

    * ``identifier``: the canonical identifier (the kind's normaliser's answer).
    * ``raw``: the original text of the match, ``text[span[0]:span[1]]``, controls and all.
    * ``span``: ``(start, end)`` in code points of the original text, end exclusive.
    * ``defanged``: the match was written defanged (``hxxp``, ``[.]``, ``hkpost。top``).
    * ``had_controls``: a control or invisible format character inside the match was removed.
    * ``source``: which rule found it: ``"sender"``, ``"link"``, ``"email"``, ``"label"``
      (FPS ID or bank account after its label), ``"wallet"``, ``"host"``, ``"phone"``. A
      ``"sender"`` item is a ``#`` id *typed in the text*, which proves nothing about who sent
      the message (only the phone's sender field does).
    """

    identifier: Identifier
    raw: str
    span: tuple[int, int]
    defanged: bool = False
    had_controls: bool = False
    source: str = ""

    @property
    def kind(self) -> Kind:
        return self.identifier.kind

    @property
    def value(self) -> str:
        return self.identifier.value


@dataclass(frozen=True, slots=True)
class Extraction:
    """What :func:`extract` found: the items in text order, and whether the limit cut some."""

    items: tuple[Found, ...]
    truncated: bool = False
    had_controls: bool = False

    def identifiers(self) -> tuple[Identifier, ...]:
        """The distinct identifiers, in order of first appearance (what a lookup checks)."""
        return tuple(dict.fromkeys(item.identifier for item in self.items))


_EMPTY: Final = Extraction(())

# --- patterns (on the cleaned text) ---------------------------------------------------------

#: Letters of a host label: ASCII, plus Latin-1/Extended, Greek and Cyrillic (homoglyphs).
_L: Final = "A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff"
#: Characters of a URL after its host (RFC 3986 unreserved, sub-delims, ':', '@', '/', '?',
#: '%', '#'), less the quote characters that delimit links in prose, plus the letters above.
_URL_TAIL: Final = rf"[{_L}\-._~:/?#@!$&*+,;=%()]"
_TRAILING: Final = ".,;:!?*"

_SCHEME_URL_RE: Final = re.compile(rf"(?<![A-Za-z0-9])(?:https?|ftp)://{_URL_TAIL}+", re.IGNORECASE)
_EMAIL_RE: Final = re.compile(
    rf"(?<![{_L}.+\-_%])[A-Za-z0-9._%+\-]+@[{_L}][{_L}\-]*(?:\.[{_L}][{_L}\-]*)+"
)
_HOST_RE: Final = re.compile(
    rf"(?<![{_L}.@/\-_])([{_L}][{_L}\-_]*(?:\.[{_L}][{_L}\-_]*)+)"
    rf"(:\d{{1,5}})?(/{_URL_TAIL}*)?(?![{_L}@\-_])"
)
_WALLET_RE: Final = re.compile(
    r"(?<![A-Za-z0-9_])(?:0[xX][0-9a-fA-F]{40}|[13][1-9A-HJ-NP-Za-km-z]{25,34}"
    r"|T[1-9A-HJ-NP-Za-km-z]{33}|(?:bc|BC)1[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71})(?![A-Za-z0-9_])"
)
#: A phone candidate: an optional '+' or '(', then 7 to 18 digits, one separator (space, '-',
#: '.', brackets) at most between two digits. Linear: each repetition consumes a digit. The
#: pattern opens with a character class, not the lookbehinds, so the regex engine can skip
#: ahead to candidate characters (twice as fast on SMS texts).
_PHONE_RE: Final = re.compile(
    r"[+(\d]"
    r"(?<![A-Za-z0-9_+$/@#%][+(\d])"  # not inside a word, an amount, a path or after '+'
    r"(?<!\d[.\-][+(\d])"  # not after "1." or "1-" (decimals, ranges)
    r"(?:(?<=\+) ?)?(?:(?<=[+(])\d)?"
    r"(?:(?:[ \-.]|\) ?| ?\()?\d){6,17}"
    r"(?![A-Za-z0-9_@/%]|[.\-]\d)"
)
_HK_PAIR_RE: Final = re.compile(r"(?<!\d)\d{4}[ \-]?\d{4}(?!\d)")
_DIGIT_GROUPS_RE: Final = re.compile(r"\d+")
#: A value after its label: digits with separators, kept short (the normaliser decides).
_LABEL_VALUE: Final = r"(\d(?:[ \-]?\d){5,20})(?!\d)"
_FPS_RE: Final = re.compile(
    r"(?:(?<![A-Za-z])FPS|轉數快|快速支付系統)\s*(?:ID|識別碼|號碼|號)?\s*(?:no\.?|number|is|為|:|#|=)?\s*"
    + _LABEL_VALUE,
    re.IGNORECASE,
)
_BANK_RE: Final = re.compile(
    r"(?:(?<![A-Za-z])(?:a/c|acct|account)|戶口|帳戶|賬戶|帳號|賬號)"
    r"\s*(?:no\.?|number|num|號碼|號)?\s*(?:is|為|:|#|=)?\s*" + _LABEL_VALUE,
    re.IGNORECASE,
)
#: Words one of which each label pattern needs: a cheap test before the regex.
_FPS_HINTS: Final = ("fps", "轉數快", "快速支付")
_BANK_HINTS: Final = ("a/c", "acct", "account", "戶口", "帳戶", "賬戶", "帳號", "賬號")
_SENDER_CHARS: Final = r"[A-Za-z0-9\-_&.]"
_SENDER_START_RE: Final = re.compile(
    rf"\s*[\[(<【]?\s*(#{_SENDER_CHARS}{{1,11}})(?!{_SENDER_CHARS})"
)
_SENDER_LABEL_RE: Final = re.compile(
    rf"(?:^|\n)[ \t]*(?:from|sender|寄件人|發送者|發件人|發送人|發訊人)[ \t]*:?[ \t]*"
    rf"(#{_SENDER_CHARS}{{1,11}})(?!{_SENDER_CHARS})",
    re.IGNORECASE,
)
#: '。' between an ASCII label and a letters-only label that may be a public suffix.
_IDEOGRAPHIC_DOT_RE: Final = re.compile(
    r"。(?<=[A-Za-z0-9\-]。)(?=([A-Za-z]{2,63})(?![A-Za-z0-9\-]))"  # the literal first: fast scan
)


# --- the collector -------------------------------------------------------------------------


class _Taken:
    """Accepted cleaned spans, sorted, for the overlap test of each later pass."""

    __slots__ = ("ends", "found", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.found: list[tuple[int, int, Identifier, str]] = []

    def free(self, a: int, b: int) -> bool:
        i = bisect_left(self.starts, b)  # spans starting before b
        return i == 0 or self.ends[i - 1] <= a

    def add(self, a: int, b: int, ident: Identifier, source: str) -> None:
        i = bisect_left(self.starts, a)
        self.starts.insert(i, a)
        self.ends.insert(i, b)
        insort(self.found, (a, b, ident, source), key=lambda f: f[0])


def _try(fn: Callable[[str], Identifier], raw: str) -> Identifier | None:
    try:
        return fn(raw)
    except InvalidIdentifier:
        return None


def _trim(text: str, a: int, b: int) -> int:
    """End of a link without the punctuation that ends the sentence around it."""
    while b > a:
        ch = text[b - 1]
        if ch in _TRAILING:
            b -= 1
        elif ch == ")" and text.count("(", a, b) < text.count(")", a, b):
            b -= 1  # an unbalanced ')' closes the prose's bracket, not the link's
        else:
            break
    return b


# --- passes, in priority order (module docstring) ------------------------------------------


def _sender(text: str, taken: _Taken) -> None:
    """A ``#`` id as the message's first token, or after a sender label at a line start.

    Elsewhere a ``#word`` is a hashtag (``#scam``, ``#HK``), never a sender id. A first line
    that is exactly a spaced id (``#Chong Hing``, pasted on its own line) is taken whole.
    """
    if "#" not in text:
        return
    first_line = text.split("\n", 1)[0].strip()
    if first_line.startswith("#") and " " in first_line:
        ident = _try(normalize_sms_sender, first_line)
        if ident is not None:
            a = text.index(first_line)
            taken.add(a, a + len(first_line), ident, "sender")
            return
    m = _SENDER_START_RE.match(text)
    matches = [m] if m is not None else []
    matches += list(_SENDER_LABEL_RE.finditer(text))
    for match in matches:
        a, b = match.span(1)
        ident = _try(normalize_sms_sender, match.group(1))
        if ident is not None and taken.free(a, b):
            taken.add(a, b, ident, "sender")


def _links(text: str, taken: _Taken) -> None:
    if "://" not in text:
        return
    for m in _SCHEME_URL_RE.finditer(text):
        a = m.start()
        b = _trim(text, a, m.end())
        if taken.free(a, b):
            ident = _try(normalize_url, text[a:b])
            if ident is not None and "://" in text[a:b] and not ident.value.endswith("://"):
                taken.add(a, b, ident, "link")


def _emails(text: str, taken: _Taken) -> None:
    if "@" not in text:
        return
    for m in _EMAIL_RE.finditer(text):
        a = m.start()
        b = _trim(text, a, m.end())
        if taken.free(a, b) and listed_suffix(text[a:b].rpartition(".")[2].lower()) is not None:
            ident = _try(normalize_email, text[a:b])
            if ident is not None:
                taken.add(a, b, ident, "email")


def _labelled(text: str, taken: _Taken) -> None:
    """Bank accounts and FPS IDs, only right after their label (``a/c``, ``戶口``, ``FPS ID``).

    A labelled value that is not one (an 8-digit FPS proxy is a mobile number) is left for the
    phone pass.
    """
    low = text.lower()
    for pattern, hints, fn in (
        (_BANK_RE, _BANK_HINTS, normalize_bank_account),
        (_FPS_RE, _FPS_HINTS, normalize_fps_id),
    ):
        if not any(h in low for h in hints):
            continue
        for m in pattern.finditer(text):
            a, b = m.span(1)
            if taken.free(a, b):
                ident = _try(fn, m.group(1))
                if ident is not None:
                    taken.add(a, b, ident, "label")


def _wallets(text: str, taken: _Taken) -> None:
    for m in _WALLET_RE.finditer(text):
        a, b = m.span()
        if taken.free(a, b):
            ident = _try(normalize_crypto_wallet, m.group())
            if ident is not None:
                taken.add(a, b, ident, "wallet")


def _sentence_break(host: str) -> bool:
    """``done.Click``: two labels, the last capitalised like a sentence's first word."""
    head, _, last = host.rpartition(".")
    return "." not in head and last[:1].isupper() and last[1:].islower()


def _host_identifier(host: str, port: str | None, path: str | None) -> Identifier | None:
    """A bare host with optional port and path: IPv4 -> ip or URL; names need a listed
    public suffix and a registrable domain, then domain (bare) or URL (port or path)."""
    labels = host.split(".")
    if all(label.isdigit() for label in labels):
        if len(labels) != 4:
            return None
        if port or path:
            return _try(normalize_url, host + (port or "") + (path or ""))
        return _try(normalize_ip, host)
    if not host.lower().startswith("www.") and not (port or path) and _sentence_break(host):
        return None
    domain = _try(normalize_domain, host)
    if domain is None or listed_suffix(domain.value) is None:
        return None
    if registrable_domain(domain.value) is None:
        return None
    if port or (path and path != "/"):
        return _try(normalize_url, host + (port or "") + (path or ""))
    return domain


def _hosts(text: str, taken: _Taken) -> None:
    if "." not in text:
        return
    for m in _HOST_RE.finditer(text):
        a = m.start()
        host, port = m.group(1), m.group(2)
        path = None
        if m.start(3) >= 0:
            b = _trim(text, a, m.end())
            if b > m.start(3):
                path = text[m.start(3) : b]
        elif port is not None:
            b = m.end()
        else:
            b = m.end(1)
            host = text[a : _trim(text, a, b)]
            b = a + len(host)
        if "." not in host.strip(".") or not taken.free(a, b):
            continue
        ident = _host_identifier(host, port, path)
        if ident is not None:
            taken.add(a, b, ident, "host")


def _phone_candidate(raw: str) -> Identifier | None:
    """The valid phone number a candidate spells, or None (module docstring, step 3)."""
    groups = _DIGIT_GROUPS_RE.findall(raw)
    digits = "".join(groups)
    n = len(digits)
    if len(groups) == 3 and sorted(len(g) for g in groups) == [2, 2, 4] and "(" not in raw:
        return None  # 2024-05-12, 12.05.2024: a date
    if raw[0] == "+":
        ident = _try(normalize_phone, "+" + digits)
    elif len(groups[0]) == 3 and groups[0] in HK_BANK_CODES and 12 <= n <= 18:
        return None  # 004-123-456789-001 grouped as a bank account, not dialled
    elif digits.startswith("00") or (n == 11 and digits.startswith("852")):
        ident = _try(normalize_phone, digits)
    elif n in (8, 9):
        ident = _try(normalize_phone, digits)
        if ident is not None and not ident.value.startswith("+852"):
            return None
    else:
        return None
    return ident if ident is not None and ident.valid else None


def _phones(text: str, taken: _Taken) -> None:
    for m in _PHONE_RE.finditer(text):
        a, b = m.span()
        raw = m.group()
        if raw[0] == "(" and ")" not in raw:
            a, raw = a + 1, raw[1:]
        if not taken.free(a, b):
            continue
        ident = _phone_candidate(raw)
        if ident is not None:
            taken.add(a, b, ident, "phone")
            continue
        # Two numbers side by side ("6391 2745 9123 4567") make one candidate: try HK pairs.
        for pair in _HK_PAIR_RE.finditer(raw):
            pa, pb = a + pair.start(), a + pair.end()
            ident = _phone_candidate(pair.group())
            if ident is not None and taken.free(pa, pb):
                taken.add(pa, pb, ident, "phone")


_PASSES: Final = (_sender, _links, _emails, _labelled, _wallets, _hosts, _phones)


def _ideographic_dots(tm: TextMap) -> TextMap:
    """``hkpost。top`` -> ``hkpost.top`` where the right side is a listed suffix; flagged."""
    text = tm.text
    hits = [
        m.start()
        for m in _IDEOGRAPHIC_DOT_RE.finditer(text)
        if listed_suffix(m.group(1).lower()) is not None
    ]
    if not hits:
        return tm
    chars = list(text)
    for i in hits:
        chars[i] = "."
    defangs = sorted({*tm.defangs, *(tm.span(i, i + 1)[0] for i in hits)})
    return TextMap("".join(chars), tm.maps, tm.controls, tuple(defangs))


def extract(text: str, *, limit: int = DEFAULT_LIMIT) -> Extraction:
    """Every identifier in ``text``, in text order, at most ``limit`` distinct ones.

    Never raises for any ``str`` (non-text gives no items); ``limit`` must be >= 0.
    ``truncated`` is set when more than ``limit`` distinct identifiers were found.
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if not isinstance(text, str) or not text:
        return _EMPTY
    tm = _textmap.clean(text)
    if "。" in tm.text:
        tm = _ideographic_dots(tm)
    taken = _Taken()
    for find in _PASSES:
        find(tm.text, taken)
    items: list[Found] = []
    seen: set[Identifier] = set()
    truncated = False
    for a, b, ident, source in taken.found:
        if ident not in seen:
            if len(seen) >= limit:
                truncated = True
                break
            seen.add(ident)
        start, end = tm.span(a, b)
        items.append(
            Found(
                identifier=ident,
                raw=text[start:end],
                span=(start, end),
                defanged=tm.defanged_in(start, end),
                had_controls=tm.controls_in(start, end),
                source=source,
            )
        )
    return Extraction(tuple(items), truncated, bool(tm.controls))


__all__ = ["DEFAULT_LIMIT", "Extraction", "Found", "extract", "visible"]
