"""The published ``proto/`` files: scameter's is the package's own, byte for byte; health's
matches, message by message and method by method, the grpc.health.v1 the server runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2

REPO = Path(__file__).resolve().parents[3]


def test_scameter_proto_is_the_package_one() -> None:
    published = (REPO / "proto" / "scameter" / "v1" / "scameter.proto").read_bytes()
    packaged = (REPO / "scameter" / "rpc" / "v1" / "scameter.proto").read_bytes()
    assert published == packaged, "cp scameter/rpc/v1/scameter.proto proto/scameter/v1/"


def _shape(fd: Any) -> dict[str, Any]:
    msgs = {m.name: [(f.name, f.number, f.type, f.label) for f in m.field] for m in fd.message_type}
    enums = {
        f"{m.name}.{e.name}": [(v.name, v.number) for v in e.value]
        for m in fd.message_type
        for e in m.enum_type
    }
    methods = [
        (x.name, x.input_type, x.output_type, x.server_streaming)
        for s in fd.service
        for x in s.method
    ]
    return {"package": fd.package, "messages": msgs, "enums": enums, "methods": methods}


def test_health_proto_matches_the_served_service(tmp_path: Path) -> None:
    out = tmp_path / "health.pb"
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{REPO / 'proto'}",
         f"--descriptor_set_out={out}", "grpc/health/v1/health.proto"],
        check=True, capture_output=True,
    )  # fmt: skip
    ours = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    served = descriptor_pb2.FileDescriptorProto()
    health_pb2.DESCRIPTOR.CopyToProto(served)
    assert _shape(ours) == _shape(served)
