"""Rules of the third text round (issue 17), each on sentences written for the test: where a
disruption stands, whose measure it is, what is history or commentary rather than news."""

from __future__ import annotations

import datetime as dt

import pytest

from ews.catalog import Catalog
from ews.records import Document, Event, Provenance
from ews.text.extract import Extractor

PROV = Provenance(source_id="t", file_name="t", file_sha256="0" * 64, row=1)


@pytest.fixture(scope="module")
def extractor(catalog: Catalog) -> Extractor:
    return Extractor(catalog)


def extracted(
    extractor: Extractor,
    lang: str,
    text: str,
    title: str = "",
    published: dt.date = dt.date(2026, 3, 1),
) -> list[Event]:
    doc = Document(
        doc_id="d",
        source_id="t",
        title=title,
        text=text,
        lang=lang,
        published=dt.datetime.combine(published, dt.time(12), tzinfo=dt.UTC),
        provenance=PROV,
    )
    return extractor.extract(doc)


def events(
    extractor: Extractor, lang: str, text: str, title: str = "", **kw: dt.date
) -> set[tuple[str, str | None]]:
    return {(e.event_type, e.country) for e in extracted(extractor, lang, text, title, **kw)}


# -- where a disruption of shipping stands ------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text", "country"),
    [
        # A missile attack on ships in a strait stops the route, whoever fights the war.
        ("ja", "武装組織が紅海でコンテナ船にミサイル攻撃を行った。", "YE"),
        ("en", "Tanker traffic through the Strait of Hormuz has plunged this week.", "IR"),
        # A gloss in brackets does not part the words it sits between.
        ("zh", "霍尔木兹海峡(Hormuz Strait)即将关闭。", "IR"),
        # Korean: a blocked route and a port halted by a storm.
        ("ko", "호르무즈 해협의 기름길이 막혀버렸다.", "IR"),
        ("ko", "강풍으로 부산항 하역작업이 전면 중단됐다.", "KR"),
        # A Vietnamese strait named in lower case.
        ("vi", "Tàu qua eo biển Hormuz vẫn rất hạn chế vì bị phong tỏa.", "IR"),
        # The only country a story names is where its port stands.
        ("zh", "港口运营中断。孟加拉国吉大港连续发生罢工事件。", "BD"),
    ],
)
def test_shipping_disruptions_stand_where_the_route_is(
    extractor: Extractor, lang: str, text: str, country: str
) -> None:
    assert ("logistics_disruption", country) in events(extractor, lang, text)


def test_an_air_strike_on_a_port_is_war_not_a_closed_lane(extractor: Extractor) -> None:
    found = events(extractor, "vi", "Israel không kích cảng Hodeidah ở Yemen.")
    assert not any(t == "logistics_disruption" for t, _ in found)


def test_a_strait_is_not_the_country_of_a_price_rise(extractor: Extractor) -> None:
    found = events(
        extractor,
        "vi",
        "Tình trạng tắc nghẽn trên eo biển Hormuz đẩy giá phân bón tăng vọt.",
    )
    assert ("price_spike", "IR") not in found
    assert ("logistics_disruption", "IR") in found


# -- whose measure it is ------------------------------------------------------------------------


def test_a_name_glossed_in_brackets_keeps_its_marker(extractor: Extractor) -> None:
    # "経済産業省(経産省)は" is the topic; "大韓民国(韓国)向け" the destination.
    found = extracted(
        extractor,
        "ja",
        "経済産業省(経産省)は大韓民国(韓国)向けの半導体材料の輸出について許可制を導入する。",
    )
    assert {(e.event_type, e.country, e.target) for e in found} == {
        ("export_restriction", "JP", "KR")
    }


def test_a_list_headed_or_ended_by_a_target_marker_is_all_targets(extractor: Extractor) -> None:
    assert events(extractor, "zh", "美国商务部还对古巴、伊朗实施出口管制措施。") == {
        ("export_restriction", "US")
    }
    # ... but a headline's topic before a comma stays the actor.
    assert events(extractor, "ja", "中国、日本向けのデュアルユース品目の輸出を禁止") == {
        ("export_restriction", "CN")
    }


def test_the_agency_credited_after_a_dash_is_the_actor(extractor: Extractor) -> None:
    found = events(extractor, "ja", "", title="半導体輸出規制を緩和 韓国向け、通達改正―経産省")
    assert found == {("restriction_eased", "JP")}


def test_goods_from_a_country_are_the_target_of_an_import_ban(extractor: Extractor) -> None:
    found = events(
        extractor,
        "ja",
        "中国税関総署は処理水の放出を開始したことを受け、日本産水産物の輸入を全面的に停止した。",
    )
    assert found == {("import_restriction", "CN")}


def test_who_criticises_a_sanction_is_not_its_actor(extractor: Extractor) -> None:
    found = events(
        extractor, "vi", "", title="Iran chỉ trích lệnh trừng phạt mới là vô lý, EU để ngỏ đàm phán"
    )
    assert ("sanction", "IR") not in found


def test_the_attacker_is_not_where_a_plant_stopped(extractor: Extractor) -> None:
    found = events(
        extractor,
        "ko",
        "네온 가스를 생산하는 우크라이나 업체 두 곳이 러시아의 공격으로 가동을 멈췄다.",
    )
    assert ("production_disruption", "UA") in found
    assert ("production_disruption", "RU") not in found


def test_a_dateline_does_not_name_the_actor(extractor: Extractor) -> None:
    found = events(extractor, "zh", "(中央社記者北京5日電)部分國家對口罩採取限制出口措施。")
    assert all(country != "CN" for _, country in found)


def test_a_country_is_only_read_as_a_place_where_the_language_says_so(
    extractor: Extractor,
) -> None:
    # 大陸 is "the mainland" (China) in Chinese and a continent in Japanese.
    assert events(extractor, "zh", "大陆宣布对稀土实施出口管制。") == {("export_restriction", "CN")}
    found = events(extractor, "ja", "アフリカ大陸で鉱山の操業を停止した。")
    assert all(country != "CN" for _, country in found)


# -- history, commentary and talk are not news of a disruption ----------------------------------


def test_a_measure_dated_years_back_is_history(extractor: Extractor) -> None:
    text = "2010년 일본이 어선을 나포하자 중국이 일본에 대한 희토류 수출을 중단했다."
    assert not events(extractor, "ko", text, title="희토류 전망", published=dt.date(2025, 10, 1))
    # Chinese papers may write the year in Han numerals.
    text = "此举象征运河由二○二三年至二○二四年间严重干旱、限制航运通行的情况出现反转。"
    assert not events(extractor, "zh", text, title="运河水位回升", published=dt.date(2026, 2, 9))
    # "since 2010" measures up to now: still news.
    text = "China halted rare earth exports, the first such step in 2026."
    assert ("export_restriction", "CN") in events(extractor, "en", text, title="Rare earths")


def test_an_easing_names_the_year_its_measure_began(extractor: Extractor) -> None:
    text = "経済産業省は23日、2019年7月に導入した韓国への半導体素材の輸出規制を緩和したと発表した。"
    found = events(extractor, "ja", text, title="輸出管理", published=dt.date(2023, 6, 27))
    assert ("restriction_eased", "JP") in found


def test_a_japanese_headline_ending_on_ka_asks(extractor: Extractor) -> None:
    title = "イラン ホルムズ海峡封鎖で「令和のオイルショック」到来か"
    assert not events(extractor, "ja", "", title=title)


def test_a_sport_in_the_body_explains_a_bare_sanction_title(extractor: Extractor) -> None:
    text = "日本プロサッカーリーグのチェアマンは、当該クラブに対し制裁を決定した。"
    assert not events(extractor, "ja", text, title="制裁決定について")


def test_what_happens_despite_a_measure_is_not_the_measure(extractor: Extractor) -> None:
    title = "Iran vẫn bán dầu cho Trung Quốc bất chấp lệnh trừng phạt tái áp đặt"
    assert not any(t == "sanction" for t, _ in events(extractor, "vi", "", title=title))


def test_attacks_that_stop_are_a_ceasefire(extractor: Extractor) -> None:
    text = "Giá dầu thô giảm 5% sau khi Mỹ và Iran dừng tập kích nhau từ cuối tuần."
    assert not any(t == "conflict" for t, _ in events(extractor, "vi", text, title="Giá dầu"))


def test_a_trade_dispute_is_not_an_armed_one(extractor: Extractor) -> None:
    text = "미중 간 무역 분쟁이 장기화되면서 희토류 시장이 흔들리고 있다."
    assert not any(t == "conflict" for t, _ in events(extractor, "ko", text))


def test_supply_said_unaffected_weakens_the_fire_told_before(extractor: Extractor) -> None:
    fire = "同社の千葉工場で火災事故が発生したと発表した。"
    assert ("production_disruption", "JP") in events(extractor, "ja", fire, title="千葉県")
    calm = fire + "当面の供給については在庫を有しており支障はないとしている。"
    assert not events(extractor, "ja", calm, title="千葉県")
    # "back to normal" says the disruption happened: it stays.
    over = "強風で港の荷役作業が停止した。"
    assert events(extractor, "ja", over + "午後には通常通りに戻った。")


def test_the_concern_of_a_second_headline_clause_is_not_the_first_ones(
    extractor: Extractor,
) -> None:
    title = '우크라 네온 업체 가동 중단…"반도체 공급난 우려"'
    assert ("production_disruption", "UA") in events(extractor, "ko", "", title=title)


# -- prices and shortages: the world's or the home country's ------------------------------------


def test_a_commodity_price_is_the_world_markets_and_vegetables_are_local(
    extractor: Extractor,
) -> None:
    assert events(extractor, "ko", "니켈 가격이 최근 급등하며 t당 3만달러를 돌파했다.") == {
        ("price_spike", None)
    }
    found = events(extractor, "vi", "Giá rau xanh ở chợ tăng gấp đôi sau bão.")
    assert ("price_spike", "VN") in found
    # A story naming only places of its own country is local too.
    text = "Giá xăng dầu tăng mạnh khiến vận tải hàng hóa tại các tỉnh Lâm Đồng, Đắk Lắk tốn kém."
    assert ("price_spike", "VN") in events(extractor, "vi", text)


def test_a_global_shortage_has_no_home(extractor: Extractor) -> None:
    text = "自動車大手は世界的な半導体不足で国内工場の稼働を停止すると発表した。"
    assert ("shortage", None) in events(extractor, "ja", text)


# -- words --------------------------------------------------------------------------------------


def test_words_that_say_production_stopped_need_no_plant_word(extractor: Extractor) -> None:
    text = "据多方人士证实,府谷县主要镁厂均已按照要求实施停产。"
    assert ("production_disruption", "CN") in events(extractor, "zh", text)
    # Vietnamese "ngừng sản xuất" is as often a product discontinued.
    assert not events(extractor, "vi", "", title="Mỹ ngừng sản xuất đồng 1 xu")


def test_korean_pairs_reach_across_its_particles(extractor: Extractor) -> None:
    text = "중국 상무부는 희토류 수출업체 일부에 수출에 필요한 허가증을 발급했다."
    assert ("restriction_eased", "CN") in events(extractor, "ko", text)


def test_an_embargo_on_an_item_is_an_export_ban(extractor: Extractor) -> None:
    assert ("export_restriction", "ID") in events(
        extractor, "ko", "", title="인도네시아, 니켈 금수 조치 두 달 앞당겨 시행"
    )


def test_korean_export_sanctions_are_export_controls(extractor: Extractor) -> None:
    found = events(extractor, "ko", "", title="美, 러시아 수출제재 본격화…반도체 공급망 틀어막는다")
    assert ("export_restriction", "US") in found


def test_talks_on_export_controls_are_cooperation_without_goods(extractor: Extractor) -> None:
    found = events(extractor, "ja", "", title="日本政府 中国との「輸出管理対話」設置で合意")
    # Two sides agree: no one actor, the partner named with "と" too.
    assert found == {("cooperation", None)}
    found = events(extractor, "en", "", title="IPEF supply chain deal to take effect Feb. 24")
    assert ("cooperation", None) in found


def test_an_agreement_to_ban_is_a_ban(extractor: Extractor) -> None:
    text = "印尼投资协调委员会主席披露,镍矿业者已和政府达成协议,将立即停止镍矿出口。"
    assert ("export_restriction", "ID") in events(extractor, "zh", text)
    # ... while talks held to discuss a control are cooperation.
    text = "欧盟与中国双方同意尽快举行紧急会谈，讨论中国对稀土出口的管制措施。"
    found = events(extractor, "zh", text)
    assert ("cooperation", None) in found
    assert not any(t == "export_restriction" for t, _ in found)


def test_a_stem_covers_its_word_and_is_not_hidden_by_another_concepts_word(
    extractor: Extractor,
) -> None:
    # "halted" is a halt word and, by the stem "halt*", an outage word too.
    text = "The company expects production at its Naka Factory in Hitachinaka to be halted."
    assert ("production_disruption", "JP") in events(extractor, "en", text)
    text = "Construction at the battery plant in Ohio has been paused after a raid."
    assert ("production_disruption", "US") in events(extractor, "en", text)


def test_japanese_and_korean_say_first_since_after_the_measure(extractor: Extractor) -> None:
    assert not events(extractor, "ja", "", title="中国、10月にガリウム輸出 規制以降で初")


def test_a_korean_headline_that_asks(extractor: Extractor) -> None:
    title = "호르무즈 해협 봉쇄되나…유조선 2척, 초입서 항로 변경"
    assert not events(extractor, "ko", "", title=title)


def test_a_fear_given_as_a_reason_does_not_make_a_measure_hypothetical(
    extractor: Extractor,
) -> None:
    text = "중국 정부가 공급 차질을 우려해 요소 수출을 제한했다."
    assert ("export_restriction", "CN") in events(extractor, "ko", text)


def test_the_owner_named_inside_a_pair_is_its_actor(extractor: Extractor) -> None:
    title = "Iran gọi lệnh phong tỏa của Mỹ với Hormuz là hành vi cướp biển"
    assert ("logistics_disruption", "US") in events(extractor, "vi", "", title=title)


def test_a_key_with_full_width_brackets_matches_text_read_in_nfkc(extractor: Extractor) -> None:
    text = "刚果（金）有关部门24日宣布,该国决定暂停钴出口四个月。"
    assert ("export_restriction", "CD") in events(extractor, "zh", text)


def test_an_easing_is_said_within_one_clause(extractor: Extractor) -> None:
    text = "辛巴威宣布即日起暂停锂精矿出口，仅允许拥有本地加工产能的企业申请特许。"
    found = events(extractor, "zh", text)
    assert ("export_restriction", "ZW") in found
    assert ("restriction_eased", "ZW") not in found
    # ... and a government allowing exports eases its control.
    text = "중국 상무부가 21일 일부 기업에 게르마늄과 갈륨 제품을 수출할 수 있도록 허용했다."
    assert ("restriction_eased", "CN") in events(extractor, "ko", text)
    text = "商务部宣布对28家美国实体暂缓或停止相关限制。"
    assert ("restriction_eased", "CN") in events(extractor, "zh", text)


def test_production_resumed_is_not_a_stoppage(extractor: Extractor) -> None:
    text = "강진으로 반도체 생산을 중단했던 도시바가 오는 10일 일부 생산라인 가동을 재개한다."
    assert not any(t == "production_disruption" for t, _ in events(extractor, "ko", text))


def test_a_look_back_retells_an_old_measure(extractor: Extractor) -> None:
    title = "Gallium and Germanium: Export Restrictions Implemented One Year Ago"
    assert not events(extractor, "en", "", title=title)


def test_a_shortage_easing_is_no_shortage(extractor: Extractor) -> None:
    title = "半導体不足に緩和の兆し 自動車用半導体、充足率7割に回復"
    assert not any(t == "shortage" for t, _ in events(extractor, "ja", "", title=title))


def test_words_after_a_middle_dot_are_read(extractor: Extractor) -> None:
    text = "米政権は鉄鋼・アルミニウム製品の輸入制限を発動した。"
    assert ("import_restriction", "US") in events(extractor, "ja", text)


def test_a_strike_called_for_thursday_has_not_begun(extractor: Extractor) -> None:
    title = "Workers at Chile's Escondida copper mine to strike Thursday: union"
    assert not any(
        t == "production_disruption" for t, _ in events(extractor, "en", "", title=title)
    )


def test_a_drought_said_to_have_hit_no_one_is_no_disaster(extractor: Extractor) -> None:
    text = "她补充说,到目前为止,干旱并没有对台积电和其他公司造成影响。"
    assert not events(extractor, "zh", text)
