"""A structured English rendering of an event, for an analyst who cannot read the evidence.

An event's evidence sentence stays in its original language; beside it readers are shown what
the event *says*, in English, built from what extraction already decided and from the lexicon
(no translation model):

* **actor**: the English name of the event's country ("unknown" when it has none);
* **measure**: the event type in words, refined by the matched concept and trigger terms
  ("export restriction (licence requirement)", "sanction (entity list)");
* **goods**: the English catalogue names of the event's items (a family's name when several
  of its items are named), else "unspecified";
* **target**: another country named in the sentence (found with the extractor's own lexicon
  scan), preferring one marked as a target ("sang Mỹ", "미국에 대한", "対米"), else None;
* **effective**: the event's date, and whether the sentence itself states it.

:func:`evidence_key` is the one way display lists tell that two events carry the same sentence.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ews.catalog import Catalog
from ews.records import EVENT_TYPES, Event
from ews.text.dates import effective_date
from ews.text.extract import NOT_A_COUNTRY, Extractor, Hit
from ews.text.gloss import Glossary
from ews.text.lexicon import CONCEPT, COUNTRY, ITEM, TRIGGER, Lexicon
from ews.text.normalize import clean, vi_mark_ratio

UNKNOWN_ACTOR = "unknown"
UNSPECIFIED_GOODS = "unspecified"
MAX_GOODS = 4
_CJK = frozenset({"zh", "ja", "ko"})

# Finer English for the matched terms of a measure, keyed by lexicon key (lower case, without
# the ``*`` of a prefix term). The lexicon groups these words into concepts ("measure" holds
# tax, licence and quota alike); the concept's name is right but too coarse for a reader.
_DETAIL_TERMS: dict[str, str] = {
    "ban": "ban|bans|banned|banning|prohibit|cấm|lệnh cấm|禁止|禁令|금지",
    "embargo": "embargo|cấm vận|禁运|禁運|禁輸|금수|禁輸措置",
    "licence requirement": "licen|permit|permits|licensing requirement|licence requirement|"
    "license requirement|permit requirement|giấy phép|cấp phép|ngừng cấp phép|许可|許可|许可证|"
    "出口许可证|許可制|허가|허가제",
    "quota": "quota|hạn ngạch|配额|配額|割当|枠|쿼터|할당",
    "tariff": "tariff|thuế quan|关税|關稅|関税|관세",
    "tax": "tax|taxes|thuế|áp thuế|đánh thuế|税|稅|세금",
    "duty": "duty|duties",
    "levy": "levy|levies|phụ thu",
    "royalty": "royalt",
    "approval requirement": "approval|审批|審批|承認|승인",
    "inspection": "inspection|kiểm tra|kiểm định|检验|檢驗|検査|검사",
    "registration requirement": "registration requirement",
    "minimum export price": "minimum export price",
    "controls": "control|controls|controlled|controls on|control on|control regime|"
    "controlled items|kiểm soát|管制|管控|輸出管理|管理強化|통제|규제|規制",
    "tightening": "tighten|tightened|clampdown|crackdown|siết|siết chặt|thắt chặt|收紧|收緊|"
    "严控|嚴控|厳格化|締め付け",
    "dual-use goods": "dual-use|lưỡng dụng|两用|兩用|이중용도",
    "cap": "cap on|caps on|limits on|limit on|giới hạn",
    "suspension": "suspend|pause|tạm dừng|tạm ngừng|tạm ngưng|đình chỉ|暂停|暫停|中止|一時停止|"
    "見合わせ|중단|중지|보류",
    "halt": "halt|halted|halting|halts|stop|stops|stopped|stopping|cease|ngừng|dừng|ngưng|"
    "chấm dứt|停止|停める|停运|停運",
    "supply cut-off": "cut off|cuts off|cắt nguồn|断供|斷供",
    "freeze": "freeze|froze|frozen|冻结|凍結|동결",
    "lifted": "lift|lifts|lifted|lifting|scrap|remov|lifted the ban|end to|dỡ bỏ|gỡ bỏ|bãi bỏ|"
    "hủy bỏ|解除|取消|撤销|撤銷|撤廃|撤回|해제|철회|폐지",
    "relaxed": "eas|eases|eased|easing|relax|loosen|roll back|rolled back|rolls back|nới lỏng|"
    "thả lỏng|放宽|放寬|放松|放鬆|松绑|鬆綁|緩和|완화",
    "exemption": "exempt|waive|miễn|miễn trừ|gia hạn miễn trừ|豁免|免除|면제",
    "postponed": "postpone|defer|delay|hoãn|lùi|延后|延後|暂缓|暫緩|延期|見送|유예|연기",
    "suspended": "tạm dừng áp dụng|đình chỉ áp dụng|ngừng áp dụng|hoãn áp dụng|tạm hoãn áp dụng|"
    "暂停实施|暫停實施|停止实施|停止實施|停止执行|停止執行|適用停止|적용 중단|시행 중단",
    "tariff cut": "cut tariffs|lower tariffs|tariff cut|giảm thuế|hạ thuế|cắt giảm thuế|"
    "降低关税|下调关税|下調關稅|降低關稅|関税引き下げ|관세 인하",
    "resumed": "resum|restart|reopen|back on|nối lại|khôi phục|恢复|恢復|重启|重啟|再開|재개",
    "entity list": "entity list|danh sách thực thể|实体清单|實體清單|エンティティー・リスト|"
    "エンティティリスト|出口管制管控名单|수출통제 명단|거래제한 명단",
    "unreliable entity list": "不可靠实体清单|不可靠實體清單",
    "blacklist": "blacklist|黑名单|黑名單|블랙리스트",
    "asset freeze": "asset freeze|đóng băng tài sản|資産凍結|자산 동결",
    "secondary sanctions": "secondary sanction|trừng phạt thứ cấp",
}
_DETAIL: dict[str, str] = {
    unicodedata.normalize("NFC", term).lower(): english
    for english, terms in _DETAIL_TERMS.items()
    for term in terms.split("|")
}


@dataclass(frozen=True, slots=True)
class Rendering:
    """An event in English, field by field, to be shown beside the original sentence."""

    actor: str
    measure: str
    goods: str
    target: str | None
    effective: str
    date_stated: bool = False
    """True when the sentence itself states the date (an effective date); else the date is
    the publication date."""

    def summary(self) -> str:
        """One English line: "China — export restriction (licence requirement) on rare
        earths, targeting United States, effective 2025-10-09"."""
        line = f"{self.actor if self.actor != UNKNOWN_ACTOR else 'Unknown actor'} — {self.measure}"
        if self.goods != UNSPECIFIED_GOODS:
            line += f" on {self.goods}"
        if self.target:
            line += f", targeting {self.target}"
        line += f", {'effective' if self.date_stated else 'reported'} {self.effective}"
        return line

    def as_json(self) -> dict[str, object]:
        return {
            "actor": self.actor,
            "measure": self.measure,
            "goods": self.goods,
            "target": self.target,
            "effective": self.effective,
            "date_stated": self.date_stated,
            "summary": self.summary(),
        }


def evidence_key(text: str) -> str:
    """The form under which two evidence sentences count as the same: NFC, whitespace
    folded, case folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def render_event(event: Event, catalog: Catalog, glossary: Glossary) -> Rendering:
    """The English rendering of ``event`` (see the module docstring)."""
    return render(
        catalog,
        glossary,
        event_type=event.event_type,
        country=event.country,
        items=event.items,
        date=event.date,
        evidence=event.evidence,
        lang=event.lang,
        matched=event.matched,
    )


def render_row(row: Mapping[str, Any], catalog: Catalog, glossary: Glossary) -> Rendering:
    """The rendering of a stored event as the read side returns it (``text.queries`` rows:
    event_type, country, items, event_date, evidence, lang, matched)."""
    return render(
        catalog,
        glossary,
        event_type=row["event_type"],
        country=row["country"],
        items=row["items"],
        date=row["event_date"],
        evidence=row["evidence"] or "",
        lang=row["lang"],
        matched=row["matched"],
    )


def render(
    catalog: Catalog,
    glossary: Glossary,
    *,
    event_type: str | None,
    country: str | None,
    items: Sequence[str],
    date: dt.date | None,
    evidence: str,
    lang: str | None,
    matched: Sequence[str] = (),
) -> Rendering:
    """The rendering from an event's fields. Where a field is missing (an alert's evidence
    from a partner carries only the sentence), the sentence's own lexicon hits fill in the
    goods and the measure's detail; the actor is never guessed."""
    hits = _scan(glossary, evidence, lang) if evidence and lang else []
    codes = list(items)
    if not codes:
        codes = sorted({hs for h in hits if h.entry.kind == ITEM for hs in h.entry.hs})
    terms = list(matched) or [h.entry.term for h in hits if h.entry.kind in (CONCEPT, TRIGGER)]
    actor = catalog.country_name(country) if country and country in catalog.countries else None
    stated = (
        date is not None
        and bool(evidence)
        and lang is not None
        and effective_date(evidence, lang, date) == date
    )
    return Rendering(
        actor=actor or UNKNOWN_ACTOR,
        measure=_measure(event_type, terms, glossary),
        goods=goods_name(catalog, codes),
        target=_target(catalog, glossary.lexicon, hits, evidence, lang or "", country),
        effective=date.isoformat() if date is not None else "",
        date_stated=stated,
    )


def event_type_words(event_type: str | None) -> str:
    """ "export_restriction" -> "export restriction"; an unknown type reads "event"."""
    if event_type is None or event_type not in EVENT_TYPES:
        return "event"
    return event_type.replace("_", " ")


def _measure(event_type: str | None, terms: Iterable[str], glossary: Glossary) -> str:
    words = event_type_words(event_type)
    details: list[str] = []
    for term in terms:
        key = unicodedata.normalize("NFC", " ".join(term.split())).lower().rstrip("*")
        detail = _DETAIL.get(key)
        if detail is None:
            continue
        if detail not in details and detail not in words:
            details.append(detail)
    if not details:
        return words
    return f"{words} ({', '.join(details[:3])})"


def display_name(name: str) -> str:
    """A catalogue name as it reads inside a sentence: "Rare earths" -> "rare earths"; names
    whose second letter is a capital ("NdFeB", "LNG") keep their case."""
    if len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name


def goods_name(catalog: Catalog, codes: Iterable[str]) -> str:
    """English names of the items: a family's name when two or more of its items are named."""
    by_group: dict[str, list[str]] = {}
    for hs in dict.fromkeys(codes):
        item = catalog.item(hs) or catalog.item_for_code(hs)
        if item is None:
            continue
        names = by_group.setdefault(item.group, [])
        if item.names["en"] not in names:
            names.append(item.names["en"])
    parts: list[str] = []
    for group, names in by_group.items():
        family = catalog.groups.get(group)
        if len(names) > 1 and family is not None:
            parts.append(display_name(family.names["en"]))
        else:
            parts.extend(display_name(n) for n in names)
    if not parts:
        return UNSPECIFIED_GOODS
    parts = list(dict.fromkeys(parts))
    if len(parts) > MAX_GOODS:
        return ", ".join(parts[:MAX_GOODS]) + f" and {len(parts) - MAX_GOODS} more"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# One extractor per lexicon: only its scan is used (the same hits extraction sees).
_SCANNERS: dict[int, tuple[Lexicon, Extractor]] = {}


def _scan(glossary: Glossary, evidence: str, lang: str) -> list[Hit]:
    lexicon = glossary.lexicon
    cached = _SCANNERS.get(id(lexicon))
    if cached is None or cached[0] is not lexicon:
        if len(_SCANNERS) > 4:
            _SCANNERS.clear()
        cached = (lexicon, Extractor(glossary.catalog, lexicon=lexicon))
        _SCANNERS[id(lexicon)] = cached
    text = clean(evidence, lang)
    unaccented = lang == "vi" and vi_mark_ratio(text[:800]) < 0.03
    return cached[1].scan(text, lang, unaccented)


def _target(
    catalog: Catalog,
    lexicon: Lexicon,
    hits: Sequence[Hit],
    evidence: str,
    lang: str,
    actor: str | None,
) -> str | None:
    """Another country named in the sentence: one marked as a target first, else the first."""
    text = clean(evidence, lang) if evidence else ""
    others = [
        h
        for h in hits
        if h.entry.kind == COUNTRY
        and h.entry.label not in (NOT_A_COUNTRY, actor)
        and h.entry.label in catalog.countries
    ]
    if not others:
        return None
    marked = [h for h in others if _marked_target(h, text, lang, lexicon)]
    chosen = (marked or others)[0]
    return catalog.country_name(chosen.entry.label)


def _marked_target(hit: Hit, text: str, lang: str, lexicon: Lexicon) -> bool:
    """A target marker right before ("sang Mỹ", "to the US", "对美") or after ("미국에 대한",
    "米国向け") the country name."""
    head = text[max(0, hit.start - 14) : hit.start].lower().rstrip()
    if lang == "en" and head.endswith(" the"):
        head = head[: -len(" the")]  # "to the United States"
    for m in lexicon.target_before.get(lang, ()):
        if not head.endswith(m):
            continue
        # Latin markers are whole words ("to", not the end of "into" ... "onto").
        if lang in _CJK or len(head) == len(m) or not head[-len(m) - 1].isalnum():
            return True
    tail = text[hit.end : hit.end + 12].lower()
    return tail.startswith(lexicon.target_after.get(lang, ()))
