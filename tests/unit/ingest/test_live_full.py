"""The delta answers the identifiers it touches exactly as a full build does: the whole
verdict (level, reasons with their details, counts, reporters, dates, categories, cluster,
matched listing, near-match / brand signal, owner) and the case ids ``related`` lists.

Each case folds the same intake log live over a base and ingests it in full, then compares
the two answers for the touched identifiers and for the inputs their listings answer."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scameter.identifiers import detect
from scameter.index import Snapshot, SnapshotBuilder
from scameter.index.delta import DB_META, REMOVED, DeltaFollower, Overlay
from scameter.index.publish import current_id
from scameter.ingest.live import LiveFolder
from scameter.ingest.livesplits import SPLIT_MAX_REPORTS
from scameter.ingest.policy import Policy
from scameter.intake import IntakeLog, live_dir_for
from scameter.verdict import Level, ReasonCode, Verdict
from tests.unit.ingest.test_live import (
    NOW,
    _append,
    _base,
    _fold,
    _layered,
    _reporter,
    _roots,
    _row,
)

ALLOWS = [
    {"type": "allow", "kind": "domain", "value": "hsbc.com.hk", "owner": "HSBC"},
    {"type": "allow", "kind": "domain", "value": "bochk.com", "owner": "Bank of China (HK)"},
    {"type": "allow", "kind": "domain", "value": "bank-ok.example", "owner": "Example Bank"},
    {
        "type": "allow",
        "kind": "url",
        "value": "https://portal.gov-ok.example/login",
        "owner": "Example Gov",
    },
    {"type": "allow", "kind": "phone", "value": "+85261234100", "owner": "Example Bank"},
]


def _whole(v: Verdict) -> tuple[Any, ...]:
    """Every field a lookup answers with, but the snapshot id (the two builds differ)."""
    return (
        v.input,
        v.kind,
        v.canonical,
        v.level,
        tuple(v.reasons),
        tuple(v.categories),
        v.report_count,
        v.reporters,
        v.first_reported,
        v.last_reported,
        v.matched,
        v.similar_to,
        v.cluster_size,
        v.cluster_worst,
        v.verified_owner,
        v.error,
    )


def _related(snap: Snapshot, q: str) -> list[tuple[Any, ...]]:
    return [(*_whole(v)[1:], v.case_ids, v.case_count) for v in snap.related(q)]


def _compare(
    tmp_path: Path,
    base_rows: list[dict[str, Any]],
    reports: list[tuple[Any, int, dict[str, Any]]],
    queries: list[str],
    *,
    related: tuple[str, ...] = (),
    later: Sequence[tuple[Any, int, dict[str, Any]]] = (),
    appeals: Sequence[tuple[tuple[str, str], int]] = (),
    policy: Policy | None = None,
    split_max_reports: int = SPLIT_MAX_REPORTS,
) -> dict[str, Verdict]:
    """Fold ``reports`` (identifier(s), reporter, keywords of ``_append``) and ``appeals``
    (identifier, reporter) live over a base of ``base_rows``, then ``later`` in a second
    fold, and ingest them all in full; assert every query (``raw`` or ``raw as kind``)
    answers alike (single, batch, and ``related`` of ``related``); the full build's verdicts."""
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows, policy=policy)
    for batch in (reports, later):
        for root in (live_dir, full_dir):
            with IntakeLog(root / "intake") as log:
                for ident, who, kw in batch:
                    _append(log, ident, who, **dict(kw))
                for appealed, who in appeals if batch is reports else ():
                    log.append_appeal(identifier=appealed, reason="not mine",
                                      reporter_hash=_reporter(who), appealed_at=NOW)  # fmt: skip
        _fold_with(live_dir, snaps, split_max_reports).close()
    full = _base(full_dir, base_rows, policy=policy)
    m = _layered(snaps, live_dir)
    out: dict[str, Verdict] = {}
    try:
        with Snapshot.open_current(full) as expected:
            for q in queries:
                raw, _, kind = q.partition(" as ")
                got = m.snapshot.check(raw, kind or None)
                want = expected.check(raw, kind or None)
                assert _whole(got) == _whole(want), q
                out[q] = want
            plain = [q for q in queries if " as " not in q]
            got_b = m.snapshot.check_many(plain)
            want_b = expected.check_many(plain)
            for q, g, w in zip(plain, got_b, want_b, strict=True):
                assert _whole(g) == _whole(w), q
            for q in related:
                got_r, want_r = _related(m.snapshot, q), _related(expected, q)
                assert len(got_r) == len(want_r), q
                for member, expected_member in zip(got_r, want_r, strict=True):
                    assert member == expected_member, q
    finally:
        m.stop()
    return out


def _fold_with(root: Path, snaps: Path, split_max_reports: int) -> LiveFolder:
    """:func:`_fold` with the folder's bound (``serve --live-split-max-reports``)."""
    folder = LiveFolder(snaps, root / "intake", live_dir_for(root / "intake"),
                        split_max_reports=split_max_reports)  # fmt: skip
    while folder.fold_once(NOW):
        pass
    return folder


def _n(ident: Any, first: int, n: int, **kw: Any) -> list[tuple[Any, int, dict[str, Any]]]:
    return [(ident, first + i, kw) for i in range(n)]


@pytest.mark.parametrize("reporters", [1, 3], ids=["under-threshold", "at-threshold"])
def test_reports_of_allowlisted_domains_and_urls_answer_as_a_full_build(
    tmp_path: Path, reporters: int
) -> None:
    """An official domain and an official URL reported live: VERIFIED with the new counts and
    SPOOF_ADVICE, for themselves and for every URL their allow entries answer, as in a full
    build; a URL under them that no allow entry answers is left alone."""
    base_rows = [*ALLOWS, _row("bank-ok.example", "domain", 0), _row("+85291234001", "phone", 1)]
    reports = [
        *_n(("domain", "hsbc.com.hk"), 10, reporters, category="impersonation"),
        *_n(("domain", "bank-ok.example"), 15, reporters, category="impersonation"),
        *_n(("url", "https://portal.gov-ok.example/login"), 20, reporters),
        *_n(("domain", "bochk.com"), 30, 1, at=NOW - timedelta(days=2)),
    ]
    queries = [
        "hsbc.com.hk",
        "https://hsbc.com.hk/",
        "https://www.hsbc.com.hk/personal/login",
        "www.hsbc.com.hk",
        "bank-ok.example",
        "https://secure.bank-ok.example/login?next=1",
        "https://portal.gov-ok.example/login",
        "https://portal.gov-ok.example/login/next",
        "https://portal.gov-ok.example/other",
        "bochk.com",
        "https://www.bochk.com/",
        "+85261234100",
    ]
    want = _compare(tmp_path, base_rows, reports, queries, related=("bank-ok.example",))
    v = want["bank-ok.example"]
    assert v.level is Level.VERIFIED
    assert v.report_count == reporters + 1
    assert [r.code for r in v.reasons] == [ReasonCode.ALLOWLISTED, ReasonCode.SPOOF_ADVICE]
    assert want["https://secure.bank-ok.example/login?next=1"].report_count == reporters + 1
    # the official URL's allow entry is host-level: it answers the host's other pages too
    assert want["https://portal.gov-ok.example/other"].report_count == reporters
    # a popular official domain's reports are left out by the build's warninglists
    assert want["hsbc.com.hk"].report_count == 0


def test_a_path_listing_under_an_allowlisted_host_answers_as_a_full_build(
    tmp_path: Path,
) -> None:
    """A scam page on an official host (HIGH RISK, police) outranks the allow entry for that
    path, live as in a build; the host itself and its other pages stay VERIFIED."""
    base_rows = [*ALLOWS, _row("+85291234001", "phone", 0)]
    page = "https://www.bochk.com/phish/login"
    reports = [
        *_n(("url", page), 40, 1, category="phishing"),
        *_n(("domain", "bochk.com"), 45, 1),
    ]
    base_rows += [_row(page, "url", 5, source="police")]
    queries = [page, "https://www.bochk.com/phish/login/x", "https://www.bochk.com/", "bochk.com"]
    want = _compare(tmp_path, base_rows, reports, queries)
    assert want[page].level is Level.HIGH_RISK
    assert want["bochk.com"].level is Level.VERIFIED


def test_a_path_listing_the_delta_removes_gives_way_to_the_allow_entry(tmp_path: Path) -> None:
    """Without the HIGH RISK page listing that outranked it, the official host's allow entry
    answers the page again (as a build without that listing does)."""
    promo = "https://www.bochk.com/promo/win"
    snaps = _base(tmp_path, [*ALLOWS, _row(promo, "url", 0, source="police")])
    with Snapshot.open_current(snaps) as snap:
        listed = snap.check(promo)
        assert listed.level is Level.HIGH_RISK
        assert listed.matched is not None
        overlay = Overlay(snap.id, tmp_path / "delta", snap.policy)
        key = detect(promo)[0].key
        overlay.update(1, {key: REMOVED + listed.matched.encode("utf-8")}, ())
        snap.set_overlay(overlay)
        v = snap.check(promo)
        assert (v.level, v.verified_owner) == (Level.VERIFIED, "Bank of China (HK)")
        assert v.matched == snap.check("https://www.bochk.com/").matched


def test_reported_brand_look_alikes_answer_as_a_full_build(tmp_path: Path) -> None:
    """A domain, a URL and a handle that impersonate an official brand, reported live: their
    own listing as a full build gives it, and the brand / near-match signal of the inputs
    their listings do not answer."""
    base_rows = [*ALLOWS, _row("+85291234001", "phone", 0)]
    reports = [
        *_n(("domain", "hsbc-secure-login.example"), 50, 1),
        *_n(("url", "https://hsbc-verify.example/account/update"), 55, 3),
        *_n(("platform_account", "telegram:hsbc_support_hk"), 60, 1),
        *_n(("domain", "b0chk.com"), 65, 1, category="phishing"),
    ]
    base_rows += [_row("hsbc-verify.example", "domain", 6)]
    queries = [
        "hsbc-secure-login.example",
        "https://hsbc-secure-login.example/",
        "https://login.hsbc-secure-login.example/a",
        "hsbc-secure-logins.example",
        "https://hsbc-verify.example/account/update",
        "https://hsbc-verify.example/account/other",
        "hsbc-verify.example",
        "telegram:hsbc_support_hk",
        "telegram:hsbc_support_hq",
        "b0chk.com",
        "https://b0chk.com/x",
        "bochk-hk.com",
    ]
    _compare(tmp_path, base_rows, reports, queries)


def test_every_exact_kind_and_derived_form_answers_as_a_full_build(tmp_path: Path) -> None:
    """E-mail, bank account, FPS id, crypto wallet, handle, IP, WhatsApp account and link
    (derived to the number), co-named in some reports: the whole verdict and the related
    cases, live as in a full build."""
    wa = "+85262220077"
    base_rows = [
        _row("pay@scam-mail.example", "email", 0),
        _row("004-012-345678001", "bank_account", 1, source="police"),
        _row("+85291234001", "phone", 2),
        _row(wa, "phone", 3),
        _row("whatsapp:+85262220081", "platform_account", 4),
    ]
    reports = [
        *_n(("email", "pay@scam-mail.example"), 70, 2, category="phishing"),
        *_n([("bank_account", "004-012-345678001"), ("fps_id", "1234567")], 72, 1),
        *_n(("crypto_wallet", "0x52908400098527886E0F7030069857D2E4169EE7"), 74, 3),
        *_n(("platform_account", "whatsapp:" + wa), 78, 2),
        *_n(("url", "https://wa.me/85262220078"), 80, 1),
        *_n([("ip", "203.0.113.9"), ("email", "pay@scam-mail.example")], 82, 1),
        *_n(("platform_account", "instagram:fake.shop.hk"), 84, 3, at=NOW - timedelta(days=3)),
        *_n(("phone", "+85262220081"), 88, 1),  # a number a base WhatsApp account derives
    ]
    queries = [
        "pay@scam-mail.example",
        "004-012-345678001",
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "whatsapp:" + wa,
        wa,
        "https://wa.me/85262220077",
        "https://wa.me/85262220078",
        "+85262220078",
        "203.0.113.9",
        "instagram:fake.shop.hk",
        "instagram:fake.shop.hq",
        "scam-mail.example",
        "x@scam-mail.example",
        "+85262220081",
        "whatsapp:+85262220081",
    ]
    _compare(
        tmp_path,
        base_rows,
        reports,
        [*queries, "1234567 as fps_id"],
        related=("004-012-345678001", "pay@scam-mail.example", wa, "+85262220078", "+85262220081"),
    )


def test_clusters_joined_live_have_the_full_builds_size_and_worst_level(tmp_path: Path) -> None:
    """A new report naming a member of a base cluster chained through a report it is not in,
    and one naming members of two base clusters: the union's size and worst level; a URL on
    the domain of a base listing its reports do not name joins that listing's cluster."""
    e, p1, p2, p3 = "a@chain.example", "+85291234061", "+85291234062", "+85262220063"
    q1, q2 = "+85291234071", "+85291234072"
    base_rows = [
        _row(e, "email", 0, identifiers=[{"kind": "email", "value": e},
                                         {"kind": "phone", "value": p1}]),
        _row(p1, "phone", 1, identifiers=[{"kind": "phone", "value": p1},
                                          {"kind": "phone", "value": p2}]),
        _row(q1, "phone", 2, source="police", identifiers=[{"kind": "phone", "value": q1},
                                                           {"kind": "phone", "value": q2}]),
        _row("https://chain-shop.example/pay", "url", 3),
        _row("https://chain-shop.example/pay", "url", 4, identifiers=[
            {"kind": "url", "value": "https://chain-shop.example/pay"},
            {"kind": "phone", "value": q2}]),
    ]  # fmt: skip
    reports = [
        *_n([("email", e), ("phone", p3)], 90, 1),
        *_n([("phone", p3), ("phone", q1)], 91, 1),
        *_n(("url", "https://www.chain-shop.example/track"), 92, 1),
        *_n(("email", "help@lone-shop.example"), 93, 1),
        *_n(("domain", "lone-shop.example"), 94, 1),
    ]
    queries = [e, p3, q1, "https://www.chain-shop.example/track", "lone-shop.example",
               "help@lone-shop.example"]  # fmt: skip
    want = _compare(tmp_path, base_rows, reports, queries)
    assert want[p3].cluster_size == 8  # e, p1, p2, p3, q1, q2 and the two URLs
    assert want[p3].cluster_worst is Level.HIGH_RISK


def _co(kind_values: list[tuple[str, str]], i: int, **kw: Any) -> dict[str, Any]:
    """A base report naming every identifier of ``kind_values`` (the first as its row's)."""
    kind, value = kind_values[0]
    return _row(value, kind, i, identifiers=[{"kind": k, "value": v} for k, v in kind_values],
                **kw)  # fmt: skip


C1 = [("phone", "+85291234081"), ("phone", "+85291234082")]
C2 = [("phone", "+85291234091"), ("phone", "+85291234092"),
      ("url", "https://c2-shop.example/pay"), ("email", "pay@c2-mail.example")]  # fmt: skip
JOINED_QUERIES = [
    "+85291234081", "+85291234082", "+85291234091", "+85291234092",
    "https://c2-shop.example/pay", "https://c2-shop.example/pay/next",
    "pay@c2-mail.example", "c2-shop.example",
]  # fmt: skip


@pytest.mark.parametrize("folds", [1, 2], ids=["one-fold", "two-folds"])
def test_untouched_members_of_clusters_joined_live_answer_as_a_full_build(
    tmp_path: Path, folds: int
) -> None:
    """A new report joins two base clusters (one HIGH RISK, one POSSIBLE): the base members
    it does not name answer with the joined cluster's size and worst level (CLUSTER_LINK
    included), single and batch, and ``related`` of any member lists the whole joined
    cluster, as after a full build. In two folds, a later report naming one untouched
    member keeps the join."""
    base_rows = [
        _row(C1[0][1], "phone", 0, source="police"),
        _co(C1, 1),
        _co(C2, 2),
        _row("+85291234099", "phone", 3),
    ]
    reports = _n([C1[1], C2[0]], 10, 1)
    later = _n(("phone", C2[1][1]), 20, 1) if folds == 2 else []
    want = _compare(
        tmp_path, base_rows, reports, JOINED_QUERIES, later=later,
        related=("+85291234081", "+85291234092", "https://c2-shop.example/pay",
                 "pay@c2-mail.example"),
    )  # fmt: skip
    v = want["+85291234092"]
    assert (v.cluster_size, v.cluster_worst) == (6, Level.HIGH_RISK)
    assert ReasonCode.CLUSTER_LINK in [r.code for r in v.reasons]


def test_a_phone_in_a_cluster_a_live_url_grows_answers_as_a_full_build(tmp_path: Path) -> None:
    """Only URLs are reported live (the delta holds no phone record): a base phone in the
    cluster the new URL joins through its domain answers with the grown cluster."""
    base_rows = [
        _co([("url", "https://c3-shop.example/a"), ("phone", "+85291234071")], 0),
        _row("+85291234001", "phone", 1),
    ]
    reports = _n(("url", "https://www.c3-shop.example/b"), 10, 3)
    queries = ["+85291234071", "https://c3-shop.example/a", "https://www.c3-shop.example/b"]
    want = _compare(tmp_path, base_rows, reports, queries, related=("+85291234071",))
    v = want["+85291234071"]
    assert (v.cluster_size, v.cluster_worst) == (3, Level.SUSPICIOUS)


def test_a_cluster_worst_level_lowered_live_answers_as_a_full_build(tmp_path: Path) -> None:
    """Appeals lower a cluster's worst member (SUSPICIOUS -> POSSIBLE): the cluster's worst
    level is lowered for every member, touched or not, and CLUSTER_LINK goes, as in a full
    build."""
    s, b, c = "+85291234051", "+85291234052", "+85291234053"
    base_rows = [
        _co([("phone", s), ("phone", b)], 0),
        _co([("phone", s), ("phone", c)], 1),
        _row(s, "phone", 2),
        _row("+85291234001", "phone", 3),
    ]
    appeals = [(("phone", s), 60 + i) for i in range(5)]
    want = _compare(tmp_path, base_rows, [], [s, b, c], appeals=appeals, related=(b,))
    assert want[b].cluster_worst is Level.POSSIBLE
    assert ReasonCode.CLUSTER_LINK not in [r.code for r in want[b].reasons]


def _live_and_full(
    tmp_path: Path,
    base_rows: list[dict[str, Any]],
    reports: list[tuple[Any, int, dict[str, Any]]],
    queries: list[str],
    policy: Policy | None = None,
    *,
    split_max_reports: int = SPLIT_MAX_REPORTS,
) -> tuple[list[Verdict], list[Verdict]]:
    """The live and the full build's verdicts of ``queries`` (for what waits for compaction)."""
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows, policy=policy)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            for ident, who, kw in reports:
                _append(log, ident, who, **dict(kw))
    _fold_with(live_dir, snaps, split_max_reports).close()
    full = _base(full_dir, base_rows, policy=policy)
    m = _layered(snaps, live_dir)
    try:
        with Snapshot.open_current(full) as expected:
            return [m.snapshot.check(q) for q in queries], [expected.check(q) for q in queries]
    finally:
        m.stop()


def _clusters_of(verdicts: list[Verdict]) -> list[int]:
    return [v.cluster_size for v in verdicts]


def test_a_url_on_a_domain_only_email_addresses_hold_links_to_them_as_a_full_build(
    tmp_path: Path,
) -> None:
    """The base holds only e-mail addresses on a domain (``urlexpr`` holds none of them): a
    URL reported live on it links to their cluster through the domain-link index, as in a
    full build (cluster size, worst level, ``related``, levels, counts)."""
    mails = ["a@mailonly-shop.example", "b@mailonly-shop.example"]
    url = "https://mailonly-shop.example/pay"
    base_rows = [_row(mails[0], "email", 0), _row(mails[1], "email", 1)]
    want = _compare(tmp_path, base_rows, _n(("url", url), 10, 1), [url, *mails],
                    related=(url, mails[0]))  # fmt: skip
    assert [want[q].cluster_size for q in (url, *mails)] == [3, 3, 3]


def test_a_url_on_a_domain_one_e_mail_address_holds_links_to_it_as_a_full_build(
    tmp_path: Path,
) -> None:
    """One listed e-mail address on the domain (in no cluster): the live URL makes a
    cluster of the two, as a full build does."""
    mail, url = "a@onemail-shop.example", "https://onemail-shop.example/pay"
    base_rows = [_row(mail, "email", 0), _row("+85291234001", "phone", 1)]
    want = _compare(tmp_path, base_rows, _n(("url", url), 10, 1), [url, mail], related=(mail,))
    assert want[mail].cluster_size == 2


def test_urls_on_one_new_domain_reported_in_two_folds_link_as_a_full_build(
    tmp_path: Path,
) -> None:
    """Two URLs on a domain the base does not hold, reported in two folds: the second fold
    finds the first through the delta's domain entry and links them, as a full build."""
    first, second = "https://twofold-shop.example/a", "https://www.twofold-shop.example/b"
    base_rows = [_row("+85291234001", "phone", 0)]
    want = _compare(tmp_path, base_rows, _n(("url", first), 10, 1), [first, second],
                    later=_n(("url", second), 20, 1), related=(first,))  # fmt: skip
    assert want[second].cluster_size == 2


@pytest.mark.parametrize("base_urls", [3, 2], ids=["base-hub", "hub-live"])
def test_a_domain_over_hub_reports_identifiers_does_not_link_live_as_a_full_build(
    tmp_path: Path, base_urls: int
) -> None:
    """A build does not link a domain with more than ``hub_reports`` identifiers: over a base
    whose entry for it is already a hub, and over one where the live URL takes it past
    the cap (the count: the base's identifiers plus the delta's new ones), a URL reported
    live on it links to nothing, as in a full build; and the base cluster the domain linked
    before it became a hub splits live, as in a full build (its members in no cluster)."""
    urls = [f"https://hub-shop.example/{p}" for p in "abc"[:base_urls]]
    new = "https://www.hub-shop.example/d"
    base_rows = [_row(u, "url", i) for i, u in enumerate(urls)]
    want = _compare(tmp_path, base_rows, _n(("url", new), 10, 1), [new, *urls],
                    related=(new, *urls), policy=Policy(hub_reports=2))  # fmt: skip
    assert [v.cluster_size for v in want.values()] == [0] * (1 + base_urls)


def test_a_domain_with_an_allowlisted_identifier_does_not_link_live_as_a_full_build(
    tmp_path: Path,
) -> None:
    """An allowlisted e-mail address on the domain keeps it from linking: a live URL on it
    links to the listed address on it neither live nor in a full build."""
    mails = ["a@allowmail-shop.example", "help@allowmail-shop.example"]
    url = "https://allowmail-shop.example/pay"
    base_rows = [
        _row(mails[0], "email", 0),
        {"type": "allow", "kind": "email", "value": mails[1], "owner": "Example Shop"},
    ]
    want = _compare(tmp_path, base_rows, _n(("url", url), 10, 1), [url, *mails])
    assert want[url].cluster_size == 0


def test_a_base_built_before_the_domain_link_index_still_folds_linking_through_urlexpr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A base without the side file's ``domlinks`` (built before it) opens and folds as
    before: a URL links to the listing ``urlexpr`` holds on its domain, as in a full build,
    but not to e-mail addresses (``urlexpr`` holds none), which it joins at compaction."""
    monkeypatch.setattr(SnapshotBuilder, "set_domain_links", lambda *_: None)
    mails = ["a@mailonly-shop.example", "b@mailonly-shop.example"]
    url, page = "https://mailonly-shop.example/pay", "https://old-shop.example/a"
    base_rows = [_row(mails[0], "email", 0), _row(mails[1], "email", 1), _row(page, "url", 2)]
    reports = [*_n(("url", url), 10, 1), *_n(("url", "https://www.old-shop.example/b"), 20, 1)]
    queries = [url, *mails, "https://www.old-shop.example/b", page]
    live, full = _live_and_full(tmp_path, base_rows, reports, queries)
    with Snapshot.open_current(tmp_path / "live" / "snaps") as snap:
        assert not snap.reader.has_domain_links
    assert _clusters_of(full) == [3, 3, 3, 2, 2]
    assert _clusters_of(live) == [0, 2, 2, 2, 2]
    assert [_whole(v) for v in live[3:]] == [_whole(v) for v in full[3:]]
    assert [v.level for v in live] == [v.level for v in full]


def test_a_live_cluster_joined_to_a_base_cluster_in_a_later_fold_answers_as_a_full_build(
    tmp_path: Path,
) -> None:
    """A cluster made live (two new numbers named together), joined in a later fold to a
    base cluster through a report naming one of each: every member, in the delta or the
    base, touched by that fold or not, answers with the union, as after a full build."""
    n1, n2 = "+85262220301", "+85262220302"
    base_rows = [_row(C1[0][1], "phone", 0, source="police"), _co(C1, 1)]
    reports = _n([("phone", n1), ("phone", n2)], 10, 1)
    later = _n([("phone", n2), C1[1]], 20, 1)
    queries = [n1, n2, C1[0][1], C1[1][1]]
    want = _compare(tmp_path, base_rows, reports, queries, later=later, related=(n1, C1[0][1]))
    assert (want[n1].cluster_size, want[n1].cluster_worst) == (4, Level.HIGH_RISK)


def test_a_member_that_becomes_a_hub_live_splits_its_cluster_as_a_full_build(
    tmp_path: Path,
) -> None:
    """A member reported more than ``hub_reports`` times stops linking: live, the fold
    re-checks the links of its cluster (every member re-decided from its evidence), so the
    two members it alone joined are in no cluster, as after a full build."""
    x, y, z = "+85291234041", "+85291234042", "+85291234043"
    base_rows = [_co([("phone", x), ("phone", y)], 0), _co([("phone", x), ("phone", z)], 1)]
    want = _compare(tmp_path, base_rows, _n(("phone", x), 10, 1), [x, y, z],
                    related=(x, y, z), policy=Policy(hub_reports=2))  # fmt: skip
    assert [v.cluster_size for v in want.values()] == [0, 0, 0]


def test_the_other_member_of_a_pair_whose_member_becomes_a_hub_answers_as_a_full_build(
    tmp_path: Path,
) -> None:
    """A cluster of two whose member is reported more than ``hub_reports`` times live: that
    member stops linking and the other, untouched, is left in no cluster, as in a full
    build (its record's cluster block is dropped)."""
    x, y = "+85291234031", "+85291234032"
    base_rows = [_co([("phone", x), ("phone", y)], 0), _row("+85291234001", "phone", 1)]
    want = _compare(tmp_path, base_rows, _n(("phone", x), 10, 2), [x, y], related=(x, y),
                    policy=Policy(hub_reports=2))  # fmt: skip
    assert want[y].cluster_size == 0


#: A base cluster a hub joins (``x``, named with one member of each part), in three parts:
#: two pairs and a third pair that is HIGH RISK (police), so each part has its own worst.
X3 = "+85291234101"
PARTS3 = [("+85291234111", "+85291234112"), ("+85291234121", "+85291234122"),
          ("+85291234131", "+85291234132")]  # fmt: skip


def _three_parts() -> list[dict[str, Any]]:
    rows = [_co([("phone", X3), ("phone", a)], i) for i, (a, _) in enumerate(PARTS3)]
    rows += [_co([("phone", a), ("phone", b)], 10 + i) for i, (a, b) in enumerate(PARTS3)]
    rows.append(_row(PARTS3[2][1], "phone", 20, source="police"))
    return rows


def test_a_cluster_a_hub_joined_splits_live_into_three_parts_as_a_full_build(
    tmp_path: Path,
) -> None:
    """A member that becomes a hub live was the only link between three parts: each part
    is a cluster of its own (size, worst level, CLUSTER_LINK, ``related``), as after a full
    build."""
    queries = [X3, *(p for part in PARTS3 for p in part)]
    want = _compare(tmp_path, _three_parts(), _n(("phone", X3), 30, 1), queries,
                    related=tuple(queries), policy=Policy(hub_reports=3))  # fmt: skip
    assert [want[q].cluster_size for q in queries] == [0, 2, 2, 2, 2, 2, 2]
    assert [want[q].cluster_worst for q in queries[1:]] == [Level.POSSIBLE] * 4 + [
        Level.HIGH_RISK
    ] * 2
    assert ReasonCode.CLUSTER_LINK in [r.code for r in want[PARTS3[2][0]].reasons]


@pytest.mark.parametrize("bound", [12, 13], ids=["over-the-bound", "at-the-bound"])
def test_a_cluster_over_the_live_split_bound_waits_for_compaction(
    tmp_path: Path, bound: int
) -> None:
    """Pinned (docs/architecture.md, "Live updates"): a cluster whose members hold more
    reports together than ``serve --live-split-max-reports`` (seven members holding thirteen
    reports, over a bound of twelve) is not re-checked live: the hub leaves it (its own
    answer is a full build's) but the parts stay one cluster (six members) until the next
    ingest. At a bound of thirteen it splits live, as a full build."""
    queries = [X3, *(p for part in PARTS3 for p in part)]
    live, full = _live_and_full(tmp_path, _three_parts(), _n(("phone", X3), 30, 1), queries,
                                Policy(hub_reports=3), split_max_reports=bound)  # fmt: skip
    assert _clusters_of(full) == [0, 2, 2, 2, 2, 2, 2]
    if bound == 13:
        assert [_whole(v) for v in live] == [_whole(v) for v in full]
        return
    assert _clusters_of(live) == [0, 6, 6, 6, 6, 6, 6]
    assert _whole(live[0]) == _whole(full[0])
    assert [v.level for v in live] == [v.level for v in full]


def test_a_delta_an_older_folder_wrote_keeps_clusters_whole_until_compaction(
    tmp_path: Path,
) -> None:
    """A delta without the split index (written by a folder before live splits: no
    ``splits`` in its ``meta``) still folds, as that folder did: the hub leaves its cluster
    but the cluster is not re-checked (its members may be missing from the index), so the
    parts stay one until the next ingest (or the next reset, which starts the index)."""
    x, y, z = "+85291234041", "+85291234042", "+85291234043"
    base_rows = [_co([("phone", x), ("phone", y)], 0), _co([("phone", x), ("phone", z)], 1)]
    live_dir, _ = _roots(tmp_path)
    snaps = _base(live_dir, base_rows, policy=Policy(hub_reports=2))
    folder = LiveFolder(snaps, live_dir / "intake", live_dir_for(live_dir / "intake"))
    assert folder.fold_once(NOW) == 0  # the reset (no intake log yet): meta, the index
    with folder._env.begin(write=True) as txn:  # as an older folder left it
        txn.delete(b"splits", db=folder._dbs[DB_META])
    with IntakeLog(live_dir / "intake") as log:
        _append(log, ("phone", x), 10)
    while folder.fold_once(NOW):
        pass
    assert "splits" not in folder.meta()
    folder.close()
    m = _layered(snaps, live_dir)
    try:
        assert [m.snapshot.check(q).cluster_size for q in (x, y, z)] == [0, 2, 2]
    finally:
        m.stop()


def test_related_leaves_out_a_member_that_left_its_cluster_as_a_full_build(
    tmp_path: Path,
) -> None:
    """A member of a triangle becomes a hub, and no split is run (``split_max_reports`` 0): the
    other two stay linked (as in a build, their own report links them), and ``related`` of
    either lists the two of them, not the base member the delta took out."""
    x, y, z = "+85291234181", "+85291234182", "+85291234183"
    base_rows = [_co([("phone", x), ("phone", y)], 0), _co([("phone", x), ("phone", z)], 1),
                 _co([("phone", y), ("phone", z)], 2)]  # fmt: skip
    want = _compare(tmp_path, base_rows, _n(("phone", x), 10, 1), [x, y, z], related=(y, z),
                    policy=Policy(hub_reports=2), split_max_reports=0)  # fmt: skip
    assert [want[q].cluster_size for q in (x, y, z)] == [0, 2, 2]


def test_a_split_that_leaves_one_member_alone_answers_as_a_full_build(tmp_path: Path) -> None:
    """A hub joined a pair and a single number: the pair stays a cluster, the single number
    is in none (a build clusters two members or more)."""
    x, a, b, c = "+85291234141", "+85291234142", "+85291234143", "+85291234144"
    base_rows = [_co([("phone", x), ("phone", a)], 0), _co([("phone", x), ("phone", c)], 1),
                 _co([("phone", a), ("phone", b)], 2)]  # fmt: skip
    want = _compare(tmp_path, base_rows, _n(("phone", x), 10, 1), [x, a, b, c],
                    related=(a, c), policy=Policy(hub_reports=2))  # fmt: skip
    assert [want[q].cluster_size for q in (x, a, b, c)] == [0, 2, 2, 0]


def test_a_part_split_live_splits_again_in_a_later_fold_as_a_full_build(tmp_path: Path) -> None:
    """Two folds: the first makes ``x`` a hub (parts {a1, a2} and {b1, y, b2, b3}, whose
    members now answer from the delta under new ids), the second makes ``y`` a hub: the
    part made live splits again ({b1} alone, {b2, b3}), found through the delta's split
    index, as after a full build."""
    x, y = "+85291234151", "+85291234152"
    a1, a2, b1, b2, b3 = (f"+8529123416{i}" for i in range(5))
    base_rows = [
        _co([("phone", x), ("phone", a1)], 0), _co([("phone", x), ("phone", b1)], 1),
        _co([("phone", a1), ("phone", a2)], 2), _co([("phone", b1), ("phone", y)], 3),
        _co([("phone", y), ("phone", b2)], 4), _co([("phone", b2), ("phone", b3)], 5),
    ]  # fmt: skip
    queries = [x, y, a1, a2, b1, b2, b3]
    want = _compare(tmp_path, base_rows, _n(("phone", x), 10, 1), queries,
                    later=_n(("phone", y), 20, 1), related=tuple(queries),
                    policy=Policy(hub_reports=2))  # fmt: skip
    assert [want[q].cluster_size for q in queries] == [0, 0, 2, 2, 0, 2, 2]


def test_a_cluster_joined_live_then_split_in_a_later_fold_answers_as_a_full_build(
    tmp_path: Path,
) -> None:
    """The first fold joins two base clusters through a new number (one live cluster of
    two base atoms and delta records), the second makes that number a hub: the live
    cluster splits back into the two base clusters, as after a full build."""
    n = "+85262220401"
    base_rows = [_co(C1, 0), _co(C2[:2], 1), _row("+85291234001", "phone", 2)]
    queries = [n, C1[0][1], C1[1][1], C2[0][1], C2[1][1]]
    want = _compare(tmp_path, base_rows, _n([("phone", n), C1[0]], 10, 1) + _n(
        [("phone", n), C2[0]], 11, 1), queries, later=_n(("phone", n), 20, 1),
        related=tuple(queries), policy=Policy(hub_reports=2))  # fmt: skip
    assert [want[q].cluster_size for q in queries] == [0, 2, 2, 2, 2]


@pytest.mark.parametrize("new_urls", [1, 2], ids=["one-url", "two-urls"])
def test_a_domain_link_split_live_keeps_the_co_report_links_as_a_full_build(
    tmp_path: Path, new_urls: int
) -> None:
    """Two URLs on one domain, each named with its own phone number, are one cluster
    through the domain; one or two URLs live take the domain past ``hub_reports`` (with
    two, the fold's own identifiers on it are already over the cap): the cluster splits
    into the two co-reported pairs, as after a full build."""
    a, b = "https://split-shop.example/a", "https://split-shop.example/b"
    p, q = "+85291234171", "+85291234172"
    base_rows = [_co([("url", a), ("phone", p)], 0), _co([("url", b), ("phone", q)], 1)]
    new = [f"https://www.split-shop.example/{c}" for c in "cd"[:new_urls]]
    reports = [r for i, u in enumerate(new) for r in _n(("url", u), 10 + i, 1)]
    want = _compare(tmp_path, base_rows, reports, [*new, a, b, p, q],
                    related=(a, b, p), policy=Policy(hub_reports=2))  # fmt: skip
    assert [want[k].cluster_size for k in (*new, p, q)] == [0] * new_urls + [2, 2]


def test_a_part_split_live_joins_another_cluster_in_the_same_fold_as_a_full_build(
    tmp_path: Path,
) -> None:
    """One fold makes the hub of a three-part cluster and names a member of one part with
    a member of another base cluster: that part and that cluster are one, the other parts
    are their own, as after a full build."""
    other = [("phone", "+85291234191"), ("phone", "+85291234192")]
    rows = [*_three_parts(), _co(other, 30)]
    reports = _n(("phone", X3), 30, 1) + _n([("phone", PARTS3[0][1]), other[0]], 31, 1)
    queries = [X3, *(p for part in PARTS3 for p in part), other[0][1], other[1][1]]
    want = _compare(tmp_path, rows, reports, queries, related=tuple(queries),
                    policy=Policy(hub_reports=3))  # fmt: skip
    assert [want[q].cluster_size for q in queries] == [0, 4, 4, 2, 2, 2, 2, 4, 4]


def _random_cluster(seed: int) -> tuple[list[dict[str, Any]], list[str], str]:
    """A base cluster of 8 numbers: a random tree over them (each a report naming two) plus
    a few random extra links, some members police-confirmed; and the member that the live
    report makes a hub (the one with the most links, at ``hub_reports``)."""
    rng = random.Random(seed)
    nums = [f"+852912342{seed}{i}" for i in range(8)]
    edges = {(rng.randrange(i), i) for i in range(1, 8)}
    edges |= {tuple(sorted(rng.sample(range(8), 2))) for _ in range(3)}  # type: ignore[misc]
    rows = [_co([("phone", nums[i]), ("phone", nums[j])], k) for k, (i, j) in
            enumerate(sorted(edges))]  # fmt: skip
    rows += [_row(nums[i], "phone", 50 + i, source="police") for i in rng.sample(range(8), 2)]
    degree = [sum(i in e for e in edges) + 0 for i in range(8)]
    return rows, nums, nums[degree.index(max(degree))]


@pytest.mark.parametrize("seed", range(4), ids=[f"seed-{i}" for i in range(4)])
def test_random_clusters_split_live_as_a_full_build(tmp_path: Path, seed: int) -> None:
    """Table of random base clusters whose most linked member becomes a hub live: every
    member answers (size, worst level, CLUSTER_LINK, ``related``) as after a full build."""
    rows, nums, hub = _random_cluster(seed)
    reports = sum(1 for r in rows if hub in {i["value"] for i in r["identifiers"]})
    _compare(tmp_path, rows, _n(("phone", hub), 60, 1), nums, related=tuple(nums),
             policy=Policy(hub_reports=reports))  # fmt: skip


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "pure"])
def test_both_hit_paths_answer_untouched_members_with_the_live_cluster(
    tmp_path: Path, compiled: bool
) -> None:
    """The re-sealed records of untouched members (``Overlay.resolve``) decode alike through
    the compiled hit path and the pure-Python one, as a full build's records do."""
    base_rows = [_row(C1[0][1], "phone", 0, source="police"), _co(C1, 1), _co(C2, 2)]
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            _append(log, [C1[1], C2[0]], 10)
    _fold(live_dir, snaps).close()
    full = _base(full_dir, base_rows)
    follower = DeltaFollower(live_dir_for(live_dir / "intake") / "delta")
    try:
        with (
            Snapshot.open(snaps / current_id(snaps), compiled=compiled) as snap,
            Snapshot.open(full / current_id(full), compiled=compiled) as expected,
        ):
            assert snap._assemble.compiled is (compiled and expected._assemble.compiled)
            snap.set_overlay(follower.poll(snap.id, snap.policy))
            for q in JOINED_QUERIES:
                assert _whole(snap.check(q)) == _whole(expected.check(q)), q
            assert _related(snap, C2[1][1]) == _related(expected, C2[1][1])
    finally:
        follower.close()
