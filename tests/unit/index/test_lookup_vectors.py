"""Vector tables for the lookup rules (design section 5): URL expressions, allowlist
precedence, each near-match rule, clusters and call context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scameter.identifiers import Kind
from scameter.index import Record, Snapshot
from scameter.verdict import Channel, CheckContext, Level, ReasonCode
from tests.unit.index.helpers import open_built, rec

P, U, D, A, E = Kind.PHONE, Kind.URL, Kind.DOMAIN, Kind.PLATFORM_ACCOUNT, Kind.EMAIL
HR, SU, PO, VE, NR = (
    Level.HIGH_RISK,
    Level.SUSPICIOUS,
    Level.POSSIBLE,
    Level.VERIFIED,
    Level.NO_RECORD,
)
RC = ReasonCode

RECORDS: list[Record] = [
    rec(
        P,
        "+85291234567",
        HR,
        reasons=(RC.POLICE_CONFIRMED,),
        categories=("investment",),
        sources=("police",),
        report_count=5,
        reporters=3,
        first_reported=1_700_000_000,
        last_reported=1_760_000_000,
        cluster=1,
    ),
    rec(P, "+85261234500", PO, report_count=1, reporters=1, cluster=1),
    rec(P, "+85261234501", PO, report_count=1, reporters=1, cluster=1),
    rec(P, "+85261234502", PO, report_count=1, reporters=1, cluster=1),
    rec(P, "+85223456789", VE, owner="Example Bank hotline"),
    rec(P, "+85223456789", SU, reasons=(RC.PUBLIC_REPORTS,), report_count=4, reporters=4),
    rec(P, "+85235550000", VE, owner="Government"),
    rec(P, "18222", VE, owner="Anti-Scam Helpline"),
    rec(D, "evil-shop.com", HR, reasons=(RC.PARTNER_CONFIRMED,)),
    rec(D, "cheap-deals.net", PO, reasons=(RC.PUBLIC_REPORTS,)),
    rec(D, "hsbc.com.hk", VE, owner="HSBC"),
    rec(D, "bochk.com", VE, owner="Bank of China (Hong Kong)"),
    rec(U, "http://sites.google.com/view/scam", SU, listing="sites.google.com/view/scam"),
    rec(U, "http://www.bochk.com/phish/", HR, listing="bochk.com/phish/"),
    rec(U, "http://www.bochk.com/promo/", SU, listing="bochk.com/promo/"),
    rec(A, "telegram:scam_helper", HR, reasons=(RC.POLICE_CONFIRMED,)),
    rec(A, "telegram:crypto_king_hk", PO),
    rec(E, "scam@evil.com", SU, categories=("phishing",)),
]


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    root: Path = tmp_path_factory.mktemp("vectors")
    with open_built(root, RECORDS) as s:
        yield s


# (id, raw, kind, level, reason codes that must be present, matched, similar_to canonical)
VECTORS: list[tuple[str, str, Kind, Level, set[ReasonCode], str | None, str | None]] = [
    # Exact kinds
    ("phone-hit", "9123 4567", P, HR, {RC.POLICE_CONFIRMED}, None, None),
    ("phone-miss", "98765432", P, NR, {RC.NO_RECORD}, None, None),
    ("phone-cluster-link", "61234500", P, PO, {RC.CLUSTER_LINK}, None, None),
    ("email-hit", "Scam@Evil.com", E, SU, {RC.PUBLIC_REPORTS}, None, None),
    ("email-miss", "someone@example.org", E, NR, {RC.NO_RECORD}, None, None),
    # Phone ranges: 3 listed numbers share +8526123450x and +852612345xx
    ("range-1-digit", "61234509", P, PO, {RC.PHONE_RANGE}, "+8526123450x", None),
    ("range-2-digits", "61234599", P, PO, {RC.PHONE_RANGE}, "+852612345xx", None),
    ("range-none", "61239999", P, NR, {RC.NO_RECORD}, None, None),
    # Allowlist precedence
    ("allow-and-reported", "2345 6789", P, VE, {RC.ALLOWLISTED, RC.SPOOF_ADVICE}, None, None),
    ("allow-only", "3555 0000", P, VE, {RC.ALLOWLISTED}, None, None),
    ("allow-domain", "www.hsbc.com.hk", D, VE, {RC.ALLOWLISTED}, "hsbc.com.hk/", None),
    ("allow-url", "https://www.hsbc.com.hk/login", U, VE, {RC.ALLOWLISTED}, "hsbc.com.hk/", None),
    (
        "allow-host-high-risk-path-wins",
        "https://www.bochk.com/phish/login",
        U,
        HR,
        {RC.POLICE_CONFIRMED},
        "bochk.com/phish/",
        None,
    ),
    (
        "allow-host-suspicious-path-loses",
        "https://www.bochk.com/promo/x",
        U,
        VE,
        {RC.ALLOWLISTED},
        "bochk.com/",
        None,
    ),
    ("allow-host-root", "https://www.bochk.com/", U, VE, {RC.ALLOWLISTED}, "bochk.com/", None),
    # URL expressions: domain listings match every path and subdomain
    (
        "domain-listing-root",
        "http://evil-shop.com/",
        U,
        HR,
        {RC.PARTNER_CONFIRMED},
        "evil-shop.com/",
        None,
    ),
    (
        "domain-listing-deep",
        "https://a.b.evil-shop.com/x/y?z=1",
        U,
        HR,
        set(),
        "evil-shop.com/",
        None,
    ),
    ("domain-kind-sub", "shop.evil-shop.com", D, HR, set(), "evil-shop.com/", None),
    ("domain-kind-exact", "evil-shop.com", D, HR, set(), "evil-shop.com/", None),
    # Shared platform: a path listing matches that path and below, nothing else
    (
        "platform-path-exact",
        "https://sites.google.com/view/scam",
        U,
        SU,
        set(),
        "sites.google.com/view/scam",
        None,
    ),
    (
        "platform-path-below",
        "https://sites.google.com/view/scam/page",
        U,
        SU,
        set(),
        "sites.google.com/view/scam/",
        None,
    ),
    (
        "platform-other-path",
        "https://sites.google.com/view/other",
        U,
        NR,
        {RC.NO_RECORD},
        None,
        None,
    ),
    ("platform-root", "https://sites.google.com/", U, NR, {RC.NO_RECORD}, None, None),
    ("platform-domain", "sites.google.com", D, NR, {RC.NO_RECORD}, None, None),
    # Near match on registrable domains
    ("near-high-risk", "evil-sh0p.com", D, SU, {RC.NEAR_MATCH}, None, "evil-shop.com"),
    ("near-suffix-swap", "evil-shop.net", D, SU, {RC.NEAR_MATCH}, None, "evil-shop.com"),
    ("near-url", "https://login.evi1-shop.com/x", U, SU, {RC.NEAR_MATCH}, None, "evil-shop.com"),
    ("near-lower-level", "cheap-deal.net", D, PO, {RC.NEAR_MATCH}, None, "cheap-deals.net"),
    ("near-distance-2", "cheep-deal.net", D, PO, {RC.NEAR_MATCH}, None, "cheap-deals.net"),
    ("near-too-far", "chip-dell.net", D, NR, {RC.NO_RECORD}, None, None),
    ("near-unrelated", "totally-different.com", D, NR, {RC.NO_RECORD}, None, None),
    # Brand impersonation of allowlisted official domains
    ("brand-words", "hsbc-secure-login.com", D, SU, {RC.BRAND_IMPERSONATION}, None, "hsbc.com.hk"),
    ("brand-glued", "hsbclogin.com", D, SU, {RC.BRAND_IMPERSONATION}, None, "hsbc.com.hk"),
    (
        "brand-subdomain",
        "https://hsbc.com.hk.verify-account.net/",
        U,
        SU,
        {RC.BRAND_IMPERSONATION},
        None,
        "hsbc.com.hk",
    ),
    ("brand-edit", "bochk-hk.com", D, SU, {RC.BRAND_IMPERSONATION}, None, "bochk.com"),
    ("brand-typo", "bochx.com", D, SU, {RC.BRAND_IMPERSONATION}, None, "bochk.com"),
    ("homograph-cyrillic", "hѕbc.com", D, SU, {RC.HOMOGRAPH}, None, "hsbc.com.hk"),
    (
        "homograph-punycode-url",
        "http://xn--hbc-fhd.com/login",
        U,
        SU,
        {RC.HOMOGRAPH},
        None,
        "hsbc.com.hk",
    ),
    ("homograph-digit", "b0chk.com", D, SU, {RC.HOMOGRAPH}, None, "bochk.com"),
    # Platform handles
    ("handle-hit", "telegram:@Scam_Helper", A, HR, {RC.POLICE_CONFIRMED}, None, None),
    ("handle-near", "telegram:scam_helpr", A, SU, {RC.NEAR_MATCH}, None, "telegram:scam_helper"),
    (
        "handle-near-lower",
        "telegram:crypto_king_hkg",
        A,
        PO,
        {RC.NEAR_MATCH},
        None,
        "telegram:crypto_king_hk",
    ),
    ("handle-other-platform", "instagram:scam_helpr", A, NR, {RC.NO_RECORD}, None, None),
]


Vector = tuple[str, Kind, Level, set[ReasonCode], str | None, str | None]


@pytest.mark.parametrize("vector", [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
def test_vectors(snap: Snapshot, vector: Vector) -> None:
    raw, kind, level, codes, matched, similar = vector
    v = snap.check(raw, kind)
    got = {r.code for r in v.reasons}
    assert v.level is level, (v.level, got, v.matched, v.similar_to)
    assert codes <= got
    assert v.matched == matched
    assert (v.similar_to.canonical if v.similar_to else None) == similar
    assert v.snapshot == snap.id
    assert v.input == raw
    assert v.kind == kind.value
    assert all(r.text for r in v.reasons)


def test_hit_fills_every_field(snap: Snapshot) -> None:
    v = snap.check("+852 9123 4567", Kind.PHONE)
    assert v.canonical == "+85291234567"
    assert v.categories == ("investment",)
    assert (v.report_count, v.reporters) == (5, 3)
    assert v.first_reported == "2023-11-14T22:13:20Z"
    assert v.last_reported == "2025-10-09T08:53:20Z"
    assert (v.cluster_size, v.cluster_worst) == (4, HR)
    assert v.error is None


def test_verified_owner_and_reported_counts(snap: Snapshot) -> None:
    v = snap.check("23456789", Kind.PHONE)
    assert v.verified_owner == "Example Bank hotline"
    assert v.report_count == 4


def test_near_similar_to_carries_distance_and_level(snap: Snapshot) -> None:
    v = snap.check("evil-sh0p.com", Kind.DOMAIN)
    assert v.similar_to is not None
    assert (v.similar_to.distance, v.similar_to.level) == (1, HR)


CONTEXT_VECTORS = [
    (
        "overseas-unknown-local",
        "98765432",
        CheckContext(Channel.INCOMING_CALL, True),
        PO,
        {RC.OVERSEAS_CALL_LOCAL_NUMBER},
    ),
    # An official number on a call from overseas is never VERIFIED (issue 15 item 5).
    (
        "overseas-verified",
        "2345 6789",
        CheckContext(Channel.INCOMING_CALL, True),
        SU,
        {RC.SPOOFED_OFFICIAL_NUMBER, RC.SPOOF_ADVICE},
    ),
    (
        "overseas-verified-unreported",
        "3555 0000",
        CheckContext(Channel.INCOMING_CALL, True),
        SU,
        {RC.SPOOFED_OFFICIAL_NUMBER},
    ),
    (
        "overseas-verified-short-code",
        "18222",
        CheckContext(Channel.INCOMING_CALL, True),
        SU,
        {RC.SPOOFED_OFFICIAL_NUMBER},
    ),
    (
        "overseas-unknown-short-code",
        "1823",
        CheckContext(Channel.INCOMING_CALL, True),
        PO,
        {RC.OVERSEAS_CALL_LOCAL_NUMBER},
    ),
    ("local-call-verified", "18222", CheckContext(Channel.INCOMING_CALL, False), VE, set()),
    ("overseas-sms-verified", "18222", CheckContext(Channel.SMS, True), VE, {RC.ALLOWLISTED}),
    (
        "overseas-high-risk-stays",
        "91234567",
        CheckContext(Channel.INCOMING_CALL, True),
        HR,
        {RC.OVERSEAS_CALL_LOCAL_NUMBER, RC.POLICE_CONFIRMED},
    ),
    (
        "overseas-foreign-number",
        "+44 20 7946 0000",
        CheckContext(Channel.INCOMING_CALL, True),
        NR,
        {RC.NO_RECORD},
    ),
    ("local-call", "98765432", CheckContext(Channel.INCOMING_CALL, False), NR, {RC.NO_RECORD}),
    ("overseas-sms", "98765432", CheckContext(Channel.SMS, True), NR, {RC.NO_RECORD}),
]


@pytest.mark.parametrize(
    ("raw", "context", "level", "codes"),
    [v[1:] for v in CONTEXT_VECTORS],
    ids=[v[0] for v in CONTEXT_VECTORS],
)
def test_context(
    snap: Snapshot, raw: str, context: CheckContext, level: Level, codes: set[ReasonCode]
) -> None:
    v = snap.check(raw, Kind.PHONE, context=context)
    got = {r.code for r in v.reasons}
    assert v.level is level
    assert codes <= got
    if RC.OVERSEAS_CALL_LOCAL_NUMBER not in codes:
        assert RC.OVERSEAS_CALL_LOCAL_NUMBER not in got
    if level is not NR:
        assert RC.NO_RECORD not in got
    if RC.SPOOFED_OFFICIAL_NUMBER in codes:
        assert RC.ALLOWLISTED not in got
        assert v.verified_owner is None  # the owner is named in the reason, not as verified
        assert "Its registered owner:" in v.reasons[0].text


def test_related_lists_cluster_worst_first(snap: Snapshot) -> None:
    members = snap.related("61234501", Kind.PHONE)
    assert [m.canonical for m in members] == [
        "+85291234567",
        "+85261234500",
        "+85261234501",
        "+85261234502",
    ]
    assert members[0].level is HR
    assert len(snap.related("61234501", Kind.PHONE, limit=2)) == 2


def test_related_outside_cluster_is_empty(snap: Snapshot) -> None:
    assert snap.related("98765432", Kind.PHONE) == []
    assert snap.related("scam@evil.com", Kind.EMAIL) == []


def test_detect_checks_every_plausible_kind(snap: Snapshot) -> None:
    v = snap.check("evil-shop.com")
    assert v.level is HR


def test_check_raises_on_invalid_but_check_many_does_not(snap: Snapshot) -> None:
    with pytest.raises(ValueError, match="invalid phone"):
        snap.check("not a number", Kind.PHONE)
    out = snap.check_many(["not a number", "91234567"], Kind.PHONE)
    assert out[0].error is not None
    assert out[1].level is HR


def test_check_many_agrees_with_check(snap: Snapshot) -> None:
    raws = ["91234567", "61234509", "2345 6789", "98765432", "junk!", "61234500", "91234567"]
    many = snap.check_many(raws, Kind.PHONE)
    for raw, v in zip(raws, many, strict=True):
        if v.error is None:
            assert v == snap.check(raw, Kind.PHONE)
        else:
            assert v.input == raw
    mixed = ["evil-shop.com", "https://sites.google.com/view/scam", "???", "scam@evil.com"]
    got = snap.check_many(mixed)
    assert [v.level for v in got] == [HR, SU, NR, SU]
    assert got[2].error is not None
