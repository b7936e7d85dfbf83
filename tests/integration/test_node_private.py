"""The Node private example (examples/node/private-check.mjs) against a real ``scameter serve``
on loopback: its answers equal the Python private client's, and it sent only prefixes.

Needs ``node`` and ``npm``: the example's dependencies (@grpc/grpc-js, @grpc/proto-loader) are
installed from the npm registry into a temporary directory. Skipped, saying so, when node or
npm is not installed; an install that fails is a failure, not a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.identifiers import Identifier, Kind, normalize
from scameter.index import Record, SnapshotBuilder, publish
from scameter.private import PrivateClient
from scameter.verdict import Level, ReasonCode
from tests.unit.rpc.procs import REPO, server_process

NODE, NPM = shutil.which("node"), shutil.which("npm")
pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are not installed: the Node private example cannot run here",
)
EXAMPLE = REPO / "examples" / "node"
SERVE = "import sys; from scameter.cli import main; sys.exit(main(['serve', *sys.argv[1:]]))"

LISTED = [
    (Kind.PHONE, "+85291234567", Level.HIGH_RISK, None),
    (Kind.PHONE, "+85222900000", Level.VERIFIED, "Some Bank"),
    (Kind.DOMAIN, "evil-shop.example", Level.HIGH_RISK, None),
    (Kind.URL, "http://sites.google.com/view/scam", Level.SUSPICIOUS, None),
    (Kind.FPS_ID, "1234567", Level.POSSIBLE, None),
    (Kind.BANK_ACCOUNT, "004-123-456789", Level.SUSPICIOUS, None),
    (Kind.EMAIL, "refund@evil-shop.example", Level.SUSPICIOUS, None),
]
QUERIES = [
    ("phone", "9123 4567"),
    ("phone", "2290 0000"),
    ("phone", "6000 0000"),
    ("url", "https://login.evil-shop.example/a/b?c=d"),
    ("url", "http://sites.google.com/view/scam/x"),
    ("url", "http://sites.google.com/view/other"),
    ("domain", "www.evil-shop.example"),
    ("fps_id", "1234567"),
    ("bank_account", "004-123-456789"),
    ("email", "Refund@Evil-Shop.example"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    snaps = tmp_path / "snapshots"
    with SnapshotBuilder(snaps, as_of=datetime(2026, 11, 1, tzinfo=UTC)) as b:
        for kind, value, level, owner in LISTED:
            reasons = (ReasonCode.POLICE_CONFIRMED,) if level is Level.HIGH_RISK else ()
            b.add(Record(Identifier(kind, value), level, reasons, ("investment",), ("police",),
                         4, 3, owner=owner))  # fmt: skip
        manifest = b.build()
    publish(snaps, manifest.snapshot_id)
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth"]
    with server_process(args, code=SERVE) as srv:
        yield srv.target


def test_node_answers_equal_python_private_client(node_dir: Path, server: str) -> None:
    idents = [normalize(kind, raw) for kind, raw in QUERIES]
    args = [f"{i.kind.value}:{i.value}" for i in idents]
    assert NODE is not None
    done = subprocess.run(
        [NODE, "private-check.mjs", "--target", server,
         "--proto", str(REPO / "scameter" / "rpc" / "v1" / "scameter.proto"), *args],
        cwd=node_dir, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    node, sent = lines[:-1], lines[-1]["sent"]
    with PrivateClient(server, timeout=10) as pc:
        python = [pc.check_identifier(i) for i in idents]
        python_sent = {p.hex() for p in pc.sent}
    assert len(node) == len(python) == len(QUERIES)
    for n, p, ident in zip(node, python, idents, strict=True):
        assert n["canonical"] == ident.value
        assert n["level"] == p.level.value, n
        assert n["matched"] == p.matched, n
        assert n["report_count"] == p.report_count, n
        assert n["categories"] == list(p.categories), n
    assert {n["level"] for n in node} >= {"high_risk", "verified", "no_record", "suspicious"}
    # Node sent the same prefixes as Python, each of its kind's length, never a full hash.
    assert set(sent) == python_sent
    assert all(len(bytes.fromhex(p)) in (2, 3, 4) for p in sent)


def test_node_refuses_bad_argument(node_dir: Path, server: str) -> None:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "private-check.mjs", "--target", server, "nokind"],
        cwd=node_dir, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "KIND:CANONICAL" in done.stderr


def test_example_kind_table_matches_python() -> None:
    from scameter.identifiers.model import KIND_TAGS
    from scameter.index.hashes import PREFIX_BYTES

    text = (EXAMPLE / "private-check.mjs").read_text(encoding="utf-8")
    for kind in Kind:
        tag = KIND_TAGS[kind][0]
        assert f"  {kind.value}: [0x{tag:02x}, {PREFIX_BYTES[kind]}]," in text, kind
