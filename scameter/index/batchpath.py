"""The batch hot path: a whole batch normalised, hashed and probed at once.

Responsibility: answer a batch of inputs (``Snapshot.check_many``, ``Snapshot.check_batch``,
``scameter bulk``, the ``CheckBatch`` RPC) with exactly the verdicts the single-item path
gives, while doing per row only what a row with nothing stored needs:

1. normalise each input with its kind's normaliser (or :func:`~scameter.identifiers.detect`
   when no kind is given) and hash every candidate identifier into its 64-bit key;
2. test all the keys of the batch at once against the snapshot's sorted key array
   (:class:`~scameter.index.keyprobe.KeyProbe`, one ``np.searchsorted``), and the phone
   numbers against the listed phone-range prefixes;
3. a row none of whose keys can match is a *plain miss*: it gets no verdict object, only its
   kind and canonical value (:class:`BatchAnswer`), and renders as the one shared NO RECORD
   answer; every other row (a possible hit, a phone in a listed range, an unallocated number,
   a kind outside :data:`PROBED_KINDS`, anything unusual) is answered by the full
   single-item path (``Snapshot.check`` / ``Snapshot.check_identifier``), so every rule
   applies to it.

Which rows may skip the full path: only rows whose every candidate is of a kind in
:data:`PROBED_KINDS`, is a valid identifier, and whose full path would consult nothing but
its own key in ``records`` and ``allow`` (plus, for a phone number, ``phone_ranges``). URLs
and domains (expressions, near matches), e-mails (their domain), platform handles (near
matches), IPs and SMS sender ids always take the full path. A rule that makes one of the
probed kinds consult anything else (a new derivation, a new signal) must remove the kind from
:data:`PROBED_KINDS` or teach :class:`BatchPath` its keys: when in doubt, the full path.

Other batch callers (``CheckMessage`` items, the live-delta overlay when it lands) should
answer through :meth:`Snapshot.check_batch` too; an overlay adds its own keys to the probe.

Invariants: output order = input order; no row is dropped; a bad row gets
``Verdict.invalid`` with its reason (never raises for one item); every row's verdict equals
what :func:`BatchPath.one` (the per-row reference) gives, pinned by
``tests/property/test_batch_properties.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import xxhash

from scameter.errors import InvalidIdentifier
from scameter.identifiers import KIND_TAGS, Identifier, Kind, detect
from scameter.identifiers.detect import not_recognised
from scameter.identifiers.normalize import NORMALIZERS
from scameter.identifiers.phonecolumn import MIN_ROWS, typed_hk_numbers
from scameter.identifiers.phonecolumn import phone as typed_phone
from scameter.index.assembly import NO_RECORD_REASONS
from scameter.index.keyprobe import KeyProbe, U64Array, key_array
from scameter.verdict import Verdict, make_no_record, with_no_records, worst

#: Kinds whose rows may be answered NO RECORD from the key probe alone (module docstring).
PROBED_KINDS: frozenset[Kind] = frozenset(
    {Kind.PHONE, Kind.FPS_ID, Kind.BANK_ACCOUNT, Kind.CRYPTO_WALLET}
)
_xxh3 = xxhash.xxh3_64_intdigest  # = int.from_bytes(Identifier.key, "big")
_PHONE_VALUE = Kind.PHONE.value
#: The phone key tag as a one-character string: ``(tag + value).encode()`` is the key's bytes
#: because the tag is ASCII (the typed-number keys are built by ``map`` chains of C calls).
_PHONE_TAG = KIND_TAGS[Kind.PHONE].decode("ascii")
_NO_ROWS: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
_NO_KEYS: U64Array = np.empty(0, dtype=np.uint64)

#: ``Snapshot.check``: (raw, kind) -> verdict; raises InvalidIdentifier.
CheckOne = Callable[[str, Kind | None], Verdict]
#: ``Snapshot.check_identifier`` with the raw input: (identifier, raw) -> verdict.
CheckIdent = Callable[[Identifier, str], Verdict]


class BatchAnswer:
    """The answers of one batch, in input order, columnar.

    ``verdicts[i]`` is row ``i``'s verdict, or ``None`` for a plain miss: NO RECORD for
    ``kinds[i]`` / ``canonicals[i]`` (what :meth:`verdict` builds on demand). Callers that
    render rows (bulk CSV, the RPC) write plain misses from one shared template instead.
    """

    __slots__ = ("canonicals", "inputs", "kinds", "snapshot_id", "verdicts")

    def __init__(
        self,
        inputs: Sequence[str],
        verdicts: list[Verdict | None],
        kinds: list[str | None],
        canonicals: list[str | None],
        snapshot_id: str,
    ) -> None:
        self.inputs = inputs
        self.verdicts = verdicts
        self.kinds = kinds
        self.canonicals = canonicals
        self.snapshot_id = snapshot_id

    def __len__(self) -> int:
        return len(self.verdicts)

    def misses(self) -> int:
        """Rows answered as plain misses."""
        return self.verdicts.count(None)

    def verdict(self, i: int) -> Verdict:
        v = self.verdicts[i]
        if v is not None:
            return v
        return make_no_record(
            self.inputs[i], self.kinds[i], self.canonicals[i], NO_RECORD_REASONS, self.snapshot_id
        )

    def to_list(self) -> list[Verdict]:
        """Every row as a full :class:`Verdict` (plain misses built here)."""
        return with_no_records(
            self.verdicts, self.inputs, self.kinds, self.canonicals, NO_RECORD_REASONS,
            self.snapshot_id,
        )  # fmt: skip

    def expand(self, inputs: Sequence[str], index: list[int]) -> BatchAnswer:
        """The answer of ``inputs`` whose row ``j`` repeats this answer's row ``index[j]``
        (distinct inputs answered once, then spread back over their repeats)."""
        vs, ks, cs = self.verdicts, self.kinds, self.canonicals
        return BatchAnswer(
            inputs,
            [vs[i] for i in index],
            [ks[i] for i in index],
            [cs[i] for i in index],
            self.snapshot_id,
        )


class BatchPath:
    """The batch answers of one snapshot, over its single-item path and its key probe."""

    def __init__(
        self, snapshot_id: str, probe: KeyProbe, check: CheckOne, check_ident: CheckIdent
    ) -> None:
        self._sid = snapshot_id
        self._probe = probe
        self._check = check
        self._check_ident = check_ident

    # -- the per-row reference ------------------------------------------------------------

    def one(self, raw: str, kind: Kind | None) -> Verdict:
        """One row through the full single-item path, as a batch answers it: an invalid
        input (or one a rule rejects) becomes ``Verdict.invalid`` instead of raising."""
        try:
            return self._check(raw, kind)
        except InvalidIdentifier as e:
            if kind is not None:
                return Verdict.invalid(raw, str(e), kind.value)
        found = detect(raw)
        if not found:
            return Verdict.invalid(raw, f"invalid identifier: {not_recognised(raw)}")
        return worst([self._ident(c, raw) for c in found])

    def _ident(self, ident: Identifier, raw: str) -> Verdict:
        try:
            return self._check_ident(ident, raw)
        except InvalidIdentifier as e:
            return Verdict.invalid(raw, str(e), ident.kind.value)

    # -- batches --------------------------------------------------------------------------

    def answer(self, raws: Sequence[str], kind: Kind | None) -> BatchAnswer:
        """Every row of ``raws`` (``kind``: all of that kind; ``None``: detect each)."""
        if len(raws) > 1:
            # Lists repeat themselves: each distinct input is answered once. Only when every
            # item is text (``1 == True`` would merge two different invalid inputs), which is
            # checked only once there are repeats.
            try:
                seen = dict.fromkeys(raws)
            except TypeError:  # an unhashable item: the full path gives its error
                return self._distinct(raws, kind)
            if len(seen) < len(raws) and set(map(type, raws)) == {str}:
                distinct = list(seen)
                pos = {r: i for i, r in enumerate(distinct)}
                return self._distinct(distinct, kind).expand(raws, [pos[r] for r in raws])
        return self._distinct(raws, kind)

    def _distinct(self, raws: Sequence[str], kind: Kind | None) -> BatchAnswer:
        n = len(raws)
        out = BatchAnswer(raws, [None] * n, [None] * n, [None] * n, self._sid)
        if (kind is not None and kind not in PROBED_KINDS) or not self._probe.worth(n):
            out.verdicts = [self.one(raw, kind) for raw in raws]
            return out
        plan = _Plan(n)
        if kind is None:
            plan.detect_all(raws, out)
        else:
            plan.normalise_all(raws, kind, out)
        self._resolve(raws, kind, plan, out)
        return out

    def _resolve(
        self, raws: Sequence[str], kind: Kind | None, plan: _Plan, out: BatchAnswer
    ) -> None:
        """Probe the planned keys; send every row that may match down the full path."""
        full = plan.full
        keys, owners = plan.keys()
        if len(keys):
            full.update(owners[self._probe.present(keys)].tolist())
        for d, prefixes in self._probe.ranges:
            if prefixes:
                full.update(plan.in_ranges(d, prefixes))
        verdicts, kinds, canonicals, idents = out.verdicts, out.kinds, out.canonicals, plan.idents
        typed = plan.typed
        for i in sorted(full):
            ident = idents[i]
            raw = raws[i]
            value = canonicals[i]
            if ident is None and value is not None and typed is not None and typed[i]:
                ident = typed_phone(value)
            # A row of one identifier of a probed kind goes to its rule directly
            # (Snapshot.check would normalise it again to the same identifier, and derives
            # nothing from these kinds); anything else through Snapshot.check.
            verdicts[i] = self.one(raw, kind) if ident is None else self._ident(ident, raw)
            kinds[i] = canonicals[i] = None


class _Plan:
    """Per-row work of one batch before the probe: keys to test and rows already decided.

    Rows :func:`typed_hk_numbers` recognises (a whole column at once) are keyed in one go and
    never get an :class:`Identifier` unless they may match; the others are normalised (or
    detected) one by one."""

    __slots__ = ("full", "hashes", "idents", "owner", "phones", "typed", "typed_keys", "typed_rows")

    def __init__(self, n: int) -> None:
        self.hashes: list[int] = []  # candidate keys, as integers
        self.owner: list[int] = []  # row of each key
        self.phones: list[tuple[int, str]] = []  # (row, E.164) of phone candidates
        self.full: set[int] = set()  # rows for the full single-item path
        #: The row's identifier when it is its only candidate and of a probed kind.
        self.idents: list[Identifier | None] = [None] * n
        #: Rows recognised as typed HK numbers: mask, ascending rows, their keys.
        self.typed: npt.NDArray[np.bool_] | None = None
        self.typed_rows: npt.NDArray[np.intp] = _NO_ROWS
        self.typed_keys: U64Array = _NO_KEYS

    def keys(self) -> tuple[U64Array, npt.NDArray[np.intp]]:
        """Every planned key and the row it belongs to."""
        keys, owner = key_array(self.hashes), np.array(self.owner, dtype=np.intp)
        if not len(self.typed_rows):
            return keys, owner
        return np.concatenate([keys, self.typed_keys]), np.concatenate([owner, self.typed_rows])

    def in_ranges(self, digits: int, prefixes: frozenset[str]) -> list[int]:
        """Rows with a phone candidate whose number less its last ``digits`` digits is one of
        ``prefixes`` (a listed phone range)."""
        return [i for i, number in self.phones if number[:-digits] in prefixes]

    def _typed(self, raws: Sequence[str], out: BatchAnswer) -> list[int] | range:
        """Recognise the typed HK numbers of the column; returns the rows left to do one by
        one. The typed rows' canonical values go to ``out``; their phones to the range
        check."""
        n = len(raws)
        if n < MIN_ROWS:
            return range(n)
        rows, values = typed_hk_numbers(raws)
        if not len(rows):
            return range(n)
        self.typed_rows = rows
        self.typed_keys = np.fromiter(
            map(_xxh3, map(str.encode, map(_PHONE_TAG.__add__, values))),
            dtype=np.uint64,
            count=len(values),
        )
        rows_list: list[int] = rows.tolist()
        self.phones = list(zip(rows_list, values, strict=True))
        typed = self.typed = np.zeros(n, dtype=np.bool_)
        typed[rows] = True
        if len(rows) == n:
            out.canonicals = list[str | None](values)
            return []
        canonicals = out.canonicals
        for i, value in self.phones:
            canonicals[i] = value
        rest: list[int] = np.flatnonzero(~typed).tolist()
        return rest

    def normalise_all(self, raws: Sequence[str], kind: Kind, out: BatchAnswer) -> None:
        """One given kind: its normaliser per row (typed HK numbers at once), then the key."""
        norm, tag, kv = NORMALIZERS[kind], KIND_TAGS[kind], kind.value
        out.kinds = [kv] * len(raws)  # read only for plain misses, which are all of ``kind``
        rest = self._typed(raws, out) if kind is Kind.PHONE else range(len(raws))
        owner, full, idents = self.owner, self.full, self.idents
        verdicts, canonicals = out.verdicts, out.canonicals
        start = len(owner)
        values: list[str] = []
        keep = values.append
        own = owner.append
        for i in rest:
            raw = raws[i]
            if raw.__class__ is not str:
                full.add(i)  # normalize() gives its error through the full path
                continue
            try:
                ident = norm(raw)
            except InvalidIdentifier as e:
                verdicts[i] = Verdict.invalid(raw, str(e), kv)
                continue
            idents[i] = ident
            if not ident.valid:
                full.add(i)
                continue
            canonicals[i] = value = ident.value
            keep(value)
            own(i)
        if kind is Kind.PHONE:
            self.phones += zip(owner[start:], values, strict=True)
        self.hashes = list(map(_xxh3, [tag + v.encode("utf-8") for v in values]))

    def detect_all(self, raws: Sequence[str], out: BatchAnswer) -> None:
        """Detected kinds: every plausible identifier of a row is keyed; a row with a
        candidate outside :data:`PROBED_KINDS` (or an unallocated number) takes the full
        path. A plain miss answers as its first candidate (``worst`` keeps the first of
        equals). Typed HK numbers (one candidate: that phone) are recognised at once."""
        rest = self._typed(raws, out)
        if self.typed is not None:
            if not rest:
                out.kinds = [_PHONE_VALUE] * len(raws)
                return
            kinds = out.kinds
            for i in self.typed_rows.tolist():
                kinds[i] = _PHONE_VALUE
        hashes, owner, full, phones = self.hashes, self.owner, self.full, self.phones
        idents = self.idents
        verdicts, kinds, canonicals = out.verdicts, out.kinds, out.canonicals
        probed, tags, xxh, phone = PROBED_KINDS, KIND_TAGS, _xxh3, Kind.PHONE
        for i in rest:
            raw = raws[i]
            if raw.__class__ is not str:
                full.add(i)
                continue
            found = detect(raw)
            if not found:
                verdicts[i] = Verdict.invalid(raw, f"invalid identifier: {not_recognised(raw)}")
                continue
            first = found[0]
            if len(found) == 1 and first.kind in probed:
                idents[i] = first
            if not all(c.kind in probed and c.valid for c in found):
                full.add(i)
                continue
            kinds[i] = first.kind.value
            canonicals[i] = first.value
            for c in found:
                hashes.append(xxh(tags[c.kind] + c.value.encode("utf-8")))
                owner.append(i)
                if c.kind is phone:
                    phones.append((i, c.value))


__all__ = ["PROBED_KINDS", "BatchAnswer", "BatchPath", "CheckIdent", "CheckOne"]
