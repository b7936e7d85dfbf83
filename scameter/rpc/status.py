"""Status mapping: how scameter failures become gRPC status codes.

Responsibility: :class:`Abort`, the one exception the servicer's helpers raise to end a call
with a chosen status; the servicer's wrapper turns it into ``context.abort``. Keeping the codes
here makes the table in docs/operations.md ("Status codes") checkable against one place.

Invariant: ``details`` never carries a queried identifier (it is logged and sent to clients).
"""

from __future__ import annotations

import grpc

#: Trailing-metadata keys that let the client rebuild an InvalidIdentifier exactly.
INVALID_KIND_KEY = "scameter-invalid-kind"
INVALID_REASON_KEY = "scameter-invalid-reason"


class Abort(Exception):
    """End the current RPC with ``code`` and ``details`` (and optional trailing metadata)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        trailers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.code = code
        self.details = details
        self.trailers = trailers
        super().__init__(f"{code.name}: {details}")


__all__ = ["INVALID_KIND_KEY", "INVALID_REASON_KEY", "Abort"]
