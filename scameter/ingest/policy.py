"""The listing policy: which reports count, for how long, and what level they earn.

Responsibility: the :class:`Policy` value (defaults from design.md section 5) and
:func:`load_policy`, which reads a TOML file over those defaults. Every setting is a documented
field below; an unknown key in a file is a :class:`PolicyError` that names it, so a typo never
silently falls back to a default.

Invariants:

* ``Policy`` is frozen and hashable; :meth:`Policy.to_dict` is the exact, JSON-serialisable
  record of the settings that built a snapshot (stored in its manifest).
* Levels are :class:`~scameter.verdict.Level` values; only HIGH_RISK, SUSPICIOUS and POSSIBLE
  may be earned from reports (VERIFIED comes from the allowlist alone).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from scameter.errors import PolicyError
from scameter.verdict import Level

#: Report sources of the schema. ``public``: phone-verified app users; ``feed``: phishing /
#: scam feeds; ``bank`` and ``telecom``: trusted partners; ``police``: police cases.
SOURCES: tuple[str, ...] = ("police", "public", "bank", "telecom", "feed")
STATUSES: tuple[str, ...] = ("confirmed", "unverified", "rejected")
_REPORT_LEVELS = (Level.HIGH_RISK, Level.SUSPICIOUS, Level.POSSIBLE)


@dataclass(frozen=True, slots=True)
class Policy:
    """Every setting of the listing policy (see ``docs/report-format.md``, "Policy")."""

    #: Public reports count only when reported within this many days before ``as_of``.
    window_days: int = 180
    #: Distinct public reporters inside the window for SUSPICIOUS / POSSIBLE.
    public_threshold_suspicious: int = 3
    public_threshold_possible: int = 1
    #: Appeals (docs/report-format.md, "Appeals"): this many distinct reporters appealing an
    #: identifier within ``window_days`` lower a listing resting only on public reports by one
    #: level (SUSPICIOUS -> POSSIBLE; POSSIBLE stays) with the reason ``appealed``. 0: off.
    appeal_threshold: int = 5
    #: Ageing of confirmed police / partner reports and of feed listings; ``None``: no ageing
    #: (a police case stays HIGH RISK until delisted; a feed file is taken as current).
    confirmed_window_days: int | None = None
    feed_window_days: int | None = None
    #: Level per non-public source and status. ``rejected`` reports never count.
    police_confirmed: Level = Level.HIGH_RISK
    police_unverified: Level = Level.POSSIBLE
    partner_confirmed: Level = Level.HIGH_RISK
    partner_unverified: Level = Level.SUSPICIOUS
    feed_level: Level = Level.SUSPICIOUS
    #: Level of a feed row the feed itself marks unverified (a PhishTank ``verified: no``).
    feed_unverified_level: Level = Level.POSSIBLE
    #: Corroboration: a listing on a popularity or infrastructure warninglist reaches
    #: SUSPICIOUS from feeds / unverified partner reports only when this many distinct
    #: providers name it (below that: at most POSSIBLE, with the list named).
    warninglisted_providers_suspicious: int = 2
    #: The MISP warninglists consulted: ``"bundled"`` (pymispwarninglists' offline copy),
    #: ``"none"``, or a directory laid out as ``<list name>/list.json``.
    warninglists: str = "bundled"
    #: Load the package's hand-checked Hong Kong official entities as allow rows.
    official_entities: bool = True
    #: A confirmed police / partner report dated after a delisting lists the identifier again
    #: (a new investigation); public reports and feeds never relist a delisted identifier.
    relist_confirmed_after_delisting: bool = True
    #: Clusters: an identifier named in more than this many counting reports is a hub and links
    #: nothing (e.g. a bank hotline scammers ask victims to call); allowlisted ones never link.
    hub_reports: int = 1000
    #: A report naming more identifiers than this links none of them (bulk rows, not a case).
    max_linked_per_report: int = 50
    #: Extra shared-platform entries (``"host mode"`` lines as in shared_platforms.txt) and
    #: extra popular registrable domains, on top of the data shipped with the package.
    extra_shared_platforms: tuple[str, ...] = ()
    extra_top_sites: tuple[str, ...] = ()
    #: Settings passed to the index's ``IndexPolicy`` (its own names; checked by it).
    index: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        for name in (
            "police_confirmed",
            "police_unverified",
            "partner_confirmed",
            "partner_unverified",
            "feed_level",
            "feed_unverified_level",
        ):
            value = getattr(self, name)
            try:
                level = Level(value)
            except ValueError:
                raise PolicyError(f"{name}: unknown level {value!r}") from None
            if level not in _REPORT_LEVELS:
                raise PolicyError(f"{name}: reports can earn only high_risk/suspicious/possible")
            object.__setattr__(self, name, level)
        for name in (
            "window_days",
            "public_threshold_suspicious",
            "public_threshold_possible",
            "warninglisted_providers_suspicious",
        ):
            if int(getattr(self, name)) < 1:
                raise PolicyError(f"{name} must be at least 1")
        if int(self.appeal_threshold) < 0:
            raise PolicyError("appeal_threshold must be 0 (off) or more")
        if self.public_threshold_possible > self.public_threshold_suspicious:
            raise PolicyError("public_threshold_possible exceeds public_threshold_suspicious")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable settings, in field order (recorded in the snapshot manifest)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "index":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Level):
                value = str(value)
            out[f.name] = value
        return out


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "window_days": int,
    "public_threshold_suspicious": int,
    "public_threshold_possible": int,
    "appeal_threshold": int,
    "confirmed_window_days": int,
    "feed_window_days": int,
    "police_confirmed": str,
    "police_unverified": str,
    "partner_confirmed": str,
    "partner_unverified": str,
    "feed_level": str,
    "feed_unverified_level": str,
    "warninglisted_providers_suspicious": int,
    "warninglists": str,
    "official_entities": bool,
    "relist_confirmed_after_delisting": bool,
    "hub_reports": int,
    "max_linked_per_report": int,
    "extra_shared_platforms": list,
    "extra_top_sites": list,
    "index": dict,
}


def policy_from_mapping(data: dict[str, Any], *, where: str = "policy") -> Policy:
    """A :class:`Policy` from a plain mapping (TOML document); unknown keys are errors."""
    kwargs: dict[str, Any] = {}
    for key, given in data.items():
        value: Any = given
        expected = _FIELD_TYPES.get(key)
        if expected is None:
            known = ", ".join(sorted(_FIELD_TYPES))
            raise PolicyError(f"{where}: unknown setting {key!r} (known: {known})")
        # bool is an int subclass: refuse `window_days = true` explicitly.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise PolicyError(f"{where}: {key} must be {getattr(expected, '__name__', expected)}")
        if key == "index":
            value = tuple(sorted(dict(given).items()))
        elif isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise PolicyError(f"{where}: {key} must be a list of strings")
            value = tuple(value)
        kwargs[key] = value
    return Policy(**kwargs)


def load_policy(path: Path | None) -> Policy:
    """The default policy, or the one in TOML file ``path`` (over the defaults)."""
    if path is None:
        return Policy()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from exc
    return policy_from_mapping(data, where=str(path))


__all__ = ["SOURCES", "STATUSES", "Policy", "load_policy", "policy_from_mapping"]
