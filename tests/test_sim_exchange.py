"""One venue's simulated matching: latency, consumed liquidity, queue fills, trade-through, fees."""

import pytest
from sim_fixtures import MS, venue

from nautilus_sor.backtest.sim.exchange import BUY, SELL, VenueExchange
from nautilus_sor.exceptions import ValidationError

BIDS = [(100.0, 5.0), (99.0, 5.0)]
ASKS = [(101.0, 2.0), (102.0, 3.0), (103.0, 10.0)]


def test_an_order_meets_the_book_in_force_when_it_arrives_not_when_decided():
    v = venue("A", [(0, BIDS, ASKS), (1 * MS, BIDS, [(105.0, 10.0)])], latency_ms=2.0)
    fills, arrival = VenueExchange(v).take(BUY, 1.0, None, 0)
    assert arrival == 2 * MS
    assert [(f.price, f.size, f.ts) for f in fills] == [(105.0, 1.0, 2 * MS)]
    # Zero latency: the book at the decision time.
    fills, _ = VenueExchange(v, latency_ms=0.0).take(BUY, 1.0, None, 0)
    assert fills[0].price == 101.0


def test_aggressive_orders_walk_within_the_limit_and_do_not_reuse_what_they_took():
    v = venue("A", [(0, BIDS, ASKS)])
    ex = VenueExchange(v)
    fills, _ = ex.take(BUY, 4.0, 102.0, 0)
    assert [(f.price, f.size) for f in fills] == [(101.0, 2.0), (102.0, 2.0)]
    # Same recorded book: the 4 we took are gone for us; 1 left at 102, then 103.
    fills, _ = ex.take(BUY, 3.0, None, 0)
    assert [(f.price, f.size) for f in fills] == [(102.0, 1.0), (103.0, 2.0)]
    # Within the limit only: nothing left at or below 102.
    assert ex.take(BUY, 1.0, 102.0, 0)[0] == []


def test_consumed_liquidity_rule_on_recorded_changes():
    # The level at 101 recorded 10, 10, 8, 13, 5, 10 at 0..5 ms; we take 4 of the first 10.
    rows = [(k * MS, BIDS, [(101.0, size)]) for k, size in enumerate([10.0, 10.0, 8.0, 13.0, 5.0, 10.0])]
    ex = VenueExchange(venue("A", rows))
    assert [f.size for f in ex.take(BUY, 4.0, None, 0)[0]] == [4.0]
    offered = [float(ex.offered(BUY, k * MS)[1][0]) for k in range(1, 6)]
    # 6 left for us; a decrease of 2 is first our own take showing (still 6); 3 new joined above the 10 we
    # saw (9); recorded below what we left: record dropped (5); then all of it (10).
    assert offered == [6.0, 6.0, 9.0, 5.0, 10.0]


def test_the_book_refreshing_a_level_offers_the_new_size_only():
    rows = [(0, BIDS, ASKS), (10 * MS, BIDS, [(101.0, 5.0), (102.0, 3.0)])]
    ex = VenueExchange(venue("A", rows))
    ex.take(BUY, 2.0, 101.0, 0)  # all of the 2 at 101
    fills, _ = ex.take(BUY, 5.0, 101.0, 10 * MS)  # level refreshed to 5: 3 of it joined after us
    assert [(f.price, f.size) for f in fills] == [(101.0, 3.0)]


def test_taker_and_maker_fees_as_fractions_of_notional():
    rows = [(0, BIDS, ASKS)]
    ex = VenueExchange(venue("A", rows, [(5 * MS, 100.0, 6.0, SELL)], maker_fee=0.0002, taker_fee=0.001))
    (fill,), _ = ex.take(SELL, 2.0, None, 0)
    assert fill.liquidity == "TAKER" and fill.fee == pytest.approx(2.0 * 100.0 * 0.001)
    res = ex.rest(BUY, 100.0, 1.0, 0, 50 * MS)  # 5 ahead, a 6 sell trade: 1 beyond the queue
    assert [(f.liquidity, f.size) for f in res.fills] == [("MAKER", 1.0)]
    assert res.fills[0].fee == pytest.approx(100.0 * 0.0002)


def test_passive_fills_only_beyond_the_queue_ahead_and_partially():
    trades = [(1 * MS, 100.0, 3.0, SELL), (2 * MS, 100.0, 4.0, SELL), (3 * MS, 101.0, 9.0, BUY), (4 * MS, 100.0, 2.0, SELL)]
    ex = VenueExchange(venue("A", [(0, BIDS, ASKS)], trades))
    res = ex.rest(BUY, 100.0, 3.0, 0, 10 * MS)
    # 5 ahead: the 3 and 2 of the 4 eat it, 2 fill us; the buy trade is on the other side; then 1 more.
    assert [(f.ts, f.size, f.price) for f in res.fills] == [(2 * MS, 2.0, 100.0), (4 * MS, 1.0, 100.0)]
    assert res.reason == "filled" and res.end_ts == 4 * MS


def test_cancels_advance_the_queue_proportionally_or_not_at_all_when_risk_averse():
    # We join 10; 4 join behind (14); 7 cancelled (7): prob_linear -> 10 - 7 * 10/14 = 5 ahead; risk_averse -> 7.
    rows = [(0, [(100.0, 10.0)], ASKS), (1 * MS, [(100.0, 14.0)], ASKS), (2 * MS, [(100.0, 7.0)], ASKS)]
    trades = [(3 * MS, 100.0, 6.0, SELL)]
    prob = VenueExchange(venue("A", rows, trades)).rest(BUY, 100.0, 3.0, 0, 10 * MS)
    averse = VenueExchange(venue("A", rows, trades), queue_model="risk_averse").rest(BUY, 100.0, 3.0, 0, 10 * MS)
    assert prob.filled == pytest.approx(1.0)
    assert averse.filled == 0.0


def test_a_trade_through_our_price_fills_us_regardless_of_the_queue():
    trades = [(1 * MS, 99.0, 2.0, SELL), (2 * MS, 98.0, 5.0, SELL)]
    ex = VenueExchange(venue("A", [(0, BIDS, ASKS)], trades))
    res = ex.rest(BUY, 100.0, 4.0, 0, 10 * MS)
    assert [(f.size, f.price) for f in res.fills] == [(2.0, 100.0), (2.0, 100.0)]


def test_the_other_side_reaching_our_price_fills_us_for_what_it_offers_and_consumes_it():
    # Our bid at 100 (5 ahead). The ask comes to 100.5 (no fill), then to 100 with 1 (fills 1, at our price),
    # then shows 4 at 100: 1 of it is what we took, 3 are new, and our last 2 fill.
    rows = [(0, BIDS, ASKS), (1 * MS, BIDS, [(100.5, 3.0)]), (2 * MS, [(99.0, 5.0)], [(100.0, 1.0), (101.0, 2.0)]),
            (3 * MS, [(99.0, 5.0)], [(100.0, 4.0)])]
    res = VenueExchange(venue("A", rows, maker_fee=0.0002)).rest(BUY, 100.0, 3.0, 0, 10 * MS)
    assert [(f.ts, f.price, f.size, f.liquidity) for f in res.fills] == [(2 * MS, 100.0, 1.0, "MAKER"), (3 * MS, 100.0, 2.0, "MAKER")]
    assert res.reason == "filled" and res.end_ts == 3 * MS and res.fills[1].fee == pytest.approx(2.0 * 100.0 * 0.0002)
    # A sell: the bid through our price, at 101.5 and 101, fills it at 101; the next row shows the same
    # sizes (nothing new: consumed), so nothing more; then the 101.5 level refreshes to 2 (new size).
    rows = [(0, BIDS, ASKS), (2 * MS, [(101.5, 1.0), (101.0, 1.0)], [(102.0, 3.0)]), (3 * MS, [(101.5, 1.0), (101.0, 1.0)], [(102.0, 3.0)]),
            (4 * MS, [(100.0, 1.0)], [(102.0, 3.0)]), (5 * MS, [(101.5, 2.0)], [(102.0, 3.0)])]
    res = VenueExchange(venue("A", rows)).rest(SELL, 101.0, 5.0, 0, 10 * MS)
    assert [(f.ts, f.price, f.size) for f in res.fills] == [(2 * MS, 101.0, 2.0), (5 * MS, 101.0, 2.0)]
    # Cancelled before the update reaches it: no fill.
    assert VenueExchange(venue("A", rows, latency_ms=1.0)).rest(SELL, 101.0, 4.0, 0, 0).fills == []


def test_tape_volume_that_filled_us_is_not_used_again():
    trades = [(1 * MS, 99.0, 2.0, SELL)]
    ex = VenueExchange(venue("A", [(0, BIDS, ASKS)], trades))
    assert ex.rest(BUY, 100.0, 5.0, 0, 10 * MS).filled == 2.0
    assert ex.rest(BUY, 100.0, 5.0, 0, 10 * MS).filled == 0.0


def test_latency_on_cancel_a_fill_before_the_cancel_arrives_counts():
    trades = [(6 * MS, 99.0, 1.0, SELL), (8 * MS, 99.0, 1.0, SELL)]
    v = venue("A", [(0, BIDS, ASKS)], trades, latency_ms=2.0)
    res = VenueExchange(v).rest(BUY, 100.0, 5.0, 0, 5 * MS)  # cancel decided at 5 ms, arrives at 7 ms
    assert res.arrival_ts == 2 * MS and res.end_ts == 7 * MS and res.reason == "cancelled"
    assert [f.ts for f in res.fills] == [6 * MS]


def test_latency_on_arrival_trades_before_it_do_not_fill():
    trades = [(1 * MS, 99.0, 1.0, SELL), (3 * MS, 99.0, 1.0, SELL)]
    res = VenueExchange(venue("A", [(0, BIDS, ASKS)], trades, latency_ms=2.0)).rest(BUY, 100.0, 5.0, 0, 50 * MS)
    assert [f.ts for f in res.fills] == [3 * MS]


def test_cancel_on_touch_move_when_the_touch_moves_away():
    rows = [(0, BIDS, ASKS), (4 * MS, [(100.5, 1.0)] + BIDS, ASKS)]
    trades = [(5 * MS, 99.0, 1.0, SELL), (7 * MS, 99.0, 1.0, SELL)]
    res = VenueExchange(venue("A", rows, trades, latency_ms=2.0)).rest(BUY, 100.0, 5.0, 0, 50 * MS, cancel_on_touch_move=True)
    assert res.reason == "touch_moved" and res.end_ts == 6 * MS
    assert res.filled == 1.0


def test_a_limit_marketable_on_arrival_takes_then_rests():
    trades = [(2 * MS, 100.5, 1.0, SELL)]
    res = VenueExchange(venue("A", [(0, BIDS, ASKS)], trades)).rest(BUY, 101.0, 3.0, 0, 10 * MS)
    assert [(f.liquidity, f.price, f.size) for f in res.fills] == [("TAKER", 101.0, 2.0), ("MAKER", 101.0, 1.0)]


def test_unknown_aggressor_is_inferred_from_the_venues_quote():
    trades = [(1 * MS, 100.0, 7.0, 0), (2 * MS, 100.5, 7.0, 0), (3 * MS, 101.0, 7.0, 0)]
    ex = VenueExchange(venue("A", [(0, BIDS, ASKS)], trades), tick=0.1)
    assert ex.aggressors().tolist() == [SELL, 0, BUY]
    assert ex.rest(BUY, 100.0, 3.0, 0, 10 * MS).filled == 2.0  # only the at-bid print, 5 ahead of us


def test_the_tick_is_inferred_from_the_levels():
    assert VenueExchange(venue("A", [(0, [(100.0, 1.0), (99.99, 1.0)], [(100.02, 1.0)])])).tick == pytest.approx(0.01)


def test_a_negative_latency_is_refused():
    with pytest.raises(ValidationError) as err:
        VenueExchange(venue("A", [(0, BIDS, ASKS)]), latency_ms=-1.0)
    assert err.value.field == "latency_ms"
