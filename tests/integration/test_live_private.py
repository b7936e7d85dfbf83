"""Private lookups of live reports end to end: a real ``scameter serve --intake-log`` folds a
Report RPC into what ``SearchHashes`` answers, and the private client (prefixes out, full
hashes back, matched locally) finds the number within the fold latency."""

from __future__ import annotations

from pathlib import Path

import grpc

from scameter.identifiers import Kind, normalize
from scameter.index.hashes import lookup_hashes, prefixes
from scameter.private import PrivateClient
from scameter.rpc import Client, issue_reporter_token
from scameter.rpc.private import LIVE_CACHE_SECONDS, LIVE_NEGATIVE_CACHE_SECONDS
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.verdict import Level
from tests.integration.test_live_serve import SECRET, SERVE, _until, one_report_base
from tests.unit.rpc.procs import server_process

LISTED = "+85261234300"
TARGET = "+85261234301"


def _durations(target: str, value: str) -> tuple[float, float]:
    """The cache durations of a raw ``SearchHashes`` answer about ``value`` (a phone)."""
    ident = normalize(Kind.PHONE, value)
    with grpc.insecure_channel(target) as ch:
        resp: pb.SearchHashesResponse = pb_grpc.ScameterStub(ch).SearchHashes(
            pb.SearchHashesRequest(hash_prefixes=prefixes(lookup_hashes(ident), ident.kind)),
            timeout=10,
        )
    return (
        resp.cache_duration.ToTimedelta().total_seconds(),
        resp.negative_cache_duration.ToTimedelta().total_seconds(),
    )


def test_a_reported_number_reaches_private_checks_within_the_fold(tmp_path: Path) -> None:
    snaps, intake = one_report_base(tmp_path, LISTED), tmp_path / "intake"
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth"]
    args += ["--intake-log", str(intake), "--live-interval", "0.2", "--workers", "2"]
    env = {"SCAMETER_REPORTER_SECRET": SECRET}
    with (
        server_process(args, code=SERVE, env=env) as srv,
        Client(srv.target, timeout=10) as c,
        PrivateClient(srv.target, timeout=10) as pc,
    ):
        assert pc.check(LISTED, "phone").level is Level.POSSIBLE
        # asked before the report: the miss is cached only briefly by a live server
        assert pc.check(TARGET, "phone").level is Level.NO_RECORD
        assert _durations(srv.target, TARGET) == (LIVE_CACHE_SECONDS, LIVE_NEGATIVE_CACHE_SECONDS)

        def report(i: int, value: str = TARGET) -> None:
            token = issue_reporter_token(SECRET.encode(), f"+8529876{i:04d}", 600)
            c.report([("phone", value)], "investment", "", token)

        report(0)
        _until(lambda: pc.check(TARGET, "phone").level is Level.POSSIBLE)
        got = pc.check(TARGET, "phone")
        assert (got.report_count, got.reporters, got.categories) == (1, 1, ("investment",))
        for i in (1, 2):
            report(i)
        # Every worker (two processes on one port: each call may reach either) layers the same
        # delta: fresh clients, no cache, all answer SUSPICIOUS once the fold is in.
        _until(lambda: c.check(TARGET).level is Level.SUSPICIOUS)

        def fresh() -> Level:
            with PrivateClient(srv.target, timeout=10) as p:
                return p.check(TARGET, "phone").level

        _until(lambda: all(fresh() is Level.SUSPICIOUS for _ in range(8)))
        # a base listing the delta raised: the delta's record stands for the base's
        for i in (3, 4):
            report(i, LISTED)
        _until(lambda: c.check(LISTED).level is Level.SUSPICIOUS)
        with PrivateClient(srv.target, timeout=10) as p:
            v = p.check(LISTED, "phone")
        assert (v.level, v.report_count, v.reporters) == (Level.SUSPICIOUS, 3, 3)
        assert {len(x) for x in pc.sent} == {2}  # only phone prefixes ever went out
