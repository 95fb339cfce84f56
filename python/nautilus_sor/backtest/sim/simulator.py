"""One parent order, one algorithm, one routing scenario, on a recorded market.

The decisions use the same Rust core as live trading: schedules from `_core` (TWAP, VWAP, iceberg display
size) and, for the `router` scenario, `_core.Router` (`set_book` with the books as published at decision
time, `split` for aggressive slices, `select_passive` for passive clips, with the recorded trades fed to
its tape by `record_trade` up to the decision time only), learning venue statistics from our own simulated
outcomes (`record_ack`, `record_fill`, `record_order_done`), each fed to the router only once its response
would have reached us (no look-ahead). Matching is `exchange.VenueExchange`.

Scenarios: `router`; `equal_split` (each slice split equally over the venues with a book on the side it
takes); `single:<venue>` (everything to one venue). Algorithms:

- `aggressive`: the whole parent routed at once as IOC limit orders (limit = the worst price of the walk the
  decision expected); whatever did not fill is routed again when the responses are back, up to
  `aggressive_retries` times, within the horizon.
- `twap` / `vwap`: core schedule over the horizon (in whole lots of the finest venue: `SimMarket.schedule`),
  with the live algorithms' rule for what a slice leaves
  (`execution_algorithms/base.py`, `_return_units`): each slice is taken in one attempt, and what does not
  fill (or cannot be routed then) joins the next slice; after the last slice it is sent again
  `retry_delay_s` after its answer, at most `max_retries` times. `slice_rule="within_slice"` (a
  sensitivity, the simulator's rule before 2026-12-07): a slice's rest is routed again like `aggressive`
  until the next slice, and the last slice's until one interval after the horizon. With `passive_first_s`,
  a slice first rests at the touch for that long.
  `execution_style` (the live algorithms' rules, `execution_algorithms/styles.py`): `taker` as above;
  `maker`: each slice rests at the touch of the venue `select_passive` picks (router scenario; a single
  venue's own touch), checked every `reprice_interval_s` and at the slice's end by `styles.decide`
  (re-priced when the touch moved away, crossed when the parent is behind schedule by more than
  `catch_up_fraction` of it or the slice's time is up); `adaptive`: rests only while `styles.adaptive_rests`
  says the core's rest-then-cross estimate (`select_passive`) beats crossing now (the core split's
  score), taken otherwise. A slice can rest until the next slice (the last: `passive_horizon_s`). With
  the router, as live, the venue is chosen for the slice rounded down to the coarsest lot, the order rests
  what that venue's lot holds, and the rest of the slice is taken at once.
- `iceberg`: one display clip (core `Iceberg` display size) at a time, resting at the touch on the routed
  venue(s); a new clip when it has filled; cancelled and re-posted when the published touch moves away.
At the horizon, what is left is reported as unfilled (and priced separately by the evaluation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from nautilus_sor import _core
from nautilus_sor.backtest.sim.exchange import BUY, SELL, Fill, VenueExchange
from nautilus_sor.backtest.sim.feeds import LearningFeed, TapeFeed
from nautilus_sor.backtest.sim.market import SimMarket
from nautilus_sor.backtest.sim.params import ALGORITHMS, NS, ExecParams
from nautilus_sor.exceptions import InsufficientLiquidityError, RoutingError, ValidationError
from nautilus_sor.execution_algorithms.styles import ADAPTIVE, Action, Resting, adaptive_rests, decide


@dataclass(frozen=True, slots=True)
class Parent:
    side: int  # BUY (+1) / SELL (-1)
    quantity: float  # in units of the asset
    start_ns: int
    algorithm: str


@dataclass(slots=True)
class Decision:
    ts: int
    venue: str
    qty: float
    kind: str  # "IOC" or "LIMIT"
    price: float  # the IOC limit, or the resting price
    expected_price: float  # what the decision expected to pay (the walk's average; the price for a limit)


@dataclass(slots=True)
class ParentResult:
    parent: Parent
    scenario: str
    fills: list[Fill] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    unfilled: float = 0.0
    end_ns: int = 0
    rested_slices: int = 0  # resting styles: slices that rested
    taken_slices: int = 0  # resting styles: slices taken at once (adaptive on the estimate, or no touch to join)
    reprices: int = 0

    @property
    def filled(self) -> float:
        return float(sum(f.size for f in self.fills))

    def cost_bps(self, arrival_mid: float) -> float:
        """All-in cost of the filled part versus the arrival mid, in bps (fees in; buy and sell mirrored)."""
        return cost_bps(self.fills, self.parent.side, arrival_mid)


def cost_bps(fills: list[Fill], side: int, arrival_mid: float) -> float:
    qty = sum(f.size for f in fills)
    if qty <= 0 or not arrival_mid > 0:
        return float("nan")
    notional = sum(f.size * f.price for f in fills)
    fees = sum(f.fee for f in fills)
    all_in = (notional + fees) / qty if side == BUY else (notional - fees) / qty
    return float(side * (all_in - arrival_mid) / arrival_mid * 1e4)


def _walk(prices: npt.NDArray[np.float64], sizes: npt.NDArray[np.float64], qty: float) -> tuple[float, float, float]:
    """(worst price touched, average price, quantity covered) walking `qty` through levels."""
    left, notional, worst = qty, 0.0, float("nan")
    for p, s in zip(prices, sizes):
        if left <= 1e-12:
            break
        take = min(s, left)
        notional += take * p
        left -= take
        worst = float(p)
    covered = qty - max(left, 0.0)
    return worst, (notional / covered if covered > 0 else float("nan")), covered


class ParentRun:
    """Executes one parent under one scenario (fresh exchanges unless given)."""

    def __init__(self, sim: SimMarket, parent: Parent, scenario: str, *, router: Any = None, feed: LearningFeed | None = None,
                 exchanges: dict[str, VenueExchange] | None = None, params: ExecParams | None = None) -> None:
        if parent.side not in (BUY, SELL):
            raise ValidationError(f"invalid side: {parent.side!r} (1 buy, -1 sell)", field="side", value=parent.side)
        if parent.algorithm not in ALGORITHMS:
            raise ValidationError(f"invalid algorithm: {parent.algorithm!r} (one of {', '.join(ALGORITHMS)})", field="algorithm", value=parent.algorithm)
        if scenario != "router" and scenario != "equal_split" and not (scenario.startswith("single:") and scenario[7:] in sim.names):
            raise ValidationError(f"invalid scenario: {scenario!r} (router, equal_split or single:<one of {sim.names}>)", field="scenario", value=scenario)
        self.sim = sim
        self.p = sim.params if params is None else params.validate()  # `params`: this run's own (e.g. another execution style)
        self.style = self.p.style()
        if self.style.rests and (scenario == "equal_split") and parent.algorithm in ("twap", "vwap"):
            raise ValidationError(f"invalid execution_style: {self.style.style!r} for scenario {scenario!r} (a resting slice is one order on one "
                                  "venue: router or single:<venue>)", field="execution_style", value=self.style.style)
        self.parent = parent
        self.scenario = scenario
        self.side = parent.side
        self.ex = exchanges if exchanges is not None else sim.exchanges()
        if scenario == "router" and router is None:
            router = sim.router()
        self.router = router
        self.feed = feed if feed is not None else (LearningFeed(router) if router is not None else None)
        self.result = ParentResult(parent, scenario)
        self.exact = True  # route exactly what is asked (False: a slice may carry a sub-lot rest forward)
        self.carried = False
        self.max_venues = len(self.ex)
        # A resting slice's venue is chosen for the slice rounded down to this (see `_resting_slice`); None
        # when every venue has the same lot, where the live rule rests the whole slice.
        lots = {ex.venue.lot_size for ex in self.ex.values()}
        self._coarsest_lot = max(lots) if len(lots) > 1 else None
        # Every algorithm has the horizon to complete (an aggressive parent uses it only for its retries).
        self.horizon_end = parent.start_ns + int(self.p.horizon_s * NS)

    # ----- routing decisions -----

    def _route_aggressive(self, qty: float, ts: int) -> list[tuple[str, float, float, float]]:
        """(venue, qty, limit, expected avg) children for `qty` at `ts` under the scenario."""
        sim, side = self.sim, self.side
        if self.scenario == "router":
            return self._router_split(qty, ts, {name: sim.seen_levels(ex, side, ts) for name, ex in self.ex.items()})
        candidates = sim.names if self.scenario == "equal_split" else [self.scenario[7:]]
        seen = {name: sim.seen_levels(self.ex[name], side, ts) for name in candidates}
        names = [n for n in candidates if len(seen[n][0])]
        if not names:
            return []
        lot = {n: self.ex[n].venue.lot_size for n in names}
        share = {n: _floor_lot(qty / len(names), lot[n]) for n in names}
        rest = qty - sum(share.values())
        for n in names:  # the remainder, a lot at a time, to the venues in order
            extra = _floor_lot(rest, lot[n])
            share[n] += extra
            rest -= extra
        children = []
        for n in names:
            if share[n] <= 1e-12:
                continue
            worst, avg, _ = _walk(*seen[n], share[n])
            children.append((n, share[n], worst, avg))
        return children

    def _router_books(self, ts: int, seen: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]) -> None:
        """Learning due by `ts`, and every venue's book as the decision sees it, into the core router."""
        sim, side, router = self.sim, self.side, self.router
        self.feed.apply_until(ts)  # type: ignore[union-attr]  # the router scenario always has a feed
        other = -side
        for name, ex in self.ex.items():
            opp_px, opp_sz = sim.seen_levels(ex, other, ts)  # our side of the book (for the reference mid)
            take_px, take_sz = seen[name]
            lot = sim.lot_units[name]  # sizes in whole lots of the venue, so any available total is routable
            b = sim.basis(name, ts)  # the router compares venues with the basis at the decision removed
            take_px, opp_px = take_px - b, opp_px - b
            take = [(float(p), u) for p, s in zip(take_px, take_sz) if (u := sim.to_units(s) // lot * lot) > 0]
            own = [(float(p), u) for p, s in zip(opp_px, opp_sz) if (u := sim.to_units(s) // lot * lot) > 0]
            bids, asks = (own, take) if side == BUY else (take, own)
            router.set_book(name, bids, asks)

    def _router_split(self, qty: float, ts: int, seen: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]) -> list[tuple[str, float, float, float]]:
        sim, side, router = self.sim, self.side, self.router
        self._router_books(ts, seen)
        units = sim.to_units(qty)
        units -= units % sim.min_lot_units
        if not self.exact:
            units = self._cheapest_rounding(units)
        split = None
        # More than the books show: split what they show; a quantity no lot combination makes: round it
        # down to the coarsest lot. A few attempts, then nothing this time.
        for _attempt in range(4):
            if units <= 0:
                return []
            try:
                split = router.split("BUY" if side == BUY else "SELL", units, len(self.ex) if self.exact else self.max_venues)
                break
            except InsufficientLiquidityError as exc:
                units = exc.available - exc.available % sim.min_lot_units
            except ValidationError:
                coarse = max(sim.lot_units.values())
                units = units - units % coarse if units >= coarse else 0
            except RoutingError:
                return []
        if split is None:
            return []
        children = []
        for a in split.allocations:
            q = a.qty * sim.unit
            worst, _, _ = _walk(*seen[a.venue], q)  # the venue's own prices: the IOC limit
            b = sim.basis(a.venue, ts)
            children.append((a.venue, q, worst, float(a.expected_price) + b if a.expected_price is not None else worst))
        return children

    def _cheapest_rounding(self, units: int) -> int:
        """Before the last slice, the router may route a slice rounded down to one venue's lot and carry
        the sub-lot rest to later slices (as a single-venue execution does), rather than paying a
        fine-lot venue's fee for it now: the core's `lot_rounding`, the rule the live algorithms use."""
        side = "BUY" if self.side == BUY else "SELL"
        now: int  # `_core.Router.lot_rounding` (self.router is Any: None outside the router scenario)
        now, max_venues = self.router.lot_rounding(side, units, len(self.ex))
        if now == 0:
            self.carried = True
            return 0
        self.max_venues = max_venues
        return now

    def _passive_venues(self, qty: float, ts: int) -> list[tuple[str, float]]:
        """Where a passive clip of `qty` rests at `ts` under the scenario."""
        sim = self.sim
        if self.scenario == "router":
            if self.p.passive_scoring == "tape":
                return self._router_passive(qty, ts)
            self._router_books(ts, {n: sim.seen_levels(ex, self.side, ts) for n, ex in self.ex.items()})
            try:
                sel = self.router.select_venue("BUY" if self.side == BUY else "SELL", max(sim.min_lot_units, sim.to_units(qty)))
                return [(sel.venue, qty)]
            except (RoutingError, ValidationError):
                return []
        names = sim.names if self.scenario == "equal_split" else [self.scenario[7:]]
        names = [n for n in names if np.isfinite(self._own_touch(n, ts))]
        if not names:
            return []
        shares = [(n, _floor_lot(qty / len(names), self.ex[n].venue.lot_size)) for n in names]
        shares = [(n, q) for n, q in shares if q > 0]
        return shares or [(names[0], qty)]

    def _router_passive(self, qty: float, ts: int) -> list[tuple[str, float]]:
        """The core's `select_passive` at `ts` over one slice interval of horizon (`_select_passive`)."""
        selection = self._select_passive(qty, ts, self.p.interval_s)
        return [] if selection is None else [(selection.venue, qty)]

    def _select_passive(self, qty: float, ts: int, horizon_s: float) -> Any:
        """The core's `select_passive` at `ts` (None: no venue): each venue's published touch, the tape up
        to `ts`, `horizon_s` of horizon. Lots are not asked of the clip here: the simulated venue rests any
        size and fills it in whole lots (as the Python rule this replaces did)."""
        sim, router = self.sim, self.router
        self.feed.apply_until(ts)  # type: ignore[union-attr]  # the router scenario always has a feed
        if self.feed.tape is None:  # type: ignore[union-attr]  # the router scenario always has a feed
            self.feed.tape = TapeFeed(router, sim, self.ex)  # type: ignore[union-attr]  # the router scenario always has a feed
        self.feed.tape.feed_until(ts)  # type: ignore[union-attr]  # the router scenario always has a feed
        for name, ex in self.ex.items():
            row = ex.row_at(ts)
            touch = []
            if row >= 0:
                book = ex.book
                b = sim.basis(name, ts)
                touch = [[(float(px) - b, u)] if np.isfinite(px) and (u := sim.to_units(float(sz))) > 0 else []
                         for px, sz in ((book.bid_px[row, 0], book.bid_sz[row, 0]), (book.ask_px[row, 0], book.ask_sz[row, 0]))]
            try:
                if touch:
                    router.set_book(name, touch[0], touch[1])
                else:
                    router.clear_book(name)
            except ValidationError:  # a locked or crossed published touch: nothing to join there
                router.clear_book(name)
        for name in sim.names:
            router.set_lot(name, 1, 0)
        try:
            return router.select_passive("BUY" if self.side == BUY else "SELL", max(1, sim.to_units(qty)), horizon_s, ts)
        except (RoutingError, ValidationError):
            return None
        finally:
            for name in sim.names:
                router.set_lot(name, sim.lot_units[name], 0)

    def _cross_now_bps(self, qty: float, ts: int) -> float | None:
        """What taking `qty` now is expected to cost: the core split's `score_bps` on the books the
        decision sees (what the live router's `split_score_bps` returns; None: no split possible)."""
        sim = self.sim
        self._router_books(ts, {n: sim.seen_levels(ex, self.side, ts) for n, ex in self.ex.items()})
        units = sim.to_units(qty)
        units -= units % sim.min_lot_units
        if units <= 0:
            return None
        try:
            return float(self.router.split("BUY" if self.side == BUY else "SELL", units, len(self.ex)).score_bps)
        except (RoutingError, ValidationError):
            return None

    def _own_touch(self, name: str, ts: int) -> float:
        bid, ask = self.ex[name].touch(ts)
        return bid if self.side == BUY else ask

    # ----- execution -----

    def _send_ioc(self, children: list[tuple[str, float, float, float]], ts: int) -> tuple[float, int]:
        """Sends IOC children at `ts`; returns (filled, when the last response is back)."""
        got_total, back = 0.0, ts
        for name, q, limit, expected in children:
            ex = self.ex[name]
            fills, arrival = ex.take(self.side, q, limit, ts)
            got = sum(f.size for f in fills)
            self.result.fills.extend(fills)
            self.result.decisions.append(Decision(ts, name, q, "IOC", limit, expected))
            response = arrival + ex.latency_ns
            back = max(back, response)
            got_total += got
            if self.feed is not None:
                self._learn(name, q, fills, expected, response)
        return got_total, back

    def _learn(self, name: str, ordered: float, fills: list[Fill], expected: float, response: int) -> None:
        sim = self.sim
        self.feed.push(response, "record_ack", name, sim.latency_ms[name])  # type: ignore[union-attr]  # called only with a feed (`_send_ioc`)
        got = sum(f.size for f in fills)
        if got > 0 and np.isfinite(expected):
            avg = sum(f.size * f.price for f in fills) / got
            self.feed.push(response, "record_fill", name, "BUY" if self.side == BUY else "SELL", float(expected), float(avg))  # type: ignore[union-attr]  # called only with a feed (`_send_ioc`)
        self.feed.push(response, "record_order_done", name, sim.to_units(got), max(1, sim.to_units(ordered)))  # type: ignore[union-attr]  # called only with a feed (`_send_ioc`)

    def _take(self, qty: float, ts: int) -> tuple[float, int, bool]:
        """One attempt to take `qty` at `ts`: (filled, when the answers are back, whether anything was sent).
        Nothing is sent when `qty` fits no lot, the books offer nothing, or the router carries it (a
        sub-lot rest kept for a later slice: `self.carried`)."""
        self.carried = False
        children = [] if qty <= 1e-9 or self._unroutable(qty) else self._route_aggressive(qty, ts)
        if not children:
            return 0.0, ts, False
        got, back = self._send_ioc(children, ts)
        return got, back, True

    def _aggressive(self, qty: float, ts: int, deadline: int) -> tuple[float, int]:
        """Routes `qty` aggressively from `ts`, again with what is left once the responses are back, until
        filled, `aggressive_retries` retries or `deadline`. Returns (left, time)."""
        left = qty
        for _attempt in range(self.p.aggressive_retries + 1):
            if left <= 1e-9 or ts > deadline:
                break
            got, back, sent = self._take(left, ts)
            if not sent:
                if self.carried:  # the router keeps a sub-lot rest for a later slice
                    break
                ts = self._next_update(ts)
                continue
            left -= got
            # Nothing filled: the books we saw are not there for us; wait for a book update before retrying.
            ts = back if got > 1e-12 else self._next_update(back)
        return max(0.0, left), ts

    def _take_slice(self, qty: float, ts: int, next_ts: int) -> tuple[float, int]:
        """A slice's taking, the next slice due at `next_ts`: one attempt, what it leaves going back to the
        schedule (`slice_rule` "live"), or again until `next_ts` ("within_slice"). (left, time)."""
        if self.p.slice_rule == "within_slice":
            return self._aggressive(qty, ts, max(next_ts, ts))
        got, back, _ = self._take(qty, ts)
        return max(0.0, qty - got), back

    def _next_update(self, ts: int) -> int:
        """The first book update of any venue after `ts` (1 s later when none is left)."""
        updates = self.sim.update_ts
        k = int(np.searchsorted(updates, ts, side="right"))
        return int(updates[k]) if k < len(updates) else ts + NS

    def _unroutable(self, qty: float) -> bool:
        """No child can ever be made of `qty` under the scenario: below every lot it may use (the router:
        below the finest lot; equal split and single venue: no venue's lot fits)."""
        if self.scenario == "router":
            units = self.sim.to_units(qty)
            return units - units % self.sim.min_lot_units <= 0
        names = self.sim.names if self.scenario == "equal_split" else [self.scenario[7:]]
        return all(_floor_lot(qty, self.ex[n].venue.lot_size) <= 1e-12 for n in names)

    def _passive_round(self, qty: float, ts: int, cancel_at: int, touch_move: bool) -> tuple[float, int]:
        """Rests `qty` at the touch on the scenario's venue(s). Returns (filled, when we know the outcome)."""
        placed = self._passive_venues(qty, ts)
        if not placed:
            return 0.0, self._next_update(ts)
        got_total, back, sent = 0.0, ts, False
        for name, q in placed:
            price = self._own_touch(name, ts)
            if not np.isfinite(price):
                continue
            sent = True
            ex = self.ex[name]
            res = ex.rest(self.side, price, q, ts, cancel_at, cancel_on_touch_move=touch_move)
            self.result.fills.extend(res.fills)
            self.result.decisions.append(Decision(ts, name, q, "LIMIT", price, price))
            got = res.filled
            got_total += got
            response = res.end_ts + ex.latency_ns
            back = max(back, response)
            if self.feed is not None:
                self.feed.push(response, "record_order_done", name, self.sim.to_units(got), max(1, self.sim.to_units(q)))
        if not sent:  # no quote to join on the chosen venue(s): wait for the next book update
            return 0.0, self._next_update(ts)
        return got_total, max(back, ts + 1)

    def _resting_slice(self, qty: float, ts: int, deadline: int, slices: list[tuple[int, float]], withheld: float = 0.0) -> tuple[float, int]:
        """A maker / adaptive slice of `qty` from `ts`: rests at the touch and is re-priced while the rules
        of `styles.decide` say so, checked every `reprice_interval_s` and at `deadline`. Returns (what is
        left to cross, when): the rest after a cross decision, the deadline, or adaptive choosing to take.
        `withheld`: units earlier slices left that wait for a later slice; as the live rule's "due"
        (`resting.py`: released minus returned), they do not count as behind schedule."""
        sim, style, side = self.sim, self.style, self.side
        new_slice = True
        parent_units = sim.to_units(self.parent.quantity)
        interval_ns = int(style.reprice_interval_s * NS)
        taken_left = 0.0  # what the part taken at placement left unfilled
        live = self.p.slice_rule == "live"
        while qty > 1e-9 and ts < deadline:
            # As the live algorithm (`resting.py` `_placement`): with the router and venues of different lots,
            # the venue is chosen for the slice rounded down to the coarsest lot, the order rests what the
            # chosen venue's lot holds, and the rest of the slice is taken at once. With one lot everywhere
            # the live rule rests the whole slice (a whole number of lots, as `SimMarket.schedule` makes them).
            coarsest = self._coarsest_lot if new_slice and self.scenario == "router" else None
            resting = qty if coarsest is None else _floor_lot(qty, coarsest)
            if resting <= 1e-9:
                break  # less than a lot everywhere: taken
            venue = self._resting_venue(resting, ts, deadline, new_slice)
            new_slice = False
            if venue is None:
                break
            if coarsest is not None:
                resting = _floor_lot(resting, self.ex[venue].venue.lot_size)
                if resting <= 1e-9:
                    break
                if qty - resting > 1e-9:
                    left, _ = self._take_slice(qty - resting, ts, deadline)
                    taken_left += left
                qty = resting
            ex = self.ex[venue]
            price = self._own_touch(venue, ts)
            if not np.isfinite(price):
                break
            state = Resting(side == BUY, round(price / ex.tick), deadline, ts)
            checks = list(range(ts + interval_ns, deadline, interval_ns)) if interval_ns > 0 else []
            filled_before = self.result.filled
            actions: list[Action] = []

            def cancel_if(now: int, filled: float, state: Resting = state, ex: VenueExchange = ex, filled_before: float = filled_before,
                          actions: list[Action] = actions) -> bool:
                bid, ask = ex.touch(now)
                touch = bid if side == BUY else ask
                # The schedule's quantity whose time has come, less what came back unfilled and waits for a later
                # slice (the part taken at placement included): the live algorithm's `due` (the previous rule
                # counted all of it).
                due = sum(q for t, q in slices if t <= now) - (withheld + taken_left if live else 0.0)
                behind = sim.to_units(due) - sim.to_units(filled_before + filled)
                action = decide(state, style, now_ns=now, touch_tick=round(touch / ex.tick) if np.isfinite(touch) else None,
                                behind_units=behind, parent_units=parent_units)
                actions.append(action)
                return action is not Action.HOLD

            res = ex.rest(side, price, qty, ts, deadline, checks=checks, cancel_if=cancel_if)
            self.result.fills.extend(res.fills)
            self.result.decisions.append(Decision(ts, venue, qty, "LIMIT", price, price))
            if self.feed is not None:
                self.feed.push(res.end_ts + ex.latency_ns, "record_order_done", venue, sim.to_units(res.filled), max(1, sim.to_units(qty)))
            qty -= res.filled
            ts = max(res.end_ts + ex.latency_ns, ts + 1)  # the cancel's (or last fill's) confirmation is back
            if res.reason != "decided" or actions[-1] is not Action.REPRICE:
                break  # filled, crossed (behind schedule) or the slice's time is up
            self.result.reprices += 1
        return max(0.0, qty) + taken_left, ts

    def _resting_venue(self, qty: float, ts: int, deadline: int, new_slice: bool) -> str | None:
        """Where the slice rests now (None: it is taken): the router scenario's `select_passive` for the
        time left to `deadline` - for adaptive only when `adaptive_rests` prefers it to crossing now - or
        the single venue (adaptive weighs the router's estimates: without the router it takes, as live)."""
        venue: str | None
        if self.scenario != "router":
            venue = self.scenario[7:]
            rests = self.style.style != ADAPTIVE and bool(np.isfinite(self._own_touch(venue, ts)))
        else:
            selection = self._select_passive(qty, ts, max(deadline - ts, 1) / NS)
            venue = None if selection is None else selection.venue
            rests = venue is not None
            if rests and self.style.style == ADAPTIVE:
                rests = adaptive_rests(float(selection.best.score_bps), self._cross_now_bps(qty, ts))
        if new_slice:
            self.result.rested_slices += rests
            self.result.taken_slices += not rests
        return venue if rests else None

    def run(self) -> ParentResult:
        parent, p = self.parent, self.p
        if parent.algorithm == "iceberg":
            left, ts = self._iceberg()
        elif parent.algorithm == "aggressive":
            left, ts = self._aggressive(parent.quantity, parent.start_ns, self.horizon_end)
            if left > 1e-9:  # catch-up: until one interval after the horizon
                left, ts = self._aggressive(left, ts, self.horizon_end + int(p.interval_s * NS))
        else:
            left, ts = self._sliced()
        self.result.unfilled = max(0.0, parent.quantity - self.result.filled)
        self.result.end_ns = ts
        return self.result

    def _sliced(self) -> tuple[float, int]:
        """A TWAP / VWAP: each slice with what earlier slices left and had back by its time, then the live
        retries after the last (`retry_delay_s` after the answer, at most `max_retries`; each rests first as
        a last slice does when the style rests). Returns (left, time)."""
        parent, p = self.parent, self.p
        slices = self.sim.schedule(parent.algorithm, parent.quantity, parent.start_ns)
        ts = parent.start_ns
        # What slices left, as (when it came back, units): the live algorithm's `returned`, which joins the
        # first slice due after it came back (a resting slice's cross answers after the next slice fired, so
        # its rest waits for the one after); the previous rule ("within_slice") joins the next slice.
        returned: list[tuple[int, float]] = []
        within = p.slice_rule == "within_slice"
        for i, (slice_ts, q) in enumerate(slices):
            last = i + 1 == len(slices)
            self.exact = last  # the last slice routes its exact rest (see _cheapest_rounding)
            ts = max(ts, slice_ts)
            back_by = math.inf if within else slice_ts  # what came back by then joins this slice
            joins = sum(x for t, x in returned if t <= back_by)
            returned = [(t, x) for t, x in returned if t > back_by]
            next_ts = max(self.horizon_end, ts) if last else slices[i + 1][0]
            # A resting style rests until the next slice; the last slice for passive_horizon_s from its time.
            rest_until = slice_ts + int(p.passive_horizon_s * NS) if last else next_ts
            left, back = self._slice(q + joins, ts, next_ts, rest_until, slices, sum(x for _, x in returned))
            if left > 0:
                returned.append((back, left))
            ts = back
        self.exact = True
        left = sum(x for _, x in returned)
        if within:  # catch-up: until one interval after the horizon
            return self._aggressive(left, ts, self.horizon_end + int(p.interval_s * NS)) if left > 1e-9 else (left, ts)
        retry_ns = int(p.retry_delay_s * NS)
        for _retry in range(p.max_retries):
            if left <= 1e-9:
                break
            ts += retry_ns
            left, ts = self._slice(left, ts, ts + retry_ns, ts + int(p.passive_horizon_s * NS), slices)
        return left, ts

    def _slice(self, qty: float, ts: int, next_ts: int, rest_until: int, slices: list[tuple[int, float]], withheld: float = 0.0) -> tuple[float, int]:
        """One slice of `qty` from `ts`, the next due at `next_ts`: rested first when `passive_first_s` says so
        (at most until `next_ts`) or the execution style does (until `rest_until`), then what is left taken
        (`_take_slice`: one attempt under the live rule). Returns (left, time)."""
        p = self.p
        if p.passive_first_s is not None:
            got, ts = self._passive_round(qty, ts, min(next_ts, ts + int(p.passive_first_s * NS)), touch_move=False)
            qty -= got
        if self.style.rests:
            qty, ts = self._resting_slice(qty, ts, rest_until, slices, withheld)
        return self._take_slice(qty, ts, next_ts)

    def _iceberg(self) -> tuple[float, int]:
        sim, parent = self.sim, self.parent
        units = max(sim.min_lot_units, sim.to_units(parent.quantity) // sim.min_lot_units * sim.min_lot_units)
        display = _core.Iceberg(units, self.p.iceberg_visible_pct, lot_size=sim.min_lot_units).display_qty * sim.unit
        left, ts = parent.quantity, parent.start_ns
        while left > 1e-9 and ts < self.horizon_end:
            clip = min(display, left)
            got, ts = self._passive_round(clip, ts, self.horizon_end, touch_move=True)
            left -= got
        if left > 1e-9:  # the horizon is over: cross what is left
            left, ts = self._aggressive(left, max(ts, self.horizon_end), self.horizon_end + int(self.p.interval_s * NS))
        return max(0.0, left), ts


def _floor_lot(qty: float, lot: float) -> float:
    return qty if lot <= 0 else float(math.floor(qty / lot + 1e-9) * lot)


def run_parent(sim: SimMarket, parent: Parent, scenario: str, **kwargs: Any) -> ParentResult:
    """Runs one parent under one scenario on fresh exchanges (see `ParentRun`)."""
    return ParentRun(sim, parent, scenario, **kwargs).run()


__all__ = ["Decision", "Parent", "ParentResult", "ParentRun", "cost_bps", "run_parent"]
