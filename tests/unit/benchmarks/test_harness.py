"""The benchmark harness on a package of fake benchmark modules, plus the data generator and
a tiny run of the real baselines.

No test here judges a timing: figures are checked for shape and presence only.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import shutil
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest

from benchmarks import datagen, harness, stores
from benchmarks.__main__ import main, sizes_for
from benchmarks.__main__ import parser as cli_parser
from benchmarks.core import BenchContext, Figure
from scameter.identifiers.model import Kind

GOOD = """
from benchmarks.core import BenchContext, Figure

def run(ctx: BenchContext) -> list[Figure]:
    listing = sorted(p.name for p in ctx.workdir.iterdir())
    (ctx.workdir / "scratch").write_text("x")
    return [
        Figure("good.rate", "rate", 1234567.0, "ops/s", size=ctx.sizes[0],
               samples=(1e6, 1234567.0, 2e6), target=">= 1", note="a | pipe",
               params={"workdir": ctx.workdir.name, "listing": listing, "quick": ctx.quick}),
        Figure("good.nan", "ratio", float("nan"), "x"),
    ]
"""
BOOM = """
def run(ctx):
    raise RuntimeError("kaboom")
"""
EXITS = """
import sys

def run(ctx):
    sys.exit(3)
"""
BAD_RETURN = """
def run(ctx):
    return "not a list"
"""
HELPER = """
raise AssertionError("non-bench modules must not be imported by discovery")
"""


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway package with good, crashing and malformed benchmark modules."""
    name = f"fakebench_{uuid.uuid4().hex[:8]}"
    pkg = tmp_path / "pkgs" / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for module, text in {
        "bench_good": GOOD,
        "bench_boom": BOOM,
        "bench_bad_return": BAD_RETURN,
        "bench_exits": EXITS,
        "helper": HELPER,
    }.items():
        (pkg / f"{module}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    importlib.invalidate_caches()
    yield name
    for mod in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[mod]


def _ctx(tmp_path: Path) -> BenchContext:
    return BenchContext(sizes=[100], workdir=tmp_path / "work", quick=True, repeats=1)


def test_discover_finds_only_bench_modules(fake_package: str) -> None:
    assert harness.discover(fake_package) == ["bad_return", "boom", "exits", "good"]


def test_discover_the_real_suite_includes_the_baselines() -> None:
    assert "baselines" in harness.discover()


@pytest.mark.parametrize(
    ("only", "expected"),
    [
        ((), ["bad_return", "boom", "exits", "good"]),
        (("good",), ["good"]),
        (("bench_good", "boom", "good"), ["good", "boom"]),
    ],
    ids=["all", "short-name", "prefixed-and-duplicate"],
)
def test_select(only: tuple[str, ...], expected: list[str]) -> None:
    assert harness.select(["bad_return", "boom", "exits", "good"], only) == expected


def test_select_unknown_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown benchmark\(s\): nope; available: a, b"):
        harness.select(["a", "b"], ["nope"])


def test_one_crashing_module_does_not_stop_the_suite(fake_package: str, tmp_path: Path) -> None:
    result = harness.run_suite(_ctx(tmp_path), package=fake_package)
    by_name = {m.name: m for m in result.modules}
    assert list(by_name) == ["bad_return", "boom", "exits", "good"]
    assert result.failed
    assert by_name["good"].ok
    assert [f.benchmark for f in by_name["good"].figures] == ["good.rate", "good.nan"]
    boom = by_name["boom"]
    assert not boom.ok
    assert boom.error is not None
    assert "kaboom" in boom.error
    assert [(f.benchmark, f.metric, f.note) for f in boom.figures] == [
        ("boom", "error", "RuntimeError: kaboom")
    ]
    assert by_name["exits"].figures[0].note == "SystemExit: 3"
    bad = by_name["bad_return"]
    assert not bad.ok
    assert bad.figures[0].note.startswith("TypeError:")


def test_each_module_gets_a_fresh_private_workdir(fake_package: str, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    first = harness.run_suite(ctx, package=fake_package, only=["good"])
    second = harness.run_suite(ctx, package=fake_package, only=["good"])
    for result in (first, second):
        params = result.figures[0].params
        assert params["workdir"] == "good"
        assert params["listing"] == []  # the previous run's scratch file is gone
        assert params["quick"] is True
    assert not (ctx.workdir / "good").exists()  # removed after the module ran


def test_only_good_modules_means_not_failed(fake_package: str, tmp_path: Path) -> None:
    result = harness.run_suite(_ctx(tmp_path), package=fake_package, only=["good"])
    assert not result.failed


def test_json_document_shape(fake_package: str, tmp_path: Path) -> None:
    result = harness.run_suite(_ctx(tmp_path), package=fake_package, command="python -m x")
    out = tmp_path / "r" / "results.json"
    harness.write_json(result, out)
    doc = json.loads(out.read_text())  # strict JSON: NaN was written as null
    assert doc["format"] == harness.RESULTS_FORMAT
    assert doc["command"] == "python -m x"
    assert doc["sizes"] == [100]
    assert doc["quick"] is True
    assert doc["failed"] is True
    env = doc["environment"]
    assert set(env) >= {"date", "machine", "python", "libraries", "git", "tools"}
    assert env["machine"]["nproc"] >= 1
    assert set(env["machine"]) >= {"cpu_model", "memory_bytes", "platform"}
    assert env["python"]["version"].startswith("3.")
    for lib in ("phonenumbers", "lmdb", "pyroaring", "grpcio", "xxhash", "rapidfuzz", "redis"):
        assert lib in env["libraries"]
    assert env["libraries"]["lmdb"]  # installed, so a version string
    assert "commit" in env["git"]
    assert [m["name"] for m in doc["modules"]] == ["bad_return", "boom", "exits", "good"]
    assert "kaboom" in doc["modules"][1]["error"]
    rate = next(f for f in doc["figures"] if f["benchmark"] == "good.rate")
    assert rate["value"] == 1234567.0
    assert rate["spread"] == [1e6, 2e6]
    assert rate["samples"] == [1e6, 1234567.0, 2e6]
    assert rate["params"]["workdir"] == "good"
    nan = next(f for f in doc["figures"] if f["benchmark"] == "good.nan")
    assert nan["value"] is None


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (1234567.0, "1,230,000"),
        (999.9, "1,000"),
        (12.345, "12.3"),
        (0.01234, "0.0123"),
        (0.0, "0"),
        (-2.5, "-2.50"),
        (math.inf, "inf"),
    ],
    ids=["millions", "rounds-up", "tens", "small", "zero", "negative", "inf"],
)
def test_fmt_number(x: float, text: str) -> None:
    assert harness.fmt_number(x) == text


def test_markdown_table_rows() -> None:
    figs = [
        Figure("a.rate", "rate", 1234567.0, "ops/s", size=1000, samples=(1e6, 2e6), target=">= 1"),
        Figure("a.note", "ratio", 2.0, "x", note="x | y"),
        Figure("a", "error", 0.0, "", note="RuntimeError: kaboom"),
    ]
    lines = harness.markdown_table(figs).splitlines()
    assert lines[0].startswith("| benchmark | size | metric | median |")
    assert lines[2] == (
        "| a.rate | 1,000 | rate | 1,230,000 | ops/s | 1,000,000 - 2,000,000 | >= 1 |  |"
    )
    assert "x \\| y" in lines[3]  # a pipe in a note does not break the table
    assert lines[4] == "| a |  | error | - |  |  |  | RuntimeError: kaboom |"


def test_markdown_report_names_command_machine_and_errors(
    fake_package: str, tmp_path: Path
) -> None:
    result = harness.run_suite(_ctx(tmp_path), package=fake_package, command="python -m b")
    text = harness.markdown(result)
    assert text.startswith("Command: `python -m b`")
    assert "CPUs" in text
    assert "| good.rate |" in text
    assert "* `boom`: RuntimeError: kaboom" in text


def test_cli_exit_code_is_nonzero_when_a_module_raised(
    fake_package: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "q.json"
    args = ["--quick", "--json", str(out), "--workdir", str(tmp_path / "w")]
    assert main(args, package=fake_package) == 1
    assert json.loads(out.read_text())["failed"] is True
    assert main([*args, "--only", "good"], package=fake_package) == 0
    assert "| good.rate |" in capsys.readouterr().out
    assert main(["--only", "nope"], package=fake_package) == 2


@pytest.mark.parametrize(
    ("argv", "sizes"),
    [
        ([], [10**5, 10**6]),
        (["--quick"], [2000]),
        (["--with-1e7"], [10**5, 10**6, 10**7]),
        (["--size", "1e3", "--size", "10**4", "--size", "1_000"], [1000, 10**4]),
    ],
    ids=["default", "quick", "with-1e7", "explicit"],
)
def test_sizes(argv: list[str], sizes: list[int]) -> None:
    assert sizes_for(cli_parser().parse_args(argv)) == sizes


# -- the data generator -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", datagen.SUPPORTED_KINDS, ids=str)
def test_datagen_is_deterministic_and_distinct(kind: Kind) -> None:
    a = datagen.identifiers(kind, 500, seed=7)
    assert len(a) == len(set(a)) == 500
    assert datagen.identifiers(kind, 500, seed=7) == a
    assert datagen.identifiers(kind, 500, seed=8) != a


def test_datagen_phones_are_canonical_hk_e164() -> None:
    for v in datagen.phones(300, seed=3):
        n = phonenumbers.parse(v)
        assert n.country_code == 852
        assert phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) == v


def test_hits_and_misses_are_disjoint() -> None:
    stored, hits, misses = datagen.hits_and_misses(Kind.PHONE, 1000, 300, seed=5)
    assert stored == datagen.phones(1000, seed=5)
    assert len(hits) == len(misses) == 300
    assert set(hits) <= set(stored)
    assert not set(misses) & set(stored)
    assert len(set(misses)) == 300


def test_raw_phone_forms_normalise_back() -> None:
    canonical = datagen.phones(400, seed=11)
    raw = datagen.raw_phone_forms(canonical, seed=11)
    assert raw != list(canonical)
    for r, c in zip(raw, canonical, strict=True):
        parsed = phonenumbers.parse(r, "HK")
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == c


def test_datagen_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="no generator"):
        datagen.identifiers(Kind.CRYPTO_WALLET, 3)


# -- stores and the real baselines, tiny -------------------------------------------------------


def test_redis_missing_is_a_clear_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server on this PATH
    with (
        pytest.raises(stores.RedisUnavailable, match="apt-get install redis-server"),
        stores.redis_server(tmp_path / "r"),
    ):
        pass


@pytest.mark.skipif(
    shutil.which("redis-server") is None and not os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"),
    reason="redis-server not installed (.ci/run installs it and then requires it)",
)
def test_redis_server_is_always_stopped(tmp_path: Path) -> None:
    with pytest.raises(KeyError), stores.redis_server(tmp_path / "r") as handle:  # noqa: PT012
        handle.client.set(b"k", b"v")
        assert handle.client.get(b"k") == b"v"
        raise KeyError("body fails")
    assert handle.process.poll() is not None


def test_baselines_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    argv = ["--quick", "--size", "300", "--repeats", "1", "--only", "baselines"]
    assert main([*argv, "--json", str(out), "--workdir", str(tmp_path / "w")]) == 0
    figs = json.loads(out.read_text())["figures"]
    names = {(f["benchmark"], f["metric"]) for f in figs}
    assert ("baselines.lmdb.get.hit", "rate") in names
    assert ("baselines.dict.get.hit", "rate") in names
    assert ("baselines.sqlite.select.hit", "rate") in names
    assert ("baselines.naive_bulk.phonenumbers+set", "rate") in names
    redis_ran = ("baselines.redis.get.hit", "rate") in names
    redis_skipped = ("baselines.redis", "skipped") in names
    assert redis_ran != redis_skipped
    assert redis_ran == (shutil.which("redis-server") is not None)
    assert all(f["value"] is None or f["value"] >= 0 for f in figs)


@pytest.mark.parametrize(
    ("value", "target", "metric", "status"),
    [
        (350_000.0, ">= 300000", "rate", "met"),
        (150_000.0, ">= 300,000", "rate", "missed by 2.00x"),
        (0.4, "<= 0.5", "p50_ms", "met"),
        (1.5, "<= 0.5", "p50_ms", "missed by 3.00x"),
        (0.9, "< 1 (issue 7)", "ratio", "met"),
        (1.04, "< 1 (issue 7)", "ratio", "missed by 1.04x"),
        (2.0, "about right", "ratio", ""),
        (2170.0, "<= 1.1 x no-live", "p50_us", ""),
        (1200.0, "<= 1.15x echo", "p50_us", ""),
        (0.0, ">= 5", "skipped", "not measured"),
        (1.0, None, "rate", ""),
    ],
    ids=["ge-met", "ge-missed", "le-met", "le-missed", "lt-met", "lt-missed", "unparsed",
         "relative", "relative-tight", "skipped", "no-target"],
)  # fmt: skip
def test_target_status(value: float, target: str | None, metric: str, status: str) -> None:
    fig = Figure("b", metric, value, "", target=target)
    assert harness.target_status(fig) == status


def test_markdown_lists_targets_first(fake_package: str, tmp_path: Path) -> None:
    text = harness.markdown(harness.run_suite(_ctx(tmp_path), package=fake_package))
    targets, _, rest = text.partition("All figures:")
    assert "| good.rate | 100 | rate | 1,230,000 | ops/s | >= 1 | met |" in targets
    assert "| good.nan |" in rest


def test_quick_mode_warns_about_a_slow_module(
    fake_package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "QUICK_MODULE_BUDGET_S", -1.0)  # every module is "slow"
    said: list[str] = []
    harness.run_suite(_ctx(tmp_path), package=fake_package, only=["good"], progress=said.append)
    assert any(m.startswith("[good] warning:") and "quick mode" in m for m in said)
    said.clear()
    full = dataclasses.replace(_ctx(tmp_path), quick=False)
    harness.run_suite(full, package=fake_package, only=["good"], progress=said.append)
    assert not any("warning" in m for m in said)


def test_every_shipped_benchmark_module_has_run() -> None:
    """``python -m benchmarks`` imports every ``bench_*`` module and calls ``run(ctx)``; one
    without it fails the suite (and CI's ``--quick`` step), so catch it here first."""
    from benchmarks.harness import discover

    missing = [
        name
        for name in discover()
        if not callable(getattr(importlib.import_module(f"benchmarks.bench_{name}"), "run", None))
    ]
    assert missing == []
