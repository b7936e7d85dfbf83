"""The seeded SMS texts of the message benchmark: deterministic, about 300 characters, bilingual."""

from __future__ import annotations

from benchmarks import datagen
from scameter.identifiers import extract


def test_sms_messages_are_deterministic_and_sized() -> None:
    a = datagen.sms_messages(200, seed=7)
    assert datagen.sms_messages(200, seed=7) == a
    assert datagen.sms_messages(200, seed=8) != a
    assert {len(t) for t in a} == {300}
    assert any(any("\u4e00" <= c <= "\u9fff" for c in t) for t in a)  # Chinese
    assert any("Your" in t for t in a)  # English


def test_most_sms_messages_carry_identifiers_and_some_none() -> None:
    counts = [len(extract(t).identifiers()) for t in datagen.sms_messages(400, seed=3)]
    assert sum(1 for c in counts if c == 0) >= 400 // 8
    assert sum(counts) / len(counts) > 1
