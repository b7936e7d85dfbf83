"""Rendering verdicts for people and for programs.

Responsibility: the human table of ``check``/``related`` (Scameter's colours, the reasons in
words), the one-object-per-line JSON, and the verdict columns ``bulk`` adds to every row.

Invariants:
* ANSI escapes only when the caller says colour is on (a terminal, ``NO_COLOR`` unset: see
  :meth:`scameter.settings.Settings.use_color`); the text is identical otherwise.
* NO RECORD is never worded as safe: its detail is the fixed sentence of ``REASON_TEXT``.
* JSON is exactly :meth:`Verdict.to_dict`, one object per line, UTF-8 (no ASCII escaping).
* Text that came from outside (inputs, owners, listings, error messages) is shown through
  :func:`visible` on terminals (control characters and escape sequences made visible) and
  written to CSV through :func:`neutral_cell` (OWASP CSV-injection advice); the columns
  scameter computes (level, kind, canonical forms, reason codes, counts) are left alone.
* The ``bulk`` CSV helpers (:func:`csv_cell`, :func:`bulk_cells`, :func:`bulk_rows`) produce
  exactly what ``csv.writer`` would for the same cells (pinned by tests/unit/cli/test_bulk_format).
"""

from __future__ import annotations

import itertools
import json
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from scameter.index.batchpath import BatchAnswer
from scameter.verdict import LEVEL_LABELS, REASON_TEXT, Language, Level, ReasonCode, Verdict

# ANSI SGR sequences for Scameter's colours; orange needs the 256-colour palette (208).
_ANSI: dict[Level, str] = {
    Level.HIGH_RISK: "\x1b[1;31m",
    Level.SUSPICIOUS: "\x1b[1;38;5;208m",
    Level.POSSIBLE: "\x1b[1;33m",
    Level.NO_RECORD: "\x1b[35m",
    Level.VERIFIED: "\x1b[1;32m",
}
_RESET = "\x1b[0m"
INVALID_LABEL = "INVALID"

#: Columns ``bulk`` appends to CSV rows (and the keys of the ``scameter`` object in JSONL).
BULK_COLUMNS: tuple[str, ...] = (
    "scameter_level",
    "scameter_kind",
    "scameter_canonical",
    "scameter_reasons",
    "scameter_categories",
    "scameter_report_count",
    "scameter_matched",
    "scameter_similar_to",
    "scameter_owner",
    "scameter_error",
)

#: Commas in the joined :data:`BULK_COLUMNS` cells when no cell needs quoting.
_BULK_COMMAS = len(BULK_COLUMNS) - 1
#: The cells after ``scameter_canonical`` of a plain NO RECORD verdict, and the row's end.
_NO_RECORD_ROW_TAIL = ",no_record,,0,,,,\n"
# Module constants: reading a member off an Enum class costs a descriptor call per row.
_NO_RECORD_LEVEL = Level.NO_RECORD
_NO_RECORD_CODE = ReasonCode.NO_RECORD

_TABLE_HEAD = ("INPUT", "LEVEL", "KIND", "CANONICAL", "DETAILS")

# C0 and C1 controls, DEL, and the Unicode bidirectional overrides / isolates (which reorder
# what a terminal shows): each is written as its escape, e.g. "\\x1b", "\\u202e".
_INVISIBLE = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_INVISIBLE.update({c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})
_INVISIBLE.update({0x200B: "\\u200b", 0xFEFF: "\\ufeff"})
#: First characters a spreadsheet reads as a formula (OWASP "CSV Injection").
_FORMULA_START = frozenset("=@\t\r+-")


def visible(text: str) -> str:
    """``text`` with control characters and escape sequences made visible (``\\x1b[2J``):
    for every string from outside that reaches a terminal."""
    if text.isprintable():
        return text
    return text.translate(_INVISIBLE)


class _CsvMode:
    """``bulk --raw`` switches neutralisation off for the process (and each worker's)."""

    raw = False


def set_raw_cells(raw: bool) -> None:
    """``raw=True``: :func:`neutral_cell` returns every cell as it is (``bulk --raw``, for
    analysts who need the values exactly as stored and open the file with care)."""
    _CsvMode.raw = raw


def neutral_cell(text: str) -> str:
    """A CSV cell from outside, neutralised as OWASP advises: a cell starting with ``=``,
    ``@``, tab or CR, or with ``+`` / ``-`` without being a number, gets a leading ``'`` so
    no spreadsheet runs it as a formula (unless :func:`set_raw_cells` turned this off)."""
    if not text or text[0] not in _FORMULA_START or _CsvMode.raw:
        return text
    if text[0] in "+-":
        try:
            float(text.replace(" ", ""))
        except ValueError:
            return "'" + text
        return text
    return "'" + text


def level_label(v: Verdict, language: Language = Language.EN) -> str:
    """``HIGH RISK``, ``NO RECORD``, ... or ``INVALID`` for an input that was not understood;
    in Traditional Chinese the label is ``高危 HIGH RISK`` (both, as Scameter shows them)."""
    if v.error is not None:
        return INVALID_LABEL
    en, zh = LEVEL_LABELS[v.level]
    return en if language is Language.EN else f"{zh} {en}"


#: The words ``details`` puts around the facts, per language (reason sentences come from
#: :mod:`scameter.verdict`).
_GLUE: dict[Language, dict[str, str]] = {
    Language.EN: {
        "owner": "Owner: {0}.",
        "reports": "{0} {1}{2}.",
        "categories": "Categories: {0}.",
        "similar": "Similar to {0} ({1}, distance {2}).",
        "matched": "Matched {0}.",
        "linked": "Linked to {0} other {1}{2}.",
        "cases": "Cases ({0}): {1}.",
        "latest": "{0}, latest {1}",
    },
    Language.ZH_HANT: {
        "owner": "擁有者：{0}。",
        "reports": "{0} 宗舉報{2}。",
        "categories": "類別：{0}。",
        "similar": "與 {0} 相似（{1}，距離 {2}）。",
        "matched": "符合 {0}。",
        "linked": "與另外 {0} 項資料有關{2}。",
        "cases": "個案（{0}）：{1}。",
        "latest": "共 {0} 宗，最近 {1} 宗",
    },
}


def _reports(v: Verdict, glue: dict[str, str], language: Language) -> str:
    if language is Language.ZH_HANT:
        by = f"，來自 {v.reporters} 位舉報人" if v.reporters else ""
        return glue["reports"].format(v.report_count, "", by)
    reports = "report" if v.report_count == 1 else "reports"
    who = "reporter" if v.reporters == 1 else "reporters"
    # ``reporters`` counts distinct verified public reporters; police or partner reports
    # have none, and "from 0 reporters" would read as a contradiction.
    by = f" from {v.reporters} {who}" if v.reporters else ""
    return glue["reports"].format(v.report_count, reports, by)


def _linked(v: Verdict, glue: dict[str, str], language: Language) -> str:
    worst = "" if v.cluster_worst is None else f", worst {LEVEL_LABELS[v.cluster_worst][0]}"
    if language is Language.ZH_HANT and v.cluster_worst is not None:
        worst = f"，最高為{LEVEL_LABELS[v.cluster_worst][1]}"
    others = v.cluster_size - 1
    noun = "identifier" if others == 1 else "identifiers"
    return glue["linked"].format(others, noun, worst)


def details(v: Verdict, language: Language = Language.EN) -> str:
    """The reasons and the facts behind them, in one line of words."""
    if v.error is not None:
        return v.error
    glue = _GLUE[language]
    no_record = ReasonCode.NO_RECORD.sentences.get(language) or REASON_TEXT[ReasonCode.NO_RECORD]
    parts = [r.text for r in v.reasons] or [no_record]
    if v.verified_owner:
        parts.append(glue["owner"].format(v.verified_owner))
    if v.report_count:
        parts.append(_reports(v, glue, language))
    if v.categories:
        parts.append(glue["categories"].format(", ".join(v.categories)))
    if v.similar_to is not None and v.similar_to.canonical not in " ".join(parts):
        s = v.similar_to
        parts.append(glue["similar"].format(s.canonical, LEVEL_LABELS[s.level][0], s.distance))
    if v.similar_to is None and v.matched and v.matched != v.canonical:
        parts.append(glue["matched"].format(v.matched))
    if v.cluster_size > 1:
        parts.append(_linked(v, glue, language))
    if v.case_count:
        n, shown = v.case_count, len(v.case_ids)
        count = str(n) if n <= shown else glue["latest"].format(n, shown)
        parts.append(glue["cases"].format(count, ", ".join(v.case_ids)))
    return ("" if language is Language.ZH_HANT else " ").join(parts)


def _paint(text: str, level: Level | None, colour: bool) -> str:
    if not colour or level is None:
        return text
    return f"{_ANSI[level]}{text}{_RESET}"


def _width(text: str) -> int:
    """Terminal columns ``text`` takes: East Asian wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def render_table(
    verdicts: Sequence[Verdict], *, colour: bool, language: Language = Language.EN
) -> str:
    """An aligned table, one row per verdict, ending with a newline."""
    rows = [
        (
            visible(v.input),
            level_label(v, language),
            v.kind or "-",
            visible(v.canonical or "-"),
            visible(details(v, language)),
        )
        for v in verdicts
    ]
    widths = [max(_width(h), *(_width(r[i]) for r in rows)) for i, h in enumerate(_TABLE_HEAD[:4])]
    lines = [
        "  ".join(_pad(h, w) for h, w in zip(_TABLE_HEAD[:4], widths, strict=True))
        + "  "
        + _TABLE_HEAD[4]
    ]
    for v, row in zip(verdicts, rows, strict=True):
        cells = [_pad(row[i], widths[i]) for i in range(4)]
        cells[1] = _paint(cells[1], None if v.error else v.level, colour)
        lines.append("  ".join(cells) + "  " + row[4])
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_json_lines(verdicts: Iterable[Verdict]) -> str:
    """One JSON object per verdict per line (``Verdict.to_dict``)."""
    return "".join(json.dumps(v.to_dict(), ensure_ascii=False) + "\n" for v in verdicts)


def bulk_values(v: Verdict) -> list[object]:
    """The :data:`BULK_COLUMNS` cells for one verdict (empty strings where nothing applies).

    Hot path of ``bulk`` (once per row): no enum ``.value`` lookups (``Level`` is a StrEnum,
    so ``csv`` writes it as its value) and no work for the empty columns of NO RECORD rows.
    """
    if v.error is not None:
        return ["invalid", v.kind or "", "", "", "", "", "", "", "", neutral_cell(v.error)]
    reasons = v.reasons
    similar = ""
    if v.similar_to is not None:
        similar = f"{v.similar_to.canonical} (distance {v.similar_to.distance})"
    return [
        v.level,
        v.kind or "",
        v.canonical or "",
        " ".join([r.code for r in reasons]) if reasons else "",
        " ".join(v.categories),
        v.report_count,
        neutral_cell(v.matched or ""),
        neutral_cell(similar),
        neutral_cell(v.verified_owner or ""),
        "",
    ]


def csv_cell(text: str) -> str:
    """``text`` as one CSV field, exactly as ``csv.writer`` (QUOTE_MINIMAL, ``,``, ``"``,
    line terminator ``\\n``) writes it: quoted, with quotes doubled, only when it holds a
    delimiter, a quote or a newline (RFC 4180 section 2, rules 6-7). ``\\r`` alone is not
    quoted by ``csv`` with a ``\\n`` terminator, so it is not quoted here either.
    """
    if "," in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def bulk_cells(v: Verdict) -> str:
    """:func:`bulk_values` as one CSV fragment (the cells joined by ``,``, quoted as needed).

    The cells are joined directly and only re-encoded cell by cell when one of them holds a
    ``,``, ``"`` or newline (an error message, an owner, a URL), which the count of commas and
    a scan for ``"``/``\\n`` show.
    """
    # str.join takes the StrEnum members (level, kind, reason codes) as the strings they are;
    # an f-string would call Enum.__format__, a Python-level call per cell.
    if v.error is None:
        reasons = v.reasons
        s = v.similar_to
        count = v.report_count
        text = ",".join(
            (
                v.level,
                v.kind or "",
                v.canonical or "",
                reasons[0].code if len(reasons) == 1 else " ".join([r.code for r in reasons]),
                " ".join(v.categories),
                str(count) if count else "0",
                neutral_cell(v.matched or ""),
                "" if s is None else neutral_cell(f"{s.canonical} (distance {s.distance})"),
                neutral_cell(v.verified_owner or ""),
                "",
            )
        )
    else:
        text = ",".join(
            ("invalid", v.kind or "", "", "", "", "", "", "", "", neutral_cell(v.error))
        )
    if text.count(",") == _BULK_COMMAS and '"' not in text and "\n" not in text:
        return text
    return ",".join([csv_cell(str(cell)) for cell in bulk_values(v)])


def bulk_rows(heads: Sequence[str], verdicts: Sequence[Verdict] | BatchAnswer) -> str:
    """CSV rows ``head,<bulk cells>\\n``, one per (head, verdict) pair, in order.

    ``heads`` are the input's own cells, already CSV-encoded (a row may hold several);
    ``verdicts`` a list of verdicts or a batch's columnar answer, whose plain misses carry no
    verdict at all. The hot path of ``bulk``: a plain NO RECORD row (most rows of a list)
    varies only in its kind and canonical value, so it is assembled from fixed pieces (the
    one shared NO RECORD answer) without building its cells as a string; those two values
    are then checked once for the whole batch, and any ``,``, ``"`` or newline in one of
    them (never in a phone number) sends the batch through :func:`bulk_cells`, which quotes
    as ``csv.writer`` does.
    """
    vs, kinds, canonicals, full = _columns(verdicts)
    if len(heads) != len(vs):
        raise ValueError(f"{len(heads)} rows but {len(vs)} verdicts")
    tail = _NO_RECORD_ROW_TAIL
    parts: list[str] = []
    extend = parts.extend
    plain: list[str] = []  # kinds and canonical values written unchecked
    keep = plain.append
    for head, v, miss_kind, miss_canonical in zip(heads, vs, kinds, canonicals, strict=False):
        if v is None:  # a plain miss of a batch answer: no verdict object
            kind, canonical = miss_kind or "", miss_canonical or ""
        elif _plain_no_record(v):
            kind, canonical = v.kind or "", v.canonical or ""
        else:
            extend((head, ",", bulk_cells(v), "\n"))
            continue
        extend((head, ",no_record,", kind, ",", canonical, tail))
        keep(kind)
        keep(canonical)
    unchecked = "".join(plain)
    if "," in unchecked or '"' in unchecked or "\n" in unchecked:
        return "".join([f"{head},{bulk_cells(full(i))}\n" for i, head in enumerate(heads)])
    return "".join(parts)


def _columns(
    verdicts: Sequence[Verdict] | BatchAnswer,
) -> tuple[
    Sequence[Verdict | None], Iterable[str | None], Iterable[str | None], Callable[[int], Verdict]
]:
    """(verdicts or None, kinds, canonical values, row -> full verdict) of either input."""
    if isinstance(verdicts, BatchAnswer):
        return verdicts.verdicts, verdicts.kinds, verdicts.canonicals, verdicts.verdict
    none = itertools.repeat(None)
    return verdicts, none, none, verdicts.__getitem__


def _plain_no_record(v: Verdict) -> bool:
    """NO RECORD with its one default reason and nothing else to show."""
    reasons = v.reasons
    return (
        v.level is _NO_RECORD_LEVEL
        and len(reasons) == 1
        and reasons[0].code is _NO_RECORD_CODE
        and v.error is None
        and v.similar_to is None
        and not v.report_count
        and not v.categories
        and not v.matched
        and not v.verified_owner
    )


def summary_line(counts: dict[str, int], rows: int) -> str:
    """``1,000 rows: 3 high_risk, 10 suspicious, ... 2 invalid``: every level, worst first."""
    order = [lv.value for lv in (Level.HIGH_RISK, Level.SUSPICIOUS, Level.POSSIBLE)]
    order += [Level.VERIFIED.value, Level.NO_RECORD.value, "invalid"]
    parts = [f"{counts.get(name, 0):,} {name}" for name in order]
    return f"{rows:,} rows: " + ", ".join(parts)


__all__ = [
    "BULK_COLUMNS",
    "INVALID_LABEL",
    "bulk_cells",
    "bulk_rows",
    "bulk_values",
    "csv_cell",
    "details",
    "level_label",
    "neutral_cell",
    "render_json_lines",
    "render_table",
    "set_raw_cells",
    "summary_line",
    "visible",
]
