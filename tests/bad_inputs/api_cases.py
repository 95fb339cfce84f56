"""Bad API arguments: one row per case, asserted by tests/test_bad_inputs.py.

Each case is `Case(name, target, call, error, field, xfail)`:
  target  which fresh object the call gets ("router", "position_book", "pov", "iceberg", "smart_router",
          or None for a stateless function); the test snapshots it before the call and checks that the
          failed call changed nothing;
  call    a function of that object making the bad call;
  error   the `nautilus_sor.exceptions` class name the call must raise;
  field   the exact `err.field`;
  xfail   None, or why the library does not meet this yet (recorded as a strict xfail).
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity

from nautilus_sor import (
    Iceberg,
    PovTracker,
    Router,
    VenueSpec,
    shortfall_kappa,
    shortfall_schedule,
    twap_schedule,
    volume_curve_from_bars,
    vwap_curve_schedule,
    vwap_schedule,
)

NAN, INF = math.nan, math.inf


class Case(NamedTuple):
    name: str
    target: str | None
    call: Callable[[Any], Any]
    error: str
    field: str
    xfail: str | None = None


CASES: list[Case] = []


def case(name: str, target: str | None, call: Callable[[Any], Any], error: str, field: str, xfail: str | None = None) -> None:
    CASES.append(Case(name, target, call, error, field, xfail))


def i8(*x: int) -> np.ndarray:
    return np.array(x, dtype=np.int8)


def u64(*x: int) -> np.ndarray:
    return np.array(x, dtype=np.uint64)


def i64(*x: int) -> np.ndarray:
    return np.array(x, dtype=np.int64)


def f64(*x: float) -> np.ndarray:
    return np.array(x, dtype=np.float64)


U64_NEGATIVE = "a negative int for a u64 argument raises OverflowError from PyO3's conversion, not ValidationError"

# ---------------------------------------------------------------- VenueSpec / Router construction
case("venue_spec_empty_name", None, lambda _: VenueSpec("", 0.0, 0.0), "ValidationError", "name")
case("venue_spec_blank_name", None, lambda _: VenueSpec("  ", 0.0, 0.0), "ValidationError", "name")
case("venue_spec_maker_nan", None, lambda _: VenueSpec("A", NAN, 0.0), "ValidationError", "maker_fee")
case("venue_spec_maker_inf", None, lambda _: VenueSpec("A", INF, 0.0), "ValidationError", "maker_fee")
case("venue_spec_maker_below_rebate_floor", None, lambda _: VenueSpec("A", -0.5, 0.0), "ValidationError", "maker_fee")
case("venue_spec_maker_huge", None, lambda _: VenueSpec("A", 1e308, 0.0), "ValidationError", "maker_fee")
case("venue_spec_taker_negative", None, lambda _: VenueSpec("A", 0.0, -0.0004), "ValidationError", "taker_fee")
case("venue_spec_taker_nan", None, lambda _: VenueSpec("A", 0.0, NAN), "ValidationError", "taker_fee")
case("venue_spec_taker_inf", None, lambda _: VenueSpec("A", 0.0, INF), "ValidationError", "taker_fee")
case("venue_spec_taker_too_large", None, lambda _: VenueSpec("A", 0.0, 4.0), "ValidationError", "taker_fee")
case("venue_spec_latency_negative", None, lambda _: VenueSpec("A", 0.0, 0.0, -1.0), "ValidationError", "latency_ms")
case("venue_spec_latency_nan", None, lambda _: VenueSpec("A", 0.0, 0.0, NAN), "ValidationError", "latency_ms")
case("venue_spec_latency_inf", None, lambda _: VenueSpec("A", 0.0, 0.0, INF), "ValidationError", "latency_ms")
case("venue_spec_lot_zero", None, lambda _: VenueSpec("A", 0.0, 0.0, lot_size=0), "ValidationError", "lot_size")
case("venue_spec_lot_negative", None, lambda _: VenueSpec("A", 0.0, 0.0, lot_size=-1), "ValidationError", "lot_size")
case("venue_spec_name_not_str", None, lambda _: VenueSpec(5, 0.0, 0.0), "ValidationError", "name")
case("router_no_venues", None, lambda _: Router([]), "ValidationError", "venues")
case("router_duplicate_venues", None, lambda _: Router([VenueSpec("A", 0, 0), VenueSpec("A", 0, 0)]), "ValidationError", "venues[1].name")
case("router_volatility_nan", None, lambda _: Router([VenueSpec("A", 0, 0)], volatility=NAN), "ValidationError", "volatility")
case("router_volatility_negative", None, lambda _: Router([VenueSpec("A", 0, 0)], volatility=-1.0), "ValidationError", "volatility")
case("router_latency_weight_negative", None, lambda _: Router([VenueSpec("A", 0, 0)], latency_risk_weight=-1.0), "ValidationError", "latency_risk_weight")
case("router_miss_cost_nan", None, lambda _: Router([VenueSpec("A", 0, 0)], miss_cost_bps=NAN), "ValidationError", "miss_cost_bps")
case("router_miss_cost_negative", None, lambda _: Router([VenueSpec("A", 0, 0)], miss_cost_bps=-1.0), "ValidationError", "miss_cost_bps")
case("router_alpha_zero", None, lambda _: Router([VenueSpec("A", 0, 0)], ewma_alpha=0.0), "ValidationError", "ewma_alpha")
case("router_alpha_above_one", None, lambda _: Router([VenueSpec("A", 0, 0)], ewma_alpha=2.0), "ValidationError", "ewma_alpha")
case("router_alpha_nan", None, lambda _: Router([VenueSpec("A", 0, 0)], ewma_alpha=NAN), "ValidationError", "ewma_alpha")
case("router_venue_not_a_spec", None, lambda _: Router(["A"]), "ValidationError", "venues[0]")

# ---------------------------------------------------------------- Router: routing calls (state must not change)
case("split_zero_quantity", "router", lambda r: r.split("BUY", 0, 2), "ValidationError", "total_qty")
case("split_max_venues_zero", "router", lambda r: r.split("BUY", 5, 0), "ValidationError", "max_venues")
case("split_side_zero", "router", lambda r: r.split(0, 5, 2), "ValidationError", "side")
case("split_side_three", "router", lambda r: r.split(3, 5, 2), "ValidationError", "side")
case("split_side_negative", "router", lambda r: r.split(-1, 5, 2), "ValidationError", "side")
case("split_side_unknown_string", "router", lambda r: r.split("HOLD", 5, 2), "ValidationError", "side")
case("split_side_none", "router", lambda r: r.split(None, 5, 2), "ValidationError", "side")
case("split_side_float", "router", lambda r: r.split(1.0, 5, 2), "ValidationError", "side")
case("split_side_order_side_no_side", "router", lambda r: r.split(OrderSide.NO_ORDER_SIDE, 5, 2), "ValidationError", "side")
case("split_limit_nan", "router", lambda r: r.split("BUY", 5, 2, NAN), "ValidationError", "limit_price")
case("split_limit_inf", "router", lambda r: r.split("BUY", 5, 2, INF), "ValidationError", "limit_price")
case("split_limit_neg_inf", "router", lambda r: r.split("BUY", 5, 2, -INF), "ValidationError", "limit_price")
case("split_limit_negative", "router", lambda r: r.split("BUY", 5, 2, -1.0), "ValidationError", "limit_price")
case("split_limit_zero", "router", lambda r: r.split("BUY", 5, 2, 0.0), "ValidationError", "limit_price")
case("split_more_than_displayed", "router", lambda r: r.split("BUY", 1000, 2), "InsufficientLiquidityError", "total_qty")
case("split_more_than_within_limit", "router", lambda r: r.split("BUY", 10, 2, 100.0), "InsufficientLiquidityError", "total_qty")
case("split_quantity_2_pow_63", "router", lambda r: r.split("BUY", 2**63, 2), "InsufficientLiquidityError", "total_qty")
case("split_negative_quantity", "router", lambda r: r.split("BUY", -1, 2), "ValidationError", "total_qty")
case("split_negative_max_venues", "router", lambda r: r.split("BUY", 5, -1), "ValidationError", "max_venues")
case("split_float_quantity", "router", lambda r: r.split("BUY", 1.5, 2), "ValidationError", "total_qty")
case("select_zero_quantity", "router", lambda r: r.select_venue("BUY", 0), "ValidationError", "quantity")
case("select_side_unknown", "router", lambda r: r.select_venue("X", 5), "ValidationError", "side")
case("select_limit_nan", "router", lambda r: r.select_venue("BUY", 5, NAN), "ValidationError", "limit_price")
case("select_limit_negative", "router", lambda r: r.select_venue("SELL", 5, -5.0), "ValidationError", "limit_price")
case("select_no_venue_holds_it", "router", lambda r: r.select_venue("BUY", 100), "NoEligibleVenueError", "quantity")
case("select_all_disabled", "router_disabled", lambda r: r.select_venue("BUY", 1), "NoEligibleVenueError", "quantity")
case("split_all_disabled", "router_disabled", lambda r: r.split("BUY", 1, 2), "NoEligibleVenueError", "total_qty")

# ---------------------------------------------------------------- Router: book updates (the old book must stay)
case("set_book_unknown_venue", "router", lambda r: r.set_book("Z", [(1.0, 1)], [(2.0, 1)]), "UnknownVenueError", "venue")
case("set_book_crossed", "router", lambda r: r.set_book("A", [(101.0, 1)], [(100.0, 1)]), "ValidationError", "bids[0].price")
case("set_book_locked", "router", lambda r: r.set_book("A", [(100.0, 1)], [(100.0, 1)]), "ValidationError", "bids[0].price")
case("set_book_bids_ascending", "router", lambda r: r.set_book("A", [(98.0, 1), (99.0, 1)], [(100.0, 1)]), "ValidationError", "bids[1].price")
case("set_book_asks_descending", "router", lambda r: r.set_book("A", [(98.0, 1)], [(101.0, 1), (100.0, 1)]), "ValidationError", "asks[1].price")
case("set_book_duplicate_level", "router", lambda r: r.set_book("A", [(98.0, 1), (98.0, 2)], [(100.0, 1)]), "ValidationError", "bids[1].price")
case("set_book_nan_bid", "router", lambda r: r.set_book("A", [(NAN, 1)], [(100.0, 1)]), "ValidationError", "bids[0].price")
case("set_book_nan_deep_ask", "router", lambda r: r.set_book("A", [(98.0, 1)], [(100.0, 1), (NAN, 1)]), "ValidationError", "asks[1].price")
case("set_book_inf_ask", "router", lambda r: r.set_book("A", [(98.0, 1)], [(INF, 1)]), "ValidationError", "asks[0].price")
case("set_book_negative_price", "router", lambda r: r.set_book("A", [(-1.0, 1)], [(100.0, 1)]), "ValidationError", "bids[0].price")
case("set_book_zero_price", "router", lambda r: r.set_book("A", [(0.0, 1)], [(100.0, 1)]), "ValidationError", "bids[0].price")
case("set_book_zero_size", "router", lambda r: r.set_book("A", [(98.0, 0)], [(100.0, 1)]), "ValidationError", "bids[0].size")
case("set_book_zero_size_ask", "router", lambda r: r.set_book("A", [(98.0, 1)], [(100.0, 2), (101.0, 0)]), "ValidationError", "asks[1].size")
case("set_book_negative_size", "router", lambda r: r.set_book("A", [(98.0, -1)], [(100.0, 1)]), "ValidationError", "bids[0].size")
case("set_book_level_not_a_pair", "router", lambda r: r.set_book("A", [(98.0,)], [(100.0, 1)]), "ValidationError", "bids[0]")
case("update_level_unknown_venue", "router", lambda r: r.update_level("Z", True, 1.0, 1), "UnknownVenueError", "venue")
case("update_level_nan_price", "router", lambda r: r.update_level("A", True, NAN, 1), "ValidationError", "price")
case("update_level_crosses", "router", lambda r: r.update_level("A", True, 200.0, 1), "ValidationError", "price")
case("update_level_ask_crosses", "router", lambda r: r.update_level("A", False, 50.0, 1), "ValidationError", "price")
case("update_level_negative_price", "router", lambda r: r.update_level("B", False, -3.0, 1), "ValidationError", "price")
case("clear_book_unknown_venue", "router", lambda r: r.clear_book("Z"), "UnknownVenueError", "venue")
case("book_unknown_venue", "router", lambda r: r.book("Z"), "UnknownVenueError", "venue")
case("set_lot_zero", "router", lambda r: r.set_lot("A", 0, 0), "ValidationError", "lot_size")
case("set_lot_unknown_venue", "router", lambda r: r.set_lot("Z", 1, 0), "UnknownVenueError", "venue")
case("set_enabled_unknown_venue", "router", lambda r: r.set_enabled("Z", True), "UnknownVenueError", "venue")
case("venue_index_unknown", "router", lambda r: r.venue_index("Z"), "UnknownVenueError", "venue")
case("venue_stats_unknown", "router", lambda r: r.venue_stats("Z"), "UnknownVenueError", "venue")

# ---------------------------------------------------------------- Router: learning (VenueStats must not move)
case("record_ack_unknown_venue", "router", lambda r: r.record_ack("Z", 1.0), "UnknownVenueError", "venue")
case("record_ack_nan", "router", lambda r: r.record_ack("A", NAN), "ValidationError", "latency_ms")
case("record_ack_negative", "router", lambda r: r.record_ack("A", -1.0), "ValidationError", "latency_ms")
case("record_ack_inf", "router", lambda r: r.record_ack("A", INF), "ValidationError", "latency_ms")
case("record_reject_unknown_venue", "router", lambda r: r.record_reject("Z"), "UnknownVenueError", "venue")
case("record_fill_unknown_venue", "router", lambda r: r.record_fill("Z", "BUY", 1.0, 1.0), "UnknownVenueError", "venue")
case("record_fill_bad_side", "router", lambda r: r.record_fill("A", "X", 1.0, 1.0), "ValidationError", "side")
case("record_fill_side_zero", "router", lambda r: r.record_fill("A", 0, 1.0, 1.0), "ValidationError", "side")
case("record_fill_expected_nan", "router", lambda r: r.record_fill("A", "BUY", NAN, 1.0), "ValidationError", "expected_price")
case("record_fill_expected_zero", "router", lambda r: r.record_fill("A", "BUY", 0.0, 1.0), "ValidationError", "expected_price")
case("record_fill_expected_negative", "router", lambda r: r.record_fill("A", "SELL", -1.0, 1.0), "ValidationError", "expected_price")
case("record_fill_fill_nan", "router", lambda r: r.record_fill("A", "BUY", 1.0, NAN), "ValidationError", "fill_price")
case("record_fill_fill_inf", "router", lambda r: r.record_fill("A", "BUY", 1.0, INF), "ValidationError", "fill_price")
case("record_done_filled_above_ordered", "router", lambda r: r.record_order_done("A", 5, 3), "ValidationError", "filled")
case("record_done_ordered_zero", "router", lambda r: r.record_order_done("A", 0, 0), "ValidationError", "ordered")
case("record_done_unknown_venue", "router", lambda r: r.record_order_done("Z", 1, 1), "UnknownVenueError", "venue")

# ---------------------------------------------------------------- Router: batch calls
case("route_batch_quantities_short", "router", lambda r: r.route_batch(i8(1, 1), u64(1), f64(NAN, NAN), 2), "ValidationError", "quantities")
case("route_batch_limits_long", "router", lambda r: r.route_batch(i8(1), u64(1), f64(NAN, NAN), 2), "ValidationError", "limit_prices")
case("route_batch_side_three", "router", lambda r: r.route_batch(i8(1, 3), u64(1, 1), f64(NAN, NAN), 2), "ValidationError", "sides[1]")
case("route_batch_side_zero", "router", lambda r: r.route_batch(i8(0), u64(1), f64(NAN), 2), "ValidationError", "sides[0]")
case("route_batch_side_negative", "router", lambda r: r.route_batch(i8(1, 1, -1), u64(1, 1, 1), f64(NAN, NAN, NAN), 2), "ValidationError", "sides[2]")
case("route_batch_zero_quantity", "router", lambda r: r.route_batch(i8(1, 2), u64(1, 0), f64(NAN, NAN), 2), "ValidationError", "quantities[1]")
case("route_batch_max_venues_zero", "router", lambda r: r.route_batch(i8(1), u64(1), f64(NAN), 0), "ValidationError", "max_venues")
case("route_batch_negative_limit", "router", lambda r: r.route_batch(i8(1), u64(1), f64(-1.0), 2), "ValidationError", "limit_prices[0]")
case("route_batch_inf_limit", "router", lambda r: r.route_batch(i8(2, 1), u64(1, 1), f64(NAN, INF), 2), "ValidationError", "limit_prices[1]")
case("route_batch_zero_limit", "router", lambda r: r.route_batch(i8(1), u64(1), f64(0.0), 2), "ValidationError", "limit_prices[0]")
case("route_batch_wrong_dtype", "router", lambda r: r.route_batch(np.array([1], dtype=np.int64), u64(1), f64(NAN), 2), "ValidationError", "sides")
case("select_batch_quantities_short", "router", lambda r: r.select_batch(i8(1, 1), u64(1), f64(NAN)), "ValidationError", "quantities")
case("select_batch_limits_short", "router", lambda r: r.select_batch(i8(1, 1), u64(1, 1), f64(NAN)), "ValidationError", "limit_prices")
case("select_batch_side_five", "router", lambda r: r.select_batch(i8(5), u64(1), f64(NAN)), "ValidationError", "sides[0]")
case("select_batch_zero_quantity", "router", lambda r: r.select_batch(i8(1), u64(0), f64(NAN)), "ValidationError", "quantities[0]")
case("select_batch_negative_limit", "router", lambda r: r.select_batch(i8(1), u64(1), f64(-1.0)), "ValidationError", "limit_prices[0]")
case("select_batch_neg_inf_limit", "router", lambda r: r.select_batch(i8(1, 1), u64(1, 1), f64(NAN, -INF)), "ValidationError", "limit_prices[1]")

# ---------------------------------------------------------------- PositionBook (positions must not change)
case("pb_add_venue_duplicate", "position_book", lambda b: b.add_venue("N", "NETTING"), "ValidationError", "name")
case("pb_add_venue_bad_oms", "position_book", lambda b: b.add_venue("X", "FOO"), "ValidationError", "oms_type")
case("pb_add_venue_oms_zero", "position_book", lambda b: b.add_venue("X", 0), "ValidationError", "oms_type")
case("pb_add_venue_oms_none", "position_book", lambda b: b.add_venue("X", None), "ValidationError", "oms_type")
case("pb_add_venue_empty_name", "position_book", lambda b: b.add_venue("", "NETTING"), "ValidationError", "name")
case("pb_add_instrument_duplicate", "position_book", lambda b: b.add_instrument("BTC.N", "BTC", 3), "ValidationError", "name")
case("pb_add_instrument_empty_name", "position_book", lambda b: b.add_instrument("", "BTC"), "ValidationError", "name")
case("pb_add_instrument_empty_underlying", "position_book", lambda b: b.add_instrument("X", ""), "ValidationError", "underlying")
case("pb_add_instrument_multiplier_zero", "position_book", lambda b: b.add_instrument("X", "BTC", 0, 0.0), "ValidationError", "multiplier")
case("pb_add_instrument_multiplier_nan", "position_book", lambda b: b.add_instrument("X", "BTC", 0, NAN), "ValidationError", "multiplier")
case("pb_add_instrument_multiplier_negative", "position_book", lambda b: b.add_instrument("X", "BTC", 0, -1.0), "ValidationError", "multiplier")
case("pb_add_instrument_currency_precision_20", "position_book", lambda b: b.add_instrument("X", "BTC", 0, 1.0, 20), "ValidationError", "currency_precision")
case("pb_add_instrument_negative_precision", "position_book", lambda b: b.add_instrument("X", "BTC", -1), "ValidationError", "size_precision")
case("pb_fill_unknown_venue", "position_book", lambda b: b.apply_fill("Z", "BTC.N", "BUY", 1, 1.0), "UnknownVenueError", "venue")
case("pb_fill_unknown_venue_id", "position_book", lambda b: b.apply_fill(99, "BTC.N", "BUY", 1, 1.0), "UnknownVenueError", "venue")
case("pb_fill_unknown_instrument", "position_book", lambda b: b.apply_fill("N", "Z", "BUY", 1, 1.0), "ValidationError", "instrument")
case("pb_fill_unknown_instrument_id", "position_book", lambda b: b.apply_fill("N", 99, "BUY", 1, 1.0), "ValidationError", "instrument")
case("pb_fill_bad_side", "position_book", lambda b: b.apply_fill("N", "BTC.N", "X", 1, 1.0), "ValidationError", "side")
case("pb_fill_side_zero", "position_book", lambda b: b.apply_fill("N", "BTC.N", 0, 1, 1.0), "ValidationError", "side")
case("pb_fill_zero_quantity", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 0, 1.0), "ValidationError", "quantity")
case("pb_fill_negative_quantity", "position_book", lambda b: b.apply_fill("N", "BTC.N", "SELL", -1, 1.0), "ValidationError", "quantity")
case("pb_fill_price_nan", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1, NAN), "ValidationError", "price")
case("pb_fill_price_inf", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1, INF), "ValidationError", "price")
case("pb_fill_price_negative", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1, -1.0), "ValidationError", "price")
case("pb_fill_price_zero", "position_book", lambda b: b.apply_fill("H", "BTC.H", "BUY", 1, 0.0), "ValidationError", "price")
case("pb_fill_price_huge", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1000, 1e308), "ValidationError", "price")
case("pb_fill_commission_nan", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1, 1.0, NAN), "ValidationError", "commission")
case("pb_fill_commission_inf", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1, 1.0, INF), "ValidationError", "commission")
case("pb_fill_unknown_hedging_position", "position_book", lambda b: b.apply_fill("H", "BTC.H", "BUY", 1, 1.0, 0.0, 999), "ValidationError", "position_id")
case("pb_fill_position_id_on_netting", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1, 1.0, 0.0, 999), "ValidationError", "position_id")
case("pb_fill_position_of_other_venue", "position_book", lambda b: b.apply_fill("H", "BTC.H", "BUY", 1, 1.0, 0.0, b.netting_position_id("N", "BTC.N")), "ValidationError", "position_id")
case("pb_fill_quantity_beyond_u64", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 2**64 - 1, 1.0), "ValidationError", "quantity")
case("pb_position_unknown", "position_book", lambda b: b.position(999), "ValidationError", "position_id")
case("pb_open_ids_unknown_venue", "position_book", lambda b: b.open_position_ids("Z", "BTC.N"), "UnknownVenueError", "venue")
case("pb_net_units_unknown_instrument", "position_book", lambda b: b.net_units("N", "Z"), "ValidationError", "instrument")
case("pb_unrealized_mark_nan", "position_book", lambda b: b.unrealized_pnl("N", "BTC.N", NAN), "ValidationError", "mark_price")
case("pb_unrealized_mark_negative", "position_book", lambda b: b.unrealized_pnl("N", "BTC.N", -1.0), "ValidationError", "mark_price")
case("pb_position_unrealized_nan", "position_book", lambda b: b.position(0).unrealized_pnl(NAN), "ValidationError", "mark_price")
case("pb_position_total_pnl_string", "position_book", lambda b: b.position(0).total_pnl("100"), "ValidationError", "mark_price")
case("pb_exposure_unknown_underlying", "position_book", lambda b: b.exposure("ETH"), "ValidationError", "underlying")
case("pb_net_exposure_unknown_underlying", "position_book", lambda b: b.net_exposure("ETH"), "ValidationError", "underlying")
case("pb_venue_id_unknown", "position_book", lambda b: b.venue_id("Z"), "UnknownVenueError", "venue")
case("pb_instrument_id_unknown", "position_book", lambda b: b.instrument_id("Z"), "ValidationError", "instrument")
# apply_fills: validated first, all or nothing (row 0 is always good)
def fills(b, venue=(0, 0), instrument=(0, 0), side=(1, 1), qty=(1, 1), price=(100.0, 100.0), commission=None, position=None):
    return b.apply_fills(i64(*venue), i64(*instrument), i8(*side), u64(*qty), f64(*price),
                         None if commission is None else f64(*commission), None if position is None else i64(*position))
case("pb_fills_instruments_short", "position_book", lambda b: fills(b, instrument=(0,)), "ValidationError", "instrument_ids")
case("pb_fills_sides_short", "position_book", lambda b: fills(b, side=(1,)), "ValidationError", "sides")
case("pb_fills_quantities_long", "position_book", lambda b: fills(b, qty=(1, 1, 1)), "ValidationError", "quantities")
case("pb_fills_prices_long", "position_book", lambda b: fills(b, price=(1.0, 2.0, 3.0)), "ValidationError", "prices")
case("pb_fills_commissions_long", "position_book", lambda b: fills(b, commission=(0.0, 0.0, 0.0)), "ValidationError", "commissions")
case("pb_fills_position_ids_short", "position_book", lambda b: fills(b, position=(-1,)), "ValidationError", "position_ids")
case("pb_fills_unknown_venue", "position_book", lambda b: fills(b, venue=(0, 7)), "UnknownVenueError", "venue_ids[1]")
case("pb_fills_negative_venue", "position_book", lambda b: fills(b, venue=(0, -1)), "UnknownVenueError", "venue_ids[1]")
case("pb_fills_unknown_instrument", "position_book", lambda b: fills(b, instrument=(0, 9)), "ValidationError", "instrument_ids[1]")
case("pb_fills_bad_side", "position_book", lambda b: fills(b, side=(1, 3)), "ValidationError", "sides[1]")
case("pb_fills_zero_quantity", "position_book", lambda b: fills(b, qty=(1, 0)), "ValidationError", "quantities[1]")
case("pb_fills_quantity_above_2_pow_53", "position_book", lambda b: fills(b, qty=(1, 2**60)), "ValidationError", "quantities[1]")
case("pb_fills_price_nan", "position_book", lambda b: fills(b, price=(100.0, NAN)), "ValidationError", "prices[1]")
case("pb_fills_price_negative", "position_book", lambda b: fills(b, price=(100.0, -2.0)), "ValidationError", "prices[1]")
case("pb_fills_commission_inf", "position_book", lambda b: fills(b, commission=(0.0, INF)), "ValidationError", "commissions[1]")
case("pb_fills_unknown_hedging_position", "position_book", lambda b: fills(b, venue=(1, 1), instrument=(1, 1), position=(-1, 999)), "ValidationError", "position_ids[1]")
case("pb_fills_wrong_dtype", "position_book", lambda b: b.apply_fills(np.array([0], dtype=np.int32), i64(0), i8(1), u64(1), f64(1.0)), "ValidationError", "venue_ids")

# ---------------------------------------------------------------- schedules (stateless)
case("twap_zero_quantity", None, lambda _: twap_schedule(0, 60, 10), "ValidationError", "quantity")
case("twap_negative_quantity", None, lambda _: twap_schedule(-1, 60, 10), "ValidationError", "quantity")
case("twap_duration_zero", None, lambda _: twap_schedule(10, 0, 10), "ValidationError", "duration_seconds")
case("twap_duration_nan", None, lambda _: twap_schedule(10, NAN, 10), "ValidationError", "duration_seconds")
case("twap_duration_inf", None, lambda _: twap_schedule(10, INF, 10), "ValidationError", "duration_seconds")
case("twap_duration_negative", None, lambda _: twap_schedule(10, -60, 10), "ValidationError", "duration_seconds")
case("twap_duration_huge", None, lambda _: twap_schedule(10, 1e300, 1), "ValidationError", "duration_seconds")
case("twap_interval_zero", None, lambda _: twap_schedule(10, 60, 0), "ValidationError", "interval_seconds")
case("twap_interval_nan", None, lambda _: twap_schedule(10, 60, NAN), "ValidationError", "interval_seconds")
case("twap_interval_above_duration", None, lambda _: twap_schedule(10, 60, 120), "ValidationError", "interval_seconds")
case("twap_too_many_slices", None, lambda _: twap_schedule(10, 1e9, 1e-6), "ValidationError", "interval_seconds")
case("twap_lot_zero", None, lambda _: twap_schedule(10, 60, 10, lot_size=0), "ValidationError", "lot_size")
case("twap_quantity_not_whole_lots", None, lambda _: twap_schedule(10, 60, 10, lot_size=3), "ValidationError", "quantity")
case("twap_size_jitter_negative", None, lambda _: twap_schedule(10, 60, 10, size_jitter_pct=-0.1), "ValidationError", "size_jitter_pct")
case("twap_size_jitter_nan", None, lambda _: twap_schedule(10, 60, 10, size_jitter_pct=NAN), "ValidationError", "size_jitter_pct")
case("twap_time_jitter_two", None, lambda _: twap_schedule(10, 60, 10, time_jitter_pct=2.0), "ValidationError", "time_jitter_pct")
case("twap_time_jitter_nan", None, lambda _: twap_schedule(10, 60, 10, time_jitter_pct=NAN), "ValidationError", "time_jitter_pct")
case("twap_seed_negative", None, lambda _: twap_schedule(10, 60, 10, seed=-1), "ValidationError", "seed")
case("vwap_profile_empty", None, lambda _: vwap_schedule(10, {}, 3600, 60, start_hour=9), "ValidationError", "volume_profile")
case("vwap_profile_sums_to_zero", None, lambda _: vwap_schedule(10, {9: 0.0, 10: 0.0}, 3600, 60, start_hour=9), "ValidationError", "volume_profile")
case("vwap_profile_zero_in_window", None, lambda _: vwap_schedule(10, {3: 1.0}, 3600, 60, start_hour=9), "ValidationError", "volume_profile")
case("vwap_profile_hour_24", None, lambda _: vwap_schedule(10, {24: 1.0}, 3600, 60, start_hour=9), "ValidationError", "volume_profile")
case("vwap_profile_hour_string", None, lambda _: vwap_schedule(10, {"9": 1.0}, 3600, 60, start_hour=9), "ValidationError", "volume_profile")
case("vwap_profile_weight_negative", None, lambda _: vwap_schedule(10, {9: -1.0, 10: 2.0}, 3600, 60, start_hour=9), "ValidationError", "volume_profile[9]")
case("vwap_profile_weight_nan", None, lambda _: vwap_schedule(10, {9: NAN}, 3600, 60, start_hour=9), "ValidationError", "volume_profile[9]")
case("vwap_profile_weight_inf", None, lambda _: vwap_schedule(10, {9: INF}, 3600, 60, start_hour=9), "ValidationError", "volume_profile[9]")
case("vwap_profile_not_mapping", None, lambda _: vwap_schedule(10, [1.0], 3600, 60, start_hour=9), "ValidationError", "volume_profile")
case("vwap_start_hour_24", None, lambda _: vwap_schedule(10, {9: 1.0}, 3600, 60, start_hour=24.0), "ValidationError", "start_hour")
case("vwap_start_hour_nan", None, lambda _: vwap_schedule(10, {9: 1.0}, 3600, 60, start_hour=NAN), "ValidationError", "start_hour")
case("vwap_both_starts", None, lambda _: vwap_schedule(10, {9: 1.0}, 3600, 60, start_hour=9, start_time_ns=0), "ValidationError", "start_hour")
case("vwap_no_start", None, lambda _: vwap_schedule(10, {9: 1.0}, 3600, 60), "ValidationError", "start_time_ns")
case("vwap_zero_quantity", None, lambda _: vwap_schedule(0, {9: 1.0}, 3600, 60, start_hour=9), "ValidationError", "quantity")
case("vwap_duration_zero", None, lambda _: vwap_schedule(10, {9: 1.0}, 0, 60, start_hour=9), "ValidationError", "duration_seconds")
case("vwap_curve_empty", None, lambda _: vwap_curve_schedule(10, [], 60, 600, 60, start_time_ns=0), "ValidationError", "bucket_weights")
case("vwap_curve_sums_to_zero", None, lambda _: vwap_curve_schedule(10, [0.0, 0.0], 60, 600, 60, start_time_ns=0), "ValidationError", "bucket_weights")
case("vwap_curve_nan", None, lambda _: vwap_curve_schedule(10, [1.0, NAN], 60, 600, 60, start_time_ns=0), "ValidationError", "bucket_weights[1]")
case("vwap_curve_negative", None, lambda _: vwap_curve_schedule(10, np.array([1.0, -1.0]), 60, 600, 60, start_time_ns=0), "ValidationError", "bucket_weights[1]")
case("vwap_curve_bucket_zero", None, lambda _: vwap_curve_schedule(10, [1.0], 0, 600, 60, start_time_ns=0), "ValidationError", "bucket_seconds")
case("vwap_curve_start_negative", None, lambda _: vwap_curve_schedule(10, [1.0], 60, 600, 60, start_time_ns=-1), "ValidationError", "start_time_ns")
case("volume_curve_lengths_differ", None, lambda _: volume_curve_from_bars([1, 2], [1.0]), "ValidationError", "volumes")
case("volume_curve_bucket_zero", None, lambda _: volume_curve_from_bars([1], [1.0], 0.0), "ValidationError", "bucket_seconds")
case("volume_curve_volume_nan", None, lambda _: volume_curve_from_bars([1], [NAN]), "ValidationError", "volumes[0]")
case("volume_curve_volume_negative", None, lambda _: volume_curve_from_bars([1], [-1.0]), "ValidationError", "volumes[0]")
case("volume_curve_timestamp_negative", None, lambda _: volume_curve_from_bars([-1], [1.0]), "ValidationError", "timestamps_ns[0]")
case("volume_curve_empty", None, lambda _: volume_curve_from_bars([], []), "ValidationError", "volumes")
IS = {"risk_aversion": 1e-6, "volatility": 0.5, "temporary_impact": 1e-6}
case("is_risk_aversion_negative", None, lambda _: shortfall_schedule(10, 60, 10, **{**IS, "risk_aversion": -1.0}), "ValidationError", "risk_aversion")
case("is_risk_aversion_nan", None, lambda _: shortfall_schedule(10, 60, 10, **{**IS, "risk_aversion": NAN}), "ValidationError", "risk_aversion")
case("is_volatility_negative", None, lambda _: shortfall_schedule(10, 60, 10, **{**IS, "volatility": -0.5}), "ValidationError", "volatility")
case("is_temporary_impact_zero", None, lambda _: shortfall_schedule(10, 60, 10, **{**IS, "temporary_impact": 0.0}), "ValidationError", "temporary_impact")
case("is_temporary_impact_negative", None, lambda _: shortfall_schedule(10, 60, 10, **{**IS, "temporary_impact": -1.0}), "ValidationError", "temporary_impact")
case("is_permanent_impact_negative", None, lambda _: shortfall_schedule(10, 60, 10, **IS, permanent_impact=-1.0), "ValidationError", "permanent_impact")
case("is_permanent_impact_nan", None, lambda _: shortfall_schedule(10, 60, 10, **IS, permanent_impact=NAN), "ValidationError", "permanent_impact")
case("is_permanent_impact_too_large", None, lambda _: shortfall_schedule(10, 60, 10, **IS, permanent_impact=1.0), "ValidationError", "permanent_impact")
case("is_zero_quantity", None, lambda _: shortfall_schedule(0, 60, 10, **IS), "ValidationError", "quantity")
case("is_interval_zero", None, lambda _: shortfall_schedule(10, 60, 0, **IS), "ValidationError", "interval_seconds")
case("is_kappa_risk_aversion_negative", None, lambda _: shortfall_kappa(60, 10, **{**IS, "risk_aversion": -1.0}), "ValidationError", "risk_aversion")
case("is_kappa_temporary_impact_zero", None, lambda _: shortfall_kappa(60, 10, **{**IS, "temporary_impact": 0.0}), "ValidationError", "temporary_impact")
case("pov_zero_quantity", None, lambda _: PovTracker(0, 0.1), "ValidationError", "quantity")
case("pov_negative_quantity", None, lambda _: PovTracker(-1, 0.1), "ValidationError", "quantity")
case("pov_rate_zero", None, lambda _: PovTracker(10, 0.0), "ValidationError", "participation_rate")
case("pov_rate_above_one", None, lambda _: PovTracker(10, 1.5), "ValidationError", "participation_rate")
case("pov_rate_nan", None, lambda _: PovTracker(10, NAN), "ValidationError", "participation_rate")
case("pov_max_below_min", None, lambda _: PovTracker(10, 0.1, 5, 2), "ValidationError", "max_child")
case("pov_max_zero", None, lambda _: PovTracker(10, 0.1, 0, 0), "ValidationError", "max_child")
case("pov_lot_zero", None, lambda _: PovTracker(10, 0.1, lot_size=0), "ValidationError", "lot_size")
case("pov_negative_market_volume", "pov", lambda p: p.on_market_volume(-1), "ValidationError", "volume")
case("iceberg_zero_quantity", None, lambda _: Iceberg(0, 0.1), "ValidationError", "quantity")
case("iceberg_visible_zero", None, lambda _: Iceberg(10, 0.0), "ValidationError", "visible_pct")
case("iceberg_visible_above_one", None, lambda _: Iceberg(10, 1.5), "ValidationError", "visible_pct")
case("iceberg_visible_nan", None, lambda _: Iceberg(10, NAN), "ValidationError", "visible_pct")
case("iceberg_jitter_negative", None, lambda _: Iceberg(10, 0.5, display_jitter_pct=-0.1), "ValidationError", "display_jitter_pct")
case("iceberg_jitter_one", None, lambda _: Iceberg(10, 0.5, display_jitter_pct=1.0), "ValidationError", "display_jitter_pct")
case("iceberg_lot_zero", None, lambda _: Iceberg(10, 0.5, lot_size=0), "ValidationError", "lot_size")
case("iceberg_quantity_not_whole_lots", None, lambda _: Iceberg(10, 0.5, lot_size=20), "ValidationError", "quantity")
case("iceberg_fill_above_working", "iceberg", lambda i: i.on_fill(i.working + 1), "ValidationError", "fill_qty")
case("iceberg_fill_zero", "iceberg", lambda i: i.on_fill(0), "ValidationError", "fill_qty")
case("iceberg_fill_negative", "iceberg", lambda i: i.on_fill(-1), "ValidationError", "fill_qty")
case("iceberg_fill_before_any_chunk", "iceberg_fresh", lambda i: i.on_fill(1), "ValidationError", "fill_qty")

# ---------------------------------------------------------------- SmartOrderRouter (Nautilus types)
BTC = InstrumentId.from_str("BTCUSDT.BINANCE")
Q1 = Quantity.from_str("1.000")
case("sor_instrument_id_string", "smart_router", lambda s: s.select_venue("BTCUSDT.BINANCE", OrderSide.BUY, Q1), "ValidationError", "instrument_id")
case("sor_instrument_id_none", "smart_router", lambda s: s.route_order(None, OrderSide.BUY, Q1), "ValidationError", "instrument_id")
case("sor_quantity_float", "smart_router", lambda s: s.select_venue(BTC, OrderSide.BUY, 1.0), "ValidationError", "quantity")
case("sor_quantity_decimal_string", "smart_router", lambda s: s.route_order(BTC, OrderSide.BUY, "1.0"), "ValidationError", "total_quantity")
case("sor_quantity_zero", "smart_router", lambda s: s.select_venue(BTC, OrderSide.BUY, Quantity.from_str("0.000")), "ValidationError", "quantity")
case("sor_total_quantity_zero", "smart_router", lambda s: s.route_order(BTC, OrderSide.SELL, Quantity.from_int(0)), "ValidationError", "total_quantity")
case("sor_quantity_precision_10", "smart_router", lambda s: s.select_venue(BTC, OrderSide.BUY, Quantity.from_str("1.0000000001")), "ValidationError", "quantity")
case("sor_total_quantity_precision_12", "smart_router", lambda s: s.route_order(BTC, OrderSide.BUY, Quantity.from_str("0.000000000001")), "ValidationError", "total_quantity")
case("sor_side_string", "smart_router", lambda s: s.select_venue(BTC, "BUY", Q1), "ValidationError", "side")
case("sor_side_no_order_side", "smart_router", lambda s: s.route_order(BTC, OrderSide.NO_ORDER_SIDE, Q1), "ValidationError", "side")
case("sor_side_int", "smart_router", lambda s: s.route_order(BTC, 3, Q1), "ValidationError", "side")
case("sor_price_float", "smart_router", lambda s: s.select_venue(BTC, OrderSide.BUY, Q1, price=50_000.0), "ValidationError", "price")
case("sor_price_nan", "smart_router", lambda s: s.route_order(BTC, OrderSide.BUY, Q1, price=NAN), "ValidationError", "price")
case("sor_price_string", "smart_router", lambda s: s.route_order(BTC, OrderSide.BUY, Q1, price="50000"), "ValidationError", "price")
case("sor_price_negative", "smart_router", lambda s: s.select_venue(BTC, OrderSide.BUY, Q1, price=Price.from_str("-1.0")), "ValidationError", "price")
case("sor_price_zero", "smart_router", lambda s: s.route_order(BTC, OrderSide.SELL, Q1, price=Price.from_str("0.0")), "ValidationError", "price")
case("sor_max_venues_zero", "smart_router", lambda s: s.route_order(BTC, OrderSide.BUY, Q1, max_venues=0), "ValidationError", "max_venues")
case("sor_max_venues_negative", "smart_router", lambda s: s.route_order(BTC, OrderSide.BUY, Q1, max_venues=-3), "ValidationError", "max_venues")
case("sor_max_venues_bool", "smart_router", lambda s: s.route_order(BTC, OrderSide.BUY, Q1, max_venues=True), "ValidationError", "max_venues")
case("sor_max_venues_float", "smart_router", lambda s: s.route_order(BTC, OrderSide.BUY, Q1, max_venues=2.0), "ValidationError", "max_venues")
case("sor_unknown_venue_config", "smart_router", lambda s: s.venue_config("NOPE"), "UnknownVenueError", "venue")
case("sor_unknown_venue_enable", "smart_router", lambda s: s.set_venue_enabled("NOPE", False), "UnknownVenueError", "venue")
case("sor_unknown_venue_instrument", "smart_router", lambda s: s.venue_instrument_id(BTC, "NOPE"), "UnknownVenueError", "venue")
case("sor_no_venue_enabled", "smart_router_disabled", lambda s: s.select_venue(BTC, OrderSide.BUY, Q1), "NoEligibleVenueError", "quantity")
case("sor_construct_empty", None, lambda _: _smart_router([]), "ConfigError", "venues")
case("sor_construct_not_list", None, lambda _: _smart_router({"name": "A"}), "ConfigError", "venues")
case("sor_construct_duplicate", None, lambda _: _smart_router([{"name": "A", "maker_fee": 0, "taker_fee": 0}] * 2), "ConfigError", "venues[1].name")
case("sor_construct_negative_fee", None, lambda _: _smart_router([{"name": "A", "maker_fee": 0, "taker_fee": -1e-4}]), "ConfigError", "venues[0].taker_fee")
case("sor_construct_missing_fee", None, lambda _: _smart_router([{"name": "A", "maker_fee": 0}]), "ConfigError", "venues[0].taker_fee")
case("sor_construct_bad_oms", None, lambda _: _smart_router([{"name": "A", "maker_fee": 0, "taker_fee": 0, "oms_type": "FIFO"}]), "ConfigError", "venues[0].oms_type")
case("sor_construct_alpha_zero", None, lambda _: _smart_router([{"name": "A", "maker_fee": 0, "taker_fee": 0}], ewma_alpha=0.0), "ValidationError", "ewma_alpha")
case("sor_venue_lot_size_negative", None,
     lambda _: __import__("nautilus_sor.smart_router", fromlist=["SmartOrderRouter"]).SmartOrderRouter(
         [{"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004, "lot_size": -1}]),
     "ConfigError", "venues[0].lot_size")

# ---------------------------------------------------------------- order patterns (MarketDataError)
case("passive_buy_without_market_data", None, lambda _: _passive("BUY").execute(BTC, Q1), "MarketDataError", "instrument_id")
case("passive_sell_without_market_data", None, lambda _: _passive("SELL").execute(BTC, Q1), "MarketDataError", "instrument_id")
case("aggressive_instrument_id_string", None, lambda _: _aggressive().execute("BTCUSDT.BINANCE", Q1), "ValidationError", "instrument_id")
case("aggressive_quantity_zero", None, lambda _: _aggressive().execute(BTC, Quantity.from_int(0)), "ValidationError", "quantity")


def _smart_router(venues: Any, **kw: Any) -> Any:
    from nautilus_sor.smart_router import SmartOrderRouter

    return SmartOrderRouter(venues, **kw)


class _EmptyCache:
    """A cache with no books, quotes or instruments."""

    def order_book(self, instrument_id: Any) -> None:
        return None

    def quote_tick(self, instrument_id: Any) -> None:
        return None

    def instrument(self, instrument_id: Any) -> None:
        return None


def _passive(side: str) -> Any:
    from nautilus_sor.execution_algorithms import PassiveBuyPattern, PassiveSellPattern

    return (PassiveBuyPattern if side == "BUY" else PassiveSellPattern)(None, _EmptyCache())


def _aggressive() -> Any:
    from nautilus_sor.execution_algorithms import AggressiveBuyPattern

    return AggressiveBuyPattern(None)


# ================================================================ round 2 (issue 19): an adversarial pass
# Poisoned learning: inputs that made a statistic inf/NaN are refused at the door (limits.rs).
case("r2_fill_poisons_slippage", "router", lambda r: r.record_fill("A", "BUY", 1e-300, 1e300), "ValidationError", "expected_price")
case("r2_fill_units_mixed_up", "router", lambda r: r.record_fill("A", "BUY", 100.0, 1e9), "ValidationError", "fill_price")
case("r2_fill_sell_at_huge", "router", lambda r: r.record_fill("A", "SELL", 100.0, 1e300), "ValidationError", "fill_price")
case("r2_ack_latency_huge", "router", lambda r: r.record_ack("A", 1e200), "ValidationError", "latency_ms")
case("r2_ack_latency_over_an_hour", "router", lambda r: r.record_ack("A", 3_600_001.0), "ValidationError", "latency_ms")
case("r2_book_prices_near_max", "router", lambda r: r.set_book("A", [(1.6e308, 1)], [(1.7e308, 1)]), "ValidationError", "bids[0].price")
case("r2_book_price_subnormal", "router", lambda r: r.set_book("A", [(5e-324, 1)], [(1.0, 1)]), "ValidationError", "bids[0].price")
case("r2_update_level_price_huge", "router", lambda r: r.update_level("A", False, 1e300, 1), "ValidationError", "price")
case("r2_router_volatility_huge", None, lambda _: Router([VenueSpec("A", 0.0, 0.0)], volatility=1e308), "ValidationError", "volatility")
case("r2_router_latency_weight_huge", None, lambda _: Router([VenueSpec("A", 0.0, 0.0)], latency_risk_weight=1e300), "ValidationError", "latency_risk_weight")
case("r2_router_miss_cost_huge", None, lambda _: Router([VenueSpec("A", 0.0, 0.0)], miss_cost_bps=1e300), "ValidationError", "miss_cost_bps")
case("r2_router_slippage_weight_huge", None, lambda _: Router([VenueSpec("A", 0.0, 0.0)], slippage_weight=1e300), "ValidationError", "slippage_weight")
case("r2_venue_latency_huge", None, lambda _: VenueSpec("A", 0.0, 0.0, 1e300), "ValidationError", "latency_ms")
case("r2_select_limit_huge", "router", lambda r: r.select_venue("BUY", 1, 1e300), "ValidationError", "limit_price")
case("r2_split_limit_huge", "router", lambda r: r.split("BUY", 1, 1, 1e300), "ValidationError", "limit_price")
case("r2_batch_limit_huge", "router", lambda r: r.route_batch(i8(1), u64(1), f64(1e300), 1), "ValidationError", "limit_prices[0]")
case("r2_restore_slippage_beyond_learnable", "router", lambda r: r.restore_venue_stats(
    "A", fill_rate=1.0, reject_rate=0.0, latency_mean_ms=1.0, latency_var_ms2=0.0, slippage_bps=1e6, orders=0, fills=0, rejects=0, acks=0),
    "ValidationError", "slippage_bps")
case("r2_restore_latency_beyond_learnable", "router", lambda r: r.restore_venue_stats(
    "A", fill_rate=1.0, reject_rate=0.0, latency_mean_ms=1e300, latency_var_ms2=0.0, slippage_bps=0.0, orders=0, fills=0, rejects=0, acks=0),
    "ValidationError", "latency_mean_ms")

# A refused call on a venue without a book must not leave an (empty) book behind.
case("r2_update_level_nan_no_book", "router_no_books", lambda r: r.update_level("A", True, NAN, 1), "ValidationError", "price")
case("r2_update_level_zero_price_no_book", "router_no_books", lambda r: r.update_level("A", False, 0.0, 0), "ValidationError", "price")
case("r2_update_level_negative_size_no_book", "router_no_books", lambda r: r.update_level("A", True, 100.0, -1), "ValidationError", "size")

# Types: a bool is not a number, a side, an id or an OMS type; a string is not a flag.
case("r2_side_true", "router", lambda r: r.select_venue(True, 1), "ValidationError", "side")
case("r2_split_side_false", "router", lambda r: r.split(False, 1, 1), "ValidationError", "side")
case("r2_fill_side_true", "router", lambda r: r.record_fill("A", True, 100.0, 100.0), "ValidationError", "side")
case("r2_limit_true", "router", lambda r: r.select_venue("BUY", 1, True), "ValidationError", "limit_price")
case("r2_limit_string", "router", lambda r: r.split_units("BUY", 1, 1, "100"), "ValidationError", "limit_price")
case("r2_maker_fee_false", None, lambda _: VenueSpec("A", False, 0.0), "ValidationError", "maker_fee")
case("r2_taker_fee_string", None, lambda _: VenueSpec("A", 0.0, "0.0004"), "ValidationError", "taker_fee")
case("r2_maker_fee_huge_int", None, lambda _: VenueSpec("A", 10**400, 0.0), "ValidationError", "maker_fee")
case("r2_lot_size_true", None, lambda _: VenueSpec("A", 0.0, 0.0, lot_size=True), "ValidationError", "lot_size")
case("r2_min_qty_float", None, lambda _: VenueSpec("A", 0.0, 0.0, min_qty=1.5), "ValidationError", "min_qty")
case("r2_enabled_string", None, lambda _: VenueSpec("A", 0.0, 0.0, enabled="false"), "ValidationError", "enabled")
case("r2_name_zero_width_space", None, lambda _: VenueSpec("A\u200b", 0.0, 0.0), "ValidationError", "name")
case("r2_name_nul", None, lambda _: VenueSpec("\x00", 0.0, 0.0), "ValidationError", "name")
case("r2_name_lone_surrogate", None, lambda _: VenueSpec("\ud800", 0.0, 0.0), "ValidationError", "name")
case("r2_router_volatility_true", None, lambda _: Router([VenueSpec("A", 0.0, 0.0)], volatility=True), "ValidationError", "volatility")
case("r2_router_venues_string", None, lambda _: Router("AB"), "ValidationError", "venues")
case("r2_set_enabled_string", "router", lambda r: r.set_enabled("A", "false"), "ValidationError", "enabled")
case("r2_set_enabled_int", "router", lambda r: r.set_enabled("B", 0), "ValidationError", "enabled")
case("r2_update_level_is_bid_int", "router", lambda r: r.update_level("A", 1, 98.0, 1), "ValidationError", "is_bid")
case("r2_venue_int", "router", lambda r: r.record_ack(1, 1.0), "ValidationError", "venue")
case("r2_venue_lone_surrogate", "router", lambda r: r.record_reject("\ud800"), "ValidationError", "venue")
case("r2_venue_list", "router", lambda r: r.clear_book(["A"]), "ValidationError", "venue")
case("r2_ack_latency_string", "router", lambda r: r.record_ack("A", "12"), "ValidationError", "latency_ms")
case("r2_ack_latency_true", "router", lambda r: r.record_ack("A", True), "ValidationError", "latency_ms")
case("r2_order_done_float", "router", lambda r: r.record_order_done("A", 1.0, 2), "ValidationError", "filled")
case("r2_order_done_overflow", "router", lambda r: r.record_order_done("A", 1, 2**70), "ValidationError", "ordered")
case("r2_set_lot_true", "router", lambda r: r.set_lot("A", True, 0), "ValidationError", "lot_size")
case("r2_split_units_max_venues_overflow", "router", lambda r: r.split_units("BUY", 1, 2**64), "ValidationError", "max_venues")
case("r2_record_trade_aggressor_true", "router", lambda r: r.record_trade("A", True, 1, 1), "ValidationError", "aggressor")
case("r2_record_trade_size_negative", "router", lambda r: r.record_trade("A", "BUY", -1, 1), "ValidationError", "size")
case("r2_record_trade_ts_float", "router", lambda r: r.record_trade("A", "BUY", 1, 1.5), "ValidationError", "ts_ns")
case("r2_tape_rate_now_float", "router", lambda r: r.tape_rate("A", "BUY", 1.5), "ValidationError", "now_ns")
case("r2_tape_rate_venue_unknown", "router", lambda r: r.tape_rate("Z", "BUY", 1), "UnknownVenueError", "venue")
case("r2_select_passive_horizon_string", "router", lambda r: r.select_passive("BUY", 1, "5", 0), "ValidationError", "horizon_s")
case("r2_select_passive_horizon_nan", "router", lambda r: r.select_passive("BUY", 1, NAN, 0), "ValidationError", "horizon_s")
case("r2_select_passive_quantity_true", "router", lambda r: r.select_passive("BUY", True, 5.0, 0), "ValidationError", "quantity")
case("r2_restore_fill_rate_true", "router", lambda r: r.restore_venue_stats(
    "A", fill_rate=True, reject_rate=0.0, latency_mean_ms=1.0, latency_var_ms2=0.0, slippage_bps=0.0, orders=0, fills=0, rejects=0, acks=0),
    "ValidationError", "fill_rate")
case("r2_restore_acks_negative", "router", lambda r: r.restore_venue_stats(
    "A", fill_rate=1.0, reject_rate=0.0, latency_mean_ms=1.0, latency_var_ms2=0.0, slippage_bps=0.0, orders=0, fills=0, rejects=0, acks=-1),
    "ValidationError", "acks")
case("r2_venue_stats_venue_none", "router", lambda r: r.venue_stats(None), "ValidationError", "venue")
case("r2_venue_index_bytes", "router", lambda r: r.venue_index(b"A"), "ValidationError", "venue")
case("r2_pb_venue_true", "position_book", lambda b: b.apply_fill(True, "BTC.N", "BUY", 1, 100.0), "ValidationError", "venue")
case("r2_pb_instrument_false", "position_book", lambda b: b.apply_fill("N", False, "BUY", 1, 100.0), "ValidationError", "instrument")
case("r2_pb_side_true", "position_book", lambda b: b.apply_fill("N", "BTC.N", True, 1, 100.0), "ValidationError", "side")
case("r2_pb_oms_true", "position_book", lambda b: b.add_venue("X", True), "ValidationError", "oms_type")
case("r2_pb_quantity_float", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1.0, 100.0), "ValidationError", "quantity")
case("r2_pb_price_string", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1, "100"), "ValidationError", "price")
case("r2_pb_commission_true", "position_book", lambda b: b.apply_fill("N", "BTC.N", "BUY", 1, 100.0, True), "ValidationError", "commission")
case("r2_pb_position_id_true", "position_book", lambda b: b.apply_fill("H", "BTC.H", "BUY", 1, 100.0, 0.0, True), "ValidationError", "position_id")
case("r2_pb_venue_name_int", "position_book", lambda b: b.add_venue(1, "NETTING"), "ValidationError", "name")
case("r2_pb_size_precision_true", "position_book", lambda b: b.add_instrument("X", "U", True), "ValidationError", "size_precision")
case("r2_pb_multiplier_string", "position_book", lambda b: b.add_instrument("X", "U", 0, "1"), "ValidationError", "multiplier")
case("r2_pb_position_true", "position_book", lambda b: b.position(True), "ValidationError", "position_id")
case("r2_pb_mark_price_string", "position_book", lambda b: b.unrealized_pnl("N", "BTC.N", "100"), "ValidationError", "mark_price")
case("r2_pb_underlying_int", "position_book", lambda b: b.exposure(1), "ValidationError", "underlying")
# Money beyond what the book holds exactly is refused, not saturated (it was ~3.4e22 silently).
case("r2_pb_money_overflow", "position_book", lambda b: b.apply_fill("N", "BTC.N", "SELL", 2**53 - 1, 1e15), "ValidationError", "quantity")
case("r2_pb_money_overflow_in_batch", "position_book", lambda b: b.apply_fills(
    i64(0, 0), i64(0, 0), i8(1, 2), u64(1, 2**53 - 1), f64(100.0, 1e15)), "ValidationError", "quantities[1]")
case("r2_twap_quantity_true", None, lambda _: twap_schedule(True, 10.0, 1.0), "ValidationError", "quantity")
case("r2_twap_duration_string", None, lambda _: twap_schedule(10, "10", 1.0), "ValidationError", "duration_seconds")
case("r2_twap_seed_float", None, lambda _: twap_schedule(10, 10.0, 1.0, seed=1.5), "ValidationError", "seed")
case("r2_shortfall_volatility_true", None, lambda _: shortfall_kappa(10.0, 1.0, risk_aversion=1e-6, volatility=True, temporary_impact=1e-6),
     "ValidationError", "volatility")
case("r2_pov_rate_true", None, lambda _: PovTracker(10, True), "ValidationError", "participation_rate")
case("r2_pov_volume_float", "pov", lambda p: p.on_market_volume(1.5), "ValidationError", "volume")
case("r2_iceberg_fill_float", "iceberg", lambda i: i.on_fill(1.0), "ValidationError", "fill_qty")
case("r2_iceberg_visible_string", None, lambda _: Iceberg(100, "0.1"), "ValidationError", "visible_pct")

# SmartOrderRouter (Python layer).
case("r2_sor_enabled_string", "smart_router", lambda r: r.set_venue_enabled("BINANCE", "false"), "ValidationError", "enabled")
case("r2_sor_disabled_enabled_string", "smart_router_disabled", lambda r: r.set_venue_enabled("BINANCE", "true"), "ValidationError", "enabled")
case("r2_sor_connected_int", "smart_router", lambda r: r.set_venue_connected("BINANCE", 0), "ValidationError", "connected")
case("r2_sor_is_connected_list", "smart_router", lambda r: r.is_venue_connected(["BINANCE"]), "ValidationError", "venue")
case("r2_sor_invalidate_unknown", "smart_router", lambda r: r.invalidate_books("NOPE"), "UnknownVenueError", "venue")
case("r2_sor_route_side_true", "smart_router", lambda r: r.route_order(BTC, True, Q1), "ValidationError", "side")
case("r2_sor_route_max_venues_true", "smart_router", lambda r: r.route_order(BTC, OrderSide.BUY, Q1, True), "ValidationError", "max_venues")
case("r2_sor_route_max_venues_overflow", "smart_router", lambda r: r.route_order(BTC, OrderSide.BUY, Q1, 2**64), "ValidationError", "max_venues")
case("r2_sor_route_quantities_side_true", "smart_router", lambda r: r.route_quantities(BTC, True, Q1), "ValidationError", "side")
case("r2_sor_split_score_bps_max_venues_zero", "smart_router", lambda r: r.split_score_bps(BTC, OrderSide.BUY, Q1, 0), "ValidationError", "max_venues")
case("r2_sor_lot_rounding_quantity_int", "smart_router", lambda r: r.lot_rounding(BTC, OrderSide.BUY, 1), "ValidationError", "quantity")
case("r2_sor_on_order_book_deltas_quote", "smart_router", lambda r: r.on_order_book_deltas("BTCUSDT.BINANCE"), "ValidationError", "deltas")
case("r2_sor_watch_tape_string", "smart_router", lambda r: r.watch_tape("BTCUSDT.BINANCE"), "ValidationError", "instrument_id")
case("r2_sor_on_trade_tick_none", "smart_router", lambda r: r.on_trade_tick(None), "ValidationError", "trade")
case("r2_sor_passive_horizon_string", "smart_router", lambda r: r.select_passive_venue(BTC, OrderSide.BUY, Q1, "5"), "ValidationError", "horizon_s")
case("r2_sor_passive_horizon_true", "smart_router", lambda r: r.select_passive_venue(BTC, OrderSide.BUY, Q1, True), "ValidationError", "horizon_s")
case("r2_sor_stale_now_string", "smart_router", lambda r: r.check_stale_venues(BTC, "1", 1), "ValidationError", "now_ns")
case("r2_sor_stale_instrument_string", "smart_router", lambda r: r.check_stale_venues("BTC", 1, 1), "ValidationError", "instrument_id")
case("r2_sor_track_order_id_string", "smart_router", lambda r: r.track("O-1", None, OrderSide.BUY), "ValidationError", "client_order_id")
case("r2_sor_load_state_none", "smart_router", lambda r: r.load_state(None), "StateError", "router")
case("r2_sor_volatility_huge", None, lambda _: _smart_router([{"name": "A", "maker_fee": 0, "taker_fee": 0}], volatility=1e308),
     "ValidationError", "volatility")
case("r2_sor_volatility_true", None, lambda _: _smart_router([{"name": "A", "maker_fee": 0, "taker_fee": 0}], volatility=True),
     "ValidationError", "volatility")
case("r2_sor_venue_name_zero_width", None, lambda _: _smart_router([{"name": "A\u200b", "maker_fee": 0, "taker_fee": 0}]),
     "ConfigError", "venues[0].name")
case("r2_sor_venue_latency_huge", None, lambda _: _smart_router([{"name": "A", "maker_fee": 0, "taker_fee": 0, "latency_ms": 1e300}]),
     "ConfigError", "venues[0].latency_ms")
case("r2_sor_on_order_event_none", "smart_router", lambda r: r.on_order_event(None), "ValidationError", "event")
case("r2_pb_realized_pnl_venue_true", "position_book", lambda b: b.realized_pnl(True, "BTC.N"), "ValidationError", "venue")
case("r2_lot_rounding_max_venues_true", "router", lambda r: r.lot_rounding("BUY", 10, True), "ValidationError", "max_venues")
case("r2_reference_price_side_true", "router", lambda r: r.reference_price(True), "ValidationError", "side")
case("r2_reference_price_limit_nan", "router", lambda r: r.reference_price("BUY", NAN), "ValidationError", "limit_price")
case("r2_sor_reference_price_side_str", "smart_router", lambda r: r.reference_price("BUY"), "ValidationError", "side")
case("r2_lot_rounding_limit_huge", "router", lambda r: r.lot_rounding("BUY", 10, 2, 1e300), "ValidationError", "limit_price")
