"""The API's wire models: separate from the storage records so either can change alone.

Every field carries an example; the OpenAPI document shows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Problem(_Out):
    """Why a request was refused."""

    detail: str = Field(examples=["missing API key"])


class ItemOut(_Out):
    """A critical item."""

    hs: str = Field(description="HS 2022 code (4 or 6 digits).", examples=["280530"])
    group: str = Field(description="Material family.", examples=["rare_earths"])
    sector: str = Field(examples=["minerals"])
    names: dict[str, str] = Field(
        description="Display name per language key.",
        examples=[{"en": "Rare-earth metals", "ko": "희토류 금속"}],
    )
    aliases: dict[str, list[str]] = Field(
        description="Other names per language key.", examples=[{"en": ["REE metals"]}]
    )
    note: str = Field(description="Why the item is critical.", examples=["Magnets for motors."])
    hs_description: str = Field(
        description="The HS 2022 heading text.", examples=["Rare-earth metals, scandium..."]
    )


class ItemPage(_Out):
    """A page of items."""

    total: int = Field(description="Matches before paging.", examples=[42])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])
    items: list[ItemOut]


class CountryOut(_Out):
    """A country or territory."""

    iso2: str = Field(examples=["KR"])
    iso3: str = Field(examples=["KOR"])
    numeric: str = Field(examples=["410"])
    region: str = Field(examples=["Asia"])
    names: dict[str, str] = Field(examples=[{"en": "Korea, Republic of", "ko": "대한민국"}])


class AlertOut(_Out):
    """The newest version of an alert, as on the alert board."""

    id: str = Field(examples=["ews-280530-CN-ALL-20260105-95b76c90@KR"])
    item: str = Field(description="HS code.", examples=["280530"])
    item_name: str = Field(examples=["Rare-earth metals"])
    country: str | None = Field(description="Supplier (ISO alpha-2).", examples=["CN"])
    importer: str | None = Field(
        description="Watching country for a watchlist alert; null for global.", examples=["KR"]
    )
    level: str = Field(examples=["alert"])
    peak_level: str = Field(description="Highest level over all versions.", examples=["serious"])
    updated: dt.datetime = Field(examples=["2026-01-05T00:00:00Z"])
    version: int = Field(examples=[2])
    msg_type: str = Field(description="Alert, Update or Cancel.", examples=["Update"])
    headline: str = Field(examples=["Rare-earth metals from CN: alert"])
    tlp: str = Field(examples=["AMBER"])


class AlertPage(_Out):
    """A page of alerts, newest first."""

    total: int = Field(examples=[7])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])
    items: list[AlertOut]


class RenderingOut(_Out):
    """The event in English, field by field, built from the extraction and the lexicon (no
    translation): to be read beside the evidence sentence in its original language."""

    actor: str = Field(
        description="English name of the acting country, or 'unknown'.", examples=["China"]
    )
    measure: str = Field(
        description="The event type in words, with the measure's detail where the terms say it.",
        examples=["export restriction (licence requirement)"],
    )
    goods: str = Field(
        description="English catalogue names of the items, or 'unspecified'.",
        examples=["rare earths"],
    )
    target: str | None = Field(
        description="Another country the sentence names (the target where marked), if any.",
        examples=["United States"],
    )
    effective: str = Field(description="The event's date (ISO).", examples=["2025-12-01"])
    date_stated: bool = Field(
        description="True when the sentence states the date; else it is the publication date.",
        examples=[True],
    )
    summary: str = Field(
        description="The rendering as one English line.",
        examples=[
            "China — export restriction (licence requirement) on rare earths, "
            "targeting United States, effective 2025-12-01"
        ],
    )


class EvidenceOut(_Out):
    """One reason behind an alert."""

    kind: str = Field(examples=["event"])
    ref: str = Field(examples=["ev-1a2b"])
    summary: str = Field(examples=["Export licence requirement announced"])
    date: dt.date | None = Field(examples=["2026-01-03"])
    lang: str | None = Field(examples=["vi"])
    text: str | None = Field(description="The evidence sentence.", examples=["Trung Quốc ..."])
    link: str | None = Field(examples=["https://example.org/news/1"])
    source: str | None = Field(examples=["vnexpress"])
    figure: float | None = Field(examples=[3.2])
    weight: float | None = Field(description="Contribution to the score.", examples=[0.41])
    rendering: RenderingOut | None = Field(
        default=None,
        description="A text event's evidence in English (None for figures).",
        examples=[None],
    )
    documents: int = Field(
        default=1,
        description="Documents on this node that carried the same sentence (1 when unknown).",
        examples=[3],
    )
    same_as: int | None = Field(
        default=None,
        description="Index in this list of an earlier record with the same sentence: a "
        "display shows the sentence once.",
        examples=[None],
    )


class AlertVersionOut(_Out):
    """One version of an alert."""

    version: int = Field(examples=[1])
    msg_type: str = Field(examples=["Alert"])
    level: str = Field(examples=["caution"])
    previous_level: str | None = Field(examples=["attention"])
    score: float = Field(examples=[0.62])
    sent: dt.datetime = Field(examples=["2026-01-05T00:00:00Z"])
    headline: str = Field(examples=["Rare-earth metals from CN: caution"])
    summary: str = Field(examples=["Export controls announced; exports fell 40%."])
    tlp: str = Field(examples=["AMBER"])
    references: list[str] = Field(examples=[["ews-280530-CN-ALL-20260105-95b76c90@KR#1"]])


class AlertDetail(_Out):
    """An alert with all its versions and the evidence behind it (the explain)."""

    alert: AlertOut
    onset: dt.date = Field(examples=["2026-01-05"])
    origin_node: str = Field(examples=["KR"])
    versions: list[AlertVersionOut] = Field(description="Oldest first.")
    evidence: list[EvidenceOut] = Field(
        description="Evidence of the newest version that has any, strongest first."
    )


class EventOut(_Out):
    """An event extracted from a text."""

    event_id: str = Field(examples=["ev-1a2b3c"])
    date: dt.date = Field(examples=["2026-01-03"])
    event_type: str = Field(examples=["export_restriction"])
    country: str | None = Field(examples=["CN"])
    items: list[str] = Field(description="HS codes the event concerns.", examples=[["280530"]])
    lang: str = Field(examples=["vi"])
    evidence: str = Field(description="The evidence sentence.", examples=["Trung Quốc ..."])
    confidence: float = Field(examples=[0.8])
    link: str | None = Field(examples=["https://example.org/news/1"])
    source_id: str = Field(examples=["events-file"])
    matched: list[Any] = Field(
        description="Lexicon terms that fired.", examples=[["đất hiếm", "hạn chế xuất khẩu"]]
    )
    rendering: RenderingOut | None = Field(
        default=None,
        description="The event in English, to show beside the evidence.",
        examples=[
            {
                "actor": "China",
                "measure": "export restriction (licence requirement)",
                "goods": "rare earths",
                "target": "United States",
                "effective": "2025-12-01",
                "date_stated": True,
                "summary": "China — export restriction (licence requirement) on rare earths, "
                "targeting United States, effective 2025-12-01",
            }
        ],
    )


class EventPage(_Out):
    """A page of events, newest first."""

    total: int = Field(examples=[120])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])
    items: list[EventOut]


class AssessmentOut(_Out):
    """The latest assessment of one unit (item family x supplier x importer)."""

    assessment_id: str = Field(examples=["rare_earths|CN||2026-01-05"])
    group: str | None = Field(examples=["rare_earths"])
    hs: str = Field(examples=["280530"])
    supplier: str | None = Field(examples=["CN"])
    importer: str | None = Field(examples=[None])
    as_of: dt.date = Field(examples=["2026-01-05"])
    score: float = Field(examples=[0.62])
    level: str = Field(examples=["caution"])
    explanation: list[dict[str, Any]] = Field(
        description="Each contribution with its evidence, strongest first.",
        examples=[[{"kind": "event", "contribution": 0.3, "summary": "export ban"}]],
    )
    config_version: str = Field(examples=["risk-1"])


class AssessmentPage(_Out):
    """A page of assessments, highest score first."""

    total: int = Field(examples=[30])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])
    items: list[AssessmentOut]


class StatusOut(_Out):
    """How current the server's answers are."""

    backend: str = Field(description="'duckdb' or 'postgresql'.", examples=["duckdb"])
    data_as_of: dt.datetime | None = Field(
        description="When the server last copied the DuckDB file it answers from (UTC); "
        "null for PostgreSQL, which is read live.",
        examples=["2026-12-02T03:10:00Z"],
    )
    behind: bool = Field(
        description="The file changed since that copy and the next is not in yet: another "
        "process is writing, or a copy is being made.",
        examples=[False],
    )
    copies: int = Field(description="Copies made since the server started.", examples=[3])
    last_copy_seconds: float = Field(description="How long the last copy took.", examples=[0.2])
    last_copy_tables: list[str] = Field(
        description="The tables the last copy brought over (those whose content changed).",
        examples=[["documents", "events"]],
    )


# -- what lies behind the alerts: indicators, backtest results, the partner feed ----------
class DependenceOut(_Out):
    """One importer's dependence on its suppliers for a product in a year."""

    importer: str = Field(examples=["KR"])
    product_key: str = Field(description="HS code, or group:<family>.", examples=["310210"])
    year: int = Field(examples=[2021])
    import_value: float = Field(description="USD.", examples=[1.2e8])
    n_suppliers: int = Field(examples=[12])
    top_supplier: str = Field(examples=["CN"])
    top_share: float = Field(ge=0, le=1, examples=[0.97])
    hhi: float = Field(ge=0, le=1, examples=[0.94])
    dependent: bool = Field(description="All dependence criteria met for enough years.")
    korea_rule: bool = Field(description="Top supplier's share at or over Korea's 50 % line.")
    basis: str = Field(examples=["reported"])


class DependencePage(_Out):
    run_id: str | None = Field(description="Indicator run the rows come from.")
    total: int
    limit: int
    offset: int
    items: list[DependenceOut]


class AnomalyOut(_Out):
    """A flagged departure of a trade or price series from its own history."""

    series_key: str = Field(examples=["trade:CN>KR:export:250410"])
    period: dt.date
    method: str
    kind: str = Field(examples=["trade_drop"])
    value: float
    baseline: float | None
    score: float = Field(description="Robust z or the method's score.")
    threshold: float
    run_id: str


class AnomalyPage(_Out):
    total: int
    limit: int
    offset: int
    items: list[AnomalyOut]


class BacktestOut(_Out):
    """The last ``ews backtest`` run: each known disruption and how early EWS warned."""

    run_at: str
    since: str | None
    until: str | None
    false_alarms: int
    episodes: list[dict[str, Any]] = Field(
        description="Per episode: reference date, first day at each level, lead days, peak."
    )


class FeedEntry(_Out):
    alert_id: str
    version: int
    sent: dt.datetime
    tlp: str
    cap: str = Field(description="The version as CAP 1.2 XML.")


class FeedOut(_Out):
    total: int
    limit: int
    offset: int
    items: list[FeedEntry]


class SourceStatusOut(_Out):
    """One live source's health (``ews sources status``): the same fields and the same
    definition of stale."""

    id: str
    kind: str
    url: str
    lang: str | None
    country: str | None
    official: bool
    enabled: bool
    every: str = Field(description="Poll interval, e.g. 15m.")
    lag_declared: str | None = Field(description="The publisher's usual lag, as shipped.")
    last_attempt: dt.datetime | None
    last_success: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    failures: int = Field(description="Failed polls in a row.")
    items_total: int
    items_last: int
    newest_published: dt.datetime | None
    lag_seconds: float | None = Field(
        description="Publication to fetch of the newest new item of the last poll."
    )
    next_poll: dt.datetime | None
    stale: bool = Field(description="No success within EWS_SOURCE_STALE_AFTER intervals + 1 h.")
    state: str = Field(description="ok, stale, failing, never or disabled.")
    note: str


class SourcesOut(_Out):
    """Every live source this node polls, stale and failing first."""

    stale: int
    items: list[SourceStatusOut]


# -- the now view and the alert card (ews.report.now) -----------------------------------------
class FigureOut(_Out):
    """A figure with where it comes from."""

    value: float = Field(examples=[0.798])
    text: str = Field(examples=["South Korea took 80% of its rare earths from China (...)"])
    source: str = Field(examples=["Korea Customs Service, reported by ..."])
    url: str | None = Field(default=None, examples=["https://example.org/report"])
    known: dt.date | None = Field(
        default=None,
        description="The day the figure became public, or the newest month it covers.",
        examples=["2025-12-10"],
    )


class AlternativeOut(_Out):
    """Another supplier of the family, with the figure that makes it one."""

    country: str = Field(examples=["CL"])
    name: str = Field(examples=["Chile"])
    share: float | None = Field(examples=[0.175])
    what: str = Field(examples=["of South Korea's lithium imports"])
    source: str = Field(examples=["KITA, reported by SME Daily 13 Feb 2024"])
    url: str | None = Field(default=None, examples=["https://example.org/kita"])


class ExposureOut(_Out):
    """What the watching country has at stake: its dependence on the supplier, the value it
    receives, alternative suppliers, and what is unknown, said plainly."""

    watcher: str | None = Field(examples=["KR"])
    dependence: FigureOut | None
    received: FigureOut | None
    alternatives: list[AlternativeOut]
    unknown: list[str] = Field(
        examples=[["Other suppliers of rare earths: unknown (this node holds no figure on them)."]]
    )


class FreshnessOut(_Out):
    """One source's freshness: the newest data held and whether the node is behind."""

    source: str = Field(examples=["pinksheet"])
    name: str = Field(examples=["World Bank Commodity Price Data (The Pink Sheet), monthly"])
    kind: str = Field(examples=["prices"])
    newest: dt.date | None = Field(description="Newest data date held.", examples=["2026-05-31"])
    received: dt.datetime | None = Field(
        description="When the newest rows were stored.", examples=["2026-06-03T08:00:00Z"]
    )
    rows: int = Field(examples=[50167])
    lag_days: float | None = Field(
        description="How long after its period the source publishes (declared or measured).",
        examples=[5],
    )
    lag_basis: str = Field(examples=["the World Bank releases the Pink Sheet on ..."])
    age_days: int | None = Field(examples=[189])
    stale: bool = Field(
        description="Data that should be public by now are missing.", examples=[True]
    )
    note: str = Field(examples=["newest data 31 May 2026, 189 days old: ..."])


class NowAlertOut(_Out):
    """An open alert that touches the watching country."""

    id: str = Field(examples=["ews-280530-CN-KR-20250404-d5d80900@local"])
    headline: str = Field(examples=["Rare earths from China: now caution — South Korea watchlist"])
    item: str = Field(examples=["280530"])
    item_name: str = Field(examples=["Rare earths"])
    supplier: str | None = Field(examples=["CN"])
    importer: str | None = Field(examples=["KR"])
    level: str = Field(examples=["caution"])
    peak_level: str = Field(examples=["alert"])
    score: float = Field(examples=[1.3])
    onset: dt.date = Field(examples=["2025-10-09"])
    updated: dt.datetime = Field(examples=["2025-10-10T00:00:00Z"])
    this_week: str = Field(
        description="What changed in the seven days to the view's day.",
        examples=["raised from attention to caution on 09 Oct"],
    )
    scope: str = Field(
        description="own watchlist, world supply, or supplier of the watching country.",
        examples=["own watchlist"],
    )
    exposure: ExposureOut


class ClosedOut(_Out):
    id: str
    headline: str
    peak_level: str


class NowOut(_Out):
    """What is at risk for one watching country on a day."""

    country: str = Field(examples=["KR"])
    as_of: dt.date
    alerts: list[NowAlertOut] = Field(description="Open alerts, by level then score.")
    other_open_alerts: int = Field(
        description="Open alerts on suppliers the country is not known to buy from."
    )
    closed_this_week: list[ClosedOut]
    freshness: list[FreshnessOut]
    newest_data: dt.date | None
    empty: str | None = Field(
        description="When no alert is listed: what is true (no alerts at all, or stale data)."
    )


class StepOut(_Out):
    date: dt.date
    level: str
    text: str = Field(examples=["raised to caution (from attention); held 3 weeks"])


class CardEvidenceOut(_Out):
    kind: str
    date: dt.date | None
    words: str = Field(description="The evidence in plain words, in the language asked for.")
    text: str | None = Field(description="The original sentence, in its language.")
    lang: str | None
    link: str | None
    english: dict[str, Any] | None = Field(
        description="Structured English rendering: actor, measure, goods, target, effective."
    )
    documents: int


class AlertCardOut(_Out):
    """An alert as a card: reason in words, exposure, alternatives, actions, history."""

    id: str
    headline: str
    item: str
    item_name: str
    supplier: str | None
    importer: str | None
    watcher: str | None
    level: str
    peak_level: str
    status: str = Field(examples=["open"])
    onset: dt.date
    updated: dt.datetime
    this_week: str
    reason: list[str]
    exposure: ExposureOut
    actions: list[str]
    history: list[StepOut]
    evidence: list[CardEvidenceOut]
    score_formula: str = Field(description="How the score was computed, for specialists.")
