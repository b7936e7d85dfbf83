"""Seeded generator of realistic Hong Kong scam-report data, for the demo, tests and benchmarks.

Responsibility: produce any number of reports in the report schema of ``docs/report-format.md``
(``{"type": "report", "id", "source", "status", "reported_at", "reporter", "category",
"identifiers": [{"kind", "value"}]}``) plus a small allowlist of real public official entities.

How the data looks like the field (public HK Police / ADCC reporting):
* Reports come from every source (police, public, bank, telecom, feed) with the statuses each
  source gives, and the categories the police publish (online shopping, employment, investment,
  phishing SMS, impersonation of officials, romance, loans, "guess who", ...).
* Scams run as *campaigns*: one operation uses a block of consecutive mobile numbers, a
  lookalike domain, pages on shared platforms (bit.ly, Google Forms, wixsite...), an FPS ID, a
  mule bank account with a real HK bank code, messaging handles and a wallet. One report names
  one to three of them, so co-reported identifiers form clusters. Popular campaigns get many
  reports (a skewed pick), most get one or two.
* Values are written the way people type them ("9123 4567", "+852-9123-4567", "(852) ...").
* Phone numbers fall in ranges libphonenumber's HK metadata marks as mobile (5/6/7/9xxx xxxx)
  or fixed line (2/3xxx xxxx); a unit test checks every prefix against ``phonenumbers``.

Invariants: the output depends only on ``(n_reports, seed, as_of)``; memory is bounded
(campaigns are derived from their index on demand, a small cache keeps hot ones); nothing here
reads the clock, the network or the environment. The :data:`ALLOWLIST` holds only real, public
numbers and domains of official entities, as published on their own websites.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from scameter.times import iso_utc

#: Fixed "now" of the generated data, so that the sample is reproducible.
DEFAULT_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)

# Three-digit prefixes whose every 8-digit number libphonenumber (HK metadata) classifies as
# MOBILE resp. FIXED_LINE. Checked by tests/unit/demo/test_generator.py against phonenumbers.
_MOBILE_TEXT = (
    "510 511 512 513 514 516 517 518 519 520 521 522 523 524 526 527 528 529 530 531 532 533 "
    "534 536 537 538 539 540 541 542 543 544 546 547 548 549 550 551 552 553 554 556 557 558 "
    "559 560 561 562 563 564 566 568 569 570 571 572 574 576 577 578 579 590 591 592 593 594 "
    "596 597 598 599 601 602 603 604 605 606 607 608 609 610 611 612 613 614 615 616 617 618 "
    "619 620 621 622 623 624 625 627 628 629 630 631 632 633 634 635 636 637 638 639 640 641 "
    "642 643 644 645 646 647 648 649 650 651 652 653 654 655 656 657 658 659 660 661 662 663 "
    "664 665 667 668 669 670 671 672 673 674 675 676 677 679 680 681 682 683 684 685 687 688 "
    "689 690 691 692 693 694 695 696 697 698 699 701 702 703 704 705 709 901 902 903 904 905 "
    "906 907 908 909 910 912 913 914 915 916 917 918 919 920 921 922 923 924 925 926 927 928 "
    "930 931 932 933 934 935 936 937 938 940 941 942 943 944 945 946 947 948 949 950 951 952 "
    "953 954 955 956 957 958 960 961 962 963 964 965 966 967 968 969 970 971 972 973 974 975 "
    "976 977 978 979 980 981 982 983 984 985 986 987 988"
)
_FIXED_TEXT = (
    "210 211 212 213 214 215 216 217 218 219 220 221 223 224 225 226 227 228 229 230 231 232 "
    "233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 "
    "255 256 257 258 259 260 261 262 263 264 265 266 267 268 269 270 271 272 273 274 275 276 "
    "277 278 279 280 281 282 283 284 285 286 287 288 289 290 291 292 293 294 295 296 297 298 "
    "299 310 311 312 314 315 316 317 318 319 340 341 342 344 346 347 348 349 350 351 352 354 "
    "355 356 357 358 359 360 361 362 364 365 366 367 368 369 370 371 372 374 375 376 379 385 "
    "387 389 390 391 392 394 395 396 397 398 399"
)
MOBILE_PREFIXES: tuple[str, ...] = tuple(_MOBILE_TEXT.split())
FIXED_PREFIXES: tuple[str, ...] = tuple(_FIXED_TEXT.split())

#: Bank codes of licensed banks in Hong Kong (HKICL clearing codes) used for mule accounts.
BANK_CODES: tuple[str, ...] = (
    "003",  # Standard Chartered Bank (Hong Kong)
    "004",  # The Hongkong and Shanghai Banking Corporation
    "009",  # China Construction Bank (Asia)
    "012",  # Bank of China (Hong Kong)
    "015",  # The Bank of East Asia
    "016",  # DBS Bank (Hong Kong)
    "024",  # Hang Seng Bank
    "040",  # Dah Sing Bank
    "041",  # Chong Hing Bank
    "043",  # Nanyang Commercial Bank
    "072",  # Industrial and Commercial Bank of China (Asia)
    "250",  # Citibank (Hong Kong)
    "387",  # ZA Bank
    "388",  # Livi Bank
    "389",  # Mox Bank
    "390",  # WeLab Bank
)

#: Categories as the HK Police publish them, with rough relative frequencies of reports.
CATEGORIES: tuple[tuple[str, int], ...] = (
    ("online_shopping", 30),
    ("employment", 15),
    ("investment", 14),
    ("phishing_sms", 12),
    ("impersonation_of_officials", 8),
    ("romance", 6),
    ("loan", 5),
    ("guess_who", 3),
    ("ticketing", 3),
    ("tech_support", 2),
    ("rental", 2),
)

SOURCES: tuple[str, ...] = ("police", "public", "bank", "telecom", "feed")
_SOURCE_WEIGHTS = (12, 60, 8, 10, 10)
# Which identifier kinds each source reports (a bank sees payees, a telecom numbers and links).
_SOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "police": (
        "phone",
        "url",
        "fps_id",
        "bank_account",
        "platform_account",
        "crypto_wallet",
        "email",
    ),
    "public": ("phone", "phone", "phone", "url", "platform_account", "email", "fps_id"),
    "bank": ("bank_account", "fps_id", "phone"),
    "telecom": ("phone", "phone", "url"),
    "feed": ("url", "url", "domain", "ip", "crypto_wallet"),
}

#: Real, public official entities (numbers and domains as published by their owners).
ALLOWLIST: tuple[tuple[str, str, str], ...] = (
    ("phone", "18222", "Hong Kong Police Force Anti-Scam Helpline"),
    ("phone", "999", "Hong Kong emergency services"),
    ("phone", "2527 7177", "Hong Kong Police Force Hotline"),
    ("phone", "2233 3000", "HSBC Hong Kong customer service"),
    ("phone", "2822 0228", "Hang Seng Bank customer service"),
    ("phone", "3988 2388", "Bank of China (Hong Kong) customer service"),
    ("phone", "2886 8888", "Standard Chartered Hong Kong customer service"),
    ("phone", "2878 8196", "Hong Kong Monetary Authority public enquiries"),
    ("phone", "2929 2222", "Consumer Council hotline"),
    ("phone", "2526 6366", "ICAC report corruption hotline"),
    ("domain", "police.gov.hk", "Hong Kong Police Force"),
    ("domain", "adcc.gov.hk", "Anti-Deception Coordination Centre"),
    ("domain", "cyberdefender.hk", "CyberDefender (Hong Kong Police Force)"),
    ("domain", "gov.hk", "Government of the Hong Kong SAR"),
    ("domain", "hkma.gov.hk", "Hong Kong Monetary Authority"),
    ("domain", "hsbc.com.hk", "HSBC Hong Kong"),
    ("domain", "hangseng.com", "Hang Seng Bank"),
    ("domain", "bochk.com", "Bank of China (Hong Kong)"),
    ("domain", "sc.com", "Standard Chartered"),
    ("domain", "hongkongpost.hk", "Hongkong Post"),
    ("domain", "icac.org.hk", "Independent Commission Against Corruption"),
    ("domain", "consumer.org.hk", "Consumer Council"),
)

# Lookalike material: brands scammers imitate and the words they add.
_BRANDS = (
    "hsbc",
    "hangseng",
    "bochk",
    "hkpost",
    "sfexpress",
    "hketoll",
    "octopus",
    "hkt",
    "csl",
    "smartone",
    "payme",
    "alipayhk",
)
_LURES = (
    "secure",
    "login",
    "verify",
    "refund",
    "parcel",
    "redelivery",
    "pay",
    "wallet",
    "invest",
    "vip",
    "gold",
    "support",
    "update",
    "account",
    "bonus",
    "job",
)
_TLDS = ("top", "xyz", "shop", "cc", "vip", "icu", "buzz", "online", "site", "com", "net", "info")
_PLATFORMS = (
    "telegram",
    "whatsapp",
    "wechat",
    "line",
    "instagram",
    "facebook",
    "x",
    "tiktok",
    "carousell",
)
_LETTER_SYLLABLES = ("ka", "wing", "hk", "lok", "man", "chi", "yan", "fat", "ming", "ho", "vip")
_SYLLABLES = (*_LETTER_SYLLABLES, "88")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

#: Fixed entries the demo tour relies on; they lead every generated sample.
STORYLINE: dict[str, str] = {
    "call_high_risk": "6391 2745",
    "fps_high_risk": "1684203",
    "account_high_risk": "004-512-338271-838",
    "scam_domain": "hkpost-redelivery.top",
    "near_match_url": "https://hkpost-redellvery.top/track?id=HK2211",
    "verified_phone": "18222",
    "platform_url": "https://bit.ly/3hkParcel",
}


@dataclass(frozen=True, slots=True)
class _Campaign:
    category: str
    phones: tuple[str, ...]
    domain: str
    urls: tuple[str, ...]
    fps_id: str
    account: str
    handles: tuple[str, ...]
    email: str
    wallet: str
    ip: str

    def pick(self, kind: str, rng: random.Random) -> dict[str, str]:
        if kind == "phone":
            return {"kind": "phone", "value": _spell_phone(rng.choice(self.phones), rng)}
        if kind == "url":
            return {"kind": "url", "value": rng.choice(self.urls)}
        if kind == "domain":
            return {"kind": "domain", "value": self.domain}
        if kind == "fps_id":
            return {"kind": "fps_id", "value": self.fps_id}
        if kind == "bank_account":
            return {"kind": "bank_account", "value": self.account}
        if kind == "platform_account":
            return {"kind": "platform_account", "value": rng.choice(self.handles)}
        if kind == "email":
            return {"kind": "email", "value": self.email}
        if kind == "crypto_wallet":
            return {"kind": "crypto_wallet", "value": self.wallet}
        return {"kind": "ip", "value": self.ip}


def _weighted(options: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [o[0] for o in options], [o[1] for o in options]


_CAT_NAMES, _CAT_WEIGHTS = _weighted(CATEGORIES)


def _spell_phone(digits8: str, rng: random.Random) -> str:
    """One HK number spelled as people type it."""
    a, b = digits8[:4], digits8[4:]
    form = rng.randrange(6)
    if form == 0:
        return digits8
    if form == 1:
        return f"{a} {b}"
    if form == 2:
        return f"+852 {a} {b}"
    if form == 3:
        return f"+852-{a}-{b}"
    if form == 4:
        return f"(852) {a}{b}"
    return f"852{digits8}"


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000):05d}"


def _fixed(rng: random.Random) -> str:
    return rng.choice(FIXED_PREFIXES) + f"{rng.randrange(100_000):05d}"


def _word(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_B58) for _ in range(n))


def _b58check(payload: bytes) -> str:
    # Base58Check as Bitcoin and TRON use it: payload || first 4 bytes of sha256(sha256(payload)).
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def _eip55(raw20: bytes) -> str:
    # EIP-55: upper-case a hex letter when the matching nibble of keccak256(lower hex) >= 8.
    from Crypto.Hash import keccak

    hexaddr = raw20.hex()
    digest = keccak.new(digest_bits=256, data=hexaddr.encode("ascii")).hexdigest()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(hexaddr)
    )


_TRON_VERSION = bytes([0x41])  # TRON mainnet address prefix
_P2PKH_VERSION = bytes([0x00])  # Bitcoin mainnet pay-to-pubkey-hash


def _wallet(rng: random.Random) -> str:
    raw = rng.randbytes(20)
    chain = rng.randrange(3)
    if chain == 0:
        return f"ethereum:{_eip55(raw)}"
    if chain == 1:
        return "tron:" + _b58check(_TRON_VERSION + raw)
    return "bitcoin:" + _b58check(_P2PKH_VERSION + raw)


def _handle(platform: str, rng: random.Random, phone: str) -> str:
    if platform == "whatsapp":
        return f"whatsapp:+852{phone}"
    # Within every platform's handle rules (docs/identifiers.md): starts with a letter, 6-15
    # characters of a-z 0-9 and one separator ("." on Facebook, which ignores dots; "_" else).
    name = rng.choice(_LETTER_SYLLABLES) + _word(rng, rng.randrange(1, 3))
    suffix = rng.choice(("", "hk", "vip", str(rng.randrange(10, 99))))
    if suffix:
        name += ("." if platform == "facebook" else "_") + suffix
    name = name[:15].rstrip("._")
    while len(name) < 6:
        name += "hk"
    if platform in ("telegram", "instagram", "x", "tiktok"):
        return f"{platform}:@{name}"
    return f"{platform}:{name}"


def _scam_domain(rng: random.Random) -> str:
    brand, lure = rng.choice(_BRANDS), rng.choice(_LURES)
    joiner = rng.choice(("-", "", "-hk-"))
    parts = (brand, lure) if rng.random() < 0.7 else (lure, brand)
    return f"{parts[0]}{joiner}{parts[1]}.{rng.choice(_TLDS)}"


def _shared_url(rng: random.Random, handle: str) -> str:
    choice = rng.randrange(8)
    if choice == 0:
        return f"https://bit.ly/{_token(rng, 7)}"
    if choice == 1:
        return f"https://docs.google.com/forms/d/e/1FAIpQL{_token(rng, 20)}/viewform"
    if choice == 2:
        return f"https://sites.google.com/view/{_word(rng, 3)}"
    if choice == 3:
        return f"https://{_word(rng, 3)}.wixsite.com/{rng.choice(_LURES)}"
    if choice == 4:
        return f"https://linktr.ee/{_word(rng, 3)}"
    if choice == 5:
        return f"https://t.me/{handle.split(':', 1)[1].lstrip('@')}"
    if choice == 6:
        return f"https://forms.gle/{_token(rng, 17)}"
    return f"https://tinyurl.com/{_token(rng, 8).lower()}"


def _public_ip(rng: random.Random) -> str:
    first = rng.choice((45, 103, 104, 154, 156, 185, 194, 202, 203))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


@lru_cache(maxsize=65_536)
def _campaign(seed: int, index: int) -> _Campaign:
    rng = random.Random(seed * 1_000_003 + index)
    category = rng.choices(_CAT_NAMES, _CAT_WEIGHTS)[0]
    # Scammers buy consecutive blocks of numbers; impersonators of officials also use fixed lines.
    start = _fixed(rng) if category == "impersonation_of_officials" else _mobile(rng)
    size = 1 if rng.random() < 0.6 else rng.randrange(2, 25)
    base = int(start[3:])
    phones = tuple(f"{start[:3]}{min(base + i, 99_999):05d}" for i in range(size))
    domain = _scam_domain(rng)
    platform = rng.choice(_PLATFORMS)
    handles = (_handle(platform, rng, phones[0]), _handle(rng.choice(_PLATFORMS), rng, phones[-1]))
    path = rng.choice(("login", "verify", "track", "pay", "refund", "invest", "apply"))
    urls = (
        f"https://{domain}/{path}",
        f"http://{rng.choice(('www.', 'm.', ''))}{domain}/{path}?id={rng.randrange(10**6)}",
        _shared_url(rng, handles[0] if handles[0].startswith("telegram:") else "telegram:@x"),
    )
    fps_len = 7 if rng.random() < 0.6 else 9
    fps_id = f"{rng.randrange(1, 10)}{rng.randrange(10 ** (fps_len - 1)):0{fps_len - 1}d}"
    bank = rng.choice(BANK_CODES)
    acct_len = rng.choice((6, 8, 9))
    account = f"{bank}-{rng.randrange(1000):03d}-{rng.randrange(10**acct_len):0{acct_len}d}"
    return _Campaign(
        category=category,
        phones=phones,
        domain=domain,
        urls=urls,
        fps_id=fps_id,
        account=account,
        handles=handles,
        email=f"{rng.choice(('support', 'service', 'noreply', 'hr'))}@{domain}",
        wallet=_wallet(rng),
        ip=_public_ip(rng),
    )


def _story_reports(as_of: datetime) -> list[dict[str, Any]]:
    s = STORYLINE
    day = timedelta(days=1)

    def rep(
        i: int, source: str, reporter: str, category: str, ids: list[dict[str, str]]
    ) -> dict[str, Any]:
        return {
            "type": "report",
            "id": f"story-{i}",
            "source": source,
            "status": "confirmed",
            "reported_at": iso_utc(as_of - (i + 3) * day),
            "reporter": reporter,
            "category": category,
            "identifiers": ids,
        }

    return [
        rep(
            0,
            "police",
            "hkpf:adcc",
            "impersonation_of_officials",
            [
                {"kind": "phone", "value": s["call_high_risk"]},
                {"kind": "fps_id", "value": s["fps_high_risk"]},
                {"kind": "bank_account", "value": s["account_high_risk"]},
            ],
        ),
        rep(
            1,
            "telecom",
            "telecom:csl",
            "phishing_sms",
            [{"kind": "url", "value": f"https://{s['scam_domain']}/track?id=HK88231"}],
        ),
        rep(
            2,
            "police",
            "hkpf:cyber",
            "phishing_sms",
            [{"kind": "url", "value": f"http://www.{s['scam_domain']}/pay"}],
        ),
        rep(
            3,
            "telecom",
            "telecom:hkt",
            "online_shopping",
            [{"kind": "url", "value": s["platform_url"]}],
        ),
    ]


def generate(
    n_reports: int, seed: int = 20261126, *, as_of: datetime = DEFAULT_AS_OF
) -> Iterator[dict[str, Any]]:
    """Yield ``n_reports`` report objects (the first ones are the :data:`STORYLINE`).

    Reports are dated inside the year before ``as_of``, most of them recent.
    """
    story = _story_reports(as_of)
    yield from story[:n_reports]
    rng = random.Random(seed)
    n_campaigns = max(8, n_reports // 6)
    n_public = max(50, n_reports // 3)
    year = 365 * 86_400
    for i in range(len(story), n_reports):
        # Skewed popularity: r**3 piles picks onto the low indexes (a few campaigns, many reports).
        camp = _campaign(seed, int(n_campaigns * rng.random() ** 3))
        source = rng.choices(SOURCES, _SOURCE_WEIGHTS)[0]
        if source == "public":
            reporter = f"public:{rng.randrange(n_public):07d}"
            status = "rejected" if rng.random() < 0.03 else "unverified"
        elif source == "police":
            reporter = f"hkpf:{rng.choice(('adcc', 'cyber', 'crime-kowloon', 'crime-hki'))}"
            status = "confirmed" if rng.random() < 0.9 else "unverified"
        elif source == "bank":
            reporter = f"bank:{rng.choice(BANK_CODES)}"
            status = "confirmed" if rng.random() < 0.85 else "unverified"
        elif source == "telecom":
            reporter = f"telecom:{rng.choice(('csl', 'hkt', 'smartone', 'cmhk', '3hk'))}"
            status = "confirmed" if rng.random() < 0.85 else "unverified"
        else:
            reporter = f"feed:{rng.choice(('urlhaus', 'openphish', 'phishtank', 'partner-cert'))}"
            status = "unverified"
        kinds = _SOURCE_KINDS[source]
        n_ids = 1 if rng.random() < 0.65 else rng.randrange(2, 4)
        ids = [camp.pick(rng.choice(kinds), rng) for _ in range(n_ids)]
        unique = list({(d["kind"], d["value"]): d for d in ids}.values())
        when = as_of - timedelta(seconds=int(year * rng.random() ** 1.5))
        yield {
            "type": "report",
            "id": f"{source}-{seed}-{i:08d}",
            "source": source,
            "status": status,
            "reported_at": iso_utc(when),
            "reporter": reporter,
            "category": camp.category,
            "identifiers": unique,
        }


def allowlist() -> list[dict[str, str]]:
    """The allowlist entries (``type: allow``) of real public official entities."""
    return [
        {"type": "allow", "kind": kind, "value": value, "owner": owner}
        for kind, value, owner in ALLOWLIST
    ]


def phones(n: int, seed: int = 20261126) -> Iterator[str]:
    """``n`` random HK numbers (mobile and fixed) spelled as people type them."""
    rng = random.Random(seed)
    for _ in range(n):
        yield _spell_phone(_mobile(rng) if rng.random() < 0.8 else _fixed(rng), rng)


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]] | list[dict[str, str]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count


def write_sample(
    path: Path | str, n: int, seed: int = 20261126, *, as_of: datetime = DEFAULT_AS_OF
) -> int:
    """Write ``n`` generated reports to ``path`` as JSON Lines; returns the row count."""
    return _write_jsonl(Path(path), generate(n, seed, as_of=as_of))


def write_allowlist(path: Path | str) -> int:
    """Write :func:`allowlist` to ``path`` as JSON Lines; returns the row count."""
    return _write_jsonl(Path(path), allowlist())


def bundled_sample_dir() -> Path:
    """The directory of the small sample shipped in the package (``reports.jsonl``,
    ``allowlist.jsonl``), used by ``scameter demo``."""
    return Path(__file__).parent.parent / "data" / "sample"


__all__ = [
    "ALLOWLIST",
    "BANK_CODES",
    "CATEGORIES",
    "DEFAULT_AS_OF",
    "FIXED_PREFIXES",
    "MOBILE_PREFIXES",
    "SOURCES",
    "STORYLINE",
    "allowlist",
    "bundled_sample_dir",
    "generate",
    "phones",
    "write_allowlist",
    "write_sample",
]


if __name__ == "__main__":  # pragma: no cover - python -m scameter.demo.generator
    target = bundled_sample_dir()
    target.mkdir(parents=True, exist_ok=True)
    write_sample(target / "reports.jsonl", 3000)
    write_allowlist(target / "allowlist.jsonl")
