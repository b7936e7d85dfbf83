"""Policy defaults, TOML loading and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scameter.errors import PolicyError
from scameter.ingest import Policy, load_policy
from scameter.verdict import Level


def test_defaults_follow_design_section_5() -> None:
    p = load_policy(None)
    assert p == Policy()
    assert p.window_days == 180
    assert (p.public_threshold_suspicious, p.public_threshold_possible) == (3, 1)
    assert p.police_confirmed is Level.HIGH_RISK
    assert p.partner_confirmed is Level.HIGH_RISK
    assert p.feed_level is Level.SUSPICIOUS
    assert p.to_dict()["police_confirmed"] == "high_risk"


def test_toml_overrides(tmp_path: Path) -> None:
    f = tmp_path / "policy.toml"
    f.write_text(
        'window_days = 90\nfeed_level = "possible"\nextra_top_sites = ["example.org"]\n'
        "[index]\nnear_max_distance = 1\n",
        encoding="utf-8",
    )
    p = load_policy(f)
    assert p.window_days == 90
    assert p.feed_level is Level.POSSIBLE
    assert p.extra_top_sites == ("example.org",)
    assert p.to_dict()["index"] == {"near_max_distance": 1}
    assert hash(p) == hash(load_policy(f))


ERRORS = [
    ("unknown-key", "windw_days = 3\n", "unknown setting 'windw_days'"),
    ("wrong-type", 'window_days = "3"\n', "window_days must be int"),
    ("bool-is-not-int", "window_days = true\n", "window_days must be int"),
    ("unknown-level", 'feed_level = "red"\n', "unknown level 'red'"),
    ("verified-not-earnable", 'police_confirmed = "verified"\n', "reports can earn only"),
    ("zero-window", "window_days = 0\n", "at least 1"),
    ("thresholds-inverted", "public_threshold_possible = 5\n", "exceeds"),
    ("bad-toml", "window_days = \n", "not valid TOML"),
    ("list-of-non-strings", "extra_top_sites = [1]\n", "list of strings"),
]


@pytest.mark.parametrize(("text", "match"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_policy_errors_name_the_setting(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "policy.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=match):
        load_policy(f)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.toml")
