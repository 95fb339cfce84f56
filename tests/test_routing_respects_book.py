"""Routing respects the book: while some venue's book or quote shows levels on the side an order takes, no
child goes to a venue whose book or quote shows none there (it would only be rejected "no market"); every
reject carries its reason into orders.parquet and the TCA tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nautilus_trader.model.data import BookOrder, QuoteTick
from nautilus_trader.model.enums import BookType, OrderSide
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.book import OrderBook

from nautilus_sor.backtest.baselines import EqualSplitRouter
from nautilus_sor.smart_router import SmartOrderRouter
from shared_data import DATA, ROOT, needs_data
from test_hot_path import CONFIGS, FakeCache, iid

IBM = DATA / "lean_equity_ticks" / "ibm"


def quote(venue: str, bid: float, ask: float, bid_size: str, ask_size: str) -> QuoteTick:
    return QuoteTick(iid(venue), Price(bid, 2), Price(ask, 2), Quantity.from_str(bid_size), Quantity.from_str(ask_size), 0, 0)


def bids_only_book(venue: str) -> OrderBook:
    book = OrderBook(iid(venue), BookType.L2_MBP)
    book.add(BookOrder(OrderSide.BUY, Price(99.0, 2), Quantity.from_str("50.000"), 1), 0, 0)
    return book


@pytest.mark.parametrize("router_type", [SmartOrderRouter, EqualSplitRouter])
def test_no_child_to_a_venue_with_an_empty_side_in_book_mode(router_type):
    cache = FakeCache()
    # V0 is the cheapest venue by fee, but its quote has no ask; V1's book has no ask either; V2 quotes both.
    cache.quotes[iid("V0")] = quote("V0", 99.9, 100.0, "5.000", "0.000")
    cache.books[iid("V1")] = bids_only_book("V1")
    cache.quotes[iid("V2")] = quote("V2", 99.8, 100.3, "5.000", "5.000")
    router = router_type(CONFIGS[:3], cache=cache)
    buy = router.route_order(iid("V0"), OrderSide.BUY, Quantity.from_str("3.000"), 3)
    assert {a.venue.value for a in buy} == {"V2"} and sum(a.quantity.as_double() for a in buy) == 3.0
    if router_type is SmartOrderRouter:
        assert router.select_venue(iid("V0"), OrderSide.BUY, Quantity.from_str("1.000")).venue.value == "V2"
    # Selling takes bids, which all three show: the exclusion was for that buy only.
    sell = router.route_order(iid("V0"), OrderSide.SELL, Quantity.from_str("3.000"), 3)
    if router_type is EqualSplitRouter:
        assert {a.venue.value for a in sell} == {"V0", "V1", "V2"}
    assert all(v.enabled for v in router.core.venues)


def test_no_venue_showing_the_side_is_a_typed_error_not_a_guess():
    from nautilus_sor.exceptions import RoutingError

    cache = FakeCache()
    cache.quotes[iid("V0")] = quote("V0", 99.9, 100.0, "5.000", "0.000")
    cache.quotes[iid("V1")] = quote("V1", 99.8, 100.3, "5.000", "0.000")
    router = SmartOrderRouter(CONFIGS[:2], cache=cache)
    with pytest.raises(RoutingError):  # no liquidity, or no eligible venue: said, not guessed
        router.route_order(iid("V0"), OrderSide.BUY, Quantity.from_str("1.000"), 2)
    assert all(v.enabled for v in router.core.venues)  # nothing was switched off by the attempt


def test_an_operator_disabled_venue_stays_disabled_after_a_decision():
    cache = FakeCache()
    cache.quotes[iid("V0")] = quote("V0", 99.9, 100.0, "5.000", "0.000")
    cache.quotes[iid("V1")] = quote("V1", 99.8, 100.3, "5.000", "5.000")
    cache.quotes[iid("V2")] = quote("V2", 99.8, 100.2, "5.000", "5.000")
    router = SmartOrderRouter(CONFIGS[:3], cache=cache)
    router.set_venue_enabled("V2", False)
    assert {a.venue.value for a in router.route_order(iid("V0"), OrderSide.BUY, Quantity.from_str("1.000"), 3)} == {"V1"}
    router.route_order(iid("V0"), OrderSide.SELL, Quantity.from_str("1.000"), 3)  # V0 back in, V2 still out
    assert {v.name: v.enabled for v in router.core.venues} == {"V0": True, "V1": True, "V2": False}


@needs_data(IBM / "20131007_quote.zip")
def test_ibm_vwap_router_no_longer_routes_into_empty_sides_and_rejects_say_why(tmp_path):
    """The regression of the issue: on ibm_vwap 49 of the router's 82 children were rejected "no market"."""
    from nautilus_sor.backtest.runner import run_backtest
    from nautilus_sor.analysis.tca import analyze
    from nautilus_sor.config import parse_config, resolve_paths

    raw = resolve_paths(json.loads((ROOT / "examples" / "ibm_vwap.json").read_text()), ROOT / "examples")
    raw["backtest"]["baselines"] = ["equal_split"]
    results = run_backtest(parse_config(raw))
    orders = results.orders
    for scenario in ("router", "equal_split"):
        mine = orders[orders["scenario"] == scenario]
        rejected = mine[mine["status"].isin(["REJECTED", "DENIED"])]
        assert len(rejected) <= 0.05 * len(mine), rejected[["venue", "reason"]]
    # Every order that did not fill in full says why; one that filled says nothing.
    unfilled = orders[orders["status"].isin(["REJECTED", "DENIED", "CANCELED", "EXPIRED"])]
    assert (unfilled["reason"] != "").all()
    assert (orders.loc[orders["status"] == "FILLED", "reason"] == "").all()
    results.save(tmp_path)
    import pandas as pd

    assert "reason" in pd.read_parquet(tmp_path / "orders.parquet").columns
    tca = analyze(results)
    with_rejects = tca.venues[tca.venues["rejects"] > 0]
    for row in with_rejects.itertuples():
        assert row.reject_reasons.endswith(f"x{row.rejects}") or ";" in row.reject_reasons
        assert "rejected:" in row.reject_reasons or "denied:" in row.reject_reasons
