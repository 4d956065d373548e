"""Hypothesis strategies for alert records (shared by the alert and federation tests)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from ews.alerts.records import LEVELS, TLPS, Alert, Evidence, alert_id_for

# Text XML 1.0 can carry: no C0 controls except tab/newline/CR, no surrogates, no U+FFFE/FFFF.
XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(0x20) if c not in (9, 10, 13)]
        + ["\ufffe", "\uffff"],
    ),
    max_size=40,
)
NODE = st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True)
COUNTRY = st.from_regex(r"[A-Z]{2}", fullmatch=True)
HS = st.from_regex(r"[0-9]{4}([0-9]{2})?", fullmatch=True)
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)
OFFSETS = st.sampled_from([0, 60, 330, 540, -300, -210, 765, 37]).map(  # 37 s: not whole minutes
    lambda seconds_or_minutes: dt.timezone(
        dt.timedelta(seconds=seconds_or_minutes)
        if seconds_or_minutes == 37
        else dt.timedelta(minutes=seconds_or_minutes)
    )
)
AWARE = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1)),
    OFFSETS,
)
LINK = st.one_of(
    st.none(),
    st.from_regex(r"https://[a-z]{1,8}\.example/[a-z0-9?=&%-]{0,12}", fullmatch=True),
    XML_TEXT,
)

evidence = st.builds(
    Evidence,
    kind=st.sampled_from(["event", "trade_anomaly", "price_anomaly", "dependence", "note"]),
    ref=XML_TEXT,
    summary=XML_TEXT,
    date=st.one_of(st.none(), st.dates()),
    lang=st.one_of(st.none(), st.sampled_from(["en", "ko", "ja", "zh", "vi"])),
    text=st.one_of(st.none(), XML_TEXT),
    link=LINK,
    source=st.one_of(st.none(), XML_TEXT),
    figure=st.one_of(st.none(), FINITE),
    weight=st.one_of(st.none(), FINITE),
)


@st.composite
def alerts(draw: st.DrawFn, tlp: str | None = None) -> Alert:
    """Any valid alert version whose strings XML can carry."""
    hs = draw(HS)
    supplier = draw(st.one_of(st.none(), COUNTRY))
    importer = draw(st.one_of(st.none(), COUNTRY))
    onset = draw(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2089, 1, 1)))
    alert_id = alert_id_for(hs, supplier, importer, onset)
    version = draw(st.integers(min_value=1, max_value=10_000))
    earlier = draw(st.lists(st.integers(1, 10_000), max_size=3, unique=True))
    expires = draw(st.one_of(st.none(), AWARE))
    return Alert(
        alert_id=alert_id,
        version=version,
        msg_type=draw(st.sampled_from(["Alert", "Update", "Cancel"])),
        hs=hs,
        item_name=draw(XML_TEXT),
        supplier=supplier,
        importer=importer,
        level=draw(st.sampled_from(LEVELS)),
        previous_level=draw(st.one_of(st.none(), st.sampled_from(LEVELS))),
        score=draw(st.floats(min_value=0, allow_nan=False, allow_infinity=False)),
        headline=draw(XML_TEXT),
        summary=draw(XML_TEXT),
        evidence=tuple(draw(st.lists(evidence, max_size=3))),
        references=tuple(f"{alert_id}#{v}" for v in earlier),
        tlp=tlp or draw(st.sampled_from(TLPS)),
        recipients=tuple(draw(st.lists(NODE, max_size=3))),
        origin_node=draw(NODE),
        onset=onset,
        sent=draw(AWARE),
        expires=expires,
    )
