#!/usr/bin/env bash
# Regenerate the committed protobuf / gRPC code of scameter/rpc/v1 from its .proto.
#
#   bash scripts/gen_proto.sh           write scameter_pb2.py, _pb2.pyi, _pb2_grpc.py, _pb2_grpc.pyi
#   bash scripts/gen_proto.sh --check   regenerate into a temp dir and diff; exit 1 on drift
#
# Uses grpcio-tools (bundled protoc) and mypy-protobuf (typed stubs) from the project venv.
# Paths are given relative to the repository root so the generated imports read
# `from scameter.rpc.v1 import scameter_pb2`, matching the package layout.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
BIN=$(dirname "$PY")
PROTO=scameter/rpc/v1/scameter.proto
FILES=(scameter_pb2.py scameter_pb2.pyi scameter_pb2_grpc.py scameter_pb2_grpc.pyi)

generate() {  # $1: output root
  PATH="$BIN:$PATH" "$PY" -m grpc_tools.protoc -I . \
    --python_out="$1" --grpc_python_out="$1" --mypy_out="$1" --mypy_grpc_out="$1" "$PROTO"
}

# Version stamps the generators write into their output. They say which release generated the
# code, not what the code does, so the drift check masks them: a newer grpcio-tools in some
# environment cannot fail CI by itself. That the runtime floors in pyproject.toml cover the
# stamps is checked by tests/unit/rpc/test_gencode_versions.py, with a message saying why.
mask_stamps() {  # $1: file; prints it with the stamps replaced
  sed -E \
    -e "s/^GRPC_GENERATED_VERSION = '[^']*'/GRPC_GENERATED_VERSION = '<stamp>'/" \
    -e 's/^# Protobuf Python Version: .*/# Protobuf Python Version: <stamp>/' \
    "$1" | python3 -c '
import re, sys
text = sys.stdin.read()
# ValidateProtobufRuntimeVersion(domain, major, minor, patch, suffix, file): the numbers.
print(re.sub(r"(ValidateProtobufRuntimeVersion\(\s*[^,]+,)\s*\d+,\s*\d+,\s*\d+,",
             r"\1 <stamp>,", text), end="")'
}

if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  status=0
  for f in "${FILES[@]}"; do
    if ! diff -u --label "committed $f" --label "regenerated $f" \
        <(mask_stamps "scameter/rpc/v1/$f") <(mask_stamps "$tmp/scameter/rpc/v1/$f"); then
      status=1
    fi
  done
  if [ $status -ne 0 ]; then
    echo "generated code is out of date (version stamps ignored): run bash scripts/gen_proto.sh and commit" >&2
  fi
  exit $status
fi
generate .
echo "regenerated: ${FILES[*]/#/scameter/rpc/v1/}"
