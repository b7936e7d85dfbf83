"""Disk space for a snapshot build: an estimate before writing, a clear error when it is short.

Responsibility: say, before the builder writes anything, whether the file system holding the
snapshots directory can hold the snapshot a build is about to write, and fail with the
directory, the space needed and the space free when it cannot. A build that runs out of space
half way would fail later with an LMDB or ``OSError`` message that names neither.

The estimate (documented in ``docs/operations.md``, "Disk space"):

* from the parent snapshot when there is one: its bytes per identifier (every file) times the
  identifiers of this build, since consecutive builds of one deployment hold the same mix of
  kinds, less the evidence already on disk (its sorted runs become ``evidence.mdb`` as they
  are read, so they are not counted twice);
* otherwise :data:`PER_IDENTIFIER` bytes per identifier plus :data:`FIXED` for the tables
  every snapshot carries whatever its size (the popular-site set, near-match tables);
* times :data:`HEADROOM` for the builder's spill files (the sorted runs of one build are read
  back and removed bucket by bucket while LMDB grows: the peak is about 1.1x the final
  files, measured) and LMDB's page slack.

Calibration (docs/benchmarks.md, "Round 6: ingest writing side"): peak bytes under the
snapshots directory of 10^6-report runs of the benchmarks' scale mix, sampled every 0.25 s,
against these estimates; every estimate is above the peak and within 1.5x of it. The checks
can be skipped (``ingest --skip-space-check``, ``SCAMETER_SKIP_SPACE_CHECK``) by an operator
who knows better (a file system that compresses, a quota the free space does not show).

Invariants: never raises for a missing or unreadable parent (the fallback estimate is used);
:func:`ensure_space` raises :class:`~scameter.errors.SnapshotError` only.
"""

from __future__ import annotations

import contextlib
import errno
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lmdb

from scameter.errors import SnapshotError

#: Bytes per identifier without a parent to learn from, evidence not included (it has its own
#: term, :data:`EVIDENCE_PER_INPUT_BYTE`): ``data.mdb`` and the case ids of ``evidence.mdb``
#: measure 136 B per identifier for the scale mix at 10^6 reports (format 3.0), rounded up.
PER_IDENTIFIER = 170
#: Tables every snapshot holds whatever its size (the popular-site set is 16 MB).
FIXED = 32 * 1024 * 1024
#: The snapshot plus the spill files that exist beside it while it is written plus page
#: slack: the measured peak is 1.1x the final files.
HEADROOM = 1.3


def current_dir(snapshots_root: Path) -> Path | None:
    """The directory ``CURRENT`` names, or None when there is none (or it is unreadable)."""
    try:
        name = (snapshots_root / "CURRENT").read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        return None
    return snapshots_root / name if name and "/" not in name and name[0] != "." else None


def _parent_bytes_per_identifier(parent: Path | None) -> float | None:
    if parent is None:
        return None
    try:
        manifest = json.loads((parent / "manifest.json").read_text(encoding="utf-8"))
        # every file: data.mdb and, since format 3.0, the side file evidence.mdb
        size = sum(int(entry["size"]) for entry in manifest["files"].values())
        total = int(manifest["total"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return size / total if total > 0 else None


def estimate(identifiers: int, parent: Path | None = None, evidence_on_disk: int = 0) -> int:
    """Bytes a build of ``identifiers`` identifiers needs on disk while it runs, beyond
    ``evidence_on_disk`` (the evidence runs already written: they become ``evidence.mdb``,
    which a parent's bytes per identifier count)."""
    per = _parent_bytes_per_identifier(parent)
    if per is None:
        size = identifiers * PER_IDENTIFIER + FIXED
    else:
        size = int(identifiers * per) - evidence_on_disk
    return int(max(size, FIXED) * HEADROOM)


def human(n: float) -> str:
    """``n`` bytes as people read them (``1.5 GiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def ensure_space(
    directory: Path,
    identifiers: int,
    parent: Path | None = None,
    *,
    evidence_on_disk: int = 0,
    check: bool = True,
) -> int:
    """Raise :class:`SnapshotError` when ``directory``'s file system has less free space than
    :func:`estimate` says a build needs; returns the estimate otherwise (also with
    ``check=False``, which only estimates: ``--skip-space-check``)."""
    needed = estimate(identifiers, parent, evidence_on_disk)
    if not check:
        return needed
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise SnapshotError(
            directory,
            f"not enough disk space: a snapshot of {identifiers:,} identifiers "
            f"needs about {human(needed)} while it is built, {human(free)} is free; free some "
            "space (scameter snapshot prune --keep N) or point --snapshots at a larger disk",
        )
    return needed


#: Input bytes per identifier for the estimate before reading (the benchmarks' report mix:
#: 224 MB of JSONL per 7x10^5 identifiers); a lower bound for list-style CSV feeds, whose
#: identifiers the exact check after reading (:func:`ensure_space`) then counts.
INPUT_BYTES_PER_IDENTIFIER = 320
#: Evidence kept for the live fold per input byte: sorted runs while reading, which become
#: ``evidence.mdb`` (measured: 0.54 of the input's bytes for the scale mix), plus the merged
#: batches of a forked merge that overlap them while the records are written.
EVIDENCE_PER_INPUT_BYTE = 0.7
#: Out-of-core work per input byte: the event files (deleted once loaded), DuckDB's database
#: (events compressed, aggregate tables, kept until the run ends) and its spill under the
#: memory limit. Measured at 10^6 reports of the scale mix: 0.57 of the input with a 512 MB
#: limit (no spill to speak of), 1.35 with a 150 MB limit (a tenth of the 10^7 run's 1.5 GB
#: for a tenth of its input: what a 10^7 run spills), rounded up.
OOC_PER_INPUT_BYTE = 0.7
#: ... when DuckDB spills: a memory limit below :data:`SPILL_RATIO` times the input's bytes.
OOC_SPILLING_PER_INPUT_BYTE = 1.4
SPILL_RATIO = 2.0


@dataclass(frozen=True, slots=True)
class InputEstimate:
    """Disk bytes an ingest of ``input_bytes`` needs under the snapshots directory."""

    snapshot: int
    evidence: int
    ooc: int

    @property
    def total(self) -> int:
        return self.snapshot + self.evidence + self.ooc


def estimate_for_input(
    input_bytes: int,
    *,
    out_of_core: bool,
    evidence: bool,
    parent: Path | None = None,
    memory_limit: int | None = None,
) -> InputEstimate:
    """What :func:`ensure_input_space` compares with the free space (docs/operations.md);
    ``memory_limit``: the out-of-core engine's (None: large enough not to spill)."""
    ids = input_bytes // INPUT_BYTES_PER_IDENTIFIER
    kept = int(input_bytes * EVIDENCE_PER_INPUT_BYTE) if evidence else 0
    return InputEstimate(
        # A parent's bytes per identifier include its evidence, counted here on its own.
        snapshot=estimate(ids, parent, kept) if ids else 0,
        evidence=kept,
        ooc=int(input_bytes * _ooc_per_input_byte(input_bytes, memory_limit)) if out_of_core else 0,
    )


def _ooc_per_input_byte(input_bytes: int, memory_limit: int | None) -> float:
    spills = memory_limit is not None and memory_limit < SPILL_RATIO * input_bytes
    return OOC_SPILLING_PER_INPUT_BYTE if spills else OOC_PER_INPUT_BYTE


def ensure_input_space(
    directory: Path,
    input_bytes: int | None,
    *,
    out_of_core: bool,
    evidence: bool,
    parent: Path | None = None,
    check: bool = True,
    memory_limit: int | None = None,
) -> InputEstimate | None:
    """Before any work: raise :class:`SnapshotError` naming ``directory`` when its file
    system has less free space than :func:`estimate_for_input` says this ingest needs (the
    snapshot, the evidence, the out-of-core engine's database and spill, all of which live
    under ``directory``). ``None`` (no check) for an input of unknown size; with
    ``check=False`` the estimate only (``--skip-space-check``)."""
    if not input_bytes:
        return None
    need = estimate_for_input(
        input_bytes,
        out_of_core=out_of_core,
        evidence=evidence,
        parent=parent,
        memory_limit=memory_limit,
    )
    if not check:
        return need
    free = shutil.disk_usage(directory).free
    if free < need.total:
        parts = f"snapshot {human(need.snapshot)}, evidence {human(need.evidence)}"
        if out_of_core:
            parts += f", DuckDB work and spill {human(need.ooc)}"
        raise SnapshotError(
            directory,
            f"not enough disk space: ingesting {human(input_bytes)} of input needs about "
            f"{human(need.total)} here ({parts}; an estimate), {human(free)} is free; "
            "nothing was read; free some space (scameter snapshot prune --keep N) or point "
            "--snapshots at a larger disk",
        )
    return need


@contextlib.contextmanager
def disk_full_names(directory: Path, needed: int) -> Iterator[None]:
    """Turn a full disk inside the block (``ENOSPC`` from the OS, LMDB's ``DiskError``) into a
    :class:`SnapshotError` naming ``directory`` and the space the build needed. Used outside
    the builder's own ``with``, so its temporary directory is already gone when this runs."""
    try:
        yield
    except (OSError, lmdb.DiskError) as e:
        if isinstance(e, OSError) and e.errno != errno.ENOSPC:
            raise
        free = shutil.disk_usage(directory).free
        raise SnapshotError(
            directory,
            f"the disk filled up while the snapshot was built (about {human(needed)} needed, "
            f"{human(free)} free now); nothing was published and CURRENT is unchanged",
        ) from e


__all__ = [
    "EVIDENCE_PER_INPUT_BYTE",
    "FIXED",
    "HEADROOM",
    "INPUT_BYTES_PER_IDENTIFIER",
    "OOC_PER_INPUT_BYTE",
    "OOC_SPILLING_PER_INPUT_BYTE",
    "PER_IDENTIFIER",
    "SPILL_RATIO",
    "InputEstimate",
    "current_dir",
    "disk_full_names",
    "ensure_input_space",
    "ensure_space",
    "estimate",
    "estimate_for_input",
    "human",
]
