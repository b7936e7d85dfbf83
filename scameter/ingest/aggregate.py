"""Streaming aggregation per identifier, then the policy decision, as sorted Records.

Responsibility: fold worker events into one compact state per identifier (parallel ``array``s
indexed by a dense id: no Python object per report), then apply delistings, the allowlist and
the level rules of :class:`~scameter.ingest.policy.Policy` and yield
:class:`~scameter.index.Record` values in sorted key order, with listings and cluster ids.

Invariants:

* Windows are applied as events arrive (``as_of`` is known up front): a report outside its
  window, after ``as_of`` or with status ``rejected`` changes nothing but a counter.
* Memory is O(distinct identifiers): per id a handful of array slots, one category bitmask and,
  only for identifiers with two or more distinct public reporters, one small array (a set past
  ``_SET_AFTER`` reporters); case ids: one slot per id, and for identifiers with two or more
  cases one list of at most :data:`MAX_CASE_IDS` ``(time, id)`` pairs.
* Case ids (the reports' ``id``) are kept only for reports that count: a report aged out,
  after ``as_of`` or with status ``rejected`` adds none. Per identifier: the latest
  :data:`MAX_CASE_IDS` distinct ids by (report time, id) and the number of counted reports
  that carried an id; both are functions of the event multiset, whatever the order.
* The record stream is sorted by ``"kind:canonical"`` and every field is a deterministic
  function of the event multiset (order-independent), so builds are reproducible.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

import xxhash

from scameter.categories import CATEGORIES, canonical_category
from scameter.identifiers import Identifier, Kind
from scameter.index import Record
from scameter.ingest.clusters import by_domain, cluster_ids, derived_pairs
from scameter.ingest.evidence import wire_key_id
from scameter.ingest.granularity import SUBDOMAINS, Granularity, split_canonical_url
from scameter.ingest.policy import SOURCES, Policy
from scameter.ingest.warninglists import NONE, REASONS, Warninglists
from scameter.ingest.worker import EV_ALLOW, EV_DELIST, EV_REPORT, NEVER, listing_for_key
from scameter.verdict import SEVERITY, Level, ReasonCode

F_POLICE_CONF = 1
F_PARTNER_CONF = 2
F_FEED = 4
F_PARTNER_UNV = 8
F_POLICE_UNV = 16
F_PUBLIC = 32
F_FEED_UNV = 64
#: Single sources a warninglist holds back: feed rows (verified or not) and unverified partner
#: reports, corroborated by distinct providers (docs/report-format.md, "Corroboration").
F_CORROBORATE = F_FEED | F_FEED_UNV | F_PARTNER_UNV
F_CONFIRMED = F_POLICE_CONF | F_PARTNER_CONF
_DAY = 86400
_SET_AFTER = 64
#: Case ids kept per identifier: the latest by report time (ties: the greater id).
MAX_CASE_IDS = 20
_NEVER = NEVER
_ALWAYS = -(1 << 63)  # window start of reports that never age out
_SRC_POLICE, _SRC_PUBLIC, _SRC_BANK, _SRC_TELECOM, _SRC_FEED = range(5)
_ST_CONFIRMED, _ST_UNVERIFIED, _ST_REJECTED = range(3)


@dataclass(slots=True)
class Stats:
    """Counters of what the policy did with the reports (for the summary)."""

    reports: int = 0
    counted: int = 0
    aged_out: int = 0
    future: int = 0
    status_rejected: int = 0
    allow: int = 0
    delist: int = 0
    delisted: int = 0
    #: Listings a warninglist held back (at most POSSIBLE), per list short name.
    demoted: dict[str, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Decisions:
    """The serial part of the output: identifier ids in record order, the decisions taken
    early (for ``early``: every identifier named together with another), and the cluster id
    of each linked record position."""

    order: list[int]
    decided: dict[int, tuple[Level, tuple[ReasonCode, ...]]]
    early: frozenset[int]
    clusters: dict[int, int]


#: Each category's bit in an identifier's category mask: fixed by the vocabulary's order, so
#: every process (the main one, each parse worker, a live fold) gives a category the same bit
#: without a shared table (20 categories: the mask fits a signed 64-bit column).
CATEGORY_BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(CATEGORIES)}


def category_bit(category: str) -> int:
    """The bit of ``category`` (a vocabulary name as the workers write it; any other name,
    e.g. in evidence filed under an older vocabulary, is read as its canonical member)."""
    bit = CATEGORY_BITS.get(category)
    if bit is None:
        bit = CATEGORY_BITS.get(canonical_category(category), 0)
    return bit


@lru_cache(maxsize=4096)
def provider_number(provider: str) -> int:
    """The number a provider counts under in the reporter's place (distinct providers
    corroborate): the top 63 bits of the xxh3-64 of its name, never 0 (no provider). A
    function of the name alone, so the parse workers of the out-of-core path number alike;
    only distinct numbers are counted, and two names share one with probability 2^-63, the
    same odds as two public reporters' hashes."""
    return (xxhash.xxh3_64_intdigest(provider.encode("utf-8")) >> 1) or 1


class Admission:
    """Which reports of a chunk count, for both engines (the in-memory fold in the main
    process, the out-of-core one in each parse worker), and the tallies of the others.

    :meth:`reports` yields ``(event, flag, category bit, reporter)`` for each counted report
    and ``(event, 0, 0, 0)`` for each allow or delist event, to be applied where it stands.
    A report counts unless its status is refused, it is after ``as_of`` or out of its
    window; those only add to the tallies (in one update once the chunk is through: an
    attribute update per report costs more than the rest of a refused report's path).
    Corroborated sources count providers (:func:`provider_number`) in the reporter's
    place; anonymous public reports share reporter 1. :attr:`categories` is the mask of the
    categories of the counted reports; :meth:`add_to` moves the tallies into a
    :class:`Stats`. Plain data: it travels to the parse workers and back.
    """

    __slots__ = ("aged_out", "as_of", "categories", "counted", "future", "rules",
                 "status_rejected")  # fmt: skip

    def __init__(self, rules: dict[tuple[int, int], tuple[int, int]], as_of: int) -> None:
        self.rules = rules
        self.as_of = as_of
        self.counted = self.status_rejected = self.future = self.aged_out = 0
        self.categories = 0

    def reports(
        self, events: list[tuple[Any, ...]]
    ) -> Iterator[tuple[tuple[Any, ...], int, int, int]]:
        rules, as_of, bits = self.rules, self.as_of, CATEGORY_BITS
        counted = status_rejected = future = aged_out = 0
        seen = self.categories
        for ev in events:
            if ev[0] != EV_REPORT:
                yield ev, 0, 0, 0
                continue
            ts, src, status, rep, category = ev[2:7]
            flag, start = rules[src, status]
            if not flag:
                status_rejected += 1
                continue
            if ts > as_of:
                future += 1
                continue
            if ts < start and ts != _NEVER:
                aged_out += 1
                continue
            counted += 1
            cbit = 0
            if category:
                cbit = bits.get(category) or category_bit(category)
                seen |= cbit
            if flag & F_CORROBORATE:
                rep = provider_number(ev[8] if len(ev) > 8 else "")
            yield ev, flag, cbit, rep or 1
        self.categories = seen
        self.counted += counted
        self.status_rejected += status_rejected
        self.future += future
        self.aged_out += aged_out

    def add_to(self, stats: Stats) -> None:
        """Add the tallies of the reports seen so far to ``stats``."""
        stats.reports += self.counted + self.status_rejected + self.future + self.aged_out
        stats.counted += self.counted
        stats.status_rejected += self.status_rejected
        stats.future += self.future
        stats.aged_out += self.aged_out


class DomainSink(Protocol):
    """Takes the domain-link index a build files (:meth:`Aggregator.link_groups`)."""

    def add_domain(
        self, link: str, count: int, allowed: bool, keys: list[bytes] | None
    ) -> None: ...


class Aggregator:
    """Folds events; :meth:`records` decides and yields the snapshot's records."""

    def __init__(self, policy: Policy, as_of: datetime, lists: Warninglists = NONE) -> None:
        self.policy = policy
        self.as_of = as_of
        self.lists = lists
        self._platforms = Granularity.default(policy.extra_shared_platforms)
        # Events carry Unix seconds (cheap to pickle back from the workers) and add_events
        # compares each report's time with these bounds: the one place ingest turns the
        # aware ``as_of`` into seconds, so the per-report loop compares ints.
        now = self.as_of_ts = int(as_of.timestamp())
        self.public_start = now - policy.window_days * _DAY
        self.conf_start = (
            None if policy.confirmed_window_days is None
            else now - policy.confirmed_window_days * _DAY
        )  # fmt: skip
        self.feed_start = (
            None if policy.feed_window_days is None else now - policy.feed_window_days * _DAY
        )
        self.ids: dict[str, int] = {}
        self.keys: list[str] = []
        self.invalid: set[int] = set()
        self.flags = bytearray()
        self.srcs = bytearray()
        self.count = array("I")
        self.first = array("q")
        self.last = array("q")
        self.last_police = array("q")
        self.last_partner = array("q")
        self.cats: list[int] = []
        self.rep1 = array("Q")
        self.reps: dict[int, Any] = {}
        self.groups = array("I")
        self.allow: dict[int, str] = {}
        self.delist: dict[int, int] = {}
        #: The categories of the counted reports (a mask of :data:`CATEGORY_BITS`).
        self.category_mask = 0
        #: Distinct providers of feed / unverified partner reports (:func:`provider_number`):
        #: the first in ``prov1`` (0: none), the others in ``provs`` (rare).
        self.prov1 = array("Q")
        self.provs: dict[int, set[int]] = {}
        #: Times of confirmed police / partner reports, kept for relisting after a delisting
        #: (only reports dated after it count): id -> [(ts, flag), ...].
        self.confirmed: dict[int, list[tuple[int, int]]] = {}
        #: Warninglist short name of the identifiers it holds back (see :meth:`decide`).
        self.warninglisted: dict[int, str] = {}
        #: Case ids: the number of counted reports with an id, the only case of an identifier
        #: with one (``case1`` / ``case1_ts``), and for those with more a min-heap of at most
        #: MAX_CASE_IDS ``(time, id)`` pairs in ``cases`` (then ``case1`` is not read again).
        self.case_n = array("I")
        self.case1: list[str | None] = []
        self.case1_ts = array("q")
        self.cases: dict[int, list[tuple[int, str]]] = {}
        #: Distinct appealing reporters per identifier id (within the public window), and the
        #: ids whose count reaches the policy's ``appeal_threshold`` (see :meth:`add_appeals`).
        self.appealers: dict[int, set[str]] = {}
        self.appealed: set[int] = set()
        self._marked = False
        self.stats = Stats()
        #: Where :meth:`link_groups` files the domain-link index (ingest with evidence:
        #: :class:`~scameter.ingest.evidence.EvidenceCollector`); decide runs once a build.
        self.domain_sink: DomainSink | None = None
        #: The live fold's view of a link's identifiers outside this aggregator
        #: (:mod:`scameter.ingest.livedomains`): ``(link, the keys this aggregator holds on
        #: it) -> whether the build would link it`` (at most ``hub_reports`` identifiers of
        #: the window on it, none allowlisted); ``None``: this aggregator holds them all.
        self.domain_linkable: Callable[[str, list[str]], bool] | None = None

    def _id(self, key: str) -> int:
        i = self.ids.get(key)
        if i is not None:
            return i
        plain = key[1:] if key[0] == "~" else key
        i = self.ids.get(plain)
        if i is not None:
            return i
        i = len(self.keys)
        self.ids[plain] = i
        if plain is not key:
            self.ids[key] = i
            self.invalid.add(i)
        self.keys.append(plain)
        self.flags.append(0)
        self.srcs.append(0)
        self.count.append(0)
        self.first.append(_NEVER)
        self.last.append(_NEVER)
        self.last_police.append(_NEVER)
        self.last_partner.append(_NEVER)
        self.cats.append(0)
        self.rep1.append(0)
        self.prov1.append(0)
        self.case_n.append(0)
        self.case1.append(None)
        self.case1_ts.append(_NEVER)
        return i

    def _rules(self) -> dict[tuple[int, int], tuple[int, int]]:
        """``(source, status) -> (flag, window start)`` for every pair; flag 0 for status
        ``rejected``, start :data:`_ALWAYS` when that kind of report never ages out."""
        out: dict[tuple[int, int], tuple[int, int]] = {}
        for src in range(len(SOURCES)):
            for status in (_ST_CONFIRMED, _ST_UNVERIFIED, _ST_REJECTED):
                start: int | None
                if status == _ST_REJECTED:
                    flag, start = 0, None
                elif src == _SRC_PUBLIC:
                    flag, start = F_PUBLIC, self.public_start
                elif src == _SRC_FEED:
                    flag = F_FEED if status == _ST_CONFIRMED else F_FEED_UNV
                    start = self.feed_start
                elif status == _ST_CONFIRMED:
                    flag = F_POLICE_CONF if src == _SRC_POLICE else F_PARTNER_CONF
                    start = self.conf_start
                else:
                    flag = F_POLICE_UNV if src == _SRC_POLICE else F_PARTNER_UNV
                    start = self.public_start
                out[src, status] = flag, _ALWAYS if start is None else start
        return out

    def count_rules(self) -> dict[tuple[int, int], tuple[int, int]]:
        """What says whether a report event can count at this ``as_of`` or a later one (not
        status ``rejected``, not dated before its window's start): ``(source, status) ->
        (flag, window start)``, plain data for the parse workers that encode the evidence
        the live fold keeps (:func:`scameter.ingest.evidence.encode_pairs`)."""
        return self._rules()

    def add_appeals(self, appeals: Iterable[tuple[str, str, int]]) -> None:
        """Count appeals ``(key, reporter hash, unix seconds)``, keys as ``kind:canonical``.

        Only appeals within the public window (and not after ``as_of``) of identifiers some
        report named count, once per distinct reporter. Call after every event was added and
        before :meth:`decide`. Appeals never delist: they only mark identifiers for
        :meth:`_decide` to lower (docs/report-format.md, "Appeals")."""
        for key, reporter, ts in appeals:
            i = self.ids.get(key)
            if i is None or not self.public_start <= ts <= self.as_of_ts:
                continue
            self.appealers.setdefault(i, set()).add(reporter)
        threshold = self.policy.appeal_threshold
        if threshold:
            self.appealed = {i for i, who in self.appealers.items() if len(who) >= threshold}
        self.stats.extra["appealed"] = len(self.appealed)

    def add_events(self, events: list[tuple[Any, ...]]) -> None:
        """Fold one chunk's events (in order).

        Two passes over the chunk, both run once per report in the main process while the
        workers parse: :meth:`_admit` decides which reports count and names their identifier
        ids, :meth:`_count` folds those into the per-identifier arrays. Each loop keeps its
        state in locals; splitting them costs one small tuple per counted report, less than a
        call per report would.
        """
        self._count(self._admit(events))

    def _admit(self, events: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The counted reports of ``events`` as ``(ids, ts, flag, source bit, category bit,
        reporter, case id)``, in order; allow and delist events are applied on the way."""
        ids_of, new_id = self.ids, self._id
        groups, max_linked = self.groups, self.policy.max_linked_per_report
        admitted: list[tuple[Any, ...]] = []
        add = admitted.append
        admission = Admission(self._rules(), self.as_of_ts)
        for ev, flag, cbit, rep in admission.reports(events):
            if not flag:
                self._add_listing_event(ev)
                continue
            keys = ev[7]
            ids: Any
            if len(keys) == 1:
                i = ids_of.get(keys[0])
                ids = (new_id(keys[0]) if i is None else i,)
            else:
                # One report naming one identifier twice ("9123 4567", "+852 9123 4567")
                # counts once.
                ids = list(dict.fromkeys([new_id(k) for k in keys]))
                if 1 < len(ids) <= max_linked:
                    groups.append(len(ids))
                    groups.extend(ids)
            add((ids, ev[2], flag, 1 << ev[3], cbit, rep, ev[9] if len(ev) > 9 else ""))
        self.take_admission(admission)
        return admitted

    def take_admission(self, admission: Admission) -> None:
        """Count what ``admission`` saw (its tallies, its categories) in :attr:`stats`."""
        admission.add_to(self.stats)
        self.category_mask |= admission.categories

    @property
    def category_bits(self) -> dict[str, int]:
        """``{category: bit}`` of the categories of the counted reports."""
        mask = self.category_mask
        return {name: bit for name, bit in CATEGORY_BITS.items() if mask & bit}

    def _count(self, admitted: list[tuple[Any, ...]]) -> None:
        """Fold admitted reports (see :meth:`_admit`) into the per-identifier arrays."""
        flags, srcs, cats, count = self.flags, self.srcs, self.cats, self.count
        first, last, last_police, last_partner = (
            self.first,
            self.last,
            self.last_police,
            self.last_partner,
        )
        rep1, add_reporter = self.rep1, self._add_reporter
        prov1, provs, confirmed = self.prov1, self.provs, self.confirmed
        add_case = self._add_case
        for ids, ts, flag, sbit, cbit, rep, cid in admitted:
            for i in ids:
                if cid:
                    add_case(i, ts, cid)
                flags[i] |= flag
                srcs[i] |= sbit
                cats[i] |= cbit
                count[i] += 1
                if ts != _NEVER:
                    f = first[i]
                    if f == _NEVER or ts < f:
                        first[i] = ts
                    if ts > last[i]:  # noqa: PLR1730 - cheaper than max() per report
                        last[i] = ts
                if flag == F_PUBLIC:
                    r1 = rep1[i]
                    if r1 == 0:
                        rep1[i] = rep
                    elif r1 != rep:
                        add_reporter(i, rep)
                elif flag & F_CORROBORATE:
                    p1 = prov1[i]
                    if p1 == 0:
                        prov1[i] = rep
                    elif p1 != rep:
                        provs.setdefault(i, set()).add(rep)
                elif flag == F_POLICE_CONF:
                    if ts > last_police[i]:  # noqa: PLR1730 - as above
                        last_police[i] = ts
                    confirmed.setdefault(i, []).append((ts, flag))
                elif flag == F_PARTNER_CONF:
                    if ts > last_partner[i]:  # noqa: PLR1730 - as above
                        last_partner[i] = ts
                    confirmed.setdefault(i, []).append((ts, flag))

    def _add_listing_event(self, ev: tuple[Any, ...]) -> None:
        """An allow or a delist event (rare next to reports)."""
        i = self._id(ev[2])
        if ev[0] == EV_ALLOW:
            self.stats.allow += 1
            owner = ev[3]
            # Several allow rows: keep the smallest owner name (order-independent).
            prev = self.allow.get(i)
            self.allow[i] = owner if prev is None or (owner and owner < prev) else prev
        elif ev[0] == EV_DELIST:
            self.stats.delist += 1
            at = ev[3] if ev[3] != _NEVER else self.as_of_ts
            self.delist[i] = max(at, self.delist.get(i, at))

    def _add_case(self, i: int, ts: int, cid: str) -> None:
        """One counted report with id ``cid`` at ``ts`` names identifier ``i``.

        Keeps the top :data:`MAX_CASE_IDS` of ``{id: latest time}`` by ``(time, id)``: an id
        seen again moves to its later time, and an id evicted once is never better than the
        heap's minimum again unless its new time is (the minimum only rises), so the kept set
        is the same whatever order the reports come in.
        """
        self.case_n[i] += 1
        heap = self.cases.get(i)
        if heap is None:
            c1 = self.case1[i]
            if c1 is None or c1 == cid:
                if c1 is None or ts > self.case1_ts[i]:
                    self.case1[i], self.case1_ts[i] = cid, ts
                return
            heap = self.cases[i] = [(self.case1_ts[i], c1)]
        for j, (t, c) in enumerate(heap):
            if c == cid:
                if ts > t:
                    heap[j] = (ts, cid)
                    heapq.heapify(heap)
                return
        if len(heap) < MAX_CASE_IDS:
            heapq.heappush(heap, (ts, cid))
        elif (ts, cid) > heap[0]:
            heapq.heapreplace(heap, (ts, cid))

    def case_ids(self, i: int, after: int | None = None) -> tuple[tuple[str, ...], int]:
        """``(latest case ids, count)`` of identifier ``i``: the ids latest first, the count
        of counted reports that carried one. ``after``: only reports dated after it (a
        relisted identifier; the count is then the ids kept, a lower bound)."""
        heap = self.cases.get(i)
        if heap is None:
            c1 = self.case1[i]
            if after is None:  # the common shapes: no case, or one
                return ((), 0) if c1 is None else ((c1,), self.case_n[i])
            pairs = [] if c1 is None else [(self.case1_ts[i], c1)]
        else:
            pairs = sorted(heap, reverse=True)
        if after is not None:
            ids = tuple(c for t, c in pairs if t > after)
            return ids, len(ids)
        return tuple(c for _, c in pairs), self.case_n[i]

    def _add_reporter(self, i: int, rep: int) -> None:
        """A public reporter other than identifier ``i``'s first one."""
        more = self.reps.get(i)
        if more is None:
            self.reps[i] = array("Q", (rep,))
        elif rep not in more:
            if isinstance(more, array) and len(more) >= _SET_AFTER:
                more = self.reps[i] = set(more)
            if isinstance(more, set):
                more.add(rep)
            else:
                more.append(rep)

    def providers(self, i: int) -> int:
        """Distinct providers of identifier ``i``'s feed and unverified partner reports."""
        if self.prov1[i] == 0:
            return 0
        more = self.provs.get(i)
        return 1 + (len(more) if more is not None else 0)

    def after_delisting(self, i: int) -> tuple[int, int | None, int | None]:
        """``(count, first, last)`` of the confirmed reports dated after ``i``'s delisting:
        what a relisted identifier shows (the reports before it were appealed away)."""
        at = self.delist[i]
        times = [ts for ts, _ in self.confirmed.get(i, ()) if ts > at]
        if not times:
            return 0, None, None
        return len(times), min(times), max(times)

    def _relisted_counts(self, i: int) -> tuple[int, int, int, int]:
        """``(count, first, last, reporters)`` of a relisted identifier (rare): its
        confirmed reports after the delisting only, times as the arrays hold them."""
        n, f, la = self.after_delisting(i)
        return n, _NEVER if f is None else f, _NEVER if la is None else la, 0

    def warninglist_of(self, key: str) -> str | None:
        """The short name of the warninglist naming identifier ``key`` (``kind:canonical``)."""
        kind, _, value = key.partition(":")
        if kind == "url":
            return self._for_host(split_canonical_url(value)[0])
        if kind == "domain":
            return self._for_host(value)
        if kind == "ip":
            return self.lists.for_ip(value)
        return None

    def _for_host(self, host: str) -> str | None:
        hit = self._platforms.platform_mode(host)
        if hit is not None and hit[0] == SUBDOMAINS and host not in (hit[1], "www." + hit[1]):
            return None  # someone.wixsite.com is its owner's, not the popular platform's
        return self.lists.for_host(host)

    def _mark_warninglisted(self) -> None:
        """Find the identifiers a warninglist holds back: those whose only listing sources
        are feeds / unverified partners from fewer providers than the policy asks for.
        Runs once, in the parent, before the shards fork (they inherit the result), and
        counts the demotions per list for the summary."""
        if not self.lists.enabled or self._marked:
            return
        self._marked = True
        need = self.policy.warninglisted_providers_suspicious
        flags, keys, found, demoted = self.flags, self.keys, self.warninglisted, self.stats.demoted
        for i in range(len(keys)):
            f = flags[i]
            if not f & F_CORROBORATE or f & F_CONFIRMED or i in self.allow:
                continue
            if self.providers(i) >= need:
                continue
            wl = self.warninglist_of(keys[i])
            if wl is not None:
                found[i] = wl
                demoted[wl] = demoted.get(wl, 0) + 1

    def reporters(self, i: int) -> int:
        if self.rep1[i] == 0:
            return 0
        more = self.reps.get(i)
        return 1 + (len(more) if more is not None else 0)

    # --- decision -------------------------------------------------------------------------

    def _decider(self) -> Callable[[int, int], tuple[Level, tuple[ReasonCode, ...]] | None]:
        """:meth:`_decide` as ``decide(i, reporters(i))``, cached by shape: without an
        allowlist entry or a delisting, a decision depends only on the flags and (for public
        reports) on the reporter count up to the largest threshold."""
        p = self.policy
        cap = max(p.public_threshold_suspicious, p.public_threshold_possible)
        allow, delist, flags, decide = self.allow, self.delist, self.flags, self._decide
        held, appealed = self.warninglisted, self.appealed
        by_shape: dict[tuple[int, int, str | None], tuple[Level, tuple[ReasonCode, ...]] | None]
        by_shape = {}

        def decide_cached(i: int, reporters: int) -> tuple[Level, tuple[ReasonCode, ...]] | None:
            if i in allow or i in delist or i in appealed:
                return decide(i)
            shape = (flags[i], reporters if reporters < cap else cap, held.get(i))
            try:
                return by_shape[shape]
            except KeyError:
                d = by_shape[shape] = decide(i)
                return d

        return decide_cached

    def _decide(self, i: int) -> tuple[Level, tuple[ReasonCode, ...]] | None:
        p = self.policy
        flags = self.flags[i]
        owner = self.allow.get(i)
        if owner is not None:
            # The allowlist outranks public reports; keep the counts so the index can add the
            # "call back on the official line" advice to a spoofed official number.
            if self.count[i]:
                return Level.VERIFIED, (ReasonCode.ALLOWLISTED, ReasonCode.SPOOF_ADVICE)
            return Level.VERIFIED, (ReasonCode.ALLOWLISTED,)
        at = self.delist.get(i)
        if at is not None:
            flags &= self._relisting_flags(i, at)
            if not flags:
                self.stats.delisted += 1
                return None
        found: list[tuple[Level, ReasonCode]] = []
        if flags & F_POLICE_CONF:
            found.append((p.police_confirmed, ReasonCode.POLICE_CONFIRMED))
        if flags & F_PARTNER_CONF:
            found.append((p.partner_confirmed, ReasonCode.PARTNER_CONFIRMED))
        found.extend(self._single_sources(i, flags))
        if flags & F_POLICE_UNV:
            found.append((p.police_unverified, ReasonCode.POLICE_UNVERIFIED))
        if flags & F_PUBLIC:
            n = self.reporters(i)
            if n >= p.public_threshold_suspicious:
                found.append((Level.SUSPICIOUS, ReasonCode.PUBLIC_REPORTS))
            elif n >= p.public_threshold_possible:
                found.append((Level.POSSIBLE, ReasonCode.PUBLIC_REPORTS))
        if not found:
            return None
        if flags == F_PUBLIC and i in self.appealed:
            return _appealed(found)
        return _worst(found, i in self.warninglisted)

    def _relisting_flags(self, i: int, at: int) -> int:
        """The flags that still count after a delisting at ``at``: confirmed police / partner
        reports dated after it (a new investigation), when the policy relists."""
        keep = 0
        if self.policy.relist_confirmed_after_delisting:
            if self.last_police[i] > at:
                keep |= F_POLICE_CONF
            if self.last_partner[i] > at:
                keep |= F_PARTNER_CONF
        return keep

    def _single_sources(self, i: int, flags: int) -> list[tuple[Level, ReasonCode]]:
        """Levels earned by feed rows and unverified partner reports: as the policy says,
        unless a warninglist holds ``i`` back (then at most POSSIBLE, naming the list)."""
        p = self.policy
        out: list[tuple[Level, ReasonCode]] = []
        if flags & F_FEED:
            out.append((p.feed_level, ReasonCode.FEED_LISTING))
        if flags & F_FEED_UNV:
            out.append((p.feed_unverified_level, ReasonCode.FEED_UNVERIFIED))
        if flags & F_PARTNER_UNV:
            out.append((p.partner_unverified, ReasonCode.PARTNER_UNVERIFIED))
        wl = self.warninglisted.get(i)
        if wl is not None and out:
            out = [(_at_most_possible(lv), code) for lv, code in out]
            out.append((Level.POSSIBLE, REASONS[wl]))
        return out

    def link_groups(self, gran: Granularity | None = None) -> array[int]:
        """The report groups plus the groups of the other links (:mod:`~scameter.ingest.
        clusters`): identifiers on one non-popular registrable domain, unless it is
        warninglisted, names an allowlisted identifier or gathers more than
        ``policy.hub_reports`` identifiers; and identifiers with what they derive."""
        gran = gran or self._platforms
        groups = array("I", self.groups)
        allow, hub, keys = self.allow, self.policy.hub_reports, self.keys
        sink, linkable = self.domain_sink, self.domain_linkable
        for link, ids in by_domain(keys, gran).items():
            allowed = any(i in allow for i in ids)
            if sink is not None:
                n = len(ids)
                sink.add_domain(link, n, allowed, None if allowed or n > hub
                                else [wire_key_id(keys[i]) for i in ids])  # fmt: skip
            if len(ids) < 2 or len(ids) > hub or allowed:
                continue
            if linkable is not None and not linkable(link, [keys[i] for i in ids]):
                continue
            if self.warninglist_of("domain:" + link[:-1]) is not None:
                continue
            groups.append(len(ids))
            groups.extend(ids)
        for i, j in derived_pairs(self.keys, self.ids):
            groups.extend((2, i, j))
        return groups

    def decide(self, gran: Granularity | None = None) -> Decisions:
        """Sort the identifiers and link the clusters: the serial part of the output.

        Only identifiers linked to another (:meth:`link_groups`; ``gran``: the build's
        granularity tables, by default the bundled platforms) are decided here (a cluster
        links listed identifiers only); :meth:`records` decides the rest as it goes, so that
        part of the work is spread over the shards.
        """
        n = len(self.keys)
        self._mark_warninglisted()
        order = sorted(range(n), key=self.keys.__getitem__)
        rank = array("I", bytes(4 * n))
        for r, i in enumerate(order):
            rank[i] = r
        groups, members = self.link_groups(gran), set[int]()
        g, total = 0, len(groups)
        while g < total:
            size = groups[g]
            members.update(groups[g + 1 : g + 1 + size])
            g += 1 + size
        decided: dict[int, tuple[Level, tuple[ReasonCode, ...]]] = {}
        decide = self._decider()
        for i in sorted(members):
            d = decide(i, self.reporters(i))
            if d is not None:
                decided[i] = d
        hub = self.policy.hub_reports
        allow, count = self.allow, self.count

        def linkable(i: int) -> bool:
            return i in decided and i not in allow and count[i] <= hub

        clusters = cluster_ids(n, groups, linkable, rank)
        return Decisions(order, decided, frozenset(members), clusters)

    def strings(self) -> list[str]:
        """Every reason, category and source name a record can carry, in a fixed order (for
        :meth:`~scameter.index.SnapshotBuilder.intern`: string ids then do not depend on which
        record comes first, so sharded and serial builds write the same bytes)."""
        return [
            *(code.value for code in ReasonCode),
            *sorted(self.category_bits),
            *SOURCES,
        ]

    def records(
        self, gran: Granularity, decisions: Decisions | None = None, *, shard: int = 0,
        shards: int = 1,
    ) -> Iterator[Record]:  # fmt: skip
        """The decided records, sorted by ``kind:canonical`` (see :meth:`fields`)."""
        for kind, value, valid, *rest in self.fields(gran, decisions, shard=shard, shards=shards):
            yield Record(Identifier(kind, value, valid), *rest)

    def fields(
        self, gran: Granularity, decisions: Decisions | None = None, *, shard: int = 0,
        shards: int = 1,
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        """Each decided record as the tuple ``(kind, value, valid, level, reasons, categories,
        sources, report_count, reporters, first, last, cluster, listing, owner, case_ids,
        case_count)``, sorted by
        ``kind:canonical`` (what :meth:`SnapshotBuilder.add_fields` takes, without building
        millions of objects).

        With ``shards`` > 1 only every ``shards``-th record from position ``shard`` on: the
        shards together are exactly the unsharded stream (each record is a function of the
        identifier's own state and ``decisions`` only).
        """
        if decisions is None:
            decisions = self.decide(gran)
        decided, clusters, early = decisions.decided, decisions.clusters, decisions.early
        decide = self._decider()
        cat_names = sorted(self.category_bits.items(), key=lambda kv: kv[1])
        # Few distinct bitmasks in practice: build each names tuple once.
        cat_cache: dict[int, tuple[str, ...]] = {}
        src_cache: dict[int, tuple[str, ...]] = {}
        kinds = {k.value: k for k in Kind}
        # Locals: this loop runs once per identifier in the snapshot.
        keys, allow, invalid, delisted = self.keys, self.allow, self.invalid, self.delist
        cats_of, srcs_of, count, first, last = (
            self.cats,
            self.srcs,
            self.count,
            self.first,
            self.last,
        )
        reporters_of, cases_of = self.reporters, self.case_ids
        order = decisions.order
        for r in range(shard, len(order), shards):
            i = order[r]
            reporters = reporters_of(i)
            d = decided.get(i) if i in early else decide(i, reporters)
            if d is None:
                continue
            key = keys[i]
            kind, _, value = key.partition(":")
            listing = None
            if kind in {"url", "domain"}:
                listing = (
                    _allow_listing(kind, value, gran) if i in allow else listing_for_key(key, gran)
                )
            cbits, sbits = cats_of[i], srcs_of[i]
            cats = cat_cache.get(cbits)
            if cats is None:
                cats = cat_cache[cbits] = tuple(sorted(nm for nm, b in cat_names if cbits & b))
            srcs = src_cache.get(sbits)
            if srcs is None:
                srcs = src_cache[sbits] = tuple(
                    sorted(SOURCES[s] for s in range(len(SOURCES)) if sbits >> s & 1)
                )
            f, la, n = first[i], last[i], count[i]
            case_ids, case_count = cases_of(i)
            if i in delisted and i not in allow:
                n, f, la, reporters = self._relisted_counts(i)
                case_ids, case_count = self.case_ids(i, self.delist[i])
            yield (
                kinds[kind],
                value,
                i not in invalid,
                d[0],
                d[1],
                cats,
                srcs,
                n,
                reporters,
                None if f == _NEVER else f,
                None if la == _NEVER else la,
                clusters.get(r),
                listing,
                allow.get(i),
                case_ids,
                case_count,
            )


_WARNINGLIST_CODES = frozenset(REASONS.values())


def _worst(
    found: list[tuple[Level, ReasonCode]], warninglisted: bool
) -> tuple[Level, tuple[ReasonCode, ...]]:
    """The worst level found, with every distinct reason in order."""
    level = found[0][0]
    reasons_list = [found[0][1]]
    for lv, code in found[1:]:
        if SEVERITY[lv] > SEVERITY[level]:
            level = lv
        if code not in reasons_list:
            reasons_list.append(code)
    if warninglisted and SEVERITY[level] > SEVERITY[Level.POSSIBLE]:
        # Another rule (public reporters) reached the level: the list held nothing back.
        reasons_list = [c for c in reasons_list if c not in _WARNINGLIST_CODES]
    return level, tuple(reasons_list)


def _appealed(found: list[tuple[Level, ReasonCode]]) -> tuple[Level, tuple[ReasonCode, ...]]:
    """A listing resting only on public reports, appealed by enough distinct reporters: one
    level lower (SUSPICIOUS -> POSSIBLE; POSSIBLE is the floor: appeals never delist), with
    the reason ``appealed`` after the public-reports one."""
    (level, code), *_ = found
    return _at_most_possible(level), (code, ReasonCode.APPEALED)


def _at_most_possible(level: Level) -> Level:
    return level if SEVERITY[level] <= SEVERITY[Level.POSSIBLE] else Level.POSSIBLE


def _allow_listing(kind: str, value: str, gran: Granularity) -> str:
    # An official domain is verified as the host it names (``hsbc.com.hk/``), even when it is a
    # popular site; an official URL keeps the platform granularity.
    if kind == "domain":
        return value + "/"
    return gran.listing_for_url(value) or value.split("://", 1)[-1]


__all__ = ["Aggregator", "Decisions", "Stats"]
