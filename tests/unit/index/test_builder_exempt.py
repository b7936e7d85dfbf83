"""Near-match exemptions at build time (``IndexPolicy.near_exempt_domains``).

An exempt registrable domain (a popular site) is never indexed as a listed near-match
neighbour, but when it is allowlisted it stays a brand: impersonation of it is still caught.
"""

from __future__ import annotations

from pathlib import Path

from scameter.identifiers import Kind
from scameter.index import IndexPolicy
from scameter.verdict import Level, ReasonCode
from tests.unit.index.helpers import open_built, rec

D = Kind.DOMAIN
POLICY = IndexPolicy(near_exempt_domains=("hsbc.com.hk", "popular-shop.com"))
RECORDS = [
    rec(D, "hsbc.com.hk", Level.VERIFIED, owner="HSBC"),
    rec(D, "popular-shop.com", Level.HIGH_RISK, reasons=(ReasonCode.POLICE_CONFIRMED,)),
    rec(D, "evil-lender.com", Level.HIGH_RISK, reasons=(ReasonCode.POLICE_CONFIRMED,)),
]


def test_exempt_allowlisted_domain_stays_a_brand(tmp_path: Path) -> None:
    with open_built(tmp_path, RECORDS, policy=POLICY) as snap:
        v = snap.check("hsbc-secure-login.com", "domain")
        assert v.level is Level.SUSPICIOUS
        assert ReasonCode.BRAND_IMPERSONATION in {r.code for r in v.reasons}
        assert snap.check("hsbc.com.hk", "domain").level is Level.VERIFIED


def test_exempt_listed_domain_matches_exactly_but_has_no_near_neighbours(tmp_path: Path) -> None:
    with open_built(tmp_path, RECORDS, policy=POLICY) as snap:
        assert snap.check("popular-shop.com", "domain").level is Level.HIGH_RISK
        assert snap.check("popular-shops.com", "domain").level is Level.NO_RECORD
        near = snap.check("evil-lenders.com", "domain")
        assert near.level is Level.SUSPICIOUS
        assert near.similar_to is not None
        assert near.similar_to.canonical == "evil-lender.com"
