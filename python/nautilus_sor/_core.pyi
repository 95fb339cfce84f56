"""(Over 600 lines: the whole extension's public surface in one stub, as Python requires a stub per module,
documented member by member in pydantic-core's way; `tests/test_stub_matches_core.py` keeps it equal to
the extension.)

Type stubs of the Rust extension `nautilus_sor._core`, documented member by member.

The core's conventions, which every member below follows:

- **Units.** Quantities are non-negative integers ("units") of a size increment the caller chooses:
  for the router and the schedules, one increment for every venue (the Python layer uses 1e-9 of the
  instrument's quantity, `nautilus_sor.units`: 0.5 BTC is 500_000_000 units); for a `PositionBook`,
  `10**-size_precision` of each instrument. Integer units
  keep every split, schedule and position exact: children and allocations sum to their parent to the
  unit. Exceptions: `QueuedOrder` works in float market units, and `Exposure` in float underlying units.
- **Prices** are floats in quote currency per unit of the instrument, in `[MIN_PRICE, MAX_PRICE]`
  (router) or `(0, MAX_PRICE]` (positions). **Fees** are fractions of notional (0.0004 is 4 bps).
  **Times** are integer nanoseconds (Unix ns, or ns offsets from an order's start); durations given
  in seconds or milliseconds say so in their name.
- **Errors.** Bad input raises a `nautilus_sor.exceptions` class whose `field` names the argument (or
  the array column and row, e.g. `quantities[3]`) and whose `value` is the offending value as text:
  `ValidationError` for a malformed argument (a wrong type too: a bool or float where an int is
  wanted, a negative or too-large count), `UnknownVenueError` (a `ValidationError`) for a venue the
  router or book does not know, `NoEligibleVenueError` and `InsufficientLiquidityError` (both
  `RoutingError`) for a well-formed request that cannot be routed. A refused call changes nothing.
- **Threads.** `Router` and `PositionBook` may be shared between threads: each call takes the object's
  lock (batch calls hold it while they run without the GIL); a second caller waits, never fails.

Checked against the module by `tests/test_stub_matches_core.py` (names) and `mypy --strict`.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeVar, final

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
    "RoutePlan",
    "Selection",
    "SplitResult",
    "VenueQuote",
    "VenueSpec",
    "VenueStats",
    "Iceberg",
    "PovTracker",
    "QueuedOrder",
    "RecordedBook",
    "VenueBook",
    "ConsumedLiquidity",
    "shortfall_kappa",
    "shortfall_schedule",
    "twap_schedule",
    "volume_curve_from_bars",
    "vwap_curve_schedule",
    "vwap_schedule",
    "decode_capsule",
    "bind_deltas_accessor",
    "decode_deltas",
]

# ----- build and limits (rust/sor-py/src/lib.rs, rust/sor-core/src/limits.rs) -----

__version__: Final[str]
"""The package version the extension was built from (the crate's version)."""
__build_profile__: Final[str]
""""release" or "debug": benchmarks print it so a debug build is never taken for published figures."""
__build_opt_level__: Final[str]
"""The compiler optimisation level of the build (cargo's `opt-level`: "0" to "3", "s", "z")."""
__build_lto__: Final[str]
"""The link-time optimisation of the build (cargo's `lto`: "fat", "thin", "false", ...)."""
ROUTE_OK: Final[int]
"""`Router.route_batch` status of a routed row (0)."""
ROUTE_INSUFFICIENT_LIQUIDITY: Final[int]
"""`Router.route_batch` status of a row the displayed depth within its limit cannot cover (1); the
row's allocations are all 0 (`Router.split` would raise `InsufficientLiquidityError`)."""
ROUTE_NO_ELIGIBLE_VENUE: Final[int]
"""`Router.route_batch` status of a row no venue can take (2): every other reason `Router.split`
would refuse it (no eligible venue, a quantity no lot combination sums to); allocations all 0."""
ROUTER_DEFAULTS: Final[Mapping[str, float]]
"""The `Router` cost-model defaults (read-only), keyed by argument name: `volatility` (1e-4 per
sqrt(second)), `latency_risk_weight` (1.0), `miss_cost_bps` (5.0 bps), `ewma_alpha` (0.05),
`slippage_weight` (1.0), `tape_tau_s` (30.0 s)."""
MAX_SLICES: Final[int]
"""Most slices one schedule may have (10,000,000); more is a `ValidationError` on `interval_seconds`
(on `bucket_seconds` for a day curve with more buckets)."""
MAX_DURATION_NS: Final[int]
"""Longest duration, interval or curve period a schedule accepts, in ns (2**62, about 146 years)."""
MAX_PRICE: Final[float]
"""Largest price (and absolute commission, and instrument multiplier) accepted anywhere (1e15); larger
is a `ValidationError`: a unit mistake that would overflow notional and PnL arithmetic."""
MIN_PRICE: Final[float]
"""Smallest price a router book level, `record_fill` price or limit price accepts (1e-12)."""
MAX_LATENCY_MS: Final[float]
"""Largest latency accepted for a venue or an acknowledgement, in ms (3,600,000: one hour)."""
MAX_SLIPPAGE_BPS: Final[float]
"""Largest slippage of one fill against its expected price, in bps (10,000): a fill further away is
refused (`ValidationError` on `fill_price`) as prices in different units."""
MAX_VOLATILITY: Final[float]
"""Largest `volatility` per sqrt(second) a `Router` accepts (1.0)."""
MAX_WEIGHT: Final[float]
"""Largest `latency_risk_weight` / `slippage_weight` a `Router` accepts (1e6)."""
MAX_MISS_COST_BPS: Final[float]
"""Largest `miss_cost_bps` a `Router` accepts (10,000 bps)."""
MAX_FILL_UNITS: Final[int]
"""Largest fill a `PositionBook` books, in units (2**53 - 1: exact as a float)."""
MAX_MONEY: Final[float]
"""Largest PnL or commission total a `PositionBook` holds (1e22); a fill that could take a position's
money beyond it is refused (`ValidationError` on `quantity`), never saturated."""

# An order side: nautilus `OrderSide.BUY`/`OrderSide.SELL`, the ints 1/2, or "BUY"/"SELL" in any case
# (never a bool). Anything else is a `ValidationError` naming the argument.
_Side = int | str
# A trade's aggressor: nautilus `AggressorSide.BUYER`/`SELLER` (1/2), or "BUY"/"SELL"/"BUYER"/"SELLER".
_Aggressor = int | str

# ----- the router (rust/sor-py/src/router, rust/sor-core/src/route, venue.rs, passive.rs, tape.rs) -----

@final
class VenueSpec:
    """A venue's static terms, validated on construction (immutable). Quantities are units of the
    router's size increment."""

    def __new__(
        cls,
        name: str,
        maker_fee: float,
        taker_fee: float,
        latency_ms: float = 0.0,
        lot_size: int = 1,
        min_qty: int = 0,
        enabled: bool = True,
    ) -> VenueSpec:
        """Arguments:
            name: The venue's name, as Nautilus checks a `Venue` id: not empty, not only whitespace,
                ASCII, no NUL.
            maker_fee: Fee of resting fills, a fraction of notional in [-0.01, 0.1] (negative: a rebate).
            taker_fee: Fee of aggressive fills, a fraction of notional in [0, 0.1] (0.0004 is 4 bps).
            latency_ms: Expected one-way order latency in ms, [0, `MAX_LATENCY_MS`]; the router's
                prior until acknowledgements (`Router.record_ack`) replace it.
            lot_size: Orders here must be whole multiples of this many units (at least 1).
            min_qty: Smallest order in units; whole lots must reach it within 2**64 units.
            enabled: Whether the router may route here (`Router.set_enabled` changes it).

        Raises:
            ValidationError: A field out of its range, naming it (a fee given in bps, not as a fraction,
                is out of range).
        """
    @property
    def name(self) -> str:
        """The venue's name."""
    @property
    def maker_fee(self) -> float:
        """Fee of resting fills, a fraction of notional (negative: a rebate)."""
    @property
    def taker_fee(self) -> float:
        """Fee of aggressive fills, a fraction of notional."""
    @property
    def latency_ms(self) -> float:
        """Expected one-way order latency, in ms (the prior; learned values are in `VenueStats`)."""
    @property
    def lot_size(self) -> int:
        """Lot size, in units: every order here is a whole multiple of it."""
    @property
    def min_qty(self) -> int:
        """Smallest order, in units."""
    @property
    def enabled(self) -> bool:
        """Whether the router may route here (`Router.venues` shows the flag after `Router.set_enabled`)."""

@final
class VenueStats:
    """A snapshot of what a `Router` learned about one venue (`Router.venue_stats`). Rates are EWMAs
    with the router's `ewma_alpha`, starting from a neutral prior (everything fills, nothing is
    rejected, latency as specified). Save it and give it back to `Router.restore_venue_stats`."""

    @property
    def venue(self) -> str:
        """The venue's name."""
    @property
    def fill_rate(self) -> float:
        """Share of the ordered quantity that filled, over finished orders (`record_order_done`;
        a reject counts as nothing filled), in [0, 1]."""
    @property
    def reject_rate(self) -> float:
        """Share of submissions rejected (`record_reject` vs `record_ack`), in [0, 1]."""
    @property
    def latency_mean_ms(self) -> float:
        """Decayed mean acknowledgement latency, in ms."""
    @property
    def latency_tail_ms(self) -> float:
        """About the 99th percentile of latency, in ms: mean + 2.326 standard deviations (a normal
        approximation: rare very slow acks show below their true percentile)."""
    @property
    def latency_var_ms2(self) -> float:
        """Decayed variance of latency, in ms**2."""
    @property
    def slippage_bps(self) -> float:
        """Decayed fill price against the expected price, in bps; positive is worse for us."""
    @property
    def fill_probability(self) -> float:
        """`fill_rate * (1 - reject_rate)`: the chance an order here is accepted and fills, the basis
        of the miss-cost term."""
    @property
    def orders(self) -> int:
        """Orders finished (`record_order_done`) or rejected; saturates at 2**64 - 1."""
    @property
    def fills(self) -> int:
        """Fills recorded (`record_fill`)."""
    @property
    def rejects(self) -> int:
        """Rejects recorded."""
    @property
    def acks(self) -> int:
        """Acknowledgements recorded."""

class _VenueUnits(Protocol):
    """What `VenueQuote` and `PassiveQuote` have in common: the venue quoted and for how many units (a
    typing name only: not in the module)."""

    @property
    def venue(self) -> str:
        """The venue's name."""
    @property
    def venue_index(self) -> int:
        """The venue's position in `Router.venue_names` (the column of `route_batch`)."""
    @property
    def qty(self) -> int:
        """Units of the router's size increment quoted (to take, or to rest), a whole number of the
        venue's lots."""

@final
class VenueQuote(_VenueUnits):
    """The expected cost of sending `qty` units to one venue, term by term.

    The router prices every venue against a reference: the consolidated mid of the enabled venues'
    books (the touch if only one side shows), else the `limit_price` of the call; with neither (no book
    anywhere, no price given) it prices against 1.0, so that the amounts below are fractions of
    notional times `qty` and only `score_bps` and the ratios between venues mean anything
    (`SmartOrderRouter` then reports `fee=None` and the fraction in `fee_rate`)."""

    @property
    def expected_price(self) -> float | None:
        """The average price expected for `qty` on this venue: walked through its book (book mode), else
        the call's limit price (no books: a limit is assumed to fill at the limit); None without either."""
    @property
    def fee(self) -> float:
        """The taker fee for the whole `qty`: in quote currency when there is a price, else a fraction of
        notional times `qty` (see the class doc)."""
    @property
    def latency_cost(self) -> float:
        """The latency-risk cost for the whole `qty`, `latency_risk_weight * volatility * price *
        sqrt(mean latency in s)` per unit (same units as `fee`)."""
    @property
    def miss_cost(self) -> float:
        """The expected cost of not completing, `(1 - fill_probability) * miss_cost_bps` of the price per
        unit, for the whole `qty` (same units as `fee`)."""
    @property
    def slippage_cost(self) -> float:
        """The learned slippage on arrival, `slippage_weight * slippage_bps` of the price per unit, for the
        whole `qty` (same units as `fee`; negative: the venue tends to improve)."""
    @property
    def score_bps(self) -> float:
        """All-in cost per unit against the reference price, in bps (lower is better on both sides)."""
    @property
    def fill_probability(self) -> float:
        """The learned probability an order here is accepted and fills (`VenueStats.fill_probability`)."""

_Quote = TypeVar("_Quote")

class _VenueChoice(Protocol[_Quote]):
    """What `Selection` and `PassiveSelection` have in common (a typing name only: not in the module)."""

    @property
    def venue(self) -> str:
        """The chosen venue's name."""
    @property
    def best(self) -> _Quote:
        """The chosen venue's quote: the lowest `score_bps` (ties: lower mean latency, then venue order)."""
    @property
    def candidates(self) -> list[tuple[str, _Quote | None, str | None]]:
        """Per venue, in venue order: (name, its quote or None, the reason it was not eligible or None),
        e.g. "disabled", "no book data", "displays 40 of 100 units within the limit", "one-sided book:
        no bid to join"."""

@final
class Selection(_VenueChoice[VenueQuote]):
    """The result of `Router.select_venue`: the chosen venue and how every venue fared (`venue`, `best`,
    `candidates`: see `_VenueChoice`)."""

    @property
    def reference_price(self) -> float | None:
        """The price the scores are measured against (see `VenueQuote`); None: relative mode."""

@final
class SplitResult:
    """The result of `Router.split`: allocations summing exactly to `total_qty`."""

    @property
    def allocations(self) -> list[VenueQuote]:
        """One quote per venue that gets a non-zero quantity, in venue order; each a whole number of its
        lots and at least its minimum."""
    @property
    def total_qty(self) -> int:
        """The requested units (the sum of the allocations)."""
    @property
    def reference_price(self) -> float | None:
        """The price the scores are measured against (see `VenueQuote`); None: relative mode."""
    @property
    def score_bps(self) -> float:
        """All-in cost per unit of the whole split against the reference price, in bps."""
    @property
    def optimality_gap_bps(self) -> float:
        """0 when proven optimal (always, except when the search hit its work budget: many venues whose
        lots do not divide each other); else at most how much cheaper (bps of the order's notional) an
        allocation could be."""
    def __len__(self) -> int:
        """The number of venues allocated to."""

@final
class PassiveQuote(_VenueUnits):
    """The expected cost of resting `qty` units at one venue's touch for the horizon, then crossing
    what has not filled (`Router.select_passive`). The component bps figures (half spread, fee,
    latency) are against this venue's mid; `score_bps`, which venues are compared by, is against
    `reference_price`, the taker score's reference."""

    @property
    def expected_price(self) -> float:
        """Our touch, where the order rests: the best bid to buy, the best ask to sell."""
    @property
    def mid(self) -> float:
        """The venue's mid, which the component bps figures are measured against."""
    @property
    def reference_price(self) -> float:
        """What `score_bps` is measured against: the consolidated mid of the enabled venues, as every
        taker score (`Router.reference_price`); this venue's mid when no other reference exists."""
    @property
    def queue_ahead(self) -> int:
        """Units displayed at our touch, ahead of us in the queue (we join the back)."""
    @property
    def rate_against(self) -> float:
        """Units per second recently traded against our side (aggressive sellers when we buy), from the
        venue's decayed tape (`Router.record_trade`)."""
    @property
    def fill_probability(self) -> float:
        """`min(1, rate_against * horizon_s / (queue_ahead + qty))`: the chance the queue ahead and our
        order trade away within the horizon."""
    @property
    def half_spread_bps(self) -> float:
        """Half the venue's spread, in bps of its mid."""
    @property
    def fee_bps(self) -> float:
        """Expected fee `p * maker_fee + (1 - p) * taker_fee`, in bps (`p` = `fill_probability`)."""
    @property
    def latency_bps(self) -> float:
        """The latency-risk term `latency_risk_weight * volatility * sqrt(mean latency in s)`, in bps."""
    @property
    def score_bps(self) -> float:
        """All-in expected cost against `reference_price`, in bps (lower is better): the cost at the
        venue's mid, `at_mid = p * (maker_fee - half_spread) + (1 - p) * (taker_fee + half_spread) +
        latency_bps`, moved onto the reference: `s * (mid - reference) / reference * 1e4 + at_mid * mid /
        reference` (`s` +1 buy, -1 sell). A venue whose mid stands above the others' costs a buyer that
        basis, and the score compares with a split's `score_bps` on one scale."""

@final
class PassiveSelection(_VenueChoice[PassiveQuote]):
    """The result of `Router.select_passive`: the venue to rest on, and how every venue fared (`venue`,
    `best`, `candidates`: see `_VenueChoice`)."""

@final
class Router:
    """Smart order router over a fixed set of venues: per-venue books, learned statistics and trade
    tapes, and the cost model that scores them.

    Cost per unit, in price terms (lower is better on both sides; `s` = +1 buy, -1 sell):
    `s * price + taker_fee * price + latency_cost + miss_cost + slippage_cost` (see `VenueQuote`),
    `price` walked through the venue's book. **Book mode**: once any enabled venue has a book, venues
    without one are not routed to. Without any book, every venue offers unlimited size at the
    reference price and only fees and learned terms decide.

    Venues are named by their name (str) in every method; an unknown name raises `UnknownVenueError`
    (field "venue"), a non-str `ValidationError`. Thread-safe: callers from several threads are served
    one at a time (a batch call holds the router while it runs without the GIL); a call waits, never
    fails."""

    def __new__(
        cls,
        venues: list[VenueSpec],
        volatility: float = 1e-4,
        latency_risk_weight: float = 1.0,
        miss_cost_bps: float = 5.0,
        ewma_alpha: float = 0.05,
        slippage_weight: float = 1.0,
        tape_tau_s: float = 30.0,
    ) -> Router:
        """Arguments (defaults: `ROUTER_DEFAULTS`):
            venues: At least one `VenueSpec`, names unique; their order is the venue order of every result.
            volatility: Price volatility per sqrt(second), a fraction in [0, `MAX_VOLATILITY`] (1e-4 is
                about 3% a day); scales the latency-risk term.
            latency_risk_weight: Multiplier of the latency-risk term, [0, `MAX_WEIGHT`] (0 turns it off).
            miss_cost_bps: Cost, in bps of price, of an order that does not complete and must be sent
                again, [0, `MAX_MISS_COST_BPS`].
            ewma_alpha: Weight of each new event in the venue statistics, in (0, 1].
            slippage_weight: Multiplier of the learned-slippage term, [0, `MAX_WEIGHT`] (0 turns it off).
            tape_tau_s: Time constant, in seconds (> 0), of the decayed trade tape behind
                `select_passive`'s fill probabilities.

        Raises:
            ValidationError: `venues` empty, not a list of `VenueSpec` (`venues[i]`) or with a duplicate
                name (`venues[i].name`); a parameter out of its range, naming it.
        """
    @property
    def venue_names(self) -> list[str]:
        """The venues' names, in venue order."""
    @property
    def venues(self) -> list[VenueSpec]:
        """The venues' current terms (after `set_lot` / `set_enabled`), in venue order."""
    def venue_index(self, venue: str) -> int:
        """The position of `venue` in `venue_names`. Raises `UnknownVenueError` for an unknown name."""
    def set_book(self, venue: str, bids: list[tuple[float, int]], asks: list[tuple[float, int]]) -> None:
        """Replaces the venue's book.

        Arguments:
            bids: (price, size in units) pairs, best (highest) first, prices strictly descending.
            asks: (price, size in units) pairs, best (lowest) first, prices strictly ascending.

        Raises:
            ValidationError: A price outside [`MIN_PRICE`, `MAX_PRICE`], a size of 0 or not a whole
                number of units, unsorted levels, or a crossed book (best bid >= best ask); the field
                names the level (`bids[2].price`, `asks[0].size`). The old book stays then.
        """
    def clear_book(self, venue: str) -> None:
        """Forgets the venue's book: it then has no market data (and, in book mode, gets no orders)."""
    def update_level(self, venue: str, is_bid: bool, price: float, size: int) -> None:
        """Sets one level of the venue's book to `size` units (0 removes it), keeping the side sorted.

        On a venue without a book the first non-zero level creates one (switching the router into book
        mode); a delete there is a no-op. Raises `ValidationError` (field "price") for a price outside
        [`MIN_PRICE`, `MAX_PRICE`] or a level that would cross the book; the book is left as it was.
        """
    def book(self, venue: str) -> tuple[list[tuple[float, int]], list[tuple[float, int]]] | None:
        """The venue's book as (bids, asks) lists of (price, size in units), best first; None without one."""
    def set_lot(self, venue: str, lot_size: int, min_qty: int) -> None:
        """Sets the venue's lot size and minimum order, in units (e.g. for the instrument routed now).
        Raises `ValidationError` for `lot_size` 0 or a `min_qty` whole lots cannot reach within 2**64."""
    def set_enabled(self, venue: str, enabled: bool) -> None:
        """Enables or disables routing to the venue (a disabled venue's book no longer counts towards
        the reference price or book mode). `enabled` must be a bool."""
    def select_venue(self, side: _Side, quantity: int, limit_price: float | None = None) -> Selection:
        """The single venue with the lowest all-in cost for the whole `quantity`.

        A venue is eligible when it is enabled, `quantity` is a whole number of its lots and at least
        its minimum, and (in book mode) its book displays `quantity` within `limit_price`.

        Arguments:
            side: The order's side.
            quantity: Units (> 0).
            limit_price: Worst price to take, in [`MIN_PRICE`, `MAX_PRICE`]; None: no limit.

        Raises:
            ValidationError: `quantity` 0 or `limit_price` out of range; or `quantity` fits no enabled
                venue's lot size and minimum (field "quantity").
            NoEligibleVenueError: No venue is eligible; the message gives each venue's reason.
        """
    def split(
        self, side: _Side, total_qty: int, max_venues: int, limit_price: float | None = None
    ) -> SplitResult:
        """The cheapest allocation of `total_qty` over at most `max_venues` venues.

        Exact: every allocation is a whole number of its venue's lots, 0 or at least its minimum, within
        the displayed depth inside `limit_price` (book mode), and they sum to `total_qty`; optimal for the
        cost model whenever such an allocation exists (see `SplitResult.optimality_gap_bps` for the one
        bounded case).

        Arguments:
            side: The order's side.
            total_qty: Units (> 0).
            max_venues: Most venues to use (>= 1).
            limit_price: Worst price to take, in [`MIN_PRICE`, `MAX_PRICE`]; None: no limit.

        Raises:
            ValidationError: `total_qty` 0, `max_venues` 0, `limit_price` out of range, or `total_qty`
                not a multiple of the eligible venues' common lot size (no allocation can sum to it).
            NoEligibleVenueError: No venue can take part (field "total_qty"; each venue's reason given).
            InsufficientLiquidityError: The displayed depth of the best `max_venues` venues within the
                limit is short; carries `requested`, `available`, `shortfall` (units), `limit_price`.
        """
    def split_units(
        self, side: _Side, total_qty: int, max_venues: int, limit_price: float | None = None
    ) -> list[tuple[str, int]]:
        """The same split as `split`, as (venue name, units) pairs in venue order, without result or quote
        objects (for a caller that only sends the quantities). Raises as `split`."""
    def lot_rounding(
        self, side: _Side, quantity: int, max_venues: int, limit_price: float | None = None
    ) -> tuple[int, int]:
        """How much of a slice that is not a parent's last to route now, and over at most how many venues:
        (units to route now, max_venues to use); 0 units means carry it all.

        When the enabled venues' lots do not divide one another, of the exact quantity and its roundings
        down to each lot, the one with the lowest `split` score goes now and the rest is the caller's to
        carry to a later slice. With one lot size among the enabled venues, or a quantity nothing can be
        priced for, it returns (`quantity`, `max_venues`) for the routing call to decide or explain.

        Raises:
            ValidationError: `max_venues` 0 or `limit_price` out of range.
        """
    def route_batch(
        self,
        sides: npt.NDArray[np.int8],
        quantities: npt.NDArray[np.uint64],
        limit_prices: npt.NDArray[np.float64],
        max_venues: int,
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int8]]:
        """`split` of many requests in one call, without the GIL.

        Arguments:
            sides: int8, 1 = BUY, 2 = SELL.
            quantities: uint64 units, each > 0, same length as `sides`.
            limit_prices: float64, NaN = no limit, same length.
            max_venues: Most venues per request (>= 1).

        Returns:
            (allocations uint64 [n, len(venue_names)] in units, columns in venue order; status int8 [n]:
            `ROUTE_OK`, `ROUTE_INSUFFICIENT_LIQUIDITY` or `ROUTE_NO_ELIGIBLE_VENUE`). A row that cannot be
            routed has all-zero allocations.

        Raises:
            ValidationError: A wrong dtype or length, or a bad row (`sides[3]`, `quantities[0]`,
                `limit_prices[7]`), all checked before anything is routed.
        """
    def select_batch(
        self,
        sides: npt.NDArray[np.int8],
        quantities: npt.NDArray[np.uint64],
        limit_prices: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """`select_venue` of many requests in one call, without the GIL (arrays as in `route_batch`).

        Returns:
            (venue index int64, -1 where no venue is eligible; score_bps float64, NaN there).

        Raises:
            ValidationError: A wrong dtype or length, or a bad row, checked before anything is selected.
        """
    def record_ack(self, venue: str, latency_ms: float) -> None:
        """The venue acknowledged an order after `latency_ms` ms: updates the latency mean, variance and
        tail, and moves `reject_rate` towards 0. Raises `ValidationError` for a latency outside
        [0, `MAX_LATENCY_MS`] (nothing learned)."""
    def record_reject(self, venue: str) -> None:
        """The venue rejected an order: moves `reject_rate` towards 1 and `fill_rate` towards 0."""
    def record_fill(self, venue: str, side: _Side, expected_price: float, fill_price: float) -> None:
        """A fill at `fill_price` of an order expected at `expected_price` (e.g. `VenueQuote.expected_price`):
        moves the venue's `slippage_bps` towards this fill's (positive when worse for `side`).

        Raises:
            ValidationError: A price outside [`MIN_PRICE`, `MAX_PRICE`], or the two more than
                `MAX_SLIPPAGE_BPS` apart (field "fill_price": prices in different units); nothing learned.
        """
    def record_order_done(self, venue: str, filled: int, ordered: int) -> None:
        """An order reached a terminal state (filled, cancelled, expired) having filled `filled` of
        `ordered` units: moves `fill_rate` towards `filled / ordered`. Raises `ValidationError` for
        `ordered` 0 or `filled` > `ordered`."""
    def record_trade(self, venue: str, aggressor: _Aggressor, size: int, ts_ns: int) -> None:
        """A trade printed on the venue: `size` units (> 0) whose aggressor was `aggressor`, at `ts_ns`
        (Unix ns). Folded into the venue's decayed tape; an out-of-order trade is folded in exactly, so
        the tape does not depend on arrival order. Raises `ValidationError` for `size` 0 or an aggressor
        that is not BUY/BUYER or SELL/SELLER (a trade without aggressor cannot be attributed)."""
    def tape_rate(self, venue: str, aggressor: _Aggressor, now_ns: int) -> float:
        """Units per second traded by `aggressor`s on the venue, decayed to `now_ns` (time constant
        `tape_tau_s`); a time before the venue's latest trade reads the tape as of that trade."""
    def clear_tapes(self) -> None:
        """Forgets every venue's trade tape (e.g. a simulation going back in time, a feed restarted)."""
    def select_passive(self, side: _Side, quantity: int, horizon_s: float, now_ns: int) -> PassiveSelection:
        """The venue where resting `quantity` units at the touch for about `horizon_s` seconds, then
        crossing what has not filled, is expected to cost least at `now_ns` (see `PassiveQuote`).

        Every enabled venue with a two-sided book whose lot size and minimum fit `quantity` is scored.

        Raises:
            ValidationError: `quantity` 0, `horizon_s` not > 0, or `quantity` fits no enabled venue's
                lot size and minimum.
            NoEligibleVenueError: No venue is eligible (field "quantity"; each venue's reason given).
        """
    def reference_price(self, side: _Side, limit_price: float | None = None) -> float | None:
        """The price every score is measured against on the books held now: the consolidated mid of the
        enabled venues, else the touch a `side` order takes, else `limit_price`; None without any.

        Raises:
            ValidationError: a bad `side`, or a `limit_price` a split would refuse.
        """
    def venue_stats(self, venue: str) -> VenueStats:
        """A snapshot of what the router learned about the venue."""
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
    ) -> None:
        """Puts a venue's learned statistics back exactly (from a `VenueStats` saved before a restart);
        the tail is derived from mean and variance.

        Raises:
            ValidationError: A rate outside [0, 1], `latency_mean_ms` outside [0, `MAX_LATENCY_MS`],
                `latency_var_ms2` outside [0, `MAX_LATENCY_MS`**2], `slippage_bps` beyond
                +-`MAX_SLIPPAGE_BPS`, or a negative count; checked as a whole, nothing changes then.
        """

# ----- positions (rust/sor-py/src/position.rs, rust/sor-core/src/position) -----

# An OMS type: nautilus `OmsType.NETTING`/`OmsType.HEDGING`, 1/2, or "NETTING"/"HEDGING" in any case.
_OmsType = int | str
# A venue or instrument of a PositionBook: its id (int, not a bool) or its name. An unknown venue
# raises `UnknownVenueError`, an unknown instrument `ValidationError` (field "instrument").
_Key = int | str

@final
class Position:
    """A snapshot of one position (for NETTING, its current cycle), with Nautilus `Position`'s fields and
    numbers: every float is computed by Nautilus's formulas in the same order on the same doubles.
    Quantities are units of the instrument's size increment (`10**-size_precision`); money is in the
    settlement currency, rounded as Nautilus's `Money` when the instrument has a `currency_precision`."""

    @property
    def id(self) -> int:
        """The position id, assigned by the book (dense, from 0)."""
    @property
    def venue(self) -> str:
        """The venue's name."""
    @property
    def venue_id(self) -> int:
        """The venue's id in its book."""
    @property
    def instrument(self) -> str:
        """The instrument's name."""
    @property
    def instrument_id(self) -> int:
        """The instrument's id in its book."""
    @property
    def oms_type(self) -> str:
        """"NETTING" or "HEDGING" (the venue's)."""
    @property
    def side(self) -> str:
        """"LONG", "SHORT" or "FLAT"."""
    @property
    def quantity(self) -> int:
        """Absolute quantity held, in units."""
    @property
    def signed_units(self) -> int:
        """Signed quantity in units: positive long, negative short."""
    @property
    def signed_qty(self) -> float:
        """The signed quantity in instrument quantity, as Nautilus's `signed_qty` (rounded to
        `size_precision`)."""
    @property
    def peak_qty(self) -> int:
        """Largest quantity held in this cycle, in units."""
    @property
    def buy_qty(self) -> int:
        """Quantity bought in this cycle, in units."""
    @property
    def sell_qty(self) -> int:
        """Quantity sold in this cycle, in units."""
    @property
    def avg_px_open(self) -> float:
        """Average price of the opening fills of this cycle."""
    @property
    def avg_px_close(self) -> float:
        """Average price of the closing fills of this cycle (0 before the first)."""
    @property
    def realized_pnl(self) -> float:
        """Realised PnL of this cycle, commissions subtracted, in the settlement currency."""
    @property
    def realized_return(self) -> float:
        """Return of the closed part: (close - open) / open, signed by side."""
    @property
    def commissions(self) -> float:
        """Commissions of this cycle, in the settlement currency."""
    @property
    def event_count(self) -> int:
        """Fills applied in this cycle."""
    @property
    def prior_realized_pnl(self) -> float:
        """NETTING: realised PnL of the earlier, closed cycles of this position id (0 for HEDGING)."""
    @property
    def total_realized_pnl(self) -> float:
        """Realised PnL of every cycle of this position id (`prior_realized_pnl + realized_pnl`)."""
    @property
    def closed_cycles(self) -> int:
        """NETTING: how many earlier cycles were closed and reopened (a fill through zero opens one)."""
    @property
    def is_open(self) -> bool:
        """Whether the position holds a non-zero quantity."""
    @property
    def is_closed(self) -> bool:
        """Whether the position is flat."""
    def unrealized_pnl(self, mark_price: float) -> float:
        """Unrealised PnL at `mark_price` (0 when flat), as Nautilus `Position.unrealized_pnl`. Raises
        `ValidationError` (field "mark_price") for a price outside (0, `MAX_PRICE`]."""
    def total_pnl(self, mark_price: float) -> float:
        """`realized_pnl` of this cycle plus `unrealized_pnl(mark_price)`, as Nautilus `total_pnl`;
        raises as `unrealized_pnl`."""

@final
class Exposure:
    """Exposure to one underlying across venues and OMS types (`PositionBook.exposure`), in units of the
    underlying: quantity times the instrument's multiplier, as floats."""

    @property
    def underlying(self) -> str:
        """The underlying (e.g. "BTC")."""
    @property
    def net(self) -> float:
        """Long minus short over every position."""
    @property
    def long(self) -> float:
        """Gross long (HEDGING venues can hold both sides)."""
    @property
    def short(self) -> float:
        """Gross short, as a positive number."""
    @property
    def netting(self) -> float:
        """Net of the NETTING venues' positions."""
    @property
    def hedging(self) -> float:
        """Net of the HEDGING venues' positions."""
    @property
    def by_venue(self) -> dict[str, float]:
        """Net per venue name, every registered venue listed (0.0 when it holds none)."""
    @property
    def open_positions(self) -> int:
        """Open positions in the underlying's instruments."""
    @property
    def realized_pnl(self) -> float:
        """Realised PnL of every position and cycle of the underlying's instruments."""

@final
class PositionBook:
    """NETTING / HEDGING positions of many venues and instruments, with Nautilus's accounting and
    cross-venue exposure per underlying. O(1) work per fill; no fill history is kept.

    NETTING: one net position per (venue, instrument); a fill through zero closes it (its PnL is kept)
    and opens a new cycle of the same id with the excess. HEDGING: a fill without a position id opens a
    new position; with an id it extends or reduces that open position; one larger than the position
    closes it and opens a new id with the excess. Commissions are in the settlement currency and are
    subtracted from realised PnL; only linear (non-inverse) instruments are modelled.

    Thread-safe as `Router` is."""

    def __new__(cls) -> PositionBook:
        """An empty book: register venues and instruments before booking fills."""
    def add_venue(self, name: str, oms_type: _OmsType) -> int:
        """Registers a venue and how it books positions; returns its id (dense, from 0).

        Raises:
            ValidationError: `name` empty or already registered (at most 2**20 venues), or `oms_type`
                not NETTING/HEDGING.
        """
    def add_instrument(
        self,
        name: str,
        underlying: str,
        size_precision: int = 0,
        multiplier: float = 1.0,
        currency_precision: int | None = None,
    ) -> int:
        """Registers an instrument (tradable on every venue); returns its id (dense, from 0).

        Arguments:
            name: The instrument's name (e.g. "BTCUSDT.BINANCE"), unique, not empty.
            underlying: What it exposes the holder to (e.g. "BTC"), the key of `exposure`.
            size_precision: Decimals of its size increment, 0..16: quantities are integer units of
                `10**-size_precision` (Nautilus `Quantity.raw / 10**(16 - size_precision)`).
            multiplier: Contract multiplier, in (0, `MAX_PRICE`]: PnL and exposure per unit of quantity
                and price.
            currency_precision: Decimals of the settlement currency, 0..16: PnL and commissions are
                rounded to it as Nautilus's `Money` rounds them (half away from zero, after each fill).
                None keeps full floats.

        Raises:
            ValidationError: A field out of its range or a name already registered, naming it.
        """
    def venue_id(self, name: str) -> int:
        """The id of a registered venue. Raises `UnknownVenueError` for an unknown name."""
    def instrument_id(self, name: str) -> int:
        """The id of a registered instrument. Raises `ValidationError` (field "instrument") for an
        unknown name."""
    @property
    def venue_names(self) -> list[str]:
        """The registered venues' names, in id order."""
    @property
    def instrument_names(self) -> list[str]:
        """The registered instruments' names, in id order."""
    @property
    def position_count(self) -> int:
        """Positions ever opened (ids are `0..position_count`; closed HEDGING positions stay queryable)."""
    def apply_fill(
        self,
        venue: _Key,
        instrument: _Key,
        side: _Side,
        quantity: int,
        price: float,
        commission: float = 0.0,
        position_id: int | None = None,
    ) -> int:
        """Books one fill; returns the id of the position now holding its quantity (for a flip, the one
        holding the excess: the same id under NETTING, a new one under HEDGING).

        Arguments:
            venue: The venue's id or name.
            instrument: The instrument's id or name.
            side: The fill's side.
            quantity: Units of the instrument's size increment, in [1, `MAX_FILL_UNITS`].
            price: The fill price, in (0, `MAX_PRICE`].
            commission: In the settlement currency, at most `MAX_PRICE` in absolute value (negative: a rebate).
            position_id: HEDGING: the open position to extend or reduce, None to open a new one.
                NETTING: None, or the id of the pair's net position.

        Raises:
            UnknownVenueError: An unknown venue.
            ValidationError: An unknown instrument, a value out of range, a position id that does not
                exist, is closed or belongs to another venue/instrument (field "position_id"), or a fill
                that could take money beyond `MAX_MONEY` (field "quantity"). Nothing changes then.
        """
    def apply_fills(
        self,
        venue_ids: npt.NDArray[np.int64],
        instrument_ids: npt.NDArray[np.int64],
        sides: npt.NDArray[np.int8],
        quantities: npt.NDArray[np.uint64],
        prices: npt.NDArray[np.float64],
        commissions: npt.NDArray[np.float64] | None = None,
        position_ids: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]:
        """Books many fills in order, without the GIL, all or none: if any fill is refused (even one that
        names a HEDGING position an earlier fill of the batch closed) the book is as before the call.

        Arguments are 1-d arrays of the same length, as `apply_fill`'s: ids (int64), sides (int8: 1 =
        BUY, 2 = SELL), quantities (uint64 units), prices and commissions (float64; None: no commission),
        position ids (int64, -1 = none; None: all none).

        Returns:
            Per fill, the id of the position holding its quantity (int64).

        Raises:
            UnknownVenueError, ValidationError: As `apply_fill`, naming the column and row
                (`quantities[3]`, `position_ids[7]`); a wrong dtype or length names the array.
        """
    def position(self, position_id: int) -> Position:
        """A snapshot of a position by id (a NETTING id shows its current cycle). Raises `ValidationError`
        (field "position_id") for an id that does not exist."""
    def open_position_ids(self, venue: _Key, instrument: _Key) -> list[int]:
        """Ids of the open positions of a (venue, instrument), in no particular order."""
    def netting_position_id(self, venue: _Key, instrument: _Key) -> int | None:
        """The net position id of a NETTING (venue, instrument); None before its first fill (and always
        on a HEDGING venue)."""
    def net_units(self, venue: _Key, instrument: _Key) -> int:
        """Net signed units of a (venue, instrument) over all its positions."""
    def realized_pnl(self, venue: _Key, instrument: _Key) -> float:
        """Realised PnL of every position and cycle of a (venue, instrument), commissions subtracted."""
    def unrealized_pnl(self, venue: _Key, instrument: _Key, mark_price: float) -> float:
        """Unrealised PnL of the open positions of a (venue, instrument) at `mark_price`. Raises
        `ValidationError` for a mark outside (0, `MAX_PRICE`]."""
    def net_exposure(self, underlying: str) -> float:
        """Net quantity of an underlying across venues and OMS types (quantity x multiplier); work is
        venues x the underlying's instruments, never fills. Raises `ValidationError` (field
        "underlying") when no registered instrument has it."""
    def exposure(self, underlying: str) -> Exposure:
        """The breakdown of an underlying's exposure (net, gross long/short, by OMS type and venue);
        raises as `net_exposure`."""

# ----- schedules (rust/sor-py/src/schedule.rs, rust/sor-core/src/schedule) -----
# Each schedule returns (offsets_ns, quantities): uint64 arrays of the non-zero children, offsets in ns
# from the order's start (non-decreasing, inside the duration), quantities in units summing exactly to
# `quantity` (integer lots allocated by largest remainder, never rounded and dropped). The window is cut
# into ceil(duration / interval) slices starting at i * interval (the last one shorter when the interval
# does not divide the duration); a slice with nothing to send is left out. With `lot_size`, every child
# is a whole number of lots and `quantity` must be one too. Bad input raises `ValidationError` naming
# the argument: `quantity` 0 or not a multiple of `lot_size`, `lot_size` 0, a duration or interval not
# > 0, above `MAX_DURATION_NS`, an interval above the duration or giving more than `MAX_SLICES` slices.

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
) -> _Schedule:
    """Time-weighted schedule: one child per slice, equal in lots (the remainder lots one each to the
    first slices; with more slices than lots, the first `lots` slices get one each).

    Arguments:
        quantity: The parent, in units.
        duration_seconds: The order's duration, in seconds.
        interval_seconds: The slice length, in seconds.
        lot_size: Every child is a whole multiple of this many units.
        size_jitter_pct: Each slice's size drawn within +- this fraction (0..1) of the even size, then
            allocated so the total and lot multiples stay exact.
        time_jitter_pct: Each child sent up to this fraction (0..1) of its slice later than the slice
            start; it stays inside its own slice.
        seed: Seed of the jitter (SplitMix64): the same seed gives the same children.
    """
def vwap_schedule(
    quantity: int,
    volume_profile: Mapping[int, float],
    duration_seconds: float,
    interval_seconds: float,
    *,
    start_time_ns: int | None = None,
    start_hour: float | None = None,
    lot_size: int = 1,
) -> _Schedule:
    """Volume-weighted schedule from an `{hour_of_day: fraction}` profile: the window is sliced as TWAP
    and each slice gets the profile's weight over the time it covers.

    Arguments:
        volume_profile: Hours 0..23, each once; fractions finite and >= 0, not all 0 (normalised; hours not
            listed trade nothing). Errors name `volume_profile` or `volume_profile[hour]`.
        start_time_ns: The order's start in ns since midnight UTC (a Unix timestamp in ns works too).
        start_hour: Or the start as an hour of the day in [0, 24) (9.5 is 09:30). Give exactly one.
        Others: as `twap_schedule`.

    Raises:
        ValidationError: Also when the window holds no profile weight at all (field "volume_profile"),
            rather than a silent TWAP, or when both or neither start is given.
    """
def vwap_curve_schedule(
    quantity: int,
    bucket_weights: npt.NDArray[np.float64] | Sequence[float],
    bucket_seconds: float,
    duration_seconds: float,
    interval_seconds: float,
    *,
    start_time_ns: int,
    lot_size: int = 1,
) -> _Schedule:
    """Volume-weighted schedule from any curve of bucket weights (e.g. `volume_curve_from_bars`).

    Arguments:
        bucket_weights: Weights of consecutive buckets, finite and >= 0 (normalised); the curve repeats
            after its last bucket. Errors name `bucket_weights[i]`.
        bucket_seconds: Each bucket's length, in seconds (times the bucket count at most 2**62 ns).
        start_time_ns: The order's start in ns from the start of bucket 0 (midnight for a day's curve),
            taken modulo the curve's period.
        Others: as `twap_schedule`; a window with no weight raises as `vwap_schedule`.
    """
def volume_curve_from_bars(
    timestamps_ns: npt.NDArray[np.uint64] | npt.NDArray[np.int64] | Sequence[int],
    volumes: npt.NDArray[np.float64] | Sequence[float],
    bucket_seconds: float = 60.0,
) -> npt.NDArray[np.float64]:
    """A day's volume curve from bars: each bar's volume is added to its bucket of the day (`timestamp mod
    1 day`, UTC; feed whole days). Returns the bucket weights (float64, summing to 1) for
    `vwap_curve_schedule`.

    Raises:
        ValidationError: Lengths that differ, a negative timestamp, a volume not finite or negative
            (`volumes[i]`), no volume at all, or a `bucket_seconds` that does not divide a day.
    """
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
) -> _Schedule:
    """Implementation-shortfall (Almgren-Chriss 2000) schedule: holdings `X sinh(kappa (T - t)) /
    sinh(kappa T)` on the slice grid (N = ceil(duration / interval) periods of `interval`), children the
    differences sent at each slice start, rounded to whole lots exactly. `risk_aversion = 0` (or
    `volatility = 0`) gives exactly `twap_schedule`; an extreme urgency sends (almost) everything in the
    first slice, never NaN.

    Arguments (units must agree: seconds, units of quantity, price):
        risk_aversion: lambda, per unit of currency (>= 0).
        volatility: sigma, price per unit per sqrt(second) (>= 0).
        temporary_impact: eta, price per (unit / second) (> 0).
        permanent_impact: gamma, price per unit (>= 0); `eta - gamma * interval / 2` must stay > 0
            (else a `ValidationError` on `permanent_impact`).
        Others: as `twap_schedule`.
    """
def shortfall_kappa(
    duration_seconds: float,
    interval_seconds: float,
    *,
    risk_aversion: float,
    volatility: float,
    temporary_impact: float,
    permanent_impact: float = 0.0,
) -> float:
    """The Almgren-Chriss urgency `kappa`, per second, of these parameters (as `shortfall_schedule`'s,
    which it explains); `inf` means all at once. Raises as `shortfall_schedule`."""

@final
class PovTracker:
    """Percentage-of-volume participation: keeps what has been sent at or below `participation_rate *
    observed market volume`, child by child. Quantities in units."""

    def __new__(
        cls,
        quantity: int,
        participation_rate: float,
        min_child: int = 0,
        max_child: int | None = None,
        lot_size: int = 1,
    ) -> PovTracker:
        """Arguments:
            quantity: The parent, in units, a whole number of lots.
            participation_rate: Our share of the market's volume, in (0, 1].
            min_child: Smallest child worth sending, in units (the last child may be smaller).
            max_child: Largest child, in units, rounded down to lots; at least one lot and `min_child`.
                None: no cap.
            lot_size: Every child is a whole multiple of this many units.

        Raises:
            ValidationError: A field out of its range, naming it.
        """
    def on_market_volume(self, volume: int) -> int:
        """Market volume traded since the last call (units; include our own fills if the tape does);
        returns the child to send now, 0 for none: `min(target - sent, max_child, remaining)` in whole
        lots, sent if at least `min_child` or the whole remainder, else the deficit carries over."""
    @property
    def quantity(self) -> int:
        """The parent, in units."""
    @property
    def participation_rate(self) -> float:
        """The participation rate, in (0, 1]."""
    @property
    def sent(self) -> int:
        """Units returned as children so far."""
    @property
    def remaining(self) -> int:
        """Units not yet sent (`quantity - sent`)."""
    @property
    def observed_volume(self) -> int:
        """Market volume observed so far, in units."""
    @property
    def target(self) -> int:
        """Units the schedule wants sent by now: `floor(participation_rate * observed_volume)`, capped at
        the parent."""
    @property
    def children(self) -> int:
        """Children returned so far."""
    @property
    def is_done(self) -> bool:
        """Whether the whole parent has been sent."""

@final
class QueuedOrder:
    """One resting limit order and the size estimated ahead of it at its price (hftbacktest's queue
    models: `queue_model` is "risk_averse" (cancels always behind us), "prob_linear", "prob_power"
    (f(x) = x**queue_power, 0 < queue_power <= 10) or "prob_log"). Prices are in ticks of the venue,
    sizes in market units (floats), fills in whole lots. The queue ahead never goes below zero, and a
    depth change alone never fills us."""

    def __new__(
        cls,
        side: _Side,
        price_tick: int,
        qty: float,
        displayed: float,
        lot_size: float,
        queue_model: str = "prob_linear",
        queue_power: float = 3.0,
    ) -> QueuedOrder:
        """An order of `qty` (>= 0) at `price_tick` (a signed 64-bit int) joining the back of a level that
        displays `displayed` (>= 0, everyone else's size); fills are whole multiples of `lot_size` (> 0).
        `queue_power` is read by "prob_power" only. Raises `ValidationError` naming a bad argument (an
        unknown `queue_model` lists the names)."""
    def on_trade(self, aggressor: _Aggressor, price_tick: int, trade_qty: float, available: float | None = None) -> float:
        """A tape trade; returns the units that fill us (and takes them off `leaves`): whole lots of the
        volume beyond the queue ahead (at our price) or of the whole trade (through it), at most `leaves`
        and `available` (the part of the trade not used for our other orders; None: all of it). A trade
        by our own side or away from our price fills nothing. `aggressor`: BUY/BUYER or SELL/SELLER (or
        1 / 2), as `Router.record_trade` takes it. Raises `ValidationError` for a negative size or an
        aggressor that is neither (field "aggressor")."""
    def on_depth(self, prev_qty: float, new_qty: float) -> None:
        """The displayed size at our price changed from `prev_qty` to `new_qty` (both >= 0): a decrease
        the trades since the last update do not explain is cancels, placed by the queue model; an
        increase joins behind us."""
    @property
    def leaves(self) -> float:
        """Units still resting."""
    @property
    def ahead(self) -> float:
        """Estimated units ahead of us at our price."""
    @property
    def price_tick(self) -> int:
        """Our price, in ticks of the venue."""
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
class ConsumedLiquidity:
    """What our aggressive fills took from each level of one book (the rule `VenueBook` applies, for the
    Nautilus fill model `nautilus_sor.fill_model_consumed`). `level`: the price in ticks; sizes >= 0."""

    def __new__(cls) -> ConsumedLiquidity: ...
    def available(self, is_ask: bool, level: int, recorded: float) -> float:
        """The size still offered to us at a level now recorded at `recorded` (forgets the level once the
        recorded size is at or below what we left)."""
    def consume(self, is_ask: bool, level: int, recorded: float, taken: float) -> None:
        """Records that we took `taken` from the level recorded at `recorded`."""
    def observe(self, is_ask: bool, level: int, recorded: float) -> None:
        """A recorded state of the level (a book update): forgets the level if the recorded size is at or
        below what we left (the level refreshed)."""
    def on_record(self, is_ask: bool) -> list[int]:
        """The levels of that side on record, in no order."""
    def touches(self, is_ask: bool) -> bool:
        """Whether any level of that side is on record."""

@final
class Iceberg:
    """An iceberg: one visible chunk at a time, replenished when it has completely filled.
    `filled + working + hidden == quantity` always. Quantities in units."""

    def __new__(
        cls,
        quantity: int,
        visible_pct: float,
        lot_size: int = 1,
        display_jitter_pct: float = 0.0,
        seed: int = 0,
    ) -> Iceberg:
        """Arguments:
            quantity: The parent, in units, a whole number of lots.
            visible_pct: Share of the parent shown at a time, in (0, 1]: `floor(visible_pct * lots)`
                lots, at least one.
            lot_size: Every chunk is a whole multiple of this many units.
            display_jitter_pct: Each chunk drawn (seeded) within +- this fraction of the display size,
                in [0, 1), in whole lots, at least one.
            seed: Seed of the jitter.

        Raises:
            ValidationError: A field out of its range, naming it.
        """
    def next_chunk(self) -> int:
        """Shows the next chunk if nothing is working and something is hidden; returns its size (0 when
        a chunk is still working or everything has been shown). A chunk never exceeds what is hidden."""
    def on_fill(self, fill_qty: int) -> int:
        """Books a fill of the working chunk; returns the next chunk to show when this fill completes the
        chunk (0 otherwise). Raises `ValidationError` (field "fill_qty") for 0, a partial lot, or more
        than is working; nothing changes then."""
    def on_cancel(self) -> int:
        """The working chunk was cancelled or rejected: its unfilled part goes back to hidden (returned)."""
    @property
    def quantity(self) -> int:
        """The parent, in units."""
    @property
    def visible_pct(self) -> float:
        """The share shown at a time."""
    @property
    def display_qty(self) -> int:
        """The nominal display size in units (before jitter)."""
    @property
    def filled(self) -> int:
        """Units filled."""
    @property
    def working(self) -> int:
        """Units on display, not yet filled."""
    @property
    def hidden(self) -> int:
        """Units not yet shown."""
    @property
    def remaining(self) -> int:
        """Units not yet filled (`working + hidden`)."""
    @property
    def chunks(self) -> int:
        """Chunks shown so far."""
    @property
    def is_done(self) -> bool:
        """Whether the whole parent has filled."""

# ----- books from Nautilus deltas (rust/sor-py/src/book_feed.rs, rust/sor-core/src/book.rs) -----

@final
class BookFeed:
    """Per venue of a `Router`, an exact L2 book kept from Nautilus `OrderBookDeltas` with Nautilus's
    `L2_MBP` rules on its raw fixed-point integers (ADD sets a level, UPDATE sets or removes it, DELETE
    removes it, CLEAR empties both sides), so its levels equal Nautilus's own book after every batch.
    After each call the venue's best `depth` levels a side become the router's book (`Router.set_book`:
    prices as Nautilus's `as_double`, sizes in router units rounded down, a level under one unit left
    out); a crossed or locked book, or one the router would refuse, leaves the venue with no book. Used
    through `nautilus_sor.book_sync.DeltaFeed`. Venues are named as in the router (`UnknownVenueError`
    for an unknown name)."""

    def __new__(cls, router: Router, depth: int, fixed_precision: int, unit_decimals: int, sides: dict[str, int],
                displaced: set[str]) -> BookFeed:
        """Arguments:
            router: The router whose books this feed writes (one book per venue, empty at first).
            depth: Levels a side handed to the router (>= 1).
            fixed_precision: Nautilus's `FIXED_PRECISION`, 16 (128-bit raw values) or 9 (64-bit).
            unit_decimals: Decimals of one router unit (<= `fixed_precision`): a size in units is
                raw / 10**(fixed_precision - unit_decimals); 9 for `nautilus_sor.units`.
            sides: Written after every batch (and `resend`): venue name -> the sides the venue's routing
                view shows (1 bids, 2 asks, 3 both, 0 none).
            displaced: Venue names whose core book something else replaced; a batch (or `resend`) of the
                venue removes it.

        Raises:
            ValidationError: A value outside those ranges, naming it.
        """
    def apply_held(self, deltas: object) -> bool:
        """The hot path: applies an `OrderBookDeltas` batch of an instrument some venue holds (the last
        `apply_deltas` of that venue was of it, told apart by Nautilus's interned instrument id, read
        through the accessor without copying the batch) to that venue's book; False, with nothing done,
        for any other batch. Raises as `apply_deltas`."""
    def resend(self, venue: str) -> int:
        """Sends the venue's book to the router again (after something else replaced it there); returns
        its sides and records them as a batch does, without counting a batch."""
    @property
    def batches(self) -> int:
        """The non-empty batches applied so far."""
    def apply_deltas(self, venue: str, deltas: object) -> int:
        """Applies one Nautilus `OrderBookDeltas` batch to the venue's book, read through Nautilus's own C
        accessor of the batch (`bind_deltas_accessor` must have returned True): no Python object is built
        per delta. Returns what `apply_capsule` returns for the same batch. The venue then holds the
        batch's instrument (`apply_held`).

        Raises:
            ValidationError: `deltas` not exactly an `OrderBookDeltas` (field "deltas"), no accessor bound,
                or a delta with an unknown action or side: the whole batch is refused, the book unchanged.
        """
    def apply_capsule(self, venue: str, capsule: object) -> int:
        """Applies one Nautilus batch, as `OrderBookDelta.capsule_from_list(deltas.deltas)`, to the venue's
        book; returns the sides the router's book of the venue now shows (1 bids, 2 asks, 3 both, 0 none).
        An empty batch re-sends the venue's book to the router.

        Raises:
            ValidationError: `capsule` not such a capsule, or a delta with an unknown action or side
                (field `deltas[i].action` / `deltas[i].side`): the whole batch is refused, the book unchanged.
        """
    def apply(self, venue: str, actions: Sequence[int], sides: Sequence[int], prices: Sequence[int], sizes: Sequence[int]) -> int:
        """The same from Nautilus's numbers: `BookAction` codes (1 ADD, 2 UPDATE, 3 DELETE, 4 CLEAR),
        `OrderSide` codes (1 bids, 2 asks; ignored for CLEAR), raw prices and raw sizes, sequences of one
        length (else a `ValidationError` naming the short one). The path for a Nautilus build whose delta
        layout the capsule check did not recognise; returns and raises as `apply_capsule`."""
    def reset(self, venue: str) -> None:
        """Forgets the venue's book (and the router's, if this feed wrote it, and the venue's entries in
        `sides` and `displaced`), e.g. before a resubscription's snapshot."""
    def levels(self, venue: str, depth: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The venue's book as kept (crossed states included), best first, up to `depth` levels a side
        (None: all): (bids, asks) of (raw price, raw size)."""
    @property
    def depth(self) -> int:
        """Levels a side handed to the router."""

# ----- the router's per-instrument route plan (rust/sor-py/src/router/plan.rs) -----

@final
class RoutePlan:
    """One routed instrument's venues as `SmartOrderRouter`'s hot path needs them: each venue's instrument
    id (the caller's object, returned as is), its size precision, lot and minimum in units, and the cache
    instrument object they came from. A decision is prepared in one call (`prepare`) and, for the lean
    path, answered in one (`split_quantities`). The terms themselves are the Python callback's (`terms`),
    called only when the cache hands another instrument object; the books kept from deltas are the
    `nautilus_sor.book_sync.DeltaFeed`'s, whose dicts the plan reads and never writes."""

    def __new__(
        cls,
        router: Router,
        venues: list[str],
        instrument_ids: list[object],
        terms: Callable[[int, object | None, int], tuple[int, int, int]],
        fed: dict[str, object],
        displaced: set[str],
        sides: dict[str, int],
        from_raw: Callable[[int, int], object],
        to_qty: Callable[[int, int], object],
        raw_per_unit: int,
        exact_types: tuple[type, type, type],
    ) -> RoutePlan:
        """Arguments:
            router: The router whose lots the plan sets and whose split it answers.
            venues: The router's venue names, in its order (bit i of `prepare`'s mask: venues[i]).
            instrument_ids: Each venue's instrument id (Nautilus `InstrumentId`), as long as `venues`.
            terms: `terms(i, instrument or None, quantity precision) -> (size precision, lot, minimum)`
                in units for venue i: the router's rule, and its errors.
            fed, displaced, sides: The `DeltaFeed`'s venue -> instrument kept from deltas, venues whose
                core book was since replaced, and venue -> sides its book shows (1 bids, 2 asks, 3 both).
            from_raw: `Quantity.from_raw`. to_qty: `nautilus_sor.units.units_to_qty` (its error, for a
                quantity a venue's precision cannot hold). raw_per_unit: Nautilus raw per router unit.
            exact_types: Nautilus's (`OrderSide`, `Quantity`, `Price`) classes: the argument types
                `steady_split` answers itself.

        Raises:
            ValidationError: `instrument_ids` not as long as `venues`. UnknownVenueError: a name not the router's.
        """
    def prepare(self, cache: object | None, quantity_precision: int, force: bool, taking: int) -> tuple[bool, list[int], int | None]:
        """Before a decision: re-reads a venue's terms when `cache.instrument(id)` (no cache: None) is another
        object than last time (or, without an instrument, for another `quantity_precision`), and sets every
        venue's lot in the router when a term changed or `force`. All terms are computed before any is kept:
        an error leaves the plan and the router as they were.

        Returns (lots set; positions of the venues whose book the caller must load from the cache, none
        without a cache; when every venue's book is kept from deltas, the venues showing nothing on the side
        a `taking` order takes (1 buy, 2 sell; 0 passive: none) while another shows some, as bits, else None).

        Raises:
            Whatever `terms` or `cache.instrument` raises; ValidationError for a lot the router refuses.
        """
    @property
    def precisions(self) -> list[int]:
        """Each venue's size precision (-1 before the first `prepare`)."""
    @property
    def instruments(self) -> list[object | None]:
        """Each venue's cache instrument at the last `prepare` (None: not in the cache)."""
    def split(
        self, side: _Side, total_qty: int, max_venues: int, limit_price: float | None = None, quotes: bool = False
    ) -> list[tuple[Any, ...]]:
        """`Router.split` (same checks and errors) as (venue instrument id, Nautilus `Quantity` at the venue's
        size precision) pairs in venue order; with `quotes`, (VenueQuote, instrument id, Quantity) triples
        (what `SmartOrderRouter.route_order` builds its allocations from). A venue's pair is reused while its
        quantity repeats (both are immutable). Raises as `Router.split`, and `to_qty`'s ValidationError for
        a quantity the venue's precision cannot hold."""
    def steady_split(
        self,
        side: object,
        total_qty: object,
        max_venues: object,
        limit_price: object,
        cache: object | None,
        empty_mask: int,
        quotes: bool = False,
    ) -> list[tuple[Any, ...]] | None:
        """A steady decision in one call: `split`'s answer when nothing needs the caller first - `side` an
        `OrderSide` BUY/SELL, `total_qty` a whole-unit `Quantity` of precision <= 9, `max_venues` an int >= 1,
        `limit_price` None or a positive `Price`; every venue's cache instrument the object its terms came
        from (no cache: the same quantity precision), every venue's book kept from deltas, and the venues
        showing nothing on the side taken those of `empty_mask`. None otherwise, with nothing changed: the
        caller takes its checked path (`prepare`, then `split`), which raises an argument's error. The
        caller holds the router's lock and knows the router's lots are this plan's.

        Raises:
            What `cache.instrument` raises; as `Router.split` for a quantity no venue can be routed.
        """

def decode_capsule(capsule: object, wide: bool) -> list[tuple[int, int, int, int, int]]:
    """The deltas of a `capsule_from_list` capsule as (action, side, raw price, raw size, flags) tuples,
    read with the 128-bit (`wide`, Nautilus's `high-precision` build) or 64-bit layout: how
    `nautilus_sor.book_sync` checks this module's reading of Nautilus's layout against a delta it made
    itself before trusting `BookFeed.apply_capsule`. Raises `ValidationError` (field "capsule") for
    anything but such a capsule."""

def bind_deltas_accessor(module_path: str, deltas_type: type) -> bool:
    """Binds Nautilus's exported C accessors of a batch (`orderbook_deltas_vec_deltas`,
    `orderbook_deltas_vec_drop`) from its already loaded module at `module_path`
    (`nautilus_trader.model.data.__file__`), for batches of exactly `deltas_type` (`OrderBookDeltas`).
    True when bound (now or earlier in the process); False when the module is not loaded, a symbol is
    missing, or the platform is not Unix. Never loads a library."""

def decode_deltas(deltas: object, wide: bool) -> list[tuple[int, int, int, int, int]]:
    """The deltas of an `OrderBookDeltas` batch read through the bound accessor, as `decode_capsule`
    gives them: how `nautilus_sor.book_sync` checks the accessor path against a batch it made itself
    before trusting `BookFeed.apply_deltas`. Raises `ValidationError` (field "deltas") for anything else."""
