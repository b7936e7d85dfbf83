"""The official names behind the sender rule: the data file's shape and the matching rules."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from scameter.identifiers.official_names import DATA_FILE, OfficialNames, bundled_names

ROWS = [
    json.loads(line)
    for line in resources.files("scameter")
    .joinpath("data", DATA_FILE)
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


@pytest.mark.parametrize("row", ROWS, ids=[r["entity"] for r in ROWS])
def test_every_row_names_its_sources(row: dict[str, object]) -> None:
    assert set(row) == {"entity", "sector", "names", "sources", "checked"}
    assert row["sector"] in {"bank", "government", "police", "regulator"}
    sources = row["sources"]
    assert isinstance(sources, list)
    assert sources
    assert all(isinstance(s, str) and s.startswith(("https://", "http://")) for s in sources)
    names = row["names"]
    assert isinstance(names, list)
    assert names
    assert all(isinstance(n, str) and n for n in names)


def test_the_issue_s_bodies_are_covered_in_english_and_chinese() -> None:
    names = bundled_names()
    for text in ("HSBC", "滙豐", "Bank of China (Hong Kong)", "中銀香港", "Hang Seng", "恒生",
                 "Standard Chartered", "GovHK", "香港政府", "HK Post", "香港郵政",
                 "Hong Kong Police", "香港警務處"):  # fmt: skip
        assert names.named_in(f"message from {text} today"), text


CASES = [
    ("【HK Post】Your parcel is held", ["Hongkong Post"]),
    ("【香港郵政】包裹", ["Hongkong Post"]),
    ("ＨＳＢＣ：your a/c is locked", ["HSBC"]),
    ("HS\u200bBC: verify now", ["HSBC"]),
    ("visit hsbc-secure-login.com", ["HSBC"]),
    ("中國銀行（香港）通知: 中銀香港", ["Bank of China (Hong Kong) Limited"]),
    ("hongkongpost.hk then HSBC", ["Hongkong Post", "HSBC"]),
    ("HSBC then hongkongpost.hk", ["HSBC", "Hongkong Post"]),
    ("Citibanking and hsbcx", []),
    ("dinner at 7?", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "want"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_named_in(text: str, want: list[str]) -> None:
    got = [e.entity for e in bundled_names().named_in(text)]
    assert len(got) == len(want)
    for entity, fragment in zip(got, want, strict=True):
        assert fragment in entity


def test_a_row_without_names_is_refused() -> None:
    with pytest.raises(ValueError, match="no names"):
        OfficialNames([{"entity": "X", "sector": "bank", "names": [" "]}])
