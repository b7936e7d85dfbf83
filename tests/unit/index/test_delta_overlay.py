"""The in-memory overlay of the live delta: its key array (what the batch path probes beside
the base's) stays the sorted set of the delta's keys as generations merge in."""

from __future__ import annotations

import random
from pathlib import Path

from scameter.identifiers import Kind
from scameter.index.delta import REMOVED, Overlay


def test_key_array_is_the_sorted_set_of_keys_across_generations(tmp_path: Path) -> None:
    rng = random.Random(5)
    overlay = Overlay("base-1", tmp_path)
    seen: list[bytes] = []
    for generation in range(1, 30):
        batch = {rng.getrandbits(64).to_bytes(8, "big"): REMOVED for _ in range(40)}
        batch.update(dict.fromkeys(rng.sample(seen, min(len(seen), 7)), REMOVED))  # again
        overlay.update(generation, batch, ())
        seen.extend(k for k in batch if k not in seen)
        assert overlay.generation == generation
    assert overlay.keys.tolist() == sorted(int.from_bytes(k, "big") for k in seen)
    assert len(overlay) == len(seen)
    assert all(overlay.records[k] == b"" for k in seen)  # removals
    assert overlay.kinds == frozenset(Kind)  # a removal without an expression: every kind
    assert overlay.removals  # so every exact lookup hashes its key (no value pre-filter)
    assert not overlay.values
