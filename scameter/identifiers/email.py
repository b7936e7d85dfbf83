"""E-mail addresses: ``local@domain`` with the domain in canonical (punycode) host form.

Canonical form: ``local@domain`` where ``domain`` is :func:`normalize_host` of the part after
the last ``@`` (UTS #46 + IDNA 2008 A-labels, lower case) and ``local`` is the local part
**lower-cased**.

Decisions (see ``docs/identifiers.md``):

* Case: RFC 5321 section 2.4 lets a receiving host treat the local part case-sensitively, but
  every large provider (Gmail, Outlook, Yahoo, QQ, 163, iCloud) ignores case, and reports copy
  addresses with random capitals. Missing a match costs more than the theoretical merge of two
  mailboxes differing only in case, so the local part is lower-cased.
* Provider-specific folding is *not* applied: Gmail's dot-insensitivity and ``+tag``
  sub-addressing are Gmail rules, not e-mail rules; applying them to other domains would merge
  distinct mailboxes, and a report should key on the address the scammer actually used.
* Syntax is the pragmatic subset people actually use: an RFC 5322 section 3.2.3 dot-atom local
  part (atext plus non-ASCII letters for RFC 6531 SMTPUTF8 addresses); quoted local parts,
  comments and IP-literal domains are rejected. Limits from RFC 5321 section 4.5.3.1: local
  part <= 64 octets; whole address <= 254 octets (the path limit of 256 minus the brackets).
* A ``mailto:`` prefix (RFC 6068) is dropped, with any ``?query``.
* The domain needs at least one dot: mail to a single-label host is not public e-mail.

Invariants: pure; idempotent; the value contains exactly one ``@``.
"""

from __future__ import annotations

import re
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers._text import fold
from scameter.identifiers.domain import normalize_host
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.spec import KindSpec

_KIND: Final = Kind.EMAIL
_MAX_LOCAL: Final = 64
_MAX_ADDRESS: Final = 254

# RFC 5322 section 3.2.3 atext, plus non-ASCII characters (RFC 6531 UTF8-non-ascii) except C1
# controls, surrogates and U+FFFD (the replacement character marks text that was not UTF-8).
_ATOM: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u00a0-\ud7ff\ue000-\ufffc\U00010000-\U0010ffff]+"
_DOT_ATOM_RE: Final = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")


def normalize_email(raw: str) -> Identifier:
    """Canonical ``email`` identifier of ``raw``; raises :class:`InvalidIdentifier`."""
    text = fold(raw)
    if text[:7].lower() == "mailto:":
        text = text[7:].split("?", 1)[0].strip()
    if not text:
        raise InvalidIdentifier(_KIND, "empty", raw)
    if len(text) > 4 * _MAX_ADDRESS:
        raise InvalidIdentifier(_KIND, f"longer than {_MAX_ADDRESS} characters", raw)
    local, at, domain = text.rpartition("@")
    if not at:
        raise InvalidIdentifier(_KIND, "no '@' between the local part and the domain", raw)
    if not local:
        raise InvalidIdentifier(_KIND, "nothing before the '@'", raw)
    if not domain:
        raise InvalidIdentifier(_KIND, "no domain after the '@'", raw)
    if "@" in local or '"' in local:
        raise InvalidIdentifier(_KIND, "quoted local parts and extra '@' are not supported", raw)
    if _DOT_ATOM_RE.fullmatch(local) is None or any(c.isspace() for c in local):
        raise InvalidIdentifier(
            _KIND, "the local part has a character not allowed there, or a misplaced dot", raw
        )
    local = local.lower()
    if len(local.encode("utf-8")) > _MAX_LOCAL:
        raise InvalidIdentifier(_KIND, f"the local part is longer than {_MAX_LOCAL} octets", raw)
    if domain.startswith("["):
        raise InvalidIdentifier(_KIND, "IP-literal domains are not supported", raw)
    try:
        host = normalize_host(domain)
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(_KIND, f"bad domain: {exc.reason}", raw) from None
    if "." not in host:
        raise InvalidIdentifier(_KIND, "the domain needs at least one dot", raw)
    value = f"{local}@{host}"
    if len(value.encode("utf-8")) > _MAX_ADDRESS:
        raise InvalidIdentifier(_KIND, f"longer than {_MAX_ADDRESS} octets", raw)
    return Identifier(_KIND, value)


SPEC: Final = KindSpec(
    kind=_KIND,
    tag=0x04,
    normalize=normalize_email,
    display_name="e-mail address",
    column_hints=("email",),
    detect_prefixes=frozenset({"mailto"}),  # RFC 6068 mailto: URIs
)

__all__ = ["SPEC", "normalize_email"]
