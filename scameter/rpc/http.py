"""HTTP/JSON transport: every ``scameter.v1`` RPC as ``POST /v1/<kebab-case-rpc>``.

Responsibility: :func:`build_app` makes an ASGI application (Starlette) that answers each RPC
of the service descriptor by calling the *same* :class:`~scameter.rpc.servicer.ScameterServicer`
the gRPC server uses, through :class:`HttpContext`, a small stand-in for
``grpc.ServicerContext``. Authorisation (API keys, roles, rate limits), metrics, limits and
the status mapping are therefore the gRPC ones, line for line; this module only moves JSON.
:class:`HttpServer` runs the application with uvicorn in a thread of the worker process, beside
the gRPC server (``scameter serve --http HOST:PORT``).

Wire format (docs/http.md):
* Request and response bodies are the RPC's messages in the proto3 JSON mapping
  (``google.protobuf.json_format``: lowerCamelCase names, enums as names, 64-bit integers as
  strings). Unknown fields are refused (``INVALID_ARGUMENT``), as a typo must not pass silently.
* The API key travels as ``Authorization: Bearer <key>``, as on gRPC.
* Errors follow Google's JSON error model (AIP-193): ``{"error": {"code": <http status>,
  "message": ..., "status": "<gRPC code name>", "details": [...]}}``; ``details`` holds the
  ``google.rpc`` messages the gRPC call carries in ``grpc-status-details-bin``.
* ``GET /openapi.json`` is the OpenAPI document (:mod:`scameter.rpc.openapi`); ``GET /`` and
  ``POST /`` are the search page (:mod:`scameter.rpc.page`); ``GET /healthz`` mirrors gRPC health.

Invariants:
* No request body, path query or identifier is logged (uvicorn's access log is off): the page
  and the API take identifiers in POST bodies only.
* Bodies larger than ``max_message_bytes`` are refused with 413 before parsing.
* Slow calls (batches, reports: an fsync) run in a thread pool of ``threads`` threads; single
  lookups run on the event loop, as they take microseconds and never wait on I/O but the page
  cache.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import grpc
import orjson
import uvicorn
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import status_pb2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scameter.rpc.v1 import scameter_pb2 as pb

log = logging.getLogger("scameter.rpc")

#: gRPC code -> HTTP status, as google.api's HTTP mapping (google/rpc/code.proto) has it.
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}

#: RPCs answered on the event loop (bounded, no I/O wait); the others go to the thread pool.
INLINE_RPCS = frozenset({"Check", "CheckPayee", "GetSnapshotInfo", "Related"})

SERVICE = pb.DESCRIPTOR.services_by_name["Scameter"]

_STATUS_DETAILS_KEY = "grpc-status-details-bin"


def kebab(name: str) -> str:
    """``CheckBatch`` -> ``check-batch`` (the path segment of an RPC)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def rpc_paths() -> dict[str, str]:
    """``/v1/<kebab>`` -> RPC name, for every method of the service, in declaration order."""
    return {f"/v1/{kebab(m.name)}": m.name for m in SERVICE.methods}


class CallFailed(Exception):
    """Raised by :meth:`HttpContext.abort`: the call ended with a gRPC status."""

    def __init__(self, code: grpc.StatusCode, message: str, details: list[Any]) -> None:
        self.code = code
        self.message = message
        self.details = details
        super().__init__(f"{code.name}: {message}")


class HttpContext:
    """The part of ``grpc.ServicerContext`` the servicer uses, for one HTTP request."""

    __slots__ = ("_metadata", "_trailers")

    def __init__(self, authorization: str | None) -> None:
        self._metadata: tuple[tuple[str, str], ...] = (
            () if authorization is None else (("authorization", authorization),)
        )
        self._trailers: tuple[tuple[str, Any], ...] = ()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def set_trailing_metadata(self, trailers: Iterable[tuple[str, Any]]) -> None:
        self._trailers = tuple(trailers)

    def time_remaining(self) -> float | None:
        return None  # HTTP has no deadline propagation; the client's timeout closes the socket

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise CallFailed(code, details, self._rich_details())

    def abort_with_status(self, status: Any) -> None:
        self.set_trailing_metadata(status.trailing_metadata)
        raise CallFailed(status.code, status.details, self._rich_details())

    def _rich_details(self) -> list[Any]:
        for key, value in self._trailers:
            if key == _STATUS_DETAILS_KEY:
                st = status_pb2.Status.FromString(value)
                return [json_format.MessageToDict(d) for d in st.details]
        return []


def error_body(code: grpc.StatusCode, message: str, details: list[Any]) -> dict[str, Any]:
    """Google's JSON error model (AIP-193) for one failed call."""
    return {
        "error": {
            "code": HTTP_STATUS.get(code, 500),
            "message": message,
            "status": code.name,
            "details": details,
        }
    }


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(code: grpc.StatusCode, message: str, details: list[Any] | None = None) -> Response:
    return _json(HTTP_STATUS.get(code, 500), error_body(code, message, details or []))


Endpoint = Callable[[Request], Awaitable[Response]]


def rpc_endpoint(
    servicer: Any, name: str, *, max_bytes: int, limiter: anyio.CapacityLimiter
) -> Endpoint:
    """The handler of ``POST /v1/<kebab(name)>``: JSON in, the servicer's method, JSON out."""
    method = getattr(servicer, name)
    request_type = getattr(pb, SERVICE.methods_by_name[name].input_type.name)
    inline = name in INLINE_RPCS

    def call(request: Message, auth: str | None) -> Response:
        ctx = HttpContext(auth)
        try:
            resp = method(request, ctx)
        except CallFailed as e:
            return _error(e.code, e.message, e.details)
        body = json_format.MessageToDict(resp, preserving_proto_field_name=False)
        return _json(200, body)

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > max_bytes:
            return _error(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"request body of {len(raw)} bytes exceeds the limit of {max_bytes}",
            )
        try:
            message = request_type()
            if raw.strip():
                json_format.Parse(raw, message)
        except (json_format.ParseError, UnicodeDecodeError) as e:
            return _error(grpc.StatusCode.INVALID_ARGUMENT, f"request body: {e}")
        auth = request.headers.get("authorization")
        if inline:
            return call(message, auth)
        return await anyio.to_thread.run_sync(call, message, auth, limiter=limiter)

    return endpoint


def build_app(
    servicer: Any,
    *,
    max_bytes: int,
    threads: int,
    openapi: Callable[[], dict[str, Any]],
    health: Callable[[], bool],
    page: Any = None,
) -> Starlette:
    """The ASGI application: the RPC routes, ``/openapi.json``, ``/healthz`` and the page."""
    limiter = anyio.CapacityLimiter(threads)
    routes = [
        Route(path, rpc_endpoint(servicer, name, max_bytes=max_bytes, limiter=limiter),
              methods=["POST"])
        for path, name in rpc_paths().items()
    ]  # fmt: skip
    document = openapi()

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(document)

    async def healthz(_request: Request) -> Response:
        serving = health()
        return _json(200 if serving else 503, {"status": "SERVING" if serving else "NOT_SERVING"})

    routes += [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if page is not None:
        routes += page.routes()
    return Starlette(routes=routes)


class HttpServer:
    """uvicorn serving ``app`` in a daemon thread of this process, on ``host:port``.

    The socket is bound here (``SO_REUSEPORT`` when several workers share it), so ``port``
    is known, and the server accepts, once :meth:`start` returns.
    """

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        reuse_port: bool,
        concurrency: int,
        ssl: dict[str, Any] | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: a response's headers and body (two writes) must not
        # wait out the client's delayed ACK (40 ms on Linux) behind Nagle's algorithm.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if reuse_port:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            self.sock.bind((host, port))
        except OSError as e:
            self.sock.close()
            raise OSError(f"cannot listen on {host}:{port} for HTTP: {e.strerror}") from e
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,  # an access log would be harmless (POST paths), but is noise
            lifespan="off",
            # Beyond this many open connections+tasks uvicorn answers 503 at once: the HTTP
            # side of --max-concurrent-rpcs.
            limit_concurrency=concurrency,
            server_header=False,
            **(ssl or {}),
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="scameter-http", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        waited = 0.0
        while not self.server.started and self._thread.is_alive() and waited < timeout:
            threading.Event().wait(0.005)
            waited += 0.005
        if not self.server.started:
            raise OSError("the HTTP server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self.sock.close()


def ssl_options(cert: Any, key: Any, client_ca: Any) -> dict[str, Any] | None:
    """uvicorn's TLS settings for the server's ``--tls-*`` files (mTLS with a client CA)."""
    if cert is None or key is None:
        return None
    import ssl

    out: dict[str, Any] = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    if client_ca is not None:
        out.update(ssl_ca_certs=str(client_ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
    return out


__all__ = [
    "HTTP_STATUS",
    "CallFailed",
    "HttpContext",
    "HttpServer",
    "build_app",
    "error_body",
    "kebab",
    "rpc_paths",
    "ssl_options",
]
