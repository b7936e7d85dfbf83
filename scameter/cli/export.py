"""``scameter snapshot export`` formats: block lists a resolver, a firewall or a script loads.

Responsibility: :data:`EXPORT_FORMATS`, the one table of ``--format`` choices (each a writer
of records to a text stream), and what every block list shares:

* allowlisted (VERIFIED) records never go into a block list: they are left out unless
  ``--level verified`` asks for them (then ``lines`` / ``json`` write the allowlist itself);
* each URL / domain entry is written once, even when several records are listed under the
  same expression (``http://shop-scam.top/x`` and ``shop-scam.top`` are both ``shop-scam.top/``);
* ``hosts`` and ``rpz`` name hosts, so they carry only listings of a whole host (``host/``);
  a page listed at ``host/path`` cannot be blocked by name without blocking the whole host,
  and is counted as skipped instead.

Formats:

=======  =========================================================================================
lines    one entry a line: the listing expression for URLs and domains, else the canonical value
json     JSON lines with the record's fields
hosts    hosts-file lines ``0.0.0.0 host``
device   the device database or a delta (binary, ``-o FILE``; ``scameter.device``)
rpz      a DNS response policy zone (RFC-draft "DNS RPZ", as BIND, Unbound and PowerDNS load it):
         SOA and NS, then ``host CNAME .`` (NXDOMAIN) and ``*.host CNAME .`` for each host
=======  =========================================================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from scameter.index import Record
from scameter.verdict import Level

#: Kinds whose entries are listing expressions (``host/`` or ``host/path``).
_HOSTED = frozenset({"url", "domain"})


@dataclass(slots=True)
class ExportCounts:
    """What an export wrote and what it left out, for the line on stderr."""

    written: int = 0
    duplicates: int = 0
    verified: int = 0
    skipped: int = 0
    seen: set[str] = field(default_factory=set)

    def first_time(self, entry: str) -> bool:
        if entry in self.seen:
            self.duplicates += 1
            return False
        self.seen.add(entry)
        return True


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What a writer may need besides the records: the snapshot's id and as-of instant."""

    snapshot_id: str
    as_of_epoch: int
    zone: str = "rpz.scameter."


Writer = Callable[[Iterable[Record], TextIO, ExportCounts, ExportContext], None]


def _entry(record: Record) -> str:
    return record.listing or record.identifier.value


def whole_host(record: Record) -> str | None:
    """The host of a whole-host listing (``evil.example/``), else ``None`` (pages, IPs,
    other kinds)."""
    if str(record.identifier.kind) not in _HOSTED or not record.listing:
        return None
    host, sep, path = record.listing.partition("/")
    if not sep or path or not host or host.startswith("[") or host.replace(".", "").isdigit():
        return None
    return host


def write_lines(records: Iterable[Record], out: TextIO, n: ExportCounts, _: ExportContext) -> None:
    for record in records:
        entry = _entry(record)
        if str(record.identifier.kind) in _HOSTED and not n.first_time(entry):
            continue
        out.write(entry + "\n")
        n.written += 1


def write_json(records: Iterable[Record], out: TextIO, n: ExportCounts, _: ExportContext) -> None:
    for record in records:
        ident = record.identifier
        row = {
            "kind": str(ident.kind),
            "value": ident.value,
            "level": record.level.value,
            "categories": list(record.categories),
            "sources": list(record.sources),
            "report_count": record.report_count,
            "reporters": record.reporters,
            "listing": record.listing,
            "owner": record.owner,
        }
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n.written += 1


def _hosts(records: Iterable[Record], n: ExportCounts) -> Iterable[str]:
    for record in records:
        host = whole_host(record)
        if host is None:
            n.skipped += 1
        elif n.first_time(host):
            n.written += 1
            yield host


def write_hosts(records: Iterable[Record], out: TextIO, n: ExportCounts, c: ExportContext) -> None:
    out.write(f"# scameter block list, snapshot {c.snapshot_id}\n")
    for host in _hosts(records, n):
        out.write(f"0.0.0.0 {host}\n")


def write_rpz(records: Iterable[Record], out: TextIO, n: ExportCounts, c: ExportContext) -> None:
    # Owner names are relative to the zone's origin, as RPZ triggers are; the serial is the
    # snapshot's as-of instant in Unix seconds (grows with every build, fits 32 bits).
    serial = c.as_of_epoch & 0xFFFFFFFF
    out.write(
        f"; scameter response policy zone, snapshot {c.snapshot_id}\n"
        f"$ORIGIN {c.zone}\n$TTL 300\n"
        f"@ IN SOA localhost. hostmaster.localhost. {serial} 3600 600 86400 300\n"
        "@ IN NS localhost.\n"
    )
    for host in _hosts(records, n):
        # A listing of host/ covers its subdomains too (Safe Browsing host suffixes).
        out.write(f"{host} CNAME .\n*.{host} CNAME .\n")


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One ``--format`` choice. ``write`` is None for ``device``, a binary database that
    ``scameter snapshot export`` builds from the hash-prefix table, not from records."""

    name: str
    help: str
    write: Writer | None
    block_list: bool = True


#: Every ``--format`` choice, in the order ``--help`` lists them.
EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "lines", "one entry a line (listing expression or canonical value)", write_lines
        ),
        ExportFormat("json", "JSON lines with the record fields", write_json, block_list=False),
        ExportFormat("hosts", "hosts-file lines '0.0.0.0 host' (whole-host listings)", write_hosts),
        ExportFormat("rpz", "DNS response policy zone, 'host CNAME .' records", write_rpz),
        ExportFormat(
            "device", "Rice-coded hash prefixes for on-device matching (docs/privacy.md)", None
        ),
    )
}


def keep(record: Record, fmt: ExportFormat, n: ExportCounts, level: str | None) -> bool:
    """Whether ``record`` goes into an export in ``fmt`` (VERIFIED ones only on request)."""
    if record.level is Level.VERIFIED and level != Level.VERIFIED.value and fmt.block_list:
        n.verified += 1
        return False
    return True


__all__ = ["EXPORT_FORMATS", "ExportContext", "ExportCounts", "ExportFormat", "keep", "whole_host"]
