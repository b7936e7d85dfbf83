"""The up-front batch size refusal: the whole-batch sum and the row walk agree."""

from __future__ import annotations

import pytest

from scameter.rpc.servicer import (
    _ENVELOPE_BYTES,
    VERDICT_FIXED_BYTES,
    VERDICT_INPUT_FACTOR,
    _refuse_oversized_batch,
)
from scameter.rpc.status import Abort


def _cost(raw: str) -> int:
    return VERDICT_FIXED_BYTES + VERDICT_INPUT_FACTOR * len(raw.encode("utf-8"))


@pytest.mark.parametrize(
    "raws",
    [["+85291234567"] * 10, ["電話號碼"] * 7, ["a", "ü" * 40, "+852 9123 4567"]],
    ids=["ascii", "cjk", "mixed"],
)
def test_a_batch_that_just_fits_passes_and_one_byte_less_names_the_row(raws: list[str]) -> None:
    need = sum(map(_cost, raws)) + _ENVELOPE_BYTES
    _refuse_oversized_batch(raws, need)  # exactly at the limit: fits
    with pytest.raises(Abort) as e:
        _refuse_oversized_batch(raws, need - 1)
    assert f"send at most {len(raws) - 1} of these" in e.value.details
