"""Evidence links: only http(s) addresses survive, whichever way a record comes in or goes out.

A link ends up as an ``href`` on the dashboard and in messages to partners, so ``javascript:``
(in any case, behind spaces or control characters a browser strips), ``data:`` and every other
scheme are dropped on the record itself: news, CAP files, partners' signed messages and rows
stored before the check all go through it, and the record keeps everything else.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from ews.alerts import cap
from ews.alerts.records import Alert, Evidence
from ews.alerts.repository import alert_row, load_alert, load_alerts
from ews.alerts.signing import generate_key, open_message, seal
from ews.records import Document, Provenance, safe_link
from ews.store import Store
from tests.alerts.test_cap import sample

# What an attacker puts where a link belongs (the cases and their variants).
HOSTILE = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "\t\njavascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    "/relative/path",
    "https:alert(1)",
    "http:///nohost",
    "https://exa mple.org/",
    "https://example.org/\x00",
    "",
)
KEPT = (
    ("https://www.mofcom.example/notice?id=1&x=2", "https://www.mofcom.example/notice?id=1&x=2"),
    ("http://a.example.invalid/1", "http://a.example.invalid/1"),
    ("HTTPS://A.EXAMPLE/Path", "HTTPS://A.EXAMPLE/Path"),
    ("  https://a.example/1 \n", "https://a.example/1"),
    (
        "https://vnexpress.example/trung-quốc-cấm-xuất-khẩu",
        "https://vnexpress.example/trung-quốc-cấm-xuất-khẩu",
    ),
)
NOW = dt.datetime(2026, 1, 6, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize("link", HOSTILE)
def test_only_http_links_are_kept(link: str) -> None:
    assert safe_link(link) is None
    assert Evidence(kind="event", ref="e", summary="s", link=link).link is None
    doc = Document(
        doc_id="d",
        source_id="news-jsonl",
        title="t",
        link=link,
        provenance=Provenance(source_id="news-jsonl", file_name="f", file_sha256="0" * 64, row=1),
    )
    assert doc.link is None and doc.title == "t"  # the record stays, without the link


@pytest.mark.parametrize(("link", "kept"), KEPT)
def test_web_links_are_kept(link: str, kept: str) -> None:
    assert safe_link(link) == kept
    assert Evidence(kind="event", ref="e", summary="s", link=link).link == kept


def _hostile_alert(origin: str = "KR") -> Alert:
    """A KR alert whose evidence carries every hostile link (built as an attacker builds it:
    without the record's checks) and one good link."""
    good = sample().evidence[0]
    evidence = tuple(
        good.model_copy(update={"link": link, "ref": f"e{n}"}) for n, link in enumerate(HOSTILE)
    )
    return sample(origin_node=origin).model_copy(update={"evidence": (*evidence, good)})


def _links(alert: Alert) -> list[str | None]:
    return [e.link for e in alert.evidence]


def _expected() -> list[str | None]:
    return [None] * len(HOSTILE) + [sample().evidence[0].link]


def _no_hostile_text(text: str) -> None:
    low = text.lower()
    for marker in ("javascript:", "data:text", "vbscript:", "file:///"):
        assert marker not in low


def test_a_cap_file_with_hostile_links_decodes_without_them() -> None:
    xml = cap.encode(_hostile_alert())
    assert b"javascript:alert(1)" in xml  # the file does carry them (in EWS:evidence)
    decoded = cap.decode(xml)
    assert _links(decoded) == _expected()
    _no_hostile_text(cap.encode(decoded).decode())


def test_a_signed_partner_message_with_hostile_links_verifies_and_drops_them() -> None:
    key = generate_key()
    message = seal(_hostile_alert(), key, sender="KR", recipient="US", now=NOW)
    payload = json.dumps(message)
    assert "javascript:alert(1)" in payload  # signed with the links in it
    opened = open_message(
        message, me="US", key_of=lambda s: key.public_key() if s == "KR" else None, now=NOW
    )
    # The signature is checked over the envelope as received, then the record drops the links.
    assert _links(opened.alert) == _expected()
    # What this node would send on is clean too.
    again = seal(opened.alert, key, sender="KR", recipient="JP", now=NOW)
    _no_hostile_text(json.dumps(again))


def test_rows_stored_before_the_check_are_read_without_hostile_links(store: Store) -> None:
    # A store written by an earlier version holds the links as they came.
    alert = _hostile_alert()
    row: dict[str, Any] = alert_row(alert)
    row["payload"] = alert.model_dump_json()  # not re-validated: as an old store holds it
    assert "javascript:alert(1)" in row["payload"]
    cols = ", ".join(row)
    store.execute(
        f"INSERT INTO alerts ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
    )
    assert _links(load_alert(store, alert.alert_id)) == _expected()
    (loaded,) = load_alerts(store)
    assert _links(loaded) == _expected()
    # Sent to a partner (feed, push, stream, export) from the stored row: no hostile link.
    _no_hostile_text(json.dumps(seal(loaded, generate_key(), sender="KR", recipient="US", now=NOW)))
    _no_hostile_text(cap.encode(loaded).decode())
