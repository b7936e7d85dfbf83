"""``scameter bulk``: annotate every row of a list (CSV, JSON Lines, plain text) with its verdict.

Responsibility: stream an analyst's file through the lookup in chunks, in order, and write
each row back with the verdict columns of :data:`scameter.cli.output.BULK_COLUMNS` added.

Invariants:
* Every input row comes out, in input order; a row that cannot be checked (bad value, broken
  JSON, missing column) is marked with the reason in ``scameter_error``, never dropped.
* Memory is bounded by the chunk size times the chunks in flight, whatever the file size: the
  main process only splits bytes into chunks of whole rows and writes results back in order.
* Parsing, lookups and formatting run in worker processes for large inputs against a local
  snapshot (each worker opens the snapshot itself, after the fork); small inputs and
  ``--remote`` run in-process.
* CSV chunks end on a row boundary: a chunk is extended until its count of ``"`` is even, since
  RFC 4180 doubles every quote inside a quoted field, so an odd count means a field is open.
* CSV output is byte for byte what ``csv.writer`` (minimal quoting, ``\\n`` rows) writes:
  cells are joined directly only where a scan of the chunk (or of the cell) shows that no
  field holds ``,``, ``"`` or a newline, and quoted by :func:`csv_cell` otherwise.
* The progress bar and the summary go to stderr; stdout carries only data.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import itertools
import json
import os
import sys
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import IO, Any

from scameter.cli.bulk_messages import MESSAGE_COLUMNS, process_messages
from scameter.cli.bulk_payee import PAYEE_COLUMNS, pick_payee_columns, process_payees
from scameter.cli.check import KIND_CHOICES, in_region, region_arg
from scameter.cli.common import (
    EXIT_ALERT,
    EXIT_INVALID,
    Arg,
    Backend,
    Command,
    CommandError,
    LocalBackend,
    OneOf,
    SubParsers,
    open_backend,
    open_snapshot,
)
from scameter.cli.output import (
    BULK_COLUMNS,
    bulk_rows,
    csv_cell,
    neutral_cell,
    set_raw_cells,
    summary_line,
)
from scameter.cli.progress import Progress
from scameter.identifiers.phone import DEFAULT_REGION
from scameter.identifiers.registry import COLUMN_HINTS
from scameter.index.batchpath import BatchAnswer
from scameter.processes import worker_context
from scameter.settings import Settings
from scameter.verdict import Level, Verdict

FORMATS = ("csv", "jsonl", "txt")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "txt"}
#: CSV header names taken as the value column when --column is not given (case-insensitive),
#: first match wins: the generic names, each kind's own hints (its spec's ``column_hints``, in
#: registry order), then "payee" (an FPS proxy id or an account).
_VALUE_COLUMNS = ("value", "identifier", "input", *COLUMN_HINTS, "payee")
_BOM = b"\xef\xbb\xbf"
#: Chunks read ahead of the writer when workers run: bounds memory and keeps both cores busy.
_IN_FLIGHT_PER_WORKER = 2
#: A CSV chunk waiting for a quoted field to close stops growing at this many times its size.
_MAX_CHUNK_FACTOR = 4


#: Longest identifier value bulk checks; a longer one marks its row invalid (the run goes on).
MAX_VALUE_CHARS = 65_536
#: csv's own field limit (128 KiB by default aborted a run and lost the rows before it):
#: every field is read whole and the chunking bounds memory.
_FIELD_LIMIT = 1 << 30
_FORMULA_LEADS = frozenset("=@\t\r+-")


@dataclass(frozen=True, slots=True)
class Job:
    """One chunk of whole rows, as raw bytes, and how to read it."""

    fmt: str
    data: bytes
    column: int | str | None  # CSV: column index; JSONL: field name; txt: None
    kind: str | None
    first_line: int
    width: int = 0  # CSV: header length; short rows are padded so verdict columns line up
    encoding: str = "utf-8"  # of the input; output is always UTF-8
    message: bool = False  # the column holds message texts (--message-column)
    raw: bool = False  # --raw: cells from outside are written without CSV neutralisation
    payee: tuple[int, int] | None = None  # --payee: proxy id and account columns (-1: none)
    region: str = DEFAULT_REGION  # --region: country of local phone numbers
    crlf: bool = False  # the input's lines end in CRLF: so do the output's


@dataclass(frozen=True, slots=True)
class ChunkResult:
    text: str
    rows: int
    counts: dict[str, int]


class _ProcessState:
    """The backend of this process: set in-process by run_bulk, or in a worker at start-up."""

    backend: Backend | None = None

    @classmethod
    def close(cls) -> None:
        if cls.backend is not None:
            cls.backend.close()
            cls.backend = None


def _init_worker(settings: Settings) -> None:
    _ProcessState.backend = LocalBackend(open_snapshot(settings), settings.snapshots_root)


def _check(values: list[str], kind: str | None, region: str = DEFAULT_REGION) -> BatchAnswer:
    """The answers for ``values``; with a ``region`` other than HK, local phone numbers of
    that country are checked as such and every answer still shows the value as typed."""
    if region == DEFAULT_REGION or kind not in (None, "phone"):
        return _check_values(values, kind)
    answer = _check_values(in_region(values, region), kind)
    answer.inputs = values
    answer.verdicts = [
        v if v is None or v.input == t else replace(v, input=t)
        for v, t in zip(answer.verdicts, values, strict=True)
    ]
    return answer


def _check_values(values: list[str], kind: str | None) -> BatchAnswer:
    """The answers for ``values`` in order; each distinct raw value is looked up once.

    A local snapshot answers through its batch hot path (``Snapshot.check_batch``: plain
    misses carry no verdict object); a remote one through ``CheckBatch``. Case lists repeat
    the same numbers many times; a verdict depends only on the raw string (and the kind), so
    sharing it between equal rows changes nothing but the cost.
    """
    backend = _ProcessState.backend
    assert backend is not None, "bulk worker used before its backend was opened"
    if isinstance(backend, LocalBackend):
        answer: BatchAnswer = backend.snapshot.check_batch(values, kind)
        return answer
    n = len(values)
    distinct = list(dict.fromkeys(values))
    if len(distinct) == n:
        verdicts = backend.check_many(values, kind)
    else:
        answers = dict(zip(distinct, backend.check_many(distinct, kind), strict=True))
        verdicts = [answers[v] for v in values]
    return BatchAnswer(values, list(verdicts), [None] * n, [None] * n, "")


def _count(counts: Counter[str], v: Verdict) -> None:
    # Level is a StrEnum: it hashes and compares as its value, so no ``.value`` per row.
    counts["invalid" if v.error is not None else v.level] += 1


def _count_answer(counts: Counter[str], answer: BatchAnswer) -> None:
    """Count every row of ``answer``: its plain misses are NO RECORD rows."""
    counts.update(["invalid" if v.error is not None else v.level for v in answer.verdicts if v])
    misses = answer.misses()
    if misses:
        counts[Level.NO_RECORD] += misses


def _lines(data: bytes, encoding: str) -> list[str]:
    text = data.decode(encoding, errors="replace")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _process_txt(job: Job, counts: Counter[str]) -> tuple[str, int]:
    lines = _lines(job.data, job.encoding)
    verdicts = _check([line.strip() for line in lines], job.kind, job.region)
    _count_answer(counts, verdicts)
    # A line holds no "\n" (split on it); without "," or '"' anywhere in the chunk no line
    # needs CSV quoting, so one scan of the chunk spares a check per line.
    # The input column came from outside: neutralised against spreadsheet formulas (OWASP).
    cells = [neutral_cell(line) if line[:1] in _FORMULA_LEADS else line for line in lines]
    # (neutral_cell itself leaves them alone under --raw)
    heads = [csv_cell(c) for c in cells] if b"," in job.data or b'"' in job.data else cells
    return bulk_rows(heads, verdicts), len(lines)


def _process_csv(job: Job, counts: Counter[str]) -> tuple[str, int]:
    assert isinstance(job.column, int)
    col = job.column
    text = job.data.decode(job.encoding, errors="replace")
    csv.field_size_limit(_FIELD_LIMIT)  # no field size aborts a run: big fields are checked
    rows = list(csv.reader(io.StringIO(text, newline="")))
    values = [row[col].strip() if col < len(row) else "" for row in rows]
    huge = [i for i, v in enumerate(values) if len(v) > MAX_VALUE_CHARS]
    for i in huge:
        values[i] = ""
    verdicts = _check(values, job.kind, job.region)  # rows without the column are replaced below
    for i in huge:
        too_long = f"value longer than {MAX_VALUE_CHARS} characters"
        verdicts.verdicts[i] = Verdict.invalid("", too_long)
    # Without a '"' in the chunk no field was quoted, so none holds "," or a newline and the
    # fields are joined as read; otherwise each field is re-quoted as csv.writer would.
    quoted = b'"' in job.data
    width = job.width
    heads: list[str] = []
    for i, row in enumerate(rows):
        if col >= len(row):
            verdicts.verdicts[i] = Verdict.invalid("", f"row has no column {col + 1}")
        # A blank line reads as []: csv.writer writes its padding as empty fields.
        fields = ([csv_cell(field) for field in row] if quoted else row) or [""]
        pad = "," * (width - len(fields)) if len(fields) < width else ""
        heads.append(",".join(fields) + pad)
    _count_answer(counts, verdicts)
    return bulk_rows(heads, verdicts), len(rows)


def _process_jsonl(job: Job, counts: Counter[str]) -> tuple[str, int]:
    field = job.column if isinstance(job.column, str) else "value"
    lines = _lines(job.data, job.encoding)
    objs: list[Any] = []
    values: list[str] = []
    problems: dict[int, str] = {}
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except ValueError as exc:
            obj, problems[i] = None, f"line {job.first_line + i} is not JSON: {exc.args[0]}"
        # Numbers are common in exported data ({"phone": 91234567}); booleans are not values.
        obj_value = obj.get(field) if isinstance(obj, dict) else obj
        if isinstance(obj_value, str):
            value = obj_value
        elif isinstance(obj_value, int) and not isinstance(obj_value, bool):
            value = str(obj_value)
        else:
            value = ""
            problems.setdefault(i, f"line {job.first_line + i} has no value in field {field!r}")
        objs.append(obj)
        values.append(value)
    verdicts = _check(values, job.kind, job.region).to_list()
    out: list[str] = []
    for i, (obj, verdict) in enumerate(zip(objs, verdicts, strict=True)):
        v = Verdict.invalid(values[i], problems[i]) if i in problems else verdict
        _count(counts, v)
        row = dict(obj) if isinstance(obj, dict) else {"input": obj if obj else lines[i]}
        row["scameter"] = v.to_dict()
        out.append(json.dumps(row, ensure_ascii=False))
    return "".join(line + "\n" for line in out), len(lines)


def process(job: Job) -> ChunkResult:
    """Check one chunk and format its rows; runs in a worker or in-process."""
    counts: Counter[str] = Counter()
    set_raw_cells(job.raw)
    if job.message:
        backend = _ProcessState.backend
        assert backend is not None, "bulk worker used before its backend was opened"
        text, rows = process_messages(job, backend, counts)
    elif job.payee is not None:
        backend = _ProcessState.backend
        assert backend is not None, "bulk worker used before its backend was opened"
        text, rows = process_payees(job, backend, counts)
    elif job.fmt == "txt":
        text, rows = _process_txt(job, counts)
    elif job.fmt == "csv":
        text, rows = _process_csv(job, counts)
    else:
        text, rows = _process_jsonl(job, counts)
    if job.crlf:
        text = crlf_rows(text, job.fmt == "jsonl")
    return ChunkResult(text, rows, dict(counts))


def crlf_rows(text: str, json_lines: bool) -> str:
    """``text`` (rows ending in ``\\n``) with every row ending in CRLF instead.

    JSON Lines hold no raw newline inside a line, so each ``\\n`` ends a row. CSV cells may
    hold newlines (quoted): the rows are read back and written with a CRLF terminator, as
    ``csv.writer`` writes them (which also quotes a cell holding a lone CR). Only inputs
    read with CRLF pay this.
    """
    if json_lines:
        return text.replace("\n", "\r\n")
    if '"' not in text:  # nothing quoted: no cell holds a newline
        return text.replace("\n", "\r\n")
    buf = io.StringIO()
    csv.field_size_limit(_FIELD_LIMIT)
    csv.writer(buf, lineterminator="\r\n").writerows(csv.reader(io.StringIO(text, newline="")))
    return buf.getvalue()


def _resolve_format(fmt: str | None, path: str, first: bytes) -> str:
    if fmt:
        return fmt
    ext = _EXTENSIONS.get(Path(path).suffix.lower()) if path != "-" else None
    if ext:
        return ext
    return "jsonl" if first.lstrip().startswith((b"{", b'"')) else "txt"


def _chunks(
    stream: IO[bytes], first: bytes, size: int, csv_quotes: bool
) -> Iterator[tuple[bytes, int, int]]:
    """Yield (bytes of whole rows, lines in it, bytes read so far) from ``first`` + ``stream``.

    For CSV a chunk only ends where the quote count so far is even (not inside a quoted
    field), but at most :data:`_MAX_CHUNK_FACTOR` times ``size`` lines, so that one stray
    quote in a malformed file cannot turn the rest of a huge file into one chunk.
    """
    pending: list[bytes] = [first] if first else []
    read = 0
    odd = csv_quotes and first.count(b'"') % 2 == 1
    while True:
        # islice pulls whole lines in C: no Python-level step per line.
        want = size - len(pending)
        block = list(itertools.islice(stream, want)) if want > 0 else []
        pending += block
        if not pending:
            return
        if csv_quotes:
            if block:
                odd ^= b"".join(block).count(b'"') % 2 == 1
            # A quoted field is still open: take line by line until it closes (or the cap).
            while odd and len(pending) < size * _MAX_CHUNK_FACTOR:
                line = stream.readline()
                if not line:
                    break
                pending.append(line)
                if line.count(b'"') % 2:
                    odd = False
        data = b"".join(pending)
        read += len(data)
        yield data, len(pending), read
        if len(pending) < size:
            return  # islice came back short: the stream is at its end
        pending, odd = [], False


def _read_header(stream: IO[bytes], first: bytes, encoding: str) -> tuple[bytes, list[str]]:
    raw = first
    while raw.count(b'"') % 2:
        more = stream.readline()
        if not more:
            break
        raw += more
    csv.field_size_limit(_FIELD_LIMIT)
    header = next(csv.reader(io.StringIO(raw.decode(encoding, errors="replace"))), [])
    return raw, header


def _pick_column(header: list[str], wanted: str | None) -> int:
    """The value column: ``wanted`` by name, else the first known name (said on stderr, so
    the analyst sees which column was read), else the first column (said too)."""
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        lowered = [h.strip().lower() for h in header]
        if wanted.lower() in lowered:
            return lowered.index(wanted.lower())
        raise CommandError(f"no column {wanted!r} in the CSV header; columns: {', '.join(header)}")
    lowered = [h.strip().lower() for h in header]
    col = next((lowered.index(n) for n in _VALUE_COLUMNS if n in lowered), None)
    if col is None:
        sys.stderr.write(f"bulk: no known column name; checking the first column {header[0]!r}\n")
        return 0
    sys.stderr.write(f"bulk: checking column {header[col]!r}\n")
    return col


def _workers(settings: Settings, backend_is_remote: bool) -> int:
    if backend_is_remote:
        return 1
    if settings.workers:
        return settings.workers
    # The cores this process may run on (a container or taskset may allow fewer than the
    # machine has); cpu_count where the platform cannot tell.
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


@dataclass(frozen=True, slots=True)
class _Layout:
    """How the input reads and the output starts: what :func:`run_bulk` learns from the first
    line(s) and the flags."""

    fmt: str
    column: int | str | None
    first: bytes  # the bytes read ahead that still belong to the rows
    header_text: str
    first_line: int
    width: int
    progress_start: int
    message: bool
    payee: tuple[int, int] | None = None


def _layout(args: argparse.Namespace, src: IO[bytes], first: bytes, encoding: str) -> _Layout:
    fmt = _resolve_format(args.format, args.input, first)
    message = args.message_column is not None
    if message and fmt == "txt":
        raise CommandError("--message-column needs a CSV or JSON Lines input (a column name)")
    wanted = args.message_column if message else args.column
    if args.payee and fmt != "csv":
        raise CommandError("--payee needs a CSV input with a header row")
    if fmt == "csv":
        raw_header, header = _read_header(src, first, encoding)
        if not header:
            raise CommandError(f"{args.input} is empty: a CSV needs a header row")
        if args.payee:
            return _payee_layout(args, header, len(raw_header))
        buf = io.StringIO()
        columns = MESSAGE_COLUMNS if message else BULK_COLUMNS
        csv.writer(buf, lineterminator="\n").writerow([*header, *columns])
        return _Layout(
            fmt, _pick_column(header, wanted), b"", buf.getvalue(), 2, len(header),
            len(raw_header), message,
        )  # fmt: skip
    if fmt == "txt":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(["input", *BULK_COLUMNS])
        return _Layout(fmt, None, first, buf.getvalue(), 1, 0, 0, message)
    return _Layout(fmt, wanted, first, "", 1, 0, 0, message)


def _payee_layout(args: argparse.Namespace, header: list[str], header_bytes: int) -> _Layout:
    if args.column is not None or args.message_column is not None:
        raise CommandError("--payee reads --proxy-column / --account-column, not --column")
    try:
        proxy, account, words = pick_payee_columns(header, args.proxy_column, args.account_column)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.proxy_column is None or args.account_column is None:
        sys.stderr.write(f"bulk: checking payees from the {words}\n")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([*header, *PAYEE_COLUMNS])
    return _Layout(
        "csv", None, b"", buf.getvalue(), 2, len(header), header_bytes, False, (proxy, account)
    )


def run_bulk(args: argparse.Namespace, settings: Settings) -> int:
    try:
        encoding = codecs.lookup(args.encoding).name
    except LookupError:
        raise CommandError(f"unknown --encoding {args.encoding!r} (e.g. utf-8, big5)") from None
    src: IO[bytes]
    if args.input == "-":
        src, total = sys.stdin.buffer, None
    else:
        try:
            src = open(args.input, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            raise CommandError(f"cannot read {args.input}: {exc.strerror}") from exc
        total = os.fstat(src.fileno()).st_size or None
    try:
        first = src.readline()
        had_bom = encoding == "utf-8" and first.startswith(_BOM)
        if had_bom:
            first = first[len(_BOM) :]
        crlf = first.endswith(b"\r\n")
        layout = _layout(args, src, first, encoding)
        fmt, column, first = layout.fmt, layout.column, layout.first
        header_text, first_line, width = layout.header_text, layout.first_line, layout.width
        progress_start, message = layout.progress_start, layout.message

        _ProcessState.backend = backend = open_backend(settings)
        workers = _workers(settings, not isinstance(backend, LocalBackend))

        out_stream: IO[str]
        if args.output in (None, "-"):
            out_stream = sys.stdout
        else:
            out_stream = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        counts: Counter[str] = Counter()
        rows = 0
        progress = Progress(
            sys.stderr, enabled=settings.show_progress(sys.stderr.isatty()), total_bytes=total
        )
        progress.bytes_done = progress_start
        try:
            if had_bom or args.excel:
                out_stream.write("\ufeff")  # spreadsheets read the file as UTF-8 then
            out_stream.write(crlf_rows(header_text, False) if crlf else header_text)
            jobs = _jobs(
                src,
                first=first,
                fmt=fmt,
                column=column,
                kind=args.kind,
                size=settings.chunk_size,
                first_line=first_line,
                width=width,
                encoding=encoding,
                message=message,
                raw=args.raw,
                payee=layout.payee,
                region=args.region,
                crlf=crlf,
            )
            for result in _run_jobs(jobs, workers, settings):
                out_stream.write(result[0].text)
                counts.update(result[0].counts)
                rows += result[0].rows
                progress.update(result[0].rows, result[1])
        finally:
            progress.close()
            if out_stream is not sys.stdout:
                out_stream.close()
            else:
                out_stream.flush()
            _ProcessState.close()
    finally:
        if src is not sys.stdin.buffer:
            src.close()
    where = "" if args.output in (None, "-") else f" -> {args.output}"
    sys.stderr.write(f"bulk: {summary_line(dict(counts), rows)}{where}\n")
    status = 0
    if counts.get(Level.HIGH_RISK.value) or counts.get(Level.SUSPICIOUS.value):
        status |= EXIT_ALERT
    if counts.get("invalid"):
        status |= EXIT_INVALID
    return status


def _jobs(
    src: IO[bytes],
    *,
    first: bytes,
    fmt: str,
    column: int | str | None,
    kind: str | None,
    size: int,
    first_line: int,
    width: int,
    encoding: str,
    message: bool = False,
    raw: bool = False,
    payee: tuple[int, int] | None = None,
    region: str = DEFAULT_REGION,
    crlf: bool = False,
) -> Iterator[tuple[Job, int]]:
    line = first_line
    for data, n, read in _chunks(src, first, size, fmt == "csv"):
        job = Job(
            fmt, data, column, kind, line, width, encoding, message,
            raw=raw, payee=payee, region=region, crlf=crlf,
        )  # fmt: skip
        yield job, read
        line += n


def _run_jobs(
    jobs: Iterator[tuple[Job, int]], workers: int, settings: Settings
) -> Iterator[tuple[ChunkResult, int]]:
    """Results in job order; a process pool only once there is more than a couple of chunks."""
    head: list[tuple[Job, int]] = []
    for item in jobs:
        head.append(item)
        if len(head) > 2:
            break
    if workers <= 1 or len(head) <= 2:
        for job, read in head:
            yield process(job), read
        if workers <= 1:
            for job, read in jobs:
                yield process(job), read
        return
    _ProcessState.close()  # each worker opens its own snapshot, after the fork
    # fork when safe (workers inherit the imported package, so start-up is cheap; the parent
    # closed its snapshot above), forkserver when this process runs other threads.
    ctx = worker_context()
    with ctx.Pool(workers, initializer=_init_worker, initargs=(settings,)) as pool:
        pending: deque[tuple[AsyncResult[ChunkResult], int]] = deque()
        limit = workers * _IN_FLIGHT_PER_WORKER

        def feed(item: tuple[Job, int]) -> None:
            pending.append((pool.apply_async(process, (item[0],)), item[1]))

        for item in head:
            feed(item)
        for item in jobs:
            while len(pending) >= limit:
                res, read = pending.popleft()
                yield res.get(), read
            feed(item)
        while pending:
            res, read = pending.popleft()
            yield res.get(), read


BULK = Command(
    "bulk",
    help="annotate every row of a CSV / JSONL / text list with its verdict",
    description=(
        "Check every row of INPUT and write it out, in order, with the verdict columns "
        f"({', '.join(BULK_COLUMNS)}) added. Invalid rows are marked, never dropped. "
        "Text lists come out as CSV. '-' means stdin / stdout. Same exit bitmask as check."
    ),
    run=run_bulk,
    args=(
        Arg(("input",), metavar="INPUT", help="file to read, or - for stdin"),
        Arg(("-o", "--output"), metavar="OUTPUT", help="file to write (default: stdout)"),
        OneOf((
            Arg(("--column",), metavar="NAME", help="CSV column / JSONL field holding the value"),
            Arg(("--message-column",), metavar="NAME",
                help="CSV column / JSONL field holding a message text (SMS, e-mail...): each "
                "row gets the message's worst level and the identifiers found in it; "
                "excludes --column"),
        )),
        Arg(("--payee",), action="store_true",
            help="each CSV row is a transfer payee (FPS proxy id and/or bank account): add "
            f"the payee hook's answer ({', '.join(PAYEE_COLUMNS)})"),
        Arg(("--proxy-column",), metavar="NAME",
            help="with --payee: column of the FPS proxy id (default: proxy_id, proxy, fps_id...)"),
        Arg(("--account-column",), metavar="NAME",
            help="with --payee: column of the bank account (default: account, bank_account...)"),
        Arg(("--kind",), choices=KIND_CHOICES, help="kind of every value (default: detect)"),
        Arg(("--region",), type=region_arg, default=DEFAULT_REGION, metavar="CC",
            help="read local phone numbers as numbers of this country (default HK); the "
            "output shows them as typed"),
        Arg(("--format",), choices=FORMATS, help="input format (default: from the name)"),
        Arg(("--encoding",), default="utf-8",
            help="input text encoding (default utf-8; e.g. big5)"),
        Arg(("--excel",), action="store_true",
            help="start the output with a UTF-8 BOM, so that Excel reads Chinese text right "
            "(done anyway when the input had one); CRLF line ends are kept as read"),
        Arg(("--workers",), type=int, metavar="N", help="worker processes (default: cores)"),
        Arg(("--chunk-size",), type=int, metavar="N", help="rows per batch (default 10000)"),
        Arg(("--raw",), action="store_true",
            help="write cells from outside exactly as they are, without the leading ' that "
            "keeps a spreadsheet from running =, @, +, - cells as formulas"),
    ),
)  # fmt: skip


def add_parser(sub: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    BULK.add_to(sub, parents)


__all__ = ["BULK", "FORMATS", "ChunkResult", "Job", "add_parser", "process", "run_bulk"]
