"""IP addresses: IPv4 and IPv6 in the standard library's compressed form.

Canonical form: ``str(ipaddress.ip_address(x))``, i.e. dotted-quad IPv4 without leading zeros
(``ipaddress`` rejects them since Python 3.9.5, as they are ambiguous octal) and RFC 5952
compressed lower-case IPv6 (``2001:db8::1``).

Decisions:

* IPv4-mapped IPv6 (``::ffff:192.0.2.1``, RFC 4291 section 2.5.5.2) denotes the IPv4 host, so
  it canonicalises to the IPv4 address and both spellings share one key.
* A bracketed IPv6 (``[2001:db8::1]``, as in URLs, RFC 3986 section 3.2.2) is unwrapped.
* Zone identifiers (``fe80::1%eth0``) are rejected: they name an interface on the
  reporter's own machine, not a host anyone else can reach.
* Only the standard textual forms are accepted; the legacy shorthand forms (``0x7f.1``,
  ``2130706433``) are the URL layer's business (Safe Browsing canonicalisation), not this kind's.

Invariants: pure; idempotent; the value round-trips through ``ipaddress.ip_address``.
"""

from __future__ import annotations

import ipaddress
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers._text import fold
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.spec import KindSpec

_KIND: Final = Kind.IP
_MAX_RAW: Final = 64


def _dotted_quad(text: str) -> bool:
    """True for an already-canonical IPv4 dotted quad (what ``ipaddress`` would print).

    Four decimal octets 0..255 without leading zeros: exactly the strings
    ``str(ipaddress.IPv4Address(text)) == text`` holds for, without building the object.
    """
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3:
            return False
        if part[0] == "0" and len(part) > 1:
            return False
        if int(part) > 255:
            return False
    return True


def normalize_ip(raw: str) -> Identifier:
    """Canonical ``ip`` identifier of ``raw``; raises :class:`InvalidIdentifier`."""
    if _dotted_quad(raw):
        return Identifier(_KIND, raw)
    text = fold(raw)
    if not text:
        raise InvalidIdentifier(_KIND, "empty", raw)
    if len(text) > _MAX_RAW:
        raise InvalidIdentifier(_KIND, "too long to be an IP address", raw)
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text:
        raise InvalidIdentifier(_KIND, "an IPv6 zone id names a local interface; drop it", raw)
    if not text.isascii():
        raise InvalidIdentifier(_KIND, "not an IPv4 or IPv6 address", raw)
    try:
        address = ipaddress.ip_address(text)
    except ValueError as exc:
        raise InvalidIdentifier(_KIND, "not an IPv4 or IPv6 address", raw) from exc
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return Identifier(_KIND, str(address))


SPEC: Final = KindSpec(
    kind=_KIND,
    tag=0x09,
    normalize=normalize_ip,
    display_name="IP address",
)

__all__ = ["SPEC", "normalize_ip"]
