"""Each kind of live source on loopback, answering with recorded real responses
(tests/fixtures/live/SOURCES.md) or with real text of ../shared/data served at test time, and
with the failures a live source has: 304, 500, malformed bodies, changed layouts."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from ews.catalog import Catalog
from ews.errors import EwsError
from ews.sources.live.http import Fetcher, FetchPolicy
from ews.sources.live.kinds import KIND_FUNCTIONS
from ews.sources.live.poll import Poll, PollResult, run_poll
from ews.sources.live.raw import RawStore
from ews.sources.live.registry import LiveSource, SourceState
from tests.live.loopback import Answer, Loopback, loopback

FIXTURES = Path(__file__).parent.parent / "fixtures" / "live"
SAMPLE = Path(__file__).parent.parent.parent / "ews" / "sample"
NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def poll(
    kind: str,
    url: str,
    catalog: Catalog,
    raw: RawStore,
    *,
    state: SourceState | None = None,
    params: dict[str, object] | None = None,
    seen: frozenset[str] = frozenset(),
    secrets: dict[str, str] | None = None,
    lang: str | None = None,
) -> PollResult:
    source = LiveSource(id="src", kind=kind, url=url, params=params or {}, lang=lang)
    fetcher = Fetcher(FetchPolicy(host_interval=0, backoff=0, retries=1, timeout=5, robots=False))
    job = Poll(
        source, state or SourceState("src"), fetcher, raw, catalog, seen, secrets or {}, lambda: NOW
    )
    try:
        return run_poll(job, KIND_FUNCTIONS[kind])
    finally:
        fetcher.close()


@pytest.fixture
def raw(tmp_path: Path) -> RawStore:
    return RawStore(tmp_path / "raw")


def test_raw_bytes_are_kept_once_and_traceable(raw: RawStore, catalog: Catalog) -> None:
    body = (FIXTURES / "federal-register-documents.json").read_bytes()
    with loopback() as server:
        url = server.route("/api/v1/documents.json", Answer(body))
        result = poll("federal-register", url, catalog, raw)
        again = poll("federal-register", url, catalog, raw)
    sha = hashlib.sha256(body).hexdigest()
    assert result.documents[0].provenance.file_sha256 == sha
    assert raw.get(sha) == body and again.fetches[0].sha256 == sha
    assert len(list((raw.root / sha[:2]).iterdir())) == 1  # kept once
    (raw.root / sha[:2] / f"{sha}.gz").write_bytes(b"\x1f\x8b damaged")
    with pytest.raises(EwsError, match="damaged"):
        raw.get(sha)


def test_federal_register_documents_and_cursor(raw: RawStore, catalog: Catalog) -> None:
    body = (FIXTURES / "federal-register-documents.json").read_bytes()
    results = json.loads(body)["results"]
    with loopback() as server:
        url = server.route("/api/v1/documents.json", Answer(body))
        first = poll("federal-register", url + "?conditions[agencies][]=x", catalog, raw)
        assert first.error is None
        assert len(first.documents) == len(results) == 10
        doc = first.documents[0]
        assert doc.doc_id == f"src:{results[0]['document_number']}"
        assert doc.title.startswith("Presidential Document: Addressing the Threat Posed by TikTok")
        assert doc.link == results[0]["html_url"] and doc.lang == "en"
        assert first.state.cursor["date"] == "2020-08-11"
        second = poll("federal-register", url, catalog, raw, state=first.state)
        asked = server.seen[-1].path
        assert "conditions%5Bpublication_date%5D%5Bgte%5D=2020-08-10" in asked
        assert "order=newest" in asked and second.error is None
        server.route("/api/v1/documents.json", Answer(b'{"unexpected": true}'))
        broken = poll("federal-register", url, catalog, raw, state=first.state)
        assert broken.error and "not a Federal Register API page" in broken.error


def _gkg_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "20200318103000.translation.gkg.csv", (FIXTURES / "gdelt-gkg-sample.csv").read_bytes()
        )
    return buffer.getvalue()


def test_gdelt_gkg_rows_in_our_languages(raw: RawStore, catalog: Catalog) -> None:
    real = (FIXTURES / "gdelt-lastupdate.txt").read_text()
    assert real.count(".gkg.csv.zip") == 1  # the real listing's shape, which the poller reads
    archive = _gkg_zip()
    with loopback() as server:
        zip_url = server.route("/gdeltv2/20200318103000.translation.gkg.csv.zip", Answer(archive))
        md5 = hashlib.md5(archive).hexdigest()
        listing = f"{len(archive)} {md5} {zip_url}\n".encode()
        url = server.route("/gdeltv2/lastupdate-translation.txt", Answer(listing))
        result = poll("gdelt", url, catalog, raw, params={"themes": []})
        assert result.error is None, result.error
        # The sample holds Czech, French, Slovenian and Vietnamese articles: only vi is kept.
        assert result.documents and {d.lang for d in result.documents} == {"vi"}
        assert any("left out" in w for w in result.warnings)
        doc = result.documents[0]
        assert doc.published == dt.datetime(2020, 3, 18, 10, 30, tzinfo=dt.UTC)
        assert doc.link and doc.link.startswith("http") and "&#x" not in doc.title
        assert doc.provenance.file_sha256 == hashlib.sha256(archive).hexdigest()
        # The same file named again: not fetched again.
        again = poll("gdelt", url, catalog, raw, state=result.state, params={"themes": []})
        assert again.error is None and not again.documents
        assert len(server.requests("/gdeltv2/20200318103000.translation.gkg.csv.zip")) == 1
        # A file that is not what lastupdate says is refused.
        bad = f"{len(archive)} {'0' * 32} {zip_url}\n".encode()
        server.route("/gdeltv2/lastupdate-translation.txt", Answer(bad))
        refused = poll("gdelt", url, catalog, raw, params={"themes": []})
        assert refused.error and "MD5 differs" in refused.error and not refused.documents


def test_comtrade_needs_its_key_and_reads_the_plus_layout(raw: RawStore, catalog: Catalog) -> None:
    recorded = json.loads((FIXTURES / "comtrade-plus-get.json").read_bytes())
    # The SDK that recorded it wrapped the API's answer: serve the API's own keys.
    body = json.dumps({k: recorded[k] for k in ("count", "error", "data")}).encode()
    with loopback() as server:
        url = server.route("/data/v1/get/C/M/HS", Answer(body))
        refused = poll("comtrade", url, catalog, raw)
        assert refused.error and "EWS_COMTRADE_KEY" in refused.error and not refused.fetches
        result = poll("comtrade", url, catalog, raw, secrets={"comtrade_key": "k-123"})
        assert result.error is None, result.error
        seen = server.requests(server.seen[-1].path)[-1]
        assert seen.headers["Ocp-Apim-Subscription-Key"] == "k-123"
        assert "period=202611%2C202610" in seen.path  # the last months, newest first
        # India's exports of HS 7113 to the world, by month: read as a downloaded CSV is.
        rows = recorded["data"]
        assert len(result.trade) == len(rows)
        first = result.trade[0]
        assert (first.reporter, first.partner, first.flow, first.hs) == (
            "IN",
            "WLD",
            "export",
            "7113",
        )
        assert first.value_usd == pytest.approx(rows[0]["primaryValue"])
        assert first.provenance.source_id == "src" and first.provenance.file_name.startswith("http")
        server.route("/data/v1/get/C/M/HS", Answer(b'{"error": "quota", "data": []}'))
        quota = poll("comtrade", url, catalog, raw, secrets={"comtrade_key": "k"})
        assert quota.error and "quota" in quota.error


def test_pinksheet_is_read_when_it_changes(raw: RawStore, catalog: Catalog) -> None:
    workbook = (SAMPLE / "pinksheet-2000.xlsx").read_bytes()
    with loopback() as server:
        url = server.route(
            "/CMO-Historical-Data-Monthly.xlsx", Answer(workbook, headers={"ETag": '"w1"'})
        )
        first = poll("pinksheet", url, catalog, raw)
        assert first.error is None, first.error
        assert first.prices and {p.provenance.source_id for p in first.prices} == {"src"}
        assert any(p.series_id == "urea" for p in first.prices)
        second = poll("pinksheet", url, catalog, raw, state=first.state)
        assert second.not_modified and not second.prices
        server.route("/CMO-Historical-Data-Monthly.xlsx", Answer(b"PK\x03\x04 not a workbook"))
        broken = poll("pinksheet", url, catalog, raw)
        assert broken.error and not broken.prices


def test_portwatch_transits(raw: RawStore, catalog: Catalog) -> None:
    body = (FIXTURES / "portwatch-chokepoints.json").read_bytes()
    with loopback() as server:
        url = server.route("/Daily_Chokepoints_Data/FeatureServer/0/query", Answer(body))
        result = poll("portwatch", url, catalog, raw)
        assert result.error is None, result.error
        assert len(result.transits) == 31
        first = min(result.transits, key=lambda t: t.day)
        assert (first.chokepoint, first.name, first.day) == (
            "chokepoint11",
            "Taiwan Strait",
            dt.date(2023, 1, 1),
        )
        assert first.n_total == 253 and first.n_tanker == 61
        assert result.state.cursor["day"] == "2023-01-31"
        server.route(
            "/Daily_Chokepoints_Data/FeatureServer/0/query", Answer(b'{"error": {"code": 400}}')
        )
        broken = poll("portwatch", url, catalog, raw)
        assert broken.error and "ArcGIS" in broken.error


def _notices(count: int) -> list[dict[str, str]]:
    from tests.conftest import shared_file

    path = shared_file("policy/critical-minerals-notices.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:count]]


def _index_server(server: Loopback, notices: list[dict[str, str]]) -> str:
    """An announcement index (our markup) linking to pages that hold real notices' text."""
    links = []
    for n in notices:
        path = f"/notices/{n['id']}.html"
        page = (
            "<html lang='en'><head><title>{t}</title></head><body><nav>Home | Notices</nav>"
            "<article><h1>{t}</h1><p>{x}</p></article><footer>Ministry</footer></body></html>"
        ).format(t=n["title"], x=n["text"])
        server.route(
            path, Answer(page.encode(), headers={"Content-Type": "text/html; charset=utf-8"})
        )
        links.append(f"<li><a href='{path}'>{n['title']}</a> <span>{n['published']}</span></li>")
    index = (
        "<html><body><a href='/'>Home</a><a href='/about.html'>About</a><ul>{}</ul></body></html>"
    )
    return server.route(
        "/notices/index.html",
        Answer(index.format("".join(links)).encode(), headers={"ETag": '"i1"'}),
    )


def test_html_list_follows_new_links_once(raw: RawStore, catalog: Catalog) -> None:
    notices = _notices(5)
    with loopback() as server:
        url = _index_server(server, notices)
        params = {"link_pattern": r"/notices/\d+\.html$", "max_follow": 3}
        first = poll("html-list", url, catalog, raw, params=params, lang="en")
        assert first.error is None, first.error
        assert len(first.documents) == 3 and any(
            "left for the next poll" in w for w in first.warnings
        )
        assert first.documents[0].title == notices[0]["title"]
        assert notices[0]["text"][:60] in first.documents[0].text
        assert len(first.seen) == 3
        # The next poll, index unchanged but the three known: the other two, nothing twice.
        second = poll("html-list", url, catalog, raw, params=params, seen=frozenset(first.seen))
        assert [d.link for d in second.documents] == [
            server.url(f"/notices/{n['id']}.html") for n in notices[3:]
        ]
        # A layout change: no link matches the pattern any more.
        server.route("/notices/index.html", Answer(b"<html><body><p>Moved.</p></body></html>"))
        moved = poll("html-list", url, catalog, raw, params=params)
        assert moved.error and "layout" in moved.error


def test_html_list_follows_script_links_of_korean_boards(raw: RawStore, catalog: Catalog) -> None:
    notices = _notices(2)
    with loopback() as server:
        for n in notices:
            server.route(
                f"/bbs/view.do?seq={n['id']}",
                Answer(f"<html><body><article><p>{n['text']}</p></article></body></html>".encode()),
            )
        rows = "".join(
            f"<a href=\"javascript:fn_view('{n['id']}');\">{n['title']}</a>" for n in notices
        )
        url = server.route("/bbs/list.do", Answer(f"<html><body>{rows}</body></html>".encode()))
        params = {
            "js_link_pattern": r"fn_view\('(\d+)'\)",
            "js_link_template": server.url("/bbs/view.do?seq={0}"),
        }
        result = poll("html-list", url, catalog, raw, params=params)
        assert result.error is None, result.error
        assert [d.title for d in result.documents] == [n["title"] for n in notices]


def test_feed_failures_keep_the_validators(raw: RawStore, catalog: Catalog) -> None:
    with loopback() as server:
        url = server.route(
            "/feed.xml", Answer(b"<html>maintenance</html>", headers={"ETag": '"m"'})
        )
        state = SourceState("src", etag='"old"')
        result = poll("rss", url, catalog, raw, state=state)
        assert result.error and "not an RSS or Atom feed" in result.error
        assert result.state.etag == '"old"', "a failed read must not turn the next poll into a 304"
        server.route("/feed.xml", Answer(b"", status=500))
        down = poll("rss", url, catalog, raw)
        assert down.error and "HTTP 500" in down.error and down.fetches[-1].outcome == "error"


def test_raw_store_takes_the_same_bytes_from_many_threads(raw: RawStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    body = b"<rss>" + b"x" * 100_000 + b"</rss>"
    with ThreadPoolExecutor(8) as pool:
        hashes = set(pool.map(lambda _: raw.put(body), range(64)))
    (sha,) = hashes
    assert raw.get(sha) == body
    assert [p.name for p in (raw.root / sha[:2]).iterdir()] == [f"{sha}.gz"]
