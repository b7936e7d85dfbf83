"""``check``/``bulk``/``related --remote`` against a real server give the local answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scameter.cli import main
from scameter.cli.demo import demo_server
from tests.unit.cli.conftest import EXPECTED, build_fixture_snapshot


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    base = tmp_path_factory.mktemp("remote")
    build_fixture_snapshot(base / "snapshots")
    secret = base / "secret"
    secret.write_text("0123456789abcdef0123456789abcdef")
    with demo_server(base / "snapshots", base / "intake", secret, base / "server.log") as target:
        from scameter.rpc import Client

        with Client(target) as client:
            client.wait_ready(timeout=60)
        yield base / "snapshots", target


def _json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(x) for x in capsys.readouterr().out.splitlines()]


def test_check_remote_equals_local(
    served: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    snaps, target = served
    values = [*EXPECTED, "not an identifier!"]
    local_status = main(["check", "--json", "--snapshots", str(snaps), *values])
    local = _json(capsys)
    remote_status = main(["check", "--json", "--remote", target, *values])
    remote = _json(capsys)
    assert remote == local
    assert remote_status == local_status == 5


def test_bulk_and_related_remote(
    served: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, target = served
    src, out = tmp_path / "in.txt", tmp_path / "out.csv"
    src.write_text("6391 2745\n18222\nx@\n", encoding="utf-8")
    assert main(["bulk", str(src), "-o", str(out), "--remote", target]) == 5
    levels = [line.split(",")[1] for line in out.read_text().splitlines()[1:]]
    assert levels == ["high_risk", "verified", "invalid"]
    capsys.readouterr()
    assert main(["related", "--json", "--remote", target, "1684203"]) == 1
    assert {r["canonical"] for r in _json(capsys)} == {"+85263912745", "1684203"}


def test_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["check", "--remote", f"127.0.0.1:{port}", "18222"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scameter: error: check failed against server")
    assert len(err.strip().splitlines()) == 1


def test_demo_server_that_cannot_start(tmp_path: Path) -> None:
    from scameter.cli.common import CommandError

    missing_secret = tmp_path / "no-such-secret"
    with (
        pytest.raises(CommandError, match="did not start"),
        demo_server(tmp_path, tmp_path / "intake", missing_secret, tmp_path / "log"),
    ):
        pytest.fail("the block must not run")
    assert "cannot read" in (tmp_path / "log").read_text()


def test_message_check_and_bulk_remote_equal_local(
    served: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snaps, target = served
    messages = [
        "【HK Post】Pay at https://hkpost-redelivery.top/track or call 6391 2745",
        "香港郵政 6391\u202e2745",
        "x" * 70_000,
    ]
    args = ["check", "--json", "--message", "--sender", "+852 9000 0000", *messages]
    local_status = main([*args[:1], "--snapshots", str(snaps), *args[1:]])
    local = _json(capsys)
    remote_status = main([*args[:1], "--remote", target, *args[1:]])
    remote = _json(capsys)
    assert remote == local
    assert remote_status == local_status == 5
    src = tmp_path / "sms.csv"
    src.write_text("sms\n" + "\n".join(messages) + "\n", encoding="utf-8")
    outs: list[str] = []
    for where in (["--snapshots", str(snaps)], ["--remote", target]):
        out = tmp_path / f"out{len(outs)}.csv"
        assert main(["bulk", str(src), "--message-column", "sms", "-o", str(out), *where]) == 5
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1]
    assert [line.split(",")[1] for line in outs[0].splitlines()[1:]] == [
        "high_risk", "high_risk", "invalid"
    ]  # fmt: skip


def test_bulk_payee_remote_equals_local(
    served: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snaps, target = served
    src, local, remote = tmp_path / "p.csv", tmp_path / "local.csv", tmp_path / "remote.csv"
    src.write_text("proxy_id,account\n6391 2745,\n5123 4567,\n,\nnot a payee!,\n", "utf-8")
    local_status = main(["bulk", "--payee", str(src), "-o", str(local), "--snapshots", str(snaps)])
    remote_status = main(["bulk", "--payee", str(src), "-o", str(remote), "--remote", target])
    assert remote.read_text("utf-8") == local.read_text("utf-8")
    assert local_status == remote_status == 5
    assert "high_risk" in local.read_text("utf-8")
