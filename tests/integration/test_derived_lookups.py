"""Cross-kind matching end to end (issue 15 item 4): vectors of derived answers, and the same
answer for a derived input from every entry point: ``Snapshot.check``, ``check_many`` (given
and detected kinds), ``scameter check``, ``scameter bulk`` and the gRPC ``Check`` /
``CheckBatch`` of a real server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scameter.cli import main
from scameter.identifiers import Identifier, Kind
from scameter.index import Record, Snapshot, SnapshotBuilder, SnapshotManager, publish
from scameter.rpc import Client
from scameter.rpc.servicer import default_normalizer
from scameter.verdict import Channel, CheckContext, Level, ReasonCode
from tests.unit.index.helpers import AS_OF
from tests.unit.rpc.harness import serve_fake

P, U, D, A, E, IP = (
    Kind.PHONE,
    Kind.URL,
    Kind.DOMAIN,
    Kind.PLATFORM_ACCOUNT,
    Kind.EMAIL,
    Kind.IP,
)
HR, SU, PO, VE, NR = (
    Level.HIGH_RISK,
    Level.SUSPICIOUS,
    Level.POSSIBLE,
    Level.VERIFIED,
    Level.NO_RECORD,
)
RC = ReasonCode


def _rec(kind: Kind, value: str, level: Level, **kw: object) -> Record:
    return Record(Identifier(kind, value), level, **kw)  # type: ignore[arg-type]


RECORDS = [
    _rec(P, "+85263912745", HR, reasons=(RC.POLICE_CONFIRMED,), categories=("investment",)),
    _rec(P, "+85251234567", PO, reasons=(RC.PUBLIC_REPORTS,), report_count=1, reporters=1),
    _rec(P, "+85223456789", VE, owner="Example Bank hotline"),
    _rec(IP, "203.0.113.9", HR, reasons=(RC.PARTNER_CONFIRMED,)),
    _rec(A, "telegram:scam_helper", SU, reasons=(RC.PUBLIC_REPORTS,)),
    _rec(D, "evil-shop.com", HR, reasons=(RC.PARTNER_CONFIRMED,), categories=("phishing",)),
    _rec(D, "hsbc.com.hk", VE, owner="HSBC"),
    _rec(D, "cheap-deals.net", PO, reasons=(RC.PUBLIC_REPORTS,)),
    _rec(E, "boss@cheap-deals.net", HR, reasons=(RC.POLICE_CONFIRMED,)),
    _rec(U, "http://sites.google.com/view/scam", SU, listing="sites.google.com/view/scam"),
]

# (id, raw, kind or None, level, the derived_match text or None, matched)
VECTORS: list[tuple[str, str, Kind | None, Level, str | None, str | None]] = [
    (
        "email-at-listed-domain",
        "someone@evil-shop.com",
        None,
        HR,
        "The domain evil-shop.com of this address is HIGH RISK.",
        "evil-shop.com/",
    ),
    (
        "email-at-subdomain",
        "Someone@Mail.Evil-Shop.com",
        E,
        HR,
        "The domain mail.evil-shop.com of this address is HIGH RISK.",
        "evil-shop.com/",
    ),
    ("mailto", "mailto:x@evil-shop.com?subject=hi", None, HR, "The domain evil-shop.com", None),
    (
        "url-ip-host",
        "http://203.0.113.9/login",
        None,
        HR,
        "The IP address 203.0.113.9 in this link is HIGH RISK.",
        "203.0.113.9",
    ),
    (
        "wa-me-link-as-url",
        "https://wa.me/85263912745",
        U,
        HR,
        "The phone number +85263912745 in this link is HIGH RISK.",
        "+85263912745",
    ),
    (
        "wa-me-link-detected",
        "wa.me/85263912745",
        None,
        HR,
        "The phone number +85263912745 of this account is HIGH RISK.",
        "+85263912745",
    ),
    (
        "whatsapp-scheme",
        "whatsapp://send?phone=85263912745",
        None,
        HR,
        "The phone number +85263912745 in this link",
        "+85263912745",
    ),
    (
        "whatsapp-api",
        "https://api.whatsapp.com/send?phone=85263912745&text=hi",
        None,
        HR,
        "The phone number +85263912745 in this link",
        "+85263912745",
    ),
    ("tel-link", "tel:+852-6391-2745", None, HR, None, None),
    ("sms-link", "sms:63912745?body=hello", None, HR, None, None),
    ("smsto-link", "SMSTO:63912745", P, HR, None, None),
    (
        "t-me-link-as-url",
        "https://t.me/scam_helper",
        U,
        SU,
        "The account telegram:scam_helper in this link is SUSPICIOUS.",
        "telegram:scam_helper",
    ),
    ("t-me-link-detected", "t.me/Scam_Helper", None, SU, None, None),
    (
        "account-with-phone",
        "telegram:+852 5123 4567",
        A,
        PO,
        "The phone number +85251234567 of this account is POSSIBLE.",
        "+85251234567",
    ),
    # Never inherited: VERIFIED, nothing, or something milder than the input's own answer.
    ("email-at-official-domain", "staff@hsbc.com.hk", None, NR, None, None),
    ("wa-me-official-number", "https://wa.me/85223456789", U, NR, None, None),
    ("email-elsewhere", "someone@gmail.com", None, NR, None, None),
    ("own-answer-worse", "boss@cheap-deals.net", None, HR, None, None),
    ("own-answer-kept-on-tie", "http://sites.google.com/view/scam", U, SU, None, None),
    # A path listed on a shared platform never reaches the platform's mail domain.
    ("email-at-shared-platform", "someone@sites.google.com", None, NR, None, None),
]
RAWS = [v[1] for v in VECTORS]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("derived") / "snapshots"
    with SnapshotBuilder(root, as_of=AS_OF) as b:
        for r in RECORDS:
            b.add(r)
        manifest = b.build()
    publish(root, manifest.snapshot_id)
    return root


@pytest.fixture(scope="module")
def snap(root: Path) -> Iterator[Snapshot]:
    with Snapshot.open_current(root) as s:
        yield s


@pytest.mark.parametrize("vector", [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
def test_vectors(
    snap: Snapshot, vector: tuple[str, Kind | None, Level, str | None, str | None]
) -> None:
    raw, kind, level, text, matched = vector
    v = snap.check(raw, kind)
    codes = [r.code for r in v.reasons]
    assert v.level is level, (v.level, v.reasons)
    assert v.input == raw
    assert v.verified_owner is None or level is VE
    if text is None:
        assert RC.DERIVED_MATCH not in codes
        return
    assert codes[0] is RC.DERIVED_MATCH
    assert text in v.reasons[0].text
    assert RC.NO_RECORD not in codes
    assert len(codes) > 1  # the derived identifier's own reasons follow
    if matched is not None:
        assert v.matched == matched
    if kind is not None:
        assert v.kind == kind.value


def test_derived_answer_keeps_the_input_and_takes_the_details(snap: Snapshot) -> None:
    v = snap.check("someone@evil-shop.com")
    assert (v.kind, v.canonical) == ("email", "someone@evil-shop.com")
    assert v.categories == ("phishing",)
    assert [r.code for r in v.reasons] == [RC.DERIVED_MATCH, RC.PARTNER_CONFIRMED]


def test_check_many_agrees_with_check(snap: Snapshot) -> None:
    assert snap.check_many(RAWS) == [snap.check(r) for r in RAWS]
    for kind in (E, U, A, P):
        raws = [r for r, k in ((v[1], v[2]) for v in VECTORS) if k is kind]
        assert snap.check_many(raws, kind) == [snap.check(r, kind) for r in raws]
    ident = Identifier(E, "someone@evil-shop.com")
    assert snap.check_identifier(ident).level is HR


def test_cli_check_and_bulk_agree_with_check(
    root: Path, snap: Snapshot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = [snap.check(r).to_dict() for r in RAWS]
    assert main(["check", "--json", "--snapshots", str(root), *RAWS]) == 1
    got = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert got == expected
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"value": r}) + "\n" for r in RAWS), encoding="utf-8")
    main(["bulk", str(src), "-o", str(out), "--snapshots", str(root)])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["scameter"] for row in rows] == expected


def test_grpc_check_and_batch_agree_with_check(root: Path, tmp_path: Path) -> None:
    manager = SnapshotManager(root, poll_interval=0.02)
    manager.start()
    try:
        with (
            serve_fake(tmp_path, manager, normalizer=default_normalizer) as h,
            Client(h.target, "k-admin") as client,
            manager.acquire() as local,
        ):
            expected = [local.check(r) for r in RAWS]
            assert [client.check(r) for r in RAWS] == expected
            assert client.check_batch(RAWS) == expected
            # Issue 15 item 5 through the gRPC CheckContext: an official number on a call
            # from overseas is SUSPICIOUS, never VERIFIED.
            ctx = CheckContext(Channel.INCOMING_CALL, overseas=True)
            spoofed = client.check("2345 6789", context=ctx)
            assert spoofed == local.check("2345 6789", context=ctx)
            assert spoofed.level is SU
            assert spoofed.reasons[0].code is RC.SPOOFED_OFFICIAL_NUMBER
            assert client.check("2345 6789").level is VE
    finally:
        manager.stop()
