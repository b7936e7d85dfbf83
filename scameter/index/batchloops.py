"""The per-row loops of the batch path, compiled or pure: one call per batch, not per row.

Responsibility: the two loops of :mod:`scameter.index.batchpath` that touch every hit or every
plain miss of a batch, each with two implementations that give one answer:

* :func:`decode_hits_python` (the reference) / ``_speedups.decode_hits``: the verdicts of the
  rows whose key is a plain ``records`` key, from the records fetched for the whole batch:
  what ``ExactRules.answer``'s plain-hit branch gives each of them
  (:meth:`~scameter.index.assembly.VerdictAssembler.from_record`, the collision check), rows
  it cannot answer so handed back for the full single-item path;
* :func:`no_records_python` (:func:`~scameter.verdict.with_no_records`) /
  ``_speedups.no_records``: every plain miss's NO RECORD verdict, for ``check_many``.

Invariants:
* The compiled functions (``scameter/index/_speedups.c``, the block "Batch loops") are chosen
  once, at import (:data:`BATCH_PATH`), the way :data:`~scameter.index.assembly.HIT_PATH`
  is; ``BatchPath(compiled=False)`` (``Snapshot.open(compiled=False)``) takes the pure ones,
  so tests run both (``tests/property/test_batch_properties.py``,
  ``tests/unit/index/test_batchloops.py``).
* Same inputs, same result, same exceptions: the compiled loop calls the same
  ``from_record`` in the same order and raises what it raises (``SnapshotCorrupt``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scameter.verdict import Reason, Verdict, make_no_record, with_no_records

try:
    from scameter.index import _speedups
except ImportError:  # built without a C compiler: the pure loops (docs/architecture.md)
    _speedups = None  # type: ignore[assignment]

_compiled_decode = getattr(_speedups, "decode_hits", None)
_compiled_no_records = getattr(_speedups, "no_records", None)
#: Which implementation runs the loops: ``"compiled"`` or ``"python"`` (see
#: :data:`~scameter.index.assembly.HIT_PATH`; an extension built from an older source, without
#: the two functions, counts as absent).
BATCH_PATH = "python" if _compiled_decode is None or _compiled_no_records is None else "compiled"
#: The class of a plain NO RECORD verdict (``verdict._NoRecordVerdict``): whatever
#: :func:`make_no_record` builds is what the compiled loop builds, slot for slot.
NO_RECORD_TYPE: type[Verdict] = type(make_no_record("", None, None, (), None))


#: ``(from_record, rows, bufs, raws, canonicals, verdicts, deriving)`` -> rows left over
#: (:func:`decode_hits_python`).
DecodeHits = Callable[
    [
        Callable[[str, bytes], Verdict],
        list[int],
        list[bytes | None],
        Sequence[str],
        list[str | None],
        list[Verdict | None],
        frozenset[str],
    ],
    list[int],
]
#: ``(verdicts, inputs, kinds, canonicals, reasons, snapshot)`` -> every row's verdict.
NoRecords = Callable[
    [
        Sequence[Verdict | None],
        Sequence[str],
        Sequence[str | None],
        Sequence[str | None],
        tuple[Reason, ...],
        str | None,
    ],
    list[Verdict],
]


def decode_hits_python(  # noqa: PLR0917 - the columns of a batch, positional
    from_record: Callable[[str, bytes], Verdict],
    rows: list[int],
    bufs: list[bytes | None],
    raws: Sequence[str],
    canonicals: list[str | None],
    verdicts: list[Verdict | None],
    deriving: frozenset[str],
) -> list[int]:
    """For each ``rows[j]`` (a row whose one identifier has the canonical value
    ``canonicals[row]`` and whose key is in ``records`` and not in ``allow``; ``bufs[j]`` its
    record, ``None`` when absent): ``verdicts[row] = from_record(raws[row], bufs[j])``, the
    plain-hit answer, unless the record is absent, its canonical value is another (a 64-bit
    key collision) or its kind derives others (``deriving``). Returns those other rows, in
    order, for the full path."""
    rest: list[int] = []
    for i, buf in zip(rows, bufs, strict=True):
        if buf is None:
            rest.append(i)
            continue
        v = from_record(raws[i], buf)
        if v.canonical == canonicals[i] and v.kind not in deriving:
            verdicts[i] = v
        else:
            rest.append(i)
    return rest


def no_records_python(  # noqa: PLR0917 - the columns of a batch answer, positional
    verdicts: Sequence[Verdict | None],
    inputs: Sequence[str],
    kinds: Sequence[str | None],
    canonicals: Sequence[str | None],
    reasons: tuple[Reason, ...],
    snapshot: str | None,
) -> list[Verdict]:
    """:func:`~scameter.verdict.with_no_records`: each ``None`` of ``verdicts`` as its row's
    NO RECORD verdict."""
    return with_no_records(verdicts, inputs, kinds, canonicals, reasons, snapshot)


def _no_records_compiled(  # noqa: PLR0917 - the columns of a batch answer, positional
    verdicts: Sequence[Verdict | None],
    inputs: Sequence[str],
    kinds: Sequence[str | None],
    canonicals: Sequence[str | None],
    reasons: tuple[Reason, ...],
    snapshot: str | None,
) -> list[Verdict]:
    out: list[Verdict] = _speedups.no_records(
        verdicts, inputs, kinds, canonicals, reasons, snapshot, Verdict, NO_RECORD_TYPE
    )
    return out


def loops(compiled: bool | None = None) -> tuple[DecodeHits, NoRecords]:
    """The two loops: compiled (``None``: where built, :data:`BATCH_PATH`; ``True`` without
    them raises ImportError) or pure (``False``)."""
    if compiled is None:
        compiled = BATCH_PATH == "compiled"
    if not compiled:
        return decode_hits_python, no_records_python
    if BATCH_PATH != "compiled":
        raise ImportError(
            "scameter.index._speedups is not built (no C compiler at install time) or lacks "
            "the batch loops: reinstall scameter where gcc/cc and the Python headers are present"
        )
    decode: Any = _compiled_decode
    return decode, _no_records_compiled


__all__ = [
    "BATCH_PATH",
    "NO_RECORD_TYPE",
    "DecodeHits",
    "NoRecords",
    "decode_hits_python",
    "loops",
    "no_records_python",
]
