"""The analysts' dashboard: its pages, as one router that ``ews serve`` mounts beside the API.

Pages are rendered on the server (Jinja2) with their charts' Vega-Lite specs as JSON data
blocks (``<script type="application/json">``, never run); ``/static/ews.js`` draws them with
Vega from ``/static/vega.js``, which this node serves from the vl-convert package, so the
dashboard works on a network with no internet. No page holds an inline script or style.

Signing in: a person pastes an API key with the ``read`` scope once; it is kept in an
HttpOnly, SameSite=Strict cookie and checked on every page exactly as the API checks its
header (same hashing, revocation, scopes and rate limit). RED alerts appear only for keys with
the ``admin`` scope, as in the API. Pages only read: no page changes anything.

The two posts, ``POST /login`` and ``POST /logout``, are defended against cross-site requests
twice (:func:`_check_post`): the form carries a token that must equal the one in the
``ews_csrf`` cookie (double submit: another site can neither read nor set it), and an
``Origin`` (or, without one, a ``Referer``) naming another host is refused, 403. Signing out
is a post only: ``GET /logout`` shows a form and changes nothing.

Languages: every page speaks English, Korean or Japanese (:func:`_language`): ``?lang=`` on
any page (remembered in the ``ews_lang`` cookie), else that cookie, else the browser's
``Accept-Language``, else English. The words are in gettext catalogues (``ews/web/locale``,
English msgids; docs/i18n.md); countries and items are named in the page's language where
the catalogue holds the name (the ``country_name`` filter, ``item.names[lang]``), other data
(headlines, evidence, the sentences written on the Python side) are shown as stored.

The app that includes :data:`router` puts on ``app.state`` the store reader (``reader``), the
catalogue (``catalog``) and the key check (``gate``, see :class:`KeyCheck`), and installs
:func:`error_page` for HTTP errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.parse
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol, TypeVar, cast

from babel.dates import format_date
from babel.support import Translations
from fastapi import APIRouter, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from ews.access.keys import ApiKey
from ews.alerts.board import (
    SORTS,
    STATUSES,
    BoardFilter,
    board,
    board_csv,
    by_severity,
    visible,
)
from ews.alerts.records import LEVELS
from ews.alerts.repository import load_alerts
from ews.catalog import Catalog
from ews.errors import InputError
from ews.records import WORLD, NameKey
from ews.report import charts, maps, views
from ews.report.formats import when
from ews.report.i18n import compiled_catalogue
from ews.report.now import alert_card, default_watcher, now_view
from ews.report.weekly import build_weekly, parse_week, render_html
from ews.risk.config import load_config
from ews.risk.inputs import local_today
from ews.settings import get_settings
from ews.sources.freshness import data_freshness
from ews.sources.live.status import lag_text, source_statuses
from ews.store.reader import StoreReader
from ews.text.gloss import Glossary

COOKIE = "ews_key"
COOKIE_DAYS = 7
CSRF_COOKIE = "ews_csrf"
LANG_COOKIE = "ews_lang"
LANG_DAYS = 365
# The dashboard's languages, English (the source language) first; each has a catalogue in
# ews/web/locale except English. The labels are each language's own name for itself.
LANGUAGES = {"en": "English", "ko": "한국어", "ja": "日本語"}
# The world, which the catalogue names in English only ("WLD" is not an ISO country).
_WORLD_NAMES = {"en": "World", "ko": "세계", "ja": "世界"}
BOARD_PAGE = 100  # rows per board page; the chart above always counts every match
LIST_PAGE = 20  # rows per page of an item's or a country's lists (alerts, events)
# The policy of the pages that draw charts. Vega compiles its expressions with Function(),
# hence 'unsafe-eval': the CSP-safe interpreter (vega-interpreter, `ast: true`) is not in the
# bundle vl-convert ships (vega-embed asks for vega.expressionInterpreter, which it lacks).
# Nothing else is relaxed: no script is inline (the specs are JSON data blocks that
# /static/ews.js draws), no style either (Vega-Embed's and Vega-Tooltip's are in
# /static/charts.css), and everything comes from this node. Pages without charts (sign-in,
# sign-out, errors) get the strict policy of ews.api.middleware.SecurityHeaders: no 'unsafe-*'.
CHART_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

# The weekly brief is one self-contained document (its stylesheet and SVG charts inline, as
# `ews report` writes it to be mailed): it may style itself inline, and may run nothing.
BRIEF_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
MAX_CACHED_BRIEFS = 16  # rendered briefs kept per copy of the store (weeks are the client's)

router = APIRouter(include_in_schema=False)
_Row = TypeVar("_Row")


class KeyCheck(Protocol):
    """The app's key check (``app.state.gate``)."""

    def check(self, token: str | None, scope: str) -> ApiKey:
        """The key of ``token`` when it is known, live, carries ``scope`` and is within its
        rate; else raises :class:`fastapi.HTTPException` (401, 403 or 429)."""
        ...


@cache
def _environment(lang: str = "en") -> Environment:
    """The templates in ``lang``: one environment per language, so each keeps its own
    compiled templates and its gettext callables (installing them on a shared one would
    race between requests in different languages)."""
    env = Environment(
        loader=PackageLoader("ews.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # {% trans %} blocks span lines in the templates; trimmed, their msgids are one line (the
    # extractor is told the same in babel.cfg, or the ids would not match).
    env.policies["ext.i18n.trimmed"] = True
    # The i18n extension adds its install methods to the environment at run time, unknown
    # to the type checker. New-style gettext formats the values in itself and escapes them
    # (the translations are trusted markup, the values are not).
    installer = cast(Any, env)
    if lang == "en":
        installer.install_null_translations(newstyle=True)
    else:
        installer.install_gettext_translations(_translations(lang), newstyle=True)
    env.filters["spec"] = _spec_json
    env.filters["money"] = lambda v: "—" if v is None else f"{v:,.0f}"
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:.0%}"
    env.filters["when"] = when  # a date, or "YYYY-MM-DD HH:MM UTC"; never "+00:00"
    env.filters["day"] = lambda d: _day_text(d, lang)
    # A country in the page's language: {{ code | country_name(catalog) }}.
    env.filters["country_name"] = lambda code, catalog: _country_text(catalog, code, lang)
    env.globals["level_colours"] = charts.LEVEL_COLOURS
    env.globals["levels"] = LEVELS
    env.globals["lang"] = lang
    env.globals["languages"] = LANGUAGES
    return env


@cache
def _translations(lang: str) -> Translations:
    """The dashboard's catalogue of ``lang`` (the ``messages`` domain), compiled once."""
    return compiled_catalogue("ews.web", "messages", lang)


def _country_text(catalog: Catalog, code: str | None, lang: str) -> str:
    """A country's name in ``lang`` ("한국", "韓国"), from its ISO code, or from its name in
    any language (tables built on the Python side hold English names); "—" for none, the
    text as given when the catalogue does not know it."""
    if not code:
        return "—"
    if code == WORLD:
        return _WORLD_NAMES.get(lang, "World")
    iso2 = code if code in catalog.countries else catalog.country_code(code)
    if iso2 is None or iso2 not in catalog.countries:
        return code
    key = cast(NameKey, lang)
    return catalog.countries[iso2].names.get(key) or catalog.country_name(iso2)


def _day_text(day: dt.date | None, lang: str) -> str:
    """A date as people in ``lang`` write it: "12 Aug 2026", "2026. 8. 12.", "2026/08/12"."""
    if day is None:
        return "—"
    if lang == "en":
        return day.strftime("%d %b %Y")  # unchanged from before the dashboard had languages
    return format_date(day, format="medium", locale=lang)


def _language(request: Request) -> tuple[str, bool]:
    """The page's language, and whether the browser should be told to remember it: asked for
    with ``?lang=`` (remembered), else the ``ews_lang`` cookie, else the best match of the
    browser's ``Accept-Language``, else English. An unknown ``?lang=`` is ignored, not an
    error: a stale bookmark still opens its page."""
    asked = request.query_params.get("lang", "").strip().lower()
    if asked in LANGUAGES:
        return asked, request.cookies.get(LANG_COOKIE) != asked
    held = request.cookies.get(LANG_COOKIE, "")
    if held in LANGUAGES:
        return held, False
    return _accepted(request.headers.get("accept-language", "")), False


def _accepted(header: str) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header, by q-value (ties go
    to the earlier entry, as RFC 9110 leaves to the server); English when none fits."""
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, order, primary))
    return min(ranked)[2] if ranked else "en"


def _set_cookie(
    request: Request, response: Response, name: str, value: str, *, days: int | None = None
) -> None:
    """Every cookie of the dashboard the same way: out of scripts' reach, never sent by
    another site, over TLS only when the page came over TLS; ``days`` None lasts the
    browser's session."""
    response.set_cookie(
        name,
        value,
        max_age=days * 86400 if days is not None else None,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _remember_language(request: Request, response: Response) -> None:
    """Keep a language chosen with ``?lang=`` in the ``ews_lang`` cookie. The answer depends
    on the browser's languages and cookies: a shared cache must not hand it to another."""
    response.headers["Vary"] = "Accept-Language, Cookie"
    lang, changed = _language(request)
    if changed:
        _set_cookie(request, response, LANG_COOKIE, lang, days=LANG_DAYS)


def _language_links(request: Request) -> dict[str, str]:
    """This page in each language: its path and query with ``lang`` set, for the switcher."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {
        code: request.url.path + "?" + urllib.parse.urlencode([*kept, ("lang", code)])
        for code in LANGUAGES
    }


def _render(request: Request, template: str, **context: Any) -> str:
    """``template`` in the request's language, with the language switcher's links."""
    lang, _ = _language(request)
    return (
        _environment(lang)
        .get_template(template)
        .render(request=request, language_links=_language_links(request), **context)
    )


def _spec_json(spec: charts.Spec | None) -> Markup:
    """A chart spec as JSON safe inside a <script> element."""
    text = json.dumps(spec, default=str, ensure_ascii=False)
    # "</" would end the script element early; "<!--" would open a comment.
    text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
    return Markup(text)  # noqa: S704 - escaped above for the script context


class _Problems:
    """The bad parameters of one request, gathered so that one answer names them all: a
    reader who learns of one mistake at a time needs as many round trips as mistakes."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, name: str, value: str, allowed: str) -> None:
        self.lines.append(f"{name} = {value!r}: {allowed}")

    def raise_any(self) -> None:
        """A 422 listing every problem (the error page shows the list), if there is one."""
        if self.lines:
            raise HTTPException(422, list(self.lines))


def _date(problems: _Problems, name: str, text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.add(name, text, "not a date; use YYYY-MM-DD")
        return None


def _page_number(problems: _Problems, name: str, text: str | None) -> int:
    text = text or "1"
    if not text.isdigit() or int(text) < 1:
        problems.add(name, text, "a page number: a whole number from 1")
        return 1
    return int(text)


@dataclass(frozen=True)
class _Pager:
    """One page of a list that grows with the store (the board, an item's or a country's
    alerts and events), newest first. ``param`` is the query parameter that turns it, so
    several lists on one page turn independently."""

    param: str
    number: int
    size: int
    total: int
    query: str
    """The request's query string without ``param``, for the pager's links."""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    def link(self, number: int) -> str:
        return "?" + "&".join(q for q in (self.query, f"{self.param}={number}") if q)


def _pager(
    request: Request, param: str, number: int, total: int, size: int, noun: str = "row"
) -> _Pager:
    """The pager of a list of ``total`` rows at page ``number``; a page past the last is a
    404 that says how many pages there are (an empty page beside a count of rows would look
    like a fault of the filters)."""
    pager = _Pager(param, number, size, total, _without(request, param))
    if number > pager.pages:
        rows = f"{total} {noun}{'' if total == 1 else 's'}"
        raise HTTPException(
            404,
            f"{param} = {number}: past the last page; {rows} fill {pager.pages} "
            f"page{'' if pager.pages == 1 else 's'} of {size}",
        )
    return pager


def _slice(rows: list[_Row], pager: _Pager) -> list[_Row]:
    return rows[(pager.number - 1) * pager.size : pager.number * pager.size]


def _reader(request: Request) -> StoreReader:
    reader: StoreReader = request.app.state.reader
    return reader


def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


def _gate(request: Request) -> KeyCheck:
    gate: KeyCheck = request.app.state.gate
    return gate


def _glossary(request: Request) -> Glossary:
    # Built on first use and kept: compiling the lexicon costs ~1 s, reading the glossary's
    # terms tens of ms more, and most pages need neither.
    state = request.app.state
    glossary: Glossary | None = getattr(state, "glossary", None)
    if glossary is None:
        glossary = state.glossary = Glossary(_catalog(request))
    return glossary


def _page(request: Request, template: str, key: ApiKey, **context: Any) -> HTMLResponse:
    """A page with charts, for a signed-in key; every such page warns of stale sources."""
    csrf = _csrf(request)
    if "stale_sources" not in context:
        with _reader(request).read() as store:
            statuses = source_statuses(
                store, now=dt.datetime.now(dt.UTC), stale_after=get_settings().source_stale_after
            )
        context["stale_sources"] = [r.id for r in statuses if r.stale]
    with _reader(request).read() as store:
        # The footer says how recent the data are, not only when the store was read: a board
        # read in December from news that end in August must say so on every page.
        fresh = store.memo(
            "footer-freshness",
            lambda s: data_freshness(
                s, local_today(), stale_after=get_settings().source_stale_after
            ),
        )
    newest: dict[str, dt.date] = {}
    for f in fresh:
        kind = f.kind.removeprefix("live ")
        if f.newest is not None and (kind not in newest or f.newest > newest[kind]):
            newest[kind] = f.newest
    context["newest_data"] = sorted(newest.items())
    context["behind"] = sum(1 for f in fresh if f.stale)
    html = _render(
        request,
        template,
        key=key,
        catalog=_catalog(request),
        path=request.url.path,
        store_status=_reader(request).status(),
        charts=True,
        csrf=csrf,
        **context,
    )
    # Nothing leaves for another host: all scripts, styles and data come from this node.
    response = HTMLResponse(html, headers={"Content-Security-Policy": CHART_CSP})
    _keep_csrf(request, response, csrf)
    _remember_language(request, response)
    return response


def _plain(
    request: Request,
    template: str,
    code: int = 200,
    csrf: str = "",
    key: ApiKey | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page without charts (sign-in, sign-out, errors): it gets the app's strict policy
    (no inline or evaluated script). With ``key`` (an error met by a signed-in reader) it
    carries the navigation, so the reader is never stranded."""
    html = _render(request, template, key=key, charts=False, csrf=csrf, **context)
    response = HTMLResponse(html, status_code=code)
    _remember_language(request, response)
    return response


# -- cross-site request forgery -------------------------------------------------------------
def _csrf(request: Request) -> str:
    """The browser's anti-forgery token: the one in its cookie, or a new one."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) == 43 and all(c.isalnum() or c in "-_" for c in token):
        return token
    return secrets.token_urlsafe(32)


def _keep_csrf(request: Request, response: Response, token: str) -> None:
    """Set the anti-forgery cookie when the browser does not hold ``token`` yet."""
    if request.cookies.get(CSRF_COOKIE) != token:
        _set_cookie(request, response, CSRF_COOKIE, token)


def _same_origin(request: Request) -> bool:
    """False when the browser says the post comes from another site: an ``Origin`` (or,
    without one, a ``Referer``) whose host is not this one; ``Origin: null`` (a sandboxed
    frame, a redirect from elsewhere) counts as another site. Hosts are compared, not
    schemes: a TLS-terminating proxy in front changes the scheme, not the host."""
    host = request.headers.get("host", "").lower()
    origin = request.headers.get("origin")
    source = origin if origin is not None else request.headers.get("referer")
    if source is None:
        return True  # not a browser, or one that says nothing: the token decides
    return urllib.parse.urlsplit(source.strip()).netloc.lower() == host != ""


def _check_post(request: Request, form: dict[str, list[str]]) -> None:
    """Refuse (403) a sign-in or sign-out posted from another site or without this
    browser's anti-forgery token."""
    if not _same_origin(request):
        raise HTTPException(403, "refused: this form was posted from another site")
    sent = (form.get("csrf") or [""])[0]
    held = request.cookies.get(CSRF_COOKIE, "")
    if not held or not hmac.compare_digest(sent.encode(), held.encode()):
        raise HTTPException(403, "refused: the form has expired; open it again and retry")


async def _form(request: Request) -> dict[str, list[str]]:
    body = (await request.body()).decode("utf-8", "replace")
    return urllib.parse.parse_qs(body)


def _viewer(request: Request) -> ApiKey | RedirectResponse:
    """The signed-in key, or the way to the login form."""
    token = request.cookies.get(COOKIE)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = RedirectResponse("/login?" + urllib.parse.urlencode({"next": target}), status_code=303)
    # A language asked for on the way to the sign-in form is kept for the form too.
    _remember_language(request, login)
    if not token:
        return login
    try:
        key = _gate(request).check(token, "read")
    except HTTPException as exc:
        if exc.status_code == 401:
            if exc.detail == "expired API key":
                query = urllib.parse.urlencode({"next": target, "error": exc.detail})
                expired = RedirectResponse(f"/login?{query}", status_code=303)
                _remember_language(request, expired)
                return expired
            return login
        raise
    # Kept for the error page, should this request fail: checking the key again would
    # count the request twice against the key's rate.
    request.state.viewer = key
    return key


# -- static ------------------------------------------------------------------------------------
@cache
def _vega_etag() -> str:
    return f'"{hashlib.sha256(charts.vega_bundle().encode()).hexdigest()[:16]}"'


@cache
def _css() -> str:
    return resources.files("ews.report").joinpath("static", "ews.css").read_text("utf-8")


@router.get("/static/vega.js")
def vega_js(request: Request) -> Response:
    etag = _vega_etag()
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(
        charts.vega_bundle(),
        media_type="text/javascript",
        headers={"ETag": etag, "Cache-Control": "public, max-age=86400"},
    )


@router.get("/static/ews.css")
def ews_css() -> Response:
    return Response(_css(), media_type="text/css")


@cache
def _own(name: str) -> str:
    return resources.files("ews.web").joinpath("static", name).read_text("utf-8")


@router.get("/static/ews.js")
def ews_js() -> Response:
    return Response(_own("ews.js"), media_type="text/javascript")


@router.get("/static/charts.css")
def charts_css() -> Response:
    return Response(_own("charts.css"), media_type="text/css")


@cache
def _world() -> tuple[bytes, str]:
    # Natural Earth's countries (see static/README.md), which the map's spec names by URL:
    # fetched by Vega once per browser, not inlined into every page.
    data = resources.files("ews.web").joinpath("static", "world-110m.json").read_bytes()
    return data, f'"{hashlib.sha256(data).hexdigest()[:16]}"'


@router.get(maps.WORLD_URL)
def world_json(request: Request) -> Response:
    data, etag = _world()
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(
        data,
        media_type="application/json",
        headers={"ETag": etag, "Cache-Control": "public, max-age=86400"},
    )


# -- signing in --------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, next: str = "/", error: str = "") -> HTMLResponse:
    csrf = _csrf(request)
    response = _plain(
        request,
        "login.html",
        401 if error else 200,
        csrf,
        next=_safe_next(next),
        error=error,
        path="/login",
    )
    _keep_csrf(request, response, csrf)
    return response


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await _form(request)
    _check_post(request, form)
    token = (form.get("token") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/"])[0])
    try:
        _gate(request).check(token, "read")
    except HTTPException as exc:
        query = urllib.parse.urlencode({"next": target, "error": exc.detail})
        return RedirectResponse(f"/login?{query}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, COOKIE, token, days=COOKIE_DAYS)
    return response


@router.get("/logout")
def logout_form(request: Request) -> HTMLResponse:
    """A button to sign out, and nothing else: a link (from any site) cannot sign out."""
    csrf = _csrf(request)
    response = _plain(request, "logout.html", 200, csrf, path="/logout")
    _keep_csrf(request, response, csrf)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    _check_post(request, await _form(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response


# -- pages ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _BoardQuery:
    """The board's query parameters, checked: what ``/`` shows and ``/board.csv`` writes."""

    flt: BoardFilter
    number: int
    sort: str
    """severity (worst first, the default) or newest."""
    item_text: str
    unknown_item: bool
    """The item was named in words that match no catalogue item."""
    form: dict[str, str]


def _board_query(request: Request, key: ApiKey) -> _BoardQuery:
    """The board's filter from the query string; a 422 listing every bad parameter."""
    catalog = _catalog(request)
    q = request.query_params
    problems = _Problems()
    level = q.get("level") or None
    if level is not None and level not in LEVELS:
        problems.add("level", level, f"use one of {', '.join(LEVELS)}")
        level = None
    number = _page_number(problems, "page", q.get("page"))
    sort = q.get("sort") or SORTS[0]
    if sort not in SORTS:
        problems.add("sort", sort, f"use one of {', '.join(SORTS)}")
        sort = SORTS[0]
    status = next((s for s in STATUSES if s == (q.get("status") or "all")), None)
    if status is None:
        problems.add("status", q.get("status") or "", f"use one of {', '.join(STATUSES)}")
        status = "all"
    item_text = (q.get("item") or "").strip()
    item_code, item_codes = None, tuple[str, ...]()
    if item_text.isdigit():
        item_code = item_text
    elif item_text:
        # A name in any language may match several items ("rare earths"): all count.
        item_codes = tuple(i.hs for i in catalog.search_items(item_text))
    supplier = _country(problems, catalog, "supplier", q.get("supplier"))
    importer = _country(problems, catalog, "importer", q.get("importer"))
    since = _date(problems, "since", q.get("since"))
    until = _date(problems, "until", q.get("until"))
    if since and until and since > until:
        problems.add("since", str(since), f"after until ({until}): no day is in that range")
    problems.raise_any()
    own = q.get("own") == "1"
    flt = BoardFilter(
        level=level,
        item=item_code,
        related=True,
        items=item_codes or (("-",) if item_text and not item_code else ()),
        supplier=supplier,
        importer=importer,
        with_global=not own,
        since=since,
        until=until,
        status=status,
        include_red="admin" in key.scopes,
    )
    return _BoardQuery(
        flt=flt,
        number=number,
        sort=sort,
        item_text=item_text,
        unknown_item=bool(item_text) and item_code is None and not item_codes,
        form={
            "level": level or "",
            "status": status,
            "item": item_text,
            "supplier": q.get("supplier") or "",
            "importer": q.get("importer") or "",
            "own": "1" if own else "",
            "since": q.get("since") or "",
            "until": q.get("until") or "",
            "sort": sort,
        },
    )


def _empty_board(query: _BoardQuery, in_all: int) -> str:
    """Why an empty board is empty, which board.html says in the page's language: no alert
    at all yet, an item named in words that match none, or filters that match none."""
    if in_all == 0:
        return "none"
    if query.unknown_item:
        return "unknown_item"
    return "filters"


@router.get("/", response_model=None)
def board_page(request: Request) -> Response:
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    query = _board_query(request, key)
    with _reader(request).read() as store:
        alerts = store.memo("alerts", load_alerts)
    entries = board(alerts, query.flt)
    if query.sort == "severity":
        entries = by_severity(entries)
    pager = _pager(request, "page", query.number, len(entries), BOARD_PAGE, "alert")
    in_all = len(board(alerts, BoardFilter(include_red=query.flt.include_red)))
    shown = {e.alert.alert_id for e in entries}
    every = [a for a in alerts if a.alert_id in shown]
    chart = charts.board_chart(views.alerts_by_month(every))
    return _page(
        request,
        "board.html",
        key,
        entries=_slice(entries, pager),
        total=len(entries),
        pager=pager,
        csv_query=_without(request, "page"),
        board_chart=chart,
        empty_reason=_empty_board(query, in_all),
        in_all=in_all,
        item_text=query.item_text,
        form=query.form,
        statuses=STATUSES,
    )


@router.get("/board.csv", response_model=None)
def board_csv_page(request: Request) -> Response:
    """The board's alerts as CSV, filtered as ``/`` with the same query: every match, not
    one page of them."""
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    query = _board_query(request, key)
    with _reader(request).read() as store:
        entries = board(store.memo("alerts", load_alerts), query.flt)
    if query.sort == "severity":
        entries = by_severity(entries)
    return Response(
        board_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ews-alerts.csv"'},
    )


@router.get("/items/{hs}", response_model=None)
def item_page(request: Request, hs: str) -> Response:
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    catalog = _catalog(request)
    item = catalog.item(hs) or catalog.item_for_code(hs)
    if item is None:
        return _items_named(request, key, hs)
    q = request.query_params
    problems = _Problems()
    importer = _country(problems, catalog, "importer", q.get("importer"))
    alerts_number = _page_number(problems, "alerts_page", q.get("alerts_page"))
    events_number = _page_number(problems, "events_page", q.get("events_page"))
    problems.raise_any()
    with _reader(request).read() as store:
        prices = views.prices(store, item)
        price_anoms = views.price_anomalies(store, prices)
        trade = views.trade_rows(store, item)
        trade_anoms = views.trade_anomalies(store, item, catalog)
        events = views.events(store, catalog, _glossary(request), item=item)
        alerts = board(
            store.memo("alerts", load_alerts),
            BoardFilter(item=item.hs, related=True, include_red="admin" in key.scopes),
        )
    alerts_pager = _pager(request, "alerts_page", alerts_number, len(alerts), LIST_PAGE, "alert")
    events_pager = _pager(request, "events_page", events_number, len(events), LIST_PAGE, "event")
    shares, hhi, basis = views.supplier_shares(trade, catalog, importer)
    group = catalog.groups[item.group]
    return _page(
        request,
        "item.html",
        key,
        item=item,
        group=group,
        siblings=[i for i in catalog.items_in_group(item.group) if i.hs != item.hs],
        importer=importer,
        watchers=("KR", "US", "JP"),
        price_chart=charts.price_chart(prices, price_anoms),
        destinations_chart=charts.destinations_chart(views.destinations(trade, catalog)),
        shares_chart=charts.shares_chart(shares, hhi, basis),
        trade_anomalies_chart=charts.anomalies_chart(
            trade_anoms, "Trade anomalies (drops and unit-value jumps)"
        ),
        events_chart=charts.events_chart(views.events_frame(events)),
        events=_slice(events, events_pager),
        events_pager=events_pager,
        alerts=_slice(alerts, alerts_pager),
        alerts_pager=alerts_pager,
        basis=basis,
    )


def _items_named(request: Request, key: ApiKey, text: str) -> Response:
    """``/items/희토류``: an item named in words, in any language, as countries are. One
    match goes to its page; several get a short page listing them (an analyst who typed
    "rare earths" chooses among the group's items rather than being sent to one of them)."""
    found = _catalog(request).search_items(text) if text.strip() else []
    if not found:
        raise HTTPException(404, f"no critical item {text!r}")
    if len(found) == 1:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/items/{found[0].hs}{query}", status_code=303)
    return _page(request, "items_named.html", key, text=text, found=found)


@router.get("/alerts/{alert_id}", response_model=None)
def alert_page(request: Request, alert_id: str) -> Response:
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    catalog = _catalog(request)
    with _reader(request).read() as store:
        versions = views.alert_versions(store, alert_id)
        admin = "admin" in key.scopes
        if not versions or not all(visible(a, include_red=admin) for a in versions):
            raise HTTPException(404, f"no alert {alert_id!r}")
        last = versions[-1]
        problems = _Problems()
        watcher = _country(problems, catalog, "watcher", request.query_params.get("watcher"))
        problems.raise_any()
        card = alert_card(
            store,
            catalog,
            _glossary(request),
            versions,
            watcher=watcher or default_watcher(),
            day=local_today(),
            lang=_language(request)[0],  # the card's sentences in the page's language
        )
    return _page(
        request,
        "alert.html",
        key,
        alert=last,
        peak=card.peak,
        versions=versions,
        evidence=card.evidence,
        card=card,
        watchers=load_config().watchlist,
        level_chart=charts.level_chart(views.level_history(versions)),
        item=catalog.item_for_code(last.hs),
    )


@router.get("/now", response_model=None)
def now_page(request: Request) -> Response:
    """What is at risk for a watching country now: its open alerts, worst first, with what
    changed this week and its exposure, and how fresh each source's data are."""
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    catalog = _catalog(request)
    problems = _Problems()
    country = _country(problems, catalog, "country", request.query_params.get("country"))
    today = local_today()
    day = _date(problems, "as_of", request.query_params.get("as_of")) or today
    if day > today:
        problems.add("as_of", day.isoformat(), f"in the future (today is {today})")
    problems.raise_any()
    country = country or default_watcher()
    with _reader(request).read() as store:
        view = now_view(
            store,
            catalog,
            store.memo("alerts", load_alerts),
            country,
            day=day,
            include_red="admin" in key.scopes,
            stale_after=get_settings().source_stale_after,
            lang=_language(request)[0],  # the view's sentences in the page's language
        )
    return _page(request, "now.html", key, view=view, watchers=load_config().watchlist)


@router.get("/countries/{code}", response_model=None)
def country_page(request: Request, code: str) -> Response:
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    catalog = _catalog(request)
    iso2 = catalog.country_code(code)
    if iso2 is None:
        raise HTTPException(404, f"no country {code!r}")
    country = catalog.countries[iso2]
    admin = "admin" in key.scopes
    q = request.query_params
    problems = _Problems()
    watching_number = _page_number(problems, "watching_page", q.get("watching_page"))
    supplier_number = _page_number(problems, "supplier_page", q.get("supplier_page"))
    events_number = _page_number(problems, "events_page", q.get("events_page"))
    problems.raise_any()
    with _reader(request).read() as store:
        dependent = views.dependent_items(store, catalog, iso2)
        every = store.memo("alerts", load_alerts)
        as_supplier = board(every, BoardFilter(supplier=iso2, include_red=admin))
        as_importer = board(every, BoardFilter(importer=iso2, include_red=admin))
        traded = views.country_trade(store, catalog, iso2)
        events = views.events(store, catalog, _glossary(request), country=iso2, limit=50)
    # Newest first (as the board), a page at a time: a country watched for years has
    # hundreds of alerts, and the rest are one link away on the board.
    watching = _pager(
        request, "watching_page", watching_number, len(as_importer), LIST_PAGE, "alert"
    )
    supplying = _pager(
        request, "supplier_page", supplier_number, len(as_supplier), LIST_PAGE, "alert"
    )
    events_pager = _pager(request, "events_page", events_number, len(events), LIST_PAGE, "event")
    return _page(
        request,
        "country.html",
        key,
        country=country,
        dependent=dependent.to_dict("records"),
        as_supplier=_slice(as_supplier, supplying),
        supplier_pager=supplying,
        as_importer=_slice(as_importer, watching),
        watching_pager=watching,
        trade_chart=charts.country_chart(traded, country.names["en"]),
        events=_slice(events, events_pager),
        events_pager=events_pager,
    )


@router.get("/concentration", response_model=None)
def concentration_page(request: Request) -> Response:
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    catalog = _catalog(request)
    with _reader(request).read() as store:
        frame = views.concentration(store, catalog)
    return _page(
        request,
        "concentration.html",
        key,
        concentration_chart=charts.concentration_chart(frame),
        rows=frame.sort_values("share", ascending=False).to_dict("records"),
    )


@router.get("/sources", response_model=None)
def sources_page(request: Request) -> Response:
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    settings = get_settings()
    with _reader(request).read() as store:
        rows = source_statuses(
            store, now=dt.datetime.now(dt.UTC), stale_after=settings.source_stale_after
        )
    return _page(
        request,
        "sources.html",
        key,
        rows=rows,
        stale=[r.id for r in rows if r.stale],
        stale_sources=[],  # this page says it in full
        stale_after=f"{settings.source_stale_after:g}",
        lag=lag_text,
    )


@router.get("/map", response_model=None)
def map_page(request: Request) -> Response:
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    catalog = _catalog(request)
    problems = _Problems()
    importer = _country(problems, catalog, "country", request.query_params.get("country"))
    problems.raise_any()
    with _reader(request).read() as store:
        alerts = store.memo("alerts", load_alerts)
    supply = maps.supply_map(alerts, catalog, importer=importer, include_red="admin" in key.scopes)
    return _page(
        request,
        "map.html",
        key,
        supply=supply,
        map_chart=maps.map_chart(supply),
        watchers=("KR", "US", "JP"),
    )


@router.get("/brief", response_model=None)
def brief_page(request: Request) -> Response:
    """The weekly brief of ``ews report --week`` as HTML, this week's unless ``?week=``
    names another (e.g. 2025-W41); RED alerts are in it for admin keys only, as on the
    board (the brief is then marked RED)."""
    key = _viewer(request)
    if isinstance(key, RedirectResponse):
        return key
    today = dt.datetime.now(dt.UTC).date()
    this_week = f"{today.isocalendar().year}-W{today.isocalendar().week:02d}"
    text = request.query_params.get("week") or this_week
    problems = _Problems()
    try:
        monday, _ = parse_week(text)
    except InputError:
        problems.add("week", text, "an ISO week, e.g. 2025-W41")
        monday = today
    if monday > today:
        # As `ews report`: a week to come would read as a quiet week.
        problems.add("week", text, f"has not begun (today is {today})")
    problems.raise_any()
    iso = monday.isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    red = "admin" in key.scopes
    with _reader(request).read() as store:
        # Charts make a brief cost seconds: kept until the store changes.
        briefs: dict[tuple[str, bool], str] = store.memo("briefs", lambda _: {})
        html = briefs.get((week, red))
        if html is None:
            brief = build_weekly(
                store, _catalog(request), week, node_id=get_settings().node_id, include_red=red
            )
            html = render_html(brief, _catalog(request))
            if len(briefs) < MAX_CACHED_BRIEFS:
                briefs[(week, red)] = html
    return HTMLResponse(html, headers={"Content-Security-Policy": BRIEF_CSP})


async def error_page(request: Request, exc: StarletteHTTPException) -> Response:
    """The answer to an HTTP error: a page for people, JSON for the API (its OpenAPI says
    so) and for static files."""
    if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
        return await http_exception_handler(request, exc)
    key = _signed_in(request)
    csrf = _csrf(request) if key is not None else ""
    detail = exc.detail
    response = _plain(
        request,
        "error.html",
        exc.status_code,
        csrf,
        key=key,
        status=exc.status_code,
        # A list is every bad parameter of the request (see _Problems).
        problems=detail if isinstance(detail, list) else None,
        detail=None if isinstance(detail, list) else detail,
        path="",
    )
    if key is not None:
        _keep_csrf(request, response, csrf)
    response.headers.update(exc.headers or {})
    return response


def _signed_in(request: Request) -> ApiKey | None:
    """The key of the browser's sign-in cookie when it is still good, else None: an error
    page shows the navigation to a signed-in reader and the sign-in link to anyone else."""
    checked: ApiKey | None = getattr(request.state, "viewer", None)
    if checked is not None:
        return checked
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return _gate(request).check(token, "read")
    except HTTPException:
        return None


def _country(problems: _Problems, catalog: Catalog, name: str, text: str | None) -> str | None:
    if not text:
        return None
    code = catalog.country_code(text.strip())
    if code is None:
        problems.add(name, text, "unknown country; use a name in any language or an ISO code")
    return code


def _without(request: Request, param: str) -> str:
    """The request's query string minus ``param``, for a pager's links."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != param]
    return urllib.parse.urlencode(kept)


def _safe_next(target: str) -> str:
    """Only same-site paths: a crafted ``next`` must not send a signed-in user elsewhere."""
    parsed = urllib.parse.urlsplit(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
