"""The ``scameter serve`` flag table against docs/operations.md, and the config it fills."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest

from scameter.errors import ConfigError
from scameter.rpc.config import SERVE_ARGS, ServerConfig, add_serve_arguments, config_from_args
from scameter.settings import Arg, iter_args

DOCS = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
ARGS = {a.flags[-1]: a for a in iter_args(SERVE_ARGS)}


def _documented() -> dict[str, str]:
    """Flag -> its default cell in the "Flags" table of docs/operations.md, backticks off."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Flags", 1)[1].split("\n## ", 1)[0]
    out: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1].startswith("`--"):
            for flag in re.findall(r"--[a-z-]+", cells[1]):
                out[flag] = cells[2].strip("`")
    return out


def test_every_flag_is_documented_and_every_documented_flag_exists() -> None:
    assert set(_documented()) == set(ARGS)


DEFAULTS = [a for a in ARGS.values() if a.default is not None]


@pytest.mark.parametrize("arg", DEFAULTS, ids=[a.flags[-1] for a in DEFAULTS])
def test_documented_defaults_are_the_defaults(arg: Arg) -> None:
    documented = _documented()[arg.flags[-1]]
    assert type(arg.default)(documented) == arg.default


def test_flags_fill_the_config_fields_of_their_names(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    ns = parser.parse_args(
        ["--snapshots", str(tmp_path), "--no-auth", "--threads", "3", "--grace", "2.5",
         "--metrics-port", "0", "--max-batch", "7", "--fold-priority", "low"]
    )  # fmt: skip
    cfg = config_from_args(ns, {})
    assert (cfg.snapshots_root, cfg.threads, cfg.grace) == (tmp_path, 3, 2.5)
    assert cfg.fold_priority == "low"
    assert config_from_args(parser.parse_args(["--snapshots", str(tmp_path), "--no-auth"]),
                            {}).fold_priority == "idle"  # fmt: skip
    assert (cfg.metrics_port, cfg.max_batch, cfg.no_auth) == (0, 7, True)
    fields = {f.name for f in dataclasses.fields(ServerConfig)}
    # Every flag but the secret file (read into reporter_token_secret) is a field as parsed.
    assert {a.name for a in ARGS.values()} - fields == {"reporter_secret_file"}


def test_the_live_split_bound_is_the_folds_own_default(tmp_path: Path) -> None:
    """``--live-split-max-reports`` (rpc may not import ingest, so the default is written twice)
    defaults to the folder's :data:`~scameter.ingest.livesplits.SPLIT_MAX_REPORTS`, is passed on
    as parsed, and refuses a negative bound."""
    from scameter.ingest.livesplits import SPLIT_MAX_REPORTS

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    base = ["--snapshots", str(tmp_path), "--no-auth"]
    assert config_from_args(parser.parse_args(base), {}).live_split_max_reports == SPLIT_MAX_REPORTS
    ns = parser.parse_args([*base, "--live-split-max-reports", "50"])
    assert config_from_args(ns, {}).live_split_max_reports == 50
    with pytest.raises(ConfigError, match="--live-split-max-reports"):
        config_from_args(parser.parse_args([*base, "--live-split-max-reports", "-1"]), {})
