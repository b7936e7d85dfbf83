"""The compiled near probe keys (``scameter.index._nearfast``) are the Python path's.

``filtered_variant_keys(namespace, text, k, prefixes)`` must give exactly the sorted distinct
8-byte keys of :func:`~scameter.index.near.variant_hashes` whose high 32 bits are among the
sorted ``prefixes`` (what ``NearRules._filtered`` keeps of ``variant_hash_stream``): random
ASCII labels of every length up to the XXH3 limit, namespaces of domains and handles, k of 0
to 2, prefix arrays holding some of the variants (and random others). Without the extension
the Python path answers the same near matches.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.identifiers import Kind
from scameter.index.near import NS_DOMAIN, handle_namespace, variant_hashes
from scameter.index.nearmatch import NEAR_KEYS_PATH
from scameter.verdict import Level, ReasonCode
from tests.unit.index.helpers import build, rec

REQUIRED = bool(os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"))
needs_compiled = pytest.mark.skipif(
    NEAR_KEYS_PATH != "compiled" and not REQUIRED,
    reason="scameter.index._nearfast is not built here (no C compiler at install time)",
)
_NAMESPACES = st.sampled_from([NS_DOMAIN, handle_namespace("telegram"), b"", b"\x00xy"])


def _reference(ns: bytes, text: str, k: int, prefixes: np.ndarray) -> list[bytes]:
    held = set(prefixes.tolist())
    kept = {h for h in variant_hashes(ns, text, k) if h >> 32 in held}
    return [h.to_bytes(8, "big") for h in sorted(kept)]


@needs_compiled
@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    ns=_NAMESPACES,
    text=st.text("abcdefghij-0123456789aaa", max_size=40)
    | st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=12),
    k=st.integers(0, 2),
    data=st.data(),
)
def test_compiled_keys_are_the_python_keys(
    ns: bytes, text: str, k: int, data: st.DataObject
) -> None:
    from scameter.index._nearfast import filtered_variant_keys

    heads = sorted({h >> 32 for h in variant_hashes(ns, text, k)})
    chosen = data.draw(st.lists(st.sampled_from(heads), max_size=8)) if heads else []
    noise = data.draw(st.lists(st.integers(0, 2**32 - 1), max_size=20))
    prefixes = np.array(sorted(set(chosen + noise)), dtype=np.uint32)
    got = filtered_variant_keys(ns, text.encode("ascii"), k, prefixes)
    assert got == _reference(ns, text, k, prefixes)


@needs_compiled
def test_compiled_keys_decline_what_they_do_not_handle() -> None:
    from scameter.index._nearfast import filtered_variant_keys

    prefixes = np.zeros(3, dtype=np.uint32)
    assert filtered_variant_keys(NS_DOMAIN, b"abc", 3, prefixes) is None
    assert filtered_variant_keys(NS_DOMAIN, b"a" * 240, 1, prefixes) is None  # > 240 bytes
    assert filtered_variant_keys(NS_DOMAIN, b"abc", 1, np.zeros(3, dtype=np.uint64)) is None
    assert filtered_variant_keys(NS_DOMAIN, b"abc", 1, b"\x00" * 12) is None  # no uint32 format
    with pytest.raises(TypeError):
        filtered_variant_keys("D", b"abc", 1, prefixes)  # type: ignore[arg-type]
    # Every variant kept: the distinct keys, sorted (a label with a repeated letter).
    every = np.array(sorted({h >> 32 for h in variant_hashes(NS_DOMAIN, "aab", 1)}), np.uint32)
    assert filtered_variant_keys(NS_DOMAIN, b"aab", 1, every) == _reference(
        NS_DOMAIN, "aab", 1, every
    )


def test_without_the_extension_near_matches_answer_alike(tmp_path: Path) -> None:
    """In a process where ``scameter.index._nearfast`` cannot be imported (no compiler at
    install time): the Python path, the same near match."""
    listed = rec(Kind.DOMAIN, "harbourquest.org", Level.HIGH_RISK,
                 reasons=(ReasonCode.POLICE_CONFIRMED,))  # fmt: skip
    snap = tmp_path / build(tmp_path, [listed])
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["scameter.index._nearfast"] = None  # as if built without a compiler
        from scameter.index import Snapshot
        from scameter.index.nearmatch import NEAR_KEYS_PATH
        with Snapshot.open({str(snap)!r}) as s:
            v = s.check("harbourqeust.org", "domain")
            print(NEAR_KEYS_PATH, v.level.value, v.similar_to.canonical)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["python", "suspicious", "harbourquest.org"]
