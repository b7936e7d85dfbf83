"""TLS and mTLS, the Prometheus endpoint, message size limits, and identifier-free logs."""

from __future__ import annotations

import logging
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from scameter.errors import InvalidIdentifier
from scameter.rpc import Client, RemoteError, issue_reporter_token
from scameter.rpc.auth import NoAuth
from scameter.verdict import Level
from tests.unit.rpc.fakes import FakeSnapshot, FakeSource
from tests.unit.rpc.harness import SECRET, serve_fake

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d: Path) -> Path:
    """A throwaway CA, a server cert for 127.0.0.1 and a client cert, all EC P-256."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=test-ca", cwd=d)  # fmt: skip
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "")):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)  # fmt: skip
        (d / f"{name}.ext").write_text(ext + "\n" if ext else "basicConstraints=CA:FALSE\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
                 "-extfile", f"{name}.ext", cwd=d)  # fmt: skip
    return d


@needs_openssl
def test_tls_and_mtls(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    source = FakeSource(FakeSnapshot("s", {"+85291234567": Level.HIGH_RISK}))
    cert, key, ca = pki / "server.pem", pki / "server.key", pki / "ca.pem"
    with serve_fake(tmp_path / "a", source, authorizer=NoAuth(), tls_cert=cert, tls_key=key) as h:
        with Client(h.target, tls_ca=pki / "ca.pem") as c:
            assert c.check("+85291234567").level is Level.HIGH_RISK
        with Client(h.target, timeout=2) as plain, pytest.raises(RemoteError) as exc:
            plain.check("+85291234567")
        assert exc.value.code == "UNAVAILABLE"
    with serve_fake(
        tmp_path / "b", source, authorizer=NoAuth(), tls_client_ca=ca, tls_cert=cert, tls_key=key
    ) as h:
        with Client(
            h.target, tls_ca=ca, tls_cert=pki / "client.pem", tls_key=pki / "client.key"
        ) as c:
            assert c.check("+85291234567").level is Level.HIGH_RISK
        with Client(h.target, tls_ca=pki / "ca.pem", timeout=2) as anon:
            with pytest.raises(RemoteError) as exc:
                anon.check("+85291234567")
            assert exc.value.code == "UNAVAILABLE"


def test_metrics_endpoint(tmp_path: Path) -> None:
    source = FakeSource(FakeSnapshot("s"))
    with serve_fake(tmp_path, source, metrics_port=0) as h, Client(h.target, "k-admin") as c:
        c.check("+85290000000")
        port = h.running.metrics_port
        assert port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    assert 'scameter_rpc_requests_total{code="OK",method="Check",worker="0"} 1.0' in text
    assert 'scameter_serving{worker="0"} 1.0' in text
    assert "scameter_snapshot_age_seconds" in text


def test_message_size_limit_on_the_client(tmp_path: Path) -> None:
    source = FakeSource(FakeSnapshot("s"))
    with (
        serve_fake(tmp_path, source) as h,
        Client(h.target, "k-admin", max_message_bytes=4096) as c,
        pytest.raises(RemoteError) as exc,
    ):
        c.check_batch([f"+8529{i:07d}" for i in range(1000)])
    assert exc.value.code == "RESOURCE_EXHAUSTED"


SECRET_NUMBER = "+85297531864"


def test_logs_never_hold_queried_identifiers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Exploding(FakeSnapshot):
        def related(self, raw: str, kind: str | None = None, *, limit: int | None = None) -> list:  # type: ignore[type-arg]
            raise KeyError(raw)  # a library error whose message holds the input

    source = FakeSource(Exploding("s"))
    caplog.set_level(logging.DEBUG, logger="scameter")
    with serve_fake(tmp_path, source) as h, Client(h.target, "k-admin") as c:
        c.check(SECRET_NUMBER)
        c.check_batch([SECRET_NUMBER, "bad" + SECRET_NUMBER])
        with pytest.raises(InvalidIdentifier):
            c.check("bad" + SECRET_NUMBER, "phone")
        with pytest.raises(RemoteError) as exc:
            c.related(SECRET_NUMBER)
        assert exc.value.code == "INTERNAL"
        assert SECRET_NUMBER not in exc.value.details
        token = issue_reporter_token(SECRET, "+85212345678", 60)
        c.report([SECRET_NUMBER], "investment", "text", token)
    assert any(r.__dict__.get("error_type") == "KeyError" for r in caplog.records)
    assert any("report_id" in r.__dict__ for r in caplog.records)
    for record in caplog.records:
        dumped = repr(record.__dict__)
        assert SECRET_NUMBER not in dumped
        assert "85212345678" not in dumped


@needs_openssl
def test_cli_remote_over_tls_and_mtls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scameter.cli import main

    pki = make_pki(tmp_path)
    source = FakeSource(FakeSnapshot("s", {"+85291234567": Level.HIGH_RISK}))
    cert, key, ca = pki / "server.pem", pki / "server.key", pki / "ca.pem"
    client = ["--tls-cert", str(pki / "client.pem"), "--tls-key", str(pki / "client.key")]
    with serve_fake(
        tmp_path / "m", source, authorizer=NoAuth(), tls_client_ca=ca, tls_cert=cert, tls_key=key
    ) as h:
        remote = ["check", "--json", "--remote", h.target, "--tls-ca", str(ca)]
        assert main([*remote, *client, "+85291234567"]) == 1
        assert '"level": "high_risk"' in capsys.readouterr().out
        assert main([*remote, "+85291234567"]) == 2  # no client certificate: refused
        capsys.readouterr()
