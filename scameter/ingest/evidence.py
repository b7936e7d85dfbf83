"""Evidence: the ingest events behind each identifier, kept in the snapshot for the live fold.

Responsibility: while ingest folds worker events into the :class:`~scameter.ingest.aggregate.
Aggregator`, :class:`EvidenceCollector` also files every event that can still count under
the key of each identifier it names, through the builder's on-disk sorter (memory stays
bounded), so that the ``evidence`` sub-database of the snapshot holds, per identifier, the
events a full build decided it from. The live fold of ``serve`` (:mod:`scameter.ingest.live`)
re-decides a touched identifier with the same :class:`Aggregator` over that evidence plus the
new intake reports: the same inputs give the same answer, live or in a file.

Invariants:

* Events are encoded generically: the event tuple as a JSON array (nested tuples as arrays),
  whatever it holds (a trailing element added to the tuple is stored and given back too).
  :func:`decode_events` turns every array back into a tuple.
* Left out: reports that can never count again (status ``rejected``, or dated before the
  start of their window at this build's ``as_of``: windows only move forward). Reports dated
  after ``as_of`` are kept (they count once their time comes).
* Allow and delist events are kept under the identifier they name.
* Beside them, the build's domain-link index (:meth:`EvidenceCollector.add_domain`, the
  side file's ``domlinks``): per host-level expression, the identifiers of the window on
  it, as the build counts them for ``hub_reports``; both engines file it while linking.
* :func:`encode_pairs` has a compiled form (``_rowsfast.c``, :data:`ROWS_PATH`) that gives
  the same segments, byte for byte, or hands the chunk back to the Python reference.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
import xxhash

from scameter.identifiers import KIND_TAGS, Kind, expression_key
from scameter.index import domlinks
from scameter.index import format as fmt
from scameter.index.publish import lock_build
from scameter.index.spill import SEP, ExternalSorter, Segments, pair_segments
from scameter.ingest.worker import EV_REPORT, NEVER, ChunkResult, process_chunk

try:  # the compiled rows and evidence (setup.py builds it where a C compiler is found)
    from scameter.ingest import _rowsfast
except ImportError:  # pragma: no cover - exercised by a subprocess test
    _rowsfast = None  # type: ignore[assignment]

#: Which code writes a parse worker's evidence segments (:func:`encode_pairs`) and its
#: out-of-core table rows (:func:`scameter.ingest.ooc.event_rows`): ``"compiled"``
#: (``scameter/ingest/_rowsfast.c``: the events' JSON, keys and CSV text in C, Python only
#: for rare values) or ``"python"`` (the reference it must equal, byte for byte).
ROWS_PATH: Final = "python" if _rowsfast is None else "compiled"

_xxh3 = xxhash.xxh3_64_digest
_TAGS = {k.value: KIND_TAGS[k] for k in Kind}


def wire_key_id(key: str) -> bytes:
    """The 8-byte identifier key (``Identifier.key``) of a worker wire key
    (``"kind:canonical"``, with or without the leading ``~``)."""
    plain = key[1:] if key[:1] == "~" else key
    kind, _, value = plain.partition(":")
    return _xxh3(_TAGS[kind] + value.encode("utf-8"))


def event_keys(ev: tuple[Any, ...]) -> tuple[str, ...]:
    """The wire keys an event names (a report: all of them; allow / delist: its one)."""
    if ev[0] == EV_REPORT:
        keys: tuple[str, ...] = ev[7]
        return keys
    return (ev[2],)


def encode_event(ev: tuple[Any, ...]) -> bytes:
    """One event as a JSON array (generic: every element of the tuple is kept), in a bytes
    object of its own size (see :meth:`EvidenceCollector.add`)."""
    return bytes(memoryview(orjson.dumps(ev)))


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def decode_events(blob: bytes | None) -> list[tuple[Any, ...]]:
    """The events of one ``evidence`` value (or of a delta's stored events), as tuples."""
    if not blob:
        return []
    out: list[tuple[Any, ...]] = [_tuples(ev) for ev in orjson.loads(blob)]
    return out


#: ``(source, status) -> (flag, window start)``: :meth:`Aggregator._rules`, what decides
#: whether a report event can still count (plain data: it travels to the parse workers).
EvidenceRules = dict[tuple[int, int], tuple[int, int]]


def encode_pairs(
    events: Iterable[tuple[Any, ...]], rules: EvidenceRules, *, compiled: bool = True
) -> EncodedEvidence:
    """The evidence of one chunk's events, encoded where they were made (a parse worker):
    ``(key, blob)`` for every event that can still count under each distinct identifier it
    names, in order, as the segments of the collector's first-byte sorter
    (:func:`~scameter.index.spill.pair_segments`: the main process writes their bytes as
    they are); with the number of events kept and the bytes filed.

    Through ``_rowsfast.c`` when it is built and ``compiled``; it declines (None) what it
    does not handle exactly, and this reference then encodes the whole chunk."""
    if compiled and _rowsfast is not None and type(events) is list:
        got = _rowsfast.encode_pairs(events, rules, _TAGS, _xxh3, orjson.dumps, SEP)
        if got is not None:
            return EncodedEvidence(*got)
    return _python_encode_pairs(events, rules)


def _python_encode_pairs(
    events: Iterable[tuple[Any, ...]], rules: EvidenceRules
) -> EncodedEvidence:
    """:func:`encode_pairs` in Python: the reference (and the path without a C compiler)."""
    pairs: list[tuple[bytes, bytes]] = []
    push = pairs.append
    xxh3, tags, dumps = _xxh3, _TAGS, orjson.dumps
    n = size = 0
    for ev in events:
        report = ev[0] == EV_REPORT
        if report:
            flag, start = rules[ev[3], ev[4]]
            if not flag or (ev[2] < start and ev[2] != NEVER):
                continue
        # orjson's bytes keep the 4 KiB buffer they were written into (measured with
        # tracemalloc: 4,097 B for a 94-byte event): a chunk's would hold 40 MB until its
        # segments are joined, so each is copied to its own size first.
        blob = bytes(memoryview(dumps(ev)))
        n += 1
        keys = ev[7] if report else (ev[2],)
        if len(keys) == 1:  # most reports: no de-duplication to do
            key = keys[0]
            kind, _, value = (key[1:] if key[:1] == "~" else key).partition(":")
            push((xxh3(tags[kind] + value.encode("utf-8")), blob))
            size += len(blob)
            continue
        for key in dict.fromkeys(k[1:] if k[:1] == "~" else k for k in keys):
            push((wire_key_id(key), blob))
            size += len(blob)
    return EncodedEvidence(pair_segments(pairs), n, size)


@dataclass(frozen=True, slots=True)
class EncodedEvidence:
    """What :func:`encode_pairs` gives: the sorter segments, events kept, bytes filed."""

    segments: Segments
    events: int
    size: int


def process_chunk_with_evidence(rules: EvidenceRules, *task: Any) -> ChunkResult:
    """:func:`~scameter.ingest.worker.process_chunk` of one task, and its events' evidence
    (``ChunkResult.evidence``): run in the parse workers, so that the main process, which
    reads the input and folds the events, only files the encoded segments."""
    res = process_chunk(*task)
    res.evidence = encode_pairs(res.events, rules)
    return res


class EvidenceCollector:
    """Files events by identifier key in an on-disk sorter under ``snapshots_root``.

    ``rules`` say whether a report event can still count (see the module invariants). The
    sorter's directory is a ``.tmp-*`` build directory holding the build lock, so a
    crashed ingest's leftovers are removed by the next build; :meth:`close` removes it.
    """

    def __init__(
        self,
        snapshots_root: Path,
        rules: EvidenceRules,
        chunk: int,
        *,
        enabled: bool = True,
        cap: int = 1000,
    ) -> None:
        self.rules = rules
        #: The ``domlinks`` entries (:meth:`add_domain`), capped at ``cap`` identifiers
        #: (the policy's ``hub_reports``); ``None`` when not ``enabled``.
        self.domains: ExternalSorter | None = None
        self.cap = cap
        self.events = 0
        self.bytes = 0
        self._dir: Path | None = None
        self._lock: int | None = None
        #: The sorted evidence for the builder; ``None`` when not ``enabled`` (then
        #: :meth:`add` keeps nothing: ``ingest --no-evidence``, dry runs).
        self.sorter: ExternalSorter | None = None
        if enabled:
            self._dir = Path(
                tempfile.mkdtemp(prefix=fmt.TMP_PREFIX + "evidence-", dir=snapshots_root)
            )
            self._lock = lock_build(self._dir)
            self.sorter = ExternalSorter(self._dir, "evidence", chunk=chunk, first_byte=True)
            self.domains = ExternalSorter(self._dir, "domlinks", chunk=chunk)

    def add_domain(self, link: str, count: int, allowed: bool, keys: list[bytes] | None) -> None:
        """File the ``domlinks`` entry of the host-level expression ``link``: ``count``
        identifiers of the window on it, whether one is allowlisted, and their identifier
        keys (``None`` past the cap or when allowed: not needed; see
        :mod:`scameter.index.domlinks`)."""
        if self.domains is not None:
            entry = domlinks.pack(count, keys, cap=self.cap, allowed=allowed)
            self.domains.add(expression_key(link), entry)

    def add(self, events: Iterable[tuple[Any, ...]]) -> None:
        """File the events of one chunk that can still count."""
        if self.sorter is not None:
            self.add_encoded(encode_pairs(events, self.rules))

    @property
    def worker_rules(self) -> EvidenceRules | None:
        """The rules the parse workers encode evidence under, None when none is kept."""
        return self.rules if self.sorter is not None else None

    def add_encoded(self, encoded: EncodedEvidence | None) -> None:
        """File one chunk's evidence as :func:`encode_pairs` gave it (None: none made)."""
        if self.sorter is None or encoded is None:
            return
        self.sorter.extend_segments(encoded.segments)
        self.events += encoded.events
        self.bytes += encoded.size

    def close(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


__all__ = [
    "ROWS_PATH",
    "EncodedEvidence",
    "EvidenceCollector",
    "EvidenceRules",
    "decode_events",
    "encode_event",
    "encode_pairs",
    "event_keys",
    "process_chunk_with_evidence",
    "wire_key_id",
]
