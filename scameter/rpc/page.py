"""The search page on the HTTP port: one box, Scameter's four colours, English and 繁體中文.

Responsibility: ``GET /`` (English) and ``GET /zh-hant`` (Traditional Chinese) show a form with
one box that takes a phone number, link, account, e-mail, handle or a whole pasted message;
``POST`` to the same path answers on the same page. The lookup goes through the servicer's
``Check`` (so metrics, the snapshot hold and the status mapping are the API's), authorised by
:class:`PageAuth`: the page is public, as Scameter's is, so it needs no key but has its own
rate limit (``--page-rate``), and it can only check.

What the box takes: text that is one identifier is checked as one; otherwise, for a pasted
message (more than one identifier, or more text than the one identifier), the ``CheckMessage``
RPC checks every identifier found in it, and the worst answer leads.

Invariants:
* No identifier ever appears in a URL: the form posts (``method="post"``) to the page's own
  path and the answer is rendered into the response body; nothing here logs.
* No external asset: the page is one HTML document with inline CSS and no script, so it
  works with JavaScript off and loads nothing from anywhere else.
* Accessible: a ``<label>`` for the box, the answer in a ``role="status"`` region, the level
  spelled out in words beside its colour (colour is never the only signal), text/background
  contrast of at least 4.5:1 (WCAG 2.1 AA) for every level, visible keyboard focus.
* Every interpolated text is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import grpc
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from scameter.rpc import convert
from scameter.rpc.auth import Role
from scameter.rpc.ratelimit import TokenBucket
from scameter.rpc.status import Abort
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.verdict import LEVEL_LABELS, SEVERITY, Language, Level, ReasonCode, Verdict

#: Characters the box takes (a long pasted message fits; more is refused, not truncated).
MAX_INPUT = 4_000
#: Identifiers of a pasted message checked at most (the rest are counted and named as skipped).
MAX_MESSAGE_ITEMS = 20

#: (background, text colour) per level; every pair has a contrast ratio >= 4.5:1.
LEVEL_STYLE: dict[Level, tuple[str, str]] = {
    Level.HIGH_RISK: ("#b3001b", "#ffffff"),
    Level.SUSPICIOUS: ("#a34700", "#ffffff"),
    Level.POSSIBLE: ("#ffd21f", "#1a1a1a"),
    Level.NO_RECORD: ("#5b2a86", "#ffffff"),
    Level.VERIFIED: ("#1b5e20", "#ffffff"),
}


@dataclass(frozen=True, slots=True)
class Words:
    """The page's own sentences in one language."""

    lang: str
    path: str
    other_path: str
    other_name: str
    title: str
    intro: str
    label: str
    hint: str
    button: str
    found: str
    nothing: str
    too_long: str
    busy: str
    failed: str
    advice: str


WORDS: dict[Language, Words] = {
    Language.EN: Words(
        lang="en", path="/", other_path="/zh-hant", other_name="繁體中文",
        title="Scameter search",
        intro="Check a phone number, website, e-mail, bank account, FPS ID, social media "
        "account or a whole message before you pay, reply or click.",
        label="Number, link, account or message",
        hint="Paste a whole SMS or chat message to check every number and link in it.",
        button="Check",
        found="Checked",
        nothing="No phone number, link, account or other identifier was found in the text.",
        too_long=f"The text is too long: at most {MAX_INPUT} characters.",
        busy="Too many searches right now. Please try again in a few seconds.",
        failed="The search could not be completed. Please try again later.",
        advice="NO RECORD does not mean it is safe. If in doubt, call the Anti-Scam Helpline "
        "18222.",
    ),
    Language.ZH_HANT: Words(
        lang="zh-Hant", path="/zh-hant", other_path="/", other_name="English",
        title="防騙視伏器搜尋",
        intro="在付款、回覆或按下連結前，檢查電話號碼、網址、電郵、銀行帳戶、轉數快識別碼、"
        "社交媒體帳戶或整段訊息。",
        label="電話號碼、連結、帳戶或訊息",
        hint="可貼上整段短訊或聊天訊息，檢查其中每個號碼和連結。",
        button="檢查",
        found="已檢查",
        nothing="文字中找不到電話號碼、連結、帳戶或其他識別資料。",
        too_long=f"文字太長：最多 {MAX_INPUT} 個字元。",
        busy="目前搜尋太多，請於數秒後再試。",
        failed="未能完成搜尋，請稍後再試。",
        advice="「沒有記錄」不代表安全。如有懷疑，請致電防騙易熱線 18222。",
    ),
}  # fmt: skip


class PageAuth:
    """The page's authoriser: no key, the ``check`` role only, one shared token bucket."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self._bucket = TokenBucket(rate, burst if burst is not None else max(rate, 1.0))

    def authorize(self, metadata: Iterable[tuple[str, str | bytes]], role: Role) -> str:
        if role is not Role.CHECK:
            raise Abort(grpc.StatusCode.PERMISSION_DENIED, "the search page can only check")
        if not self._bucket.try_take():
            raise Abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "the search page is busy; retry")
        return "search-page"


_CSS = """
:root{font-family:system-ui,"Noto Sans TC","PingFang TC","Microsoft JhengHei",sans-serif;
color:#1a1a1a;background:#fafafa}
body{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem}a{color:#0b4f9c}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
textarea{width:100%;box-sizing:border-box;font-size:1.1rem;padding:.5rem;border:2px solid #555;
border-radius:4px}
button{font-size:1.1rem;padding:.5rem 1.5rem;margin-top:.5rem;background:#0b4f9c;color:#fff;
border:0;border-radius:4px;cursor:pointer}
:focus-visible{outline:3px solid #e07b00;outline-offset:2px}
.hint{color:#444;font-size:.95rem}
.verdict{border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.verdict h2{margin:0 0 .3rem;font-size:1.3rem}.verdict p,.verdict ul{margin:.3rem 0}
.canonical{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.error{border:2px solid #b3001b;padding:.6rem;border-radius:4px}
"""


def _level_label(level: Level, language: Language) -> str:
    en, zh = LEVEL_LABELS[level]
    return zh if language is Language.ZH_HANT else en


def _reason_text(code: str, text: str, language: Language) -> str:
    if language is not Language.ZH_HANT:
        return text
    try:
        translated = ReasonCode(code).sentences.get(language)
    except ValueError:
        translated = None
    return translated or text  # the English sentence until the translation exists


def _verdict_html(v: Verdict, language: Language) -> str:
    bg, fg = LEVEL_STYLE[v.level]
    label = html.escape(_level_label(v.level, language))
    shown = html.escape(v.canonical or v.input)
    kind = f" ({html.escape(v.kind)})" if v.kind else ""
    reasons = "".join(
        f"<li>{html.escape(_reason_text(r.code, r.text, language))}</li>" for r in v.reasons
    )
    return (
        f'<section class="verdict" data-level="{v.level.value}" '
        f'style="background:{bg};color:{fg}">'
        f"<h2>{label}</h2>"
        f'<p class="canonical">{shown}{kind}</p>'
        f"<ul>{reasons}</ul></section>"
    )


def render(language: Language, *, answer: str = "", text: str = "") -> str:
    """The whole page; ``answer`` is the already-escaped answer region's content."""
    w = WORDS[language]
    status = f'<div id="answer" role="status" aria-live="polite">{answer}</div>'
    return (
        f'<!doctype html><html lang="{w.lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(w.title)}</title><style>{_CSS}</style></head><body>"
        f'<p><a href="{w.other_path}" lang="{WORDS[_other(language)].lang}">'
        f"{html.escape(w.other_name)}</a></p>"
        f"<main><h1>{html.escape(w.title)}</h1><p>{html.escape(w.intro)}</p>"
        f'<form method="post" action="{w.path}">'
        f'<label for="q">{html.escape(w.label)}</label>'
        f'<textarea id="q" name="q" rows="3" maxlength="{MAX_INPUT}" required '
        f'aria-describedby="q-hint" autofocus>{html.escape(text)}</textarea>'
        f'<p id="q-hint" class="hint">{html.escape(w.hint)}</p>'
        f'<button type="submit">{html.escape(w.button)}</button></form>'
        f'{status}<p class="hint">{html.escape(w.advice)}</p></main></body></html>'
    )


def _other(language: Language) -> Language:
    return Language.EN if language is Language.ZH_HANT else Language.ZH_HANT


class SearchPage:
    """The page's routes over a servicer authorised by :class:`PageAuth`."""

    def __init__(self, servicer: Any, context_factory: Any) -> None:
        self._servicer = servicer
        self._context = context_factory

    def routes(self) -> list[Route]:
        out = []
        for language, words in WORDS.items():
            out.append(Route(words.path, self._endpoint(language), methods=["GET", "POST"]))
        return out

    def _endpoint(self, language: Language) -> Any:
        async def endpoint(request: Request) -> Response:
            if request.method == "GET":
                return HTMLResponse(render(language), headers=_HEADERS)
            body = await request.body()
            text = (parse_qs(body.decode("utf-8", "replace")).get("q") or [""])[0]
            return HTMLResponse(
                render(language, answer=self.answer(text, language), text=text),
                headers=_HEADERS,
            )

        return endpoint

    def _call(self, method: str, request: Any) -> Any:
        """One RPC through the servicer; a failed call raises :class:`Abort`."""
        from scameter.rpc.http import CallFailed

        try:
            return getattr(self._servicer, method)(request, self._context(None))
        except CallFailed as e:
            raise Abort(e.code, e.message) from None

    def _check(self, identifier: str, language: Language) -> Verdict:
        req = pb.CheckRequest(identifier=identifier, language=str(language))
        return convert.verdict_from_pb(self._call("Check", req).verdict)

    def verdicts(self, text: str, language: Language = Language.EN) -> list[Verdict]:
        """The verdicts for the box's text: one identifier, or each one in a message (when
        the text holds more than one identifier, or more than the one it holds)."""
        from scameter.identifiers.extract import extract

        text = text.strip()
        if not text:
            return []
        found = extract(text, limit=MAX_MESSAGE_ITEMS).items
        if not found or (len(found) == 1 and found[0].raw == text):
            return [self._check(text, language)]  # one identifier (or none found): Check it
        answer = self._call("CheckMessage", pb.CheckMessageRequest(text=text))
        out = [convert.verdict_from_pb(item.verdict) for item in answer.items]
        return sorted(out, key=lambda v: -SEVERITY[v.level])

    def answer(self, text: str, language: Language) -> str:
        w = WORDS[language]
        if len(text) > MAX_INPUT:
            return f'<p class="error">{html.escape(w.too_long)}</p>'
        try:
            found = self.verdicts(text, language)
        except Abort as e:
            if e.code is grpc.StatusCode.INVALID_ARGUMENT:
                msg = w.nothing
            elif e.code is grpc.StatusCode.RESOURCE_EXHAUSTED:
                msg = w.busy
            else:
                msg = w.failed
            return f'<p class="error">{html.escape(msg)}</p>'
        if not found:
            return f'<p class="error">{html.escape(w.nothing)}</p>'
        return "".join(_verdict_html(v, language) for v in found)


#: No caching of answers, no referrer (the page is the only place the text goes), no framing.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}

__all__ = ["LEVEL_STYLE", "MAX_INPUT", "WORDS", "PageAuth", "SearchPage", "render"]
