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

if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  status=0
  for f in "${FILES[@]}"; do
    if ! diff -u "scameter/rpc/v1/$f" "$tmp/scameter/rpc/v1/$f"; then
      status=1
    fi
  done
  if [ $status -ne 0 ]; then
    echo "generated code is out of date: run bash scripts/gen_proto.sh and commit" >&2
  fi
  exit $status
fi
generate .
echo "regenerated: ${FILES[*]/#/scameter/rpc/v1/}"
