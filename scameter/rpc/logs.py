"""The server's logs: JSON lines on stderr, one object per event.

Responsibility: :func:`configure_logging` points the ``scameter`` logger of this process at
stderr through :class:`JsonFormatter`; a forked worker calls it again with its own index.

Invariants:
* Every line is one JSON object with ``ts`` (RFC 3339 UTC, milliseconds:
  ``2026-12-06T20:10:00.123Z``), ``level``, ``logger``, ``worker``, ``pid`` and
  ``msg``, plus the record's ``extra`` fields (``event``, ``port``, ``report_id``...), plus
  ``request_id`` for a line logged while an RPC is handled (:data:`REQUEST_ID`, set by the
  servicer per call: one id joins the lines of one call).
* Nothing logged carries a queried identifier, a reporter id, a token or an API key: callers
  log events, ids and exception *types* (docs/operations.md, "Logs"). This module only formats.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sys
import time
from contextvars import ContextVar
from typing import Any

#: The sequence number of the RPC this thread is handling, or None outside one (see
#: :func:`next_request_id`); a log line shows it as :func:`request_id_text` writes it.
REQUEST_ID: ContextVar[int | None] = ContextVar("scameter_request_id", default=None)
_counter = itertools.count(1)
#: ``<pid hex>-``, computed once per process (again in a forked child: the supervisor forks
#: workers), not once per call.
_prefix = [f"{os.getpid():x}-"]


def _after_fork() -> None:
    _prefix[0] = f"{os.getpid():x}-"


os.register_at_fork(after_in_child=_after_fork)


#: A new sequence number, unique within this process: the hot path stores only this integer;
#: the text id is written when a line is logged (:func:`request_id_text`). The counter's own
#: ``__next__`` (a C call), not a Python function around it: this runs once per RPC.
next_request_id = _counter.__next__


def request_id_text(seq: int) -> str:
    """The id a log line shows: ``<pid hex>-<sequence hex>`` (no randomness to pay for; the
    pid tells workers apart)."""
    return f"{_prefix[0]}{seq:x}"


def rfc3339(created: float) -> str:
    """``created`` (epoch seconds) as ``2026-12-06T20:10:00.123Z``."""
    whole = int(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + (
        f".{int((created - whole) * 1000):03d}Z"
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, worker, message and the record's extras."""

    _STD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def __init__(self, worker: int) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": rfc3339(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "worker": self.worker,
            "pid": os.getpid(),
            "msg": record.getMessage(),
        }
        rid = REQUEST_ID.get()
        if rid is not None:
            out["request_id"] = request_id_text(rid)
        for k, v in record.__dict__.items():
            if k not in self._STD:
                out[k] = v
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(worker: int) -> None:
    """Send this process's ``scameter`` logs to stderr as JSON lines tagged with ``worker``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(worker))
    logger = logging.getLogger("scameter")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


__all__ = [
    "REQUEST_ID",
    "JsonFormatter",
    "configure_logging",
    "next_request_id",
    "request_id_text",
    "rfc3339",
]
