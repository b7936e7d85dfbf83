"""Cross-kind derivation: the other identifiers one identifier implies (design section 5).

Responsibility: the one table, :data:`DERIVATIONS`, of what an identifier leads to: an e-mail
address its domain, a link whose host is an IP address that ``ip``, a WhatsApp or profile link
its account or number, an account named by a phone number that number. Lookups
(:mod:`scameter.index.derived`) answer the worst of an input and what it derives; ingest
(:mod:`scameter.ingest.worker`) lists the derived identifiers of a report beside the ones it
names. Both read this table, and ``docs/identifiers.md`` ("Derived identifiers") prints it
(a test keeps the two equal).

Some links are not derivations but spellings, and their normaliser reads them directly:
``tel:``, ``sms:`` and ``smsto:`` are phone numbers (:mod:`scameter.identifiers.phone`),
``mailto:`` is an e-mail address (:mod:`scameter.identifiers.email`).

Invariants: pure, no I/O; every derived identifier is what its kind's own normaliser gives
(derivations start from a *canonical* value and hand the part they pick to that normaliser);
:func:`derive` never raises, never returns the input itself, and never returns one identifier
twice. Kinds with no derivation (phones, FPS ids, ...) cost one set lookup
(:data:`DERIVING_KINDS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers.domain import normalize_domain
from scameter.identifiers.ip import normalize_ip
from scameter.identifiers.model import Identifier, Kind
from scameter.identifiers.phone import normalize_phone
from scameter.identifiers.platform import LINK_SUBDOMAINS, URL_HOSTS, normalize_platform_account
from scameter.identifiers.url import split_canonical

#: How deep derivations chain (a ``wa.me`` link -> its WhatsApp account -> the number).
MAX_DEPTH: Final = 3


@dataclass(frozen=True, slots=True)
class Derivation:
    """One row of the table.

    ``name``: the row's id (docs and tests name it). ``source`` / ``target``: the kinds.
    ``at_ingest``: ingest lists the target beside a reported source; ``False`` for rows that
    only lookups apply (see :data:`DERIVATIONS`). ``find``: the target identifier of a
    canonical source value, or ``None`` when this value has none.
    """

    name: str
    source: Kind
    target: Kind
    at_ingest: bool
    find: Callable[[str], Identifier | None]


def _try(fn: Callable[[str], Identifier], raw: str) -> Identifier | None:
    try:
        return fn(raw)
    except InvalidIdentifier:
        return None


def _email_domain(email: str) -> Identifier | None:
    """``a@mail.evil.example`` -> the domain ``mail.evil.example`` (the domain rule then
    probes its host suffixes, so a listing of ``evil.example/`` matches)."""
    return _try(normalize_domain, email.rpartition("@")[2])


def _ip_host(url: str) -> Identifier | None:
    """``http://203.0.113.9/login`` -> the IP address ``203.0.113.9`` (and ``[v6]`` hosts)."""
    host = split_canonical(url)[0]
    if host[:1] == "[":
        return _try(normalize_ip, host[1:-1])
    if not host[-1:].isdigit():
        return None  # cheap exit: a host name ends in a letter (the TLD)
    return _try(normalize_ip, host)


def _profile_host(host: str) -> str:
    for sub in LINK_SUBDOMAINS:
        if host.startswith(sub):
            return host[len(sub) :]
    return host


def _profile(url: str) -> Identifier | None:
    """A profile link -> its account, where the platform module reads that platform's links
    (``t.me/x`` -> ``telegram:x``, ``wa.me/852...`` -> ``whatsapp:+852...``)."""
    if _profile_host(split_canonical(url)[0]) not in URL_HOSTS:
        return None
    return _try(normalize_platform_account, url)


#: Hosts of WhatsApp's click-to-chat ``send`` links (``whatsapp://send`` has host ``send``).
_WHATSAPP_SEND_HOSTS: Final = frozenset({"api.whatsapp.com", "web.whatsapp.com", "whatsapp.com"})


def _whatsapp_send(url: str) -> Identifier | None:
    """``https://api.whatsapp.com/send?phone=852...`` and ``whatsapp://send?phone=852...``
    -> the phone number (WhatsApp writes it in international form without ``+``)."""
    host, path_query = split_canonical(url)
    if not (host in _WHATSAPP_SEND_HOSTS or (host == "send" and url.startswith("whatsapp:"))):
        return None
    path, _, query = path_query.partition("?")
    if path.rstrip("/") not in ("", "/send"):
        return None
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "phone" and value:
            value = value.lstrip("+")
            return _try(normalize_phone, "+" + value if len(value) > 8 else value)
    return None


def _account_phone(account: str) -> Identifier | None:
    """``whatsapp:+85263912745`` (any platform whose account is a phone number) -> the
    number."""
    handle = account.partition(":")[2]
    if handle[:1] != "+":
        return None
    return _try(normalize_phone, handle)


#: The derivation table (documented in ``docs/identifiers.md``, in this order).
#:
#: ``email -> domain`` is for lookups only: one reported address must not list a whole mail
#: domain (``gmail.com``), while an address at a listed scam domain is exactly what a lookup
#: must catch. The other rows hold at ingest too: a link to a number or an account names
#: that number or account as surely as the report does.
DERIVATIONS: Final[tuple[Derivation, ...]] = (
    Derivation("email-domain", Kind.EMAIL, Kind.DOMAIN, False, _email_domain),
    Derivation("url-ip", Kind.URL, Kind.IP, True, _ip_host),
    Derivation("url-account", Kind.URL, Kind.PLATFORM_ACCOUNT, True, _profile),
    Derivation("url-whatsapp-phone", Kind.URL, Kind.PHONE, True, _whatsapp_send),
    Derivation("account-phone", Kind.PLATFORM_ACCOUNT, Kind.PHONE, True, _account_phone),
)

_BY_SOURCE: Final[dict[Kind, tuple[Derivation, ...]]] = {
    kind: tuple(d for d in DERIVATIONS if d.source is kind)
    for kind in dict.fromkeys(d.source for d in DERIVATIONS)
}
#: Kind values (strings, as verdicts carry them) that have a derivation at lookup time.
DERIVING_KINDS: Final = frozenset(k.value for k in _BY_SOURCE)
#: The same, for ingest (rows with ``at_ingest``).
INGEST_DERIVING_KINDS: Final = frozenset(d.source.value for d in DERIVATIONS if d.at_ingest)


def _url_may_derive(url: str) -> bool:
    """False when no URL row can match (the common case: a web page on a host name), from
    one split of the URL: an IP host ends in a digit or is bracketed, the others are hosts of
    :data:`URL_HOSTS`, :data:`_WHATSAPP_SEND_HOSTS` or ``whatsapp://send``."""
    host = split_canonical(url)[0]
    return (
        host[-1:].isdigit()
        or host[:1] == "["
        or host in _WHATSAPP_SEND_HOSTS
        or host == "send"
        or _profile_host(host) in URL_HOSTS
    )


def derive(ident: Identifier, *, ingest: bool = False) -> list[tuple[Derivation, Identifier]]:
    """Every identifier ``ident`` implies, with the first row that led to it, nearest first
    (chains of rows up to :data:`MAX_DEPTH`). ``ingest``: only rows that hold at ingest."""
    if ident.kind is Kind.URL and not _url_may_derive(ident.value):
        return []  # keeps ordinary links' lookups from paying for the three URL rows
    out: list[tuple[Derivation, Identifier]] = []
    seen = {ident}
    frontier: list[tuple[Identifier, Derivation | None]] = [(ident, None)]
    for _ in range(MAX_DEPTH):
        following: list[tuple[Identifier, Derivation | None]] = []
        for current, first in frontier:
            for row in _BY_SOURCE.get(current.kind, ()):
                if ingest and not row.at_ingest:
                    continue
                found = row.find(current.value)
                if found is None or found in seen:
                    continue
                seen.add(found)
                out.append((first or row, found))
                following.append((found, first or row))
        if not following:
            break
        frontier = following
    return out


__all__ = ["DERIVATIONS", "DERIVING_KINDS", "INGEST_DERIVING_KINDS", "Derivation", "derive"]
