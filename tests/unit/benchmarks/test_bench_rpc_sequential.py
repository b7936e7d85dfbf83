"""The sequential figure's arithmetic: an untimed round, alternated samples, ratio per round."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import h2load
from benchmarks.bench_rpc import Body, _sequential


class _FakeLoader:
    """Answers every call with latencies of ``ms`` (per body label) and logs who ran when."""

    def __init__(self, name: str, ms: dict[str, float], log: list[tuple[str, str]]) -> None:
        self.name, self.ms, self.log = name, ms, log

    def __call__(self, body: Body, **_kw: Any) -> h2load.H2Result:
        self.log.append((self.name, body.label))
        lat = [self.ms[body.label] / 1e3] * 9 + [10 * self.ms[body.label] / 1e3]
        return h2load.H2Result(1.0, lat, 10, 0, 0, 0, 0.0)


def test_ratio_is_per_round_and_the_order_flips() -> None:
    log: list[tuple[str, str]] = []
    ours = _FakeLoader("ours", {"hit": 0.3, "miss": 0.5}, log)
    echo = _FakeLoader("echo", {"hit": 0.2, "miss": 0.2}, log)
    bodies = [Body("Check", b"h", "hit"), Body("Check", b"m", "miss")]
    out: Any = _sequential(ours, echo, bodies, 4)  # type: ignore[arg-type]
    # (0.3 + 0.5) / (0.2 + 0.2), once per round
    assert out["ratio"] == pytest.approx([2.0] * 4)
    assert out["p50"] == pytest.approx([0.3, 0.5] * 4)
    assert out["echo_p50"] == pytest.approx([0.2, 0.2] * 4)
    assert out["p99"] == pytest.approx([3.0, 5.0] * 4)
    assert out["errors"] == [0.0]
    # Four untimed calls, then per round and body both servers, the first flipping by round.
    assert len(log) == 4 + 4 * 2 * 2
    firsts = [log[4 + i][0] for i in range(0, 16, 2)]
    assert firsts == ["ours", "ours", "echo", "echo", "ours", "ours", "echo", "echo"]
