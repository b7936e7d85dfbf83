"""MISP warninglists at ingest: which listings are popular or shared infrastructure.

Responsibility: read the warninglists this project consults from ``pymispwarninglists``'s
bundled, offline copy of the MISP warninglists (or from a directory laid out the same way,
``<name>/list.json``), and answer, for one identifier key, the list that names it:

==============================  ===========================  ================================
MISP list(s)                    reason code                  what it names
==============================  ===========================  ================================
``tranco``                      ``warninglist:tranco``       Tranco top 1M registrable domains
``google-chrome-crux-1million`` ``warninglist:crux``         Chrome UX report top 1M hosts
``url-shortener``,              ``warninglist:url-shortener`` URL shorteners and link-in-bio
``link-in-bio``                                              hosts (shared: list host + path)
``amazon-aws``, ``google-gcp``, ``warninglist:cloud``        cloud and CDN IP ranges, and the
``microsoft-azure``,                                         providers' own domains
``cloudflare``, ``akamai``,
``fastly``, ``stackpath``,
``microsoft``, ``google``
``second-level-tlds``           ``warninglist:second-level-tlds``  public suffixes
==============================  ===========================  ================================

A warninglist *demotes*, never drops (``docs/report-format.md``, "Corroboration"): a listing
it names gets at most POSSIBLE from one unconfirmed source, is stored at the narrowest form
the row gives, and the verdict names the list. Nothing here runs on the lookup path: the
popular names go into the snapshot as a :class:`~scameter.index.popular.PopularSet`.

Bad input: a missing, unreadable or malformed list file is an :class:`IngestError` naming the
file (never a silent build without it).

Cost: the two top-1M lists are about 2 million names; compiling them (JSON, hash, sort) takes
about 1.5 s, so :func:`load_warninglists` takes the compiled set from the parent snapshot
when it was compiled from the same files (same SHA-256 digests), which makes a rebuild pay
only for the digests (about 0.1 s).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scameter.errors import IngestError
from scameter.identifiers import registrable_domain
from scameter.index.popular import EMPTY, PopularSet
from scameter.verdict import ReasonCode

#: Popularity lists, in precedence order: MISP list name -> short name (the reason's).
POPULAR_LISTS: dict[str, str] = {"tranco": "tranco", "google-chrome-crux-1million": "crux"}
#: Host lists (a host or any parent of it matches): MISP name -> short name.
HOST_LISTS: dict[str, str] = {
    "url-shortener": "url-shortener",
    "link-in-bio": "url-shortener",
    "microsoft": "cloud",
    "google": "cloud",
}
#: IP range lists (cloud and CDN providers).
CIDR_LISTS: tuple[str, ...] = (
    "amazon-aws",
    "google-gcp",
    "microsoft-azure",
    "cloudflare",
    "akamai",
    "fastly",
    "stackpath",
)
#: Exact-name lists: MISP name -> short name.
NAME_LISTS: dict[str, str] = {"second-level-tlds": "second-level-tlds"}
#: Short name -> the reason code that names it.
REASONS: dict[str, ReasonCode] = {
    "tranco": ReasonCode.WARNINGLIST_TRANCO,
    "crux": ReasonCode.WARNINGLIST_CRUX,
    "url-shortener": ReasonCode.WARNINGLIST_SHORTENER,
    "cloud": ReasonCode.WARNINGLIST_CLOUD,
    "second-level-tlds": ReasonCode.WARNINGLIST_SLD,
}
#: Host lists whose hosts are shared platforms for listing granularity (host + path only).
SHARED_HOST_LISTS = frozenset({"url-shortener"})
ALL_LISTS: tuple[str, ...] = (*POPULAR_LISTS, *HOST_LISTS, *CIDR_LISTS, *NAME_LISTS)
#: The ``popular`` sub-database key holding the digests the set was compiled from.
DIGESTS_KEY = "_digests"


def bundled_dir() -> Path:
    """The ``lists`` directory of the warninglists that ``pymispwarninglists`` ships."""
    import pymispwarninglists  # imported here: only ingest needs it, and only once a run

    base = Path(pymispwarninglists.__file__).parent
    return base / "data" / "misp-warninglists" / "lists"


def list_file(directory: Path, name: str) -> Path:
    return directory / name / "list.json"


def _read_list(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise IngestError("warninglist file missing (reinstall pymispwarninglists)", path) from None
    except OSError as exc:
        raise IngestError(f"cannot read warninglist file: {exc.strerror}", path) from exc
    except ValueError as exc:
        raise IngestError(f"warninglist file is not valid JSON: {exc}", path) from exc
    entries = data.get("list") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise IngestError("warninglist file has no 'list' of strings", path)
    return entries


def _digest(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError:
        raise IngestError("warninglist file missing (reinstall pymispwarninglists)", path) from None
    except OSError as exc:
        raise IngestError(f"cannot read warninglist file: {exc.strerror}", path) from exc


def _popular_name(entry: str) -> str:
    """A list entry as it is hashed: lower-case, no leading ``www.`` or dot (CrUX names
    origins' hosts; the rules ask about registrable domains and hosts)."""
    name = entry.strip().lower().lstrip(".")
    return name[4:] if name.startswith("www.") else name


def compile_popular(directory: Path) -> PopularSet:
    """The popular set compiled from the list files under ``directory``."""
    return PopularSet.compile(
        {
            short: map(_popular_name, _read_list(list_file(directory, misp)))
            for misp, short in POPULAR_LISTS.items()
        }
    )


@dataclass(frozen=True, slots=True)
class _Ranges:
    """Sorted, non-overlapping integer ranges of one IP version."""

    starts: list[int]
    ends: list[int]

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        i = bisect_right(self.starts, value) - 1
        return i >= 0 and value <= self.ends[i]


def _ranges(networks: list[Any]) -> _Ranges:
    merged: list[list[int]] = []
    for net in sorted(networks, key=lambda n: int(n.network_address)):
        lo, hi = int(net.network_address), int(net.broadcast_address)
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return _Ranges([m[0] for m in merged], [m[1] for m in merged])


@dataclass(frozen=True, slots=True)
class Warninglists:
    """The compiled warninglists of one build (see the module docstring)."""

    popular: PopularSet = EMPTY
    hosts: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    v4: _Ranges = field(default_factory=lambda: _Ranges([], []))
    v6: _Ranges = field(default_factory=lambda: _Ranges([], []))
    #: MISP list name -> SHA-256 of its file (recorded in the snapshot and the summary).
    digests: Mapping[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.digests)

    def for_host(self, host: str) -> str | None:
        """The short name of the list naming ``host`` (canonical, lower-case), or None."""
        if host[:1] == "[" or host.replace(".", "").isdigit():
            return self.for_ip(host.strip("[]"))
        name = self.names.get(host)
        if name is not None:
            return name
        labels = host.split(".")
        suffixes = [".".join(labels[i:]) for i in range(len(labels) - 1)]
        # Precedence: shared link hosts, then popularity, then cloud providers' domains.
        other = None
        for suffix in suffixes:
            hit = self.hosts.get(suffix)
            if hit in SHARED_HOST_LISTS:
                return hit
            other = other or hit
        reg = registrable_domain(host)
        found = self.popular.which(reg) if reg is not None else None
        if found is None and reg != host:
            found = self.popular.which(host[4:] if host.startswith("www.") else host)
        return found or other

    def for_ip(self, text: str) -> str | None:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return None
        table = self.v4 if ip.version == 4 else self.v6
        return "cloud" if int(ip) in table else None

    def is_shared_host(self, host: str) -> bool:
        """Whether a host list marks ``host`` as a shared platform (a URL shortener)."""
        labels = host.split(".")
        return any(
            self.hosts.get(".".join(labels[i:])) in SHARED_HOST_LISTS
            for i in range(len(labels) - 1)
        )


def _cache_file(cache_dir: Path, digests: Mapping[str, str]) -> Path:
    key = hashlib.sha256(json.dumps(sorted(digests.items())).encode("ascii")).hexdigest()
    return cache_dir / f"popular-{key[:32]}.bin"


def read_cached_popular(cache_dir: Path, digests: Mapping[str, str]) -> PopularSet | None:
    """The popular set compiled earlier from files with ``digests``, if ``cache_dir`` has it
    (a JSON header line of ``[name, bytes]`` pairs, then the blobs)."""
    try:
        with open(_cache_file(cache_dir, digests), "rb") as fh:
            header = json.loads(fh.readline())
            blobs = [(str(name), fh.read(int(size))) for name, size in header]
    except (OSError, ValueError, TypeError):
        return None
    if [name for name, _ in blobs] != list(POPULAR_LISTS.values()):
        return None
    if any(len(blob) % 8 for _, blob in blobs):
        return None
    return PopularSet.from_blobs(blobs)


def write_cached_popular(cache_dir: Path, digests: Mapping[str, str], popular: PopularSet) -> None:
    """Keep ``popular`` for the next process (best effort: a cache that cannot be written
    only costs the next ingest the compile)."""
    path = _cache_file(cache_dir, digests)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    blobs = popular.to_blobs()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(json.dumps([[n, len(b)] for n, b in blobs.items()]).encode() + b"\n")
            for blob in blobs.values():
                fh.write(blob)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def load_warninglists(
    directory: Path | None = None,
    *,
    cached: Callable[[dict[str, str]], PopularSet | None] | None = None,
    cache_dir: Path | None = None,
) -> Warninglists:
    """Read the consulted lists under ``directory`` (default: :func:`bundled_dir`).

    The popular set (the costly part) is taken, in this order, from ``cached(digests)`` (the
    parent snapshot's, when compiled from files with exactly these digests), from
    ``cache_dir`` (compiled by an earlier process), or compiled here (and then written to
    ``cache_dir``).
    """
    directory = bundled_dir() if directory is None else Path(directory)
    digests = {name: _digest(list_file(directory, name)) for name in ALL_LISTS}
    pop_digests = {name: digests[name] for name in POPULAR_LISTS}
    popular = cached(pop_digests) if cached is not None else None
    if popular is None and cache_dir is not None:
        popular = read_cached_popular(cache_dir, pop_digests)
    if popular is None:
        popular = compile_popular(directory)
        if cache_dir is not None:
            write_cached_popular(cache_dir, pop_digests, popular)
    hosts: dict[str, str] = {}
    for misp, short in HOST_LISTS.items():
        for entry in _read_list(list_file(directory, misp)):
            host = entry.strip().lower().lstrip(".")
            if host:
                hosts.setdefault(host, short)
    names = {
        entry.strip().lower().lstrip("."): short
        for misp, short in NAME_LISTS.items()
        for entry in _read_list(list_file(directory, misp))
    }
    v4: list[Any] = []
    v6: list[Any] = []
    for misp in CIDR_LISTS:
        path = list_file(directory, misp)
        for entry in _read_list(path):
            try:
                net = ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise IngestError(
                    f"warninglist entry {entry[:60]!r} is not an IP range", path
                ) from None
            (v4 if net.version == 4 else v6).append(net)
    return Warninglists(popular, hosts, names, _ranges(v4), _ranges(v6), digests)


_LOADED: dict[str, Warninglists] = {}


def remember(directory: str, lists: Warninglists) -> None:
    """Keep ``lists`` as this process's lists of ``directory`` ("" = bundled): the ingest
    parent loads them once, and forked workers inherit them instead of reading the files."""
    _LOADED.clear()
    _LOADED[directory] = lists


def loaded(directory: str) -> Warninglists | None:
    """The lists of ``directory`` this process has already loaded, if any."""
    return _LOADED.get(directory)


def cached_warninglists(directory: str) -> Warninglists:
    """The lists of ``directory`` ("" = bundled), loaded at most once per process."""
    got = _LOADED.get(directory)
    if got is None:
        got = load_warninglists(Path(directory) if directory else None)
        remember(directory, got)
    return got


NONE = Warninglists()

__all__ = [
    "ALL_LISTS",
    "DIGESTS_KEY",
    "NONE",
    "POPULAR_LISTS",
    "REASONS",
    "Warninglists",
    "bundled_dir",
    "cached_warninglists",
    "compile_popular",
    "load_warninglists",
    "loaded",
    "remember",
]
