"""Whole-column helpers of the key probe: the vectorised key hash and the phone-range bitsets.

``short_keys`` must give exactly ``xxh3_64_intdigest(tag + value)`` (the key of
``Identifier.key``) for every input length it takes, and ``KeyProbe.hk_blocks`` must hold a
typed HK number's bit exactly when its number less ``digits`` digits is a listed prefix.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import xxhash

from scameter.identifiers import KIND_TAGS, Identifier, Kind
from scameter.index.keyprobe import _block_bits, short_keys


@pytest.mark.parametrize("width", range(8, 16), ids=lambda w: f"{1 + w}-bytes")
def test_short_keys_equal_xxh3_of_tag_and_value(width: int) -> None:
    rng = random.Random(width)
    values = [rng.randbytes(width) for _ in range(9000)]  # more than one block of rows
    values += [b"\x00" * width, b"\xff" * width]
    column = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(-1, width)
    for tag in (b"\x01", b"\x08", b"\xff"):
        got = short_keys(tag, column).tolist()
        assert got == [xxhash.xxh3_64_intdigest(tag + v) for v in values]


def test_short_keys_of_phone_numbers_are_their_identifier_keys() -> None:
    numbers = ["+85291234567", "+85200000000", "+85299999999", "+85261230150"]
    column = np.array(numbers, dtype="S12").view(np.uint8).reshape(-1, 12)
    got = short_keys(KIND_TAGS[Kind.PHONE], column).tolist()
    assert got == [int.from_bytes(Identifier(Kind.PHONE, n).key, "big") for n in numbers]


def test_short_keys_refuse_other_lengths() -> None:
    for width in (7, 16):
        with pytest.raises(ValueError, match="bytes"):
            short_keys(b"\x01", np.zeros((2, width), dtype=np.uint8))
    assert short_keys(b"\x01", np.zeros((0, 12), dtype=np.uint8)).shape == (0,)


@pytest.mark.parametrize("digits", [1, 2, 3, 7])
def test_block_bits_mark_exactly_the_listed_hk_blocks(digits: int) -> None:
    rng = random.Random(digits)
    width = 8 - digits
    numbers = [f"+852{rng.randrange(10**8):08d}" for _ in range(3000)]
    listed = {n[:-digits] for n in rng.sample(numbers, 200)}
    # Entries the bitset must ignore: other countries, other lengths, non-digits.
    others = {"+1212555", "+852", f"+852{'1' * (width + 1)}", f"+852{'x' * width}",
              f"+852{'٣' * width}", f"+853{'1' * width}"}  # fmt: skip
    bits = _block_bits(width, frozenset(listed | others))
    national = np.array([int(n[4:]) for n in numbers], dtype=np.int64)
    block = national // 10**digits
    got = ((bits[block >> 3] >> (block & 7).astype(np.uint8)) & 1).astype(bool).tolist()
    assert got == [n[:-digits] in listed for n in numbers]
