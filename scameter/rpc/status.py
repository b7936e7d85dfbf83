"""Status mapping: how scameter failures become gRPC status codes.

Responsibility: :class:`Abort`, the one exception the servicer's helpers raise to end a call
with a chosen status; the servicer's wrapper turns it into ``context.abort``. Keeping the codes
here makes the table in docs/operations.md ("Status codes") checkable against one place.

Invariant: ``details`` never carries a queried identifier (it is logged and sent to clients).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

#: Trailing-metadata keys that let the client rebuild an InvalidIdentifier exactly.
INVALID_KIND_KEY = "scameter-invalid-kind"
INVALID_REASON_KEY = "scameter-invalid-reason"


#: ``google.rpc.ErrorInfo.domain`` of scameter's own error reasons.
ERROR_DOMAIN = "scameter.v1"
#: The trailer gRPC's rich error model travels in (a serialised ``google.rpc.Status``).
STATUS_DETAILS_KEY = "grpc-status-details-bin"


class Abort(Exception):
    """End the current RPC with ``code`` and ``details`` (and optional trailing metadata and
    ``google.rpc`` detail messages: RetryInfo, BadRequest, ErrorInfo)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        trailers: tuple[tuple[str, str], ...] = (),
        rich: tuple[Message, ...] = (),
    ) -> None:
        self.code = code
        self.details = details
        self.trailers = trailers
        self.rich = rich
        super().__init__(f"{code.name}: {details}")


@dataclass(frozen=True, slots=True)
class RichStatus(grpc.Status):
    """A ``grpc.Status`` for ``context.abort_with_status`` (code, message, trailers)."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, Any], ...]


def rich_status(
    code: grpc.StatusCode,
    message: str,
    rich: Iterable[Message],
    trailers: Iterable[tuple[str, str]] = (),
) -> RichStatus:
    """The status with ``rich`` packed as ``google.rpc.Status.details`` (AIP-193), beside
    the plain ``trailers``."""
    packed = []
    for m in rich:
        a = any_pb2.Any()
        a.Pack(m)
        packed.append(a)
    st = status_pb2.Status(code=code.value[0], message=message, details=packed)
    return RichStatus(code, message, (*trailers, (STATUS_DETAILS_KEY, st.SerializeToString())))


def retry_info(seconds: float) -> Message:
    """``google.rpc.RetryInfo`` telling the client how long to back off."""
    delay = duration_pb2.Duration()
    delay.FromNanoseconds(max(0, round(seconds * 1e9)))
    msg: Message = error_details_pb2.RetryInfo(retry_delay=delay)
    return msg


def bad_request(field: str, description: str) -> Message:
    """``google.rpc.BadRequest`` with one field violation."""
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
    msg: Message = error_details_pb2.BadRequest(field_violations=[violation])
    return msg


def error_info(code: str, **metadata: str) -> Message:
    """``google.rpc.ErrorInfo``: a machine-readable reason (UPPER_SNAKE) in our domain."""
    msg: Message = error_details_pb2.ErrorInfo(reason=code, domain=ERROR_DOMAIN, metadata=metadata)
    return msg


_ = code_pb2  # imported so its enum is in the pool for JSON renderings of google.rpc.Status

__all__ = [
    "ERROR_DOMAIN",
    "INVALID_KIND_KEY",
    "INVALID_REASON_KEY",
    "STATUS_DETAILS_KEY",
    "Abort",
    "RichStatus",
    "bad_request",
    "error_info",
    "retry_info",
    "rich_status",
]
