"""The reference's order patterns, both sides:

    AggressiveBuyPattern(order_factory).execute(instrument_id, quantity)      -> market order
    PassiveBuyPattern(order_factory, cache).execute(instrument_id, quantity)  -> post-only limit at the bid
    IcebergBuyPattern(order_factory, visible_pct=0.1).execute(instrument_id, total_quantity)
        -> {"visible_order": ..., "visible_quantity": ..., "remaining_quantity": ..., "total_quantity": ...}
       then `pattern.on_fill(event)` returns the next chunk's order once the visible one has filled.

They build orders; the caller submits them (`strategy.submit_order(order)`), as in the reference.
Every quantity and price is put on the instrument's increments (`nautilus_sor.rounding`: the nearest
size increment and tick, refused with a ValidationError when that would change the order by more than
half an increment), so the venue accepts what the pattern builds whatever precision the caller wrote
(`Quantity.from_str("1.0")` on a size-precision-6 instrument is 1.000000).

The instrument (and the iceberg's touch) come from the cache: the `cache` given, else the cache of the
strategy that owns `order_factory` (found once: Nautilus's OrderFactory keeps its cache private).
"""

from __future__ import annotations

import gc
from typing import Any

from nautilus_trader.common.actor import Actor
from nautilus_trader.model.enums import OrderSide, TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import Order

from nautilus_sor._core import Iceberg
from nautilus_sor.exceptions import MarketDataError, ValidationError
from nautilus_sor.rounding import round_price, round_quantity
from nautilus_sor.units import qty_to_units

# order_factory -> its strategy's cache, for the factories seen last (a pattern is often built per order).
_OWNER_CACHES: dict[int, tuple[Any, Any]] = {}
_MAX_OWNER_CACHES = 16


def _check_instrument_id(instrument_id: Any) -> None:
    if not isinstance(instrument_id, InstrumentId):
        raise ValidationError(f"invalid instrument_id: {instrument_id!r} (must be an InstrumentId)", field="instrument_id", value=repr(instrument_id))


def owner_cache(order_factory: Any) -> Any | None:
    """The cache of the strategy (or actor) whose `order_factory` this is; None when no component owns it.

    Nautilus's OrderFactory holds its cache in a private (cdef) attribute, so the owner is looked up among
    the factory's referrers once and remembered (with the factory, so a recycled id never matches)."""
    known = _OWNER_CACHES.get(id(order_factory))
    if known is not None and known[0] is order_factory:
        return known[1]
    owner = next((r for r in gc.get_referrers(order_factory) if isinstance(r, Actor) and getattr(r, "order_factory", None) is order_factory), None)
    if owner is None or owner.cache is None:
        return None
    if len(_OWNER_CACHES) >= _MAX_OWNER_CACHES:
        _OWNER_CACHES.pop(next(iter(_OWNER_CACHES)))
    _OWNER_CACHES[id(order_factory)] = (order_factory, owner.cache)
    return owner.cache


def _instrument(cache: Any, order_factory: Any, instrument_id: InstrumentId) -> Any:
    """The instrument from `cache`, else from the factory owner's cache; a ValidationError naming
    `instrument_id` when neither has it."""
    cache = cache if cache is not None else owner_cache(order_factory)
    instrument = cache.instrument(instrument_id) if cache is not None else None
    if instrument is None:
        where = "the cache" if cache is not None else "any cache (pass cache=, or use the order_factory of a registered strategy)"
        raise ValidationError(f"invalid instrument_id: {instrument_id} is not in {where}: its size increment and tick are needed",
                              field="instrument_id", value=str(instrument_id))
    return instrument


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


class _SidedPattern:
    """A pattern whose side is part of its class, given where the class is declared:
    `class AggressiveBuyPattern(_AggressivePattern, side=OrderSide.BUY)`."""

    side: OrderSide

    def __init_subclass__(cls, side: OrderSide | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if side is not None:
            cls.side = side


class _AggressivePattern(_SidedPattern):
    def __init__(self, order_factory: Any, cache: Any | None = None) -> None:
        self.order_factory = order_factory
        self.cache = cache

    def execute(self, instrument_id: InstrumentId, quantity: Quantity, **kwargs: Any) -> Order:
        """A market order for `quantity` (on the instrument's size increment): takes liquidity now. IOC unless
        `time_in_force` is given: a market order's unfilled rest does not rest (`MultiVenueStrategy.execute_order`
        says why a GTC one would, in a Nautilus backtest)."""
        _check_instrument_id(instrument_id)
        qty_to_units(quantity)
        instrument = _instrument(self.cache, self.order_factory, instrument_id)
        kwargs.setdefault("time_in_force", TimeInForce.IOC)
        return self.order_factory.market(instrument_id, self.side, round_quantity(instrument, quantity), **kwargs)


class _PassivePattern(_SidedPattern):
    def __init__(self, order_factory: Any, cache: Any) -> None:
        self.order_factory = order_factory
        self.cache = cache

    def execute(self, instrument_id: InstrumentId, quantity: Quantity, **kwargs: Any) -> Order:
        """A post-only limit order joining the best bid (buy) or best ask (sell) from the cache."""
        _check_instrument_id(instrument_id)
        qty_to_units(quantity)
        price = _touch(self.cache, instrument_id, self.side)
        instrument = _instrument(self.cache, self.order_factory, instrument_id)
        kwargs.setdefault("post_only", True)
        return self.order_factory.limit(instrument_id, self.side, round_quantity(instrument, quantity), round_price(instrument, price), **kwargs)


class _IcebergPattern(_SidedPattern):
    """Shows `visible_pct` of the total at a time as a GTC limit order (a chunk), the next chunk once the
    visible one has filled. Each chunk rests at `price` if one is given, else at the touch read from the
    cache when the chunk is made (best bid to buy, best ask to sell; MarketDataError without a quote).

    `remaining_quantity` is the hidden part: the total less what has filled and less the visible chunk,
    i.e. what is still to be shown (zero once the last chunk is out). `filled_quantity` is what has filled."""

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
        self._instrument: Any = None
        self._price: Price | None = None  # the caller's price; None: each chunk joins the touch
        self._visible_id: ClientOrderId | None = None

    def execute(self, instrument_id: InstrumentId, total_quantity: Quantity, price: Price | None = None) -> dict[str, Any]:
        """Starts the iceberg: returns the first visible order and the quantities."""
        _check_instrument_id(instrument_id)
        qty_to_units(total_quantity, "total_quantity")
        cache = self.cache if self.cache is not None else owner_cache(self.order_factory)
        instrument = _instrument(cache, self.order_factory, instrument_id)
        total = round_quantity(instrument, total_quantity, "total_quantity")
        rounded_price = round_price(instrument, price) if price is not None else None
        # Work in lots so the core's iceberg chunks are always whole lots.
        state = Iceberg(total.raw // instrument.size_increment.raw, self.visible_pct, 1, self.display_jitter_pct, self.seed)
        self.cache, self._instrument, self._price = cache, instrument, rounded_price
        first = state.next_chunk()
        order = self._order(first)  # the touch is read (or refused) before the iceberg starts
        self._state = state
        return {
            "visible_order": order,
            "visible_quantity": order.quantity,
            "remaining_quantity": self.remaining_quantity,
            "total_quantity": total,
        }

    def _order(self, lots: int) -> Order:
        instrument = self._instrument
        price = self._price if self._price is not None else round_price(instrument, _touch(self.cache, instrument.id, self.side))
        order = self.order_factory.limit(instrument.id, self.side, self._quantity(lots), price, time_in_force=TimeInForce.GTC)
        self._visible_id = order.client_order_id
        return order

    def _quantity(self, lots: int) -> Quantity:
        return Quantity.from_raw(lots * self._instrument.size_increment.raw, self._instrument.size_precision)

    @property
    def remaining_quantity(self) -> Quantity | None:
        """The hidden part, still to be shown (see the class doc); None before `execute`."""
        return None if self._state is None else self._quantity(self._state.hidden)

    @property
    def filled_quantity(self) -> Quantity | None:
        return None if self._state is None else self._quantity(self._state.filled)

    @property
    def is_done(self) -> bool:
        return self._state is not None and self._state.is_done

    def on_fill(self, event: OrderFilled) -> Order | None:
        """Feeds a fill of the visible order; returns the next chunk's order when it is due."""
        if self._state is None or event.client_order_id != self._visible_id:
            return None
        lots, rest = divmod(event.last_qty.raw, self._instrument.size_increment.raw)
        if rest:
            raise ValidationError(f"invalid last_qty: {event.last_qty} (not whole lots)", field="last_qty", value=str(event.last_qty))
        next_lots = self._state.on_fill(lots)
        return self._show(next_lots) if next_lots else None

    def show_next(self) -> Order | None:
        """The next chunk's order when none is visible (after `on_fill` could not price one); else None."""
        if self._state is None or self._state.working or self._state.is_done:
            return None
        return self._show(self._state.next_chunk())

    def _show(self, lots: int) -> Order:
        try:
            return self._order(lots)
        except MarketDataError:
            if self._state is not None:
                self._state.on_cancel()  # back into hiding: `show_next()` shows it once there is a quote
            raise


class AggressiveBuyPattern(_AggressivePattern, side=OrderSide.BUY):
    """Buys now: `execute` builds a market buy order."""


class AggressiveSellPattern(_AggressivePattern, side=OrderSide.SELL):
    """Sells now: `execute` builds a market sell order."""


class PassiveBuyPattern(_PassivePattern, side=OrderSide.BUY):
    """Joins the best bid: `execute` builds a post-only limit buy order there."""


class PassiveSellPattern(_PassivePattern, side=OrderSide.SELL):
    """Joins the best ask: `execute` builds a post-only limit sell order there."""


class IcebergBuyPattern(_IcebergPattern, side=OrderSide.BUY):
    """Buys in visible chunks (see `_IcebergPattern`), resting at the best bid unless given a price."""


class IcebergSellPattern(_IcebergPattern, side=OrderSide.SELL):
    """Sells in visible chunks (see `_IcebergPattern`), resting at the best ask unless given a price."""
