"""The FPS / transfer payee check: alert only at HIGH RISK, in English and Traditional Chinese.

Responsibility: turn the payee's proxy id (mobile number, email or FPS ID) and/or bank account
into one :class:`PayeeResult`. Pure apart from the snapshot lookups; no gRPC here, so the CLI
can reuse it in-process.

Invariants:
* ``alert`` is true only when at least one identifier is HIGH RISK (``Verdict.is_alert``):
  the hook warns the payer, it never blocks a transfer.
* ``triggered_by`` names the field ("proxy_id" or "account") whose verdict is the worst; ties go
  to the proxy id, which the payer typed.
* Proxy ids follow the HKMA FPS addressing rules: an address with ``@`` is an email; 7 or 9
  digits is an FPS ID (7 for individuals, 9 for businesses); anything else is a phone number.
"""

from __future__ import annotations

from dataclasses import dataclass

from scameter.rpc.source import SnapshotView
from scameter.verdict import SEVERITY, Level, Verdict

PROXY_ID = "proxy_id"
ACCOUNT = "account"

_WHAT_EN = {PROXY_ID: "FPS proxy id", ACCOUNT: "bank account"}
_WHAT_ZH = {PROXY_ID: "轉數快識別代號", ACCOUNT: "銀行帳戶"}


@dataclass(frozen=True, slots=True)
class PayeeResult:
    alert: bool
    level: Level
    triggered_by: str | None
    warning_en: str | None
    warning_zh_hant: str | None
    verdicts: tuple[Verdict, ...]
    #: Set (and nothing listed) for a payee a batch could not check: neither field given, or
    #: an invalid identifier. A single CheckPayee raises instead.
    error: str | None = None


def proxy_kind(raw: str) -> str:
    """The identifier kind of an FPS proxy id (see the module invariants)."""
    if "@" in raw:
        return "email"
    digits = raw.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) in (7, 9):
        return "fps_id"
    return "phone"


def warnings_for(field: str) -> tuple[str, str]:
    """The payer-facing warning for a HIGH RISK payee, English then Traditional Chinese."""
    return (
        f"Warning: this payee's {_WHAT_EN[field]} is linked to scams (Scameter: HIGH RISK). "
        "Stop and check before you pay; do not transfer money to anyone you have not verified.",
        f"警告：此收款人的{_WHAT_ZH[field]}與詐騙有關（防騙視伏器：高危）。"
        "付款前請先停一停、核實清楚，切勿轉帳給未經核實的人。",
    )


def payee_error(message: str) -> PayeeResult:
    """The answer for a payee a batch could not check: NO RECORD, nothing listed, ``error``."""
    return PayeeResult(False, Level.NO_RECORD, None, None, None, (), message)


def assess_payee(snap: SnapshotView, proxy_id: str | None, account: str | None) -> PayeeResult:
    """Check both identifiers; raises ``InvalidIdentifier`` (carrying the field in ``kind``'s
    message) for an invalid one and ``ValueError`` when neither is given."""
    fields: list[tuple[str, Verdict]] = []
    if proxy_id:
        fields.append((PROXY_ID, snap.check(proxy_id, proxy_kind(proxy_id))))
    if account:
        fields.append((ACCOUNT, snap.check(account, "bank_account")))
    if not fields:
        raise ValueError("give a proxy_id, an account or both")
    field, worst_v = fields[0]
    for f, v in fields[1:]:
        if SEVERITY[v.level] > SEVERITY[worst_v.level]:
            field, worst_v = f, v
    alert = worst_v.is_alert
    en, zh = warnings_for(field) if alert else (None, None)
    listed = worst_v.level is not Level.NO_RECORD
    return PayeeResult(
        alert=alert,
        level=worst_v.level,
        triggered_by=field if listed else None,
        warning_en=en,
        warning_zh_hant=zh,
        verdicts=tuple(v for _, v in fields),
    )


__all__ = [
    "ACCOUNT",
    "PROXY_ID",
    "PayeeResult",
    "assess_payee",
    "payee_error",
    "proxy_kind",
    "warnings_for",
]
