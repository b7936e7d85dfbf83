"""``scameter ingest --group NAME`` (settings key ``snapshot_group``): the published snapshot
directory, its files and ``CURRENT`` are group-owned by that group; a group that does not exist
or that this user may not give files to stops the command in one line before anything is built.
"""

from __future__ import annotations

import grp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scameter.errors import ConfigError
from scameter.index import format as fmt
from scameter.index.publish import resolve_group

LIST = "+852 9123 0001\n+852 9123 0002\n"


def _ingest(
    tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[Path, str, int]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = tmp_path / "list.txt"
    src.write_text(LIST, encoding="utf-8")
    root = tmp_path / "snapshots"
    cmd = [sys.executable, "-m", "scameter", "ingest", str(src), "--snapshots", str(root),
           "--source", "police", "--kind", "phone", "--no-official-entities", *extra]  # fmt: skip
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return root, done.stderr, done.returncode


def _other_group() -> grp.struct_group | None:
    """A group other than the primary one this user may give files to (any, for root)."""
    mine = set(os.getgroups()) if os.geteuid() != 0 else {g.gr_gid for g in grp.getgrall()}
    others = sorted(mine - {os.getegid()})
    return grp.getgrgid(others[0]) if others else None


def _owned_by(root: Path, gid: int) -> None:
    sid = (root / fmt.CURRENT_FILE).read_text().strip()
    snap = root / sid
    assert (root / fmt.CURRENT_FILE).stat().st_gid == gid
    assert snap.stat().st_gid == gid
    assert snap.stat().st_mode & 0o777 == fmt.DIR_MODE
    files = [f for f in snap.iterdir() if f.is_file()]
    assert {f.name for f in files} >= {fmt.DATA_FILE, fmt.MANIFEST_FILE}
    for f in files:
        assert f.stat().st_gid == gid, f
        assert f.stat().st_mode & 0o777 == fmt.FILE_MODE, f


def test_group_is_the_users_primary_group(tmp_path: Path) -> None:
    name = grp.getgrgid(os.getegid()).gr_name
    root, err, status = _ingest(tmp_path, "--group", name)
    assert status == 0, err
    _owned_by(root, os.getegid())


def test_group_another_group_by_flag_and_by_variable(tmp_path: Path) -> None:
    other = _other_group()
    target = other if other is not None else grp.getgrgid(os.getegid())
    root, err, status = _ingest(tmp_path / "flag", "--group", target.gr_name)
    assert status == 0, err
    _owned_by(root, target.gr_gid)
    root, err, status = _ingest(
        tmp_path / "env", env={"SCAMETER_SNAPSHOT_GROUP": str(target.gr_gid)}
    )
    assert status == 0, err
    _owned_by(root, target.gr_gid)


def test_unknown_group_is_one_line_before_building(tmp_path: Path) -> None:
    root, err, status = _ingest(tmp_path, "--group", "no-such-group-scameter-x9")
    assert status == 2
    assert err.strip().count("\n") == 0, err
    assert "--group no-such-group-scameter-x9: no such group" in err
    assert "Traceback" not in err
    assert not (root / fmt.CURRENT_FILE).exists()
    assert (
        not any(p.name.startswith(fmt.TMP_PREFIX) for p in root.glob("*"))
        if root.exists()
        else True
    )


def test_group_this_user_may_not_use_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The membership rule of a non-root user, shown without one: a group that exists but is
    neither the effective group nor a supplementary one is refused in one line."""
    others = [g for g in grp.getgrall() if g.gr_gid != os.getegid()]
    assert others, "a test system has more than one group"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "getgroups", lambda: [os.getegid()])
    with pytest.raises(ConfigError, match="not a member of that group"):
        resolve_group(others[0].gr_name)
    assert resolve_group(grp.getgrgid(os.getegid()).gr_name) == os.getegid()
