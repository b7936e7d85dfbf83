"""Worker side of ingest: parse one chunk, validate and normalise it, return compact events.

Responsibility: :func:`process_chunk`, run in a process pool (or in-process for small runs).
It turns the items of one chunk into *events* (what aggregation needs, nothing more) and
*rejects* (what could not be used, with the reason), and never raises for a bad row.

Wire format (plain tuples: cheap to build and to pickle back to the parent)::

    (EV_REPORT, line, ts or -1, source index, status index, reporter int, category, keys,
     provider, case id)
    (EV_ALLOW, line, key, owner)
    (EV_DELIST, line, key, at or -1)

A *key* is ``"kind:canonical"``; a leading ``~`` marks an identifier that is well formed but
not known to be allocated (``Identifier.valid`` False). ``reporter int`` is the first 8 bytes of
the keyed reporter hash (0: no reporter;
always 0 for a report of another source without a ``reporter_hash``: only public reports'
reporters are counted). ``provider`` names who stands behind a feed or partner row (its
``provider`` field, else the input file's name): distinct providers corroborate a listing.
``case id`` is the report's ``id`` (``""``: none), kept per identifier for analysts.
Positions are append-only: a new element goes at the end and every existing position keeps
its meaning (stored event tuples are read back by position).
Reject and ignore entries are ``(line, reason, raw)``.

JSONL chunks take one of three paths, which give the same results (tests compare them): the
compiled row scanner (``_rowscan.c``, :data:`ROWSCAN_PATH`) for the lines it proves to be
plain reports, :func:`_fast_report` over ``orjson`` for the other usual reports, and the
general path (:func:`row_from_mapping`, :func:`_emit`) for every case and every message.

Invariants: output order follows input order; the same chunk always gives the same result.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

import orjson

from scameter.categories import canonical_category
from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind, detect, normalize
from scameter.identifiers.derive import INGEST_DERIVING_KINDS, derive
from scameter.identifiers.phone import _prefix_valid_table, localize_phone
from scameter.ingest.adapters import AdapterOptions
from scameter.ingest.granularity import Granularity
from scameter.ingest.limits import (
    MAX_REPORT_IDENTIFIERS,
    MAX_VALUE_BYTES,
    MIN_TIME,
    check_identifier_count,
    check_json_depth,
    check_time,
    check_value,
)
from scameter.ingest.policy import SOURCES, STATUSES
from scameter.ingest.rows import (
    ALLOW,
    REPORT,
    RawRow,
    RowError,
    TextOnlyReport,
    feed_row,
    parse_time,
    parse_time_text,
    row_from_mapping,
)
from scameter.ingest.warninglists import NONE, cached_warninglists
from scameter.intake import hash_reporter

try:  # the compiled row scanner (setup.py builds it where a C compiler is found)
    from scameter.ingest._rowscan import scan as _compiled_scan
except ImportError:  # pragma: no cover - exercised by a subprocess test
    _compiled_scan = None  # type: ignore[assignment]

#: Which code reads the plain report lines of a JSONL chunk: ``"compiled"``
#: (``scameter/ingest/_rowscan.c``, the whole line in C, Python only per distinct value) or
#: ``"python"`` (``orjson`` and :func:`_fast_report` per line: the reference it must equal).
ROWSCAN_PATH: Final = "python" if _compiled_scan is None else "compiled"

EV_REPORT = 0
EV_ALLOW = 1
EV_DELIST = 2
#: The time of an event that has none (``ts or -1`` above): it counts whatever the window.
NEVER = -1
RAW_MAX = 300
_SOURCE_INDEX = {s: i for i, s in enumerate(SOURCES)}
_PUBLIC = _SOURCE_INDEX["public"]
_LISTED_PREFIXES = ("url:", "domain:", "~url:", "~domain:")
_FAST_ID_MAX = MAX_VALUE_BYTES // 4  # an id this short fits the record whatever its UTF-8
_STR_OR_NONE = frozenset({str, type(None)})  # the types _fast_report takes for optional fields
_STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
_HOSTS_IGNORED = frozenset(
    {"localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost",
     "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters",
     "ip6-allhosts", "0.0.0.0"}
)  # fmt: skip


@dataclass(slots=True)
class ChunkResult:
    """What one chunk gave: events for aggregation, rejects and ignores for rejects.jsonl."""

    label: str
    rows: int = 0
    rejected_rows: int = 0
    events: list[tuple[Any, ...]] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    ignored: list[tuple[int, str, str]] = field(default_factory=list)
    #: The events' evidence when the worker encoded it
    #: (:func:`scameter.ingest.evidence.process_chunk_with_evidence`), else None.
    evidence: Any = None
    #: The events as the out-of-core engine's table rows when the worker wrote them
    #: (:func:`scameter.ingest.ooc.process_chunk_rows`; then ``events`` is empty), else None.
    table: Any = None


@lru_cache(maxsize=1 << 17)
def _normalise(kind: str | None, raw: str) -> str:
    """The wire key of one identifier; raises InvalidIdentifier / RowError."""
    if kind is None:
        found = detect(raw)
        if not found and _HOST_PORT.match(raw.strip()):
            # Feeds write "scam.example:8443/path" without a scheme; read it as an http URL.
            found = detect("http://" + raw.strip())
        if not found:
            raise RowError(f"cannot tell what kind of identifier {raw[:60]!r} is; give its kind")
        ident = found[0]  # documented rule: the most likely kind (detect's first candidate)
    else:
        kind_enum = _KIND_BY_NAME.get(kind)  # the exact name, as nearly every row writes it
        if kind_enum is None:
            try:
                kind_enum = Kind(kind.strip().lower())
            except ValueError:
                raise RowError(f"unknown kind {kind!r}") from None
        ident = normalize(kind_enum, raw)
    key = f"{ident.kind.value}:{ident.value}"
    return key if ident.valid else "~" + key


_KIND_BY_NAME = {k.value: k for k in Kind}
#: Wire-key prefixes of the kinds that derive identifiers at ingest (with and without "~").
_DERIVING_PREFIXES = tuple(
    f"{tilde}{kind}:" for kind in sorted(INGEST_DERIVING_KINDS) for tilde in ("", "~")
)


@lru_cache(maxsize=1 << 16)
def _derived_keys(key: str) -> tuple[str, ...]:
    """The wire keys of what the identifier of ``key`` derives at ingest (the derivation
    table of :mod:`scameter.identifiers.derive`: a report of ``wa.me/85263912745`` lists the
    number too). Only called for keys of :data:`_DERIVING_PREFIXES`."""
    kind, _, value = key.lstrip("~").partition(":")
    out = []
    for _, ident in derive(Identifier(_KIND_BY_NAME[kind], value), ingest=True):
        derived = f"{ident.kind.value}:{ident.value}"
        out.append(derived if ident.valid else "~" + derived)
    return tuple(out)


def _with_derived(keys: list[str]) -> list[str]:
    """``keys`` followed by what they derive at ingest, each once, in order."""
    if len(keys) == 1:  # nearly every report: no generator for one key (0.5 us a report)
        if not keys[0].startswith(_DERIVING_PREFIXES):
            return keys
    elif not any(k.startswith(_DERIVING_PREFIXES) for k in keys):
        return keys
    out = [
        d
        for k in keys
        for d in (k, *(_derived_keys(k) if k.startswith(_DERIVING_PREFIXES) else ()))
    ]
    return list(dict.fromkeys(out))


_HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+\.[A-Za-z0-9-]+:\d{1,5}(/\S*)?$")


def _host_kind(value: str) -> str:
    """``ip`` for an IP literal, else ``domain``: host lists mix both."""
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return "domain"
    return "ip"


_granularity: dict[tuple[tuple[str, ...], tuple[str, ...], str | None], Granularity] = {}


def _gran(opts: AdapterOptions) -> Granularity:
    k = (opts.extra_platforms, opts.extra_top_sites, opts.warninglists)
    g = _granularity.get(k)
    if g is None:
        lists = NONE if opts.warninglists is None else cached_warninglists(opts.warninglists)
        if len(_granularity) > 4:
            _granularity.clear()
        g = _granularity[k] = Granularity.default(k[0], k[1], lists)
    return g


def _reporter_int(reporter: str | None, reporter_hash: str | None, key: bytes) -> int:
    """The first 8 bytes of the keyed reporter hash as an int (0: no reporter).

    Only public reports carry one into the events: distinct reporters are what the policy
    counts for them, and for them alone. ``hash_reporter(reporter, key)[:16]`` read as hex,
    computed from a keyed BLAKE2b state copied per call (a fresh keyed state costs more).
    """
    if reporter_hash:
        try:
            return int(reporter_hash[:16], 16) or 1
        except ValueError:
            raise RowError("reporter_hash must be hex") from None
    if reporter:
        # Reporters repeat (the scale mix: 50 reports each): one hash per distinct
        # reporter and key in this process, kept in a bounded dict.
        got = _REPORTER_INTS.get((reporter, key))
        if got is not None:
            return got
        base = _KEYED.get(key)
        if base is None:
            hash_reporter("", key)  # validates the key exactly as the stored hashes do
            base = _KEYED[key] = hashlib.blake2b(key=key[:64], digest_size=16)
        h = base.copy()
        h.update(reporter.encode())  # UTF-8, as hash_reporter encodes it
        # The first 8 digest bytes, big-endian; struct reads them without slicing a copy
        # (about 60 ns less than int.from_bytes per public report, measured).
        out: int = _U64.unpack_from(h.digest())[0] or 1
        if len(_REPORTER_INTS) >= _REPORTER_CACHE:
            _REPORTER_INTS.clear()
        _REPORTER_INTS[reporter, key] = out
        return out
    return 0


_KEYED: dict[bytes, Any] = {}
_REPORTER_INTS: dict[tuple[str, bytes], int] = {}
#: Distinct reporters whose ints a process keeps (about 100 bytes each).
_REPORTER_CACHE = 1 << 18
_U64 = struct.Struct(">Q")


def _parse_line(fmt: str, line: str, opts: AdapterOptions) -> list[RawRow]:
    if fmt == "jsonl":
        check_json_depth(line)  # before parsing: json.loads recurses per level
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RowError(f"not valid JSON: {exc.msg} at column {exc.pos + 1}") from None
        except ValueError as exc:  # e.g. invalid UTF-16 surrogates
            raise RowError(f"not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise RowError("a JSONL row must be an object")
        return [
            row_from_mapping(obj, source=opts.source, category=opts.category, region=opts.region)
        ]
    if fmt == "hosts":
        parts = line.split()
        try:
            ipaddress.ip_address(parts[0])
        except ValueError:
            raise RowError("a hosts line starts with an IP address") from None
        return [
            feed_row(
                h, kind=_host_kind(h), source=opts.source or "feed", category=opts.category or ""
            )
            for h in parts[1:]
            if h.lower() not in _HOSTS_IGNORED
        ]
    # list / openphish: one identifier per line
    kind = opts.kind or ("url" if fmt == "openphish" else None)
    category = opts.category or ("phishing" if fmt == "openphish" else "")
    return [
        feed_row(
            line, kind=kind, source=opts.source or "feed", category=category, region=opts.region
        )
    ]


def _strip_comment(fmt: str, line: str) -> str:
    if fmt == "jsonl":
        return line.strip()
    line = line.strip()
    if line.startswith(("#", "!")):
        return ""
    # An inline comment needs whitespace before '#': URL fragments ("/#/login") never have it.
    cut = line.find(" #")
    cut_tab = line.find("\t#")
    cuts = [c for c in (cut, cut_tab) if c >= 0]
    return line[: min(cuts)].strip() if cuts else line


def _csv_item(item: Any, opts: AdapterOptions) -> list[RawRow]:
    """A ``("value", cell)`` of a plain CSV, or a ``("schema", rows)`` group of one report."""
    tag, payload = item
    if tag == "value":
        if payload is None or not payload.strip():
            raise RowError("empty identifier column")
        return [feed_row(payload, kind=opts.kind, source=opts.source or "feed",
                         category=opts.category or "", region=opts.region)]  # fmt: skip
    group: list[dict[str, str]] = payload
    first = row_from_mapping(
        group[0], source=opts.source, category=opts.category, region=opts.region
    )
    if len(group) == 1 or first[0] != REPORT:
        return [first]
    idents = list(first[8])
    for rec in group[1:]:
        idents.extend(row_from_mapping(rec, region=opts.region)[8])
    return [(*first[:8], tuple(idents), *first[9:])]


def _urlhaus_item(item: Any, opts: AdapterOptions) -> list[RawRow]:
    url = item.get("url")
    if not url:
        raise RowError("URLhaus row without a url")
    cat = opts.category or item.get("threat") or "malware"
    ts = parse_time(item.get("dateadded"))
    return [feed_row(url, kind="url", source=opts.source or "feed", category=cat,
                     reported_at=ts, report_id=f"urlhaus-{item.get('id', '')}")]  # fmt: skip


def _phishtank_item(item: Any, opts: AdapterOptions) -> list[RawRow]:
    url = item.get("url")
    if not url:
        raise RowError("PhishTank row without a url")
    verified = str(item.get("verified", "yes")).lower() in ("yes", "true", "1")
    ts = parse_time(item.get("verification_time") or item.get("submission_time"))
    return [feed_row(url, kind="url", source=opts.source or "feed",
                     category=opts.category or "phishing",
                     status="confirmed" if verified else "unverified", reported_at=ts,
                     report_id=f"phishtank-{item.get('phish_id', '')}")]  # fmt: skip


def _metamask_item(item: Any, opts: AdapterOptions) -> list[RawRow]:
    part, domain = item
    if not isinstance(domain, str):
        raise RowError(f"{part} entry is not a string")
    if part == "fuzzylist":
        return [(ALLOW, "domain", domain, "metamask-fuzzylist")]
    if part == "whitelisted":
        raise _Ignored("on the MetaMask whitelist too: MetaMask does not block it")
    cat = opts.category or "crypto_phishing"
    return [feed_row(domain, kind=_host_kind(domain), source=opts.source or "feed", category=cat)]


def _intake_item(item: Any, opts: AdapterOptions) -> list[RawRow]:
    return [row_from_mapping(item, source="public")]


#: The parser of one item of each non-line format (see adapters.item_chunks).
_ITEM_PARSERS: dict[str, Callable[[Any, AdapterOptions], list[RawRow]]] = {
    "csv": _csv_item,
    "urlhaus": _urlhaus_item,
    "phishtank": _phishtank_item,
    "metamask": _metamask_item,
    "intake": _intake_item,
}


def _parse_item(fmt: str, item: Any, opts: AdapterOptions) -> list[RawRow]:
    parse = _ITEM_PARSERS.get(fmt)
    if parse is None:
        raise RowError(f"unknown format {fmt!r}")
    return parse(item, opts)


class _Ignored(Exception):
    """Not an error in the input, but deliberately not listed (goes to rejects as ignored)."""


def _raw_text(item: Any) -> str:
    text = item if isinstance(item, str) else json.dumps(item, default=str, ensure_ascii=False)
    return text[:RAW_MAX]


def _kept_text_row(item: Any, opts: AdapterOptions) -> str:
    """A text-only report with no identifiers, as rejects.jsonl keeps it: whole (not cut to
    :data:`RAW_MAX`: its text is all there is of it), its reporter id replaced by the keyed
    hash ingest stores everywhere else."""
    try:
        obj = json.loads(item) if isinstance(item, str) else dict(item)
    except (ValueError, TypeError):
        return item if isinstance(item, str) else json.dumps(item, default=str)
    if isinstance(obj, dict) and isinstance(obj.get("reporter"), str):
        obj["reporter_hash"] = hash_reporter(obj.pop("reporter"), opts.reporter_key)
    return json.dumps(obj, ensure_ascii=False, default=str)


def _invalid_reason(exc: InvalidIdentifier) -> str:
    return f"{exc.kind or 'identifier'}: {exc.reason}"


def _emit(res: ChunkResult, line: int, row: RawRow, opts: AdapterOptions) -> bool:
    """Append the events of one row; False when something of it was rejected."""
    if row[0] == REPORT:
        return _emit_report(res, line, row, opts)
    kind, value = row[1], row[2]
    try:
        key = _normalise(kind, value)
    except InvalidIdentifier as exc:
        raise RowError(_invalid_reason(exc)) from None
    check_value("identifier", key)
    if row[0] == ALLOW:
        owner = row[3] or ""
        check_value("owner", owner)
        res.events.append((EV_ALLOW, line, key, owner))
    else:
        at = row[4]
        if at is not None:
            check_time(at, opts.as_of)
        res.events.append((EV_DELIST, line, key, -1 if at is None else at))
    return True


def _report_fields(row: RawRow, opts: AdapterOptions) -> tuple[int, int, int, str | None]:
    """Source index, status index, reporter int and provider of a report row; RowError for
    an unknown source or status, a public report without a date, a date out of bounds or too
    many identifiers."""
    _, rid, source, status, ts, reporter, reporter_hash, _cat, idents, *more = row
    provider = (more[0] if more else None) or opts.provider
    if rid:
        check_value("id", rid)
    src_i = _SOURCE_INDEX.get(source or "")
    if src_i is None:
        raise RowError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")
    st_i = _STATUS_INDEX.get(status or "")
    if st_i is None:
        raise RowError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    if ts is None and source == "public":
        raise RowError("a public report needs reported_at (it ages out of the window)")
    if ts is not None:
        check_time(ts, opts.as_of)
    check_identifier_count(len(idents))
    rep = (
        _reporter_int(reporter, reporter_hash, opts.reporter_key)
        if src_i == _PUBLIC or reporter_hash
        else 0
    )
    return src_i, st_i, rep, provider


def _report_key(
    res: ChunkResult, line: int, kind: str | None, value: str, opts: AdapterOptions
) -> tuple[str | None, bool]:
    """The key of one reported identifier and whether it was valid; ``(None, False)`` after a
    reject entry, ``(None, True)`` after an ignore entry (a bare shared platform)."""
    try:
        key = _normalise(kind, value)
        check_value("identifier", key)
    except InvalidIdentifier as exc:
        res.rejects.append((line, _invalid_reason(exc), _raw_text(value)))
        return None, False
    except RowError as exc:
        res.rejects.append((line, exc.reason, _raw_text(value)))
        return None, False
    plain = key[1:] if key[0] == "~" else key
    if plain.startswith(("url:", "domain:")) and _listing(plain, opts) is None:
        res.ignored.append((line, _PLATFORM_REASON, _raw_text(value)))
        return None, True
    return key, True


def _emit_report(res: ChunkResult, line: int, row: RawRow, opts: AdapterOptions) -> bool:
    """The general path of a report row (every case, every message; see :func:`_fast_report`):
    its event, plus a reject or ignore entry per identifier that cannot be listed."""
    src_i, st_i, rep, provider = _report_fields(row, opts)
    ts, category, idents = row[4], row[7], row[8]
    keys: list[str] = []
    ok = True
    for kind, value in idents:
        key, valid = _report_key(res, line, kind, value, opts)
        ok &= valid
        if key is not None:
            keys.append(key)
    if keys:
        keys = _with_derived(keys)
        res.events.append(
            (EV_REPORT, line, -1 if ts is None else ts, src_i, st_i, rep,
             canonical_category(category or ""), tuple(keys), provider, row[1] or "")
        )  # fmt: skip
    return ok


_PLATFORM_REASON = (
    "shared platform or popular site named without a path: listing it would flag every "
    "user of the platform; report the page's full URL instead"
)


_listings: dict[str, str | None] = {}
_listings_for: list[Granularity] = []


def _listing(plain_key: str, opts: AdapterOptions) -> str | None:
    # A plain dict cache keyed by the key alone (hashing ``opts`` per call costs more than the
    # lookup); it is reset whenever the chunk's granularity tables differ from the cached ones.
    gran = _gran(opts)
    if not _listings_for or _listings_for[0] is not gran:
        _listings.clear()
        _listings_for[:] = [gran]
    elif len(_listings) > 1 << 16:
        _listings.clear()
    try:
        return _listings[plain_key]
    except KeyError:
        out = _listings[plain_key] = listing_for_key(plain_key, gran)
        return out


def listing_for_key(plain_key: str, gran: Granularity) -> str | None:
    """The listing expression of a ``url:`` / ``domain:`` key (None: not listable)."""
    kind, _, value = plain_key.partition(":")
    if kind == "url":
        return gran.listing_for_url(value)
    return gran.listing(value)


def _fast_report(obj: dict[str, Any], opts: AdapterOptions, line: int) -> tuple[Any, ...] | None:
    """The event of a JSONL report in the usual shape, or None to take the general path.

    The general path (:func:`row_from_mapping` then :func:`_emit`) handles every case and
    every error message; this one only accepts rows it can handle exactly the same way (all
    strings, known source and status, a date, ``{kind, value}`` phones / emails / ...), which
    are nearly all rows of a big report file. It runs once per report: keep it lean (the
    type checks are chained comparisons and set lookups: no call, no branch per field).
    """
    fields = _fast_fields(obj, opts)
    if fields is None:
        return None
    src_i, st_i, when, category, reporter, reporter_hash, provider, case_id = fields
    keys = _fast_keys(obj.get("identifiers"), opts)
    if keys is None:
        return None
    ts = parse_time_text(when)  # a non-empty str here: parse_time's own first branch
    if ts < MIN_TIME or ts > opts.as_of + 86_400:
        return None  # the general path rejects it with the date_range reason
    rep = (
        _reporter_int(reporter, reporter_hash, opts.reporter_key)
        if src_i == _PUBLIC or reporter_hash
        else 0
    )
    return (
        EV_REPORT, line, ts, src_i, st_i, rep, canonical_category(category), tuple(keys), provider,
        case_id,
    )  # fmt: skip


def _fast_fields(obj: dict[str, Any], opts: AdapterOptions) -> tuple[Any, ...] | None:
    """Source and status indices, date text, category, reporter, reporter hash, provider and
    case id of a report in the usual shape (all strings, known source and status), or None."""
    get = obj.get
    if get("type", "report") != "report" or "region" in obj:
        return None  # (a row's region localises its numbers: the general path does that)
    source = get("source") or opts.source or "public"
    status = get("status") or ("confirmed" if source == "feed" else "unverified")
    when = get("reported_at")
    category = get("category") or opts.category or ""
    reporter = get("reporter")
    reporter_hash = get("reporter_hash")
    provider = get("provider") or opts.provider
    case_id = get("id")
    if case_id is None:
        case_id = ""
    if type(provider) is not str or type(case_id) is not str or len(case_id) > _FAST_ID_MAX:
        return None  # (the general path checks a long id's byte length)
    if not (type(source) is type(status) is type(when) is type(category) is str) or not when:
        return None
    if type(reporter) not in _STR_OR_NONE or type(reporter_hash) not in _STR_OR_NONE:
        return None
    src_i = _SOURCE_INDEX.get(source)
    st_i = _STATUS_INDEX.get(status)
    if src_i is None or st_i is None:
        return None
    return src_i, st_i, when, category, reporter, reporter_hash, provider, case_id


def _fast_keys(idents: Any, opts: AdapterOptions) -> list[str] | None:
    """The wire keys of a report's ``[{kind, value}, ...]``, or None when any of them needs
    the general path (another shape, an invalid value, a listing the policy ignores)."""
    if type(idents) is not list or not idents or len(idents) > MAX_REPORT_IDENTIFIERS:
        return None
    keys = []
    for item in idents:
        if type(item) is not dict:
            return None
        kind = item.get("kind")
        value = item.get("value")
        if type(kind) is not str or type(value) is not str or len(value) > _FAST_ID_MAX:
            return None  # (a long value: the general path checks its byte length)
        if "region" in item:
            return None  # the item's own region: the general path localises it
        if opts.region is not None and kind == "phone":
            value = localize_phone(value, opts.region)  # as rows._localized (--region)
        try:
            key = _normalise(kind, value)
        except (InvalidIdentifier, RowError):
            return None  # the general path reports it with the right reason
        if key.startswith(_LISTED_PREFIXES) and _listing(key.lstrip("~"), opts) is None:
            return None  # the general path records why it is ignored
        keys.append(key)
    return _with_derived(keys)


def process_chunk(
    fmt: str,
    opts: AdapterOptions,
    label: str,
    first_line: int,
    payload: Any,
    *,
    fast: bool = True,
    scan: bool = True,
) -> ChunkResult:
    """Parse, validate and normalise one chunk (bytes block or ``(line, item)`` list).

    ``fast=False`` disables the JSONL fast path, ``scan=False`` its compiled row scanner
    (tests check that every path agrees).
    """
    res = ChunkResult(label)
    items: Any
    if isinstance(payload, bytes):
        if fmt == "jsonl" and fast and scan and _compiled_scan is not None and opts.region is None:
            _jsonl_scanned(res, first_line, payload, opts)
            return res
        if fmt == "jsonl" and fast:
            items = _jsonl_fast(res, first_line, payload, opts)
        else:
            text = payload.decode("utf-8", errors="replace")
            items = ((first_line + i, ln) for i, ln in enumerate(text.split("\n")))
    else:
        items = payload
    for line, raw_item in items:
        _general_item(res, fmt, opts, line, raw_item)
    return res


def _general_item(res: ChunkResult, fmt: str, opts: AdapterOptions, line: int, item: Any) -> None:
    """The general path of one item (a line's text, or an item of another format)."""
    parse: Callable[[str, Any, AdapterOptions], list[RawRow]]
    if isinstance(item, str):
        item = _strip_comment(fmt, item.lstrip("\ufeff"))
        if not item:
            return
        parse = _parse_line
    else:
        parse = _parse_item
    res.rows += 1
    try:
        ok = True
        for row in parse(fmt, item, opts):
            ok = _emit(res, line, row, opts) and ok
    except RowError as exc:
        res.rejects.append((line, exc.reason, _raw_text(item)))
        ok = False
    except _Ignored as exc:
        res.ignored.append((line, str(exc), _raw_text(item)))
    except TextOnlyReport as exc:
        res.ignored.append((line, str(exc), _kept_text_row(item, opts)))
    if not ok:
        res.rejected_rows += 1


def _jsonl_fast(res: ChunkResult, first_line: int, block: bytes, opts: AdapterOptions) -> Any:
    """Emit the common JSONL reports directly; yield every other line for the general path.

    Lines are parsed from their UTF-8 bytes by ``orjson`` (about twice the speed of the
    standard library's scanner on report rows). Anything it refuses (bad UTF-8, lone
    surrogates, NaN, bad JSON) or that :func:`_fast_report` declines goes to the general path
    as text decoded exactly as before (per line, ``errors="replace"``: UTF-8 never hides a
    newline inside a multi-byte sequence, so this equals decoding the block, then splitting),
    where ``json.loads`` parses it and gives the usual results and error messages.
    """
    for i, raw in enumerate(block.split(b"\n")):
        line = first_line + i
        if not _fast_line(res, opts, line, raw):
            yield line, raw.decode("utf-8", errors="replace")


def _fast_line(res: ChunkResult, opts: AdapterOptions, line: int, raw: bytes) -> bool:
    """One line through ``orjson`` and :func:`_fast_report`: True when it gave the event
    (counted, appended), False when the general path must read it."""
    if raw[:1] != b"{":
        return False
    try:
        obj = orjson.loads(raw)
        ev = _fast_report(obj, opts, line) if type(obj) is dict else None
    except (ValueError, RowError):
        return False
    if ev is None:
        return False
    res.rows += 1
    res.events.append(ev)
    return True


def _jsonl_scanned(res: ChunkResult, first_line: int, block: bytes, opts: AdapterOptions) -> None:
    """:func:`_jsonl_fast`'s results through the compiled scanner: it reads the plain report
    lines in C (``_rowscan.c`` says which) and hands every other line, in order, to
    :func:`_jsonl_fast`'s own per-line work (``orjson``, :func:`_fast_report`, else the
    general path), so that what it declines ends as it did before."""

    def other(line: int, raw: bytes) -> None:
        if not _fast_line(res, opts, line, raw):
            _general_item(res, "jsonl", opts, line, raw.decode("utf-8", errors="replace"))

    assert _compiled_scan is not None
    taken = _compiled_scan(block, first_line, _scan_ctx(opts), res.events, other)
    res.rows += taken  # (after the call: ``other`` counts the rows it takes)


def _scan_ctx(opts: AdapterOptions) -> tuple[Any, ...]:
    """The scanner's context for ``opts`` (its defaults, bounds and callbacks, and the caches
    it fills), kept per options in this process: the caches outlive a chunk."""
    ctx = _SCAN_CTX.get(opts)
    if ctx is not None:
        return ctx
    if len(_SCAN_CTX) > 4:
        _SCAN_CTX.clear()
    key = opts.reporter_key

    def key_of(kind: str, value: str) -> str | None:
        """What :func:`_fast_keys` makes of one ``{kind, value}`` (None: not this path);
        a key that derives more (:func:`_with_derived`) is left to the line's fallback."""
        if len(value) > _FAST_ID_MAX:
            return None
        try:
            wire = _normalise(kind, value)
        except (InvalidIdentifier, RowError):
            return None
        if wire.startswith(_LISTED_PREFIXES) and _listing(wire.lstrip("~"), opts) is None:
            return None
        return None if wire.startswith(_DERIVING_PREFIXES) else wire

    ctx = _SCAN_CTX[opts] = (
        SOURCES, STATUSES, _SOURCE_INDEX.get(opts.source or "public", -1), _SOURCE_INDEX["feed"],
        _STATUS_INDEX["confirmed"], _STATUS_INDEX["unverified"], _PUBLIC, opts.category or "",
        opts.provider, MIN_TIME, opts.as_of + 86_400, _FAST_ID_MAX, _PREFIX_TABLE,
        {}, key_of, {}, canonical_category,
        {}, lambda r: _reporter_int(r, None, key), lambda h: _reporter_int(None, h, key),
        _SCAN_CACHE, "", 0,
    )  # fmt: skip
    return ctx


_SCAN_CTX: dict[AdapterOptions, tuple[Any, ...]] = {}
#: Entries per cache of a scanner context (keys of identifiers not typed HK numbers,
#: categories, reporters): :data:`_REPORTER_CACHE`'s bound, so that 10^7's 200k reporters fit.
_SCAN_CACHE = _REPORTER_CACHE
#: ``phone.py``'s table of 4-digit HK prefixes proven all-valid, the one its compiled
#: shortcut uses: the scanner keys the typed HK numbers it proves as that shortcut does.
_PREFIX_TABLE = _prefix_valid_table()


__all__ = [
    "EV_ALLOW",
    "EV_DELIST",
    "EV_REPORT",
    "ROWSCAN_PATH",
    "ChunkResult",
    "listing_for_key",
    "process_chunk",
]
