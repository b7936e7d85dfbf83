"""The wire path of the hot RPCs gives exactly the messages the message path gives (hypothesis).

gRPC serves ``Check`` and ``CheckBatch`` through raw-bytes handlers whose answers are
assembled from serialised pieces (:func:`scameter.rpc.convert.batch_bytes`,
:func:`~scameter.rpc.convert.check_response_bytes`: cached NO RECORD templates for plain
misses, cached verdict bytes for the rest). These properties decode those bytes and require
them to equal what :func:`~scameter.rpc.convert.fill_batch` / ``fill_verdict`` build (the
HTTP API's path and the reference), row by row, for random mixed batches over a real
snapshot: hits, plain misses, invalid items, every kind (given or detected), both languages,
batches split into chunks, and answers served twice (the second time from the cache).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scameter.identifiers import Kind
from scameter.identifiers.phonecolumn import MIN_ROWS
from scameter.index import Snapshot
from scameter.rpc import convert
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.verdict import LANGUAGES, Language, in_language
from tests.property.test_batch_properties import (
    POLICY,
    SETTINGS,
    _records,
    kinds,
    one,
    rows,
    typed,
)
from tests.unit.index.helpers import build

languages = st.sampled_from(LANGUAGES)


@pytest.fixture(scope="module")
def snap() -> Iterator[Snapshot]:
    root = Path(tempfile.mkdtemp(prefix="scameter-wire-prop-"))
    s = Snapshot.open(root / build(root, _records(), policy=POLICY))
    yield s
    s.close()
    shutil.rmtree(root)


def _reference(snap: Snapshot, raws: list[str], kind: Kind | None, lang: Language) -> bytes:
    out = pb.CheckBatchResponse()
    convert.fill_batch(out.verdicts, snap.check_batch(raws, kind), lang)
    return out.SerializeToString()


@SETTINGS
@given(raws=st.lists(st.one_of(rows, typed), max_size=80), kind=kinds, lang=languages)
def test_batch_bytes_decode_to_fill_batch(
    snap: Snapshot, raws: list[str], kind: Kind | None, lang: Language
) -> None:
    want = pb.CheckBatchResponse.FromString(_reference(snap, raws, kind, lang))
    for _ in range(2):  # the second answer comes from the verdict-bytes cache
        got = pb.CheckBatchResponse.FromString(
            convert.batch_bytes([snap.check_batch(raws, kind)], lang)
        )
        assert got == want
    # ... and equals the per-row reference, in order (hits, misses, invalid rows alike).
    assert list(got.verdicts) == [
        convert.verdict_to_pb(in_language(one(snap, raw, kind), lang)) for raw in raws
    ]


@SETTINGS
@given(
    raws=st.lists(st.one_of(typed, rows), min_size=MIN_ROWS, max_size=90),
    kind=st.sampled_from([None, Kind.PHONE]),
    lang=languages,
    cut=st.integers(0, 90),
)
def test_chunked_batches_concatenate(
    snap: Snapshot, raws: list[str], kind: Kind | None, lang: Language, cut: int
) -> None:
    """CheckBatch answers in chunks: the bytes of the chunks in order decode to the whole."""
    parts = [snap.check_batch(raws[:cut], kind), snap.check_batch(raws[cut:], kind)]
    got = pb.CheckBatchResponse.FromString(convert.batch_bytes(parts, lang))
    assert got == pb.CheckBatchResponse.FromString(_reference(snap, raws, kind, lang))


@SETTINGS
@given(raws=st.lists(rows, min_size=1, max_size=20), kind=kinds, lang=languages)
def test_check_response_bytes_decode_to_fill_verdict(
    snap: Snapshot, raws: list[str], kind: Kind | None, lang: Language
) -> None:
    for raw in raws:
        v = one(snap, raw, kind)
        want = pb.CheckResponse()
        convert.fill_verdict(want.verdict, in_language(v, lang))
        for _ in range(2):
            assert pb.CheckResponse.FromString(convert.check_response_bytes(v, lang)) == want
