"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc``, with every asset
served by this node.

FastAPI's defaults load Swagger UI and ReDoc from a CDN: the pages are blank on a network
without internet and would fall outside the Content-Security-Policy. The ``fastapi-offline``
package ships both distributions (``swagger-ui-bundle.js``, ``swagger-ui.css``,
``redoc.standalone.js``); this router serves them under ``/static/`` and renders the pages with
FastAPI's own ``get_swagger_ui_html`` and ``get_redoc_html`` pointing there.

Their policy: scripts only from this node, plus Swagger UI's one inline start-up script,
allowed by its SHA-256 (no ``'unsafe-inline'`` nor ``'unsafe-eval'`` for scripts). Styles may
be inline: both UIs set styles at run time (ReDoc through styled-components, which writes
``<style>`` elements), and a style cannot run code. ReDoc's search runs in a worker made from
a ``blob:`` URL.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

OPENAPI_URL = "/openapi.json"
TITLE = "EWS API"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
"""The files of ``fastapi_offline/static`` served as ``/static/<name>``."""


def _policy(script_hashes: tuple[str, ...] = ()) -> str:
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in script_hashes)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


@cache
def _swagger() -> tuple[bytes, str]:
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{TITLE} - Swagger UI",
        swagger_js_url="/static/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui.css",
        swagger_favicon_url="/static/favicon.png",
    ).body
    html = bytes(page)
    inline = re.findall(rb"<script>(.*?)</script>", html, re.DOTALL)
    hashes = tuple(base64.b64encode(hashlib.sha256(s).digest()).decode() for s in inline)
    return html, _policy(hashes)


@cache
def _redoc() -> bytes:
    page = get_redoc_html(
        openapi_url=OPENAPI_URL,
        title=f"{TITLE} - ReDoc",
        redoc_js_url="/static/redoc.standalone.js",
        redoc_favicon_url="/static/favicon.png",
        with_google_fonts=False,
    ).body
    return bytes(page)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    html, policy = _swagger()
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return HTMLResponse(_redoc(), headers={"Content-Security-Policy": _policy()})


# ReDoc draws its maker's logo from their CDN in its menu, whatever its options: the policy
# would block it (and the browser report the violation), so the served copy asks for an empty
# image instead, which ReDoc then leaves out.
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _asset(name: str) -> bytes:
    data = resources.files("fastapi_offline").joinpath("static", name).read_bytes()
    return data.replace(_REDOC_LOGO, b"data:,") if name == "redoc.standalone.js" else data


def _serve(name: str, media: str) -> None:
    def asset() -> Response:
        return Response(
            _asset(name), media_type=media, headers={"Cache-Control": "public, max-age=86400"}
        )

    router.add_api_route(f"/static/{name}", asset, methods=["GET"], name=f"static {name}")


for _name, _media in ASSETS.items():
    _serve(_name, _media)
