"""The Binance three-market loader (`backtest/data/binance.py`) on the recorded data in ../shared/data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from nautilus_sor.exceptions import ConfigError, MarketDataError
from shared_data import DATA as SHARED
from shared_data import needs_data

DATA = SHARED / "binance_btc_l2_20240808"
FILES = ("spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz", "usdm_btcusdt_20240808.gz", "cm_btcusd_perp_20240808.gz",
         "cm_btcusd_perp_20240809.gz")
pytestmark = needs_data(*(DATA / f for f in FILES))
END = "2024-08-08T23:54:46Z"  # a 30 s window from the three-market start keeps the tests fast


@pytest.fixture(scope="module")
def market():
    from nautilus_sor.backtest.data.binance import load_binance_btc

    return load_binance_btc(DATA, end=END)


def _raw_lines(name: str) -> dict[int, bytes]:
    """ts -> JSON body of every line of a file."""
    out = {}
    for line in gzip.decompress((DATA / name).read_bytes()).split(b"\n"):
        if line:
            ts, body = line.split(b" ", 1)
            out[int(ts)] = body
    return out


def test_instruments_have_the_markets_terms(market):
    spot, usdm, coinm = (market.venue(v).instrument for v in ("BINANCE_SPOT", "BINANCE_USDM", "BINANCE_COINM"))
    assert type(spot).__name__ == "CurrencyPair" and str(spot.id) == "BTCUSDT.BINANCE_SPOT"
    assert (spot.price_precision, spot.size_precision, str(spot.size_increment)) == (2, 5, "0.00001")
    assert type(usdm).__name__ == "CryptoPerpetual" and not usdm.is_inverse and usdm.settlement_currency.code == "USDT"
    assert (usdm.price_precision, str(usdm.price_increment), usdm.size_precision) == (2, "0.10", 3)
    assert coinm.is_inverse and int(coinm.multiplier) == 100 and coinm.settlement_currency.code == "BTC" and coinm.size_precision == 0
    assert [v.taker_fee for v in market.venues] == [0.001, 0.0005, 0.0005]
    assert [v.maker_fee for v in market.venues] == [0.001, 0.0002, 0.0002]
    assert all(v.latency_ms == 5.0 for v in market.venues)


def test_data_sorted_and_books_start_with_a_snapshot(market):
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.enums import BookAction, RecordFlag

    ts = [o.ts_init for o in market.data]
    assert ts == sorted(ts) and ts[0] >= market.start_ns and ts[-1] <= market.end_ns
    for v in market.venues:
        books = [o for o in market.data if isinstance(o, OrderBookDeltas) and o.instrument_id == v.instrument.id]
        first = books[0].deltas
        assert first[0].action == BookAction.CLEAR and all(d.action == BookAction.ADD for d in first[1:])
        assert all(d.flags & RecordFlag.F_SNAPSHOT for d in first[1:]) and first[-1].flags & RecordFlag.F_LAST
        # Every message ends with exactly one F_LAST, on its last delta.
        for batch in books:
            flags = [d.flags & RecordFlag.F_LAST for d in batch.deltas]
            assert flags[-1] and not any(flags[:-1])


def test_diffs_equal_nautilus_parse_to_order_book_deltas(market):
    """USD-M strings carry exactly the instrument's precision, so Nautilus's own parse applies as is."""
    import msgspec
    from nautilus_trader.adapters.binance.common.schemas.market import BinanceOrderBookMsg
    from nautilus_trader.model.data import OrderBookDeltas

    iid = market.venue("BINANCE_USDM").instrument.id
    raw = _raw_lines("usdm_btcusdt_20240808.gz")
    ours = [o for o in market.data if isinstance(o, OrderBookDeltas) and o.instrument_id == iid][1:200]
    decoder = msgspec.json.Decoder(BinanceOrderBookMsg)
    key = lambda d: (d.action, d.order.side, d.order.price, d.order.size, d.flags, d.sequence, d.ts_init)  # noqa: E731
    for batch in ours:
        theirs = decoder.decode(raw[batch.ts_init]).data.parse_to_order_book_deltas(iid, batch.ts_init)
        assert [key(d) for d in batch.deltas] == [key(d) for d in theirs.deltas]
        # Nautilus's millis_to_nanos goes through a float (1723161257918 ms -> ...918000128 ns); ours is exact.
        assert all(d.ts_event % 1_000_000 == 0 and abs(d.ts_event - t.ts_event) < 1_000 for d, t in zip(batch.deltas, theirs.deltas))


def test_arrays_equal_the_replayed_nautilus_book(market):
    """Replaying the Nautilus deltas into Nautilus's own L2 book gives the arrays' last row (recorded prices;
    COIN-M sizes converted back to contracts)."""
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.enums import BookType

    for v in market.venues:
        book = OrderBook(v.instrument.id, BookType.L2_MBP)
        for o in market.data:
            if isinstance(o, OrderBookDeltas) and o.instrument_id == v.instrument.id:
                book.apply_deltas(o)
        offset = v.offset_at(v.book.ts[-1:])[0]
        bids = [(lv.price.as_double(), lv.size()) for lv in book.bids()[:20]]
        asks = [(lv.price.as_double(), lv.size()) for lv in book.asks()[:20]]
        bid_px, ask_px = v.book.bid_px[-1] + offset, v.book.ask_px[-1] + offset
        bid_sz, ask_sz = v.book.bid_sz[-1], v.book.ask_sz[-1]
        if v.instrument.is_inverse:
            bid_sz, ask_sz = bid_sz * bid_px / 100, ask_sz * ask_px / 100
        np.testing.assert_allclose(bid_px, [p for p, _ in bids], atol=1e-6)
        np.testing.assert_allclose(ask_px, [p for p, _ in asks], atol=1e-6)
        np.testing.assert_allclose(bid_sz, [s for _, s in bids], rtol=1e-9)
        np.testing.assert_allclose(ask_sz, [s for _, s in asks], rtol=1e-9)


def test_books_never_cross_and_match_bookticker(market):
    from nautilus_trader.model.data import QuoteTick

    table = market.market_table(recorded_prices=True)
    for v in market.venues:
        assert (v.book.bid_px[:, 0] < v.book.ask_px[:, 0]).all()
        quotes = [q for q in market.data if isinstance(q, QuoteTick) and q.instrument_id == v.instrument.id]
        offsets = v.offset_at(v.book.ts)

        def same(k: int, q=None) -> bool:
            return k < v.book.ts.size and abs(v.book.bid_px[k, 0] + offsets[k] - q.bid_price.as_double()) < 1e-6 \
                and abs(v.book.ask_px[k, 0] + offsets[k] - q.ask_price.as_double()) < 1e-6

        # bookTicker and the diffs are separate streams: a quote often arrives just before the diff that
        # carries the same update. Matched by receive time (the book in force or the next one), measured
        # 81% spot, 90% USD-M, 96% COIN-M on this window.
        hits = sum(same(j, q) or same(j + 1, q) for q in quotes for j in [v.book.index_at(q.ts_init)])
        assert hits / len(quotes) > {"BINANCE_SPOT": 0.75, "BINANCE_USDM": 0.85, "BINANCE_COINM": 0.9}[v.name], (v.name, hits / len(quotes))
    assert set(table["venue"]) == {v.name for v in market.venues}


def test_basis_is_removed_without_look_ahead(market):
    from nautilus_sor.backtest.data.recorded import _mid_at

    ref = market.venue("BINANCE_SPOT")
    grid = np.arange(market.start_ns, market.end_ns, 1_000_000_000)
    for name in ("BINANCE_USDM", "BINANCE_COINM"):
        v = market.venue(name)
        raw_gap = _mid_at(v.book, grid) + v.offset_at(grid) - _mid_at(ref.book, grid)
        clean_gap = _mid_at(v.book, grid) - _mid_at(ref.book, grid)
        assert np.nanmedian(np.abs(raw_gap)) > 10  # perps sat 16-22 USD below spot
        assert np.nanmedian(np.abs(clean_gap)) < 3
        # The offset at sample k is the median of the raw gaps at samples <= k (60 s window): check k = 10.
        gts, off = v.price_offset
        assert off[10] == pytest.approx(np.median(raw_gap[:11]), abs=1e-9)
    assert any("basis" in n and "BINANCE_USDM" in n for n in market.notes)
    assert any("contracts" in n and "BINANCE_COINM" in n for n in market.notes)


def test_coinm_sizes_are_btc(market):
    from nautilus_trader.model.data import TradeTick

    v = market.venue("BINANCE_COINM")
    ticks = [t for t in market.data if isinstance(t, TradeTick) and t.instrument_id == v.instrument.id]
    expected = [t.size.as_double() * 100 / t.price.as_double() for t in ticks]
    np.testing.assert_allclose(v.trades.size, expected, rtol=1e-12)
    assert v.trades.aggressor.tolist() == [1 if t.aggressor_side.name == "BUYER" else -1 for t in ticks]
    assert v.lot_size == pytest.approx(100 / 61_824, rel=0.01)


def test_window_outside_the_overlap_is_an_error():
    from nautilus_sor.backtest.data.binance import load_binance_btc

    with pytest.raises(ConfigError) as info:
        load_binance_btc(DATA, start="2024-08-08T23:54:00Z", end=END)
    assert info.value.field == "start"
    with pytest.raises(ConfigError) as info:
        load_binance_btc(DATA, venues=["BINANCE_SPOT", "BINANCE-USDM"])
    assert info.value.field == "venues[1]"


# -- doctored files: a gap is an error naming file, line and ids ---------------------------------------------


def _doctor(tmp_path: Path, name: str, keep: int, drop: callable) -> Path:
    """The first `keep` lines of `name` after its snapshot's bridging diff, minus those `drop(i, line)` says."""
    lines = gzip.decompress((DATA / name).read_bytes()).split(b"\n")
    lines = [ln for i, ln in enumerate(lines[:keep]) if not drop(i, ln)]
    out = tmp_path / name
    out.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return out


def _depth_indices(name: str, keep: int) -> tuple[int, list[int]]:
    lines = gzip.decompress((DATA / name).read_bytes()).split(b"\n")[:keep]
    snap = next(i for i, ln in enumerate(lines) if b'{"lastUpdateId"' in ln[:60])
    return snap, [i for i, ln in enumerate(lines) if b"@depth" in ln[:80]]


@pytest.mark.parametrize("name, venue", [("spot_btcusdt_20240808.gz", "BINANCE_SPOT"), ("usdm_btcusdt_20240808.gz", "BINANCE_USDM")])
def test_a_missing_diff_is_a_gap_error(tmp_path, name, venue):
    from nautilus_sor.backtest.data.binance import market_specs, read_market

    snap, depth = _depth_indices(name, 3000)
    victim = [i for i in depth if i > snap][5]  # well after the bridge
    _doctor(tmp_path, name, 3000, lambda i, _: i == victim)
    spec = market_specs(tmp_path, "BTC", [venue], {venue: {"files": [name]}})[0]
    with pytest.raises(MarketDataError) as info:
        read_market(spec, tmp_path)
    text = str(info.value)
    assert name in text and "gap" in text and ("pu=" in text if venue == "BINANCE_USDM" else "U=" in text)
    # The line named is the first diff after the dropped one (1-based, in the doctored file).
    after = [i for i in depth if i > victim][0]
    assert f"line {after}" in text  # one line fewer before it: its 0-based index is its new 1-based number


def test_a_snapshot_no_diff_bridges_is_an_error(tmp_path):
    from nautilus_sor.backtest.data.binance import market_specs, read_market

    name = "spot_btcusdt_20240808.gz"
    snap, depth = _depth_indices(name, 3000)
    # Drop every diff from shortly before the snapshot to a few after: the first one left starts past it.
    before = [i for i in depth if i < snap][-3:]
    after = [i for i in depth if i > snap][:3]
    _doctor(tmp_path, name, 3000, lambda i, _: i in before or i in after)
    spec = market_specs(tmp_path, "BTC", ["BINANCE_SPOT"], {"BINANCE_SPOT": {"files": [name]}})[0]
    with pytest.raises(MarketDataError) as info:
        read_market(spec, tmp_path)
    assert "does not bridge" in str(info.value) and "lastUpdateId=" in str(info.value) and name in str(info.value)


@pytest.mark.slow
def test_the_full_three_market_window_loads():
    """The whole three-market window, every venue with a book. (How long it takes: benches/bench_data_load.py.)"""
    from nautilus_sor.backtest.data.binance import load_binance_btc

    m = load_binance_btc(DATA)
    assert (m.end_ns - m.start_ns) / 1e9 == pytest.approx(343, abs=5)
    assert [v.name for v in m.venues] == ["BINANCE_SPOT", "BINANCE_USDM", "BINANCE_COINM"]
    assert all(v.book is not None and len(v.book.ts) > 0 for v in m.venues) and len(m.data) > 0
