"""Checking a whole message (SMS, WhatsApp, e-mail text): every identifier in it, and its sender.

Responsibility: :func:`check_message` is the one answer for a pasted message, shared by
``scameter check --message``, ``scameter bulk --message-column`` and the ``CheckMessage`` RPC:

1. refuse a text over :data:`MAX_MESSAGE_BYTES` (:class:`~scameter.errors.InvalidMessage`);
2. extract its identifiers (:func:`scameter.identifiers.extract.extract`: controls and bidi
   characters removed, full-width folded, defanged links read; at most ``limit`` distinct
   identifiers, ``truncated`` set beyond that, never silently);
3. answer each distinct identifier through the snapshot's normal ``check`` path (its
   canonical value and kind), so every rule of a single check applies to it, the cross-kind
   derivations included; each occurrence in the text becomes an item with its span;
4. with a ``sender`` (the sender shown on the phone), check it too, and apply the *sender
   rule*: a message whose text names a bank or government body
   (:mod:`scameter.identifiers.official_names`) but whose sender is not a registered ``#``
   sender id (an ``sms_sender`` the snapshot answers VERIFIED, from the allowlist) gets
   ``UNREGISTERED_SENDER`` on the sender's item and is at least POSSIBLE;
5. the message's level is the worst of its items (NO RECORD when there are none).

Invariants: never raises for any ``str`` text within the size limit (junk gives no items);
items are in text order, the sender's item (span ``None``) first; an item's ``verdict.input``
is the original text of the match, ``text[span[0]:span[1]]``, controls and all (display it
with :func:`scameter.identifiers.extract.visible`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol

from scameter.errors import InvalidIdentifier, InvalidMessage
from scameter.identifiers import Kind
from scameter.identifiers.extract import DEFAULT_LIMIT, extract
from scameter.identifiers.official_names import OfficialEntity, OfficialNames, bundled_names
from scameter.verdict import SEVERITY, CheckContext, Level, Reason, ReasonCode, Verdict

#: The largest message text checked at once: 64 KiB of UTF-8 (issue 17). An SMS is at most a
#: few hundred characters and a long e-mail a few KiB; more is a file, not a message.
MAX_MESSAGE_BYTES: Final = 64 * 1024


class Checker(Protocol):
    """What :func:`check_message` needs of a snapshot: the normal single check."""

    def check(
        self, raw: str, kind: Kind | str | None = None, *, context: CheckContext | None = None
    ) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class MessageItem:
    """One identifier found in the message (or the sender), with its own verdict.

    ``span`` is ``(start, end)`` in code points of the original text, ``None`` for the sender's
    item; ``controls_removed``: a control or invisible (bidi, zero-width) character inside the
    match was removed before it was read; ``defanged``: it was written defanged.
    """

    verdict: Verdict
    span: tuple[int, int] | None
    defanged: bool = False
    controls_removed: bool = False

    @property
    def sender(self) -> bool:
        return self.span is None

    def to_dict(self) -> dict[str, Any]:
        """The usual check object plus ``span``, ``defanged``, ``controls_removed``, ``sender``."""
        out = self.verdict.to_dict()
        out["span"] = None if self.span is None else list(self.span)
        out["defanged"] = self.defanged
        out["controls_removed"] = self.controls_removed
        out["sender"] = self.span is None
        return out


@dataclass(frozen=True, slots=True)
class MessageAnswer:
    """The answer for one message: its worst level and one item per identifier found."""

    input: str
    level: Level
    items: tuple[MessageItem, ...] = ()
    truncated: bool = False

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return tuple(item.verdict for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        """``{"input", "level", "items", "truncated"}``: the ``--json`` and bulk JSONL shape."""
        return {
            "input": self.input,
            "level": self.level.value,
            "items": [item.to_dict() for item in self.items],
            "truncated": self.truncated,
        }


def message_size_error(text: str) -> str | None:
    """Why ``text`` is too long to check as one message, or ``None`` when it is not."""
    # Four UTF-8 bytes per code point at most: only long texts need encoding to be sure.
    if len(text) * 4 <= MAX_MESSAGE_BYTES:
        return None
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size <= MAX_MESSAGE_BYTES:
        return None
    return (
        f"message of {size:,} bytes is over the {MAX_MESSAGE_BYTES // 1024} KiB limit of one "
        "message check; check its parts separately"
    )


def _worst_level(items: Sequence[MessageItem]) -> Level:
    level = Level.NO_RECORD
    for item in items:
        v = item.verdict
        if v.error is None and SEVERITY[v.level] > SEVERITY[level]:
            level = v.level
    return level


def _sender_verdict(snapshot: Checker, sender: str, context: CheckContext | None) -> Verdict:
    """The sender checked as any identifier (``#NAME`` is an ``sms_sender``); a sender that is
    none (``HSBC`` without its ``#``: an unregistered alphanumeric id) is a NO RECORD answer of
    no kind, so that the sender rule can still be told on it."""
    try:
        return snapshot.check(sender, None, context=context)
    except InvalidIdentifier:
        return Verdict(
            input=sender,
            kind=None,
            canonical=None,
            level=Level.NO_RECORD,
            reasons=(Reason.of(ReasonCode.NO_RECORD),),
        )


def is_registered_sender(v: Verdict) -> bool:
    """A registered ``#`` sender id: an ``sms_sender`` the allowlist makes VERIFIED."""
    return v.error is None and v.kind == Kind.SMS_SENDER.value and v.level is Level.VERIFIED


def apply_sender_rule(v: Verdict, named: Sequence[OfficialEntity]) -> Verdict:
    """``v`` (the sender's verdict) with the sender rule applied (module docstring, step 4)."""
    if not named or is_registered_sender(v):
        return v
    who = "; ".join(e.entity for e in named)
    reason = Reason.of(ReasonCode.UNREGISTERED_SENDER, f"Named: {who}.")
    reasons = v.reasons
    if v.level is Level.NO_RECORD:  # the rule is the finding: "no record" no longer applies
        reasons = tuple(r for r in reasons if r.code is not ReasonCode.NO_RECORD)
    level = v.level if SEVERITY[v.level] >= SEVERITY[Level.POSSIBLE] else Level.POSSIBLE
    return replace(v, level=level, reasons=(*reasons, reason))


def check_message(
    snapshot: Checker,
    text: str,
    *,
    sender: str | None = None,
    context: CheckContext | None = None,
    limit: int = DEFAULT_LIMIT,
    names: OfficialNames | None = None,
) -> MessageAnswer:
    """The answer for one message (see the module docstring for the steps).

    Raises :class:`InvalidMessage` when ``text`` is over :data:`MAX_MESSAGE_BYTES`.
    """
    problem = message_size_error(text)
    if problem is not None:
        raise InvalidMessage(problem)
    found = extract(text, limit=limit)
    items: list[MessageItem] = []
    if sender is not None and sender.strip():
        of_sender = _sender_verdict(snapshot, sender.strip(), context)
        named = (names or bundled_names()).named_in(text)
        items.append(MessageItem(apply_sender_rule(of_sender, named), None))
    answers: dict[Any, Verdict] = {}
    for f in found.items:
        ident = f.identifier
        v = answers.get(ident)
        if v is None:
            v = answers[ident] = snapshot.check(ident.value, ident.kind, context=context)
        items.append(MessageItem(replace(v, input=f.raw), f.span, f.defanged, f.had_controls))
    return MessageAnswer(text, _worst_level(items), tuple(items), found.truncated)


__all__ = [
    "MAX_MESSAGE_BYTES",
    "Checker",
    "MessageAnswer",
    "MessageItem",
    "apply_sender_rule",
    "check_message",
    "is_registered_sender",
    "message_size_error",
]
