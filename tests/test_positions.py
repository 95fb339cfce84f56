"""The position book against NautilusTrader 1.221's own `Position` and execution engine.

Random fill sequences (both sides, adds, partial and exact closes, flips, commissions and rebates)
are booked twice: through our `PositionBook`, and through Nautilus's `ExecutionEngine` methods
that book fills into positions (`_open_position`, `_will_flip_position`, `_flip_position`,
`_update_position`, called exactly as its `_handle_position_update` calls them). NETTING flips are
therefore split into a close and a new position exactly as the engine splits them; under HEDGING
every position id is its own Nautilus `Position`. After every fill, quantity, side, average open and
close prices, realised PnL (commissions included), commissions, peak quantity, event count and
unrealised PnL at a mark must be identical: the same doubles, bit for bit (`==`, no tolerance), as
docs/architecture.md says.

The default run checks a few hundred sequences; `pytest -m slow` runs
10,000 sequences per OMS type.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
import pytest

from nautilus_sor import (
    NautilusSorError,
    PositionBook,
    UnknownVenueError,
    ValidationError,
)
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus, TestClock
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.engine import ExecutionEngine
from nautilus_trader.model.enums import (
    AssetClass,
    LiquiditySide,
    OmsType,
    OrderSide,
    OrderType,
)
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    PositionId,
    StrategyId,
    Symbol,
    TradeId,
    Venue,
    VenueOrderId,
)
from nautilus_trader.model.instruments import FuturesContract, Instrument
from nautilus_trader.model.objects import FIXED_PRECISION, Money, Price, Quantity
from nautilus_trader.model.position import Position as NautilusPosition
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.test_kit.stubs.identifiers import TestIdStubs

from nautilus_trader.model.currencies import USD

def es_x50() -> FuturesContract:
    """An index future with a x50 multiplier (Nautilus's test futures all have multiplier 1)."""
    return FuturesContract(
        instrument_id=InstrumentId(Symbol("ESZ5"), Venue("XCME")),
        raw_symbol=Symbol("ESZ5"),
        asset_class=AssetClass.INDEX,
        exchange="XCME",
        currency=USD,
        price_precision=2,
        price_increment=Price.from_str("0.25"),
        multiplier=Quantity.from_int(50),
        lot_size=Quantity.from_int(1),
        underlying="ES",
        activation_ns=0,
        expiration_ns=2_000_000_000_000_000_000,
        ts_event=0,
        ts_init=0,
    )


INSTRUMENTS = {
    # linear perpetual: size precision 3, price precision 1, settles in USDT (8 decimals)
    "btcusdt_perp": TestInstrumentProvider.btcusdt_perp_binance,
    # spot pair: size precision 5, settles in USDT
    "ethusdt": TestInstrumentProvider.ethusdt_binance,
    # equity: whole shares, settles in USD (2 decimals: Money rounding matters, ties happen)
    "aapl": TestInstrumentProvider.equity,
    # future with a multiplier, settles in USD
    "es_x50": es_x50,
}


def units(q: Quantity, precision: int) -> int:
    return q.raw // 10 ** (FIXED_PRECISION - precision)


def identical(ours: float, theirs: float) -> bool:
    """The same double, bit for bit (+0.0 and -0.0 are told apart; no tolerance)."""
    return math.copysign(1.0, ours) == math.copysign(1.0, theirs) and ours == theirs


class NautilusBook:
    """Books fills through Nautilus's execution engine position methods."""

    def __init__(self, instrument: Instrument, oms: OmsType) -> None:
        clock = TestClock()
        self.trader = TestIdStubs.trader_id()
        self.cache = Cache(database=None)
        self.cache.add_instrument(instrument)
        self.engine = ExecutionEngine(
            msgbus=MessageBus(trader_id=self.trader, clock=clock), cache=self.cache, clock=clock
        )
        self.instrument = instrument
        self.oms = oms
        self.count = 0
        self.strategy = StrategyId("S-001")
        self.account = AccountId("SIM-001")

    def fill(self, side: OrderSide, qty: Quantity, px: Price, commission: Money, position_id: str) -> OrderFilled:
        self.count += 1
        k = self.count
        return OrderFilled(
            trader_id=self.trader,
            strategy_id=self.strategy,
            instrument_id=self.instrument.id,
            client_order_id=ClientOrderId(f"O-{k}"),
            venue_order_id=VenueOrderId(str(k)),
            account_id=self.account,
            trade_id=TradeId(f"T-{k}"),
            position_id=PositionId(position_id),
            order_side=side,
            order_type=OrderType.MARKET,
            last_qty=qty,
            last_px=px,
            currency=self.instrument.quote_currency,
            commission=commission,
            liquidity_side=LiquiditySide.TAKER,
            event_id=UUID4(),
            ts_event=k,
            ts_init=k,
        )

    def apply(self, fill: OrderFilled) -> None:
        # The body of ExecutionEngine._handle_position_update (a cdef method), verbatim.
        position = self.cache.position(fill.position_id)
        if position is None or position.is_closed:
            self.engine._open_position(self.instrument, position, fill, self.oms)
        elif self.engine._will_flip_position(position, fill):
            self.engine._flip_position(self.instrument, position, fill, self.oms)
        else:
            self.engine._update_position(self.instrument, position, fill, self.oms)

    def position(self, position_id: str) -> NautilusPosition:
        return self.cache.position(PositionId(position_id))


@dataclass
class Sequence:
    """One random fill sequence and the columns it was booked with (for the batch replay)."""

    venue_ids: list[int] = field(default_factory=list)
    sides: list[int] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)
    commissions: list[float] = field(default_factory=list)
    position_ids: list[int] = field(default_factory=list)
    results: list[int] = field(default_factory=list)


def compare(ours, theirs: NautilusPosition, inst: Instrument, mark: Price, prior: float | None = None) -> None:
    p = inst.size_precision
    where = f"ours={ours!r} theirs={theirs!r}"
    assert ours.quantity == units(theirs.quantity, p), where
    assert ours.side == theirs.side.name, where
    assert identical(ours.signed_qty, theirs.signed_qty), where
    assert ours.peak_qty == units(theirs.peak_qty, p), where
    assert ours.event_count == theirs.event_count, where
    assert identical(ours.avg_px_open, theirs.avg_px_open), (where, ours.avg_px_open, theirs.avg_px_open)
    assert identical(ours.avg_px_close, theirs.avg_px_close), (where, ours.avg_px_close, theirs.avg_px_close)
    assert identical(ours.realized_return, theirs.realized_return), where
    theirs_pnl = theirs.realized_pnl.as_double() if theirs.realized_pnl is not None else 0.0
    assert identical(ours.realized_pnl, theirs_pnl), (where, ours.realized_pnl, theirs_pnl)
    theirs_comm = sum(m.as_double() for m in theirs.commissions())
    assert identical(ours.commissions, theirs_comm), (where, ours.commissions, theirs_comm)
    ours_u, theirs_u = ours.unrealized_pnl(mark.as_double()), theirs.unrealized_pnl(mark).as_double()
    assert identical(ours_u, theirs_u), (where, ours_u, theirs_u)
    if prior is not None:
        assert identical(ours.prior_realized_pnl, prior), (where, ours.prior_realized_pnl, prior)


class Generator:
    """Random fills at the instrument's precisions: prices, quantities and commissions are the
    doubles of Nautilus `Price`/`Quantity`/`Money` values, so both books see identical inputs."""

    def __init__(self, inst: Instrument, rng: random.Random) -> None:
        self.inst = inst
        self.rng = rng
        self.currency = inst.get_cost_currency()
        self.px = 100.0 + rng.random() * 900.0
        self.max_units = rng.choice([5, 50, 3000])

    def price(self) -> Price:
        self.px = max(1.0, self.px * (1.0 + self.rng.gauss(0.0, 0.01)))
        return Price(self.px, self.inst.price_precision)

    def commission(self) -> Money:
        r = self.rng.random()
        if r < 0.3:
            return Money(0, self.currency)
        scale = self.rng.choice([0.01, 0.03, 1.0, 7.5])
        value = self.rng.random() * scale
        if r > 0.9:
            value = -value  # maker rebate
        return Money(value, self.currency)

    def quantity(self, units_: int) -> Quantity:
        return Quantity.from_raw(units_ * 10 ** (FIXED_PRECISION - self.inst.size_precision), self.inst.size_precision)

    def size(self, open_units: int, opposite: bool) -> int:
        r = self.rng.random()
        if opposite and open_units > 0:
            if r < 0.25:
                return open_units  # exact close
            if r < 0.5:
                return open_units + self.rng.randint(1, self.max_units)  # flip
            if r < 0.8:
                return self.rng.randint(1, open_units)  # partial close
        return self.rng.randint(1, self.max_units)


def our_book(inst: Instrument, oms: str) -> PositionBook:
    book = PositionBook()
    book.add_venue("SIM", oms)
    book.add_instrument(
        str(inst.id),
        "U",
        size_precision=inst.size_precision,
        multiplier=float(inst.multiplier),
        currency_precision=inst.get_cost_currency().precision,
    )
    return book


def run_netting(inst: Instrument, seed: int) -> tuple[PositionBook, Sequence]:
    rng = random.Random(seed)
    gen = Generator(inst, rng)
    book = our_book(inst, "NETTING")
    naut = NautilusBook(inst, OmsType.NETTING)
    seq = Sequence()
    prior = 0.0
    for _ in range(rng.randint(1, 40)):
        signed = book.net_units(0, 0)
        side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
        opposite = (side == OrderSide.BUY and signed < 0) or (side == OrderSide.SELL and signed > 0)
        qty = gen.size(abs(signed), opposite)
        px, comm = gen.price(), gen.commission()
        fill = naut.fill(side, gen.quantity(qty), px, comm, "N-1")
        before = naut.position("N-1")
        if before is not None and before.is_closed:
            prior += before.realized_pnl.as_double()  # the engine reopens (and resets) it
        flipping = before is not None and before.is_open and naut.engine._will_flip_position(before, fill)
        naut.apply(fill)
        if flipping:
            prior += before.realized_pnl.as_double()  # the closed part, kept on the old object
        pid = book.apply_fill(0, 0, side, qty, px.as_double(), comm.as_double())
        assert pid == 0
        compare(book.position(0), naut.position("N-1"), inst, gen.price(), prior)
        seq.venue_ids.append(0)
        seq.sides.append(int(side))
        seq.quantities.append(qty)
        seq.prices.append(px.as_double())
        seq.commissions.append(comm.as_double())
        seq.position_ids.append(-1)
        seq.results.append(pid)
    return book, seq


def run_hedging(inst: Instrument, seed: int) -> tuple[PositionBook, Sequence]:
    rng = random.Random(seed)
    gen = Generator(inst, rng)
    book = our_book(inst, "HEDGING")
    naut = NautilusBook(inst, OmsType.HEDGING)
    seq = Sequence()
    nautilus_id: dict[int, str] = {}  # our position id -> Nautilus position id
    closed: dict[int, NautilusPosition] = {}  # our closed id -> the Nautilus object it closed as
    for _ in range(rng.randint(1, 40)):
        open_ids = book.open_position_ids(0, 0)
        side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
        px, comm = gen.price(), gen.commission()
        if not open_ids or rng.random() < 0.35:
            qty = gen.size(0, False)
            pid = book.apply_fill(0, 0, side, qty, px.as_double(), comm.as_double())
            nautilus_id[pid] = f"H-{pid}"
            naut.apply(naut.fill(side, gen.quantity(qty), px, comm, nautilus_id[pid]))
            named = -1
            touched = [pid]
        else:
            named = rng.choice(open_ids)
            signed = book.position(named).signed_units
            if rng.random() < 0.3:
                side = OrderSide.BUY if signed > 0 else OrderSide.SELL  # add
            opposite = (side == OrderSide.BUY) == (signed < 0)
            qty = gen.size(abs(signed), opposite)
            old_object = naut.position(nautilus_id[named])
            pid = book.apply_fill(0, 0, side, qty, px.as_double(), comm.as_double(), named)
            naut.apply(naut.fill(side, gen.quantity(qty), px, comm, nautilus_id[named]))
            touched = [named]
            if pid != named:
                # A flip: Nautilus closed the named position and opened the excess as a new
                # position object under the same id; ours opened it under a new id.
                closed[named] = old_object
                nautilus_id[pid] = nautilus_id[named]
                touched.append(pid)
        mark = gen.price()
        for our_id in touched:
            theirs = closed.get(our_id) or naut.position(nautilus_id[our_id])
            compare(book.position(our_id), theirs, inst, mark)
        seq.venue_ids.append(0)
        seq.sides.append(int(side))
        seq.quantities.append(qty)
        seq.prices.append(px.as_double())
        seq.commissions.append(comm.as_double())
        seq.position_ids.append(named)
        seq.results.append(pid)
    # Every position, not only the last touched, still agrees at the end.
    mark = gen.price()
    for our_id in range(book.position_count):
        theirs = closed.get(our_id) or naut.position(nautilus_id[our_id])
        compare(book.position(our_id), theirs, inst, mark)
    return book, seq


POSITION_FIELDS = (
    "id side quantity signed_units peak_qty buy_qty sell_qty avg_px_open avg_px_close realized_pnl "
    "realized_return commissions event_count prior_realized_pnl closed_cycles"
).split()


def snapshot(book: PositionBook) -> list[tuple]:
    rows = [tuple(getattr(book.position(i), f) for f in POSITION_FIELDS) for i in range(book.position_count)]
    for v in book.venue_names:
        for inst in book.instrument_names:
            rows.append((v, inst, sorted(book.open_position_ids(v, inst)), book.net_units(v, inst), book.realized_pnl(v, inst)))
    return rows


def replay_batch(inst: Instrument, oms: str, seq: Sequence, single: PositionBook) -> None:
    """The same fills through `apply_fills` give the same ids and the identical book."""
    book = our_book(inst, oms)
    n = len(seq.sides)
    ids = book.apply_fills(
        np.array(seq.venue_ids, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.array(seq.sides, dtype=np.int8),
        np.array(seq.quantities, dtype=np.uint64),
        np.array(seq.prices),
        np.array(seq.commissions),
        np.array(seq.position_ids, dtype=np.int64),
    )
    assert ids.tolist() == seq.results
    assert snapshot(book) == snapshot(single)


def check_sequences(oms: str, seeds: range, names: list[str]) -> None:
    run = run_netting if oms == "NETTING" else run_hedging
    for seed in seeds:
        inst = INSTRUMENTS[names[seed % len(names)]]()
        book, seq = run(inst, seed)
        replay_batch(inst, oms, seq, book)


@pytest.mark.parametrize("oms", ["NETTING", "HEDGING"])
@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
def test_matches_nautilus(oms: str, name: str) -> None:
    check_sequences(oms, range(1000, 1075), [name])


@pytest.mark.slow
@pytest.mark.parametrize("oms", ["NETTING", "HEDGING"])
def test_matches_nautilus_10k_sequences(oms: str) -> None:
    check_sequences(oms, range(10_000), sorted(INSTRUMENTS))


# ----- hand-checked behaviour through Python -----


def two_venue_book() -> PositionBook:
    book = PositionBook()
    assert book.add_venue("NET", OmsType.NETTING) == 0
    assert book.add_venue("HEDGE", "hedging") == 1
    assert book.add_instrument("BTCUSDT", "BTC", size_precision=3, currency_precision=8) == 0
    assert book.add_instrument("BTCUSDT-PERP", "BTC", size_precision=3, currency_precision=8) == 1
    assert book.add_instrument("ESZ5", "ES", multiplier=50.0, currency_precision=2) == 2
    return book


def test_netting_flip_through_python() -> None:
    book = two_venue_book()
    book.apply_fill("NET", "BTCUSDT", OrderSide.BUY, 1500, 100.0, 0.01)
    pid = book.apply_fill("NET", "BTCUSDT", "SELL", 2000, 101.0)
    p = book.position(pid)
    assert (p.side, p.quantity, p.signed_qty, p.avg_px_open, p.closed_cycles) == ("SHORT", 500, -0.5, 101.0, 1)
    assert p.prior_realized_pnl == pytest.approx(1.5 - 0.01)
    assert book.realized_pnl("NET", "BTCUSDT") == pytest.approx(1.49)
    assert book.netting_position_id(0, 0) == pid
    assert p.unrealized_pnl(100.0) == pytest.approx(0.5)
    assert p.total_pnl(100.0) == pytest.approx(0.5)


def test_hedging_positions_and_cross_venue_exposure() -> None:
    book = two_venue_book()
    book.apply_fill(0, 0, 1, 2000, 100.0)  # NET long 2 BTC
    a = book.apply_fill(1, 1, 2, 500, 100.0)  # HEDGE short 0.5 BTC perp
    b = book.apply_fill(1, 1, 1, 250, 100.0)  # HEDGE long 0.25 BTC perp, its own position
    assert a != b
    assert sorted(book.open_position_ids("HEDGE", "BTCUSDT-PERP")) == sorted([a, b])
    book.apply_fill(1, 2, 1, 3, 5000.0)  # ES: 3 contracts x 50
    e = book.exposure("BTC")
    assert (e.net, e.long, e.short) == pytest.approx((1.75, 2.25, 0.5))
    assert (e.netting, e.hedging) == pytest.approx((2.0, -0.25))
    assert e.by_venue == pytest.approx({"NET": 2.0, "HEDGE": -0.25})
    assert e.open_positions == 3
    assert book.net_exposure("ES") == 150.0
    # Reduce the named short; closing it fully then naming it again is refused.
    assert book.apply_fill(1, 1, 1, 500, 90.0, position_id=a) == a
    assert book.position(a).realized_pnl == pytest.approx(5.0)
    with pytest.raises(ValidationError) as err:
        book.apply_fill(1, 1, 1, 1, 90.0, position_id=a)
    assert err.value.field == "position_id"
    with pytest.raises(ValidationError) as err:
        book.apply_fill(1, 1, 1, 1, 90.0, position_id=999)
    assert err.value.field == "position_id"


def state(book: PositionBook) -> list[tuple]:
    return snapshot(book) + [tuple(vars_of(book.exposure(u))) for u in ("BTC", "ES")]


def vars_of(e) -> list:
    return [e.net, e.long, e.short, e.netting, e.hedging, e.by_venue, e.open_positions, e.realized_pnl]


@pytest.mark.parametrize(
    ("kwargs", "field", "error"),
    [
        ({"quantity": 0}, "quantity", ValidationError),
        ({"quantity": -3}, "quantity", ValidationError),
        ({"price": math.nan}, "price", ValidationError),
        ({"price": -1.0}, "price", ValidationError),
        ({"price": 0.0}, "price", ValidationError),
        ({"commission": math.nan}, "commission", ValidationError),
        ({"commission": math.inf}, "commission", ValidationError),
        ({"side": 0}, "side", ValidationError),
        ({"side": "HOLD"}, "side", ValidationError),
        ({"venue": "NOPE"}, "venue", UnknownVenueError),
        ({"venue": 9}, "venue", UnknownVenueError),
        ({"instrument": "NOPE"}, "instrument", ValidationError),
        ({"position_id": 77}, "position_id", ValidationError),
        ({"position_id": -2}, "position_id", ValidationError),
    ],
)
def test_bad_single_fill_is_typed_and_changes_nothing(kwargs, field, error) -> None:
    book = two_venue_book()
    book.apply_fill(0, 0, 1, 10, 100.0)
    book.apply_fill(1, 1, 2, 10, 100.0)
    before = state(book)
    args = {"venue": 1, "instrument": 1, "side": 1, "quantity": 1, "price": 100.0, "commission": 0.0}
    args.update(kwargs)
    with pytest.raises(error) as err:
        book.apply_fill(**args)
    assert err.value.field == field
    assert isinstance(err.value, NautilusSorError)
    assert state(book) == before


def batch(n: int = 3, **overrides):
    cols = {
        "venue_ids": np.zeros(n, dtype=np.int64),
        "instrument_ids": np.zeros(n, dtype=np.int64),
        "sides": np.ones(n, dtype=np.int8),
        "quantities": np.full(n, 5, dtype=np.uint64),
        "prices": np.full(n, 100.0),
        "commissions": np.zeros(n),
        "position_ids": np.full(n, -1, dtype=np.int64),
    }
    for key, (row, value) in overrides.items():
        cols[key][row] = value
    return cols


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantities": (2, 0)}, "quantities[2]"),
        ({"prices": (1, math.nan)}, "prices[1]"),
        ({"prices": (2, -5.0)}, "prices[2]"),
        ({"commissions": (0, math.nan)}, "commissions[0]"),
        ({"sides": (1, 3)}, "sides[1]"),
        ({"venue_ids": (2, 5)}, "venue_ids[2]"),
        ({"venue_ids": (2, -1)}, "venue_ids[2]"),
        ({"instrument_ids": (1, 9)}, "instrument_ids[1]"),
        ({"position_ids": (1, -7)}, "position_ids[1]"),
        ({"position_ids": (2, 0)}, "position_ids[2]"),  # NETTING position ids other than its own
    ],
)
def test_bad_batch_rejects_atomically(overrides, field) -> None:
    book = two_venue_book()
    book.apply_fill(1, 1, 1, 10, 100.0)
    before = state(book)
    with pytest.raises(NautilusSorError) as err:
        book.apply_fills(**batch(**overrides))
    assert err.value.field == field
    assert state(book) == before


def test_batch_refused_midway_by_state_leaves_book_unchanged() -> None:
    book = two_venue_book()
    hedge = book.apply_fill(1, 1, 1, 10, 100.0)
    before = state(book)
    # Row 0 opens a new position, row 1 closes `hedge`, row 2 names `hedge` again: refused after
    # rows 0-1 were booked, and both are undone.
    cols = {
        "venue_ids": np.array([1, 1, 1], dtype=np.int64),
        "instrument_ids": np.array([1, 1, 1], dtype=np.int64),
        "sides": np.array([1, 2, 2], dtype=np.int8),
        "quantities": np.array([1, 10, 1], dtype=np.uint64),
        "prices": np.array([100.0, 101.0, 102.0]),
        "position_ids": np.array([-1, hedge, hedge], dtype=np.int64),
    }
    with pytest.raises(ValidationError) as err:
        book.apply_fills(**cols)
    assert err.value.field == "position_ids[2]"
    assert state(book) == before
    # Lengths must agree.
    with pytest.raises(ValidationError) as err:
        book.apply_fills(np.zeros(2, np.int64), np.zeros(3, np.int64), np.ones(2, np.int8), np.ones(2, np.uint64), np.ones(2))
    assert err.value.field == "instrument_ids"


def test_batch_matches_single_fills() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    cols = {
        "venue_ids": np.zeros(n, dtype=np.int64),
        "instrument_ids": rng.integers(0, 3, n).astype(np.int64),
        "sides": rng.integers(1, 3, n).astype(np.int8),
        "quantities": rng.integers(1, 500, n).astype(np.uint64),
        "prices": np.round(rng.uniform(90, 110, n), 2),
        "commissions": np.round(rng.uniform(-0.01, 0.05, n), 2),
    }
    batch_book, single_book = two_venue_book(), two_venue_book()
    ids = batch_book.apply_fills(**cols)
    single = [
        single_book.apply_fill(0, int(i), int(s), int(q), float(p), float(c))
        for i, s, q, p, c in zip(
            cols["instrument_ids"], cols["sides"], cols["quantities"], cols["prices"], cols["commissions"]
        )
    ]
    assert ids.dtype == np.int64
    assert ids.tolist() == single
    assert state(batch_book) == state(single_book)


def test_registration_errors() -> None:
    book = PositionBook()
    book.add_venue("A", "NETTING")
    with pytest.raises(ValidationError) as err:
        book.add_venue("A", "HEDGING")
    assert err.value.field == "name"
    with pytest.raises(ValidationError) as err:
        book.add_venue("B", "NETS")
    assert err.value.field == "oms_type"
    with pytest.raises(ValidationError) as err:
        book.add_instrument("X", "U", multiplier=0.0)
    assert err.value.field == "multiplier"
    with pytest.raises(ValidationError) as err:
        book.exposure("nothing")
    assert err.value.field == "underlying"
    with pytest.raises(ValidationError) as err:
        book.position(0)
    assert err.value.field == "position_id"
