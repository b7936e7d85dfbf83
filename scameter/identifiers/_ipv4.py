"""Legacy IPv4 host forms, as Safe Browsing v4 canonicalisation reads them.

Responsibility: recognise a host that browsers and resolvers treat as an IPv4 address in any
of its legal encodings (decimal, octal with a leading ``0``, hex with ``0x``, and the 1- to
3-part short forms ``a``, ``a.b``, ``a.b.c``) and print it as a dotted quad.

Semantics follow the reference implementation, google/safebrowsing ``urls.go``
(``parseIPAddress`` / ``canonicalNum``), which parses each part like Go's
``strconv.ParseUint(s, 0, 32)``:

* a host is a candidate only if it consists of digits, dots and ``0x``-prefixed hex runs;
* at most 4 parts; every part is an unsigned 32-bit number (else: not an IP);
* the last part fills the ``5 - parts`` remaining bytes (``167838211`` -> ``10.1.2.3``,
  ``12.0x12.01234`` -> ``12.18.2.156``); earlier parts keep only their low byte, as the
  reference does (``276.2.3`` -> ``20.2.0.3``).

Invariant: the result is ``None`` or four decimal numbers 0..255 joined by dots.
"""

from __future__ import annotations

import re

# google/safebrowsing urls.go possibleIPRegexp: ^(?i)((?:0x[0-9a-f]+|[0-9\.])+)$
_POSSIBLE_IP_RE = re.compile(r"(?:0[xX][0-9a-fA-F]+|[0-9.])+")
_HEX_RE = re.compile(r"0[xX][0-9a-fA-F]+")
_MAX_U32 = 0xFFFF_FFFF
# A 32-bit number needs at most 10 decimal, 11 octal (with the leading 0) or 8 hex digits;
# leading zeros can pad any of them, so the length test below is only a guard against
# pathological inputs (int() on 100k digits), not the range check.
_MAX_PART_CHARS = 64


def _parse_part(part: str) -> int | None:
    """``strconv.ParseUint(part, 0, 32)`` for the characters a candidate can hold."""
    if not part or len(part) > _MAX_PART_CHARS:
        return None
    if _HEX_RE.fullmatch(part):
        value = int(part[2:], 16)
    elif not part.isdigit():
        return None
    elif part[0] == "0" and len(part) > 1:
        if "8" in part or "9" in part:
            return None
        value = int(part, 8)
    else:
        value = int(part)
    return value if value <= _MAX_U32 else None


def canonical_ipv4(host: str) -> str | None:
    """Dotted-quad form of ``host`` if it is a legal IPv4 encoding, else ``None``.

    ``host`` must already be free of leading, trailing and repeated dots (the caller's
    host canonicalisation does that first, as the specification orders it).
    """
    if not host or _POSSIBLE_IP_RE.fullmatch(host) is None:
        return None
    parts = host.split(".")
    count = len(parts)
    if count > 4:
        return None
    octets: list[str] = []
    for index, part in enumerate(parts):
        value = _parse_part(part)
        if value is None:
            return None
        width = 5 - count if index == count - 1 else 1
        octets.extend(str((value >> (8 * shift)) & 0xFF) for shift in range(width - 1, -1, -1))
    return ".".join(octets)


__all__ = ["canonical_ipv4"]
