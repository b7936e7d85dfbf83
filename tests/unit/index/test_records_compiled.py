"""The compiled record loop of a build (``scameter/index/_recordsfast.c``,
:data:`~scameter.index.writers.RECORDS_PATH`) against its reference,
:func:`~scameter.index.writers.pack_records_python`: the same pending batch, byte for byte,
the same state and the same errors, over records of every shape; and a whole build through
each gives the same files."""

from __future__ import annotations

import json
import os
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.index import format as fmt
from scameter.index import writers
from scameter.index.writers import RECORDS_PATH, _Pending, pack_records_python

REQUIRED = bool(os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"))
compiled = pytest.mark.skipif(
    RECORDS_PATH != "compiled" and not REQUIRED, reason="built without a C compiler"
)
CODES = writers._WORST_CODES


def test_the_compiled_loop_is_built_where_ci_requires_it() -> None:
    """Fails on CI (``SCAMETER_REQUIRE_SYSTEM_TOOLS``) when ``pip install -e .`` did not build
    ``_recordsfast`` or built it from another record layout."""
    if not REQUIRED and RECORDS_PATH != "compiled":
        pytest.skip("built without a C compiler")
    assert RECORDS_PATH == "compiled"
    assert writers.pack_records is not pack_records_python


@compiled
@given(st.binary(max_size=300))
def test_its_crc32_is_zlibs(data: bytes) -> None:
    from scameter.index import _recordsfast

    assert _recordsfast.crc32(data) == zlib.crc32(data)


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@st.composite
def records(draw: Any) -> tuple[bytes, bytes]:
    """A sort key (8-byte key from a small pool, so that keys collide; the table byte; the
    canonical value) and a record as the builder packs it, with or without a cluster,
    listing, owner, case ids and labels."""
    canonical = draw(_text).encode("utf-8")
    key = draw(st.sampled_from([bytes([b]) * 8 for b in (0, 7, 0x80, 0xFF)]))
    table = draw(st.sampled_from([fmt.TABLE_RECORDS, fmt.TABLE_ALLOW]))
    ids = st.lists(st.integers(0, 0xFFFF), max_size=4)
    labels = fmt.label_block(draw(ids), draw(ids), draw(ids))
    cases = draw(st.lists(_text, max_size=3))
    rec = fmt.pack_record(
        draw(st.sampled_from(sorted(fmt.KIND_BY_TAG))),
        draw(st.sampled_from(sorted(fmt.LEVEL_BY_CODE))),
        canonical,
        draw(st.booleans()),
        labels,
        draw(st.integers(0, 2**32 - 1)),
        draw(st.integers(0, 2**32 - 1)),
        draw(st.none() | st.integers(0, 2**32 - 1)),
        draw(st.none() | st.integers(0, 2**32 - 1)),
        draw(st.none() | st.sampled_from([1, 2, 2**63 + 5])),
        draw(st.none() | _text),
        draw(st.none() | _text),
        tuple(cases),
        len(cases) + draw(st.integers(0, 3)) if cases else 0,
    )
    return key + bytes([table]) + canonical, rec


CLUSTERS = {1: [3, 4], 2: [200, 2], 2**63 + 5: [2**32 - 1, 1]}


def _fields(p: _Pending) -> tuple[Any, ...]:
    return (p.keyed, p.tables, p.ents, p.cases, p.values, p.shapes, p.labels, p.clusters)


def _run(
    fn: Any, items: list[tuple[bytes, bytes]], limits: list[int], keep: bool
) -> tuple[Any, ...]:
    """Every item through ``fn`` in calls of the given limits, the batch emptied between
    them as a build does; the batches, the returned indices and the final state."""
    pending, state = _Pending(keep_values=keep), [5, None, 0]
    out, i, k = [], 0, 0
    while i < len(items):
        limit = limits[k % len(limits)] if limits else len(items)
        k += 1
        i = fn(items, i, len(items), limit, state, pending, CLUSTERS, CODES)
        out.append((i, _fields(pending)))
        pending = _Pending(keep_values=keep)
    return out, state


@compiled
@settings(max_examples=300, deadline=None)
@given(
    st.lists(records(), max_size=40, unique_by=lambda kv: kv[0]),
    st.lists(st.integers(1, 7), max_size=3),
    st.booleans(),
)
def test_the_compiled_loop_packs_as_the_reference(
    pairs: list[tuple[bytes, bytes]], limits: list[int], keep: bool
) -> None:
    items = sorted(pairs, key=lambda kv: kv[0])
    want = _run(pack_records_python, items, limits, keep)
    got = _run(writers.pack_records, items, limits, keep)
    assert got == want
    # every record read is kept or counted as a collision
    (_, state) = got
    kept = sum(len(batch[0]) for _, batch in got[0])
    assert kept + state[2] == len(items)
    assert state[0] == 5 + kept


@compiled
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([bytes([b]) * 8 for b in (0, 1, 0x7F, 0x80, 0xFF)]),
                  st.binary(max_size=6)),
        max_size=30,
    )
)  # fmt: skip
def test_the_compiled_evidence_grouping_is_the_references(pairs: list[tuple[bytes, bytes]]) -> None:
    from scameter.index import _recordsfast

    flat = [x for pair in pairs for x in pair]
    want = writers.group_pairs_python(flat)
    assert _recordsfast.group_pairs(flat) == want
    # each key once, in byte order, its values in the order given
    assert [k for k, _ in want] == sorted({k for k, _ in pairs})
    for key, blob in want:
        assert blob == b"[" + b",".join(v for k, v in pairs if k == key) + b"]"


def test_keys_of_other_lengths_are_grouped_by_the_reference() -> None:
    flat = [b"\x02" * 9, b"1", b"\x01" * 8, b"2", b"\x02" * 9, b"3"]
    want = [(b"\x01" * 8, b"[2]"), (b"\x02" * 9, b"[1,3]")]
    assert writers.group_pairs(flat) == want
    if RECORDS_PATH == "compiled":
        from scameter.index import _recordsfast

        assert _recordsfast.group_pairs(flat) is None


def _both(items: list[tuple[bytes, bytes]], clusters: dict[int, list[int]]) -> list[str]:
    errors = []
    for fn in (pack_records_python, writers.pack_records):
        with pytest.raises((ValueError, KeyError)) as info:
            fn(items, 0, len(items), 100, [0, None, 0], _Pending(keep_values=False),
               clusters, CODES)  # fmt: skip
        errors.append(f"{info.type.__name__}: {info.value}")
    return errors


def _record(cluster: int | None = None) -> bytes:
    labels = fmt.label_block([], [1], [2])
    return fmt.pack_record(3, 4, b"x", True, labels, 1, 1, None, None, cluster, None, None)


@compiled
def test_a_duplicate_and_an_unknown_cluster_raise_what_the_reference_raises() -> None:
    skey = b"\x01" * 8 + b"\x00x"
    dup = _both([(skey, _record()), (skey, _record())], CLUSTERS)
    assert dup[0] == dup[1]
    assert "added twice (key 0101010101010101)" in dup[0]
    unknown = _both([(skey, _record(cluster=99))], CLUSTERS)
    assert unknown[0] == unknown[1] == "KeyError: 99"


@compiled
@pytest.mark.parametrize("cut", [0, 3, 25, 30])
def test_the_compiled_loop_refuses_a_record_shorter_than_its_header_says(cut: int) -> None:
    rec = _record(cluster=1)
    with pytest.raises(ValueError, match="shorter than its header says"):
        writers.pack_records(
            [(b"\x02" * 8 + b"\x00x", rec[:cut])], 0, 1, 1, [0, None, 0],
            _Pending(keep_values=False), CLUSTERS, CODES,
        )  # fmt: skip


def _inputs(tmp_path: Path) -> Path:
    """Reports that make clusters (two numbers per report), case ids and allow rows."""
    lines = []
    for n in range(400):
        ids = [f"9{n % 150:07d}", f"6{(n * 7) % 90:07d}"] if n % 3 else [f"5{n:07d}"]
        row = {
            "type": "report", "source": ["police", "public"][n % 2], "id": f"case-{n % 17}",
            "status": "confirmed", "reported_at": f"2026-11-{1 + n % 19:02d}T10:00:00+00:00",
            "category": "investment", "identifiers": ids,
        }  # fmt: skip
        lines.append(json.dumps(row))
    lines += [
        json.dumps({"type": "allow", "kind": "phone", "value": f"9{n:07d}", "owner": "Bank"})
        for n in range(0, 150, 31)
    ]
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _both_builds(
    inp: Path, tmp_path: Path, when: datetime, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    """One ingest with the compiled loops (into ``c``) and one with every Python reference
    in their place (into ``p``): the record loop, the evidence grouping, the sorters'
    partition and the record packer."""
    from scameter.index import spill
    from scameter.ingest import run_ingest

    got = run_ingest([inp], tmp_path / "c", as_of=when, workers=1)
    with monkeypatch.context() as m:
        m.setattr(writers, "pack_records", pack_records_python)
        m.setattr(writers, "_compiled_group", None)
        m.setattr(spill, "_compiled_partition", None)
        m.setattr(fmt, "pack_record", fmt.pack_record_python)
        want = run_ingest([inp], tmp_path / "p", as_of=when, workers=1)
    assert got.manifest is not None
    assert want.manifest is not None
    assert got.manifest.checksum == want.manifest.checksum
    return got, want


@compiled
def test_a_build_through_either_loops_writes_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scameter.index.reader import SnapshotReader

    inp = _inputs(tmp_path)
    got, _ = _both_builds(inp, tmp_path, datetime(2026, 11, 25, tzinfo=UTC), monkeypatch)
    reader = SnapshotReader.open(tmp_path / "c" / got.manifest.snapshot_id)
    try:
        names = set(reader.bitmap_names())
    finally:
        reader.close()
    assert any(n.startswith("cluster:") for n in names), "the input makes no cluster"
    # a second build over the first diffs against it (the parent path keeps the records)
    got2, _ = _both_builds(inp, tmp_path, datetime(2026, 11, 26, tzinfo=UTC), monkeypatch)
    assert got2.manifest.parent_id == got.manifest.snapshot_id


_anyint = st.integers(-5, 300) | st.integers(2**32 - 3, 2**32 + 3) | st.integers(-(2**70), 2**70)
_time = st.none() | st.integers(0, 2**32 - 1) | _anyint
_str = st.none() | _text | st.text(max_size=3).map(lambda t: t + "\ud800")  # unencodable


_u8 = st.integers(0, 255)


@st.composite
def pack_args(draw: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """pack_record's arguments: mostly what a build passes, sometimes out of range, of
    another type, or by keyword."""
    labels = draw(
        st.tuples(_u8, _u8, _u8, st.binary(max_size=8))
        | st.tuples(_anyint, _anyint, _anyint, st.binary(max_size=4))
        | st.just([1, 0, 0, b"\x01\x00"])
    )  # fmt: skip
    args: list[Any] = [
        draw(st.integers(0, 255) | _anyint),
        draw(st.integers(0, 255) | _anyint),
        draw(st.binary(max_size=20) | st.just(b"x" * 0x10000) | st.just(bytearray(b"ab"))),
        draw(st.booleans() | st.sampled_from([0, 1, "", "y", None])),
        labels,
        draw(st.integers(0, 2**32 + 5) | _anyint),
        draw(st.integers(0, 2**32 + 5) | _anyint),
        draw(_time),
        draw(_time),
        draw(st.none() | st.integers(0, 2**64 - 1) | _anyint),
        draw(_str | st.just("l" * 0x10000)),
        draw(_str),
    ]
    tail = draw(st.integers(0, 2))
    cases = st.lists(_text | st.just("c" * 0x10000), max_size=4).map(tuple) | st.just(
        tuple(str(i) for i in range(256))
    )
    if tail >= 1:
        args.append(draw(cases | st.lists(_text, max_size=2)))
    if tail == 2:
        args.append(draw(_anyint))
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()) and tail == 2:  # the last two by keyword
        kwargs = {"case_ids": args[12], "case_count": args[13]}
        args = args[:12]
    return tuple(args), kwargs


def _outcome(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # the exception is what is compared
        return type(e), str(e)


@compiled
@settings(max_examples=1000, deadline=None)
@given(pack_args())
def test_the_compiled_pack_record_is_the_references(call: tuple[Any, dict[str, Any]]) -> None:
    args, kwargs = call
    got = _outcome(fmt.pack_record, args, kwargs)
    assert got == _outcome(fmt.pack_record_python, args, kwargs)


@compiled
@settings(max_examples=1000, deadline=None)
@given(
    st.tuples(
        _u8, _u8, st.binary(max_size=20), st.booleans(),
        st.tuples(_u8, _u8, _u8, st.binary(max_size=8)),
        st.integers(0, 2**33) | st.integers(2**63 - 2, 2**70), st.integers(0, 2**33),
        st.none() | st.integers(0, 2**32 - 1), st.none() | st.integers(0, 2**32 - 1),
        st.none() | st.integers(0, 2**64 - 1), st.none() | _text, st.none() | _text,
    ),
    st.lists(_text, max_size=5),
    st.integers(-3, 8) | st.integers(2**32 - 2, 2**40),
    st.integers(12, 14),
)  # fmt: skip
def test_the_compiled_pack_record_packs_what_a_build_passes_as_the_reference(
    head: tuple[Any, ...], cases: list[str], count: int, n: int
) -> None:
    args = (*head, tuple(cases), count)[:n]
    assert fmt.pack_record(*args) == fmt.pack_record_python(*args)


@compiled
def test_the_compiled_pack_record_is_the_one_a_build_calls() -> None:
    assert fmt.pack_record is not fmt.pack_record_python
    labels = fmt.label_block([1], [2, 3], [4])
    args = (1, 4, b"+85290000001", True, labels, 3, 2, 5, 6, 2**63, "evil/", "Bank",
            ("case-1", "個案"), 7)  # fmt: skip
    assert fmt.pack_record(*args) == fmt.pack_record_python(*args)
