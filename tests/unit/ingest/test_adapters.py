"""Each adapter against a small fixture in its real format: detection, events, rejects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scameter.errors import IngestError
from scameter.identifiers import canonical_url
from scameter.ingest import FORMATS, detect_format
from scameter.ingest.adapters import AdapterOptions
from scameter.ingest.pipeline import DEFAULT_REPORTER_KEY, _plan, _tasks
from scameter.ingest.policy import SOURCES
from scameter.ingest.worker import EV_ALLOW, EV_DELIST, EV_REPORT, process_chunk

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "ingest"


@dataclass
class Read:
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    allow: list[tuple[Any, ...]] = field(default_factory=list)
    delist: list[tuple[Any, ...]] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    ignored: list[tuple[int, str, str]] = field(default_factory=list)
    rows: int = 0

    def idents(self) -> list[str]:
        return [k for ev in self.reports for k in ev[7]]

    def sources(self) -> set[str]:
        return {SOURCES[ev[3]] for ev in self.reports}

    def categories(self) -> set[str]:
        return {ev[6] for ev in self.reports}


def read(path: Path, fmt: str | None = None, **opts: Any) -> Read:
    plan = _plan([path], fmt)
    options = AdapterOptions(reporter_key=DEFAULT_REPORTER_KEY, **opts)
    out = Read()
    for task in _tasks(plan, options):
        res = process_chunk(*task)
        out.rows += res.rows
        out.rejects += res.rejects
        out.ignored += res.ignored
        for ev in res.events:
            {EV_REPORT: out.reports, EV_ALLOW: out.allow, EV_DELIST: out.delist}[ev[0]].append(ev)
    assert plan.digests, "every input gets a digest"
    return out


DETECT = [
    ("policy_rules.jsonl", "jsonl"),
    ("reports.csv", "csv"),
    ("column.csv", "csv"),
    ("list.txt", "list"),
    ("hosts.txt", "hosts"),
    ("urlhaus.csv", "urlhaus"),
    ("phishtank.csv", "phishtank"),
    ("phishtank.json", "phishtank"),
    ("openphish.txt", "openphish"),
    ("metamask_config.json", "metamask"),
]


@pytest.mark.parametrize(("name", "fmt"), DETECT, ids=[d[0] for d in DETECT])
def test_detect_format(name: str, fmt: str) -> None:
    assert fmt in FORMATS
    assert detect_format(FIXTURES / name) == fmt


def test_jsonl_schema_rows() -> None:
    r = read(FIXTURES / "policy_rules.jsonl")
    assert not r.rejects
    assert len(r.allow) == 1
    assert r.allow[0][2:] == ("phone:+85222333000", "Example Bank hotline")
    assert len(r.delist) == 3
    assert r.sources() == {"police", "public", "feed", "bank"}
    # Kind omitted ("61110002" as a bare string) is detected.
    assert "phone:+85260212345" in r.idents()
    # feed-3 names three bare platform hosts: all ignored with a reason, none listed.
    assert [raw for _, _, raw in r.ignored] == ["bit.ly", "facebook.com", "docs.google.com"]


def test_csv_schema_groups_rows_of_one_report() -> None:
    r = read(FIXTURES / "reports.csv")
    assert not r.rejects
    first = r.reports[0]
    assert first[7] == ("phone:+85291234567", "url:http://invest-scam.example/")
    assert SOURCES[first[3]] == "police"
    assert first[6] == "investment"
    assert r.allow[0][2:] == ("phone:+85228308888", "Example Gov hotline")
    assert r.delist[0][2] == "phone:+85261234567"


def test_csv_with_a_chosen_column() -> None:
    r = read(FIXTURES / "column.csv", column="number", source="telecom", category="spam")
    assert r.idents() == ["phone:+85291234567", "phone:+85261234568"]
    assert r.sources() == {"telecom"}
    assert r.categories() == {"spam"}
    with pytest.raises(IngestError, match="no column"):
        read(FIXTURES / "column.csv", column="phone")
    with pytest.raises(IngestError, match="--column"):
        read(FIXTURES / "column.csv")


def test_plain_list_detects_kinds_and_rejects_junk() -> None:
    r = read(FIXTURES / "list.txt", category="investment")
    assert r.idents() == [
        "phone:+85291234567",
        "domain:evil-wallet.example",
        "url:http://phish.example/login",
        "email:scammer@mail.example",
    ]
    assert r.sources() == {"feed"}
    assert r.categories() == {"investment"}
    assert [raw for _, _, raw in r.ignored] == ["bit.ly"]
    assert [(line, raw) for line, _, raw in r.rejects] == [(8, "@@@ not an identifier")]
    assert r.rows == 6


def test_hosts_file() -> None:
    r = read(FIXTURES / "hosts.txt")
    assert r.idents() == [
        "domain:fake-shop.example",
        "domain:track.fake-shop.example",
        "domain:other-scam.example",
    ]
    assert [raw for _, _, raw in r.ignored] == ["docs.google.com"]
    assert [line for line, _, _ in r.rejects] == [7]
    assert "IP address" in r.rejects[0][1]


def test_urlhaus_dump() -> None:
    r = read(FIXTURES / "urlhaus.csv")
    assert r.idents()[:4] == [
        "url:" + canonical_url("http://203.0.113.7:41234/i"),
        "ip:203.0.113.7",  # the link's IP host, derived (docs/identifiers.md, url-ip)
        "url:https://bad-payload.example/x/update.exe",
        "url:https://drive.google.com/uc?id=1AbCdEf&export=download",
    ]
    assert r.categories() == {"malware_download"}
    assert r.reports[0][2] == 1795089483  # dateadded 2026-11-19 11:58:03 UTC
    assert [(line, "bad date" in reason) for line, reason, _ in r.rejects] == [(13, True)]


@pytest.mark.parametrize("name", ["phishtank.csv", "phishtank.json"])
def test_phishtank_dump(name: str) -> None:
    r = read(FIXTURES / name)
    assert not r.rejects
    assert r.idents()[0] == "url:https://secure-hsbc-hk-login.example/verify"
    assert r.categories() == {"phishing"}
    assert r.sources() == {"feed"}


def test_phishtank_unverified_is_unverified() -> None:
    r = read(FIXTURES / "phishtank.json")
    statuses = [ev[4] for ev in r.reports]
    assert statuses == [0, 1]  # confirmed, unverified (STATUSES order)


def test_openphish_feed() -> None:
    r = read(FIXTURES / "openphish.txt")
    assert r.idents() == [
        "url:https://hk-tax-refund.example/claim/index.html",
        "url:http://login-octopus-card.example/",
        "url:https://bit.ly/3hkPkg9",
    ]
    assert [raw for _, _, raw in r.ignored] == ["https://t.me/"]


def test_metamask_config() -> None:
    r = read(FIXTURES / "metamask_config.json")
    assert r.idents() == ["domain:metamask-airdrop.example", "domain:myetherwa1let.example"]
    assert r.categories() == {"crypto_phishing"}
    assert [a[2:] for a in r.allow] == [
        ("domain:metamask.io", "metamask-fuzzylist"),
        ("domain:myetherwallet.com", "metamask-fuzzylist"),
    ]
    # Blacklisted but whitelisted: MetaMask does not block it, neither do we (never VERIFIED).
    assert [raw for _, _, raw in r.ignored] == ['["whitelisted", "walletconnect-legit.example"]']


def test_source_and_category_are_caller_settable() -> None:
    r = read(FIXTURES / "openphish.txt", source="police", category="impersonation_of_officials")
    assert r.sources() == {"police"}
    assert r.categories() == {"impersonation_of_officials"}


def test_gzip_input_is_read_transparently(tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "openphish.txt.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "openphish.txt").read_bytes()))
    assert detect_format(gz) == "openphish"
    assert read(gz).idents() == read(FIXTURES / "openphish.txt").idents()


def test_unknown_format_and_missing_input(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="unknown format"):
        _plan([FIXTURES / "list.txt"], "xml")
    with pytest.raises(IngestError, match="not found"):
        _plan([tmp_path / "nope.txt"], None)


def test_host_port_lines_and_ip_hosts(tmp_path: Path) -> None:
    lst = tmp_path / "l.txt"
    lst.write_text("scam-casino.example:15888\n", encoding="utf-8")
    assert read(lst).idents() == ["url:http://scam-casino.example/"]
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("0.0.0.0 198.51.100.7 evil.example\n", encoding="utf-8")
    assert read(hosts, "hosts").idents() == ["ip:198.51.100.7", "domain:evil.example"]
