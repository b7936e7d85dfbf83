"""Identifier value types and the stable 8-byte key.

Responsibility: the :class:`Kind` enumeration, the :class:`Identifier` value and the key
function every other layer uses to find an identifier in a snapshot.

Key (documented byte for byte in ``docs/identifiers.md``, pinned by ``tests/golden``)::

    key = xxh3_64( tag || utf8(canonical) )  as 8 bytes, big-endian

where ``tag`` is one fixed byte per kind (:data:`KIND_TAGS`) or per internal namespace
(:data:`NAMESPACE_URL_EXPRESSION` for Safe Browsing lookup expressions). ``xxhash``'s
``digest()`` is already the canonical big-endian form, so no byte swapping happens here.
Tags are part of the on-disk format: never renumber one.

Why :class:`Kind` is written out here although each kind is declared by the ``SPEC`` in its own
module: ``mypy --strict`` needs the members as literal class attributes to type ``Kind.PHONE``
across the code base, and an enum built at run time from the registry would make every such use
an error. So the enum stays a static list, and :mod:`scameter.identifiers.registry` refuses to
import (and ``tests/unit/identifiers/test_registry.py`` fails) when it and the specs disagree.

Why :data:`KIND_TAGS` starts empty: the tags are declared in the kind modules, which import this
module for :class:`Kind` and :class:`Identifier`, so this module cannot import them back. The
registry fills the table once, when the package is imported. Importing any module of the package
imports the package first, so the table is complete before anyone can compute a key; no kind
module computes one at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import xxhash

_xxh3_64_digest = xxhash.xxh3_64_digest


class Kind(StrEnum):
    """The identifier kinds Scameter answers for, in tag order.

    One member per ``SPEC`` of :mod:`scameter.identifiers.registry`, in the same order (checked
    when the registry is imported); see the module docstring for why it is written out.
    """

    PHONE = "phone"
    URL = "url"
    DOMAIN = "domain"
    EMAIL = "email"
    FPS_ID = "fps_id"
    BANK_ACCOUNT = "bank_account"
    PLATFORM_ACCOUNT = "platform_account"
    CRYPTO_WALLET = "crypto_wallet"
    IP = "ip"
    SMS_SENDER = "sms_sender"


#: One byte per kind, prefixed to the canonical value before hashing. Part of the format.
#: Filled from the kinds' specs (``SPEC.tag`` in each kind module) by the registry when the
#: package is imported (see the module docstring); read-only everywhere else.
KIND_TAGS: Final[dict[Kind, bytes]] = {}

#: Namespace tag for Safe Browsing lookup expressions (``evil.example/``, ``bit.ly/abc``).
NAMESPACE_URL_EXPRESSION: Final = b"\x10"

#: Tag bytes of the internal namespaces; no kind may take one.
NAMESPACE_TAGS: Final = frozenset(NAMESPACE_URL_EXPRESSION)


@dataclass(frozen=True, slots=True)
class Identifier:
    """A canonical identifier.

    ``value`` is the canonical form for ``kind`` (see ``docs/identifiers.md``). ``valid`` is
    ``False`` only for values that are well-formed but not known to be allocated, such as a
    phone number of possible length in an unallocated range: scammers use those, so they are
    kept and flagged rather than rejected.
    """

    kind: Kind
    value: str
    valid: bool = True

    @property
    def key(self) -> bytes:
        """The 8-byte big-endian xxh3_64 key of this identifier."""
        return _xxh3_64_digest(KIND_TAGS[self.kind] + self.value.encode("utf-8"))

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


# The frozen dataclass __init__ sets each field through object.__setattr__ (about 4,500
# instructions for three fields, callgrind): lookups that make an identifier per call use
# make_identifier, which fills the slots of a writable twin and then sets ``__class__`` to
# Identifier (CPython allows it between classes of identical slot layout; verdict.make_verdict
# does the same). The result is an ordinary Identifier, equal and hashing alike.
_new = object.__new__


class _UnfrozenIdentifier:
    __slots__ = Identifier.__slots__


def make_identifier(kind: Kind, value: str, valid: bool = True) -> Identifier:
    """``Identifier(kind, value, valid)``, without the dataclass ``__init__`` (see above)."""
    ident: Any = _new(_UnfrozenIdentifier)
    ident.kind = kind
    ident.value = value
    ident.valid = valid
    ident.__class__ = Identifier
    return ident  # type: ignore[no-any-return]


def identifier_key(kind: Kind, canonical: str) -> bytes:
    """Key of an already-canonical value of ``kind``: 8 bytes, big-endian xxh3_64."""
    return _xxh3_64_digest(KIND_TAGS[kind] + canonical.encode("utf-8"))


def expression_key(expression: str) -> bytes:
    """Key of a Safe Browsing lookup expression such as ``evil.example/``."""
    return _xxh3_64_digest(NAMESPACE_URL_EXPRESSION + expression.encode("utf-8"))
