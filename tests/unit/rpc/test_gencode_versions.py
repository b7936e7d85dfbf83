"""The committed generated code and the dependency floors in ``pyproject.toml`` agree.

``scripts/gen_proto.sh --check`` ignores the version stamps the generators write, so that a
newer generator elsewhere cannot fail CI by itself. These tests say *why* a stamp matters: the
generated modules refuse to import under a runtime older than the one that generated them, so
the floors the package declares must cover the stamps, and the pinned generator must be the
one whose output is committed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GEN = ROOT / "scameter" / "rpc" / "v1"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _requirements() -> dict[str, str]:
    """Requirement name -> version spec, for the runtime and test dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    out: dict[str, str] = {}
    for req in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", req.strip())
        assert m is not None, req
        out[m.group(1).lower()] = m.group(2)
    return out


def _floor(spec: str) -> tuple[int, ...]:
    m = re.search(r"(?:>=|==)\s*([0-9][0-9.]*)", spec)
    assert m is not None, f"no lower bound in {spec!r}"
    return _version(m.group(1))


def test_grpcio_floor_covers_the_generated_service_code() -> None:
    text = (GEN / "scameter_pb2_grpc.py").read_text(encoding="utf-8")
    m = re.search(r"^GRPC_GENERATED_VERSION = '([0-9.]+)'", text, re.M)
    assert m is not None
    stamped = _version(m.group(1))
    reqs = _requirements()
    for name in ("grpcio", "grpcio-health-checking", "grpcio-reflection"):
        assert _floor(reqs[name]) >= stamped, (
            f"{name} {reqs[name]} allows a runtime older than {m.group(1)}, which "
            "scameter_pb2_grpc.py refuses at import: raise the floor in pyproject.toml"
        )


def test_protobuf_range_covers_the_generated_message_code() -> None:
    text = (GEN / "scameter_pb2.py").read_text(encoding="utf-8")
    m = re.search(r"ValidateProtobufRuntimeVersion\(\s*[^,]+,\s*(\d+),\s*(\d+),\s*(\d+),", text)
    assert m is not None
    stamped = tuple(int(g) for g in m.groups())
    spec = _requirements()["protobuf"]
    assert _floor(spec) >= stamped, (
        f"protobuf {spec} allows a runtime older than the gencode {stamped}: raise the floor"
    )
    cap = re.search(r"<\s*([0-9]+)", spec)
    assert cap is not None, f"protobuf {spec} has no upper bound"
    assert int(cap.group(1)) == stamped[0] + 1, (
        "protobuf must be capped below the next major: its runtime refuses gencode of an "
        "older major"
    )


@pytest.mark.parametrize(
    "name",
    ["grpcio-tools", "mypy-protobuf", "ruff", "mypy", "import-linter", "types-protobuf", "radon"],
)
def test_generators_and_gate_tools_are_pinned_exactly(name: str) -> None:
    spec = _requirements()[name]
    assert spec.startswith("=="), f"{name} must be pinned with == (it is {spec!r})"


def test_the_pinned_grpc_generator_wrote_the_committed_code() -> None:
    text = (GEN / "scameter_pb2_grpc.py").read_text(encoding="utf-8")
    m = re.search(r"^GRPC_GENERATED_VERSION = '([0-9.]+)'", text, re.M)
    assert m is not None
    assert _requirements()["grpcio-tools"] == f"=={m.group(1)}", (
        "regenerate with the pinned grpcio-tools (bash scripts/gen_proto.sh) and commit"
    )
