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

import contextlib
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scameter.identifiers import Kind
from scameter.identifiers.phonecolumn import MIN_ROWS
from scameter.index import Snapshot
from scameter.rpc import convert
from scameter.rpc.auth import Role
from scameter.rpc.metrics import Metrics
from scameter.rpc.servicer import ScameterServicer
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


# -- CheckPayee / CheckPayeeBatch: the wire handlers against the message handlers -------------


class _Source:
    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def acquire(self) -> contextlib.nullcontext[Snapshot]:
        return contextlib.nullcontext(self._snap)


class _AllowAll:
    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str:
        assert role is Role.PAYEE
        return "test"


class _Aborted(Exception):
    pass


class _Context:
    """What the handlers read of a ``grpc.ServicerContext``; an abort raises its status."""

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def time_remaining(self) -> None:
        return None

    def set_trailing_metadata(self, metadata: object) -> None:
        pass

    def abort(self, code: object, details: str) -> None:
        raise _Aborted(code, details)

    def abort_with_status(self, status: Any) -> None:
        raise _Aborted(status.code, status.details)


@pytest.fixture(scope="module")
def servicer(snap: Snapshot) -> ScameterServicer:
    return ScameterServicer(_Source(snap), _AllowAll(), Metrics(0), max_batch=25)


#: Proxy ids and accounts: listed (HIGH RISK, SUSPICIOUS...), unlisted, invalid and absent.
proxy_ids = st.one_of(
    st.sampled_from(["", "9123 4567", "+85291234567", "1234567", "123456789", "scam@evil.com",
                     "nobody@example.org", "2345 6789", "6123 0155", "not an email@", "12"]),
    typed,
    st.text(max_size=10),
)  # fmt: skip
accounts = st.one_of(
    st.sampled_from(["", "004-123-456789001", "004123456789001", "004-123-456789002", "x"]),
    st.text("0123456789-", max_size=16),
)
payees = st.builds(pb.Payee, proxy_id=proxy_ids, account=accounts)
tags = st.sampled_from(["", "en", "zh-Hant", "ZH_hant"])


def _outcome(call: Any, *args: Any) -> Any:
    """What a handler answers: its message, or the status it aborts with."""
    try:
        return call(*args)
    except _Aborted as e:
        return e.args


@SETTINGS
@given(items=st.lists(payees, max_size=30), lang=tags)
def test_payee_batch_wire_decodes_to_the_message_handler(
    servicer: ScameterServicer, items: list[pb.Payee], lang: str
) -> None:
    """Every answer alike, in order: alerts, warnings, verdicts in the language, errors per
    invalid payee; a batch over the cap fails alike."""
    request = pb.CheckPayeeBatchRequest(payees=items, language=lang)
    want = _outcome(servicer.CheckPayeeBatch, request, _Context())
    for _ in range(2):  # the second answer comes from the caches
        got = _outcome(servicer.check_payee_batch_wire, request.SerializeToString(), _Context())
        if isinstance(got, bytes):
            got = pb.CheckPayeeBatchResponse.FromString(got)
        assert got == want
    if len(items) <= 25:
        assert isinstance(want, pb.CheckPayeeBatchResponse)
        assert len(want.answers) == len(items)


@SETTINGS
@given(payee=payees, lang=tags)
def test_payee_wire_decodes_to_the_message_handler(
    servicer: ScameterServicer, payee: pb.Payee, lang: str
) -> None:
    """One payee: the same answer, or the same status (no identifier, an invalid one)."""
    request = pb.CheckPayeeRequest(proxy_id=payee.proxy_id, account=payee.account, language=lang)
    want = _outcome(servicer.CheckPayee, request, _Context())
    got = _outcome(servicer.check_payee_wire, request.SerializeToString(), _Context())
    if isinstance(got, bytes):
        got = pb.CheckPayeeResponse.FromString(got)
    assert got == want


def test_payee_wire_covers_alerts_warnings_and_errors(servicer: ScameterServicer) -> None:
    """The cases the properties must meet at least once, pinned: an alert with both
    warnings, a listed non-alert, an error row, both languages."""
    request = pb.CheckPayeeBatchRequest(
        payees=[
            pb.Payee(proxy_id="9123 4567", account="004-123-456789001"),
            pb.Payee(proxy_id="1234567"),
            pb.Payee(),
            pb.Payee(proxy_id="12"),
        ],
        language="zh-Hant",
    )
    context: Any = _Context()
    raw = servicer.check_payee_batch_wire(request.SerializeToString(), context)
    got = pb.CheckPayeeBatchResponse.FromString(raw)
    assert got == servicer.CheckPayeeBatch(request, context)
    alert, listed, empty, bad = got.answers
    assert alert.result.alert
    assert alert.result.triggered_by == "proxy_id"
    assert alert.result.warning_en.startswith("Warning")
    assert alert.result.warning_zh_hant.startswith("警告")
    assert len(alert.result.verdicts) == 2
    assert not listed.result.alert
    assert listed.result.level == pb.LEVEL_SUSPICIOUS
    assert empty.error == "give a proxy_id, an account or both"
    assert bad.error
    assert bad.result.level == pb.LEVEL_NO_RECORD
