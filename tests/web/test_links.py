"""Issue 15, finding 4: a ``javascript:`` link from a news file, a CAP file or a partner never
becomes a live ``href``: not in the stored records, the API's JSON or the dashboard's pages.

One node's store gets all three: a news file whose items name an export ban behind hostile
links (assessed into an alert of its own), a CAP file (imported) and a partner's signed
message, both carrying hostile evidence links. A good https link on the way shows that links
still work.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from ews.access.keys import create_key
from ews.alerts import cap
from ews.alerts.records import Alert, Evidence, alert_id_for
from ews.alerts.repository import load_alerts
from ews.alerts.signing import generate_key, public_key_text, save_private_key, seal
from ews.api.app import create_app
from ews.context import Context
from ews.federation.config import FederationConfig
from ews.federation.inbox import accept, import_file
from ews.federation.node import Node
from ews.federation.partners import add_partner
from ews.risk.run import assess
from ews.settings import Settings
from ews.text.extract import Extractor
from ews.text.ingest import ingest_news_file, recluster
from tests.alerts.test_cap import sample
from tests.text.test_links import GOOD, HOSTILE, hostile_news

NOW = dt.datetime(2025, 10, 20, 12, tzinfo=dt.UTC)
# Every link target on a page: an anchor's href, whatever the quoting.
ANCHOR_HREF = re.compile(
    r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE
)
# What a browser follows without running anything: this site's paths or an http(s) address.
SAFE_TARGET = re.compile(r"^(?:[/?#]|https?://)", re.IGNORECASE)
MARKERS = ("javascript:", "data:text/html", "<script>alert")


@dataclass
class Site:
    client: TestClient
    token: str
    own: str  # the node's own alert, from the news
    partner: str  # the partner's alert, from its signed message
    imported: str  # the alert of the CAP file


def _evidence(n: int) -> tuple[Evidence, ...]:
    """Evidence with every hostile link (not validated, as an attacker writes it) and a good one."""
    good = Evidence(kind="event", ref="good", summary="the good one", link=GOOD)
    bad = tuple(
        good.model_copy(update={"ref": f"e{n}-{i}", "link": link}) for i, link in enumerate(HOSTILE)
    )
    return (*bad, good)


def _foreign(origin: str, day: int) -> Alert:
    onset = dt.date(2025, 10, day)
    alert_id = alert_id_for("280530", "CN", None, onset, node=origin)
    return sample(
        alert_id=alert_id,
        version=1,
        msg_type="Alert",
        references=(),
        previous_level=None,
        importer=None,
        origin_node=origin,
        onset=onset,
        tlp="GREEN",
        recipients=(),
        sent=dt.datetime(2025, 10, day, 9, tzinfo=dt.UTC),
        evidence=_evidence(day),
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("links")
    path = str(tmp / "ews.duckdb")
    settings = Settings(store=path, env="test", node_id="KR", api_fresh_wait=30)
    with Context.open(settings, store=path) as ctx:
        ingest_news_file(ctx.store, Extractor(ctx.catalog), hostile_news(tmp / "news.jsonl"))
        recluster(ctx.store, ctx.catalog)
        assess(ctx, as_of=NOW.date())
        # The global alert; Korea's and Japan's watchlist views (own figures) come beside it.
        (own,) = {a.alert_id for a in load_alerts(ctx.store, origin="KR") if a.importer is None}
        _, token = create_key(ctx.store, "reader", ["read"], 10_000)
    key_path = tmp / "kr.pem"
    save_private_key(generate_key(), key_path)
    node = Node(FederationConfig(node_id="KR", store=path, key_path=key_path))
    us_key = generate_key()
    with node.store() as store:
        add_partner(store, "US", "http://127.0.0.1:9", public_key_text(us_key), self_id="KR")
        partner = _foreign("US", 11)
        message = seal(partner, us_key, sender="US", recipient="KR", now=NOW)
        assert (
            accept(store, node, message, via="test", now=NOW, nonces="consume").outcome == "stored"
        )
    imported = _foreign("JP", 12)
    cap_file = tmp / "jp.xml"
    cap_file.write_bytes(cap.encode(imported))
    assert b"javascript:alert(1)" in cap_file.read_bytes()
    assert import_file(node, cap_file, now=NOW).outcome == "stored"
    with node.store() as store:
        stored = load_alerts(store)
        raw = store.query("SELECT payload FROM alerts")
        docs = store.query("SELECT link FROM documents")
    # The stored records: no hostile link anywhere, the good one kept.
    for row in raw:
        _clean(row["payload"])
    assert {d["link"] for d in docs} == {None, GOOD}
    by_id = {a.alert_id: a for a in stored}
    for alert_id in (partner.alert_id, imported.alert_id):
        assert [e.link for e in by_id[alert_id].evidence] == [None] * len(HOSTILE) + [GOOD]
    client = TestClient(create_app(settings))
    client.cookies.set("ews_key", token)
    yield Site(client, token, own, partner.alert_id, imported.alert_id)


def _clean(text: str) -> None:
    low = text.lower()
    for marker in MARKERS:
        assert marker not in low, marker


def _no_live_href(page: str) -> None:
    targets = [
        html.unescape(next(g for g in m.groups() if g is not None))
        for m in ANCHOR_HREF.finditer(page)
    ]
    assert targets  # the page has links at all
    # A browser strips leading spaces and control characters before it reads the scheme.
    live = [t for t in targets if not SAFE_TARGET.match(t.lstrip("".join(map(chr, range(33)))))]
    assert live == []
    _clean(page)


def test_api_json_carries_no_hostile_link(site: Site) -> None:
    auth = {"Authorization": f"Bearer {site.token}"}
    for alert_id in (site.own, site.partner, site.imported):
        r = site.client.get(f"/api/v1/alerts/{alert_id}", headers=auth)
        assert r.status_code == 200, r.text
        _clean(r.text)
    assert GOOD in site.client.get(f"/api/v1/alerts/{site.partner}", headers=auth).text
    for query in ("", "?item=811292", "?country=CN"):
        r = site.client.get(f"/api/v1/events{query}", headers=auth)
        assert r.status_code == 200, r.text
        _clean(r.text)
        assert GOOD in r.text
    _clean(site.client.get("/api/v1/alerts", headers=auth).text)


@pytest.mark.parametrize("page", ["own", "partner", "imported"])
def test_alert_pages_have_no_live_hostile_href(site: Site, page: str) -> None:
    r = site.client.get(f"/alerts/{getattr(site, page)}")
    assert r.status_code == 200, r.text
    _no_live_href(r.text)
    if page != "own":  # the good link is still a link
        assert f'href="{GOOD}"' in r.text


@pytest.mark.parametrize("path", ["/items/811292", "/items/280530", "/countries/CN", "/"])
def test_item_country_and_board_pages_have_no_live_hostile_href(site: Site, path: str) -> None:
    r = site.client.get(path)
    assert r.status_code == 200, r.text
    _no_live_href(r.text)
    if path != "/":
        assert f'href="{GOOD}"' in r.text or path == "/items/280530"
