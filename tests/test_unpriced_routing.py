"""What an allocation's price and cost fields mean with and without market data: `expected_price` from the
books (or quotes), else the call's price, else None; `fee_rate` always (a fraction of notional); `fee`,
`latency_cost`, `miss_cost` in quote currency only when there is a price. And `demo` shows the split when
no single venue can fill the order."""

from __future__ import annotations

import re

import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity

from nautilus_env import btcusdt
from nautilus_sor import cli
from nautilus_sor.smart_router import SmartOrderRouter

VENUES = [
    {"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004, "latency_ms": 50},
    {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0003, "latency_ms": 80},
]
BTC = InstrumentId.from_str("BTCUSDT.BINANCE")


def test_without_books_or_price_fees_are_fractions_and_amounts_are_none():
    router = SmartOrderRouter(VENUES)
    best = router.select_venue(BTC, OrderSide.BUY, Quantity.from_str("1.0"))
    (split,) = router.route_order(BTC, OrderSide.BUY, Quantity.from_str("10.0"))
    for a in (best, split):
        assert a.venue.value == "BYBIT"  # 1 bp cheaper; 30 ms more latency costs far less
        assert a.expected_price is None and a.fee is None and a.latency_cost is None and a.miss_cost is None
        assert a.fee_rate == 0.0003
        assert "avg no price, fee 3.00 bps" in a.reason
    # The latency risk in bps does not depend on the size: the same in both, and shown.
    assert re.search(r"latency risk (\d+\.\d+) bps", best.reason).group(1) == re.search(r"latency risk (\d+\.\d+) bps", split.reason).group(1)


def test_with_a_price_the_amounts_are_quote_currency():
    router = SmartOrderRouter(VENUES)
    a = router.select_venue(BTC, OrderSide.BUY, Quantity.from_str("2.0"), Price.from_str("50000.0"))
    assert a.expected_price == 50_000.0 and a.fee_rate == 0.0003
    assert a.fee == pytest.approx(0.0003 * 50_000.0 * 2.0)
    assert a.latency_cost > 0 and a.miss_cost == 0.0


def test_with_quotes_the_expected_price_is_the_touch_walked():
    cache = Cache()
    for venue, ask in (("BINANCE", "60000.50"), ("BYBIT", "60010.00")):
        inst = btcusdt(venue)
        cache.add_instrument(inst)
        cache.add_quote_tick(QuoteTick(inst.id, Price.from_str("59999.50"), Price.from_str(ask), Quantity.from_str("5.000"),
                                       Quantity.from_str("5.000"), 0, 0))
    router = SmartOrderRouter(VENUES, cache=cache)
    a = router.select_venue(BTC, OrderSide.BUY, Quantity.from_str("1.000"))
    assert (a.venue.value, a.expected_price) == ("BINANCE", 60_000.5)  # 9.5 cheaper beats 1 bp of fee
    assert a.fee == pytest.approx(0.0004 * 60_000.5) and a.fee_rate == 0.0004


def test_demo_shows_the_split_when_no_single_venue_can_fill(capsys):
    assert cli.main(["demo", "--quantity", "950"]) == 0
    out = capsys.readouterr().out
    assert "select_venue -> none: no single venue can fill 950 units" in out
    rows = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(CHEAP|DEEP|SLOW)\s+(\d+)\s", out, flags=re.M)}
    assert set(rows) == {"CHEAP", "DEEP", "SLOW"} and sum(rows.values()) == 950
    # Each venue's part fits what it displays (the reason select_venue gave): CHEAP 70, DEEP 900, SLOW 100.
    assert rows["CHEAP"] <= 70 and rows["DEEP"] <= 900 and rows["SLOW"] <= 100
    assert re.search(r"^total\s+950\s", out, flags=re.M)
