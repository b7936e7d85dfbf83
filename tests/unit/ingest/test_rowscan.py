"""The compiled JSONL row scanner (``scameter/ingest/_rowscan.c``, :data:`ROWSCAN_PATH`).

Whatever a block holds, ``process_chunk`` must give the same events, rejects, ignores and
counts with the scanner (``scan=True``), with the Python fast path it replaces
(``scan=False``) and with the general path (``fast=False``): the scanner takes the lines it
can prove plain and hands every other one to the Python fast path, line by line. The
compiled scanner must be built on CI (``SCAMETER_REQUIRE_SYSTEM_TOOLS``, set by ``.ci/run``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.ingest.adapters import AdapterOptions
from scameter.ingest.worker import ROWSCAN_PATH, ChunkResult, process_chunk

REQUIRED = bool(os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"))
needs_compiled = pytest.mark.skipif(
    ROWSCAN_PATH != "compiled" and not REQUIRED, reason="built without a C compiler"
)
AS_OF = 1_795_651_200  # 2026-11-26T00:00:00Z
OPTS = AdapterOptions(reporter_key=b"k", as_of=AS_OF, provider="file.jsonl")


def _all_paths(block: bytes, opts: AdapterOptions = OPTS) -> ChunkResult:
    """The scanner's result, after checking that the two other paths give the same."""
    got = [
        process_chunk("jsonl", opts, "f", 7, block),
        process_chunk("jsonl", opts, "f", 7, block, scan=False),
        process_chunk("jsonl", opts, "f", 7, block, fast=False),
    ]
    want = [(r.events, r.rejects, r.ignored, r.rows, r.rejected_rows) for r in got]
    assert want[0] == want[1], "scanner != Python fast path"
    assert want[1] == want[2], "fast path != general path"
    return got[0]


PLAIN = (
    '{"type": "report", "id": "s1", "source": "public", "status": "unverified", '
    '"reported_at": "2026-11-01T09:30:00Z", "reporter": "u1", "category": "investment", '
    '"identifiers": [{"kind": "phone", "value": "9123 4567"}]}'
)


def _plain(**changes: Any) -> str:
    row = json.loads(PLAIN)
    for k, v in changes.items():
        if v is _DROP:
            row.pop(k, None)
        else:
            row[k] = v
    return json.dumps(row, ensure_ascii=False)


_DROP = object()

# Lines next to the plain shape: the scanner must either take them exactly as the Python
# fast path does or hand them over (the general path then gives its reason).
ODD_LINES = [
    pytest.param(PLAIN, id="plain"),
    pytest.param(PLAIN.replace(": ", ":").replace(", ", ","), id="compact"),
    pytest.param(PLAIN.replace(": ", " :\t "), id="tabs"),
    pytest.param(PLAIN[:-1] + ",}", id="trailing-comma"),
    pytest.param(PLAIN[:-2] + ",]}", id="trailing-comma-in-list"),
    pytest.param(PLAIN[:-1] + ', "score": NaN}', id="nan"),
    pytest.param(PLAIN[:-1] + ', "n": 123456789012345678901234567890}', id="big-int"),
    pytest.param(PLAIN[:-1] + ', "x": 1e400}', id="float-overflow"),
    pytest.param(PLAIN[:-1] + ', "note": {"a": [1, 2]}}', id="nested-extra"),
    pytest.param(PLAIN[:-1] + ', "note": "free text"}', id="extra-string"),
    pytest.param(PLAIN[:-1] + ', "note": "\\ud800"}', id="lone-surrogate-escape"),
    pytest.param(PLAIN[:-1] + ', "note": "caf\\u00e9"}', id="escape-in-extra"),
    pytest.param(PLAIN.replace('"u1"', '"u\\u0031"'), id="escaped-reporter"),
    pytest.param(PLAIN.replace('"u1"', '"u\\"1"'), id="escaped-quote"),
    pytest.param(PLAIN.replace('"u1"', '"渠道"'), id="unicode-reporter"),
    pytest.param(PLAIN.replace('"s1"', '"案件-１"'), id="unicode-id"),
    pytest.param(PLAIN.replace('"u1"', '"u\x011"'), id="control-char"),
    pytest.param(PLAIN + "\r", id="crlf"),
    pytest.param(PLAIN + " ", id="trailing-space"),
    pytest.param(" " + PLAIN, id="leading-space"),
    pytest.param("\ufeff" + PLAIN, id="bom"),
    pytest.param(PLAIN + PLAIN, id="two-objects"),
    pytest.param(PLAIN[:-1], id="truncated"),
    pytest.param(
        PLAIN.replace('"source": "public"', '"source": "police", "source": "public"'),
        id="duplicate-source",
    ),
    pytest.param(
        PLAIN[:-1] + ', "identifiers": [{"kind": "phone", "value": "6123 4567"}]}',
        id="duplicate-identifiers",
    ),
    pytest.param(
        PLAIN.replace('"kind": "phone", ', '"kind": "phone", "kind": "email", '),
        id="duplicate-kind",
    ),
    pytest.param(PLAIN.replace('"reporter": "u1"', '"reporter": null'), id="null-reporter"),
    pytest.param(PLAIN.replace('"reporter": "u1"', '"reporter": 7'), id="int-reporter"),
    pytest.param(PLAIN.replace('"s1"', "12"), id="int-id"),
    pytest.param(PLAIN.replace('"s1"', "true"), id="bool-id"),
    pytest.param(PLAIN.replace('"s1"', '"' + "x" * 20_000 + '"'), id="long-id"),
    pytest.param(_plain(region="SG"), id="row-region"),
    pytest.param(
        _plain(identifiers=[{"kind": "phone", "value": "6391 2745", "region": "SG"}]),
        id="item-region",
    ),
    pytest.param(_plain(identifiers=[{"value": "9123 4567"}]), id="no-kind"),
    pytest.param(_plain(identifiers=["9123 4567"]), id="bare-string"),
    pytest.param(_plain(identifiers=[]), id="no-identifiers"),
    pytest.param(_plain(identifiers=_DROP, value="9123 4567"), id="top-level-value"),
    pytest.param(
        _plain(identifiers=[{"kind": "phone", "value": "9123 4567", "x": "y"}]),
        id="extra-item-member",
    ),
    pytest.param(_plain(identifiers=[{"kind": "Phone", "value": "9123 4567"}]), id="kind-case"),
    pytest.param(_plain(identifiers=[{"kind": "phone", "value": "+86 13912345678"}]), id="cn"),
    pytest.param(_plain(identifiers=[{"kind": "phone", "value": "2123 4567"}]), id="hk-fixed"),
    pytest.param(_plain(identifiers=[{"kind": "phone", "value": "4123 4567"}]), id="hk-bad"),
    pytest.param(
        _plain(identifiers=[{"kind": "phone", "value": "(852) 9123-4567"}]), id="hk-parens"
    ),
    pytest.param(_plain(identifiers=[{"kind": "phone", "value": "0123 4567"}]), id="leading-0"),
    pytest.param(
        _plain(identifiers=[{"kind": "url", "value": "https://wa.me/85291234567"}]),
        id="deriving-url",
    ),
    pytest.param(
        _plain(identifiers=[{"kind": "url", "value": "https://facebook.com"}]), id="bare-platform"
    ),
    pytest.param(
        _plain(
            identifiers=[
                {"kind": "phone", "value": "9123 4567"},
                {"kind": "email", "value": "A@X.example"},
                {"kind": "phone", "value": "9123 4567"},
            ]
        ),
        id="three-with-repeat",
    ),
    pytest.param(
        _plain(identifiers=[{"kind": "phone", "value": "9123 4567"}] * 40), id="many-identifiers"
    ),
    pytest.param(_plain(type="allow"), id="allow"),
    pytest.param(_plain(type=""), id="empty-type"),
    pytest.param(_plain(source=""), id="empty-source"),
    pytest.param(_plain(source="feed", status=_DROP), id="feed-default-status"),
    pytest.param(_plain(source="bogus"), id="unknown-source"),
    pytest.param(_plain(status="maybe"), id="unknown-status"),
    pytest.param(_plain(status=""), id="empty-status"),
    pytest.param(_plain(category=""), id="empty-category"),
    pytest.param(_plain(category="Investment Scam"), id="category-alias"),
    pytest.param(_plain(category="nonsense"), id="category-other"),
    pytest.param(_plain(provider="partner-a"), id="provider"),
    pytest.param(_plain(provider=""), id="empty-provider"),
    pytest.param(_plain(id=""), id="empty-id"),
    pytest.param(_plain(id=_DROP), id="no-id"),
    pytest.param(_plain(reporter=""), id="empty-reporter"),
    pytest.param(_plain(reporter_hash="00ab" * 8), id="reporter-hash"),
    pytest.param(_plain(reporter_hash="0x12"), id="reporter-hash-0x"),
    pytest.param(_plain(reporter_hash="zz"), id="reporter-hash-bad"),
    pytest.param(_plain(reporter_hash="0" * 32), id="reporter-hash-zero"),
    pytest.param(_plain(source="police", reporter_hash=""), id="police-empty-hash"),
    pytest.param(_plain(reported_at=_DROP), id="no-date"),
    pytest.param(_plain(reported_at=""), id="empty-date"),
    pytest.param(_plain(reported_at="2026-11-01"), id="date-only"),
    pytest.param(_plain(reported_at="2026-11-01T09:30:00+08:00"), id="date-offset"),
    pytest.param(_plain(reported_at="2026-11-01T09:30:00z"), id="date-lower-z"),
    pytest.param(_plain(reported_at="2024-02-29T23:59:59Z"), id="leap-day"),
    pytest.param(_plain(reported_at="2025-02-29T00:00:00Z"), id="not-a-leap-day"),
    pytest.param(_plain(reported_at="2000-02-29T00:00:00Z"), id="leap-400"),
    pytest.param(_plain(reported_at="2100-02-29T00:00:00Z"), id="not-leap-100"),
    pytest.param(_plain(reported_at="2026-04-31T00:00:00Z"), id="april-31"),
    pytest.param(_plain(reported_at="2026-11-01T24:00:00Z"), id="hour-24"),
    pytest.param(_plain(reported_at="2026-11-01T23:59:60Z"), id="second-60"),
    pytest.param(_plain(reported_at="1999-12-31T23:59:59Z"), id="before-min-time"),
    pytest.param(_plain(reported_at="2000-01-01T00:00:00Z"), id="min-time"),
    pytest.param(_plain(reported_at="2026-11-27T00:00:00Z"), id="as-of-plus-a-day"),
    pytest.param(_plain(reported_at="2026-11-27T00:00:01Z"), id="past-as-of-plus-a-day"),
    pytest.param(_plain(reported_at="0000-01-01T00:00:00Z"), id="year-0"),
    pytest.param(_plain(reported_at="1700000000"), id="numeric-date"),
    pytest.param("", id="empty"),
    pytest.param("[1, 2]", id="array"),
    pytest.param("{}", id="empty-object"),
    pytest.param('{"type": "delist", "kind": "phone", "value": "9123 4567"}', id="delist"),
]


@pytest.mark.parametrize("line", ODD_LINES)
def test_odd_line_gives_what_the_other_paths_give(line: str) -> None:
    block = (line + "\n" + PLAIN + "\n").encode()
    res = _all_paths(block)
    assert res.rows >= 1  # the plain line after it at least


@needs_compiled
def test_the_scanner_takes_plain_lines_and_only_hands_over_the_others() -> None:
    """What the compiled scanner takes itself (so that the comparisons above test it)."""
    from scameter.ingest import _rowscan
    from scameter.ingest.worker import _scan_ctx

    lines = [PLAIN, _plain(source="police", id=_DROP), _plain(region="SG"), PLAIN[:-1] + ",}",
             _plain(identifiers=[{"kind": "phone", "value": "+86 13912345678"}]),
             _plain(reporter="渠道", category="Investment Scam")]  # fmt: skip
    handed: list[int] = []
    events: list[tuple[Any, ...]] = []
    block = "\n".join(lines).encode()
    taken = _rowscan.scan(block, 1, _scan_ctx(OPTS), events, lambda ln, raw: handed.append(ln))
    assert (taken, [ev[1] for ev in events], handed) == (4, [1, 2, 5, 6], [3, 4])


_text = st.sampled_from(
    ["", "x", "u1", "渠道", "report", "public", "police", "feed", "confirmed", "rejected",
     "investment", "Investment", "2026-11-01T09:30:00Z", "2026-02-30T00:00:00Z", "9123 4567",
     "+852 6123 4567", "852-9123-4567", "+86 13912345678", "a@b.example",
     "http://x.example/a", "facebook.com", "00ab00ab00ab00ab", "\\u0041", '\\"', "e\u0301"]
)  # fmt: skip
_scalar = st.one_of(_text, st.none(), st.booleans(), st.integers(), st.floats())
_ident = st.one_of(
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["phone", "email", "url", "Phone", "nope", ""]), "value": _text},
        optional={"region": st.sampled_from(["SG", "HK", "Mars"]), "x": _scalar},
    ),
    _text,
    _scalar,
)
_row = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["report", "allow", "delist", ""]),
        "id": st.one_of(_text, st.integers()),
        "source": st.one_of(st.sampled_from(["public", "police", "feed", "telecom", "bogus", ""]),
                            _scalar),
        "status": st.sampled_from(["confirmed", "unverified", "rejected", "maybe", ""]),
        "reported_at": st.one_of(
            st.sampled_from(["2026-11-01T09:30:00Z", "2026-11-01", "2026-11-30T00:00:00Z",
                             "1999-01-01T00:00:00Z", "bad", ""]),
            _scalar),
        "reporter": _scalar,
        "reporter_hash": st.sampled_from(["00ab" * 8, "zz", "", None]),
        "category": _scalar,
        "provider": _scalar,
        "region": st.sampled_from(["SG", "hk"]),
        "note": st.one_of(_scalar, st.lists(_scalar, max_size=2)),
        "identifiers": st.one_of(st.lists(_ident, max_size=3), _scalar),
    },
)  # fmt: skip


def _line(row: dict[str, Any], style: int, cut: int) -> str:
    """``row`` as one JSON line in one of several spellings, some of them not JSON at all."""
    text = json.dumps(row, ensure_ascii=style % 2 == 0, separators=(", ", ": "))
    if style == 2:
        text = json.dumps(row, separators=(",", ":"))
    elif style == 3:
        text = text.replace("\\\\", "\\")  # unescapes: some lines are no longer JSON
    elif style == 4 and cut:
        text = text[: cut % (len(text) + 1)]  # truncated
    elif style == 5:
        text = text[:-1] + ', "source": "police"}' if len(text) > 2 else text  # duplicate
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_row, st.integers(0, 7), st.integers(0, 400)), min_size=1, max_size=8))
def test_random_lines_give_the_same_on_every_path(rows: list[Any]) -> None:
    block = "\n".join(_line(r, style, cut) for r, style, cut in rows).encode()
    _all_paths(block)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=120), st.integers(0, len(PLAIN)))
def test_bytes_spliced_into_a_plain_line(junk: bytes, at: int) -> None:
    raw = PLAIN.encode()
    _all_paths(raw[:at] + junk + raw[at:] + b"\n" + raw)


@pytest.mark.parametrize("region", ["SG", None], ids=["region", "no-region"])
def test_region_option(region: str | None) -> None:
    """``--region``: local numbers are that country's on every path (the scanner is not used
    then; before this the Python fast path read them as Hong Kong numbers)."""
    opts = AdapterOptions(reporter_key=b"k", as_of=AS_OF, region=region)
    line = _plain(identifiers=[{"kind": "phone", "value": "6391 2745"}])
    res = _all_paths((line + "\n").encode(), opts)
    assert res.events[0][7] == ("phone:+6563912745" if region else "phone:+85263912745",)


def test_without_the_extension_the_python_path_gives_the_same() -> None:
    """A process where ``_rowscan`` cannot be imported (built without a C compiler) reads
    with the Python fast path and gives the events of this one."""
    lines = [PLAIN, _plain(source="police"), _plain(region="SG"), "not json"]
    block = ("\n".join(lines) + "\n").encode()
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["scameter.ingest._rowscan"] = None  # as if built without a compiler
        from scameter.ingest.adapters import AdapterOptions
        from scameter.ingest.worker import ROWSCAN_PATH, process_chunk
        res = process_chunk("jsonl", AdapterOptions(reporter_key=b"k", as_of={AS_OF},
                            provider="file.jsonl"), "f", 7, {block!r})
        print(repr((ROWSCAN_PATH, res.events, res.rejects, res.rows, res.rejected_rows)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    here = process_chunk("jsonl", OPTS, "f", 7, block)
    assert out.strip() == repr(("python", here.events, here.rejects, here.rows, here.rejected_rows))


_SPELLINGS = [
    "{}", "{0} {1}", "{0}-{1}", "+852{}", "+852 {0} {1}", "852-{0}-{1}", "852{}",
    "(852) {0} {1}", "+852-{0}-{1}", "({0}) {1}", "+{}", "85 2{}", "{} ",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**8 - 1), st.sampled_from(_SPELLINGS)), min_size=1,
                max_size=6))  # fmt: skip
def test_typed_numbers_give_the_normaliser_s_keys(numbers: list[tuple[int, str]]) -> None:
    """Every spelling of every 8-digit number (valid, unallocated, leading 0, ...): the
    scanner keys the typed HK numbers with a proven-valid prefix itself and asks Python for
    the others; the keys must be the fast path's either way."""
    lines = []
    for n, spelling in numbers:
        d = f"{n:08d}"
        value = spelling.format(d[:4], d[4:]) if "{0}" in spelling else spelling.format(d)
        lines.append(_plain(identifiers=[{"kind": "phone", "value": value}]))
    _all_paths(("\n".join(lines) + "\n").encode())


def test_many_distinct_kinds_and_values_stay_exact() -> None:
    """Kinds and values come from the input: past the caches' bounds (which clear them)
    the results are still the other paths'."""
    lines = [
        _plain(identifiers=[{"kind": f"kind{i % 100}", "value": f"9123 {i:04d}"}])
        for i in range(300)
    ] + [_plain(identifiers=[{"kind": "email", "value": f"a{i}@x.example"}]) for i in range(50)]
    _all_paths(("\n".join(lines) + "\n").encode())
