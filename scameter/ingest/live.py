"""The live fold: intake-log reports into the delta every server worker layers over its base.

Responsibility: :class:`LiveFolder` (run by ``scameter serve --intake-log`` in one child
process, :func:`run_folder`) reads the reports appended to the intake log after the delta's
cursor, turns them into events with the ingest worker's own code (:func:`process_chunk`, the
``intake`` format: the same normalisation, categories and derived identifiers), and re-decides
every identifier they name with one :class:`Aggregator` per fold (the base snapshot's ingest
policy, ``as_of`` = now) over those identifiers' complete evidence: the base snapshot's
``evidence`` plus every new event of them. The records it gets (or their absence) go to the delta
(:mod:`scameter.index.delta`), which the workers follow. docs/architecture.md, "Live updates".

Invariants:

* Exact by construction: a touched identifier's delta record is what a full ingest of the
  same inputs at the same ``as_of`` decides for it (the same code over the same events);
  the workers derive the near-match entries of the delta's records as the builder does
  (:class:`~scameter.index.delta.Overlay`); a fold that changes whether a number is listed
  moves the live counts of its prefix blocks, which start at the build's count
  (:mod:`scameter.ingest.liveranges`). Cluster
  links among the identifiers a touched one's reports name are the build's, joined to the
  clusters their members were in (:mod:`scameter.ingest.liveclusters`: same size, worst
  level, ``CLUSTER_LINK``, for untouched members too), and so are links on a shared
  registrable domain, ``hub_reports`` included (:mod:`scameter.ingest.livedomains`, over the
  base's domain-link index); ids are the base's or a delta id, and what else waits for
  compaction is in docs/architecture.md, "Clusters in the delta".
* One write transaction per fold: the records, the new events, the generation's log entry
  and the cursor commit together (one fsync, no meta-page fsync: :func:`open_delta`). A crash
  loses nothing: the intake log is the truth and the next fold starts again at the committed
  cursor (after a power cut possibly one fold earlier).
* A report the fold cannot use (an invalid identifier) is appended to ``rejects.jsonl`` in
  the live directory with its reason, and never blocks the others. A crash between that
  append and the commit may list it twice, never zero times.
* A new base (CURRENT moved) resets the delta to the base's intake cursor (the sequence
  number its ingest read up to; -1 when it read no intake log). A base without evidence
  (older, or ``ingest --no-evidence``) disables folding with one warning.
* An allowlisted (VERIFIED) identifier that is reported gets the record a full build writes
  to ``allow`` (VERIFIED, the report counts, ``SPOOF_ADVICE``), which the workers answer as
  the allowlist's: an exact kind by its key, a URL or domain where the base's allow entry
  of that key answers (never as a listing expression of its own).
* Appeals (the Appeal RPC) in the log are applied to every identifier a fold re-decides, as
  ingest applies them; an identifier a new appeal names (after the delta's ``appeal_cursor``,
  every appeal after a reset) is re-decided too, from its base evidence and the delta's
  events, when it has any.
* Held reports are not in the log until released (:meth:`IntakeLog.release_held`), so they
  count in neither path until then.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from scameter.durable import write_durably
from scameter.errors import ScameterError, SnapshotError
from scameter.identifiers.model import KIND_TAGS
from scameter.index import Snapshot
from scameter.index import format as fmt
from scameter.index.builder import _expression
from scameter.index.delta import (
    DB_CLOG,
    DB_CLUSTERS,
    DB_DOMAINS,
    DB_EVENTS,
    DB_LOG,
    DB_META,
    DB_RANGES,
    DB_RECORDS,
    DB_RLOG,
    DELTA_CLUSTER_BIT,
    GEN_KEY,
    LISTED,
    REMOVED,
    SPLIT_DBS,
    open_delta,
)
from scameter.index.publish import current_id
from scameter.index.urlmatch import expression_entry
from scameter.ingest.adapters import AdapterOptions, appeal_tuples
from scameter.ingest.aggregate import Aggregator
from scameter.ingest.clusters import domain_link_key
from scameter.ingest.evidence import decode_events, encode_event, event_keys, wire_key_id
from scameter.ingest.granularity import Granularity
from scameter.ingest.liveclusters import Cluster, LiveClusters, assign
from scameter.ingest.livedomains import LiveDomains
from scameter.ingest.liveranges import RangeCounter, delta_listed
from scameter.ingest.livesplits import SPLIT_MAX_REPORTS, SplitIndex, open_clusters
from scameter.ingest.pipeline import DEFAULT_REPORTER_KEY, _warninglists
from scameter.ingest.policy import policy_from_mapping
from scameter.ingest.warninglists import Warninglists
from scameter.ingest.worker import process_chunk
from scameter.intake import IntakeLog
from scameter.processes import die_with_parent
from scameter.times import utc_now

log = logging.getLogger("scameter.live")

#: Reports read per fold (one write transaction): bounds a fold's time and memory.
FOLD_BATCH = 5_000
REJECTS_FILE = "rejects.jsonl"
DELTA_DIR = "delta"


class _Base:
    """The base snapshot a fold decides against: its policy, lists and evidence."""

    def __init__(self, snap: Snapshot, snapshots_root: Path, cache_dir: Path | None) -> None:
        self.snap = snap
        data = {k: v for k, v in snap.manifest.ingest_policy.items() if v is not None}
        self.policy = policy_from_mapping(_lists_to_tuples(data), where="snapshot ingest policy")
        self.lists: Warninglists
        self.lists, self.lists_key = _warninglists(self.policy, snapshots_root, cache_dir)
        self.gran = Granularity.default(
            self.policy.extra_shared_platforms, self.policy.extra_top_sites, self.lists
        )
        #: The phone-range entries of the blocks a fold changes (liveranges).
        self.ranges = RangeCounter(snap.reader)


def _lists_to_tuples(data: dict[str, Any]) -> dict[str, Any]:
    """A manifest's ingest policy as :func:`policy_from_mapping` reads it (its ``index`` is a
    table of settings, its levels strings)."""
    return {k: (dict(v) if k == "index" else v) for k, v in data.items()}


class LiveFolder:
    """Folds the intake log at ``intake_path`` into the delta under ``live_dir``."""

    def __init__(
        self,
        snapshots_root: Path,
        intake_path: Path,
        live_dir: Path,
        *,
        reporter_key: bytes = DEFAULT_REPORTER_KEY,
        cache_dir: Path | None = None,
        batch: int = FOLD_BATCH,
        split_max_reports: int = SPLIT_MAX_REPORTS,
    ) -> None:
        self.snapshots_root = Path(snapshots_root)
        self.intake_path = Path(intake_path)
        self.live_dir = Path(live_dir)
        self.live_dir.mkdir(parents=True, exist_ok=True)
        self.reporter_key = reporter_key
        self.cache_dir = cache_dir
        self.batch = batch
        #: The most reports a live split re-decides (``serve --live-split-max-reports``; 0:
        #: no split live).
        self.split_max_reports = split_max_reports
        self._env, self._dbs = open_delta(self.live_dir / DELTA_DIR, readonly=False)
        self._intake: IntakeLog | None = None
        self._base: _Base | None = None
        self._warned: str | None = None
        #: Reports folded and rejected since start (for logs and tests).
        self.folded = 0
        self.rejected = 0

    # -- state ----------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        """The delta's ``meta`` (base, epoch, generation, cursor, strings)."""
        with self._env.begin(db=self._dbs[DB_META], buffers=False) as txn:
            return {bytes(k).decode(): json.loads(v) for k, v in txn.cursor()}

    def _base_now(self) -> _Base | None:
        """The base snapshot CURRENT names (reopened when it moved); None when there is none
        or it has no evidence (warned once)."""
        try:
            sid = current_id(self.snapshots_root)
        except SnapshotError:
            return None
        if self._base is not None and self._base.snap.id == sid:
            return self._base
        if self._base is not None:
            self._base.snap.close()
            self._base = None
        snap = Snapshot.open(self.snapshots_root / sid, verify=False)
        if snap.reader.evidence is None:
            if self._warned != sid:
                log.warning(
                    "live updates off: snapshot %s has no evidence (built before live updates "
                    "or with --no-evidence); reports count at the next ingest",
                    sid,
                )
                self._warned = sid
            snap.close()
            return None
        self._base = _Base(snap, self.snapshots_root, self.cache_dir)
        return self._base

    def _reset(self, base: _Base) -> None:
        """Empty the delta and restart it at ``base``'s intake cursor."""
        cursor = base.snap.reader.intake_cursors.get(os.path.realpath(self.intake_path), -1)
        with self._env.begin(write=True) as txn:
            for name in (DB_RECORDS, DB_EVENTS, DB_LOG, DB_RANGES, DB_RLOG, DB_CLUSTERS, DB_CLOG,
                         DB_DOMAINS, *SPLIT_DBS):  # fmt: skip
                txn.drop(self._dbs[name], delete=False)
            meta = self._dbs[DB_META]
            txn.drop(meta, delete=False)
            for k, v in {
                "base": base.snap.id,
                "epoch": secrets.token_hex(8),
                "generation": 0,
                "cursor": cursor,
                "strings": [],
                "splits": True,  # the split index is kept from here on (livesplits)
            }.items():
                txn.put(k.encode(), json.dumps(v).encode(), db=meta)
        log.info("live delta reset", extra={"base": base.snap.id, "cursor": cursor})

    # -- folding --------------------------------------------------------------------------

    def fold_once(self, now: datetime | None = None) -> int:
        """Fold the reports after the cursor (at most :attr:`batch`); how many were read."""
        base = self._base_now()
        if base is None:
            return 0
        meta = self.meta()
        if meta.get("base") != base.snap.id:
            self._reset(base)
            meta = self.meta()
        if self._intake is None:
            if not (self.intake_path / "data.mdb").is_file():
                return 0
            self._intake = IntakeLog(self.intake_path, readonly=True)
        rows = list(self._intake.iter_after(int(meta["cursor"]), self.batch))
        appeal_cursor = int(meta.get("appeal_cursor", -1))
        last_appeal = self._intake.last_appeal_seq()
        if not rows and last_appeal == appeal_cursor:
            return 0
        when = (now or utc_now()).replace(microsecond=0)
        opts = AdapterOptions(
            reporter_key=self.reporter_key,
            extra_platforms=base.policy.extra_shared_platforms,
            extra_top_sites=base.policy.extra_top_sites,
            as_of=int(when.timestamp()),
            warninglists=base.lists_key,
            provider=self.intake_path.name,
        )
        events: list[tuple[Any, ...]] = []
        if rows:
            res = process_chunk("intake", opts, str(self.intake_path), 0, rows)
            self._write_rejects(res.rejects)
            events = res.events
            self.rejected += res.rejected_rows
        appeals: dict[str, list[tuple[str, str, int]]] = {}
        appealed: set[str] = set()  # named by an appeal this delta has not re-decided yet
        for row, appeal in zip(*_appeal_rows(self._intake), strict=True):
            appeals.setdefault(appeal[0], []).append(appeal)
            if _appeal_seq(row) > appeal_cursor:
                appealed.add(appeal[0])
        meta["appeal_cursor"] = last_appeal
        cursor = rows[-1][0] if rows else int(meta["cursor"])
        self._commit(base, events, cursor, when, meta=meta, appeals=appeals, appealed=appealed)
        self.folded += len(rows)
        return len(rows)

    def _write_rejects(self, rejects: list[tuple[int, str, str]]) -> None:
        if not rejects:
            return
        lines = "".join(
            json.dumps({"seq": seq, "reason": reason, "raw": raw}, ensure_ascii=False) + "\n"
            for seq, reason, raw in rejects
        )
        write_durably(self.live_dir / REJECTS_FILE, lines.encode("utf-8"), append=True)

    def _commit(
        self,
        base: _Base,
        events: list[tuple[Any, ...]],
        cursor: int,
        when: datetime,
        *,
        meta: dict[str, Any],
        appeals: dict[str, list[tuple[str, str, int]]],
        appealed: set[str] | None = None,
    ) -> None:
        """Decide every identifier ``events`` name, and every one of ``appealed`` (keys a new
        appeal names) the base or the delta holds events of; write the delta in one
        transaction."""
        by_key: dict[bytes, list[bytes]] = {}
        wire: dict[bytes, str] = {}
        for ev in events:
            blob = encode_event(ev)
            for k in event_keys(ev):
                plain = k[1:] if k[:1] == "~" else k
                ikey = wire_key_id(plain)
                wire[ikey] = plain
                by_key.setdefault(ikey, []).append(blob)
        strings: list[str] = list(meta.get("strings", []))
        generation = int(meta.get("generation", 0)) + 1
        with self._env.begin(write=True) as txn:
            touched: dict[bytes, bytes] = {}
            for ikey, blobs in sorted(by_key.items()):
                old = txn.get(ikey, db=self._dbs[DB_EVENTS])
                merged = _append_events(old, blobs)
                txn.put(ikey, merged, db=self._dbs[DB_EVENTS])
                touched[ikey] = merged
            for plain in sorted(appealed or ()):
                ikey = wire_key_id(plain)
                if ikey in by_key:
                    continue
                # An appeal of an identifier no new report names: re-decided from its base
                # evidence and the delta's events of it, when it has any (else nothing lists
                # it and the appeal changes nothing).
                old = txn.get(ikey, db=self._dbs[DB_EVENTS])
                if old is None and base.snap.reader.evidence_of(ikey) is None:
                    continue
                wire[ikey] = plain
                touched[ikey] = bytes(old) if old is not None else b""
            index = SplitIndex(
                base.snap.reader, txn, self._dbs, self._dbs[DB_RECORDS],
                enabled=bool(meta.get("splits")), bound=self.split_max_reports,
            )  # fmt: skip
            values, live, domains = self._decide_joined(
                base, txn, touched, wire=wire, when=when, strings=strings, appeals=appeals,
                index=index,
            )  # fmt: skip
            for ekey, entry in domains.items():
                txn.put(ekey, entry, db=self._dbs[DB_DOMAINS])
            changes = _range_changes(base, txn, self._dbs[DB_RECORDS], values, wire)
            for ikey, value in values.items():
                index.record_written(ikey, txn.get(ikey, db=self._dbs[DB_RECORDS]), value)
                txn.put(ikey, value, db=self._dbs[DB_RECORDS])
            put = txn.put
            if changes:
                rdb = self._dbs[DB_RANGES]
                ranges = base.ranges.counts(changes, lambda k: txn.get(k, db=rdb))
                for rkey, count in ranges.items():
                    put(rkey, count, db=rdb)
                put(GEN_KEY.pack(generation), b"\n".join(ranges), db=self._dbs[DB_RLOG])
            index.entries_written(live.written, live.original)
            self._put_clusters(txn, generation, live.encoded())
            mdb = self._dbs[DB_META]
            put(GEN_KEY.pack(generation), b"".join(values), db=self._dbs[DB_LOG])
            put(b"generation", json.dumps(generation).encode(), db=mdb)
            put(b"cursor", json.dumps(cursor).encode(), db=mdb)
            put(b"appeal_cursor", json.dumps(meta.get("appeal_cursor", -1)).encode(), db=mdb)
            put(b"strings", json.dumps(strings).encode(), db=mdb)

    def _decide_joined(
        self,
        base: _Base,
        txn: Any,
        touched: dict[bytes, bytes],
        *,
        wire: dict[bytes, str],
        when: datetime,
        strings: list[str],
        appeals: dict[str, list[tuple[str, str, int]]],
        index: SplitIndex,
    ) -> tuple[dict[bytes, bytes], LiveClusters, dict[bytes, bytes]]:
        """:meth:`_decide` of ``touched``, its domain peers (:class:`LiveDomains`, or
        :func:`_domain_peers` over a base without the domain-link index), the listed
        identifiers the live clusters it makes take in (``LiveClusters.joiners``) and the
        members of the live clusters it opens (a member left, or a domain link went:
        :func:`~scameter.ingest.livesplits.open_clusters`), each from its complete
        evidence and the delta's events of it (its cluster changes, so it is re-decided
        too); with the delta's new ``domains`` entries."""
        domains = None
        if base.snap.reader.has_domain_links:
            domains = LiveDomains(
                base.snap.reader, base.gran, base.policy.hub_reports,
                records=lambda k: txn.get(k, db=self._dbs[DB_RECORDS]),
                events=lambda k: txn.get(k, db=self._dbs[DB_EVENTS]),
                domains=lambda k: txn.get(k, db=self._dbs[DB_DOMAINS]),
            )  # fmt: skip
            peers = domains.peers(touched, [wire[k] for k in touched])
        else:
            peers = _domain_peers(base, touched, wire)
        counted: dict[str, int] = {}
        opened: set[int] = set()
        refused: set[int] = set()  # too large to re-check live: they wait for compaction
        for round_ in range(_JOIN_ROUNDS):
            for ikey, plain in peers:
                old = txn.get(ikey, db=self._dbs[DB_EVENTS])
                wire[ikey] = plain
                touched[ikey] = bytes(old) if old is not None else b""
            live = LiveClusters(
                base.snap.reader,
                lambda k: txn.get(k, db=self._dbs[DB_RECORDS]),
                lambda k: txn.get(k, db=self._dbs[DB_CLUSTERS]),
                wire,
                frozenset(opened),
            )
            values, counted = self._decide(
                base, touched, live, wire=wire, when=when, strings=strings, appeals=appeals,
                domains=domains,
            )  # fmt: skip
            peers = [(k, wire[k]) for k in sorted(live.joiners - touched.keys())]
            grew = False
            if round_ < _JOIN_ROUNDS - 1:  # a cluster opened now is decided in a next round
                more = len(opened)
                peers += open_clusters(live, index, domains, touched=touched, wire=wire,
                                       counted=counted, opened=opened, refused=refused)  # fmt: skip
                grew = len(opened) > more
            if not peers and not grew:
                break
        new = {} if domains is None else domains.entries({k: wire[k] for k in touched}, counted)
        return values, live, new

    def _put_clusters(self, txn: Any, generation: int, entries: dict[bytes, bytes]) -> None:
        """Write the cluster entries a fold changed and their generation's log entry."""
        if not entries:
            return
        cdb = self._dbs[DB_CLUSTERS]
        for ckey, entry in entries.items():
            txn.put(ckey, entry, db=cdb)
        txn.put(GEN_KEY.pack(generation), b"".join(entries), db=self._dbs[DB_CLOG])

    def _decide(
        self,
        base: _Base,
        touched: dict[bytes, bytes],
        live: LiveClusters,
        *,
        wire: dict[bytes, str],
        when: datetime,
        strings: list[str],
        appeals: dict[str, list[tuple[str, str, int]]],
        domains: LiveDomains | None = None,
    ) -> tuple[dict[bytes, bytes], dict[str, int]]:
        """The delta value of every touched identifier (key -> its stored new events, in key
        order): its record decided over base evidence + new events, or a removal marker;
        and the aggregator's identifiers (``kind:canonical`` -> id: those that count).
        ``domains``: the domain-link index, which decides whether a domain links as in a
        build (``None``: a base without it; the fold's own identifiers decide).

        One :class:`Aggregator` decides them all, over the union of their events
        (:func:`_union_events`: an event that names two touched identifiers counts once, as
        in a full build); a record depends only on its identifier's own events, so each is
        what a full build decides for it."""
        evidence_of = base.snap.reader.evidence_of
        agg = Aggregator(base.policy, when, base.lists)
        if domains is not None:
            agg.domain_linkable = domains.linkable
        agg.add_events(_union_events(
            decode_events(evidence_of(ikey)) + decode_events(new) for ikey, new in touched.items()
        ))  # fmt: skip
        # The log's appeals of the touched identifiers, as ingest applies them.
        agg.add_appeals([a for ikey in touched for a in appeals.get(wire[ikey], ())])
        wanted = {wire[ikey]: ikey for ikey in touched}
        listed: dict[bytes, tuple[Any, ...]] = {}
        decisions = agg.decide(base.gran)
        for fields in agg.fields(base.gran, decisions):
            ikey = wanted.get(f"{fields[0].value}:{fields[1]}")
            if ikey is not None:  # VERIFIED too: an allowlisted exact kind's report counts
                listed[ikey] = fields
        clusters = assign(live, agg, decisions, listed, touched, gran=base.gran)
        out: dict[bytes, bytes] = {}
        for ikey in touched:
            rec = listed.get(ikey)
            out[ikey] = (
                _removal(base, ikey) if rec is None
                else LISTED + _pack(rec, strings, clusters.get(ikey))
            )  # fmt: skip
        return out, agg.ids

    def run(self, stop: threading.Event, interval: float) -> None:
        """Fold every ``interval`` seconds (at once again while reports are waiting) until
        ``stop``; a failing fold is logged and retried (the intake log keeps everything).
        The base (its policy, warninglists) is opened first, before any report waits."""
        try:
            self._base_now()
        except (ScameterError, OSError, ValueError) as e:
            log.error("live fold cannot open the base yet", extra={"error": str(e)})
        while not stop.is_set():
            try:
                n = self.fold_once()
            except (ScameterError, OSError, ValueError) as e:
                log.error("live fold failed; retrying", extra={"error": str(e)})
                n = 0
            if n < self.batch:
                stop.wait(interval)

    def close(self) -> None:
        if self._intake is not None:
            self._intake.close()
        if self._base is not None:
            self._base.snap.close()
        self._env.close()


#: The kinds that link through their registrable domain (``clusters.domain_link_key``).
_DOMAIN_LINKED = ("url:", "domain:", "email:")
#: Rounds of re-deciding the listed identifiers a live cluster takes in (each round's
#: aggregator links what the last one brought in; two settle every case the tests know),
#: and the members of the clusters it opens (one round more).
_JOIN_ROUNDS = 4


def _domain_peers(
    base: _Base, touched: dict[bytes, bytes], wire: dict[bytes, str]
) -> list[tuple[bytes, str]]:
    """Over a base built before the domain-link index (no ``domlinks``; with it:
    :meth:`LiveDomains.peers`): (key, ``kind:value``) of the base identifiers a touched URL,
    domain or e-mail address links to through its registrable domain
    (:func:`~scameter.ingest.clusters.domain_link_key`) that are not touched: the listed and
    the allowlisted record the base's ``urlexpr`` holds under that host-level expression (a
    listed one stands for its base cluster, which every other linked identifier on the
    domain is in; an allowlisted one keeps the domain from linking, as in a build). The
    fold re-decides them from their complete evidence, so the aggregator links them as a
    build does and their records carry the joined cluster."""
    links: set[str] = set()
    for ikey in touched:
        plain = wire[ikey]
        if plain.startswith(_DOMAIN_LINKED):
            link = domain_link_key(plain, base.gran)
            if link is not None:
                links.add(link)
    out: dict[bytes, str] = {}
    reader = base.snap.reader
    for link in sorted(links):
        for key, table in zip(expression_entry(reader, link), _TABLES, strict=True):
            buf = None if key is None or key in touched else reader.get(table, key)
            if key is not None and buf is not None and reader.evidence_of(key) is not None:
                kind = fmt.KIND_BY_TAG[buf[0]]
                out[key] = f"{kind.value}:{fmt.record_canonical(buf)}"
    return sorted(out.items())


#: The tables of ``expression_entry``'s listed and allowlisted keys.
_TABLES = (fmt.TABLE_RECORDS, fmt.TABLE_ALLOW)


def _range_changes(
    base: _Base, txn: Any, records: Any, values: dict[bytes, bytes], wire: dict[bytes, str]
) -> list[tuple[str, int]]:
    """(number, +1 / -1) of every phone number whose listing ``values`` change (read before
    they are written): whether it counts in its ranges (:mod:`scameter.ingest.liveranges`)."""
    out: list[tuple[str, int]] = []
    counter = base.ranges
    for ikey, value in values.items():
        plain = wire[ikey]
        if not plain.startswith("phone:"):
            continue
        number = plain[6:]
        if not counter.has_blocks(number):
            continue
        old = txn.get(ikey, db=records)
        before = counter.base_listed(ikey, number) if old is None else delta_listed(old, number)
        after = delta_listed(value, number)
        if before != after:
            out.append((number, 1 if after else -1))
    return out


def _removal(base: _Base, ikey: bytes) -> bytes:
    """The delta value of an identifier nothing lists any more: a removal, with the base
    listing's expression (if any)."""
    buf = base.snap.reader.get(fmt.TABLE_RECORDS, ikey)
    expr = ""
    if buf is not None:
        rec = base.snap.reader.to_record(buf, fmt.TABLE_RECORDS)
        expr = _expression(rec.identifier.kind, rec.identifier.value, rec.listing) or ""
    return REMOVED + expr.encode("utf-8")


def _appeal_rows(intake: IntakeLog) -> tuple[list[dict[str, Any]], list[tuple[str, str, int]]]:
    """The log's appeals as rows and as :func:`appeal_tuples` (a row it cannot read is left
    out of both, as ingest leaves it out)."""
    rows = [r for r in intake.iter_appeals() if appeal_tuples([r])]
    return rows, appeal_tuples(rows)


def _appeal_seq(row: dict[str, Any]) -> int:
    """The sequence number of an appeal row (its id is ``appeal-<seq>-<digest>``)."""
    try:
        return int(str(row["id"]).split("-")[1])
    except (KeyError, IndexError, ValueError):
        return -1


def _union_events(per_key: Iterable[list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """One event list for several identifiers' event lists: each distinct event as many
    times as the identifier holding it most often has it. An event naming several
    identifiers is filed under each of them, always whole (evidence and the delta's events
    keep every event that names the key), so it appears in each list the same number of
    times (the number of identical reports): the maximum is that number, and two identical
    reports still count twice."""
    most: dict[tuple[Any, ...], int] = {}
    for events in per_key:
        if len(events) == 1:
            ev = events[0]
            if ev not in most:
                most[ev] = 1
            continue
        for ev, n in Counter(events).items():
            if n > most.get(ev, 0):
                most[ev] = n
    return [ev for ev, n in most.items() for _ in range(n)]


def _append_events(old: bytes | None, blobs: list[bytes]) -> bytes:
    """A stored JSON array of events with ``blobs`` appended."""
    body = b",".join(blobs)
    if not old or old == b"[]":
        return b"[" + body + b"]"
    return bytes(old[:-1]) + b"," + body + b"]"


def _pack(fields: tuple[Any, ...], strings: list[str], cluster: Cluster | None) -> bytes:
    """A record's fields (:meth:`Aggregator.fields`) packed and sealed as a snapshot stores
    them, its labels interned in ``strings`` (append-only: older records keep their ids);
    ``cluster`` (id, size and worst level patched in as the snapshot writer does), ordinal 0;
    the fields after ``owner`` (case ids, case count) as they come."""
    (kind, value, valid, level, reasons, cats, srcs, n, reporters, first, last, _cluster,
     listing, owner, *more) = fields  # fmt: skip
    ids = {s: i for i, s in enumerate(strings)}

    def sid(text: str) -> int:
        i = ids.get(text)
        if i is None:
            i = ids[text] = len(strings)
            strings.append(text)
        return i

    block = fmt.label_block(
        [sid(r.value) for r in reasons], [sid(c) for c in cats], [sid(s) for s in srcs]
    )
    body = fmt.pack_record(
        KIND_TAGS[kind][0], fmt.LEVEL_CODES[level], value.encode("utf-8"), valid, block, n,
        reporters, first, last, None if cluster is None else cluster[0], listing, owner, *more,
    )  # fmt: skip
    if cluster is None:
        return fmt.seal(body)
    buf = bytearray(body)
    fmt.U32.pack_into(buf, fmt.OFF_CLUSTER_SIZE, cluster[1])
    buf[fmt.OFF_CLUSTER_WORST] = fmt.LEVEL_CODES[cluster[2]]
    return fmt.seal(buf)


def run_folder(  # noqa: PLR0917 - the target of one Process
    snapshots_root: Path,
    intake_path: Path,
    live_dir: Path,
    interval: float,
    reporter_key: bytes,
    parent: int,
    priority: str = "idle",
    split_max_reports: int = SPLIT_MAX_REPORTS,
) -> None:
    """Child process of ``serve``: fold until SIGTERM or until the server dies."""
    import signal

    die_with_parent(parent)
    lower_priority(priority)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops us after draining
    folder = LiveFolder(
        snapshots_root,
        intake_path,
        live_dir,
        reporter_key=reporter_key,
        split_max_reports=split_max_reports,
    )
    try:
        folder.run(stop, interval)
    finally:
        folder.close()


def lower_priority(priority: str) -> None:
    """Lookups first (``serve --fold-priority``): ``idle`` runs this process only on CPU
    nothing else wants (Linux ``SCHED_IDLE``: a waking Check handler preempts it at once, so
    folding adds nothing to a lookup's tail, docs/benchmarks.md "Round 8 after the merge"),
    ``low`` at nice 10 (a share of a saturated machine, so it lags less there). Either way
    it may lag; the intake log keeps every report until it catches up. Where ``SCHED_IDLE``
    does not exist, ``idle`` is nice 19."""
    if priority == "idle" and hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.nice(19 if priority == "idle" else 10)


def iter_rejects(live_dir: Path) -> Iterator[dict[str, Any]]:
    """The live fold's rejects (``seq``, ``reason``, ``raw``), oldest first."""
    path = Path(live_dir) / REJECTS_FILE
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


__all__ = [
    "DELTA_CLUSTER_BIT",
    "DELTA_DIR",
    "FOLD_BATCH",
    "REJECTS_FILE",
    "LiveFolder",
    "iter_rejects",
    "run_folder",
]
