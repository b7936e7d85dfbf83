"""The query side of the deletion neighbourhood probes enough variants, and no more.

:func:`scameter.index.nearmatch.query_deletions` may probe fewer deletions than the builder
stores; these properties check, on pure strings, that every listed value the lookup would
accept (edit distance 1..allowed) still shares a probed variant with the query.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from scameter.index import IndexPolicy
from scameter.index.near import allowed_distance, deletion_variants, query_distance
from scameter.index.nearmatch import query_deletions

POLICY = IndexPolicy()
ALPHABET = "abcde"


def _allowed(length: int) -> int:
    p = POLICY
    return allowed_distance(
        length, p.near_max_distance, p.near_distance2_min_length, p.near_distance2_max_length
    )


@st.composite
def near_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """A query and a listed value up to two random edits away from it."""
    q = draw(st.text(ALPHABET, min_size=3, max_size=16))
    listed = q
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["sub", "ins", "del"]))
        i = draw(st.integers(0, len(listed)))
        c = draw(st.sampled_from(ALPHABET))
        if op == "ins":
            listed = listed[:i] + c + listed[i:]
        elif listed and i < len(listed):
            listed = listed[:i] + (c if op == "sub" else "") + listed[i + 1 :]
    return q, listed


@settings(max_examples=400, deadline=None)
@given(near_pairs())
def test_every_acceptable_listed_value_shares_a_probed_variant(pair: tuple[str, str]) -> None:
    q, listed = pair
    d = Levenshtein.distance(q, listed)
    if not 1 <= d <= _allowed(len(listed)):
        return
    probed = deletion_variants(q, query_deletions(len(q), POLICY))
    stored = deletion_variants(listed, _allowed(len(listed)))
    assert probed & stored, (q, listed, d)


@pytest.mark.parametrize("length", range(1, 30))
def test_never_more_than_the_builder_side_bound(length: int) -> None:
    p = POLICY
    wide = query_distance(
        length, p.near_max_distance, p.near_distance2_min_length, p.near_distance2_max_length
    )
    assert query_deletions(length, p) <= wide


@pytest.mark.parametrize(
    ("length", "deletions"),
    [(5, 1), (7, 1), (8, 2), (12, 2), (14, 2), (15, 1), (24, 1)],
    ids=str,
)
def test_band_edges(length: int, deletions: int) -> None:
    assert query_deletions(length, POLICY) == deletions
