"""A small synchronous client for ``scameter.v1.Scameter``.

Responsibility: call the service and hand back scameter's own types (:class:`Verdict`,
:class:`PayeeResult`, dicts), so ``scameter check --remote`` renders exactly what the local
lookup renders.

Invariants:
* INVALID_ARGUMENT from a lookup is raised as :class:`InvalidIdentifier` (kind and reason from
  the server's trailers), exactly like the in-process snapshot; every other failure is a
  :class:`RemoteError` carrying the status code name. No gRPC type escapes this module.
* Every call has a deadline (``timeout``); message size limits match the server's defaults.
* Each ``Client`` owns its own connection (a local subchannel pool), so N clients to one
  address make N TCP connections, which the kernel spreads across the server's workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import grpc

from scameter.errors import InvalidIdentifier, InvalidMessage, ScameterError
from scameter.index.message import MessageAnswer
from scameter.rpc import convert
from scameter.rpc.config import DEFAULT_MAX_MESSAGE
from scameter.rpc.payee import PayeeResult
from scameter.rpc.status import INVALID_KIND_KEY, INVALID_REASON_KEY
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.verdict import CheckContext, Verdict

T = TypeVar("T")


class RemoteError(ScameterError):
    """The server refused or failed a call. ``code`` is the gRPC status name."""

    def __init__(self, code: str, details: str) -> None:
        self.code = code
        self.details = details
        super().__init__(f"{code}: {details}")


def _translate(e: grpc.RpcError, raw: str | None) -> ScameterError:
    code = e.code()
    details = e.details() or ""
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        trailers: dict[str, Any] = {m.key: m.value for m in (e.trailing_metadata() or ())}
        if INVALID_REASON_KEY in trailers:
            kind = trailers.get(INVALID_KIND_KEY) or None
            return InvalidIdentifier(kind, str(trailers[INVALID_REASON_KEY]), raw)
    return RemoteError(code.name, details)


class Client:
    """``Client("host:port", api_key)``; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        target: str,
        api_key: str | None = None,
        *,
        tls_ca: Path | None = None,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
        timeout: float = 2.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE,
    ) -> None:
        options = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            # One connection per Client rather than one shared per target process-wide:
            # that is what lets several clients reach several workers (docs/operations.md).
            ("grpc.use_local_subchannel_pool", 1),
        ]
        if tls_ca is not None or tls_cert is not None:
            creds = grpc.ssl_channel_credentials(
                root_certificates=None if tls_ca is None else tls_ca.read_bytes(),
                private_key=None if tls_key is None else tls_key.read_bytes(),
                certificate_chain=None if tls_cert is None else tls_cert.read_bytes(),
            )
            self._channel = grpc.secure_channel(target, creds, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = pb_grpc.ScameterStub(self._channel)
        self._metadata: tuple[tuple[str, str], ...] = (
            () if api_key is None else (("authorization", f"Bearer {api_key}"),)
        )
        self.timeout = timeout

    def _call(self, fn: Callable[..., T], request: Any, raw: str | None = None) -> T:
        try:
            return fn(request, timeout=self.timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise _translate(e, raw) from None

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the channel is connected (raises RemoteError on timeout)."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError as e:
            raise RemoteError("UNAVAILABLE", "server not reachable in time") from e

    def check(
        self,
        value: str,
        kind: str | None = None,
        *,
        context: CheckContext | None = None,
        language: str = "",
        region: str = "",
    ) -> Verdict:
        """``language``: a BCP 47 tag for the reason sentences (empty: English); ``region``:
        the country of a local phone number (ISO 3166; empty: HK)."""
        req = pb.CheckRequest(
            identifier=value,
            kind=kind or "",
            context=convert.context_to_pb(context),
            language=language,
            region=region,
        )
        resp: pb.CheckResponse = self._call(self._stub.Check, req, value)
        return convert.verdict_from_pb(resp.verdict)

    def check_batch(
        self,
        values: Sequence[str],
        kind: str | None = None,
        *,
        language: str = "",
        region: str = "",
    ) -> list[Verdict]:
        req = pb.CheckBatchRequest(
            identifiers=values, kind=kind or "", language=language, region=region
        )
        resp: pb.CheckBatchResponse = self._call(self._stub.CheckBatch, req)
        return [convert.verdict_from_pb(v) for v in resp.verdicts]

    def check_message(
        self,
        text: str,
        *,
        sender: str | None = None,
        context: CheckContext | None = None,
    ) -> MessageAnswer:
        """Every identifier in ``text`` (and the sender), as :func:`check_message` answers
        locally. A text the server refuses (over 64 KiB) raises :class:`InvalidMessage`."""
        req = pb.CheckMessageRequest(
            text=text, sender=sender or "", context=convert.context_to_pb(context)
        )
        try:
            resp = self._stub.CheckMessage(req, timeout=self.timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            if e.code() is grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidMessage(e.details() or "message refused") from None
            raise _translate(e, None) from None
        return convert.message_from_pb(text, resp)

    def check_payee(self, proxy_id: str | None = None, account: str | None = None) -> PayeeResult:
        req = pb.CheckPayeeRequest(proxy_id=proxy_id or "", account=account or "")
        resp: pb.CheckPayeeResponse = self._call(self._stub.CheckPayee, req, proxy_id or account)
        return _payee_result(resp)

    def check_payee_batch(
        self, payees: Sequence[tuple[str | None, str | None]], *, language: str = ""
    ) -> list[PayeeResult]:
        """One :class:`PayeeResult` per ``(proxy_id, account)`` pair, in order; a payee that
        could not be checked has ``error`` set and never fails the call."""
        req = pb.CheckPayeeBatchRequest(
            payees=[pb.Payee(proxy_id=p or "", account=a or "") for p, a in payees],
            language=language,
        )
        resp: pb.CheckPayeeBatchResponse = self._call(self._stub.CheckPayeeBatch, req)
        return [_payee_result(a.result, a.error or None) for a in resp.answers]

    def report(
        self,
        identifiers: Iterable[str | tuple[str | None, str]],
        category: str,
        text: str,
        reporter_token: str,
    ) -> tuple[str, bool]:
        """Send one report; ``identifiers`` are raw values or ``(kind, value)`` pairs.
        Returns ``(report_id, duplicate)``."""
        items = []
        for ident in identifiers:
            kind, value = (None, ident) if isinstance(ident, str) else ident
            items.append(pb.ReportedIdentifier(value=value, kind=kind or ""))
        req = pb.ReportRequest(
            identifiers=items, category=category, text=text, reporter_token=reporter_token
        )
        resp: pb.ReportResponse = self._call(self._stub.Report, req)
        return resp.report_id, resp.duplicate

    def appeal(
        self, value: str, reason: str, reporter_token: str, *, kind: str | None = None
    ) -> tuple[str, bool]:
        """Contest the listing of ``value`` (docs/report-format.md, "Appeals").
        Returns ``(appeal_id, duplicate)``."""
        req = pb.AppealRequest(
            identifier=pb.ReportedIdentifier(value=value, kind=kind or ""),
            reason=reason,
            reporter_token=reporter_token,
        )
        resp: pb.AppealResponse = self._call(self._stub.Appeal, req, value)
        return resp.appeal_id, resp.duplicate

    def report_text(self, text: str, category: str, reporter_token: str) -> dict[str, Any]:
        """Send a text-only report (identifiers are extracted from ``text`` by the server).
        Returns ``{"report_id", "duplicate", "identifiers", "truncated"}``."""
        req = pb.ReportRequest(category=category, text=text, reporter_token=reporter_token)
        resp: pb.ReportResponse = self._call(self._stub.Report, req)
        return {
            "report_id": resp.report_id,
            "duplicate": resp.duplicate,
            "identifiers": resp.identifiers,
            "truncated": resp.truncated,
        }

    def related(
        self, value: str, kind: str | None = None, limit: int | None = None
    ) -> list[Verdict]:
        req = pb.RelatedRequest(identifier=value, kind=kind or "", limit=limit or 0)
        resp: pb.RelatedResponse = self._call(self._stub.Related, req, value)
        return [convert.verdict_from_pb(v) for v in resp.verdicts]

    def snapshot_info(self) -> dict[str, Any]:
        resp: pb.GetSnapshotInfoResponse = self._call(
            self._stub.GetSnapshotInfo, pb.GetSnapshotInfoRequest()
        )
        counts: dict[str, dict[str, int]] = {}
        for c in resp.counts:
            counts.setdefault(c.kind, {})[convert.level_from_pb(c.level).value] = c.count
        return {
            "snapshot_id": resp.snapshot_id,
            "parent_id": resp.parent_id or None,
            "as_of": resp.as_of,
            "built_at": resp.built_at,
            "age_seconds": resp.age_seconds,
            "total": resp.total,
            "counts": counts,
        }

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _payee_result(resp: pb.CheckPayeeResponse, error: str | None = None) -> PayeeResult:
    return PayeeResult(
        alert=resp.alert,
        level=convert.level_from_pb(resp.level),
        triggered_by=resp.triggered_by or None,
        warning_en=resp.warning_en or None,
        warning_zh_hant=resp.warning_zh_hant or None,
        verdicts=tuple(convert.verdict_from_pb(v) for v in resp.verdicts),
        error=error,
    )


__all__ = ["Client", "RemoteError"]
