"""The ``near_filter`` pre-filter (format 1.1, kept in 2.0) skips probes, never candidates.

The filter is a roaring bitmap of the 32-bit prefix of every ``near`` key; the lookup drops a
variant key whose prefix is absent before probing LMDB. These tests check that it holds every
stored key's prefix (so no false negative is possible), that filtered and unfiltered lookups
find the same candidates on random snapshots, and that a 1.0 snapshot without the filter
still near-matches.
"""

from __future__ import annotations

import tempfile
from array import array
from pathlib import Path

import pytest
import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.identifiers import Kind
from scameter.index import builder as builder_module
from scameter.index import format as fmt
from scameter.index import writers
from scameter.index.near import NS_DOMAIN, deletion_variants, handle_namespace, variant_keys
from scameter.verdict import Level, ReasonCode
from tests.unit.index.helpers import open_built, rec

D = Kind.DOMAIN
P = Kind.PLATFORM_ACCOUNT
RECORDS = [
    rec(D, "evil-lender.com", Level.HIGH_RISK, reasons=(ReasonCode.POLICE_CONFIRMED,)),
    rec(D, "harbourquest.org", Level.SUSPICIOUS),
    rec(D, "quickloans.net", Level.POSSIBLE),
    rec(P, "telegram:fastmoneyhk", Level.HIGH_RISK),
]


def test_filter_holds_the_prefix_of_every_near_key(tmp_path: Path) -> None:
    with open_built(tmp_path, RECORDS) as snap:
        assert snap.manifest.format_version == fmt.FORMAT_VERSION == "3.0"
        f = snap.reader.near_filter
        assert f is not None
        cursor = snap.reader.txn().cursor(db=snap.reader.near)
        keys = [bytes(k) for k in cursor.iternext(values=False)]
        assert keys
        assert set(f) == {fmt.NEAR_PREFIX.unpack_from(k)[0] for k in keys}
        # Stored in ``bitmaps`` under its documented name, in the portable roaring format.
        assert snap.bitmap(fmt.NEAR_FILTER) == f


@pytest.mark.parametrize(
    ("query", "kind", "similar"),
    [
        ("evil-lenders.com", D, "evil-lender.com"),
        ("harbourqeust.org", D, "harbourquest.org"),
        ("quikloans.net", D, "quickloans.net"),
        ("telegram:fastmoneyhkk", P, "telegram:fastmoneyhk"),
    ],
    ids=["insert", "transpose", "delete", "handle"],
)
def test_near_matches_with_and_without_the_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str, kind: Kind, similar: str
) -> None:
    """A snapshot without ``near_filter`` (optional: a builder may leave it out) answers like
    one with it."""
    with open_built(tmp_path / "new", RECORDS) as snap:
        assert snap.reader.near_filter is not None
        filtered = snap.check(query, kind)
    # A builder that leaves the filter out.
    real = writers.write_bitmaps

    def without_filter(env: object, db: object, bitmaps: dict[str, array[int]]) -> None:
        real(env, db, {n: b for n, b in bitmaps.items() if n != fmt.NEAR_FILTER})

    monkeypatch.setattr(builder_module, "write_bitmaps", without_filter)
    with open_built(tmp_path / "old", RECORDS) as old:
        assert old.reader.near_filter is None
        unfiltered = old.check(query, kind)
    assert filtered.similar_to is not None
    assert filtered.similar_to.canonical == similar
    assert unfiltered.level is filtered.level is not Level.NO_RECORD
    assert unfiltered.similar_to == filtered.similar_to


_LABEL = st.text("abcdeq-", min_size=5, max_size=15).filter(
    lambda s: not s.startswith("-") and not s.endswith("-") and "--" not in s
)


@st.composite
def _edits(draw: st.DrawFn, base: str) -> str:
    s = base
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(s)))
        c = draw(st.sampled_from("abcdeqx"))
        op = draw(st.sampled_from(["sub", "ins", "del"]))
        if op == "ins":
            s = s[:i] + c + s[i:]
        elif i < len(s):
            s = s[:i] + (c if op == "sub" else "") + s[i + 1 :]
    return s


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(labels=st.lists(_LABEL, min_size=1, max_size=12, unique=True), data=st.data())
def test_filtered_candidates_equal_unfiltered(labels: list[str], data: st.DataObject) -> None:
    records = [rec(D, f"{lb}.com", Level.HIGH_RISK) for lb in labels]
    records += [rec(P, f"telegram:{lb}", Level.SUSPICIOUS) for lb in labels[:4]]
    queries = [data.draw(_edits(lb)) for lb in labels] + data.draw(st.lists(_LABEL, max_size=4))
    ns_tg = handle_namespace("telegram")
    with tempfile.TemporaryDirectory() as tmp, open_built(Path(tmp), records) as snap:
        near = snap._near
        f = near._filter
        assert f is not None
        for q in queries:
            for ns in (NS_DOMAIN, ns_tg):
                near.clear_cache()
                with_filter = near.candidates(ns, q)
                near._filter = None
                near.clear_cache()
                without = near.candidates(ns, q)
                near._filter = f
                assert with_filter == without, (q, ns)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(st.sampled_from("abcq-é1"), max_size=14),
    k=st.integers(0, 2),
    ns=st.sampled_from([NS_DOMAIN, b"Ptelegram\x00"]),
)
def test_variant_keys_are_the_hashed_deletion_variants(text: str, k: int, ns: bytes) -> None:
    """The bytes fast path of ``variant_keys`` (builder and lookup share it) produces exactly
    the keys of :func:`deletion_variants`, each once."""
    keys = variant_keys(ns, text, k)
    assert len(keys) == len(set(keys))
    assert set(keys) == {
        xxhash.xxh3_64_digest(ns + v.encode("utf-8")) for v in deletion_variants(text, k)
    }


@pytest.mark.parametrize("per_variant", [True, False])
def test_prefilter_paths_keep_the_same_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_variant: bool
) -> None:
    # Few variants are probed one by one in the bitmap, many in one numpy pass: both keep
    # exactly the variants whose 32-bit prefix the filter holds.
    from scameter.index import nearmatch
    from scameter.index.near import variant_hashes

    labels = ["harbourquiet", "evilshopping", "paypal-secure-login", "ab"]
    records = [rec(D, f"{lb}.com", Level.HIGH_RISK) for lb in labels]
    monkeypatch.setattr(nearmatch, "_PROBE_EACH_UP_TO", 10**9 if per_variant else -1)
    with open_built(tmp_path, records) as snap:
        near = snap._near
        f = near._filter
        assert f is not None
        for q in [*labels, "harbourquite", "evilshoping", "nothing-like-these-at-all"]:
            hashes = variant_hashes(NS_DOMAIN, q, 2)
            expect = [h.to_bytes(8, "big") for h in hashes if h >> 32 in f]
            assert sorted(near._prefiltered(hashes)) == sorted(expect), q
        assert near._prefiltered(variant_hashes(NS_DOMAIN, "harbourquiet", 2))


@pytest.mark.parametrize(
    ("text", "k", "ns"),
    [
        ("harbourquiet", 2, NS_DOMAIN),
        ("aabbccddeeff", 2, NS_DOMAIN),
        ("evilshopping", 1, NS_DOMAIN),
        ("", 2, NS_DOMAIN),
        ("a", 2, b"Ptelegram\x00"),
        ("xn--hsbc-secure", 1, b"Ptelegram\x00"),
        ("hsbcé-login", 2, NS_DOMAIN),
    ],
    ids=["d2", "d2-repeats", "d1", "empty", "one-char-handle", "punycode-handle", "non-ascii"],
)
def test_variant_hash_stream_is_variant_hashes_with_repeats(text: str, k: int, ns: bytes) -> None:
    """The lookup's stream (one numpy gather, then C slices) yields exactly the hashes of
    :func:`variant_hashes`, a variant that arises twice twice, and says how many."""
    from scameter.index.near import variant_hash_stream, variant_hashes

    count, stream = variant_hash_stream(ns, text, k)
    hashes = list(stream)
    assert count == len(hashes)
    assert set(hashes) == set(variant_hashes(ns, text, k))
    if text.isascii():
        n = len(text)
        assert count == 1 + (n if k >= 1 else 0) + (n * (n - 1) // 2 if k >= 2 else 0)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(st.sampled_from("abcq-é1"), max_size=14),
    k=st.integers(0, 2),
    ns=st.sampled_from([NS_DOMAIN, b"Ptelegram\x00"]),
)
def test_variant_hash_stream_property(text: str, k: int, ns: bytes) -> None:
    """Any text: the stream's distinct hashes are :func:`variant_hashes`' and ``count`` is
    the stream's length."""
    from scameter.index.near import variant_hash_stream, variant_hashes

    count, stream = variant_hash_stream(ns, text, k)
    hashes = list(stream)
    assert count == len(hashes)
    assert set(hashes) == set(variant_hashes(ns, text, k))
