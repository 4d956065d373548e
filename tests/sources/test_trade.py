from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from ews.catalog import Catalog
from ews.errors import InputError, SourceShapeError
from ews.records import WORLD, TradeObservation
from ews.sources.files import open_input
from ews.sources.ingest import detect_trade_source
from ews.sources.registry import ReadContext
from tests.sources.helpers import sample

HS6_HEADER = "period_dt,partner_name,hs6,val,qty,uv\n"


def read(path: Path, catalog: Catalog) -> tuple[list[TradeObservation], ReadContext]:
    file = open_input(path, max_bytes=10**9)
    spec = detect_trade_source(file)
    ctx = ReadContext(spec=spec, catalog=catalog, file=file)
    return list(spec.read_function()(ctx)), ctx


def write(tmp: Path, text: str | bytes, name: str = "t.csv") -> Path:
    path = tmp / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def test_real_china_hs6_table(china_hs6: Path, catalog: Catalog) -> None:
    rows, ctx = read(china_hs6, catalog)
    assert ctx.spec.id == "china_exports"
    assert len(rows) == 6442
    assert {r.hs for r in rows} == {"250410", "380110", "811292"}
    assert {r.reporter for r in rows} == {"CN"} and {r.flow for r in rows} == {"export"}
    first = rows[0]
    assert (first.period, first.partner, first.hs) == (dt.date(2017, 1, 1), "AU", "250410")
    assert first.value_usd == pytest.approx(10200.0)
    assert first.quantity == pytest.approx(6116.362) and first.quantity_unit == "kg"
    assert {"KR", "US", "JP", "VN", "TW", "HK", "AE", "TR", "CZ"} <= {r.partner for r in rows}
    assert first.provenance.row == 2


def test_real_overview_table_is_world_by_family(catalog: Catalog) -> None:
    rows, _ = read(sample("china-exports-overview.csv"), catalog)
    assert {r.partner for r in rows} == {WORLD}
    assert {r.item_group for r in rows} == {
        "gallium_germanium",
        "graphite",
        "rare_earths",
        "silicon",
    }
    assert all(r.hs is None for r in rows)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("2017-01-01,Atlantis,250410,1,1,1\n", "partner_name", "unknown partner"),
        ("2017-01-01,Japan,999999,1,1,1\n", "hs6", "unknown HS code"),
        ("2017-01-01,Japan,250410,-4,1,1\n", "val", "negative"),
        ("2017-01-01,Japan,250410,abc,1,1\n", "val", "not a number"),
        ("2017-01-01,Japan,250410,,1,1\n", "val", "empty value"),
        ("2017-01-01,Japan,250410,nan,1,1\n", "val", "not a finite number"),
        ("2017-01-15,Japan,250410,1,1,1\n", "period_dt", "first of a month"),
        ("2017-13-01,Japan,250410,1,1,1\n", "period_dt", "not a month"),
    ],
)
def test_bad_rows_name_file_row_and_field(
    tmp_path: Path, catalog: Catalog, body: str, field: str, message: str
) -> None:
    path = write(tmp_path, HS6_HEADER + "2017-01-01,Japan,250410,5,1,5\n" + body)
    with pytest.raises(InputError) as exc:
        read(path, catalog)
    err = exc.value
    assert (err.row, err.field) == (3, field)
    assert message in err.message
    assert err.one_line().startswith(f"{path}:3: field '{field}':")


def test_wrong_columns(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, "date,country,code,value\n2017-01-01,Japan,250410,5\n")
    with pytest.raises(SourceShapeError, match="no known trade source"):
        read(path, catalog)


def test_ragged_row(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, HS6_HEADER + "2017-01-01,Japan,250410,5\n")
    with pytest.raises(InputError, match="4 fields where the header has 6") as exc:
        read(path, catalog)
    assert exc.value.row == 2


def test_non_utf8_text_names_the_line(tmp_path: Path, catalog: Catalog) -> None:
    text = HS6_HEADER + "2017-01-01,Japan,250410,5,1,5\n2017-01-01,Türkiye,250410,5,1,5\n"
    path = write(tmp_path, text.encode("cp1252"))
    with pytest.raises(InputError, match="not UTF-8") as exc:
        read(path, catalog)
    assert exc.value.row == 3


def test_binary_file(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, b"\x00\x01\x02" * 1000)
    with pytest.raises(InputError, match="binary"):
        read(path, catalog)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    with pytest.raises(InputError, match="empty"):
        open_input(path, max_bytes=100)


def test_oversized_file_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, HS6_HEADER * 10)
    with pytest.raises(InputError, match="over the limit"):
        open_input(path, max_bytes=50)


def comtrade_csv(rows: list[dict[str, str]]) -> str:
    cols = [
        "typeCode",
        "freqCode",
        "refPeriodId",
        "refYear",
        "refMonth",
        "period",
        "reporterCode",
        "reporterISO",
        "reporterDesc",
        "flowCode",
        "flowDesc",
        "partnerCode",
        "partnerISO",
        "partnerDesc",
        "partner2Code",
        "partner2ISO",
        "cmdCode",
        "cmdDesc",
        "customsCode",
        "motCode",
        "qtyUnitAbbr",
        "qty",
        "netWgt",
        "cifvalue",
        "fobvalue",
        "primaryValue",
    ]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in cols})
    return buf.getvalue()


def _ct(**kw: str) -> dict[str, str]:
    base = {
        "typeCode": "C",
        "freqCode": "M",
        "period": "202308",
        "reporterCode": "156",
        "reporterISO": "CHN",
        "flowCode": "X",
        "partnerCode": "410",
        "partnerISO": "KOR",
        "partner2Code": "0",
        "cmdCode": "811292",
        "customsCode": "C00",
        "motCode": "0",
        "netWgt": "1200.5",
        "primaryValue": "350000",
    }
    base.update(kw)
    return base


def test_comtrade_plus_layout(tmp_path: Path, catalog: Catalog) -> None:
    path = write(
        tmp_path,
        comtrade_csv(
            [
                _ct(),
                _ct(partnerCode="0", partnerISO="W00"),
                _ct(partnerCode="490", partnerISO="S19"),  # Other Asia, nes = Taiwan
                _ct(partnerCode="899", partnerISO="_X"),  # areas nes: skipped
                _ct(motCode="1000"),  # breakdown row: skipped
                _ct(flowCode="FM"),  # foreign imports: skipped
                _ct(
                    flowCode="M",
                    reporterISO="KOR",
                    reporterCode="410",
                    partnerISO="CHN",
                    partnerCode="156",
                    cmdCode="310210",
                    period="202110",
                ),
                _ct(freqCode="A", period="2023", cmdCode="250410"),
            ]
        ),
    )
    rows, ctx = read(path, catalog)
    assert ctx.spec.id == "comtrade"
    assert [(r.reporter, r.partner, r.flow, r.hs, r.freq) for r in rows] == [
        ("CN", "KR", "export", "811292", "M"),
        ("CN", WORLD, "export", "811292", "M"),
        ("CN", "TW", "export", "811292", "M"),
        ("KR", "CN", "import", "310210", "M"),
        ("CN", "KR", "export", "250410", "A"),
    ]
    assert rows[0].value_usd == 350000 and rows[0].quantity == pytest.approx(1200.5)
    assert rows[3].period == dt.date(2021, 10, 1) and rows[4].period == dt.date(2023, 1, 1)
    assert sum(ctx.skipped.values()) == 3


def test_comtrade_unknown_hs_code(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, comtrade_csv([_ct(), _ct(cmdCode="811293")]))
    with pytest.raises(InputError, match="unknown HS code") as exc:
        read(path, catalog)
    assert (exc.value.row, exc.value.field) == (3, "cmdCode")


def test_comtrade_unknown_country(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, comtrade_csv([_ct(partnerISO="QQQ", partnerCode="")]))
    with pytest.raises(InputError, match="unknown partner"):
        read(path, catalog)


def test_comtrade_legacy_layout(tmp_path: Path, catalog: Catalog) -> None:
    text = (
        "Classification,Year,Period,Trade Flow Code,Reporter Code,Reporter ISO,Partner Code,"
        "Partner ISO,Commodity Code,Netweight (kg),Trade Value (US$)\n"
        "H5,2021,202110,1,410,KOR,156,CHN,310210,1000,500\n"
    )
    rows, _ = read(write(tmp_path, text), catalog)
    assert [(r.reporter, r.partner, r.flow, r.hs, r.value_usd) for r in rows] == [
        ("KR", "CN", "import", "310210", 500.0)
    ]
