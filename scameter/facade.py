"""The small public facade: open the live snapshot and look values up, in two lines.

    from scameter import open_snapshot
    open_snapshot().check("6391 2745")

Responsibility: what the ``scameter`` command does before a local lookup, for Python callers:
find the snapshots directory exactly as the command does (the ``snapshots`` setting:
``SCAMETER_SNAPSHOTS``, else ``<data_dir>/snapshots``; see ``docs/settings.md``) and open the
snapshot its ``CURRENT`` names, as a :class:`~scameter.index.Snapshot`.

Invariants:
* The environment is read when :func:`open_snapshot` is called, never at import.
* Importing this module (so ``import scameter``) does not import the index: LMDB, roaring
  bitmaps and the near-match code load on the first :func:`open_snapshot`, so ``scameter
  --help`` and the other light imports stay light.
* It goes through :func:`scameter.settings.load_settings`, the command's own resolution, so the
  two cannot disagree about where the snapshots are; it imports nothing of ``scameter.cli``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from scameter.settings import load_settings

if TYPE_CHECKING:
    from scameter.index import Snapshot


def open_snapshot(
    snapshots_root: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Snapshot:
    """Open the live snapshot (the one ``CURRENT`` names) for lookups.

    ``snapshots_root``: the directory holding ``CURRENT``; by default the one the
    ``snapshots`` setting names, as for the ``scameter`` command, read from ``env`` (default:
    ``os.environ``, now). Close the snapshot when done, or use it in a ``with`` block.

    Raises :class:`~scameter.errors.SnapshotNotFound` when there is no snapshot there (its
    message says how to build one), another :class:`~scameter.errors.SnapshotError` when it
    is damaged, and :class:`~scameter.errors.ConfigError` for a malformed ``SCAMETER_*``
    setting in ``env``.
    """
    if snapshots_root is None:
        snapshots_root = load_settings({}, os.environ if env is None else env).snapshots_root
    from scameter.index import Snapshot  # here, not at import: see the module invariants

    return Snapshot.open_current(Path(snapshots_root).expanduser())


__all__ = ["open_snapshot"]
