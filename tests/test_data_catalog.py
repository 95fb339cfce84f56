"""Recorded markets in Nautilus catalogs (`backtest/data/catalog.py`) and the source dispatch (`sources.py`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nautilus_sor.config import MarketBlock
from nautilus_sor.exceptions import ConfigError
from shared_data import DATA as SHARED
from shared_data import ROOT, needs_data

DATA = SHARED / "binance_btc_l2_20240808"
FILES = ("spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz", "usdm_btcusdt_20240808.gz", "cm_btcusd_perp_20240808.gz",
         "cm_btcusd_perp_20240809.gz")
needs_binance = needs_data(*(DATA / f for f in FILES))
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


@needs_binance
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


@needs_binance
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


@needs_binance
@pytest.mark.slow
def test_example_backtest_runs_on_the_binance_market(tmp_path):
    from nautilus_sor.backtest.runner import run_backtest
    from nautilus_sor.config import load_config

    results = run_backtest(load_config(ROOT / "examples" / "binance_btc_twap.json"))
    assert set(results.fills["venue"]) <= {"BINANCE_SPOT", "BINANCE_USDM", "BINANCE_COINM"} and len(results.fills) > 0
    assert "recorded prices" in results.summary["market_prices"] and results.summary["market"] == "binance_btc_20240808"
    assert set(results.market["venue"]) == {"BINANCE_SPOT", "BINANCE_USDM"}  # the example leaves COIN-M out (contracts)


# -- round trips through the cache: everything the loader made comes back ----------------------------

IBM_TICKS = SHARED / "lean_equity_ticks" / "ibm"
IBM_BARS = SHARED / "lean_equity_bars" / "minute" / "ibm"
needs_ibm = needs_data(IBM_TICKS / "20131007_quote.zip", IBM_BARS)
DAY_NS = 1_670_889_600_000_000_000  # 2022-12-13 00:00 UTC
MINUTE_NS = 60_000_000_000
# Hand-made perpetual minute bars (ms after midnight UTC, o, h, l, c, volume): contracts of 100 USD,
# contracts of 1 USD, BTC. A zero-volume bar prints nothing.
PERP_BARS = {
    "cryptofuture_binance_btcusd": [(0, 17000, 17001, 16999, 17000.0, 34), (60_000, 17000, 17012, 17000, 17010.0, 0),
                                    (120_000, 17010, 17021, 17010, 17020.0, 17)],
    "cryptofuture_bybit_btcusd": [(0, 17000, 17001, 17000, 17000.5, 1700), (60_000, 17000.5, 17001, 17000, 17001.0, 3400),
                                  (120_000, 17001, 17002, 17001, 17001.5, 0)],
    "cryptofuture_bybit_btcusdt": [(0, 17000, 17001, 17000, 17000.5, 0.5), (60_000, 17000.5, 17001, 17000, 17001.0, 0.25),
                                   (120_000, 17001, 17002, 17001, 17001.5, 1.0)],
}
# The loader's tapes of those bars (hand-computed): ts (bar close), price (close), size (BTC).
PERP_TAPES = {
    "BINANCE_COINM": ([1, 3], [17000.0, 17020.0], [34 * 100 / 17000.0, 17 * 100 / 17020.0]),
    "BYBIT_INVERSE": ([1, 2], [17000.5, 17001.0], [1700 / 17000.5, 3400 / 17001.0]),
    "BYBIT_LINEAR": ([1, 2, 3], [17000.5, 17001.0, 17001.5], [0.5, 0.25, 1.0]),
}


@pytest.fixture
def perp_dir(tmp_path: Path) -> Path:
    import zipfile

    folder = tmp_path / "lean_crypto_minute"
    folder.mkdir()
    for prefix, rows in PERP_BARS.items():
        with zipfile.ZipFile(folder / f"{prefix}_20221213_trade.zip", "w") as archive:
            archive.writestr(f"20221213_{prefix.split('_')[-1]}_minute_trade_perp.csv", "".join(",".join(str(x) for x in row) + "\n" for row in rows))
    return folder


def _same_tape(a, b, *, rtol: float = 0.0) -> None:
    np.testing.assert_array_equal(a.ts, b.ts)
    np.testing.assert_array_equal(a.aggressor, b.aggressor)
    np.testing.assert_allclose(a.price, b.price, rtol=rtol, atol=0)
    np.testing.assert_allclose(a.size, b.size, rtol=rtol, atol=0)


def _data_keys(market) -> list[tuple]:
    return [(type(o).__name__, o.ts_init, str(getattr(o, "bar_type", None) or o.instrument_id)) for o in market.data]


def _same_market(a, b) -> None:
    """Every field of a RecordedMarket that a run uses."""
    assert (a.name, a.asset, a.start_ns, a.end_ns, a.notes) == (b.name, b.asset, b.start_ns, b.end_ns, b.notes)
    assert _data_keys(a) == _data_keys(b)  # same objects in the same order, equal-time ones included
    assert [v.name for v in a.venues] == [v.name for v in b.venues]
    for x, y in zip(a.venues, b.venues):
        assert (x.instrument, x.maker_fee, x.taker_fee, x.latency_ms, x.lot_size, x.size_to_instrument) == \
               (y.instrument, y.maker_fee, y.taker_fee, y.latency_ms, y.lot_size, y.size_to_instrument)
        assert (x.book is None) == (y.book is None) and (x.price_offset is None) == (y.price_offset is None)
        if x.book is not None:
            for f in ("ts", "bid_px", "bid_sz", "ask_px", "ask_sz"):
                np.testing.assert_array_equal(getattr(x.book, f), getattr(y.book, f), err_msg=f"{x.name} book.{f}")
        _same_tape(x.trades, y.trades)
    assert (a.market_trades is None) == (b.market_trades is None)
    if a.market_trades is not None:
        _same_tape(a.market_trades, b.market_trades)
    assert (a.volume_profile is None) == (b.volume_profile is None)
    if a.volume_profile is not None:
        np.testing.assert_array_equal(a.volume_profile.weights, b.volume_profile.weights)
        assert (a.volume_profile.bucket_seconds, a.volume_profile.days, a.volume_profile.for_date) == \
               (b.volume_profile.bucket_seconds, b.volume_profile.days, b.volume_profile.for_date)


def _no_loader(*_args, **_kwargs):
    raise AssertionError("the loader ran: the cached catalog was not used")


@needs_ibm
def test_ibm_cache_keeps_the_volume_curve_the_market_tape_and_the_data_order(tmp_path, monkeypatch):
    from nautilus_sor.backtest.data import lean
    from nautilus_sor.backtest.data.sources import load_market

    block = MarketBlock(type="lean_ibm", path=str(IBM_TICKS), start="2013-10-07T14:00:00Z", end="2013-10-07T14:05:00Z")
    first = load_market(block, cache_dir=tmp_path)
    assert first.volume_profile is not None and first.market_trades is not None  # what the cache must keep
    assert first.market_trades.size.sum() > sum(v.trades.size.sum() for v in first.venues)  # off-exchange prints too
    monkeypatch.setattr(lean, "load_lean_ibm", _no_loader)
    second = load_market(block, cache_dir=tmp_path)
    _same_market(first, second)
    # A sub-window read of the catalog cuts the market tape like the data (ts_init in [start, end]).
    from nautilus_sor.backtest.data.catalog import load_catalog

    cut = load_catalog(next(tmp_path.iterdir()), start=first.start_ns + 60 * 10**9, end=first.start_ns + 120 * 10**9)
    keep = (first.market_trades.ts >= cut.start_ns) & (first.market_trades.ts <= cut.end_ns)
    np.testing.assert_array_equal(cut.market_trades.size, first.market_trades.size[keep])
    np.testing.assert_array_equal(cut.volume_profile.weights, first.volume_profile.weights)
    # A subset of the venues keeps the written order of their data.
    subset = load_catalog(next(tmp_path.iterdir()), venues=["ARCA", "NYSE"])
    assert _data_keys(subset) == [k for k in _data_keys(first) if k[2] in ("IBM.ARCA", "IBM.NYSE")]


def test_bar_market_reloads_from_the_cache(perp_dir, tmp_path, monkeypatch):
    """A bar-only market came back as "no book, quote or trade data" from its cache: its bars now round-trip."""
    from nautilus_sor.backtest.data import lean
    from nautilus_sor.backtest.data.sources import load_market

    real = lean.load_lean_crypto_bars
    # The config's lean_crypto_bars is the spot market; the fixture is the perpetuals (inverse contracts).
    monkeypatch.setattr(lean, "load_lean_crypto_bars", lambda path, **kw: real(path, market="perp", **kw))
    block = MarketBlock(type="lean_crypto_bars", path=str(perp_dir))
    first = load_market(block, cache_dir=tmp_path / "cache")
    for v in first.venues:  # the loader's tapes, checked by hand
        bars, price, size = PERP_TAPES[v.name]
        assert v.book is None and v.trades.ts.tolist() == [DAY_NS + k * MINUTE_NS for k in bars]
        assert v.trades.price.tolist() == price and v.trades.size.tolist() == pytest.approx(size, rel=1e-15)
    assert first.venue("BINANCE_COINM").lot_size == pytest.approx(100 / 17000.0, rel=1e-15)
    monkeypatch.setattr(lean, "load_lean_crypto_bars", _no_loader)
    second = load_market(block, cache_dir=tmp_path / "cache")
    _same_market(first, second)
    assert {type(o).__name__ for o in second.data} == {"Bar"} and len(second.data) == 9


def test_any_bar_catalog_rebuilds_the_loaders_tapes(perp_dir, tmp_path):
    """Without our metadata (or for a subset of venues), a bar catalog's tapes are rebuilt from its LAST
    bars as the loader builds them: one print per traded bar at its close, inverse contracts in BTC."""
    from nautilus_sor.backtest.data.catalog import load_catalog, write_catalog
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars

    market = load_lean_crypto_bars(perp_dir, market="perp")
    path = write_catalog(market, tmp_path / "cat")
    subset = load_catalog(path, venues=["BYBIT_INVERSE", "BINANCE_COINM"], cache_derived=False)
    (path / "nautilus_sor.json").unlink()
    foreign = load_catalog(path, cache_derived=False)
    for again in (subset, foreign):
        for v in again.venues:
            _same_tape(v.trades, market.venue(v.name).trades, rtol=1e-15)
            assert v.book is None
            assert v.lot_size == pytest.approx(market.venue(v.name).lot_size, rel=1e-15)
            assert v.size_to_instrument == pytest.approx(market.venue(v.name).size_to_instrument, rel=1e-15)
    assert any(n.startswith("bar market: BINANCE_COINM") for n in foreign.notes)
    assert any(n.startswith("contracts: BYBIT_INVERSE") for n in foreign.notes)
    assert sorted(_data_keys(foreign)) == sorted(_data_keys(market))


def _tiny_catalog(path: Path, trades: int = 1) -> None:
    from nautilus_trader.model.data import QuoteTick, TradeTick
    from nautilus_trader.model.enums import AggressorSide
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price, Quantity
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_sor.backtest.synthetic import DEFAULT_VENUES, make_instrument

    instrument = make_instrument(DEFAULT_VENUES[0])
    t0 = 1_700_000_000_000_000_000
    catalog = ParquetDataCatalog(str(path))
    catalog.write_data([instrument])
    catalog.write_data([QuoteTick(instrument.id, Price(100 + k, 2), Price(101 + k, 2), Quantity(1, 3), Quantity(2, 3), t0 + k, t0 + k)
                        for k in range(3)])
    catalog.write_data([TradeTick(instrument.id, Price(101, 2), Quantity(0.5 + k, 3), AggressorSide.BUYER, TradeId(str(k)), t0 + 10 * k,
                                  t0 + 10 * k) for k in range(trades)])


def test_catalog_market_caches_rebuilt_arrays_until_the_catalog_changes(tmp_path, monkeypatch):
    from nautilus_sor.backtest.data import catalog as catalog_module
    from nautilus_sor.backtest.data.derived_cache import DERIVED_DIR
    from nautilus_sor.backtest.data.sources import load_market

    _tiny_catalog(tmp_path / "cat")
    calls = []
    real = catalog_module._rebuild
    monkeypatch.setattr(catalog_module, "_rebuild", lambda *a, **k: calls.append(1) or real(*a, **k))
    block = MarketBlock(type="catalog", path=str(tmp_path / "cat"))
    first = load_market(block)
    assert len(calls) == 1 and len(list((tmp_path / "cat" / DERIVED_DIR).glob("*.npz"))) == 1
    second = load_market(block)
    assert len(calls) == 1  # read from the cache next to the catalog
    _same_market(first, second)
    assert load_market(MarketBlock(type="catalog", path=str(tmp_path / "cat"), end=1_700_000_000_000_000_001)).venue("CHEAP").book.ts.size == 2
    assert len(calls) == 2  # another window is another entry
    # The catalog changes (written again with a second trade): its entries are stale and replaced.
    shutil.rmtree(tmp_path / "cat" / "data")
    _tiny_catalog(tmp_path / "cat", trades=2)
    third = load_market(block)
    assert len(calls) == 3 and third.venue("CHEAP").trades.size.tolist() == [0.5, 1.5]
    assert len(list((tmp_path / "cat" / DERIVED_DIR).glob("*.npz"))) == 1


def test_old_format_cache_is_rebuilt(tmp_path):
    """A cache written before the metadata kept the curve and the tape (format 1) is built again."""
    import json

    from nautilus_sor.backtest.data.catalog import FORMAT_VERSION, cached_market, load_catalog, read_metadata

    _tiny_catalog(tmp_path / "src")
    built = []
    build = lambda: built.append(1) or load_catalog(tmp_path / "src", cache_derived=False)  # noqa: E731
    cached_market(tmp_path / "cache", "k", {"p": 1}, build)
    meta_file = tmp_path / "cache" / "k" / "nautilus_sor.json"
    meta = json.loads(meta_file.read_text())
    assert meta["format"] == FORMAT_VERSION and len(built) == 1
    cached_market(tmp_path / "cache", "k", {"p": 1}, build)
    assert len(built) == 1
    meta["format"] = 1
    meta_file.write_text(json.dumps(meta))
    assert read_metadata(tmp_path / "cache" / "k")["format"] == 1  # still readable as a catalog
    cached_market(tmp_path / "cache", "k", {"p": 1}, build)
    assert len(built) == 2 and read_metadata(tmp_path / "cache" / "k")["format"] == FORMAT_VERSION


# -- VWAP on the market's own volume curve ("volume_profile": "market") -------------------------------


def _curve(weights_by_minute: dict[int, float]):
    from nautilus_sor.backtest.data.lean_bars import VolumeCurve

    weights = np.zeros(1440)
    for minute, w in weights_by_minute.items():
        weights[minute] = w
    return VolumeCurve(weights=weights / weights.sum(), bucket_seconds=60.0, days=("20131004",), for_date="20131007")


def test_vwap_market_profile_validates_without_data_and_resolves_to_the_curve():
    import types

    from nautilus_sor.backtest.runner import with_market_volume_profile
    from nautilus_sor.config import load_config
    from nautilus_sor.execution_algorithms import build_exec_algorithm

    config = load_config(ROOT / "examples" / "ibm_vwap.json")  # validated: the IBM data is not read
    assert config.strategy.execution_algorithm["volume_profile"] == "market"
    curve = _curve({840: 3.0, 841: 1.0})  # 14:00 and 14:01 UTC
    resolved = with_market_volume_profile(config, types.SimpleNamespace(name="m", volume_profile=curve))
    spec = resolved.strategy.execution_algorithm
    assert "volume_profile" not in spec and spec["bucket_seconds"] == 60.0 and spec["bucket_weights"] == curve.weights.tolist()
    assert (spec["duration_seconds"], spec["interval_seconds"]) == (600, 30)  # the rest of the spec as written
    algorithm = build_exec_algorithm(spec)
    assert algorithm.vwap_config.bucket_weights[840] == 0.75 and algorithm.vwap_config.volume_profile is None
    with pytest.raises(ConfigError) as info:
        with_market_volume_profile(config, types.SimpleNamespace(name="binance_btc_20240808", volume_profile=None))
    assert info.value.field == "strategy.execution_algorithm.volume_profile" and "binance_btc_20240808" in str(info.value)


@needs_ibm
def test_ibm_market_curve_is_the_hourly_profile_the_example_spelled_out(tmp_path):
    """The market's curve is IBM's hourly volume share over the days strictly before the traded day (here
    2013-10-04 only), counted from the raw minute bars: no look-ahead."""
    import zipfile

    from nautilus_sor.backtest.data.sources import load_market

    block = MarketBlock(type="lean_ibm", path=str(IBM_TICKS), start="2013-10-07T14:00:00Z", end="2013-10-07T14:05:00Z")
    curve = load_market(block, cache_dir=tmp_path).volume_profile
    assert curve.days == ("20131004",) and curve.for_date == "20131007"
    raw = IBM_TICKS.parent.parent / "lean_equity_bars" / "minute" / "ibm" / "20131004_trade.zip"
    with zipfile.ZipFile(raw) as z:
        rows = [line.split(",") for line in z.read(z.namelist()[0]).decode().splitlines()]
    by_hour: dict[int, float] = {}
    for row in rows:
        ms, volume = int(row[0]), float(row[5])
        if 9.5 * 3_600_000 <= ms < 16 * 3_600_000:  # the 09:30-16:00 session, New York time (UTC-4 in October)
            by_hour[ms // 3_600_000 + 4] = by_hour.get(ms // 3_600_000 + 4, 0.0) + volume
    total = sum(by_hour.values())
    assert curve.hourly() == pytest.approx({h: v / total for h, v in by_hour.items()}, abs=1e-9)


@needs_ibm
def test_a_loader_argument_error_names_the_config_field(tmp_path) -> None:
    from nautilus_sor.backtest.data.sources import load_market

    for block, field in (
        (MarketBlock(type="lean_ibm", path=str(IBM_TICKS), start="2013-10-05T14:00:00Z", end="2013-10-05T14:30:00Z"), "market.start"),
        (MarketBlock(type="lean_ibm", path=str(IBM_TICKS), venues=["NOPE"]), "market.venues"),
    ):
        with pytest.raises(ConfigError) as err:
            load_market(block, cache_dir=tmp_path)
        assert err.value.field == field


@needs_binance
def test_a_binance_subset_without_spot_measures_the_basis_against_its_first_venue(tmp_path) -> None:
    from nautilus_sor.backtest.data.sources import load_market

    market = load_market(MarketBlock(type="binance_btc", path=str(DATA), venues=["BINANCE_USDM", "BINANCE_COINM"],
                                     start="2024-08-08T23:55:00Z", end="2024-08-08T23:56:00Z"), cache_dir=tmp_path)
    assert [v.name for v in market.venues] == ["BINANCE_USDM", "BINANCE_COINM"]
    assert any("offset to BINANCE_USDM" in note for note in market.notes)
