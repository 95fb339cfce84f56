"""Recorded markets without order books run end to end: bar-only venues (Lean crypto minute bars) and
quote-only venues (IBM-like), through the runner, the TCA and the report."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nautilus_sor.backtest.engine import MarketFeeds, engine_for_market, market_feeds
from nautilus_sor.analysis.results import RunResults
from nautilus_sor.config import parse_config
from nautilus_sor.exceptions import MarketDataError
from shared_data import DATA as SHARED
from shared_data import ROOT, needs_data

CRYPTO = SHARED / "lean_crypto_minute"
CRYPTO_FILES = ("crypto_binance_btcbusd_20221213_trade.zip", "crypto_bybit_btcusdt_20221213_trade.zip",
                "crypto_bybit_btcusdt_20221213_quote.zip")
IBM_TICKS = SHARED / "lean_equity_ticks" / "ibm"
needs_crypto = needs_data(*(CRYPTO / f for f in CRYPTO_FILES))
needs_ibm = needs_data(IBM_TICKS / "20131007_quote.zip")
START, END = "2022-12-13T09:00:00Z", "2022-12-13T09:30:00Z"
MIDNIGHT_NS = pd.Timestamp("2022-12-13", tz="UTC").value
MINUTE_NS = 60_000_000_000


def _raw_minute_bars(name: str) -> dict[int, list[float]]:
    """A Lean minute bar file read with the standard library: {open ms after midnight UTC: row}."""
    with zipfile.ZipFile(CRYPTO / name) as z, z.open(z.namelist()[0]) as f:
        return {int(r[0]): [float(x) for x in r] for r in csv.reader(io.TextIOWrapper(f))}


def _close_ns(minute_of_day: int) -> int:
    """ts of the minute bar that opens `minute_of_day` minutes after midnight (Nautilus stamps bars at their close)."""
    return MIDNIGHT_NS + (minute_of_day + 1) * MINUTE_NS


@pytest.fixture(scope="module")
def spot():
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars

    return load_lean_crypto_bars(CRYPTO, start=START, end=END)


def _config(quantity: str = "0.00001", **strategy):
    venues = [{"name": "BINANCE", "maker_fee": 0.001, "taker_fee": 0.001, "latency_ms": 20},
              {"name": "BYBIT", "maker_fee": 0.001, "taker_fee": 0.001, "latency_ms": 20}]
    raw = {"strategy": {"name": "MultiVenueStrategy", "venues": venues, **strategy},
           "market": {"type": "lean_crypto_bars", "path": str(CRYPTO), "start": START, "end": END},
           "orders": [{"side": "BUY", "quantity": quantity, "at_seconds": 300}],
           "backtest": {"baselines": [], "seed": 7}}
    return parse_config(raw)


# -- the engine follows the data ---------------------------------------------------------------------


@needs_crypto
def test_venue_book_type_follows_the_data(spot):
    from nautilus_sor.backtest.synthetic import SyntheticMarketConfig, build_market

    feeds = market_feeds(spot.data)
    assert {v.name: feeds.book_type([v.instrument]).name for v in spot.venues} == {"BINANCE": "L1_MBP", "BYBIT": "L1_MBP"}
    assert feeds.book_instruments == frozenset()
    # Binance has trade bars only; Bybit trade and quote bars (BID and ASK) in this window.
    assert sorted(str(b) for b in feeds.bar_types) == sorted([
        "BTCBUSD.BINANCE-1-MINUTE-LAST-EXTERNAL", "BTCUSDT.BYBIT-1-MINUTE-LAST-EXTERNAL",
        "BTCUSDT.BYBIT-1-MINUTE-BID-EXTERNAL", "BTCUSDT.BYBIT-1-MINUTE-ASK-EXTERNAL"])
    synthetic = build_market(SyntheticMarketConfig(seed=3, duration_seconds=2))
    books = market_feeds(synthetic.data)
    assert {i.id.venue.value: books.book_type([i]).name for i in synthetic.instruments} == {v.name: "L2_MBP" for v in synthetic.venues}


@needs_crypto
@pytest.mark.parametrize(("instrument", "expected"), [
    # The order (sent at 09:06:00, 20 ms latency) reaches the engine with the first data point after that, the
    # BINANCE trade bar of 09:06-09:07 (BINANCE's bars come first at each minute): it fills there at that bar's close.
    ("BTCBUSD.BINANCE", ("crypto_binance_btcbusd_20221213_trade.zip", 9 * 60 + 6, 4)),
    # BYBIT's bars of that minute come after: it fills at the ask close of its 09:05-09:06 quote bar.
    ("BTCUSDT.BYBIT", ("crypto_bybit_btcusdt_20221213_quote.zip", 9 * 60 + 5, 9)),
])
def test_a_market_order_fills_against_the_bars(spot, instrument, expected):
    from nautilus_sor.backtest.runner import Scenario, _venue_dicts, run_scenario

    config = _config(instrument_id=instrument)
    venues = _venue_dicts(config, spot)
    rows = run_scenario(config, spot, Scenario("router", instrument, False, None), venues)
    file, minute, column = expected
    (fill,) = rows["fills"]
    assert fill["instrument_id"] == instrument and fill["quantity"] == pytest.approx(0.00001)
    assert fill["price"] == pytest.approx(_raw_minute_bars(file)[minute * 60_000][column], abs=1e-9)
    sent = MIDNIGHT_NS + (9 * 60 + 6) * MINUTE_NS  # the first bar closes at 09:01; the order goes 300 s later
    assert fill["ts"] == sent + MINUTE_NS  # the next minute's data point
    (order,) = rows["orders"]
    assert order["ts_submitted"] == sent and order["ts_accepted"] - order["ts_submitted"] == MINUTE_NS


@needs_crypto
def test_the_router_subscribes_bars_and_prices_bar_venues_without_a_book(spot, monkeypatch):
    from nautilus_sor.backtest import runner

    seen = {}
    collect = runner._collect

    def spy(engine, *args):
        data = engine.kernel.data_engine
        seen["bars"] = sorted(str(b) for b in data.subscribed_bars())
        seen["deltas"] = data.subscribed_order_book_deltas()
        seen["books"] = [engine.cache.order_book(i.id) for i in spot.instruments]
        return collect(engine, *args)

    monkeypatch.setattr(runner, "_collect", spy)
    config = _config("0.005", use_smart_routing=True, execution_algorithm={"type": "TWAP", "duration_seconds": 300, "interval_seconds": 60})
    venues = runner._venue_dicts(config, spot)
    rows = runner.run_scenario(config, spot, runner.scenarios_for(config, venues)[0][0], venues)
    assert seen["bars"] == sorted(str(b) for b in market_feeds(spot.data).bar_types)
    assert seen["deltas"] == [] and seen["books"] == [None, None]
    # No book and no quote tick: the no-book mode prices every venue at no reference price (scores relative to
    # it), so no child has an expected price; fees and latency are equal here, so the first venue wins the tie.
    orders = pd.DataFrame(rows["orders"])
    assert len(orders) >= 5 and orders["expected_price"].isna().all()
    assert pd.DataFrame(rows["fills"])["quantity"].sum() == pytest.approx(0.005)


# -- the market table and the TCA of a bar market ----------------------------------------------------


@needs_crypto
def test_market_table_of_bar_venues(spot):
    table = spot.market_table(recorded_prices=True)
    assert list(table.columns) == ["ts", "venue", "bid", "ask", "bid_size", "ask_size", "mid"]
    trades = _raw_minute_bars("crypto_binance_btcbusd_20221213_trade.zip")
    quotes = _raw_minute_bars("crypto_bybit_btcusdt_20221213_quote.zip")
    binance = table[table["venue"] == "BINANCE"]
    bybit = table[table["venue"] == "BYBIT"]
    assert len(binance) == len(bybit) == 30
    # BINANCE has no quote bars: NaN quote, the trade bar's close as its price.
    assert binance[["bid", "ask", "bid_size", "ask_size"]].isna().all().all()
    for ts, mid in zip(binance["ts"], binance["mid"]):
        assert mid == pytest.approx(trades[(ts - MIDNIGHT_NS) // 1_000_000 - 60_000][4], abs=1e-9)
    # BYBIT: the BID and ASK bars' closes and last quoted sizes, no mid.
    assert bybit["mid"].isna().all()
    for row in bybit.itertuples():
        q = quotes[(row.ts - MIDNIGHT_NS) // 1_000_000 - 60_000]
        assert (row.bid, row.bid_size, row.ask, row.ask_size) == pytest.approx((q[4], q[5], q[9], q[10]), abs=1e-9)


def _results(market_rows, fills_rows, parents_rows):
    from nautilus_sor.analysis import results as R

    market = pd.DataFrame(market_rows, columns=["ts", "venue", "bid", "ask", "mid"])
    market["bid_size"] = market["ask_size"] = 1.0
    return RunResults(parents=R.frame("parents", parents_rows), fills=R.frame("fills", fills_rows),
                      market=market.astype({"ts": "int64", "venue": "string"}),
                      trades=R.frame("trades", [{"ts": 1, "venue": "A", "price": 100.0, "size": 1.0}]))


def test_tca_uses_venue_prices_where_no_venue_quotes():
    from nautilus_sor.analysis.market import consolidated
    from nautilus_sor.analysis.tca import analyze

    nan = float("nan")
    market = [
        (10, "A", nan, nan, 100.0), (10, "B", nan, nan, 102.0),  # bars only: the mean of the prices, 101
        (20, "B", 101.5, 102.5, nan),  # a two-sided quote: it is the consolidated quote, 102
        (30, "B", nan, nan, 104.0),  # quote gone: the mean of A's 100 and B's 104, 102
    ]
    table = pd.DataFrame(market, columns=["ts", "venue", "bid", "ask", "mid"])
    assert consolidated(table)["cmid"].tolist() == [101.0, 102.0, 102.0]  # the mid the TCA and the report's chart use
    parents = [{"scenario": "router", "parent_id": "P", "algorithm": "TWAP", "side": "BUY", "quantity": 2.0, "arrival_ts": 15, "end_ts": 35}]
    fills = [{"scenario": "router", "parent_id": "P", "client_order_id": "C1", "venue": "A", "instrument_id": "X.A", "side": "BUY",
              "ts": 25, "quantity": 2.0, "price": 101.5, "commission": 0.0, "liquidity_side": "TAKER"}]
    tca = analyze(_results(market, fills, parents))
    parent = tca.parents.iloc[0]
    assert parent["arrival_price"] == 101.0  # not 0, not NaN
    assert parent["is_bps"] == pytest.approx((101.5 - 101.0) / 101.0 * 1e4)
    assert parent["drift_bps"] == pytest.approx((102.0 - 101.0) / 101.0 * 1e4)
    assert parent["impact_bps"] == 0.0  # no quote on A: no touch to have walked past
    assert np.isnan(tca.fills.iloc[0]["spread_capture"])  # venue A never quotes
    assert any("bar market" in n for n in tca.notes)


@needs_crypto
def test_crypto_bars_example_runs_with_its_report(tmp_path, capsys):
    from nautilus_sor.backtest.main import run_and_report
    from nautilus_sor.analysis.tca import analyze

    results, run_dir = run_and_report(str(ROOT / "examples" / "crypto_bars_twap.json"), output_dir=str(tmp_path / "run"), quiet=True,
                                      repeats=1)
    assert (run_dir / "report.html").is_file()
    assert results.summary["venue_book_types"] == {"BINANCE": "L1_MBP", "BYBIT": "L1_MBP"}
    assert "BINANCE, BYBIT" in results.summary["bar_execution"]
    tca = analyze(RunResults.load(run_dir))
    assert tca.parents["arrival_price"].between(17_000, 17_400).all()
    # Every scenario fills both parents, equal_split too: a partial fill at BYBIT's finer size precision
    # leaves a remainder that is routed on (it used to stall a parent whose primary is on BINANCE).
    assert (tca.parents["fill_rate"] == 1.0).all() and set(tca.parents["scenario"]) == {
        "router", "equal_split", "exante_best_venue", "hindsight_best_venue", "nautilus_twap", "all_on:BINANCE", "all_on:BYBIT"}


# -- quote-only venues (a Nautilus catalog of quotes and trades) -------------------------------------


@needs_ibm
def test_quotes_only_catalog_loads_and_backtests(tmp_path):
    from nautilus_trader.model.data import QuoteTick, TradeTick
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_sor.backtest.data.catalog import load_catalog
    from nautilus_sor.backtest.data.lean import load_lean_ibm
    from nautilus_sor.backtest.runner import run_backtest
    from nautilus_sor.analysis.tca import analyze

    ibm = load_lean_ibm(IBM_TICKS, start="2013-10-07T14:00:00", end="2013-10-07T14:10:00", venues=["NYSE", "ARCA", "EDGX"], bars_dir=None)
    catalog = ParquetDataCatalog(str(tmp_path / "catalog"))
    catalog.write_data(ibm.instruments)
    catalog.write_data([d for d in ibm.data if isinstance(d, QuoteTick)])
    catalog.write_data([d for d in ibm.data if isinstance(d, TradeTick)])
    market = load_catalog(tmp_path / "catalog", cache_derived=False)
    assert sorted(v.name for v in market.venues) == ["ARCA", "EDGX", "NYSE"]
    assert all(v.book is not None and v.book.levels == 1 for v in market.venues)  # a 1-level book from the quotes
    venues = [{"name": v, "maker_fee": 0.0, "taker_fee": 0.0003, "latency_ms": 1} for v in ("NYSE", "ARCA", "EDGX")]
    config = parse_config({
        "strategy": {"name": "MultiVenueStrategy", "use_smart_routing": True, "venues": venues,
                     "execution_algorithm": {"type": "TWAP", "duration_seconds": 300, "interval_seconds": 30}},
        "market": {"type": "catalog", "path": str(tmp_path / "catalog")},
        "orders": [{"side": "BUY", "quantity": "600", "at_seconds": 30}],
        "backtest": {"baselines": ["equal_split"], "seed": 7}})
    results = run_backtest(config, market=market)
    assert results.summary["venue_book_types"] == {"NYSE": "L1_MBP", "ARCA": "L1_MBP", "EDGX": "L1_MBP"}
    assert "bar_execution" not in results.summary
    router = results.orders[results.orders["scenario"] == "router"]
    # The router reads the venues' quotes (no book in the cache): book mode, each child with an expected price.
    assert router["expected_price"].notna().all() and router["expected_price"].between(150, 250).all()
    tca = analyze(results).parents.set_index("scenario")
    assert (tca["fill_rate"] == 1.0).all() and tca["arrival_price"].between(150, 250).all()


# -- Nautilus's configuration errors reach the user typed ----------------------------------------------


@needs_crypto
def test_nautilus_invalid_configuration_becomes_a_market_data_error(spot):
    from nautilus_sor.backtest.runner import nautilus_config_errors

    feeds = market_feeds(spot.data)
    # Claim order book data the market does not have: Nautilus then refuses its L2_MBP venues when it starts.
    lying = MarketFeeds(streams=feeds.streams, book_instruments=frozenset(str(i.id) for i in spot.instruments), bar_types=feeds.bar_types)
    engine = engine_for_market(spot, feeds=lying)
    try:
        with pytest.raises(MarketDataError) as info, nautilus_config_errors(spot, "router"):
            engine.run()
    finally:
        engine.dispose()
    assert info.value.field == "market" and info.value.value == "BTCBUSD.BINANCE"
    assert "no order book data for BTCBUSD.BINANCE" in str(info.value) and spot.name in str(info.value)
