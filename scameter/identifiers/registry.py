"""The registry of identifier kinds: every per-kind table, derived from the kinds' own specs.

Responsibility: collect the :class:`~scameter.identifiers.spec.KindSpec` each kind module
declares (``phone.SPEC``, ``url.SPEC``, ...), check them, and derive what the rest of the engine
uses: the key tags (:data:`scameter.identifiers.model.KIND_TAGS`, filled here once), the
normaliser dispatch, detection hints, the CLI's kind choices and the CSV column hints. The
documentation tables of kinds and tags (``docs/identifiers.md``, ``docs/snapshot-format.md``)
and the kind list in the ``.proto`` comment are checked against this registry by tests.

Adding a kind: ``docs/architecture.md``, "How to add an identifier kind".

Invariants, checked at import (a broken registry fails loudly, before any key is computed):

* :data:`KIND_SPECS` holds one spec per :class:`Kind` member, in the enum's order (which is the
  order of the tags, of ``--kind`` choices and of the documentation tables).
* Tags are single bytes, unique, and none is an internal namespace tag.
* No two kinds claim the same detection lead, prefix, link host or CSV column hint, and no
  kind's lead starts another kind's lead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

from scameter.identifiers import (
    bank,
    crypto,
    domain,
    email,
    fps,
    ip,
    phone,
    platform,
    sms_sender,
    url,
)
from scameter.identifiers.model import KIND_TAGS, NAMESPACE_TAGS, Identifier, Kind
from scameter.identifiers.spec import KindSpec

Normalizer = Callable[[str], Identifier]

#: Every kind, in :class:`Kind` order. The one place a kind module is named: a new kind adds
#: its ``SPEC`` here (and its member to :class:`Kind`, which mypy needs written out).
KIND_SPECS: Final[tuple[KindSpec, ...]] = (
    phone.SPEC,
    url.SPEC,
    domain.SPEC,
    email.SPEC,
    fps.SPEC,
    bank.SPEC,
    platform.SPEC,
    crypto.SPEC,
    ip.SPEC,
    sms_sender.SPEC,
)


def _duplicates(
    specs: Iterable[KindSpec], values: Callable[[KindSpec], Iterable[str]]
) -> list[str]:
    """Values claimed by more than one spec, as ``'value' (kind_a, kind_b)`` texts."""
    owners: dict[str, list[str]] = {}
    for spec in specs:
        for value in values(spec):
            owners.setdefault(value, []).append(spec.name)
    return [f"{v!r} ({', '.join(kinds)})" for v, kinds in owners.items() if len(kinds) > 1]


def registry_problems(specs: tuple[KindSpec, ...]) -> list[str]:
    """Every way ``specs`` break the registry's invariants (module docstring); ``[]`` if none."""
    problems: list[str] = []
    kinds = [spec.kind for spec in specs]
    if kinds != list(Kind):
        problems.append(
            f"the specs' kinds {[k.value for k in kinds]} are not the Kind enum's members in "
            f"order {[k.value for k in Kind]}"
        )
    for spec in specs:
        if not 0x01 <= spec.tag <= 0xFF:
            problems.append(f"{spec.name}: tag {spec.tag:#x} is not one byte in 0x01..0xff")
        elif spec.tag in NAMESPACE_TAGS:
            problems.append(f"{spec.name}: tag {spec.tag:#04x} is an internal namespace tag")
    claims: list[tuple[str, Callable[[KindSpec], Iterable[str]]]] = [
        ("tag", lambda s: [f"{s.tag:#04x}"]),
        ("detection lead", lambda s: s.detect_leads),
        ("detection prefix", lambda s: s.detect_prefixes),
        ("link host", lambda s: s.detect_link_hosts),
        ("column hint", lambda s: s.column_hints),
    ]
    for what, values in claims:
        problems.extend(f"{what} {dup} claimed twice" for dup in _duplicates(specs, values))
    leads = [(lead, spec.name) for spec in specs for lead in spec.detect_leads]
    problems.extend(
        f"detection lead {a!r} ({kind_a}) starts {b!r} ({kind_b})"
        for a, kind_a in leads
        for b, kind_b in leads
        if kind_a != kind_b and b.startswith(a)
    )
    return problems


def _check(specs: tuple[KindSpec, ...]) -> None:
    problems = registry_problems(specs)
    if problems:
        raise RuntimeError("identifier kind registry: " + "; ".join(problems))


_check(KIND_SPECS)
# The one write to the tag table (see scameter.identifiers.model for why it is filled here).
KIND_TAGS.update({spec.kind: spec.tag_byte for spec in KIND_SPECS})

# The derived tables are plain dicts (typed read-only): several sit on lookup hot paths, where a
# MappingProxyType would add a C-level indirection to every access.

#: Kind (or its string value: StrEnum members hash and compare as their values) -> spec.
SPEC_BY_KIND: Final[Mapping[str, KindSpec]] = {spec.kind: spec for spec in KIND_SPECS}

#: Kind names in registry order: ``("phone", "url", ...)``.
KIND_NAMES: Final[tuple[str, ...]] = tuple(spec.name for spec in KIND_SPECS)

#: Tag byte value -> kind, for readers of packed records.
KIND_BY_TAG: Final[Mapping[int, Kind]] = {spec.tag: spec.kind for spec in KIND_SPECS}

#: Kind -> normaliser. A plain dict keyed by the StrEnum members, so ``NORMALIZERS.get("phone")``
#: finds the phone normaliser without a conversion (the dispatch is on the lookup hot path).
NORMALIZERS: Final[dict[str, Normalizer]] = {spec.kind: spec.normalize for spec in KIND_SPECS}

#: CSV header names (lower case) that name a kind's column, in registry order.
COLUMN_HINTS: Final[tuple[str, ...]] = tuple(h for spec in KIND_SPECS for h in spec.column_hints)

#: ``(lead, normaliser)``: input starting with ``lead`` is that kind alone.
DETECT_LEADS: Final[tuple[tuple[str, Normalizer], ...]] = tuple(
    (lead, spec.normalize) for spec in KIND_SPECS for lead in spec.detect_leads
)

#: ``word`` of ``word:rest`` -> the normaliser of the kind it names.
DETECT_PREFIXES: Final[Mapping[str, Normalizer]] = {
    prefix: spec.normalize for spec in KIND_SPECS for prefix in spec.detect_prefixes
}

#: Link host -> the normaliser of the kind its links name (besides the URL).
DETECT_LINK_HOSTS: Final[Mapping[str, Normalizer]] = {
    host: spec.normalize for spec in KIND_SPECS for host in spec.detect_link_hosts
}

__all__ = [
    "COLUMN_HINTS",
    "DETECT_LEADS",
    "DETECT_LINK_HOSTS",
    "DETECT_PREFIXES",
    "KIND_BY_TAG",
    "KIND_NAMES",
    "KIND_SPECS",
    "NORMALIZERS",
    "SPEC_BY_KIND",
    "registry_problems",
]
