"""URL and domain listing granularity: which Safe Browsing expression a listing is stored under.

Responsibility: decide, for a reported canonical URL or domain, the expression the index lists
it under (design.md section 5, "URL listing granularity"):

* a dedicated scam domain: its registrable domain + ``/`` (``evil.example/``), so every
  subdomain and path matches (Safe Browsing v4 host-suffix x path-prefix expressions);
* a page on a shared platform or a popular site (``scameter/data/shared_platforms.txt``, the
  URL-shortener and link-in-bio warninglists, a registrable domain on the Tranco or Chrome CrUX
  top-1M warninglist, the policy's ``extra_top_sites``): ``host + path`` only, plus ``?query``
  when the path alone is generic (at most one segment, e.g. ``youtube.com/watch?v=...``,
  ``facebook.com/profile.php?id=...``);
* a subdomain of a platform whose subdomains belong to one owner each (site builders, static
  hosting: ``someone.wixsite.com``): that host + ``/``;
* a bare shared host (``bit.ly``, ``docs.google.com``, ``www.facebook.com``, ``google.com``)
  or a root page on it: **no listing** (``None``). Real feeds list such hosts as "bad" because
  one page on them was; listing them would flag every user of the platform.

Invariants: pure functions of (host, path, query) and the platform tables; the same input
always gives the same expression, so builds are reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from scameter.identifiers import registrable_domain
from scameter.ingest.warninglists import NONE, SHARED_HOST_LISTS, Warninglists

SHARED = "shared"
SUBDOMAINS = "subdomains"
_MODES = (SHARED, SUBDOMAINS)


def _data_lines(name: str) -> list[str]:
    text = resources.files("scameter").joinpath("data", name).read_text(encoding="utf-8")
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def parse_platform_lines(lines: Iterable[str]) -> dict[str, str]:
    """``{"host": mode}`` from ``"host mode"`` lines; a missing mode means ``shared``."""
    table: dict[str, str] = {}
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        mode = parts[1] if len(parts) > 1 else SHARED
        if mode not in _MODES:
            raise ValueError(f"shared platform {parts[0]!r}: unknown mode {mode!r}")
        table[parts[0].lower().rstrip(".")] = mode
    return table


@lru_cache(maxsize=1)
def bundled_platforms() -> dict[str, str]:
    return parse_platform_lines(_data_lines("shared_platforms.txt"))


@dataclass(frozen=True, slots=True)
class Granularity:
    """The platform tables in force for one build: the bundled shared-platform table plus the
    policy's extras, and the warninglists (popular sites, URL shorteners)."""

    platforms: dict[str, str]
    top_sites: frozenset[str]
    lists: Warninglists = NONE

    @classmethod
    def default(
        cls,
        extra_platforms: Iterable[str] = (),
        extra_top: Iterable[str] = (),
        lists: Warninglists = NONE,
    ) -> Granularity:
        platforms = dict(bundled_platforms())
        platforms.update(parse_platform_lines(extra_platforms))
        return cls(platforms, frozenset(d.lower() for d in extra_top), lists)

    def popular(self, registrable: str) -> bool:
        """Whether ``registrable`` is a popular site (extra top sites, Tranco / CrUX)."""
        return registrable in self.top_sites or self.lists.popular.which(registrable) is not None

    def platform_mode(self, host: str) -> tuple[str, str] | None:
        """``(mode, entry)`` of the most specific platform entry covering ``host``, else None."""
        rd = registrable_domain(host)
        labels = host.split(".")
        hosts = self.lists.hosts
        for i in range(len(labels) - 1):
            suffix = ".".join(labels[i:])
            mode = self.platforms.get(suffix)
            if mode is None and hosts.get(suffix) in SHARED_HOST_LISTS:
                mode = SHARED
            if mode is not None:
                if rd is not None and len(rd) > len(suffix) and rd != "www." + suffix:
                    # The PSL's private section makes each name under this platform its own
                    # registrable domain (bucket.s3.amazonaws.com): one owner, not shared.
                    return None
                return mode, suffix
        if rd is not None and self.popular(rd):
            return SHARED, rd
        return None

    def listing(self, host: str, path: str = "/", query: str | None = None) -> str | None:
        """The expression to list ``host``/``path``/``query`` under, or None (see module doc)."""
        hit = self.platform_mode(host)
        if hit is None:
            rd = registrable_domain(host)
            return (rd if rd is not None else host) + "/"
        mode, entry = hit
        if mode == SUBDOMAINS and host not in (entry, "www." + entry):
            return host + "/"
        if path == "/" and not query:
            return None
        segments = [s for s in path.split("/") if s]
        if query and len(segments) <= 1:
            return f"{host}{path}?{query}"
        return host + path

    def listing_for_url(self, canonical: str) -> str | None:
        """Listing of a Safe Browsing canonical URL ``scheme://host[:port]/path[?query]``."""
        host, path, query = split_canonical_url(canonical)
        return self.listing(host, path, query)


def split_canonical_url(canonical: str) -> tuple[str, str, str | None]:
    """``(host, path, query)`` of a canonical URL; port and userinfo dropped as SB v4 does."""
    rest = canonical.split("://", 1)[-1]
    slash = rest.find("/")
    hostport, tail = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
    host = hostport.rsplit("@", 1)[-1]
    # An IPv6 literal keeps its colons; otherwise ":port" goes.
    host = host[: host.find("]") + 1] if host.startswith("[") else host.split(":", 1)[0]
    path, sep, query = tail.partition("?")
    return host, path or "/", query if sep else None


__all__ = ["SHARED", "SUBDOMAINS", "Granularity", "parse_platform_lines", "split_canonical_url"]
