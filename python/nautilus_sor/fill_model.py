"""Queue-position fills for Nautilus backtests on L2 (market-by-price) data.

Nautilus 1.221's matching engine fills a resting limit order on L2 data only when the opposite side of
the book reaches its price, with no queue position, and a `FillModel` only sees
`(instrument, order, best_bid, best_ask)` at that moment - never a trade or a book change. So the queue
lives in a venue `SimulationModule`, whose `pre_process` sees every data item before the matching engine:

- an open limit order first seen joins behind the displayed size at its price (the core's `QueuedOrder`,
  the same state machine as `evaluate`'s simulator);
- every change of the displayed size at its price is fed to the queue (cancels per the queue model),
  except while its price lies beyond every level its side of the book shows (a depth-limited book; on a
  one-level book, whenever the touch moves away from it): the size there is unknown, not gone, so the queue
  ahead stays as last seen until the level shows again - as `evaluate`'s simulator reads it (which asks
  too that the row shows its full depth: a Nautilus book does not know its feed's depth, so here a side
  thinner than that reads the same);
- a trade at its price against its side fills it from the volume beyond the queue ahead, a trade through
  its price fills it up to the trade's size: `OrderMatchingEngine.fill_order` as MAKER at the order's price.
  A trade's volume used for one of our orders is not used again.

Nautilus's own rule (the opposite touch reaching our price fills us) stays, as in hftbacktest. Usable from
any `BacktestVenueConfig(modules=[ImportableActorConfig(actor_path="nautilus_sor.fill_model:QueuePositionModule",
config_path="nautilus_sor.fill_model:QueuePositionModuleConfig", config={"queue_model": "prob_log"})])` or
`engine.add_venue(..., modules=[QueuePositionModule(QueuePositionModuleConfig())])`.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.backtest.config import SimulationModuleConfig
from nautilus_trader.backtest.modules import SimulationModule
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide, LiquiditySide, OrderSide, OrderType
from nautilus_trader.model.objects import FIXED_PRECISION, PRICE_MAX, Price, Quantity

from nautilus_sor._core import QueuedOrder
from nautilus_sor.queue_model import DEFAULT_QUEUE_MODEL, DEFAULT_QUEUE_POWER, check_queue_model


class QueuePositionModuleConfig(SimulationModuleConfig, frozen=True):
    """`queue_model`: risk_averse | prob_linear | prob_power | prob_log (hftbacktest's models);
    `queue_power`: n of f(x) = x**n for prob_power."""

    queue_model: str = DEFAULT_QUEUE_MODEL
    queue_power: float = DEFAULT_QUEUE_POWER


def displayed_size(book: Any, side: OrderSide, price_raw: int, tick_raw: int, size_precision: int) -> float:
    """Others' size at `price_raw` on our side of the book (the recorded book never holds our order): what a
    taker would find at our price or better, less what it would find one tick better - two lookups in
    Nautilus's Rust book instead of copying the side's levels into Python."""
    taker, better = (OrderSide.SELL, tick_raw) if side == OrderSide.BUY else (OrderSide.BUY, -tick_raw)
    at_or_better = book.get_quantity_for_price(Price.from_raw(price_raw, FIXED_PRECISION), taker)
    if at_or_better <= 0.0:
        return 0.0
    beyond = book.get_quantity_for_price(Price.from_raw(price_raw + better, FIXED_PRECISION), taker)
    return round(float(at_or_better - beyond), size_precision)


_PRICE_MAX_RAW = Price(PRICE_MAX / 10, 0).raw  # above any level a book holds (and a valid raw price)


def beyond_shown(book: Any, side: OrderSide, price_raw: int) -> bool:
    """Whether `price_raw` lies beyond every level our side of the book shows (a bid below the lowest bid, an
    ask above the highest ask): the book says nothing of the size there - it may be a depth-limited snapshot
    - where a shown side not reaching our price would say there is none. Two lookups in the Rust book."""
    taker = OrderSide.SELL if side == OrderSide.BUY else OrderSide.BUY
    every = book.get_quantity_for_price(Price.from_raw(0 if side == OrderSide.BUY else _PRICE_MAX_RAW, FIXED_PRECISION), taker)
    if every <= 0.0:
        return False  # our side shows nothing at all: an empty side, not an unknown level
    return bool(book.get_quantity_for_price(Price.from_raw(price_raw, FIXED_PRECISION), taker) >= every)


class QueuePositionModule(SimulationModule):
    """Queue position of every resting limit order on the venue, and the fills it earns from the tape."""

    def __init__(self, config: QueuePositionModuleConfig | None = None) -> None:
        config = config or QueuePositionModuleConfig()
        check_queue_model(config.queue_model, config.queue_power)  # refused here, naming the field
        super().__init__(config)
        self.queue_model = config.queue_model
        self.queue_power = config.queue_power
        # client_order_id -> (QueuedOrder, displayed size at its price when last seen)
        self._queues: dict[Any, list[Any]] = {}

    def _sync(self, instrument_id: Any) -> list[tuple[Any, QueuedOrder]]:
        """Joins new orders, feeds depth changes at each order's price, forgets closed orders."""
        engine = self.exchange.get_matching_engine(instrument_id)
        if engine is None:
            return []
        book = engine.get_book()
        tick_raw = engine.instrument.price_increment.raw
        lot = float(engine.instrument.size_increment)
        live = []
        seen = set()
        for order in engine.get_open_orders():
            if order.order_type != OrderType.LIMIT:
                continue
            key = order.client_order_id
            seen.add(key)
            shown = displayed_size(book, order.side, order.price.raw, tick_raw, engine.instrument.size_precision)
            entry = self._queues.get(key)
            if entry is not None and shown == 0.0 and beyond_shown(book, order.side, order.price.raw):
                # Our price is beyond the levels shown (a depth-limited book; on a one-level book, whenever the
                # touch moves away from us): the size there is unknown, not cancelled - the queue ahead stays
                # as last seen until the level shows again (as `evaluate`'s simulator reads it).
                live.append((order, entry[0]))
                continue
            if entry is None:
                queue = QueuedOrder(1 if order.side == OrderSide.BUY else 2, order.price.raw // tick_raw,
                                    float(order.leaves_qty), shown, lot, self.queue_model, self.queue_power)
                entry = self._queues[key] = [queue, shown]
            elif shown != entry[1]:
                entry[0].on_depth(entry[1], shown)
                entry[1] = shown
            live.append((order, entry[0]))
        for key in [k for k in self._queues if k not in seen and self._instrument_of(k) == instrument_id]:
            del self._queues[key]
        return live

    def _instrument_of(self, client_order_id: Any) -> Any:
        order = self.exchange.cache.order(client_order_id)
        return None if order is None else order.instrument_id

    def pre_process(self, data: Any) -> None:
        instrument_id = getattr(data, "instrument_id", None)
        if instrument_id is None:
            return
        live = self._sync(instrument_id)
        if not live or not isinstance(data, TradeTick) or data.aggressor_side == AggressorSide.NO_AGGRESSOR:
            return
        engine = self.exchange.get_matching_engine(instrument_id)
        aggressor = 1 if data.aggressor_side == AggressorSide.BUYER else 2
        tick_raw = engine.instrument.price_increment.raw
        trade_tick = data.price.raw // tick_raw
        size = float(data.size)
        available = size
        # Best-priced orders first: a trade through several of our prices fills the best one first.
        live.sort(key=lambda item: -item[0].price.raw if item[0].side == OrderSide.BUY else item[0].price.raw)
        for order, queue in live:
            if available <= 0.0:
                break
            fill = queue.on_trade(aggressor, trade_tick, size, available)
            if fill <= 0.0:
                continue
            available -= fill
            qty = Quantity(min(fill, float(order.leaves_qty)), engine.instrument.size_precision)
            engine.fill_order(order, order.price, qty, LiquiditySide.MAKER)

    def process(self, ts_now: int) -> None:
        pass

    def log_diagnostics(self, logger: Any) -> None:
        pass

    def reset(self) -> None:
        self._queues.clear()


__all__ = ["QueuePositionModule", "QueuePositionModuleConfig"]
