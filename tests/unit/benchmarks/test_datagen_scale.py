"""The scale benchmark's input (issue 21's mix) and its process-tree memory sampler."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import datagen
from benchmarks.bench_scale import PeakSampler, tree_rss_anon
from scameter.identifiers import Kind, normalize

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)


def test_permutation_is_a_bijection() -> None:
    for population in (1, 2, 97, 1000):
        values = {datagen._permuted(i, population, 7) for i in range(population)}
        assert values == set(range(population))


def test_scale_mix_has_the_issue_shares_and_distinct_numbers(tmp_path: Path) -> None:
    n = 20_000
    path = datagen.write_scale_reports(tmp_path / "s.jsonl", n, 7, as_of=AS_OF)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == n
    sources = collections.Counter(r["source"] for r in rows)
    assert abs(sources["public"] / n - 0.85) < 0.02
    assert abs(sources["telecom"] / n - 0.10) < 0.02
    assert abs(sources["police"] / n - 0.05) < 0.02
    numbers = {normalize(Kind.PHONE, r["identifiers"][0]["value"]).value for r in rows}
    assert len(numbers) == n * 7 // 10
    assert len({r["reporter"] for r in rows}) <= n // 50
    oldest = min(datetime.fromisoformat(r["reported_at"]) for r in rows)
    assert AS_OF - oldest <= timedelta(days=61)
    assert (
        path.read_bytes()
        == datagen.write_scale_reports(tmp_path / "t.jsonl", n, 7, as_of=AS_OF).read_bytes()
    )


def test_beyond_hk_numbers_the_mix_goes_on_with_mainland_mobiles() -> None:
    typed = datagen._scale_phone(3 * 10**7 + 12, 7)
    assert normalize(Kind.PHONE, typed).value.startswith("+861")


def test_tree_sampler_counts_children(tmp_path: Path) -> None:
    # A parent holding ~64 MiB that forks a child holding another ~64 MiB: the tree's peak
    # RssAnon is at least the sum, which one process's own figure would miss.
    code = (
        "import os, time\n"
        "a = bytearray(64 << 20)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    b = bytearray(64 << 20); time.sleep(1.0); os._exit(0)\n"
        "time.sleep(1.0); os.waitpid(pid, 0)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    peak = PeakSampler(proc).join()
    proc.wait()
    assert peak >= 120 << 20
    assert tree_rss_anon(os.getpid()) > 0
