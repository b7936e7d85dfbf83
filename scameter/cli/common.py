"""What every ``scameter`` subcommand shares: exit codes, the one-line error, the lookup backend,
and :class:`Command`, the declaration every subcommand makes of itself.

Responsibility: open the thing that answers lookups, local snapshot or remote server, behind
one small :class:`Backend` protocol, so ``check``, ``bulk`` and ``related`` do not care which;
turn a :class:`Command` (name, help, one table of arguments, the function that runs it) into
its ``argparse`` sub-parser.

Invariants:
* Exit status is a bitmask (documented in ``docs/settings.md``): :data:`EXIT_ALERT` (1) when
  something is HIGH RISK or SUSPICIOUS, :data:`EXIT_FAILED` (2) when a lookup or the command
  failed, :data:`EXIT_INVALID` (4) when some input was invalid.
* A missing snapshot is one actionable line, never a traceback.
* Imports of the index and the rpc client are deferred to the command that needs them, so
  ``scameter --help`` stays fast and a broken optional layer only breaks its own commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from scameter.errors import ScameterError

# Arg, OneOf, Section and add_arguments are the vocabulary every command's table is written
# in. They are defined beside the settings because the server's flags (scameter.rpc.config)
# use them too, which the CLI's own modules cannot; the subcommands take them from here.
from scameter.settings import Arg, ArgTable, OneOf, Section, Settings, add_arguments
from scameter.verdict import CheckContext, Level, Verdict

if TYPE_CHECKING:
    from scameter.index.message import MessageAnswer

EXIT_OK = 0
EXIT_ALERT = 1
EXIT_FAILED = 2
EXIT_INVALID = 4

ALERT_LEVELS = frozenset({Level.HIGH_RISK, Level.SUSPICIOUS})
#: Seconds each remote call may take (``--remote``).
REMOTE_TIMEOUT = 30.0


#: What a subcommand runs: parsed arguments and settings in, exit status out.
Runner = Callable[[argparse.Namespace, Settings], int]
# A string: argparse's action classes are not subscriptable at run time.
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand, declared as data: its arguments are one table (``args``), from which
    the parser is built and against which docs/settings.md is checked."""

    name: str
    help: str
    run: Runner
    args: ArgTable = ()
    description: str | None = None

    def add_to(
        self, sub: SubParsers, parents: Sequence[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser:
        """Add this command's sub-parser to ``sub``; returns it."""
        p = sub.add_parser(
            self.name, parents=list(parents), help=self.help, description=self.description
        )
        add_arguments(p, self.args)
        p.set_defaults(func=self.run)
        return p


class CommandError(ScameterError):
    """A command cannot go on; the message is the one line the user sees."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def at_least_one(what: str) -> Callable[[str], int]:
    """An argparse ``type``: a whole number >= 1, the error naming ``what`` it counts."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of {what} >= 1")
        return n

    return parse


def exit_status(verdicts: Sequence[Verdict]) -> int:
    """The exit bitmask for a set of answers (see :data:`EXIT_ALERT`, :data:`EXIT_INVALID`)."""
    status = EXIT_OK
    for v in verdicts:
        if v.error is not None:
            status |= EXIT_INVALID
        elif v.level in ALERT_LEVELS:
            status |= EXIT_ALERT
    return status


class Backend(Protocol):
    """Whatever answers lookups: a local snapshot or a remote server."""

    @property
    def name(self) -> str: ...

    def check(self, raw: str, kind: str | None, context: CheckContext | None) -> Verdict: ...

    def check_many(self, raws: Sequence[str], kind: str | None) -> list[Verdict]: ...

    def related(self, raw: str, kind: str | None, limit: int | None) -> list[Verdict]: ...

    def check_message(
        self, text: str, sender: str | None, context: CheckContext | None
    ) -> MessageAnswer: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class LocalBackend:
    """Lookups against the snapshot ``CURRENT`` names under ``snapshots_root``."""

    snapshot: Any
    snapshots_root: Path

    @property
    def name(self) -> str:
        return f"snapshot {self.snapshot.manifest.snapshot_id} in {self.snapshots_root}"

    def check(self, raw: str, kind: str | None, context: CheckContext | None) -> Verdict:
        result: Verdict = self.snapshot.check(raw, kind, context=context)
        return result

    def check_many(self, raws: Sequence[str], kind: str | None) -> list[Verdict]:
        result: list[Verdict] = self.snapshot.check_many(list(raws), kind)
        return result

    def related(self, raw: str, kind: str | None, limit: int | None) -> list[Verdict]:
        return list(self.snapshot.related(raw, kind, limit=limit))

    def check_message(
        self, text: str, sender: str | None, context: CheckContext | None
    ) -> MessageAnswer:
        from scameter.index.message import check_message

        return check_message(self.snapshot, text, sender=sender, context=context)

    def close(self) -> None:
        self.snapshot.close()


@dataclass(slots=True)
class RemoteBackend:
    """Lookups through a scameter gRPC server with :class:`scameter.rpc.Client`."""

    client: Any
    target: str
    #: Items per CheckBatch call; the server caps batches (see docs/operations.md).
    batch_cap: int = 1000

    @property
    def name(self) -> str:
        return f"server {self.target}"

    def check(self, raw: str, kind: str | None, context: CheckContext | None) -> Verdict:
        result: Verdict = self.client.check(raw, kind, context=context)
        return result

    def check_many(self, raws: Sequence[str], kind: str | None) -> list[Verdict]:
        out: list[Verdict] = []
        for i in range(0, len(raws), self.batch_cap):
            out.extend(self.client.check_batch(list(raws[i : i + self.batch_cap]), kind))
        return out

    def related(self, raw: str, kind: str | None, limit: int | None) -> list[Verdict]:
        return list(self.client.related(raw, kind, limit=limit))

    def check_message(
        self, text: str, sender: str | None, context: CheckContext | None
    ) -> MessageAnswer:
        answer: MessageAnswer = self.client.check_message(text, sender=sender, context=context)
        return answer

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


def no_snapshot_message(settings: Settings) -> str:
    origin = {
        "flag": "--snapshots",
        "env": "SCAMETER_SNAPSHOTS",
        "default": "the default location",
    }[settings.snapshots_origin]
    return (
        f"no snapshot in {settings.snapshots_root} ({origin}): build one with "
        f"'scameter ingest --snapshots {settings.snapshots_root} REPORTS.jsonl', "
        "or run 'scameter demo' to build the sample one"
    )


def open_snapshot(settings: Settings, snapshot_id: str | None = None) -> Any:
    """Open the current snapshot (or ``snapshot_id``) under ``settings.snapshots_root``."""
    from scameter.errors import SnapshotNotFound
    from scameter.index import Snapshot

    snapshots_root = settings.snapshots_root
    try:
        if snapshot_id is None:
            return Snapshot.open_current(snapshots_root)
        return Snapshot.open(snapshots_root / snapshot_id)
    except SnapshotNotFound as exc:
        if snapshot_id is not None:
            raise CommandError(f"no snapshot {snapshot_id!r} in {snapshots_root}: {exc}") from exc
        raise CommandError(no_snapshot_message(settings)) from exc


def open_backend(settings: Settings) -> Backend:
    """The remote server when ``settings.remote`` is set, else the local current snapshot."""
    if settings.remote:
        from scameter.rpc import Client

        # An analyst's tool, not the app's hot path: a deadline that survives a busy server
        # and a 1,000-item batch, while an unreachable server still fails in bounded time.
        client = Client(
            settings.remote,
            api_key=settings.api_key,
            tls_ca=settings.tls_ca,
            tls_cert=settings.tls_cert,
            tls_key=settings.tls_key,
            timeout=REMOTE_TIMEOUT,
        )
        return RemoteBackend(client, settings.remote)
    return LocalBackend(open_snapshot(settings), settings.snapshots_root)


__all__ = [
    "ALERT_LEVELS",
    "EXIT_ALERT",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_OK",
    "Arg",
    "ArgTable",
    "Backend",
    "Command",
    "CommandError",
    "LocalBackend",
    "OneOf",
    "RemoteBackend",
    "Runner",
    "Section",
    "SubParsers",
    "add_arguments",
    "at_least_one",
    "exit_status",
    "no_snapshot_message",
    "open_backend",
    "open_snapshot",
]
