"""The analysts' dashboard, served by ``ews serve`` beside the API.

Pages are rendered on the server (Jinja2) with their charts' Vega-Lite specs inline; the
browser draws them with Vega from ``/static/vega.js``, which this node serves from the
vl-convert package, so the dashboard works on a network with no internet.

Signing in: a person pastes an API key with the ``read`` scope once; it is kept in an
HttpOnly, SameSite=Strict cookie and checked on every page exactly as the API checks its
header (same hashing, revocation, scopes and rate limit). RED alerts appear only for keys with
the ``admin`` scope, as in the API. Pages only read: no page changes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.parse
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from ews.access.keys import ApiKey
from ews.alerts.board import STATUSES, BoardFilter, board
from ews.alerts.records import LEVELS
from ews.alerts.repository import load_alerts
from ews.catalog import Catalog
from ews.store.reader import StoreReader
from ews.text.gloss import Glossary
from ews.web import charts, data

COOKIE = "ews_key"
COOKIE_DAYS = 7
BOARD_PAGE = 100  # rows per board page; the chart above always counts every match
# Vega compiles its expressions with Function(), hence 'unsafe-eval'; inline scripts carry
# the chart specs. Everything else must come from this node.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ews.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["spec"] = _spec_json
    env.filters["money"] = lambda v: "—" if v is None else f"{v:,.0f}"
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:.0%}"
    env.globals["level_colours"] = charts.LEVEL_COLOURS
    env.globals["levels"] = LEVELS
    return env


def _spec_json(spec: charts.Spec | None) -> Markup:
    """A chart spec as JSON safe inside a <script> element."""
    text = json.dumps(spec, default=str, ensure_ascii=False)
    # "</" would end the script element early; "<!--" would open a comment.
    text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
    return Markup(text)  # noqa: S704 - escaped above for the script context


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"not a date (YYYY-MM-DD): {text!r}") from None


def mount(app: FastAPI, reader: StoreReader, catalog: Catalog) -> None:
    """Add the dashboard's pages and static files to ``app`` (kept out of the OpenAPI)."""
    env = environment()
    glossary_cache: list[Glossary] = []

    def glossary() -> Glossary:
        # Built on first use: compiling the lexicon costs ~1 s and most pages don't need it.
        if not glossary_cache:
            glossary_cache.append(Glossary(catalog))
        return glossary_cache[0]

    def page(request: Request, template: str, key: ApiKey, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(
            request=request,
            key=key,
            catalog=catalog,
            path=request.url.path,
            store_status=reader.status(),
            **context,
        )
        # Nothing leaves for another host: all scripts, styles and data come from this node.
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP})

    def viewer(request: Request) -> ApiKey | RedirectResponse:
        token = request.cookies.get(COOKIE)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = RedirectResponse(
            "/login?" + urllib.parse.urlencode({"next": target}), status_code=303
        )
        if not token:
            return login
        try:
            key: ApiKey = request.app.state.gate.check(token, "read")
        except HTTPException as exc:
            if exc.status_code == 401:
                return login
            raise
        return key

    # -- static --------------------------------------------------------------------------------
    vega_etag = f'"{hashlib.sha256(charts.vega_bundle().encode()).hexdigest()[:16]}"'

    @app.get("/static/vega.js", include_in_schema=False)
    def vega_js(request: Request) -> Response:
        if request.headers.get("if-none-match") == vega_etag:
            return Response(status_code=304, headers={"ETag": vega_etag})
        return Response(
            charts.vega_bundle(),
            media_type="text/javascript",
            headers={"ETag": vega_etag, "Cache-Control": "public, max-age=86400"},
        )

    css = resources.files("ews.web").joinpath("static", "ews.css").read_text("utf-8")

    @app.get("/static/ews.css", include_in_schema=False)
    def ews_css() -> Response:
        return Response(css, media_type="text/css")

    # -- signing in ----------------------------------------------------------------------------
    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/", error: str = "") -> HTMLResponse:
        html = env.get_template("login.html").render(
            request=request, key=None, next=_safe_next(next), error=error, path="/login"
        )
        return HTMLResponse(html, status_code=401 if error else 200)

    @app.post("/login", include_in_schema=False)
    async def login_submit(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        form = urllib.parse.parse_qs(body)
        token = (form.get("token") or [""])[0].strip()
        target = _safe_next((form.get("next") or ["/"])[0])
        try:
            request.app.state.gate.check(token, "read")
        except HTTPException as exc:
            query = urllib.parse.urlencode({"next": target, "error": exc.detail})
            return RedirectResponse(f"/login?{query}", status_code=303)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            max_age=COOKIE_DAYS * 86400,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.get("/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    # -- pages ---------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False, response_model=None)
    def board_page(request: Request) -> Response:
        key = viewer(request)
        if isinstance(key, RedirectResponse):
            return key
        q = request.query_params
        level = q.get("level") or None
        if level is not None and level not in LEVELS:
            raise HTTPException(422, f"level: use one of {', '.join(LEVELS)}")
        page_text = q.get("page") or "1"
        if not page_text.isdigit() or int(page_text) < 1:
            raise HTTPException(422, "page: a whole number from 1")
        number = int(page_text)
        status = next((s for s in STATUSES if s == (q.get("status") or "all")), None)
        if status is None:
            raise HTTPException(422, f"status: use one of {', '.join(STATUSES)}")
        item_text = (q.get("item") or "").strip()
        item_code, item_codes = None, tuple[str, ...]()
        if item_text.isdigit():
            item_code = item_text
        elif item_text:
            # A name in any language may match several items ("rare earths"): all count.
            item_codes = tuple(i.hs for i in catalog.search_items(item_text)) or ("-",)
        supplier = _country(catalog, q.get("supplier"))
        importer = _country(catalog, q.get("importer"))
        flt = BoardFilter(
            level=level,
            item=item_code,
            related=True,
            items=item_codes,
            supplier=supplier,
            importer=importer,
            since=_date(q.get("since")),
            until=_date(q.get("until")),
            status=status,
            include_red="admin" in key.scopes,
        )
        with reader.read() as store:
            alerts = store.memo("alerts", load_alerts)
        entries = board(alerts, flt)
        shown = {e.alert.alert_id for e in entries}
        every = [a for a in alerts if a.alert_id in shown]
        chart = charts.board_chart(data.alerts_by_month(every))
        return page(
            request,
            "board.html",
            key,
            entries=entries[(number - 1) * BOARD_PAGE : number * BOARD_PAGE],
            total=len(entries),
            number=number,
            pages=max(1, -(-len(entries) // BOARD_PAGE)),
            query=_without_page(request),
            board_chart=chart,
            form={
                "level": level or "",
                "status": status,
                "item": item_text,
                "supplier": q.get("supplier") or "",
                "importer": q.get("importer") or "",
                "since": q.get("since") or "",
                "until": q.get("until") or "",
            },
            statuses=STATUSES,
        )

    @app.get("/items/{hs}", include_in_schema=False, response_model=None)
    def item_page(request: Request, hs: str) -> Response:
        key = viewer(request)
        if isinstance(key, RedirectResponse):
            return key
        item = catalog.item(hs) or catalog.item_for_code(hs)
        if item is None:
            raise HTTPException(404, f"no critical item {hs!r}")
        importer = _country(catalog, request.query_params.get("importer"))
        with reader.read() as store:
            prices = data.prices(store, item)
            price_anoms = data.price_anomalies(store, prices)
            trade = data.trade_rows(store, item)
            trade_anoms = data.trade_anomalies(store, item, catalog)
            events = data.events(store, catalog, glossary(), item=item)
            alerts = board(
                store.memo("alerts", load_alerts),
                BoardFilter(item=item.hs, related=True, include_red="admin" in key.scopes),
            )
        shares, hhi, basis = data.supplier_shares(trade, catalog, importer)
        group = catalog.groups[item.group]
        return page(
            request,
            "item.html",
            key,
            item=item,
            group=group,
            siblings=[i for i in catalog.items_in_group(item.group) if i.hs != item.hs],
            importer=importer,
            watchers=("KR", "US", "JP"),
            price_chart=charts.price_chart(prices, price_anoms),
            destinations_chart=charts.destinations_chart(data.destinations(trade, catalog)),
            shares_chart=charts.shares_chart(shares, hhi, basis),
            trade_anomalies_chart=charts.anomalies_chart(
                trade_anoms, "Trade anomalies (drops and unit-value jumps)"
            ),
            events_chart=charts.events_chart(data.events_frame(events)),
            events=events,
            alerts=alerts,
            basis=basis,
        )

    @app.get("/alerts/{alert_id}", include_in_schema=False, response_model=None)
    def alert_page(request: Request, alert_id: str) -> Response:
        key = viewer(request)
        if isinstance(key, RedirectResponse):
            return key
        with reader.read() as store:
            versions = data.alert_versions(store, alert_id)
        hidden = any(a.tlp == "RED" for a in versions) and "admin" not in key.scopes
        if not versions or hidden:
            raise HTTPException(404, f"no alert {alert_id!r}")
        last = versions[-1]
        source = next((a for a in reversed(versions) if a.evidence), last)
        peak = max(versions, key=lambda a: LEVELS.index(a.level)).level
        return page(
            request,
            "alert.html",
            key,
            alert=last,
            peak=peak,
            versions=versions,
            evidence=source.evidence,
            level_chart=charts.level_chart(data.level_history(versions)),
            item=catalog.item_for_code(last.hs),
        )

    @app.get("/countries/{code}", include_in_schema=False, response_model=None)
    def country_page(request: Request, code: str) -> Response:
        key = viewer(request)
        if isinstance(key, RedirectResponse):
            return key
        iso2 = catalog.country_code(code)
        if iso2 is None:
            raise HTTPException(404, f"no country {code!r}")
        country = catalog.countries[iso2]
        admin = "admin" in key.scopes
        with reader.read() as store:
            dependent = data.dependent_items(store, catalog, iso2)
            every = store.memo("alerts", load_alerts)
            as_supplier = board(every, BoardFilter(supplier=iso2, include_red=admin))
            as_importer = board(every, BoardFilter(importer=iso2, include_red=admin))
            traded = data.country_trade(store, catalog, iso2)
            events = data.events(store, catalog, glossary(), country=iso2, limit=50)
        return page(
            request,
            "country.html",
            key,
            country=country,
            dependent=dependent.to_dict("records"),
            as_supplier=as_supplier,
            as_importer=as_importer,
            trade_chart=charts.country_chart(traded, country.names["en"]),
            events=events,
        )

    @app.get("/concentration", include_in_schema=False, response_model=None)
    def concentration_page(request: Request) -> Response:
        key = viewer(request)
        if isinstance(key, RedirectResponse):
            return key
        with reader.read() as store:
            frame = data.concentration(store, catalog)
        return page(
            request,
            "concentration.html",
            key,
            concentration_chart=charts.concentration_chart(frame),
            rows=frame.sort_values("share", ascending=False).to_dict("records"),
        )

    @app.exception_handler(StarletteHTTPException)
    async def errors(request: Request, exc: StarletteHTTPException) -> Response:
        # The API answers in JSON (its OpenAPI says so); people get a page.
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return await http_exception_handler(request, exc)
        html = env.get_template("error.html").render(
            request=request, key=None, status=exc.status_code, detail=exc.detail, path=""
        )
        return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)


def _country(catalog: Catalog, text: str | None) -> str | None:
    if not text:
        return None
    code = catalog.country_code(text.strip())
    if code is None:
        raise HTTPException(422, f"unknown country {text!r}")
    return code


def _without_page(request: Request) -> str:
    """The request's query string minus ``page``, for the pager's links."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return urllib.parse.urlencode(kept)


def _safe_next(target: str) -> str:
    """Only same-site paths: a crafted ``next`` must not send a signed-in user elsewhere."""
    parsed = urllib.parse.urlsplit(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
