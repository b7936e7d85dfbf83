"""Batch lookups: the answers of :meth:`Snapshot.check_many`, probed in key order.

Responsibility: answer a list of distinct inputs with exactly the verdicts the single-item
rules give, but with the LMDB work batched: every input is normalised and keyed first, the
distinct keys are sorted and probed with one ``getmulti`` on ``records`` (key order, so LMDB
pages are visited in order) inside one read transaction, and records are decoded only for
hits. :meth:`BatchRules.exact_kind` (one exact kind) also answers its phone misses from one
sorted ``getmulti`` on ``ranges``; :meth:`BatchRules.any_kind` (detected kinds, URLs,
domains) hands what cannot be keyed to the single-item rule of its kind.

Invariants: a batch never raises for one item (an invalid input, or an item whose rule
raises :class:`~scameter.errors.InvalidIdentifier`, gets ``Verdict.invalid``); output order
is input order; an item's verdict equals what :meth:`Snapshot.check_identifier` gives it
(the branches of :meth:`ExactRules.answer`, in its order: pinned by
``tests/unit/index/test_check_many.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import xxhash

from scameter.errors import InvalidIdentifier
from scameter.identifiers import KIND_TAGS, Identifier, Kind, detect, normalize
from scameter.identifiers.normalize import NORMALIZERS
from scameter.index.assembly import VerdictAssembler
from scameter.index.exact import ExactRules, with_reasons
from scameter.index.format import record_canonical
from scameter.index.nearmatch import NearRules
from scameter.index.reader import SnapshotReader
from scameter.verdict import CheckContext, Reason, ReasonCode, Verdict, worst

_xxh3 = xxhash.xxh3_64_digest  # = Identifier.key's hash (identifiers/model.py)
#: Every kind answered by its own record (the others are URLs and domains).
EXACT_KINDS = frozenset(k for k in Kind if k not in (Kind.URL, Kind.DOMAIN))
_UNALLOCATED = Reason.of(ReasonCode.UNALLOCATED_NUMBER)
_NOT_RECOGNISED = "invalid identifier: not recognised as any kind"

#: The single-item rule of a kind: (raw, identifier, context) -> verdict.
Rule = Callable[[str, Identifier, CheckContext | None], Verdict]
#: One input of :meth:`BatchRules.any_kind`, planned: a ready (invalid) verdict, or the raw
#: text with each plausible identifier and its key (``None``: not keyed, ask its rule).
_Planned = Verdict | tuple[str, list[tuple[Identifier, bytes | None]]]


class BatchRules:
    """Batched answers of one snapshot, over the same rules as single lookups."""

    def __init__(
        self,
        reader: SnapshotReader,
        assemble: VerdictAssembler,
        exact: ExactRules,
        near: NearRules,
        rules: dict[Kind, Rule],
    ) -> None:
        self._reader = reader
        self._records = reader.records
        self._allow_keys = reader.allow_keys
        self._from_record = assemble.from_record
        self._exact = exact
        self._near = near
        self._rules = rules

    def exact_kind(self, raws: Sequence[str], kind: Kind) -> list[Verdict]:
        """Distinct inputs of one exact kind: one sorted ``getmulti`` on ``records``, phone
        misses from one sorted ``getmulti`` on ``ranges``."""
        norm = NORMALIZERS[kind]
        kv = kind.value
        tag = KIND_TAGS[kind]
        xxh = _xxh3
        out: list[Verdict | None] = []
        pending: list[tuple[int, str, Identifier, bytes]] = []
        for raw in raws:
            try:
                ident = norm(raw) if raw.__class__ is str else normalize(kind, raw)
            except InvalidIdentifier as e:
                out.append(Verdict.invalid(raw, str(e), kv))
                continue
            pending.append((len(out), raw, ident, xxh(tag + ident.value.encode("utf-8"))))
            out.append(None)
        hits = self._probe({p[3] for p in pending})
        allow = self._allow_keys
        from_record = self._from_record
        phone = kind is Kind.PHONE
        misses: list[tuple[int, str, Identifier]] = []
        for i, raw, ident, key in pending:
            buf = hits.get(key)
            if buf is not None:
                if ident.valid and key not in allow:
                    v = from_record(raw, buf)  # the plain listed hit, as ExactRules.answer
                    if v.canonical == ident.value:
                        out[i] = v
                        continue
                    buf = None  # 64-bit key collision
                elif record_canonical(buf) != ident.value:
                    buf = None
            if buf is None and phone and key not in allow:
                misses.append((i, raw, ident))  # answered below, from one ranges probe
                continue
            out[i] = self._finish(raw, ident, key, buf)
        if misses:
            self._phone_misses(out, misses)
        return out  # type: ignore[return-value]  # every None slot was filled above

    def any_kind(self, raws: Sequence[str], kind: Kind | str | None) -> list[Verdict]:
        """Distinct inputs of one given kind, or of detected kinds (several plausible kinds
        per input: the worst verdict wins). Exact kinds share one sorted ``getmulti``."""
        planned = self._plan(raws, kind)
        keys = {
            key
            for item in planned
            if not isinstance(item, Verdict)
            for _, key in item[1]
            if key is not None
        }
        hits = self._probe(keys)
        answer = self._answer_keyed
        out: list[Verdict] = []
        append = out.append
        for item in planned:
            if isinstance(item, Verdict):
                append(item)
                continue
            raw, idents = item
            if len(idents) == 1:
                ident, key = idents[0]
                append(answer(raw, ident, key, hits))
            else:
                append(worst([answer(raw, ident, key, hits) for ident, key in idents]))
        return out

    # -- the steps --------------------------------------------------------------------------

    def _probe(self, keys: set[bytes]) -> dict[bytes, bytes]:
        """``records`` values of ``keys``, probed in key order with one ``getmulti``."""
        if not keys:
            return {}
        cursor = self._reader.txn().cursor(db=self._records)
        return dict(cursor.getmulti(sorted(keys)))

    def _finish(self, raw: str, ident: Identifier, key: bytes, buf: bytes | None) -> Verdict:
        try:
            return self._exact.finish(raw, ident, key, buf, None)
        except InvalidIdentifier as e:
            return Verdict.invalid(raw, str(e), ident.kind.value)

    def _phone_misses(
        self, out: list[Verdict | None], misses: list[tuple[int, str, Identifier]]
    ) -> None:
        """Fill the slots of phone numbers with no record and no allowlist entry."""
        ranges = self._near.range_hits([m[2].value for m in misses])
        phone_miss = self._near.phone_miss
        for i, raw, ident in misses:
            v = phone_miss(raw, ident, ranges)
            if not ident.valid:  # as ExactRules.finish: no record, no allowlist entry
                v = with_reasons(v, _UNALLOCATED)
            out[i] = v

    def _plan(self, raws: Sequence[str], kind: Kind | str | None) -> list[_Planned]:
        """Normalise (or detect) every input and key its exact-kind identifiers."""
        planned: list[_Planned] = []
        if kind is not None:
            k = Kind(kind)
            keyed = k in EXACT_KINDS
            for raw in raws:
                try:
                    ident = normalize(k, raw)
                except InvalidIdentifier as e:
                    planned.append(Verdict.invalid(raw, str(e), k.value))
                    continue
                planned.append((raw, [(ident, ident.key if keyed else None)]))
            return planned
        for raw in raws:
            found = detect(raw)
            if not found:
                planned.append(Verdict.invalid(raw, _NOT_RECOGNISED))
                continue
            planned.append((raw, [(i, i.key if i.kind in EXACT_KINDS else None) for i in found]))
        return planned

    def _answer_keyed(
        self, raw: str, ident: Identifier, key: bytes | None, hits: dict[bytes, bytes]
    ) -> Verdict:
        """One planned identifier: from the batch's probe when it was keyed, else from the
        single-item rule of its kind."""
        try:
            if key is None:
                return self._rules[ident.kind](raw, ident, None)
            buf = hits.get(key)
            if buf is not None:
                if ident.valid and key not in self._allow_keys:
                    v = self._from_record(raw, buf)  # the plain listed hit
                    if v.canonical == ident.value:
                        return v
                    buf = None  # 64-bit key collision
                elif record_canonical(buf) != ident.value:
                    buf = None
            return self._exact.finish(raw, ident, key, buf, None)
        except InvalidIdentifier as e:
            return Verdict.invalid(raw, str(e), ident.kind.value)


__all__ = ["EXACT_KINDS", "BatchRules", "Rule"]
