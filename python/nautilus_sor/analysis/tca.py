"""Transaction-cost analysis (TCA) of a backtest run.

`analyze(results)` reads only the tables of `nautilus_sor.analysis.results.RunResults` (parents, orders,
fills, market, trades) and returns a `TcaReport` with four DataFrames:

* `parents`: one row per parent order (per scenario), columns `PARENT_COLUMNS` (`tca_columns.py`);
* `venues`: one row per (parent, venue) the parent sent orders to or was filled at, columns `VENUE_COLUMNS`;
* `fills`: the fills with their per-fill metrics, columns `FILL_COLUMNS`;
* `scenario_summary`: one row per scenario ("router" first, then the baselines), columns `SUMMARY_COLUMNS`;

plus `notes` (what was excluded or undefined, and why) and `to_text()`, a plain fixed-width rendering
(`tca_text.py`).

Conventions (all prices in quote currency, all timestamps int64 ns, "bps" = 1e-4):

* side sign `s` = +1 for a BUY parent, -1 for a SELL parent (the parent's side is used for all of its fills).
* Quote "at or before t" (a venue's) and the consolidated mid `cmid(t)`: `market.py` (the one rule of the
  analysis: a missing side replaces the venue's earlier one; crossed and locked consolidated books give a
  mid; a bar market's venue prices fill in where no side is quoted; NaN before any quote).
* Arrival price `A` = cmid(parent.arrival_ts).
* Execution window of a parent: [arrival_ts, end_ts], both ends included.
* Every "quantity-weighted" average is over the fills (or parents) where the metric is defined; the
  weights of those where it is NaN are left out of both numerator and denominator (and a note says so).

Metrics (per parent; per (parent, venue) the same over that venue's fills and orders):

* `avg_price` = sum(q * p) / sum(q) over fills; `filled_notional` = sum(q * p); `fees` = sum(commission)
  (negative = net rebate).
* `fill_rate` = filled / parent quantity (per venue: filled there / quantity ordered there, i.e. the sum of
  `orders.quantity` of the parent's orders at that venue, rejected and denied ones included).
* `is_ex_fees_bps` = s * (avg_price - A) / A * 1e4; `fees_bps` = fees / filled_notional * 1e4;
  `is_bps` = is_ex_fees_bps + fees_bps. Positive = cost. Only the filled part is charged: the unfilled part
  shows in `fill_rate` and, per parent, in `opportunity_bps`: what finishing the unfilled quantity would
  have cost at the end of the parent's schedule, in bps of the whole parent (0 when fully filled). The
  parents table's clean-up (`cleanup_qty`, `cleanup_notional`, `cleanup_fees`: the rest taken across every
  venue's book at max(end_ts, horizon_end_ts) at taker fees, `backtest/cleanup.py`, as the evaluation
  prices it) gives (s * (cleanup_notional - A * cleanup_qty) + cleanup_fees) / (A * quantity) * 1e4;
  without one (NaN), the rest is marked to the consolidated mid then: s * (cmid(t) - A) / A * 1e4 *
  unfilled / quantity (a note says so). `all_in_bps` = is_bps * filled / quantity + opportunity_bps: the
  cost of the whole parent, fees in and the unfilled rest priced (what baselines are compared on).
* `drift_bps` = s * (M - A) / A * 1e4, with M the quantity-weighted consolidated mid at the fills' times:
  the market's move between arrival and the fills (in a replay our orders do not move the market).
  `impact_bps` = the quantity-weighted s * (price - venue touch) / A * 1e4 where positive (the touch: the
  venue's ask for a buy, bid for a sell, at or before the fill; 0 without one): what walking the book
  beyond the touch cost. `spread_bps` = s * (avg_price - M) / A * 1e4 - impact_bps: crossing (or earning)
  the spread. drift + spread + impact = is_ex_fees_bps (the report's breakdown: drift + spread + impact +
  fees = is_bps).
* `vwap_slippage_bps` = s * (avg_price - market_vwap) / market_vwap * 1e4, without fees; `market_vwap` =
  sum(price * size) / sum(size) of the `trades` tape of all venues with ts in the execution window.
  Positive = worse than the market VWAP. The tape is taken as the market's prints as given.
* `participation` = filled / `market_volume` (tape size of all venues in the window); per venue also
  `venue_participation` = filled there / that venue's tape size in the window.
* `spread_capture` (unitless) per fill: s * (m - p) / h with m, h the mid and half-spread of that fill's
  venue quote at or before the fill ts: 1 = bought at the bid (sold at the ask), 0 = at the mid, -1 =
  bought at the ask (sold at the bid); beyond +-1 when filled outside the quote. NaN if the venue has no
  two-sided quote with ask > bid at that time. `spread_capture_bps` per fill = s * (m - p) / m * 1e4
  (the price improvement over that venue's mid in bps). Both are quantity-weighted.
* `markout_{h}s_bps` per fill, for h in (1, 10, 60) s: s * (cmid(ts + h) - p) / p * 1e4, quantity-weighted;
  positive = the market moved in our favour after the fill. NaN when the market data ends before ts + h
  (last `market` ts < ts + h).
* `child_orders` = number of `orders` rows; `rejects` = those with status REJECTED or DENIED.
* `latency_mean_ms`, `latency_p95_ms`: mean and 95th percentile (linear interpolation, numpy's default)
  of (ts_accepted - ts_submitted) / 1e6 over the orders with both timestamps set (not -1); NaN if none.

The scenario summary weights each parent's `is_*`, `fees_bps` and `vwap_slippage_bps` by its filled
quantity and `opportunity_bps` and `all_in_bps` by its quantity; pools the fills for `spread_capture*` and markouts (=
weighting the parents by their filled quantity with a defined value) and the orders for latency;
`fill_rate` = total filled / total quantity and `participation` = total filled / sum of the parents'
window volumes (the window-volume-weighted mean of the parents' participations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from nautilus_sor.analysis.market import consolidated, mid_at, venue_quote_at
from nautilus_sor.analysis.results import TABLES, RunResults, with_optional_defaults
from nautilus_sor.analysis.scenarios import sort_key
from nautilus_sor.analysis.tca_columns import (
    FILL_COLUMNS,
    MARKOUT_HORIZONS_S,
    PARENT_COLUMNS,
    REJECT_STATUSES,
    REQUIRED_COLUMNS,
    STR_COLUMNS,
    SUMMARY_COLUMNS,
    VENUE_COLUMNS,
    columns_for,
    empty_frame,
    markout_col,
)
from nautilus_sor.exceptions import ValidationError

@dataclass
class TcaReport:
    """The TCA of a run: per parent, per (parent, venue), per fill and per scenario (see the module doc)."""

    parents: pd.DataFrame
    venues: pd.DataFrame
    fills: pd.DataFrame
    scenario_summary: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    markout_horizons_s: tuple[float, ...] = MARKOUT_HORIZONS_S

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables the report shows and a run directory keeps, by name."""
        return {"parents": self.parents, "venues": self.venues, "scenario_summary": self.scenario_summary}

    def to_text(self, *, parents: bool = False, venues: bool = False, max_rows: int = 50) -> str:
        """Plain text, fixed-width: the scenario summary (metrics as rows, scenarios as columns), optionally
        the per-parent and per-venue tables (at most `max_rows` rows each), then the notes (`tca_text`)."""
        from nautilus_sor.analysis.tca_text import report_text

        return report_text(self, parents=parents, venues=venues, max_rows=max_rows)


# --------------------------------------------------------------------------------------------------------------
# Input validation


def _table(results: RunResults, table: str, notes: list[str]) -> pd.DataFrame:
    df = getattr(results, table, None)
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"invalid {table}: expected a pandas DataFrame, got {type(df).__name__}",
                              field=table, value=type(df).__name__)
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in df.columns]
    if missing:
        raise ValidationError(f"invalid {table}: missing column(s) {missing}", field=f"{table}.{missing[0]}",
                              value=f"columns: {list(df.columns)}")
    out = with_optional_defaults(table, df.reset_index(drop=True).copy())
    dtypes = TABLES[table]
    for col in out.columns:
        dtype = dtypes.get(col)
        if dtype is None:
            continue
        try:
            out[col] = out[col].astype(dtype)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"invalid {table}.{col}: cannot be read as {dtype} ({exc})",
                                  field=f"{table}.{col}", value=str(out[col].dtype)) from exc
    for col in ("scenario", "parent_id", "venue"):
        if col in out.columns and out[col].isna().any():
            notes.append(f"{table}: {int(out[col].isna().sum())} row(s) without a {col}, grouped as '<NA>'")
            out[col] = out[col].fillna("<NA>")
    return out


def _window_sums(ts: npt.NDArray[np.int64], values: list[npt.NDArray[np.float64]], lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]) -> list[npt.NDArray[np.float64]]:
    """Sums of each of `values` over the rows with lo <= ts <= hi (ts sorted), for each window."""
    a = np.searchsorted(ts, lo, side="left")
    b = np.searchsorted(ts, hi, side="right")
    b = np.maximum(a, b)
    out = []
    for v in values:
        cum = np.concatenate([[0.0], np.cumsum(v, dtype=float)])
        out.append(cum[b] - cum[a])
    return out


# --------------------------------------------------------------------------------------------------------------
# Aggregation helpers


def _wavg(df: pd.DataFrame, keys: list[str], value: str, weight: str) -> pd.Series:
    v = df[value].to_numpy(dtype=float)
    w = df[weight].to_numpy(dtype=float)
    ok = np.isfinite(v) & np.isfinite(w) & (w > 0)
    tmp = pd.DataFrame({"num": np.where(ok, v * w, 0.0), "den": np.where(ok, w, 0.0)})
    for k in keys:
        tmp[k] = df[k].to_numpy()
    g = tmp.groupby(keys, sort=False, dropna=False)[["num", "den"]].sum()
    return (g["num"] / g["den"].where(g["den"] > 0)).rename(value)


def _fill_aggregates(fills: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    tmp = fills[keys].copy()
    tmp["filled_qty"] = fills["quantity"].to_numpy()
    tmp["filled_notional"] = (fills["quantity"] * fills["price"]).to_numpy()
    tmp["fees"] = fills["commission"].to_numpy()
    base = tmp.groupby(keys, sort=False, dropna=False)[["filled_qty", "filled_notional", "fees"]].sum()
    parts = [base] + [_wavg(fills, keys, m, "quantity") for m in metrics]
    return pd.concat(parts, axis=1).reset_index()


def _order_aggregates(orders: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    tmp = orders[keys].copy()
    tmp["child_orders"] = 1
    tmp["rejects"] = orders["status"].astype(object).fillna("").str.upper().isin(REJECT_STATUSES).astype("int64")
    tmp["ordered_qty"] = orders["quantity"].to_numpy(dtype=float)
    tmp["orders_filled_qty"] = orders["filled_qty"].to_numpy(dtype=float)
    tmp["latency_ms"] = orders["latency_ms"].to_numpy(dtype=float)
    g = tmp.groupby(keys, sort=False, dropna=False)
    out = g[["child_orders", "rejects", "ordered_qty", "orders_filled_qty"]].sum()
    out["latency_mean_ms"] = g["latency_ms"].mean()
    out["latency_p95_ms"] = g["latency_ms"].quantile(0.95)
    reasons = orders["reason"].astype(object).fillna("") if "reason" in orders else pd.Series("", index=orders.index, dtype=object)
    tmp["_reason"] = np.where(tmp["rejects"].to_numpy() == 1, reasons.where(reasons != "", "no reason given").to_numpy(), "")
    out["reject_reasons"] = g["_reason"].agg(_count_reasons)
    return out.reset_index()


def _count_reasons(reasons: pd.Series) -> str:
    """'reason x3; other x1', most frequent first ('' when none)."""
    counts = reasons[reasons != ""].value_counts()
    return "; ".join(f"{reason} x{n}" for reason, n in counts.items())


def _safe_div(num: pd.Series | npt.NDArray[np.float64], den: pd.Series | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = np.asarray(num, dtype=float)
    d = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(d) & (d != 0), n / np.where(d != 0, d, 1.0), np.nan)


# --------------------------------------------------------------------------------------------------------------
# The analysis


def analyze(results: RunResults, *, markout_horizons_s: Sequence[float] = MARKOUT_HORIZONS_S) -> TcaReport:
    """The TCA of `results` (see the module docstring for every definition).

    Raises `ValidationError` (field "<table>.<column>") only for structurally invalid tables: a table that is
    not a DataFrame, lacks a column TCA reads, or has a column that cannot be read as its schema dtype.
    Anything else (empty tables, fills without market data, unknown parents, bad prices) gives NaN metrics
    and a line in `TcaReport.notes`.
    """
    notes: list[str] = []
    horizons = tuple(float(h) for h in markout_horizons_s)
    parents = _table(results, "parents", notes)
    orders = _table(results, "orders", notes)
    fills = _table(results, "fills", notes)
    market = _table(results, "market", notes)
    trades = _table(results, "trades", notes)
    mcols = [markout_col(h) for h in horizons]
    fill_metrics = ["spread_capture", "spread_capture_bps", *mcols, "mid_at_fill", "beyond_touch"]

    # ---- parents ---------------------------------------------------------------------------------------------
    if "algorithm" not in parents.columns:
        parents["algorithm"] = pd.Series(pd.NA, index=parents.index, dtype="string")
    dup = parents.duplicated(["scenario", "parent_id"], keep="first")
    if dup.any():
        notes.append(f"parents: {int(dup.sum())} duplicate (scenario, parent_id) row(s) ignored (first kept)")
        parents = parents[~dup].reset_index(drop=True)
    side = parents["side"].astype(object).fillna("").str.upper()
    parents["side_sign"] = side.map({"BUY": 1.0, "SELL": -1.0}).astype(float)
    bad_side = parents["side_sign"].isna()
    if bad_side.any():
        notes.append(f"parents: {int(bad_side.sum())} parent(s) with a side other than BUY/SELL: price metrics NaN")
    scen_order = list(dict.fromkeys(parents["scenario"].astype(object).tolist()))
    scen_order.sort(key=lambda s: sort_key(str(s)))
    parents["_scen_rank"] = parents["scenario"].astype(object).map({s: i for i, s in enumerate(scen_order)})
    parents = parents.sort_values(["_scen_rank", "arrival_ts", "parent_id"], kind="stable").reset_index(drop=True)

    # ---- market: consolidated quotes, arrival and end mids ---------------------------------------------------
    cons = consolidated(market)
    last_market_ts = int(cons["ts"].iloc[-1]) if len(cons) else None
    if market.empty:
        notes.append("market: no market data: arrival prices, spread capture and markouts are NaN")
    elif "mid" in market.columns and market["mid"].gt(0).any():
        notes.append("market: where no venue quotes both sides (a bar market), the consolidated mid is the mean of the "
                     "venues' last prices (the market table's `mid`, e.g. bar closes)")
    parents["arrival_price"] = mid_at(cons, parents["arrival_ts"].to_numpy())
    # The unfilled rest is priced at the end of the schedule (or the last child, if later).
    horizon_end = parents["horizon_end_ts"].to_numpy(dtype="int64") if "horizon_end_ts" in parents else np.full(len(parents), -1)
    parents["_cleanup_ts"] = np.maximum(parents["end_ts"].to_numpy(dtype="int64"), horizon_end)
    parents["_end_mid"] = mid_at(cons, parents["_cleanup_ts"].to_numpy())
    no_arrival = parents["arrival_price"].isna() & (not market.empty)  # not `~`: on a bool that is -1 or -2 (deprecated since 3.12)
    if no_arrival.any():
        notes.append(f"parents: {int(no_arrival.sum())} parent(s) without a two-sided consolidated quote at or "
                     "before arrival_ts: arrival price and shortfall NaN")

    # ---- trades: window VWAP and volume ----------------------------------------------------------------------
    t = trades.sort_values("ts", kind="stable")
    t_ok = np.isfinite(t["price"].to_numpy(dtype=float)) & (t["price"].to_numpy(dtype=float) > 0) \
        & np.isfinite(t["size"].to_numpy(dtype=float)) & (t["size"].to_numpy(dtype=float) > 0)
    if (~t_ok).any():
        notes.append(f"trades: {int((~t_ok).sum())} print(s) with a non-positive or non-finite price/size ignored")
    t = t[t_ok]
    t_ts = t["ts"].to_numpy(dtype="int64")
    t_size = t["size"].to_numpy(dtype=float)
    t_notional = t_size * t["price"].to_numpy(dtype=float)
    lo = parents["arrival_ts"].to_numpy(dtype="int64")
    hi = parents["end_ts"].to_numpy(dtype="int64")
    bad_window = hi < lo
    if bad_window.any():
        notes.append(f"parents: {int(bad_window.sum())} parent(s) with end_ts < arrival_ts: empty execution window")
    vol, notional = _window_sums(t_ts, [t_size, t_notional], lo, hi)
    parents["market_volume"] = vol
    parents["market_vwap"] = _safe_div(notional, vol)
    if len(parents) and (vol <= 0).any():
        notes.append(f"trades: {int((vol <= 0).sum())} parent(s) with no prints in their execution window: "
                     "market VWAP and participation NaN")

    # ---- fills: validity, parent, venue quote, per-fill metrics ----------------------------------------------
    f = fills.copy()
    q = f["quantity"].to_numpy(dtype=float)
    p = f["price"].to_numpy(dtype=float)
    f_ok = np.isfinite(q) & (q > 0) & np.isfinite(p) & (p > 0)
    if (~f_ok).any():
        notes.append(f"fills: {int((~f_ok).sum())} fill(s) with a non-positive or non-finite quantity/price ignored")
    f = f[f_ok].copy()
    nan_comm = f["commission"].isna()
    if nan_comm.any():
        notes.append(f"fills: {int(nan_comm.sum())} fill(s) without a commission counted as 0")
        f["commission"] = f["commission"].fillna(0.0)
    f = f.merge(parents[["scenario", "parent_id", "side_sign"]], on=["scenario", "parent_id"], how="left",
                indicator=True)
    orphan = (f["_merge"] != "both").to_numpy()
    if orphan.any():
        notes.append(f"fills: {int(orphan.sum())} fill(s) of parents not in the parents table ignored")
    f = f[~orphan].drop(columns="_merge").reset_index(drop=True)
    f["_vkey"] = f["venue"].astype(object).fillna("<NA>")
    f["venue_bid"], f["venue_ask"] = venue_quote_at(market, f["ts"].to_numpy(dtype="int64"), f["_vkey"].to_numpy())
    sign = f["side_sign"].to_numpy(dtype=float)
    price = f["price"].to_numpy(dtype=float)
    vbid = f["venue_bid"].to_numpy(dtype=float)
    vask = f["venue_ask"].to_numpy(dtype=float)
    vmid = (vbid + vask) / 2.0
    half = (vask - vbid) / 2.0
    quote_ok = np.isfinite(vbid) & np.isfinite(vask) & (vbid > 0) & (half > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f["spread_capture"] = np.where(quote_ok, sign * (vmid - price) / half, np.nan)
        f["spread_capture_bps"] = np.where(quote_ok, sign * (vmid - price) / vmid * 1e4, np.nan)
    no_quote = ~np.isfinite(vbid) & ~np.isfinite(vask)
    if no_quote.any():
        venues = sorted(map(str, f.loc[no_quote, "_vkey"].unique()))
        notes.append(f"fills: {int(no_quote.sum())} fill(s) on venue(s) {venues} without a quote at or before "
                     "the fill: spread capture NaN")
    bad_quote = ~quote_ok & ~no_quote
    if bad_quote.any():
        notes.append(f"fills: {int(bad_quote.sum())} fill(s) whose venue quote was one-sided, locked or crossed: "
                     "spread capture NaN")
    f_ts = f["ts"].to_numpy(dtype="int64")
    # Consolidated mid when each fill happened: splits the shortfall into impact (arrival -> mid at the
    # fill) and spread (mid at the fill -> fill price).
    f["mid_at_fill"] = mid_at(cons, f_ts)
    # How far past its venue's touch a fill went (price units, >= 0; 0 without a touch): the book walked.
    touch = np.where(sign > 0, vask, vbid)
    with np.errstate(invalid="ignore"):
        f["beyond_touch"] = np.where(np.isfinite(touch) & (touch > 0), np.maximum(sign * (price - touch), 0.0), 0.0)
    beyond: dict[str, int] = {}
    for h, col in zip(horizons, mcols):
        at = f_ts + int(round(h * 1e9))
        mid_h = mid_at(cons, at)
        in_data = (at <= last_market_ts) if last_market_ts is not None else np.zeros(len(at), dtype=bool)
        if (~in_data).any():
            beyond[f"{h:g}s"] = int((~in_data).sum())
        f[col] = np.where(in_data, sign * (mid_h - price) / price * 1e4, np.nan)
    if beyond and last_market_ts is not None:
        counts = ", ".join(f"{n} at +{h}" for h, n in beyond.items())
        notes.append(f"fills: market data ends before fill ts + horizon ({counts}): those markouts are NaN")
    if no_quote.any() or bad_quote.any() or beyond:
        notes.append("fills: spread capture and markout averages are over the fills where they are defined")

    # ---- orders: latency ---------------------------------------------------------------------------------------
    o = orders.merge(parents[["scenario", "parent_id"]], on=["scenario", "parent_id"], how="left", indicator=True)
    o_orphan = (o["_merge"] != "both").to_numpy()
    if o_orphan.any():
        notes.append(f"orders: {int(o_orphan.sum())} order(s) of parents not in the parents table ignored")
    o = o[~o_orphan].drop(columns="_merge").reset_index(drop=True)
    sub = o["ts_submitted"].to_numpy(dtype="int64")
    acc = o["ts_accepted"].to_numpy(dtype="int64")
    lat_ok = (sub >= 0) & (acc >= 0)
    neg = lat_ok & (acc < sub)
    if neg.any():
        notes.append(f"orders: {int(neg.sum())} order(s) accepted before they were submitted: latency ignored")
    lat_ok &= ~neg
    o["latency_ms"] = np.where(lat_ok, (acc - sub) / 1e6, np.nan)

    # ---- per parent --------------------------------------------------------------------------------------------
    pkeys = ["scenario", "parent_id"]
    fa = _fill_aggregates(f, pkeys, fill_metrics)
    oa = _order_aggregates(o, pkeys)
    P = parents.merge(fa, on=pkeys, how="left").merge(oa, on=pkeys, how="left")
    for c in ("filled_qty", "filled_notional", "fees", "ordered_qty", "orders_filled_qty"):
        P[c] = P[c].fillna(0.0)
    for c in ("child_orders", "rejects"):
        P[c] = P[c].fillna(0).astype("int64")
    P["reject_reasons"] = P["reject_reasons"].fillna("")
    mismatch = ~np.isclose(P["orders_filled_qty"].to_numpy(), P["filled_qty"].to_numpy(), rtol=1e-9, atol=1e-12) \
        & (P["child_orders"].to_numpy() > 0)
    if mismatch.any():
        notes.append(f"orders: {int(mismatch.sum())} parent(s) whose orders.filled_qty differs from their fills "
                     "(the fills are used)")
    qty = P["quantity"].to_numpy(dtype=float)
    filled = P["filled_qty"].to_numpy(dtype=float)
    over = filled > qty * (1 + 1e-12) + 1e-12
    if over.any():
        notes.append(f"parents: {int(over.sum())} parent(s) filled beyond their quantity")
    P["unfilled_qty"] = np.maximum(qty - filled, 0.0)
    P["fill_rate"] = _safe_div(filled, np.where(qty > 0, qty, np.nan))
    if (~(qty > 0)).any():
        notes.append(f"parents: {int((~(qty > 0)).sum())} parent(s) with a non-positive quantity: fill rate NaN")
    _price_metrics(P)
    sgn = P["side_sign"].to_numpy(dtype=float)
    A = P["arrival_price"].to_numpy(dtype=float)
    unfilled = P["unfilled_qty"].to_numpy(dtype=float)
    cleanup = {c: (P[c].to_numpy(dtype=float) if c in P else np.full(len(P), np.nan))
               for c in ("cleanup_qty", "cleanup_notional", "cleanup_fees")}
    priced = np.isfinite(cleanup["cleanup_notional"]) & np.isfinite(cleanup["cleanup_fees"]) & np.isfinite(cleanup["cleanup_qty"])
    with np.errstate(divide="ignore", invalid="ignore"):
        walked = (sgn * (cleanup["cleanup_notional"] - A * cleanup["cleanup_qty"]) + cleanup["cleanup_fees"]) / (A * qty) * 1e4
        marked = sgn * (P["_end_mid"].to_numpy(dtype=float) - A) / A * 1e4 * unfilled / qty
    opp = np.where(priced, walked, marked)
    unpriced = (unfilled > 0) & ~priced
    if unpriced.any():
        notes.append(f"parents: {int(unpriced.sum())} parent(s) left quantity unfilled without a clean-up price in the parents "
                     "table: the rest is marked to the consolidated mid at the schedule's end (no spread, no fee)")
    P["opportunity_bps"] = np.where(unfilled > 0, opp, np.where(qty > 0, 0.0, np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        filled_part = np.where(filled > 0, P["is_bps"].to_numpy(dtype=float) * filled / qty, 0.0)
    P["all_in_bps"] = filled_part + P["opportunity_bps"].to_numpy(dtype=float)
    P["participation"] = _safe_div(filled, P["market_volume"].where(P["market_volume"] > 0))
    parent_cols = columns_for(PARENT_COLUMNS, horizons)
    P_out = P[parent_cols].copy() if len(P) else empty_frame({c: "" for c in parent_cols})

    # ---- per (parent, venue) -----------------------------------------------------------------------------------
    vkeys = ["scenario", "parent_id", "venue"]
    fv = _fill_aggregates(f, vkeys, fill_metrics)
    ov = _order_aggregates(o, vkeys)
    V = fv.merge(ov, on=vkeys, how="outer")
    V = V.merge(parents[["scenario", "parent_id", "side", "side_sign", "arrival_price", "arrival_ts", "end_ts",
                         "market_volume", "market_vwap", "_scen_rank"]], on=pkeys, how="left")
    for c in ("filled_qty", "filled_notional", "fees", "ordered_qty"):
        V[c] = V[c].fillna(0.0)
    for c in ("child_orders", "rejects"):
        V[c] = V[c].fillna(0).astype("int64")
    V["reject_reasons"] = V["reject_reasons"].fillna("")
    no_orders = (V["ordered_qty"].to_numpy() <= 0) & (V["filled_qty"].to_numpy() > 0)
    if no_orders.any():
        notes.append(f"orders: {int(no_orders.sum())} (parent, venue) pair(s) with fills but no ordered quantity: "
                     "venue fill rate NaN")
    V["fill_rate"] = _safe_div(V["filled_qty"], V["ordered_qty"].where(V["ordered_qty"] > 0))
    _price_metrics(V)
    V["participation"] = _safe_div(V["filled_qty"], V["market_volume"].where(V["market_volume"] > 0))
    V["venue_volume"] = _venue_volumes(V, t)
    V["venue_participation"] = _safe_div(V["filled_qty"], V["venue_volume"].where(V["venue_volume"] > 0))
    V = V.sort_values(["_scen_rank", "arrival_ts", "parent_id", "venue"], kind="stable").reset_index(drop=True)
    venue_cols = columns_for(VENUE_COLUMNS, horizons)
    V_out = V[venue_cols].copy() if len(V) else empty_frame({c: "" for c in venue_cols})

    # ---- per fill ----------------------------------------------------------------------------------------------
    fill_cols = [c for c in columns_for(FILL_COLUMNS, horizons) if c in f.columns]
    F_out = f[fill_cols].reset_index(drop=True)

    # ---- per scenario ------------------------------------------------------------------------------------------
    S = _scenario_summary(P, f, o, scen_order, fill_metrics, horizons)

    for df in (P_out, V_out, F_out, S):
        for c in df.columns:
            if c in STR_COLUMNS:
                df[c] = df[c].astype("string")
    return TcaReport(parents=P_out, venues=V_out, fills=F_out, scenario_summary=S,
                     notes=list(dict.fromkeys(notes)), markout_horizons_s=horizons)


def _price_metrics(df: pd.DataFrame) -> None:
    """avg price, shortfall, fees and VWAP slippage columns, in place, from the aggregated sums."""
    sgn = df["side_sign"].to_numpy(dtype=float)
    filled = df["filled_qty"].to_numpy(dtype=float)
    notional = df["filled_notional"].to_numpy(dtype=float)
    A = df["arrival_price"].to_numpy(dtype=float)
    vwap = df["market_vwap"].to_numpy(dtype=float)
    avg = _safe_div(notional, np.where(filled > 0, filled, np.nan))
    df["avg_price"] = avg
    with np.errstate(divide="ignore", invalid="ignore"):
        df["is_ex_fees_bps"] = sgn * (avg - A) / A * 1e4
        df["fees_bps"] = _safe_div(df["fees"].to_numpy(dtype=float), np.where(notional > 0, notional, np.nan)) * 1e4
        df["is_bps"] = df["is_ex_fees_bps"] + df["fees_bps"]
        if "mid_at_fill" in df.columns:
            mid = df["mid_at_fill"].to_numpy(dtype=float)
            df["drift_bps"] = sgn * (mid - A) / A * 1e4
            df["impact_bps"] = df["beyond_touch"].to_numpy(dtype=float) / A * 1e4
            df["spread_bps"] = sgn * (avg - mid) / A * 1e4 - df["impact_bps"]
        df["vwap_slippage_bps"] = sgn * (avg - vwap) / vwap * 1e4


def _venue_volumes(V: pd.DataFrame, trades: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Each (parent, venue) row's venue tape size over the parent's window (a loop over the few venues)."""
    out = np.zeros(len(V))
    if not len(V):
        return out
    vkey = V["venue"].astype(object).fillna("<NA>").to_numpy()
    tkey = trades["venue"].astype(object).fillna("<NA>").to_numpy()
    lo = V["arrival_ts"].to_numpy(dtype="int64")
    hi = V["end_ts"].to_numpy(dtype="int64")
    for venue in pd.unique(vkey):
        rows = vkey == venue
        sel = tkey == venue
        (vol,) = _window_sums(trades["ts"].to_numpy(dtype="int64")[sel], [trades["size"].to_numpy(dtype=float)[sel]],
                              lo[rows], hi[rows])
        out[rows] = vol
    return out


def _scenario_summary(P: pd.DataFrame, f: pd.DataFrame, o: pd.DataFrame, scen_order: list[Any],
                      fill_metrics: list[str], horizons: Sequence[float]) -> pd.DataFrame:
    cols = columns_for(SUMMARY_COLUMNS, horizons)
    if not len(P):
        return empty_frame({c: "" for c in cols})
    k = ["scenario"]
    g = P.groupby(k, sort=False)
    S = g.agg(parents=("parent_id", "size"), quantity=("quantity", "sum"), filled_qty=("filled_qty", "sum"),
              filled_notional=("filled_notional", "sum"), child_orders=("child_orders", "sum"),
              rejects=("rejects", "sum"), fees=("fees", "sum"), _volume=("market_volume", "sum"))
    P = P.assign(_filled_w=P["filled_qty"], _qty_w=P["quantity"])
    for m in ("fees_bps", "is_ex_fees_bps", "is_bps", "drift_bps", "impact_bps", "spread_bps", "vwap_slippage_bps"):
        S[m] = _wavg(P, k, m, "_filled_w")
    S["opportunity_bps"] = _wavg(P, k, "opportunity_bps", "_qty_w")
    S["all_in_bps"] = _wavg(P, k, "all_in_bps", "_qty_w")
    S["fill_rate"] = _safe_div(S["filled_qty"], S["quantity"].where(S["quantity"] > 0))
    S["participation"] = _safe_div(S["filled_qty"], S["_volume"].where(S["_volume"] > 0))
    if len(f):
        for m in fill_metrics:
            S[m] = _wavg(f, k, m, "quantity")
    else:
        for m in fill_metrics:
            S[m] = np.nan
    if len(o):
        lat = o.groupby(k, sort=False)["latency_ms"]
        S["latency_mean_ms"] = lat.mean()
        S["latency_p95_ms"] = lat.quantile(0.95)
    else:
        S["latency_mean_ms"] = np.nan
        S["latency_p95_ms"] = np.nan
    S = S.reset_index()
    S["_rank"] = S["scenario"].astype(object).map({s: i for i, s in enumerate(scen_order)})
    S = S.sort_values("_rank", kind="stable").reset_index(drop=True)
    for c in ("parents", "child_orders", "rejects"):
        S[c] = S[c].astype("int64")
    return S[cols]


__all__ = ["TcaReport", "analyze"]
