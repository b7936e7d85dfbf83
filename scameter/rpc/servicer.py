"""The ``scameter.v1.Scameter`` servicer: one method per RPC, thin over the snapshot.

Responsibility: authorise each call, translate the request into a snapshot lookup or an intake
append, and translate the answer (or the failure) back. The real work lives in
:mod:`scameter.index` and :mod:`scameter.intake`; conversions in :mod:`scameter.rpc.convert`.

Invariants:
* Every RPC goes through :func:`_rpc`: authorisation (role per method, table below), metrics,
  and the status mapping. ``Abort`` -> its code; ``InvalidIdentifier`` -> INVALID_ARGUMENT with
  the reason (and kind/reason trailers for the client); ``SnapshotError`` -> UNAVAILABLE; any
  other exception -> INTERNAL, logged by type only (a library message could hold the input).
* A snapshot is held (``with source.acquire()``) for the whole lookup, so a hot swap in the
  middle of a call never fails it.
* Nothing here logs a queried identifier, a reporter id or a token.
* Batches are capped (``max_batch``) and check the deadline between chunks, so a cancelled or
  expired call stops working early instead of finishing for nobody.
"""

from __future__ import annotations

import logging
import operator
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError

from scameter.errors import InvalidIdentifier, InvalidMessage, SnapshotError
from scameter.identifiers.extract import extract
from scameter.identifiers.model import Kind
from scameter.identifiers.phone import localize_phone, parse_region
from scameter.index.batchpath import BatchAnswer
from scameter.index.message import check_message, message_size_error
from scameter.intake import IntakeCommitError, IntakePolicy, ReporterCapExceeded
from scameter.rpc import convert
from scameter.rpc.auth import Authorizer, Role
from scameter.rpc.logs import REQUEST_ID, next_request_id
from scameter.rpc.metrics import Metrics
from scameter.rpc.payee import PayeeResult, assess_payee, payee_error
from scameter.rpc.private import DeviceUpdates, follows_delta, search_hashes
from scameter.rpc.source import IntakeSink, SnapshotSource, snapshot_age
from scameter.rpc.status import (
    INVALID_KIND_KEY,
    INVALID_REASON_KEY,
    Abort,
    RichStatus,
    bad_request,
    error_info,
    rich_status,
)
from scameter.rpc.tokens import ReporterTokenError, verify_reporter_token
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.times import utc_now
from scameter.verdict import Language, Level, Verdict, in_language, parse_language

log = logging.getLogger("scameter.rpc")

#: Which role each RPC needs (admin has them all). Documented in docs/operations.md.
ROLES: dict[str, Role] = {
    "Check": Role.CHECK,
    "CheckBatch": Role.BULK,
    "CheckPayee": Role.PAYEE,
    "CheckPayeeBatch": Role.PAYEE,
    "Report": Role.REPORT,
    "Related": Role.CHECK,
    "GetSnapshotInfo": Role.CHECK,
    "SearchHashes": Role.CHECK,
    "GetDeviceUpdate": Role.CHECK,
    "CheckMessage": Role.CHECK,
    "Appeal": Role.REPORT,
}

DEFAULT_MAX_BATCH = 10_000
DEFAULT_RELATED_LIMIT = 100
MAX_REPORT_IDENTIFIERS = 20
MAX_REPORT_TEXT = 4_000
MAX_CATEGORY = 64
MAX_APPEAL_REASON = 1_000
_BATCH_CHUNK = 2_000

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Handler = Callable[["ScameterServicer", Any, grpc.ServicerContext], Any]

#: Normalise one reported identifier: (kind or None, raw) -> (kind, canonical value).
Normalizer = Callable[[str | None, str], tuple[str, str]]


def default_normalizer(kind: str | None, raw: str) -> tuple[str, str]:
    """The identifiers layer's canonical form, so intake dedup and ingest see one spelling."""
    from scameter.identifiers import detect, normalize

    if kind:
        ident = normalize(kind, raw)
    else:
        found = detect(raw)
        if not found:
            raise InvalidIdentifier(None, "not a recognisable identifier; give its kind")
        ident = found[0]
    return str(ident.kind), ident.value


class InvalidAt(Exception):
    """An invalid identifier in a named request field (``identifiers[2].value``)."""

    def __init__(self, error: InvalidIdentifier, field: str) -> None:
        self.error = error
        self.field = field
        super().__init__(str(error))


def invalid_identifier_status(e: InvalidIdentifier, field: str) -> RichStatus:
    """INVALID_ARGUMENT for an invalid identifier: BadRequest naming ``field``, ErrorInfo
    ``INVALID_IDENTIFIER`` with the kind and reason, and the plain trailers older clients
    read. The message is ``str(e)``, the CLI's wording too; never the input itself."""
    kind = e.kind or ""
    return rich_status(
        grpc.StatusCode.INVALID_ARGUMENT,
        str(e),
        (
            bad_request(field, e.reason),
            error_info("INVALID_IDENTIFIER", kind=kind, reason=e.reason),
        ),
        ((INVALID_KIND_KEY, kind), (INVALID_REASON_KEY, e.reason)),
    )


#: A Report / Appeal whose intake commit failed (with its whole group): nothing was stored.
_NOT_STORED = "not stored: the intake log could not commit; retry"


#: The per-call bookkeeping of :func:`_rpc`, bound once: a sequential ``Check`` is a few
#: microseconds of our Python between two halves of grpcio's, and every attribute lookup
#: saved there shows (docs/benchmarks.md, "Round 7: Check against the echo floor").
_clock = time.perf_counter
_set_request_id = REQUEST_ID.set
_reset_request_id = REQUEST_ID.reset


def _status_code(e: Exception) -> str:
    """The status code name a call that raised ``e`` ends with (see :func:`_abort`)."""
    if isinstance(e, Abort):
        return e.code.name
    if isinstance(e, InvalidIdentifier | InvalidAt):
        return "INVALID_ARGUMENT"
    if isinstance(e, SnapshotError):
        return "UNAVAILABLE"
    return "INTERNAL"


def _abort(context: grpc.ServicerContext, name: str, e: Exception) -> None:
    """End the call ``name`` that raised ``e`` with its status (the module's invariants).
    ``context.abort()`` raises; called from an except clause, so an abort is never
    re-mapped to INTERNAL."""
    if isinstance(e, Abort):
        if e.rich:
            context.abort_with_status(rich_status(e.code, e.details, e.rich, e.trailers))
        if e.trailers:
            context.set_trailing_metadata(e.trailers)
        context.abort(e.code, e.details)
    elif isinstance(e, InvalidIdentifier):
        context.abort_with_status(invalid_identifier_status(e, "identifier"))
    elif isinstance(e, InvalidAt):
        context.abort_with_status(invalid_identifier_status(e.error, e.field))
    elif isinstance(e, SnapshotError):
        context.abort(grpc.StatusCode.UNAVAILABLE, "no snapshot is loaded yet; retry")
    else:
        log.error("rpc failed", extra={"rpc": name, "error_type": type(e).__name__})
        context.abort(grpc.StatusCode.INTERNAL, f"internal error ({type(e).__name__})")


def _rpc(name: str, *, verdict: bool = False) -> Callable[[Handler], Handler]:
    """The wrapper every RPC goes through (the module's invariants). ``verdict``: the method
    returns ``(answer, level)`` and the wrapper counts the verdict's level in the same
    metrics call as the request and its latency (one per call instead of two: Check)."""
    role = ROLES[name]

    def wrap(fn: Handler) -> Handler:
        def handler(self: ScameterServicer, request: Any, context: grpc.ServicerContext) -> Any:
            t0 = _clock()
            code = "OK"
            level = None
            rid = _set_request_id(next_request_id())  # on every log line of this call
            try:
                self._authorize(context.invocation_metadata(), role)
                if verdict:
                    answer, level = fn(self, request, context)
                    return answer
                return fn(self, request, context)
            except Exception as e:
                code = _status_code(e)
                _abort(context, name, e)
            finally:
                self._records[name](code, _clock() - t0, level)
                _reset_request_id(rid)

        handler.__name__ = name
        handler.__doc__ = fn.__doc__
        return handler

    return wrap


_KINDS = frozenset(k.value for k in Kind)
_KIND_LIST = tuple(k.value for k in Kind)


def invalid(field: str, message: str) -> Abort:
    """INVALID_ARGUMENT with a ``google.rpc.BadRequest`` naming the request field at fault."""
    return Abort(grpc.StatusCode.INVALID_ARGUMENT, message, rich=(bad_request(field, message),))


def _kind(value: str) -> str | None:
    """The request's kind, ``None`` for "detect"; an unknown kind is the caller's error."""
    if not value:
        return None
    if value not in _KINDS:
        raise invalid("kind", f"unknown identifier kind; use one of {', '.join(_KIND_LIST)}")
    return value


def _language(tag: str) -> Language:
    """The request's ``language`` (empty: English); an unknown tag is the caller's error."""
    try:
        return parse_language(tag)
    except ValueError as e:
        raise invalid("language", str(e)) from None


def _in_region(value: str, region: str) -> str:
    """``value`` with a local phone number of ``region`` (ISO 3166; empty: HK) in E.164."""
    if not region:
        return value
    try:
        return localize_phone(value, parse_region(region))
    except ValueError as e:
        raise invalid("region", str(e)) from None


def _deadline_passed(context: grpc.ServicerContext) -> bool:
    remaining = context.time_remaining()
    return remaining is not None and remaining <= 0


class ScameterServicer(pb_grpc.ScameterServicer):
    """The RPC handlers. Collaborators are injected (see :mod:`scameter.rpc.source`)."""

    def __init__(
        self,
        source: SnapshotSource,
        authorizer: Authorizer,
        metrics: Metrics,
        *,
        intake: IntakeSink | None = None,
        reporter_secret: bytes | None = None,
        reporter_hasher: Callable[[str], str] | None = None,
        normalizer: Normalizer = default_normalizer,
        max_batch: int = DEFAULT_MAX_BATCH,
        related_limit: int = DEFAULT_RELATED_LIMIT,
        clock: Callable[[], datetime] = utc_now,
        max_message_bytes: int | None = None,
        intake_policy: IntakePolicy | None = None,
    ) -> None:
        self._intake_policy = intake_policy
        self.source = source
        self._source = source
        self._auth = authorizer
        self._authorize = authorizer.authorize
        self._metrics = metrics
        #: Each method's ``Recorder.record``, bound once (one probe a call finds the tally).
        self._records = {name: metrics.recorder(name).record for name in ROLES}
        self._record_check = self._records["Check"]
        self._intake = intake
        self._secret = reporter_secret
        self._hasher = reporter_hasher
        self._normalize = normalizer
        self._max_batch = max_batch
        self._max_message = max_message_bytes
        self._related_limit = related_limit
        self._clock = clock
        self._device = DeviceUpdates()

    # -- lookups ------------------------------------------------------------------------------

    def _check(self, request: pb.CheckRequest) -> tuple[Verdict, Language]:
        """The verdict of one Check request and the language to answer in."""
        ctx = convert.context_from_pb(request) if request.HasField("context") else None
        tag = request.language
        lang = _language(tag) if tag else Language.EN
        sent = request.identifier  # each read of a string field makes a new str object
        with self._source.acquire() as snap:
            region = request.region
            raw = _in_region(sent, region) if region else sent
            kind = request.kind
            # A known kind passes as it is (what _kind returns for it); _kind words the error.
            v = snap.check(
                raw, (kind if kind in _KINDS else _kind(kind)) if kind else None, context=ctx
            )
        if raw is not sent:
            v = replace(v, input=sent)
        return v, lang

    @_rpc("Check", verdict=True)
    def Check(
        self, request: pb.CheckRequest, context: grpc.ServicerContext
    ) -> tuple[pb.CheckResponse, Level]:
        v, lang = self._check(request)
        resp = pb.CheckResponse()
        convert.fill_verdict(resp.verdict, in_language(v, lang))
        return resp, v.level

    def check_wire(self, body: bytes, context: grpc.ServicerContext) -> bytes | None:
        """``Check`` on the wire (gRPC's raw-bytes handler): the answer of :meth:`Check`,
        serialised by :func:`convert.check_response_bytes`.

        The hottest path of the server, written out in one frame: :func:`_rpc`'s wrapper,
        :func:`_parse` and :meth:`_check`, step for step (each call layer saved is a few
        hundred instructions a call: docs/benchmarks.md, "Round 9: the Check handler").
        The same answers, errors, metrics and request id as the wrapped form, pinned by
        tests/unit/rpc/test_check_wire.py.
        """
        t0 = _clock()
        code = "OK"
        level = None
        rid = _set_request_id(next_request_id())  # on every log line of this call
        try:
            self._authorize(context.invocation_metadata(), _CHECK_ROLE)
            try:
                request = _check_request(body)
            except DecodeError:
                raise Abort(grpc.StatusCode.INTERNAL, _UNDECODABLE) from None
            # _check, inlined
            ctx = convert.context_from_pb(request) if request.HasField("context") else None
            tag = request.language
            lang = _language(tag) if tag else Language.EN
            sent = request.identifier
            with self._source.acquire() as snap:
                region = request.region
                raw = _in_region(sent, region) if region else sent
                kind = request.kind
                v = snap.check(
                    raw, (kind if kind in _KINDS else _kind(kind)) if kind else None, context=ctx
                )
            if raw is not sent:
                v = replace(v, input=sent)
            answer = _check_response_bytes(v, lang)
            level = v.level
            return answer
        except Exception as e:
            code = _status_code(e)
            _abort(context, "Check", e)  # raises (a test's context may return: None)
            return None
        finally:
            self._record_check(code, _clock() - t0, level)
            _reset_request_id(rid)

    def _batch(
        self, request: pb.CheckBatchRequest, context: grpc.ServicerContext
    ) -> tuple[list[BatchAnswer], Language]:
        """The answers of one CheckBatch request (chunks in order), its metrics counted."""
        raws: Sequence[str] = request.identifiers
        n = len(raws)
        if n > self._max_batch:
            raise invalid(
                "identifiers",
                f"batch of {n} identifiers exceeds the cap of {self._max_batch}; split it",
            )
        if self._max_message is not None:
            _refuse_oversized_batch(raws, self._max_message)
        kind = _kind(request.kind)
        lang = _language(request.language)
        if request.region:
            raws = [_in_region(r, request.region) for r in raws]
        answers: list[BatchAnswer] = []
        # The batch hot path: plain misses (most items) carry no verdict object and are
        # written from one pre-rendered NO RECORD answer (convert.fill_batch / batch_bytes).
        with self._source.acquire() as snap:
            for start in range(0, n, _BATCH_CHUNK):
                if _deadline_passed(context):
                    raise Abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed mid-batch")
                answer = snap.check_batch(raws[start : start + _BATCH_CHUNK], kind)
                if request.region:  # answer for the identifiers as the caller sent them
                    sent = request.identifiers[start : start + _BATCH_CHUNK]
                    answer.inputs = sent
                    answer.verdicts = [
                        None if v is None else replace(v, input=r)
                        for v, r in zip(answer.verdicts, sent, strict=True)
                    ]
                answers.append(answer)
        levels: Counter[Level] = Counter()
        for answer in answers:
            # map/filter chains of C calls: no Python bytecode per row.
            levels.update(map(_LEVEL_OF, filter(_IS_VERDICT, answer.verdicts)))
            levels[Level.NO_RECORD] += answer.misses()
        for level, count in levels.items():
            self._metrics.verdict(level, count)
        self._metrics.identifiers.inc(n)
        return answers, lang

    @_rpc("CheckBatch")
    def CheckBatch(
        self, request: pb.CheckBatchRequest, context: grpc.ServicerContext
    ) -> pb.CheckBatchResponse:
        answers, lang = self._batch(request, context)
        out = pb.CheckBatchResponse()
        for answer in answers:
            convert.fill_batch(out.verdicts, answer, lang)
        return out

    @_rpc("CheckBatch")
    def check_batch_wire(self, body: bytes, context: grpc.ServicerContext) -> bytes:
        """``CheckBatch`` on the wire: the same answer assembled by
        :func:`convert.batch_bytes` (plain misses from the cached NO RECORD bytes)."""
        return convert.batch_bytes(*self._batch(_parse(pb.CheckBatchRequest, body), context))

    @_rpc("CheckMessage")
    def CheckMessage(
        self, request: pb.CheckMessageRequest, context: grpc.ServicerContext
    ) -> pb.CheckMessageResponse:
        text = request.text
        problem = message_size_error(text)
        if problem is not None:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        ctx = convert.context_from_pb(request)
        with self._source.acquire() as snap:
            try:
                answer = check_message(snap, text, sender=request.sender or None, context=ctx)
            except InvalidMessage as e:
                raise Abort(grpc.StatusCode.INVALID_ARGUMENT, str(e)) from e
        self._metrics.verdict(answer.level)
        return convert.fill_message(pb.CheckMessageResponse(), answer)

    def _payee(self, request: pb.CheckPayeeRequest) -> tuple[PayeeResult, Language]:
        """The answer to one CheckPayee request and the language of its verdicts."""
        if not request.proxy_id and not request.account:
            raise invalid("proxy_id", "give a proxy_id, an account or both")
        lang = _language(request.language)
        with self._source.acquire() as snap:
            r = assess_payee(snap, request.proxy_id or None, request.account or None)
        self._metrics.verdict(r.level)
        return r, lang

    @_rpc("CheckPayee")
    def CheckPayee(
        self, request: pb.CheckPayeeRequest, context: grpc.ServicerContext
    ) -> pb.CheckPayeeResponse:
        return convert.fill_payee(pb.CheckPayeeResponse(), *self._payee(request))

    @_rpc("CheckPayee")
    def check_payee_wire(self, body: bytes, context: grpc.ServicerContext) -> bytes:
        """``CheckPayee`` on the wire: the same answer, serialised by
        :func:`convert.payee_bytes` (cached verdict bytes)."""
        return convert.payee_bytes(*self._payee(_parse(pb.CheckPayeeRequest, body)))

    def _payee_batch(
        self, request: pb.CheckPayeeBatchRequest, context: grpc.ServicerContext
    ) -> tuple[list[PayeeResult], Language]:
        """The answers of one CheckPayeeBatch request in order; a payee that cannot be
        checked (neither field, an invalid identifier) is an answer with ``error`` set."""
        payees = request.payees
        n = len(payees)
        if n > self._max_batch:
            raise Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"batch of {n} payees exceeds the cap of {self._max_batch}; split it",
            )
        lang = _language(request.language)
        out: list[PayeeResult] = []
        verdict = self._metrics.verdict
        with self._source.acquire() as snap:
            for i, payee in enumerate(payees):
                if i % _BATCH_CHUNK == 0 and _deadline_passed(context):
                    raise Abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed mid-batch")
                try:
                    r = assess_payee(snap, payee.proxy_id or None, payee.account or None)
                except (InvalidIdentifier, ValueError) as e:
                    out.append(payee_error(str(e)))
                    continue
                verdict(r.level)
                out.append(r)
        self._metrics.identifiers.inc(n)
        return out, lang

    @_rpc("CheckPayeeBatch")
    def CheckPayeeBatch(
        self, request: pb.CheckPayeeBatchRequest, context: grpc.ServicerContext
    ) -> pb.CheckPayeeBatchResponse:
        out = pb.CheckPayeeBatchResponse()
        convert.fill_payee_batch(out.answers, *self._payee_batch(request, context))
        return out

    @_rpc("CheckPayeeBatch")
    def check_payee_batch_wire(self, body: bytes, context: grpc.ServicerContext) -> bytes:
        """``CheckPayeeBatch`` on the wire: the same answers, serialised by
        :func:`convert.payee_batch_bytes`."""
        request = _parse(pb.CheckPayeeBatchRequest, body)
        return convert.payee_batch_bytes(*self._payee_batch(request, context))

    @_rpc("Related")
    def Related(
        self, request: pb.RelatedRequest, context: grpc.ServicerContext
    ) -> pb.RelatedResponse:
        limit = min(request.limit or self._related_limit, self._related_limit)
        lang = _language(request.language)
        with self._source.acquire() as snap:
            vs = snap.related(request.identifier, _kind(request.kind), limit=limit)
        resp = pb.RelatedResponse()
        for v in vs[:limit]:
            convert.fill_verdict(resp.verdicts.add(), in_language(v, lang))
        return resp

    @_rpc("GetSnapshotInfo")
    def GetSnapshotInfo(
        self, request: pb.GetSnapshotInfoRequest, context: grpc.ServicerContext
    ) -> pb.GetSnapshotInfoResponse:
        with self._source.acquire() as snap:
            m = snap.manifest
            counts = [
                pb.LevelCount(kind=k, level=convert.level_to_pb(_level(lv)), count=n)
                for k, levels in sorted(m.counts.items())
                for lv, n in sorted(levels.items())
            ]
            return pb.GetSnapshotInfoResponse(
                snapshot_id=m.snapshot_id,
                parent_id=m.parent_id or "",
                as_of=m.as_of,
                built_at=m.built_at,
                age_seconds=snapshot_age(m, self._clock()),
                total=m.total,
                counts=counts,
            )

    # -- private lookups (docs/privacy.md) ------------------------------------------------------

    @_rpc("SearchHashes")
    def SearchHashes(
        self, request: pb.SearchHashesRequest, context: grpc.ServicerContext
    ) -> pb.SearchHashesResponse:
        """Full hashes under the request's prefixes; never logs a prefix."""
        with self._source.acquire() as snap:
            return search_hashes(snap, request.hash_prefixes, live=follows_delta(self._source))

    @_rpc("GetDeviceUpdate")
    def GetDeviceUpdate(
        self, request: pb.GetDeviceUpdateRequest, context: grpc.ServicerContext
    ) -> pb.GetDeviceUpdateResponse:
        with self._source.acquire() as snap:
            data, full = self._device.update(snap, request.version)
            return pb.GetDeviceUpdateResponse(version=snap.id, full=full, data=data)

    # -- intake -------------------------------------------------------------------------------

    def _reporter_hash(self, token: str) -> tuple[IntakeSink, str]:
        """The intake log and the hashed reporter id of a genuine token (Report, Appeal)."""
        if self._intake is None or self._secret is None or self._hasher is None:
            raise Abort(
                grpc.StatusCode.UNIMPLEMENTED,
                "this server takes no reports (start it with an intake log and a token secret)",
            )
        try:
            claims = verify_reporter_token(self._secret, token, now=self._clock().timestamp())
        except ReporterTokenError as e:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED, str(e)) from e
        return self._intake, self._hasher(claims.reporter)

    @_rpc("Report")
    def Report(self, request: pb.ReportRequest, context: grpc.ServicerContext) -> pb.ReportResponse:
        intake, reporter_hash = self._reporter_hash(request.reporter_token)
        if not request.identifiers and not request.text.strip():
            raise invalid(
                "identifiers",
                "a report names at least one identifier, or has a text to find them in",
            )
        if len(request.identifiers) > MAX_REPORT_IDENTIFIERS:
            raise invalid(
                "identifiers", f"a report names at most {MAX_REPORT_IDENTIFIERS} identifiers"
            )
        category = request.category.strip()
        if not category or len(category) > MAX_CATEGORY:
            raise invalid("category", f"category must be 1..{MAX_CATEGORY} characters")
        if len(request.text) > MAX_REPORT_TEXT:
            raise invalid("text", f"text must be at most {MAX_REPORT_TEXT} characters")
        idents: list[tuple[str | None, str]] = []
        truncated = False
        if request.identifiers:
            for i, item in enumerate(request.identifiers):
                try:
                    raw = _in_region(item.value, item.region)
                    kind, value = self._normalize(_kind(item.kind), raw)
                except InvalidIdentifier as e:
                    raise InvalidAt(e, f"identifiers[{i}].value") from None
                idents.append((kind, value))
        else:
            # A text-only report: its identifiers are the ones extraction finds, already
            # canonical; a text with none is kept as it is (ingest counts it: no_identifiers).
            found = extract(request.text, limit=MAX_REPORT_IDENTIFIERS)
            idents = [(str(i.kind), i.value) for i in found.identifiers()]
            truncated = found.truncated
        # Dedup inside one report too: the same number typed twice is one identifier.
        idents = list(dict.fromkeys(idents))
        try:
            report_id, duplicate = intake.append(
                identifiers=idents,
                category=category,
                text=request.text,
                reporter_hash=reporter_hash,
                source="public",
                reported_at=self._clock(),
                policy=self._intake_policy,
            )
        except ReporterCapExceeded as e:
            raise Abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(e)) from e
        except IntakeCommitError as e:
            raise Abort(grpc.StatusCode.UNAVAILABLE, _NOT_STORED) from e
        self._metrics.report(duplicate)
        # debug, not info: the intake log is the record of every report (its id and time)
        # and the metrics count them; a JSON line each was ~10% of a worker's Python time at
        # 1,000 reports/s (docs/benchmarks.md, "Round 8: live path at 1,000 reports/s")
        log.debug("report accepted", extra={"report_id": report_id, "duplicate": duplicate})
        return pb.ReportResponse(
            report_id=report_id, duplicate=duplicate, identifiers=len(idents), truncated=truncated
        )

    @_rpc("Appeal")
    def Appeal(self, request: pb.AppealRequest, context: grpc.ServicerContext) -> pb.AppealResponse:
        """A reporter contests a listing: stored for review, never a delisting by itself."""
        intake, reporter_hash = self._reporter_hash(request.reporter_token)
        item = request.identifier
        if not item.value.strip():
            raise invalid("identifier.value", "an appeal names the identifier it contests")
        reason = request.reason.strip()
        if not reason or len(reason) > MAX_APPEAL_REASON:
            raise invalid("reason", f"reason must be 1..{MAX_APPEAL_REASON} characters")
        try:
            kind, value = self._normalize(_kind(item.kind), _in_region(item.value, item.region))
        except InvalidIdentifier as e:
            raise InvalidAt(e, "identifier.value") from None
        try:
            appeal_id, duplicate = intake.append_appeal(
                identifier=(kind, value),
                reason=reason,
                reporter_hash=reporter_hash,
                appealed_at=self._clock(),
                policy=self._intake_policy,
            )
        except ReporterCapExceeded as e:
            raise Abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(e)) from e
        except IntakeCommitError as e:
            raise Abort(grpc.StatusCode.UNAVAILABLE, _NOT_STORED) from e
        log.info("appeal accepted", extra={"appeal_id": appeal_id, "duplicate": duplicate})
        return pb.AppealResponse(appeal_id=appeal_id, duplicate=duplicate)


#: Worst-case bytes of one verdict in a CheckBatch answer besides the strings derived from
#: its input: reasons with their sentences, categories, dates, cluster, snapshot id, owner.
VERDICT_FIXED_BYTES = 1400
#: Strings derived from the input (input, canonical, matched / similar) are at most this many
#: times its length.
VERDICT_INPUT_FACTOR = 3
#: What the response envelope and the per-item framing may add to the sum.
_ENVELOPE_BYTES = 1024


#: A batch row's verdict, and whether a row has one (``None``: a plain miss).
_LEVEL_OF = operator.attrgetter("level")
_IS_VERDICT = partial(operator.is_not, None)


def _refuse_oversized_batch(raws: Sequence[str], max_message: int) -> None:
    """INVALID_ARGUMENT before any work when the answer to ``raws`` could exceed the message
    limit (items x worst-case verdict size), naming the largest batch that fits."""
    budget = max_message - _ENVELOPE_BYTES
    # The whole batch's worst case at C speed (map chains); only a batch over the budget
    # walks its rows to name where it stops fitting.
    utf8 = sum(map(len, map(str.encode, raws)))
    if VERDICT_FIXED_BYTES * len(raws) + VERDICT_INPUT_FACTOR * utf8 <= budget:
        return
    total = 0
    for i, raw in enumerate(raws):
        total += VERDICT_FIXED_BYTES + VERDICT_INPUT_FACTOR * len(raw.encode("utf-8"))
        if total > budget:
            raise Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the answer to {len(raws)} identifiers could exceed the {max_message}-byte "
                f"message limit; send at most {i} of these in one batch (about "
                f"{budget // VERDICT_FIXED_BYTES} short identifiers fit)",
            )


_M = TypeVar(
    "_M", pb.CheckRequest, pb.CheckBatchRequest, pb.CheckPayeeRequest, pb.CheckPayeeBatchRequest
)


#: What grpcio's own deserialiser says of an undecodable request (INTERNAL).
_UNDECODABLE = "Exception deserializing request!"
_check_request = pb.CheckRequest.FromString
_check_response_bytes = convert.check_response_bytes
_CHECK_ROLE = ROLES["Check"]


def _parse(message: type[_M], body: bytes) -> _M:
    """A raw-bytes handler's request; an undecodable body fails as grpcio's own deserialiser
    fails it (INTERNAL, the same details)."""
    try:
        return message.FromString(body)
    except DecodeError:
        raise Abort(grpc.StatusCode.INTERNAL, _UNDECODABLE) from None


def _level(value: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        return Level.NO_RECORD


__all__ = ["DEFAULT_MAX_BATCH", "ROLES", "ScameterServicer", "default_normalizer"]
