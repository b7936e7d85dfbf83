"""The worker: the JSONL fast path gives exactly the general path's events and rejects."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.ingest.adapters import AdapterOptions
from scameter.ingest.worker import process_chunk

OPTS = AdapterOptions(reporter_key=b"k")

_value = st.sampled_from(
    ["9123 4567", "+852 6123 4567", "12", "agent@x.example", "http://x.example/a", "bit.ly",
     "FPS 1234567", "", "@@@"]
)  # fmt: skip
_ident = st.one_of(
    st.fixed_dictionaries({"kind": st.sampled_from(["phone", "email", "url", "nope"]),
                           "value": _value}),
    st.fixed_dictionaries({"value": _value}),
    _value,
    st.integers(),
)  # fmt: skip
_row = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["report", "allow", "x"]),
        "source": st.sampled_from(["public", "police", "feed", "bogus", 3]),
        "status": st.sampled_from(["confirmed", "unverified", "rejected", "maybe"]),
        "reported_at": st.sampled_from(["2026-11-01", "2026-11-01T01:02:03Z", "bad", 5, ""]),
        "reporter": st.sampled_from(["u1", "u2", None, 7]),
        "category": st.sampled_from(["a", "", None]),
        "identifiers": st.lists(_ident, max_size=3),
    },
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_row, min_size=1, max_size=12))
def test_fast_path_matches_general_path(rows: list[dict[str, object]]) -> None:
    block = ("\n".join(json.dumps(r) for r in rows) + "\n").encode()
    fast = process_chunk("jsonl", OPTS, "f", 1, block)
    slow = process_chunk("jsonl", OPTS, "f", 1, block, fast=False)
    assert fast.events == slow.events
    assert fast.rejects == slow.rejects
    assert fast.ignored == slow.ignored
    assert (fast.rows, fast.rejected_rows) == (slow.rows, slow.rejected_rows)


def test_lines_keep_their_numbers_across_blank_lines_and_comments() -> None:
    block = b'\n{"source": "police", "identifiers": ["9123 4567"]}\n\nnot json\n'
    res = process_chunk("jsonl", OPTS, "f", 10, block)
    assert [ev[1] for ev in res.events] == [11]
    assert [r[0] for r in res.rejects] == [13]


_ROW = '{"source": "police", "reported_at": "2026-11-01", "identifiers": ["9123 4567"]}'
# Lines the fast path's parser (orjson) refuses or reads differently from ``json``, and lines
# with surrounding whitespace: the results must still be the general path's.
ODD_LINES = [
    pytest.param(_ROW[:-1] + ', "score": NaN}', id="nan-json-accepts-orjson-refuses"),
    pytest.param(_ROW[:-1] + ', "note": "\\ud800"}', id="lone-surrogate"),
    pytest.param(_ROW[:-1] + ', "id": 123456789012345678901234567890}', id="huge-int"),
    pytest.param(_ROW[:-1] + ', "category": 1e400}', id="float-overflow"),
    pytest.param(_ROW + "\r", id="crlf"),
    pytest.param(_ROW + "   ", id="trailing-space"),
    pytest.param(_ROW + " " + _ROW, id="extra-data"),
    pytest.param(_ROW[:-1], id="truncated"),
    pytest.param('{"source": "police", "source": "bank", ' + _ROW[1:], id="duplicate-key"),
]


def test_invalid_utf8_is_read_as_replaced_text_on_both_paths() -> None:
    block = _ROW.replace("police", "poli\xffce").encode("latin-1") + b"\n" + _ROW.encode() + b"\n"
    fast = process_chunk("jsonl", OPTS, "f", 1, block)
    slow = process_chunk("jsonl", OPTS, "f", 1, block, fast=False)
    assert (fast.events, fast.rejects) == (slow.events, slow.rejects)
    assert [r[0] for r in fast.rejects] == [1]  # "poli\ufffdce" is no known source
    assert "unknown source" in fast.rejects[0][1]


@pytest.mark.parametrize("line", ODD_LINES)
def test_fast_path_matches_general_path_on_odd_lines(line: str) -> None:
    block = (line + "\n" + _ROW + "\n").encode()
    fast = process_chunk("jsonl", OPTS, "f", 1, block)
    slow = process_chunk("jsonl", OPTS, "f", 1, block, fast=False)
    assert (fast.events, fast.rejects, fast.ignored) == (slow.events, slow.rejects, slow.ignored)
    assert (fast.rows, fast.rejected_rows) == (slow.rows, slow.rejected_rows)


@pytest.mark.parametrize("reporter", ["u1", "+852 9123 4567", "渠道", "x" * 300])
def test_reporter_int_is_the_stored_hash_prefix(reporter: str) -> None:
    from scameter.ingest.worker import _reporter_int
    from scameter.intake import hash_reporter

    expected = int(hash_reporter(reporter, b"k")[:16], 16)
    assert _reporter_int(reporter, None, b"k") == expected
    assert _reporter_int(None, hash_reporter(reporter, b"k"), b"k") == expected
    assert _reporter_int(reporter, None, b"other") != expected


def test_only_public_reports_carry_their_reporter() -> None:
    rows = [
        {"source": src, "reported_at": "2026-11-01", "reporter": "u1", "identifiers": ["9123 4567"]}
        for src in ("public", "police", "bank")
    ]
    block = "".join(json.dumps(r) + "\n" for r in rows).encode()
    for fast in (True, False):
        res = process_chunk("jsonl", OPTS, "f", 1, block, fast=fast)
        assert [ev[5] != 0 for ev in res.events] == [True, False, False]
    bad = {"source": "police", "reported_at": "2026-11-01", "reporter_hash": "zz",
           "identifiers": ["9123 4567"]}  # fmt: skip
    for fast in (True, False):
        res = process_chunk("jsonl", OPTS, "f", 1, (json.dumps(bad) + "\n").encode(), fast=fast)
        assert [r[1] for r in res.rejects] == ["reporter_hash must be hex"]


def _text_report(text: str, **extra: object) -> str:
    row = {"source": "public", "reported_at": "2026-10-30T00:00:00Z", "reporter": "+85298765432",
           "category": "phishing_sms", "text": text, **extra}  # fmt: skip
    return json.dumps(row, ensure_ascii=False)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "general"])
def test_text_only_reports(fast: bool) -> None:
    long_text = "they were rude " * 40  # over 300 characters: kept whole all the same
    lines = [
        _text_report("【HK Post】pay at hkpost-redelivery[.]top/pay or 6391 2745"),
        _text_report(long_text),
        _text_report("call 6391 2745", identifiers=[]),
        _text_report("x" * 70_000),
        _text_report("   "),
    ]
    res = process_chunk("jsonl", OPTS, "f", 1, "\n".join(lines).encode(), fast=fast)
    assert res.rows == 5
    keys = [ev[7] for ev in res.events]
    assert keys == [("url:http://hkpost-redelivery.top/pay", "phone:+85263912745"),
                    ("phone:+85263912745",)]  # fmt: skip
    ((line, reason, raw),) = res.ignored
    assert (line, reason) == (2, "no_identifiers")
    kept = json.loads(raw)
    assert kept["text"] == long_text
    assert "reporter" not in kept
    assert "+85298765432" not in raw
    assert len(kept["reporter_hash"]) == 32
    assert [r[0] for r in res.rejects] == [4, 5]
    assert res.rejects[1][1] == "report names no identifier (no 'identifiers', 'value' or 'text')"
    assert "64 KiB" in res.rejects[0][1]
    assert res.rejected_rows == 2
