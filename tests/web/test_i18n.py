"""The dashboard in English, Korean and Japanese: choosing the language, the pages in each, and
catalogues that cover every string the templates ask for."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po

import ews.web
from ews.web.pages import _accepted
from tests.api.conftest import Api
from tests.web.test_now import _sample_day
from tests.web.test_pages import _signed_in

LOCALE = resources.files("ews.web").joinpath("locale")
TEMPLATES = Path(ews.web.__file__).parent / "templates"
REPO = Path(__file__).resolve().parents[2]


def _catalogue(lang: str) -> Catalog:
    with LOCALE.joinpath(lang, "LC_MESSAGES", "messages.po").open("rb") as po:
        return read_po(po, locale=lang)


def _extractor_options() -> dict[str, str]:
    """The options babel.cfg gives Jinja's extractor: the msgids must be the ones the
    pages' environment looks up."""
    section = REPO.joinpath("babel.cfg").read_text("utf-8").split("]", 1)[1]
    options = {}
    for line in section.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            options[name.strip()] = value.strip()
    return options


def _template_ids() -> set[tuple[str | None, object]]:
    """(context, msgid) of every string the templates translate, as `pybabel extract` finds
    them; plurals as (singular, plural)."""
    found: set[tuple[str | None, object]] = set()
    options = _extractor_options()
    for template in sorted(TEMPLATES.glob("*.html")):
        with template.open("rb") as source:
            for _line, message, _comments, context in extract(
                "jinja2.ext:babel_extract", source, DEFAULT_KEYWORDS, options=options
            ):
                found.add((context, message))
    return found


def _ids(catalog: Catalog) -> set[tuple[str | None, object]]:
    return {(m.context, m.id) for m in catalog if m.id}


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_catalogue_is_complete(lang: str) -> None:
    """No English left showing: every entry translated, none fuzzy (a fuzzy entry is not
    served), every plural form filled."""
    catalog = _catalogue(lang)
    assert catalog.locale is not None and str(catalog.locale) == lang
    problems = []
    for m in catalog:
        if not m.id:
            continue
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(forms) or (m.pluralizable and len(forms) != catalog.num_plurals):
            problems.append(m.id)
        # A placeholder dropped or misspelt in translation would fail on the page.
        wanted = set(re.findall(r"%\(\w+\)s", str(m.id)))
        assert all(wanted == set(re.findall(r"%\(\w+\)s", str(f))) for f in forms), m.id
    assert not problems, f"{lang}: untranslated or fuzzy: {problems}"


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_every_template_string_is_translated(lang: str) -> None:
    """A new English string in a template fails here until the catalogues have it
    (docs/i18n.md: pybabel extract, pybabel update, translate)."""
    wanted = _template_ids()
    assert len(wanted) > 100  # the extractor ran over the wrapped templates
    missing = wanted - _ids(_catalogue(lang))
    assert not missing, f"{lang}: not in the catalogue: {sorted(map(str, missing))}"


def test_template_catalogue_is_current() -> None:
    """messages.pot is what `pybabel extract -F babel.cfg` gives: neither behind the templates
    nor holding strings they no longer use."""
    with LOCALE.joinpath("messages.pot").open("rb") as pot:
        held = _ids(read_po(pot))
    assert held == _template_ids()


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("ja,en;q=0.5", "ja"),
        ("en-US,en;q=0.9,ko;q=0.8", "en"),
        ("fr-FR,ko-KR;q=0.7,ja;q=0.9", "ja"),
        ("ko-KR", "ko"),
        ("ja;q=0, ko;q=0.1", "ko"),
        ("de, fr", "en"),
        ("", "en"),
        ("ja;q=bogus, ko", "ko"),
    ],
)
def test_accept_language_best_match(header: str, lang: str) -> None:
    assert _accepted(header) == lang


def _lang_of(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', html)
    assert found is not None
    return found[1]


def test_now_page_in_korean_and_japanese(api: Api) -> None:
    c = _signed_in(api)
    day = _sample_day(api)
    ko = c.get(f"/now?country=KR&as_of={day}&lang=ko").text
    assert _lang_of(ko) == "ko"
    assert ">현황</a>" in ko and ">경보 현황판</a>" in ko and ">출처</a>" in ko  # navigation
    assert "지금 한국에 닥친 위험" in ko  # heading, the country named in the page's language
    assert "데이터 최신성" in ko and "로그아웃" in ko
    # Levels read in Korea's crisis scale; the class stays English for the styles.
    assert re.search(r'<span class="level level-(\w+)">(관심|주의|경계|심각)</span>', ko)
    assert "What is at risk" not in ko
    ja = c.get(f"/now?country=KR&as_of={day}&lang=ja").text
    assert _lang_of(ja) == "ja"
    assert ">現況</a>" in ja and ">警報ボード</a>" in ja and "データの鮮度" in ja
    assert "いま韓国にとってのリスク" in ja
    assert re.search(r'<span class="level level-(\w+)">(注意|警戒|厳重警戒|深刻)</span>', ja)


def test_alert_sources_and_concentration_pages_in_korean_and_japanese(api: Api) -> None:
    c = _signed_in(api)
    day = _sample_day(api)
    now = c.get(f"/now?country=KR&as_of={day}").text
    link = re.search(r'href="(/alerts/[^"?]+)\?watcher=KR"', now)
    assert link is not None
    ko = c.get(f"{link[1]}?watcher=KR&lang=ko").text
    assert _lang_of(ko) == "ko"
    for text in ("발령 사유", "단계 이력", "점수 산출 방식", "권고 조치", ">근거</h2>"):
        assert text in ko
    ja = c.get(f"{link[1]}?watcher=KR&lang=ja").text
    for text in ("発令理由", "レベルの推移", "スコアの算出方法", "推奨対応", ">根拠</h2>"):
        assert text in ja
    # The English rendering of evidence stays English (docs/text.md).
    assert '<td class="english" lang="en">' in ja
    sources_ko = c.get("/sources?lang=ko").text
    # The test node polls nothing: the page says how to add a source.
    assert "<h1>실시간 출처</h1>" in sources_ko and "아직 실시간 출처가 없습니다" in sources_ko
    sources_ja = c.get("/sources?lang=ja").text
    assert "<h1>ライブ出典</h1>" in sources_ja and "ライブ出典はまだありません" in sources_ja
    assert "<h1>供給国の集中度</h1>" in c.get("/concentration").text  # remembered: ja


def test_board_item_country_and_map_pages_in_korean_and_japanese(api: Api) -> None:
    """The second pass: the board, an item, a country, the map and the item-name chooser
    speak the page's language; countries and items are named in it where the catalogue
    holds the name, data (headlines, evidence, figures' notes) stay as stored."""
    c = _signed_in(api)
    board = c.get("/?lang=ko").text
    assert "<h1>경보 현황판</h1>" in board and "CSV 내려받기" in board
    assert re.search(r'id="board-count">경보 \d+건', board)
    assert '<option value="alert" >경계</option>' in board  # levels in the crisis scale
    assert '<option value="open" >발령 중</option>' in board
    nothing = c.get("/", params={"item": "xyzzy", "lang": "ja"}).text
    assert "「xyzzy」に該当する重要品目はありません。" in nothing
    item = c.get("/items/280530?lang=ko").text
    assert '<h1 id="item-title" lang="ko">희토류 금속, 스칸듐 및 이트륨' in item
    assert "<h2>가격</h2>" in item and "<h2>공급</h2>" in item and "핵심 광물" in item
    assert '<span lang="en">Rare-earth metals, scandium and yttrium</span>' in item
    assert ">중국</a>" in item  # the supplier column of its alerts, in Korean
    item_ja = c.get("/items/280530?lang=ja").text
    assert '<h1 id="item-title" lang="ja">希土類金属、スカンジウム及びイットリウム' in item_ja
    assert "<h2>価格</h2>" in item_ja and ">レアアース" in item_ja
    country = c.get("/countries/KR?lang=ko").text
    assert "<h1>한국 <span" in country and "<title>한국 · EWS</title>" in country
    assert "<h2>의존 품목</h2>" in country and "<h2>감시국 한국의 경보</h2>" in country
    assert "<h2>한국 관련 사건</h2>" in country and '<span lang="en">South Korea</span>' in country
    country_ja = c.get("/countries/CN?lang=ja").text
    assert "<h1>中国 <span" in country_ja and "供給国としての中国に関する警報" in country_ja
    map_ko = c.get("/map?country=JP&lang=ko").text
    assert "<h1>공급국과 해상 요충지 <span" in map_ko and "감시국 일본" in map_ko
    assert "<h2>해상 요충지</h2>" in map_ko and "Strait of Hormuz" in map_ko  # a name, as stored
    named = c.get("/items/rare%20earths?lang=ja")
    assert named.status_code == 200 and "「rare earths」に該当する品目" in named.text
    assert "一つを選んでください" in named.text and "レアアース" in named.text
    for path in ("/", "/items/280530", "/countries/KR", "/map", "/items/rare%20earths"):
        for lang, english in (("ko", "Alert board</h1>"), ("ja", "<h2>Prices</h2>")):
            assert english not in c.get(f"{path}{'&' if '?' in path else '?'}lang={lang}").text


def test_error_and_sign_in_pages_in_each_language(api: Api) -> None:
    c = _signed_in(api)
    ko = c.get("/items/999999?lang=ko")
    assert ko.status_code == 404 and _lang_of(ko.text) == "ko"
    assert "<h1>404 · 찾을 수 없음</h1>" in ko.text and "경보 현황판으로 돌아가기" in ko.text
    assert "no critical item" in ko.text  # the server's own words stay as the API says them
    ja = c.get("/items/999999?lang=ja").text
    assert "<h1>404 · 見つかりません</h1>" in ja and "警報ボードに戻る" in ja
    outsider = api.client()
    login = outsider.get("/login", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).text
    assert _lang_of(login) == "ko" and "<h1>EWS 로그인</h1>" in login
    logout = c.get("/logout?lang=ja").text
    assert "<h1>EWSからログアウト</h1>" in logout
    # A language asked for before signing in survives the way through the sign-in form.
    lost = api.client()
    r = lost.get("/now?lang=ja", follow_redirects=False)
    assert r.status_code == 303 and lost.cookies.get("ews_lang") == "ja"
    assert "<h1>EWSにログイン</h1>" in lost.get(r.headers["location"]).text


def test_accept_language_picks_japanese(api: Api) -> None:
    c = _signed_in(api)
    r = c.get("/sources", headers={"Accept-Language": "ja,en;q=0.5"})
    assert _lang_of(r.text) == "ja" and "<h1>ライブ出典</h1>" in r.text
    assert "ews_lang" not in r.headers.get("set-cookie", "")  # only ?lang= is remembered
    assert _lang_of(c.get("/sources").text) == "en"


def test_unknown_language_falls_back_to_english(api: Api) -> None:
    c = _signed_in(api)
    r = c.get("/sources?lang=xx")
    assert r.status_code == 200
    assert _lang_of(r.text) == "en" and "<h1>Live sources</h1>" in r.text
    assert c.cookies.get("ews_lang") is None


def test_cookie_is_set_and_used_until_changed(api: Api) -> None:
    c = _signed_in(api)
    r = c.get("/sources?lang=ko")
    cookie = r.headers["set-cookie"]
    assert "ews_lang=ko" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    # The next request carries no ?lang= and an English browser: the cookie wins.
    again = c.get("/now", headers={"Accept-Language": "en"})
    assert _lang_of(again.text) == "ko" and "ews_lang" not in again.headers.get("set-cookie", "")
    assert _lang_of(c.get("/sources?lang=en").text) == "en"
    assert c.cookies.get("ews_lang") == "en"
    assert _lang_of(c.get("/sources").text) == "en"


def test_language_switcher_keeps_the_page(api: Api) -> None:
    c = _signed_in(api)
    html = c.get("/now?country=JP&as_of=2025-01-02&lang=ja").text
    switcher = re.search(r'<nav class="langs"[^>]*>(.*?)</nav>', html)
    assert switcher is not None
    links = dict(re.findall(r'<a href="([^"]+)" lang="(\w+)"', switcher[1]))
    assert set(links.values()) == {"en", "ko", "ja"}
    for href, code in links.items():
        assert href == f"/now?country=JP&amp;as_of=2025-01-02&amp;lang={code}"
    assert ">English</a>" in switcher[1] and ">한국어</a>" in switcher[1]
    assert 'class="active" aria-current="true">日本語</a>' in switcher[1]
    # English pages are unchanged by the machinery: same words as before.
    en = c.get("/now?country=KR&lang=en").text
    assert "What is at risk for South Korea now" in en and ">Alert board</a>" in en
