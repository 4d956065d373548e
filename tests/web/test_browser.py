"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

`ews serve` runs as a separate process on a free loopback port over the API tests' store
(the bundled sample data, assessed). Screenshots go to the folder named by
EWS_TEST_ARTIFACTS (default: test-artifacts/ in the working directory) for people to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Api

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (scripts/test-system-deps.sh installs Debian's chromium)",
)
# Without these, Chromium keeps calling Google's services, which a closed network refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "EWS_STORE": api.settings.store, "EWS_ENV": "test"}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ews", "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/static/ews.css", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"ews serve did not start:\n{log.read_text()}")
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("EWS_TEST_ARTIFACTS", "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, server: str, api: Api) -> Iterator[object]:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # Whatever the Content-Security-Policy blocks is reported on the console: none may be.
    pg.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    # Nothing is asked of another host.
    pg.on(
        "request",
        lambda req: (
            None if req.url.startswith((server, "data:", "blob:")) else errors.append(req.url)
        ),
    )
    # Sign in the way a person does: the form, the key pasted in.
    pg.goto("/")
    assert "/login" in pg.url
    pg.fill("#token", api.tokens["read"])
    pg.click("button[type=submit]")
    pg.wait_for_url(f"{server}/")
    yield pg
    context.close()
    assert not errors, errors


def test_board_lists_the_rare_earth_alert(page: object, artifacts: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    row = page.locator("tr.alert-row", has_text="ews-280530-CN-ALL-20250826-")
    expect(row).to_have_count(1)
    # Raised in August 2025, at alert level or above by October 2025.
    assert row.get_attribute("data-peak") in ("alert", "serious")
    expect(page.locator("#board-chart")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#board-chart svg").first).to_be_visible()
    page.screenshot(path=str(artifacts / "board.png"), full_page=True)


def test_filtering_the_board(page: object, artifacts: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    everything = page.locator("tr.alert-row").count()
    page.select_option("#f-level", "alert")
    page.fill("#f-item", "đất hiếm")  # rare earths, in Vietnamese
    page.click("#f-apply")
    page.wait_for_url("**/?level=alert*")
    rows = page.locator("tr.alert-row")
    expect(rows.first).to_be_visible()
    count = rows.count()
    assert 0 < count < everything
    for i in range(count):
        assert rows.nth(i).get_attribute("data-peak") in ("alert", "serious")
        assert (rows.nth(i).get_attribute("data-item") or "").startswith(("2805", "2846", "8505"))
    expect(page.locator("#f-level")).to_have_value("alert")
    page.screenshot(path=str(artifacts / "board-filtered.png"), full_page=True)


def test_item_page_shows_its_charts(page: object, artifacts: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto("/items/310210")  # no urea alert on the board: one price series is one voice
    expect(page.locator("#item-title")).to_contain_text("Urea")
    chart = page.locator("#price-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    # Vega drew the line and the anomaly marks as SVG paths.
    assert chart.locator("svg path").count() > 5
    page.goto("/items/811292")
    for target in ("#shares-chart", "#destinations-chart", "#events-chart"):
        expect(page.locator(target)).to_have_attribute("data-rendered", "true")
    page.screenshot(path=str(artifacts / "item-gallium-germanium.png"), full_page=True)


def test_country_and_concentration_pages_render(page: object, artifacts: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.click("a[href='/concentration']")
    expect(page.locator("#concentration-chart")).to_have_attribute("data-rendered", "true")
    page.screenshot(path=str(artifacts / "concentration.png"), full_page=True)
    page.click("header a[href='/countries/KR']")
    # One row per family, its figure saying what it measures (industrial urea).
    expect(page.locator("#dependent-items")).to_contain_text("Nitrogen fertilisers (family)")
    expect(page.locator("#dependent-items")).to_contain_text("urea")
    page.screenshot(path=str(artifacts / "country-kr.png"), full_page=True)


def test_sign_out_is_a_button_and_a_link_does_not_sign_out(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto("/logout")  # what a link from anywhere leads to: a form, nothing done
    expect(page.locator("#confirm-sign-out")).to_be_visible()
    page.goto("/concentration")
    expect(page.locator("h1")).to_contain_text("Supplier concentration")  # still signed in
    page.click("#sign-out")
    page.wait_for_url("**/login")
    page.goto("/concentration")
    assert "/login" in page.url


def test_importer_select_applies_itself(page: object) -> None:
    """The select's handler lives in /static/ews.js now, not in an inline attribute."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto("/items/811292")
    page.select_option("select[name=importer]", "KR")
    page.wait_for_url("**/items/811292?importer=KR")
    # Korea's own import statistics are not in the test store: said, not drawn.
    expect(page.locator("#shares-chart-empty")).to_contain_text("not in the store")


def test_api_docs_render_from_this_node(page: object, artifacts: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("EWS API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.screenshot(path=str(artifacts / "docs.png"))
    page.goto("/redoc")
    expect(page.locator("h1").first).to_contain_text("EWS API")
    page.screenshot(path=str(artifacts / "redoc.png"))


def test_map_draws_the_world_from_this_node(page: object, artifacts: Path) -> None:
    """The map's geometry comes from /static/world-110m.json (Vega fetches it under the
    page's CSP); the page fixture fails the test on any blocked or off-host request."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    with page.expect_response("**/static/world-110m.json") as geometry:
        page.click("header a[href='/map']")
    assert geometry.value.ok
    chart = page.locator("#map-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    # One path per country drawn (Antarctica left out), and the chokepoints' marks.
    assert chart.locator("svg path").count() > 170
    expect(page.locator("#map-chokepoints")).to_contain_text("Strait of Hormuz")
    page.screenshot(path=str(artifacts / "map.png"), full_page=True)


def test_now_view_and_alert_card(page: object, artifacts: Path, server: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    day = _newest_data_day(page, server)
    page.click("header a[href='/now']")
    expect(page.locator("#now-title")).to_contain_text("South Korea")
    expect(page.locator("#freshness-table")).to_be_visible()
    page.screenshot(path=str(artifacts / "now-kr-today.png"), full_page=True)
    page.goto(f"/now?country=KR&as_of={day}")
    cards = page.locator("li.card")
    expect(cards.first).to_be_visible()
    page.screenshot(path=str(artifacts / "now-kr.png"), full_page=True)
    cards.first.locator("a.headline").click()
    for section in ("#card-reason", "#card-exposure", "#card-actions", "#card-history"):
        expect(page.locator(section)).to_be_visible()
    expect(page.locator("#level-chart")).to_have_attribute("data-rendered", "true")
    page.screenshot(path=str(artifacts / "alert-card.png"), full_page=True)


def _newest_data_day(page: object, server: str) -> str:
    """The sample's newest data day, asked of the API with the signed-in reader's key: on
    later days its alerts have lapsed."""
    answer = httpx.get(
        f"{server}/api/v1/now",
        params={"country": "KR"},
        headers={"Authorization": f"Bearer {_token(page)}"},
        timeout=30,
    )
    return str(answer.json()["newest_data"])


def _token(page: object) -> str:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    cookie = next(c for c in page.context.cookies() if c["name"] == "ews_key")
    return str(cookie["value"])


# The dashboard's pages, each with its heading in English, Korean and Japanese (None: data, not
# a translated word, e.g. an alert's headline). "{day}" is the newest day of the sample data,
# "{alert}" the first alert on the board.
PAGES: list[tuple[str, str, dict[str, str] | None]] = [
    ("now", "/now", {"en": "South Korea", "ko": "한국", "ja": "韓国"}),
    ("now-kr", "/now?country=KR&as_of={day}", {"en": "South Korea", "ko": "한국", "ja": "韓国"}),
    ("board", "/", {"en": "Alert board", "ko": "경보 현황판", "ja": "警報ボード"}),
    ("map", "/map", {"en": "Suppliers and chokepoints", "ko": "공급국과", "ja": "供給国と"}),
    ("concentration", "/concentration", {"en": "Supplier", "ko": "공급국 집중도", "ja": "集中度"}),
    ("sources", "/sources", {"en": "Live sources", "ko": "실시간 출처", "ja": "ライブ出典"}),
    ("country-kr", "/countries/KR", {"en": "South Korea", "ko": "한국", "ja": "韓国"}),
    ("item-280530", "/items/280530", {"en": "Rare-earth", "ko": "희토류", "ja": "希土類"}),
    ("alert", "{alert}", None),
    ("brief", "/brief", None),
    (
        "error",
        "/items/nothing-like-this",
        {"en": "Not found", "ko": "찾을 수 없음", "ja": "見つかりません"},
    ),
]
# A link of the navigation, as each language says it.
NAV_BOARD = {"en": "Alert board", "ko": "경보 현황판", "ja": "警報ボード"}


@pytest.mark.parametrize("lang", ["en", "ko", "ja"])
def test_every_page_in_each_language(page: object, artifacts: Path, server: str, lang: str) -> None:
    """Every dashboard page in one language (one browser context, signed in once): the
    language is asked for once with ?lang= and then remembered; each page says so in
    <html lang>, shows its navigation and heading in that language, and draws every chart
    it holds. A full-page screenshot of each is kept: {page}-{lang}.png."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    day = _newest_data_day(page, server)
    page.goto(f"/?lang={lang}")
    alert = page.locator("tr.alert-row a[href^='/alerts/']").first.get_attribute("href")
    assert alert
    for name, path, heading in PAGES:
        response = page.goto(path.format(day=day, alert=alert))
        assert response is not None
        assert response.status == (404 if name == "error" else 200), path
        if name == "brief":
            # The weekly brief is the document `ews report` mails, written in English.
            expect(page.locator("html")).to_have_attribute("lang", "en")
        else:
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.locator("header nav a[href='/']")).to_have_text(NAV_BOARD[lang])
        if heading is not None:
            expect(page.locator("h1").first).to_contain_text(heading[lang])
        if name == "now-kr":
            expect(page.locator("li.card").first).to_be_visible()
        elif name == "now":
            # The sample's alerts are all closed by today: the page says so, no card.
            expect(page.locator("#now-empty, li.card").first).to_be_visible()
        charts = page.locator("div.chart[data-chart]")
        for i in range(charts.count()):
            expect(charts.nth(i)).to_have_attribute("data-rendered", "true", timeout=20_000)
        page.screenshot(path=str(artifacts / f"{name}-{lang}.png"), full_page=True)
