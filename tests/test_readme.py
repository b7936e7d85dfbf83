"""The README's structure: the two quick-start lines ``.ci/run`` executes, and its doc links.

(Its examples are executed by Sybil, configured in the root ``conftest.py``.)
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_first_sh_block_is_the_two_quick_start_lines() -> None:
    match = re.search(r"```sh\n(.*?)```", README, re.S)
    assert match is not None
    lines = match.group(1).strip().splitlines()
    assert lines == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/scameter demo",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
    ]


def test_linked_docs_exist() -> None:
    links = re.findall(r"\]\((docs/[^)#]+)", README)
    assert len(links) >= 7
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert not missing, f"README links to missing files: {missing}"
