"""``scameter demo``: the whole engine in one command, on the bundled Hong Kong sample.

Responsibility: a scripted tour a newcomer can read: build a snapshot from the bundled sample,
start the real gRPC server on a free loopback port, and walk through what the users of
design.md section 1 do (an incoming call, a link with a lookalike domain, a bank's FPS payee
check, an analyst's bulk file, a public report that shows up after a re-ingest and a hot swap),
then stop the server cleanly.

Invariants:
* Everything lives under one directory (``--dir``, default the per-user data dir); the
  snapshots go to ``<dir>/snapshots``, so with the default dir ``scameter check VALUE`` works
  right after the demo. The demo's intake log is recreated on every run.
* The server is a real ``scameter serve`` subprocess on 127.0.0.1, stopped with SIGTERM and
  awaited; it is killed if the tour fails, so no process outlives the command.
* Each step prints what it did and what came back; a failing step stops the tour with the
  one-line error of the CLI.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scameter.cli.common import Arg, Command, CommandError, SubParsers
from scameter.cli.output import details, level_label
from scameter.demo import STORYLINE, bundled_sample_dir
from scameter.settings import Settings
from scameter.verdict import Channel, CheckContext, Verdict

#: A number that is not in the sample: the public reports it in step 5.
NEW_SCAM_NUMBER = "5388 6120"
_SERVER_START_TIMEOUT = 60.0
_SWAP_TIMEOUT = 30.0
_CALL_TIMEOUT = 30.0


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _show(v: Verdict) -> None:
    canonical = f" ({v.canonical})" if v.canonical and v.canonical != v.input else ""
    _say(f"     {v.input}{canonical}: {level_label(v)}")
    _say(f"       {details(v)}")


def _ingest(inputs: list[Path], snapshots_root: Path) -> Any:
    from scameter.ingest import run_ingest

    return run_ingest(inputs, snapshots_root, max_reject_ratio=0.2)


class _ServerLog(threading.Thread):
    """Copies the server's output to its log file and catches the port it reports.

    The server listens on port 0 and logs ``{"event": "serving", "port": N}`` (one JSON object
    per line, docs/operations.md): the kernel picks a free port and we learn which, with no
    window in which another process could take a port we picked.
    """

    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        super().__init__(daemon=True)
        self.proc, self.log = proc, log
        self.port: int | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("wb") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                if self.port is None and b'"serving"' in line:
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        self.port = int(json.loads(line)["port"])
                        self.ready.set()
        self.ready.set()  # the server exited: wake the waiter


@contextlib.contextmanager
def demo_server(snapshots_root: Path, intake: Path, secret_file: Path, log: Path) -> Iterator[str]:
    """Run ``scameter serve`` on a free loopback port for the length of the block; yields its
    ``host:port``. Stopped with SIGTERM (killed if the block raised)."""
    cmd = [
        sys.executable,
        "-m",
        "scameter",
        "serve",
        "--snapshots",
        str(snapshots_root),
        "--listen",
        "127.0.0.1:0",
        "--no-auth",
        "--intake-log",
        str(intake),
        "--reporter-secret-file",
        str(secret_file),
        "--poll-interval",
        "0.2",
        "--grace",
        "5",
    ]
    # The with-block closes the pipe and reaps the process whatever happens inside.
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        reader = _ServerLog(proc, log)
        reader.start()
        try:
            reader.ready.wait(_SERVER_START_TIMEOUT)
            if reader.port is None:
                raise CommandError(f"the demo server did not start; its log: {log}")
            yield f"127.0.0.1:{reader.port}"
        except BaseException:
            proc.kill()
            proc.wait()
            reader.join()
            raise
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise CommandError(f"the demo server did not stop on SIGTERM; log: {log}") from None
        finally:
            reader.join()
    _say(f"   server stopped (exit status {code}); its log: {log}")


def _wait_for_snapshot(client: Any, snapshot_id: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < _SWAP_TIMEOUT:
        if client.snapshot_info()["snapshot_id"] == snapshot_id:
            return time.monotonic() - start
        time.sleep(0.05)  # polling a remote server: there is no event to wait on
    raise CommandError(f"the server did not pick up snapshot {snapshot_id} in {_SWAP_TIMEOUT}s")


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from scameter.rpc import Client

    started = time.monotonic()
    base = Path(args.dir).expanduser() if args.dir else settings.data_dir
    snapshots_root, intake = base / "snapshots", base / "intake"
    base.mkdir(parents=True, exist_ok=True)
    snapshots_root.mkdir(exist_ok=True)
    shutil.rmtree(intake, ignore_errors=True)
    secret_file = base / "reporter.secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    secret = secret_file.read_text().strip().encode()
    sample = bundled_sample_dir()
    inputs = [sample / "reports.jsonl", sample / "allowlist.jsonl"]

    _say(f"scameter demo: everything under {base}")
    _say()
    first = _ingest(inputs, snapshots_root)
    _say(f"1. Ingest: {first.records_read:,} sample reports and allowlist entries")
    _say(f"   -> snapshot {first.snapshot_id} ({first.manifest.total:,} identifiers) is CURRENT")

    with demo_server(snapshots_root, intake, secret_file, base / "demo-server.log") as target:
        # Generous deadline: the first calls warm the server's caches, and the demo may run
        # on a busy machine (CI); the app's own deadlines are far tighter.
        client = Client(target, timeout=_CALL_TIMEOUT)
        try:
            client.wait_ready(timeout=_SERVER_START_TIMEOUT)
            _say(f"2. Server: scameter serve on {target} (gRPC, no auth: local demo)")
            _say()
            _say("3. The app checks incoming calls:")
            call = CheckContext(channel=Channel.INCOMING_CALL)
            _show(client.check(STORYLINE["call_high_risk"], context=call))
            _show(client.check(STORYLINE["verified_phone"], context=call))
            _show(client.check("+852 2527 7177", context=CheckContext(Channel.INCOMING_CALL, True)))
            _say()
            _say(
                "4. A link in an SMS: a lookalike of a domain the police listed, and a short link:"
            )
            _show(client.check(STORYLINE["near_match_url"]))
            _show(client.check(STORYLINE["platform_url"]))
            _show(client.check("https://bit.ly/some-other-link"))
            _say()
            payee = client.check_payee(proxy_id=STORYLINE["fps_high_risk"])
            _say(f"5. A bank's FPS hook checks payee FPS ID {STORYLINE['fps_high_risk']}:")
            _say(f"     alert={payee.alert} level={payee.level.value}")
            _say(f"     EN: {payee.warning_en}")
            _say(f"     中文: {payee.warning_zh_hant}")
            _say()
            _bulk_step(base, target)
            _say()
            _report_step(client, secret, inputs, intake, snapshots_root)
        finally:
            client.close()
    _say()
    hint = "" if args.dir is None else f" --snapshots {snapshots_root}"
    _say(f"Done in {time.monotonic() - started:.1f}s. Try: scameter check{hint} '6391 2745'")
    return 0


def _bulk_step(base: Path, target: str) -> None:
    from scameter.cli import main

    src, out = base / "demo-payees.csv", base / "demo-payees.checked.csv"
    rows = [
        ["case", "payee"],
        ["A-1", STORYLINE["call_high_risk"]],
        ["A-2", STORYLINE["account_high_risk"]],
        ["A-3", "2233 3000"],
        ["A-4", "hkpost-redelivery.top"],
        ["A-5", "not a number"],
        ["A-6", "9000 0000"],
    ]
    src.write_text("".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    _say(f"6. An analyst's list: scameter bulk {src.name} --column payee --remote {target}")
    summary = io.StringIO()
    with contextlib.redirect_stderr(summary):  # keep the tour in one stream, in order
        status = main(["bulk", str(src), "-o", str(out), "--column", "payee", "--remote", target])
    with out.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            level, error = row["scameter_level"], row["scameter_error"]
            _say(f"     {row['case']:<4} {row['payee']:<22} {level:<11} {error}".rstrip())
    _say(f"   {summary.getvalue().strip()}")
    _say(f"   (exit status {status}: 1 = alerts found, 4 = invalid rows, bits add up)")


def _report_step(
    client: Any, secret: bytes, inputs: list[Path], intake: Path, snapshots_root: Path
) -> None:
    from scameter.rpc.tokens import issue_reporter_token

    _say(f"7. Three members of the public report {NEW_SCAM_NUMBER} in the app:")
    _show(client.check(NEW_SCAM_NUMBER))
    for i in range(3):
        token = issue_reporter_token(secret, f"demo-reporter-{i}", 600)
        report_id, duplicate = client.report(
            [("phone", NEW_SCAM_NUMBER)], "investment", "WhatsApp stock tips group", token
        )
        _say(f"     report {report_id} acknowledged{' (duplicate)' if duplicate else ''}")
    old = client.snapshot_info()["snapshot_id"]
    second = _ingest([*inputs, intake], snapshots_root)
    _say(f"8. Re-ingest with the intake log -> snapshot {second.snapshot_id}")
    _say(
        f"   vs the previous snapshot: {second.added} added, {second.removed} removed, "
        f"{second.changed} changed (scameter snapshot diff shows which)"
    )
    took = _wait_for_snapshot(client, second.snapshot_id)
    _say(f"9. Hot swap: the server moved from {old} to {second.snapshot_id} in {took:.1f}s")
    _say("   without a restart; the reported number now:")
    _show(client.check(NEW_SCAM_NUMBER))
    info = client.snapshot_info()
    _say(f"   snapshot info: {json.dumps({k: info[k] for k in ('snapshot_id', 'total')})}")


DEMO = Command(
    "demo",
    help="build the sample snapshot, start a server and tour the engine",
    description=(
        "Build a snapshot from the bundled Hong Kong sample, start the gRPC server on a "
        "free loopback port, run a scripted tour through the real client, stop cleanly."
    ),
    run=run_demo,
    args=(Arg(("--dir",), metavar="D", help="work directory (default: the user data dir)"),),
)


def add_parser(sub: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    DEMO.add_to(sub, parents)


__all__ = ["DEMO", "NEW_SCAM_NUMBER", "add_parser", "demo_server", "run_demo"]
