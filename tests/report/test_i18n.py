"""The report layer's sentences in Korean and Japanese: catalogues that are complete and
current, suggested actions in every language, and the now view's and card's parts in each
language (English is checked, unchanged, by tests/report/test_now.py)."""

from __future__ import annotations

import datetime as dt
import re
import string
from importlib import resources
from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog as Messages
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po

from ews.alerts.records import Evidence
from ews.catalog import Catalog
from ews.report.i18n import checked, day_text, level_name, money_text, translator
from ews.report.now import (
    NowView,
    actions,
    evidence_words,
    exposure,
    freshness_note,
    history,
    now_view,
    reason,
    this_week,
)
from ews.sources.freshness import data_freshness
from ews.sources.ingest import ingest_file
from ews.store import Store
from tests.report.test_now import VERSIONS, _alert

LOCALE = resources.files("ews.report").joinpath("locale")
REPO = Path(__file__).resolve().parents[2]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
KANA = re.compile(r"[\u3040-\u30ff]")


def _catalogue(lang: str) -> Messages:
    with LOCALE.joinpath(lang, "LC_MESSAGES", "report.po").open("rb") as po:
        return read_po(po, locale=lang)


def _fields(text: str) -> set[str]:
    """The named placeholders of a str.format text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _extracted() -> set[tuple[str | None, object]]:
    """(context, msgid) of every string the files in ews/report/babel.cfg mark, as
    `pybabel extract -F ews/report/babel.cfg` finds them."""
    config = REPO.joinpath("ews", "report", "babel.cfg").read_text("utf-8")
    files = re.findall(r"^\[python: (.+)\]$", config, re.MULTILINE)
    assert files
    found: set[tuple[str | None, object]] = set()
    for name in files:
        with REPO.joinpath(name).open("rb") as source:
            for _line, message, _comments, context in extract("python", source, DEFAULT_KEYWORDS):
                found.add((context, message))
    return found


def _ids(messages: Messages) -> set[tuple[str | None, object]]:
    return {(m.context, m.id) for m in messages if m.id}


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_catalogue_is_complete(lang: str) -> None:
    """Every sentence translated, none fuzzy (a fuzzy entry is not served), every plural form
    filled, and the same placeholders as the English: a missing one would raise KeyError."""
    messages = _catalogue(lang)
    assert messages.locale is not None and str(messages.locale) == lang
    problems = []
    for m in messages:
        if not m.id:
            continue
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        if m.fuzzy or not all(forms) or (m.pluralizable and len(forms) != messages.num_plurals):
            problems.append(m.id)
        wanted = _fields(ids[-1])
        assert all(_fields(str(f)) == wanted for f in forms), m.id
    assert not problems, f"{lang}: untranslated or fuzzy: {problems}"
    assert _ids(messages) == _ids(_pot())  # nothing missing, nothing obsolete


def _pot() -> Messages:
    with LOCALE.joinpath("report.pot").open("rb") as pot:
        return read_po(pot)


def test_template_is_current() -> None:
    """report.pot is what `pybabel extract -F ews/report/babel.cfg` gives (docs/i18n.md)."""
    wanted = _extracted()
    assert len(wanted) > 50
    assert _ids(_pot()) == wanted


def test_actions_in_every_language() -> None:
    """actions.yaml: per level, the same number of steps in each language, each step with the
    same placeholders as the English one."""
    text = resources.files("ews.report").joinpath("actions.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    assert set(data) == {"attention", "caution", "alert", "serious"}
    for level, by_lang in data.items():
        assert set(by_lang) == {"en", "ko", "ja"}, level
        for lang in ("ko", "ja"):
            assert len(by_lang[lang]) == len(by_lang["en"]), (level, lang)
            for en, other in zip(by_lang["en"], by_lang[lang], strict=True):
                assert _fields(other) == _fields(en), (level, lang, other)


def test_language_words() -> None:
    day = dt.date(2026, 10, 9)
    assert day_text(day, "en") == "09 Oct 2026"
    assert (
        day_text(day, "ko") == "2026년 10월 9일" and day_text(day, "ko", year=False) == "10월 9일"
    )
    assert day_text(day, "ja") == "2026年10月9日" and day_text(day, "ja", year=False) == "10月9日"
    assert [
        level_name(x, "ko") for x in ("normal", "attention", "caution", "alert", "serious")
    ] == [
        "정상",
        "관심",
        "주의",
        "경계",
        "심각",
    ]
    assert [level_name(x, "ja") for x in ("attention", "caution", "alert", "serious")] == [
        "注意",
        "警戒",
        "厳重警戒",
        "深刻",
    ]
    assert level_name("alert", "en") == "alert"
    assert money_text(1.23e9, "en") == "$1.2 billion"
    assert money_text(1.23e9, "ko") == "12.3억 달러" and money_text(45_600, "ja") == "5万ドル"
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        checked("xx")
    with pytest.raises(ValueError):
        translator("fr")


def test_history_and_this_week_in_korean_and_japanese() -> None:
    ko = history(VERSIONS, dt.date(2025, 7, 1), "ko")
    assert [s.text for s in ko] == [
        "관심 단계로 발령, 6일간 유지",
        "주의 단계로 상향 (관심에서), 3주간 유지",
        "경계 단계로 상향 (주의에서), 8주간 유지",
        "해제, 정상 단계로 복귀",
    ]
    ja = history(VERSIONS[:4], dt.date(2025, 5, 3), "ja")
    assert ja[0].text == "注意で発令、6日間継続"
    assert ja[-1].text == "厳重警戒に引き上げ（警戒から）、現在まで2日間継続"
    assert [s.level for s in ja] == ["attention", "caution", "alert"]  # codes stay English
    open_ = VERSIONS[:4]
    assert this_week(open_, dt.date(2025, 5, 3), "ko") == "5월 1일에 주의에서 경계 단계로 상향"
    assert this_week(open_, dt.date(2025, 5, 3), "ja") == "5月1日に警戒から厳重警戒へ引き上げ"
    assert this_week(open_, dt.date(2025, 6, 1), "ko") == "2025년 5월 1일 이후 변화 없음"
    assert this_week(open_[:1], dt.date(2025, 4, 6), "ja") == "今週の新規：4月4日に注意で発令"


def test_exposure_and_actions_in_korean_and_japanese(store: Store, catalog: Catalog) -> None:
    late = exposure(store, catalog, VERSIONS[3], "KR", dt.date(2026, 1, 5), "ko")
    assert late.dependence is not None
    text = late.dependence.text
    assert text.startswith("한국의 희토류 수입 중 80%가 중국산이었습니다 (")
    # The figure's basis is data, as published: it stays English inside the sentence.
    assert "2024" in text and late.dependence.sentence == text + "."
    assert any("알 수 없음" in u and "중국산" in u for u in late.unknown)  # no trade rows
    none = exposure(store, catalog, VERSIONS[3], "JP", dt.date(2009, 1, 1), "ja")
    assert any(u.startswith("日本のレアアースの中国への依存度：不明") for u in none.unknown)
    lithium = _alert(1, "caution", dt.date(2024, 3, 1), hs="282520", item_name="Lithium hydroxide")
    stake = exposure(store, catalog, lithium, "KR", dt.date(2024, 3, 1), "ja")
    by_country = {a.country: a for a in stake.alternatives}
    assert by_country["CL"].name == "チリ" and by_country["CL"].what == "韓国のリチウム輸入のうち"
    assert "KITA" in by_country["CL"].source  # the source's name is data
    assert by_country["AU"].what == "世界のリチウム供給のうち"
    steps = actions(lithium, catalog, stake, "ja")
    assert steps[0].startswith("韓国の水酸化リチウムの主要輸入企業に")
    # The alternatives by share, each with what its share is of, in a Japanese list.
    assert steps[1] == (
        "代替供給国を確認します：オーストラリア（世界のリチウム供給のうち55%）、"
        "チリ（韓国のリチウム輸入のうち18%）。"
    )
    ko_stake = exposure(store, catalog, lithium, "KR", dt.date(2024, 3, 1), "ko")
    assert actions(lithium, catalog, ko_stake, "ko")[1] == (
        "대체 공급국을 점검합니다: 호주(세계 리튬 공급 중 55%), 칠레(한국의 리튬 수입 중 18%)."
    )
    closed = actions(VERSIONS[4], catalog, stake, "ko")
    assert closed == ["해제되었습니다. 조치는 필요 없으며, 근거는 기록으로 보관합니다."]


def test_reason_and_evidence_in_japanese(store: Store, catalog: Catalog) -> None:
    record = Evidence(
        kind="trade_anomaly",
        ref="trade:CN>*:export:811292@2020-09:unit_value_jump",
        summary="CN exports of 811292 to all partners: unit value jump in 2020-09 "
        "(z=+5.0, value 381 vs expected 104)",
    )
    words = evidence_words(record, catalog, "ja")
    assert words.startswith("中国の全相手国向けガリウム")
    assert words.endswith("輸出：2020年9月に単価が急騰（予想104に対し381）")
    price = Evidence(
        kind="price_anomaly",
        ref="price:pinksheet:urea_ee_bulk@2021-10:price_jump",
        summary="urea price jump",
        figure=745.0,
    )
    assert (
        evidence_words(price, catalog, "ko")
        == "urea ee bulk 가격이 2021년 10월에 745.00까지 급등했습니다"
    )
    stake = exposure(store, catalog, VERSIONS[3], "KR", dt.date(2026, 1, 5), "ja")
    lines = reason(VERSIONS[3], [], catalog, stake, "ja")
    assert (
        lines[0]
        == "この版には根拠が添付されていません。レベルは以前の版の根拠に基づいて維持されています。"
    )
    assert lines[1].startswith("韓国はレアアースの80%を中国から調達していました（")
    assert lines[1].endswith("）。")  # a Japanese full stop


def test_now_view_texts_in_korean_and_japanese(
    store: Store, catalog: Catalog, pinksheet: object
) -> None:
    def view(lang: str, day: dt.date) -> NowView:
        return now_view(
            store, catalog, [], "KR", day=day, include_red=True, stale_after=3, lang=lang
        )

    assert (
        view("ko", dt.date(2026, 6, 20))
        .empty_text()
        .startswith("이 노드에서는 아직 발령된 경보가 없습니다.")
    )
    ingest_file(store, catalog, pinksheet, kind="prices")  # type: ignore[arg-type]
    late = view("ja", dt.date(2026, 12, 6))
    late.total_alerts = 1  # alerts exist, none open: the stale data are what the view says
    assert late.empty_text() == (
        "本日、この国に関わる発令中の警報はありません。ただし、保有する最新データは2026年5月31日"
        "のもので、1件の出典が遅れているため、それ以降の状況については何も言えません。"
    )
    (row,) = late.freshness
    assert row.note.startswith("最新データは2026年5月31日のもので、189日が経過しています。")
    assert "second business day" in row.note  # the published schedule is data: English
    (fresh,) = view("ko", dt.date(2026, 6, 20)).freshness
    assert fresh.note == "최신 상태: 30일마다 새 데이터, 기간 종료 5일 뒤 공개"
    assert KANA.search(late.as_json()["freshness"][0]["note"])
    assert HANGUL.search(str(view("ko", dt.date(2026, 12, 6)).as_json()["freshness"]))


def test_freshness_note_in_english_is_the_sources_own(
    store: Store, catalog: Catalog, pinksheet: object
) -> None:
    """The report layer says a file source's note from its fields; in English it must be the
    sources layer's note word for word (the msgids are those words)."""
    assert all(
        f.note == freshness_note(f)
        for f in data_freshness(store, dt.date(2026, 1, 1), stale_after=3)
    )
    ingest_file(store, catalog, pinksheet, kind="prices")  # type: ignore[arg-type]
    for day in (dt.date(2026, 6, 20), dt.date(2026, 12, 6)):
        (row,) = data_freshness(store, day, stale_after=3)
        assert freshness_note(row, "en") == row.note
        assert HANGUL.search(freshness_note(row, "ko"))
