"""Lean loaders: US-equity ticks as per-venue books and tapes, minute-bar volume curves, crypto bar market.

Hand-checked fixtures are written as Lean zips in tmp_path; the real-data tests read ../shared/data
(skipped with the reason when a file is missing, failed under CI=true: tests/shared_data.py)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nautilus_sor.backtest.data import lean_nbbo
from nautilus_sor.backtest.data.lean import load_lean_equity_ticks, load_lean_ibm
from nautilus_sor.backtest.data.lean_bars import VolumeCurve, volume_profile_from_minute_bars
from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars
from nautilus_sor.backtest.data.lean_files import local_ms_to_utc_ns
from nautilus_sor.exceptions import ValidationError
from shared_data import DATA, require_data

IBM_TICKS = DATA / "lean_equity_ticks" / "ibm"
MINUTE = DATA / "lean_equity_bars" / "minute"
CRYPTO = DATA / "lean_crypto_minute"

OPEN_MS = 34_200_000  # 09:30 New York
UTC = dt.timezone.utc


def need(path: Path) -> Path:
    require_data(path)
    return path


def write_lean_zip(path: Path, member: str, rows: list[tuple]) -> None:
    """A Lean file: one header-less CSV inside a zip."""
    text = "".join(",".join(str(x) for x in row) + "\n" for row in rows)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text)


def px(usd: float) -> int:
    return round(usd * 10_000)


def utc_ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp()) * 1_000_000_000


# ms of the four quote instants and the rows of the hand-checked day (2013-10-07, New York = UTC-4)
T0, T1, T2, T3, T4 = (OPEN_MS + k * 1000 for k in range(5))
QUOTES = [
    # ms, bid, bid_size, ask, ask_size, exchange, condition, suspicious
    (T0, px(100.00), 200, 0, 0, "N", 1, 0),  # r0
    (T0, 0, 0, px(100.05), 300, "N", 1, 0),  # r1
    (T1, px(100.01), 100, 0, 0, "Q", 1, 0),  # r2  NBBO bid up to Q; N's 100.00 stays (not better)
    (T1, 0, 0, px(100.05), 500, "Q", 1, 0),  # r3
    (T1 + 200, 0, 0, px(100.01), 900, "Z", 1, 1),  # suspicious: must change nothing
    (T2, px(99.99), 400, 0, 0, "P", 1, 0),  # r4  NBBO bid moved below N's and Q's bids: both dropped
    (T2, 0, 0, px(100.04), 100, "Q", 1, 0),  # r5  N's ask 100.05 stays (not better than 100.04)
    (T3, px(100.02), 100, 0, 0, "N", 1, 0),  # r6  N back; Q's old 100.01 stays unknown
    (T3, 0, 0, px(100.03), 200, "N", 1, 0),  # r7
    (T4, px(100.02), 100, 0, 0, "N", 1, 0),  # r8  no change
    (T4, 0, 0, px(100.05), 700, "P", 1, 0),  # r9  NBBO ask up through N's and Q's asks: both dropped
]
TRADES = [
    # ms, price, size, exchange, condition, suspicious
    (T1, px(100.05), 100, "N", 1, 0),  # quotes strictly before: 100.00 / 100.05 -> at the ask: buyer
    (T1 + 500, px(100.01), 50, "Q", 1, 0),  # 100.01 / 100.05 (the suspicious Z ask ignored) -> at the bid: seller
    (T2 + 500, px(100.02), 30, "D", 1, 0),  # inside 99.99 / 100.04 -> tick rule: up from 100.01: buyer
    (T2 + 600, px(100.02), 20, "P", 1, 0),  # inside, zero tick -> the last non-zero tick: buyer
    (T2 + 700, px(100.00), 10, "P", 1, 1),  # suspicious: dropped
    (T3 + 500, px(100.01), 40, "N", 1, 0),  # below the bid 100.02: seller
]
NAN = float("nan")


@pytest.fixture
def tick_dir(tmp_path: Path) -> Path:
    write_lean_zip(tmp_path / "20131007_quote.zip", "20131007_ibm_Quote_Tick.csv", QUOTES)
    write_lean_zip(tmp_path / "20131007_trade.zip", "20131007_ibm_Trade_Tick.csv", TRADES)
    return tmp_path


def load_fixture(directory: Path, **kwargs):
    options = dict(symbol="IBM", min_volume_share=0.0, min_quote_rows=1, bars_dir=None)
    options.update(kwargs)
    return load_lean_equity_ticks(directory, "2013-10-07", **options)


def book_rows(venue) -> list[tuple]:
    b = venue.book
    return [
        (int(t), float(bp), float(bs), float(ap), float(as_))
        for t, bp, bs, ap, as_ in zip(b.ts, b.bid_px[:, 0], b.bid_sz[:, 0], b.ask_px[:, 0], b.ask_sz[:, 0])
    ]


def same_rows(got: list[tuple], want: list[tuple]) -> bool:
    return len(got) == len(want) and all(
        g[0] == w[0] and all((np.isnan(a) and np.isnan(b)) or a == pytest.approx(b) for a, b in zip(g[1:], w[1:]))
        for g, w in zip(got, want)
    )


def ts_of(ms: int) -> int:
    """2013-10-07 New York wall-clock ms -> UTC ns (EDT, UTC-4)."""
    return utc_ns(2013, 10, 7, 4) + ms * 1_000_000


def test_per_venue_tops_follow_the_nbbo_rows_and_drop_stale_sides(tick_dir: Path) -> None:
    market = load_fixture(tick_dir)
    assert [v.name for v in market.venues] == ["NYSE", "NASDAQ", "ARCA"]  # Z only had a suspicious row
    nyse, nasdaq, arca = market.venues
    assert same_rows(book_rows(nyse), [
        (ts_of(T0), 100.00, 200, NAN, 0),
        (ts_of(T0), 100.00, 200, 100.05, 300),
        (ts_of(T2), NAN, 0, 100.05, 300),  # the NBBO bid fell to 99.99: N's 100.00 is no longer known
        (ts_of(T3), 100.02, 100, 100.05, 300),
        (ts_of(T3), 100.02, 100, 100.03, 200),
        (ts_of(T4), 100.02, 100, NAN, 0),  # the NBBO ask rose to 100.05 through N's 100.03
    ])
    assert same_rows(book_rows(nasdaq), [
        (ts_of(T1), 100.01, 100, NAN, 0),
        (ts_of(T1), 100.01, 100, 100.05, 500),
        (ts_of(T2), NAN, 0, 100.05, 500),
        (ts_of(T2), NAN, 0, 100.04, 100),
        # T3: the NBBO bid rose to 100.02 above Q's old 100.01, which still stays unknown
        (ts_of(T4), NAN, 0, NAN, 0),
    ])
    assert same_rows(book_rows(arca), [(ts_of(T2), 99.99, 400, NAN, 0), (ts_of(T4), 99.99, 400, 100.05, 700)])


def test_quote_ticks_only_when_both_sides_are_known(tick_dir: Path) -> None:
    market = load_fixture(tick_dir)
    quotes = [d for d in market.data if type(d).__name__ == "QuoteTick" and d.instrument_id.venue.value == "NYSE"]
    assert [(q.ts_init, float(q.bid_price), float(q.ask_price), float(q.bid_size), float(q.ask_size)) for q in quotes] == [
        (ts_of(T0), 100.00, 100.05, 200, 300),
        (ts_of(T3), 100.02, 100.05, 100, 300),
        (ts_of(T3), 100.02, 100.03, 100, 200),
    ]
    stamps = [d.ts_init for d in market.data]
    assert stamps == sorted(stamps)
    assert str(market.venues[0].instrument.id) == "IBM.NYSE"
    assert market.venues[0].instrument.price_precision == 2 and float(market.venues[0].instrument.lot_size) == 1


def test_book_deltas_replay_to_the_book_series(tick_dir: Path) -> None:
    """Applied to a Nautilus L2 book, each venue's deltas give its BookSeries row by row (an unknown side is
    an empty side), and the book is never crossed."""
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.enums import BookType

    market = load_fixture(tick_dir)
    for venue in market.venues:
        batches = [d for d in market.data if isinstance(d, OrderBookDeltas) and d.instrument_id == venue.instrument.id]
        book = OrderBook(venue.instrument.id, BookType.L2_MBP)
        replayed = []
        for batch in batches:
            book.apply_deltas(batch)
            bid, ask = book.best_bid_price(), book.best_ask_price()
            replayed.append((batch.ts_init, float(bid) if bid else NAN, float(book.best_bid_size() or 0),
                             float(ask) if ask else NAN, float(book.best_ask_size() or 0)))
            assert bid is None or ask is None or bid < ask
        # One batch per change; the last row (both sides unknown) empties the book.
        assert same_rows(replayed, book_rows(venue)), venue.name


def test_trade_aggressors_by_quote_then_tick_rule_and_suspicious_dropped(tick_dir: Path) -> None:
    market = load_fixture(tick_dir)
    nyse, nasdaq, arca = market.venues
    assert nyse.trades.price.tolist() == [100.05, 100.01] and nyse.trades.aggressor.tolist() == [1, -1]
    assert nasdaq.trades.aggressor.tolist() == [-1]
    assert arca.trades.size.tolist() == [20.0] and arca.trades.aggressor.tolist() == [1]  # suspicious print gone
    assert nyse.trades.ts.tolist() == [ts_of(T1), ts_of(T3 + 500)]
    # Every print, off-exchange included, is in market_trades (participation); none is a venue's.
    assert market.market_trades is not None
    assert market.market_trades.size.tolist() == [100, 50, 30, 20, 40]
    assert market.market_trades.aggressor.tolist() == [1, -1, 1, 1, -1]
    trade_ticks = [d for d in market.data if type(d).__name__ == "TradeTick"]
    assert [(t.instrument_id.venue.value, t.aggressor_side.name) for t in trade_ticks] == [
        ("NYSE", "BUYER"), ("NASDAQ", "SELLER"), ("ARCA", "BUYER"), ("NYSE", "SELLER"),
    ]


def test_tick_rule_and_self_crossed_venue() -> None:
    assert lean_nbbo.tick_rule(np.array([100, 100, 101, 101, 99, 99, 100])).tolist() == [0, 0, 1, 1, -1, -1, 1]
    # A venue's own new ask locks its older bid: impossible on one exchange, the older side (bid) is dropped.
    rows = lean_nbbo.QuoteRows(
        ms=np.array([0, 0, 1, 1]),
        side=np.array([1, -1, 1, -1], dtype=np.int8),
        price=np.array([100, 105, 103, 100]),
        size=np.array([1, 2, 3, 4]),
        venue=np.array(["N", "N", "Q", "N"], dtype=object),
    )
    nbbo = lean_nbbo.consolidated_nbbo(rows)
    top = lean_nbbo.venue_top(rows, "N", nbbo)
    assert top.bid_px.tolist() == [100, 100, 100, 0] and top.ask_px.tolist() == [0, 105, 105, 100]


def test_window_seed_row_fees_and_venue_choice(tick_dir: Path) -> None:
    market = load_fixture(tick_dir, hours=("09:30:02", "16:00"), venues=["NYSE", "P"])
    assert market.start_ns == ts_of(T2) and market.end_ns == ts_of(57_600_000)
    # The window opens at T1: the state in force then (after T0's rows) is the first row, stamped at the start.
    market = load_fixture(tick_dir, hours=("09:30:01", "16:00"), venues=["NYSE", "P"], fees={"ARCA": (0.0, 0.001)})
    nyse, arca = market.venues
    start = ts_of(T1)
    assert book_rows(nyse)[0][:3] == (start, 100.00, 200.0)  # r1's state (T0), stamped at the window start
    mid = (100.00 + 100.05) / 2  # the NBBO in force at the window start
    assert nyse.taker_fee == pytest.approx(0.0030 / mid) and nyse.maker_fee == pytest.approx(-0.0020 / mid)
    assert arca.taker_fee == pytest.approx(0.001 / mid) and arca.maker_fee == 0.0
    deep = load_fixture(tick_dir, levels=3).venue("NYSE").book  # the data has the top only: deeper levels empty
    assert deep.levels == 3 and np.isnan(deep.bid_px[:, 1:]).all() and not deep.ask_sz[:, 1:].any()
    assert same_rows(book_rows(load_fixture(tick_dir, levels=3).venue("NYSE")), book_rows(load_fixture(tick_dir).venue("NYSE")))
    with pytest.raises(ValidationError) as err:
        load_fixture(tick_dir, venues=["D"])
    assert err.value.field == "venues"
    with pytest.raises(ValidationError, match="never set the NBBO"):
        load_fixture(tick_dir, venues=["K"])
    with pytest.raises(ValidationError) as err:
        load_fixture(tick_dir, venues=["LSE"])
    assert err.value.field == "venues"


def test_start_and_end_narrow_the_session_and_pick_the_day(tick_dir: Path) -> None:
    # 13:30:01.5-13:30:03 UTC = 09:30:01.5-09:30:03 New York; no `date`: the New York day of `start`.
    market = load_lean_equity_ticks(tick_dir, symbol="IBM", venues=["N", "Q", "P"], bars_dir=None,
                                    start="2013-10-07T13:30:01.5", end=utc_ns(2013, 10, 7, 13, 30, 3))
    assert market.start_ns == ts_of(T1 + 500) and market.end_ns == ts_of(T3)
    nyse = market.venue("NYSE")
    assert same_rows(book_rows(nyse), [(ts_of(T1 + 500), 100.00, 200, 100.05, 300), (ts_of(T2), NAN, 0, 100.05, 300)])
    assert nyse.trades.ts.size == 0
    assert market.market_trades is not None and market.market_trades.size.tolist() == [50, 30, 20]
    with pytest.raises(ValidationError) as err:
        load_fixture(tick_dir, start="2013-10-07T21:00:00")  # after the close
    assert err.value.field == "end"
    with pytest.raises(ValidationError) as err:
        load_fixture(tick_dir, start="yesterday-ish")
    assert err.value.field == "start"


def test_bad_files_and_arguments_raise_typed_errors(tmp_path: Path, tick_dir: Path) -> None:
    with pytest.raises(ValidationError) as err:
        load_fixture(tick_dir.parent / "nowhere")
    assert err.value.field == "data_dir"
    with pytest.raises(ValidationError) as err:
        load_lean_equity_ticks(tick_dir, "2013-10-08", symbol="IBM", bars_dir=None)
    assert err.value.field == "date"
    bad = tmp_path / "bad"
    bad.mkdir()
    write_lean_zip(bad / "20131007_quote.zip", "q.csv", [(T0, 1, 1, 1, 1, "N", 1, 0)])  # both sides in one row
    write_lean_zip(bad / "20131007_trade.zip", "t.csv", TRADES)
    with pytest.raises(ValidationError, match="exactly one side"):
        load_fixture(bad)
    write_lean_zip(bad / "20131007_quote.zip", "q.csv", [(T0, 1, 1, 0, 0, "N")])  # a missing column
    with pytest.raises(ValidationError, match="columns"):
        load_fixture(bad)
    with pytest.raises(ValidationError) as err:
        load_fixture(tick_dir, latency_ms={"NYSE": 1.0})
    assert err.value.field == "latency_ms"
    with pytest.raises(ValidationError) as err:
        load_fixture(tick_dir, hours=("16:00", "09:30"))
    assert err.value.field == "hours"


def test_local_time_to_utc_is_dst_correct() -> None:
    def utc(day: dt.date, hh: int, mm: int = 0) -> int:
        return int(local_ms_to_utc_ns(day, np.array([(hh * 60 + mm) * 60_000]))[0])

    assert utc(dt.date(2013, 10, 7), 9, 30) == utc_ns(2013, 10, 7, 13, 30)  # EDT
    assert utc(dt.date(2013, 11, 4), 9, 30) == utc_ns(2013, 11, 4, 14, 30)  # EST
    assert utc(dt.date(2013, 3, 10), 1) == utc_ns(2013, 3, 10, 6)  # before the spring-forward
    assert utc(dt.date(2013, 3, 10), 3) == utc_ns(2013, 3, 10, 7)  # after it
    assert utc(dt.date(2013, 11, 3), 0, 30) == utc_ns(2013, 11, 3, 4, 30)
    assert utc(dt.date(2013, 11, 3), 3) == utc_ns(2013, 11, 3, 8)


# -- volume curves ------------------------------------------------------------------------------------


@pytest.fixture
def bar_dir(tmp_path: Path) -> Path:
    # Three days of minute trade bars; the 8th has a huge 12:00 bar that must not leak into its own curve.
    rows = {
        "20131004": [(OPEN_MS, 1, 1, 1, 1, 300), (OPEN_MS + 60_000, 1, 1, 1, 1, 100), (43_200_000, 1, 1, 1, 1, 100)],
        "20131007": [(OPEN_MS, 1, 1, 1, 1, 500), (43_200_000, 1, 1, 1, 1, 100), (57_540_000, 1, 1, 1, 1, 400),
                     (60_000_000, 1, 1, 1, 1, 999)],  # 16:40, after the close
        "20131008": [(OPEN_MS, 1, 1, 1, 1, 1), (43_200_000, 1, 1, 1, 1, 10_000)],
    }
    for day, bars in rows.items():
        write_lean_zip(tmp_path / f"{day}_trade.zip", f"{day}_ibm_minute_trade.csv", bars)
    return tmp_path


def test_volume_curve_excludes_the_traded_day_and_sits_on_its_utc_clock(bar_dir: Path) -> None:
    curve = volume_profile_from_minute_bars(bar_dir, for_date="20131008", bucket_minutes=1)
    assert curve.days == ("20131004", "20131007")
    assert curve.weights.size == 1440 and curve.weights.sum() == pytest.approx(1.0)
    total = 300 + 100 + 100 + 500 + 100 + 400  # regular hours only: the 16:40 bar is out
    minute = lambda h, m: h * 60 + m  # noqa: E731 - UTC bucket index
    assert curve.weights[minute(13, 30)] == pytest.approx(800 / total)  # 09:30 EDT = 13:30 UTC
    assert curve.weights[minute(13, 31)] == pytest.approx(100 / total)
    assert curve.weights[minute(16, 0)] == pytest.approx(200 / total)  # noon: the 8th's 10,000 are not there
    assert curve.weights[minute(19, 59)] == pytest.approx(400 / total)
    assert curve.hourly() == pytest.approx({13: 900 / total, 16: 200 / total, 19: 400 / total})
    params = curve.vwap_params()
    assert params["bucket_seconds"] == 60.0 and len(params["bucket_weights"]) == 1440
    again = VolumeCurve.from_dict(json.loads(json.dumps(curve.to_dict())))
    assert np.array_equal(again.weights, curve.weights) and again.days == curve.days and again.for_date == "20131008"
    with pytest.raises(ValidationError):
        VolumeCurve.from_dict({**curve.to_dict(), "bucket_seconds": 30.0})

    before = volume_profile_from_minute_bars(bar_dir, for_date="20131008", before_only=True, bucket_minutes=30)
    assert before.days == ("20131004", "20131007") and before.weights.size == 48
    assert volume_profile_from_minute_bars(bar_dir, for_date="20131007", before_only=True).days == ("20131004",)
    with pytest.raises(ValidationError) as err:
        volume_profile_from_minute_bars(bar_dir, ["20131007", "20131008"], for_date="20131008")
    assert err.value.field == "days"
    with pytest.raises(ValidationError) as err:
        volume_profile_from_minute_bars(bar_dir, bucket_minutes=7)
    assert err.value.field == "bucket_minutes"


@pytest.mark.parametrize("symbol", ["spy", "ibm"])
def test_real_minute_bars_give_a_u_shaped_curve(symbol: str) -> None:
    folder = need(MINUTE / symbol)
    curve = volume_profile_from_minute_bars(folder, for_date="20131008", bucket_minutes=30)
    assert "20131008" not in curve.days and len(curve.days) >= 4
    assert curve.weights.sum() == pytest.approx(1.0)
    # 30-min buckets of the UTC day (EDT: 09:30 = 13:30 UTC = bucket 27; 15:30-16:00 = bucket 39)
    session = curve.weights[27:40]
    assert np.count_nonzero(curve.weights) == 13 and session.sum() == pytest.approx(1.0)
    midday = session[4:9].mean()  # 11:30-14:00 New York
    assert session[0] > 1.5 * midday and session[-1] > 1.5 * midday
    # The form the VWAP algorithm takes: the core schedules on it (UTC clock), and refuses a window without volume.
    from nautilus_sor._core import vwap_curve_schedule

    params = curve.vwap_params()
    _, quantities = vwap_curve_schedule(10_000, params["bucket_weights"], params["bucket_seconds"], 3600.0, 1800.0,
                                        start_time_ns=utc_ns(2013, 10, 8, 13, 30), lot_size=1)
    assert quantities.sum() == 10_000 and quantities[0] > quantities[1]  # 09:30-10:00 outweighs 10:00-10:30
    with pytest.raises(ValidationError):
        vwap_curve_schedule(100, params["bucket_weights"], params["bucket_seconds"], 600.0, 60.0,
                            start_time_ns=utc_ns(2013, 10, 8, 3), lot_size=1)


# -- real data ----------------------------------------------------------------------------------------


def test_real_ibm_day_is_a_sane_multi_venue_market() -> None:
    need(IBM_TICKS / "20131007_quote.zip")
    market = load_lean_ibm(IBM_TICKS, "20131007")
    names = [v.name for v in market.venues]
    assert {"NYSE", "NASDAQ", "ARCA", "EDGX", "BATS", "BX"} <= set(names) and "FINRA" not in names
    assert market.start_ns == utc_ns(2013, 10, 7, 13, 30) and market.end_ns == utc_ns(2013, 10, 7, 20)
    # FINRA TRF (off-exchange) is about a third of the volume: in market_trades, in no venue.
    venue_volume = sum(v.trades.size.sum() for v in market.venues)
    assert market.market_trades is not None and market.market_trades.size.sum() > 1.3 * venue_volume
    for v in market.venues:
        b = v.book
        assert np.all(np.diff(b.ts) >= 0) and b.ts[0] >= market.start_ns and b.ts[-1] < market.end_ns
        both = ~np.isnan(b.bid_px[:, 0]) & ~np.isnan(b.ask_px[:, 0])
        assert np.all(b.bid_px[both, 0] < b.ask_px[both, 0])  # a venue's own top never crosses or locks
        prices = np.concatenate([b.bid_px[:, 0], b.ask_px[:, 0], v.trades.price])
        prices = prices[~np.isnan(prices)]
        assert 170 < prices.min() and prices.max() < 190  # IBM traded ~ 181-186 USD that day
        assert np.all(v.trades.size >= 1) and set(np.unique(v.trades.aggressor)) <= {-1, 0, 1}
    assert len(market.venue("NYSE").book.ts) > 10_000 and len(market.venue("NYSE").trades.ts) > 4_000
    stamps = np.array([d.ts_init for d in market.data])
    assert np.all(np.diff(stamps) >= 0)
    assert market.volume_profile is not None and "20131007" not in market.volume_profile.days


def test_real_ibm_nbbo_from_venue_tops_equals_consolidated_nbbo() -> None:
    """With every lit venue kept, the best of the venues' tops is the NBBO rebuilt from the rows, except
    where the NBBO is locked or crossed by one venue's own quotes (then the older side is unknown)."""
    need(IBM_TICKS / "20131008_quote.zip")
    from nautilus_sor.backtest.data.lean import _QUOTE_COLUMNS, _QUOTE_TYPES, _quote_rows
    from nautilus_sor.backtest.data.lean_files import read_lean_csv

    quotes = read_lean_csv(IBM_TICKS / "20131008_quote.zip", _QUOTE_COLUMNS, _QUOTE_TYPES)
    rows = _quote_rows(quotes[quotes["suspicious"] == 0], IBM_TICKS)
    nbbo = lean_nbbo.consolidated_nbbo(rows)
    tops = [lean_nbbo.venue_top(rows, code, nbbo) for code in sorted(set(rows.venue.tolist()))]
    best_bid = np.max([t.bid_px for t in tops], axis=0)
    best_ask = np.min([np.where(t.ask_px > 0, t.ask_px, np.iinfo(np.int64).max) for t in tops], axis=0)
    two_sided = (nbbo.bid_px > 0) & (nbbo.ask_px > 0)
    normal = two_sided & (nbbo.bid_px < nbbo.ask_px)
    assert normal.sum() > 100_000
    assert np.array_equal(best_bid[normal], nbbo.bid_px[normal])
    assert np.array_equal(best_ask[normal], nbbo.ask_px[normal])
    assert np.all(best_bid[two_sided] <= nbbo.bid_px[two_sided]) and np.all(best_ask[two_sided] >= nbbo.ask_px[two_sided])


def test_real_crypto_minute_bars_two_venue_market() -> None:
    need(CRYPTO / "crypto_binance_btcbusd_20221213_trade.zip")
    market = load_lean_crypto_bars(CRYPTO)
    assert [v.name for v in market.venues] == ["BINANCE", "BYBIT"] and market.asset == "BTC"
    assert market.start_ns == utc_ns(2022, 12, 13) and market.end_ns == utc_ns(2022, 12, 14)
    for v in market.venues:
        assert v.book is None
        tape = v.trades
        assert tape.ts.size == 1440 and np.all(np.diff(tape.ts) == 60_000_000_000)
        assert tape.ts[0] == utc_ns(2022, 12, 13, 0, 1)  # the first bar, stamped at its close
        assert np.all(tape.size > 0) and np.all(tape.aggressor == 0)
        assert 16_000 < tape.price.min() and tape.price.max() < 18_500
    bars = [d for d in market.data if type(d).__name__ == "Bar"]
    kinds = {str(b.bar_type) for b in bars}
    assert kinds == {
        "BTCBUSD.BINANCE-1-MINUTE-LAST-EXTERNAL",
        "BTCUSDT.BYBIT-1-MINUTE-LAST-EXTERNAL",
        "BTCUSDT.BYBIT-1-MINUTE-BID-EXTERNAL",  # Bybit spot quote bars cover 00:00-12:00 only
        "BTCUSDT.BYBIT-1-MINUTE-ASK-EXTERNAL",
    }
    stamps = [b.ts_init for b in bars]
    assert stamps == sorted(stamps)
    with pytest.raises(ValidationError) as err:
        load_lean_crypto_bars(CRYPTO, "2022-12-14")
    assert err.value.field == "date"
    with pytest.raises(ValidationError) as err:
        load_lean_crypto_bars(CRYPTO, fees={"BYBIT": (0.0, -0.0001)})  # the router takes no taker rebate
    assert err.value.field == "fees[BYBIT]"
    with pytest.raises(ValidationError) as err:
        load_lean_crypto_bars(CRYPTO, latency_ms={"BINANCE": 5.0, "BYBIT": 5.0, "OKX": 5.0})
    assert err.value.field == "latency_ms"
    fast = load_lean_crypto_bars(CRYPTO, latency_ms={"BINANCE": 5.0, "BYBIT": 30.0}, fees={"BINANCE": (0.0, 0.0)})
    assert [(v.latency_ms, v.taker_fee) for v in fast.venues] == [(5.0, 0.0), (30.0, 0.001)]
    assert float(fast.venues[0].instrument.taker_fee) == 0.0 and float(fast.venues[1].instrument.taker_fee) == 0.001


def test_real_crypto_bars_between_start_and_end() -> None:
    need(CRYPTO / "crypto_binance_btcbusd_20221213_trade.zip")
    market = load_lean_crypto_bars(CRYPTO, start="2022-12-13T01:00:30", end=utc_ns(2022, 12, 13, 2))
    # Bars opening 01:01 (the first at or after start) .. 01:59 (the last closing by end): 59 per venue.
    assert market.start_ns == utc_ns(2022, 12, 13, 1, 1) and market.end_ns == utc_ns(2022, 12, 13, 2)
    for v in market.venues:
        assert v.trades.ts.size == 59 and v.trades.ts[0] == utc_ns(2022, 12, 13, 1, 2)
    assert all(market.start_ns < d.ts_init <= market.end_ns for d in market.data)


def test_real_crypto_perpetuals_in_btc_over_the_common_window() -> None:
    need(CRYPTO / "cryptofuture_bybit_btcusd_20221213_trade.zip")
    market = load_lean_crypto_bars(CRYPTO, market="perp")
    assert [v.name for v in market.venues] == ["BINANCE_COINM", "BYBIT_INVERSE", "BYBIT_LINEAR"]
    # Bybit's perp files span 00:00-12:00 UTC: the common window, bars stamped at their close.
    assert market.start_ns == utc_ns(2022, 12, 13) and market.end_ns == utc_ns(2022, 12, 13, 12, 1)
    coinm = market.venue("BINANCE_COINM")
    # First bar (file row 0,17204,17207.6,17203.9,17207.6,4242): 4242 contracts of 100 USD at the close.
    assert coinm.trades.ts[0] == utc_ns(2022, 12, 13, 0, 1)
    assert coinm.trades.size[0] == pytest.approx(4242 * 100 / 17207.6)
    assert coinm.size_to_instrument == pytest.approx(17207.6 / 100) and coinm.instrument.is_inverse
    for v in market.venues:
        assert np.all(np.diff(v.trades.ts) > 0) and v.trades.ts[-1] <= market.end_ns
        assert np.all(v.trades.size > 0) and 16_000 < v.trades.price.min() and v.trades.price.max() < 18_500
    bars = [d for d in market.data if type(d).__name__ == "Bar"]
    first = next(b for b in bars if str(b.bar_type) == "BTCUSD-PERP.BINANCE_COINM-1-MINUTE-LAST-EXTERNAL")
    assert float(first.volume) == 4242 and float(first.close) == 17207.6  # Nautilus keeps the recorded contracts
    with pytest.raises(ValidationError) as err:
        load_lean_crypto_bars(CRYPTO, market="options")
    assert err.value.field == "market"


def test_nautilus_replays_the_fixture_and_fills_at_the_venue_quote(tick_dir: Path) -> None:
    """The Nautilus side is engine-ready (L2_MBP venues fed by the book deltas): a market buy on IBM.NYSE after
    its first two-sided quote fills at NYSE's ask, and the commission is the configured USD-per-share taker fee."""
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import AccountType, BookType, OmsType, OrderSide
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Money, Quantity
    from nautilus_trader.trading.strategy import Strategy

    market = load_fixture(tick_dir)
    nyse = market.venue("NYSE").instrument.id

    class BuyOnFirstQuote(Strategy):
        def on_start(self) -> None:
            self.subscribe_quote_ticks(nyse)

        def on_quote_tick(self, tick) -> None:  # type: ignore[no-untyped-def]
            if not self.cache.orders():
                self.submit_order(self.order_factory.market(nyse, OrderSide.BUY, Quantity.from_int(200)))

    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    try:
        for v in market.venues:
            engine.add_venue(venue=Venue(v.name), oms_type=OmsType.NETTING, account_type=AccountType.MARGIN,
                             base_currency=None, starting_balances=[Money(1_000_000, USD)], book_type=BookType.L2_MBP)
            engine.add_instrument(v.instrument)
        engine.add_data(market.data, sort=False)
        engine.add_strategy(BuyOnFirstQuote())
        engine.run()
        (order,) = engine.cache.orders()
        assert order.is_closed and float(order.filled_qty) == 200 and order.avg_px == pytest.approx(100.05)
        (position,) = engine.cache.positions()
        # taker fee 0.0030 USD/share as a fraction of the opening mid 100.025, on 200 x 100.05
        assert float(position.realized_pnl) == pytest.approx(-round(200 * 100.05 * 0.0030 / 100.025, 2))
    finally:
        engine.dispose()
