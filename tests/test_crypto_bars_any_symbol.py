"""Lean crypto minute bars for any symbol and day (issue 22): copies of the shared files in tmp_path (renamed,
re-symboled, doctored) load under their own asset or are refused naming the file and line; BTC loads the
instruments and bars the fixed BTC loader made."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from nautilus_sor.exceptions import DataFileError, ValidationError
from shared_data import DATA as SHARED
from shared_data import needs_data

CRYPTO = SHARED / "lean_crypto_minute"
SPOT = ("crypto_binance_btcbusd_20221213_trade.zip", "crypto_bybit_btcusdt_20221213_trade.zip", "crypto_bybit_btcusdt_20221213_quote.zip")
PERP = ("cryptofuture_binance_btcusd_20221213_trade.zip", "cryptofuture_binance_btcusd_20221213_quote.zip",
        "cryptofuture_bybit_btcusd_20221213_trade.zip", "cryptofuture_bybit_btcusd_20221213_quote.zip",
        "cryptofuture_bybit_btcusdt_20221213_trade.zip", "cryptofuture_bybit_btcusdt_20221213_quote.zip")
needs_crypto = needs_data(*(CRYPTO / f for f in SPOT + PERP))


def _rows(source: Path) -> tuple[str, list[list[str]]]:
    with zipfile.ZipFile(source) as archive:
        member = archive.namelist()[0]
        return member, [r for r in csv.reader(io.StringIO(archive.read(member).decode())) if r]


def _copy(source: Path, out: Path, *, member: str | None = None, edit=None) -> Path:
    """A copy of a Lean zip under `out`, its CSV renamed to `member` and its rows passed through `edit`."""
    name, rows = _rows(source)
    if edit is not None:
        rows = edit(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member or name, "".join(",".join(r) + "\n" for r in rows))
    return out


def _as(base: str, directory: Path, files=SPOT) -> Path:
    """The BTC files as `base` files: file names and the CSVs' names changed, rows untouched."""
    for name in files:
        member, _ = _rows(CRYPTO / name)
        _copy(CRYPTO / name, directory / name.replace("_btc", f"_{base}"), member=member.replace("_btc", f"_{base}"))
    return directory


def _cell(row: int, column: int, value: str):
    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[row][column] = value
        return rows
    return edit


# (venue, id, type, base, quote, settlement, price increment, size increment, multiplier, maker, taker): the
# terms the BTC-only loader fixed (its `BAR_MARKETS` table), written out by hand.
BTC_TERMS = {
    "spot": [("BINANCE", "BTCBUSD.BINANCE", "CurrencyPair", "BTC", "BUSD", None, "0.01", "0.00001", "1", "0.001", "0.001"),
             ("BYBIT", "BTCUSDT.BYBIT", "CurrencyPair", "BTC", "USDT", None, "0.01", "0.000001", "1", "0.001", "0.001")],
    "perp": [("BINANCE_COINM", "BTCUSD-PERP.BINANCE_COINM", "CryptoPerpetual", "BTC", "USD", "BTC", "0.1", "1", "100", "0.0002", "0.0005"),
             ("BYBIT_INVERSE", "BTCUSD-PERP.BYBIT_INVERSE", "CryptoPerpetual", "BTC", "USD", "BTC", "0.5", "1", "1", "0.0001", "0.0006"),
             ("BYBIT_LINEAR", "BTCUSDT-PERP.BYBIT_LINEAR", "CryptoPerpetual", "BTC", "USDT", "USDT", "0.5", "0.001", "1", "0.0001", "0.0006")],
}
FILE_OF = {"BINANCE": "crypto_binance_btcbusd", "BYBIT": "crypto_bybit_btcusdt", "BINANCE_COINM": "cryptofuture_binance_btcusd",
           "BYBIT_INVERSE": "cryptofuture_bybit_btcusd", "BYBIT_LINEAR": "cryptofuture_bybit_btcusdt"}


def _terms(venue) -> tuple:
    i = venue.instrument
    settlement = str(i.settlement_currency) if type(i).__name__ == "CryptoPerpetual" else None
    return (venue.name, str(i.id), type(i).__name__, str(i.base_currency), str(i.quote_currency), settlement, str(i.price_increment),
            str(i.size_increment), str(i.multiplier), str(i.maker_fee), str(i.taker_fee))


@needs_crypto
@pytest.mark.parametrize("kind", ["spot", "perp"])
def test_btc_loads_the_instruments_and_bars_it_did(kind):
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars

    market = load_lean_crypto_bars(CRYPTO, market=kind)
    assert market.asset == "BTC" and market.name == f"lean_crypto_btc_{kind}_20221213"
    assert [_terms(v) for v in market.venues] == BTC_TERMS[kind]
    for venue in market.venues:
        kinds = {"LAST": "trade", "BID": "quote", "ASK": "quote"}
        for price_type, what in kinds.items():
            bars = [b for b in market.data if type(b).__name__ == "Bar" and b.bar_type.instrument_id == venue.instrument.id
                    and b.bar_type.spec.price_type.name == price_type]
            path = CRYPTO / f"{FILE_OF[venue.name]}_20221213_{what}.zip"
            if not path.is_file():
                assert not bars
                continue
            rows = {int(r[0]): r for r in _rows(path)[1]}
            assert len(bars) == len([ms for ms in rows if market.start_ns <= 1_670_889_600_000_000_000 + ms * 1_000_000 < market.end_ns])
            close, size = (4, 5) if what == "trade" else ((4, 5) if price_type == "BID" else (9, 10))
            for b in bars:  # each bar the file's row of the minute it closes, at the instrument's precision
                row = rows[(b.ts_init - 1_670_889_600_000_000_000) // 1_000_000 - 60_000]
                assert b.close.as_decimal() == Decimal(row[close]).quantize(Decimal(str(venue.instrument.price_increment))).normalize() or \
                    abs(float(b.close) - float(row[close])) < float(venue.instrument.price_increment) / 2
                assert float(b.volume) == pytest.approx(float(row[size]), abs=10.0 ** -venue.instrument.size_precision)


@needs_crypto
def test_another_symbol_loads_under_its_own_name(tmp_path):
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars

    market = load_lean_crypto_bars(_as("eth", tmp_path))  # the symbol is the one the files carry
    assert market.name == "lean_crypto_eth_spot_20221213" and market.asset == "ETH"
    assert [str(v.instrument.id) for v in market.venues] == ["ETHBUSD.BINANCE", "ETHUSDT.BYBIT"]
    assert [(str(v.instrument.base_currency), str(v.instrument.quote_currency)) for v in market.venues] == [("ETH", "BUSD"), ("ETH", "USDT")]
    assert {str(b.bar_type).split("-")[0] for b in market.data} == {"ETHBUSD.BINANCE", "ETHUSDT.BYBIT"}
    perps = load_lean_crypto_bars(_as("eth", tmp_path / "perp", PERP), symbol="ETH", market="perp")
    # Binance COIN-M contracts of 10 USD for every pair but BTC (Binance's rule); Bybit inverse 1 USD.
    assert [str(v.instrument.multiplier) for v in perps.venues] == ["10", "1", "1"]
    first = next(b for b in perps.data if str(b.bar_type) == "ETHUSD-PERP.BINANCE_COINM-1-MINUTE-LAST-EXTERNAL")
    assert perps.venue("BINANCE_COINM").trades.size[0] == pytest.approx(float(first.volume) * 10 / float(first.close))
    # The BTC-only default ticks do not apply to ETH: the generic 0.01.
    assert str(perps.venue("BYBIT_INVERSE").instrument.price_increment) == "0.01"


@needs_crypto
def test_a_renamed_file_of_another_symbol_is_refused(tmp_path):
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars

    for name in SPOT:  # ETH file names, the BTC streams inside
        _copy(CRYPTO / name, tmp_path / name.replace("_btc", "_eth"))
    with pytest.raises(DataFileError, match="holds the trade bars of BTCBUSD on 20221213, not BINANCE's trade bars of ETHBUSD") as err:
        load_lean_crypto_bars(tmp_path)
    assert err.value.file.endswith("crypto_binance_ethbusd_20221213_trade.zip") and err.value.line == 0


@needs_crypto
def test_another_asset_under_this_name_is_refused(tmp_path):
    """Stream names changed too: the venues' closes are 10x apart, not one asset."""
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars

    _as("btc", tmp_path)
    _copy(CRYPTO / SPOT[1], tmp_path / SPOT[1], edit=lambda rows: [[r[0], *(f"{float(x) / 10:.2f}" for x in r[1:5]), r[5]] for r in rows])
    with pytest.raises(DataFileError, match="not one asset") as err:
        load_lean_crypto_bars(tmp_path)
    assert err.value.file.endswith(SPOT[1]) and err.value.line == 1


@needs_crypto
@pytest.mark.parametrize("name, row, column, value, match", [
    # Binance spot has trade bars only: its trade prices carry the tick.
    ("crypto_binance_btcbusd_20221213_trade.zip", 7, 4, "17226.995", "close '?17226.995'? is not a multiple of the tick 0.01"),
    # Quote prices are the book's: always on the tick.
    ("cryptofuture_bybit_btcusdt_20221213_quote.zip", 3, 9, "17212.3", "ask_close '?17212.3'? is not a multiple of the tick 0.5"),
    # Inverse sizes are whole contracts.
    ("cryptofuture_binance_btcusd_20221213_quote.zip", 5, 5, "1565.5", "bid_size '?1565.5'? is not a multiple of the size step 1"),
])
def test_off_grid_values_are_refused_naming_file_and_line(tmp_path, name, row, column, value, match):
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars

    kind = "spot" if name.startswith("crypto_") else "perp"
    _as("btc", tmp_path, SPOT if kind == "spot" else PERP)
    _copy(CRYPTO / name, tmp_path / name, edit=_cell(row, column, value))
    with pytest.raises(DataFileError, match=match) as err:
        load_lean_crypto_bars(tmp_path, market=kind)
    assert err.value.file.endswith(name) and err.value.line == row + 1 and f"line {row + 1}" in str(err.value)


@needs_crypto
def test_keys_date_symbol_venues_and_listed_files(tmp_path):
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars

    with pytest.raises(ValidationError, match=r"20221214 has no trade bars of every venue .*have: 20221213") as err:
        load_lean_crypto_bars(CRYPTO, date="2022-12-14")
    assert err.value.field == "date"
    both = _as("eth", tmp_path / "two")
    _as("btc", both)
    with pytest.raises(ValidationError, match=r"name \['BTC', 'ETH'\]") as err:
        load_lean_crypto_bars(both)
    assert err.value.field == "symbol"
    assert load_lean_crypto_bars(both, symbol="eth").asset == "ETH"
    # Venues of either kind, by name; an unknown one is refused.
    mixed = load_lean_crypto_bars(CRYPTO, venues=["BYBIT", "BYBIT_LINEAR"])
    assert mixed.name == "lean_crypto_btc_perp_spot_20221213" and [v.name for v in mixed.venues] == ["BYBIT", "BYBIT_LINEAR"]
    with pytest.raises(ValidationError, match="no crypto minute bars for") as err:
        load_lean_crypto_bars(CRYPTO, venues=["OKX"])
    assert err.value.field == "venues"
    # Files listed per venue, under any name; Lean's own tree found by pattern.
    listed = tmp_path / "listed"
    a = _copy(CRYPTO / PERP[4], listed / "linear_trades.zip")
    b = _copy(CRYPTO / PERP[5], listed / "linear_quotes.zip")
    tree = tmp_path / "tree"
    _copy(CRYPTO / PERP[0], tree / "cryptofuture" / "binance" / "minute" / "btcusd" / "20221213_trade.zip")
    market = load_lean_crypto_bars(tree, market="perp", venues=["BINANCE_COINM", "BYBIT_LINEAR"],
                                   instruments={"BYBIT_LINEAR": {"files": [str(a), str(b)], "price_increment": "0.1"},
                                                "BINANCE_COINM": {"contract_size": 10}})
    assert str(market.venue("BYBIT_LINEAR").instrument.price_increment) == "0.1"
    assert str(market.venue("BINANCE_COINM").instrument.multiplier) == "10"
    with pytest.raises(ValidationError, match="instruments.BINANCE_COINM.contract_size") as err:
        load_lean_crypto_bars(tree, market="perp", instruments={"BINANCE_COINM": {"contract_size": 0.5}})
    # An inverse perpetual of an exchange without a known contract size needs one.
    _copy(CRYPTO / PERP[0], tmp_path / "okx" / "cryptofuture_okx_btcusd_20221213_trade.zip")
    with pytest.raises(ValidationError, match="okx has no default") as err:
        load_lean_crypto_bars(tmp_path / "okx", market="perp")
    assert err.value.field == "instruments.OKX_INVERSE.contract_size"


@needs_crypto
def test_the_market_block_takes_symbol_date_venues_and_instruments(tmp_path):
    from nautilus_sor.backtest.data.sources import load_market
    from nautilus_sor.config import MarketBlock

    block = MarketBlock(type="lean_crypto_bars", path=str(_as("eth", tmp_path / "eth", PERP)), symbol="ETH", date="20221213",
                        venues=["BINANCE_COINM", "BYBIT_INVERSE"], instruments={"BYBIT_INVERSE": {"price_increment": "0.05"}},
                        cache_dir=str(tmp_path / "cache"))
    market = load_market(block)
    assert market.name == "lean_crypto_eth_perp_20221213" and [v.name for v in market.venues] == ["BINANCE_COINM", "BYBIT_INVERSE"]
    assert str(market.venue("BYBIT_INVERSE").instrument.price_increment) == "0.05"
    assert np.all(market.venue("BINANCE_COINM").trades.size > 0)


# -- the bar market in the evaluation (docs/evaluation.md, "Minute bar markets") ---------------------


@needs_crypto
def test_bar_books_are_the_quote_bar_closes_and_spot_is_refused():
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars
    from nautilus_sor.backtest.sim.bars import bar_books
    from nautilus_sor.exceptions import MarketDataError

    with pytest.raises(MarketDataError, match=r"1 venue\(s\) with quote bars \(BYBIT; trade bars only: BINANCE\)"):
        bar_books(load_lean_crypto_bars(CRYPTO))
    market, notes = bar_books(load_lean_crypto_bars(CRYPTO, market="perp", end="2022-12-13T01:00:00"))
    coinm = market.venue("BINANCE_COINM")
    book = coinm.book
    assert book.levels == 1 and book.ts.size == 60 and book.ts[0] == 1_670_889_600_000_000_000 + 60_000_000_000
    rows = {int(r[0]): r for r in _rows(CRYPTO / PERP[1])[1]}
    for k, ts in enumerate(book.ts):  # the file's row of the minute that closes at ts, or no book that minute
        row = rows.get(int((ts - 1_670_889_600_000_000_000) // 1_000_000) - 60_000)
        if row is None:
            assert np.isnan(book.bid_px[k, 0]) and book.ask_sz[k, 0] == 0
        else:  # contracts of 100 USD in BTC at the quoted price
            assert book.bid_px[k, 0] == float(row[4]) and book.bid_sz[k, 0] == pytest.approx(float(row[5]) * 100 / float(row[4]))
            assert book.ask_px[k, 0] == float(row[9]) and book.ask_sz[k, 0] == pytest.approx(float(row[10]) * 100 / float(row[9]))
    assert coinm.price_offset is None and all(v.price_offset is not None for v in market.venues[1:])  # basis to the first venue
    assert any("a minute without a quote bar has no book" in n for n in notes)


@needs_crypto
def test_evaluate_runs_the_bar_market_at_bar_closes_without_passive_algorithms(tmp_path):
    from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars
    from nautilus_sor.backtest.sim.bars import bar_books
    from nautilus_sor.backtest.sim.evaluate import EvalConfig, evaluate_market
    from nautilus_sor.backtest.sim.optimum import lower_bound_bps  # noqa: F401  (the bound rows come from it)
    from nautilus_sor.backtest.sim.market import SimMarket
    from nautilus_sor.backtest.sim.params import ExecParams

    market, _ = bar_books(load_lean_crypto_bars(CRYPTO, market="perp", end="2022-12-13T03:00:00"))
    sim = SimMarket(market, ExecParams(horizon_s=600.0, interval_s=60.0))
    runs = evaluate_market(sim, EvalConfig(starts=4, algorithms=("aggressive", "twap"), sizes={"1%": 0.01}, params=sim.params, bar_closes=True))
    closes = set(market.venues[0].book.ts.tolist())
    assert set(runs["start_ns"]) <= closes  # every parent starts at a bar close
    fills = runs[runs["scenario"] == "router"]
    assert (fills["fill_ratio"] > 0).all()
    bound = runs[runs["scenario"] == "lower_bound"].set_index(["algorithm", "side", "start_ns"])["cost_all_in_bps"]
    for scenario in ("router", "equal_split", "snapshot_optimum"):
        got = runs[runs["scenario"] == scenario].set_index(["algorithm", "side", "start_ns"])["cost_all_in_bps"]
        assert (got >= bound.reindex(got.index) - 1e-9).all()
