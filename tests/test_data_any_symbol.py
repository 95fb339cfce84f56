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

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BINANCE = SHARED / "binance_btc_l2_20240808"
SOURCES = {"spot": "spot_btcusdt_20240808.gz", "usdm": "usdm_btcusdt_20240808.gz", "cm": "cm_btcusd_perp_20240808.gz"}
LINES = 4000  # each file's first lines: its snapshot and ~20 s of the common window
needs_binance = pytest.mark.skipif(not all((BINANCE / f).is_file() for f in SOURCES.values()), reason=f"Binance data missing under {BINANCE}")


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
