"""``rejects.jsonl``: every row ingest did not use, with where it was and why.

Responsibility: stream reject entries to a scratch file under ``snapshots_root`` while the
inputs are read, then move the file beside the snapshot it belongs to (or leave it, named, for a
dry run or a failed build).

One JSON object per line, in input order::

    {"file": "feeds/urlhaus.csv", "line": 12, "action": "rejected",
     "reason": "url: no host", "raw": "http:///x"}

``action`` is ``rejected`` (bad input: counts towards ``--max-reject-ratio``) or ``ignored``
(good input the policy deliberately does not list, e.g. a bare ``bit.ly``; never counted as an
error). ``raw`` is truncated to 300 characters, except for a text-only report in which no
identifier was found (``ignored``, reason ``no_identifiers``): that row is written whole, since
its text is all there is of it.

Invariant: nothing is dropped silently: each rejected or ignored row or identifier has a line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from scameter.index.format import FILE_MODE
from scameter.ingest.rows import NO_IDENTIFIERS
from scameter.times import iso_utc, utc_now

REJECTS_FILE = "rejects.jsonl"
SCRATCH_DIR = ".rejects"


class RejectWriter:
    """Appends entries to a scratch file; :meth:`finish` moves it to its final place."""

    def __init__(self, snapshots_root: Path) -> None:
        self.dir = snapshots_root / SCRATCH_DIR
        self.dir.mkdir(parents=True, exist_ok=True)
        # ISO 8601's basic format (no "-" or ":"), which every file system takes in a name.
        stamp = iso_utc(utc_now()).replace("-", "").replace(":", "")
        self.path = self.dir / f"rejects-{stamp}-{os.getpid()}.jsonl"
        self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.rejected = 0
        self.ignored = 0
        #: Rejects per limit of scameter.ingest.limits (their reasons start ``limit <name>:``).
        self.limits: dict[str, int] = {}
        #: Text-only reports in which no identifier was found (reason ``no_identifiers``).
        self.no_identifiers = 0

    def write(
        self,
        file: str,
        rejects: list[tuple[int, str, str]],
        ignored: list[tuple[int, str, str]],
    ) -> None:
        """Write one chunk's entries, rejects and ignores merged back into line order."""
        entries = [(line, "rejected", reason, raw) for line, reason, raw in rejects]
        entries += [(line, "ignored", reason, raw) for line, reason, raw in ignored]
        if not entries:
            return
        entries.sort(key=lambda e: e[0])  # stable: same-line entries keep their order
        self.rejected += len(rejects)
        self.ignored += len(ignored)
        for _, reason, _ in rejects:
            if reason.startswith("limit "):
                name = reason[6:].partition(":")[0]
                self.limits[name] = self.limits.get(name, 0) + 1
        self.no_identifiers += sum(1 for entry in ignored if entry[1] == NO_IDENTIFIERS)
        dumps = json.dumps
        self._fh.write(
            "".join(
                dumps(
                    {"file": file, "line": line, "action": action, "reason": reason, "raw": raw},
                    ensure_ascii=False,
                )
                + "\n"
                for line, action, reason, raw in entries
            )
        )

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def finish(self, snapshot_dir: Path | None) -> Path:
        """Close and move beside the snapshot (when given); returns the file's final path."""
        self.close()
        if snapshot_dir is None:
            return self.path
        dest = snapshot_dir / REJECTS_FILE
        os.chmod(self.path, FILE_MODE)  # the snapshot's mode: its group reads it, others not
        os.replace(self.path, dest)
        return dest


__all__ = ["REJECTS_FILE", "SCRATCH_DIR", "RejectWriter"]
