"""Private lookups (``SearchHashes``) over a live delta answer as a full build of the same
inputs: listed, raised, lowered, delisted and never-listed identifiers, by their prefixes."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path

from scameter.identifiers import Identifier, normalize
from scameter.index import Snapshot
from scameter.index.hashes import lookup_hashes, prefixes
from scameter.index.hashsearch import HashMatch, search
from scameter.ingest.pipeline import run_ingest
from scameter.intake import IntakeLog
from scameter.verdict import Level
from tests.unit.ingest.test_live import NOW, _append, _base, _fold, _layered, _roots, _row

OFFICIAL = "+85261234100"
RAISED, LOWERED, DROPPED, NEW, NEVER, KEPT = (f"+8529123420{i}" for i in range(6))
URL, DOMAIN, EMAIL, CO_PHONE = (
    "https://evil-hs.example/login",
    "evil-hs.example",
    "scam@evil-hs.example",
    "+85262220077",
)
BASE_ROWS = [
    {"type": "allow", "kind": "phone", "value": OFFICIAL, "owner": "Example Bank"},
    _row(RAISED, "phone", 0),
    *(_row(LOWERED, "phone", i) for i in range(1, 4)),
    _row(DROPPED, "phone", 4, days=179),  # ages out by LATER
    _row(KEPT, "phone", 5, source="police"),
    _row(URL, "url", 6),
    _row(EMAIL, "email", 7, days=3),
]
#: When the fold runs and the full build is made: DROPPED's one report is out of the window.
LATER = NOW + timedelta(days=2)
#: (kind, value) of every identifier asked about.
ASKED = [
    ("phone", v) for v in (OFFICIAL, RAISED, LOWERED, DROPPED, NEW, NEVER, KEPT, CO_PHONE)
] + [("url", URL), ("url", "http://www.evil-hs.example/other"), ("domain", DOMAIN),
     ("email", EMAIL)]  # fmt: skip


def _reports(log: IntakeLog) -> None:
    for i in range(2):
        _append(log, ("phone", RAISED), 10 + i)
    for i in range(3):
        _append(log, ("phone", OFFICIAL), 20 + i, category="impersonation")
    _append(log, ("phone", NEW), 30)
    for i in range(3):
        _append(log, ("url", URL), 40 + i, category="phishing")
    _append(log, [("email", EMAIL), ("phone", CO_PHONE)], 50)
    for i in range(5):
        log.append_appeal(identifier=("phone", LOWERED), reason="not mine",
                          reporter_hash=f"{60 + i:032x}", appealed_at=NOW)  # fmt: skip
    # a report too old to count: DROPPED is re-decided at LATER, and nothing lists it
    _append(log, ("phone", DROPPED), 70, at=NOW - timedelta(days=200))


def _ident(kind: str, value: str) -> Identifier:
    return normalize(kind, value)


def _prefixes(kind: str, value: str) -> list[bytes]:
    ident = _ident(kind, value)
    return prefixes(lookup_hashes(ident), ident.kind)


def _mine(matches: list[HashMatch], kind: str, value: str) -> list[HashMatch]:
    """The matches the client keeps for ``value``: those of its own full hashes."""
    own = set(lookup_hashes(_ident(kind, value)))
    return [m for m in matches if m.full_hash in own]


def _levels(snap: Snapshot, kind: str, value: str) -> list[tuple[Level, int]]:
    """(level, report count) of what ``snap`` answers for ``value``'s own hashes."""
    found = _mine(search(snap.reader, _prefixes(kind, value)), kind, value)
    return [(m.level, m.report_count) for m in found]


def test_search_over_a_live_delta_equals_a_full_build(tmp_path: Path) -> None:
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, BASE_ROWS)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            _reports(log)
    _fold(live_dir, snaps, now=LATER).close()
    src = tmp_path / "base.jsonl"  # the same rows, in one ingest at LATER
    src.write_text((live_dir / "base.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    full = full_dir / "snaps"
    run_ingest([src, full_dir / "intake"], full, as_of=LATER, workers=1)
    m = _layered(snaps, live_dir)
    try:
        snap = m.snapshot
        overlay = snap.overlay
        assert overlay is not None
        live = overlay.hashes()
        with Snapshot.open_current(snaps) as base, Snapshot.open_current(full) as expected:
            every: list[bytes] = []
            for kind, value in ASKED:
                wanted = _prefixes(kind, value)
                every.extend(wanted)
                got = search(snap.reader, wanted, live)
                # the whole bucket, other identifiers' hashes included, as the client sees it
                assert got == search(expected.reader, wanted), value
            # several identifiers' prefixes in one search, in another order
            every = list(dict.fromkeys(reversed(every)))
            assert search(snap.reader, every, live) == search(expected.reader, every)
            view = {value: _levels(expected, kind, value) for kind, value in ASKED}
            before = {value: _levels(base, kind, value) for kind, value in ASKED}
    finally:
        m.stop()
    # the cases are the ones named: the delta changed each of them against the base alone
    assert before[RAISED] == [(Level.POSSIBLE, 1)]
    assert view[RAISED] == [(Level.SUSPICIOUS, 3)]
    assert before[NEW] == []
    assert view[NEW] == [(Level.POSSIBLE, 1)]
    assert view[CO_PHONE] == [(Level.POSSIBLE, 1)]
    assert before[LOWERED] == [(Level.SUSPICIOUS, 3)]
    assert view[LOWERED] == [(Level.POSSIBLE, 3)]
    assert before[DROPPED] == [(Level.POSSIBLE, 1)]
    assert view[DROPPED] == []
    assert view[OFFICIAL] == [(Level.VERIFIED, 3)] != before[OFFICIAL]
    assert view[URL] != before[URL]
    assert view[NEVER] == before[NEVER] == []
    assert view[KEPT] == before[KEPT] == [(Level.HIGH_RISK, 1)]


def _fold_at_later(snaps: Path, root: Path) -> None:
    _fold(root, snaps, now=LATER).close()


def test_hashes_taken_in_before_a_later_fold_follow_it(tmp_path: Path) -> None:
    """A worker asked privately before a fold keeps its delta hashes up to date generation by
    generation (raised, newly listed, removed) and still answers as a full build."""
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, BASE_ROWS)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            _append(log, ("phone", NEW), 30)
            _append(log, ("phone", RAISED), 10)
    _fold(live_dir, snaps).close()
    m = _layered(snaps, live_dir)
    try:
        snap = m.snapshot
        assert snap.overlay is not None
        live = snap.overlay.hashes()  # taken in now: from here on kept up to date
        assert len(live) == 2
        assert [x.level for x in _mine(search(snap.reader, _prefixes("phone", NEW), live),
                                       "phone", NEW)] == [Level.POSSIBLE]  # fmt: skip
        for root in (live_dir, full_dir):
            with IntakeLog(root / "intake") as log:
                for i in range(2):
                    _append(log, ("phone", NEW), 31 + i)  # raised to SUSPICIOUS
                _append(log, ("phone", DROPPED), 70, at=NOW - timedelta(days=200))  # removed
                _append(log, ("url", "https://fresh-hs.example/pay"), 80)  # newly listed
        # The server's folder is another process: the follower keeps its overlay open here.
        child = multiprocessing.get_context("spawn").Process(target=_fold_at_later,
                                                             args=(snaps, live_dir))  # fmt: skip
        child.start()
        child.join(60)
        assert child.exitcode == 0
        assert m.follow_delta()
        assert snap.overlay.hashes() is live
        assert len(live) == len(snap.overlay) >= 4
        src = tmp_path / "base.jsonl"
        src.write_text((live_dir / "base.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
        full = full_dir / "snaps"
        run_ingest([src, full_dir / "intake"], full, as_of=LATER, workers=1)
        asked = [*ASKED, ("url", "https://fresh-hs.example/pay")]
        with Snapshot.open_current(full) as expected:
            for kind, value in asked:
                wanted = _prefixes(kind, value)
                assert search(snap.reader, wanted, live) == search(expected.reader, wanted), value
            got = _mine(search(snap.reader, _prefixes("phone", NEW), live), "phone", NEW)
            assert [(x.level, x.report_count) for x in got] == [(Level.SUSPICIOUS, 3)]
            assert _mine(search(snap.reader, _prefixes("phone", DROPPED), live), "phone",
                         DROPPED) == []  # fmt: skip
    finally:
        m.stop()
