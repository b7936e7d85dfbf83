"""Seeded generator of realistic Hong Kong scam-report data, for the demo, tests and benchmarks.

Responsibility: produce any number of reports in the report schema of ``docs/report-format.md``
(``{"type": "report", "id", "source", "status", "reported_at", "reporter", "category",
"identifiers": [{"kind", "value"}]}``) plus a small allowlist of real public official entities,
from the tables of :mod:`scameter.demo.vocabulary`.

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
* Wallets carry valid checksums, made with the identifier layer's own EIP-55 and base58check.

Invariants: the output depends only on ``(n_reports, seed, as_of)``, byte for byte: every
random draw happens in a fixed order, so the tables below that pick a spelling or a link
(indexed by one ``randrange``) must keep their order and length, and each entry its own draws.
``python -m scameter.demo`` rewrites the bundled sample (:data:`SAMPLE_SEED`,
:data:`SAMPLE_REPORTS`), and a test checks that doing so reproduces the committed file. Memory
is bounded (campaigns are derived from their index on demand, a small cache keeps hot ones);
nothing here reads the clock, the network or the environment.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from scameter.demo.vocabulary import (
    ALLOWLIST,
    BANK_CODES,
    BRANDS,
    CAMPAIGN_PLATFORMS,
    CATEGORIES,
    FEEDS,
    FIXED_PREFIXES,
    LETTER_SYLLABLES,
    LURES,
    MOBILE_PREFIXES,
    PAGE_PATHS,
    POLICE_UNITS,
    SOURCE_KINDS,
    SOURCE_WEIGHTS,
    SOURCES,
    STORYLINE,
    SYLLABLES,
    TELECOMS,
    TLDS,
)
from scameter.identifiers.crypto import (
    B58_ALPHABET,
    P2PKH_VERSION,
    TRON_VERSION,
    b58check_encode,
    eip55_checksum,
)
from scameter.identifiers.detect import AT_HANDLE_PLATFORMS
from scameter.identifiers.model import Kind
from scameter.times import iso_utc

#: Fixed "now" of the generated data, so that the sample is reproducible.
DEFAULT_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
#: The seed of every default draw, and of the bundled sample.
SAMPLE_SEED: Final = 20261126
#: Reports in the bundled sample (``scameter/data/sample/reports.jsonl``).
SAMPLE_REPORTS: Final = 3000


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

    def pick(self, kind: Kind, rng: random.Random) -> dict[str, str]:
        """One of the campaign's identifiers of ``kind``, as a report names it."""
        return {"kind": kind.value, "value": _PICKS[kind](self, rng)}


#: Kind -> the campaign's value of that kind (drawing among several where it has several).
_PICKS: Final[dict[Kind, Callable[[_Campaign, random.Random], str]]] = {
    Kind.PHONE: lambda c, rng: _spell_phone(rng.choice(c.phones), rng),
    Kind.URL: lambda c, rng: rng.choice(c.urls),
    Kind.DOMAIN: lambda c, rng: c.domain,
    Kind.FPS_ID: lambda c, rng: c.fps_id,
    Kind.BANK_ACCOUNT: lambda c, rng: c.account,
    Kind.PLATFORM_ACCOUNT: lambda c, rng: rng.choice(c.handles),
    Kind.EMAIL: lambda c, rng: c.email,
    Kind.CRYPTO_WALLET: lambda c, rng: c.wallet,
    Kind.IP: lambda c, rng: c.ip,
}


def _weighted(options: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [o[0] for o in options], [o[1] for o in options]


_CAT_NAMES, _CAT_WEIGHTS = _weighted(CATEGORIES)

#: How people write an HK number, given its 8 digits ("91234567"); one is drawn per mention.
_PHONE_SPELLINGS: Final[tuple[Callable[[str], str], ...]] = (
    lambda d: d,
    lambda d: f"{d[:4]} {d[4:]}",
    lambda d: f"+852 {d[:4]} {d[4:]}",
    lambda d: f"+852-{d[:4]}-{d[4:]}",
    lambda d: f"(852) {d}",
    lambda d: f"852{d}",
)


def _spell_phone(digits8: str, rng: random.Random) -> str:
    """One HK number spelled as people type it."""
    return _PHONE_SPELLINGS[rng.randrange(len(_PHONE_SPELLINGS))](digits8)


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000):05d}"


def _fixed(rng: random.Random) -> str:
    return rng.choice(FIXED_PREFIXES) + f"{rng.randrange(100_000):05d}"


def _word(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts))


def _token(rng: random.Random, n: int) -> str:
    """A short-link token: base58 letters, as bit.ly-style services use."""
    return "".join(rng.choice(B58_ALPHABET) for _ in range(n))


#: A wallet on each chain, from 20 random bytes: EIP-55 ethereum, base58check tron and bitcoin.
_WALLETS: Final[tuple[Callable[[bytes], str], ...]] = (
    lambda raw: "ethereum:0x" + eip55_checksum(raw.hex()),
    lambda raw: "tron:" + b58check_encode(bytes((TRON_VERSION,)) + raw),
    lambda raw: "bitcoin:" + b58check_encode(bytes((P2PKH_VERSION,)) + raw),
)


def _wallet(rng: random.Random) -> str:
    raw = rng.randbytes(20)
    return _WALLETS[rng.randrange(len(_WALLETS))](raw)


def _handle(platform: str, rng: random.Random, phone: str) -> str:
    if platform == "whatsapp":
        return f"whatsapp:+852{phone}"
    # Within every platform's handle rules (docs/identifiers.md): starts with a letter, 6-15
    # characters of a-z 0-9 and one separator ("." on Facebook, which ignores dots; "_" else).
    name = rng.choice(LETTER_SYLLABLES) + _word(rng, rng.randrange(1, 3))
    suffix = rng.choice(("", "hk", "vip", str(rng.randrange(10, 99))))
    if suffix:
        name += ("." if platform == "facebook" else "_") + suffix
    name = name[:15].rstrip("._")
    while len(name) < 6:
        name += "hk"
    # Written with "@" on the platforms whose handles people write so (as detect reads them).
    at = "@" if platform in AT_HANDLE_PLATFORMS else ""
    return f"{platform}:{at}{name}"


def _scam_domain(rng: random.Random) -> str:
    brand, lure = rng.choice(BRANDS), rng.choice(LURES)
    joiner = rng.choice(("-", "", "-hk-"))
    parts = (brand, lure) if rng.random() < 0.7 else (lure, brand)
    return f"{parts[0]}{joiner}{parts[1]}.{rng.choice(TLDS)}"


#: Pages on shared platforms a campaign also uses (short links, forms, site builders, its
#: Telegram channel, given the campaign's ``telegram:@handle``); one is drawn per campaign.
_SHARED_URLS: Final[tuple[Callable[[random.Random, str], str], ...]] = (
    lambda rng, handle: f"https://bit.ly/{_token(rng, 7)}",
    lambda rng, handle: f"https://docs.google.com/forms/d/e/1FAIpQL{_token(rng, 20)}/viewform",
    lambda rng, handle: f"https://sites.google.com/view/{_word(rng, 3)}",
    lambda rng, handle: f"https://{_word(rng, 3)}.wixsite.com/{rng.choice(LURES)}",
    lambda rng, handle: f"https://linktr.ee/{_word(rng, 3)}",
    lambda rng, handle: f"https://t.me/{handle.split(':', 1)[1].lstrip('@')}",
    lambda rng, handle: f"https://forms.gle/{_token(rng, 17)}",
    lambda rng, handle: f"https://tinyurl.com/{_token(rng, 8).lower()}",
)


def _shared_url(rng: random.Random, handle: str) -> str:
    return _SHARED_URLS[rng.randrange(len(_SHARED_URLS))](rng, handle)


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
    platform = rng.choice(CAMPAIGN_PLATFORMS)
    handles = (
        _handle(platform, rng, phones[0]),
        _handle(rng.choice(CAMPAIGN_PLATFORMS), rng, phones[-1]),
    )
    path = rng.choice(PAGE_PATHS)
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


@dataclass(frozen=True, slots=True)
class _Source:
    """How one source reports: who the reporter is, and the status its reports get."""

    reporter: Callable[[random.Random, int], str]  # (rng, number of public reporters)
    #: (chance, status with that chance, status otherwise); None: always ``unverified``, no draw.
    status: tuple[float, str, str] | None


_SOURCE_RULES: Final[dict[str, _Source]] = {
    "public": _Source(
        lambda rng, n_public: f"public:{rng.randrange(n_public):07d}",
        (0.03, "rejected", "unverified"),
    ),
    "police": _Source(
        lambda rng, _: f"hkpf:{rng.choice(POLICE_UNITS)}", (0.9, "confirmed", "unverified")
    ),
    "bank": _Source(
        lambda rng, _: f"bank:{rng.choice(BANK_CODES)}", (0.85, "confirmed", "unverified")
    ),
    "telecom": _Source(
        lambda rng, _: f"telecom:{rng.choice(TELECOMS)}", (0.85, "confirmed", "unverified")
    ),
    "feed": _Source(lambda rng, _: f"feed:{rng.choice(FEEDS)}", None),
}


def _reporter_and_status(source: str, rng: random.Random, n_public: int) -> tuple[str, str]:
    rule = _SOURCE_RULES[source]
    reporter = rule.reporter(rng, n_public)
    if rule.status is None:
        return reporter, "unverified"
    chance, likely, otherwise = rule.status
    return reporter, likely if rng.random() < chance else otherwise


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
    n_reports: int, seed: int = SAMPLE_SEED, *, as_of: datetime = DEFAULT_AS_OF
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
        source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
        reporter, status = _reporter_and_status(source, rng, n_public)
        kinds = SOURCE_KINDS[source]
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


def phones(n: int, seed: int = SAMPLE_SEED) -> Iterator[str]:
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
    path: Path | str, n: int, seed: int = SAMPLE_SEED, *, as_of: datetime = DEFAULT_AS_OF
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


def write_bundled_sample(target: Path | str) -> None:
    """Write the bundled sample's two files into ``target`` (``python -m scameter.demo``)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    write_sample(target / "reports.jsonl", SAMPLE_REPORTS, SAMPLE_SEED)
    write_allowlist(target / "allowlist.jsonl")


__all__ = [
    "ALLOWLIST",
    "BANK_CODES",
    "CATEGORIES",
    "DEFAULT_AS_OF",
    "FIXED_PREFIXES",
    "MOBILE_PREFIXES",
    "SAMPLE_REPORTS",
    "SAMPLE_SEED",
    "SOURCES",
    "STORYLINE",
    "allowlist",
    "bundled_sample_dir",
    "generate",
    "phones",
    "write_allowlist",
    "write_bundled_sample",
    "write_sample",
]
