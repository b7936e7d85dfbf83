"""Case ids in a packed record (format 2.1): stored after the owner under flag 0x40; a record
without the flag (every 2.0 record) reads as no case ids."""

from __future__ import annotations

import pytest

from scameter.index import format as fmt

LABELS = fmt.label_block([], [], [])


def _pack(**kw: object) -> bytes:
    args: dict[str, object] = {"listing": "evil.example/", "owner": None} | kw
    return fmt.seal(
        fmt.pack_record(3, 4, b"evil.example", True, LABELS, 2, 0, 10, 20, None, **args)  # type: ignore[arg-type]
    )


def test_case_ids_round_trip_after_listing_and_owner() -> None:
    buf = _pack(owner="Some Bank", case_ids=("app-2", "個案-1"), case_count=25)
    assert buf[2] & fmt.F_CASES
    rec = fmt.decode_record(buf, [])
    assert (rec.listing, rec.owner) == ("evil.example/", "Some Bank")
    assert (rec.case_ids, rec.case_count) == (("app-2", "個案-1"), 25)
    assert fmt.record_cases(buf) == (("app-2", "個案-1"), 25)


def test_a_record_without_case_ids_is_the_2_0_layout() -> None:
    buf = _pack()
    assert not buf[2] & fmt.F_CASES
    assert fmt.record_cases(buf) == ((), 0)
    assert fmt.decode_record(buf, []).case_ids == ()


def test_too_many_case_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 255"):
        _pack(case_ids=tuple(str(n) for n in range(256)), case_count=256)
