"""Fixtures for the CLI tests: a small real snapshot built with the index builder.

The snapshot is built from :class:`Record` values directly (not through ingest) so that the
CLI tests pin the CLI, whatever the listing policy decides.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.identifiers import normalize
from scameter.index import Record, SnapshotBuilder, publish
from scameter.verdict import Level, ReasonCode

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)

#: What the fixture snapshot answers: input -> level value.
EXPECTED = {
    "6391 2745": "high_risk",
    "+852 6391 2745": "high_risk",
    "1684203": "high_risk",
    "18222": "verified",
    "https://www.hkpost-redelivery.top/pay": "high_risk",
    "5123 4567": "suspicious",
    "9000 0000": "no_record",
    "#HKPost": "verified",
}


def build_fixture_snapshot(root: Path) -> str:
    with SnapshotBuilder(root, as_of=AS_OF) as b:
        b.add(
            Record(
                normalize("phone", "6391 2745"),
                Level.HIGH_RISK,
                (ReasonCode.POLICE_CONFIRMED,),
                ("impersonation_of_officials",),
                ("police",),
                3,
                2,
                cluster=1,
            )
        )
        b.add(
            Record(
                normalize("fps_id", "1684203"),
                Level.HIGH_RISK,
                (ReasonCode.POLICE_CONFIRMED,),
                ("impersonation_of_officials",),
                ("police",),
                1,
                1,
                cluster=1,
            )
        )
        b.add(
            Record(
                normalize("phone", "5123 4567"),
                Level.SUSPICIOUS,
                (ReasonCode.PUBLIC_REPORTS,),
                ("investment",),
                ("public",),
                4,
                4,
            )
        )
        b.add(
            Record(
                normalize("phone", "18222"),
                Level.VERIFIED,
                (ReasonCode.ALLOWLISTED,),
                owner="Hong Kong Police Force Anti-Scam Helpline",
            )
        )
        b.add(
            Record(
                normalize("domain", "hkpost-redelivery.top"),
                Level.HIGH_RISK,
                (ReasonCode.PARTNER_CONFIRMED,),
                ("phishing_sms",),
                ("telecom",),
                2,
                1,
                listing="hkpost-redelivery.top/",
            )
        )
        b.add(
            Record(
                normalize("sms_sender", "#HKPost"),
                Level.VERIFIED,
                (ReasonCode.ALLOWLISTED,),
                owner="Hongkong Post",
            )
        )
        manifest = b.build()
    publish(root, manifest.snapshot_id)
    return manifest.snapshot_id


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding CURRENT -> a six-record snapshot (read-only: do not publish here)."""
    root = tmp_path_factory.mktemp("cli-snapshots")
    build_fixture_snapshot(root)
    return root


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the caller's SCAMETER_* variables, NO_COLOR or home directory."""
    import os

    for name in list(os.environ):
        if name.startswith("SCAMETER_") or name == "NO_COLOR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("SCAMETER_DATA_DIR", str(tmp_path / "data"))
