"""Issue 15, finding 5: sign-in and sign-out forgery, security headers on every answer, and a
Content-Security-Policy with nothing inline."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from ews.access import keys as keys_module
from ews.api.app import create_app
from ews.store.db import utcnow
from tests.api.conftest import Api
from tests.api.test_hardening import temporary_key
from tests.web.test_pages import _signed_in, csrf_of, post_login

FORM = {"content-type": "application/x-www-form-urlencoded"}
HEADERS = (
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
)


def _who(c: TestClient) -> str:
    """The name of the signed-in key, as the page header shows it."""
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 200, r.status_code
    found = re.search(r'class="who"[^>]*>([^<·]+)·', r.text)
    assert found is not None
    return found[1].strip()


def _script_src(policy: str) -> list[str]:
    for part in policy.split(";"):
        name, *values = part.split()
        if name == "script-src":
            return values
    # Without script-src, default-src decides.
    return next(p.split()[1:] for p in policy.split(";") if p.split()[:1] == ["default-src"])


def test_cross_site_sign_in_is_refused_and_the_session_survives(api: Api) -> None:
    c = _signed_in(api, "read")
    assert _who(c) == "read"
    session = c.cookies.get("ews_key")
    # Another site posts the form (the attacker's own valid admin key) from the browser.
    for foreign in (
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/page"},
    ):
        r = post_login(c, api.tokens["admin"], headers=foreign)
        assert r.status_code == 403, foreign
        assert "set-cookie" not in r.headers or "ews_key" not in r.headers["set-cookie"]
        # Still navigable: the reader is still signed in, so the page has the navigation.
        assert '<a href="/">' in r.text and "<nav>" in r.text and 'id="sign-out"' in r.text
        assert c.cookies.get("ews_key") == session
        assert _who(c) == "read"
    # Without this browser's token (a forged form), from this very site: refused too.
    body = urllib.parse.urlencode({"token": api.tokens["admin"], "next": "/"})
    r = c.post("/login", content=body, headers={**FORM, "origin": "http://testserver"})
    assert r.status_code == 403
    r = c.post(
        "/login",
        content=body + "&csrf=" + "A" * 43,
        headers=FORM,
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert _who(c) == "read"
    # The form from this site, as a browser posts it, still signs in.
    r = post_login(c, api.tokens["admin"], headers={"origin": "http://testserver"})
    assert r.status_code == 303
    assert _who(c) == "admin"


def test_get_logout_does_not_sign_out(api: Api) -> None:
    c = _signed_in(api, "read")
    r = c.get("/logout", follow_redirects=False)
    assert r.status_code == 200
    assert 'method="post" action="/logout"' in r.text
    assert "ews_key" not in r.headers.get("set-cookie", "")
    assert _who(c) == "read"
    # Every page offers sign-out as a form button carrying the token, not as a link.
    board = c.get("/").text
    assert 'href="/logout"' not in board
    token = re.search(r'action="/logout">.*?name="csrf" value="([^"]+)"', board)
    assert token is not None
    # Posted from another site: refused.
    forged = c.post(
        "/logout",
        content=f"csrf={token[1]}",
        headers={**FORM, "origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and _who(c) == "read"
    assert c.post("/logout", content="", headers=FORM).status_code == 403
    assert _who(c) == "read"
    # The button itself signs out.
    out = c.post("/logout", content=f"csrf={token[1]}", headers=FORM, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    c.cookies.delete("ews_key")  # what the browser does with the expired cookie
    assert "ews_key=" in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    assert c.get("/", follow_redirects=False).status_code == 303


def test_every_answer_carries_the_security_headers(api: Api) -> None:
    c = _signed_in(api)
    small = api.client(max_body_bytes=100)
    answers = {
        "sign-in": c.get("/login"),
        "sign-out form": c.get("/logout"),
        "board": c.get("/"),
        "item": c.get("/items/280530"),
        "error page": c.get("/items/999999"),
        "404": c.get("/no/such/page"),
        "405": c.delete("/login"),
        "redirect": api.client().get("/", follow_redirects=False),
        "refused form": c.post("/login", content="token=x", headers=FORM),
        "api": c.get("/api/v1/items", headers=api.auth()),
        "api 401": c.get("/api/v1/items"),
        "api 404": c.get("/api/v1/items/999999", headers=api.auth()),
        "api 422 (NUL)": c.get("/api/v1/items", params={"q": "a\x00"}, headers=api.auth()),
        "413": small.post("/login", content="x" * 1000, headers=FORM),
        "openapi": c.get("/openapi.json"),
        "docs": c.get("/docs"),
        "static vega": c.get("/static/vega.js"),
        "static css": c.get("/static/ews.css"),
        "static js": c.get("/static/ews.js"),
        "static charts css": c.get("/static/charts.css"),
        "static 404": c.get("/static/nothing.js"),
    }
    assert answers["413"].status_code == 413 and answers["404"].status_code == 404
    assert answers["api 422 (NUL)"].status_code == 422
    # A route that fails: Starlette's own 500 answer carries them too.
    app = create_app(api.settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    answers["500"] = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert answers["500"].status_code == 500
    for what, r in answers.items():
        missing = [h for h in HEADERS if h not in r.headers]
        assert not missing, (what, r.status_code, missing)
        assert r.headers["x-frame-options"] == "DENY", what
        assert r.headers["x-content-type-options"] == "nosniff", what
        assert r.headers["referrer-policy"] in ("no-referrer", "same-origin", "strict-origin")
        policy = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, what
        assert "http:" not in policy and "https:" not in policy and "*" not in policy, what


def test_no_inline_script_and_no_eval_without_charts(api: Api) -> None:
    c = _signed_in(api)
    plain = {
        "/login": c.get("/login"),
        "/logout": c.get("/logout"),
        "error": c.get("/items/999999"),
        "404": c.get("/nothing"),
    }
    for what, r in plain.items():
        sources = _script_src(r.headers["content-security-policy"])
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, what
        assert "/static/vega.js" not in r.text, what  # no chart library where no chart is
    charted = {p: c.get(p) for p in ("/", "/items/280530", "/countries/KR", "/concentration")}
    for path, r in {**plain, **charted}.items():
        # Not for scripts, not for styles: Vega's own styles come from /static/charts.css.
        assert "'unsafe-inline'" not in r.headers["content-security-policy"], path
        # No script the policy would have to allow inline: every <script> has a src or is
        # a JSON data block; no event-handler attribute; no style attribute.
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S):
            assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs)
            assert "src=" not in attrs or not body.strip(), path
        assert not re.search(r"<[^>]+\son[a-z]+=", r.text), path
        assert not re.search(r"<[^>]+\sstyle=", r.text), path
    # The templates hold none either, whatever page renders them.
    for f in resources.files("ews.web").joinpath("templates").iterdir():
        text = f.read_text("utf-8")
        assert not re.search(r"\son[a-z]+=|\sstyle=|<style", text), f.name
        assert "<script>" not in text, f.name


def test_charts_are_drawn_by_a_static_script(api: Api) -> None:
    c = _signed_in(api)
    page = c.get("/items/280530").text
    assert '<script src="/static/ews.js"' in page and '<script src="/static/vega.js"' in page
    js = c.get("/static/ews.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "vegaEmbed" in js.text and "chart-spec" in js.text and "data-autosubmit" in js.text
    assert "defaultStyle: false" in js.text and "disableDefaultStyle: true" in js.text
    assert '<link rel="stylesheet" href="/static/charts.css">' in page
    css = c.get("/static/charts.css")
    assert css.headers["content-type"].startswith("text/css") and ".vega-embed" in css.text


def test_an_expired_key_is_refused_by_the_dashboard(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    _, token = temporary_key(api, "temp", now + dt.timedelta(hours=1))
    c = api.client()
    assert post_login(c, token).headers["location"] == "/"
    assert _who(c) == "temp"
    later = now + dt.timedelta(hours=2)
    monkeypatch.setattr(keys_module, "utcnow", lambda: later)
    r = c.get("/")
    assert r.status_code == 401 and "expired API key" in r.text
    again = api.client()
    r = again.post(
        "/login",
        content=urllib.parse.urlencode({"token": token, "next": "/", "csrf": csrf_of(again)}),
        headers=FORM,
    )
    assert r.status_code == 401 and "expired API key" in r.text
