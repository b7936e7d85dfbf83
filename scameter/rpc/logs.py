"""The server's logs: JSON lines on stderr, one object per event.

Responsibility: :func:`configure_logging` points the ``scameter`` logger of this process at
stderr through :class:`JsonFormatter`; a forked worker calls it again with its own index.

Invariants:
* Every line is one JSON object with ``ts``, ``level``, ``logger``, ``worker``, ``pid`` and
  ``msg``, plus the record's ``extra`` fields (``event``, ``port``, ``report_id``...).
* Nothing logged carries a queried identifier, a reporter id, a token or an API key: callers
  log events, ids and exception *types* (docs/operations.md, "Logs"). This module only formats.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, worker, message and the record's extras."""

    _STD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def __init__(self, worker: int) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "worker": self.worker,
            "pid": os.getpid(),
            "msg": record.getMessage(),
        }
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


__all__ = ["JsonFormatter", "configure_logging"]
