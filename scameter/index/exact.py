"""Exact lookups: phone numbers, emails, FPS ids, bank accounts, handles, wallets, IPs.

Responsibility: the rules for every kind that is answered by its own record (design section
5), read through a :class:`~scameter.index.reader.SnapshotReader` by :class:`ExactRules`:

* one probe of ``records`` (plus the in-memory allowlist key set); a plain listed hit is
  the hot path and is answered from the record alone. A phone number typed in a common HK
  spelling comes with its key from the compiled shortcut (:meth:`ExactRules.answer_typed`,
  ``Snapshot.check``'s lane for phones), so its lookup runs no normaliser and no key hash in
  Python;
* the allowlist outranks public reports: an allowlisted identifier that is also reported
  stays VERIFIED, shows the report counts and gets ``SPOOF_ADVICE`` (scammers spoof official
  numbers and sender ids);
* nothing stored: a phone number may be in a listed range, a platform handle may be near a
  listed one (:class:`~scameter.index.nearmatch.NearRules`); else NO RECORD. An unallocated
  number with nothing stored also gets ``UNALLOCATED_NUMBER``;
* context: a Hong Kong number (``+852...``, or an HK short code such as ``18222``, which
  cannot be dialled from abroad at all) on an overseas incoming call gets
  ``OVERSEAS_CALL_LOCAL_NUMBER`` and at least ``policy.overseas_min_level`` (POSSIBLE by
  default); an allowlisted (VERIFIED) one is never VERIFIED there: it is SUSPICIOUS with
  ``SPOOFED_OFFICIAL_NUMBER`` instead of ``OVERSEAS_CALL_LOCAL_NUMBER`` (an official number
  shown on a call from overseas means the caller id is very likely spoofed; design section
  5), its owner named in the reason and not as ``verified_owner``.

Invariants: a record whose stored canonical value differs from the queried one (a 64-bit key
collision) is treated as absent, never answered; no logging, no I/O beyond LMDB reads of a
mapped file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import xxhash

from scameter.identifiers import KIND_TAGS, Identifier, Kind
from scameter.identifiers.phone import normalize_phone, typed_hk_keyed
from scameter.index.assembly import VerdictAssembler
from scameter.index.format import record_canonical
from scameter.index.nearmatch import NearRules
from scameter.index.reader import SnapshotReader
from scameter.verdict import SEVERITY, Channel, CheckContext, Level, Reason, ReasonCode, Verdict

_xxh3 = xxhash.xxh3_64_digest  # = Identifier.key's hash (identifiers/model.py)
_SPOOF_ADVICE = Reason.of(ReasonCode.SPOOF_ADVICE)
_UNALLOCATED = Reason.of(ReasonCode.UNALLOCATED_NUMBER)
_OVERSEAS = Reason.of(ReasonCode.OVERSEAS_CALL_LOCAL_NUMBER)
_SPOOFED_LEVEL = Level.SUSPICIOUS


class ExactRules:
    """Exact-kind answers of one snapshot."""

    def __init__(self, reader: SnapshotReader, assemble: VerdictAssembler, near: NearRules) -> None:
        self._reader = reader
        self._local = reader.local
        self._records = reader.records
        #: A sharded snapshot's router (``None``: read ``records`` of ``data.mdb`` inline).
        self._routed = reader.table.get if reader.table.sharded else None
        self._allow = reader.allow
        self._allow_keys = reader.allow_keys
        self._from_record = assemble.from_record
        self._assemble = assemble
        self._near = near
        self._phone_miss = near.phone_miss
        self._overseas_min_level = reader.policy.overseas_min_level
        #: The compiled shortcut's ``keyed`` where :meth:`answer_typed` may use it (built, and
        #: ``records`` read inline: not in a sharded snapshot); else one that declines all.
        self._keyed = _declines if typed_hk_keyed is None or self._routed else typed_hk_keyed
        #: Whether :meth:`answer_typed` has the shortcut (else it is :meth:`answer` after
        #: ``normalize_phone``, and ``Snapshot.check`` does not route phones to it).
        self.typed = self._keyed is not _declines

    def answer(self, raw: str, ident: Identifier, context: CheckContext | None) -> Verdict:
        """The verdict of an identifier of an exact kind (see the module rules)."""
        value = ident.value
        key = _xxh3(KIND_TAGS[ident.kind] + value.encode("utf-8"))  # = ident.key, inlined
        if self._routed is None:
            try:
                txn = self._local.txn  # SnapshotReader.txn() inlined: this is the hot path
            except AttributeError:
                txn = self._reader.txn()
            buf = txn.get(key, None, self._records)  # positional: py-lmdb parses keywords slowly
        else:
            buf = self._routed(key)
        if buf is not None:
            if context is None and ident.valid and key not in self._allow_keys:
                # Fast path (a plain listed hit): the verdict decodes the canonical anyway,
                # so the collision check rides along instead of parsing the record twice.
                v = self._from_record(raw, buf)
                if v.canonical == value:
                    return v
                buf = None  # 64-bit key collision: never answer with someone else's record
            elif record_canonical(buf) != value:
                buf = None
        return self.finish(raw, ident, key, buf, context)

    def answer_typed(self, raw: str, context: CheckContext | None) -> Verdict:
        """:meth:`answer` of ``normalize_phone(raw)``, for ``Snapshot.check(raw, "phone")``.

        A valid HK number typed in a common spelling comes with its identifier and key from
        the compiled shortcut (:data:`~scameter.identifiers.phone.typed_hk_keyed`); the rule
        below is :meth:`answer`'s with that key (written out again: this is the hot path, and
        a shared helper would cost a call). Anything else is normalised and answered as usual.
        Only when :attr:`typed` (the shortcut is built, ``records`` is read inline).
        """
        typed = self._keyed(raw)
        if typed is None:
            return self.answer(raw, normalize_phone(raw), context)
        ident, key = typed
        try:
            txn = self._local.txn
        except AttributeError:
            txn = self._reader.txn()
        buf = txn.get(key, None, self._records)
        if context is None and key not in self._allow_keys:
            if buf is None:
                return self._phone_miss(raw, ident, None)  # finish()'s answer, one call sooner
            v = self._from_record(raw, buf)
            if v.canonical == ident.value:
                return v
            buf = None  # 64-bit key collision, as in answer()
        elif buf is not None and record_canonical(buf) != ident.value:
            buf = None
        return self.finish(raw, ident, key, buf, context)

    def finish(
        self,
        raw: str,
        ident: Identifier,
        key: bytes,
        buf: bytes | None,
        context: CheckContext | None,
        *,
        from_record: Callable[[str, bytes], Verdict] | None = None,
        ranges: dict[str, tuple[int, bytes]] | None = None,
    ) -> Verdict:
        """Every case but the plain listed hit, given the identifier's key and its
        collision-checked ``records`` value (``None``: not listed). Batches probe
        ``records`` themselves and come here for the same answer as :meth:`answer`.
        ``from_record`` decodes ``buf`` when it is not the snapshot's own (a live delta's
        record, :mod:`scameter.index.delta`); ``ranges``: the phone-range hits of the number
        (``NearRules.phone_miss``; ``None``: the snapshot's own)."""
        kind = ident.kind
        allow = self._allowed(key, ident.value) if key in self._allow_keys else None
        decode = self._from_record if from_record is None else from_record
        if allow is not None:
            v = self._from_record(raw, allow, allowed=True)
            if buf is not None:
                v = self._reported_official(raw, v, decode(raw, buf))
        elif buf is not None:
            v = decode(raw, buf)
        elif kind is Kind.PHONE:
            v = self._near.phone_miss(raw, ident, ranges)
        elif kind is Kind.PLATFORM_ACCOUNT:
            v = self._near.handle_miss(raw, ident)
        else:
            v = self._assemble.no_record(raw, kind.value, ident.value)
        if not ident.valid and buf is None and allow is None:
            v = with_reasons(v, _UNALLOCATED)
        if context is not None and kind is Kind.PHONE:
            v = self._apply_context(v, ident, context)
        return v

    def record(self, key: bytes, canonical: str) -> bytes | None:
        """The snapshot's ``records`` value of ``key``, collision-checked (``None``: none)."""
        buf: bytes | None = self._reader.table.get(key)
        return buf if buf is not None and record_canonical(buf) == canonical else None

    def in_context(self, v: Verdict, ident: Identifier, context: CheckContext | None) -> Verdict:
        """``v`` as :meth:`finish` adjusts it for the call ``context`` (a live delta's allow
        record, :mod:`scameter.index.delta`, answered like the snapshot's own)."""
        if context is not None and ident.kind is Kind.PHONE:
            return self._apply_context(v, ident, context)
        return v

    def _allowed(self, key: bytes, canonical: str) -> bytes | None:
        """The allowlist record of ``key``, collision-checked, or ``None``."""
        if key not in self._allow_keys:
            return None
        allow: bytes | None = self._reader.txn().get(key, db=self._allow)
        if allow is not None and record_canonical(allow) != canonical:
            return None
        return allow

    def _reported_official(self, raw: str, official: Verdict, reported: Verdict) -> Verdict:
        """An allowlisted identifier that is also reported: still VERIFIED, with the report
        counts and ``SPOOF_ADVICE``."""
        return replace(
            official,
            reasons=(*official.reasons, _SPOOF_ADVICE),
            report_count=reported.report_count,
            reporters=reported.reporters,
            categories=reported.categories,
            first_reported=reported.first_reported,
            last_reported=reported.last_reported,
        )

    def _apply_context(self, v: Verdict, ident: Identifier, context: CheckContext) -> Verdict:
        value = ident.value
        if not (
            context.channel is Channel.INCOMING_CALL
            and context.overseas
            and (value.startswith("+852") or value[:1] != "+")  # E.164 HK, or an HK short code
        ):
            return v
        level = v.level
        if level is Level.VERIFIED:
            return _spoofed_official(v)
        if SEVERITY[level] < SEVERITY[self._overseas_min_level]:
            level = self._overseas_min_level
        reasons = v.reasons
        if level is not v.level and v.level is Level.NO_RECORD:
            reasons = tuple(r for r in reasons if r.code is not ReasonCode.NO_RECORD)
        return replace(v, level=level, reasons=(*reasons, _OVERSEAS))


def _declines(raw: object) -> None:
    """The typed-number shortcut where it cannot be used: it takes nothing."""


def _spoofed_official(v: Verdict) -> Verdict:
    """An allowlisted number on an overseas call: SUSPICIOUS, never VERIFIED (module rules)."""
    detail = f"Its registered owner: {v.verified_owner}." if v.verified_owner else None
    reasons = tuple(r for r in v.reasons if r.code is not ReasonCode.ALLOWLISTED)
    return replace(
        v,
        level=_SPOOFED_LEVEL,
        # SPOOFED_OFFICIAL_NUMBER says all OVERSEAS_CALL_LOCAL_NUMBER would, and more.
        reasons=(Reason.of(ReasonCode.SPOOFED_OFFICIAL_NUMBER, detail), *reasons),
        verified_owner=None,
    )


def with_reasons(v: Verdict, *reasons: Reason) -> Verdict:
    """``v`` with ``reasons`` appended."""
    return replace(v, reasons=(*v.reasons, *reasons))


__all__ = ["ExactRules", "with_reasons"]
