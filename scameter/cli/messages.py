"""``scameter check --message``: whole messages, each answered with every identifier in it.

Responsibility: read the messages (each VALUE is one message; ``-`` is all of stdin as one
message), ask the backend (:func:`scameter.index.message.check_message` locally, the
``CheckMessage`` RPC with ``--remote``), print per message its worst level and one line per
identifier found (or ``--json``: one object per message), and turn the answers into the exit
bitmask.

Invariants:
* Message text is untrusted: everything of it that is printed (the matches, the ``input`` of
  ``--json``) goes through :func:`visible`, so control characters, terminal escape sequences
  and bidi overrides are shown as ``\\uXXXX`` escapes and can neither act nor hide. In JSON
  those escapes are JSON's own, so the object decodes to exactly the original text.
* Exit status (``docs/settings.md``): 1 when a message is HIGH RISK or SUSPICIOUS, 4 when a
  message could not be checked (over 64 KiB), 2 when the lookup failed. A message in which no
  identifier is found (plain text, binary junk) prints ``no identifiers found`` and adds
  nothing: its level is NO RECORD.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from scameter.cli.common import (
    ALERT_LEVELS,
    EXIT_ALERT,
    EXIT_INVALID,
    Backend,
    CommandError,
    open_backend,
)
from scameter.cli.output import render_table
from scameter.identifiers.extract import visible
from scameter.settings import Settings
from scameter.verdict import LEVEL_LABELS, Channel, CheckContext, Language, Level, in_language

if TYPE_CHECKING:
    from scameter.index.message import MessageAnswer

_ANSI = {
    Level.HIGH_RISK: "\x1b[1;31m",
    Level.SUSPICIOUS: "\x1b[1;38;5;208m",
    Level.POSSIBLE: "\x1b[1;33m",
    Level.NO_RECORD: "\x1b[35m",
    Level.VERIFIED: "\x1b[1;32m",
}


def as_text(raw: str) -> str:
    """``raw`` with undecodable bytes (``surrogateescape`` from argv) as U+FFFD: valid text
    that can travel over gRPC and be written to any UTF-8 stream."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_messages(values: Sequence[str]) -> list[str]:
    """The messages to check: each VALUE, ``-`` meaning the whole of stdin (one message)."""
    if not values:
        raise CommandError("no message to check: give MESSAGE arguments, or - to read stdin")
    out: list[str] = []
    for value in values:
        if value == "-":
            if sys.stdin is None:
                raise CommandError("no stdin to read the message from")
            buf = getattr(sys.stdin, "buffer", None)
            data = buf.read().decode("utf-8", "replace") if buf is not None else sys.stdin.read()
            out.append(as_text(data))
        else:
            out.append(as_text(value))
    return out


def _answer(
    backend: Backend, text: str, sender: str | None, context: CheckContext | None
) -> MessageAnswer | str:
    """The answer, or the one-line reason a message cannot be checked (too long)."""
    from scameter.errors import InvalidMessage
    from scameter.index.message import message_size_error

    problem = message_size_error(text)
    if problem is not None:
        return problem
    try:
        answer: MessageAnswer = backend.check_message(text, sender, context)
    except InvalidMessage as exc:
        return str(exc)
    except CommandError:
        raise
    except Exception as exc:
        raise CommandError(f"message check failed against {backend.name}: {exc}") from exc
    return answer


def json_line(obj: object) -> str:
    """One JSON line with every control, bidi and invisible character escaped (JSON's own
    ``\\uXXXX``, so it decodes to the same object)."""
    return visible(json.dumps(obj, ensure_ascii=False)) + "\n"


def _summary(n: int, answer: MessageAnswer | str, colour: bool) -> str:
    if isinstance(answer, str):
        return f"message {n}: INVALID: {answer}\n"
    found = sum(1 for item in answer.items if not item.sender)
    label = LEVEL_LABELS[answer.level][0]
    if colour:
        label = f"{_ANSI[answer.level]}{label}\x1b[0m"
    if not found:
        return f"message {n}: {label}: no identifiers found\n"
    noun = "identifier" if found == 1 else "identifiers"
    line = f"message {n}: {label}: {found} {noun} found"
    if answer.truncated:
        line += f" (more in the text: only the first {found} were checked)"
    return line + "\n"


def _in_language(answer: MessageAnswer | str, language: Language) -> MessageAnswer | str:
    """The answer with its items' reason sentences in ``language`` (``--lang``)."""
    if isinstance(answer, str) or language is Language.EN:
        return answer
    items = tuple(replace(i, verdict=in_language(i.verdict, language)) for i in answer.items)
    return replace(answer, items=items)


def render_answers(
    answers: Sequence[MessageAnswer | str], *, colour: bool, language: Language = Language.EN
) -> str:
    """Per message: its summary line, then the table of its items (inputs made visible)."""
    parts: list[str] = []
    for n, answer in enumerate(answers, 1):
        if n > 1:
            parts.append("\n")
        parts.append(_summary(n, answer, colour))
        if isinstance(answer, str) or not answer.items:
            continue
        shown = [
            replace(
                item.verdict,
                input=("sender " if item.sender else "") + visible(item.verdict.input),
            )
            for item in answer.items
        ]
        parts.append(render_table(shown, colour=colour, language=language))
    return "".join(parts)


def _status(answers: Sequence[MessageAnswer | str]) -> int:
    status = 0
    for answer in answers:
        if isinstance(answer, str):
            status |= EXIT_INVALID
        elif answer.level in ALERT_LEVELS:
            status |= EXIT_ALERT
    return status


def run_messages(args: argparse.Namespace, settings: Settings) -> int:
    """``scameter check --message``: see the module docstring."""
    messages = read_messages(args.values)
    context = None
    if args.context or args.overseas:
        context = CheckContext(
            channel=Channel(args.context) if args.context else None, overseas=bool(args.overseas)
        )
    sender = as_text(args.sender) if args.sender else None
    backend = open_backend(settings)
    try:
        answers = [_answer(backend, text, sender, context) for text in messages]
    finally:
        backend.close()
    language: Language = getattr(args, "lang", Language.EN)
    answers = [_in_language(a, language) for a in answers]
    out = sys.stdout
    if args.json:
        for text, answer in zip(messages, answers, strict=True):
            if isinstance(answer, str):
                obj: dict[str, object] = {"input": text, "level": None, "items": [],
                                          "truncated": False, "error": answer}  # fmt: skip
            else:
                obj = answer.to_dict()
            out.write(json_line(obj))
    else:
        colour = settings.use_color(out.isatty())
        out.write(render_answers(answers, colour=colour, language=language))
    out.flush()
    return _status(answers)


__all__ = ["as_text", "json_line", "read_messages", "render_answers", "run_messages"]
