"""Near-match signals for lookups that found no exact listing (design section 5).

Responsibility: the "nothing listed exactly, but..." answers, read through a
:class:`~scameter.index.reader.SnapshotReader` by :class:`NearRules`, which the exact rules
(phone numbers, platform handles) and the URL rules (hosts) ask when they found no listing:

* phone ranges: a number whose prefix (minus its last 1 or 2 digits) holds many listed
  numbers is POSSIBLE (``PHONE_RANGE``), probed in the ``ranges`` sub-database;
* brand impersonation / homograph of an allowlisted official domain (SUSPICIOUS), from the
  in-memory :class:`~scameter.index.near.BrandIndex`;
* edit distance 1..2 to a listed registrable domain or platform handle (SUSPICIOUS near a
  HIGH RISK one, else POSSIBLE): candidates share a deletion variant (the variant keys that
  pass the in-memory ``near_filter`` bitmap, in one sorted ``getmulti`` on ``near``), then
  are verified with Levenshtein and re-read from ``records``.

Invariants: each signal has its own reason code and none is silent; the variant keys probed
are exactly the ones :mod:`scameter.index.near` derives for the builder; no logging, no I/O
beyond LMDB reads of a mapped file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import Levenshtein

from scameter.identifiers import Identifier, Kind, registrable_domain
from scameter.index import format as fmt
from scameter.index.assembly import NO_RECORD_REASONS, VerdictAssembler
from scameter.index.near import (
    NS_DOMAIN,
    BrandIndex,
    allowed_distance,
    handle_namespace,
    label_distance,
    range_key,
    split_registrable,
    variant_hash_stream,
    variant_keys,
)
from scameter.index.reader import SnapshotReader
from scameter.verdict import (
    SEVERITY,
    Level,
    Reason,
    ReasonCode,
    SimilarTo,
    Verdict,
    make_no_record,
)

try:
    from scameter.index._nearfast import filtered_variant_keys as _filtered_variant_keys
except ImportError:  # built without a C compiler: the Python path (variant_hash_stream)
    _filtered_variant_keys = None  # type: ignore[assignment]

#: Which implementation computes a lookup's near probe keys: ``"compiled"``
#: (``scameter.index._nearfast``, built by ``pip install`` where a C compiler is found) or
#: ``"python"``.
NEAR_KEYS_PATH = "python" if _filtered_variant_keys is None else "compiled"

_PHONE = Kind.PHONE.value
#: Distinct (namespace, text) near-candidate answers kept per snapshot.
NEAR_CACHE_SIZE = 8192
#: Up to this many deletion variants, :meth:`NearRules._prefiltered` probes the near filter
#: bitmap once per variant (the numpy pass has a fixed cost of several bitmap probes): a cold
#: unlisted-URL check of the index benchmark 344k -> 317k instructions (callgrind), labels of
#: 12-16 letters (79-93 variants) 455k -> 434k and 232k -> 199k.
_PROBE_EACH_UP_TO = 128


def query_deletions(length: int, policy: fmt.IndexPolicy) -> int:
    """Deletions a query of ``length`` characters must probe (0, 1 or 2).

    Why this suffices: a listed value L within distance ``d`` = s + a + b of the query Q (s
    substitutions, a deletions and b insertions turning Q into L) shares with Q the string
    left after s + a deletions from Q and s + b from L; the builder stored L's variants up to
    ``allowed_distance(len(L))`` deletions. Two query deletions (s + a = 2) need d = 2 and
    len(L) = len(Q) - a in [len(Q) - 2, len(Q)], so only when that interval meets the
    distance-2 band ``[near_distance2_min_length, near_distance2_max_length]``. This is
    tighter than :func:`scameter.index.near.query_distance` below the band (a 6- or
    7-letter query probes 1 + n variants, not 1 + n + n(n-1)/2) and equal elsewhere.
    """
    if (
        policy.near_max_distance >= 2
        and policy.near_distance2_min_length <= length <= policy.near_distance2_max_length + 2
    ):
        return 2
    return min(policy.near_max_distance, 1)


class LiveNear(Protocol):
    """A live delta as near matches read it (:class:`~scameter.index.delta.Overlay`)."""

    #: Identifier key -> the delta's sealed record, or ``b""`` when it fell out.
    records: dict[bytes, bytes]

    def near_candidates(self, namespace: bytes, text: str, deletions: int) -> dict[bytes, str]:
        """The delta's own near entries sharing a variant with ``text``: key -> value."""
        ...


class NearRules:
    """The near-match signals of one snapshot; holds the brand index (built at open from the
    allowlisted official domains) and the memo of near candidates."""

    def __init__(self, reader: SnapshotReader, assemble: VerdictAssembler) -> None:
        p = self.policy = reader.policy
        self._reader = reader
        self._assemble = assemble
        self._snapshot_id = reader.id
        self._record = reader.table.get
        self._near = reader.near
        self._ranges = reader.ranges
        self._local = reader.local
        #: ``(digits, b"<digits>:")`` per ``policy.phone_range_digits``, in order: the range
        #: key of a number (``range_key``) is that head and the number minus ``digits`` digits.
        self._range_heads = tuple((d, f"{d}:".encode("ascii")) for d in p.phone_range_digits)
        self._filter = reader.near_filter
        #: The near filter's sorted prefixes and the same with a trailing 0 (built on the first
        #: numpy pass of :meth:`_filtered`).
        self._filter_array: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]] | None = None
        self._brands = BrandIndex(
            reader.brands,
            brand_words=p.brand_words,
            min_length=p.brand_min_length,
            max_distance=p.near_max_distance,
            d2_min_length=p.near_distance2_min_length,
        )
        # Popular platforms are never near-matched, and neither are the brands themselves.
        self._exempt = frozenset(p.near_exempt_domains) | self._brands.official
        self._cache: dict[tuple[bytes, str], dict[bytes, str]] = {}
        #: The live delta layered over the snapshot while it holds near-matchable records or
        #: removals (``Snapshot.set_overlay``): its entries join the candidates, its records
        #: stand for the base's under the same key. ``None``: the snapshot's own index.
        self.live: LiveNear | None = None

    def clear_cache(self) -> None:
        """Forget the memoised near candidates (benchmarks measure cold probes)."""
        self._cache.clear()

    # -- phone ranges ---------------------------------------------------------------------

    def phone_miss(
        self, raw: str, ident: Identifier, ranges: dict[str, tuple[int, bytes]] | None = None
    ) -> Verdict:
        """NO RECORD, or POSSIBLE with ``PHONE_RANGE`` when a prefix block holds many listed
        numbers (the first of ``policy.phone_range_digits`` that does wins).

        ``ranges``: batches pass :meth:`range_hits` of their numbers (one ``getmulti``);
        ``None`` probes here.
        """
        canonical = ident.value
        found: tuple[int, bytes] | None = None
        if ranges is None:
            # range_key() inlined (every phone miss probes here), the get positional (py-lmdb
            # turns keywords into a dict per call) on this thread's transaction.
            try:
                txn = self._local.txn
            except AttributeError:
                txn = self._reader.txn()
            db, number = self._ranges, canonical.encode("ascii")
            for d, head in self._range_heads:
                n = txn.get(head + number[:-d], None, db)
                if n is not None:
                    found = (d, n)
                    break
        else:
            found = ranges.get(canonical)
        if found is None:
            return make_no_record(raw, _PHONE, canonical, NO_RECORD_REASONS, self._snapshot_id)
        d, n = found
        (count,) = fmt.U32.unpack(n)
        block = f"{canonical[:-d]}{'x' * d}"
        detail = f"{count} listed numbers share the prefix {block}."
        return self._assemble.no_record(
            raw,
            _PHONE,
            canonical,
            level=Level.POSSIBLE,
            reasons=(Reason.of(ReasonCode.PHONE_RANGE, detail),),
            matched=block,
        )

    def range_hits(self, canonicals: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """Number -> (digits, ``ranges`` value) of its first listed prefix block, in the order
        of ``policy.phone_range_digits``; numbers in no block are absent.

        All the blocks' keys are probed with one sorted ``getmulti`` (key order visits the
        B-tree's pages once each, in order): a batch's misses cost one call, not two each.
        """
        digits = self.policy.phone_range_digits
        keyed = [(c, [(d, range_key(c, d)) for d in digits]) for c in canonicals]
        keys = sorted({k for _, ks in keyed for _, k in ks})
        if not keys:
            return {}
        found = dict(self._reader.txn().cursor(db=self._ranges).getmulti(keys))
        if not found:
            return {}
        out: dict[str, tuple[int, bytes]] = {}
        for c, ks in keyed:
            for d, k in ks:
                n = found.get(k)
                if n is not None:
                    out[c] = (d, n)
                    break
        return out

    # -- domains and handles --------------------------------------------------------------

    def handle_miss(self, raw: str, ident: Identifier) -> Verdict:
        """A platform handle with no record: NEAR_MATCH of a listed handle on the same
        platform, or NO RECORD."""
        platform, _, handle = ident.value.partition(":")
        cands: list[tuple[bytes, int, str]] = []
        for rkey, listed in self._layered(handle_namespace(platform), handle).items():
            lim = self._limit(len(listed))
            d = Levenshtein.distance(handle, listed, score_cutoff=lim)
            if 0 < d <= lim:
                cands.append((rkey, d, f"{platform}:{listed}"))
        v = self._best(raw, ident.kind.value, ident.value, cands) if cands else None
        return v or self._assemble.no_record(raw, ident.kind.value, ident.value)

    def host_miss(self, raw: str, kind: str, canonical: str, host: str) -> Verdict:
        """A URL or domain with no listing: brand impersonation / homograph of an official
        domain, NEAR_MATCH of a listed registrable domain, or NO RECORD."""
        reg = registrable_domain(host)
        if reg is None or reg in self._exempt or self._reader.popular.which(reg) is not None:
            # Real brands are spared: popular platforms, the official domains themselves and
            # every registrable domain on a popularity warninglist (hsbc.com, hsbc.co.uk next
            # to an allowlisted hsbc.com.hk) are never "similar to" anything.
            return self._assemble.no_record(raw, kind, canonical)
        hit = self._brands.match(host, reg) if self._brands else None
        if hit is not None:
            b = hit.brand
            who = f" ({b.owner})" if b.owner else ""
            # The brand's own name under another suffix (hsbc.com.sg for hsbc.com.hk) may be
            # the brand's too: at most POSSIBLE unless reported. Added words or swapped
            # characters (hsbc-secure-login.com, b0chk.com) stay SUSPICIOUS.
            same_name = hit.code is ReasonCode.BRAND_IMPERSONATION and (
                split_registrable(reg)[0] == b.label
            )
            return self._assemble.no_record(
                raw,
                kind,
                canonical,
                level=Level.POSSIBLE if same_name else Level.SUSPICIOUS,
                reasons=(Reason.of(hit.code, f"Resembles {b.registrable}{who}."),),
                similar=SimilarTo(b.registrable, hit.distance, Level.VERIFIED),
            )
        label, suffix = split_registrable(reg)
        cands: list[tuple[bytes, int, str]] = []
        for rkey, listed in self._layered(NS_DOMAIN, label).items():
            if listed == reg:
                continue
            l_label, l_suffix = split_registrable(listed)
            lim = self._limit(len(l_label))
            d = label_distance(label, suffix, l_label, l_suffix, lim)
            if d is not None and d > 0:
                cands.append((rkey, d, listed))
        v = self._best(raw, kind, canonical, cands) if cands else None
        return v or self._assemble.no_record(raw, kind, canonical)

    def _filtered_keys(self, namespace: bytes, text: str, k: int) -> list[bytes]:
        """The probe keys of ``text``'s deletion variants that pass the near filter: in C
        (``scameter.index._nearfast``, over the filter's sorted prefixes) for an ASCII text
        where it is built (:data:`NEAR_KEYS_PATH`), else :meth:`_filtered` of
        :func:`variant_hash_stream`. The same keys either way (tests/property)."""
        if _filtered_variant_keys is not None and text.isascii():
            keys = _filtered_variant_keys(namespace, text.encode("ascii"), k, self._prefixes()[0])
            if keys is not None:
                return keys
        return self._filtered(*variant_hash_stream(namespace, text, k))

    def _prefiltered(self, hashes: list[int]) -> list[bytes]:
        """The keys (8 bytes, big-endian) of ``hashes`` whose 32-bit prefix is in the near
        filter (:meth:`_filtered` of a list)."""
        return self._filtered(len(hashes), iter(hashes))

    def _filtered(self, count: int, hashes: Iterator[int]) -> list[bytes]:
        """The distinct keys (8 bytes, big-endian, sorted) of the ``count`` ``hashes`` whose
        32-bit prefix is in the near filter: up to :data:`_PROBE_EACH_UP_TO` one bitmap
        probe each, more in one ``numpy`` pass over the filter's sorted prefixes (held as an
        array from the first call; 4 bytes a prefix) instead of one probe per variant."""
        if count <= _PROBE_EACH_UP_TO:
            # Few variants: a bitmap probe each costs less than the numpy calls' fixed cost.
            within = self._filter
            assert within is not None
            kept = [h for h in hashes if h >> 32 in within]
        else:
            kept = self._filtered_numpy(count, hashes)
        if not kept:
            return []
        # Sorted (one B-tree walk in key order) and distinct (a variant may come twice).
        return [h.to_bytes(8, "big") for h in sorted(set(kept))]

    def _prefixes(self) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
        """The near filter's sorted prefixes, and the same with a trailing 0 (built once)."""
        arrays = self._filter_array
        if arrays is None:
            assert self._filter is not None
            # One trailing 0 past the sorted prefixes: a head above them all is searched to
            # there and compared with 0, which it is not (it is above a prefix), so no clip.
            held = np.frombuffer(self._filter.to_array(), dtype=np.uint32)
            padded = np.zeros(len(held) + 1, dtype=np.uint32)
            padded[:-1] = held
            arrays = self._filter_array = (padded[:-1], padded)
        return arrays

    def _filtered_numpy(self, count: int, hashes: Iterator[int]) -> list[int]:
        prefixes, padded = self._prefixes()
        if not len(prefixes) or not count:
            return []
        keys = np.fromiter(hashes, dtype=np.uint64, count=count)
        heads = (keys >> np.uint64(32)).astype(np.uint32)
        hit = padded[np.searchsorted(prefixes, heads)] == heads
        kept: list[int] = keys[hit].tolist()
        return kept

    def _layered(self, namespace: bytes, text: str) -> dict[bytes, str]:
        """:meth:`candidates` with the live delta's: a key the delta holds is answered by
        the delta's entries only (its record changed, fell out, or is new)."""
        out = self.candidates(namespace, text)
        live = self.live
        if live is None:
            return out
        held = live.records
        out = {k: v for k, v in out.items() if k not in held}
        if len(text) >= self.policy.near_min_length - 1:
            out.update(
                live.near_candidates(namespace, text, query_deletions(len(text), self.policy))
            )
        return out

    def candidates(self, namespace: bytes, text: str) -> dict[bytes, str]:
        """Listed values sharing a deletion variant with ``text``: record key -> value.

        Memoised per snapshot (it is immutable): traffic repeats hosts and handles, and a
        miss costs one random B-tree probe per deletion variant (79 for a 12-letter label).
        """
        cache_key = (namespace, text)
        out = self._cache.get(cache_key)
        if out is not None:
            return out
        out = {}
        p = self.policy
        if len(text) >= p.near_min_length - 1:
            k = query_deletions(len(text), p)
            if self._filter is not None:
                # Pre-filter (format 1.1): a key whose 32-bit prefix is not in the filter is
                # not in ``near``; false positives only cost a probe, false negatives cannot
                # happen (the filter holds every stored key's prefix).
                keys = self._filtered_keys(namespace, text, k)
            else:
                keys = variant_keys(namespace, text, k)
                keys.sort()
            found = self._reader.txn().cursor(db=self._near).getmulti(keys) if keys else ()
            for _, value in found:
                pos, end = 0, len(value)
                while pos < end:
                    ln = value[pos + 8]
                    out[value[pos : pos + 8]] = value[pos + 9 : pos + 9 + ln].decode("utf-8")
                    pos += 9 + ln
        if len(self._cache) >= NEAR_CACHE_SIZE:
            self._cache.clear()  # crude bound; a full LRU costs more than it saves here
        self._cache[cache_key] = out
        return out

    def _limit(self, length: int) -> int:
        p = self.policy
        return allowed_distance(
            length, p.near_max_distance, p.near_distance2_min_length, p.near_distance2_max_length
        )

    def _best(
        self, raw: str, kind: str, canonical: str, cands: list[tuple[bytes, int, str]]
    ) -> Verdict | None:
        """The worst-level, then closest, verified candidate as a NEAR_MATCH verdict."""
        best: tuple[int, int, str, Level] | None = None
        held = {} if self.live is None else self.live.records
        for rkey, dist, listed in cands:
            buf = held[rkey] if rkey in held else self._record(rkey)
            if not buf:
                continue
            level = fmt.record_level(buf)
            rank = (SEVERITY[level], -dist)
            if best is None or rank > (SEVERITY[best[3]], -best[1]):
                best = (0, dist, listed, level)
        if best is None:
            return None
        _, dist, listed, listed_level = best
        level = Level.SUSPICIOUS if listed_level is Level.HIGH_RISK else Level.POSSIBLE
        return self._assemble.no_record(
            raw,
            kind,
            canonical,
            level=level,
            reasons=(Reason.of(ReasonCode.NEAR_MATCH, f"Similar to {listed}."),),
            similar=SimilarTo(listed, dist, listed_level),
        )


__all__ = ["NEAR_CACHE_SIZE", "NEAR_KEYS_PATH", "LiveNear", "NearRules", "query_deletions"]
