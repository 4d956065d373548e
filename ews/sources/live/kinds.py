"""One small function per kind of live source: fetch what is new, read it, fill the result.

Each reads with the same parser as the file sources where there is one (feeds, HTML pages,
Comtrade CSV, the Pink Sheet workbook), so a live document and a downloaded one are the same
record. Cursors are per kind and say where the next poll starts.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ews.errors import InputError
from ews.records import Document
from ews.sources.files import InputFile
from ews.sources.live.http import FetchError, Response
from ews.sources.live.poll import LayoutChangedError, Poll, PollFunction, Transit
from ews.sources.news import content_id, html_document, lang_code, parse_feed, parse_published
from ews.sources.registry import ReadContext, get_spec


def _with_query(url: str, **extra: str) -> str:
    """``url`` with query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    query += list(extra.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _note_published(poll: Poll, when: dt.datetime | None) -> None:
    if when is None:
        return
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    newest = poll.state.cursor.get("newest")
    if newest is None or when.isoformat() > newest:
        poll.state.cursor["newest"] = when.astimezone(dt.UTC).isoformat()


# -- rss / atom ---------------------------------------------------------------------------------
def poll_feed(poll: Poll) -> None:
    """A feed: conditional GET (an unchanged feed costs a 304), every entry a document."""
    response = poll.get(poll.source.url, conditional=True)
    if response.not_modified:
        return
    skipped: dict[str, int] = {}
    assert response.sha256 is not None
    docs = parse_feed(
        response.body,
        source_id=poll.source.id,
        file_name=response.url[:500],
        file_sha256=response.sha256,
        skipped=skipped,
    )
    for doc in docs:
        poll.result.documents.append(_own(poll, doc))
        _note_published(poll, doc.published)
    for why, n in skipped.items():
        poll.warn(f"{n} entries skipped: {why}")


def _own(poll: Poll, doc: Document) -> Document:
    """The document under this source's namespace, in its declared language if it has none."""
    update: dict[str, Any] = {"doc_id": f"{poll.source.id}:{doc.doc_id}"[:300]}
    if doc.lang is None and poll.source.lang:
        update["lang"] = poll.source.lang
    return doc.model_copy(update=update)


# -- html-list ----------------------------------------------------------------------------------
_SKIP_LINK = re.compile(r"^(?:#|javascript:|mailto:|tel:)", re.IGNORECASE)


def _links(
    response: Response,
    pattern: re.Pattern[str] | None,
    js: tuple[re.Pattern[str], str] | None = None,
) -> list[tuple[str, str]]:
    """(absolute URL, anchor text) of the page's links, in page order, once each.

    ``js``: boards that link through script calls (``javascript:fn_view('123')`` in href or
    onclick, common on Korean ministry boards) give a pattern for the call and a URL template
    filled with its groups (``https://.../view.do?seq={0}``)."""
    import lxml.html

    try:
        root = lxml.html.fromstring(response.body, base_url=response.url)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise LayoutChangedError(f"index page is not HTML: {exc}") from None
    root.make_links_absolute(response.url, resolve_base_href=True)
    found: dict[str, str] = {}
    own_host = urlsplit(response.url).hostname
    for element in root.iter("a"):
        href = (element.get("href") or "").strip()
        if js is not None:
            call = js[0].search(f"{href} {element.get('onclick') or ''}")
            if call:
                href = js[1].format(*call.groups())
        if not href or _SKIP_LINK.match(href) or not href.startswith(("http://", "https://")):
            continue
        href = href.split("#", 1)[0]
        if href == response.url:
            continue
        if pattern is not None:
            if not pattern.search(href):
                continue
        elif urlsplit(href).hostname != own_host:
            continue
        found.setdefault(href, " ".join(element.text_content().split())[:300])
    return list(found.items())


def poll_html_list(poll: Poll) -> None:
    """An index of announcements: the links not seen before are followed (at most
    ``max_follow`` a poll, newest first as the page lists them) and read as HTML pages."""
    pattern_text = poll.params.get("link_pattern")
    pattern = re.compile(pattern_text) if pattern_text else None
    js_pattern, js_template = (
        poll.params.get("js_link_pattern"),
        poll.params.get("js_link_template"),
    )
    js = (re.compile(js_pattern), str(js_template)) if js_pattern and js_template else None
    response = poll.get(poll.source.url, conditional=True)
    if response.not_modified:
        return
    links = _links(response, pattern, js)
    if not links:
        # An index that lists nothing we can follow has changed its layout (or its pattern).
        raise LayoutChangedError(
            "no announcement links found on the index page"
            + (f" matching {pattern_text!r}" if pattern_text else "")
            + ": has the page's layout changed?"
        )
    new = [(url, text) for url, text in links if url not in poll.seen_before]
    limit = int(poll.params.get("max_follow", 10))
    if len(new) > limit:
        poll.warn(f"{len(new) - limit} new links left for the next poll (max_follow {limit})")
    for url, anchor in new[:limit]:
        try:
            page = poll.get(url)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                poll.warn(f"{url}: {exc.message}; not followed again")
                poll.result.seen.append(url)
            else:
                poll.warn(f"{url}: {exc.message}; tried again next poll")
            continue
        doc: Document | None
        skipped: list[str] = []
        if page.media_type == "application/pdf" or page.body.startswith(b"%PDF"):
            # PDFs are not read (no text layer parser ships here): the link's text is the title.
            doc = Document(
                doc_id=content_id(url),
                source_id=poll.source.id,
                title=anchor,
                text="",
                lang=lang_code(poll.source.lang),
                link=url,
                provenance=poll.provenance(page, 1),
            )
        else:
            doc = html_document(
                page.body,
                source_id=poll.source.id,
                provenance=poll.provenance(page, 1),
                skip=skipped.append,
                lang=poll.source.lang,
                link=url,
                title=anchor,
            )
        if doc is None:
            poll.warn(f"{url}: {', '.join(skipped)}")
            poll.result.seen.append(url)
            continue
        if doc.published is None:
            # The index date is not in the page: the fetch day is the latest it can be.
            doc = doc.model_copy(update={"published": poll.now()})
        poll.result.documents.append(_own(poll, doc))
        poll.result.seen.append(url)
        _note_published(poll, doc.published)


# -- gdelt --------------------------------------------------------------------------------------
# GDELT 2.0 GKG columns (tab-separated, no header): the ones read here.
_GKG_ID, _GKG_DATE, _GKG_SOURCE, _GKG_URL, _GKG_THEMES = 0, 1, 3, 4, 7
_GKG_TRANSLATION, _GKG_EXTRAS = 25, 26
_TITLE = re.compile(r"<PAGE_TITLE>(.*?)</PAGE_TITLE>", re.DOTALL)
_SRCLC = re.compile(r"srclc:([a-z]{3})")
_ISO639_3 = {"eng": "en", "kor": "ko", "jpn": "ja", "zho": "zh", "vie": "vi"}
DEFAULT_THEMES = (
    "SANCTION",
    "EMBARGO",
    "BLOCKADE",
    "STRIKE",
    "TRADE",
    "EXPORT",
    "IMPORT",
    "TARIFF",
    "SUPPLY",
    "SHORTAGE",
    "MINING",
    "MINERAL",
    "FERTILI",
    "SEMICONDUCTOR",
    "NATURAL_DISASTER",
    "EARTHQUAKE",
    "FLOOD",
    "TYPHOON",
    "PORT",
    "MARITIME",
    "SHIPPING",
    "FIRE",
    "INDUSTRIAL_ACCIDENT",
)
"""GKG theme fragments of supply disruption: a 15-minute file has thousands of articles, of
which these few per cent are worth the extractor's time."""


def _gkg_rows(data: bytes, cap: int) -> Iterator[list[str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise LayoutChangedError(f"GKG archive holds {len(names)} files, expected one")
        info = archive.getinfo(names[0])
        if info.file_size > cap:
            raise LayoutChangedError(f"GKG file unpacks to {info.file_size:,} bytes, over {cap:,}")
        text = archive.read(names[0]).decode("utf-8", "replace")
    csv.field_size_limit(cap)
    yield from csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)


def poll_gdelt(poll: Poll) -> None:
    """GDELT 2.0: the latest 15-minute GKG file named by lastupdate.txt (checked against its
    MD5), rows on supply-disruption themes as title-only documents in their source language."""
    response = poll.get(poll.source.url, conditional=True)
    if response.not_modified:
        return
    listing = [line.split() for line in response.body.decode("ascii", "replace").splitlines()]
    files = [parts for parts in listing if len(parts) == 3 and parts[2].endswith(".gkg.csv.zip")]
    if not files:
        raise LayoutChangedError("lastupdate file names no .gkg.csv.zip file")
    _size, md5, url = files[0]
    if poll.state.cursor.get("file") == url or url in poll.seen_before:
        return
    archive = poll.get(url)
    if hashlib.md5(archive.body, usedforsecurity=False).hexdigest() != md5.lower():
        raise FetchError(f"{url}: MD5 differs from lastupdate's; not read", url=url)
    themes = tuple(t.upper() for t in poll.params.get("themes", DEFAULT_THEMES))
    cap = poll.fetcher.policy.max_bytes * 8
    kept = skipped_lang = 0
    for row_no, row in enumerate(_gkg_rows(archive.body, cap), start=1):
        if len(row) < 27:
            raise LayoutChangedError(f"GKG row {row_no} has {len(row)} columns, expected 27")
        if themes and not any(t in row[_GKG_THEMES] for t in themes):
            continue
        title_match = _TITLE.search(row[_GKG_EXTRAS])
        title = " ".join(html.unescape(title_match.group(1)).split()) if title_match else ""
        link = row[_GKG_URL] if row[_GKG_URL].startswith(("http://", "https://")) else None
        if not title or link is None:
            continue
        found = _SRCLC.search(row[_GKG_TRANSLATION])
        # No translation info: GDELT's English stream. Languages the extractor cannot read
        # (GDELT translates 65) are left out rather than stored unread.
        lang = _ISO639_3.get(found.group(1)) if found else "en"
        if lang is None:
            skipped_lang += 1
            continue
        published = dt.datetime.strptime(row[_GKG_DATE], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
        poll.result.documents.append(
            Document(
                doc_id=f"{poll.source.id}:{content_id(link)}",
                source_id=poll.source.id,
                title=title,
                text="",
                published=published,
                lang=lang,
                link=link,
                outlet=row[_GKG_SOURCE] or None,
                provenance=poll.provenance(archive, row_no, "V2ExtrasXML"),
            )
        )
        _note_published(poll, published)
        kept += 1
    poll.state.cursor["file"] = url
    poll.state.cursor["kept"] = kept
    if skipped_lang:
        poll.warn(f"{skipped_lang} articles in languages other than en, ko, ja, zh, vi left out")
    poll.result.seen.append(url)


# -- federal-register ---------------------------------------------------------------------------
def poll_federal_register(poll: Poll) -> None:
    """The Federal Register API: documents published since the newest seen (one day back, as
    late corrections share a date), newest first, ``max_pages`` pages at most."""
    since = poll.state.cursor.get("date")
    url = _with_query(
        poll.source.url, order="newest", per_page=str(poll.params.get("per_page", 50))
    )
    if since:
        start = dt.date.fromisoformat(since) - dt.timedelta(days=1)
        url = _with_query(url, **{"conditions[publication_date][gte]": start.isoformat()})
    newest = since
    for _ in range(int(poll.params.get("max_pages", 3))):
        response = poll.get(url)
        try:
            page = json.loads(response.body)
        except ValueError as exc:
            raise LayoutChangedError(f"not a Federal Register API page: {exc}") from None
        if not isinstance(page, dict) or not ("results" in page or "count" in page):
            raise LayoutChangedError("not a Federal Register API page: no results or count")
        results = page.get("results", [])
        if not isinstance(results, list):
            raise LayoutChangedError("Federal Register page: 'results' is not a list")
        for row_no, item in enumerate(results, start=1):
            number = str(item.get("document_number") or "")
            title = str(item.get("title") or "").strip()
            if not number or not title:
                poll.warn(f"result {row_no} has no document number or title")
                continue
            published = parse_published(item.get("publication_date"))
            text = str(item.get("abstract") or "").strip()
            kind = str(item.get("type") or "").strip()
            poll.result.documents.append(
                Document(
                    doc_id=f"{poll.source.id}:{number}",
                    source_id=poll.source.id,
                    title=f"{kind}: {title}" if kind else title,
                    text=text,
                    published=published,
                    lang="en",
                    link=item.get("html_url"),
                    outlet="Federal Register",
                    provenance=poll.provenance(response, row_no, number),
                )
            )
            date = str(item.get("publication_date") or "")[:10]
            if date and (newest is None or date > newest):
                newest = date
            _note_published(poll, published)
        following = page.get("next_page_url")
        if not following or not since:
            # The first poll reads one page: the archive is decades long, the news is not.
            break
        url = str(following)
    if newest:
        poll.state.cursor["date"] = newest


# -- comtrade -----------------------------------------------------------------------------------
def _recent_months(today: dt.date, count: int) -> list[str]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year}{month:02d}")
    return months


def poll_comtrade(poll: Poll) -> None:
    """The Comtrade Plus API: the last ``months`` months (12 at most a call) asked again each
    poll, since reporters revise; read by the same reader as a Comtrade CSV download."""
    key = poll.secrets.get("comtrade_key")
    if not key:
        raise InputError("EWS_COMTRADE_KEY is not set: the Comtrade Plus API needs a key")
    months = _recent_months(poll.now().date(), min(int(poll.params.get("months", 6)), 12))
    url = _with_query(poll.source.url, period=",".join(months))
    response = poll.get(url, headers={"Ocp-Apim-Subscription-Key": key})
    try:
        page = json.loads(response.body)
        records = page["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LayoutChangedError(f"not a Comtrade API answer: {exc}") from None
    if page.get("error"):
        raise InputError(f"Comtrade: {page['error']}")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise LayoutChangedError("Comtrade answer: 'data' is not a list of records")
    if not records:
        return
    columns = list(dict.fromkeys(k for r in records for k in r))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "comtrade.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(records)
        spec = get_spec("comtrade")
        assert response.sha256 is not None
        ctx = ReadContext(spec, poll.catalog, InputFile(path, path.stat().st_size, response.sha256))
        for obs in spec.read_function()(ctx):
            poll.result.trade.append(
                obs.model_copy(update={"provenance": poll.provenance(response, obs.provenance.row)})
            )
        for why, n in ctx.skipped.items():
            poll.warn(f"{n} rows skipped: {why}")


# -- pinksheet ----------------------------------------------------------------------------------
def poll_pinksheet(poll: Poll) -> None:
    """The World Bank's monthly workbook: read again only when it changed (ETag/Last-Modified,
    else its hash), by the same strict reader as a downloaded copy."""
    response = poll.get(poll.source.url, conditional=True)
    if response.not_modified or poll.state.cursor.get("sha256") == response.sha256:
        return
    assert response.sha256 is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "CMO-Historical-Data-Monthly.xlsx"
        path.write_bytes(response.body)
        spec = get_spec("pinksheet")
        ctx = ReadContext(spec, poll.catalog, InputFile(path, len(response.body), response.sha256))
        try:
            observations = list(spec.read_function()(ctx))
        except InputError as exc:
            raise LayoutChangedError(f"Pink Sheet workbook: {exc.message}") from None
    for obs in observations:
        provenance = obs.provenance.model_copy(
            update={"source_id": poll.source.id, "file_name": response.url[:500]}
        )
        poll.result.prices.append(obs.model_copy(update={"provenance": provenance}))
    for warning in ctx.warnings[:5]:
        poll.warn(warning)
    poll.state.cursor["sha256"] = response.sha256


# -- portwatch ----------------------------------------------------------------------------------
_PORTWATCH_FIELDS = ("n_total", "n_tanker", "n_container", "n_cargo", "capacity")


def _day(value: Any) -> dt.date | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date()  # ArcGIS: epoch ms
    text = str(value or "").strip().replace("/", "-")[:10]
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def poll_portwatch(poll: Poll) -> None:
    """IMF PortWatch daily chokepoint transits (its ArcGIS query answer, JSON or CSV): one
    observation per chokepoint and day; recent days are asked again as PortWatch revises."""
    response = poll.get(poll.source.url, conditional=True)
    if response.not_modified:
        return
    rows: list[dict[str, Any]]
    body = response.body.lstrip()
    if body.startswith(b"{"):
        try:
            page = json.loads(body)
            rows = [f["attributes"] for f in page["features"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise LayoutChangedError(f"not an ArcGIS query answer: {exc}") from None
        if page.get("exceededTransferLimit"):
            poll.warn("PortWatch answer was cut at its record limit; ask for fewer days")
    else:
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig", "replace"))))
    if rows and not {"portid", "date"} <= {k.lower() for k in rows[0]}:
        columns = sorted(rows[0])[:12]
        raise LayoutChangedError(f"PortWatch rows lack portid/date (columns: {columns})")
    for row_no, raw in enumerate(rows, start=1):
        row = {k.lower(): v for k, v in raw.items()}
        day = _day(row.get("date"))
        port = str(row.get("portid") or "").strip()
        if day is None or not port:
            poll.warn(f"row {row_no}: no date or chokepoint id")
            continue
        values = {f: _number(row.get(f)) for f in _PORTWATCH_FIELDS}
        assert response.sha256 is not None
        poll.result.transits.append(
            Transit(
                chokepoint=port,
                name=str(row.get("portname") or port).strip(),
                day=day,
                file_name=response.url[:500],
                file_sha256=response.sha256,
                **values,
            )
        )
        newest = poll.state.cursor.get("day")
        if newest is None or day.isoformat() > newest:
            poll.state.cursor["day"] = day.isoformat()


KIND_FUNCTIONS: dict[str, PollFunction] = {
    "rss": poll_feed,
    "atom": poll_feed,
    "html-list": poll_html_list,
    "gdelt": poll_gdelt,
    "federal-register": poll_federal_register,
    "comtrade": poll_comtrade,
    "pinksheet": poll_pinksheet,
    "portwatch": poll_portwatch,
}
"""What each kind of source runs: adding a kind is one function and one line here."""
