"""Compare URL/defang extraction libraries with scameter's own extractor on the message table.

    .venv/bin/pip install iocextract ioc-finder urlextract   # not project dependencies
    PYTHONPATH=. .venv/bin/python scripts/eval_url_extractors.py

For each message of ``tests/unit/identifiers/message_vectors.py`` the expected links (the
``url``, ``domain`` and ``ip`` items) are compared with what each library finds, after passing
every library match through scameter's own canonicalisers (so formatting differences do not
count, only what was found). Prints, per library: messages whose links are exactly right,
links missed, extra links, and messages per second over the generated 300-character bilingual
SMS texts of ``benchmarks.datagen.sms_messages`` (single thread, median of 3 runs). Each
library also runs on the text after scameter's own cleaning (``_textmap.clean``: controls
removed, NFKC, defanged), to separate what it finds from what it cannot read. The figures
are quoted, with this command, in ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from benchmarks.datagen import sms_messages
from scameter.identifiers import Identifier, Kind, detect
from scameter.identifiers._textmap import clean
from scameter.identifiers.extract import extract
from scameter.identifiers.url import normalize_url
from tests.unit.identifiers.message_vectors import MESSAGES

LINK_KINDS = {"url", "domain", "ip"}


def _canonical(raw: str) -> str | None:
    """One canonical link per library match: what detect() makes of it, else the URL."""
    found: list[Identifier] = detect(raw.strip())
    for ident in found:
        if ident.kind in (Kind.URL, Kind.DOMAIN, Kind.IP):
            return str(ident)
    try:
        return str(normalize_url(raw))
    except ValueError:
        return None


def _ours(text: str) -> list[str]:
    return [str(f.identifier) for f in extract(text).items if f.kind in LINK_KINDS]


def _load(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _libraries() -> dict[str, Callable[[str], Iterable[str]]]:
    libs: dict[str, Callable[[str], Iterable[str]]] = {}
    iocextract = _load("iocextract")
    if iocextract is not None:

        def ioc(text: str) -> list[str]:
            urls = list(iocextract.extract_urls(text, refang=True))
            ips = list(iocextract.extract_ipv4s(text, refang=True))
            return urls + ips

        libs["iocextract"] = ioc
    ioc_finder = _load("ioc_finder")
    if ioc_finder is not None:

        def finder(text: str) -> list[str]:
            found = ioc_finder.find_iocs(text)
            return [*found["urls"], *found["domains"], *found["ipv4s"]]

        libs["ioc-finder"] = finder
    urlextract = _load("urlextract")
    if urlextract is not None:
        extractor = urlextract.URLExtract()

        def urlx(text: str) -> list[str]:
            return list(extractor.find_urls(text))

        libs["urlextract"] = urlx
    return libs


def _score(find: Callable[[str], Iterable[str]], canonicalise: bool) -> tuple[int, int, int]:
    exact = missed = extra = 0
    for _id, text, expected in MESSAGES:
        want = {e for e in expected if e.split(":", 1)[0] in LINK_KINDS}
        got: set[str] = set()
        for raw in find(text):
            canon = _canonical(raw) if canonicalise else raw
            if canon is not None:
                got.add(canon)
        # A library that reports a URL and also its host as a domain is not penalised for it.
        links = want | got
        got = {g for g in got if not (g.startswith("domain:") and _host_of_a_link(g[7:], links))}
        exact += got == want
        missed += len(want - got)
        extra += len(got - want)
    return exact, missed, extra


def _host_of_a_link(host: str, links: set[str]) -> bool:
    return any(f"//{host}/" in link or f".{host}/" in link for link in links)


def _cleaned(find: Callable[[str], Iterable[str]]) -> Callable[[str], Iterable[str]]:
    """``find`` on the text after scameter's own cleaning (controls, NFKC, defang)."""
    return lambda text: find(clean(text).text)


def _rate(find: Callable[[str], Iterable[str]], texts: list[str]) -> float:
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        for text in texts:
            list(find(text))
        rates.append(len(texts) / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> int:
    texts = list(sms_messages(2_000, 20261126))
    candidates: dict[str, Callable[[str], Iterable[str]]] = {"scameter.extract": _ours}
    for name, find in _libraries().items():
        candidates[name] = find
        candidates[f"{name} (cleaned)"] = _cleaned(find)
    total = len(MESSAGES)
    print(f"{'extractor':28s} {'exact msgs':>10s} {'missed':>7s} {'extra':>6s} {'msgs/s':>9s}")
    for name, find in candidates.items():
        exact, missed, extra = _score(find, canonicalise=name != "scameter.extract")
        rate = _rate(find, texts)
        print(f"{name:28s} {exact:>4d}/{total:<5d} {missed:>7d} {extra:>6d} {rate:>9,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
