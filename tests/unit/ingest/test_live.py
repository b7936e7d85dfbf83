"""The live fold over real LMDB files: exact by construction, crash-safe, reset by a new base."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scameter.identifiers import Kind, detect
from scameter.index import Snapshot, SnapshotManager
from scameter.index import format as fmt
from scameter.index.delta import REMOVED, Overlay
from scameter.ingest.evidence import decode_events, wire_key_id
from scameter.ingest.live import DELTA_CLUSTER_BIT, LiveFolder, iter_rejects
from scameter.ingest.pipeline import run_ingest
from scameter.ingest.policy import Policy
from scameter.intake import IntakeLog, IntakePolicy, live_dir_for
from scameter.verdict import Level, ReasonCode, Verdict

NOW = datetime.now(UTC).replace(microsecond=0)


def _reporter(i: int) -> str:
    return f"{i + 1:016x}{i:016x}"


def _append(
    log: IntakeLog, ident: tuple[str, str] | list[tuple[str, str]], i: int, **kw: Any
) -> str:
    idents = ident if isinstance(ident, list) else [ident]
    rid, _ = log.append(
        identifiers=idents,
        category=kw.pop("category", "investment"),
        text="",
        reporter_hash=_reporter(i),
        reported_at=kw.pop("at", NOW - timedelta(hours=1)),
        **kw,
    )
    return rid


def _base(
    tmp_path: Path,
    rows: list[dict[str, Any]],
    *,
    evidence: bool = True,
    shards: int = 1,
    policy: Policy | None = None,
) -> Path:
    """A snapshot of ``rows`` (JSONL reports) plus the intake log, published under snaps/."""
    src = tmp_path / "base.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    inputs = [src] + ([tmp_path / "intake"] if (tmp_path / "intake" / "data.mdb").exists() else [])
    snaps = tmp_path / "snaps"
    run_ingest(inputs, snaps, as_of=NOW, workers=1, evidence=evidence, shards=shards, policy=policy)
    return snaps


def _roots(tmp_path: Path) -> tuple[Path, Path]:
    """The two roots of an equivalence test: ``live`` (base + fold) and ``full`` (one ingest)."""
    live_dir, full_dir = tmp_path / "live", tmp_path / "full"
    live_dir.mkdir()
    full_dir.mkdir()
    return live_dir, full_dir


def _row(
    value: str, kind: str, i: int, *, source: str = "public", days: float = 1, **kw: Any
) -> dict[str, Any]:
    return {
        "type": "report",
        "source": source,
        "status": kw.pop("status", "unverified" if source == "public" else "confirmed"),
        "reported_at": (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z"),
        "reporter_hash": _reporter(100 + i),
        "category": kw.pop("category", "phishing"),
        "identifiers": [{"kind": kind, "value": value}],
        **kw,
    }


def _fold(tmp_path: Path, snaps: Path, *, now: datetime = NOW) -> LiveFolder:
    folder = LiveFolder(snaps, tmp_path / "intake", live_dir_for(tmp_path / "intake"))
    while folder.fold_once(now):
        pass
    return folder


def _layered(snaps: Path, tmp_path: Path) -> SnapshotManager:
    m = SnapshotManager(snaps, delta=live_dir_for(tmp_path / "intake") / "delta")
    m.refresh()
    m.follow_delta()
    return m


def _view(v: Verdict) -> tuple[Any, ...]:
    return (
        v.level,
        tuple(r.code for r in v.reasons),
        v.report_count,
        v.reporters,
        v.first_reported,
        v.last_reported,
        tuple(v.categories),
    )


def test_evidence_keeps_the_events_that_can_still_count(tmp_path: Path) -> None:
    rows = [
        _row("+85291234001", "phone", 0),
        _row("+85291234001", "phone", 1, days=400),  # aged out for good
        _row("+85291234001", "phone", 2, status="rejected"),
    ]
    snaps = _base(tmp_path, rows)
    with Snapshot.open_current(snaps) as snap:
        events = decode_events(snap.reader.evidence_of(wire_key_id("phone:+85291234001")))
        assert snap.reader.intake_cursors == {}
    assert len(events) == 1
    assert events[0][7] == ("phone:+85291234001",)
    assert isinstance(events[0][7], tuple)  # arrays come back as tuples, whatever the tuple holds


def test_three_reporters_in_the_log_fold_to_suspicious_one_does_not(tmp_path: Path) -> None:
    snaps = _base(tmp_path, [_row("+85291234001", "phone", 0)])
    with IntakeLog(tmp_path / "intake") as log:
        _append(log, ("phone", "+85262220001"), 0)
        for i in range(3):
            _append(log, ("phone", "+85262220002"), 10 + i)
    _fold(tmp_path, snaps).close()
    m = _layered(snaps, tmp_path)
    try:
        snap = m.snapshot
        assert snap.check("+85262220001").level is Level.POSSIBLE
        v = snap.check("+85262220002")
        assert v.level is Level.SUSPICIOUS
        assert v.reporters == 3
        assert v.report_count == 3
        # the batch path honours the overlay: delta keys are probed beside the base's
        batch = snap.check_batch(["+85262220002", "+85262220003", "+85291234001"], "phone")
        assert [v.level for v in batch.to_list()] == [
            Level.SUSPICIOUS,
            Level.NO_RECORD,
            Level.POSSIBLE,
        ]
        assert snap.check_many(["+852 6222 0002"])[0].level is Level.SUSPICIOUS
    finally:
        m.stop()


def test_live_and_full_ingest_give_the_same_verdicts(tmp_path: Path) -> None:
    """The same inputs, once folded live over a base and once ingested in full."""
    base_rows = [
        _row("+85291234001", "phone", 0),
        _row("+85291234001", "phone", 1, category="investment"),
        _row("https://evil-eq.example/login", "url", 2),
        _row("+85291234009", "phone", 3, source="police"),
        _row("scam@evil-eq.example", "email", 4, days=3),
    ]
    live_dir = tmp_path / "live"
    live_dir.mkdir()
    snaps = _base(live_dir, base_rows)
    full_dir = tmp_path / "full"
    full_dir.mkdir()
    touched = [
        *("+85291234001", "+85262220002", "https://evil-eq.example/login", "evil-eq.example"),
        *("+85291234009", "scam@evil-eq.example", "+85262220003"),
    ]
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            _append(log, ("phone", "+85291234001"), 1)
            _append(log, ("phone", "+85291234001"), 2, category="phishing")
            for i in range(3):
                _append(log, ("phone", "+85262220002"), 20 + i, at=NOW - timedelta(days=i))
            _append(log, ("url", "https://evil-eq.example/login"), 30, category="phishing")
            _append(log, ("url", "https://evil-eq.example/login"), 31)
            _append(log, ("phone", "+85291234009"), 32)
            _append(log, [("email", "scam@evil-eq.example"), ("phone", "+85262220003")], 33)
    _fold(live_dir, snaps).close()
    full = _base(full_dir, base_rows)
    m = _layered(snaps, live_dir)
    try:
        with Snapshot.open_current(full) as expected:
            for q in touched:
                assert _view(m.snapshot.check(q)) == _view(expected.check(q)), q
    finally:
        m.stop()


def test_one_fold_of_co_named_identifiers_counts_each_report_once(tmp_path: Path) -> None:
    """Reports naming two identifiers each, in the base and in the log, folded in polls of 2
    by one Aggregator per poll: every count equals the full build's (a report filed under
    both identifiers still counts once for each)."""
    pair = [{"kind": "phone", "value": "+85291234011"}, {"kind": "email", "value": "x@co.example"}]
    base_rows = [_row("+85291234011", "phone", i, identifiers=pair) for i in range(2)]
    base_rows.append(_row("x@co.example", "email", 2))
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows)
    both = [("phone", "+85291234011"), ("email", "x@co.example")]
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            _append(log, both, 60)
            _append(log, [*both, ("phone", "+85262220011")], 61)
            _append(log, ("phone", "+85291234011"), 62)
            _append(log, [("email", "x@co.example"), ("phone", "+85262220011")], 63)
            _append(log, both, 64)
    folder = LiveFolder(snaps, live_dir / "intake", live_dir_for(live_dir / "intake"), batch=2)
    while folder.fold_once(NOW):
        pass
    folder.close()
    full = _base(full_dir, base_rows)
    m = _layered(snaps, live_dir)
    try:
        with Snapshot.open_current(full) as expected:
            for q in ("+85291234011", "x@co.example", "+85262220011"):
                got, want = m.snapshot.check(q), expected.check(q)
                assert _view(got) == _view(want), q
        assert m.snapshot.check("+85291234011").report_count == 6
        assert m.snapshot.check("x@co.example").report_count == 7
    finally:
        m.stop()


def _cluster_id(buf: bytes | None) -> int | None:
    if buf is None or not buf[2] & fmt.F_CLUSTER:
        return None
    return int.from_bytes(buf[fmt.OFF_CLUSTER_ID : fmt.OFF_CLUSTER_ID + 8], "little")


def test_the_delta_links_co_named_identifiers_into_clusters(tmp_path: Path) -> None:
    """A base cluster keeps its id and takes in what a new report links to it; a new group
    gets a delta cluster id; sizes, worst levels and CLUSTER_LINK as a full build."""
    pair = [{"kind": "phone", "value": "+85291234021"}, {"kind": "email", "value": "a@cl.example"}]
    base_rows = [_row("+85291234021", "phone", i, identifiers=pair) for i in range(2)]
    base_rows.append(_row("+85291234021", "phone", 2, source="police"))
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            _append(log, [("phone", "+85291234021"), ("phone", "+85262220021")], 70)
            _append(log, [("phone", "+85262220022"), ("phone", "+85262220023")], 71)
            _append(log, ("email", "a@cl.example"), 72)
    _fold(live_dir, snaps).close()
    full = _base(full_dir, base_rows)
    idents = ("+85291234021", "a@cl.example", "+85262220021", "+85262220022", "+85262220023")
    m = _layered(snaps, live_dir)
    try:
        overlay = m.snapshot.overlay
        assert overlay is not None
        with Snapshot.open_current(snaps) as base_snap, Snapshot.open_current(full) as expected:
            for q in idents:
                got, want = m.snapshot.check(q), expected.check(q)
                assert _view(got) == _view(want), q
                assert (got.cluster_size, got.cluster_worst) == (
                    want.cluster_size, want.cluster_worst), q  # fmt: skip
            key = {q: detect(q)[0].key for q in idents}
            base_id = _cluster_id(base_snap.reader.get(fmt.TABLE_RECORDS, key["+85291234021"]))
            assert base_id is not None
            ids = {q: _cluster_id(overlay.records[key[q]]) for q in idents}
        assert ids["+85291234021"] == ids["a@cl.example"] == ids["+85262220021"] == base_id
        assert ids["+85262220022"] == ids["+85262220023"]
        assert ids["+85262220022"] is not None
        assert ids["+85262220022"] & DELTA_CLUSTER_BIT
        assert m.snapshot.check("+85262220021").cluster_worst is Level.HIGH_RISK
    finally:
        m.stop()


def _fold_and_close(snaps: Path, tmp_path: Path) -> None:
    _fold(tmp_path, snaps).close()


def test_only_the_kinds_the_delta_holds_are_layered(tmp_path: Path) -> None:
    """A delta of phone records leaves the URL, domain and email rules the base's own; a
    URL folded later layers URLs and domains at the next follow, and is answered."""
    snaps = _base(tmp_path, [_row("+85291234031", "phone", 0)])
    with IntakeLog(tmp_path / "intake") as log:
        _append(log, ("phone", "+85262220031"), 80)
    _fold(tmp_path, snaps).close()
    m = _layered(snaps, tmp_path)
    try:
        snap = m.snapshot
        own = snap._base_rules
        for kind in (Kind.URL, Kind.DOMAIN, Kind.EMAIL):
            assert snap._rules[kind] is own[kind], kind
        assert snap._rules[Kind.PHONE] is not own[Kind.PHONE]
        assert snap.check("+85262220031").level is Level.POSSIBLE
        url = "https://layer-kind.example/pay"
        assert snap.check(url).level is Level.NO_RECORD
        with IntakeLog(tmp_path / "intake") as log:
            _append(log, ("url", url), 81)
        # The server's folder is another process: the follower keeps its overlay open here.
        child = multiprocessing.get_context("spawn").Process(target=_fold_and_close,
                                                             args=(snaps, tmp_path))  # fmt: skip
        child.start()
        child.join(60)
        assert child.exitcode == 0
        assert m.follow_delta()
        assert snap._rules[Kind.URL] is not own[Kind.URL]
        assert snap._rules[Kind.EMAIL] is own[Kind.EMAIL]
        assert snap.check(url).level is Level.POSSIBLE
    finally:
        m.stop()


def test_held_reports_count_only_once_released(tmp_path: Path) -> None:
    snaps = _base(tmp_path, [_row("+85291234001", "phone", 0)])
    policy = IntakePolicy(daily_cap=0, burst=3, burst_window=timedelta(hours=1))
    with IntakeLog(tmp_path / "intake") as log:
        ids = [
            _append(log, ("phone", "+85262220005"), 40 + i, policy=policy, at=NOW) for i in range(4)
        ]
    assert [i.startswith("held-") for i in ids] == [False, False, True, True]
    _fold(tmp_path, snaps).close()
    m = _layered(snaps, tmp_path)
    assert m.snapshot.check("+85262220005").reporters == 2
    m.stop()
    with IntakeLog(tmp_path / "intake") as log:
        assert log.release_held() == 2
    _fold(tmp_path, snaps).close()
    m = _layered(snaps, tmp_path)
    try:
        v = m.snapshot.check("+85262220005")
        assert v.level is Level.SUSPICIOUS
        assert v.reporters == 4
    finally:
        m.stop()


def test_an_invalid_report_goes_to_rejects_and_blocks_nothing(tmp_path: Path) -> None:
    snaps = _base(tmp_path, [_row("+85291234001", "phone", 0)])
    with IntakeLog(tmp_path / "intake") as log:
        _append(log, ("phone", "12"), 0)
        bad = log.last_seq()
        for i in range(3):
            _append(log, ("phone", "+85262220006"), 50 + i)
    folder = _fold(tmp_path, snaps)
    assert folder.rejected == 1
    folder.close()
    rejects = list(iter_rejects(live_dir_for(tmp_path / "intake")))
    assert [(r["seq"], r["raw"]) for r in rejects] == [(bad, "12")]
    assert "phone" in rejects[0]["reason"]
    m = _layered(snaps, tmp_path)
    try:
        assert m.snapshot.check("+85262220006").level is Level.SUSPICIOUS
    finally:
        m.stop()


class _Crashing(LiveFolder):
    """Fails half-way through deciding, inside the delta's write transaction."""

    def _decide(self, *args: Any, **kw: Any) -> tuple[dict[bytes, bytes], dict[str, int]]:
        raise OSError("simulated crash while folding")


def test_a_failed_fold_commits_nothing_and_the_next_one_catches_up(tmp_path: Path) -> None:
    snaps = _base(tmp_path, [_row("+85291234001", "phone", 0)])
    with IntakeLog(tmp_path / "intake") as log:
        for i in range(3):
            _append(log, ("phone", "+85262220007"), 60 + i)
    crashing = _Crashing(snaps, tmp_path / "intake", live_dir_for(tmp_path / "intake"))
    with pytest.raises(OSError, match="simulated"):
        crashing.fold_once(NOW)
    assert crashing.meta()["cursor"] == -1
    assert crashing.meta()["generation"] == 0
    crashing.close()
    _fold(tmp_path, snaps).close()
    m = _layered(snaps, tmp_path)
    try:
        assert m.snapshot.check("+85262220007").reporters == 3
    finally:
        m.stop()


def test_a_folder_killed_mid_fold_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL the folder process while it works through a backlog; a new one catches up."""
    snaps = _base(tmp_path, [_row("+85291234001", "phone", 0)])
    n = 300
    with IntakeLog(tmp_path / "intake") as log:
        for i in range(n):
            _append(log, ("phone", f"+852612{i:05d}"), i)
    live = live_dir_for(tmp_path / "intake")
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(
        target=_fold_slowly, args=(snaps, tmp_path / "intake", live, os.getpid()), daemon=True
    )
    proc.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (live / "delta" / "data.mdb").exists() and _cursor(snaps, tmp_path) >= 20:
            break
        time.sleep(0.02)
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    assert 0 <= _cursor(snaps, tmp_path) < n - 1  # killed part way
    folder = _fold(tmp_path, snaps)
    assert folder.meta()["cursor"] == n - 1
    folder.close()
    m = _layered(snaps, tmp_path)
    try:
        levels = {m.snapshot.check(f"+852612{i:05d}").level for i in range(n)}
        assert levels == {Level.POSSIBLE}
    finally:
        m.stop()


def _fold_slowly(snaps: Path, intake: Path, live: Path, parent: int) -> None:
    folder = LiveFolder(snaps, intake, live, batch=5)
    while folder.fold_once(NOW):
        time.sleep(0.01)


def _cursor(snaps: Path, tmp_path: Path) -> int:
    """The committed cursor, read from a separate process (LMDB: one env per process)."""
    ctx = multiprocessing.get_context("fork")
    q: Any = ctx.Queue()
    p = ctx.Process(target=_read_cursor, args=(snaps, tmp_path, q))
    p.start()
    value = int(q.get(timeout=30))
    p.join(10)
    return value


def _read_cursor(snaps: Path, tmp_path: Path, q: Any) -> None:
    f = LiveFolder(snaps, tmp_path / "intake", live_dir_for(tmp_path / "intake"))
    q.put(f.meta().get("cursor", -1))


def test_a_new_base_resets_the_delta_to_its_cursor(tmp_path: Path) -> None:
    snaps = _base(tmp_path, [_row("+85291234001", "phone", 0)])
    with IntakeLog(tmp_path / "intake") as log:
        for i in range(3):
            _append(log, ("phone", "+85262220008"), 70 + i)
        last = log.last_seq()
    folder = _fold(tmp_path, snaps)
    assert folder.meta()["cursor"] == last
    folder.close()
    # compaction: the next ingest with the intake log, published as CURRENT
    run_ingest([tmp_path / "base.jsonl", tmp_path / "intake"], snaps, as_of=NOW, workers=1)
    with Snapshot.open_current(snaps) as snap:
        assert snap.reader.intake_cursors == {os.path.realpath(tmp_path / "intake"): last}
        new_id = snap.id
    folder = _fold(tmp_path, snaps)
    meta = folder.meta()
    folder.close()
    assert (meta["base"], meta["cursor"], meta["generation"]) == (new_id, last, 0)
    m = _layered(snaps, tmp_path)
    try:
        assert m.snapshot.overlay is None  # nothing after the cursor: the base answers alone
        assert m.snapshot.check("+85262220008").level is Level.SUSPICIOUS
    finally:
        m.stop()


def test_a_base_without_evidence_turns_folding_off_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    snaps = _base(tmp_path, [_row("+85291234001", "phone", 0)], evidence=False)
    with IntakeLog(tmp_path / "intake") as log:
        _append(log, ("phone", "+85262220009"), 0)
    folder = LiveFolder(snaps, tmp_path / "intake", live_dir_for(tmp_path / "intake"))
    with caplog.at_level(logging.WARNING, logger="scameter.live"):
        assert folder.fold_once(NOW) == 0
        assert folder.fold_once(NOW) == 0
    folder.close()
    warnings = [r for r in caplog.records if "no evidence" in r.getMessage()]
    assert len(warnings) == 1


def test_appeals_in_the_log_apply_live_as_in_a_full_ingest(tmp_path: Path) -> None:
    """An identifier appealed by enough reporters is lowered alike, live or in a file."""
    value = "+85262220011"
    out = []
    for name in ("live", "full"):
        root = tmp_path / name
        root.mkdir()
        snaps = _base(root, [_row("+85291234001", "phone", 0)]) if name == "live" else None
        with IntakeLog(root / "intake") as log:
            for i in range(3):
                _append(log, ("phone", value), 80 + i)
            for i in range(5):
                log.append_appeal(identifier=("phone", value), reason="mine",
                                  reporter_hash=_reporter(90 + i), appealed_at=NOW)  # fmt: skip
        if snaps is not None:
            _fold(root, snaps).close()
            m = _layered(snaps, root)
            out.append(_view(m.snapshot.check(value)))
            m.stop()
        else:
            with Snapshot.open_current(_base(root, [_row("+85291234001", "phone", 0)])) as s:
                out.append(_view(s.check(value)))
    assert out[0] == out[1]
    assert out[1][0] is not Level.SUSPICIOUS  # the appeals did lower it


def _near_view(v: Verdict) -> tuple[Any, ...]:
    return (*_view(v), v.similar_to)


def test_near_matches_of_live_listings_equal_a_full_build(tmp_path: Path) -> None:
    """Look-alikes of a domain and a handle listed live, and of a base domain whose level
    the delta changed, get the full build's near-match answer (level, reason, similar-to)."""
    base_rows = [
        _row("risingscam.example", "domain", 0),
        _row("oldphish-site.example", "domain", 1, source="police"),
        _row("+85291234041", "phone", 2),
    ]
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            for i in range(3):
                _append(log, ("domain", "freshphish.example"), 40 + i)
                _append(log, ("platform_account", "telegram:newscammer88"), 50 + i)
            for i in range(2):
                _append(log, ("domain", "risingscam.example"), 60 + i)
    _fold(live_dir, snaps).close()
    full = _base(full_dir, base_rows)
    queries = [
        "freshphisk.example",  # a substitution of a live listing
        "http://www.freshphis.example/login",  # a deletion, inside a URL
        "freshphish.net",  # another suffix
        "telegram:newscammer89",  # a handle listed live
        "risingscan.example",  # a base listing the delta raised
        "oldphish-sites.example",  # a base listing the delta left alone
        "unrelated-host.example",
    ]
    m = _layered(snaps, live_dir)
    try:
        with Snapshot.open_current(snaps) as base, Snapshot.open_current(full) as expected:
            for q in queries:
                got, want = m.snapshot.check(q), expected.check(q)
                assert _near_view(got) == _near_view(want), q
            near = {q: expected.check(q) for q in queries}
            assert {r.code for r in near["telegram:newscammer89"].reasons} == {
                ReasonCode.NEAR_MATCH
            }
            assert near["freshphisk.example"].similar_to is not None
            assert near["freshphish.net"].level is Level.POSSIBLE
            assert near["unrelated-host.example"].level is Level.NO_RECORD
            # Without the delta's near entries the base alone says nothing of them.
            assert base.check("freshphisk.example").level is Level.NO_RECORD
            assert base.check("telegram:newscammer89").level is Level.NO_RECORD
            rising = near["risingscan.example"].similar_to
            assert rising is not None
            assert base.check("risingscan.example").similar_to != rising  # the delta's level
    finally:
        m.stop()


def test_an_appeal_of_an_identifier_no_new_report_names_applies_live(tmp_path: Path) -> None:
    """Appeals alone (no report in the log names the identifier) lower a base listing live as
    a full ingest does; an appeal of an identifier nothing holds leaves the delta empty."""
    listed = "+85291234051"
    base_rows = [_row(listed, "phone", i) for i in range(3)]
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            for i in range(5):
                log.append_appeal(identifier=("phone", "+85262220059"), reason="not mine",
                                  reporter_hash=_reporter(70 + i), appealed_at=NOW)  # fmt: skip
    _fold(live_dir, snaps).close()
    with Snapshot.open_current(snaps) as base:
        assert base.check(listed).level is Level.SUSPICIOUS
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            for i in range(5):
                log.append_appeal(identifier=("phone", listed), reason="not mine",
                                  reporter_hash=_reporter(80 + i), appealed_at=NOW)  # fmt: skip
    folder = LiveFolder(snaps, live_dir / "intake", live_dir_for(live_dir / "intake"))
    assert folder.fold_once(NOW) == 0  # no report read, the appeals folded all the same
    assert folder.meta()["appeal_cursor"] == 9
    generation = folder.meta()["generation"]
    folder.fold_once(NOW)
    assert folder.meta()["generation"] == generation  # nothing new: no fold
    folder.close()
    full = _base(full_dir, base_rows)
    m = _layered(snaps, live_dir)
    try:
        overlay = m.snapshot.overlay
        assert overlay is not None
        # nothing held the other appealed number: no removal of it (nor of every kind)
        assert list(overlay.records) == [wire_key_id(f"phone:{listed}")]
        with Snapshot.open_current(full) as expected:
            want = expected.check(listed)
            assert want.level is Level.POSSIBLE
            assert ReasonCode.APPEALED in {r.code for r in want.reasons}
            assert _view(m.snapshot.check(listed)) == _view(want)
    finally:
        m.stop()


def test_a_removal_in_the_delta_voids_the_base_near_entries_of_its_key(tmp_path: Path) -> None:
    """A base listing the delta removed is no longer a near-match candidate; a delta record
    taken in and then removed leaves no near entry behind."""
    snaps = _base(tmp_path, [_row("oldphish-site.example", "domain", 0, source="police")])
    key = detect("oldphish-site.example")[0].key
    fresh = detect("telegram:fresh_handle_1")[0].key
    with Snapshot.open_current(snaps) as snap:
        assert snap.check("oldphish-sites.example").level is Level.SUSPICIOUS
        overlay = Overlay(snap.id, tmp_path / "delta", snap.policy)
        overlay.update(1, {key: REMOVED + b"oldphish-site.example/"}, ())
        assert overlay.near_active
        snap.set_overlay(overlay)
        assert snap.check("oldphish-sites.example").level is Level.NO_RECORD
        assert snap.check("oldphish-site.example").level is Level.NO_RECORD
        snap.set_overlay(None)
        assert snap.check("oldphish-sites.example").level is Level.SUSPICIOUS
        overlay._renear(fresh, (b"Ptelegram\x00", "fresh_handle_1", "fresh_handle_1"))
        assert overlay.near_candidates(b"Ptelegram\x00", "fresh_handle_2", 1) == {
            fresh: "fresh_handle_1"
        }
        overlay.update(2, {fresh: REMOVED}, ())
        assert not overlay.near


def test_a_follower_waits_for_a_delta_an_older_folder_wrote(tmp_path: Path) -> None:
    """A delta without the sub-databases of this version (an older folder's, before this
    version's folder opens it) installs nothing and raises nothing; once a folder of this
    version has opened it, it is followed."""
    import lmdb

    from scameter.index.delta import DeltaFollower

    path = tmp_path / "delta"
    env = lmdb.open(str(path), subdir=True, max_dbs=6)
    for name in (b"records", b"events", b"log", b"meta", b"ranges", b"rlog"):
        env.open_db(name)
    env.close()
    follower = DeltaFollower(path)
    assert follower.poll("base") is None
    snaps = _base(tmp_path, [_row("+85291234001", "phone", 0)])
    LiveFolder(snaps, tmp_path / "intake", path.parent).close()  # this version's folder
    try:
        assert follower.poll("base") is None  # opened now: no delta of that base
        assert follower._env is not None
    finally:
        follower.close()


def test_a_corrupt_record_is_never_resealed_with_a_live_cluster(tmp_path: Path) -> None:
    """``Overlay.resolve`` gives a record its live cluster only when its CRC holds: a
    corrupt one is left for the decoder, which refuses it."""
    from scameter.index.delta import CLUSTER_ENTRY, GEN_KEY

    overlay = Overlay("base", tmp_path / "delta")
    tag = next(t for t, kind in fmt.KIND_BY_TAG.items() if kind is Kind.PHONE)
    body = fmt.pack_record(
        tag, fmt.LEVEL_CODES[Level.POSSIBLE], b"+85291234001", True, fmt.label_block([], [], []),
        1, 1, None, None, 7, None, None,
    )  # fmt: skip
    buf = bytearray(fmt.seal(body))
    overlay.update(1, {}, (), clusters={GEN_KEY.pack(7): CLUSTER_ENTRY.pack(7, 3, 0, 0)})
    live = overlay.resolve(bytes(buf))
    assert live is not None
    assert fmt.record_intact(live)
    assert fmt.CLUSTER.unpack_from(live, fmt.OFF_CLUSTER_WORST)[1] == 3
    buf[-1] ^= 0xFF
    assert overlay.resolve(bytes(buf)) is None
