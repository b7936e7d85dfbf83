"""End to end: fixture reports -> run_ingest -> published snapshot -> verdicts, per policy rule.

One ingest of ``tests/fixtures/ingest/policy_rules.jsonl`` (module-scoped) and one row per
rule in the table below: the input that exercises it and the verdict a lookup must give.
Also: reproducibility (same checksum twice), rejects with reasons, the reject-ratio gate, and
a SIGKILL during a build leaving CURRENT untouched.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.errors import RejectRatioExceeded
from scameter.index import Snapshot, current_id
from scameter.ingest import run_ingest
from scameter.verdict import Level, ReasonCode
from tests.children import reaped

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
RULES = FIXTURES / "policy_rules.jsonl"
AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    root = tmp_path_factory.mktemp("snapshots")
    result = run_ingest([RULES], root, as_of=AS_OF, workers=1)
    assert result.published
    with Snapshot.open_current(root) as s:
        yield s


# (id, input, kind, expected level)
LEVEL_CASES = [
    ("police-confirmed-never-ages", "9011 2345", "phone", Level.HIGH_RISK),
    ("three-public-reporters", "6021 2345", "phone", Level.SUSPICIOUS),
    ("two-public-reporters", "6031 2345", "phone", Level.POSSIBLE),
    ("one-reporter-three-times", "6041 2345", "phone", Level.POSSIBLE),
    ("aged-out-of-window", "6051 2345", "phone", Level.NO_RECORD),
    ("only-recent-reports-count", "6061 2345", "phone", Level.POSSIBLE),
    ("delisted-public-not-relisted", "9081 2345", "phone", Level.NO_RECORD),
    ("delisted-police-before", "9091 2345", "phone", Level.NO_RECORD),
    ("police-after-delisting-relists", "9101 2345", "phone", Level.HIGH_RISK),
    ("allowlist-outranks-public", "2233 3000", "phone", Level.VERIFIED),
    ("bank-confirmed", "9151 2345", "phone", Level.HIGH_RISK),
    ("future-report-ignored", "9161 2345", "phone", Level.NO_RECORD),
    ("rejected-status-ignored", "9171 2345", "phone", Level.NO_RECORD),
    ("feed-url-dedicated-domain", "http://evil-bank-login.example/a/b", "url", Level.SUSPICIOUS),
    ("dedicated-domain-other-path", "https://www.evil-bank-login.example/x", "url",
     Level.SUSPICIOUS),
    (
        "shared-platform-exact-page",
        "https://docs.google.com/forms/d/e/1FAIpQLSfake/viewform",
        "url",
        # One feed row on a popular site (google.com is on the Tranco warninglist).
        Level.POSSIBLE,
    ),
    (
        "shared-platform-other-page",
        "https://docs.google.com/forms/d/e/somethingelse/viewform",
        "url",
        Level.NO_RECORD,
    ),
    ("bare-shortener-not-listed", "https://bit.ly/anything", "url", Level.NO_RECORD),
    ("bare-social-not-listed", "https://www.facebook.com/", "url", Level.NO_RECORD),
    ("site-builder-subdomain-listed", "https://someone-scam.wixsite.com/shop", "url",
     Level.SUSPICIOUS),
    ("site-builder-other-user", "https://someone-else.wixsite.com/shop", "url", Level.NO_RECORD),
    ("cluster-member-public", "9121 2345", "phone", Level.POSSIBLE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "kind", "level"), [c[1:] for c in LEVEL_CASES], ids=[c[0] for c in LEVEL_CASES]
)
def test_policy_rule_verdicts(snap: Snapshot, raw: str, kind: str, level: Level) -> None:
    assert snap.check(raw, kind).level is level


def test_warninglist_named_in_the_verdict(snap: Snapshot) -> None:
    v = snap.check("https://docs.google.com/forms/d/e/1FAIpQLSfake/viewform", "url")
    codes = [r.code for r in v.reasons]
    assert ReasonCode.WARNINGLIST_TRANCO in codes
    assert any("warninglist:tranco" in r.text for r in v.reasons)


def test_allowlisted_keeps_owner_and_report_counts(snap: Snapshot) -> None:
    v = snap.check("2233 3000", "phone")
    assert v.verified_owner == "Example Bank hotline"
    assert v.report_count == 3
    assert ReasonCode.ALLOWLISTED in {r.code for r in v.reasons}


def test_public_counts_and_reasons(snap: Snapshot) -> None:
    v = snap.check("+85260212345", "phone")
    assert (v.report_count, v.reporters) == (3, 3)
    assert {r.code for r in v.reasons} == {ReasonCode.PUBLIC_REPORTS}
    assert v.categories == ("impersonation",)
    police = snap.check("9011 2345", "phone")
    assert ReasonCode.POLICE_CONFIRMED in {r.code for r in police.reasons}


def test_dedicated_domain_listed_at_registrable_domain(snap: Snapshot) -> None:
    v = snap.check("http://login.evil-bank-login.example/", "url")
    assert v.level is Level.SUSPICIOUS
    assert v.matched == "evil-bank-login.example/"


def test_cluster_links_co_reported_identifiers(snap: Snapshot) -> None:
    v = snap.check("9121 2345", "phone")
    # case-1 names phone + url + email; case-2 links the email to 9121 2345: one component.
    assert v.cluster_size == 4
    assert v.cluster_worst is Level.HIGH_RISK
    related = {r.canonical for r in snap.related("agent@cluster-scam.example", "email")}
    assert related == {
        "+85291112345",
        "+85291212345",
        "agent@cluster-scam.example",
        "http://cluster-scam.example/join",
    }


def test_allowlisted_hub_links_nothing(snap: Snapshot) -> None:
    # 2233 3000 was co-reported with 9131 2345 and with 9141 2345: an allowlisted number is a
    # hub, so neither report links anything.
    assert snap.check("9131 2345", "phone").cluster_size == 0
    assert snap.check("9141 2345", "phone").cluster_size == 0


def test_rejects_file_has_reasons(tmp_path: Path) -> None:
    bad = tmp_path / "mixed.jsonl"
    lines = [json.dumps({"type": "report", "source": "police", "status": "confirmed",
                         "reported_at": "2026-11-01", "identifiers": [f"9111 {i:04d}"]})
             for i in range(40)]  # fmt: skip
    lines[3] = "{not json"
    lines[7] = json.dumps({"type": "report", "source": "police", "reported_at": "yesterday",
                           "identifiers": ["9111 9999"]})  # fmt: skip
    lines[9] = json.dumps({"type": "bogus"})
    lines[11] = json.dumps({"type": "report", "source": "police", "reported_at": "2026-11-01",
                            "identifiers": [{"kind": "phone", "value": "12"}]})  # fmt: skip
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run_ingest([bad], tmp_path / "snaps", as_of=AS_OF, max_reject_ratio=0.2, workers=1)
    assert res.rejected == 4
    assert res.records_read == 40
    entries = [json.loads(x) for x in res.rejects_path.read_text().splitlines()]
    assert res.rejects_path.parent == tmp_path / "snaps" / str(res.snapshot_id)
    by_line = {e["line"]: e for e in entries}
    assert sorted(by_line) == [4, 8, 10, 12]
    assert "not valid JSON" in by_line[4]["reason"]
    assert "bad date" in by_line[8]["reason"]
    assert "unknown row type" in by_line[10]["reason"]
    assert by_line[12]["reason"].startswith("phone:")
    assert all(e["file"] == str(bad) and e["action"] == "rejected" for e in entries)


def test_reject_ratio_fails_before_publishing(tmp_path: Path) -> None:
    root = tmp_path / "snaps"
    first = run_ingest([RULES], root, as_of=AS_OF, workers=1)
    bad = tmp_path / "bad.txt"
    bad.write_text("9011 2345\nnot an identifier at all\n???\n", encoding="utf-8")
    with pytest.raises(RejectRatioExceeded, match="2 of 3 rows rejected"):
        run_ingest([bad], root, as_of=AS_OF, workers=1)
    assert current_id(root) == first.snapshot_id
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == sorted(
        ["CURRENT", str(first.snapshot_id)]
    )


def test_same_inputs_same_checksum_and_diff_against_parent(tmp_path: Path) -> None:
    a = run_ingest([RULES], tmp_path / "a", as_of=AS_OF, workers=1)
    b = run_ingest([RULES], tmp_path / "b", as_of=AS_OF, workers=2)
    assert a.manifest is not None
    assert b.manifest is not None
    assert a.manifest.checksum == b.manifest.checksum
    assert a.snapshot_id == b.snapshot_id
    # A second build on top of the first: same content, so nothing added or removed.
    again = run_ingest([RULES], tmp_path / "a", as_of=AS_OF, workers=1)
    assert again.manifest is not None
    assert again.manifest.parent_id == a.snapshot_id
    assert (again.added, again.removed, again.changed) == (0, 0, 0)


def test_dry_run_publishes_nothing(tmp_path: Path) -> None:
    res = run_ingest([RULES], tmp_path / "snaps", as_of=AS_OF, dry_run=True, workers=1)
    assert not res.published
    assert res.snapshot_id is None
    assert res.counts["phone"]["high_risk"] == 4
    assert not (tmp_path / "snaps" / "CURRENT").exists()


_KILL_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    import scameter.index.builder as builder
    from scameter.ingest import run_ingest

    real_add = builder.SnapshotBuilder.add_fields
    seen = [0]

    def add(self, *fields):  # the injected hook: signal the parent, then hang mid-build
        real_add(self, *fields)
        seen[0] += 1
        if seen[0] == 3:
            sys.stdout.write("building\\n")
            sys.stdout.flush()
            time.sleep(600)

    def adopt(self, part):  # sharded: the forked part is done; hang before taking it in
        sys.stdout.write("adopting\\n")
        sys.stdout.flush()
        time.sleep(600)

    def stall_part(self):  # runs in the forked shard: say who it is, then work "forever"
        sys.stdout.write(f"{os.getpid()}\\n")
        sys.stdout.flush()
        time.sleep(600)

    workers = 1
    if sys.argv[3] == "shard-child":
        import scameter.ingest.shards as shards
        shards.MIN_PER_SHARD = 1
        builder.SnapshotBuilder.finish_part = stall_part
        workers = 2
    elif sys.argv[3] == "sharded":
        import scameter.ingest.shards as shards
        shards.MIN_PER_SHARD = 1
        builder.SnapshotBuilder.adopt = adopt
        workers = 2
    else:
        builder.SnapshotBuilder.add_fields = add
    fmt = "list" if sys.argv[1].endswith(".list") else None  # a pipe cannot be sniffed
    run_ingest([Path(sys.argv[1])], Path(sys.argv[2]), input_format=fmt,
               as_of=datetime(2026, 11, 21, tzinfo=UTC), workers=workers)
    """
)


@pytest.mark.parametrize("stage", ["reading", "building", "sharded"])
def test_kill_during_ingest_leaves_current(tmp_path: Path, stage: str) -> None:
    root = tmp_path / "snaps"
    first = run_ingest([RULES], root, as_of=AS_OF, workers=1)
    before = sorted(p.name for p in root.iterdir())
    if stage == "reading":
        # A FIFO input: the child blocks mid-read after the first rows until it is killed.
        src = tmp_path / "slow.list"
        os.mkfifo(src)
    else:
        src = RULES
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(src), str(root), stage],
        stdout=subprocess.PIPE,
        text=True,
    )
    with reaped(proc):
        assert proc.stdout is not None
        if stage == "reading":
            with open(src, "w", encoding="utf-8") as fifo:
                fifo.write("9011 2345\n" * 100)
                fifo.flush()
                os.kill(proc.pid, signal.SIGKILL)
        else:
            assert proc.stdout.readline().strip() == stage.replace("sharded", "adopting")
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert current_id(root) == first.snapshot_id
    after = sorted(p.name for p in root.iterdir() if not p.name.startswith(".tmp-"))
    # No new snapshot directory: at most a .tmp-* build dir, the rejects scratch and the
    # killed run's worker ledger (.ingest-PID.workers) remain.
    leftover = [p for p in after if p not in before and p != ".rejects"]
    assert leftover in ([], [f".ingest-{proc.pid}.workers"])
    with Snapshot.open_current(root) as s:
        assert s.check("9011 2345", "phone").level is Level.HIGH_RISK
    # The killed run's pool workers die with it (PR_SET_PDEATHSIG), but asynchronously: one
    # may hold the build lock for a moment more. Wait until no one does, then the next ingest
    # removes what the killed one left under .tmp-* and publishes.
    deadline = time.monotonic() + 30
    while _build_locks_held(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    again = run_ingest([RULES], root, as_of=AS_OF, workers=1)
    assert current_id(root) == again.snapshot_id
    assert [p.name for p in root.iterdir() if p.name.startswith((".tmp-", ".ingest-"))] == []


def _build_locks_held(root: Path) -> bool:
    """True while some process holds the lock of a ``.tmp-*`` build under ``root``."""
    for lock in root.glob(".tmp-*/.lock"):
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
    return False


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie left for a reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_forked_build_helpers_die_with_a_killed_ingest(tmp_path: Path) -> None:
    """SIGKILL the main process while a forked shard is still building: the shard goes too
    (it would otherwise work on for minutes, holding the dead build's directory)."""
    root = tmp_path / "snaps"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(RULES), str(root), "shard-child"],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = 0
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        assert _alive(child)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if child and _alive(child):  # the test failed: do not leave the orphan behind
            os.kill(child, signal.SIGKILL)
        if proc.stdout is not None:
            proc.stdout.close()
    assert not (root / "CURRENT").exists()
