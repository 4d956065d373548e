"""Hypothesis strategies for alert records (shared by the alert and federation tests)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from ews.alerts.records import (
    LEVELS,
    NODE_SEPARATOR,
    TLPS,
    Alert,
    Evidence,
    alert_id_for,
    legacy_alert_id_for,
)

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
    origin = draw(NODE)
    # Mostly today's ids (namespaced by the origin node), sometimes a legacy one (stores and
    # partners from before namespacing).
    alert_id = draw(
        st.sampled_from(
            [
                alert_id_for(hs, supplier, importer, onset, node=origin),
                legacy_alert_id_for(hs, supplier, importer, onset),
            ]
        )
    )
    version = draw(st.integers(min_value=1, max_value=10_000))
    earlier = draw(st.lists(st.integers(1, version), max_size=3, unique=True))
    earlier = [v for v in earlier if v < version]
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
        origin_node=origin,
        onset=onset,
        sent=draw(AWARE),
        expires=expires,
    )


def owned_by(alert: Alert, node: str) -> Alert:
    """The same alert raised by ``node``: its origin and, for a namespaced id, the id's node
    part (and the references, which stay inside the id) changed together, validated."""
    episode, sep, _ = alert.alert_id.rpartition(NODE_SEPARATOR)
    alert_id = episode + sep + node if sep else alert.alert_id
    data = alert.model_dump()
    data.update(
        alert_id=alert_id,
        origin_node=node,
        references=tuple(alert_id + "#" + r.rpartition("#")[2] for r in alert.references),
    )
    return Alert.model_validate(data)
