"""``bulk``'s hand-built CSV is exactly what ``csv.writer`` writes, and chunks keep whole rows.

The fast paths of :mod:`scameter.cli.bulk` and :func:`scameter.cli.output.bulk_rows` join
cells without the ``csv`` module when quoting is provably unnecessary; these tests pin them,
byte for byte, to the reference (``csv.reader`` + ``csv.writer`` + :func:`bulk_values`), with
values chosen to need quoting (commas, quotes, newlines, carriage returns) and without.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections import Counter
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.cli import bulk
from scameter.cli.output import bulk_cells, bulk_rows, bulk_values, csv_cell, neutral_cell
from scameter.verdict import Level, Reason, ReasonCode, SimilarTo, Verdict

_NR = (Reason.of(ReasonCode.NO_RECORD),)

VERDICTS = {
    "no-record": Verdict("6254 8670", "phone", "+85262548670", Level.NO_RECORD, _NR),
    "no-record-comma": Verdict("a,b", "url", "http://a.hk/x,y", Level.NO_RECORD, _NR),
    "no-record-quote": Verdict('a"b', "url", 'http://a.hk/"q"', Level.NO_RECORD, _NR),
    "no-record-newline": Verdict("x", "handle", "a\nb", Level.NO_RECORD, _NR),
    "no-record-cr": Verdict("x", "handle", "a\rb", Level.NO_RECORD, _NR),
    "no-record-no-kind": Verdict("?", None, None, Level.NO_RECORD, _NR),
    "no-reasons": Verdict("1", "phone", "+8521", Level.NO_RECORD),
    "listed": Verdict(
        "6391 2745",
        "phone",
        "+85263912745",
        Level.HIGH_RISK,
        (Reason.of(ReasonCode.POLICE_CONFIRMED), Reason.of(ReasonCode.SPOOF_ADVICE)),
        ("impersonation_of_officials", "investment"),
        report_count=12,
        matched="+85263912745",
    ),
    "near": Verdict(
        "hsbc-secure.co",
        "domain",
        "hsbc-secure.co",
        Level.POSSIBLE,
        (Reason.of(ReasonCode.NO_RECORD),),
        similar_to=SimilarTo("hsbc-secure.com", 2, Level.HIGH_RISK),
    ),
    "owner-comma": Verdict(
        "18222", "phone", "+85218222", Level.VERIFIED, (), verified_owner='Post, "HK"'
    ),
    "invalid-comma": Verdict.invalid("x,y", 'not a number: "x,y", too short', "phone"),
    "invalid-newline": Verdict.invalid("", "line 3\nbroken"),
}


def _reference_row(cells: Sequence[object]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


@given(st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t\x00\u2028'))))
def test_csv_cell_matches_csv_writer(text: str) -> None:
    assert f"{csv_cell(text)},x\n" == _reference_row([text, "x"])


@pytest.mark.parametrize("name", list(VERDICTS))
def test_bulk_cells_match_csv_writer(name: str) -> None:
    v = VERDICTS[name]
    assert f"x,{bulk_cells(v)}\n" == _reference_row(["x", *bulk_values(v)])


@given(
    st.lists(st.tuples(st.text(alphabet="ab ,\"'"), st.sampled_from(sorted(VERDICTS))), max_size=8)
)
def test_bulk_rows_match_csv_writer(rows: list[tuple[str, str]]) -> None:
    heads = [csv_cell(head) for head, _ in rows]
    verdicts = [VERDICTS[name] for _, name in rows]
    expected = "".join(_reference_row([head, *bulk_values(VERDICTS[n])]) for head, n in rows)
    assert bulk_rows(heads, verdicts) == expected


class _Table:
    """A backend answering from VERDICTS by position: what the CLI does with a verdict is
    under test here, not the lookup."""

    def __init__(self) -> None:
        self.names = sorted(VERDICTS)

    def check_many(self, raws: Sequence[str], kind: str | None) -> list[Verdict]:
        return [VERDICTS[self.names[sum(map(ord, raw)) % len(self.names)]] for raw in raws]

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _table() -> Iterator[None]:
    bulk._ProcessState.backend = _Table()  # type: ignore[assignment]
    try:
        yield
    finally:
        bulk._ProcessState.backend = None


def _reference_csv(data: str, col: int, width: int) -> tuple[str, Counter[str]]:
    rows = list(csv.reader(io.StringIO(data, newline="")))
    verdicts = _Table().check_many([r[col].strip() if col < len(r) else "" for r in rows], None)
    buf, counts = io.StringIO(), Counter[str]()
    writer = csv.writer(buf, lineterminator="\n")
    for row, verdict in zip(rows, verdicts, strict=True):
        v = verdict if col < len(row) else Verdict.invalid("", f"row has no column {col + 1}")
        counts["invalid" if v.error is not None else v.level] += 1
        writer.writerow([*row, *[""] * (width - len(row)), *bulk_values(v)])
    return buf.getvalue(), counts


def _reference_txt(lines: list[str]) -> tuple[str, Counter[str]]:
    verdicts = _Table().check_many([line.strip() for line in lines], None)
    buf, counts = io.StringIO(), Counter[str]()
    writer = csv.writer(buf, lineterminator="\n")
    for line, v in zip(lines, verdicts, strict=True):
        counts["invalid" if v.error is not None else v.level] += 1
        writer.writerow([neutral_cell(line), *bulk_values(v)])
    return buf.getvalue(), counts


_TEXT = st.text(alphabet=st.sampled_from(list('a1 ,"\r\t+')), max_size=12)


@settings(max_examples=60)
@given(st.lists(_TEXT, min_size=1, max_size=10), st.booleans())  # chunks are never empty
def test_txt_chunk_matches_reference(lines: list[str], crlf: bool) -> None:
    end = "\r\n" if crlf else "\n"
    data = "".join(line + end for line in lines).encode()
    with _table():
        result = bulk.process(bulk.Job("txt", data, None, None, 1))
    # _lines drops one "\r" before each "\n", as the reference reader of text lines would.
    expected, counts = _reference_txt(bulk._lines(data, "utf-8"))
    assert (result.text, result.rows, result.counts) == (expected, len(lines), dict(counts))


@settings(max_examples=60)
@given(
    st.lists(st.lists(_TEXT.filter(lambda t: "\r" not in t), max_size=4), max_size=8),
    st.integers(0, 3),
    st.integers(1, 4),
)
def test_csv_chunk_matches_reference(rows: list[list[str]], col: int, width: int) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    data = buf.getvalue()
    with _table():
        result = bulk.process(bulk.Job("csv", data.encode(), col, None, 2, width))
    expected, counts = _reference_csv(data, col, width)
    assert (result.text, result.counts) == (expected, dict(counts))


@settings(max_examples=60)
@given(
    st.lists(st.text(alphabet='a,"\n', max_size=6), max_size=30),
    st.integers(1, 5),
    st.booleans(),
)
def test_chunks_keep_whole_rows(lines: list[str], size: int, csv_quotes: bool) -> None:
    data = "".join(line + "\n" for line in lines).encode()
    first = data[: data.find(b"\n") + 1]  # what run_bulk read to sniff the format
    chunks = list(bulk._chunks(io.BytesIO(data[len(first) :]), first, size, csv_quotes))
    parts = [chunk for chunk, _, _ in chunks]
    assert b"".join(parts) == data
    assert sum(n for _, n, _ in chunks) == data.count(b"\n")
    assert [read for _, _, read in chunks] == list(itertools.accumulate(map(len, parts)))
    for chunk, n, _ in chunks:
        assert chunk.endswith(b"\n")
        assert chunk.count(b"\n") == n
        if csv_quotes and n < size * bulk._MAX_CHUNK_FACTOR:
            assert chunk.count(b'"') % 2 == 0 or chunk is chunks[-1][0]
