"""The one seeded data generator every benchmark draws from.

Responsibility: give each benchmark the same data for the same ``(n, seed)``, fast enough that
generating 10^6 identifiers costs about a second, so that figures from different modules (and
different runs) are about the same identifiers and can be set side by side.

Two layers:

* :func:`reports` / :func:`write_reports` delegate to :mod:`scameter.demo` (the project's
  demo-data generator: realistic HK-flavoured reports from every source). Benchmarks that
  need *reports* (ingest, bulk) use these.
* The identifier helpers (:func:`phones`, :func:`domains`, :func:`urls`, :func:`emails`,
  :func:`fps_ids`, :func:`ips`, :func:`identifiers`, :func:`hits_and_misses`) return *canonical*
  values directly, with no normaliser in the loop, for lookup benchmarks that need N distinct
  identifiers of one kind at any size up to 10^7. :func:`raw_phone_forms` turns canonical
  phones back into what people type, for normalisation and bulk benchmarks.

Invariants:

* Deterministic: the same arguments give the same values in the same order, on every machine
  (only :class:`random.Random` with an explicit seed; never the global generator, never
  ``hash()`` of a string, which is salted per process).
* Distinct: every list returned by an identifier helper has no duplicates, so a lookup of
  ``n`` values is ``n`` different keys.
* Canonical: values are in the canonical form of ``docs/identifiers.md`` (E.164 phones,
  lower-case ASCII domains, ``http://host/path`` URLs...), so ``normalize(kind, v).value == v``
  for the kinds whose normaliser is the identity on canonical input.
* :func:`hits_and_misses` returns two disjoint lists drawn from one distinct population, so a
  "miss" is never accidentally stored.
* Results are cached (small LRU, immutable tuples): several benchmarks asking for the same
  ``(n, seed)`` in one run share one copy instead of regenerating 10^7 strings.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scameter import demo
from scameter.identifiers.model import Kind

if TYPE_CHECKING:
    from scameter.index import Manifest, Record

#: The seed every benchmark uses unless told otherwise (same as ``BenchContext.seed``).
DEFAULT_SEED = 20261126

# HK mobile number blocks (E.164 country code 852, 8-digit national significant numbers; OFCA's
# numbering plan). Two-digit prefixes where >= ~80% of numbers are allocated according to
# libphonenumber's metadata (measured with phonenumbers.is_valid_number over random samples);
# a generated number may still fall into an unallocated sub-block, which is what real lists
# contain too. 27 prefixes x 10^6 suffixes = 2.7 x 10^7 distinct numbers, enough for --with-1e7.
_HK_MOBILE_PREFIXES: tuple[str, ...] = (
    *("51", "52", "53", "54", "55", "56", "57", "59"),
    *(f"6{d}" for d in range(10)),
    *(f"9{d}" for d in range(9)),
)
_SUFFIX_SPACE = 10**6

_WORDS: tuple[str, ...] = (
    "secure", "login", "verify", "bank", "hk", "pay", "account", "update", "gift", "bonus",
    "crypto", "invest", "fund", "parcel", "delivery", "customs", "tax", "refund", "shop", "deal",
    "support", "service", "help", "wallet", "trade", "coin", "asia", "global", "prime", "smart",
)  # fmt: skip
_TLDS: tuple[str, ...] = ("com", "net", "top", "xyz", "shop", "info", "online", "com.hk", "cc")
_PATH_WORDS: tuple[str, ...] = ("login", "verify", "pay", "account", "track", "claim", "form")
_EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "outlook.com", "yahoo.com.hk", "proton.me")


def _distinct_ints(n: int, population: int, seed: int, salt: str) -> list[int]:
    """``n`` distinct integers in ``range(population)`` in a seeded random order."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n > population:
        raise ValueError(f"asked for {n} distinct values but only {population} exist")
    # random.sample over a range draws without materialising the range; seeding with a string
    # is deterministic across processes (it is hashed with SHA-512, not the salted hash()).
    return random.Random(f"{seed}:{salt}").sample(range(population), n)


@functools.lru_cache(maxsize=8)
def phones(n: int, seed: int = DEFAULT_SEED) -> tuple[str, ...]:
    """``n`` distinct canonical HK mobile numbers in E.164 form (``+85291234567``)."""
    prefixes = _HK_MOBILE_PREFIXES
    out: list[str] = []
    append = out.append
    for i in _distinct_ints(n, len(prefixes) * _SUFFIX_SPACE, seed, "phone"):
        block, suffix = divmod(i, _SUFFIX_SPACE)
        append(f"+852{prefixes[block]}{suffix:06d}")
    return tuple(out)


def _b36(i: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        i, r = divmod(i, 36)
        s = digits[r] + s
        if i == 0:
            return s


@functools.lru_cache(maxsize=8)
def domains(n: int, seed: int = DEFAULT_SEED) -> tuple[str, ...]:
    """``n`` distinct registrable scam-looking domains (``secure-pay-3kq1.top``)."""
    rng = random.Random(f"{seed}:domain-words")
    words, tlds = _WORDS, _TLDS
    out: list[str] = []
    # Distinct by construction: the base-36 tag is a distinct integer per domain.
    for i in _distinct_ints(n, max(n * 4, 1000), seed, "domain"):
        w1, w2, tld = rng.choice(words), rng.choice(words), rng.choice(tlds)
        out.append(f"{w1}-{w2}-{_b36(i)}.{tld}")
    return tuple(out)


@functools.lru_cache(maxsize=8)
def urls(n: int, seed: int = DEFAULT_SEED) -> tuple[str, ...]:
    """``n`` distinct canonical URLs (``http://host/path``) on distinct scam domains."""
    rng = random.Random(f"{seed}:url")
    out: list[str] = []
    for d in domains(n, seed):
        host = d if rng.random() < 0.5 else f"www.{d}"
        path = "/" if rng.random() < 0.3 else f"/{rng.choice(_PATH_WORDS)}/{rng.randrange(10**6)}"
        out.append(f"http://{host}{path}")
    return tuple(out)


@functools.lru_cache(maxsize=8)
def emails(n: int, seed: int = DEFAULT_SEED) -> tuple[str, ...]:
    """``n`` distinct lower-case e-mail addresses."""
    rng = random.Random(f"{seed}:email-words")
    out: list[str] = []
    for i in _distinct_ints(n, max(n * 4, 1000), seed, "email"):
        out.append(f"{rng.choice(_WORDS)}.{_b36(i)}@{rng.choice(_EMAIL_DOMAINS)}")
    return tuple(out)


@functools.lru_cache(maxsize=8)
def fps_ids(n: int, seed: int = DEFAULT_SEED) -> tuple[str, ...]:
    """``n`` distinct FPS IDs: 7 digits (the HKMA FPS proxy id form), leading digit 1-9."""
    return tuple(str(10**6 + i) for i in _distinct_ints(n, 9 * 10**6, seed, "fps"))


@functools.lru_cache(maxsize=8)
def ips(n: int, seed: int = DEFAULT_SEED) -> tuple[str, ...]:
    """``n`` distinct IPv4 addresses in compressed dotted form, avoiding 0.x and 10.x..."""
    out: list[str] = []
    # Documentation-free, routable-looking space 11.0.0.0 .. 99.255.255.255.
    base = 11 << 24
    for i in _distinct_ints(n, 89 << 24, seed, "ip"):
        v = base + i
        out.append(f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}")
    return tuple(out)


_GENERATORS: dict[Kind, Callable[[int, int], tuple[str, ...]]] = {
    Kind.PHONE: phones,
    Kind.DOMAIN: domains,
    Kind.URL: urls,
    Kind.EMAIL: emails,
    Kind.FPS_ID: fps_ids,
    Kind.IP: ips,
}

#: The kinds :func:`identifiers` can generate.
SUPPORTED_KINDS: tuple[Kind, ...] = tuple(_GENERATORS)


def identifiers(kind: Kind, n: int, seed: int = DEFAULT_SEED) -> tuple[str, ...]:
    """``n`` distinct canonical values of ``kind`` (see :data:`SUPPORTED_KINDS`)."""
    try:
        gen = _GENERATORS[Kind(kind)]
    except KeyError:
        raise ValueError(
            f"datagen has no generator for {kind!r}; supported: {', '.join(SUPPORTED_KINDS)}"
        ) from None
    return gen(n, seed)


def hits_and_misses(
    kind: Kind, n_stored: int, n_probe: int, seed: int = DEFAULT_SEED
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """``(stored, hit_probes, miss_probes)`` for a lookup benchmark.

    ``stored`` are the ``n_stored`` values to put in the store; ``hit_probes`` are
    ``min(n_probe, n_stored)`` of them in a shuffled order (so the probe order is not the
    insertion order); ``miss_probes`` are ``n_probe`` values of the same kind that are not
    stored. ``stored`` is the same tuple :func:`identifiers` returns for ``n_stored``.
    """
    stored = identifiers(kind, n_stored, seed)
    generate = _GENERATORS[Kind(kind)].__wrapped__  # type: ignore[attr-defined]
    stored_set = set(stored)
    misses: dict[str, None] = {}  # insertion-ordered set
    attempt = 0
    # Misses come from the same generator under derived seeds, minus anything stored: same
    # shape of value, guaranteed absent. Loops only when the population is nearly exhausted.
    while len(misses) < n_probe:
        attempt += 1
        for v in generate(2 * n_probe + 16, seed * 7919 + attempt):
            if v not in stored_set:
                misses[v] = None
    del stored_set
    rng = random.Random(f"{seed}:probe:{kind}:{n_stored}:{n_probe}")
    hits = rng.sample(stored, min(n_probe, n_stored))
    return stored, tuple(hits), tuple(misses)[:n_probe]


_PHONE_FORMS: tuple[Callable[[str], str], ...] = (
    lambda d: d,  # 91234567
    lambda d: f"{d[:4]} {d[4:]}",  # 9123 4567
    lambda d: f"{d[:4]}-{d[4:]}",  # 9123-4567
    lambda d: f"+852 {d[:4]} {d[4:]}",  # +852 9123 4567
    lambda d: f"+852{d}",  # +85291234567 (already E.164)
    lambda d: f"852-{d}",  # 852-91234567
    lambda d: f"(852) {d[:4]} {d[4:]}",  # (852) 9123 4567
    lambda d: f"001 852 {d}",  # IDD prefix as dialled from HK
)


def raw_phone_forms(canonical: Sequence[str], seed: int = DEFAULT_SEED) -> list[str]:
    """What people type for each canonical HK phone: a seeded mix of national and +852 forms.

    Every output normalises (default region HK) back to the canonical input at the same index.
    """
    rng = random.Random(f"{seed}:raw-phone")
    forms = _PHONE_FORMS
    k = len(forms)
    return [forms[rng.randrange(k)](c[4:]) for c in canonical]


# Bilingual SMS scam texts for the message-extraction benchmark: an opening in the style of the
# HK Post / bank / tax / job / investment scams the police warn about, one or two calls to
# action carrying identifiers, then filler sentences up to about 300 characters (a long SMS).
_SMS_OPENINGS: tuple[str, ...] = (
    "【HK Post】Your parcel is held at the depot due to an incomplete address. ",
    "【香港郵政】您的包裹因地址不完整未能派送，請盡快更新資料。",
    "HSBC: Your account has been suspended due to unusual activity. ",
    "【中銀香港】閣下的網上銀行戶口已被凍結，請立即核實身份。",
    "[GovHK] IRD: You have an unclaimed tax refund of HK$1,890. ",
    "【兼職】在家工作日賺$800-$1500，無需經驗，名額有限！",
    "💰 穩賺不賠！每日回報 5%，即加入VIP投資群組 📈 ",
    "HKeToll: 你的車輛有未繳隧道費，請在48小時內繳費，否則罰款HK$400。",
)
_SMS_ACTIONS: tuple[str, ...] = (
    "Pay at https://{domain}/{word} or call {local}. ",
    "請到 {domain}/{word} 付款，查詢請致電 {local}。",
    "Reply to {email} or WhatsApp {intl}. ",
    "訂金請轉數快 {fps}，或存入戶口 004-{branch}-{account}，入數後WhatsApp {local}。",
    "Verify now: hxxps://{defanged}/{word} ",
    "立即登入ｈｔｔｐｓ：／／{fullwidth}／{word}查詢。",
    "Join: wa.me/852{digits} or t.me/hk_vip_{branch} ",
    "Visit www.{domain} today. ",
)
_SMS_FILLERS: tuple[str, ...] = (
    "逾期未處理將被退回或收取額外費用。",
    "Failure to respond within 24 hours will result in permanent closure. ",
    "如有疑問請聯絡我們的客戶服務中心，謝謝合作。",
    "Thank you for choosing our service, we value your trust. ",
    "Ref no. HK2024-0612, valid until 30 June. ",
    "請勿回覆此短訊。",
)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@functools.lru_cache(maxsize=4)
def sms_messages(n: int, seed: int = DEFAULT_SEED, length: int = 300) -> tuple[str, ...]:
    """``n`` seeded bilingual (English / Traditional Chinese) SMS scam texts of about ``length``
    characters, with links (plain, schemeless, defanged, full-width), HK phones in local and
    ``+852`` form, e-mails, a labelled FPS ID and bank account, ``wa.me``/``t.me`` links; one
    in eight has no identifier at all. Identifiers come from the helpers above, so they are
    the same distinct values other benchmarks use."""
    rng = random.Random(f"{seed}:sms")
    doms, tels, mails, fps = domains(n, seed), phones(n, seed), emails(n, seed), fps_ids(n, seed)
    out: list[str] = []
    for i in range(n):
        text = rng.choice(_SMS_OPENINGS)
        if i % 8:
            for action in rng.sample(_SMS_ACTIONS, rng.choice((1, 1, 2))):
                local = tels[i][4:]
                text += action.format(
                    domain=doms[i],
                    defanged=doms[i].replace(".", "[.]"),
                    fullwidth=_fullwidth(doms[i]),
                    word=rng.choice(_PATH_WORDS),
                    local=f"{local[:4]} {local[4:]}",
                    intl=f"+852 {local[:4]} {local[4:]}",
                    digits=local,
                    email=mails[i],
                    fps=fps[i],
                    branch=f"{rng.randrange(1000):03d}",
                    account=f"{rng.randrange(10**9):09d}",
                )
        while len(text) < length:
            text += rng.choice(_SMS_FILLERS)
        out.append(text[:length])
    return tuple(out)


def reports(n: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """``n`` realistic report rows from :func:`scameter.demo.generate` (the report schema)."""
    return demo.generate(n, seed)


def write_reports(path: Path, n: int, seed: int = DEFAULT_SEED) -> Path:
    """Write ``n`` demo reports to ``path`` with :func:`scameter.demo.write_sample`."""
    demo.write_sample(path, n, seed)
    return path


_PHONE_REPORT_FORMS = (
    lambda d: f"{d[:4]} {d[4:]}",
    lambda d: f"+852 {d[:4]} {d[4:]}",
    lambda d: d,
    lambda d: f"+852{d}",
    lambda d: f"852-{d[:4]}-{d[4:]}",
)
_PHONE_REPORT_SOURCES = (("public", "unverified"),) * 18 + (
    ("police", "confirmed"),
    ("bank", "confirmed"),
)
_PHONE_REPORT_CATEGORIES = ("investment", "impersonation", "shopping", "romance", "job", "phishing")


def _report_row(
    rid: str,
    *,
    source: tuple[str, str],
    ts: int,
    reporter: str,
    category: str,
    identifiers: list[dict[str, str]],
) -> dict[str, object]:
    """One report row of the JSONL schema (keys in the order the files have always had)."""
    return {
        "type": "report",
        "id": rid,
        "source": source[0],
        "status": source[1],
        "reported_at": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reporter": reporter,
        "category": category,
        "identifiers": identifiers,
    }


def _write_jsonl(path: Path, rows: Iterator[dict[str, object]]) -> Path:
    """``rows`` as JSON lines, written 10,000 at a time (10^7-row inputs stay quick)."""
    dumps = json.dumps
    with open(path, "w", encoding="utf-8") as fh:
        batch: list[str] = []
        for row in rows:
            batch.append(dumps(row))
            if len(batch) >= 10_000:
                fh.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            fh.write("\n".join(batch) + "\n")
    return path


def write_phone_reports(path: Path, n: int, seed: int, *, as_of: datetime) -> Path:
    """``n`` phone-heavy report rows of the JSONL schema, deterministic for ``seed``: a pool of
    n/4 HK mobiles in the forms people type (heavy-tailed reuse), n/2 reporters, 90 % public
    reports dated over the year before ``as_of``, one report in ten also naming a URL (the
    ingest benchmark's input; faster to write at 10^7 than :func:`write_reports`)."""
    return _write_jsonl(path, _phone_report_rows(n, seed, as_of))


def _phone_report_rows(n: int, seed: int, as_of: datetime) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)
    pool = [f"{rng.choice('569')}{rng.randrange(10**7):07d}" for _ in range(max(1, n // 4))]
    reporters = max(1, n // 2)
    end = int(as_of.timestamp())
    for i in range(n):
        digits = pool[
            int(rng.paretovariate(1.2)) % len(pool) if i % 3 else rng.randrange(len(pool))
        ]
        idents: list[dict[str, str]] = [
            {"kind": "phone", "value": _PHONE_REPORT_FORMS[i % 5](digits)}
        ]
        if i % 10 == 0:
            idents.append(
                {"kind": "url", "value": f"http://scam{rng.randrange(n // 20 + 1)}.example/pay"}
            )
        source = _PHONE_REPORT_SOURCES[rng.randrange(len(_PHONE_REPORT_SOURCES))]
        ts = end - rng.randrange(365 * 86400)
        yield _report_row(
            f"r{i}", source=source, ts=ts, reporter=f"u{rng.randrange(reporters)}",
            category=_PHONE_REPORT_CATEGORIES[i % len(_PHONE_REPORT_CATEGORIES)],
            identifiers=idents,
        )  # fmt: skip


def publish_records(root: Path, records: Iterator[Record], *, as_of: datetime) -> Manifest:
    """Build a snapshot of ``records`` under ``root`` (no parent) and publish it as CURRENT:
    the one way the lookup benchmarks (index, baselines, rpc) make their snapshots."""
    from scameter.index import SnapshotBuilder, publish

    with SnapshotBuilder(root, as_of=as_of, parent=None) as builder:
        for record in records:
            builder.add(record)
        manifest = builder.build()
    publish(root, manifest.snapshot_id)
    return manifest


#: Issue 21's measured mix: sources of the reports, in shares of 20.
_SCALE_SOURCES = (
    (("public", "unverified"),) * 17 + (("telecom", "confirmed"),) * 2 + (("police", "confirmed"),)
)
_HK_SPACE = 3 * 10**7  # 8-digit HK mobiles starting 5, 6 or 9
_CN_SPACE = 7 * 10**9  # +86 mobiles 13x-19x: 7 prefixes x 10^9


def _permuted(i: int, population: int, seed: int) -> int:
    """The ``i``-th value of a seeded permutation of ``range(population)`` (``i`` below it),
    without materialising it: an affine map modulo a prime above ``population``, walked on
    (cycle-walking) until it lands inside. Distinct ``i`` give distinct values."""
    p = _prime_above(population)
    a = 1 + (seed * 2654435761) % (p - 1)
    b = (seed * 40503) % p
    x = i
    while True:
        x = (a * x + b) % p
        if x < population:
            return x


@functools.lru_cache(maxsize=4)
def _prime_above(n: int) -> int:
    def prime(k: int) -> bool:
        if k < 4:
            return k >= 2
        if k % 2 == 0:
            return False
        f = 3
        while f * f <= k:
            if k % f == 0:
                return False
            f += 2
        return True

    k = n + 1
    while not prime(k):
        k += 1
    return k


def _scale_phone(j: int, seed: int) -> str:
    """Number ``j`` of the scale mix, as people type it: HK mobiles first, then mainland ones
    (10^8 reports need more distinct numbers than HK has)."""
    if j < _HK_SPACE:
        v = _permuted(j, _HK_SPACE, seed)
        d = f"{'569'[v // 10**7]}{v % 10**7:07d}"
        return _PHONE_REPORT_FORMS[j % 5](d)
    v = _permuted(j - _HK_SPACE, _CN_SPACE, seed)
    return f"+86 1{3 + v // 10**9}{v % 10**9:09d}"


def write_scale_reports(path: Path, n: int, seed: int, *, as_of: datetime) -> Path:
    """Issue 21's mix, deterministic for ``seed``: ``n`` reports over ``0.7 n`` distinct phone
    numbers (the first 0.7 n reports each name a new number, the rest repeat earlier ones),
    85 % public, 10 % telecom, 5 % police, ``min(200k, n/50)`` reporters, dates over the two
    months before ``as_of``. Measured there: 10^7 of these over 7x10^6 numbers."""
    return _write_jsonl(path, _scale_rows(n, seed, as_of))


def _scale_rows(n: int, seed: int, as_of: datetime) -> Iterator[dict[str, object]]:
    rng = random.Random(f"{seed}:scale")
    distinct = max(1, n * 7 // 10)
    reporters = max(1, min(200_000, n // 50))
    end = int(as_of.timestamp())
    span = 61 * 86400
    for i in range(n):
        j = i if i < distinct else rng.randrange(distinct)
        source = _SCALE_SOURCES[rng.randrange(20)]
        ts = end - rng.randrange(span)
        yield _report_row(
            f"s{i}", source=source, ts=ts, reporter=f"u{rng.randrange(reporters)}",
            category=_PHONE_REPORT_CATEGORIES[i % len(_PHONE_REPORT_CATEGORIES)],
            identifiers=[{"kind": "phone", "value": _scale_phone(j, seed)}],
        )  # fmt: skip


def write_one_report_each(path: Path, phones: Sequence[str], when: datetime) -> Path:
    """One public ``investment`` report per number of ``phones``, each from its own reporter,
    all at ``when`` (the live benchmarks' base: every number POSSIBLE, evidence for each)."""
    stamp = when.isoformat().replace("+00:00", "Z")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for i, p in enumerate(phones):
            row = {"type": "report", "source": "public", "reported_at": stamp,
                   "reporter_hash": f"{i + 1:032x}", "category": "investment",
                   "identifiers": [{"kind": "phone", "value": p}]}  # fmt: skip
            fh.write(json.dumps(row) + "\n")
    return path
