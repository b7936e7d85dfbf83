"""The batch hot path: a whole batch normalised, hashed and probed at once.

Responsibility: answer a batch of inputs (``Snapshot.check_many``, ``Snapshot.check_batch``,
``scameter bulk``, the ``CheckBatch`` RPC) with exactly the verdicts the single-item path
gives, while doing per row only what the row needs:

1. normalise each input with its kind's normaliser (or :func:`~scameter.identifiers.detect`
   when no kind is given) and hash every candidate identifier into its 64-bit key;
2. test all the keys of the batch at once against the snapshot's sorted key array
   (:class:`~scameter.index.keyprobe.KeyProbe`, one ``np.searchsorted``), and the phone
   numbers against the listed phone-range prefixes;
3. a row none of whose keys can match is a *plain miss*: it gets no verdict object, only its
   kind and canonical value (:class:`BatchAnswer`), and renders as the one shared NO RECORD
   answer; an unallocated number (or bank code) none of whose keys can match gets its NO
   RECORD verdict with ``UNALLOCATED_NUMBER`` here, as ``ExactRules.finish`` words it;
4. a row of one identifier whose key is a plain ``records`` key (not in ``allow``, no live
   delta) is a *plain hit*: its record is fetched with the batch's others, in key order, and
   decoded as ``ExactRules.answer``'s plain-hit branch does (``from_record``, the collision
   check), by one call per batch (:mod:`scameter.index.batchloops`);
5. every other row (a collision, an allowlisted identifier, a phone in a listed range, a
   kind outside :data:`PROBED_KINDS`, several candidates of which one may match, anything
   unusual) is answered by the full single-item path (``Snapshot.check`` /
   ``Snapshot.check_identifier``), so every rule applies to it.

Which rows may skip the full path: only rows whose every candidate is of a kind in
:data:`PROBED_KINDS`, and whose full path would consult nothing but its own key in
``records`` and ``allow`` (plus, for a phone number, ``phone_ranges``). URLs and domains
(expressions, near matches), e-mails (their domain), platform handles (near matches), IPs
and SMS sender ids always take the full path. A rule that makes one of the probed kinds
consult anything else (a new derivation, a new signal) must remove the kind from
:data:`PROBED_KINDS` or teach :class:`BatchPath` its keys: when in doubt, the full path.

Other batch callers (``CheckMessage`` items, the live-delta overlay when it lands) should
answer through :meth:`Snapshot.check_batch` too; an overlay adds its own keys to the probe
(and sends every row a key of the snapshot's matches down the full path).

Invariants: output order = input order; no row is dropped; a bad row gets
``Verdict.invalid`` with its reason (never raises for one item); every row's verdict equals
what :func:`BatchPath.one` (the per-row reference) gives, pinned by
``tests/property/test_batch_properties.py`` on both implementations of the loops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import xxhash

from scameter.errors import InvalidIdentifier
from scameter.identifiers import KIND_TAGS, Identifier, Kind, detect
from scameter.identifiers.derive import DERIVING_KINDS
from scameter.identifiers.detect import not_recognised
from scameter.identifiers.normalize import NORMALIZERS
from scameter.identifiers.phonecolumn import MIN_ROWS, typed_hk_numbers
from scameter.identifiers.phonecolumn import phone as typed_phone
from scameter.index.assembly import NO_RECORD_REASONS, FromRecord
from scameter.index.batchloops import NoRecords, loops
from scameter.index.keyprobe import KeyProbe, U64Array, key_array, short_keys
from scameter.verdict import Reason, ReasonCode, Verdict, make_no_record, worst

#: Kinds whose rows may be answered NO RECORD from the key probe alone (module docstring).
PROBED_KINDS: frozenset[Kind] = frozenset(
    {Kind.PHONE, Kind.FPS_ID, Kind.BANK_ACCOUNT, Kind.CRYPTO_WALLET}
)
_xxh3 = xxhash.xxh3_64_intdigest  # = int.from_bytes(Identifier.key, "big")
_PHONE_VALUE = Kind.PHONE.value
#: The phone key tag (typed numbers are keyed a column at a time: :func:`short_keys`).
_PHONE_TAG = KIND_TAGS[Kind.PHONE]
_NO_ROWS: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
_NO_KEYS: U64Array = np.empty(0, dtype=np.uint64)
#: The reasons ``ExactRules.finish`` gives an unallocated identifier with nothing stored, in
#: no listed range: NO RECORD, then ``UNALLOCATED_NUMBER``.
_UNALLOCATED_REASONS = (*NO_RECORD_REASONS, Reason.of(ReasonCode.UNALLOCATED_NUMBER))
_BE_U64 = np.dtype(">u8")
_T = TypeVar("_T")
_ZERO = ord("0")
#: Rows per block of the whole-column numpy steps (their temporaries fit in the cache).
_BLOCK_ROWS = 4096
_PLACES = 10 ** np.arange(7, -1, -1, dtype=np.int64)  # the 8 digits of a national number
_DEFAULT_NO_RECORDS = loops()[1]

#: ``Snapshot.check``: (raw, kind) -> verdict; raises InvalidIdentifier.
CheckOne = Callable[[str, Kind | None], Verdict]
#: ``Snapshot.check_identifier`` with the raw input: (identifier, raw) -> verdict.
CheckIdent = Callable[[Identifier, str], Verdict]


class BatchAnswer:
    """The answers of one batch, in input order, columnar.

    ``verdicts[i]`` is row ``i``'s verdict, or ``None`` for a plain miss: NO RECORD for
    ``kinds[i]`` / ``canonicals[i]`` (what :meth:`verdict` builds on demand; the two are
    read only for plain misses). Callers that render rows (bulk CSV, the RPC) write plain
    misses from one shared template instead. The answer of a batch with repeated inputs
    (:meth:`expand`) spreads its columns over the repeats when one is first read:
    ``check_many`` reads none of them.
    """

    __slots__ = ("_canonicals", "_kinds", "_repeats", "_verdicts", "inputs", "no_records",
                 "snapshot_id")  # fmt: skip

    def __init__(
        self,
        inputs: Sequence[str],
        verdicts: list[Verdict | None],
        kinds: list[str | None],
        canonicals: list[str | None],
        snapshot_id: str,
        *,
        no_records: NoRecords = _DEFAULT_NO_RECORDS,
    ) -> None:
        self.inputs = inputs
        self._verdicts = verdicts
        self._kinds = kinds
        self._canonicals = canonicals
        self.snapshot_id = snapshot_id
        #: The loop that builds the NO RECORD verdicts of :meth:`to_list`.
        self.no_records = no_records
        #: When this answer spreads a smaller one over repeats (:meth:`expand`): that answer
        #: and the row of it each row repeats (its columns then spread on first read).
        self._repeats: tuple[BatchAnswer, list[int]] | None = None

    @property
    def verdicts(self) -> list[Verdict | None]:
        if self._repeats is not None:
            self._spread()
        return self._verdicts

    @verdicts.setter
    def verdicts(self, column: list[Verdict | None]) -> None:
        self._spread_if_repeats()
        self._verdicts = column

    @property
    def kinds(self) -> list[str | None]:
        if self._repeats is not None:
            self._spread()
        return self._kinds

    @kinds.setter
    def kinds(self, column: list[str | None]) -> None:
        self._spread_if_repeats()
        self._kinds = column

    @property
    def canonicals(self) -> list[str | None]:
        if self._repeats is not None:
            self._spread()
        return self._canonicals

    @canonicals.setter
    def canonicals(self, column: list[str | None]) -> None:
        self._spread_if_repeats()
        self._canonicals = column

    def _spread_if_repeats(self) -> None:
        if self._repeats is not None:
            self._spread()

    def _spread(self) -> None:
        """Fill the columns from the distinct answer this one repeats."""
        assert self._repeats is not None
        distinct, index = self._repeats
        self._verdicts = _pick(distinct.verdicts, index)
        self._kinds = _pick(distinct.kinds, index)
        self._canonicals = _pick(distinct.canonicals, index)
        self._repeats = None

    def __len__(self) -> int:
        return len(self.inputs)

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
        """Every row as a full :class:`Verdict` (plain misses built here; the rows of a
        repeated input share its one verdict object, as they share a hit's)."""
        if self._repeats is not None:
            distinct, index = self._repeats
            return _pick(distinct.to_list(), index)
        return self.no_records(
            self._verdicts, self.inputs, self._kinds, self._canonicals, NO_RECORD_REASONS,
            self.snapshot_id,
        )  # fmt: skip

    def expand(self, inputs: Sequence[str], index: list[int]) -> BatchAnswer:
        """The answer of ``inputs`` whose row ``j`` repeats this answer's row ``index[j]``
        (distinct inputs answered once, then spread back over their repeats)."""
        out = BatchAnswer(inputs, [], [], [], self.snapshot_id, no_records=self.no_records)
        out._repeats = (self, index)
        return out


def _pick(items: list[_T], index: list[int]) -> list[_T]:
    """``[items[i] for i in index]`` (one C call: ``itemgetter``; ``index`` of 2 or more)."""
    return list(itemgetter(*index)(items)) if len(index) > 1 else [items[i] for i in index]


class BatchPath:
    """The batch answers of one snapshot, over its single-item path and its key probe.

    ``from_record``: the snapshot's hit decoder (``VerdictAssembler.from_record``), which
    answers plain hits a batch at a time; ``None``: every possible hit takes the full path.
    ``compiled``: the loops' implementation (:func:`~scameter.index.batchloops.loops`).
    """

    def __init__(
        self,
        snapshot_id: str,
        probe: KeyProbe,
        check: CheckOne,
        check_ident: CheckIdent,
        from_record: FromRecord | None = None,
        *,
        compiled: bool | None = None,
    ) -> None:
        self._sid = snapshot_id
        self._probe = probe
        self._check = check
        self._check_ident = check_ident
        self._from_record = from_record
        self._decode_hits, self._no_records = loops(compiled)

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
                pos = dict(zip(distinct, range(len(distinct)), strict=True))
                index = list(map(pos.__getitem__, raws))
                return self._distinct(distinct, kind).expand(raws, index)
        return self._distinct(raws, kind)

    def _distinct(self, raws: Sequence[str], kind: Kind | None) -> BatchAnswer:
        n = len(raws)
        out = BatchAnswer(
            raws, [None] * n, [None] * n, [None] * n, self._sid, no_records=self._no_records
        )
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
        """Probe the planned keys; decode the plain hits at once; answer the unallocated
        misses; send every other row that may match down the full path."""
        full = plan.full
        keys, owners = plan.keys()
        # In key order: the probe's binary searches then walk its array forwards, and the
        # plain hits' records are fetched in the B-tree's order (3-6x cheaper than at random).
        order = np.argsort(keys)
        keys, owners = keys[order], owners[order]
        probe = self._probe
        hit_rows: npt.NDArray[np.intp] = _NO_ROWS
        if len(keys):
            present, plain = probe.classify(keys)
            if plain is not None and self._from_record is not None:
                # A plain hit: the only candidate of its row, its key in ``records`` alone
                # (valid or not: ExactRules answers a listed unallocated number from its
                # record too); every other present key sends its row down the full path.
                single = plan.single(owners)
                direct = plain if single is None else plain & single
                hit_rows, hit_keys = owners[direct], keys[direct]
                present = present & ~direct
            full.update(owners[present].tolist())
        for d, prefixes in probe.ranges:
            if prefixes:
                # A plain hit answers from its record, whatever its range.
                full.update(_without(plan.in_ranges(d, prefixes, probe), hit_rows, len(raws)))
        if len(hit_rows):
            full.update(self._plain_hits(raws, hit_rows, hit_keys, out))
        verdicts, kinds, canonicals, idents = out.verdicts, out.kinds, out.canonicals, plan.idents
        for i in plan.unallocated:
            if verdicts[i] is None and i not in full:
                # Nothing stored, in no listed range: ExactRules.finish's answer.
                verdicts[i] = make_no_record(
                    raws[i], kinds[i], canonicals[i], _UNALLOCATED_REASONS, self._sid
                )
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

    def _plain_hits(
        self,
        raws: Sequence[str],
        rows: npt.NDArray[np.intp],
        keys: U64Array,
        out: BatchAnswer,
    ) -> list[int]:
        """Decode the plain hits ``rows`` (their keys ``keys``, ascending) into
        ``out.verdicts``; returns the rows left for the full path (a collision, a record that
        is not there)."""
        rows_list: list[int] = rows.tolist()
        key_bytes: list[bytes] = keys.astype(_BE_U64).view("V8").tolist()
        reader = self._probe.reader
        if reader.table.sharded:
            bufs: list[bytes | None] = list(map(reader.table.get, key_bytes))
        else:
            # ``txn.get(key, None, db)`` in a C loop: ``ExactRules.answer``'s get.
            txn = reader.txn()
            bufs = list(map(txn.get, key_bytes, repeat(None), repeat(reader.records)))
        assert self._from_record is not None
        return self._decode_hits(
            self._from_record, rows_list, bufs, raws, out.canonicals, out.verdicts,
            DERIVING_KINDS,
        )  # fmt: skip


def _typed_numbers(raws: Sequence[str]) -> tuple[npt.NDArray[np.intp], list[str]]:
    """:func:`typed_hk_numbers` of ``raws``, a block of :data:`_BLOCK_ROWS` at a time: its
    arrays then stay in the cache (measured 1.6x cheaper on 10^5 rows than in one go). It
    decides row by row, so the blocks' answers are the column's."""
    n = len(raws)
    if n <= _BLOCK_ROWS:
        return typed_hk_numbers(raws)
    parts = [(start, *typed_hk_numbers(raws[start : start + _BLOCK_ROWS]))
             for start in range(0, n, _BLOCK_ROWS)]  # fmt: skip
    rows = np.concatenate([found + start for start, found, _ in parts])
    return rows, list(chain.from_iterable(values for _, _, values in parts))


def _typed_codes(values: list[str]) -> npt.NDArray[np.uint8]:
    """The bytes of typed HK numbers, 12 a row (``+852`` and 8 digits, as
    :func:`typed_hk_numbers` makes every one: checked). One join and one encode (an
    ``np.array(values, "S12")`` converts row by row, 10x the instructions)."""
    if values and set(map(len, values)) != {12}:
        raise ValueError("typed HK numbers must be 12 ASCII characters each")
    joined = "".join(values).encode("ascii")
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, 12)


def _nationals(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """The national numbers of typed HK numbers (their bytes: ``+852`` and 8 digits)."""
    out: npt.NDArray[np.int64] = (codes[:, 4:].astype(np.int64) - _ZERO) @ _PLACES
    return out


def _without(rows: list[int], drop: npt.NDArray[np.intp], n: int) -> list[int]:
    """``rows`` less those in ``drop`` (rows of a batch of ``n``)."""
    if not rows or not len(drop):
        return rows
    dropped = np.zeros(n, dtype=np.bool_)
    dropped[drop] = True
    kept: list[int] = np.asarray(rows, dtype=np.intp)[~dropped[rows]].tolist()
    return kept


class _Plan:
    """Per-row work of one batch before the probe: keys to test and rows already decided.

    Rows :func:`typed_hk_numbers` recognises (a whole column at once) are keyed in one go and
    never get an :class:`Identifier` unless they may match; the others are normalised (or
    detected) one by one."""

    __slots__ = ("full", "hashes", "idents", "multi", "n", "nationals", "owner", "phones",
                 "typed", "typed_codes", "typed_keys", "typed_rows", "typed_values",
                 "unallocated")  # fmt: skip

    def __init__(self, n: int) -> None:
        self.n = n
        self.hashes: list[int] = []  # candidate keys, as integers
        self.owner: list[int] = []  # row of each key
        #: (row, E.164) of the phone candidates but typed HK numbers (``typed_values``).
        self.phones: list[tuple[int, str]] = []
        self.full: set[int] = set()  # rows for the full single-item path
        #: The row's identifier when it is its only candidate and of a probed kind.
        self.idents: list[Identifier | None] = [None] * n
        #: Rows recognised as typed HK numbers: mask, ascending rows, their keys.
        self.typed: npt.NDArray[np.bool_] | None = None
        self.typed_rows: npt.NDArray[np.intp] = _NO_ROWS
        self.typed_keys: U64Array = _NO_KEYS
        #: Their E.164 values, as bytes, and national numbers (computed for the range test).
        self.typed_values: list[str] = []
        self.typed_codes: npt.NDArray[np.uint8] = np.empty((0, 12), dtype=np.uint8)
        self.nationals: npt.NDArray[np.int64] | None = None
        #: Rows with several candidates (all keyed): never a plain hit.
        self.multi: list[int] = []
        #: Rows of one candidate that is not valid (an unallocated number, an unknown bank
        #: code), keyed: their record if listed, else NO RECORD with ``UNALLOCATED_NUMBER``
        #: unless something else may match.
        self.unallocated: list[int] = []

    def keys(self) -> tuple[U64Array, npt.NDArray[np.intp]]:
        """Every planned key and the row it belongs to."""
        keys, owner = key_array(self.hashes), np.array(self.owner, dtype=np.intp)
        if not len(self.typed_rows):
            return keys, owner
        return np.concatenate([keys, self.typed_keys]), np.concatenate([owner, self.typed_rows])

    def single(self, owners: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_] | None:
        """For each key's row ``owners``: is the key its row's only one? (``None``: all are.)"""
        if not self.multi:
            return None
        rows = np.ones(self.n, dtype=np.bool_)
        rows[self.multi] = False
        out: npt.NDArray[np.bool_] = rows[owners]
        return out

    def in_ranges(self, digits: int, prefixes: frozenset[str], probe: KeyProbe) -> list[int]:
        """Rows with a phone candidate whose number less its last ``digits`` digits is one of
        ``prefixes`` (a listed phone range). The typed HK numbers are tested at once, as
        national numbers against the probe's bitset of the blocks
        (:meth:`KeyProbe.hk_blocks`)."""
        rows = [i for i, number in self.phones if number[:-digits] in prefixes]
        if not self.typed_values:
            return rows
        bits = probe.hk_blocks(digits, prefixes)
        if bits is None:
            pairs = zip(self.typed_rows.tolist(), self.typed_values, strict=True)
            return sorted(rows + [i for i, v in pairs if v[:-digits] in prefixes])
        if self.nationals is None:
            self.nationals = _nationals(self.typed_codes)
        block = self.nationals // 10**digits
        hit = (bits[block >> 3] >> (block & 7).astype(np.uint8)) & 1
        found: list[int] = self.typed_rows[hit.astype(np.bool_)].tolist()
        return sorted(rows + found) if rows else found

    def _typed(self, raws: Sequence[str], out: BatchAnswer) -> list[int] | range:
        """Recognise the typed HK numbers of the column; returns the rows left to do one by
        one. The typed rows' canonical values go to ``out``; their phones to the range
        check."""
        n = len(raws)
        if n < MIN_ROWS:
            return range(n)
        rows, values = _typed_numbers(raws)
        if not len(rows):
            return range(n)
        self.typed_rows = rows
        self.typed_values = values
        # "+852" and 8 digits each: their keys at once (the bytes also give the national
        # numbers of the range test).
        codes = self.typed_codes = _typed_codes(values)
        self.typed_keys = short_keys(_PHONE_TAG, codes)
        typed = self.typed = np.zeros(n, dtype=np.bool_)
        typed[rows] = True
        if len(rows) == n:
            out.canonicals = list[str | None](values)
            return []
        column = np.full(n, None, dtype=object)
        column[rows] = values
        out.canonicals = column.tolist()
        rest: list[int] = np.flatnonzero(~typed).tolist()
        return rest

    def normalise_all(self, raws: Sequence[str], kind: Kind, out: BatchAnswer) -> None:
        """One given kind: its normaliser per row (typed HK numbers at once), then the key."""
        norm, tag, kv = NORMALIZERS[kind], KIND_TAGS[kind], kind.value
        out.kinds = [kv] * len(raws)  # read only for plain misses, which are all of ``kind``
        rest = self._typed(raws, out) if kind is Kind.PHONE else range(len(raws))
        owner, full, idents, unallocated = self.owner, self.full, self.idents, self.unallocated
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
                unallocated.append(i)
            canonicals[i] = value = ident.value
            keep(value)
            own(i)
        if kind is Kind.PHONE:
            self.phones += zip(owner[start:], values, strict=True)
        self.hashes = list(map(_xxh3, [tag + v.encode("utf-8") for v in values]))

    def detect_all(self, raws: Sequence[str], out: BatchAnswer) -> None:
        """Detected kinds: every plausible identifier of a row is keyed; a row with a
        candidate outside :data:`PROBED_KINDS` (or several, one of them not valid) takes the
        full path. A plain miss answers as its first candidate (``worst`` keeps the first of
        equals). Typed HK numbers (one candidate: that phone) are recognised at once."""
        rest = self._typed(raws, out)
        if self.typed is not None:
            if not rest:
                out.kinds = [_PHONE_VALUE] * len(raws)
                return
            column = np.full(len(raws), None, dtype=object)
            column[self.typed] = _PHONE_VALUE
            out.kinds = column.tolist()
        hashes, owner, full, phones = self.hashes, self.owner, self.full, self.phones
        idents, multi, unallocated = self.idents, self.multi, self.unallocated
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
            if len(found) == 1:
                if first.kind not in probed:
                    full.add(i)
                    continue
                idents[i] = first
                if not first.valid:
                    unallocated.append(i)
            elif all(c.kind in probed and c.valid for c in found):
                multi.append(i)
            else:
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
