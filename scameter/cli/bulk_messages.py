"""``scameter bulk --message-column``: a column of message texts, each row annotated with the
message's worst level and the identifiers found in it.

Responsibility: the per-chunk work of ``bulk`` when the column holds whole messages (SMS,
WhatsApp or e-mail texts) rather than one identifier: each row's text goes through the
backend's message check (:func:`scameter.index.message.check_message` locally, the
``CheckMessage`` RPC with ``--remote``), and the row comes out with :data:`MESSAGE_COLUMNS`
(CSV) or a ``scameter`` object (JSON Lines: the ``check --message --json`` object without its
``input``, which is the row's own field).

Invariants (those of ``bulk``, plus):
* A row whose text is over the 64 KiB message limit, or is not text, is marked ``invalid``
  with the reason in ``scameter_error``; the run goes on. CSV fields up to
  :data:`FIELD_LIMIT` are read (the ``csv`` module's own default, 128 KiB, would fail the
  whole chunk on one long row).
* JSON output escapes controls and bidi characters (``\\uXXXX``) so that a message cannot act
  on the terminal or file viewer that shows it; CSV cells keep the text as it was read (they
  are data for a spreadsheet), and the identifiers written are canonical values.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from scameter.cli.messages import json_line
from scameter.cli.output import csv_cell
from scameter.errors import InvalidMessage
from scameter.index.message import MessageAnswer, message_size_error
from scameter.verdict import Level

if TYPE_CHECKING:
    from scameter.cli.bulk import Job
    from scameter.cli.common import Backend

#: Columns ``bulk --message-column`` appends to CSV rows.
MESSAGE_COLUMNS: Final = (
    "scameter_level",
    "scameter_identifiers",
    "scameter_matched",
    "scameter_truncated",
    "scameter_error",
)
#: The largest CSV field read (characters). Anything over 64 KiB is refused as a message
#: anyway; this only has to be large enough that such a row is read and marked.
FIELD_LIMIT: Final = 1 << 30
#: Separates identifiers inside one cell: no canonical form holds "; " (URLs have no spaces).
SEPARATOR: Final = "; "

Result = MessageAnswer | str  # the answer, or why the row could not be checked


def _answer(backend: Backend, text: object) -> Result:
    if not isinstance(text, str):
        return "no message text in this row"
    problem = message_size_error(text)
    if problem is not None:
        return problem
    try:
        return backend.check_message(text, None, None)
    except InvalidMessage as exc:
        return str(exc)


def message_cells(result: Result) -> list[str]:
    """The :data:`MESSAGE_COLUMNS` cells of one row."""
    if isinstance(result, str):
        return ["invalid", "", "", "", result]
    found = dict.fromkeys(
        f"{v.kind}:{v.canonical}" for v in result.verdicts if v.error is None and v.kind
    )
    matched = dict.fromkeys(
        f"{v.canonical} ({v.level.value})"
        for v in result.verdicts
        if v.error is None and v.level is not Level.NO_RECORD
    )
    return [
        result.level.value,
        SEPARATOR.join(found),
        SEPARATOR.join(matched),
        "true" if result.truncated else "",
        "",
    ]


def _count(counts: Counter[str], result: Result) -> None:
    counts["invalid" if isinstance(result, str) else result.level.value] += 1


def _csv(job: Job, check: Callable[[object], Result], counts: Counter[str]) -> tuple[str, int]:
    assert isinstance(job.column, int)
    col, width = job.column, job.width
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    text = job.data.decode(job.encoding, errors="replace")
    out: list[str] = []
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        result = check(row[col]) if col < len(row) else f"row has no column {col + 1}"
        _count(counts, result)
        fields = [csv_cell(field) for field in row] or [""]
        pad = "," * (width - len(fields)) if len(fields) < width else ""
        cells = ",".join(csv_cell(c) for c in message_cells(result))
        out.append(",".join(fields) + pad + "," + cells + "\n")
    return "".join(out), len(rows)


def _jsonl(job: Job, check: Callable[[object], Result], counts: Counter[str]) -> tuple[str, int]:
    field = job.column if isinstance(job.column, str) else "text"
    text = job.data.decode(job.encoding, errors="replace")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    out: list[str] = []
    for n, line in enumerate(lines, job.first_line):
        result: Result
        try:
            obj: Any = json.loads(line)
        except ValueError as exc:
            obj, result = None, f"line {n} is not JSON: {exc.args[0]}"
        else:
            value = obj.get(field) if isinstance(obj, dict) else None
            missing = f"line {n} has no text in {field!r}"
            result = check(value) if isinstance(value, str) else missing
        _count(counts, result)
        row = dict(obj) if isinstance(obj, dict) else {"input": line}
        if isinstance(result, str):
            row["scameter"] = {"level": None, "items": [], "truncated": False, "error": result}
        else:
            answer = result.to_dict()
            del answer["input"]
            row["scameter"] = answer
        out.append(json_line(row))
    return "".join(out), len(lines)


def process_messages(job: Job, backend: Backend, counts: Counter[str]) -> tuple[str, int]:
    """Check and format one chunk of message rows (CSV or JSON Lines)."""
    cache: dict[str, Result] = {}

    def check(text: object) -> Result:
        if not isinstance(text, str):
            return _answer(backend, text)
        result = cache.get(text)
        if result is None:
            result = cache[text] = _answer(backend, text)
        return result

    if job.fmt == "csv":
        return _csv(job, check, counts)
    return _jsonl(job, check, counts)


__all__ = ["FIELD_LIMIT", "MESSAGE_COLUMNS", "SEPARATOR", "message_cells", "process_messages"]
