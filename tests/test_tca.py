"""Transaction-cost analysis on small hand-built runs whose every number is worked out on paper below.

Market (consolidated mid `cmid` in brackets), S = 1 s, T0 = 1_000 s:

    T0        A 99/101      B 99.5/100.5                 [best 99.5/100.5 -> 100.0]
    T0+2.5S                 B 100/101                    [best 100/101    -> 100.5]
    T0+12S    A 101/103     B 101.5/102.5                [best 101.5/102.5 -> 102.0]
    T0+62.5S  A 98/100      B 98/100                     [best 98/100     -> 99.0]   (end of market data)

Tape: T0+0.5S A 100x5 (before the window), T0+1S A 100x10, T0+2S A 101x4, T0+3S B 100x6, T0+5S B 101x20,
T0+6S B 102x100 (after). Window [T0+1S, T0+5S]: volume 40 (A 14, B 26), notional 4024, VWAP 100.6.

BUY parent P1: 12 at arrival T0+1S (arrival mid 100), end T0+5S (cmid 100.5). Fills: A T0+2S 4 @ 101 (A's ask,
fee 0.4), B T0+3S 6 @ 100 (B's bid, rebate -0.1). Orders: A 4 FILLED (50 ms), A 2 CANCELED (250 ms), A 1 DENIED
(never submitted), B 6 FILLED (100 ms), B 2 REJECTED (never accepted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nautilus_sor.analysis.results import RunResults, frame
from nautilus_sor.analysis.tca import TcaReport, analyze
from nautilus_sor.analysis.tca_columns import FILL_COLUMNS, PARENT_COLUMNS, SUMMARY_COLUMNS, VENUE_COLUMNS
from nautilus_sor.analysis.tca_text import format_table
from nautilus_sor.exceptions import ValidationError

S = 1_000_000_000
T0 = 1_000 * S
TOL = 1e-9


def approx(x: float) -> object:
    return pytest.approx(x, rel=TOL, abs=TOL)


def market_rows() -> list[dict]:
    rows = [
        (0, "A", 99.0, 101.0),
        (0, "B", 99.5, 100.5),
        (2.5, "B", 100.0, 101.0),
        (12, "A", 101.0, 103.0),
        (12, "B", 101.5, 102.5),
        (62.5, "A", 98.0, 100.0),
        (62.5, "B", 98.0, 100.0),
    ]
    return [
        {"ts": T0 + int(t * S), "venue": v, "bid": b, "ask": a, "bid_size": 1.0, "ask_size": 1.0}
        for t, v, b, a in rows
    ]


def trade_rows() -> list[dict]:
    rows = [(0.5, "A", 100.0, 5.0), (1, "A", 100.0, 10.0), (2, "A", 101.0, 4.0), (3, "B", 100.0, 6.0),
            (5, "B", 101.0, 20.0), (6, "B", 102.0, 100.0)]
    return [{"ts": T0 + int(t * S), "venue": v, "price": p, "size": s} for t, v, p, s in rows]


def parent(pid: str, side: str, qty: float, scenario: str = "router", arrival: float = 1, end: float = 5) -> dict:
    return {"scenario": scenario, "parent_id": pid, "algorithm": "TWAP", "side": side, "quantity": qty,
            "arrival_ts": T0 + int(arrival * S), "end_ts": T0 + int(end * S)}


def order(pid: str, coid: str, venue: str, side: str, qty: float, filled: float, status: str,
          sub: float | None, acc: float | None, scenario: str = "router") -> dict:
    return {"scenario": scenario, "parent_id": pid, "client_order_id": coid, "venue": venue,
            "instrument_id": f"BTCUSDT.{venue}", "side": side, "order_type": "MARKET", "quantity": qty,
            "filled_qty": filled, "status": status, "ts_init": T0,
            "ts_submitted": -1 if sub is None else T0 + int(sub * S),
            "ts_accepted": -1 if acc is None else T0 + int(acc * S),
            "ts_last": T0 + 5 * S, "expected_price": float("nan")}


def fill(pid: str, coid: str, venue: str, side: str, t: float, qty: float, price: float, fee: float,
         scenario: str = "router") -> dict:
    return {"scenario": scenario, "parent_id": pid, "client_order_id": coid, "venue": venue,
            "instrument_id": f"BTCUSDT.{venue}", "side": side, "ts": T0 + int(t * S), "quantity": qty,
            "price": price, "commission": fee, "liquidity_side": "TAKER"}


def buy_rows(pid: str = "P1", scenario: str = "router") -> tuple[list, list, list]:
    parents = [parent(pid, "BUY", 12.0, scenario)]
    orders = [
        order(pid, f"{pid}-1", "A", "BUY", 4.0, 4.0, "FILLED", 1.9, 1.95, scenario),
        order(pid, f"{pid}-2", "B", "BUY", 6.0, 6.0, "FILLED", 2.8, 2.9, scenario),
        order(pid, f"{pid}-3", "A", "BUY", 2.0, 0.0, "CANCELED", 4.0, 4.25, scenario),
        order(pid, f"{pid}-4", "B", "BUY", 2.0, 0.0, "REJECTED", 4.5, None, scenario),
        order(pid, f"{pid}-5", "A", "BUY", 1.0, 0.0, "DENIED", None, None, scenario),
    ]
    fills = [
        fill(pid, f"{pid}-1", "A", "BUY", 2, 4.0, 101.0, 0.4, scenario),
        fill(pid, f"{pid}-2", "B", "BUY", 3, 6.0, 100.0, -0.1, scenario),
    ]
    return parents, orders, fills


def sell_rows(pid: str = "P2", scenario: str = "router") -> tuple[list, list, list]:
    """Mirror of P1: SELL 10, A T0+2S 4 @ 99 (A's bid, fee 0.2), B T0+3S 6 @ 101 (B's ask, fee 0.3)."""
    parents = [parent(pid, "SELL", 10.0, scenario)]
    orders = [
        order(pid, f"{pid}-1", "A", "SELL", 4.0, 4.0, "FILLED", 1.9, 1.92, scenario),
        order(pid, f"{pid}-2", "B", "SELL", 6.0, 6.0, "FILLED", 2.8, 2.83, scenario),
    ]
    fills = [
        fill(pid, f"{pid}-1", "A", "SELL", 2, 4.0, 99.0, 0.2, scenario),
        fill(pid, f"{pid}-2", "B", "SELL", 3, 6.0, 101.0, 0.3, scenario),
    ]
    return parents, orders, fills


def run(*groups: tuple[list, list, list], market: list | None = None, trades: list | None = None) -> RunResults:
    parents = [r for g in groups for r in g[0]]
    orders = [r for g in groups for r in g[1]]
    fills = [r for g in groups for r in g[2]]
    return RunResults(
        parents=frame("parents", parents),
        orders=frame("orders", orders),
        fills=frame("fills", fills),
        market=frame("market", market_rows() if market is None else market),
        trades=frame("trades", trade_rows() if trades is None else trades),
    )


def row(df: pd.DataFrame, **keys: str) -> pd.Series:
    mask = np.ones(len(df), dtype=bool)
    for k, v in keys.items():
        mask &= (df[k] == v).to_numpy()
    assert mask.sum() == 1, (keys, df)
    return df[mask].iloc[0]


# --------------------------------------------------------------------------------------------------------------


def test_buy_parent_every_metric() -> None:
    report = analyze(run(buy_rows()))
    assert isinstance(report, TcaReport)
    p = row(report.parents, parent_id="P1")
    assert p["arrival_price"] == approx(100.0)
    assert p["filled_qty"] == approx(10.0)
    assert p["unfilled_qty"] == approx(2.0)
    assert p["fill_rate"] == approx(10 / 12)
    assert p["filled_notional"] == approx(1004.0)
    assert p["avg_price"] == approx(100.4)
    assert p["child_orders"] == 5
    assert p["rejects"] == 2  # REJECTED + DENIED
    # Shortfall: without fees 40 bps; fees 0.4 - 0.1 = 0.3 on 1004 of notional.
    assert p["fees"] == approx(0.3)
    assert p["is_ex_fees_bps"] == approx(40.0)
    assert p["fees_bps"] == approx(0.3 / 1004 * 1e4)
    assert p["is_bps"] == approx(40.0 + 0.3 / 1004 * 1e4)
    # Unfilled 2 of 12 while the mid went 100 -> 100.5 (+50 bps).
    assert p["opportunity_bps"] == approx(50.0 * 2 / 12)
    # Tape over [T0+1S, T0+5S] (both ends in): 40 at a VWAP of 4024 / 40 = 100.6.
    assert p["market_volume"] == approx(40.0)
    assert p["market_vwap"] == approx(100.6)
    assert p["vwap_slippage_bps"] == approx((100.4 - 100.6) / 100.6 * 1e4)
    assert p["vwap_slippage_bps"] < 0  # bought below the VWAP
    assert p["participation"] == approx(0.25)
    # Spread capture: 4 at A's ask (-1), 6 at B's bid (+1).
    assert p["spread_capture"] == approx((4 * -1 + 6 * 1) / 10)
    assert p["spread_capture_bps"] == approx((4 * (100 - 101) / 100 + 6 * (100.5 - 100) / 100.5) / 10 * 1e4)
    # Markouts: fill A @101 at T0+2S, fill B @100 at T0+3S.
    m1_a, m1_b = (100.5 - 101) / 101 * 1e4, (100.5 - 100) / 100 * 1e4
    m10_a, m10_b = (102 - 101) / 101 * 1e4, (102 - 100) / 100 * 1e4
    assert p["markout_1s_bps"] == approx((4 * m1_a + 6 * m1_b) / 10)
    assert p["markout_10s_bps"] == approx((4 * m10_a + 6 * m10_b) / 10)
    # +60 s: A's fill (T0+62S) is inside the data (ends T0+62.5S), B's (T0+63S) is not: A's markout only.
    assert p["markout_60s_bps"] == approx((102 - 101) / 101 * 1e4)
    # Latency over the orders with both timestamps: 50, 100, 250 ms.
    assert p["latency_mean_ms"] == approx(400 / 3)
    assert p["latency_p95_ms"] == approx(100 + 0.9 * 150)
    assert p["side"] == "BUY" and p["algorithm"] == "TWAP"


def test_buy_parent_per_venue() -> None:
    report = analyze(run(buy_rows()))
    assert len(report.venues) == 2
    a = row(report.venues, parent_id="P1", venue="A")
    b = row(report.venues, parent_id="P1", venue="B")
    # A: ordered 4 + 2 + 1 (denied included), 4 filled at 101, fee 0.4.
    assert a["ordered_qty"] == approx(7.0)
    assert a["filled_qty"] == approx(4.0)
    assert a["fill_rate"] == approx(4 / 7)
    assert a["child_orders"] == 3 and a["rejects"] == 1
    assert a["avg_price"] == approx(101.0)
    assert a["arrival_price"] == approx(100.0)
    assert a["is_ex_fees_bps"] == approx(100.0)
    assert a["fees"] == approx(0.4)
    assert a["fees_bps"] == approx(0.4 / 404 * 1e4)
    assert a["is_bps"] == approx(100.0 + 0.4 / 404 * 1e4)
    assert a["vwap_slippage_bps"] == approx((101 - 100.6) / 100.6 * 1e4)
    assert a["participation"] == approx(4 / 40)
    assert a["venue_volume"] == approx(14.0)
    assert a["venue_participation"] == approx(4 / 14)
    assert a["spread_capture"] == approx(-1.0)
    assert a["markout_60s_bps"] == approx((102 - 101) / 101 * 1e4)
    assert a["latency_mean_ms"] == approx(150.0)
    assert a["latency_p95_ms"] == approx(50 + 0.95 * 200)
    # B: ordered 6 + 2 (one rejected), 6 filled at 100 with a rebate.
    assert b["ordered_qty"] == approx(8.0)
    assert b["fill_rate"] == approx(0.75)
    assert b["child_orders"] == 2 and b["rejects"] == 1
    assert b["is_ex_fees_bps"] == approx(0.0)
    assert b["fees"] == approx(-0.1)
    assert b["is_bps"] == approx(-0.1 / 600 * 1e4)
    assert b["venue_volume"] == approx(26.0)
    assert b["venue_participation"] == approx(6 / 26)
    assert b["spread_capture"] == approx(1.0)
    assert np.isnan(b["markout_60s_bps"])
    assert b["latency_mean_ms"] == approx(100.0) and b["latency_p95_ms"] == approx(100.0)
    # The venues add up to the parent.
    p = row(report.parents, parent_id="P1")
    assert a["filled_qty"] + b["filled_qty"] == approx(p["filled_qty"])
    assert (4 * a["is_ex_fees_bps"] + 6 * b["is_ex_fees_bps"]) / 10 == approx(p["is_ex_fees_bps"])


def test_cost_split_each_component_by_hand() -> None:
    """drift, spread, impact and fees each against a hand computation (not their sum against is_bps, which
    holds by definition). BUY Q: 3 at arrival T0+1S (cmid 100); one fill on A at T0+4S, 3 @ 101.5 while A's
    ask is 101 (the book walked 0.5 past the touch) and the cmid is 100.5 (best 100/101), fee 0.15.
    SELL R: 2 at arrival T0+1S; one fill on B at T0+4S, 2 @ 99.5 while B's bid is 100, fee 0.1.
    P1 (fills at A's ask and B's bid, within the touch): cmid 100 at T0+2S, 100.5 at T0+3S."""
    q = ([parent("Q", "BUY", 3.0)], [order("Q", "Q-1", "A", "BUY", 3.0, 3.0, "FILLED", 3.9, 3.95)],
         [fill("Q", "Q-1", "A", "BUY", 4, 3.0, 101.5, 0.15)])
    r = ([parent("R", "SELL", 2.0)], [order("R", "R-1", "B", "SELL", 2.0, 2.0, "FILLED", 3.9, 3.95)],
         [fill("R", "R-1", "B", "SELL", 4, 2.0, 99.5, 0.1)])
    report = analyze(run(q, r, buy_rows()))
    buy, sell, p1 = (row(report.parents, parent_id=pid) for pid in ("Q", "R", "P1"))
    # Q: drift = (100.5 - 100) / 100; impact = 0.5 / 100; spread = (101.5 - 100.5) / 100 - impact.
    assert buy["drift_bps"] == approx(50.0)
    assert buy["impact_bps"] == approx(50.0)
    assert buy["spread_bps"] == approx(50.0)
    assert buy["fees_bps"] == approx(0.15 / (3 * 101.5) * 1e4)
    # R, a sell: the mid rose against nothing (drift -50: in our favour), walked 0.5 below B's bid.
    assert sell["drift_bps"] == approx(-50.0)
    assert sell["impact_bps"] == approx(50.0)
    assert sell["spread_bps"] == approx(-(99.5 - 100.5) / 100 * 1e4 - 50.0)
    assert sell["fees_bps"] == approx(0.1 / (2 * 99.5) * 1e4)
    # P1: mid at the fills (4 x 100 + 6 x 100.5) / 10 = 100.3: drift 30, spread (100.4 - 100.3) / 100 = 10,
    # no fill beyond its venue's touch.
    assert p1["drift_bps"] == approx(30.0)
    assert p1["spread_bps"] == approx(10.0)
    assert p1["impact_bps"] == approx(0.0)
    # The summary weights the parents by filled quantity (3, 2, 10).
    summary = row(report.scenario_summary, scenario="router")
    assert summary["impact_bps"] == approx((3 * 50.0 + 2 * 50.0) / 15)
    assert summary["drift_bps"] == approx((3 * 50.0 - 2 * 50.0 + 10 * 30.0) / 15)


def test_per_fill_spread_capture_and_markouts() -> None:
    report = analyze(run(buy_rows()))
    f = report.fills.set_index("client_order_id")
    assert f.loc["P1-1", "spread_capture"] == approx(-1.0)  # bought at the ask
    assert f.loc["P1-2", "spread_capture"] == approx(1.0)  # bought at the bid
    assert f.loc["P1-1", "venue_bid"] == 99.0 and f.loc["P1-1", "venue_ask"] == 101.0
    assert f.loc["P1-2", "venue_bid"] == 100.0 and f.loc["P1-2", "venue_ask"] == 101.0  # B's T0+2.5S quote
    assert f.loc["P1-2", "markout_1s_bps"] == approx(50.0)  # the mid rose after the buy: positive
    assert f.loc["P1-1", "markout_1s_bps"] < 0
    assert np.isnan(f.loc["P1-2", "markout_60s_bps"])
    assert (f["side_sign"] == 1.0).all()


def test_spread_capture_zero_at_mid_and_outside_the_quote() -> None:
    parents = [parent("M", "BUY", 2.0)]
    orders = [order("M", "M-1", "A", "BUY", 2.0, 2.0, "FILLED", 1.0, 1.1)]
    fills = [fill("M", "M-1", "A", "BUY", 2, 1.0, 100.0, 0.0),  # A 99/101: at the mid
             fill("M", "M-1", "A", "BUY", 2, 1.0, 101.5, 0.0)]  # half a half-spread above the ask
    report = analyze(run((parents, orders, fills)))
    assert list(report.fills["spread_capture"]) == [approx(0.0), approx(-1.5)]
    assert row(report.parents, parent_id="M")["spread_capture"] == approx(-0.75)


def test_sell_parent_mirrored() -> None:
    report = analyze(run(sell_rows()))
    p = row(report.parents, parent_id="P2")
    assert p["side"] == "SELL"
    assert p["avg_price"] == approx(100.2)  # (4 * 99 + 6 * 101) / 10
    assert p["fill_rate"] == approx(1.0)
    assert p["opportunity_bps"] == approx(0.0)
    # Sold 20 bps above the arrival mid: a gain (negative cost), plus 0.5 of fees on 1002.
    assert p["is_ex_fees_bps"] == approx(-20.0)
    assert p["fees_bps"] == approx(0.5 / 1002 * 1e4)
    assert p["is_bps"] == approx(-20.0 + 0.5 / 1002 * 1e4)
    # Sold below the VWAP 100.6: worse, positive.
    assert p["vwap_slippage_bps"] == approx(-(100.2 - 100.6) / 100.6 * 1e4)
    assert p["vwap_slippage_bps"] > 0
    f = report.fills.set_index("client_order_id")
    assert f.loc["P2-1", "spread_capture"] == approx(-1.0)  # sold at the bid
    assert f.loc["P2-2", "spread_capture"] == approx(1.0)  # sold at the ask
    assert p["spread_capture"] == approx((4 * -1 + 6 * 1) / 10)
    # The mid rose after each sale: negative markouts for a seller.
    assert f.loc["P2-1", "markout_1s_bps"] == approx(-(100.5 - 99) / 99 * 1e4)
    assert f.loc["P2-2", "markout_1s_bps"] == approx(-(100.5 - 101) / 101 * 1e4)
    assert f.loc["P2-1", "markout_10s_bps"] < 0 and f.loc["P2-2", "markout_10s_bps"] < 0
    assert p["markout_10s_bps"] == approx(-(4 * (102 - 99) / 99 + 6 * (102 - 101) / 101) / 10 * 1e4)
    assert p["participation"] == approx(10 / 40)
    assert p["latency_mean_ms"] == approx(25.0)  # 20 and 30 ms
    assert p["latency_p95_ms"] == approx(20 + 0.95 * 10)


def test_scenario_summary_router_vs_baseline() -> None:
    # The baseline is listed first: the summary still puts "router" first.
    base_parents = [parent("Q1", "BUY", 10.0, "best_single_venue")]
    base_orders = [order("Q1", "Q1-1", "A", "BUY", 10.0, 10.0, "FILLED", 1.0, 1.5, "best_single_venue")]
    base_fills = [fill("Q1", "Q1-1", "A", "BUY", 2, 10.0, 101.0, 1.01, "best_single_venue")]
    report = analyze(run((base_parents, base_orders, base_fills), buy_rows(), sell_rows()))
    s = report.scenario_summary
    assert list(s["scenario"]) == ["router", "best_single_venue"]
    assert list(s.columns) == list(SUMMARY_COLUMNS)
    r = row(s, scenario="router")
    is_buy = 40.0 + 0.3 / 1004 * 1e4
    is_sell = -20.0 + 0.5 / 1002 * 1e4
    assert r["parents"] == 2
    assert r["quantity"] == approx(22.0)
    assert r["filled_qty"] == approx(20.0)
    assert r["fill_rate"] == approx(20 / 22)
    assert r["child_orders"] == 7 and r["rejects"] == 2
    assert r["fees"] == approx(0.8)
    assert r["is_bps"] == approx((10 * is_buy + 10 * is_sell) / 20)
    assert r["is_ex_fees_bps"] == approx((10 * 40.0 + 10 * -20.0) / 20)
    assert r["opportunity_bps"] == approx((12 * 50.0 * 2 / 12 + 10 * 0.0) / 22)
    assert r["participation"] == approx(20 / 80)
    assert r["spread_capture"] == approx(0.2)  # (-4 + 6 - 4 + 6) / 20
    assert r["latency_mean_ms"] == approx((50 + 100 + 250 + 20 + 30) / 5)
    assert r["latency_p95_ms"] == approx(100 + 0.8 * 150)  # sorted 20 30 50 100 250, rank 3.8
    b = row(s, scenario="best_single_venue")
    assert b["parents"] == 1 and b["filled_qty"] == approx(10.0) and b["fill_rate"] == approx(1.0)
    assert b["is_bps"] == approx(100.0 + 1.01 / 1010 * 1e4)
    assert b["spread_capture"] == approx(-1.0)
    assert b["latency_mean_ms"] == approx(500.0)
    # The summary is the per-parent values weighted by filled quantity.
    parents = report.parents[report.parents["scenario"] == "router"]
    w = parents["filled_qty"]
    assert r["vwap_slippage_bps"] == approx(float((parents["vwap_slippage_bps"] * w).sum() / w.sum()))
    # Per-parent and per-venue rows are grouped by scenario, router first.
    assert list(report.parents["scenario"]) == ["router", "router", "best_single_venue"]
    text = report.to_text(parents=True, venues=True)
    assert "router" in text and "best_single_venue" in text and "is_bps" in text
    header = text.splitlines()[1]
    assert header.split() == ["metric", "router", "best_single_venue"]


def test_columns_are_documented() -> None:
    report = analyze(run(buy_rows()))
    assert list(report.parents.columns) == list(PARENT_COLUMNS)
    assert list(report.venues.columns) == list(VENUE_COLUMNS)
    assert list(report.fills.columns) == list(FILL_COLUMNS)
    custom = analyze(run(buy_rows()), markout_horizons_s=(0.5, 5))
    assert "markout_0.5s_bps" in custom.parents.columns and "markout_5s_bps" in custom.fills.columns
    assert "markout_1s_bps" not in custom.scenario_summary.columns


def test_empty_run_does_not_crash() -> None:
    report = analyze(RunResults())
    assert report.parents.empty and report.venues.empty and report.fills.empty and report.scenario_summary.empty
    assert list(report.parents.columns) == list(PARENT_COLUMNS)
    assert list(report.scenario_summary.columns) == list(SUMMARY_COLUMNS)
    assert "no parents" in report.to_text(parents=True, venues=True)


def test_no_fills_gives_nan_metrics() -> None:
    parents, orders, _ = buy_rows()
    report = analyze(run((parents, orders, [])))
    p = row(report.parents, parent_id="P1")
    assert p["filled_qty"] == 0.0 and p["fill_rate"] == 0.0
    for col in ("avg_price", "is_bps", "is_ex_fees_bps", "fees_bps", "vwap_slippage_bps", "spread_capture",
                "markout_1s_bps"):
        assert np.isnan(p[col]), col
    assert p["participation"] == 0.0
    assert p["opportunity_bps"] == approx(50.0)  # nothing done while the mid rose 50 bps
    assert p["child_orders"] == 5 and p["latency_mean_ms"] == approx(400 / 3)
    s = report.scenario_summary.iloc[0]
    assert s["filled_qty"] == 0.0 and np.isnan(s["is_bps"]) and np.isnan(s["spread_capture"])
    assert report.to_text(parents=True, venues=True)


def test_no_market_no_trades_gives_nan_with_notes() -> None:
    report = analyze(run(buy_rows(), market=[], trades=[]))
    p = row(report.parents, parent_id="P1")
    assert p["avg_price"] == approx(100.4) and p["fees"] == approx(0.3)
    for col in ("arrival_price", "is_bps", "market_vwap", "vwap_slippage_bps", "participation", "spread_capture",
                "markout_1s_bps", "markout_60s_bps"):
        assert np.isnan(p[col]), col
    assert any("no market data" in n for n in report.notes)
    assert any("no prints" in n for n in report.notes)


def test_fill_on_venue_without_market_data() -> None:
    parents, orders, fills = buy_rows()
    fills.append(fill("P1", "P1-6", "C", "BUY", 4, 2.0, 100.0, 0.0))
    orders.append(order("P1", "P1-6", "C", "BUY", 2.0, 2.0, "FILLED", 3.5, 3.6))
    report = analyze(run((parents, orders, fills)))
    c = row(report.venues, parent_id="P1", venue="C")
    assert np.isnan(c["spread_capture"]) and c["venue_volume"] == 0.0 and np.isnan(c["venue_participation"])
    assert c["fill_rate"] == approx(1.0)
    p = row(report.parents, parent_id="P1")
    assert p["spread_capture"] == approx(0.2)  # over A and B only
    assert p["avg_price"] == approx(1204 / 12)
    assert any("['C']" in n and "without a quote" in n for n in report.notes)


def test_quotes_same_ts_last_wins_and_one_sided_quote_clears_the_side() -> None:
    market = market_rows() + [
        {"ts": T0 + 2 * S, "venue": "A", "bid": 90.0, "ask": 110.0, "bid_size": 1.0, "ask_size": 1.0},
        {"ts": T0 + 2 * S, "venue": "A", "bid": 99.0, "ask": 101.0, "bid_size": 1.0, "ask_size": 1.0},
        {"ts": T0 + 2 * S + 1, "venue": "B", "bid": float("nan"), "ask": 100.5, "bid_size": 0.0, "ask_size": 1.0},
    ]
    parents = [parent("X", "BUY", 1.0, arrival=2.0, end=2.0), parent("Y", "BUY", 1.0, arrival=2.1, end=2.1)]
    report = analyze(run((parents, [], []), market=market))
    # At T0+2S: A 99/101 (the later row), B 99.5/100.5 -> 100. Just after, B has no bid: best bid 99 (A).
    assert row(report.parents, parent_id="X")["arrival_price"] == approx(100.0)
    assert row(report.parents, parent_id="Y")["arrival_price"] == approx((99.0 + 100.5) / 2)


def test_unknown_parent_and_bad_rows_are_noted() -> None:
    parents, orders, fills = buy_rows()
    fills.append(fill("GHOST", "G-1", "A", "BUY", 2, 1.0, 100.0, 0.0))
    fills.append(fill("P1", "P1-x", "A", "BUY", 2, 0.0, 100.0, 0.0))
    report = analyze(run((parents, orders, fills)))
    assert row(report.parents, parent_id="P1")["filled_qty"] == approx(10.0)
    assert len(report.fills) == 2
    assert any("not in the parents table" in n for n in report.notes)
    assert any("non-positive" in n for n in report.notes)


@pytest.mark.parametrize(
    ("table", "column"),
    [("fills", "price"), ("parents", "arrival_ts"), ("market", "ask"), ("trades", "size"), ("orders", "status")],
)
def test_missing_column_raises_validation_error(table: str, column: str) -> None:
    results = run(buy_rows())
    setattr(results, table, getattr(results, table).drop(columns=[column]))
    with pytest.raises(ValidationError) as info:
        analyze(results)
    assert info.value.field == f"{table}.{column}"
    assert table in str(info.value) and column in str(info.value)


def test_unreadable_column_raises_validation_error() -> None:
    results = run(buy_rows())
    results.fills["price"] = results.fills["price"].astype(object)
    results.fills.loc[0, "price"] = "abc"
    with pytest.raises(ValidationError) as info:
        analyze(results)
    assert info.value.field == "fills.price"


def test_format_table_fixed_width() -> None:
    df = pd.DataFrame({"venue": ["A", "LONGVENUE"], "is_bps": [1.5, float("nan")], "child_orders": [3, 12]})
    lines = format_table(df).splitlines()
    assert lines[0].split() == ["venue", "is_bps", "child_orders"]
    assert len({len(line) for line in lines[:2]}) == 1 and lines[2].startswith("A ")
    assert lines[3].split() == ["LONGVENUE", "-", "12"]
    assert "+1.500" in lines[2]


def test_ten_thousand_fills_recombine_per_venue_and_pooled() -> None:
    rng = np.random.default_rng(7)
    n_parents, n_fills = 200, 10_000
    venues = ["A", "B", "C"]
    mts = np.sort(rng.integers(0, 4000 * S, 30_000))
    mid = 100 + np.cumsum(rng.normal(0, 0.01, len(mts)))
    market = pd.DataFrame({"ts": mts, "venue": rng.choice(venues, len(mts)), "bid": mid - 0.05, "ask": mid + 0.05,
                           "bid_size": 1.0, "ask_size": 1.0})
    trades = pd.DataFrame({"ts": mts[::3], "venue": rng.choice(venues, len(mts[::3])), "price": mid[::3],
                           "size": rng.uniform(0.1, 2, len(mts[::3]))})
    arrival = np.sort(rng.integers(10 * S, 3000 * S, n_parents))
    parents = pd.DataFrame({"scenario": rng.choice(["router", "equal_split"], n_parents),
                            "parent_id": [f"P{i}" for i in range(n_parents)], "algorithm": "TWAP",
                            "side": rng.choice(["BUY", "SELL"], n_parents), "quantity": 100.0,
                            "arrival_ts": arrival, "end_ts": arrival + 600 * S})
    pi = rng.integers(0, n_parents, n_fills)
    fills = pd.DataFrame({"scenario": parents["scenario"].to_numpy()[pi],
                          "parent_id": parents["parent_id"].to_numpy()[pi], "client_order_id": "c",
                          "venue": rng.choice(venues, n_fills), "instrument_id": "i",
                          "side": parents["side"].to_numpy()[pi], "ts": arrival[pi] + rng.integers(0, 600 * S, n_fills),
                          "quantity": rng.uniform(0.1, 1, n_fills), "price": rng.uniform(99, 101, n_fills),
                          "commission": rng.normal(0, 0.01, n_fills), "liquidity_side": "TAKER"})
    results = RunResults(parents=frame("parents", parents.to_dict("records")),
                         fills=frame("fills", fills.to_dict("records")),
                         market=frame("market", market.to_dict("records")),
                         trades=frame("trades", trades.to_dict("records")))
    report = analyze(results)
    assert len(report.fills) == n_fills
    # Consistency: venues add up to parents, and the filled-quantity weights recombine the shortfall.
    by_parent = report.venues.groupby(["scenario", "parent_id"])["filled_qty"].sum()
    p = report.parents.set_index(["scenario", "parent_id"])
    assert np.allclose(by_parent.reindex(p.index).fillna(0).to_numpy(), p["filled_qty"].to_numpy())
    v = report.venues.assign(w=report.venues["filled_qty"] * report.venues["is_ex_fees_bps"])
    recombined = v.groupby(["scenario", "parent_id"])["w"].sum().reindex(p.index) / p["filled_qty"]
    filled = p["filled_qty"] > 0
    assert np.allclose(recombined[filled].to_numpy(), p.loc[filled, "is_ex_fees_bps"].to_numpy())
    assert report.fills["spread_capture"].notna().mean() > 0.9
    assert set(report.scenario_summary["scenario"]) == {"router", "equal_split"}
    # Quantity-weighted summary = the pooled fills.
    f = report.fills[report.fills["scenario"] == "router"]
    ok = f["markout_10s_bps"].notna()
    expected = (f.loc[ok, "markout_10s_bps"] * f.loc[ok, "quantity"]).sum() / f.loc[ok, "quantity"].sum()
    got = row(report.scenario_summary, scenario="router")["markout_10s_bps"]
    assert got == pytest.approx(expected, rel=1e-9)


def test_bad_side_missing_commission_and_order_without_venue() -> None:
    parents, orders, fills = buy_rows()
    parents.append(parent("H", "HOLD", 1.0))
    fills.append(fill("H", "H-1", "A", "BUY", 2, 1.0, 100.0, float("nan")))
    orders.append(order("P1", "P1-9", None, "BUY", 1.0, 0.0, "DENIED", None, None))  # type: ignore[arg-type]
    report = analyze(run((parents, orders, fills)))
    h = row(report.parents, parent_id="H")
    assert h["filled_qty"] == approx(1.0) and h["fees"] == 0.0
    assert np.isnan(h["is_bps"]) and np.isnan(h["spread_capture"]) and np.isnan(h["markout_1s_bps"])
    p = row(report.parents, parent_id="P1")
    assert p["child_orders"] == 6 and p["rejects"] == 3 and p["is_ex_fees_bps"] == approx(40.0)
    na = row(report.venues, parent_id="P1", venue="<NA>")
    assert na["rejects"] == 1 and na["filled_qty"] == 0.0 and na["fill_rate"] == 0.0
    for fragment in ("other than BUY/SELL", "without a commission", "without a venue"):
        assert any(fragment in n for n in report.notes), fragment
