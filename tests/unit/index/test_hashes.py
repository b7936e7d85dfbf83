"""The private-lookup hash definition, the prefix lengths and the ``hashes`` table search."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scameter.identifiers import Identifier, Kind, normalize
from scameter.index import Snapshot
from scameter.index.hashes import (
    MIN_BUCKET,
    PREFIX_BYTES,
    SPACE,
    expression_hash,
    identifier_hash,
    lookup_hashes,
    record_hashes,
)
from scameter.index.hashsearch import check_prefixes, search
from scameter.verdict import Level, ReasonCode
from tests.unit.index.helpers import open_built, rec

# Safe Browsing's documented full-hash example: the expression "abc".
SB_VECTORS = [
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
]


@pytest.mark.parametrize(("expr", "hexdigest"), SB_VECTORS, ids=["abc", "empty"])
def test_expression_hash_is_safe_browsing_full_hash(expr: str, hexdigest: str) -> None:
    assert expression_hash(expr).hex() == hexdigest


def test_identifier_hash_is_tagged() -> None:
    h = identifier_hash(Kind.PHONE, "+85291234567")
    assert h == hashlib.sha256(b"\x01+85291234567").digest()
    assert h != identifier_hash(Kind.FPS_ID, "+85291234567")


def test_url_lookup_hashes_are_its_expressions() -> None:
    ident = normalize(Kind.URL, "http://a.b.c/1/2.html?param=1")
    hashes = lookup_hashes(ident)
    assert len(hashes) == 8
    assert expression_hash("b.c/") in hashes
    assert expression_hash("a.b.c/1/2.html?param=1") in hashes


def test_domain_record_found_by_url_lookup() -> None:
    (listed,) = record_hashes(Kind.DOMAIN, "evil.example", None)
    ident = normalize(Kind.URL, "https://login.evil.example/x/y")
    assert listed in lookup_hashes(ident)
    assert listed in lookup_hashes(Identifier(Kind.DOMAIN, "www.evil.example"))


def test_path_listing_also_under_directory_form() -> None:
    hs = record_hashes(Kind.URL, "http://sites.google.com/view/scam", None)
    assert hs == [expression_hash("sites.google.com/view/scam"),
                  expression_hash("sites.google.com/view/scam/")]  # fmt: skip


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
def test_every_bucket_covers_min_plausible(kind: Kind) -> None:
    n = PREFIX_BYTES[kind]
    assert SPACE[kind] // 256**n >= MIN_BUCKET
    if n < 4:  # one byte more would leave fewer than MIN_BUCKET per bucket
        assert SPACE[kind] // 256 ** (n + 1) < MIN_BUCKET


def test_phone_prefix_is_two_bytes() -> None:
    assert PREFIX_BYTES[Kind.PHONE] == 2
    assert PREFIX_BYTES[Kind.URL] == 4


def test_bad_prefixes_refused() -> None:
    with pytest.raises(ValueError, match="bytes long"):
        check_prefixes([b"\x00"])
    with pytest.raises(ValueError, match="at least one"):
        check_prefixes([])
    with pytest.raises(ValueError, match="at most"):
        check_prefixes([i.to_bytes(4, "big") for i in range(65)])


def test_search_finds_full_hashes(tmp_path: Path) -> None:
    records = [
        rec(Kind.PHONE, "+85291234567", Level.HIGH_RISK, reasons=(ReasonCode.POLICE_CONFIRMED,),
            categories=("investment",), report_count=5, reporters=4, sources=("police",)),
        rec(Kind.DOMAIN, "evil.example", Level.SUSPICIOUS, report_count=3, reporters=3),
        rec(Kind.PHONE, "+85229000000", Level.VERIFIED, owner="Some Bank"),
    ]  # fmt: skip
    with open_built(tmp_path, records) as snap:
        h = identifier_hash(Kind.PHONE, "+85291234567")
        (m,) = search(snap.reader, [h[:2]])
        assert m.full_hash == h
        assert (m.kind, m.level, m.report_count, m.reporters) == (Kind.PHONE, Level.HIGH_RISK, 5, 4)
        assert m.categories == ("investment",)
        assert m.reasons == (ReasonCode.POLICE_CONFIRMED.value,)
        d = expression_hash("evil.example/")
        assert [x.level for x in search(snap.reader, [d[:4]])] == [Level.SUSPICIOUS]
        v = identifier_hash(Kind.PHONE, "+85229000000")
        assert [x.level for x in search(snap.reader, [v[:3]])] == [Level.VERIFIED]
        other = bytes(x ^ 0xFF for x in h[:4])
        assert all(not x.full_hash.startswith(other) for x in search(snap.reader, [other]))


def test_snapshot_without_table_still_opens(tmp_path: Path) -> None:
    import lmdb

    root = tmp_path
    with open_built(root, [rec(Kind.PHONE, "+85291234567", Level.POSSIBLE)]) as snap:
        path = snap.path
    env = lmdb.open(str(path), subdir=True, max_dbs=32, lock=False)
    with env.begin(write=True) as txn:
        txn.drop(env.open_db(b"hashes", txn=txn), delete=True)
    env.close()
    with Snapshot.open(path, verify=False) as snap2:
        assert snap2.reader.hashes is None
        assert snap2.check("+85291234567", "phone").level is Level.POSSIBLE
