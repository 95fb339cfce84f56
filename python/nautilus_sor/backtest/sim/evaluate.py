"""The routing evaluation: every parent of the grid under every scenario, in one run, with statistics.

Grid: markets x algorithms x sizes x sides x start times. Scenarios per parent:

- `router`: the core Router (learning venue statistics from its own simulated outcomes across the run);
- `equal_split`; `single:<venue>` for every venue, from which
  `exante_best` (the venue with the lowest half spread + taker fee over the minute before the start) and
  `hindsight_best` (per parent, the single venue that turned out cheapest) are taken;
- `single_venue_twap`: a market TWAP over the horizon on the venue that traded most in the minute before;
- `snapshot_optimum`: the exact split of each slice on the merged books of its instant (`optimum.py`; an
  iceberg's is its horizon's TWAP); not a bound;
- `lower_bound`: a cost no execution of the parent in its window can beat (`optimum.lower_bound_bps`);
- with `styles` (TWAP/VWAP only): `router:<style>`, the router scenario again with each other execution
  style (`params.ExecParams.execution_style`, its own learning router per series), compared paired by
  start with the taker one (`style_lines`, the "Execution styles" table).

Cost: bps versus the consolidated arrival mid, fees in (`cost_bps`, filled part), each venue's basis removed at
each order's decision time (`basis.py`; `cost_all_in_arrival_basis_bps`: removed at the parent's arrival). Quantity a scenario left
unfilled at its horizon is reported (`unfilled`) and priced by a clean-up at the horizon end across the
merged books at taker fees (`cost_all_in_bps`, the figure the comparisons use).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from nautilus_sor.backtest.sim.bars import BAR_ALGORITHMS, bar_books, is_bar_market
from nautilus_sor.backtest.sim.exchange import BUY, SELL, Fill, VenueExchange
from nautilus_sor.backtest.sim.optimum import cleanup_fills, lower_bound_bps, snapshot_optimum_fills
from nautilus_sor.backtest.sim.feeds import LearningFeed
from nautilus_sor.backtest.sim.market import SimMarket
from nautilus_sor.backtest.sim.params import ALGORITHMS, NS, ExecParams
from nautilus_sor.backtest.sim.simulator import Parent, ParentRun, cost_bps
from nautilus_sor.exceptions import ConfigError, ValidationError
from nautilus_sor.analysis.stats import mean_half_width, paired_difference
from nautilus_sor.execution_algorithms.styles import EXECUTION_STYLES, TAKER, check_style

SIZES = {"small": 0.001, "1%": 0.01, "5%": 0.05}
COMPARED = ("router", "equal_split", "exante_best", "hindsight_best", "single_venue_twap", "snapshot_optimum", "lower_bound")


@dataclass(frozen=True)
class EvalConfig:
    algorithms: tuple[str, ...] = ALGORITHMS
    sizes: dict[str, float] = field(default_factory=lambda: dict(SIZES))  # fraction of the volume per horizon
    sides: tuple[int, ...] = (BUY, SELL)
    starts: int = 30
    lookback_s: float = 60.0  # data before the first start, for the ex-ante choices
    params: ExecParams = field(default_factory=ExecParams)
    bar_closes: bool = False  # a bar market: starts moved to bar closes (`sim.bars.snap_to_closes`)
    # Execution styles the router scenario is also run with (TWAP/VWAP; module doc). Empty: the params' own only.
    styles: tuple[str, ...] = ()

    def validate(self) -> EvalConfig:
        check_styles(self.styles)
        for a in self.algorithms:
            if a not in ALGORITHMS:
                raise ValidationError(f"invalid algorithms: {a!r} (one of {', '.join(ALGORITHMS)})", field="algorithms", value=a)
        if self.starts < 2:
            raise ValidationError(f"invalid starts: {self.starts!r} (at least 2, for a confidence interval)", field="starts", value=self.starts)
        for label, frac in self.sizes.items():
            if not frac > 0:
                raise ValidationError(f"invalid sizes[{label}]: {frac!r} (a fraction > 0)", field=f"sizes[{label}]", value=frac)
        self.params.validate()
        return self


STYLED_ALGORITHMS = ("twap", "vwap")


def check_styles(styles: Any) -> tuple[str, ...]:
    """The styles to compare, taker (the reference) first; a ConfigError naming `styles` and the value for
    a name `styles.check_style` refuses."""
    if isinstance(styles, str):
        styles = tuple(s.strip() for s in styles.split(",") if s.strip())
    for style in styles:
        try:
            check_style(style)
        except ConfigError as exc:
            raise ConfigError(f"invalid styles: {style!r} ({exc})", field="styles", value=repr(style)) from None
    return tuple(dict.fromkeys((TAKER, *styles))) if styles else ()


def style_scenario(style: str, params: ExecParams) -> str:
    """The scenario name of the router scenario run with `style`: `router` for the params' own style."""
    return "router" if style == params.execution_style else f"router:{style}"


def start_times(sim: SimMarket, cfg: EvalConfig) -> npt.NDArray[np.int64]:
    """Evenly spaced starts with `lookback_s` of data before and a whole horizon after."""
    first = sim.market.start_ns + int(cfg.lookback_s * NS)
    last = sim.market.end_ns - int(cfg.params.horizon_s * NS) - NS
    if last <= first:
        raise ValidationError(
            f"invalid horizon_s: {cfg.params.horizon_s} s plus the {cfg.lookback_s} s lookback do not fit the "
            f"{(sim.market.end_ns - sim.market.start_ns) / NS:.0f} s of {sim.market.name}", field="horizon_s", value=cfg.params.horizon_s)
    return np.linspace(first, last, cfg.starts).astype(np.int64)


def _row(sim: SimMarket, parent: Parent, size_label: str, scenario: str, fills: list[Fill], unfilled: float, end_ns: int,
         exchanges: dict[str, VenueExchange], arrival_mid: float, decisions: int = 0, venue: str = "") -> dict[str, Any]:
    horizon_end = parent.start_ns + int(sim.params.horizon_s * NS)
    cleanup: list[Fill] = []
    if unfilled > 1e-9:  # taken across the merged books at the horizon end (`optimum.cleanup_fills`)
        cleanup = cleanup_fills(sim, exchanges, parent.side, unfilled, max(end_ns, horizon_end))
    filled = sum(f.size for f in fills)
    headline = sim.aligned_fills(fills + cleanup, "decision", parent.start_ns)
    beside = sim.aligned_fills(fills + cleanup, "arrival", parent.start_ns)
    n = len(fills)
    return {
        "market": sim.market.name, "algorithm": parent.algorithm, "size": size_label, "side": "BUY" if parent.side == BUY else "SELL",
        "quantity": parent.quantity, "start_ns": parent.start_ns, "scenario": scenario, "venue": venue,
        "filled": filled, "unfilled": unfilled, "fill_ratio": filled / parent.quantity,
        "maker_share": sum(f.size for f in fills if f.liquidity == "MAKER") / filled if filled > 0 else 0.0,
        "fees": sum(f.fee for f in fills), "orders": decisions, "arrival_mid": arrival_mid,
        "cost_bps": cost_bps(headline[:n], parent.side, arrival_mid),
        "cost_all_in_bps": cost_bps(headline, parent.side, arrival_mid),
        "cost_all_in_arrival_basis_bps": cost_bps(beside, parent.side, arrival_mid),
        "end_ns": end_ns,
        "last_fill_ns": max((f.ts for f in fills + cleanup), default=parent.start_ns),
    }


def _bound_row(sim: SimMarket, parent: Parent, size_label: str, rows: list[dict[str, Any]], arrival_mid: float) -> dict[str, Any]:
    """The parent's lower bound (`optimum.lower_bound_bps`) over the window every scenario's fills fall in."""
    end = max(r["last_fill_ns"] for r in rows)
    return {"market": sim.market.name, "algorithm": parent.algorithm, "size": size_label, "side": "BUY" if parent.side == BUY else "SELL",
            "quantity": parent.quantity, "start_ns": parent.start_ns, "scenario": "lower_bound", "venue": "", "filled": float("nan"),
            "unfilled": float("nan"), "fill_ratio": float("nan"), "maker_share": float("nan"), "fees": float("nan"), "orders": 0,
            "arrival_mid": arrival_mid, "cost_bps": float("nan"),
            "cost_all_in_bps": lower_bound_bps(sim, parent.side, parent.start_ns, end, arrival_mid, "decision"),
            "cost_all_in_arrival_basis_bps": lower_bound_bps(sim, parent.side, parent.start_ns, end, arrival_mid, "arrival"),
            "end_ns": end, "last_fill_ns": end}


def evaluate_market(sim: SimMarket, cfg: EvalConfig, progress: Any = None) -> pd.DataFrame:
    """Every parent of the grid on one market under every scenario; one row per (parent, scenario)."""
    cfg.validate()
    starts = start_times(sim, cfg)
    if cfg.bar_closes:
        from nautilus_sor.backtest.sim.bars import snap_to_closes

        books = [v.book for v in sim.venues if v.book is not None]  # every venue of a bar market has one (sim.bars.bar_books)
        two_sided = np.sum([np.isfinite(b.bid_px[:, 0]) & np.isfinite(b.ask_px[:, 0]) for b in books], axis=0)
        latest = sim.market.end_ns - int(cfg.params.horizon_s * NS)
        starts = snap_to_closes(starts, books[0].ts, np.asarray(two_sided) >= 2, latest)
    horizon_units_volume = sim.window_volume() * cfg.params.horizon_s / ((sim.market.end_ns - sim.market.start_ns) / NS)
    rows: list[dict[str, Any]] = []
    twap_params = cfg.params
    for algorithm in cfg.algorithms:
        for size_label, frac in cfg.sizes.items():
            qty = _round_qty(sim, frac * horizon_units_volume)
            for side in cfg.sides:
                router = sim.router()  # one learning router per series, parents in time order
                feed = LearningFeed(router)
                styled = [(style, replace(cfg.params, execution_style=style), LearningFeed(sim.router()))
                          for style in check_styles(cfg.styles) if style != cfg.params.execution_style and algorithm in STYLED_ALGORITHMS]
                for start in starts:
                    parent = Parent(side, qty, int(start), algorithm)
                    mid = sim.consolidated_mid(parent.start_ns)
                    first = len(rows)
                    run = ParentRun(sim, parent, "router", router=router, feed=feed)
                    res = run.run()
                    rows.append(_row(sim, parent, size_label, "router", res.fills, res.unfilled, res.end_ns, run.ex, mid, len(res.decisions)))
                    rows[-1]["execution_style"] = cfg.params.execution_style
                    for style, style_params, style_feed in styled:
                        run = ParentRun(sim, parent, "router", router=style_feed.router, feed=style_feed, params=style_params)
                        res = run.run()
                        rows.append(_row(sim, parent, size_label, style_scenario(style, cfg.params), res.fills, res.unfilled, res.end_ns, run.ex, mid,
                                         len(res.decisions)))
                        rows[-1]["execution_style"] = style
                    for scenario in ["equal_split"] + [f"single:{n}" for n in sim.names]:
                        run = ParentRun(sim, parent, scenario)
                        res = run.run()
                        rows.append(_row(sim, parent, size_label, scenario, res.fills, res.unfilled, res.end_ns, run.ex, mid,
                                         len(res.decisions), venue=scenario[7:] if scenario.startswith("single:") else ""))
                    home = sim.home_venue(parent.start_ns, cfg.lookback_s)
                    twap = ParentRun(sim, replace(parent, algorithm="twap"), f"single:{home}")
                    twap.p = twap_params
                    res = twap.run()
                    rows.append(_row(sim, parent, size_label, "single_venue_twap", res.fills, res.unfilled, res.end_ns, twap.ex, mid,
                                     len(res.decisions), venue=home))
                    exchanges = sim.exchanges()
                    schedule_algo = "twap" if algorithm == "iceberg" else algorithm
                    fills, left = snapshot_optimum_fills(sim, exchanges, side, sim.schedule(schedule_algo, qty, parent.start_ns))
                    rows.append(_row(sim, parent, size_label, "snapshot_optimum", fills, left, parent.start_ns, exchanges, mid))
                    rows[-1]["venue"] = sim.exante_best_venue(parent.start_ns, cfg.lookback_s)  # remembered for `derive`
                    rows.append(_bound_row(sim, parent, size_label, rows[first:], mid))
                    if progress is not None:
                        progress()
    return derive_baselines(pd.DataFrame(rows))


def _round_qty(sim: SimMarket, qty: float) -> float:
    lot = max(v.lot_size for v in sim.venues)
    return max(lot, math.floor(qty / lot) * lot)


def derive_baselines(runs: pd.DataFrame) -> pd.DataFrame:
    """Adds `exante_best` (the single venue chosen before the start) and `hindsight_best` (the cheapest single
    venue of each parent, all-in) rows, copied from the `single:<venue>` rows."""
    key = ["market", "algorithm", "size", "side", "start_ns"]
    singles = runs[runs["scenario"].str.startswith("single:")]
    exante_venue = runs[runs["scenario"] == "snapshot_optimum"].set_index(key)["venue"]
    runs.loc[runs["scenario"] == "snapshot_optimum", "venue"] = ""
    picked = singles.join(exante_venue.rename("exante_venue"), on=key)
    exante = picked[picked["venue"] == picked["exante_venue"]].drop(columns="exante_venue").assign(scenario="exante_best")
    best_idx = singles.sort_values("cost_all_in_bps").groupby(key, sort=False).head(1).index
    hindsight = singles.loc[best_idx].assign(scenario="hindsight_best")
    return pd.concat([runs, exante, hindsight], ignore_index=True)


BASELINES = ("equal_split", "exante_best", "hindsight_best")
OPTIMUM = "snapshot_optimum"


def by_start(group: pd.DataFrame, column: str = "cost_all_in_bps") -> pd.DataFrame:
    """Per start time (rows) and scenario (columns): `column` with buy and sell of one start averaged - the
    samples every paired comparison of the evaluation is made of."""
    return group.groupby(["scenario", "start_ns"])[column].mean().unstack("scenario")


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (market, algorithm, size) and scenario: mean all-in cost over start times with a 95% t interval
    (buy and sell of one start averaged into one sample), fill ratio; and, paired by start, the router's
    saving over each baseline (bps under both price conventions, and quote currency per parent under the
    headline one), the snapshot optimum's saving over equal split and the ex-ante venue, and the share of
    it the router captured where that saving is significant (its interval excludes 0)."""
    out = []
    for (market, algorithm, size), group in runs.groupby(["market", "algorithm", "size"], sort=False):
        per_start = by_start(group)
        beside = by_start(group, "cost_all_in_arrival_basis_bps")
        notional = group[group["scenario"] == "router"].groupby("start_ns").apply(
            lambda g: float((g["quantity"] * g["arrival_mid"]).mean()), include_groups=False)
        fill = group.groupby("scenario")["fill_ratio"].mean()
        row: dict[str, Any] = {"market": market, "algorithm": algorithm, "size": size, "starts": len(per_start),
                               "quantity": float(group["quantity"].iloc[0]), "notional": float(notional.mean())}
        for scenario in COMPARED:
            if scenario in per_start:
                mean, half, _ = mean_half_width(per_start[scenario].to_numpy())
                row[f"{scenario}_bps"], row[f"{scenario}_ci"] = mean, half
                mean, half, _ = mean_half_width(beside[scenario].to_numpy())
                row[f"{scenario}_arrival_basis_bps"], row[f"{scenario}_arrival_basis_ci"] = mean, half
                row[f"{scenario}_fill"] = float(fill.get(scenario, float("nan")))
        row.update(_style_columns(group, per_start))
        for base in BASELINES:
            diff = (per_start[base] - per_start["router"]).to_numpy()
            mean, half, _ = mean_half_width(diff)
            row[f"saving_vs_{base}_bps"], row[f"saving_vs_{base}_ci"] = mean, half
            row[f"saving_vs_{base}_wins"] = int((diff > 0).sum())
            quote = diff * notional.reindex(per_start.index).to_numpy() / 1e4
            row[f"saving_vs_{base}_quote"], row[f"saving_vs_{base}_quote_ci"], _ = mean_half_width(quote)
            mean, half, _ = mean_half_width((beside[base] - beside["router"]).to_numpy())
            row[f"saving_vs_{base}_arrival_basis_bps"], row[f"saving_vs_{base}_arrival_basis_ci"] = mean, half
            if base == "hindsight_best":
                continue
            opt_mean, opt_half, _ = mean_half_width((per_start[base] - per_start[OPTIMUM]).to_numpy())
            row[f"optimum_saving_vs_{base}_bps"], row[f"optimum_saving_vs_{base}_ci"] = opt_mean, opt_half
            significant = np.isfinite(opt_half) and opt_mean - opt_half > 0
            row[f"capture_vs_{base}"] = row[f"saving_vs_{base}_bps"] / opt_mean if significant else float("nan")
        out.append(row)
    return pd.DataFrame(out)


def _style_columns(group: pd.DataFrame, per_start: pd.DataFrame) -> dict[str, Any]:
    """Per execution style run (`router:<style>` rows, and `router` for the params' own style): its mean
    all-in cost and, paired by start with the taker run, its saving over taker (positive: cheaper)."""
    styled = [c for c in per_start.columns if c.startswith("router:")]
    if not styled:
        return {}
    own = str(group.loc[group["scenario"] == "router", "execution_style"].iloc[0])  # the `router` rows' style
    columns = {own: "router", **{c[len("router:"):]: c for c in styled}}
    fill = group.groupby("scenario")["fill_ratio"].mean()
    maker = group.groupby("scenario")["maker_share"].mean()
    out: dict[str, Any] = {"styles": ",".join(s for s in EXECUTION_STYLES if s in columns)}
    taker = per_start[columns[TAKER]].to_numpy()
    for style, column in columns.items():
        mean, half, _ = mean_half_width(per_start[column].to_numpy())
        out[f"style_{style}_bps"], out[f"style_{style}_ci"] = mean, half
        out[f"style_{style}_fill"], out[f"style_{style}_maker_share"] = float(fill[column]), float(maker[column])
        if style != TAKER:
            d = paired_difference(taker, per_start[column].to_numpy())
            out[f"style_{style}_vs_taker_bps"], out[f"style_{style}_vs_taker_ci"] = d.mean, d.half_width
            out[f"style_{style}_vs_taker_wins"], out[f"style_{style}_vs_taker_n"] = d.positive, d.n
    return out


def style_lines(summary: pd.DataFrame) -> list[str]:
    """Per series run with styles: each style's saving over taker, paired by start (mean ± 95% t half-width)."""
    if "styles" not in summary:
        return []
    lines = []
    for _, r in summary[summary["styles"].notna()].iterrows():
        parts = []
        for style in str(r["styles"]).split(","):
            if style != TAKER:
                parts.append(f"{style} {r[f'style_{style}_vs_taker_bps']:+.2f} ± {r[f'style_{style}_vs_taker_ci']:.2f} bps vs taker "
                             f"(cheaper at {int(r[f'style_{style}_vs_taker_wins'])} of {int(r[f'style_{style}_vs_taker_n'])} starts)")
        lines.append(f"{r['market']} {r['algorithm']} {r['size']} ({r['quantity']:.6g} per parent): taker {r['style_taker_bps']:+.2f} bps; "
                     + "; ".join(parts))
    return lines


HEADLINE_BASELINES = (("equal_split", "equal split"), ("exante_best", "ex-ante best venue"), ("hindsight_best", "hindsight best venue"))


def headline_lines(summary: pd.DataFrame, currency: dict[str, str] | None = None) -> list[str]:
    """The backtest's headline, per series (market, algorithm, size): the router's all-in saving against
    equal split and the ex-ante and hindsight best venues, paired by start time, mean ± 95% t interval, in
    bps and in quote currency per parent; then a warning naming each of those scenarios whose parents
    filled less than `UNDERFILLED` on average before the clean-up (the backtest's rule), since the
    clean-up prices the rest and a baseline's saving then says as much about it as about the venue."""
    from nautilus_sor.analysis.headline import UNDERFILLED, Saving

    lines = []
    for _, r in summary.iterrows():
        unit = (currency or {}).get(r["market"], "quote")
        lines.append(f"{r['market']} {r['algorithm']} {r['size']} ({r['quantity']:.6g} per parent, ~{r['notional']:,.0f} {unit}; "
                     f"all-in, paired over {int(r['starts'])} start times):")
        for base, label in HEADLINE_BASELINES:
            saving = Saving(base, label, float(r[f"saving_vs_{base}_bps"]), float(r[f"saving_vs_{base}_ci"]), int(r["starts"]),
                            int(r[f"saving_vs_{base}_wins"]))
            q, qh = float(r[f"saving_vs_{base}_quote"]), float(r[f"saving_vs_{base}_quote_ci"])
            lines.append(f"  {saving.sentence()} ({'+' if q >= 0 else '-'}{abs(q):,.4g} ± {qh:,.2g} {unit} per parent)")
        fills = {s: float(r.get(f"{s}_fill", float("nan"))) for s in ("router", *(b for b, _ in HEADLINE_BASELINES))}
        short = [f"{s} {f:.1%}" for s, f in fills.items() if f < UNDERFILLED]
        if short:
            router = "" if fills["router"] < UNDERFILLED else f" (router {fills['router']:.1%})"
            lines.append(f"  warning: filled before the clean-up, mean over parents: {', '.join(short)}{router}; "
                         "the rest is priced by a clean-up across every venue's books at the horizon's end")
    return lines


def _ci(r: Any, key: str) -> str:
    return f"{r.get(f'{key}_bps', float('nan')):+.2f} ± {r.get(f'{key}_ci', float('nan')):.2f}"


def _capture(r: Any, base: str) -> str:
    x = r.get(f"capture_vs_{base}", float("nan"))
    if np.isfinite(x):
        return f"{100 * x:.0f}%"
    mean, half = r.get(f"optimum_saving_vs_{base}_bps", float("nan")), r.get(f"optimum_saving_vs_{base}_ci", float("nan"))
    return "opt. costlier" if np.isfinite(half) and mean + half < 0 else "n.s."


def markdown_summary(summary: pd.DataFrame, notes: dict[str, list[str]], meta: dict[str, Any], currency: dict[str, str] | None = None) -> str:
    lines = ["# Routing evaluation", ""]
    for key, value in meta.items():
        lines.append(f"- {key}: {value}")
    lines.append("")
    for market, group in summary.groupby("market", sort=False):
        unit = (currency or {}).get(market, "quote")
        lines += [f"## {market}", ""]
        for note in notes.get(market, []):
            lines.append(f"- {note}")
        lines += ["", "### The answer: the router's all-in saving, paired by start time (positive: routing was cheaper)", "",
                  f"bps, and {unit} per parent; each venue's basis removed at each order's decision time (headline); "
                  "the same against each fill's own venue mid at the parent's arrival beside it.", ""]
        header = ("| algorithm | size | vs equal split | vs ex-ante venue | vs hindsight venue | "
                  f"vs equal split ({unit}) | vs ex-ante venue ({unit}) | vs equal, arrival basis | vs ex-ante, arrival basis |")
        lines += [header, "|" + "---|" * (header.count("|") - 1)]
        for _, r in group.iterrows():
            lines.append(
                f"| {r['algorithm']} | {r['size']} | {_ci(r, 'saving_vs_equal_split')} | {_ci(r, 'saving_vs_exante_best')} | "
                f"{_ci(r, 'saving_vs_hindsight_best')} | {r['saving_vs_equal_split_quote']:+,.4g} ± {r['saving_vs_equal_split_quote_ci']:,.2g} | "
                f"{r['saving_vs_exante_best_quote']:+,.4g} ± {r['saving_vs_exante_best_quote_ci']:,.2g} | "
                f"{_ci(r, 'saving_vs_equal_split_arrival_basis')} | {_ci(r, 'saving_vs_exante_best_arrival_basis')} |")
        lines += ["", "### Costs", "", "All-in cost, bps vs the consolidated arrival mid (fees and clean-up of any unfilled rest in), mean ± 95% t "
                  "half-width over start times. `snapshot_optimum`: the exact split on the books at each slice time (not a bound); "
                  "`lower_bound`: no execution in the parent's window can cost less (touch prices, see docs/evaluation.md). Capture: "
                  "the router's saving over the optimum's, shown only where the optimum's saving is significant (n.s.: its interval "
                  "includes 0).", ""]
        header = ("| algorithm | size | " + " | ".join(COMPARED)
                  + " | optimum saving vs equal | vs ex-ante | capture vs equal | capture vs ex-ante |")
        lines += [header, "|" + "---|" * (header.count("|") - 1)]
        for _, r in group.iterrows():
            cells = [_ci(r, s) for s in COMPARED]
            lines.append(
                f"| {r['algorithm']} | {r['size']} | " + " | ".join(cells)
                + f" | {_ci(r, 'optimum_saving_vs_equal_split')} | {_ci(r, 'optimum_saving_vs_exante_best')}"
                + f" | {_capture(r, 'equal_split')} | {_capture(r, 'exante_best')} |")
        if "styles" in group and group["styles"].notna().any():
            lines += ["", "### Execution styles: the router scenario with each style, saving over taker paired by start (positive: cheaper)", "",
                      "All-in bps vs the consolidated arrival mid, mean ± 95% t half-width; maker share and fill ratio before clean-up.", "",
                      "| algorithm | size | taker | maker | adaptive | maker vs taker | adaptive vs taker | maker share (maker / adaptive) |",
                      "|---|---|---|---|---|---|---|---|"]
            for _, r in group[group["styles"].notna()].iterrows():
                cells = [_ci(r, f"style_{s}") for s in ("taker", "maker", "adaptive")]
                vs = [f"{_ci(r, f'style_{s}_vs_taker')} ({int(r[f'style_{s}_vs_taker_wins'])} of {int(r[f'style_{s}_vs_taker_n'])})"
                      if f"style_{s}_vs_taker_n" in r and np.isfinite(r[f"style_{s}_vs_taker_n"]) else "-" for s in ("maker", "adaptive")]
                shares = " / ".join(f"{r.get(f'style_{s}_maker_share', float('nan')):.2f}" for s in ("maker", "adaptive"))
                lines.append(f"| {r['algorithm']} | {r['size']} | " + " | ".join(cells + vs) + f" | {shares} |")
        lines += ["", "Fill ratio before clean-up (router / equal split / ex-ante / snapshot optimum):", ""]
        for _, r in group.iterrows():
            lines.append(f"- {r['algorithm']} {r['size']}: {r.get('router_fill', float('nan')):.3f} / {r.get('equal_split_fill', float('nan')):.3f}"
                         f" / {r.get('exante_best_fill', float('nan')):.3f} / {r.get(f'{OPTIMUM}_fill', float('nan')):.3f}")
        lines.append("")
    return "\n".join(lines) + "\n"


def quote_currency(market: Any) -> str:
    """The quote currency the savings are counted in: the first venue's instrument's ("quote" if unknown)."""
    instrument = market.venues[0].instrument if market.venues else None
    code = getattr(instrument, "quote_currency", None)
    return str(code) if code is not None else "quote"


MARKETS = ("binance_btc", "lean_ibm")
# Horizon and slice interval per market: a minute in 5 s slices on the 6-minute BTC window; 30 minutes in
# 1-minute slices on an IBM day.
MARKET_PARAMS = {"binance_btc": {"horizon_s": 60.0, "interval_s": 5.0}, "lean_ibm": {"horizon_s": 1800.0, "interval_s": 60.0}}


# The same per market family, for any market the backtest can load (`market_block`): L2 crypto books move in
# seconds, equity tops and minute bars in minutes.
FAMILY_PARAMS = {"binance": MARKET_PARAMS["binance_btc"], "binance_btc": MARKET_PARAMS["binance_btc"], "lean_equity": MARKET_PARAMS["lean_ibm"],
                 "lean_ibm": MARKET_PARAMS["lean_ibm"], "lean_crypto_bars": MARKET_PARAMS["lean_ibm"], "catalog": MARKET_PARAMS["binance_btc"]}


def market_block(source: str, data_root: str | Path, *, path: str | None = None, symbol: str | None = None, date: str | None = None,
                 venues: list[str] | None = None, levels: int | None = None, start: str | None = None, end: str | None = None) -> Any:
    """The `market` block to evaluate: a JSON config's (`source` ending in .json), else one of type `source`
    (`binance`, `lean_equity`, `lean_crypto_bars`, `catalog`, or the named `binance_btc` / `lean_ibm`) on
    `path` (default: its folder under `data_root`); the other arguments override the block's keys and are
    checked as the backtest checks them (`config.MarketBlock`)."""
    import msgspec

    from nautilus_sor.config import MarketBlock, _validate_market_source, load_config

    root = Path(data_root)
    if source.endswith(".json"):
        block = load_config(source).market
        if block.type == "synthetic":
            raise ValidationError(f"invalid market: {source} has a synthetic market (the evaluation needs a recorded one)", field="market", value=source)
    else:
        defaults = {"binance": root / "binance_btc_l2_20240808", "binance_btc": root / "binance_btc_l2_20240808",
                    "lean_equity": root, "lean_ibm": root / "lean_equity_ticks" / "ibm", "lean_crypto_bars": root / "lean_crypto_minute"}
        if source not in FAMILY_PARAMS:
            raise ValidationError(f"invalid market: {source!r} (a config .json, or one of {', '.join(FAMILY_PARAMS)})", field="market", value=source)
        if path is None and source not in defaults:
            raise ValidationError(f"invalid path: missing (a {source} market needs --path)", field="path", value=None)
        block = MarketBlock(type=source, path=str(path if path is not None else defaults[source]))  # type: ignore[arg-type]  # one of FAMILY_PARAMS (checked above): all MarketBlock types
    changes = {k: v for k, v in {"path": path, "symbol": symbol, "date": date, "venues": venues, "levels": levels, "start": start, "end": end}.items()
               if v is not None}
    try:
        block = msgspec.convert({**msgspec.to_builtins(block), **changes}, MarketBlock)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"invalid market option: {exc}", field="market", value=repr(changes)) from None
    _validate_market_source(block)
    if block.type == "lean_equity" and block.symbol is None:
        raise ValidationError("invalid symbol: missing (a lean_equity market needs --symbol, the ticker)", field="symbol", value=None)
    return block


def load_named_market(name: Any, data_root: str | Path) -> Any:
    """`name`: "binance_btc" / "lean_ibm" (the shared captures, read directly), or a `market_block`."""
    root = Path(data_root)
    if name == "binance_btc":
        from nautilus_sor.backtest.data.binance import load_binance_btc

        return load_binance_btc(root / "binance_btc_l2_20240808")
    if name == "lean_ibm":
        from nautilus_sor.backtest.data.lean import load_lean_ibm

        return load_lean_ibm(root)
    if not isinstance(name, str):
        from nautilus_sor.backtest.data.sources import load_market

        return load_market(name)
    raise ValidationError(f"invalid market: {name!r} (one of {', '.join(MARKETS)})", field="market", value=name)


def _family_params(name: Any) -> dict[str, float]:
    return MARKET_PARAMS[name] if isinstance(name, str) else FAMILY_PARAMS[name.type]


def run_evaluation(markets: list[Any], *, data_root: str | Path, out_dir: str | Path, starts: int = 30,
                   params: dict[str, ExecParams] | None = None, algorithms: tuple[str, ...] = ALGORITHMS,
                   overrides: dict[str, Any] | None = None, log: Any = print,
                   progress: Any = None, styles: tuple[str, ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Loads each market, runs the grid, writes `runs.parquet`, `summary.parquet` and `summary.md` in `out_dir`,
    and logs each market's headline (`headline_lines`). `progress(market, done, total)`: called after each
    parent (all of its scenarios)."""
    styles = check_styles(styles)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    all_runs, notes, timings, currency = [], {}, {}, {}
    for name in markets:
        t0 = time.perf_counter()
        market = load_named_market(name, data_root)
        load_s = time.perf_counter() - t0
        p = (params or {}).get(name if isinstance(name, str) else market.name) or ExecParams(**{**_family_params(name), **(overrides or {})})
        bar_notes: list[str] = []
        market_algorithms = algorithms
        if is_bar_market(market):  # one-level books from the quote bars (docs/evaluation.md, "Minute bar markets")
            market, bar_notes = bar_books(market)
            market_algorithms = tuple(a for a in algorithms if a in BAR_ALGORITHMS)
            if len(styles) > 1 or p.style().rests:
                raise ConfigError(f"invalid styles: {','.join(styles) or p.execution_style!r} (a bar market has no tape to fill a resting order from)",
                                  field="styles", value=",".join(styles) or p.execution_style)
            if p.passive_first_s is not None:
                raise ValidationError(f"invalid passive_first_s: {p.passive_first_s!r} (a bar market has no tape to fill a resting order from)",
                                      field="passive_first_s", value=p.passive_first_s)
        sim = SimMarket(market, p)
        cfg = EvalConfig(starts=starts, params=p, algorithms=market_algorithms, bar_closes=bool(bar_notes), styles=styles)
        t1 = time.perf_counter()
        total = len(cfg.algorithms) * len(cfg.sizes) * len(cfg.sides) * cfg.starts
        done = [0]

        def step(name: str = market.name) -> None:
            done[0] += 1
            progress(name, done[0], total)

        runs = evaluate_market(sim, cfg, step if progress is not None else None)
        run_s = time.perf_counter() - t1
        parents = runs[runs["scenario"] == "router"].shape[0]
        extra = f" (+{len(styles) - 1} styles for TWAP/VWAP)" if len(styles) > 1 else ""
        timings[market.name] = f"load {load_s:.1f} s, {parents} parents x {len(sim.names) + 4} simulated scenarios{extra} in {run_s:.1f} s"
        log(f"{market.name}: {timings[market.name]}")
        currency[market.name] = quote_currency(market)
        prices = (f"prices across venues: different instruments, each venue's basis to {sim.basis.reference} (its mid minus "
                  f"{sim.basis.reference}'s, as in force then) removed at each order's decision time; executions on each venue's own prices"
                  if sim.basis.active else "prices across venues: one instrument, compared as recorded (no basis removed)")
        notes[market.name] = list(market.notes) + bar_notes + [prices,
            f"venues: {', '.join(f'{v.name} (maker {v.maker_fee * 1e4:.2f} bps, taker {v.taker_fee * 1e4:.2f} bps, latency {sim.latency_ms[v.name]:g} ms)' for v in sim.venues)}",
            *([f"execution styles {', '.join(styles)} (TWAP/VWAP, router scenario; catch-up {p.catch_up_fraction:g} of the parent, re-price at most "
               f"every {p.reprice_interval_s:g} s, last slice rests {p.passive_horizon_s:g} s)"] if styles else []),
            f"horizon {p.horizon_s:g} s, slices every {p.interval_s:g} s, iceberg display {p.iceberg_visible_pct:.0%}, queue model {p.queue_model}, "
            f"decisions see {'published books minus our own takes' if p.see_own_consumption else 'the published books'}",
            f"sizes: fractions of the volume traded on all venues in a horizon on average ({sim.window_volume():.4g} in {(market.end_ns - market.start_ns) / NS:.0f} s)",
            f"VWAP curve: {'the market volume_profile' if market.volume_profile is not None else 'none available: flat (VWAP = TWAP)'}",
            f"run: {timings[market.name]}",
        ]
        all_runs.append(runs)
        # Written after every market, so a long run leaves what it has finished.
        runs_so_far = pd.concat(all_runs, ignore_index=True)
        summary = summarize(runs_so_far)
        runs_so_far.to_parquet(out / "runs.parquet")
        summary.to_parquet(out / "summary.parquet")
        meta = {"starts per series": starts, "confidence intervals": "95% Student t over start times (buy and sell of a start averaged)"}
        (out / "summary.md").write_text(markdown_summary(summary, notes, meta, currency))
        for line in headline_lines(summary[summary["market"] == market.name], currency) + style_lines(summary[summary["market"] == market.name]):
            log(line)
    return runs_so_far, summary


__all__ = ["COMPARED", "EvalConfig", "MARKETS", "SIZES", "derive_baselines", "evaluate_market", "market_block", "markdown_summary", "run_evaluation",
           "start_times", "check_styles", "style_lines", "summarize"]


