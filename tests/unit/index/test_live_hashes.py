"""The in-memory ``hashes`` table of a live delta (:class:`LiveHashes`): after any sequence of
take-ins (new records, replaced, removed, several in one 2-byte bucket) a search finds exactly
the records a plain dict model holds under each prefix, and drops the base's of their keys."""

from __future__ import annotations

import random

from scameter.identifiers import Kind
from scameter.identifiers.model import KIND_TAGS
from scameter.index import format as fmt
from scameter.index.hashes import identifier_hash, record_hashes
from scameter.index.hashsearch import Hit, LiveHashes
from scameter.verdict import Level

STRINGS = ("investment",)


def _record(number: str, level: Level, count: int) -> bytes:
    body = fmt.pack_record(KIND_TAGS[Kind.PHONE][0], fmt.LEVEL_CODES[level],
                           number.encode("ascii"), True, fmt.label_block([], [0], []), count,
                           count, None, None, None, None, None)  # fmt: skip
    return fmt.seal(body)


def _numbers() -> list[str]:
    """Numbers of which many share a 2-byte hash bucket with another."""
    by_head: dict[bytes, list[str]] = {}
    for i in range(20_000):
        n = f"+8526{i:07d}"
        by_head.setdefault(identifier_hash(Kind.PHONE, n)[:2], []).append(n)
    shared = [ns for ns in by_head.values() if len(ns) >= 2]
    return [n for ns in shared[:40] for n in ns] + [ns[0] for ns in list(by_head.values())[:40]]


def test_take_ins_keep_every_bucket_equal_to_a_dict_model() -> None:
    rng = random.Random(7)
    numbers = _numbers()
    keys = {n: rng.getrandbits(64).to_bytes(8, "big") for n in numbers}
    live = LiveHashes()
    model: dict[bytes, tuple[str, bytes]] = {}
    for _ in range(30):
        batch: dict[bytes, bytes] = {}
        for n in rng.sample(numbers, 25):
            what = rng.random()
            buf = b"" if what < 0.3 else _record(n, rng.choice(list(fmt.LEVEL_CODES)[1:]), 1)
            batch[keys[n]] = buf
            model[keys[n]] = (n, buf)
        live.take(batch, STRINGS)
    assert len(live) == len(model)
    base: list[Hit] = [(fmt.TABLE_RECORDS, k, b"base", STRINGS) for k in keys.values()]
    for n in numbers:
        h = identifier_hash(Kind.PHONE, n)
        for p in (h[:2], h[:3], h[:4]):
            got = live.layer(list(base), [p])
            want = sorted(
                k for k, (m, buf) in model.items()
                if buf and identifier_hash(Kind.PHONE, m).startswith(p)
            )  # fmt: skip
            assert sorted(hit[1] for hit in got if hit[2] != b"base") == want
            # a base candidate stays only when the delta holds nothing of its key
            assert {hit[1] for hit in got if hit[2] == b"base"} == set(keys.values()) - set(model)
            for table, k, buf, strings in got:
                if buf != b"base":
                    assert buf == model[k][1]
                    assert table == (fmt.TABLE_ALLOW if buf[1] == 5 else fmt.TABLE_RECORDS)
                    assert strings == STRINGS


def test_a_url_record_is_found_under_every_expression_of_its_listing() -> None:
    body = fmt.pack_record(KIND_TAGS[Kind.URL][0], fmt.LEVEL_CODES[Level.SUSPICIOUS],
                           b"http://sites.example/view/scam", True, fmt.label_block([], [], []),
                           2, 2, None, None, None, "sites.example/view/scam", None)  # fmt: skip
    key = b"\x01" * 8
    live = LiveHashes()
    live.take({key: fmt.seal(body)}, ())
    hashes = record_hashes(Kind.URL, "http://sites.example/view/scam", "sites.example/view/scam")
    assert len(hashes) == 2  # the listing and its directory form
    for h in hashes:
        assert [hit[1] for hit in live.layer([], [h[:4]])] == [key]
    live.take({key: b""}, ())  # fell out: found under none, and still standing for the base's
    assert all(live.layer([(0, key, b"base", ())], [h[:4]]) == [] for h in hashes)
