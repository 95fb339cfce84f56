"""The reference's order patterns, both sides:

    AggressiveBuyPattern(order_factory).execute(instrument_id, quantity)      -> market order
    PassiveBuyPattern(order_factory, cache).execute(instrument_id, quantity)  -> post-only limit at the bid
    IcebergBuyPattern(order_factory, visible_pct=0.1).execute(instrument_id, total_quantity)
        -> {"visible_order": ..., "visible_quantity": ..., "remaining_quantity": ..., "total_quantity": ...}
       then `pattern.on_fill(event)` returns the next chunk's order once the visible one has filled.

They build orders; the caller submits them (`strategy.submit_order(order)`), as in the reference.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.model.enums import OrderSide, TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import Order

from nautilus_sor._core import Iceberg
from nautilus_sor.exceptions import MarketDataError, ValidationError
from nautilus_sor.units import UNIT_DECIMALS, qty_to_units, units_to_qty


def _check_instrument_id(instrument_id: Any) -> None:
    if not isinstance(instrument_id, InstrumentId):
        raise ValidationError(f"invalid instrument_id: {instrument_id!r} (must be an InstrumentId)", field="instrument_id", value=repr(instrument_id))


def _touch(cache: Any, instrument_id: InstrumentId, side: OrderSide) -> Price:
    """The price a passive order joins: best bid to buy, best ask to sell (book first, then quote)."""
    book = cache.order_book(instrument_id) if hasattr(cache, "order_book") else None
    price = None
    if book is not None:
        price = book.best_bid_price() if side == OrderSide.BUY else book.best_ask_price()
    if price is None:
        quote = cache.quote_tick(instrument_id)
        if quote is not None:
            price = quote.bid_price if side == OrderSide.BUY else quote.ask_price
    if price is None:
        raise MarketDataError(
            f"invalid instrument_id: no quote for {instrument_id} yet: a passive order needs the best "
            f"{'bid' if side == OrderSide.BUY else 'ask'}",
            field="instrument_id",
            value=str(instrument_id),
        )
    return price


class _AggressivePattern:
    side: OrderSide

    def __init__(self, order_factory: Any) -> None:
        self.order_factory = order_factory

    def execute(self, instrument_id: InstrumentId, quantity: Quantity, **kwargs: Any) -> Order:
        """A market order for `quantity`: takes liquidity now."""
        _check_instrument_id(instrument_id)
        qty_to_units(quantity)
        return self.order_factory.market(instrument_id, self.side, quantity, **kwargs)


class _PassivePattern:
    side: OrderSide

    def __init__(self, order_factory: Any, cache: Any) -> None:
        self.order_factory = order_factory
        self.cache = cache

    def execute(self, instrument_id: InstrumentId, quantity: Quantity, **kwargs: Any) -> Order:
        """A post-only limit order joining the best bid (buy) or best ask (sell) from the cache."""
        _check_instrument_id(instrument_id)
        qty_to_units(quantity)
        price = _touch(self.cache, instrument_id, self.side)
        kwargs.setdefault("post_only", True)
        return self.order_factory.limit(instrument_id, self.side, quantity, price, **kwargs)


class _IcebergPattern:
    side: OrderSide

    def __init__(self, order_factory: Any, visible_pct: float = 0.1, cache: Any | None = None, *,
                 display_jitter_pct: float = 0.0, seed: int = 0) -> None:
        if not isinstance(visible_pct, (int, float)) or isinstance(visible_pct, bool) or not 0 < visible_pct <= 1:
            raise ValidationError(f"invalid visible_pct: {visible_pct!r} (must be in (0, 1])", field="visible_pct", value=repr(visible_pct))
        self.order_factory = order_factory
        self.visible_pct = float(visible_pct)
        self.cache = cache
        self.display_jitter_pct = display_jitter_pct
        self.seed = seed
        self._state: Iceberg | None = None
        self._instrument_id: InstrumentId | None = None
        self._price: Price | None = None
        self._precision = 0
        self._lot = 1
        self._visible_id: ClientOrderId | None = None

    def execute(self, instrument_id: InstrumentId, total_quantity: Quantity, price: Price | None = None) -> dict[str, Any]:
        """Starts the iceberg: returns the first visible order and the quantities."""
        _check_instrument_id(instrument_id)
        units = qty_to_units(total_quantity, "total_quantity")
        instrument = self.cache.instrument(instrument_id) if self.cache is not None else None
        self._precision = instrument.size_precision if instrument is not None else total_quantity.precision
        self._lot = qty_to_units(instrument.size_increment) if instrument is not None else 10 ** (UNIT_DECIMALS - self._precision)
        if units % self._lot:
            raise ValidationError(f"invalid total_quantity: {total_quantity} (not whole lots)", field="total_quantity", value=str(total_quantity))
        # Work in lots so the core's iceberg chunks are always whole lots.
        self._state = Iceberg(units // self._lot, self.visible_pct, 1, self.display_jitter_pct, self.seed)
        self._instrument_id = instrument_id
        self._price = price if price is not None else (_touch(self.cache, instrument_id, self.side) if self.cache is not None else None)
        order = self._order(self._state.next_chunk())
        return {
            "visible_order": order,
            "visible_quantity": order.quantity,
            "remaining_quantity": self.remaining_quantity,
            "total_quantity": total_quantity,
        }

    def _order(self, lots: int) -> Order:
        quantity = units_to_qty(lots * self._lot, self._precision)
        if self._price is None:
            order = self.order_factory.market(self._instrument_id, self.side, quantity)
        else:
            order = self.order_factory.limit(self._instrument_id, self.side, quantity, self._price, time_in_force=TimeInForce.GTC)
        self._visible_id = order.client_order_id
        return order

    @property
    def remaining_quantity(self) -> Quantity | None:
        """Not yet filled (visible working part plus hidden part)."""
        if self._state is None or self._state.remaining == 0:
            return None
        return units_to_qty(self._state.remaining * self._lot, self._precision)

    @property
    def is_done(self) -> bool:
        return self._state is not None and self._state.is_done

    def on_fill(self, event: OrderFilled) -> Order | None:
        """Feeds a fill of the visible order; returns the next chunk's order when it is due."""
        if self._state is None or event.client_order_id != self._visible_id:
            return None
        lots, rest = divmod(qty_to_units(event.last_qty, "last_qty"), self._lot)
        if rest:
            raise ValidationError(f"invalid last_qty: {event.last_qty} (not whole lots)", field="last_qty", value=str(event.last_qty))
        next_lots = self._state.on_fill(lots)
        return self._order(next_lots) if next_lots else None


class AggressiveBuyPattern(_AggressivePattern):
    side = OrderSide.BUY


class AggressiveSellPattern(_AggressivePattern):
    side = OrderSide.SELL


class PassiveBuyPattern(_PassivePattern):
    side = OrderSide.BUY


class PassiveSellPattern(_PassivePattern):
    side = OrderSide.SELL


class IcebergBuyPattern(_IcebergPattern):
    side = OrderSide.BUY


class IcebergSellPattern(_IcebergPattern):
    side = OrderSide.SELL
