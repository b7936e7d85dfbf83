"""Input adapters: every feed format the data team holds, read as it is, mapped to the schema.

Responsibility: format detection (:func:`detect_format`), reading an input into *chunks*
(main process: cheap byte/CSV work and the input digest) and parsing one item of a chunk into
:data:`~scameter.ingest.rows.RawRow` values (worker processes: JSON decoding and the rest).

Formats (``FORMATS``; details and samples in ``docs/report-format.md``):

==========  ==================================================================================
jsonl       the report schema, one object per line
csv         the schema as CSV columns, or any CSV with ``column=`` naming the identifier column
list        one URL / domain / phone / email ... per line, ``#`` comments (kind detected)
hosts       hosts file (``0.0.0.0 evil.example``): the host names are domains
urlhaus     abuse.ch URLhaus CSV dump (``# id,dateadded,url,url_status,...`` header comment)
phishtank   PhishTank ``online-valid`` dump, CSV or JSON
openphish   OpenPhish feed: one URL per line
metamask    eth-phishing-detect ``config.json``: blacklist -> feed domains; whitelist -> exempts
            those blacklist entries (MetaMask's own semantics: they are lookalikes that are
            *legitimate*, not official entities, so they are never made VERIFIED); fuzzylist ->
            allow rows (the protected brands' official domains, owner ``metamask-fuzzylist``),
            which feed the index's brand-impersonation near match
intake      the app's durable intake log (an LMDB directory, :mod:`scameter.intake`)
==========  ==================================================================================

Invariants: items are yielded in input order with their 1-based line number (entry number for
JSON documents), so rejects can be located and the record stream is deterministic; the digest
is SHA-256 of the file's bytes as stored (of the canonical JSON rows for an intake log).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scameter.errors import IngestError
from scameter.intake import IntakeLog, is_intake_dir
from scameter.times import parse_iso_utc

FORMATS: tuple[str, ...] = (
    "jsonl",
    "csv",
    "list",
    "hosts",
    "urlhaus",
    "phishtank",
    "openphish",
    "metamask",
    "intake",
)
#: Formats whose chunks are raw byte blocks split into lines by the worker.
LINE_FORMATS = frozenset({"jsonl", "list", "hosts", "openphish"})
BLOCK_BYTES = 1 << 20
CSV_FIELD_LIMIT = 1 << 20


@dataclass(frozen=True, slots=True)
class AdapterOptions:
    """What the caller sets for an input (``None``: the format's or the row's own value)."""

    source: str | None = None
    category: str | None = None
    column: str | None = None
    kind: str | None = None
    reporter_key: bytes = b""
    extra_platforms: tuple[str, ...] = ()
    extra_top_sites: tuple[str, ...] = ()
    #: Unix seconds of the run's ``as_of`` (dates past it + 1 day are rejected).
    as_of: int = 4_102_444_800  # 2100-01-01: callers that build a snapshot pass theirs
    #: Where the warninglists are ("" the bundled ones; None: none, as in unit tests).
    warninglists: str | None = None
    #: Who stands behind the rows that do not name a ``provider`` (ingest: the file name).
    provider: str = ""
    #: ISO region for local phone numbers in rows that name none (``--region``; None: HK).
    region: str | None = None


class _HashingReader(io.RawIOBase):
    """A raw byte stream that hashes and counts what passes through (the input digest)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.sha = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.sha.update(data)
        self.count += n
        return n

    def close(self) -> None:
        # Deliberately a no-op: a text or CSV wrapper closes its buffer chain when it is
        # garbage-collected, but the digest still needs the rest of the file. ``release``
        # closes the file for real.
        pass

    def release(self) -> None:
        self._raw.close()
        super().close()


class InputFile:
    """One input file opened for streaming: the byte stream, its digest and progress."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.size: int | None = path.stat().st_size if path.is_file() else None
            self._hashing = _HashingReader(open(path, "rb"))  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise IngestError(f"cannot open input: {exc.strerror}", path) from exc
        buffered = io.BufferedReader(self._hashing, buffer_size=BLOCK_BYTES)
        # Peek, never re-open: the input may be a pipe whose bytes can be read only once.
        gz = buffered.peek(2)[:2] == b"\x1f\x8b"
        self.stream: IO[bytes] = (
            gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
            if gz
            else buffered
        )

    @property
    def consumed(self) -> int:
        return self._hashing.count

    def digest(self) -> str:
        # Drain what the parser did not read (trailing bytes) so the digest covers the file.
        while self._hashing.read(BLOCK_BYTES):
            pass
        return self._hashing.sha.hexdigest()

    def close(self) -> None:
        self.stream.close()
        self._hashing.release()


def _is_gzip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


#: Compressed bytes read to estimate a gzip input's expanded size.
_GZIP_SAMPLE = 1 << 20


def data_bytes(path: Path) -> int:
    """The bytes ``path`` holds once read: its size, or for gzip input an estimate from the
    compression ratio of its first MiB (gzip's own size field is modulo 2^32 and per member,
    useless for the inputs that matter). What the engine choice and the disk estimate need:
    the work follows the reports, not the compressed bytes (the scale mix compresses 8.5x)."""
    size = path.stat().st_size
    if not _is_gzip(path):
        return size
    with open(path, "rb") as fh:
        head = fh.read(_GZIP_SAMPLE)
    out = used = 0
    while head:
        d = zlib.decompressobj(wbits=31)
        try:
            out += len(d.decompress(head, 1 << 24))
        except zlib.error:
            break  # a damaged sample: the expanded size is at least what was read
        used += len(head) - len(d.unused_data) - len(d.unconsumed_tail)
        if d.unconsumed_tail or not d.eof:
            break
        head = d.unused_data  # the next member of a concatenated file
    if not used:
        return size
    return max(size, round(size * out / used))


def _head(path: Path, size: int = 8192) -> str:
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            data: bytes = fh.read(size)
    except OSError as exc:
        raise IngestError(f"cannot read input: {exc}", path) from exc
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def _looks_like_hosts(lines: list[str]) -> bool:
    import ipaddress

    hits = 0
    for line in lines:
        parts = line.split()
        if len(parts) >= 2:
            try:
                ipaddress.ip_address(parts[0])
                hits += 1
            except ValueError:
                pass
    return bool(lines) and hits * 2 > len(lines)


def detect_format(path: Path) -> str:
    """The adapter name for ``path`` from its name and first bytes; IngestError if unsure."""
    if is_intake_dir(path):
        return "intake"
    if path.is_dir():
        raise IngestError("a directory that is not an intake log", path)
    head = _head(path)
    first_lines = [ln.strip() for ln in head.splitlines()[:-1] or head.splitlines()]
    content = [ln for ln in first_lines if ln and not ln.startswith("#")][:50]
    return _sniff(path, path.name.lower().removesuffix(".gz"), head, content)


def _sniff(path: Path, name: str, head: str, content: list[str]) -> str:
    """The format rules in the order they apply: a name that says it, a dump's signature,
    then the shape of the first non-comment lines; ``list`` when nothing else fits."""
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if "urlhaus" in head[:1000].lower() or head.startswith("# id,dateadded"):
        return "urlhaus"
    if name.endswith(".json"):
        return _json_format(path, head)
    first = content[0] if content else ""
    if first.startswith("phish_id,"):
        return "phishtank"
    if first.startswith("{"):
        return "jsonl"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if _looks_like_hosts(content):
        return "hosts"
    if "openphish" in name:
        return "openphish"
    return "list"


def _json_format(path: Path, head: str) -> str:
    """A ``.json`` file: a MetaMask config, a PhishTank dump, or JSON Lines."""
    if '"blacklist"' in head or '"fuzzylist"' in head:
        return "metamask"
    if '"phish_id"' in head:
        return "phishtank"
    if head.lstrip().startswith("{"):
        return "jsonl"
    raise IngestError("unknown JSON input: pass --format", path)


# --- chunk readers (main process) ---------------------------------------------------------

Item = Any
ItemChunk = list[tuple[int, Item]]


def line_blocks(inp: InputFile) -> Iterator[tuple[int, bytes]]:
    """``(first line number, block of whole lines)``, about BLOCK_BYTES each."""
    line_no = 1
    tail = b""
    while True:
        data = inp.stream.read(BLOCK_BYTES)
        if not data:
            break
        data = tail + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            tail = data
            continue
        block, tail = data[:cut], data[cut:]
        yield line_no, block
        line_no += block.count(b"\n")
    if tail:
        yield line_no, tail


def _csv_rows(inp: InputFile, *, skip_comments: bool = False) -> Iterator[tuple[int, list[str]]]:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    text = io.TextIOWrapper(inp.stream, encoding="utf-8-sig", errors="replace", newline="")
    lines: Iterator[str] = text
    if skip_comments:
        lines = (ln for ln in text if not ln.startswith("#"))
    reader = csv.reader(lines)
    for row in reader:
        yield reader.line_num, row


def _urlhaus_columns(inp: InputFile) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    # The dump's header is a comment line: "# id,dateadded,url,url_status,last_online,...".
    # Older dumps lack last_online, so the columns are read from that line, never assumed.
    columns = ["id", "dateadded", "url", "url_status", "threat", "tags", "urlhaus_link"]
    text = io.TextIOWrapper(inp.stream, encoding="utf-8", errors="replace", newline="")
    line_no = 0
    pending: list[str] = []
    for raw in text:
        line_no += 1
        if raw.startswith("#"):
            body = raw.lstrip("#").strip()
            if body.startswith("id,") and "url" in body:
                columns = [c.strip() for c in body.split(",")]
            continue
        pending.append(raw)
        break

    def rows() -> Iterator[tuple[int, list[str]]]:
        import itertools

        reader = csv.reader(itertools.chain(pending, text))
        for row in reader:
            yield line_no + reader.line_num - 1, row

    return columns, rows()


def item_chunks(fmt: str, inp: InputFile, opts: AdapterOptions, size: int) -> Iterator[ItemChunk]:
    """Chunks of ``(line, item)`` for the non-line formats."""
    chunk: ItemChunk = []
    for line, item in _items(fmt, inp, opts):
        chunk.append((line, item))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _items(fmt: str, inp: InputFile, opts: AdapterOptions) -> Iterator[tuple[int, Item]]:
    if fmt == "intake":
        raise AssertionError("intake inputs are read with intake_chunks")
    read = _ITEM_READERS.get(fmt)
    if read is None:
        raise IngestError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})", inp.path)
    return read(inp, opts)


def _csv_items(inp: InputFile, opts: AdapterOptions) -> Iterator[tuple[int, Item]]:
    """``("value", cell)`` per row with ``column=``, else ``("schema", rows)`` per report."""
    rows = _csv_rows(inp)
    header_line, header = next(rows, (0, []))
    header = [h.strip().lower() for h in header]
    if opts.column is not None:
        col = _column_index(header, opts.column, inp.path)
        for line, row in rows:
            yield line, ("value", row[col] if col < len(row) else None)
        return
    if "value" not in header and "identifiers" not in header:
        raise IngestError(
            "CSV has no 'value' column: name the identifier column with --column", inp.path
        )
    yield from _csv_reports(header, header_line, rows)


def _csv_reports(
    header: list[str], header_line: int, rows: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, Item]]:
    # Consecutive rows sharing a non-empty report id are one report naming several
    # identifiers (they get linked); group them here, in input order.
    group: list[dict[str, str]] = []
    group_line = header_line
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        rec = dict(zip(header, row, strict=False))
        rid = rec.get("id", "")
        same_report = rid and group and rid == group[0].get("id")
        if same_report and rec.get("type", "report") in ("report", ""):
            group.append(rec)
            continue
        if group:
            yield group_line, ("schema", group)
        group, group_line = [rec], line
    if group:
        yield group_line, ("schema", group)


def _urlhaus_items(inp: InputFile, opts: AdapterOptions) -> Iterator[tuple[int, Item]]:
    columns, rows = _urlhaus_columns(inp)
    for line, row in rows:
        yield line, dict(zip(columns, row, strict=False))


def _phishtank_items(inp: InputFile, opts: AdapterOptions) -> Iterator[tuple[int, Item]]:
    """The ``online-valid`` dump as JSON (an array) or CSV, one object per entry."""
    if _head(inp.path, 64).lstrip().startswith("["):
        yield from enumerate(_load_json(inp), start=1)
        return
    rows = _csv_rows(inp)
    _, header = next(rows, (0, []))
    for line, row in rows:
        yield line, dict(zip(header, row, strict=False))


def _metamask_items(inp: InputFile, opts: AdapterOptions) -> Iterator[tuple[int, Item]]:
    """``(part, domain)``: the fuzzylist first, then the blacklist, its entries that the
    whitelist also names marked ``whitelisted``."""
    doc = _load_json(inp)
    if not isinstance(doc, dict) or "blacklist" not in doc:
        raise IngestError("not an eth-phishing-detect config (no 'blacklist')", inp.path)
    white = {str(d).lower() for d in doc.get("whitelist", [])}
    for i, dom in enumerate(doc.get("fuzzylist", []), start=1):
        yield i, ("fuzzylist", dom)
    for i, dom in enumerate(doc.get("blacklist", []), start=1):
        yield i, ("whitelisted" if str(dom).lower() in white else "blacklist", dom)


#: The item reader of each non-line format but ``intake`` (read by :func:`intake_chunks`).
_ITEM_READERS: dict[str, Callable[[InputFile, AdapterOptions], Iterator[tuple[int, Item]]]] = {
    "csv": _csv_items,
    "urlhaus": _urlhaus_items,
    "phishtank": _phishtank_items,
    "metamask": _metamask_items,
}


def _column_index(header: list[str], column: str, path: Path) -> int:
    if column.isdigit():
        return int(column)
    try:
        return header.index(column.strip().lower())
    except ValueError:
        raise IngestError(f"no column {column!r} in the CSV header", path, 1) from None


def _load_json(inp: InputFile) -> Any:
    try:
        return json.load(inp.stream)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestError(f"not valid JSON: {exc}", inp.path) from exc
    except RecursionError:
        raise IngestError("not valid JSON: nested too deep", inp.path) from None


def intake_chunks(
    path: Path, size: int, sha: Any, cursor: list[int] | None = None
) -> Iterator[ItemChunk]:
    """Chunks of intake-log reports; ``sha`` is updated with each row's canonical JSON and
    ``cursor`` (when given) receives the sequence number of the last report read (the intake
    cursor of the snapshot, where the live fold of ``serve`` starts)."""
    log = IntakeLog(path, readonly=True)
    try:
        chunk: ItemChunk = []
        for i, (seq, row) in enumerate(log.iter_after(-1), start=1):
            if cursor is not None:
                cursor.append(seq)
                del cursor[:-1]
            sha.update(json.dumps(row, sort_keys=True).encode("utf-8") + b"\n")
            chunk.append((i, row))
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    finally:
        log.close()


def intake_appeals(path: Path, sha: Any) -> list[tuple[str, str, int]]:
    """The appeals of an intake log as ``(kind:canonical, reporter hash, unix seconds)``;
    ``sha`` is updated with each appeal row's canonical JSON after the reports' (a log with no
    appeals keeps the digest it always had). A row that cannot be read is skipped: appeals
    only ever lower a public listing, so a bad one must not stop an ingest."""
    with IntakeLog(path, readonly=True) as log:
        return appeal_tuples(log.iter_appeals(), sha)


def appeal_tuples(rows: Iterable[dict[str, Any]], sha: Any = None) -> list[tuple[str, str, int]]:
    """``appeal`` rows as :func:`intake_appeals` returns them (``sha``, when given, updated
    with each row's canonical JSON); the live fold of ``serve`` reads them the same way."""
    out: list[tuple[str, str, int]] = []
    for row in rows:
        if sha is not None:
            sha.update(json.dumps(row, sort_keys=True).encode("utf-8") + b"\n")
        try:
            ident = row["identifier"]
            key = f"{ident['kind']}:{ident['value']}"
            ts = int(parse_iso_utc(row["appealed_at"]).timestamp())
            out.append((key, str(row["reporter_hash"]), ts))
        except (KeyError, TypeError, ValueError):
            continue
    return out


__all__ = [
    "FORMATS",
    "LINE_FORMATS",
    "AdapterOptions",
    "InputFile",
    "appeal_tuples",
    "detect_format",
    "intake_appeals",
    "intake_chunks",
    "item_chunks",
    "line_blocks",
]
