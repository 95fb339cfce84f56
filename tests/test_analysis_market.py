"""The analysis's market helpers (`nautilus_sor.analysis.market`): the one consolidated quote and the as-of
join, on tiny markets whose every value is worked out by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nautilus_sor.analysis.market import asof, consolidated, mid_at, venue_quote_at

NAN = float("nan")


def market(rows: list[tuple], mid: bool = False) -> pd.DataFrame:
    columns = ["ts", "venue", "bid", "ask"] + (["mid"] if mid else [])
    return pd.DataFrame(rows, columns=columns).astype({"ts": "int64", "venue": "string"})


def as_lists(df: pd.DataFrame) -> dict[str, list]:
    return {c: [None if isinstance(v, float) and math.isnan(v) else v for v in df[c].tolist()] for c in df.columns}


def test_best_bid_and_ask_across_venues_each_carried_forward():
    cons = consolidated(market([(1, "A", 99.0, 101.0), (2, "B", 99.5, 100.5), (3, "A", 98.0, 102.0)]))
    # ts 1: A alone; ts 2: B inside A; ts 3: A widened, B still in force.
    assert as_lists(cons) == {"ts": [1, 2, 3], "best_bid": [99.0, 99.5, 99.5], "best_ask": [101.0, 100.5, 100.5],
                              "cmid": [100.0, 100.0, 100.0]}


@pytest.mark.parametrize("missing", [NAN, 0.0, -1.0, float("inf")])
def test_a_missing_side_clears_the_venues_earlier_one(missing):
    # A quotes 99/101, then says it has no bid: its 99 must not be carried forward. B bids 98 throughout.
    cons = consolidated(market([(1, "A", 99.0, 101.0), (1, "B", 98.0, 103.0), (2, "A", missing, 101.0)]))
    assert cons["best_bid"].tolist() == [99.0, 98.0]
    assert cons["cmid"].tolist() == [100.0, (98.0 + 101.0) / 2]


def test_one_sided_everywhere_gives_no_mid():
    cons = consolidated(market([(1, "A", 99.0, NAN), (2, "B", 98.0, NAN), (3, "B", 98.0, 100.0)]))
    assert as_lists(cons)["cmid"] == [None, None, 99.5]
    assert as_lists(cons)["best_ask"] == [None, None, 100.0]


def test_crossed_and_locked_books_still_give_the_mid_the_router_uses():
    # Crossed across venues (A's stale bid 101 above B's ask 100.5), then locked (bid = ask = 100.5).
    cons = consolidated(market([(1, "A", 101.0, 102.0), (1, "B", 99.0, 100.5), (2, "A", 100.5, 102.0)]))
    assert cons["best_bid"].tolist() == [101.0, 100.5]
    assert cons["best_ask"].tolist() == [100.5, 100.5]
    assert cons["cmid"].tolist() == [100.75, 100.5]


def test_rows_at_the_same_ts_last_one_wins():
    cons = consolidated(market([(1, "A", 99.0, 101.0), (1, "A", 99.5, 100.5)]))
    assert cons["cmid"].tolist() == [100.0] and cons["best_bid"].tolist() == [99.5]


def test_bar_prices_fill_in_only_where_no_side_is_quoted():
    table = market([(1, "A", NAN, NAN, 100.0), (1, "B", NAN, NAN, 104.0), (2, "B", 101.0, 103.0, NAN),
                    (3, "B", NAN, NAN, 106.0), (4, "A", NAN, NAN, 0.0)], mid=True)
    # ts 1: mean of the bars 102; ts 2: B's quote 102; ts 3: mean of A's 100 and B's 106 = 103; ts 4: A's
    # row without a positive price clears its earlier 100, as a missing side does: B's 106 alone.
    assert consolidated(table)["cmid"].tolist() == [102.0, 102.0, 103.0, 106.0]


def test_empty_market():
    cons = consolidated(market([]))
    assert list(cons.columns) == ["ts", "best_bid", "best_ask", "cmid"] and cons.empty
    assert mid_at(cons, np.array([], dtype="int64")).size == 0


def test_asof_equal_timestamp_is_in_force_and_nothing_before_the_first_row():
    right = pd.DataFrame({"ts": [10, 20, 20, 30], "x": [1.0, 2.0, 3.0, 4.0]})
    got = asof(np.array([25, 5, 10, 20, 19, 30, 99]), right, ["x"])["x"].tolist()
    # 25 -> the later of the two rows at 20; 5 -> none yet; equal timestamps are in force at that time.
    assert [None if math.isnan(v) else v for v in got] == [3.0, None, 1.0, 3.0, 1.0, 4.0, 4.0]


def test_mid_at_uses_the_consolidated_mid_in_force():
    cons = consolidated(market([(10, "A", 99.0, 101.0), (20, "A", 100.0, 102.0)]))
    got = mid_at(cons, np.array([20, 9, 15]))
    assert np.isnan(got[1]) and got[[0, 2]].tolist() == [101.0, 100.0]


def test_venue_quote_at_is_per_venue_and_keeps_the_raw_sides():
    table = market([(10, "A", 99.0, 101.0), (10, "B", 98.0, 102.0), (20, "A", NAN, 100.5), (20, "A", 99.2, 100.4)])
    bid, ask = venue_quote_at(table, np.array([20, 15, 5, 30]), np.array(["A", "B", "A", "C"], dtype=object))
    # A at 20: the last of its two rows at 20; B at 15: its row at 10; A at 5: none yet; C: never quoted.
    assert [None if math.isnan(v) else v for v in bid] == [99.2, 98.0, None, None]
    assert [None if math.isnan(v) else v for v in ask] == [100.4, 102.0, None, None]
