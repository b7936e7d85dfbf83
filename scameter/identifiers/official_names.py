"""Which banks and government bodies a message names: the data behind the sender rule.

Responsibility: :func:`bundled_names` loads ``scameter/data/official_names.jsonl`` (one row per
entity: its English and Chinese names as they appear in messages, its sector, the public pages
that show each name) and :meth:`OfficialNames.named_in` lists the entities a text names. The
sender rule (``scameter.index.message``) then asks whether such a message came from a
registered ``#`` sender id: in Hong Kong, after OFCA's SMS Sender Registration Scheme (2023),
a bank or a government department texts only from its registered ``#`` ids, so a message that
claims one of them from anything else is a strong scam sign.

Matching is on the folded text: the message is cleaned as for extraction (controls and
invisible characters removed, NFKC, so full-width ``ＨＳＢＣ`` and ``中國銀行（香港）`` fold to
``HSBC`` and ``中國銀行(香港)``), then case-folded. A Latin name must stand between non-letters
(``HSBC`` in ``hsbc-secure-login.com`` counts, ``Citibank`` in ``Citibanking`` does not), and
the spaces inside it may be missing or written ``-``/``_`` (``hkpost``, ``Hong-Kong Police``).
Chinese names are matched as substrings: Chinese has no spaces to bound a word.

Invariants: pure after loading; never raises on any ``str``; results in order of first
appearance in the text, each entity once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from scameter.identifiers._textmap import clean

DATA_FILE: Final = "official_names.jsonl"


@dataclass(frozen=True, slots=True)
class OfficialEntity:
    """One bank or government body: its full name, sector and the names that mean it."""

    entity: str
    sector: str
    names: tuple[str, ...]


def _fold(text: str) -> str:
    return clean(text).text.casefold()


def _name_pattern(name: str) -> str:
    folded = _fold(name)
    if folded.isascii():
        words = [re.escape(w) for w in folded.split()]
        return r"(?<![a-z0-9])" + r"[\s\-_]*".join(words) + r"(?![a-z0-9])"
    return re.escape(folded)


class OfficialNames:
    """The entities of the names data and one compiled pattern each."""

    __slots__ = ("_patterns", "entities")

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        entities: list[OfficialEntity] = []
        for row in rows:
            names = tuple(str(n) for n in row["names"] if str(n).strip())
            if not names:
                raise ValueError(f"official name row {row.get('entity')!r} has no names")
            entities.append(OfficialEntity(str(row["entity"]), str(row["sector"]), names))
        self.entities: tuple[OfficialEntity, ...] = tuple(entities)
        self._patterns = tuple(
            re.compile("|".join(_name_pattern(n) for n in e.names)) for e in entities
        )

    def named_in(self, text: str) -> tuple[OfficialEntity, ...]:
        """The entities ``text`` names, in order of first appearance."""
        if not isinstance(text, str) or not text:
            return ()
        folded = _fold(text)
        hits: list[tuple[int, int]] = []
        for i, pattern in enumerate(self._patterns):
            m = pattern.search(folded)
            if m is not None:
                hits.append((m.start(), i))
        return tuple(self.entities[i] for _, i in sorted(hits))


@lru_cache(maxsize=1)
def bundled_names() -> OfficialNames:
    """The names shipped in ``scameter/data/official_names.jsonl`` (loaded once)."""
    text = resources.files("scameter").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return OfficialNames(json.loads(line) for line in text.splitlines() if line.strip())


__all__ = ["DATA_FILE", "OfficialEntity", "OfficialNames", "bundled_names"]
