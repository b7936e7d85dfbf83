"""Domain links in the live delta: a touched URL, domain or e-mail address links on its
registrable domain exactly as a full build links it.

Responsibility: :class:`LiveDomains` reads, per host-level link expression a fold touches
(``clusters.domain_link_key``), the base's ``domlinks`` entry (:mod:`scameter.index.domlinks`:
every identifier of the window on it, listed or not, capped past ``hub_reports``) and the
delta's ``domains`` entry (the identifiers earlier folds added on it that the base did not
have), and gives the fold

* its *peers* (:meth:`LiveDomains.peers`): the listed identifiers on the expression the fold
  must re-decide so that its aggregator links a new identifier to them (one per cluster they
  are in, which stands for that cluster, and every listed one in none), whatever their kind:
  e-mail addresses too, which ``urlexpr`` does not hold;
* the build's rule for linking it (:meth:`LiveDomains.linkable`, the aggregator's
  ``domain_linkable``): at most ``hub_reports`` identifiers of the window on it (the base's,
  the delta's and the fold's own together) and none allowlisted;
* the delta entries to write (:meth:`LiveDomains.entries`): the identifiers this fold adds;
* the identifiers on an expression the fold takes past the cap (:meth:`LiveDomains.tipped`):
  it linked them, a build no longer does, so their clusters may split
  (:mod:`scameter.ingest.livesplits`).

Invariants:

* Cost per fold: one base entry and one delta entry read per expression the fold's
  identifiers are on, and one record read per identifier of a non-hub expression a touched
  identifier is on (at most ``hub_reports``); a hub's entry holds no keys.
* A delta entry holds only keys the base's entry does not, and once the expression's
  identifiers pass the cap only that it is a hub (it stays one until compaction: no report
  takes an identifier out of the window live).
* Identifiers the delta does not touch count as of the base's ``as_of`` (as their records).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field

from scameter.identifiers import expression_key
from scameter.index import domlinks
from scameter.index import format as fmt
from scameter.index.delta import REMOVED
from scameter.index.reader import SnapshotReader
from scameter.ingest.clusters import _DOMAIN_LINKED, domain_link_key
from scameter.ingest.evidence import wire_key_id
from scameter.ingest.granularity import Granularity
from scameter.verdict import Level

#: A delta read: identifier or expression key -> its stored value, or ``None``.
DeltaGet = Callable[[bytes], bytes | None]
_VERIFIED = fmt.LEVEL_CODES[Level.VERIFIED]


@dataclass(slots=True)
class _Link:
    """What the base and the delta hold of one expression."""

    #: One of its identifiers is allowlisted (the base's: allow rows never come live).
    allowed: bool
    #: More than the cap (the base's entry or the delta's).
    hub: bool
    base: set[bytes] = field(default_factory=set)
    delta: set[bytes] = field(default_factory=set)


class LiveDomains:
    """One fold's view of the domain-link index (inside its write transaction: ``records``,
    ``events`` and ``domains`` read the delta's sub-databases)."""

    def __init__(
        self,
        reader: SnapshotReader,
        gran: Granularity,
        cap: int,
        *,
        records: DeltaGet,
        events: DeltaGet,
        domains: DeltaGet,
    ) -> None:
        self._reader = reader
        self._gran = gran
        self._cap = cap
        self._records = records
        self._events = events
        self._domains = domains
        self._links: dict[str, _Link] = {}
        self._plain_links: dict[str, str | None] = {}

    def _link(self, link: str) -> _Link:
        got = self._links.get(link)
        if got is None:
            ekey = expression_key(link)
            base = self._reader.domain_links(ekey)
            delta = self._domains(ekey)
            flags, _, keys = domlinks.unpack(base) if base is not None else (0, 0, [])
            dflags, _, dkeys = domlinks.unpack(delta) if delta is not None else (0, 0, [])
            got = self._links[link] = _Link(
                bool(flags & domlinks.ALLOWED),
                bool((flags | dflags) & domlinks.HUB),
                set(keys),
                set(dkeys),
            )
        return got

    def _link_of(self, plain: str) -> str | None:
        """The link expression of ``kind:canonical`` (memoised: peers and entries ask)."""
        if not plain.startswith(_DOMAIN_LINKED):
            return None
        try:
            return self._plain_links[plain]
        except KeyError:
            link = self._plain_links[plain] = domain_link_key(plain, self._gran)
            return link

    def linkable(self, link: str, plain_keys: list[str]) -> bool:
        """Whether a build links the identifiers on ``link`` (``plain_keys``: those the
        fold's aggregator holds on it): at most the cap in all, none allowlisted."""
        st = self._link(link)
        if st.allowed or st.hub:
            return False
        every = st.base | st.delta
        every.update(wire_key_id(k) for k in plain_keys)
        return len(every) <= self._cap

    def peers(self, touched: Container[bytes], plains: list[str]) -> list[tuple[bytes, str]]:
        """(key, ``kind:canonical``) of the listed identifiers on the expressions of
        ``plains`` (touched identifiers' keys) that are not touched: per expression (not a
        hub, none allowlisted) one per cluster they are in and every one in none, decided
        by their record as it stands (the delta's, else the base's); only those with
        events to re-decide them from."""
        links = sorted({link for p in plains if (link := self._link_of(p)) is not None})
        out: dict[bytes, str] = {}
        for link in links:
            st = self._link(link)
            if st.allowed or st.hub:
                continue
            clusters: set[bytes] = set()
            for key in sorted((st.base | st.delta) - out.keys()):
                if key in touched:
                    continue
                buf = self._record(key)
                if buf is None or buf[1] == _VERIFIED:
                    continue
                if buf[2] & fmt.F_CLUSTER:
                    cid = bytes(buf[fmt.OFF_CLUSTER_ID : fmt.OFF_CLUSTER_ID + 8])
                    if cid in clusters:
                        continue  # the cluster has its peer already
                    clusters.add(cid)
                if self._events(key) is None and self._reader.evidence_of(key) is None:
                    continue
                out[key] = f"{fmt.KIND_BY_TAG[buf[0]].value}:{fmt.record_canonical(buf)}"
        return sorted(out.items())

    def _record(self, key: bytes) -> bytes | None:
        """The sealed record of ``key`` as it stands: the delta's (``None``: removed), else
        the base's listing."""
        value = self._records(key)
        if value is not None:
            return None if value[:1] == REMOVED else bytes(value[1:])
        return self._reader.get(fmt.TABLE_RECORDS, key)

    def tipped(self, plains: dict[bytes, str], counted: Container[str]) -> set[bytes]:
        """The keys (the base's and the delta's) on every expression that linked before this
        fold and that the identifiers of ``plains`` the fold's aggregator counted take past
        the cap: a build no longer links them, so the clusters they are in may split. Reads
        only the entries :meth:`peers` read (memoised); changes nothing."""
        added: dict[str, set[bytes]] = {}
        for key, plain in plains.items():
            link = self._link_of(plain)
            if link is not None and plain in counted:
                added.setdefault(link, set()).add(key)
        out: set[bytes] = set()
        for link, keys in added.items():
            st = self._link(link)
            before = st.base | st.delta
            if not (st.allowed or st.hub) and len(before) <= self._cap < len(before | keys):
                out |= before
        return out

    def entries(self, plains: dict[bytes, str], counted: Container[str]) -> dict[bytes, bytes]:
        """The delta's new ``domains`` entries (expression key -> entry): the identifiers of
        ``plains`` (touched key -> ``kind:canonical``) the fold's aggregator counted
        (``counted``: its keys) that neither the base's nor the delta's entry holds."""
        added: dict[str, set[bytes]] = {}
        for key, plain in plains.items():
            link = self._link_of(plain)
            if link is None or plain not in counted:
                continue
            st = self._link(link)
            if not (st.allowed or st.hub) and key not in st.base and key not in st.delta:
                added.setdefault(link, set()).add(key)
        out: dict[bytes, bytes] = {}
        for link, keys in sorted(added.items()):
            st = self._link(link)
            st.delta |= keys
            total = len(st.base) + len(st.delta)
            if total > self._cap:
                st.hub = True
                out[expression_key(link)] = domlinks.pack(total, None, cap=self._cap)
            else:
                out[expression_key(link)] = domlinks.pack(len(st.delta), st.delta, cap=self._cap)
        return out


__all__ = ["LiveDomains"]
