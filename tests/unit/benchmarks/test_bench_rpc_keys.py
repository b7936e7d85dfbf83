"""The rpc benchmark serves with API-key auth: its key file must load and grant every role."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_rpc import BENCH_KEY, key_file
from scameter.rpc.auth import KeyStore, Role


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_bench_key_file_grants_every_role(tmp_path: Path, role: Role) -> None:
    store = KeyStore.load(key_file(tmp_path, BENCH_KEY))
    assert store.authorize([("authorization", f"Bearer {BENCH_KEY}")], role) == "bench"
