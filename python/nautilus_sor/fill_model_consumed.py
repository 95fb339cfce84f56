"""Our fills consume the levels they take, inside Nautilus backtests on L2 (market-by-price) data.

Nautilus 1.221's matching engine fills every aggressive order against the recorded book as it stands, so
two of our takers meeting the same book state (consecutive slices, or two venues' children of one parent
arriving before the book updates) both take the same displayed size. Here, per (side, price level), what
our aggressive fills took is kept, and a later aggressive order is offered the level less what we took
until the recorded level refreshes - the rule `evaluate`'s simulator applies (the core's
`ConsumedLiquidity`, rust/sor-core/src/sim/, one implementation): with the level recorded at `size`, we are
offered `min(size, max(reference, size) - used)`, where `reference` is the recorded size when we first
took from it; growth above `reference` is new size that joined behind us, and the record is dropped once
the recorded size has been at or below what we left at any book update since the take (the recorded
book itself no longer shows our part: the level refreshed), even if it grew back before our next order.

The same holds for a resting order the other side of the book reaches (Nautilus matches it against that
side, within its price, after every data item while the book shows it there): it is offered what that
side still offers us there, at its own price, and what it takes is consumed - so one displayed size fills
it once, not again at each later trade or quote, and `evaluate`'s simulator fills it the same way
(tests/test_sim_passive_vs_nautilus.py runs one resting order through both).

Two Nautilus extension points, each doing what the engine lets it do:

- `ConsumedLiquidityFillModel` (a `FillModel`): `get_orderbook_for_fill_simulation` returns, for an
  aggressive (TAKER) order, the venue's side it takes less what we consumed - or None (Nautilus's own
  book, bit for bit) while nothing is on record for that side; for a resting (MAKER) order being matched,
  what it is offered within its price as one level at its price (Nautilus books a maker fill at the
  order's price only on its own book), or None while nothing is on record (its own book and price rule).
  The model sees only `(instrument, order, best_bid, best_ask)`, so it is bound to the module below.
- `ConsumedLiquidityModule` (a `SimulationModule`): learns the consumption from the fills themselves
  (the `events.fills.*` message-bus topic, published synchronously by the execution engine as each fill
  is applied, so the next order in the same book state already sees it), against the level's recorded
  size in the venue's book at that moment (a resting order's fill, booked at its own price, against the
  levels it was offered, in order; a resting fill from the tape - the queue module's - takes nothing from
  the book); and feeds the rule every recorded state of a level on record
  (`pre_process`, which sees each book update before the matching engine applies it: the state after
  each batch of deltas - up to the delta flagged F_LAST, or the whole `OrderBookDeltas` - or depth
  snapshot; a CLEAR empties every level the batch does not add back).

Usable from any `BacktestVenueConfig` (both are needed; the module refuses a venue without the model):

    BacktestVenueConfig(..., book_type="L2_MBP",
        fill_model=ImportableFillModelConfig(
            fill_model_path="nautilus_sor.fill_model_consumed:ConsumedLiquidityFillModel",
            config_path="nautilus_trader.backtest.config:FillModelConfig", config={}),
        modules=[ImportableActorConfig(
            actor_path="nautilus_sor.fill_model_consumed:ConsumedLiquidityModule",
            config_path="nautilus_sor.fill_model_consumed:ConsumedLiquidityModuleConfig", config={})])

or `engine.add_venue(..., fill_model=ConsumedLiquidityFillModel(), modules=[ConsumedLiquidityModule()])`.

Where Nautilus's engine decides (engine.pyx, 1.221), stated rather than hidden:
- a market order for which every level of the side is consumed gets no fills from our book, and the
  engine then falls back to its own book (`determine_market_fills_with_simulation`); only the part our
  book still offered is recorded as consumed then;
- a marketable limit order with nothing left within its limit gets no fills: the engine logs "no fills
  from book when fills were expected" and leaves it open (`apply_fills` returns before its IOC cancel). A
  GTC order then rests at its price; an IOC one is cancelled by the module at the same timestamp
  (`process`, which the exchange runs right after the order commands); FOK is cancelled by the engine.
- a market order larger than what our book still offers (or, with nothing on record, than the venue's
  own book shows) is filled with what is offered and its remainder cancelled at the same timestamp
  (Nautilus's L2 engine would leave it open for good: market orders are never matched again, nor can they
  be cancelled through the engine), as `evaluate`'s simulator leaves the rest unfilled and as a venue
  treats a market order's unfilled rest.
- venues whose book is not L2_MBP keep Nautilus's own matching (L1 fills from quotes or bars: there is no
  displayed depth to consume).
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.backtest.config import FillModelConfig, SimulationModuleConfig
from nautilus_trader.backtest.models import FillModel
from nautilus_trader.backtest.modules import SimulationModule
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas, OrderBookDepth10
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import BookAction, BookType, LiquiditySide, OrderSide, RecordFlag, TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import LimitOrder, MarketOrder

from nautilus_sor._core import ConsumedLiquidity
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.fill_model import displayed_size

FILLS_TOPIC = "events.fills.*"
_PROBE_ID = ClientOrderId("SOR-CONSUMED-PROBE")


def _probe(order: Any, qty: float, size_precision: int) -> Any:
    """An order like `order` (side, price if any) for `qty`: only walked by `simulate_fills`, never sent."""
    common = {"trader_id": order.trader_id, "strategy_id": order.strategy_id, "instrument_id": order.instrument_id,
              "client_order_id": _PROBE_ID, "order_side": order.side, "quantity": Quantity(qty, size_precision),
              "init_id": UUID4(), "ts_init": 0}
    return LimitOrder(price=order.price, **common) if order.has_price else MarketOrder(**common)


class ConsumedLiquidityFillModel(FillModel):
    """The book an aggressive order fills against: the venue's, less what our earlier aggressive fills took
    (see the module docstring). Nautilus's probabilities (`prob_fill_on_limit`, `prob_slippage`, ...) keep
    their meaning; pass them as to `FillModel` or in a `FillModelConfig`."""

    def __init__(self, prob_fill_on_limit: float = 1.0, prob_fill_on_stop: float = 1.0, prob_slippage: float = 0.0,
                 random_seed: int | None = None, config: FillModelConfig | None = None) -> None:
        super().__init__(prob_fill_on_limit, prob_fill_on_stop, prob_slippage, random_seed, config)
        self._module: ConsumedLiquidityModule | None = None

    def bind(self, module: ConsumedLiquidityModule) -> None:
        """Called by the venue's `ConsumedLiquidityModule`: where the consumption and the venue's book are."""
        self._module = module

    def get_orderbook_for_fill_simulation(self, instrument: Any, order: Any, best_bid: Any, best_ask: Any) -> Any:
        if self._module is None:
            raise ConfigError("ConsumedLiquidityFillModel needs a ConsumedLiquidityModule in the same venue's modules "
                              "(it learns what our fills consumed)", field="modules", value="[]")
        return self._module.offered_book(instrument, order)


class ConsumedLiquidityModuleConfig(SimulationModuleConfig, frozen=True):
    """No options: the rule has no parameter."""


class ConsumedLiquidityModule(SimulationModule):
    """What our aggressive fills took from each level of the venue's books, learned from the fills."""

    def __init__(self, config: ConsumedLiquidityModuleConfig | None = None) -> None:
        super().__init__(config or ConsumedLiquidityModuleConfig())
        self._consumed: dict[Any, ConsumedLiquidity] = {}  # instrument_id -> the rule's record
        self._unfilled: list[Any] = []  # IOC and market orders our book cannot fill in full (see the module docstring)
        # client_order_id -> [(price, recorded size, offered size)]: the levels a resting order matched now
        # was offered, in walk order, until its fills have taken them (`_on_resting_fill`)
        self._resting_offers: dict[Any, list[tuple[Any, float, float]]] = {}
        # instrument_id -> (cleared, {(is_ask, level): size}): the levels on record a batch of deltas set so far
        self._batch: dict[Any, tuple[bool, dict[tuple[bool, int], float]]] = {}

    def register_venue(self, exchange: Any) -> None:
        model = exchange.fill_model
        if not isinstance(model, ConsumedLiquidityFillModel):
            raise ConfigError(f"ConsumedLiquidityModule on venue {exchange.id} needs the venue's fill_model to be "
                              f"nautilus_sor.fill_model_consumed:ConsumedLiquidityFillModel, not {type(model).__name__}",
                              field="fill_model", value=type(model).__name__)
        super().register_venue(exchange)
        model.bind(self)

    def register_base(self, portfolio: Any, msgbus: Any, cache: Any, clock: Any) -> None:
        super().register_base(portfolio, msgbus, cache, clock)
        msgbus.subscribe(topic=FILLS_TOPIC, handler=self._on_fill)

    def _l2_engine(self, instrument_id: Any) -> Any:
        engine = self.exchange.get_matching_engine(instrument_id)
        return engine if engine is not None and engine.book_type == BookType.L2_MBP else None

    def _on_fill(self, fill: Any) -> None:
        if fill.instrument_id.venue != self.exchange.id:
            return
        if fill.liquidity_side == LiquiditySide.MAKER:
            self._on_resting_fill(fill)
            return
        if fill.liquidity_side != LiquiditySide.TAKER:
            return
        engine = self._l2_engine(fill.instrument_id)
        if engine is None:
            return
        instrument = engine.instrument
        is_ask = fill.order_side == OrderSide.BUY
        # The level's recorded size now (the fill has not changed the venue's book).
        recorded = displayed_size(engine.get_book(), OrderSide.SELL if is_ask else OrderSide.BUY, fill.last_px.raw,
                                  instrument.price_increment.raw, instrument.size_precision)
        if recorded <= 0.0:
            return  # not a level of the recorded book (Nautilus's own fallback beyond it)
        consumed = self._consumed.setdefault(fill.instrument_id, ConsumedLiquidity())
        level = fill.last_px.raw // instrument.price_increment.raw
        # At most what our book offered: more only when the engine fell back to its own book.
        taken = min(float(fill.last_qty), consumed.available(is_ask, level, recorded))
        if taken > 0.0:
            consumed.consume(is_ask, level, recorded, taken)

    def _on_resting_fill(self, fill: Any) -> None:
        """A resting order filled because the other side reached its price (booked at its own price, one
        fill a level): what it took is consumed from the levels it was offered, in their order. A resting
        fill from the tape (the queue module's) has no offer on record and takes nothing from the book."""
        offer = self._resting_offers.get(fill.client_order_id)
        if not offer:
            return
        engine = self._l2_engine(fill.instrument_id)
        if engine is None:
            return
        tick_raw = engine.instrument.price_increment.raw
        is_ask = fill.order_side == OrderSide.BUY
        consumed = self._consumed.setdefault(fill.instrument_id, ConsumedLiquidity())
        qty = float(fill.last_qty)
        while qty > 1e-12 and offer:
            price, recorded, offered = offer[0]
            taken = min(qty, offered)
            if taken > 0.0:
                consumed.consume(is_ask, price.raw // tick_raw, recorded, taken)
            qty -= taken
            if taken >= offered:
                offer.pop(0)
            else:
                offer[0] = (price, recorded, offered - taken)

    def offered_book(self, instrument: Any, order: Any) -> OrderBook | None:
        """The side `order` takes, less what we consumed: for an aggressive order, and for a resting one the
        other side has reached (Nautilus matches it against that side, within its price). None (the venue's
        own book) when the venue is not L2 or nothing on that side is on record."""
        resting = order.liquidity_side == LiquiditySide.MAKER
        if order.liquidity_side != LiquiditySide.TAKER and not resting:
            return None
        is_ask = order.side == OrderSide.BUY
        consumed = self._consumed.get(instrument.id)
        engine = self._l2_engine(instrument.id)
        if engine is None:
            return None
        if consumed is None or not consumed.touches(is_ask):
            if resting:  # Nautilus's own book fills it: what it takes is recorded from the fills
                walked, _ = self._walk(engine.get_book(), order, float(order.leaves_qty), instrument)
                self._resting_offers[order.client_order_id] = [(price, size, size) for price, size in walked]
            elif not order.has_price:
                self._unfilled.append(order)  # the venue's own book fills it: a rest it leaves is cancelled too
            return None
        book = engine.get_book()
        tick_raw = instrument.price_increment.raw
        precision = instrument.size_precision
        side = OrderSide.SELL if is_ask else OrderSide.BUY
        leaves = float(order.leaves_qty)
        # The levels the order would walk in the venue's book, probed deeper by what we consumed on them
        # (the Rust walk of `simulate_fills` rather than the whole side as Python objects: a recorded L2 side
        # holds thousands of levels).
        probe_qty = leaves
        while True:
            walked, exhausted = self._walk(book, order, probe_qty, instrument)
            offered_levels = [(price, size, round(consumed.available(is_ask, price.raw // tick_raw, size), precision))
                              for price, size in walked]
            left = sum(offered for _, _, offered in offered_levels)
            deeper = round(probe_qty + leaves - left, precision)  # enough to cover what we consumed on the way
            if exhausted or left >= leaves or deeper <= probe_qty:
                break  # the walk covers the order, or the book (within its price) has nothing deeper
            probe_qty = deeper
        offered = OrderBook(instrument.id, BookType.L2_MBP)
        if resting:
            # A resting order fills at its own price (Nautilus's rule for a maker fill, which its engine
            # applies only to its own book): what it is offered is shown there, as one level.
            self._resting_offers[order.client_order_id] = [level for level in offered_levels if level[2] > 0.0]
            if left > 0.0:
                offered.add(BookOrder(side, order.price, Quantity(round(left, precision), precision), 1), 0)
            return offered
        for n, (price, _, size) in enumerate(offered_levels):
            if size > 0.0:
                offered.add(BookOrder(side, price, Quantity(size, precision), n + 1), 0)
        short = left < leaves if not order.has_price else left <= 0.0
        if short and (order.time_in_force == TimeInForce.IOC or not order.has_price):
            self._unfilled.append(order)  # what our book cannot fill is not filled (see the module docstring)
        return offered

    def _walk(self, book: OrderBook, order: Any, qty: float, instrument: Any) -> tuple[list[tuple[Any, float]], bool]:
        """(price, recorded size) of the levels an order like `order` for `qty` walks in `book`, as the
        matching engine walks it (`simulate_fills`; priced orders within their price), and whether the book
        ran out first."""
        if qty != float(order.leaves_qty):
            order = _probe(order, qty, instrument.size_precision)
        fills = book.simulate_fills(order, instrument.price_precision, instrument.size_precision, not order.has_price)
        levels = [(price, float(size)) for price, size in fills]
        exhausted = round(sum(size for _, size in levels), instrument.size_precision) < qty
        if levels:  # the last level may be taken in part: its whole recorded size
            price = levels[-1][0]
            levels[-1] = (price, displayed_size(book, OrderSide.SELL if order.side == OrderSide.BUY else OrderSide.BUY,
                                                price.raw, instrument.price_increment.raw, instrument.size_precision))
        return levels, exhausted

    def pre_process(self, data: Any) -> None:
        """Feeds the rule each recorded state of the levels on record (see the module docstring)."""
        self._resting_offers.clear()  # a match's fills come at once: an offer never outlives its data item
        if isinstance(data, OrderBookDeltas):
            deltas, last = data.deltas, True
        elif isinstance(data, OrderBookDelta):
            deltas, last = [data], bool(data.flags & RecordFlag.F_LAST)
        elif isinstance(data, OrderBookDepth10):
            deltas, last = None, True
        else:
            return
        consumed = self._consumed.get(data.instrument_id)
        if consumed is None or not (consumed.touches(True) or consumed.touches(False)):
            self._batch.pop(data.instrument_id, None)
            return
        engine = self._l2_engine(data.instrument_id)
        if engine is None:
            return
        tick_raw = engine.instrument.price_increment.raw
        on_record = {(is_ask, level) for is_ask in (True, False) for level in consumed.on_record(is_ask)}
        cleared, sizes = self._batch.pop(data.instrument_id, (False, {}))
        if deltas is None:  # a depth snapshot: the book is its levels
            cleared, sizes = True, {}
            for is_ask, orders in ((False, data.bids), (True, data.asks)):
                for order in orders:
                    key = (is_ask, order.price.raw // tick_raw)
                    if key in on_record and order.size.raw > 0:
                        sizes[key] = float(order.size)
        for delta in deltas or ():
            if delta.action == BookAction.CLEAR:
                cleared, sizes = True, {}
                continue
            order = delta.order
            key = (order.side == OrderSide.SELL, order.price.raw // tick_raw)
            if key in on_record:
                sizes[key] = 0.0 if delta.action == BookAction.DELETE else float(order.size)
        if not last:
            self._batch[data.instrument_id] = (cleared, sizes)
            return
        for is_ask, level in on_record:
            size = sizes.get((is_ask, level), 0.0 if cleared else None)
            if size is not None:
                consumed.observe(is_ask, level, size)

    def process(self, ts_now: int) -> None:
        while self._unfilled:
            order = self._unfilled.pop()
            if order.is_open:
                self.exchange.get_matching_engine(order.instrument_id).cancel_order(order)

    def log_diagnostics(self, logger: Any) -> None:
        pass

    def reset(self) -> None:
        self._consumed.clear()
        self._unfilled.clear()
        self._batch.clear()
        self._resting_offers.clear()


__all__ = ["ConsumedLiquidityFillModel", "ConsumedLiquidityModule", "ConsumedLiquidityModuleConfig"]
