"""Trade series keys: made in one place, read back in one place."""

from __future__ import annotations

import pytest

from ews.indicators.anomalies import TradeKey, parse_trade_key, trade_key


@pytest.mark.parametrize(
    ("reporter", "partner", "flow", "product"),
    [
        ("CN", "KR", "export", "310210"),
        ("CN", "*", "export", "group:rare_earths"),  # a family's total
        ("ID", "WLD", "re-export", "2604"),
    ],
)
def test_a_key_reads_back_as_its_parts(
    reporter: str, partner: str, flow: str, product: str
) -> None:
    key = trade_key(reporter, partner, flow, product)
    assert parse_trade_key(key) == TradeKey(reporter, partner, flow, product)


@pytest.mark.parametrize(
    "key", ["price:worldbank:urea", "trade:CN:export:2604", "trade:CN>KR:export", "trade:"]
)
def test_other_keys_are_not_trade_keys(key: str) -> None:
    assert parse_trade_key(key) is None
