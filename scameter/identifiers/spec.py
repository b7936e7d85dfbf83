"""The declaration of one identifier kind: everything the rest of the engine needs to know.

Responsibility: the :class:`KindSpec` value. Each kind module declares exactly one, as its
``SPEC`` (``phone.SPEC``, ``url.SPEC``, ...), next to the normaliser it names. The registry
(:mod:`scameter.identifiers.registry`) collects the specs and derives every per-kind table
from them: the key tags, the normaliser dispatch, the detection hints, the CLI's kind choices
and CSV column hints. Nothing else in the package lists the kinds.

Invariants (the registry checks them when the package is imported; tests check them again):

* ``tag`` is one byte, 0x01..0xFF, unique among kinds and never an internal namespace tag
  (:data:`scameter.identifiers.model.NAMESPACE_TAGS`). It is prefixed to the canonical value
  before hashing, so it is part of the on-disk format: a kind's tag never changes, and a retired
  tag is never given to another kind.
* ``normalize`` is pure and idempotent, returns an :class:`Identifier` of ``kind`` and raises
  only :class:`~scameter.errors.InvalidIdentifier` for bad input.
* The detection hints are facts about this kind alone (a word, a host, a shape that names it);
  how kinds compete for ambiguous input (``12345678``: phone or FPS ID?) is decided in
  :mod:`scameter.identifiers.detect`, which sees them all. No two kinds claim the same lead,
  prefix, link host or column hint, and no kind's lead starts another kind's lead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scameter.identifiers.model import Identifier, Kind


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One identifier kind, declared once in its own module.

    * ``kind``: the :class:`Kind` member; its value (``"phone"``) is the kind's name on every
      wire and in every file.
    * ``tag``: the key's tag byte (see the module docstring: never renumber).
    * ``normalize``: raw text -> canonical :class:`Identifier` of this kind.
    * ``display_name``: how a person calls it (``"phone number"``), for texts and documents.
    * ``column_hints``: lower-case CSV header names that hold values of this kind; ``scameter
      bulk`` looks for them (after the generic ``value``, ``identifier``, ``input``) to pick
      the value column when ``--column`` is not given.
    * ``detect_leads``: for a kind whose spelling alone names it, the strings only its values
      start with (``0x`` and ``0X``: EVM wallets); ``detect`` answers input starting so with
      this kind alone, before any other rule.
    * ``detect_prefixes``: lower-case words that, written as ``word:rest``, name this kind
      (``telegram:``, ``btc:``, ``mailto:``).
    * ``detect_link_hosts``: hosts (``www.`` and similar dropped) whose links name an identifier
      of this kind besides the URL itself (``t.me/handle`` is a Telegram account).
    """

    kind: Kind
    tag: int
    normalize: Callable[[str], Identifier]
    display_name: str
    column_hints: tuple[str, ...] = ()
    detect_leads: tuple[str, ...] = ()
    detect_prefixes: frozenset[str] = frozenset()
    detect_link_hosts: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        """The kind's name: ``"phone"``, ``"fps_id"``, ..."""
        return self.kind.value

    @property
    def tag_byte(self) -> bytes:
        """The tag as the one byte prefixed to the canonical value in the key."""
        return bytes((self.tag,))


__all__ = ["KindSpec"]
