"""Cluster links beyond co-reports: a shared non-popular registrable domain, and a number's
phone and WhatsApp forms (the derivation table); never through popular sites, shared
platforms, warninglisted or allowlisted domains; order-independent cluster ids."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from scameter.ingest.aggregate import Aggregator
from scameter.ingest.clusters import domain_link_key
from scameter.ingest.granularity import Granularity
from scameter.ingest.policy import SOURCES, STATUSES, Policy
from scameter.ingest.warninglists import NONE, Warninglists
from scameter.ingest.worker import EV_ALLOW, EV_REPORT

AS_OF = 1_800_000_000
AS_OF_TIME = datetime.fromtimestamp(AS_OF, UTC)
G = Granularity.default()


def rep(key: str, case: str = "") -> tuple[Any, ...]:
    """A confirmed police report naming one identifier (no co-report to link it)."""
    src_i, st_i = SOURCES.index("police"), STATUSES.index("confirmed")
    return (EV_REPORT, 1, AS_OF - 86400, src_i, st_i, 0, "c", (key,), "", case)


def clusters(
    events: list[tuple[Any, ...]], gran: Granularity = G, lists: Warninglists = NONE
) -> dict[str, int | None]:
    agg = Aggregator(Policy(), AS_OF_TIME, lists)
    agg.add_events(events)
    return {f"{r.identifier.kind}:{r.identifier.value}": r.cluster for r in agg.records(gran)}


SHOP = [
    "url:https://evil-shop.example/a",
    "url:https://pay.evil-shop.example/b",
    "email:refund@evil-shop.example",
    "domain:evil-shop.example",
]


def test_a_shared_scam_domain_links_urls_emails_and_the_domain() -> None:
    got = clusters([rep(k) for k in [*SHOP, "phone:+85291234567"]])
    assert got[SHOP[0]] is not None
    assert {got[k] for k in SHOP} == {got[SHOP[0]]}
    assert got["phone:+85291234567"] is None


def test_links_do_not_depend_on_the_order() -> None:
    events = [
        rep(k) for k in [*SHOP, "url:https://other-scam.example/x", "email:a@other-scam.example"]
    ]
    want = clusters(events)
    for seed in range(4):
        random.Random(seed).shuffle(events)
        assert clusters(events) == want
    assert want["url:https://other-scam.example/x"] == want["email:a@other-scam.example"]
    assert want["url:https://other-scam.example/x"] != want[SHOP[0]]


def test_two_scams_on_a_shared_platform_stay_apart() -> None:
    got = clusters([rep("url:https://sites.google.com/view/scam-a"),
                    rep("url:https://sites.google.com/view/scam-b")])  # fmt: skip
    assert set(got.values()) == {None}


def test_never_through_a_popular_site() -> None:
    gran = Granularity.default(extra_top=["popular.example"])
    got = clusters([rep("url:https://popular.example/scam-a"),
                    rep("url:https://popular.example/scam-b"),
                    rep("email:a@popular.example")], gran)  # fmt: skip
    assert set(got.values()) == {None}


def test_never_through_a_free_mail_provider_even_without_warninglists() -> None:
    got = clusters([rep("email:scammer.one@gmail.com"), rep("email:scammer.two@gmail.com")])
    assert set(got.values()) == {None}


def test_never_through_a_warninglisted_domain() -> None:
    lists = Warninglists(names={"cdn-host.example": "cdn"}, digests={"cdn": "0"})
    got = clusters([rep("url:https://cdn-host.example/a"),
                    rep("url:https://cdn-host.example/b")], lists=lists)  # fmt: skip
    assert set(got.values()) == {None}


def test_never_through_an_allowlisted_domain() -> None:
    allow = (EV_ALLOW, 1, "domain:bank.example", "Bank")
    got = clusters([allow, rep("url:https://bank.example/compromised"),
                    rep("email:refund@bank.example")])  # fmt: skip
    assert got["url:https://bank.example/compromised"] is None
    assert got["email:refund@bank.example"] is None


@pytest.mark.parametrize(
    "form", ["platform_account:whatsapp:+85263912745", "url:https://wa.me/85263912745"]
)
def test_a_number_and_its_whatsapp_form_are_linked(form: str) -> None:
    got = clusters([rep("phone:+85263912745"), rep(form), rep("phone:+85263912746")])
    assert got[form] is not None
    assert got[form] == got["phone:+85263912745"]
    assert got["phone:+85263912746"] is None


@pytest.mark.parametrize(
    ("key", "link"),
    [
        ("url:https://evil-shop.example/a", "evil-shop.example/"),
        ("email:x@mail.evil-shop.example", "evil-shop.example/"),
        ("domain:evil-shop.example", "evil-shop.example/"),
        ("url:https://someone.wixsite.com/shop", "someone.wixsite.com/"),
        ("url:https://sites.google.com/view/x", None),
        ("url:https://bit.ly/abc", None),
        ("phone:+85291234567", None),
    ],
)
def test_domain_link_key(key: str, link: str | None) -> None:
    assert domain_link_key(key, G) == link
