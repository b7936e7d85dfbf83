"""Drill: hypothesis fuzzing of every RPC's request message, sent over a real gRPC server
(``python -m scameter.rpc`` on loopback, real snapshot, real intake log). Every answer is OK or
a documented status code, never UNKNOWN or INTERNAL, and the server stays up.

The requests are generated from the proto descriptors, so an RPC or field added later is
fuzzed too: strings (empty, unicode, control and formula characters, 70 KB), random numbers
in every integer field, enum numbers the proto does not define, random bytes, oversize
batches. Calls go with an admin key, a check-only key or none. Counts are printed (``-s``)
and recorded in docs/reliability.md.
"""

from __future__ import annotations

import collections
import signal
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.rpc import issue_reporter_token
from scameter.rpc.auth import hash_key
from scameter.rpc.v1 import scameter_pb2 as pb
from tests.unit.rpc.procs import ServerProcess, build_snapshot, server_process

SECRET = "drill-reporter-secret-0123456789"
SERVICE = pb.DESCRIPTOR.services_by_name["Scameter"]
#: Documented status codes (docs/api.md, docs/operations.md): refusals, never failures.
DOCUMENTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.NOT_FOUND,
}
KEYS = {"admin": "sk_drill_admin", "check": "sk_drill_check"}
COUNTS: collections.Counter[str] = collections.Counter()

HOSTILE = [
    "", " ", "\x00", "\x1b[2J\x1b]0;x\x07", "\u202e", "=cmd|\"/c calc\"!A1", "+852", "-1",
    "９１２３ ４５６７", "+85291234567", "hsbc.com.hk", "https://evil.example/a?b=c",
    "a@b.c", "\U0001f600" * 50, "phone", "url", "zh-Hant", "HK",
    "SG", "ZZ", "incoming_call", "phishing", "other",
]  # fmt: skip
#: Huge strings, built by the strategy (a 70 kB literal would also be in every repr).
_HUGE = st.sampled_from([("x", 70_000), ("9", 5000), ("\u00e9", 40_000)]).map(
    lambda cn: cn[0] * cn[1]
)
_TEXT = st.one_of(
    _HUGE, st.sampled_from(HOSTILE), st.text(max_size=40), st.text(min_size=200, max_size=2000)
)
_INTS = {
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
    FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_STRING:
        if field.name == "reporter_token":
            good = issue_reporter_token(SECRET.encode(), "+85298765432", 600)
            return st.one_of(st.just(good), _TEXT)
        return _TEXT
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.one_of(st.binary(max_size=8), st.binary(min_size=32, max_size=40))
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_ENUM:
        return st.integers(-3, 40)  # defined numbers and ones the proto does not define
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True)
    return _INTS.get(field.type, st.integers(0, 1000))


def _field(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    one = message(field.message_type, depth + 1) if field.message_type else _scalar(field)
    if not field.is_repeated:
        return one
    # Mostly small lists; sometimes an oversize batch (one value repeated past every cap).
    return st.one_of(
        st.lists(one, max_size=6),
        st.tuples(one, st.integers(10_001, 12_000)).map(lambda vn: [vn[0]] * vn[1]),
    )


def message(desc: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    cls = getattr(pb, desc.name)
    fields = {
        f.name: _field(f, depth)
        for f in desc.fields
        if depth < 3 and not (f.message_type and f.message_type.full_name.startswith("google."))
    }

    def build(values: dict[str, Any]) -> Message:
        msg: Message = cls()
        for name, value in values.items():
            f = desc.fields_by_name[name]
            if f.is_repeated:
                target = getattr(msg, name)
                for v in value:
                    target.add().CopyFrom(v) if f.message_type else target.append(v)
            elif f.message_type:
                getattr(msg, name).CopyFrom(value)
            else:
                setattr(msg, name, value)
        return msg

    return st.fixed_dictionaries({}, optional=fields).map(build)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("rpc-fuzz")
    snaps, keys = tmp / "snapshots", tmp / "keys.toml"
    build_snapshot(snaps, ["+85291234567", "+85263912745"])
    keys.write_text(
        "".join(
            f'[[key]]\nname = "{role}"\nsha256 = "{hash_key(key)}"\nroles = ["{role}"]\n'
            for role, key in KEYS.items()
        ),
        encoding="utf-8",
    )
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--auth-keys", str(keys)]
    args += ["--intake-log", str(tmp / "intake")]
    with server_process(args, env={"SCAMETER_REPORTER_SECRET": SECRET}) as srv:
        yield srv
        assert srv.proc.poll() is None, "the server stayed up through the fuzzing"
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(60) == 0
    print(f"\nRPC fuzz: {sum(COUNTS.values())} requests: {dict(sorted(COUNTS.items()))}")


@pytest.fixture(scope="module")
def channel(server: ServerProcess) -> Iterator[grpc.Channel]:
    opts = [
        ("grpc.max_send_message_length", 64 << 20),
        ("grpc.max_receive_message_length", 64 << 20),
    ]
    with grpc.insecure_channel(server.target, options=opts) as ch:
        yield ch


# Hypothesis reprs every example it runs; a 70 kB string field makes that repr 70 kB.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@pytest.mark.parametrize("method", list(SERVICE.methods), ids=lambda m: m.name)
def test_every_rpc_answers_ok_or_a_documented_status(
    server: ServerProcess, channel: grpc.Channel, method: Any
) -> None:
    call = channel.unary_unary(
        f"/{SERVICE.full_name}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=getattr(pb, method.output_type.name).FromString,
    )

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(request=message(method.input_type), key=st.sampled_from([*KEYS.values(), None]))
    def run(request: Message, key: str | None) -> None:
        metadata = () if key is None else (("authorization", f"Bearer {key}"),)
        try:
            call(request, timeout=30, metadata=metadata)
            code = grpc.StatusCode.OK
        except grpc.RpcError as e:
            code = e.code()
            detail = e.details()
            assert code in DOCUMENTED, f"{method.name}: {code} {detail!r}"
        COUNTS[f"{method.name}:{code.name}"] += 1

    run()
    assert server.proc.poll() is None
