"""`evaluate`'s resting order (`VenueExchange.rest`) against the backtest's: one limit order resting in a real
Nautilus BacktestEngine (L2_MBP book, our `QueuePositionModule` and consumed-liquidity fill model and
module, as `nautilus-sor backtest` builds a book venue) and in the simulator, on the same random books and
trade tape. The reference is Nautilus's own matching engine, not a port of the simulator: the queue fills
come from the module (the core's `QueuedOrder`, shared), the fills when the other side of the book reaches
our price from Nautilus's matching rule (offered what our fills left, by the consumed-liquidity model).
Both must give the same fills (time, price, size).

The generator reaches what matters: the other side stepping onto and through our price (a book row with
the ask at or below our bid), trades at, through and away from our price from both sides, cancels ahead
of us, our price falling beyond the levels the book shows (the size there unknown: the queue ahead kept
in both) and coming back, the order ending partly filled, filled, or untouched."""

from __future__ import annotations

import numpy as np
import pytest
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType, AggressorSide, BookType, OmsType, OrderSide
from nautilus_trader.model.identifiers import TradeId, Venue
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_env import NS, START, btcusdt, snapshot
from nautilus_sor.backtest.engine import add_streams, market_feeds
from nautilus_sor.backtest.sim.exchange import BUY, SELL, VenueExchange
from nautilus_sor.fill_model import QueuePositionModule, QueuePositionModuleConfig
from nautilus_sor.fill_model_consumed import ConsumedLiquidityFillModel, ConsumedLiquidityModule
from sim_fixtures import venue

TICK = 0.01
STEP = NS // 10  # a book row every 100 ms
ROWS = 40
LEVELS = 3


class RestOne(Strategy):
    def __init__(self, instrument_id, side: OrderSide, price: float, qty: float) -> None:
        super().__init__(StrategyConfig(strategy_id="REST-001"))
        self.instrument_id, self.side, self.price, self.qty = instrument_id, side, price, qty
        self.fills: list[tuple[int, float, float]] = []

    def on_start(self) -> None:
        self.clock.set_time_alert_ns("rest", START + STEP // 2, self._rest)

    def _rest(self, _event) -> None:
        self.submit_order(self.order_factory.limit(self.instrument_id, self.side, Quantity(self.qty, 3), Price(self.price, 2)))

    def on_order_filled(self, event) -> None:
        self.fills.append((event.ts_event, round(float(event.last_px), 2), round(float(event.last_qty), 3)))


def random_case(seed: int, ties: bool = False):
    """Book rows [(ts, bids, asks)], trades [(ts, price, size, aggressor)], and our order (side, price, qty).
    `ties`: about half the trades stamped at the next book row's time (a print and the book update after it
    in the same millisecond, as in the IBM data)."""
    rng = np.random.default_rng(seed)
    ours_bid = bool(rng.integers(0, 2))
    price_ticks = 10_000
    rows, trades = [], []
    best_bid = price_ticks if ours_bid else price_ticks - 1  # our price: the best bid (ask) or inside the spread at the start
    for k in range(ROWS):
        ts = START + k * STEP
        if k and rng.random() < 0.4:  # a walk that often takes our price beyond the LEVELS shown
            best_bid += int(rng.integers(-2, 3))
        spread = int(rng.integers(1, 3))
        if k and rng.random() < 0.25:  # the other side steps onto or through our price
            spread = 1
            best_bid = price_ticks - 1 - int(rng.integers(0, 2)) if ours_bid else price_ticks + int(rng.integers(0, 2))
        bid_levels = [((best_bid - i) * TICK, round(float(rng.uniform(0.2, 3.0)), 3)) for i in range(LEVELS)]
        ask_levels = [((best_bid + spread + i) * TICK, round(float(rng.uniform(0.2, 3.0)), 3)) for i in range(LEVELS)]
        rows.append((ts, bid_levels, ask_levels))
        for j in range(int(rng.integers(0, 3))):  # trades inside the row, from either side, near our price
            t = ts + (j + 1) * STEP // 4
            if ties and k + 1 < ROWS and rng.random() < 0.5:
                t = ts + STEP
            px = (price_ticks + int(rng.integers(-2, 3))) * TICK
            against_us = rng.random() < 0.6  # mostly from the side that hits our order
            aggressor = (SELL if ours_bid else BUY) if against_us else (BUY if ours_bid else SELL)
            trades.append((t, round(px, 2), round(float(rng.uniform(0.1, 2.5)), 3), aggressor))
    side = BUY if ours_bid else SELL
    trades.sort(key=lambda trade: trade[0])  # a tape is time-sorted (a tied trade can precede the next row's own)
    return rows, trades, side, round(price_ticks * TICK, 2), round(float(rng.uniform(0.5, 4.0)), 3)


def nautilus_fills(rows, trades, side, price, qty, consume: bool = True):
    instrument = btcusdt("SIM")
    eng = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR", bypass_logging=True), trader_id="TESTER-001"))
    eng.add_venue(venue=Venue("SIM"), oms_type=OmsType.NETTING, account_type=AccountType.MARGIN, base_currency=None,
                  starting_balances=[Money(10_000_000, USDT), Money(1000, BTC)], book_type=BookType.L2_MBP,
                  fill_model=ConsumedLiquidityFillModel() if consume else None,
                  modules=[QueuePositionModule(QueuePositionModuleConfig(queue_model="prob_linear"))] + ([ConsumedLiquidityModule()] if consume else []))
    eng.add_instrument(instrument)
    data = [snapshot(instrument, ts, asks, bids) for ts, bids, asks in rows]
    data += [TradeTick(instrument.id, Price(px, 2), Quantity(size, 3), AggressorSide.BUYER if agg == BUY else AggressorSide.SELLER,
                       TradeId(f"T{n}"), ts, ts) for n, (ts, px, size, agg) in enumerate(trades)]
    data.sort(key=lambda d: d.ts_init)  # a market's data: time-sorted, the book first on ties here
    add_streams(eng, market_feeds(data).streams)  # as `nautilus-sor backtest` adds a market's data
    strategy = RestOne(instrument.id, OrderSide.BUY if side == BUY else OrderSide.SELL, price, qty)
    eng.add_strategy(strategy)
    eng.run()
    fills = list(strategy.fills)
    eng.dispose()
    return fills


def simulator_fills(rows, trades, side, price, qty):
    v = venue("SIM", rows, trades, lot_size=0.001, levels=LEVELS)
    res = VenueExchange(v, tick=TICK).rest(side, price, qty, START + STEP // 2, START + ROWS * STEP)
    return [(f.ts, round(f.price, 2), round(f.size, 3)) for f in res.fills]


def by_time(fills):
    """Size filled at each (time, price): Nautilus books a fill per level the other side shows at or through
    our price, the simulator one per event."""
    out: dict[tuple[int, float], float] = {}
    for ts, px, size in fills:
        out[(ts, px)] = round(out.get((ts, px), 0.0) + size, 3)
    return sorted(out.items())


@pytest.mark.parametrize("seed", range(100))
def test_a_resting_order_fills_as_in_nautilus(seed):
    rows, trades, side, price, qty = random_case(seed)
    ours = by_time(simulator_fills(rows, trades, side, price, qty))
    assert ours == by_time(nautilus_fills(rows, trades, side, price, qty))


@pytest.mark.parametrize("seed", range(100))
def test_a_trade_and_the_book_update_of_its_millisecond_are_taken_in_that_order(seed):
    """The print first, then the book that shows it: the simulator's tie rule, and the order the backtest
    hands a market's streams to Nautilus (`engine.market_feeds`). The book first, a queue-position model
    sees the level shrink by the traded size and then the trade, and counts it twice."""
    rows, trades, side, price, qty = random_case(seed, ties=True)
    ours = by_time(simulator_fills(rows, trades, side, price, qty))
    assert ours == by_time(nautilus_fills(rows, trades, side, price, qty))


def test_without_the_consumed_liquidity_model_nautilus_fills_one_displayed_size_again():
    # Seed 3: the ask reaches our bid at 100 ms and fills most of it; at the trade 25 ms later, the book
    # unchanged, Nautilus alone fills the rest from that same ask, where the trade itself gives nothing.
    rows, trades, side, price, qty = random_case(3)
    alone = dict(by_time(nautilus_fills(rows, trades, side, price, qty, consume=False)))
    ours = dict(by_time(simulator_fills(rows, trades, side, price, qty)))
    at_125 = (START + 125 * NS // 1000, price)
    assert at_125 in alone and at_125 not in ours
    assert dict(by_time(nautilus_fills(rows, trades, side, price, qty))) == ours
