"""The gRPC service (proto package ``scameter.v1``): servicer, server, client.

Only re-exports. Protobuf and gRPC types stay inside this package; callers get scameter's own
types (:class:`~scameter.verdict.Verdict`, :class:`PayeeResult`).
"""

from scameter.rpc.client import Client, RemoteError
from scameter.rpc.config import ServerConfig, add_serve_arguments, config_from_args
from scameter.rpc.payee import PayeeResult
from scameter.rpc.server import serve
from scameter.rpc.tokens import issue_reporter_token, reporter_secret, verify_reporter_token

__all__ = [
    "Client",
    "PayeeResult",
    "RemoteError",
    "ServerConfig",
    "add_serve_arguments",
    "config_from_args",
    "issue_reporter_token",
    "reporter_secret",
    "serve",
    "verify_reporter_token",
]
