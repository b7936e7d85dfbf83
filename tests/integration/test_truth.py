"""Look-alikes that spare the real brands, the bundled official entities, and block-list
exports (issue 15 items 3 and 7), end to end: ingest (with the tiny warninglist copy in
``tests/fixtures/warninglists``), then the snapshot and the ``scameter`` command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from scameter.cli import main
from scameter.errors import IngestError
from scameter.index import Snapshot
from scameter.ingest import Policy, run_ingest
from scameter.verdict import Level, ReasonCode

FAKE = Path(__file__).parents[1] / "fixtures" / "warninglists"
AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
ROWS = [
    {"type": "allow", "kind": "domain", "value": "hsbc.com.hk", "owner": "HSBC Hong Kong"},
    {"source": "feed", "identifiers": [{"kind": "url", "value": "http://shop-scam.top/x"}]},
    {"source": "feed", "identifiers": [{"kind": "domain", "value": "shop-scam.top"}]},
    {"source": "feed", "identifiers": [{"kind": "url", "value": "https://bit.ly/3scam"}]},
    {"source": "police", "status": "confirmed", "reported_at": "2026-11-01",
     "identifiers": [{"kind": "phone", "value": "6391 2745"}]},
]  # fmt: skip


@pytest.fixture(scope="module")
def snaps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("truth")
    data = root / "feed.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    run_ingest([data], root / "s", as_of=AS_OF, policy=Policy(warninglists=str(FAKE)))
    return root / "s"


LOOKALIKES = [
    ("popular-same-label", "https://hsbc.com/", Level.NO_RECORD),
    ("popular-other-suffix", "https://www.hsbc.co.uk/", Level.NO_RECORD),
    ("unpopular-same-label", "https://hsbc.com.sg/", Level.POSSIBLE),
    ("added-words", "https://hsbc-secure-login.com/", Level.SUSPICIOUS),
    ("suffix-in-host", "https://hsbc.com.hk-verify.top/", Level.SUSPICIOUS),
    ("swapped-character", "https://b0chk.com/", Level.SUSPICIOUS),  # bochk.com: bundled
    ("official-itself", "https://www.hsbc.com.hk/", Level.VERIFIED),
    # Real banks of their own: the suffix is no token (info.gov.hk is bundled), and a brand's
    # generic word is no likeness (chbank.com, Chong Hing Bank, is bundled).
    ("suffix-not-a-token", "https://www.bankboc.info/", Level.NO_RECORD),
    ("brand-word-only", "https://www.bhbank.net/", Level.NO_RECORD),
    ("brand-core-typo", "https://llvibank.com/", Level.SUSPICIOUS),
    ("bundled-hotline", "18222", Level.VERIFIED),
]


@pytest.mark.parametrize(("raw", "level"), [c[1:] for c in LOOKALIKES],
                         ids=[c[0] for c in LOOKALIKES])  # fmt: skip
def test_lookalikes_spare_real_brands(snaps: Path, raw: str, level: Level) -> None:
    with Snapshot.open_current(snaps) as snap:
        assert snap.check(raw).level is level


def test_same_label_reason_names_the_brand(snaps: Path) -> None:
    with Snapshot.open_current(snaps) as snap:
        v = snap.check("https://hsbc.com.sg/")
    assert [r.code for r in v.reasons] == [ReasonCode.BRAND_IMPERSONATION]
    assert "hsbc.com.hk" in v.reasons[0].text


def _export(snaps: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["snapshot", "export", "--snapshots", str(snaps), *args]) == 0
    return capsys.readouterr().out


def test_lines_export_once_and_no_allowlist(
    snaps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _export(snaps, capsys).splitlines()
    assert lines.count("shop-scam.top/") == 1
    assert "hsbc.com.hk/" not in lines
    assert "18222" not in lines
    assert "+85263912745" in lines
    assert _export(snaps, capsys, "--json") == _export(snaps, capsys, "--format", "json")


def test_hosts_and_rpz_exports(
    snaps: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hosts = _export(snaps, capsys, "--format", "hosts", "--kind", "domain").splitlines()
    assert "0.0.0.0 shop-scam.top" in hosts
    assert not [h for h in hosts if "hsbc" in h]
    out = tmp_path / "block.rpz"
    _export(snaps, capsys, "--format", "rpz", "-o", str(out))
    zone = dns.zone.from_text(out.read_text(encoding="utf-8"), relativize=False)
    cname_type = (dns.rdataclass.IN, dns.rdatatype.CNAME)
    names = {str(n) for n, node in zone.nodes.items() if node.get_rdataset(*cname_type)}
    assert names == {"shop-scam.top.rpz.scameter.", "*.shop-scam.top.rpz.scameter."}
    cname = zone.find_rdataset("shop-scam.top.rpz.scameter.", "CNAME")
    assert str(cname[0].target) == "."
    # bit.ly/3scam is a page: a resolver cannot block it by name without blocking bit.ly.
    assert "bit.ly" not in out.read_text(encoding="utf-8")


def test_missing_official_entities_file_names_it(tmp_path: Path) -> None:
    data = tmp_path / "f.txt"
    data.write_text("http://x-scam.top/a\n", encoding="utf-8")
    gone = tmp_path / "official_entities.jsonl"
    with pytest.raises(
        IngestError, match=r"official_entities\.jsonl: official entities file missing"
    ):
        run_ingest([data], tmp_path / "s", as_of=AS_OF, official_entities=gone,
                   policy=Policy(warninglists="none"))  # fmt: skip
