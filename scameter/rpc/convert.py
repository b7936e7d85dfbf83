"""Conversions between scameter's value types and the ``scameter.v1`` protobuf messages.

Responsibility: the only place that knows both :mod:`scameter.verdict` and the generated
``scameter_pb2`` classes. Servicer and client call these functions, so protobuf types never
leave :mod:`scameter.rpc`.

Invariants:
* ``verdict_from_pb(verdict_to_pb(v)) == v`` for every Verdict (``extra`` travels as JSON and
  compares equal too, though ``Verdict`` excludes it from ``==``). Pinned by
  ``tests/unit/rpc/test_convert.py``.
* Empty proto3 strings map to ``None`` only for fields declared ``optional`` in the .proto
  (presence is tracked there), so an empty canonical form would survive the round trip.
"""

from __future__ import annotations

import json
from typing import Any

import grpc

from scameter.rpc.status import Abort
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.verdict import Channel, CheckContext, Level, Reason, ReasonCode, SimilarTo, Verdict

_LEVEL_TO_PB: dict[Level, int] = {
    Level.NO_RECORD: pb.LEVEL_NO_RECORD,
    Level.POSSIBLE: pb.LEVEL_POSSIBLE,
    Level.SUSPICIOUS: pb.LEVEL_SUSPICIOUS,
    Level.HIGH_RISK: pb.LEVEL_HIGH_RISK,
    Level.VERIFIED: pb.LEVEL_VERIFIED,
}
_PB_TO_LEVEL: dict[int, Level] = {v: k for k, v in _LEVEL_TO_PB.items()}
_CHANNELS = frozenset(c.value for c in Channel)


def level_to_pb(level: Level) -> pb.Level.ValueType:
    return pb.Level.ValueType(_LEVEL_TO_PB[level])


def level_from_pb(value: int) -> Level:
    """The Level of a wire value; an unknown or unset value is NO_RECORD (never "safe")."""
    return _PB_TO_LEVEL.get(value, Level.NO_RECORD)


def fill_verdict(msg: pb.Verdict, v: Verdict) -> pb.Verdict:
    """Write ``v`` into ``msg`` (a fresh message, e.g. ``response.verdicts.add()``).

    Filling in place avoids the copy protobuf makes when a built message is assigned or
    appended to a parent; a 10,000-item batch would otherwise copy every verdict once more.
    """
    msg.input = v.input
    msg.level = _LEVEL_TO_PB[v.level]  # type: ignore[assignment]
    if v.kind is not None:
        msg.kind = v.kind
    if v.canonical is not None:
        msg.canonical = v.canonical
    for r in v.reasons:
        msg.reasons.add(code=r.code.value, text=r.text)
    if v.categories:
        msg.categories.extend(v.categories)
    if v.report_count:
        msg.report_count = v.report_count
    if v.reporters:
        msg.reporters = v.reporters
    if v.first_reported is not None:
        msg.first_reported = v.first_reported
    if v.last_reported is not None:
        msg.last_reported = v.last_reported
    if v.matched is not None:
        msg.matched = v.matched
    if v.similar_to is not None:
        sim = v.similar_to
        msg.similar_to.canonical = sim.canonical
        msg.similar_to.distance = sim.distance
        msg.similar_to.level = _LEVEL_TO_PB[sim.level]  # type: ignore[assignment]
    if v.cluster_size:
        msg.cluster_size = v.cluster_size
    if v.cluster_worst is not None:
        msg.cluster_worst = _LEVEL_TO_PB[v.cluster_worst]  # type: ignore[assignment]
    if v.verified_owner is not None:
        msg.verified_owner = v.verified_owner
    if v.snapshot is not None:
        msg.snapshot = v.snapshot
    if v.error is not None:
        msg.error = v.error
    if v.extra:
        msg.extra_json = json.dumps(v.extra, sort_keys=True, separators=(",", ":"))
    return msg


def verdict_to_pb(v: Verdict) -> pb.Verdict:
    return fill_verdict(pb.Verdict(), v)


def _opt(msg: pb.Verdict, name: str) -> str | None:
    value: str = getattr(msg, name)
    return value if msg.HasField(name) else None  # type: ignore[arg-type]


def _reason(r: pb.Reason) -> Reason:
    try:
        code = ReasonCode(r.code)
    except ValueError:
        # A newer server may send a code this client does not know: keep the sentence, which
        # is what a person reads, under the nearest honest code.
        return Reason(ReasonCode.NO_RECORD, r.text)
    return Reason(code, r.text)


def verdict_from_pb(msg: pb.Verdict) -> Verdict:
    similar = None
    if msg.HasField("similar_to"):
        s = msg.similar_to
        similar = SimilarTo(s.canonical, s.distance, level_from_pb(s.level))
    extra: dict[str, Any] = json.loads(msg.extra_json) if msg.extra_json else {}
    return Verdict(
        input=msg.input,
        kind=_opt(msg, "kind"),
        canonical=_opt(msg, "canonical"),
        level=level_from_pb(msg.level),
        reasons=tuple(_reason(r) for r in msg.reasons),
        categories=tuple(msg.categories),
        report_count=msg.report_count,
        reporters=msg.reporters,
        first_reported=_opt(msg, "first_reported"),
        last_reported=_opt(msg, "last_reported"),
        matched=_opt(msg, "matched"),
        similar_to=similar,
        cluster_size=msg.cluster_size,
        cluster_worst=None
        if msg.cluster_worst == pb.LEVEL_UNSPECIFIED
        else level_from_pb(msg.cluster_worst),
        verified_owner=_opt(msg, "verified_owner"),
        snapshot=_opt(msg, "snapshot"),
        error=_opt(msg, "error"),
        extra=extra,
    )


def context_to_pb(ctx: CheckContext | None) -> pb.CheckContext | None:
    if ctx is None:
        return None
    return pb.CheckContext(channel=ctx.channel or "", overseas=ctx.overseas)


def context_from_pb(request: pb.CheckRequest) -> CheckContext | None:
    """``None`` when the caller sent no context, so the index takes its context-free path."""
    if not request.HasField("context"):
        return None
    c = request.context
    if c.channel and c.channel not in _CHANNELS:
        raise Abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"unknown context channel; use one of {', '.join(ch.value for ch in Channel)}",
        )
    return CheckContext(channel=Channel(c.channel) if c.channel else None, overseas=c.overseas)


__all__ = [
    "context_from_pb",
    "context_to_pb",
    "fill_verdict",
    "level_from_pb",
    "level_to_pb",
    "verdict_from_pb",
    "verdict_to_pb",
]
