"""``scameter bulk --payee``: a CSV of payees, each row annotated with the FPS payee answer.

Responsibility: the per-chunk work of ``bulk`` when each row is a transfer payee (an FPS proxy
id and/or a bank account, in two columns) rather than one identifier. Each row gets the answer
the banks' payee hook gets (:func:`scameter.rpc.payee.assess_payee` on the local snapshot,
in-process; ``CheckPayeeBatch`` with ``--remote``), as :data:`PAYEE_COLUMNS`.

Invariants (those of ``bulk``, plus):
* Every row comes out: a row with neither field, or with an invalid proxy id or account, is
  marked ``invalid`` in ``scameter_level`` with the reason in ``scameter_error``.
* ``scameter_alert`` is ``true`` only for a HIGH RISK payee (the hook's rule); the warnings
  are filled only then, in English and Traditional Chinese.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import TYPE_CHECKING, Final

from scameter.errors import InvalidIdentifier
from scameter.identifiers.phone import DEFAULT_REGION, localize_phone
from scameter.rpc.payee import PayeeResult, assess_payee, proxy_kind

if TYPE_CHECKING:
    from scameter.cli.bulk import Job
    from scameter.cli.common import Backend

#: Columns ``bulk --payee`` appends to CSV rows.
PAYEE_COLUMNS: Final = (
    "scameter_alert",
    "scameter_level",
    "scameter_triggered_by",
    "scameter_warning_en",
    "scameter_warning_zh_hant",
    "scameter_error",
)
#: Header names taken (case-insensitive, first match wins) when --proxy-column /
#: --account-column are not given.
PROXY_COLUMNS: Final = ("proxy_id", "proxy", "fps_proxy", "fps_proxy_id", "fps_id", "fps")
ACCOUNT_COLUMNS: Final = ("account", "bank_account", "account_number", "account_no")
#: Absent column (the index stored in a Job).
NO_COLUMN: Final = -1

Answer = PayeeResult | str  # the answer, or why the row could not be checked


def pick_payee_columns(
    header: list[str], proxy: str | None, account: str | None
) -> tuple[int, int, str]:
    """(proxy column, account column, what was picked in words); either may be NO_COLUMN,
    not both. Named columns must exist; otherwise the first known header name is taken."""
    lowered = [h.strip().lower() for h in header]

    def find(wanted: str | None, names: tuple[str, ...]) -> int:
        if wanted is not None:
            if wanted in header:
                return header.index(wanted)
            if wanted.lower() in lowered:
                return lowered.index(wanted.lower())
            columns = ", ".join(header)
            raise ValueError(f"no column {wanted!r} in the CSV header; columns: {columns}")
        return next((lowered.index(n) for n in names if n in lowered), NO_COLUMN)

    p = find(proxy, PROXY_COLUMNS)
    a = find(account, ACCOUNT_COLUMNS)
    if p == NO_COLUMN and a == NO_COLUMN:
        raise ValueError(
            "--payee needs a proxy id column and/or an account column: give --proxy-column "
            f"or --account-column (known names: {', '.join(PROXY_COLUMNS + ACCOUNT_COLUMNS)})"
        )
    words = [f"{what} column {header[i]!r}" for what, i in (("proxy id", p), ("account", a))]
    return p, a, " and ".join(w for w, i in zip(words, (p, a), strict=True) if i != NO_COLUMN)


def _cell(row: list[str], col: int) -> str | None:
    return row[col].strip() or None if 0 <= col < len(row) else None


def _proxy(row: list[str], col: int, region: str) -> str | None:
    """The row's proxy id; a local phone number of ``region`` (``--region``) in E.164."""
    raw = _cell(row, col)
    if raw is None or region == DEFAULT_REGION or proxy_kind(raw) != "phone":
        return raw
    return localize_phone(raw, region)


def _answers(backend: Backend, payees: list[tuple[str | None, str | None]]) -> list[Answer]:
    from scameter.cli.common import LocalBackend, RemoteBackend

    if isinstance(backend, LocalBackend):
        out: list[Answer] = []
        for proxy, account in payees:
            try:
                out.append(assess_payee(backend.snapshot, proxy, account))
            except (InvalidIdentifier, ValueError) as exc:
                out.append(str(exc))
        return out
    assert isinstance(backend, RemoteBackend)
    remote: list[Answer] = []
    cap = backend.batch_cap
    for i in range(0, len(payees), cap):
        for r in backend.client.check_payee_batch(payees[i : i + cap]):
            remote.append(r.error if r.error else r)
    return remote


def _cells(answer: Answer) -> list[str]:
    if isinstance(answer, str):
        return ["false", "invalid", "", "", "", answer]
    return [
        "true" if answer.alert else "false",
        answer.level.value,
        answer.triggered_by or "",
        answer.warning_en or "",
        answer.warning_zh_hant or "",
        "",
    ]


def process_payees(job: Job, backend: Backend, counts: Counter[str]) -> tuple[str, int]:
    """One chunk of payee rows, written as ``csv.writer`` would (``\\n`` rows)."""
    assert job.payee is not None
    proxy_col, account_col = job.payee
    csv.field_size_limit(1 << 30)
    text = job.data.decode(job.encoding, errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    payees = [(_proxy(r, proxy_col, job.region), _cell(r, account_col)) for r in rows]
    answers = _answers(backend, payees)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row, answer in zip(rows, answers, strict=True):
        counts["invalid" if isinstance(answer, str) else answer.level.value] += 1
        fields = row or [""]  # the input cells as read, like plain bulk
        fields += [""] * (job.width - len(fields))
        writer.writerow([*fields, *_cells(answer)])
    return buf.getvalue(), len(rows)


__all__ = ["PAYEE_COLUMNS", "pick_payee_columns", "process_payees"]
