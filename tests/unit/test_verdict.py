"""Reason codes carry their sentences; ``Verdict.to_dict`` follows the dataclass's fields."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from scameter.verdict import (
    DERIVED_NOUNS,
    DERIVED_WHERE,
    LANGUAGES,
    LEVEL_LABELS,
    REASON_TEXT,
    Language,
    Level,
    Reason,
    ReasonCode,
    Sentences,
    SimilarTo,
    Verdict,
    derived_detail,
    in_language,
    parse_language,
)

CODES = list(ReasonCode)


@pytest.mark.parametrize("code", CODES, ids=[c.value for c in CODES])
def test_every_reason_has_an_english_sentence(code: ReasonCode) -> None:
    text = code.sentences.get(Language.EN)
    assert text is not None
    assert text == text.strip()
    assert text[:1].isupper(), "a sentence starts with a capital"
    assert text.endswith("."), "a sentence ends with a full stop"


def test_every_reason_has_a_sentence_in_every_supported_language() -> None:
    missing = [
        f"{code.value} ({language.value})"
        for code in ReasonCode
        for language in LANGUAGES
        if not code.sentences.get(language)
    ]
    assert not missing, "reasons without a sentence: " + ", ".join(missing)


def test_sentences_have_one_field_per_language() -> None:
    # Sentences.get finds a language's field by name: the two lists must not drift apart.
    assert [f.name for f in dataclasses.fields(Sentences)] == [
        lang.name.lower() for lang in Language
    ]
    assert tuple(Language) == LANGUAGES
    assert Language.ZH_HANT.value == "zh-Hant"


def test_reason_of_uses_the_english_sentence() -> None:
    code = ReasonCode.NEAR_MATCH
    assert Reason.of(code) == Reason(code, code.sentences.en)
    assert Reason.of(code, "Similar to evil.example.").text == (
        "Very similar to an identifier linked to scams. Similar to evil.example."
    )
    assert REASON_TEXT[code] == code.sentences.en
    assert set(REASON_TEXT) == set(ReasonCode)


def test_codes_are_looked_up_by_value() -> None:
    assert ReasonCode("police_confirmed") is ReasonCode.POLICE_CONFIRMED
    assert ReasonCode.POLICE_CONFIRMED.value == "police_confirmed"
    assert isinstance(ReasonCode.POLICE_CONFIRMED, str)
    with pytest.raises(ValueError, match="not_a_code"):
        ReasonCode("not_a_code")


FULL = Verdict(
    input="evil-shap.com",
    kind="domain",
    canonical="evil-shap.com",
    level=Level.SUSPICIOUS,
    reasons=(Reason.of(ReasonCode.NEAR_MATCH, "Similar to evil-shop.com."),),
    categories=("shopping", "phishing"),
    report_count=2,
    reporters=1,
    first_reported="2026-01-01T00:00:00Z",
    last_reported="2026-02-01T00:00:00Z",
    matched="evil-shop.com/",
    similar_to=SimilarTo("evil-shop.com", 1, Level.HIGH_RISK),
    cluster_size=3,
    cluster_worst=Level.HIGH_RISK,
    verified_owner=None,
    snapshot="20261101T000000Z-abc",
    extra={"not": "in the JSON"},
    case_ids=("app-2", "app-1"),
    case_count=3,
)


def test_to_dict_is_every_field_but_error_and_extra_in_order() -> None:
    d = FULL.to_dict()
    names = [f.name for f in dataclasses.fields(Verdict)]
    assert list(d) == [n for n in names if n not in ("error", "extra")]
    assert d == {
        "input": "evil-shap.com",
        "kind": "domain",
        "canonical": "evil-shap.com",
        "level": "suspicious",
        "reasons": [
            {
                "code": "near_match",
                "text": "Very similar to an identifier linked to scams. Similar to evil-shop.com.",
            }
        ],
        "categories": ["shopping", "phishing"],
        "report_count": 2,
        "reporters": 1,
        "first_reported": "2026-01-01T00:00:00Z",
        "last_reported": "2026-02-01T00:00:00Z",
        "matched": "evil-shop.com/",
        "similar_to": {"canonical": "evil-shop.com", "distance": 1, "level": "high_risk"},
        "cluster_size": 3,
        "cluster_worst": "high_risk",
        "verified_owner": None,
        "snapshot": "20261101T000000Z-abc",
        "case_ids": ["app-2", "app-1"],
        "case_count": 3,
    }
    # Plain JSON data: enums became their values, not str subclasses.
    assert type(d["level"]) is str
    assert type(d["reasons"][0]["code"]) is str
    assert json.loads(json.dumps(d)) == d


def test_to_dict_of_an_invalid_input() -> None:
    v = Verdict.invalid("12", "invalid phone: too short", "phone")
    assert v.to_dict() == {"input": "12", "kind": "phone", "error": "invalid phone: too short"}


def test_to_dict_leaves_out_case_ids_not_read() -> None:
    d = dataclasses.replace(FULL, case_ids=(), case_count=0).to_dict()
    assert "case_ids" not in d
    assert "case_count" not in d


def test_to_dict_of_no_record() -> None:
    d = Verdict("x", None, None, Level.NO_RECORD).to_dict()
    assert d["similar_to"] is None
    assert d["cluster_worst"] is None
    assert d["reasons"] == []
    assert d["categories"] == []


@pytest.mark.parametrize(
    ("tag", "want"),
    [("", Language.EN), ("en", Language.EN), ("EN-hk", Language.EN), ("zh-Hant", Language.ZH_HANT),
     ("zh_HK", Language.ZH_HANT), ("zh-TW", Language.ZH_HANT)],
)  # fmt: skip
def test_parse_language(tag: str, want: Language) -> None:
    assert parse_language(tag) is want


def test_parse_language_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'; one of: en, zh-Hant"):
        parse_language("fr")


def test_in_language_swaps_sentences_and_known_details() -> None:
    v = Verdict(
        "x",
        "domain",
        "x",
        Level.SUSPICIOUS,
        reasons=(
            Reason.of(ReasonCode.NEAR_MATCH, "Similar to evil.example."),
            Reason.of(ReasonCode.FEED_LISTING, "an unknown detail"),
            Reason.of(ReasonCode.PUBLIC_REPORTS),
        ),
    )
    assert in_language(v, Language.EN) is v
    zh = in_language(v, Language.ZH_HANT)
    assert [r.code for r in zh.reasons] == [r.code for r in v.reasons]
    assert [r.text for r in zh.reasons] == [
        "與涉及詐騙的資料非常相似。與 evil.example 相似。",
        "被網絡釣魚或詐騙情報來源列出。an unknown detail",
        "曾被市民舉報。",
    ]


@pytest.mark.parametrize("noun", sorted(DERIVED_NOUNS))
@pytest.mark.parametrize("where", sorted(DERIVED_WHERE))
@pytest.mark.parametrize("level", [Level.POSSIBLE, Level.SUSPICIOUS, Level.HIGH_RISK])
def test_every_derived_match_detail_has_its_traditional_chinese(
    noun: str, where: str, level: Level
) -> None:
    detail = derived_detail(noun, "x.example", where, level)
    v = Verdict("x", where, "x", level, (Reason.of(ReasonCode.DERIVED_MATCH, detail),))
    text = in_language(v, Language.ZH_HANT).reasons[0].text
    zh_noun, zh_where = DERIVED_NOUNS[noun][1], DERIVED_WHERE[where][1]
    assert text.endswith(f"{zh_where}{zh_noun} x.example 屬{LEVEL_LABELS[level][1]}。")
    assert not re.search(r"\b(The|is|this)\b", text)
