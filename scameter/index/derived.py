"""Cross-kind answers: an input answered as the worst of itself and what it derives.

Responsibility: :meth:`DerivedRules.apply`, the last step of every lookup of
:class:`~scameter.index.snapshot.Snapshot` (``check``, ``check_identifier`` and
``check_many``, hence ``scameter check``, ``scameter bulk`` and every RPC). It takes the
verdict the rule of the input's kind gave, derives the identifiers the input implies
(:func:`scameter.identifiers.derive.derive`, the one table), answers each with the rule of
its own kind, and keeps the worst:

* a derived identifier counts only at a risk level (POSSIBLE, SUSPICIOUS, HIGH RISK) and only
  when it is worse than the input's own answer (ties: the input's own answer);
* VERIFIED is never inherited: an address at an official domain, a link to an official
  number, is not itself an official entity;
* the answer keeps the input's own kind and canonical form, takes the derived identifier's
  level, categories, counts and cluster, and leads with ``DERIVED_MATCH`` naming what matched
  ("The phone number +85263912745 in this link is HIGH RISK."), then the derived
  identifier's reasons, then the input's own. ``matched`` names the derived identifier's
  listing (``evil.example/``) or its canonical form.

Derived identifiers are answered without the call context: the context describes how the
input itself was seen (a caller id), not the identifiers a link or an address leads to.

Invariants: verdicts of kinds with no derivation pass through untouched after one set lookup
(:data:`~scameter.identifiers.derive.DERIVING_KINDS`); no logging, no I/O beyond LMDB reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind
from scameter.identifiers.derive import DERIVING_KINDS, derive
from scameter.identifiers.model import make_identifier
from scameter.verdict import (
    SEVERITY,
    CheckContext,
    Level,
    Reason,
    ReasonCode,
    Verdict,
    derived_detail,
)

#: The single-item rule of a kind, as :class:`~scameter.index.snapshot.Snapshot` holds them.
Rule = Callable[[str, Identifier, CheckContext | None], Verdict]

_KIND_OF = {k.value: k for k in Kind}
_RISK = frozenset({Level.POSSIBLE, Level.SUSPICIOUS, Level.HIGH_RISK})


class DerivedRules:
    """Answers derived identifiers with the single-item rule of their kind."""

    def __init__(self, rules: Mapping[Kind, Rule]) -> None:
        self._rules = rules

    def apply(self, v: Verdict) -> Verdict:
        """``v``, or the worse answer of an identifier it derives (see the module rules)."""
        kind = v.kind
        if kind not in DERIVING_KINDS or v.canonical is None or v.error is not None:
            return v
        best: Verdict | None = None
        worst = SEVERITY[v.level]
        for _, ident in derive(make_identifier(_KIND_OF[kind], v.canonical)):
            try:
                dv = self._rules[ident.kind](ident.value, ident, None)
            except InvalidIdentifier:
                continue
            if dv.level in _RISK and SEVERITY[dv.level] > worst:
                best, worst = dv, SEVERITY[dv.level]
        return v if best is None else _merge(v, best)

    def apply_all(self, verdicts: list[Verdict]) -> list[Verdict]:
        """:meth:`apply` over a batch's verdicts (in place order; untouched ones are kept)."""
        apply = self.apply
        return [apply(v) if v.kind in DERIVING_KINDS else v for v in verdicts]


def _merge(own: Verdict, derived: Verdict) -> Verdict:
    """``own``'s identity with ``derived``'s answer and a ``DERIVED_MATCH`` reason first."""
    # The words of the detail live in scameter.verdict, beside their Traditional Chinese.
    detail = derived_detail(
        derived.kind or "", derived.canonical or "", own.kind or "", derived.level
    )
    own_reasons = tuple(
        r for r in own.reasons if r.code is not ReasonCode.NO_RECORD and r not in derived.reasons
    )
    return replace(
        derived,
        input=own.input,
        kind=own.kind,
        canonical=own.canonical,
        reasons=(Reason.of(ReasonCode.DERIVED_MATCH, detail), *derived.reasons, *own_reasons),
        matched=derived.matched or derived.canonical,
    )


__all__ = ["DerivedRules"]
