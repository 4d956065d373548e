"""Event extraction: a document in, typed :class:`~ews.records.Event` records out.

Per document: normalise, identify the language, scan once with the lexicon automaton, and
stop there when no event word occurred (most news is about something else). Otherwise cut
sentences (the title is the first) and, per sentence, pair event words that stand near each
other (see ``event_terms.yaml`` for the rules), then decide:

* easing or suspending words near a restriction make it ``restriction_eased``;
* negation and hypothetical cues near it cancel it ("no plan to restrict exports");
* a cooperation cue governing it makes the sentence ``cooperation`` ("signed an agreement
  on export controls");
* the items are the catalogue items named in the sentence (else in the title); the country
  is the one named nearest before the event words (the actor in en, vi, zh, ja and ko
  alike), else the title's;
* the date is the effective date the sentence states, else the publication date.

Event ids are a contract: :func:`event_id` hashes doc id, type, country and sorted items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ews.catalog import Catalog
from ews.records import EVENT_TYPES, Document, Event, EventType, Lang
from ews.text.dates import effective_date
from ews.text.langid import detect
from ews.text.lexicon import (
    CONCEPT,
    COUNTRY,
    HOME_COUNTRY,
    IGNORE,
    ITEM,
    NOT_COUNTRY,
    OPINION,
    TRIGGER,
    Entry,
    Lexicon,
    get_lexicon,
)
from ews.text.normalize import clean, match_form, vi_mark_ratio

NOT_A_COUNTRY = "_"
"""Label of actors that are not ISO countries (EU, UN, OPEC) in the lexicon's places."""

EXTRACTOR_VERSION = "4"
"""Bumped when a change to the code (not the lexicon) changes what is extracted."""

MIN_CONFIDENCE = 0.5
"""Events below this confidence are not reported by default."""

MAX_SCAN_CHARS = 1_000_000
"""Text scanned per document; readers refuse far larger documents before this point."""

DISRUPTIONS: frozenset[str] = frozenset(EVENT_TYPES) - {"restriction_eased", "cooperation"}
_COOPERATION_OVERRIDES = frozenset({"export_restriction", "import_restriction", "sanction"})
_SOV = frozenset({"ja", "ko"})
_TRADE_CONTEXT = frozenset({"export", "import", "restrict", "measure", "control", "plant"})
_CJK = frozenset({"zh", "ja", "ko"})
# Words that put a country named after the event in the actor's place:
# "lệnh cấm xuất khẩu của Indonesia", "an export ban by Indonesia".
_POSSESSIVE = {
    "vi": (" của ", " tại ", " ở "),
    "en": (" by ", " of ", " in ", " at "),
}
# A country owned by something before it is not the actor of a measure: "dầu khí của Nga ...
# vì lệnh trừng phạt" (Russia's oil, under sanctions), "the revenue of Russia".
_OWNED = {"vi": ("của",), "en": ("of",)}
# A country between which and the measure stands a passive marker suffers it: "Venezuela ...
# bị cấm vận", "伊朗遭美国制裁", "러시아가 ... 제재를 받".
_PASSIVE = {
    # So does one that criticises it: "Iran chỉ trích lệnh trừng phạt mới", "중국, 美 제재 규탄".
    "vi": (" bị ", " chịu ", " chỉ trích ", " lên án ", " phản đối "),
    "zh": ("被", "遭", "受到", "批评", "批評", "谴责", "譴責", "抗议", "抗議"),
    # "制裁を受け" is suffered; "…開始したことを受け" ("in response to") is a cause, not a passive.
    "ja": (
        "制裁を受け",
        "規制を受け",
        "措置を受け",
        "打撃を受け",
        "を科され",
        "対象",
        "批判",
        "非難",
        "反発",
    ),
    "ko": ("받", "당한", "당하", "비판", "규탄", "반발"),
    "en": (
        " under ",
        " hit by ",
        " faces ",
        " facing ",
        " criticizes ",
        " criticises ",
        " condemns ",
        " slams ",
        " denounces ",
    ),
}
_RULERS = frozenset(
    {
        "government",
        "ministry",
        "department",
        "president",
        "minister",
        "republic",
        "state",
        "authorities",
        "parliament",
        "cabinet",
        "administration",
        "phủ",
        "bộ",
        "quyền",
    }
)
_MEASURES = frozenset(
    {"export_restriction", "import_restriction", "sanction", "restriction_eased", "conflict"}
)
# Headline short forms of country names: one character that is a country only in a title,
# standing alone between separators ("中, 희토류 수출 통제", "米、半導体規制", "美 상무부").
_ABBREVIATIONS: dict[str, dict[str, str]] = {
    "ko": {
        "中": "CN",
        "美": "US",
        "日": "JP",
        "韓": "KR",
        "北": "KP",
        "露": "RU",
        "英": "GB",
        "獨": "DE",
        "佛": "FR",
        "印": "IN",
        "濠": "AU",
        "臺": "TW",
        "台": "TW",
        "한": "KR",
        "미": "US",
        "일": "JP",
        "중": "CN",
        "러": "RU",
        "북": "KP",
    },
    "ja": {
        "中": "CN",
        "米": "US",
        "日": "JP",
        "韓": "KR",
        "露": "RU",
        "英": "GB",
        "独": "DE",
        "仏": "FR",
        "印": "IN",
        "豪": "AU",
        "台": "TW",
        "朝": "KP",
    },
    "zh": {
        "中": "CN",
        "美": "US",
        "日": "JP",
        "韩": "KR",
        "韓": "KR",
        "俄": "RU",
        "英": "GB",
        "德": "DE",
        "法": "FR",
        "印": "IN",
        "澳": "AU",
        "朝": "KP",
        "欧": "_",
        "歐": "_",
    },
}
_ABBREV_SEPARATORS = frozenset(" ,、，·・:：;；\"'“”‘’「」『』[]()（）〈〉《》|/-–—")
_AGENT = {"vi": (" của ", " do "), "en": (" by ",)}
_OWNER_PARTICLE = {"ko": "의", "ja": "の", "zh": "的"}
_OWNER_REACH = 10  # characters from the particle to the measure words: "의 희토류 수출 통제"
_TOPIC = {"ja": ("は", "が", "も、"), "ko": ("은", "는", "이 ", "가 ", "이,", "가,")}
_HOME = {k: v for k, v in HOME_COUNTRY.items() if v != NOT_A_COUNTRY}
_DOMESTIC = frozenset(
    {"price_spike", "shortage", "natural_disaster", "production_disruption", "logistics_disruption"}
)
# Price rises and shortages of catalogue goods are the world market's unless a country is named.
_WORLD_MARKET = frozenset({"price_spike", "shortage"})
_EASINGS = frozenset({"restriction_eased"})
# A headline's "…" ends one clause and starts another: "우크라 네온 업체 가동 중단…"반도체 공급난
# 우려"": the concern is the second clause's, not the first's.
_CLAUSE_BREAKS = ("…", "...")
_REASON = re.compile(r"(?:해서|하여|해 |して|し、|し |하며)")
_ZH_COUNTED_TARGET = re.compile(r"(?:对|對|针对|針對)\s*\d+\s*[家个個名项項]\s*$")
_CLAUSE_END = re.compile(r"[,，;；。]")
_DATELINE = re.compile(
    r"[(（][^()（）\n]{0,40}?(?:電|电|讯|訊)[)）]"
    r"|【[^【】\n]{1,20}(?:共同|時事|ロイター|新華社|聯合|연합뉴스|뉴시스|=[^【】\n]{1,12})】"
    r"|[(\[][^()\[\]\n]{1,12}=[^()\[\]\n]{1,12}[)\]]"
)
_COOPERATION_TOPICS = ("export", "import", "supply_chain")
# Disruptions a later "supply is not affected" weakens (a measure stays a measure).
_DENIABLE = frozenset(
    {"production_disruption", "natural_disaster", "logistics_disruption", "shortage"}
)
_KO_PARTICLES = frozenset("의은는이가을를에과와도")
_SPORTS_CANCELS = frozenset({"sanction", "conflict", "restriction_eased"})
_RESTRICTIONS = frozenset({"export_restriction", "import_restriction"})
# English target markers that still mark a target with "the" before the country.
_THE_TARGETS = frozenset({"to", "from", "against", "toward", "towards", "targeting"})
# Words marking the country a measure is aimed at (a subset of the lexicon's target markers:
# destinations and targets, not origins or partners).
_AIM_BEFORE: dict[str, tuple[str, ...]] = {
    "en": ("to", "against", "targeting", "toward", "towards"),
    "vi": ("sang", "đối với", "nhằm vào", "tới", "đến", "cho"),
    "zh": ("对", "對", "向", "针对", "針對"),
}
_AIM_AFTER: dict[str, tuple[str, ...]] = {
    "ja": ("に対する", "に対し", "への", "向け", "へ"),
    "ko": ("에 대한", "에 대해", "에게", "으로", "로", "에"),
}
# Measures that can be aimed at one country (their target is kept with the event).
_AIMED = frozenset({"export_restriction", "sanction"})
# A product named right before a materials word stands for the family of its materials.
_MATERIALS_OF = {"chips": "semiconductor_materials", "lithium_ion_batteries": "battery_materials"}
_MATERIAL_WORDS = {
    "ko": (
        "소재",
        "재료",
        "화학물질",
        "화학제품",
        "금속",
        "광물",
        "제조에 쓰이는",
        "제조에 사용되는",
    ),
    "ja": ("材料", "素材", "化学製品", "化学品", "化学物質", "金属", "鉱物", "製造に使"),
    "zh": ("材料", "化学品", "化工品", "金属", "矿物", "矿产"),
    "en": ("materials", "material ", "chemicals", "metals", "metal ", "minerals", "gases"),
    "vi": ("vật liệu", "nguyên liệu", "hóa chất", "kim loại", "khoáng sản"),
}
# ... and so does a product named as the use of something else ("metals used to make chips",
# "dùng để sản xuất chip", "用于半导体"): the goods are what the chips are made with. In
# Korean and Japanese the use comes after the product ("반도체 제조에 쓰이는"), above.
_USE_BEFORE = {
    "en": (
        "used to make",
        "used in making",
        "used in",
        "used for",
        "needed to make",
        "needed for",
        "essential for",
        "crucial for",
        "critical for",
        "key to",
        "vital for",
        "for making",
    ),
    "vi": ("dùng để sản xuất", "dùng để chế tạo", "dùng trong", "dùng cho", "để sản xuất"),
    "zh": ("用于", "用於", "用来制造", "制造所需的"),
}
# What a measure answers: an item named right after (before, in Korean and Japanese) is the
# cause, not the goods.
_CAUSE_BEFORE = {
    "en": ("in response to", "in retaliation for", "retaliation against", "in reaction to"),
    "vi": ("để đáp trả", "đáp trả", "trả đũa"),
    "zh": ("反制", "回应", "报复"),
}
_CAUSE_AFTER = {
    "ko": ("에 대한 보복", "에 대한 대응", "에 대응", "에 맞서", "에 보복"),
    "ja": ("への対抗", "への報復", "に対抗", "に報復"),
}
_KATAKANA = re.compile(r"^[\u30a0-\u30ff]+$")


def _is_katakana(ch: str) -> bool:
    # (The middle dot ・ separates words: "鉄鋼・アルミニウム製品" names aluminium.)
    return ("\u30a0" < ch <= "\u30ff" and ch != "・") or ch == "ー"


def event_id(doc_id: str, event_type: str, country: str | None, items: Iterable[str]) -> str:
    """The stable id of an event: 16 hex digits of SHA-256 over its identifying fields."""
    key = "|".join((doc_id, event_type, country or "", ",".join(sorted(items))))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(slots=True)
class Hit:
    """One lexicon entry found at ``[start, end)`` of the clean text."""

    start: int
    end: int
    entry: Entry


@dataclass(slots=True)
class _Candidate:
    type: str
    hits: tuple[Hit, ...]
    gap: int
    weight: float


@dataclass
class Prepared:
    """A document normalised and scanned, before events are decided."""

    lang: Lang
    text: str
    title_end: int
    unaccented: bool
    hits: list[Hit] = field(default_factory=list)


_SPLIT = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|[。！？!?]+[」』”）)]*|\n+|;\s+|\s+[-–—]\s+(?=[A-ZĐ])")
_ABBREV = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "no",
        "vs",
        "co",
        "inc",
        "ltd",
        "corp",
        "jr",
        "sr",
        "gov",
        "sen",
        "rep",
        "gen",
        "col",
        "lt",
        "sgt",
        "prof",
        "fig",
        "est",
        "approx",
        "dept",
        "univ",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "tp",
        "ths",
        "ts",
        "pgs",
        "gs",
    ]
)


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (shifted by ``offset``), empty ones left out."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SPLIT.finditer(text):
        cut = m.group(0)
        if cut[0] == ".":
            # "U.S. Department", "Mr. Trump", "TP. HCM": not a sentence end.
            word = text[max(0, m.start() - 6) : m.start()].rsplit(" ", 1)[-1].rsplit(".", 1)[-1]
            if len(word) <= 1 or word.lower() in _ABBREV:
                continue
        end = m.start() + len(cut.rstrip())
        if text[start:end].strip():
            spans.append((offset + start, offset + end))
        start = m.end()
    if text[start:].strip():
        spans.append((offset + start, offset + len(text)))
    return spans


def _is_word_char(ch: str) -> bool:
    # Letters and digits of alphabetic scripts; Han, kana and Hangul are not word characters
    # for a Latin term ("EU는", "OPEC+의" still match "EU", "OPEC").
    return ch.isalnum() and ord(ch) < 0x2E80


class Extractor:
    """Extracts events from documents with one lexicon; reusable and thread-compatible."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        min_confidence: float = MIN_CONFIDENCE,
        keep_hypothetical: bool = False,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.catalog = catalog
        self.lexicon = lexicon or get_lexicon(catalog)
        self.min_confidence = min_confidence
        self.keep_hypothetical = keep_hypothetical
        self._automaton = self.lexicon.automaton
        self._starters = self.lexicon.rule_concepts
        self._current_text = ""
        self._materials = {
            frozenset(i.hs for i in catalog.items_in_group(product)): tuple(
                sorted(i.hs for i in catalog.items_in_group(materials))
            )
            for product, materials in _MATERIALS_OF.items()
            if product in catalog.groups and materials in catalog.groups
        }

    @property
    def version(self) -> str:
        """Extractor code version plus the digest of lexicon and catalogue."""
        return f"{EXTRACTOR_VERSION}+{self.lexicon.digest[:12]}"

    # -- scanning --------------------------------------------------------------------------
    def scan(self, text: str, lang: str, unaccented: bool) -> list[Hit]:
        """Every valid lexicon hit in the clean ``text``, longest matches winning."""
        low = match_form(text)
        n = len(low)
        hits: list[Hit] = []
        for end, (length, latin, entries) in self._automaton.iter(low):
            start = end - length + 1
            stop = end + 1
            right_ok = True
            if latin:
                if start > 0 and _is_word_char(low[start - 1]):
                    continue
                right_ok = stop >= n or not _is_word_char(low[stop])
            # A katakana word inside a longer one is another word: リチウム in トリチウム
            # (tritium), スト in ストロンチウム (strontium).
            kana = lang == "ja" and _KATAKANA.match(low[start:stop]) is not None
            inside_kana = kana and (
                (start > 0 and _is_katakana(low[start - 1]))
                or (stop < n and _is_katakana(low[stop]))
            )
            for e in entries:
                if lang not in e.langs:
                    continue
                # ... except a sport, named inside its league's name (プロサッカーリーグ).
                if inside_kana and not (e.kind == CONCEPT and e.label == "sports"):
                    continue
                if not right_ok and not e.prefix:
                    continue
                if e.folded and not unaccented:
                    continue
                if e.exact is not None and text[start:stop] != e.exact:
                    continue
                if e.capital and not text[start].isupper():
                    continue
                if not right_ok:
                    # A stem ("halt*") covers its whole word ("halted"), so that another
                    # concept's entry for that word does not hide it as a shorter match.
                    hits.append(Hit(start, _word_end(low, stop), e))
                    continue
                hits.append(Hit(start, stop, e))
        # Of two country names that overlap ("中国政府" and "政府は"), the one read first stands.
        hits.sort(key=lambda h: (h.start, -h.end))
        last_country_end = -1
        kept_hits = []
        home = self.lexicon.home_terms
        for h in hits:
            if h.entry.kind == COUNTRY:
                if h.start < last_country_end:
                    continue
                if h.entry.term in home and h.start == last_country_end:
                    continue  # "インドネシア政府は": Indonesia's government, not ours
                last_country_end = h.end
            kept_hits.append(h)
        hits = kept_hits
        blockers = [h for h in hits if h.entry.kind == NOT_COUNTRY]
        if blockers:
            hits = [
                h
                for h in hits
                if h.entry.kind != NOT_COUNTRY
                and not (
                    h.entry.kind == COUNTRY
                    and any(b.start < h.end and h.start < b.end for b in blockers)
                )
            ]
        return _drop_contained(hits)

    def prepare(self, doc: Document) -> Prepared | None:
        """Normalise, identify the language and scan; None for a document without text."""
        title = doc.title.strip()
        body = doc.text.strip()
        if not title and not body:
            return None
        raw = f"{title}\n{body}" if title and body else title or body
        raw = raw[:MAX_SCAN_CHARS]
        lang = doc.lang or detect(raw)
        if lang is None:
            return None
        ctitle = clean(title, lang) if title else ""
        cbody = clean(body[:MAX_SCAN_CHARS], lang) if body else ""
        text = f"{ctitle}\n{cbody}" if ctitle and cbody else ctitle or cbody
        unaccented = lang == "vi" and vi_mark_ratio(text[:800]) < 0.03
        prepared = Prepared(
            lang=lang, text=text, title_end=len(ctitle) if ctitle else 0, unaccented=unaccented
        )
        prepared.hits = self.scan(text, lang, unaccented)
        if lang in _CJK:
            # A dateline names where the reporter files from, not who acts: "(中央社記者…北京5日
            # 電)", "【ワシントン共同】", "(서울=연합뉴스)".
            lines = [m.span() for m in _DATELINE.finditer(text)]
            if lines:
                prepared.hits = [
                    h
                    for h in prepared.hits
                    if h.entry.kind != COUNTRY or not any(a <= h.start < b for a, b in lines)
                ]
        if prepared.title_end and lang in _ABBREVIATIONS:
            extra = _title_abbreviations(text[: prepared.title_end], lang, prepared.hits)
            if extra:
                prepared.hits = sorted([*prepared.hits, *extra], key=lambda h: (h.start, -h.end))
        return prepared

    # -- extraction ------------------------------------------------------------------------
    def extract(self, doc: Document, *, default_date: dt.date | None = None) -> list[Event]:
        """The events of one document, best first within a sentence, one per event id."""
        return self.extract_with_lang(doc, default_date=default_date)[1]

    def extract_with_lang(
        self, doc: Document, *, default_date: dt.date | None = None
    ) -> tuple[Lang | None, list[Event]]:
        """The document's language (declared or detected) and its events."""
        prepared = self.prepare(doc)
        if prepared is None:
            return doc.lang, []
        if not self._has_event_words(prepared.hits):
            return prepared.lang, []
        return prepared.lang, self._decide(doc, prepared, default_date)

    def extract_many(
        self, docs: Iterable[Document], *, default_date: dt.date | None = None
    ) -> Iterator[tuple[Document, list[Event]]]:
        """Each document with its events, in input order."""
        for doc in docs:
            yield doc, self.extract(doc, default_date=default_date)

    def _has_event_words(self, hits: Sequence[Hit]) -> bool:
        for h in hits:
            kind = h.entry.kind
            if kind == TRIGGER or (kind == CONCEPT and h.entry.label in self._starters):
                return True
            if kind == CONCEPT and h.entry.label == "cooperation":
                return True
        return False

    def _decide(self, doc: Document, prep: Prepared, default_date: dt.date | None) -> list[Event]:
        text, lang, lex = prep.text, prep.lang, self.lexicon
        self._current_text = text
        if prep.title_end:
            spans = [
                (0, prep.title_end),
                *split_sentences(text[prep.title_end + 1 :], prep.title_end + 1),
            ]
        else:
            spans = split_sentences(text)
        published = doc.published.date() if doc.published else None
        opinion = any(h.entry.kind == OPINION and h.end <= prep.title_end for h in prep.hits)
        if prep.title_end and _asks(text[: prep.title_end], lang):
            opinion = True

        per_sentence = _by_sentence(prep.hits, spans)
        # Where the document says supply is not hit ("当面の供給については在庫を有しており支障は
        # ない"), the fire or flood it reports earlier is weaker news of supply.
        denials = [
            h.start for h in prep.hits if h.entry.kind == CONCEPT and h.entry.label == "no_impact"
        ]
        last_denial = max(denials, default=-1)
        # A story naming only places of its own country ("tại các tỉnh Lâm Đồng, Đắk Lắk") is
        # as local as one naming none.
        home = _HOME.get(lang)
        doc_countries = any(h.entry.kind == COUNTRY and h.entry.label != home for h in prep.hits)
        # A sports story's "sanctions" are a federation's penalties (FIFA, a league).
        # The title may only say "制裁決定について" ("on the sanction decided"): a title naming
        # no country takes the sport from its body.
        title_names_country = any(
            h.entry.kind == COUNTRY and h.end <= prep.title_end for h in prep.hits
        )
        sports = any(
            h.entry.kind == CONCEPT
            and h.entry.label == "sports"
            and (h.end <= prep.title_end or (prep.title_end and not title_names_country))
            for h in prep.hits
        )
        title_items: tuple[str, ...] = ()
        title_country: Hit | None = None
        title_coop = False
        # Countries whose measure the title reports lifted (None until the title is read, and
        # left None when the title also reports a restriction).
        eased_in_title: set[str | None] | None = None
        events: dict[str, Event] = {}
        for index, (s0, s1) in enumerate(spans):
            if index > 0 and eased_in_title is None:
                told = {e.event_type for e in events.values()}
                eased_in_title = (
                    {e.country for e in events.values() if e.event_type == "restriction_eased"}
                    if prep.title_end > 0 and not told & _RESTRICTIONS
                    else set()
                )
            hits = per_sentence[index]
            if not hits:
                continue
            sentence = text[s0:s1]
            is_title = index == 0 and prep.title_end > 0
            items = self._items(hits, sentence, text[: prep.title_end], lang)
            countries = [h for h in hits if h.entry.kind == COUNTRY]
            if is_title:
                title_items = _codes(items)
                actors = [c for c in countries if not _is_target(c, text, lang, lex)]
                title_country = actors[0] if actors else None
            found = self._sentence_events(
                hits, items, lang, is_title=is_title, s0=s0, published=published
            )
            if sports:
                found = [(c, cue) for c, cue in found if c.type not in _SPORTS_CANCELS]
            if is_title:
                title_coop = not any(c.type in DISRUPTIONS for c, _ in found) and any(
                    h.entry.kind == CONCEPT and h.entry.label == "cooperation" for h in hits
                )
            for cand, cue in found:
                span0 = min(h.start for h in cand.hits)
                span1 = max(h.end for h in cand.hits)
                # A price rise is of the goods named right by it: "giá vàng tăng mạnh, dầu thô
                # giảm" is gold's, not crude oil's.
                reach = 12 if cand.type == "price_spike" else None
                codes = _codes(_near_items(items, span0, span1, cjk=lang in _CJK, reach=reach))
                conf = cand.weight
                if codes:
                    conf += 0.15
                elif title_items and not is_title:
                    codes = title_items
                    conf += 0.05
                # A disaster that stops plants is news of supply whatever they make.
                stops_plants = cand.type == "natural_disaster" and any(
                    h.entry.kind == CONCEPT and h.entry.label in ("plant", "outage") for h in hits
                )
                on_topic = cand.type == "cooperation" and any(
                    h.entry.label in _COOPERATION_TOPICS for h in cand.hits
                )
                if (
                    not codes
                    and not stops_plants
                    and not on_topic
                    and cand.type in lex.require_item
                    and not _near_items(items, span0, span1, cjk=lang in _CJK, reach=reach)
                ):
                    continue  # goods outside the catalogue (fuel, rice) and makers count too
                # A strait or canal named as a place ("eo biển Hormuz") locates shipping; it is
                # not who raises a price or runs short ("tắc nghẽn trên eo biển Hormuz … đẩy giá
                # phân bón tăng vọt" is the world's fertiliser price).
                # Of a plant stopped or goods short, the country that attacked is not where it
                # happened: "우크라이나 업체 두 곳이 러시아의 공격으로 가동을 멈췄다".
                actors_here = _located(countries, hits, cand.type, span0, lang in _CJK)
                country_hit = _pick_country(
                    actors_here,
                    span0,
                    span1,
                    text,
                    lang=lang,
                    lex=lex,
                    possessive=cand.type not in ("import_restriction", "sanction", "cooperation"),
                    measure=cand.type in _MEASURES,
                    word_ends=[h.end for h in cand.hits if h.entry.kind not in (ITEM, COUNTRY)],
                )
                if cand.type == "logistics_disruption":
                    # A strait or canal that names its country ("Strait of Hormuz", "パナマ運河",
                    # "紅海") is where the disruption stands, whoever reports or suffers it.
                    on_route = _on_routes(countries, hits)
                    # (Not over an actor named inside or after it: "lệnh phong tỏa của Mỹ
                    # với Hormuz".)
                    if on_route and (country_hit is None or country_hit.end <= span0):
                        country_hit = min(on_route, key=lambda c: abs(c.start - span0))
                if country_hit is not None:
                    conf += 0.1
                elif (
                    title_country is not None
                    and (
                        not is_title
                        or cand.type in _DOMESTIC  # "earthquake to hit Taiwan": where it is
                        or _credited(text, span1, title_country)
                    )
                    and not (
                        cand.type in _MEASURES
                        and any(_suffers(c, text, lang, span0) for c in countries)
                    )
                ):
                    # The title's actor, unless this sentence names who suffers the measure
                    # (then its actor is simply not said here).
                    country_hit = title_country
                    conf += 0.05
                if is_title:
                    conf += 0.05
                if any(h.entry.folded for h in cand.hits):
                    conf -= 0.1
                if opinion and cand.type != "cooperation":
                    # Explainers, opinion and question titles retell what was news elsewhere:
                    # their events are left to the reports they retell.
                    conf -= 0.55
                if title_coop and not is_title and cand.type in DISRUPTIONS:
                    conf -= 0.25
                if cue == "hypothetical":
                    conf = min(conf, 0.3)
                if cand.type in _DENIABLE and last_denial >= s1:
                    conf -= 0.3
                if (
                    eased_in_title
                    and not is_title
                    and cand.type in _RESTRICTIONS
                    and (country_hit is None or country_hit.entry.label in eased_in_title)
                ):
                    # "Indonesia: Government removed the export ban on copper": the body's
                    # account of the ban being lifted is the history of this easing, not news.
                    conf -= 0.5
                conf = round(max(0.0, min(1.0, conf)), 3)
                if conf < self.min_confidence:
                    continue
                date = effective_date(sentence, lang, published) or published or default_date
                if date is None:
                    continue
                country = country_hit.entry.label if country_hit is not None else None
                if country == NOT_A_COUNTRY:
                    country = None
                elif (
                    cand.type == "cooperation"
                    and len(_actor_set(countries, text, lang, lex, parties=True)) > 1
                ):
                    country = None  # "Mỹ và Trung Quốc đạt thỏa thuận": both sides, no one actor
                elif (
                    country is None
                    and not doc_countries
                    and cand.type in _DOMESTIC
                    and not (cand.type in _WORLD_MARKET and codes)
                    and not any(h.entry.kind == CONCEPT and h.entry.label == "global" for h in hits)
                ):
                    # A local story that names no country at all happens where it is published:
                    # "giá xăng dầu tăng mạnh" in a Vietnamese paper is Vietnam's. The price or
                    # shortage of a catalogue commodity (nickel, lithium) is the world market's,
                    # as is anything called global ("世界的な半導体不足").
                    country = _HOME.get(lang)
                elif (
                    country is None
                    and cand.type in _DOMESTIC
                    and not (cand.type in _WORLD_MARKET and codes)
                    and len(nearby := _places_near(per_sentence, index, home)) == 1
                ):
                    # A story naming one country only, in the title or the sentences beside the
                    # event, happens there: "港口运营中断. 近日,孟加拉国吉大港连续发生罢工事件".
                    country = next(iter(nearby))
                etype: EventType = cand.type  # type: ignore[assignment]
                eid = event_id(doc.doc_id, etype, country, codes)
                matched = [h.entry.term for h in cand.hits]
                matched += [h.entry.term for h in hits if h.entry.kind == ITEM and h.entry.hs]
                if country_hit is not None:
                    matched.append(country_hit.entry.term)
                target = (
                    _target_of(countries, country, s0, s1, text, lang, lex)
                    if cand.type in _AIMED
                    else None
                )
                event = Event(
                    event_id=eid,
                    doc_id=doc.doc_id,
                    lang=lang,
                    event_type=etype,
                    items=codes,
                    country=country,
                    date=date,
                    evidence=sentence.strip()[:600],
                    confidence=conf,
                    matched=tuple(dict.fromkeys(matched)),
                    target=target,
                )
                old = events.get(eid)
                if old is None or old.confidence < event.confidence:
                    events[eid] = event
        return list(events.values())

    def _items(self, hits: Sequence[Hit], sentence: str, title: str, lang: str) -> list[Hit]:
        found = []
        for h in hits:
            if h.entry.kind != ITEM:
                continue
            if h.entry.ambiguous and (
                not self._has_context(h, hits, lang) or self._other_sense(h, sentence, lang)
            ):
                continue
            if h.entry.ambiguous and lang == "vi" and _vi_name_or_currency(self._current_text, h):
                continue
            if (
                lang == "vi"
                and self._current_text[max(0, h.start - 2) : h.start].strip()[-1:].isdigit()
            ):
                continue  # "500.000 đồng" is money, "3 pin" a count: a unit after a number
            if self._named_as_cause(h, lang):
                continue
            found.append(self._as_materials(h, lang))
        return found

    def _named_as_cause(self, hit: Hit, lang: str) -> bool:
        """An item named as what a measure answers ("bans gallium exports to the US in
        response to chip sanctions", "반도체 규제에 대한 보복"): the chips are the other side's
        measure, not the goods restricted."""
        text = self._current_text
        if lang in ("ko", "ja"):
            after = text[hit.end : hit.end + 16].lower()
            return any(w in after for w in _CAUSE_AFTER[lang])
        before = text[max(0, hit.start - 24) : hit.start].lower()
        return any(w in before for w in _CAUSE_BEFORE.get(lang, ()))

    def _as_materials(self, hit: Hit, lang: str) -> Hit:
        """ "반도체 등 핵심소재", "半導体製造などに必要な化学製品", "chipmaking chemicals": the
        product named before a materials word stands for its materials."""
        codes = set(hit.entry.hs)
        target = next((m for p, m in self._materials.items() if codes and codes <= p), None)
        words = _MATERIAL_WORDS.get(lang)
        if target is None or not words:
            return hit
        reach = 14 if lang in _CJK else 30
        after = self._current_text[hit.end : hit.end + reach].lower()
        before = self._current_text[max(0, hit.start - reach) : hit.start].lower()
        if any(w in after for w in words) or any(w in before for w in _USE_BEFORE.get(lang, ())):
            return Hit(hit.start, hit.end, dataclasses.replace(hit.entry, hs=target))
        return hit

    def _other_sense(self, hit: Hit, sentence: str, lang: str) -> bool:
        """Whether a word of another sense of the ambiguous term stands in its sentence:
        "thuốc trừ sâu" (insecticide) or "sầu riêng" (durian) with "hoạt chất" makes it a
        pesticide's active substance, not a drug's. Such a word wins over any trade word (a
        ban on a pesticide is still a ban, of no drug); the sentence is the reach, since the
        crop or the body is often named at its other end."""
        by_hs = self.lexicon.other_senses.get(lang)
        if not by_hs:
            return False
        words = {w for hs in hit.entry.hs for w in by_hs.get(hs, ())}
        folded = sentence.lower()
        for word in words:
            at = folded.find(word)
            while at >= 0:
                end = at + len(word)
                # Whole words outside CJK: "ăn" (eat) is not the end of "ngăn" (prevent).
                if lang in _CJK or (
                    (at == 0 or not _is_word_char(folded[at - 1]))
                    and (end >= len(folded) or not _is_word_char(folded[end]))
                ):
                    return True
                at = folded.find(word, at + 1)
        return False

    def _has_context(self, hit: Hit, hits: Sequence[Hit], lang: str) -> bool:
        """An ambiguous item term counts when an event word or a catalogue context word
        stands near it in the sentence ("đồng" next to "xuất khẩu", "quặng" or "kim loại")."""
        reach = 20 if lang in _CJK else 50
        for other in hits:
            # Only trade words vouch for an ambiguous item: a flood or a war near "đồng"
            # says nothing about copper.
            if other is hit or other.entry.kind != CONCEPT:
                continue
            if other.entry.label not in _TRADE_CONTEXT:
                continue
            if other.end >= hit.start - reach and other.start <= hit.end + reach:
                return True
        words = self.lexicon.context_words.get(lang)
        if not words:
            return False
        text = self._current_text
        lo, hi = max(0, hit.start - reach), min(len(text), hit.end + reach)
        window = text[lo:hi].lower()
        for word in words:
            at = window.find(word)
            while at >= 0:
                end = at + len(word)
                if (
                    lang in _CJK
                    or (
                        (at == 0 or not _is_word_char(window[at - 1]))
                        and (end >= len(window) or not _is_word_char(window[end]))
                    )
                ) and not (lo + at < hit.end and lo + end > hit.start):
                    return True
                at = window.find(word, at + 1)
        return False

    def _sentence_events(
        self,
        hits: Sequence[Hit],
        items_found: Sequence[Hit],
        lang: str,
        *,
        is_title: bool = False,
        s0: int = 0,
        published: dt.date | None = None,
    ) -> list[tuple[_Candidate, str]]:
        """The events of one sentence with the cue that shaped them ('' for none)."""
        lex = self.lexicon
        cjk = lang in _CJK
        by_concept: dict[str, list[Hit]] = {}
        items = list(items_found)
        countries: list[Hit] = []
        triggers: list[Hit] = []
        for h in hits:
            kind = h.entry.kind
            if kind == CONCEPT:
                by_concept.setdefault(h.entry.label, []).append(h)
            elif kind == COUNTRY:
                countries.append(h)
            elif kind == TRIGGER:
                triggers.append(h)
        pseudo = {"ITEM": items, "COUNTRY": countries}
        cands: list[_Candidate] = []
        for rule in lex.rules:
            if lang not in rule.langs:
                continue
            firsts = pseudo.get(rule.first) or by_concept.get(rule.first)
            seconds = pseudo.get(rule.second) or by_concept.get(rule.second)
            if not firsts or not seconds:
                continue
            window = _reach(rule.cjk_window if cjk else rule.window, lang)
            for a in firsts:
                for b in seconds:
                    if a.start == b.start and a.end == b.end:
                        continue
                    if rule.ordered and b.start < a.end:
                        continue
                    gap = b.start - a.end if b.start >= a.end else a.start - b.end
                    if gap > window and cjk:
                        gap -= _glossed(self._current_text, a, b)
                    if gap < 0 or gap > window:
                        continue
                    if rule.type == "restriction_eased" and _CLAUSE_END.search(
                        self._current_text, min(a.end, b.end), max(a.start, b.start)
                    ):
                        # An easing is said in one clause: "暫停…出口，僅允許…" bans, then
                        # excepts a few.
                        continue
                    cands.append(_Candidate(rule.type, (a, b), gap, rule.weight))
        routes = by_concept.get("route", ())
        route_window = lex.rule_window("logistics_disruption", cjk)
        # (An air strike on a port is war on land: "Israel không kích cảng Hodeidah".)
        ports = {(p.start, p.end) for p in by_concept.get("port", ())}
        for t in triggers:
            etype = t.entry.label
            if etype == "conflict":
                # A missile or drone attack on ships or a strait ("紅海でコンテナ船にミサイル
                # 攻撃", "attacks on tankers in the Strait of Hormuz") stops the route: that is
                # the disruption the supply chain feels, whatever war it is part of.
                on_route = [
                    r
                    for r in routes
                    if _gap(r, t) <= route_window and (r.start, r.end) not in ports
                ]
                if on_route:
                    cands.append(_Candidate("logistics_disruption", (on_route[0], t), 0, 0.6))
                    continue
            cands.append(_Candidate(etype, (t,), 0, 0.6))
        cands.sort(key=lambda c: (c.gap, -c.weight, c.hits[0].start))
        # Whole-sentence cues: a denial ("not affected", "baseless", "không liên quan") takes
        # back every disruption of the sentence; sports turns "sanctions" into penalties.
        denied = bool(by_concept.get("denial"))
        aftermath = bool(by_concept.get("aftermath"))
        sporting = bool(by_concept.get("sports"))
        used: set[tuple[int, int]] = set()
        chosen: list[tuple[_Candidate, str]] = []
        cue_window = _reach(lex.window(lang, cue=True), lang)
        sov = lang in _SOV
        for cand in cands:
            spans = {(h.start, h.end) for h in cand.hits if h.entry.kind not in (ITEM, COUNTRY)}
            if spans & used:
                continue
            used |= spans
            span0 = min(h.start for h in cand.hits)
            span1 = max(h.end for h in cand.hits)

            def near(
                concept: str,
                *,
                after: bool,
                window: int = cue_window,
                before: bool = True,
                own: set[tuple[int, int]] = spans,
                lo: int = span0,
                hi: int = span1,
                after_window: int | None = None,
                clause: bool = False,
            ) -> Hit | None:
                for h in by_concept.get(concept, ()):
                    if (h.start, h.end) in own:
                        continue
                    if h.start >= lo and h.end <= hi:
                        return h
                    if (
                        before
                        and h.end <= lo
                        and lo - h.end <= window
                        and not (clause and _CLAUSE_END.search(self._current_text, h.end, lo))
                    ):
                        return h
                    if (
                        after
                        and h.start >= hi
                        and h.start - hi <= (after_window or window)
                        and _one_clause(self._current_text, h, hi)
                        and not (clause and _CLAUSE_END.search(self._current_text, hi, h.start))
                    ):
                        return h
                return None

            cue = ""
            # (Within a headline's clause: "생산 중단…"정상화 수개월 소요 전망"" has stopped.)
            if (
                denied
                and cand.type != "cooperation"
                and any(_one_clause(self._current_text, h, span0) for h in by_concept["denial"])
            ):
                continue
            if sporting and cand.type in _SPORTS_CANCELS:
                continue
            if aftermath and cand.type in ("natural_disaster", "production_disruption"):
                continue
            # A measure told as background ("Previously, ... in July 2023", "此前", "trước
            # đó") is old news inside a new story: not a new event (titles are news).
            if not is_title and near("background", after=False, window=cue_window * 3):
                continue
            # (Japanese and Korean say it after: "規制以降で初", "제재에도 불구하고".)
            if near(
                "despite", after=sov, before=not sov, window=cue_window * (1 if is_title else 3)
            ):
                continue
            if near("retrospective", after=True, window=cue_window * 3):
                continue
            # A shortage easing is no shortage: "半導体不足に緩和の兆し", "부족 해소".
            if cand.type == "shortage" and near("ease", after=True, window=4, clause=True):
                continue
            # "Mỹ và Iran dừng tập kích nhau", "停止攻击": attacks that stop are a ceasefire.
            if cand.type == "conflict" and near("halt", after=sov, window=cue_window // 2):
                continue
            # Within the clause: "暫停鋰精礦及原礦出口，僅允許…企業申請特許" bans, then excepts.
            if cand.type in lex.easable and (
                near("ease", after=True, clause=True)
                or near("halt", after=True, clause=True)
                or near("lift_short", after=False, window=2)
            ):
                cand.type = "restriction_eased"
            # A measure dated years back is history too: "2010년 … 중국이 … 희토류 수출을
            # 중단". (An easing names the year its measure was brought in: "2019年7月に導入
            # した…輸出規制を緩和".)
            if cand.type not in _EASINGS and _old_year_before(
                self._current_text, s0, span0, published, cjk
            ):
                continue
            # Japanese and Korean put negation and modality at the end of the clause, after
            # the event words: "붕괴시킬 수 있다", "制限する予定はない".
            tail = cue_window * 4 if sov else cue_window
            if near("negation", after=sov, after_window=tail):
                continue
            # A condition may stand well before the measure it governs in Korean and Japanese,
            # across the relative clause that describes it ("공격할 경우 부과할 '강력하고
            # 포괄적인' 제재", "侵攻した場合に科す厳しい制裁").
            hypo = near(
                "hypothetical", after=sov, after_window=tail, window=cue_window * (2 if sov else 1)
            )
            # A fear given as the reason for what follows is no condition on it: "공급 차질을
            # 우려해 수출을 제한", "供給不足を懸念して輸出を制限".
            if (
                hypo is not None
                and hypo.end <= span0
                and _REASON.match(self._current_text, hypo.end)
            ):
                hypo = None
            if hypo is not None:
                if not self.keep_hypothetical:
                    continue
                cue = "hypothetical"
            # Within its clause: "达成协议,将立即停止镍矿出口" agreed on a ban, which stands.
            if cand.type in _COOPERATION_OVERRIDES and near(
                "cooperation", after=sov, before=not sov, window=cue_window * 2, clause=True
            ):
                cand.type = "cooperation"
                cue = "cooperation"
            chosen.append((cand, cue))
        if not any(c.type != "cooperation" for c, _ in chosen):
            coop = by_concept.get("cooperation")
            # Talks on export controls or critical minerals are cooperation on supply even
            # when they name no goods: "「輸出管理対話」設置で合意". (Trade and exports alone are
            # every business deal: "kỳ vọng đưa cua Cà Mau xuất khẩu sang Trung Quốc".)
            controls = any(by_concept.get(c) for c in ("restrict", "control", "measure"))
            topic = next(
                (
                    h
                    for c in _COOPERATION_TOPICS
                    for h in by_concept.get(c, ())
                    if c == "supply_chain" or controls
                ),
                None,
            )
            if (
                coop
                and (items or topic is not None)
                and not chosen
                and not near_any(by_concept, "negation", coop[0], cue_window)
            ):
                hits_ = (coop[0],) if items or topic is None else (coop[0], topic)
                chosen.append((_Candidate("cooperation", hits_, 0, 0.55), "cooperation"))
        return chosen


_SENTENCE_START = re.compile(r"(?:^|[.!?:\n\"“'‘(]\s*)$")


def _vi_name_or_currency(text: str, hit: Hit) -> bool:
    """An ambiguous Vietnamese item word that is a name or a currency here: capitalised inside
    a sentence ("đường Đồng Khởi"), or followed by a capitalised word ("đồng Baht") or a
    currency name ("đồng bolivar", "đồng đôla")."""
    word = text[hit.start : hit.end]
    if word[:1].isupper() and not _SENTENCE_START.search(text[max(0, hit.start - 3) : hit.start]):
        return True
    after = text[hit.end : hit.end + 12].lstrip()
    if after[:1].isupper():
        return True
    return after.lower().startswith(_VI_CURRENCIES)


_VI_CURRENCIES = (
    "bolivar",
    "baht",
    "đôla",
    "đô la",
    "peso",
    "lira",
    "shekel",
    "real",
    "rand",
    "franc",
    "krone",
    "kip",
    "riel",
    "rial",
    "rupiah",
    "dinar",
    "hryvnia",
    "nội tệ",
    "tiền",
    "bạc",
)


def _located(
    countries: list[Hit], hits: Sequence[Hit], etype: str, span0: int, cjk: bool
) -> list[Hit]:
    """The countries that may stand for where an event of ``etype`` happens or who acts."""
    if etype not in ("logistics_disruption", "conflict"):
        on_route = _on_routes(countries, hits)
        countries = [c for c in countries if c not in on_route]
    if etype in ("production_disruption", "shortage", "natural_disaster"):
        attacks = [h for h in hits if h.entry.kind == CONCEPT and h.entry.label == "attack"]
        # The attacker is named right before its attack: "러시아의 공격으로", "Russian attacks".
        reach = 3 if cjk else 12
        attackers = [
            c
            for c in countries
            if any(0 <= a.start - c.end <= reach and a.end <= span0 for a in attacks)
        ]
        if attackers and len(attackers) < len(countries):
            countries = [c for c in countries if c not in attackers]
    return countries


def _on_routes(countries: Sequence[Hit], hits: Sequence[Hit]) -> list[Hit]:
    """The countries named by a route word itself: a strait or canal that is a place
    ("Strait of Hormuz", "パナマ運河")."""
    routes = [h for h in hits if h.entry.kind == CONCEPT and h.entry.label == "route"]
    return [c for c in countries if any(c.start < r.end and r.start < c.end for r in routes)]


def _places_near(per_sentence: Sequence[Sequence[Hit]], index: int, home: str | None) -> set[str]:
    """The countries named in the title and the sentences around sentence ``index``; empty
    when one of them is a place of the paper's own country (a local story) or the EU or the UN
    is named (a party that is no country)."""
    window = {0, index - 1, index, index + 1}
    found = {
        h.entry.label
        for i in window
        if 0 <= i < len(per_sentence)
        for h in per_sentence[i]
        if h.entry.kind == COUNTRY
    }
    return set() if home in found or NOT_A_COUNTRY in found else found


def _credited(text: str, span1: int, country: Hit) -> bool:
    """Whether a title names its actor after a dash, as a credit, past the event words:
    "半導体輸出規制を緩和 韓国向け、通達改正―経産省"."""
    return country.start >= span1 and any(d in text[span1 : country.start] for d in "―—–|")


def _asks(title: str, lang: str) -> bool:
    """A title that asks or speculates: a question mark, or a Japanese headline ending on the
    particle か ("「令和のオイルショック」到来か")."""
    end = title.rstrip().rstrip("」』\"'”…").rstrip()
    if lang == "ko" and _KO_QUESTION.search(title):
        return True
    return end.endswith(("?", "？")) or (lang == "ja" and end.endswith("か"))


# A Korean headline asks with a verb ending before its break: "호르무즈 해협 봉쇄되나…",
# "유가 더 오를까".
_KO_QUESTION = re.compile(
    r"(?:되나|하나요|할까|될까|을까|일까|를까|는가|인가|없나|있나)(?=\s*(?:…|\.\.\.|\?|$|[\"'”’,]))"
)


# "in 2014", "năm 2010", "2010년", "2010年": a year named in a sentence.
# "2010年以来" and "since 2010" measure from the past to now: not history.
_YEAR_CJK = re.compile(r"((?:19|20)\d\d)\s*[年년](?!\s*(?:以来|以降|来|이후|이래|만에|ぶり))")
_YEAR_LATIN = re.compile(r"\b(?:in|năm|during)\s+(?:early |late |mid-)?((?:19|20)\d\d)\b")


# Chinese papers write years digit by digit in Han numerals: "二○二三年".
_HAN_YEAR = re.compile(r"([一二九][〇○零一二三四五六七八九]{3})\s*年(?!\s*(?:以来|以降|来))")
_HAN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"○": "0", "零": "0"}


def _old_year_before(text: str, lo: int, hi: int, published: dt.date | None, cjk: bool) -> bool:
    """Whether the stretch before an event names a year two or more years before publication
    and none later: "2010년 … 중국이 … 희토류 수출을 중단", "when Russia invaded in 2014" retell
    history."""
    if published is None:
        return False
    pattern = _YEAR_CJK if cjk else _YEAR_LATIN
    years = [int(m.group(1)) for m in pattern.finditer(text, lo, hi)]
    if cjk:
        years += [
            int("".join(_HAN_DIGITS[c] for c in m.group(1)))
            for m in _HAN_YEAR.finditer(text, lo, hi)
        ]
    return bool(years) and max(years) <= published.year - 2


def _one_clause(text: str, h: Hit, at: int) -> bool:
    """Whether no headline clause break ("…") stands between hit ``h`` and position ``at``."""
    lo, hi = (h.end, at) if h.end <= at else (at, h.start)
    stretch = text[lo:hi]
    return not any(sep in stretch for sep in _CLAUSE_BREAKS)


def _glossed(text: str, a: Hit, b: Hit) -> int:
    """Characters between two hits that stand in brackets: a gloss such as "霍尔木兹海峡(Hormuz
    Strait)即将关闭" does not separate the words it sits between."""
    lo, hi = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    stretch = text[lo:hi]
    if "(" not in stretch and "（" not in stretch:
        return 0
    return sum(len(m.group(0)) for m in _BRACKETED.finditer(stretch))


_BRACKETED = re.compile(r"[(（][^()（）]{0,40}[)）]")


def _reach(window: int, lang: str) -> int:
    """A window of the lexicon in characters of ``lang``: Korean spells with spaces and
    particles what Chinese and Japanese say in fewer characters ("수출에 필요한 허가증을 발급"
    is one phrase), so its pairs and cues reach half as far again."""
    return window * 3 // 2 if lang == "ko" else window


def _gap(a: Hit, b: Hit) -> int:
    """Characters between two hits (0 when they touch or overlap)."""
    return max(0, b.start - a.end, a.start - b.end)


def near_any(by_concept: dict[str, list[Hit]], concept: str, hit: Hit, window: int) -> bool:
    """A hit of ``concept`` within ``window`` characters before ``hit``."""
    return any(0 <= hit.start - h.end <= window for h in by_concept.get(concept, ()))


def _title_abbreviations(title: str, lang: str, hits: Sequence[Hit]) -> list[Hit]:
    """Country hits for one-character short forms standing alone in a title: after the
    start or a separator, and before a separator, a particle-free Hangul word (ko) or
    another short form ("韓日", "한미")."""
    table = _ABBREVIATIONS[lang]
    taken = [(h.start, h.end) for h in hits]
    found: list[Hit] = []
    for i, ch in enumerate(title):
        iso2 = table.get(ch)
        if iso2 is None:
            continue
        if any(a <= i < b for a, b in taken):
            continue
        prev = title[i - 1] if i else " "
        nxt = title[i + 1] if i + 1 < len(title) else " "
        if not (prev in _ABBREV_SEPARATORS or prev in table):
            continue
        if not (
            nxt in _ABBREV_SEPARATORS or nxt in table or (lang == "ko" and nxt in _KO_PARTICLES)
        ):
            continue
        entry = Entry(kind=COUNTRY, label=iso2, term=ch, langs=frozenset({lang}))
        found.append(Hit(i, i + 1, entry))
    return found


def _word_end(low: str, stop: int) -> int:
    while stop < len(low) and _is_word_char(low[stop]):
        stop += 1
    return stop


def _drop_contained(hits: list[Hit]) -> list[Hit]:
    """Hits not strictly inside a longer hit; ignore-terms are dropped after doing their job."""
    if not hits:
        return hits
    hits.sort(key=lambda h: (h.start, -h.end))
    kept: list[Hit] = []
    max_end = -1
    max_start = -1
    for h in hits:
        if h.end < max_end or (h.end == max_end and h.start > max_start):
            continue
        if h.end > max_end:
            max_end, max_start = h.end, h.start
        if h.entry.kind != IGNORE:
            kept.append(h)
    return kept


def _by_sentence(hits: Sequence[Hit], spans: Sequence[tuple[int, int]]) -> list[list[Hit]]:
    out: list[list[Hit]] = [[] for _ in spans]
    i = 0
    for h in hits:  # hits are sorted by start
        while i < len(spans) and h.start >= spans[i][1]:
            i += 1
        if i == len(spans):
            break
        if h.start >= spans[i][0] and h.end <= spans[i][1]:
            out[i].append(h)
    return out


def _near_items(
    items: Sequence[Hit], span0: int, span1: int, *, cjk: bool, reach: int | None = None
) -> list[Hit]:
    """Items named close to the event words, else all items of the sentence: "China curbs
    rare earths, the US raises tariffs" gives rare earths to the first event only. With
    ``reach`` given, only the items within it (no fallback to the sentence)."""
    if reach is not None:
        reach = reach // 2 if cjk else reach
        return [h for h in items if h.end >= span0 - reach and h.start <= span1 + reach]
    reach = 20 if cjk else 60
    near = [h for h in items if h.end >= span0 - reach and h.start <= span1 + reach]
    return near or list(items)


def _codes(items: Sequence[Hit]) -> tuple[str, ...]:
    codes: set[str] = set()
    for h in items:
        codes.update(h.entry.hs)
    return tuple(sorted(codes))


def _pick_country(
    countries: Sequence[Hit],
    span0: int,
    span1: int,
    text: str,
    *,
    lang: str,
    lex: Lexicon,
    possessive: bool,
    measure: bool = False,
    word_ends: Sequence[int] = (),
) -> Hit | None:
    """The actor: the country named nearest before the event words, else inside them, else a
    country named just after with a possessive ("của Indonesia", "by Indonesia"). Countries
    marked as the target ("exports to the US", "한국에 대한") are passed over."""
    targets = _targets(countries, text, lang, lex)
    if not measure:
        # "우크라이나 업체 두 곳이 … 가동을 멈췄다": the firms of a country are listed by a
        # measure, but their plant stopping happens there.
        targets -= {c.start for c in countries if _firms_of(text, c)}
    actors = [c for c in countries if c.start not in targets]
    if measure:
        # Of a measure, a country owned by what precedes it, or one that suffers the measure
        # (a passive marker between it and the measure), is not the one taking it.
        actors = [c for c in actors if not _suffers(c, text, lang, span0)]
    # "lệnh phong tỏa của Mỹ", "a ban by Indonesia", "do Mỹ áp đặt": the owner or agent named
    # right after the measure is its actor, whoever was named before it.
    if possessive or measure:
        # (Right after any of the event words: "lệnh phong tỏa của Mỹ với Hormuz".)
        for end in sorted({span1, *word_ends}):
            for c in countries:
                if 0 <= c.start - end <= 20:
                    between = " " + text[end : c.start].lower()
                    if any(between.endswith(m) for m in _AGENT.get(lang, ())):
                        return c
    before = [c for c in actors if c.end <= span0]
    owner = _OWNER_PARTICLE.get(lang)
    if measure and owner:
        # "중국의 희토류 수출 통제", "中国の輸出規制", "中国的出口管制": the country owning the
        # measure takes it, whoever is the sentence's subject ("산업통상자원부가 … 점검").
        owners = [
            c
            for c in before
            if text[c.end : c.end + len(owner)] == owner and span0 - c.end <= _OWNER_REACH
        ]
        if owners:
            return max(owners, key=lambda c: c.end)
    if measure and lang == "en" and text[max(0, span0 - 5) : span0].lower().endswith("its "):
        # "the Chinese government adopted … additions of US companies to its Export Control
        # List": "its" points back to the subject, not to the nearest country. Countries after
        # a preposition ("imports from the US") or before a plain noun ("US companies") are
        # not subjects.
        subjects = [c for c in before if _en_subject(text, c)]
        if subjects:
            return max(subjects, key=lambda c: c.end)
    topics = _TOPIC.get(lang)
    if topics and before:
        # In Japanese and Korean the actor is the topic or subject: "米政府は…ロシアの企業に
        # 対し制裁", "중국 상무부는 … 한국에 대한": a country marked so wins over nearer ones.
        marked = [c for c in before if _topic_marked(text, c.start, c.end, topics)]
        if marked:
            return max(marked, key=lambda c: c.end)
    if before:
        return max(before, key=lambda c: c.end)
    inside = [c for c in actors if c.start >= span0 and c.end <= span1]
    if inside:
        return inside[0]
    markers = _POSSESSIVE.get(lang, ()) if possessive else ()
    for c in countries:
        if c.start >= span1 and c.start - span1 <= 30:
            between = " " + text[span1 : c.start].lower()
            if any(m in between for m in markers):
                return c
    return None


_EN_PREPOSITIONS = frozenset(
    {"from", "to", "on", "in", "of", "against", "with", "for", "by", "into", "toward", "towards"}
)
_EN_MODIFIED = frozenset(
    {
        "companies",
        "company",
        "firms",
        "firm",
        "products",
        "goods",
        "imports",
        "exports",
        "chips",
        "chipmakers",
        "entities",
        "businesses",
        "market",
        "markets",
        "buyers",
        "makers",
    }
)


def _en_subject(text: str, c: Hit) -> bool:
    """Whether an English country mention can be a clause's subject: not the object of a
    preposition ("from the US") and not a modifier of a plain noun ("US companies")."""
    head = text[max(0, c.start - 16) : c.start].lower().split()
    if head and head[-1] == "the":
        head = head[:-1]
    if head and head[-1] in _EN_PREPOSITIONS:
        return False
    tail = text[c.end : c.end + 16].lower().split()
    return not (tail and tail[0].strip(",.") in _EN_MODIFIED)


# "日 정부, …", "일본 정부는 …", "日本政府は …": the government word between a country and its
# topic marker (or a headline's comma) leaves the country the topic.
_GOVERNMENT_WORDS = ("정부", "당국", "政府", "当局")


def _target_of(
    countries: Sequence[Hit],
    actor: str | None,
    s0: int,
    s1: int,
    text: str,
    lang: str,
    lex: Lexicon,
) -> str | None:
    """The country a measure is aimed at: one the sentence marks as its destination or target
    ("exports to the US", "对美出口", "韓国向け", "한국에 대한"), other than the actor. Origins
    and partners ("from", "with", "에서") are not aims."""
    before = _AIM_BEFORE.get(lang, ())
    after = _AIM_AFTER.get(lang, ())
    for c in countries:
        label = c.entry.label
        if label in (NOT_A_COUNTRY, actor) or not s0 <= c.start < s1:
            continue
        head = text[max(0, c.start - 16) : c.start].lower().rstrip()
        if lang == "en":
            head = head.removesuffix(" the")
        if lang in _CJK:
            aimed = head.endswith(before) if before else False
        else:
            words = head.split()
            aimed = bool(words) and (words[-1] in before or " ".join(words[-2:]) in before)
        end = _past_gloss(text, c.end)
        if aimed or (after and text[end : end + 6].lower().startswith(after)):
            return label
    return None


def _topic_marked(text: str, start: int, end: int, topics: tuple[str, ...]) -> bool:
    end = _past_gloss(text, end)
    after = text[end : end + 8].lstrip(" ")
    for word in _GOVERNMENT_WORDS:
        if after.startswith(word):
            after = after[len(word) :]
            return after.startswith(topics) or after.lstrip(" ").startswith((",", "、"))
    # A headline opening on a country and a comma ("일본 정부, …", "中国、…") names its actor.
    opens = not text[:start].strip() or text[:start].rstrip().endswith((".", "\n", "。"))
    return text[end : end + 2].startswith(topics) or (opens and after.startswith((",", "、")))


# Words that join the names of a list: "对白罗斯、伊朗和其他国家", "日本、韓国向け", "to China and
# Russia". (A comma in a Korean or Chinese headline ends its topic: "일본, 한국에 대한 … 규제".)
_LIST_JOINERS = {
    "en": frozenset({",", "and", "or", "/"}),
    "vi": frozenset({",", "và", "hoặc", "/"}),
    "zh": frozenset({"、", "和", "与", "與", "及", "以及"}),
    "ja": frozenset({"、", "や", "と", "・", "及び", "および"}),
    "ko": frozenset({"과", "와", "및", "·"}),
}


def _targets(countries: Sequence[Hit], text: str, lang: str, lex: Lexicon) -> set[int]:
    """Starts of the countries a measure is aimed at: those marked as targets, and the others
    of a list one of them heads (a marker before it, as in English, Vietnamese and Chinese) or
    ends (a marker after it, as in Japanese and Korean)."""
    marked = {c.start for c in countries if _is_target(c, text, lang, lex)}
    if not marked:
        return marked
    ordered = sorted(countries, key=lambda c: c.start)
    pairs = list(itertools.pairwise(ordered))
    if lang in _SOV:
        pairs = [(b, a) for a, b in reversed(pairs)]
    for head, other in pairs:
        first, second = (head, other) if head.start < other.start else (other, head)
        joiner = text[first.end : second.start].strip().lower()
        # (Not onto a headline's topic: "中国、日本向けの…輸出を禁止".)
        if (
            head.start in marked
            and joiner in _LIST_JOINERS.get(lang, ())
            and not _topic_marked(text, other.start, other.end, _TOPIC.get(lang, ()))
        ):
            marked.add(other.start)
    return marked


def _actor_set(
    countries: Sequence[Hit], text: str, lang: str, lex: Lexicon, *, parties: bool = False
) -> set[str]:
    """The countries named as actors; with ``parties``, every side named: the EU or the UN,
    and a partner ("オーストラリアと日本", "an agreement with Australia"), for an agreement has
    no one actor."""
    if parties:
        return {c.entry.label for c in countries}
    return {
        c.entry.label
        for c in countries
        if c.entry.label != NOT_A_COUNTRY and not _is_target(c, text, lang, lex)
    }


def _suffers(country: Hit, text: str, lang: str, span0: int) -> bool:
    """Of a measure starting at ``span0``: the country is owned by what precedes it ("dầu khí
    của Nga") or a passive marker stands between it and the measure ("Venezuela ... bị cấm
    vận"): it suffers the measure rather than taking it."""
    head = text[max(0, country.start - 60) : country.start].lower().split()
    # "the revenue of Russia", not "the government of Indonesia" nor "the Minister of Energy
    # and Mineral Resources of Indonesia" (a ruler a few words back heads the chain of "of").
    if head and head[-1] in _OWNED.get(lang, ()) and not any(w in _RULERS for w in head[-7:-1]):
        return True
    between = text[country.end : span0].lower()
    return country.end <= span0 and any(m in between for m in _PASSIVE.get(lang, ()))


def _is_target(hit: Hit, text: str, lang: str, lex: Lexicon) -> bool:
    before = lex.target_before.get(lang, ())
    if before:
        head = text[max(0, hit.start - 14) : hit.start].lower()
        if lang in _CJK:
            if head.endswith(before):
                return True
            if lang == "zh" and _ZH_COUNTED_TARGET.search(head):
                return True  # "对28家美国实体": a count between the marker and the country
        else:
            words = head.rstrip()
            if lang == "en" and words.endswith(" the"):
                # "exports to the US", "imports from the US" (not "on the U.S. coast": a place)
                words = words.removesuffix(" the")
                before = tuple(m for m in before if m in _THE_TARGETS)
            for m in before:
                if words.endswith(m) and (len(words) == len(m) or not words[-len(m) - 1].isalnum()):
                    return True
    after = lex.target_after.get(lang, ())
    if after:
        end = _past_gloss(text, hit.end)
        tail = text[end : end + 12].lower()
        if tail.startswith(after):
            return True
    return False


_FIRMS = ("companies", "company", "firms", "firm", "기업", "업체", "회사", "企业", "企業", "公司")


def _firms_of(text: str, country: Hit) -> bool:
    """Whether the country is named as the home of firms ("US companies", "우크라이나 업체")."""
    end = _past_gloss(text, country.end)
    return text[end : end + 12].lstrip(" の").lower().startswith(_FIRMS)


def _past_gloss(text: str, end: int) -> int:
    """Past a short gloss in brackets right after a name: "大韓民国(韓国)向け", "経済産業省(経産省)
    は" mark the name before the brackets."""
    if text[end : end + 1] in ("(", "（"):
        close = text.find(")", end, end + 24)
        if close < 0:
            close = text.find("）", end, end + 24)
        if close > 0:
            return close + 1
    return end
