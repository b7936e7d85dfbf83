"""Golden file of canonical forms and keys: fails when either changes.

``identifiers.tsv`` holds (input, kind, canonical, key hex). A failure here means a canonical
form or the key function changed, which silently orphans every snapshot already built. If the
change is deliberate, run ``python -m tests.golden.regen_identifiers`` and explain it in the
commit. The key is also recomputed from its byte-level definition (``docs/identifiers.md``),
independently of :mod:`scameter.identifiers.model`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import xxhash

from scameter.identifiers import KIND_TAGS, Kind, normalize

GOLDEN = Path(__file__).with_name("identifiers.tsv")


def _load() -> list[tuple[str, str, str, str]]:
    out = []
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        raw, kind, canonical, key_hex = line.split("\t")
        out.append((raw, kind, canonical, key_hex))
    return out


ROWS = _load()


def test_every_kind_is_pinned() -> None:
    assert {row[1] for row in ROWS} == {k.value for k in Kind}


@pytest.mark.parametrize(
    ("raw", "kind", "canonical", "key_hex"), ROWS, ids=[f"{r[1]}:{r[0]}" for r in ROWS]
)
def test_canonical_form_and_key_are_unchanged(
    raw: str, kind: str, canonical: str, key_hex: str
) -> None:
    ident = normalize(kind, raw)
    assert ident.value == canonical
    assert ident.key.hex() == key_hex
    # The byte-level definition: xxh3_64 over (1 tag byte || UTF-8 canonical), big-endian.
    tag = KIND_TAGS[Kind(kind)]
    expected = xxhash.xxh3_64_intdigest(tag + canonical.encode("utf-8")).to_bytes(8, "big")
    assert expected.hex() == key_hex


def test_kind_tags_are_unchanged() -> None:
    assert {k.value: t.hex() for k, t in KIND_TAGS.items()} == {
        "phone": "01",
        "url": "02",
        "domain": "03",
        "email": "04",
        "fps_id": "05",
        "bank_account": "06",
        "platform_account": "07",
        "crypto_wallet": "08",
        "ip": "09",
        "sms_sender": "0a",
    }


def test_regen_script_reproduces_the_file() -> None:
    from tests.golden.regen_identifiers import render

    assert render() == GOLDEN.read_text(encoding="utf-8")
