"""Reports of allowlisted (VERIFIED) identifiers folded live answer as a full build does."""

from __future__ import annotations

from pathlib import Path

from scameter.index import Snapshot
from scameter.intake import IntakeLog
from scameter.verdict import Channel, CheckContext, Level, ReasonCode
from tests.unit.ingest.test_live import _append, _base, _fold, _layered, _roots, _row, _view

OFFICIAL = "+85261234100"
ALLOW = {"type": "allow", "kind": "phone", "value": OFFICIAL, "owner": "Example Bank"}
ALLOW_DOMAIN = {"type": "allow", "kind": "domain", "value": "bank-ok.example", "owner": "Bank"}


def test_a_reported_allowlisted_number_shows_its_counts_and_spoof_advice_live(
    tmp_path: Path,
) -> None:
    base_rows = [ALLOW, ALLOW_DOMAIN, _row(OFFICIAL, "phone", 0)]
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows)
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            for i in range(3):
                _append(log, ("phone", OFFICIAL), 40 + i, category="impersonation")
            _append(log, ("domain", "bank-ok.example"), 50)
    _fold(live_dir, snaps).close()
    full = _base(full_dir, base_rows)
    m = _layered(snaps, live_dir)
    overseas = CheckContext(Channel.INCOMING_CALL, overseas=True)
    try:
        with Snapshot.open_current(snaps) as before, Snapshot.open_current(full) as expected:
            got, want = m.snapshot.check(OFFICIAL), expected.check(OFFICIAL)
            assert before.check(OFFICIAL).report_count == 1  # the base alone
            assert got.level is Level.VERIFIED
            assert got.report_count == 4
            assert got.reporters == 4
            assert got.verified_owner == "Example Bank"
            codes = [r.code for r in got.reasons]
            assert codes == [ReasonCode.ALLOWLISTED, ReasonCode.SPOOF_ADVICE]
            assert _view(got) == _view(want)
            assert got.verified_owner == want.verified_owner
            # a call context applies to the live allow record as to the snapshot's own
            spoofed = m.snapshot.check(OFFICIAL, "phone", context=overseas)
            assert _view(spoofed) == _view(expected.check(OFFICIAL, "phone", context=overseas))
            # the batch path takes the delta's key down the full path
            batch = m.snapshot.check_batch([OFFICIAL], "phone").to_list()
            assert _view(batch[0]) == _view(want)
            # an allowlisted domain's report counts live too, wherever its allow entry answers
            for q in ("bank-ok.example", "https://www.bank-ok.example/login"):
                got = m.snapshot.check(q)
                assert (got.level, got.report_count) == (Level.VERIFIED, 1)
                assert _view(got) == _view(expected.check(q))
            assert before.check("bank-ok.example").report_count == 0
    finally:
        m.stop()
