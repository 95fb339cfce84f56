"""Loaders for any symbol and day (issue 22): Binance and Lean data of another asset, made from copies of the
shared files in tmp_path (renamed, re-symboled or doctored), load under that asset or are refused naming the
file and line."""

from __future__ import annotations

import gzip
import json
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from nautilus_sor.exceptions import ConfigError, MarketDataError
from shared_data import DATA as SHARED
from shared_data import needs_data

BINANCE = SHARED / "binance_btc_l2_20240808"
SOURCES = {"spot": "spot_btcusdt_20240808.gz", "usdm": "usdm_btcusdt_20240808.gz", "cm": "cm_btcusd_perp_20240808.gz"}
LINES = 4000  # each file's first lines: its snapshot and ~20 s of the common window
needs_binance = needs_data(*(BINANCE / f for f in SOURCES.values()))


def _head(name: str) -> list[bytes]:
    return gzip.decompress((BINANCE / name).read_bytes()).split(b"\n")[:LINES]


def _write(directory: Path, name: str, lines: list[bytes]) -> None:
    (directory / name).write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))


def _resymbol(lines: list[bytes], old: str, new: str) -> list[bytes]:
    """Every symbol, stream and pair of `old` (e.g. BTC) named `new` instead (the prices are left alone)."""
    return [ln.replace(old.encode(), new.encode()).replace(old.lower().encode(), new.lower().encode()) for ln in lines]


def _capture(directory: Path, base: str = "ETH", *, rename: bool = True, resymbol: bool = True, kinds=("spot", "usdm", "cm")) -> Path:
    """The BTC capture's heads as `base` files (renamed and/or with the symbols in the text changed)."""
    directory.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        source = SOURCES[kind]
        lines = _head(source)
        if resymbol:
            lines = _resymbol(lines, "BTC", base)
        _write(directory, source.replace("btc", base.lower()) if rename else source, lines)
    return directory


@needs_binance
def test_another_symbol_loads_under_its_own_name(tmp_path):
    from nautilus_sor.backtest.data.binance import load_binance

    market = load_binance(_capture(tmp_path))  # the symbol is the one the file names carry
    assert market.name == "binance_eth_20240808" and market.asset == "ETH"
    ids = [str(v.instrument.id) for v in market.venues]
    assert ids == ["ETHUSDT.BINANCE_SPOT", "ETHUSDT-PERP.BINANCE_USDM", "ETHUSD-PERP.BINANCE_COINM"]
    assert all(v.instrument.base_currency.code == "ETH" for v in market.venues)
    assert {o.instrument_id.symbol.value for o in market.data[:2000]} <= {"ETHUSDT", "ETHUSDT-PERP", "ETHUSD-PERP"}
    # COIN-M pairs other than BTCUSD are contracts of 10 USD (Binance's rule): sizes in ETH are 10 USD / price each.
    coinm = market.venues[2]
    assert coinm.instrument.multiplier.as_double() == 10.0
    btc = load_binance(_capture(tmp_path / "btc", "BTC", rename=False, resymbol=False, kinds=("cm",)))
    assert btc.venues[0].instrument.multiplier.as_double() == 100.0
    np.testing.assert_allclose(np.nansum(coinm.book.ask_sz[0]) * 10, np.nansum(btc.venues[0].book.ask_sz[0]), rtol=1e-9)


@needs_binance
def test_files_of_another_symbol_under_this_name_are_refused(tmp_path):
    """BTC files renamed ETH (their text still BTC): the stream of another symbol, named with its file and line."""
    from nautilus_sor.backtest.data.binance import load_binance

    with pytest.raises(MarketDataError, match=r"spot_ethusdt_20240808\.gz line \d+: .*'BTCUSDT'.*another symbol") as info:
        load_binance(_capture(tmp_path, resymbol=False), symbol="ETH")
    assert "BINANCE_SPOT" in str(info.value)


@needs_binance
def test_a_contract_size_the_pair_does_not_have_is_refused(tmp_path):
    from nautilus_sor.backtest.data.binance import load_binance

    directory = _capture(tmp_path, kinds=("cm",))
    with pytest.raises(MarketDataError, match=r"cm_ethusd_perp_20240808\.gz line \d+: pair 'ETHUSD' has contracts of 10 USD.*100 USD"):
        load_binance(directory, instruments={"BINANCE_COINM": {"contract_size": 100}})


@needs_binance
def test_a_price_off_the_configured_tick_is_refused(tmp_path):
    """0.10 has the precision of 0.01: the grid, not only the precision, is checked."""
    from nautilus_sor.backtest.data.binance import load_binance

    directory = _capture(tmp_path, "BTC", rename=False, resymbol=False, kinds=("spot",))
    with pytest.raises(MarketDataError, match=r"spot_btcusdt_20240808\.gz line \d+: price \S+ is not a multiple of BINANCE_SPOT's tick 0\.10"):
        load_binance(directory, instruments={"BINANCE_SPOT": {"price_increment": "0.10"}})


def _shift_prices(lines: list[bytes], by: Decimal) -> list[bytes]:
    """Every price of the stream moved by `by` (on any grid `by` is on): another asset's price level."""
    def px(text: str) -> str:
        return str(Decimal(text) + by)

    out = []
    for ln in lines:
        ts, body = ln.split(b" ", 1)
        doc = json.loads(body)
        data = doc.get("data", doc)
        for key in ("b", "a", "bids", "asks"):
            if isinstance(data.get(key), list):
                data[key] = [[px(p), q] for p, q in data[key]]
            elif key in ("b", "a") and isinstance(data.get(key), str):
                data[key] = px(data[key])
        if "p" in data:
            data["p"] = px(data["p"])
        out.append(ts + b" " + json.dumps(doc, separators=(",", ":")).encode())
    return out


@needs_binance
def test_venues_of_different_assets_are_refused(tmp_path):
    """A USD-M file of an asset trading ~58,000 above spot (its symbol text says BTC): not one asset."""
    from nautilus_sor.backtest.data.binance import load_binance

    directory = _capture(tmp_path, "BTC", rename=False, resymbol=False, kinds=("spot",))
    _write(directory, SOURCES["usdm"], _shift_prices(_head(SOURCES["usdm"]), Decimal("58000.00")))
    with pytest.raises(MarketDataError, match=r"usdm_btcusdt_20240808\.gz line 1: BINANCE_USDM \(BTCUSDT\) trades .* away from BINANCE_SPOT.*not one asset"):
        load_binance(directory)


@needs_binance
def test_symbol_choice_and_listed_files(tmp_path):
    from nautilus_sor.backtest.data.binance import load_binance, symbols_in

    _capture(tmp_path, "ETH", kinds=("spot",))
    _capture(tmp_path, "BTC", rename=False, resymbol=False, kinds=("spot",))
    assert symbols_in(tmp_path) == {"BINANCE_SPOT": ["BTC", "ETH"]}
    with pytest.raises(ConfigError, match=r"invalid symbol: missing.*\['BTC', 'ETH'\]"):
        load_binance(tmp_path)
    with pytest.raises(MarketDataError, match=r"missing data files for BINANCE_USDM: no usdm_solusdt_<YYYYMMDD>\.gz"):
        load_binance(tmp_path, symbol="SOL", venues=["BINANCE_USDM"])
    # Files under any name, listed in the config, in order.
    shutil.move(tmp_path / "spot_ethusdt_20240808.gz", tmp_path / "capture-a.gz")
    market = load_binance(tmp_path, symbol="ETH", instruments={"BINANCE_SPOT": {"files": ["capture-a.gz"]}})
    assert market.name == "binance_eth_20240808" and str(market.venues[0].instrument.id) == "ETHUSDT.BINANCE_SPOT"
    with pytest.raises(ConfigError, match=r"invalid instruments\.BINANCE_SPOT\.tick: unknown key"):
        load_binance(tmp_path, symbol="ETH", instruments={"BINANCE_SPOT": {"tick": "0.01"}})


@needs_binance
def test_the_market_block_loads_another_symbol(tmp_path):
    from nautilus_sor.backtest.data.sources import load_market
    from nautilus_sor.config import MarketBlock

    directory = _capture(tmp_path / "data", kinds=("spot", "usdm"))
    market = load_market(MarketBlock(type="binance", path=str(directory), symbol="ETH", levels=5), cache_dir=tmp_path / "cache")
    assert market.name == "binance_eth_20240808" and [v.name for v in market.venues] == ["BINANCE_SPOT", "BINANCE_USDM"]
    assert market.venues[0].book.bid_px.shape[1] == 5
    with pytest.raises(ConfigError, match=r"market\.instruments\.BINANCE_USDM\.contract_size"):
        load_market(MarketBlock(type="binance", path=str(directory), symbol="ETH", instruments={"BINANCE_USDM": {"contract_size": 10}}),
                    cache_dir=tmp_path / "cache")


LEAN_TICKS = SHARED / "lean_equity_ticks" / "ibm"
LEAN_BARS = SHARED / "lean_equity_bars" / "minute"
needs_lean = needs_data(LEAN_TICKS / "20131008_quote.zip", LEAN_BARS / "bac")


def _lean_root(root: Path, ticker: str, days=("20131008",)) -> Path:
    """A data root with `ticker`'s tick folder (IBM's tick files: the format is what matters) and its own minute bars."""
    ticks = root / "lean_equity_ticks" / ticker.lower()
    ticks.mkdir(parents=True)
    for day in days:
        for kind in ("quote", "trade"):
            shutil.copy(LEAN_TICKS / f"{day}_{kind}.zip", ticks / f"{day}_{kind}.zip")
    shutil.copytree(LEAN_BARS / ticker.lower(), root / "lean_equity_bars" / "minute" / ticker.lower())
    return root


@needs_lean
def test_lean_any_ticker_and_day_with_a_curve_from_earlier_days_only(tmp_path):
    from nautilus_sor.backtest.data.lean import load_lean_equity, volume_profile_from_minute_bars

    root = _lean_root(tmp_path, "BAC")
    market = load_lean_equity(root, "2013-10-08", symbol="bac", start="2013-10-08T14:00:00Z", end="2013-10-08T14:05:00Z")
    assert market.name == "lean_bac_20131008" and market.asset == "BAC"
    assert market.venues and all(str(v.instrument.id).startswith("BAC.") for v in market.venues)
    # BAC's own bars, of the days strictly before the 8th (the folder has the 9th to the 11th too).
    curve = market.volume_profile
    assert curve.days == ("20131004", "20131007") and curve.for_date == "20131008"
    bac_bars = root / "lean_equity_bars" / "minute" / "bac"
    expected = volume_profile_from_minute_bars(bac_bars, days=["20131004", "20131007"], for_date="20131008")
    np.testing.assert_array_equal(curve.weights, expected.weights)
    ibm = volume_profile_from_minute_bars(LEAN_BARS / "ibm", days=["20131004", "20131007"], for_date="20131008")
    assert not np.allclose(curve.weights, ibm.weights)  # not IBM's curve


@needs_lean
def test_lean_market_block_symbol_and_date(tmp_path):
    from nautilus_sor.backtest.data.sources import load_market
    from nautilus_sor.config import MarketBlock

    root = _lean_root(tmp_path / "data", "AIG")
    block = MarketBlock(type="lean_equity", path=str(root), symbol="AIG", date="20131008", start="2013-10-08T14:00:00Z", end="2013-10-08T14:02:00Z")
    market = load_market(block, cache_dir=tmp_path / "cache")
    assert market.name == "lean_aig_20131008" and all(v.instrument.id.symbol.value == "AIG" for v in market.venues)
    with pytest.raises(ConfigError, match=r"invalid market\.date: .*20131009 has no quote and trade files.*have: 20131008") as info:
        load_market(MarketBlock(type="lean_equity", path=str(root), symbol="AIG", date="20131009"), cache_dir=tmp_path / "cache")
    assert info.value.field == "market.date"
    with pytest.raises(ConfigError, match=r"invalid market\.symbol: .*'SPY' has no tick folder"):
        load_market(MarketBlock(type="lean_equity", path=str(root), symbol="SPY"), cache_dir=tmp_path / "cache")


@needs_lean
def test_lean_first_day_has_no_curve_rather_than_a_later_days_one(tmp_path):
    from nautilus_sor.backtest.data.lean import load_lean_equity

    root = _lean_root(tmp_path, "BAC")
    (root / "lean_equity_bars" / "minute" / "bac" / "20131004_trade.zip").unlink()
    (root / "lean_equity_bars" / "minute" / "bac" / "20131007_trade.zip").unlink()
    market = load_lean_equity(root, "20131008", symbol="BAC", start="2013-10-08T14:00:00Z", end="2013-10-08T14:02:00Z")
    assert market.volume_profile is None
    assert any("volume_profile: none (no minute trade bars before 20131008" in n for n in market.notes)


def test_evaluate_market_block_from_shortcuts(tmp_path):
    """`nautilus-sor evaluate` loads what the backtest loads: the shortcuts become a checked market block."""
    from nautilus_sor.backtest.sim.evaluate import market_block
    from nautilus_sor.exceptions import ValidationError

    block = market_block("binance", tmp_path, symbol="ETH", venues=["BINANCE_SPOT", "BINANCE_USDM"], levels=50)
    assert (block.type, block.symbol, block.venues, block.levels) == ("binance", "ETH", ["BINANCE_SPOT", "BINANCE_USDM"], 50)
    assert block.path == str(tmp_path / "binance_btc_l2_20240808")
    block = market_block("lean_equity", tmp_path, symbol="BAC", date="20131008")
    assert (block.type, block.path, block.symbol, block.date) == ("lean_equity", str(tmp_path), "BAC", "20131008")
    with pytest.raises(ValidationError, match="a lean_equity market needs --symbol"):
        market_block("lean_equity", tmp_path)
    with pytest.raises(ConfigError, match=r"invalid market\.symbol: 'ETH' \(only for market\.type binance or lean_equity or lean_crypto_bars, not lean_ibm\)"):
        market_block("lean_ibm", tmp_path, symbol="ETH")
    with pytest.raises(ConfigError, match=r"invalid market\.levels: 0"):
        market_block("binance", tmp_path, levels=0)
    with pytest.raises(ValidationError, match="a catalog market needs --path"):
        market_block("catalog", tmp_path)
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"strategy": {"name": "MultiVenueStrategy", "venues": [{"name": "BINANCE_SPOT", "maker_fee": 0.001, "taker_fee": 0.001, "latency_ms": 5}]},
                                  "market": {"type": "binance", "path": "x", "symbol": "ETH"}, "orders": [{"side": "BUY", "quantity": "1"}]}))
    block = market_block(str(config), tmp_path, levels=10)
    # The config file's market.path is relative to the file, as `backtest` reads it.
    assert (block.type, block.path, block.symbol, block.levels) == ("binance", str(tmp_path / "x"), "ETH", 10)


def test_evaluate_cli_refuses_a_lean_equity_market_without_a_ticker(tmp_path, capsys):
    from nautilus_sor.cli import main

    code = main(["evaluate", "--market", "lean_equity", "--data", str(tmp_path), "--out", str(tmp_path / "out")])
    assert code != 0 and "needs --symbol" in capsys.readouterr().err
