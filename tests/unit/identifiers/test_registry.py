"""The registry of kinds: one spec per kind, unique tags, and every list of kinds agrees with it.

The documents, the ``.proto`` comment and the CLI list the kinds too; these tests fail when one
of them names a kind the registry does not have, misses one, or gives a different tag, so a new
kind cannot be half-added.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scameter.cli.check import KIND_CHOICES
from scameter.identifiers import KIND_SPECS, KIND_TAGS, NORMALIZERS, SPEC_BY_KIND, Kind
from scameter.identifiers import registry as reg
from scameter.identifiers.model import NAMESPACE_TAGS
from scameter.identifiers.spec import KindSpec
from scameter.index import format as fmt

ROOT = Path(__file__).resolve().parents[3]
SPEC_IDS = [spec.name for spec in KIND_SPECS]


def test_the_enum_and_the_registry_agree() -> None:
    # Kind is written out for mypy (scameter/identifiers/model.py says why); this keeps it honest.
    assert [spec.kind for spec in KIND_SPECS] == list(Kind)
    assert reg.registry_problems(KIND_SPECS) == []


def test_tags_are_unique_single_bytes_outside_the_namespaces() -> None:
    tags = [spec.tag for spec in KIND_SPECS]
    assert len(set(tags)) == len(tags)
    assert all(0x01 <= tag <= 0xFF and tag not in NAMESPACE_TAGS for tag in tags)


@pytest.mark.parametrize("spec", KIND_SPECS, ids=SPEC_IDS)
def test_every_kind_has_its_spec_in_its_own_module(spec: KindSpec) -> None:
    assert SPEC_BY_KIND[spec.kind] is spec
    assert SPEC_BY_KIND[spec.name] is spec  # a plain string finds it too
    assert spec.display_name
    module = spec.normalize.__module__
    assert module.startswith("scameter.identifiers.")
    assert importlib.import_module(module).SPEC is spec


def test_derived_tables_follow_the_specs() -> None:
    assert list(KIND_TAGS.items()) == [(s.kind, bytes([s.tag])) for s in KIND_SPECS]
    assert dict(NORMALIZERS) == {s.kind: s.normalize for s in KIND_SPECS}
    assert dict(fmt.KIND_BY_TAG) == {s.tag: s.kind for s in KIND_SPECS}
    assert list(KIND_CHOICES) == [k.value for k in Kind]
    # bulk's column guess takes the first hint present: phone's before url's, and so on.
    hints = ["phone", "number", "url", "domain", "email", "fps_id", "account", "sms_sender"]
    assert list(reg.COLUMN_HINTS) == hints


def _spec(**changes: object) -> KindSpec:
    return dataclasses.replace(KIND_SPECS[0], **changes)  # type: ignore[arg-type]


BROKEN: list[tuple[str, tuple[KindSpec, ...], str]] = [
    ("missing kind", KIND_SPECS[:-1], "not the Kind enum's members"),
    ("reordered", (KIND_SPECS[1], KIND_SPECS[0], *KIND_SPECS[2:]), "not the Kind enum's members"),
    ("tag reused", (KIND_SPECS[0], _spec(kind=Kind.URL), *KIND_SPECS[2:]), "tag '0x01'"),
    ("tag too big", (_spec(tag=0x100), *KIND_SPECS[1:]), "not one byte"),
    ("tag zero", (_spec(tag=0), *KIND_SPECS[1:]), "not one byte"),
    ("namespace tag", (_spec(tag=0x10), *KIND_SPECS[1:]), "namespace tag"),
    (
        "lead claimed twice",
        (_spec(detect_leads=("0x",)), *KIND_SPECS[1:]),
        "detection lead '0x' (phone, crypto_wallet) claimed twice",
    ),
    (
        "lead starting another kind's lead",
        (_spec(detect_leads=("0",)), *KIND_SPECS[1:]),
        "detection lead '0' (phone) starts '0x' (crypto_wallet)",
    ),
    (
        "prefix claimed twice",
        (_spec(detect_prefixes=frozenset({"mailto"})), *KIND_SPECS[1:]),
        "detection prefix 'mailto'",
    ),
    (
        "link host claimed twice",
        (_spec(detect_link_hosts=frozenset({"t.me"})), *KIND_SPECS[1:]),
        "link host 't.me'",
    ),
    (
        "column hint claimed twice",
        (_spec(column_hints=("phone", "url")), *KIND_SPECS[1:]),
        "column hint 'url'",
    ),
]


@pytest.mark.parametrize(("specs", "problem"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_registry_is_reported(specs: tuple[KindSpec, ...], problem: str) -> None:
    assert any(problem in p for p in reg.registry_problems(specs)), reg.registry_problems(specs)


# --- the documents and the .proto comment list exactly the registered kinds ---


def _tables(path: Path) -> list[list[list[str]]]:
    """Every Markdown table of ``path`` as rows of cells (separator rows dropped)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        text = line.strip()
        if text.startswith("|"):
            cells = [c.strip() for c in text.strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def _table(path: Path, header: list[str]) -> list[list[str]]:
    """The body rows of the table of ``path`` whose header is ``header``."""
    found = [t[1:] for t in _tables(path) if t[0] == header]
    assert len(found) == 1, f"{path.name}: expected one table with header {header}"
    return found[0]


def _tag_rows(path: Path) -> dict[str, int]:
    rows = _table(path, ["kind", "tag"])
    tags = {row[0].strip("`"): int(row[1].strip("`"), 16) for row in rows}
    return {name: tag for name, tag in tags.items() if tag not in NAMESPACE_TAGS}


def _expected_tag_rows() -> str:
    return "\n".join(f"| {s.name} | `{s.tag:#04x}` |" for s in KIND_SPECS)


@pytest.mark.parametrize("doc", ["identifiers.md", "snapshot-format.md"])
def test_docs_list_exactly_the_registered_tags(doc: str) -> None:
    expected = {spec.name: spec.tag for spec in KIND_SPECS}
    assert _tag_rows(ROOT / "docs" / doc) == expected, (
        f"docs/{doc}: the kind/tag table should read\n{_expected_tag_rows()}"
    )


def test_identifiers_doc_has_one_row_per_kind() -> None:
    header = ["kind", "name", "canonical form", "example input -> canonical", "module"]
    rows = _table(ROOT / "docs" / "identifiers.md", header)
    found = [(r[0].strip("`"), r[1], r[4].strip("`")) for r in rows]
    expected = [
        (s.name, s.display_name, s.normalize.__module__.rsplit(".", 1)[1] + ".py")
        for s in KIND_SPECS
    ]
    assert found == expected


def test_proto_comment_lists_the_kinds() -> None:
    proto = (ROOT / "scameter" / "rpc" / "v1" / "scameter.proto").read_text(encoding="utf-8")
    comment = re.search(r"Identifier kinds travel as (.*?)an empty string", proto, re.S)
    assert comment is not None
    assert re.findall(r'"([a-z_]+)"', comment.group(1)) == [s.name for s in KIND_SPECS]


@pytest.mark.parametrize(
    "module", ["scameter.identifiers.model", "scameter.identifiers.phone", "scameter.index.format"]
)
def test_the_tag_table_is_complete_whichever_module_is_imported_first(module: str) -> None:
    # KIND_TAGS is filled by the registry when the package is imported (model.py says why);
    # importing any one module of the package must be enough, in a fresh interpreter.
    code = (
        f"import {module}\n"
        "from scameter.identifiers.model import KIND_TAGS, Kind, identifier_key\n"
        "assert list(KIND_TAGS) == list(Kind), KIND_TAGS\n"
        "print(identifier_key(Kind.PHONE, '+85291234567').hex())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "f170818cba991b7a"  # the golden key of docs/identifiers.md
