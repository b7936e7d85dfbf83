"""Risk levels, reason codes and the Verdict value type.

Responsibility: the vocabulary of an answer. Every lookup path (in-process index, gRPC
client, CLI) returns :class:`Verdict`; every renderer (table, JSON, protobuf) starts from it.

Invariants:
* ``Level.NO_RECORD`` means "nothing found" and is never worded as safe.
* ``Level.VERIFIED`` is only given to allowlisted official entities.
* :data:`SEVERITY` orders levels for "the worst wins": HIGH RISK > SUSPICIOUS > POSSIBLE >
  VERIFIED > NO RECORD. (The allowlist outranking public reports is decided by the index when
  it builds one identifier's verdict; across several candidate kinds the worst still wins.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from enum import Enum, StrEnum
from operator import attrgetter
from types import NoneType, UnionType
from typing import Any, Self, get_args, get_origin, get_type_hints, overload


class Level(StrEnum):
    """Scameter's colours, plus VERIFIED for allowlisted official entities."""

    HIGH_RISK = "high_risk"
    SUSPICIOUS = "suspicious"
    POSSIBLE = "possible"
    NO_RECORD = "no_record"
    VERIFIED = "verified"


#: Higher is worse. Used to pick the worst of several answers.
SEVERITY: dict[Level, int] = {
    Level.HIGH_RISK: 4,
    Level.SUSPICIOUS: 3,
    Level.POSSIBLE: 2,
    Level.VERIFIED: 1,
    Level.NO_RECORD: 0,
}

#: Human labels in English and Traditional Chinese, as Scameter shows them.
LEVEL_LABELS: dict[Level, tuple[str, str]] = {
    Level.HIGH_RISK: ("HIGH RISK", "高危"),
    Level.SUSPICIOUS: ("SUSPICIOUS", "可疑"),
    Level.POSSIBLE: ("POSSIBLE", "潛在風險"),
    Level.NO_RECORD: ("NO RECORD", "沒有記錄"),
    Level.VERIFIED: ("VERIFIED", "已核實"),
}

#: Scameter's colour names for each level.
LEVEL_COLOURS: dict[Level, str] = {
    Level.HIGH_RISK: "red",
    Level.SUSPICIOUS: "orange",
    Level.POSSIBLE: "yellow",
    Level.NO_RECORD: "purple",
    Level.VERIFIED: "green",
}


class Language(StrEnum):
    """A language answers are written in, as a BCP 47 tag."""

    EN = "en"
    ZH_HANT = "zh-Hant"


#: The languages the project supports: every reason must have a sentence in each (a test
#: checks it).
LANGUAGES: tuple[Language, ...] = tuple(Language)


@dataclass(frozen=True, slots=True)
class Sentences:
    """One reason's sentence in each language: one field per :class:`Language`, named after
    the member (``Language.ZH_HANT`` -> ``zh_hant``). ``None`` marks a translation still
    missing; English is never missing."""

    en: str
    zh_hant: str | None

    def get(self, language: Language) -> str | None:
        """The sentence in ``language``, or ``None`` while it is not translated yet."""
        text: str | None = getattr(self, language.name.lower())
        return text


class ReasonCode(StrEnum):
    """Why a verdict has its level; each member is declared once, with its sentences.

    ``code.sentences`` is the member's :class:`Sentences`. The value (``"police_confirmed"``)
    is what snapshots store and the wire carries: never rename one.
    """

    sentences: Sentences

    # Value lookups (``ReasonCode("no_record")``) never reach this __new__ at run time (Enum
    # replaces it once the class is built); the overloads only tell mypy they exist.
    @overload
    def __new__(cls, value: str) -> Self: ...
    @overload
    def __new__(cls, value: str, sentences: Sentences) -> Self: ...
    def __new__(cls, value: str, sentences: Sentences | None = None) -> Self:
        if sentences is None:
            raise TypeError(f"reason code {value!r} is declared without its sentences")
        member = str.__new__(cls, value)
        member._value_ = value
        member.sentences = sentences
        return member

    # One declaration per code, laid out as a table (the formatter would wrap each in a tuple).
    # fmt: off
    POLICE_CONFIRMED = "police_confirmed", Sentences(
        en="Linked to a case investigated by the police.",
        zh_hant="與警方調查的案件有關。",
    )
    PARTNER_CONFIRMED = "partner_confirmed", Sentences(
        en="Confirmed as fraudulent by a trusted partner (bank or telecom).",
        zh_hant="經可信的合作機構（銀行或電訊商）確認涉及詐騙。",
    )
    PUBLIC_REPORTS = "public_reports", Sentences(
        en="Reported by members of the public.",
        zh_hant="曾被市民舉報。",
    )
    FEED_LISTING = "feed_listing", Sentences(
        en="Listed by a phishing or scam intelligence feed.",
        zh_hant="被網絡釣魚或詐騙情報來源列出。",
    )
    ALLOWLISTED = "allowlisted", Sentences(
        en="Registered official entity.",
        zh_hant="已登記的官方機構。",
    )
    SPOOF_ADVICE = "spoof_advice", Sentences(
        en="Scammers can fake official numbers and sender ids: if in doubt, hang up and call "
        "back on the official line.",
        zh_hant="騙徒可偽冒官方電話號碼及短訊發送人名稱：如有懷疑，請掛斷電話，再致電官方熱線查證。",
    )
    NEAR_MATCH = "near_match", Sentences(
        en="Very similar to an identifier linked to scams.",
        zh_hant="與涉及詐騙的資料非常相似。",
    )
    BRAND_IMPERSONATION = "brand_impersonation", Sentences(
        en="Looks like an imitation of an official website.",
        zh_hant="疑似仿冒官方網站。",
    )
    HOMOGRAPH = "homograph", Sentences(
        en="Uses look-alike characters to imitate an official website.",
        zh_hant="使用外形相似的字元仿冒官方網站。",
    )
    PHONE_RANGE = "phone_range", Sentences(
        en="In a block of numbers where many have been linked to scams.",
        zh_hant="所屬的號碼段中有多個號碼涉及詐騙。",
    )
    CLUSTER_LINK = "cluster_link", Sentences(
        en="Named in the same reports as identifiers linked to scams.",
        zh_hant="與涉及詐騙的資料在同一宗舉報中出現。",
    )
    UNALLOCATED_NUMBER = "unallocated_number", Sentences(
        en="Not a number in an allocated range.",
        zh_hant="不屬於已分配的號碼段。",
    )
    OVERSEAS_CALL_LOCAL_NUMBER = "overseas_call_local_number", Sentences(
        en="A Hong Kong number shown on a call from overseas: the caller id is probably faked.",
        zh_hant="來自海外的來電顯示香港號碼：來電顯示很可能是偽冒的。",
    )
    POLICE_UNVERIFIED = "police_unverified", Sentences(
        en="Reported to the police; not yet confirmed by an investigation.",
        zh_hant="已向警方舉報，但尚未經調查證實。",
    )
    PARTNER_UNVERIFIED = "partner_unverified", Sentences(
        en="Reported by a trusted partner (bank or telecom); not yet confirmed.",
        zh_hant="由可信合作機構（銀行或電訊商）舉報，但尚未證實。",
    )
    FEED_UNVERIFIED = "feed_unverified", Sentences(
        en="Listed by a phishing or scam intelligence feed as not yet verified.",
        zh_hant="被釣魚或詐騙情報來源列為未經核實。",
    )
    # A warninglist (MISP's lists of known-good and shared infrastructure) held a single
    # unverified source back: the code names the list (docs/report-format.md, "Corroboration").
    WARNINGLIST_TRANCO = "warninglist:tranco", Sentences(
        en="A popular website (warninglist:tranco, Tranco top 1 million): one unconfirmed "
        "source is not enough to call it suspicious.",
        zh_hant="屬熱門網站（warninglist:tranco，Tranco 首一百萬位）：單一未經證實的來源不足以"
        "將其列為可疑。",
    )
    WARNINGLIST_CRUX = "warninglist:crux", Sentences(
        en="A popular website (warninglist:crux, Chrome top 1 million): one unconfirmed "
        "source is not enough to call it suspicious.",
        zh_hant="屬熱門網站（warninglist:crux，Chrome 首一百萬位）：單一未經證實的來源不足以"
        "將其列為可疑。",
    )
    WARNINGLIST_SHORTENER = "warninglist:url-shortener", Sentences(
        en="A shared link service (warninglist:url-shortener): only this link is listed, "
        "and one unconfirmed source is not enough to call it suspicious.",
        zh_hant="屬共用連結服務（warninglist:url-shortener）：只列出此連結，單一未經證實的來源"
        "不足以將其列為可疑。",
    )
    WARNINGLIST_CLOUD = "warninglist:cloud", Sentences(
        en="Shared cloud or CDN infrastructure (warninglist:cloud): one unconfirmed source "
        "is not enough to call it suspicious.",
        zh_hant="屬共用雲端或內容傳遞網絡設施（warninglist:cloud）：單一未經證實的來源不足以"
        "將其列為可疑。",
    )
    WARNINGLIST_SLD = "warninglist:second-level-tlds", Sentences(
        en="A public domain suffix (warninglist:second-level-tlds), shared by many owners: "
        "one unconfirmed source is not enough to call it suspicious.",
        zh_hant="屬公共域名後綴（warninglist:second-level-tlds），由眾多持有人共用：單一未經"
        "證實的來源不足以將其列為可疑。",
    )
    UNREGISTERED_SENDER = "unregistered_sender", Sentences(
        en="The message names a bank or government body, but its sender is not a registered "
        "SMS sender ID (registered IDs start with '#').",
        zh_hant="訊息聲稱來自銀行或政府機構，但發送人並非已登記的短訊發送人名稱"
        "（已登記名稱以「#」號開頭）。",
    )
    NO_RECORD = "no_record", Sentences(
        en="No record found. This does not mean it is safe.",
        zh_hant="未有相關記錄。這不代表安全。",
    )
    DERIVED_MATCH = "derived_match", Sentences(
        en="Contains or leads to an identifier linked to scams.",
        zh_hant="包含或連結至與詐騙有關的電話號碼、網址、電郵或帳戶。",
    )
    SPOOFED_OFFICIAL_NUMBER = "spoofed_official_number", Sentences(
        en="An official Hong Kong number shown on a call from overseas: the caller id is very "
        "likely spoofed. Hang up and call the official line yourself.",
        zh_hant="來自海外的來電顯示香港官方電話號碼：來電顯示極可能被偽冒。請掛斷電話，並自行致電官方熱線查證。",
    )
    # Many distinct reporters contested a listing that rests on public reports alone
    # (the Appeal RPC; docs/report-format.md, "Appeals"): lowered one level, under review.
    APPEALED = "appealed", Sentences(
        en="Many people have contested this listing; it is under review.",
        zh_hant="多名市民已就此記錄提出異議，現正覆核中。",
    )
    # fmt: on


#: Each code's English sentence (derived from the declarations above).
REASON_TEXT: dict[ReasonCode, str] = {code: code.sentences.en for code in ReasonCode}


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code with its human sentence (English, plus an optional detail)."""

    code: ReasonCode
    text: str

    @classmethod
    def of(cls, code: ReasonCode, detail: str | None = None) -> Reason:
        text = code.sentences.en
        return cls(code, f"{text} {detail}" if detail else text)


@dataclass(frozen=True, slots=True)
class SimilarTo:
    """A near match: the listed canonical value it resembles and how far it is."""

    canonical: str
    distance: int
    level: Level


@dataclass(frozen=True, slots=True)
class Verdict:
    """One answer for one input.

    ``kind`` is a :class:`scameter.Kind` value (a string) or ``None`` when the input could not
    be recognised; ``error`` is set (and ``level`` is NO_RECORD) when the input was invalid or
    the lookup failed. Times are ISO-8601 UTC strings or ``None``.
    """

    input: str
    kind: str | None
    canonical: str | None
    level: Level
    reasons: tuple[Reason, ...] = ()
    categories: tuple[str, ...] = ()
    report_count: int = 0
    reporters: int = 0
    first_reported: str | None = None
    last_reported: str | None = None
    matched: str | None = None
    similar_to: SimilarTo | None = None
    cluster_size: int = 0
    cluster_worst: Level | None = None
    verified_owner: str | None = None
    snapshot: str | None = None
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: NO_EXTRA, compare=False, hash=False)
    #: The ids of the latest reports behind the record (at most 20, latest first) and how many
    #: counted reports carried an id. Filled where an analyst asks (``related``, cluster
    #: listings); a lookup leaves them empty (0: not read), and ``to_dict`` then omits them.
    case_ids: tuple[str, ...] = ()
    case_count: int = 0

    @property
    def severity(self) -> int:
        return SEVERITY[self.level]

    @property
    def is_alert(self) -> bool:
        """True when a payer or caller should be warned (FPS hook: HIGH RISK only)."""
        return self.level is Level.HIGH_RISK

    @classmethod
    def invalid(cls, raw: str, error: str, kind: str | None = None) -> Verdict:
        return cls(input=raw, kind=kind, canonical=None, level=Level.NO_RECORD, error=error)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``scameter check --json`` and ``bulk --format jsonl``.

        Every field but ``error`` and ``extra``, in declaration order, as JSON values (see
        :func:`_json_converter`); ``case_ids`` and ``case_count`` only when case ids were read
        (``case_count`` > 0); an invalid input is only its ``input``, ``kind`` and ``error``.
        """
        if self.error is not None:
            return dict(zip(_INVALID_JSON_FIELDS, _invalid_json_values(self), strict=True))
        out = dict(zip(_JSON_FIELDS, _json_values(self), strict=True))
        for name, convert in _JSON_CONVERTERS:
            out[name] = convert(out[name])
        if self.case_count:
            out["case_ids"] = list(self.case_ids)
            out["case_count"] = self.case_count
        return out


def _json_converter(t: Any) -> Callable[[Any], Any] | None:
    """How a value of the declared type ``t`` becomes plain JSON data, or ``None`` when it
    already is (text, numbers): enums by value, tuples as lists, nested value types
    (:class:`Reason`, :class:`SimilarTo`) as objects of their fields in declaration order.

    Built once per field at import, because the bulk JSON Lines output calls
    :meth:`Verdict.to_dict` per row: walking each value generically cost 4.2 us a verdict,
    these converters 2.3 us (the hand-written dict they replace: 1.1 us, and ``json.dumps``
    of it about 5). A type it does not know raises here, at import, rather than in some later
    ``--json`` output.
    """
    if t in (str, int, float, bool):
        return None
    if isinstance(t, UnionType):  # X | None: None stays None
        (inner,) = (a for a in get_args(t) if a is not NoneType)
        convert = _json_converter(inner)
        if convert is None:
            return None
        return lambda v: None if v is None else convert(v)
    if isinstance(t, type) and issubclass(t, Enum):
        return _enum_value
    if get_origin(t) is tuple:
        item = _json_converter(get_args(t)[0])
        return list if item is None else (lambda v: [item(x) for x in v])
    if isinstance(t, type) and is_dataclass(t):
        parts = [(name, _json_converter(h)) for name, h in get_type_hints(t).items()]
        return lambda v: {
            name: getattr(v, name) if convert is None else convert(getattr(v, name))
            for name, convert in parts
        }
    raise TypeError(f"Verdict.to_dict has no JSON form for the type {t!r}")


_enum_value = attrgetter("_value_")
#: The fields of :meth:`Verdict.to_dict`, derived from the dataclass, each with its converter
#: when it needs one: a new field shows up in ``--json`` output without another list to edit.
_JSON_FIELDS = tuple(
    f.name for f in fields(Verdict) if f.name not in ("error", "extra", "case_ids", "case_count")
)
_INVALID_JSON_FIELDS = ("input", "kind", "error")
_json_values = attrgetter(*_JSON_FIELDS)
_invalid_json_values = attrgetter(*_INVALID_JSON_FIELDS)
_JSON_CONVERTERS = tuple(
    (name, convert)
    for name, t in get_type_hints(Verdict).items()
    if name in _JSON_FIELDS and (convert := _json_converter(t)) is not None
)


class _NoExtra(Mapping[str, Any]):
    """The empty, immutable ``extra`` shared by every verdict that has none (a new dict per
    verdict cost a measurable share of a lookup). Prints as ``{}``, equals ``{}``, and
    pickles, copies and deep-copies to the one :data:`NO_EXTRA` (so ``pickle``,
    ``copy.deepcopy`` and ``dataclasses.asdict`` of a Verdict work as with a dict)."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"

    def __reduce__(self) -> str:
        return "NO_EXTRA"  # the module global: unpickles to the singleton

    def __deepcopy__(self, memo: dict[int, Any]) -> _NoExtra:
        return self


#: The ``extra`` of every verdict that has none.
NO_EXTRA: Mapping[str, Any] = _NoExtra()


class _UnfrozenVerdict:
    """Same slots as :class:`Verdict`, in the same order, but writable: a plain slot store is
    a fraction of the cost of the ``object.__setattr__`` call per field that a frozen
    dataclass's ``__init__`` makes. :func:`make_verdict` fills one, then reassigns its
    ``__class__`` to :class:`Verdict` (CPython allows that between classes with identical
    slot layouts), after which it is an ordinary, frozen Verdict. Never escapes this module.
    """

    __slots__ = Verdict.__slots__


_new_unfrozen = object.__new__


def make_verdict(  # noqa: PLR0917 - positional on purpose: keywords cost more here
    input: str,
    kind: str | None,
    canonical: str | None,
    level: Level,
    reasons: tuple[Reason, ...],
    categories: tuple[str, ...],
    report_count: int,
    reporters: int,
    first_reported: str | None,
    last_reported: str | None,
    matched: str | None,
    similar_to: SimilarTo | None,
    cluster_size: int,
    cluster_worst: Level | None,
    verified_owner: str | None,
    snapshot: str | None,
) -> Verdict:
    """``Verdict(...)`` with every field but ``error`` (None) and ``extra`` (empty) given
    positionally: the lookup hot path's constructor, measured 0.4 us against 1.7 us for the
    dataclass ``__init__``. The result is a real :class:`Verdict`, equal to the one
    ``Verdict(...)`` builds with the same arguments, and frozen like it."""
    v: Any = _new_unfrozen(_UnfrozenVerdict)
    v.input = input
    v.kind = kind
    v.canonical = canonical
    v.level = level
    v.reasons = reasons
    v.categories = categories
    v.report_count = report_count
    v.reporters = reporters
    v.first_reported = first_reported
    v.last_reported = last_reported
    v.matched = matched
    v.similar_to = similar_to
    v.cluster_size = cluster_size
    v.cluster_worst = cluster_worst
    v.verified_owner = verified_owner
    v.snapshot = snapshot
    v.error = None
    v.extra = NO_EXTRA
    v.case_ids = ()
    v.case_count = 0
    v.__class__ = Verdict
    return v  # type: ignore[no-any-return]


class _NoRecordVerdict(Verdict):
    """A plain NO RECORD verdict as a batch builds one per miss: only ``input``, ``kind``,
    ``canonical``, ``reasons`` and ``snapshot`` are stored; every other field is the same
    for all of them and is a class attribute here (read at the speed of a slot, as they
    shadow the slots of :class:`Verdict`). Five slot stores instead of twenty: a batch of
    mostly misses builds one per row. Equal to (and hashing like) the :class:`Verdict` with
    the same fields; ``dataclasses.replace``, ``copy`` and ``pickle`` give plain Verdicts.
    Made only by :func:`with_no_records` and :func:`make_no_record`."""

    __slots__ = ()

    # The constant fields (each shadows Verdict's slot of the same name, left unset).
    level = Level.NO_RECORD
    categories = ()
    report_count = 0
    reporters = 0
    first_reported = None
    last_reported = None
    matched = None
    similar_to = None
    cluster_size = 0
    cluster_worst = None
    verified_owner = None
    error = None
    extra = NO_EXTRA
    case_ids = ()
    case_count = 0

    def __new__(cls, *args: Any, **kwargs: Any) -> Verdict:  # type: ignore[misc]
        # dataclasses.replace calls ``v.__class__(**fields)``: give it a plain Verdict.
        return Verdict(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        # The dataclass __eq__ only compares verdicts of one class; this one compares the
        # fields (also reached reflected, from ``plain == this``).
        if isinstance(other, Verdict):
            return _compared(self) == _compared(other)
        return NotImplemented

    __hash__ = Verdict.__hash__

    def __reduce__(self) -> tuple[type[Verdict], tuple[Any, ...]]:
        return Verdict, _all_fields(self)

    def __repr__(self) -> str:
        return repr(Verdict(*_all_fields(self)))


_compared = attrgetter(*(f.name for f in fields(Verdict) if f.compare))
_all_fields = attrgetter(*(f.name for f in fields(Verdict)))


def make_no_record(
    input: str,
    kind: str | None,
    canonical: str | None,
    reasons: tuple[Reason, ...],
    snapshot: str | None,
) -> Verdict:
    """The NO RECORD verdict (``reasons``) of one input: equal to ``make_verdict(input, kind,
    canonical, Level.NO_RECORD, reasons, (), 0, 0, None, ..., snapshot)``, cheaper to build
    (see :class:`_NoRecordVerdict`)."""
    m: Any = _new_unfrozen(_UnfrozenVerdict)
    m.input = input
    m.kind = kind
    m.canonical = canonical
    m.reasons = reasons
    m.snapshot = snapshot
    m.__class__ = _NoRecordVerdict
    return m  # type: ignore[no-any-return]


class Channel(StrEnum):
    """Where the caller saw the value being checked."""

    INCOMING_CALL = "incoming_call"
    SMS = "sms"
    BROWSE = "browse"
    PAYMENT = "payment"


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Where a lookup comes from, when the caller says.

    ``channel``: a :class:`Channel` or ``None``.
    ``overseas``: the call or message arrived over an international route. A ``+852`` number
    presented on an overseas incoming call gets ``OVERSEAS_CALL_LOCAL_NUMBER``.
    """

    channel: Channel | None = None
    overseas: bool = False


#: Tags accepted for each language, lower-cased: the BCP 47 tag itself, and the region tags
#: people send for Traditional Chinese (Hong Kong, Taiwan, Macau) and for English.
_LANGUAGE_TAGS: dict[str, Language] = {
    "": Language.EN,
    "en": Language.EN,
    "en-hk": Language.EN,
    "en-gb": Language.EN,
    "en-us": Language.EN,
    "zh-hant": Language.ZH_HANT,
    "zh-hant-hk": Language.ZH_HANT,
    "zh-hk": Language.ZH_HANT,
    "zh-tw": Language.ZH_HANT,
    "zh-mo": Language.ZH_HANT,
}


def with_no_records(  # noqa: PLR0917 - the columns of a batch answer, positional
    verdicts: Iterable[Verdict | None],
    inputs: Iterable[str],
    kinds: Iterable[str | None],
    canonicals: Iterable[str | None],
    reasons: tuple[Reason, ...],
    snapshot: str | None,
) -> list[Verdict]:
    """``verdicts`` with each ``None`` replaced by the NO RECORD verdict (``reasons``) of its
    row's input, kind and canonical value: what :func:`make_no_record` gives, with its slot
    stores inlined in one loop (a batch builds one per plain miss)."""
    out: list[Verdict] = []
    keep = out.append
    new, unfrozen, cls = _new_unfrozen, _UnfrozenVerdict, _NoRecordVerdict
    for found, raw, kind, canonical in zip(verdicts, inputs, kinds, canonicals, strict=True):
        if found is not None:
            keep(found)
        else:
            m: Any = new(unfrozen)
            m.input = raw
            m.kind = kind
            m.canonical = canonical
            m.reasons = reasons
            m.snapshot = snapshot
            m.__class__ = cls
            keep(m)
    return out


def parse_language(tag: str) -> Language:
    """The :class:`Language` a BCP 47 tag asks for (case-insensitive; ``_`` read as ``-``;
    empty is English). :class:`ValueError` names the choices for any other tag."""
    lang = _LANGUAGE_TAGS.get(tag.strip().lower().replace("_", "-"))
    if lang is None:
        choices = ", ".join(lg.value for lg in LANGUAGES)
        raise ValueError(f"unknown language {tag!r}; one of: {choices}")
    return lang


#: How the ``DERIVED_MATCH`` detail names a derived identifier (by its kind) and where it sits
#: (by the input's kind), in English and Traditional Chinese: the index writes
#: ``The {noun} {canonical} {where} is {LABEL}.`` and :func:`in_language` translates it.
DERIVED_NOUNS: dict[str, tuple[str, str]] = {
    "phone": ("phone number", "電話號碼"),
    "domain": ("domain", "域名"),
    "ip": ("IP address", "IP 地址"),
    "platform_account": ("account", "帳戶"),
    "email": ("e-mail address", "電郵地址"),
    "url": ("link", "連結"),
}
DERIVED_WHERE: dict[str, tuple[str, str]] = {
    "email": ("of this address", "此電郵地址的"),
    "url": ("in this link", "此連結中的"),
    "platform_account": ("of this account", "此帳戶的"),
}


def derived_detail(kind: str, canonical: str, where_kind: str, level: Level) -> str:
    """The English detail of a ``DERIVED_MATCH`` reason (see :data:`DERIVED_NOUNS`)."""
    noun, where = DERIVED_NOUNS[kind][0], DERIVED_WHERE[where_kind][0]
    return f"The {noun} {canonical} {where} is {LEVEL_LABELS[level][0]}."


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_ZH_OF: dict[str, str] = {
    **dict(DERIVED_NOUNS.values()),
    **dict(DERIVED_WHERE.values()),
    **dict(LEVEL_LABELS.values()),
}
_DERIVED_DETAIL = re.compile(
    f"The ({_alternatives(n for n, _ in DERIVED_NOUNS.values())}) (\\S+) "
    f"({_alternatives(w for w, _ in DERIVED_WHERE.values())}) "
    f"is ({_alternatives(en for en, _ in LEVEL_LABELS.values())})\\.",
    re.S,
)


def _derived_zh_hant(m: re.Match[str]) -> str:
    noun, canonical, where, label = m.groups()
    return f"{_ZH_OF[where]}{_ZH_OF[noun]} {canonical} 屬{_ZH_OF[label]}。"


#: Detail phrases the index appends to a reason's sentence, and their Traditional Chinese (a
#: template of the phrase's groups, or a function of the match).
_DETAILS_ZH_HANT: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_DERIVED_DETAIL, _derived_zh_hant),
    (re.compile(r"Similar to (.+)\.", re.S), "與 {0} 相似。"),
    (re.compile(r"Resembles (.+)\.", re.S), "類似 {0}。"),
    (
        re.compile(r"(\d+) listed numbers share the prefix (\S+)\.", re.S),
        "{0} 個已列出的號碼同屬 {1} 號碼段。",
    ),
)


def _translated(reason: Reason, language: Language) -> Reason:
    sentences = reason.code.sentences
    text = sentences.get(language) or sentences.en
    detail = (
        reason.text[len(sentences.en) :].strip() if reason.text.startswith(sentences.en) else ""
    )
    if detail and language is Language.ZH_HANT:
        for pattern, template in _DETAILS_ZH_HANT:
            m = pattern.fullmatch(detail)
            if m:
                detail = template.format(*m.groups()) if isinstance(template, str) else template(m)
                break
    sep = "" if language is Language.ZH_HANT else " "
    return Reason(reason.code, f"{text}{sep}{detail}" if detail else text)


def in_language(v: Verdict, language: Language) -> Verdict:
    """``v`` with its reason sentences in ``language`` (English: ``v`` itself, no copy).

    A reason's detail (the values after its sentence) is translated where its phrase is known
    and otherwise kept as written; values themselves (numbers, domains) never change.
    """
    if language is Language.EN or not v.reasons:
        return v
    return replace(v, reasons=tuple(_translated(r, language) for r in v.reasons))


def worst(verdicts: list[Verdict]) -> Verdict:
    """The most severe verdict (first one wins ties, so callers order by likelihood)."""
    best = verdicts[0]
    for v in verdicts[1:]:
        if SEVERITY[v.level] > SEVERITY[best.level]:
            best = v
    return best


__all__ = [
    "DERIVED_NOUNS",
    "DERIVED_WHERE",
    "LANGUAGES",
    "LEVEL_COLOURS",
    "LEVEL_LABELS",
    "NO_EXTRA",
    "REASON_TEXT",
    "SEVERITY",
    "Channel",
    "CheckContext",
    "Language",
    "Level",
    "Reason",
    "ReasonCode",
    "Sentences",
    "SimilarTo",
    "Verdict",
    "in_language",
    "make_no_record",
    "make_verdict",
    "parse_language",
    "with_no_records",
    "worst",
]
