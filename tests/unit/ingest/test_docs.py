"""Every policy setting and adapter is documented in docs/report-format.md."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from scameter.ingest import FORMATS, Policy

DOC = (Path(__file__).parents[3] / "docs" / "report-format.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [f.name for f in fields(Policy)])
def test_policy_setting_documented(name: str) -> None:
    assert f"| `{name}` |" in DOC


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_documented(fmt: str) -> None:
    assert f"| `{fmt}` |" in DOC
