"""Recorded markets in Nautilus catalogs (`backtest/data/catalog.py`) and the source dispatch (`sources.py`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nautilus_sor.config import MarketBlock
from nautilus_sor.exceptions import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "binance_btc_l2_20240808"
FILES = ("spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz", "usdm_btcusdt_20240808.gz", "cm_btcusd_perp_20240808.gz",
         "cm_btcusd_perp_20240809.gz")
needs_data = pytest.mark.skipif(not all((DATA / f).is_file() for f in FILES), reason=f"Binance recorded data missing under {DATA}")
END = "2024-08-08T23:54:36Z"  # 20 s from the three-market start


def _same_arrays(a, b) -> None:
    assert [v.name for v in a.venues] == [v.name for v in b.venues]
    for x, y in zip(a.venues, b.venues):
        for f in ("ts", "bid_px", "bid_sz", "ask_px", "ask_sz"):
            np.testing.assert_allclose(getattr(x.book, f), getattr(y.book, f), rtol=1e-12, atol=1e-9, err_msg=f"{x.name} book.{f}")
        for f in ("ts", "price", "size", "aggressor"):
            np.testing.assert_allclose(getattr(x.trades, f), getattr(y.trades, f), rtol=1e-12, atol=1e-9, err_msg=f"{x.name} trades.{f}")
        assert (x.maker_fee, x.taker_fee, x.latency_ms, x.lot_size) == (y.maker_fee, y.taker_fee, y.latency_ms, y.lot_size)
        assert x.instrument.id == y.instrument.id


@needs_data
def test_second_load_reads_the_catalog_not_the_raw_files(tmp_path):
    from nautilus_sor.backtest.data.sources import load_market

    data = tmp_path / "data"
    data.mkdir()
    for f in FILES:
        shutil.copy(DATA / f, data / f)
    block = MarketBlock(type="binance_btc", path=str(data), end=END, venues=["BINANCE_SPOT", "BINANCE_USDM", "BINANCE_COINM"])
    first = load_market(block, cache_dir=tmp_path / "cache")
    shutil.rmtree(data)  # the raw files are gone: only the catalog can answer
    second = load_market(block, cache_dir=tmp_path / "cache")
    _same_arrays(first, second)
    assert second.notes == first.notes and (second.start_ns, second.end_ns) == (first.start_ns, first.end_ns)
    assert len(second.data) == len(first.data)
    assert [type(o).__name__ for o in second.data[:50]] == [type(o).__name__ for o in first.data[:50]]
    cache = next((tmp_path / "cache").iterdir())
    assert (cache / "nautilus_sor.json").is_file() and list(cache.glob("arrays-*.npz"))
    # A changed window is another market: it needs the raw files again.
    with pytest.raises(ConfigError) as info:
        load_market(MarketBlock(type="binance_btc", path=str(data), end="2024-08-08T23:54:30Z"), cache_dir=tmp_path / "cache")
    assert info.value.field == "market.path"


@needs_data
def test_any_catalog_rebuilds_the_loaders_arrays(tmp_path):
    """Without our metadata, load_catalog rebuilds the books from the Nautilus deltas, converts the inverse
    contracts and removes the basis: the same arrays the loader made from the raw files."""
    from nautilus_sor.backtest.data.binance import load_binance_btc
    from nautilus_sor.backtest.data.catalog import load_catalog, write_catalog

    market = load_binance_btc(DATA, end=END)
    path = write_catalog(market, tmp_path / "cat")
    (path / "nautilus_sor.json").unlink()
    for f in path.glob("arrays-*.npz"):
        f.unlink()
    again = load_catalog(path, venues=["BINANCE_SPOT", "BINANCE_USDM", "BINANCE_COINM"], reference="BINANCE_SPOT")
    for x, y in zip(market.venues, again.venues):
        for f in ("ts", "bid_px", "bid_sz", "ask_px", "ask_sz"):
            np.testing.assert_allclose(getattr(x.book, f), getattr(y.book, f), rtol=1e-12, atol=1e-9, err_msg=f"{x.name} book.{f}")
        np.testing.assert_allclose(x.trades.size, y.trades.size, rtol=1e-12)
        np.testing.assert_allclose(x.trades.price, y.trades.price, atol=1e-9)
    assert any("contracts" in n for n in again.notes) and any("basis" in n for n in again.notes)


def test_quotes_only_catalog_gives_one_level_books(tmp_path):
    from nautilus_trader.model.data import QuoteTick, TradeTick
    from nautilus_trader.model.enums import AggressorSide
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price, Quantity
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_sor.backtest.data.catalog import load_catalog
    from nautilus_sor.backtest.synthetic import DEFAULT_VENUES, make_instrument

    instrument = make_instrument(DEFAULT_VENUES[0])
    t0 = 1_700_000_000_000_000_000
    quotes = [QuoteTick(instrument.id, Price(100 + k, 2), Price(101 + k, 2), Quantity(1 + k, 3), Quantity(2, 3), t0 + k, t0 + k) for k in range(3)]
    trades = [TradeTick(instrument.id, Price(101, 2), Quantity(0.5, 3), AggressorSide.BUYER, TradeId("1"), t0 + 1, t0 + 1)]
    catalog = ParquetDataCatalog(str(tmp_path))
    catalog.write_data([instrument])
    catalog.write_data(quotes)
    catalog.write_data(trades)
    market = load_catalog(tmp_path)
    v = market.venue("CHEAP")
    assert v.book.levels == 1 and v.book.bid_px[:, 0].tolist() == [100, 101, 102] and v.book.bid_sz[:, 0].tolist() == [1, 2, 3]
    assert v.trades.aggressor.tolist() == [1] and v.trades.size.tolist() == [0.5]
    assert (v.maker_fee, v.taker_fee, v.latency_ms) == (0.0, 0.0002, 5.0) and market.asset == "BTC"
    with pytest.raises(ConfigError) as info:
        load_catalog(tmp_path, venues=["NOPE"])
    assert info.value.field == "venues[0]"


def test_sources_dispatch_and_errors(tmp_path, monkeypatch):
    from nautilus_sor.backtest.data import sources
    from nautilus_sor.backtest.synthetic import SyntheticMarket

    assert isinstance(sources.load_market(MarketBlock(seed=3, duration_seconds=5)), SyntheticMarket)
    with pytest.raises(ConfigError) as info:
        sources.load_market(MarketBlock(type="catalog", path=str(tmp_path / "nowhere")))
    assert info.value.field == "market.path" and "nowhere" in str(info.value)
    # A source whose loader module does not exist (yet) says so.
    monkeypatch.setitem(sources._LEAN, "lean_ibm", ("nautilus_sor.backtest.data.not_written_yet", "load_lean_ibm"))
    with pytest.raises(ConfigError) as info:
        sources.load_market(MarketBlock(type="lean_ibm", path=str(tmp_path)), cache_dir=None)
    assert info.value.field == "market.type" and "not available" in str(info.value)


@needs_data
@pytest.mark.slow
def test_example_backtest_runs_on_the_binance_market(tmp_path):
    from nautilus_sor.backtest.runner import run_backtest
    from nautilus_sor.config import load_config

    results = run_backtest(load_config(ROOT / "examples" / "binance_btc_twap.json"))
    assert set(results.fills["venue"]) <= {"BINANCE_SPOT", "BINANCE_USDM", "BINANCE_COINM"} and len(results.fills) > 0
    assert "recorded prices" in results.summary["market_prices"] and results.summary["market"] == "binance_btc_20240808"
    assert set(results.market["venue"]) == {"BINANCE_SPOT", "BINANCE_USDM", "BINANCE_COINM"}
