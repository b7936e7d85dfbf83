"""Near-match signals: deletion neighbourhoods, confusable skeletons, brand impersonation.

Responsibility: the pure string logic behind "similar to reported data" (design section 5).
The builder uses it to write the ``near`` sub-database; the reader uses the same functions
to probe it, so both sides always agree on variants and keys.

* Deletion neighbourhood (symmetric delete, as in SymSpell): two strings within edit distance
  k share at least one string obtained by deleting at most k characters from each. Variants
  are stored as 8-byte xxh3 keys under a namespace (``D`` domain labels, ``P<platform>\\0``
  platform handles). Candidates are then verified with ``rapidfuzz`` (Levenshtein).
* Skeletons (in the spirit of Unicode TS #39 "confusable detection"): punycode labels are
  decoded (RFC 3492), accents stripped (NFKD), and a small table maps common Cyrillic / Greek
  look-alikes and ASCII tricks (``0``->``o``, ``1``->``l``, ``rn``->``m``, ``vv``->``w``) to
  Latin. This is deliberately a small, reviewed table, not the whole confusables.txt.
* Brand impersonation compares a host against the allowlisted official registrable domains:
  edit distance of the registrable label, brand label as a token of the host (possibly glued
  to brand words: ``hsbc-secure-login.com``, ``hsbclogin.com``), and homograph skeletons.

Invariant: nothing here does I/O; every function is deterministic.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import xxhash
from rapidfuzz.distance import Levenshtein

from scameter.verdict import ReasonCode

_xxh = xxhash.xxh3_64_digest
_xxh_int = xxhash.xxh3_64_intdigest

NS_DOMAIN = b"D"


def handle_namespace(platform: str) -> bytes:
    return b"P" + platform.encode("utf-8") + b"\x00"


def deletion_variants(s: str, k: int) -> set[str]:
    """``s`` and every string obtained by deleting up to ``k`` characters (k <= 2)."""
    n = len(s)
    out = {s}
    if k >= 1:
        out.update([s[:i] + s[i + 1 :] for i in range(n)])
    if k >= 2:
        out.update([s[:i] + s[i + 1 : j] + s[j + 1 :] for i in range(n) for j in range(i + 1, n)])
    return out


def variant_keys(namespace: bytes, s: str, k: int) -> list[bytes]:
    """The 8-byte keys ``xxh3_64(namespace || utf8(variant))`` of :func:`deletion_variants`."""
    return list(map(_xxh, _variant_bytes(namespace, s, k)))


def variant_hashes(namespace: bytes, s: str, k: int) -> list[int]:
    """:func:`variant_keys` as unsigned integers (``int.from_bytes(key, "big")``): what a
    whole set of variants is pre-filtered with in one ``numpy`` pass."""
    return list(map(_xxh_int, _variant_bytes(namespace, s, k)))


def _variant_bytes(namespace: bytes, s: str, k: int) -> Iterable[bytes]:
    """``namespace || utf8(variant)`` of every variant of :func:`deletion_variants`.

    ASCII text (every punycode label) is cut as bytes: one encode instead of one per variant.
    """
    if s.isascii():
        b = namespace + s.encode("ascii")
        m = len(namespace)
        n = len(b)
        out = {b}
        if k >= 1:
            singles = [b[:i] + b[i + 1 :] for i in range(m, n)]
            out.update(singles)
            if k >= 2:
                # Second deletion from each single one: deleting position j >= i of ``t``
                # (``b`` minus position i) removes ``b``'s position j + 1 > i, so every pair
                # i < j' is produced once, with 2 slices instead of 3 (the lookup hot path).
                out.update(
                    [t[:j] + t[j + 1 :] for i, t in enumerate(singles, m) for j in range(i, n - 1)]
                )
        return out
    return [namespace + v.encode("utf-8") for v in deletion_variants(s, k)]


def variant_hash_stream(namespace: bytes, s: str, k: int) -> tuple[int, Iterator[int]]:
    """``(count, hashes)``: the :func:`variant_hashes` of ``s`` as a lazy stream, for the
    lookup side, which keeps the few the near filter holds and drops the rest.

    Unlike :func:`variant_hashes` a variant may come more than once (``aab`` minus either
    ``a``): callers de-duplicate what they keep (a handful), not every variant. ASCII text
    (every punycode label) is cut by one ``numpy`` gather of all its variants into one
    buffer (:func:`_deletion_plan`), then each variant is a slice of it, sliced and hashed
    in C (``map``): no Python bytecode per variant, where the byte slicing of
    :func:`_variant_bytes` costs three objects a variant (a 13-letter label has 92).
    """
    if not s.isascii():
        hashes = variant_hashes(namespace, s, k)
        return len(hashes), iter(hashes)
    index, cuts = _deletion_plan(len(namespace), len(s), k)
    text = np.frombuffer(namespace + s.encode("ascii"), dtype=np.uint8)
    blob = text[index].tobytes()
    return len(cuts), map(_xxh_int, map(blob.__getitem__, cuts))


@functools.lru_cache(maxsize=512)
def _deletion_plan(m: int, n: int, k: int) -> tuple[npt.NDArray[np.intp], tuple[slice, ...]]:
    """Gather indices and cuts of every deletion variant of an ``n``-byte text after an
    ``m``-byte namespace (never deleted): the text itself, then without position ``i``,
    then without ``i < j``, concatenated; ``cuts[v]`` is variant ``v``'s slice of it.
    One plan per (namespace length, text length, k): a few dozen in all."""
    whole = list(range(m + n))
    rows = [whole]
    if k >= 1:
        rows += [whole[: m + i] + whole[m + i + 1 :] for i in range(n)]
    if k >= 2:
        rows += [
            whole[: m + i] + whole[m + i + 1 : m + j] + whole[m + j + 1 :]
            for i in range(n)
            for j in range(i + 1, n)
        ]
    index = np.fromiter((x for row in rows for x in row), dtype=np.intp)
    cuts: list[slice] = []
    pos = 0
    for row in rows:
        cuts.append(slice(pos, pos + len(row)))
        pos += len(row)
    return index, tuple(cuts)


def allowed_distance(
    length: int, max_distance: int, d2_min_length: int, d2_max_length: int = 1 << 30
) -> int:
    """Largest edit distance tolerated for a listed value of ``length`` characters.

    Distance 2 only inside ``[d2_min_length, d2_max_length]``: short names would match too
    much, and a distance-2 deletion neighbourhood grows quadratically with the length
    (1 + n + n(n-1)/2 variants), which sets both the index size and the probe count.
    """
    if d2_min_length <= length <= d2_max_length:
        return min(max_distance, 2)
    return min(max_distance, 1)


def query_distance(length: int, max_distance: int, d2_min_length: int, d2_max_length: int) -> int:
    """Deletions a query of ``length`` must probe to meet every listed value it may be near."""
    if d2_min_length - 2 <= length <= d2_max_length + 2:
        return min(max_distance, 2)
    return min(max_distance, 1)


def split_registrable(registrable: str) -> tuple[str, str]:
    """``("hsbc", "com.hk")`` for ``hsbc.com.hk``."""
    label, _, suffix = registrable.partition(".")
    return label, suffix


def label_distance(
    q_label: str, q_suffix: str, l_label: str, l_suffix: str, cutoff: int
) -> int | None:
    """Distance between two registrable domains as label edits + 1 for another suffix.

    ``None`` when it exceeds ``cutoff``. ``evil-shop.net`` is at distance 1 from a listed
    ``evil-shop.com``: scammers rotate suffixes as readily as letters.
    """
    extra = 0 if q_suffix == l_suffix else 1
    if extra > cutoff:
        return None
    d = Levenshtein.distance(q_label, l_label, score_cutoff=cutoff - extra)
    total = d + extra
    return total if total <= cutoff else None


# --- confusable skeletons -------------------------------------------------------------------

_CONFUSABLES = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ѕ": "s",
    "ԁ": "d",
    "һ": "h",
    "ӏ": "l",
    "ԛ": "q",
    "ԝ": "w",
    "ɡ": "g",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    # Latin look-alikes outside ASCII
    "ı": "i",
    "ł": "l",
    "ø": "o",
    "ß": "ss",
    # ASCII tricks
    "0": "o",
    "1": "l",
}
_SEQUENCES = (("rn", "m"), ("vv", "w"))


def decode_label(label: str) -> str:
    """Unicode form of a punycode (``xn--``) label; the label itself if not decodable."""
    if label.startswith("xn--"):
        try:
            return label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return label
    return label


def skeleton(text: str) -> str:
    """Latin skeleton of ``text``: accents stripped, look-alikes mapped (see module doc)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    chars = [
        _CONFUSABLES.get(c, c) for c in decomposed if not unicodedata.category(c).startswith("M")
    ]
    out = "".join(chars)
    for seq, rep in _SEQUENCES:
        out = out.replace(seq, rep)
    return out


_TOKEN_SPLIT = re.compile(r"[.\-_]+")


@dataclass(frozen=True, slots=True)
class Brand:
    """An allowlisted official registrable domain used for impersonation checks."""

    label: str
    registrable: str
    owner: str | None


@dataclass(frozen=True, slots=True)
class BrandHit:
    code: ReasonCode
    brand: Brand
    distance: int


class BrandIndex:
    """In-memory index over the allowlisted official domains (a few thousand at most)."""

    def __init__(
        self,
        brands: Iterable[Brand],
        *,
        brand_words: Iterable[str],
        min_length: int,
        max_distance: int,
        d2_min_length: int,
    ) -> None:
        self.words = tuple(sorted(set(brand_words), key=len, reverse=True))
        self.min_length = min_length
        self.max_distance = max_distance
        self.d2_min_length = d2_min_length
        self.official: set[str] = set()
        self.by_label: dict[str, Brand] = {}
        self.by_variant: dict[str, list[Brand]] = {}
        for b in brands:
            self.official.add(b.registrable)
            if len(b.label) < min_length or b.label in self.words:
                continue
            self.by_label.setdefault(b.label, b)
            k = allowed_distance(len(b.label), max_distance, d2_min_length)
            for v in deletion_variants(b.label, k):
                self.by_variant.setdefault(v, []).append(b)

    def __bool__(self) -> bool:
        return bool(self.by_label)

    def _strip_words(self, token: str) -> str | None:
        """The brand label inside ``token`` once brand words are peeled off, if any."""
        seen = 0
        while token and seen < 4:
            if token in self.by_label:
                return token
            for w in self.words:
                if token.startswith(w) and len(token) > len(w):
                    token = token[len(w) :]
                    break
                if token.endswith(w) and len(token) > len(w):
                    token = token[: -len(w)]
                    break
            else:
                return None
            seen += 1
        return token if token in self.by_label else None

    def _core(self, label: str) -> str:
        """``label`` without the brand words of 4+ letters at its ends (``chbank`` -> ``ch``;
        ``bochk`` keeps its ``hk``: short words are too often part of the name)."""
        for _ in range(4):
            for w in self.words:
                if len(w) < 4:
                    continue
                if label.endswith(w) and len(label) > len(w):
                    label = label[: -len(w)]
                    break
                if label.startswith(w) and len(label) > len(w):
                    label = label[len(w) :]
                    break
            else:
                break
        return label

    def _core_differs(self, query: str, brand: str) -> bool:
        """Whether an edit-distance hit on ``brand`` only matches its brand words: a brand
        whose distinctive part (``ch`` of ``chbank``) is shorter than the minimum, or whose
        part is not itself near the query's (``bhbank`` is another bank, not Chong Hing)."""
        core = self._core(brand)
        if core == brand:
            return False
        if len(core) < self.min_length:
            return True
        lim = allowed_distance(len(core), self.max_distance, self.d2_min_length)
        return Levenshtein.distance(self._core(query), core, score_cutoff=lim) > lim

    def match(self, host: str, registrable: str | None) -> BrandHit | None:
        """Impersonation of an official domain by ``host`` (canonical ASCII), or ``None``."""
        if not self.by_label or registrable is None or registrable in self.official:
            return None
        labels = host.split(".")
        decoded = [decode_label(lb) for lb in labels]
        homograph = any(d != lb for d, lb in zip(decoded, labels, strict=True)) or any(
            not c.isascii() for c in host
        )
        reg_label = decode_label(registrable.partition(".")[0])
        reg_skel = skeleton(reg_label)
        # 1. Homograph: the registrable label's skeleton is a brand label.
        b = self.by_label.get(reg_skel)
        if b is not None and (homograph or reg_skel != reg_label):
            return BrandHit(ReasonCode.HOMOGRAPH, b, Levenshtein.distance(reg_label, b.label))
        # 2. Brand label as a token of the host, possibly glued to brand words. The public
        # suffix is not a token: ``bank.info`` does not imitate ``info.gov.hk``.
        uhost = skeleton(_without_suffix(".".join(decoded), registrable))
        for token in _TOKEN_SPLIT.split(uhost):
            found = self._strip_words(token)
            if found is not None:
                b = self.by_label[found]
                code = ReasonCode.HOMOGRAPH if homograph else ReasonCode.BRAND_IMPERSONATION
                return BrandHit(code, b, Levenshtein.distance(reg_skel, b.label))
        # 3. Edit distance between the registrable label (skeleton) and a brand label.
        return self._nearest(reg_skel, homograph)

    def _nearest(self, reg_skel: str, homograph: bool) -> BrandHit | None:
        """The brand whose label is nearest to ``reg_skel`` within the allowed distance."""
        k = allowed_distance(len(reg_skel), self.max_distance, self.d2_min_length)
        best: BrandHit | None = None
        code = ReasonCode.HOMOGRAPH if homograph else ReasonCode.BRAND_IMPERSONATION
        for v in deletion_variants(reg_skel, k):
            for b in self.by_variant.get(v, ()):
                lim = allowed_distance(len(b.label), self.max_distance, self.d2_min_length)
                d = Levenshtein.distance(reg_skel, b.label, score_cutoff=lim)
                if d > lim or (best is not None and d >= best.distance):
                    continue
                if not self._core_differs(reg_skel, b.label):
                    best = BrandHit(code, b, max(d, 1))
        return best


def _without_suffix(host: str, registrable: str) -> str:
    """``host`` without the public suffix of its ``registrable`` domain."""
    suffix = registrable.partition(".")[2]
    if suffix and host.endswith("." + suffix):
        return host[: -len(suffix) - 1]
    return host


def phone_prefix(canonical: str, digits: int) -> str:
    """The number minus its last ``digits`` digits (``+8529123456`` for one digit)."""
    return canonical[:-digits]


def range_key(canonical: str, digits: int) -> bytes:
    return f"{digits}:{phone_prefix(canonical, digits)}".encode("ascii")
