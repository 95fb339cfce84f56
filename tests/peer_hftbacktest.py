"""Our queue-position fill model in a Nautilus backtest against hftbacktest, on the same recorded orders.

The peer is hftbacktest (PyPI `hftbacktest` 2.4.x; its exchange and queue models are Rust, written
independently of ours). Both engines replay the same USD-M BTCUSDT stream of `../shared/data` (every
depth diff and trade after the REST snapshot, as our Binance loader decodes them: both see identical
events, so the comparison is about queue position and fills, not about parsing), on one clock: the
local receive time (hftbacktest's exchange timestamps are set equal to it, so neither engine has feed
latency). Orders reach the venue `LATENCY_NS` after they are sent, cancels likewise, in both.

The orders: 1-lot (0.001 BTC) post-only limit orders at the touch (a bid at the best bid, an ask at the
best ask, read from each engine's own book at the send time), each cancelled `HORIZON_S` after it was
sent. Runs are staggered so that at most one of our bids and one of our asks rest at any time (our model
lets two of our orders at one price share a trade's volume; hftbacktest's orders never see each other),
`PASSES` runs x `SLOTS` sends per side = 200 orders. For each order: did it fill before its cancel, and when.

    python tests/peer_hftbacktest.py [--queue-model risk_averse|prob_log] [--latency-ms 5]

prints the agreement; `tests/test_peer_hftbacktest.py` (slow suite) asserts it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

NS = 1_000_000_000
HORIZON_S = 60
PASSES = 25  # runs, each offset by STAGGER_S
STAGGER_S = 1.6
SLOTS = 4  # sends per side per run, HORIZON_S + 1 s apart
LEAD_S = 5  # the first send this long after the window opens
LATENCY_NS = 5_000_000
ORDER_QTY = "0.001"
# Our model names and hftbacktest's builder for the same model.
PEER_MODELS = {"risk_averse": "risk_adverse_queue_model", "prob_log": "log_prob_queue_model"}


@dataclass(frozen=True, slots=True)
class Outcome:
    side: str  # "BUY" | "SELL"
    sent_ns: int
    price: float
    fill_ns: int | None  # first fill, None if it never filled (or was refused as post-only)


def send_times(start_ns: int) -> list[list[int]]:
    """Per run, the send times (ns): no two of one run within HORIZON_S + 1 s of each other."""
    odd = 123_457  # off the data's timestamps, so "the book at the send time" is never a tie
    return [[start_ns + int((LEAD_S + p * STAGGER_S + k * (HORIZON_S + 1)) * NS) + odd for k in range(SLOTS)] for p in range(PASSES)]


def load_stream(data_dir: Path) -> tuple[Any, list[Any]]:
    """The USD-M instrument and its depth deltas and trades (no bookTicker: hftbacktest's book is the depth)."""
    from nautilus_trader.model.data import OrderBookDeltas, TradeTick

    from nautilus_sor.backtest.data.binance import market_specs, read_market

    (spec,) = market_specs(data_dir, "BTC", venues=["BINANCE_USDM"])
    instrument, stream = read_market(spec, data_dir)
    return instrument, [d for d in stream.data if isinstance(d, (OrderBookDeltas, TradeTick))]


def peer_events(data: list[Any]) -> np.ndarray:
    """The same stream as hftbacktest events (exchange time = local receive time)."""
    from hftbacktest.types import BUY_EVENT, DEPTH_EVENT, EXCH_EVENT, LOCAL_EVENT, SELL_EVENT, TRADE_EVENT, event_dtype
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide

    rows = []
    both = EXCH_EVENT | LOCAL_EVENT
    for item in data:
        ts = item.ts_init
        if isinstance(item, OrderBookDeltas):
            for delta in item.deltas:
                if delta.action == BookAction.CLEAR:
                    continue  # only the window's first snapshot clears, and the peer's book starts empty
                side = BUY_EVENT if delta.order.side == OrderSide.BUY else SELL_EVENT
                qty = 0.0 if delta.action == BookAction.DELETE else float(delta.order.size)
                rows.append((DEPTH_EVENT | side | both, ts, ts, float(delta.order.price), qty, 0, 0, 0.0))
        else:
            side = SELL_EVENT if item.aggressor_side == AggressorSide.SELLER else BUY_EVENT
            rows.append((TRADE_EVENT | side | both, ts, ts, float(item.price), float(item.size), 0, 0, 0.0))
    return np.array(rows, dtype=event_dtype)


def run_peer(events: np.ndarray, instrument: Any, times: list[int], queue_model: str, latency_ns: int) -> list[Outcome]:
    """One hftbacktest run: a bid and an ask at the touch at each time, each cancelled HORIZON_S later."""
    from hftbacktest import FILLED, GTX, LIMIT, BacktestAsset, HashMapMarketDepthBacktest

    asset = (BacktestAsset().data(events).linear_asset(1.0).constant_order_latency(latency_ns, 0)
             .no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
             .tick_size(float(instrument.price_increment)).lot_size(float(instrument.size_increment)).last_trades_capacity(0))
    asset = getattr(asset, PEER_MODELS[queue_model])()
    hbt = HashMapMarketDepthBacktest([asset])
    actions = sorted([(t, "send", k) for k, t in enumerate(times)] + [(t + HORIZON_S * NS, "cancel", k) for k, t in enumerate(times)])
    sent: dict[int, tuple[str, int, float]] = {}
    qty = float(ORDER_QTY)
    now = int(events["local_ts"][0])  # before its first elapse the peer's clock reads int64 max
    for ts, what, k in actions:
        hbt.elapse(ts - now)
        now = ts
        if what == "send":
            depth = hbt.depth(0)
            bid, ask = depth.best_bid, depth.best_ask
            hbt.submit_buy_order(0, 2 * k + 1, bid, qty, GTX, LIMIT, False)
            hbt.submit_sell_order(0, 2 * k + 2, ask, qty, GTX, LIMIT, False)
            sent[2 * k + 1], sent[2 * k + 2] = ("BUY", ts, round(bid, instrument.price_precision)), ("SELL", ts, round(ask, instrument.price_precision))
        else:
            for oid in (2 * k + 1, 2 * k + 2):
                order = hbt.orders(0).get(oid)
                if order is not None and order.cancellable:
                    hbt.cancel(0, oid, False)
    hbt.elapse(latency_ns + 1)
    orders = hbt.orders(0)
    out = []
    for oid, (side, ts, px) in sorted(sent.items()):
        order = orders.get(oid)
        filled = order is not None and order.status == FILLED
        out.append(Outcome(side, ts, px, int(order.exch_timestamp) if filled else None))
    hbt.close()
    return out


def run_ours(data: list[Any], instrument: Any, times: list[int], queue_model: str, latency_ns: int) -> list[Outcome]:
    """One Nautilus BacktestEngine run with `nautilus_sor.fill_model.QueuePositionModule` on the venue
    (`queue_model="off"`: without it, Nautilus's own L2 matching - the cost benchmark's baseline)."""
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.backtest.models import LatencyModel
    from nautilus_trader.config import LoggingConfig, StrategyConfig
    from nautilus_trader.model.enums import AccountType, BookType, OmsType, OrderSide
    from nautilus_trader.model.objects import Money, Quantity
    from nautilus_trader.trading.strategy import Strategy

    from nautilus_sor.fill_model import QueuePositionModule, QueuePositionModuleConfig

    class RestAtTouch(Strategy):
        def __init__(self) -> None:
            super().__init__(StrategyConfig(strategy_id="PEER-001"))
            self.sent: list[tuple[Any, str, int, float]] = []
            self.first_fill: dict[Any, int] = {}

        def on_start(self) -> None:
            self.subscribe_order_book_deltas(instrument.id, book_type=BookType.L2_MBP)
            for k, t in enumerate(times):
                self.clock.set_time_alert_ns(f"send-{k}", t, self._send)

        def _send(self, event: Any) -> None:
            book = self.cache.order_book(instrument.id)
            qty = Quantity.from_str(ORDER_QTY)
            for side, price in ((OrderSide.BUY, book.best_bid_price()), (OrderSide.SELL, book.best_ask_price())):
                order = self.order_factory.limit(instrument.id, side, qty, price, post_only=True)
                self.submit_order(order)
                self.sent.append((order.client_order_id, side.name, event.ts_event, round(float(price), instrument.price_precision)))
                self.clock.set_time_alert_ns(f"cancel-{order.client_order_id}", event.ts_event + HORIZON_S * NS,
                                             lambda _e, o=order: self.cancel_order(o) if o.is_open else None)

        def on_order_filled(self, event: Any) -> None:
            self.first_fill.setdefault(event.client_order_id, event.ts_event)

    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"), trader_id="PEER-001"))
    engine.add_venue(venue=instrument.id.venue, oms_type=OmsType.NETTING, account_type=AccountType.MARGIN,
                     starting_balances=[Money(1_000_000, instrument.quote_currency)], base_currency=instrument.quote_currency,
                     book_type=BookType.L2_MBP, latency_model=LatencyModel(base_latency_nanos=latency_ns),
                     modules=[] if queue_model == "off" else [QueuePositionModule(QueuePositionModuleConfig(queue_model=queue_model))])
    engine.add_instrument(instrument)
    engine.add_data(data)
    strategy = RestAtTouch()
    engine.add_strategy(strategy)
    engine.run()
    out = [Outcome(side, ts, px, strategy.first_fill.get(cid)) for cid, side, ts, px in strategy.sent]
    engine.dispose()
    return out


@dataclass(frozen=True, slots=True)
class Agreement:
    orders: int
    same_outcome: int  # both filled or both not
    filled_both: int
    fill_time_within_one_update: int  # of filled_both: no more than one book update between the two fill times
    price_mismatch: int  # orders the two engines placed at different prices (their books disagreed)
    disagreements: list[tuple[Outcome, Outcome]]  # filled in one engine only
    apart: list[tuple[Outcome, Outcome]]  # filled in both, more than one book update apart

    @property
    def rate(self) -> float:
        return self.same_outcome / self.orders


def compare(ours: list[Outcome], peer: list[Outcome], update_ts: np.ndarray) -> Agreement:
    """Pairs the orders (same run, same send time, same side) and counts agreement."""
    key = lambda o: (o.sent_ns, o.side)  # noqa: E731
    ours, peer = sorted(ours, key=key), sorted(peer, key=key)
    if [key(o) for o in ours] != [key(o) for o in peer]:
        raise AssertionError("the two engines did not send the same orders")
    same = both = close = price = 0
    diff, apart = [], []
    for a, b in zip(ours, peer):
        price += a.price != b.price
        if (a.fill_ns is None) == (b.fill_ns is None):
            same += 1
            if a.fill_ns is not None and b.fill_ns is not None:
                both += 1
                lo, hi = sorted((a.fill_ns, b.fill_ns))
                between = int(np.searchsorted(update_ts, hi, "left") - np.searchsorted(update_ts, lo, "right"))
                close += between <= 1
                if between > 1:
                    apart.append((a, b))
        else:
            diff.append((a, b))
    return Agreement(len(ours), same, both, close, price, diff, apart)


def run_all(data_dir: Path, queue_model: str = "risk_averse", latency_ns: int = LATENCY_NS) -> Agreement:
    instrument, data = load_stream(data_dir)
    events = peer_events(data)
    update_ts = np.unique(np.array([d.ts_init for d in data], dtype=np.int64))
    ours: list[Outcome] = []
    peer: list[Outcome] = []
    for times in send_times(data[0].ts_init):
        ours += run_ours(data, instrument, times, queue_model, latency_ns)
        peer += run_peer(events, instrument, times, queue_model, latency_ns)
    return compare(ours, peer, update_ts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_btc_l2_20240808"))
    parser.add_argument("--queue-model", default="risk_averse", choices=sorted(PEER_MODELS))
    parser.add_argument("--latency-ms", type=float, default=LATENCY_NS / 1e6)
    args = parser.parse_args(argv)
    result = run_all(Path(args.data), args.queue_model, int(args.latency_ms * 1e6))
    filled = sum(1 for a, _ in result.disagreements if a.fill_ns is not None)
    print(f"{result.orders} orders, queue model {args.queue_model}, latency {args.latency_ms} ms: "
          f"{result.same_outcome} agree on filled within {HORIZON_S} s ({result.rate:.1%}); "
          f"{result.filled_both} filled in both, {result.fill_time_within_one_update} of them within one book update; "
          f"{result.price_mismatch} sent at different prices; disagreements: {filled} filled only in ours, "
          f"{len(result.disagreements) - filled} only in hftbacktest")
    for a, b in result.disagreements + result.apart:
        print(f"  {a.side} sent {a.sent_ns} at {a.price} (peer {b.price}): ours {a.fill_ns}, hftbacktest {b.fill_ns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
