"""A test client for the HTTP/JSON API with :class:`scameter.rpc.Client`'s methods and errors.

It speaks plain HTTP with the standard library (as a bank's back end with no gRPC would) and
turns answers back into scameter's types through the proto3 JSON mapping, so the integration
tests run the same assertions over both transports.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf import json_format

from scameter.errors import InvalidIdentifier
from scameter.rpc import RemoteError, convert
from scameter.rpc.payee import PayeeResult
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.verdict import CheckContext, Verdict


class HttpClient:
    def __init__(self, base: str, api_key: str | None = None, *, timeout: float = 10.0) -> None:
        self.base = base.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.last_error: dict[str, Any] | None = None

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST ``body`` as JSON; the status and the decoded answer (errors included)."""
        headers = {"Content-Type": "application/json"}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def _call(self, rpc: str, body: dict[str, Any], raw: str | None = None) -> dict[str, Any]:
        status, answer = self.post(f"/v1/{rpc}", body)
        if status == 200:
            return answer
        err = answer["error"]
        self.last_error = err
        if err["status"] == "INVALID_ARGUMENT":
            for d in err["details"]:
                if d["@type"].endswith("google.rpc.ErrorInfo") and d["reason"] == (
                    "INVALID_IDENTIFIER"
                ):
                    meta = d["metadata"]
                    raise InvalidIdentifier(meta.get("kind") or None, meta["reason"], raw)
        raise RemoteError(err["status"], err["message"])

    def _rpc(self, rpc: str, req: Any, resp: Any, raw: str | None = None) -> Any:
        """Send ``req`` (a request message) as proto3 JSON; the response message parsed."""
        body = json_format.MessageToDict(req)
        return json_format.ParseDict(self._call(rpc, body, raw), resp)

    def check(
        self,
        value: str,
        kind: str | None = None,
        *,
        context: CheckContext | None = None,
        language: str = "",
        region: str = "",
    ) -> Verdict:
        req = pb.CheckRequest(
            identifier=value,
            kind=kind or "",
            context=convert.context_to_pb(context),
            language=language,
            region=region,
        )
        return convert.verdict_from_pb(self._rpc("check", req, pb.CheckResponse(), value).verdict)

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
        got = self._rpc("check-batch", req, pb.CheckBatchResponse())
        return [convert.verdict_from_pb(v) for v in got.verdicts]

    def check_payee(self, proxy_id: str | None = None, account: str | None = None) -> PayeeResult:
        req = pb.CheckPayeeRequest(proxy_id=proxy_id or "", account=account or "")
        return _payee(self._rpc("check-payee", req, pb.CheckPayeeResponse(), proxy_id))

    def check_payee_batch(
        self, payees: Sequence[tuple[str | None, str | None]], *, language: str = ""
    ) -> list[PayeeResult]:
        req = pb.CheckPayeeBatchRequest(
            payees=[pb.Payee(proxy_id=p or "", account=a or "") for p, a in payees],
            language=language,
        )
        got = self._rpc("check-payee-batch", req, pb.CheckPayeeBatchResponse())
        return [_payee(a.result, a.error or None) for a in got.answers]

    def report(
        self,
        identifiers: Iterable[str | tuple[str | None, str]],
        category: str,
        text: str,
        reporter_token: str,
    ) -> tuple[str, bool]:
        items = []
        for ident in identifiers:
            kind, value = (None, ident) if isinstance(ident, str) else ident
            items.append({"value": value, "kind": kind or ""})
        body = {
            "identifiers": items,
            "category": category,
            "text": text,
            "reporterToken": reporter_token,
        }
        r = self._call("report", body)
        return r["reportId"], bool(r.get("duplicate", False))

    def appeal(
        self, value: str, reason: str, reporter_token: str, *, kind: str | None = None
    ) -> tuple[str, bool]:
        body = {
            "identifier": {"value": value, "kind": kind or ""},
            "reason": reason,
            "reporterToken": reporter_token,
        }
        r = self._call("appeal", body)
        return r["appealId"], bool(r.get("duplicate", False))

    def related(
        self, value: str, kind: str | None = None, limit: int | None = None
    ) -> list[Verdict]:
        req = pb.RelatedRequest(identifier=value, kind=kind or "", limit=limit or 0)
        got = self._rpc("related", req, pb.RelatedResponse(), value)
        return [convert.verdict_from_pb(v) for v in got.verdicts]

    def snapshot_info(self) -> dict[str, Any]:
        r = self._call("get-snapshot-info", {})
        msg = json_format.ParseDict(r, pb.GetSnapshotInfoResponse())
        counts: dict[str, dict[str, int]] = {}
        for c in msg.counts:
            counts.setdefault(c.kind, {})[convert.level_from_pb(c.level).value] = c.count
        return {
            "snapshot_id": msg.snapshot_id,
            "parent_id": msg.parent_id or None,
            "as_of": msg.as_of,
            "built_at": msg.built_at,
            "age_seconds": msg.age_seconds,
            "total": msg.total,
            "counts": counts,
        }

    def close(self) -> None:
        pass

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _payee(msg: Any, error: str | None = None) -> PayeeResult:
    return PayeeResult(
        alert=msg.alert,
        level=convert.level_from_pb(msg.level),
        triggered_by=msg.triggered_by or None,
        warning_en=msg.warning_en or None,
        warning_zh_hant=msg.warning_zh_hant or None,
        verdicts=tuple(convert.verdict_from_pb(v) for v in msg.verdicts),
        error=error,
    )
