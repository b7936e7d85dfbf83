"""Outside text is neutralised: visible() on terminals, OWASP formula neutralisation in CSV;
formula and control-character inputs are not identifiers."""

from __future__ import annotations

import pytest

from scameter.cli.output import neutral_cell, render_table, visible
from scameter.identifiers import detect
from scameter.verdict import Verdict


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-2+3", "'-2+3"),
        ("+85291234567", "+85291234567"),
        ("-1.5", "-1.5"),
        ("plain", "plain"),
        ("", ""),
    ],
    ids=["equals", "at", "tab", "cr", "minus-formula", "e164", "number", "plain", "empty"],
)
def test_neutral_cell(cell: str, expected: str) -> None:
    assert neutral_cell(cell) == expected


def test_visible_escapes() -> None:
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("x\u202ey") == "x\\u202ey"
    assert visible("\x9b31m") == "\\x9b31m"
    assert visible("正常 text") == "正常 text"


def test_table_never_prints_raw_escapes() -> None:
    v = Verdict.invalid("\x1b]0;pwned\x07", "cannot tell what kind of identifier this is")
    out = render_table([v], colour=False)
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out


@pytest.mark.parametrize("raw", ['=cmd|"/c calc"!A1', "\x1b[2J", "=+-@", "evil.com\x1b[0m"])
def test_formula_and_control_inputs_are_not_identifiers(raw: str) -> None:
    assert detect(raw) == []
