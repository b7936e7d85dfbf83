"""``check_wire`` (gRPC's raw-bytes ``Check``, written out flat for speed) answers exactly as
the wrapped ``Check`` does: the same message, the same status on every error, the same
metrics, over a real snapshot (hits, plain misses, phone ranges, invalid input, every kind,
call contexts, both languages, regions) and with API keys (scameter/rpc/servicer.py)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scameter.errors import SnapshotNotFound
from scameter.index import Snapshot
from scameter.rpc.auth import ApiKey, KeyStore, Role, hash_key
from scameter.rpc.metrics import Metrics
from scameter.rpc.servicer import ScameterServicer
from scameter.rpc.v1 import scameter_pb2 as pb
from tests.property.test_batch_properties import LISTED_SPELLINGS, POLICY, SETTINGS, _records
from tests.unit.index.helpers import build

KEYS = KeyStore(
    [
        ApiKey("checker", hash_key("k-check"), frozenset({Role.CHECK})),
        ApiKey("bulk", hash_key("k-bulk"), frozenset({Role.BULK})),
    ]
)


@pytest.fixture(scope="module")
def snap() -> Iterator[Snapshot]:
    root = Path(tempfile.mkdtemp(prefix="scameter-check-wire-"))
    s = Snapshot.open(root / build(root, _records(), policy=POLICY))
    yield s
    s.close()
    shutil.rmtree(root)


class _Source:
    def __init__(self, snap: Snapshot | None) -> None:
        self._snap = snap

    def acquire(self) -> contextlib.nullcontext[Snapshot]:
        if self._snap is None:
            raise SnapshotNotFound(Path("/nowhere"), "no snapshot loaded")
        return contextlib.nullcontext(self._snap)


class _Aborted(Exception):
    pass


class _Context:
    """What the handlers read of a ``grpc.ServicerContext``; an abort raises its status
    (with the trailers set before it)."""

    def __init__(self, key: str | None = "k-check") -> None:
        self._metadata = () if key is None else (("authorization", f"Bearer {key}"),)
        self.trailers: object = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def time_remaining(self) -> None:
        return None

    def set_trailing_metadata(self, metadata: object) -> None:
        self.trailers = metadata

    def abort(self, code: object, details: str) -> None:
        raise _Aborted(code, details, self.trailers)

    def abort_with_status(self, status: Any) -> None:
        raise _Aborted(status.code, status.details, status.trailing_metadata)


def _servicer(snap: Snapshot | None) -> ScameterServicer:
    return ScameterServicer(_Source(snap), KEYS, Metrics(0))


def _answer(call: Callable[..., Any], arg: object, key: str | None = "k-check") -> Any:
    """What a handler answers: its message (bytes decoded), or the status it aborts with."""
    try:
        got = call(arg, _Context(key))
    except _Aborted as e:
        return e.args
    return pb.CheckResponse.FromString(got) if isinstance(got, bytes) else got


def _outcomes(servicer: ScameterServicer, request: pb.CheckRequest, key: str | None) -> Any:
    """(Check's answer or status, check_wire's)."""
    return (
        _answer(servicer.Check, request, key),
        _answer(servicer.check_wire, request.SerializeToString(), key),
    )


def _counted(metrics: Metrics) -> dict[tuple[str, object], float]:
    """The request and verdict counts (not the latencies, which are timings)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name in ("scameter_rpc_requests_total", "scameter_verdicts_total")
    }


contexts = st.one_of(
    st.none(),
    st.builds(
        pb.CheckContext,
        channel=st.sampled_from(["", "incoming_call", "sms", "browse", "payment", "fax"]),
        overseas=st.booleans(),
    ),
)
requests = st.builds(
    pb.CheckRequest,
    identifier=st.one_of(st.sampled_from(LISTED_SPELLINGS), st.text(max_size=12)),
    kind=st.sampled_from(["", "", "phone", "url", "domain", "email", "fps_id", "nope"]),
    context=contexts,
    language=st.sampled_from(["", "en", "zh-Hant", "zh-HK", "klingon"]),
    region=st.sampled_from(["", "", "HK", "SG", "GB", "ZZ", "not a region"]),
)


@SETTINGS
@given(request=requests, key=st.sampled_from(["k-check", "k-check", "k-bulk", "nope", None]))
def test_check_wire_answers_as_check(snap: Snapshot, request: pb.CheckRequest, key: str) -> None:
    servicer = _servicer(snap)
    for _ in range(2):  # the second answer comes from the caches
        want, got = _outcomes(servicer, request, key)
        assert got == want


@pytest.mark.parametrize(
    ("identifier", "kind", "code"),
    [
        ("9123 4567", "phone", None),  # a hit
        ("98765432", "phone", None),  # a plain miss
        ("6123 0155", "phone", None),  # a phone range
        ("scam@evil.com", "", None),  # detected, derived
        ("12", "phone", grpc.StatusCode.INVALID_ARGUMENT),
        ("9123 4567", "nope", grpc.StatusCode.INVALID_ARGUMENT),
    ],
    ids=["hit", "miss", "range", "detected", "invalid", "unknown-kind"],
)
def test_check_wire_counts_as_check(snap: Snapshot, identifier: str, kind: str, code: Any) -> None:
    """The same answer and the same requests and verdicts counted; the pinned cases the
    property must meet."""
    request = pb.CheckRequest(identifier=identifier, kind=kind)
    wrapped, flat = _servicer(snap), _servicer(snap)
    want = _answer(wrapped.Check, request)
    got = _answer(flat.check_wire, request.SerializeToString())
    assert got == want
    if code is None:
        assert isinstance(got, pb.CheckResponse)
        assert got.verdict.input == identifier
    else:
        assert got[0] is code
    assert _counted(flat._metrics) == _counted(wrapped._metrics)
    assert sum(_counted(flat._metrics).values()) == 1 + (code is None)  # request (+ verdict)


def test_check_wire_fails_as_check_without_a_snapshot_or_with_a_bad_body() -> None:
    servicer = _servicer(None)
    want, got = _outcomes(servicer, pb.CheckRequest(identifier="9123 4567"), "k-check")
    assert got == want
    assert got[0] is grpc.StatusCode.UNAVAILABLE
    got = _answer(servicer.check_wire, b"\xff\xff")
    assert got[:2] == (grpc.StatusCode.INTERNAL, "Exception deserializing request!")
    counted = _counted(servicer._metrics)
    for code, n in (("UNAVAILABLE", 2), ("INTERNAL", 1)):
        labels = (("code", code), ("method", "Check"), ("worker", "0"))
        assert counted["scameter_rpc_requests_total", labels] == n
