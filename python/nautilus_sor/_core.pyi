"""Type stubs of the Rust extension `nautilus_sor._core` (checked by `python -m mypy.stubtest`)."""

from collections.abc import Mapping
from typing import Final, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "__build_lto__",
    "__build_opt_level__",
    "__build_profile__",
    "__version__",
    "ROUTE_INSUFFICIENT_LIQUIDITY",
    "ROUTE_NO_ELIGIBLE_VENUE",
    "ROUTE_OK",
    "ROUTER_DEFAULTS",
    "MAX_SLICES",
    "MAX_DURATION_NS",
    "MAX_PRICE",
    "MIN_PRICE",
    "MAX_LATENCY_MS",
    "MAX_SLIPPAGE_BPS",
    "MAX_VOLATILITY",
    "MAX_WEIGHT",
    "MAX_MISS_COST_BPS",
    "MAX_FILL_UNITS",
    "MAX_MONEY",
    "BookFeed",
    "Exposure",
    "PassiveQuote",
    "PassiveSelection",
    "Position",
    "PositionBook",
    "Router",
    "Selection",
    "SplitResult",
    "VenueQuote",
    "VenueSpec",
    "VenueStats",
    "Iceberg",
    "PovTracker",
    "QueuedOrder",
    "decode_capsule",
    "RecordedBook",
    "VenueBook",
    "shortfall_kappa",
    "shortfall_schedule",
    "twap_schedule",
    "volume_curve_from_bars",
    "vwap_curve_schedule",
    "vwap_schedule",
]

__version__: Final[str]
__build_profile__: Final[str]
__build_opt_level__: Final[str]
__build_lto__: Final[str]
ROUTE_OK: Final[int]
ROUTE_INSUFFICIENT_LIQUIDITY: Final[int]
ROUTE_NO_ELIGIBLE_VENUE: Final[int]
ROUTER_DEFAULTS: Final[Mapping[str, float]]
"""The `Router` cost-model defaults (read-only), keyed by argument name: `volatility` (1e-4 per
sqrt(second)), `latency_risk_weight` (1.0), `miss_cost_bps` (5.0 bps), `ewma_alpha` (0.05),
`slippage_weight` (1.0), `tape_tau_s` (30.0 s)."""
MAX_SLICES: Final[int]
"""Most slices one schedule may have (10,000,000); more is a `ValidationError` on `interval_seconds`."""
MAX_DURATION_NS: Final[int]
"""Longest duration, interval or curve period a schedule accepts, in ns (2**62, about 146 years)."""
MAX_PRICE: Final[float]
"""Largest price (and absolute commission) accepted anywhere (1e15); larger is a `ValidationError`."""
MIN_PRICE: Final[float]
"""Smallest price a router book, fill or limit accepts (1e-12)."""
MAX_LATENCY_MS: Final[float]
"""Largest latency accepted for a venue or an acknowledgement, in ms (one hour)."""
MAX_SLIPPAGE_BPS: Final[float]
"""Largest slippage of one fill against its expected price, in bps (10,000)."""
MAX_VOLATILITY: Final[float]
"""Largest `volatility` per sqrt(second) a `Router` accepts (1.0)."""
MAX_WEIGHT: Final[float]
"""Largest `latency_risk_weight` / `slippage_weight` a `Router` accepts (1e6)."""
MAX_MISS_COST_BPS: Final[float]
"""Largest `miss_cost_bps` a `Router` accepts (10,000 bps)."""
MAX_FILL_UNITS: Final[int]
"""Largest fill a `PositionBook` books, in units (2**53 - 1: exact as a float)."""
MAX_MONEY: Final[float]
"""Largest PnL or commission total a `PositionBook` holds (1e22); a fill that could exceed it is refused."""

# An order side: nautilus `OrderSide.BUY`/`OrderSide.SELL`, 1/2, or "BUY"/"SELL".
_Side = int | str
# A trade's aggressor: nautilus `AggressorSide.BUYER`/`SELLER` (1/2), or "BUY"/"SELL"/"BUYER"/"SELLER".
_Aggressor = int | str

@final
class VenueSpec:
    def __new__(
        cls,
        name: str,
        maker_fee: float,
        taker_fee: float,
        latency_ms: float = 0.0,
        lot_size: int = 1,
        min_qty: int = 0,
        enabled: bool = True,
    ) -> VenueSpec: ...
    @property
    def name(self) -> str: ...
    @property
    def maker_fee(self) -> float: ...
    @property
    def taker_fee(self) -> float: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def lot_size(self) -> int: ...
    @property
    def min_qty(self) -> int: ...
    @property
    def enabled(self) -> bool: ...

@final
class VenueStats:
    @property
    def venue(self) -> str: ...
    @property
    def fill_rate(self) -> float: ...
    @property
    def reject_rate(self) -> float: ...
    @property
    def latency_mean_ms(self) -> float: ...
    @property
    def latency_tail_ms(self) -> float: ...
    @property
    def latency_var_ms2(self) -> float: ...
    @property
    def slippage_bps(self) -> float: ...
    @property
    def fill_probability(self) -> float: ...
    @property
    def orders(self) -> int: ...
    @property
    def fills(self) -> int: ...
    @property
    def rejects(self) -> int: ...
    @property
    def acks(self) -> int: ...

@final
class VenueQuote:
    """The expected cost of sending `qty` units to one venue, term by term.

    The router prices every venue against a reference: the consolidated mid of the books it holds, else
    the `limit_price` of the call; with neither (no book anywhere, no price given) it prices against 1.0,
    so that the amounts below are fractions of notional times `qty` and only `score_bps` and the ratios
    between venues mean anything (`SmartOrderRouter` then reports `fee=None` and the fraction in
    `fee_rate`)."""

    @property
    def venue(self) -> str: ...
    @property
    def venue_index(self) -> int: ...
    @property
    def qty(self) -> int:
        """Units of the router's size increment (lots)."""
    @property
    def expected_price(self) -> float | None:
        """The average price expected for `qty` on this venue: walked through its book (book mode), else the
        call's limit price (no books: a limit is assumed to fill at the limit); None without either."""
    @property
    def fee(self) -> float:
        """The taker fee for the whole `qty`: in quote currency when there is a price, else a fraction of
        notional times `qty` (see the class doc)."""
    @property
    def latency_cost(self) -> float:
        """The latency-risk cost for the whole `qty` (same units as `fee`)."""
    @property
    def miss_cost(self) -> float:
        """The expected cost of not completing, for the whole `qty` (same units as `fee`)."""
    @property
    def slippage_cost(self) -> float:
        """The learned slippage on arrival for the whole `qty` (same units as `fee`; negative: the venue tends to improve)."""
    @property
    def score_bps(self) -> float:
        """All-in cost per unit against the reference price, in bps (lower is better)."""
    @property
    def fill_probability(self) -> float:
        """The learned probability an order here is accepted and fills."""

@final
class Selection:
    @property
    def venue(self) -> str: ...
    @property
    def best(self) -> VenueQuote: ...
    @property
    def reference_price(self) -> float | None: ...
    @property
    def candidates(self) -> list[tuple[str, VenueQuote | None, str | None]]: ...

@final
class SplitResult:
    @property
    def allocations(self) -> list[VenueQuote]: ...
    @property
    def total_qty(self) -> int: ...
    @property
    def reference_price(self) -> float | None: ...
    @property
    def score_bps(self) -> float: ...
    @property
    def optimality_gap_bps(self) -> float:
        """0 when proven optimal; else at most how much cheaper (bps) an allocation could be."""
        ...
    def __len__(self) -> int: ...

@final
class PassiveQuote:
    @property
    def venue(self) -> str: ...
    @property
    def venue_index(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def expected_price(self) -> float: ...
    @property
    def mid(self) -> float: ...
    @property
    def queue_ahead(self) -> int: ...
    @property
    def rate_against(self) -> float: ...
    @property
    def fill_probability(self) -> float: ...
    @property
    def half_spread_bps(self) -> float: ...
    @property
    def fee_bps(self) -> float: ...
    @property
    def latency_bps(self) -> float: ...
    @property
    def score_bps(self) -> float: ...

@final
class PassiveSelection:
    @property
    def venue(self) -> str: ...
    @property
    def best(self) -> PassiveQuote: ...
    @property
    def candidates(self) -> list[tuple[str, PassiveQuote | None, str | None]]: ...

@final
class Router:
    """Smart order router over a fixed set of venues. Thread-safe: callers from several threads are served
    one at a time (a batch call holds the router while it runs without the GIL); a call waits, never fails."""

    def __new__(
        cls,
        venues: list[VenueSpec],
        volatility: float = 1e-4,
        latency_risk_weight: float = 1.0,
        miss_cost_bps: float = 5.0,
        ewma_alpha: float = 0.05,
        slippage_weight: float = 1.0,
        tape_tau_s: float = 30.0,
    ) -> Router: ...
    @property
    def venue_names(self) -> list[str]: ...
    @property
    def venues(self) -> list[VenueSpec]: ...
    def venue_index(self, venue: str) -> int: ...
    def set_book(self, venue: str, bids: list[tuple[float, int]], asks: list[tuple[float, int]]) -> None: ...
    def clear_book(self, venue: str) -> None: ...
    def update_level(self, venue: str, is_bid: bool, price: float, size: int) -> None: ...
    def book(self, venue: str) -> tuple[list[tuple[float, int]], list[tuple[float, int]]] | None: ...
    def set_lot(self, venue: str, lot_size: int, min_qty: int) -> None: ...
    def set_enabled(self, venue: str, enabled: bool) -> None: ...
    def select_venue(self, side: _Side, quantity: int, limit_price: float | None = None) -> Selection: ...
    def split(
        self, side: _Side, total_qty: int, max_venues: int, limit_price: float | None = None
    ) -> SplitResult: ...
    def split_units(
        self, side: _Side, total_qty: int, max_venues: int, limit_price: float | None = None
    ) -> list[tuple[str, int]]: ...
    def lot_rounding(
        self, side: _Side, quantity: int, max_venues: int, limit_price: float | None = None
    ) -> tuple[int, int]:
        """How much of a slice that is not a parent's last to route now, and over at most how many venues:
        (units to route now, max_venues to use); 0 units means carry it all."""
        ...
    def route_batch(
        self,
        sides: npt.NDArray[np.int8],
        quantities: npt.NDArray[np.uint64],
        limit_prices: npt.NDArray[np.float64],
        max_venues: int,
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int8]]: ...
    def select_batch(
        self,
        sides: npt.NDArray[np.int8],
        quantities: npt.NDArray[np.uint64],
        limit_prices: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
    def record_ack(self, venue: str, latency_ms: float) -> None: ...
    def record_reject(self, venue: str) -> None: ...
    def record_fill(self, venue: str, side: _Side, expected_price: float, fill_price: float) -> None: ...
    def record_order_done(self, venue: str, filled: int, ordered: int) -> None: ...
    def record_trade(self, venue: str, aggressor: _Aggressor, size: int, ts_ns: int) -> None: ...
    def tape_rate(self, venue: str, aggressor: _Aggressor, now_ns: int) -> float: ...
    def clear_tapes(self) -> None: ...
    def select_passive(self, side: _Side, quantity: int, horizon_s: float, now_ns: int) -> PassiveSelection: ...
    def venue_stats(self, venue: str) -> VenueStats: ...
    def restore_venue_stats(
        self,
        venue: str,
        *,
        fill_rate: float,
        reject_rate: float,
        latency_mean_ms: float,
        latency_var_ms2: float,
        slippage_bps: float,
        orders: int,
        fills: int,
        rejects: int,
        acks: int,
    ) -> None: ...

# ----- positions (rust/sor-py/src/position.rs) -----

# An OMS type: nautilus `OmsType.NETTING`/`OmsType.HEDGING`, 1/2, or "NETTING"/"HEDGING".
_OmsType = int | str
# A venue or instrument of a PositionBook: its id or its name.
_Key = int | str

@final
class Position:
    @property
    def id(self) -> int: ...
    @property
    def venue(self) -> str: ...
    @property
    def venue_id(self) -> int: ...
    @property
    def instrument(self) -> str: ...
    @property
    def instrument_id(self) -> int: ...
    @property
    def oms_type(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def signed_units(self) -> int: ...
    @property
    def signed_qty(self) -> float: ...
    @property
    def peak_qty(self) -> int: ...
    @property
    def buy_qty(self) -> int: ...
    @property
    def sell_qty(self) -> int: ...
    @property
    def avg_px_open(self) -> float: ...
    @property
    def avg_px_close(self) -> float: ...
    @property
    def realized_pnl(self) -> float: ...
    @property
    def realized_return(self) -> float: ...
    @property
    def commissions(self) -> float: ...
    @property
    def event_count(self) -> int: ...
    @property
    def prior_realized_pnl(self) -> float: ...
    @property
    def total_realized_pnl(self) -> float: ...
    @property
    def closed_cycles(self) -> int: ...
    @property
    def is_open(self) -> bool: ...
    @property
    def is_closed(self) -> bool: ...
    def unrealized_pnl(self, price: float) -> float: ...
    def total_pnl(self, price: float) -> float: ...

@final
class Exposure:
    @property
    def underlying(self) -> str: ...
    @property
    def net(self) -> float: ...
    @property
    def long(self) -> float: ...
    @property
    def short(self) -> float: ...
    @property
    def netting(self) -> float: ...
    @property
    def hedging(self) -> float: ...
    @property
    def by_venue(self) -> dict[str, float]: ...
    @property
    def open_positions(self) -> int: ...
    @property
    def realized_pnl(self) -> float: ...

@final
class PositionBook:
    """NETTING / HEDGING positions of many venues and instruments. Thread-safe as `Router` is."""

    def __new__(cls) -> PositionBook: ...
    def add_venue(self, name: str, oms_type: _OmsType) -> int: ...
    def add_instrument(
        self,
        name: str,
        underlying: str,
        size_precision: int = 0,
        multiplier: float = 1.0,
        currency_precision: int | None = None,
    ) -> int: ...
    def venue_id(self, name: str) -> int: ...
    def instrument_id(self, name: str) -> int: ...
    @property
    def venue_names(self) -> list[str]: ...
    @property
    def instrument_names(self) -> list[str]: ...
    @property
    def position_count(self) -> int: ...
    def apply_fill(
        self,
        venue: _Key,
        instrument: _Key,
        side: _Side,
        quantity: int,
        price: float,
        commission: float = 0.0,
        position_id: int | None = None,
    ) -> int: ...
    def apply_fills(
        self,
        venue_ids: npt.NDArray[np.int64],
        instrument_ids: npt.NDArray[np.int64],
        sides: npt.NDArray[np.int8],
        quantities: npt.NDArray[np.uint64],
        prices: npt.NDArray[np.float64],
        commissions: npt.NDArray[np.float64] | None = None,
        position_ids: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def position(self, position_id: int) -> Position: ...
    def open_position_ids(self, venue: _Key, instrument: _Key) -> list[int]: ...
    def netting_position_id(self, venue: _Key, instrument: _Key) -> int | None: ...
    def net_units(self, venue: _Key, instrument: _Key) -> int: ...
    def realized_pnl(self, venue: _Key, instrument: _Key) -> float: ...
    def unrealized_pnl(self, venue: _Key, instrument: _Key, mark_price: float) -> float: ...
    def net_exposure(self, underlying: str) -> float: ...
    def exposure(self, underlying: str) -> Exposure: ...

# ----- schedules (rust/sor-py/src/schedule.rs) -----
# Each schedule returns (offsets_ns, quantities): uint64 arrays of the non-zero children, offsets in ns
# from the order's start (non-decreasing, inside the duration), quantities summing exactly to `quantity`.

from collections.abc import Mapping, Sequence

_Schedule = tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]

def twap_schedule(
    quantity: int,
    duration_seconds: float,
    interval_seconds: float,
    *,
    lot_size: int = 1,
    size_jitter_pct: float = 0.0,
    time_jitter_pct: float = 0.0,
    seed: int = 0,
) -> _Schedule: ...
def vwap_schedule(
    quantity: int,
    volume_profile: Mapping[int, float],
    duration_seconds: float,
    interval_seconds: float,
    *,
    start_time_ns: int | None = None,
    start_hour: float | None = None,
    lot_size: int = 1,
) -> _Schedule: ...
def vwap_curve_schedule(
    quantity: int,
    bucket_weights: npt.NDArray[np.float64] | Sequence[float],
    bucket_seconds: float,
    duration_seconds: float,
    interval_seconds: float,
    *,
    start_time_ns: int,
    lot_size: int = 1,
) -> _Schedule: ...
def volume_curve_from_bars(
    timestamps_ns: npt.NDArray[np.uint64] | npt.NDArray[np.int64] | Sequence[int],
    volumes: npt.NDArray[np.float64] | Sequence[float],
    bucket_seconds: float = 60.0,
) -> npt.NDArray[np.float64]: ...
def shortfall_schedule(
    quantity: int,
    duration_seconds: float,
    interval_seconds: float,
    *,
    risk_aversion: float,
    volatility: float,
    temporary_impact: float,
    permanent_impact: float = 0.0,
    lot_size: int = 1,
) -> _Schedule: ...
def shortfall_kappa(
    duration_seconds: float,
    interval_seconds: float,
    *,
    risk_aversion: float,
    volatility: float,
    temporary_impact: float,
    permanent_impact: float = 0.0,
) -> float: ...

@final
class PovTracker:
    def __new__(
        cls,
        quantity: int,
        participation_rate: float,
        min_child: int = 0,
        max_child: int | None = None,
        lot_size: int = 1,
    ) -> PovTracker: ...
    def on_market_volume(self, volume: int) -> int: ...
    @property
    def quantity(self) -> int: ...
    @property
    def participation_rate(self) -> float: ...
    @property
    def sent(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    @property
    def observed_volume(self) -> int: ...
    @property
    def target(self) -> int: ...
    @property
    def children(self) -> int: ...
    @property
    def is_done(self) -> bool: ...

@final
class QueuedOrder:
    """One resting limit order and the size estimated ahead of it at its price (hftbacktest's queue
    models: `queue_model` is "risk_averse", "prob_linear", "prob_power" (f(x) = x**queue_power,
    0 < queue_power <= 10) or "prob_log"). Prices are in ticks of the venue, sizes in market units."""

    def __new__(
        cls,
        side: _Side,
        price_tick: int,
        qty: float,
        displayed: float,
        lot_size: float,
        queue_model: str = "prob_linear",
        queue_power: float = 3.0,
    ) -> QueuedOrder: ...
    def on_trade(self, aggressor: _Side, price_tick: int, trade_qty: float, available: float | None = None) -> float:
        """A tape trade; returns the units that fill us: whole lots of the volume beyond the queue
        ahead (at our price) or of the whole trade (through it), at most `leaves` and `available`."""
    def on_depth(self, prev_qty: float, new_qty: float) -> None:
        """The displayed size at our price changed from `prev_qty` to `new_qty`."""
    @property
    def leaves(self) -> float:
        """Units still resting."""
    @property
    def ahead(self) -> float:
        """Estimated units ahead of us at our price."""
    @property
    def price_tick(self) -> int: ...
    @property
    def side(self) -> str:
        """"BUY" or "SELL"."""

@final
class RecordedBook:
    """One venue's recorded book for the execution simulator (`backtest.sim`): `ts` (int64 ns, sorted)
    and rows x levels float64 arrays, best level first, a missing level a NaN price. Shared by runs."""

    def __new__(
        cls,
        ts: npt.NDArray[np.int64],
        bid_px: npt.NDArray[np.float64],
        bid_sz: npt.NDArray[np.float64],
        ask_px: npt.NDArray[np.float64],
        ask_sz: npt.NDArray[np.float64],
    ) -> RecordedBook: ...
    def __len__(self) -> int: ...

@final
class VenueBook:
    """A `RecordedBook` with the liquidity one simulated run took from it (the consumed-liquidity rule,
    docs/evaluation.md). `side`: 1 / "BUY" takes the asks, 2 / "SELL" the bids."""

    def __new__(cls, book: RecordedBook, tick: float) -> VenueBook: ...
    def offered(self, side: _Side, ts: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Prices and sizes still available to us of the levels a `side` order would take at `ts`."""
    def take(self, side: _Side, qty: float, limit: float | None, ts: int) -> list[tuple[float, float]]:
        """An aggressive order meeting the book in force at `ts` within `limit` (None: market), consuming
        what it takes: [(price, size)]."""
    def consume_at(self, side: _Side, price: float, size: float, ts: int) -> None:
        """Records a take of `size` at `price` at `ts` decided elsewhere."""
    def key(self, price: float) -> int:
        """The level key of `price`: price / tick rounded half to even."""

@final
class Iceberg:
    def __new__(
        cls,
        quantity: int,
        visible_pct: float,
        lot_size: int = 1,
        display_jitter_pct: float = 0.0,
        seed: int = 0,
    ) -> Iceberg: ...
    def next_chunk(self) -> int: ...
    def on_fill(self, fill_qty: int) -> int: ...
    def on_cancel(self) -> int: ...
    @property
    def quantity(self) -> int: ...
    @property
    def visible_pct(self) -> float: ...
    @property
    def display_qty(self) -> int: ...
    @property
    def filled(self) -> int: ...
    @property
    def working(self) -> int: ...
    @property
    def hidden(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    @property
    def chunks(self) -> int: ...
    @property
    def is_done(self) -> bool: ...

@final
class BookFeed:
    """Per venue of a `Router`, an exact L2 book kept from Nautilus deltas (Nautilus's L2_MBP rules, raw
    integers); after each call the venue's best `depth` levels a side are the router's book (none when
    crossed). Used through `nautilus_sor.book_sync.DeltaFeed`."""

    def __new__(cls, router: Router, depth: int, fixed_precision: int, unit_decimals: int) -> BookFeed: ...
    def apply_capsule(self, venue: str, capsule: object) -> int:
        """One batch as `OrderBookDelta.capsule_from_list(deltas.deltas)`; returns the sides the router's
        book now shows (1 bids, 2 asks, 3 both, 0 none). A bad delta refuses the whole batch."""
    def apply(self, venue: str, actions: Sequence[int], sides: Sequence[int], prices: Sequence[int], sizes: Sequence[int]) -> int:
        """The same from Nautilus's numbers (raw prices and sizes)."""
    def reset(self, venue: str) -> None:
        """Forgets the venue's book (and the router's)."""
    def levels(self, venue: str, depth: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids, asks) best first as (raw price, raw size)."""
    @property
    def depth(self) -> int: ...

def decode_capsule(capsule: object, wide: bool) -> list[tuple[int, int, int, int, int]]:
    """(action, side, raw price, raw size, flags) of a `capsule_from_list` capsule (the layout check)."""
