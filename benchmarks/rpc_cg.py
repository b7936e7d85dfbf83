"""Instructions per call of the ``Check`` wire handler and of its parts (callgrind).

Not a registered benchmark (``python -m benchmarks`` does not run it); the figures of
docs/benchmarks.md, "Round 9: the Check handler". Instruction counts are what a loaded machine
does not move, so two source trees compare exactly:

* ``python -m benchmarks.rpc_cg setup ROOT``: the rpc benchmark's snapshot (10^5 listed
  phones, ``bench_rpc.build``), its hit and miss inputs and an API key file (one key, admin).
* ``python -m benchmarks.rpc_cg run ROOT PART BODY N``: a ``ScameterServicer`` over that
  snapshot; 300 warm-up calls of ``PART`` (:data:`PARTS`) with the ``BODY`` (``hit`` or
  ``miss``: the bodies ``bench_rpc``'s sequential figure sends), then ``N`` calls between
  ``os.getppid()`` and ``os.getpgrp()``, the triggers of callgrind's
  ``--zero-before=os_getppid --dump-before=os_getpgrp``: the dump holds those N calls alone.
* ``python -m benchmarks.rpc_cg measure ROOT [--tree DIR] [--calls N] [PART ...]``: ``run``
  under ``PYTHONHASHSEED=0 valgrind --tool=callgrind`` with the source tree ``DIR`` (default:
  this one; e.g. a ``git archive`` of the baseline, its C extensions built in place) as
  ``PYTHONPATH``; prints instructions per call for each part and body.

``handler`` is what gRPC calls per ``Check`` (API keys from a file, as served); the parts
each include the loop's own ~0.2-0.9k instructions a call (``nothing``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: The parts ``run`` can measure.
PARTS = ("handler", "handler_noauth", "nothing", "auth", "parse", "lookup", "answer", "record")
KEY = "bench-key"


def setup(root: Path) -> None:
    from benchmarks import datagen
    from benchmarks.bench_rpc import build
    from scameter.identifiers import Kind
    from scameter.rpc.auth import hash_key

    seed = 0
    stored, hits, misses = datagen.hits_and_misses(Kind.PHONE, 100_000, 20_000, seed)
    build(root / "snapshots", stored)
    raws = {"hit": datagen.raw_phone_forms(hits, seed)[0],
            "miss": datagen.raw_phone_forms(misses, seed + 1)[1]}  # fmt: skip
    (root / "raws.json").write_text(json.dumps(raws), encoding="utf-8")
    (root / "keys.toml").write_text(
        f'[[key]]\nname = "bench"\nsha256 = "{hash_key(KEY)}"\nroles = ["admin"]\n',
        encoding="utf-8",
    )


class _Context:
    """What the handler reads of a ``grpc.ServicerContext`` (h2load's metadata)."""

    def __init__(self) -> None:
        self._metadata = (("user-agent", "h2load nghttp2/1.52.0"),
                          ("authorization", f"Bearer {KEY}"))  # fmt: skip

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def time_remaining(self) -> None:
        return None


def _parts(root: Path, body_name: str) -> tuple[dict[str, Callable[[], object]], Any]:
    from scameter.index import SnapshotManager
    from scameter.rpc import convert
    from scameter.rpc.auth import NoAuth, ReloadingKeyStore, Role
    from scameter.rpc.metrics import Metrics
    from scameter.rpc.servicer import ScameterServicer
    from scameter.rpc.v1 import scameter_pb2 as pb

    raw = json.loads((root / "raws.json").read_text(encoding="utf-8"))[body_name]
    manager = SnapshotManager(root / "snapshots", poll_interval=3600, verify=False)
    manager.start()
    keys = ReloadingKeyStore(root / "keys.toml")
    metrics = Metrics(0)
    servicer = ScameterServicer(manager, keys, metrics)
    noauth = ScameterServicer(manager, NoAuth(), metrics)
    context: Any = _Context()
    body = pb.CheckRequest(identifier=raw, kind="phone").SerializeToString()
    with manager.acquire() as snap:
        v = snap.check(raw, "phone")

    def lookup() -> None:
        with manager.acquire() as snap:
            snap.check(raw, "phone")

    recorder = getattr(metrics, "recorder", None)  # (a baseline tree may have none)
    record: Callable[[], object] = (
        partial(metrics.record, "Check", "OK", 1e-4, v.level)
        if recorder is None
        else partial(recorder("Check").record, "OK", 1e-4, v.level)
    )
    parts: dict[str, Callable[[], object]] = {
        "handler": partial(servicer.check_wire, body, context),
        "handler_noauth": partial(noauth.check_wire, body, context),
        "nothing": partial(bytes, body),
        "auth": partial(keys.authorize, context.invocation_metadata(), Role.CHECK),
        "parse": partial(pb.CheckRequest.FromString, body),
        "lookup": lookup,
        "answer": partial(convert.check_response_bytes, v),
        "record": record,
    }
    return parts, manager


def run(root: Path, part: str, body_name: str, calls: int) -> None:
    parts, manager = _parts(root, body_name)
    fn = parts[part]
    for _ in range(300):
        fn()
    os.getppid()  # callgrind: --zero-before=os_getppid
    for _ in range(calls):
        fn()
    os.getpgrp()  # callgrind: --dump-before=os_getpgrp
    manager.stop()


def measure(root: Path, tree: Path, calls: int, parts: list[str]) -> dict[str, float]:
    """Instructions per call of each part and body (callgrind's dump of the timed loop)."""
    # The script by its path: ``run`` imports scameter alone, from ``tree``.
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(tree)}
    out: dict[str, float] = {}
    for part in parts:
        for body in ("hit", "miss"):
            with tempfile.TemporaryDirectory() as tmp:
                cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
                       "--zero-before=os_getppid", "--dump-before=os_getpgrp", sys.executable,
                       __file__, "run", str(root), part, body, str(calls)]  # fmt: skip
                subprocess.run(cmd, env=env, cwd=tmp, check=True, capture_output=True)
                for dump in sorted(Path(tmp).glob("cg.out*")):
                    text = dump.read_text(encoding="utf-8", errors="replace")
                    if "Trigger: --dump-before=os_getpgrp" in text:
                        total = re.search(r"^summary: (\d+)", text, re.M)
                        assert total is not None
                        out[f"{part} {body}"] = int(total.group(1)) / calls
            print(f"{part:16} {body:5} {out[f'{part} {body}']:10,.0f}", flush=True)
    return out


def main(argv: list[str]) -> None:
    if argv[:1] == ["setup"]:
        setup(Path(argv[1]))
    elif argv[:1] == ["run"]:
        run(Path(argv[1]), argv[2], argv[3], int(argv[4]))
    elif argv[:1] == ["measure"]:
        import argparse

        parser = argparse.ArgumentParser(prog="python -m benchmarks.rpc_cg measure")
        parser.add_argument("root", type=Path)
        parser.add_argument("--tree", type=Path, default=REPO)
        parser.add_argument("--calls", type=int, default=5_000)
        parser.add_argument("parts", nargs="*", default=list(PARTS))
        args = parser.parse_intermixed_args(argv[1:])
        measure(args.root, args.tree, args.calls, args.parts)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
