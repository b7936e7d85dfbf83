"""The private lookup client: checks an identifier without sending it (docs/privacy.md).

Responsibility: canonicalise the value locally, compute its full hashes with the one
definition (:mod:`scameter.index.hashes`), send only their prefixes (each kind's length) to
``SearchHashes``, and match the full hashes that come back locally. Distinct from
:mod:`scameter.rpc.client`, which sends the identifier itself.

Caching follows Safe Browsing v5 (``hashes.search``):

* a returned full hash is kept until ``now + cache_duration`` and answers from the cache;
* every queried prefix is known to hold nothing else until ``now + negative_cache_duration``:
  a hash under it that was not returned is a miss without asking again;
* expired entries are asked again; the clock is injected (``time.monotonic`` by default).

What the answer covers: exact listings and the allowlist (and, for URLs, every Safe Browsing
expression of the URL). Signals the server computes from the value itself (near matches,
brand impersonation, phone ranges, the call context) need the value, so a private check does
not give them; docs/privacy.md says so to users.

Invariants: no identifier and no full hash leaves this process, only prefixes; no gRPC type
escapes; answers are :class:`~scameter.verdict.Verdict` values like every other lookup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind, detect, normalize
from scameter.index.hashes import PREFIX_BYTES, lookup_expressions, lookup_hashes, prefixes
from scameter.rpc import convert
from scameter.rpc.client import RemoteError
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.verdict import SEVERITY, Level, Reason, ReasonCode, Verdict, worst

_REASONS = {c.value: c for c in ReasonCode}


@dataclass(frozen=True, slots=True)
class Listed:
    """A full hash's payload as ``SearchHashes`` returned it."""

    kind: str
    level: Level
    categories: tuple[str, ...]
    reasons: tuple[str, ...]
    report_count: int
    reporters: int


class HashCache:
    """Safe Browsing v5 client cache: full hashes and negatively cached prefixes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._full: dict[bytes, tuple[float, list[Listed]]] = {}
        self._prefix: dict[bytes, float] = {}

    def lookup(self, full_hash: bytes, prefix: bytes) -> list[Listed] | None:
        """The cached answer for ``full_hash`` (``[]``: known miss), ``None``: ask."""
        now = self._clock()
        hit = self._full.get(full_hash)
        if hit is not None and hit[0] > now:
            return hit[1]
        expiry = self._prefix.get(prefix)
        if expiry is not None and expiry > now:
            return []
        return None

    def store(
        self,
        asked: Iterable[bytes],
        found: dict[bytes, list[Listed]],
        ttl: float,
        negative_ttl: float,
    ) -> None:
        now = self._clock()
        for h, listed in found.items():
            self._full[h] = (now + ttl, listed)
        for p in asked:
            self._prefix[p] = now + negative_ttl


def _verdict(
    raw: str, ident: Identifier, found: list[tuple[str, Listed]], snapshot: str
) -> Verdict:
    """Combine the entries found under ``ident``'s hashes as the server combines records:
    the allowlist wins, except over a HIGH RISK URL listing; else the worst listing."""
    allow = [(e, x) for e, x in found if x.level is Level.VERIFIED]
    listed = [(e, x) for e, x in found if x.level is not Level.VERIFIED]
    listed.sort(key=lambda ex: (-SEVERITY[ex[1].level], -ex[1].report_count))
    url_kind = ident.kind in (Kind.URL, Kind.DOMAIN)
    if allow and not (url_kind and listed and listed[0][1].level is Level.HIGH_RISK):
        expr, best = allow[0]
    elif listed:
        expr, best = listed[0]
    else:
        return Verdict(raw, ident.kind.value, ident.value, Level.NO_RECORD, snapshot=snapshot)
    reasons = tuple(Reason.of(_REASONS[c]) for c in best.reasons if c in _REASONS)
    return Verdict(
        raw,
        ident.kind.value,
        ident.value,
        best.level,
        reasons=reasons,
        categories=best.categories,
        report_count=best.report_count,
        reporters=best.reporters,
        matched=expr if url_kind else None,
        snapshot=snapshot,
    )


class PrivateClient:
    """``PrivateClient("host:port", api_key)``: private checks over ``SearchHashes``."""

    def __init__(
        self,
        target: str,
        api_key: str | None = None,
        *,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channel = grpc.insecure_channel(target)
        self._stub = pb_grpc.ScameterStub(self._channel)
        self._metadata: tuple[tuple[str, str], ...] = (
            () if api_key is None else (("authorization", f"Bearer {api_key}"),)
        )
        self.timeout = timeout
        self.cache = HashCache(clock)
        #: Prefixes sent so far, in order (what the server saw: for tests and audits).
        self.sent: list[bytes] = []
        self.snapshot = ""

    def _search(self, wanted: list[bytes]) -> dict[bytes, list[Listed]]:
        req = pb.SearchHashesRequest(hash_prefixes=wanted)
        try:
            resp: pb.SearchHashesResponse = self._stub.SearchHashes(
                req, timeout=self.timeout, metadata=self._metadata
            )
        except grpc.RpcError as e:
            raise RemoteError(e.code().name, e.details() or "") from None
        self.sent.extend(wanted)
        self.snapshot = resp.snapshot_id
        found: dict[bytes, list[Listed]] = {}
        for fh in resp.full_hashes:
            found.setdefault(fh.full_hash, []).append(
                Listed(
                    fh.kind,
                    convert.level_from_pb(fh.level),
                    tuple(fh.categories),
                    tuple(fh.reason_codes),
                    fh.report_count,
                    fh.reporters,
                )
            )
        self.cache.store(
            wanted,
            found,
            resp.cache_duration.ToTimedelta().total_seconds(),
            resp.negative_cache_duration.ToTimedelta().total_seconds(),
        )
        return found

    def check_identifier(self, ident: Identifier, raw: str | None = None) -> Verdict:
        """The private answer for an already-canonical identifier."""
        hashes = lookup_hashes(ident)
        url_kind = ident.kind in (Kind.URL, Kind.DOMAIN)
        exprs = lookup_expressions(ident) if url_kind else [ident.value]
        n = PREFIX_BYTES[ident.kind]
        answers: dict[bytes, list[Listed]] = {}
        missing: list[bytes] = []
        for h in hashes:
            cached = self.cache.lookup(h, h[:n])
            if cached is None:
                missing.append(h)
            else:
                answers[h] = cached
        if missing:
            found = self._search(prefixes(missing, ident.kind))
            for h in missing:
                answers[h] = found.get(h, [])
        pairs = [(e, x) for h, e in zip(hashes, exprs, strict=True) for x in answers[h]]
        return _verdict(ident.value if raw is None else raw, ident, pairs, self.snapshot)

    def check(self, raw: str, kind: Kind | str | None = None) -> Verdict:
        """Check ``raw`` (as ``kind``, or every kind it may be) privately.

        Raises :class:`InvalidIdentifier` for input that is no identifier (checked locally:
        nothing is sent).
        """
        idents = [normalize(kind, raw)] if kind is not None else detect(raw)
        if not idents:
            raise InvalidIdentifier(None, "not recognised as any identifier kind", raw)
        return worst([self.check_identifier(i, raw) for i in idents])

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> PrivateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["HashCache", "Listed", "PrivateClient"]
