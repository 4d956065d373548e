"""CAP 1.2: lossless round trip, schema validity, the level mapping, interop and bad input."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ews.alerts import cap
from ews.alerts.records import Alert, Evidence, alert_id_for
from ews.errors import InputError
from ews.settings import Settings, find_shared_data
from tests.alerts.strategies import alerts

CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
NS = {"c": cap.CAP_NS}


def sample(**changes: object) -> Alert:
    onset = dt.date(2026, 1, 5)
    alert_id = alert_id_for("280530", "CN", "KR", onset, node="KR")
    base = Alert(
        alert_id=alert_id,
        version=2,
        msg_type="Update",
        hs="280530",
        item_name="Rare-earth metals",
        supplier="CN",
        importer="KR",
        level="alert",
        previous_level="caution",
        score=0.731,
        headline="China tightens rare-earth export licences",
        summary="Licences now needed for 7 elements.",
        evidence=(
            Evidence(
                kind="event",
                ref="ev-1a2b",
                summary="MOFCOM notice",
                date=dt.date(2026, 1, 4),
                lang="zh",
                text="商务部公告",
                link="https://www.mofcom.example/notice?id=1&x=2",
                figure=7.0,
                weight=0.42,
            ),
        ),
        references=(f"{alert_id}#1",),
        tlp="AMBER",
        recipients=("US",),
        origin_node="KR",
        onset=onset,
        sent=dt.datetime(2026, 1, 6, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))),
    )
    return base.model_copy(update=changes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alerts())
def test_round_trip_restores_an_equal_alert(alert: Alert) -> None:
    xml = cap.encode(alert)
    assert cap.decode(xml) == alert


def test_output_validates_against_the_shared_schema_copy_too() -> None:
    shared = find_shared_data(Settings())
    if shared is None or not (shared / "standards" / "CAP-v1.2.xsd").is_file():
        pytest.skip("shared CAP-v1.2.xsd is not on this machine")
    schema = etree.XMLSchema(etree.parse(str(shared / "standards" / "CAP-v1.2.xsd")))
    root = etree.fromstring(cap.encode(sample()))
    assert schema.validate(root), schema.error_log


def test_mapping_of_the_fields() -> None:
    alert = sample()
    root = etree.fromstring(cap.encode(alert, {f"{alert.alert_id}#1": alert.sent}))
    get = lambda path: root.findtext(path, namespaces=NS)  # noqa: E731
    assert get("c:identifier") == alert.key
    assert get("c:sender") == "KR"
    assert get("c:msgType") == "Update"
    assert get("c:scope") == "Restricted"
    assert get("c:restriction") == "TLP:AMBER"
    assert get("c:references") == f"KR,{alert.alert_id}#1,2026-01-06T09:30:00+09:00"
    assert [c.text for c in root.findall("c:info/c:category", NS)] == ["Infra", "Other"]
    assert (get("c:info/c:urgency"), get("c:info/c:severity"), get("c:info/c:certainty")) == (
        "Expected",
        "Severe",
        "Likely",
    )
    codes = {
        e.findtext("c:valueName", namespaces=NS): e.findtext("c:value", namespaces=NS)
        for e in root.findall("c:info/c:eventCode", NS)
    }
    assert codes == {"EWS:hs": "280530", "EWS:supplier": "CN", "EWS:importer": "KR"}
    params = [
        (e.findtext("c:valueName", namespaces=NS), e.findtext("c:value", namespaces=NS))
        for e in root.findall("c:info/c:parameter", NS)
    ]
    assert ("TLP", "AMBER") in params
    assert ("EWS:level", "alert") in params
    assert get("c:info/c:resource/c:uri") == "https://www.mofcom.example/notice?id=1&x=2"
    for path in ("c:sent", "c:info/c:onset"):
        assert CAP_TIME.match(get(path) or ""), path


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (dt.datetime(2026, 3, 1, 12, 0, 5, 999_999, tzinfo=dt.UTC), "2026-03-01T12:00:05+00:00"),
        (
            dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            "2026-03-01T12:00:00-05:00",
        ),
        (
            dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(seconds=30))),
            "2026-03-01T11:59:30+00:00",
        ),
    ],
)
def test_cap_time_has_no_z_and_no_fraction(sent: dt.datetime, expected: str) -> None:
    assert cap.cap_time(sent) == expected


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("normal", "Minor"),
        ("attention", "Minor"),
        ("caution", "Moderate"),
        ("alert", "Severe"),
        ("serious", "Extreme"),
    ],
)
def test_level_maps_to_severity(level: str, severity: str) -> None:
    root = etree.fromstring(cap.encode(sample(level=level)))
    assert root.findtext("c:info/c:severity", namespaces=NS) == severity


def test_alert_strings_xml_cannot_carry_are_refused_on_encode() -> None:
    with pytest.raises(InputError, match=r"XML 1\.0"):
        cap.encode(sample(summary="bell \x07"))


# -- interop with an independent implementation (cap-tools, xsdata bindings) ---------------------
def test_cap_tools_reads_ours_and_we_read_what_it_writes() -> None:
    from cap_tools.models import Alert as CapAlert
    from cap_tools.models import MsgType, Scope
    from xsdata.formats.dataclass.parsers import XmlParser
    from xsdata.formats.dataclass.serializers import XmlSerializer
    from xsdata.formats.dataclass.serializers.config import SerializerConfig

    alert = sample()
    theirs = XmlParser().from_bytes(cap.encode(alert), CapAlert)
    assert theirs.identifier == alert.key
    assert theirs.msg_type is MsgType.UPDATE
    assert theirs.scope is Scope.RESTRICTED
    params = theirs.infos[0].parameters_to_dict()
    assert params["EWS:level"] == "alert"
    assert params["TLP"] == "AMBER"
    assert [r.identifier for r in theirs.references_to_list()] == [f"{alert.alert_id}#1"]
    # ...and back: their serialisation (their prefixes, their layout) decodes to our alert.
    xml = XmlSerializer(config=SerializerConfig(indent="  ")).render(theirs).encode("utf-8")
    assert cap.decode(xml) == alert


def test_cap_tools_utc_times_use_z_which_cap_forbids() -> None:
    # xsdata writes UTC as 'Z'; the CAP 1.2 schema's pattern refuses it, and so do we.
    from cap_tools.models import Alert as CapAlert
    from xsdata.formats.dataclass.parsers import XmlParser
    from xsdata.formats.dataclass.serializers import XmlSerializer

    theirs = XmlParser().from_bytes(
        cap.encode(sample(sent=dt.datetime(2026, 1, 6, tzinfo=dt.UTC))), CapAlert
    )
    xml = XmlSerializer().render(theirs).encode("utf-8")
    assert b"T00:00:00Z</ns0:sent>" in xml
    with pytest.raises(InputError, match="pattern"):
        cap.decode(xml)


# -- bad input ---------------------------------------------------------------------------------
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>"""


def _good() -> bytes:
    return cap.encode(sample())


BAD_INPUTS: list[tuple[str, bytes, str]] = [
    ("empty", b"", "malformed XML"),
    ("truncated", b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>", "malformed"),
    ("not xml", b"\x00\xff\xfe garbage", "malformed XML"),
    ("billion laughs", BOMB, "DTD|entity"),
    ("external entity", XXE, "DTD"),
    ("external dtd", EXTERNAL_DTD, "DTD"),
    ("huge", b"<a>" + b"x" * (cap.MAX_CAP_BYTES + 1) + b"</a>", "more than"),
    (
        "wrong namespace",
        _good().replace(cap.CAP_NS.encode(), b"urn:example:alerts"),
        "wrong namespace",
    ),
    ("cap 1.1", _good().replace(cap.CAP_NS.encode(), cap.CAP11_NS.encode()), "CAP 1.1"),
    ("other root", b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "root element"),
    ("schema violation", _good().replace(b"<sender>KR</sender>", b""), "schema"),
    ("bad enum", _good().replace(b"<scope>Restricted</scope>", b"<scope>Secret</scope>"), "schema"),
    ("Z time", _good().replace(b"2026-01-06T09:30:00+09:00", b"2026-01-06T00:30:00Z"), "schema"),
    (
        "tlp mismatch",
        _good().replace(b"<restriction>TLP:AMBER", b"<restriction>TLP:CLEAR"),
        "does not match",
    ),
    (
        "not an EWS alert",
        re.sub(
            rb"<parameter>\s*<valueName>EWS:level</valueName>.*?</parameter>",
            b"",
            _good(),
            flags=re.S,
        ),
        "EWS:level",
    ),
    (
        "identifier mismatch",
        _good().replace(b"#2</identifier>", b"#3</identifier>"),
        "identifier",
    ),
    ("ack", _good().replace(b"<msgType>Update</msgType>", b"<msgType>Ack</msgType>"), "msgType"),
    (
        "bad hs",
        _good().replace(b"<value>280530</value>", b"<value>28x530</value>"),
        "invalid alert",
    ),
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_refused_with_a_reason(name: str, data: bytes, reason: str) -> None:
    start = time.monotonic()
    with pytest.raises(InputError, match=reason):
        cap.decode(data)
    assert time.monotonic() - start < 2.0, f"{name} took too long (expansion?)"


def test_xxe_does_not_read_the_file() -> None:
    with pytest.raises(InputError) as info:
        cap.decode(XXE)
    assert "root:" not in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    # Anything but a clean refusal (an InputError with a reason) fails the test.
    try:
        result = cap.decode(data)
    except InputError as exc:
        assert exc.message
        return
    assert isinstance(result, Alert)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_messages_are_decoded_or_refused_cleanly(data: st.DataObject) -> None:
    good = bytearray(_good())
    for _ in range(data.draw(st.integers(1, 5))):
        i = data.draw(st.integers(0, len(good) - 1))
        good[i] = data.draw(st.integers(0, 255))
    try:
        result = cap.decode(bytes(good))
    except InputError:
        return
    assert isinstance(result, Alert)
