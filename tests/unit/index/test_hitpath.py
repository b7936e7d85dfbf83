"""Both hit paths (compiled ``scameter.index._speedups`` and pure Python) give the same verdicts.

The lookup vectors of ``test_lookup_vectors`` (every rule: exact hits, allowlist precedence,
URL listings, near matches, clusters, call context) and a tampered record are run through a
snapshot opened with each implementation; the compiled one must be built on CI
(``SCAMETER_REQUIRE_SYSTEM_TOOLS``, set by ``.ci/run``), and a missing one falls back to the
pure path at import.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from scameter.errors import SnapshotCorrupt
from scameter.identifiers import Kind
from scameter.index import Snapshot
from scameter.index.assembly import HIT_PATH, VerdictAssembler
from scameter.verdict import Level, Reason, Verdict
from tests.unit.index.helpers import build
from tests.unit.index.test_lookup_vectors import CONTEXT_VECTORS, RECORDS, VECTORS
from tests.unit.index.test_tamper import RECORDS as TAMPER_RECORDS
from tests.unit.index.test_tamper import TARGET, edit

REQUIRED = bool(os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"))
needs_compiled = pytest.mark.skipif(
    HIT_PATH != "compiled" and not REQUIRED,
    reason="scameter.index._speedups is not built here (no C compiler at install time)",
)
IMPLEMENTATIONS = [
    pytest.param(False, id="python"),
    pytest.param(True, id="compiled", marks=needs_compiled),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root: Path = tmp_path_factory.mktemp("hitpath")
    return root / build(root, RECORDS)


@pytest.fixture(scope="module")
def reference(built: Path) -> Iterator[Snapshot]:
    with Snapshot.open(built, compiled=False) as s:
        yield s


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def snap(built: Path, request: pytest.FixtureRequest) -> Iterator[Snapshot]:
    with Snapshot.open(built, compiled=request.param) as s:
        assert s._assemble.compiled is request.param
        yield s


def _answers(s: Snapshot) -> list[Verdict]:
    out = []
    for _ in range(2):  # the second round after the record shapes are memoised
        out += [s.check(raw, kind) for _id, raw, kind, *_ in VECTORS]
        out += [s.check(raw, Kind.PHONE, context=c) for _id, raw, c, *_ in CONTEXT_VECTORS]
        out += s.check_many([raw for _id, raw, *_ in VECTORS])
    return out


@needs_compiled
def test_compiled_hit_path_is_built() -> None:
    """Fails on CI (``SCAMETER_REQUIRE_SYSTEM_TOOLS``) when ``pip install -e .`` did not build
    the extension, so the compiled path is never silently left untested."""
    from scameter.index import _speedups

    assert HIT_PATH == "compiled"
    assert _speedups.HitDecoder.__module__ == "scameter.index._speedups"


def test_both_paths_answer_every_vector_alike(snap: Snapshot, reference: Snapshot) -> None:
    got, expected = _answers(snap), _answers(reference)
    assert [v.to_dict() for v in got] == [v.to_dict() for v in expected]
    assert got == expected
    hit = snap.check("+852 9123 4567", Kind.PHONE)
    assert hit.level is Level.HIGH_RISK
    assert (hit.cluster_size, hit.first_reported) == (4, "2023-11-14T22:13:20Z")
    assert snap.check("23456789", Kind.PHONE).verified_owner == "Example Bank hotline"


@pytest.mark.parametrize(
    ("new_level", "forge"),
    [(2, False), (5, True), (9, True)],
    ids=["crc", "forged-verified", "forged-unknown-level"],
)
def test_tampered_record_raises_the_same_error_on_both_paths(
    tmp_path: Path, new_level: int, forge: bool
) -> None:
    path = tmp_path / build(tmp_path, TAMPER_RECORDS)
    edit(path, TARGET, Level.HIGH_RISK, new_level, forge=forge)
    errors = []
    for compiled in (False, True) if HIT_PATH == "compiled" or REQUIRED else (False,):
        with Snapshot.open(path, verify=False, compiled=compiled) as s:
            for _ in range(2):  # and never memoised as an answer
                with pytest.raises(SnapshotCorrupt, match="tampered with") as e:
                    s.check(TARGET, Kind.PHONE)
                errors.append(str(e.value))
    assert len(set(errors)) == 1


def test_compiled_true_without_the_extension_fails_clearly(built: Path) -> None:
    """In a process where ``scameter.index._speedups`` cannot be imported: the pure path is chosen
    at import, lookups answer, and asking for the compiled one says how to get it."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["scameter.index._speedups"] = None  # as if built without a compiler
        from scameter.identifiers import Kind
        from scameter.index import Snapshot
        from scameter.index.assembly import HIT_PATH, VerdictAssembler
        with Snapshot.open({str(built)!r}) as s:
            print(HIT_PATH, s._assemble.compiled, s.check("91234567", Kind.PHONE).level.value)
            try:
                VerdictAssembler(s.reader, compiled=True)
            except ImportError as e:
                print("ImportError", "C compiler" in str(e))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["python", "False", "high_risk", "ImportError", "True"]


@needs_compiled
def test_decoder_refuses_a_verdict_type_of_another_layout(built: Path) -> None:
    from scameter.index import _speedups

    with Snapshot.open(built) as s:
        pure = VerdictAssembler(s.reader, compiled=False)
    other_slots = type("Other", (), {"__slots__": (*Verdict.__slots__[:-1], "other")})
    for wrong in (Reason, other_slots):  # fewer slots; as many, one not Verdict's
        with pytest.raises(TypeError, match="slot"):
            _speedups.HitDecoder(
                cast(Any, wrong), {}, (None,) * 256, {}, {}, str, "id", pure.from_record_python
            )
    with pytest.raises(ValueError, match="256"):
        _speedups.HitDecoder(Verdict, {}, (), {}, {}, str, "id", pure.from_record_python)
    with pytest.raises(TypeError, match="__init__"):
        _speedups.HitDecoder.__new__(_speedups.HitDecoder).from_record("x", b"")


@needs_compiled
def test_decoder_tables_answer_as_the_pure_path_past_their_size(tmp_path: Path) -> None:
    """The decoder's own shape and time tables (256 and 1,024 slots, direct-mapped): with
    more distinct shapes and times than slots, every answer still equals the pure path's,
    whichever slots collide, in every round."""
    from scameter.identifiers import Identifier
    from scameter.index import Record

    records = [
        Record(
            Identifier(Kind.PHONE, f"+8529{i:07d}"),
            (Level.HIGH_RISK, Level.SUSPICIOUS, Level.POSSIBLE)[i % 3],
            categories=(f"category-{i % 400}",),
            report_count=1 + i % 9,
            reporters=1,
            first_reported=1_700_000_000 + 7 * i,
            last_reported=1_700_000_000 + 86_400 * (i % 50),
            cluster=i // 3 if i % 4 == 0 else None,
        )
        for i in range(3_000)
    ]
    path = tmp_path / build(tmp_path, records)
    raws = [r.identifier.value for r in records]
    with Snapshot.open(path, compiled=False) as pure, Snapshot.open(path, compiled=True) as fast:
        expected = [pure.check(raw, Kind.PHONE) for raw in raws]
        for _ in range(3):
            assert [fast.check(raw, Kind.PHONE) for raw in raws] == expected
            assert [fast.check(raw, Kind.PHONE) for raw in reversed(raws)] == expected[::-1]
