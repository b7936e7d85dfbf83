"""Verdict <-> protobuf round trips, the flags of ``scameter serve``, payee proxy kinds."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from scameter.errors import ConfigError
from scameter.index.batchpath import BatchAnswer
from scameter.rpc.convert import fill_batch, verdict_from_pb, verdict_to_pb
from scameter.rpc.payee import proxy_kind
from scameter.rpc.server import (
    ServerConfig,
    add_serve_arguments,
    config_from_args,
    parse_duration,
    split_listen,
)
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.verdict import Level, Reason, ReasonCode, SimilarTo, Verdict

VERDICTS = {
    "minimal": Verdict("x", None, None, Level.NO_RECORD),
    "invalid": Verdict.invalid("bad", "invalid phone: too short", "phone"),
    "full": Verdict(
        input="+852 9123 4567",
        kind="phone",
        canonical="+85291234567",
        level=Level.HIGH_RISK,
        reasons=(Reason.of(ReasonCode.POLICE_CONFIRMED), Reason.of(ReasonCode.CLUSTER_LINK)),
        categories=("investment", "romance"),
        report_count=7,
        reporters=5,
        first_reported="2026-01-01T00:00:00Z",
        last_reported="2026-11-01T00:00:00Z",
        matched="evil.example/",
        similar_to=SimilarTo("evil.example", 1, Level.SUSPICIOUS),
        cluster_size=4,
        cluster_worst=Level.HIGH_RISK,
        verified_owner=None,
        snapshot="20261126T000000Z-abc",
        extra={"range": "+8529123"},
    ),
    "verified": Verdict(
        "2823 8888", "phone", "+85228238888", Level.VERIFIED, verified_owner="HSBC"
    ),
    "empty-canonical": Verdict("", "domain", "", Level.POSSIBLE),
}


@pytest.mark.parametrize("v", VERDICTS.values(), ids=VERDICTS.keys())
def test_round_trip(v: Verdict) -> None:
    back = verdict_from_pb(verdict_to_pb(v))
    assert back == v
    assert back.extra == v.extra
    assert back.to_dict() == v.to_dict()


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("someone@example.com", "email"),
        ("1234567", "fps_id"),
        ("123 456 789", "fps_id"),
        ("91234567", "phone"),
        ("+852 9123 4567", "phone"),
    ],
    ids=["email", "fps-7", "fps-9", "mobile-8", "e164"],
)
def test_proxy_kind(raw: str, kind: str) -> None:
    assert proxy_kind(raw) == kind


def _parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_serve_arguments(p)
    return p.parse_args(list(argv))


def test_flags_to_config(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"0123456789abcdef0123456789abcdefXYZ\n")
    ns = _parse(
        "--snapshots", str(tmp_path), "--listen", "0.0.0.0:7000", "--workers", "2",
        "--no-auth", "--intake-log", str(tmp_path / "in"),
        "--reporter-secret-file", str(secret), "--max-snapshot-age", "36h",
    )  # fmt: skip
    cfg = config_from_args(ns)
    assert cfg.workers == 2
    assert cfg.reporter_token_secret == b"0123456789abcdef0123456789abcdefXYZ"
    assert cfg.max_snapshot_age == timedelta(hours=36)
    assert cfg.hash_key() is not None


def test_secret_from_environment(tmp_path: Path) -> None:
    ns = _parse("--snapshots", str(tmp_path), "--no-auth", "--intake-log", str(tmp_path / "i"))
    cfg = config_from_args(ns, {"SCAMETER_REPORTER_SECRET": " an-environment-secret-of-32-bytes\n"})
    assert cfg.reporter_token_secret == b"an-environment-secret-of-32-bytes"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b" \n", "is empty"), (b"short-secret\n", "is 12 bytes")],
    ids=["empty", "blank", "short"],
)
def test_unusable_secret_file_is_refused_naming_the_fix(
    tmp_path: Path, content: bytes, message: str
) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(content)
    ns = _parse("--snapshots", str(tmp_path), "--no-auth", "--intake-log", str(tmp_path / "i"),
                "--reporter-secret-file", str(secret))  # fmt: skip
    with pytest.raises(ConfigError, match=message) as exc:
        config_from_args(ns)
    assert "head -c 32 /dev/urandom | base64" in str(exc.value)


def test_auth_flags_are_exclusive_and_required(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _parse("--snapshots", str(tmp_path))
    with pytest.raises(SystemExit):
        _parse("--snapshots", str(tmp_path), "--no-auth", "--auth-keys", "k.toml")


BAD_CONFIGS = {
    "no-auth-choice": {},
    "both-auth": {"no_auth": True, "auth_keys": Path("k.toml")},
    "cert-no-key": {"no_auth": True, "tls_cert": Path("c.pem")},
    "ca-no-cert": {"no_auth": True, "tls_client_ca": Path("ca.pem")},
    "zero-workers": {"no_auth": True, "workers": 0},
    "intake-no-secret": {"no_auth": True, "intake_log": Path("i")},
    "bad-listen": {"no_auth": True, "listen": "localhost"},
}


@pytest.mark.parametrize("kw", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_configs(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ServerConfig(snapshots_root=Path("s"), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("45m", 2700), ("36h", 129600), ("2d", 172800)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "x", "-5", "0h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("listen", "want"), [("127.0.0.1:0", ("127.0.0.1", 0)), ("[::1]:50051", ("::1", 50051))]
)
def test_split_listen(listen: str, want: tuple[str, int]) -> None:
    assert split_listen(listen) == want


def test_every_verdict_field_has_its_proto_field() -> None:
    # convert.py derives both directions from dataclasses.fields(Verdict); the .proto must
    # name each field the same (extra travels as extra_json). cache_duration alone is the
    # server's policy, not a Verdict field, and comes last.
    wire = {"extra": "extra_json"}
    names = [wire.get(f.name, f.name) for f in dataclasses.fields(Verdict)]
    assert [*names, "cache_duration"] == [f.name for f in pb.Verdict.DESCRIPTOR.fields]


def test_zero_and_empty_values_are_not_sent() -> None:
    # proto3 plain fields at their default are absent from the wire, as before the rewrite.
    msg = verdict_to_pb(Verdict("x", None, None, Level.NO_RECORD))
    assert {f.name for f, _ in msg.ListFields()} == {"input", "level", "cache_duration"}


def test_fill_batch_writes_plain_misses_as_fill_verdict_would() -> None:
    hit = Verdict(input="9123 4567", kind="phone", canonical="+85291234567",
                  level=Level.HIGH_RISK, reasons=(Reason.of(ReasonCode.POLICE_CONFIRMED),),
                  report_count=3, snapshot="s1")  # fmt: skip
    answer = BatchAnswer(
        ["98765432", "9123 4567", "1234567", "junk"],
        [None, hit, None, Verdict.invalid("junk", "invalid phone: not a number", "phone")],
        ["phone", None, "fps_id", None],
        ["+85298765432", None, "1234567", None],
        "s1",
    )
    out = pb.CheckBatchResponse()
    fill_batch(out.verdicts, answer)
    want = pb.CheckBatchResponse()
    for v in answer.to_list():
        want.verdicts.append(verdict_to_pb(v))
    assert out == want
    assert [verdict_from_pb(m) for m in out.verdicts] == answer.to_list()
    assert out.verdicts[2].kind == "fps_id"
    assert out.verdicts[0].level == pb.LEVEL_NO_RECORD


def test_every_verdict_carries_its_cache_duration() -> None:
    """Listed and verified answers get --cache-seconds, NO RECORD and invalid ones
    --no-record-cache-seconds, on the single and the batch (template) path alike."""
    from scameter.rpc import convert

    def seconds(out: pb.CheckBatchResponse) -> list[int]:
        return [m.cache_duration.ToTimedelta().seconds for m in out.verdicts]

    answer = BatchAnswer(
        ["98765432", "9123 4567", "junk", "2823 8888"],
        [None, VERDICTS["full"], VERDICTS["invalid"], VERDICTS["verified"]],
        ["phone", None, None, None],
        ["+85298765432", None, None, None],
        "s1",
    )
    out = pb.CheckBatchResponse()
    fill_batch(out.verdicts, answer)
    assert seconds(out) == [
        convert.DEFAULT_NO_RECORD_CACHE_SECONDS,
        convert.DEFAULT_CACHE_SECONDS,
        convert.DEFAULT_NO_RECORD_CACHE_SECONDS,
        convert.DEFAULT_CACHE_SECONDS,
    ]
    try:
        convert.set_cache_durations(900, 5)
        out = pb.CheckBatchResponse()
        fill_batch(out.verdicts, answer)  # the cached miss template follows the new policy
        assert seconds(out) == [5, 900, 5, 900]
        assert verdict_to_pb(VERDICTS["minimal"]).cache_duration.seconds == 5
    finally:
        convert.set_cache_durations(
            convert.DEFAULT_CACHE_SECONDS, convert.DEFAULT_NO_RECORD_CACHE_SECONDS
        )
