"""The routing evaluation: every parent of the grid under every scenario, in one run, with statistics.

Grid: markets x algorithms x sizes x sides x start times. Scenarios per parent:

- `router`: the core Router (learning venue statistics from its own simulated outcomes across the run);
- `equal_split`; `single:<venue>` for every venue, from which
  `exante_best` (the venue with the lowest half spread + taker fee over the minute before the start) and
  `hindsight_best` (per parent, the single venue that turned out cheapest) are taken;
- `single_venue_twap`: a market TWAP over the horizon on the venue that traded most in the minute before;
- `oracle`: the hindsight lower bound for the same schedule (`oracle.py`; an iceberg's is its horizon's TWAP).

Cost: bps versus the consolidated arrival mid, fees in (`cost_bps`, filled part). Quantity a scenario left
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
import pandas as pd

from nautilus_sor.backtest.sim.exchange import BUY, SELL, Fill
from nautilus_sor.backtest.cleanup import price_cleanup
from nautilus_sor.backtest.sim.oracle import oracle_fills
from nautilus_sor.backtest.sim.simulator import ALGORITHMS, NS, ExecParams, LearningFeed, Parent, ParentRun, SimMarket, cost_bps
from nautilus_sor.exceptions import ValidationError
from nautilus_sor.analysis.stats import mean_half_width

SIZES = {"small": 0.001, "1%": 0.01, "5%": 0.05}
COMPARED = ("router", "equal_split", "exante_best", "hindsight_best", "single_venue_twap", "oracle")


@dataclass(frozen=True)
class EvalConfig:
    algorithms: tuple[str, ...] = ALGORITHMS
    sizes: dict[str, float] = field(default_factory=lambda: dict(SIZES))  # fraction of the volume per horizon
    sides: tuple[int, ...] = (BUY, SELL)
    starts: int = 30
    lookback_s: float = 60.0  # data before the first start, for the ex-ante choices
    params: ExecParams = field(default_factory=ExecParams)

    def validate(self) -> EvalConfig:
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


def start_times(sim: SimMarket, cfg: EvalConfig) -> np.ndarray:
    """Evenly spaced starts with `lookback_s` of data before and a whole horizon after."""
    first = sim.market.start_ns + int(cfg.lookback_s * NS)
    last = sim.market.end_ns - int(cfg.params.horizon_s * NS) - NS
    if last <= first:
        raise ValidationError(
            f"invalid horizon_s: {cfg.params.horizon_s} s plus the {cfg.lookback_s} s lookback do not fit the "
            f"{(sim.market.end_ns - sim.market.start_ns) / NS:.0f} s of {sim.market.name}", field="horizon_s", value=cfg.params.horizon_s)
    return np.linspace(first, last, cfg.starts).astype(np.int64)


def _row(sim, parent, size_label, scenario, fills, unfilled, end_ns, exchanges, arrival_mid, decisions=0, venue="") -> dict[str, Any]:
    horizon_end = parent.start_ns + int(sim.params.horizon_s * NS)
    cleanup: list[Fill] = []
    if unfilled > 1e-9:  # taken across the merged books at the horizon end (`backtest/cleanup.py`)
        ts = max(end_ns, horizon_end)
        c = price_cleanup({name: (*ex.offered(parent.side, ts), ex.venue.taker_fee) for name, ex in exchanges.items()}, parent.side, unfilled)
        cleanup.append(Fill(ts, "CLEANUP", c.avg_price, unfilled, c.fees, "TAKER"))
    filled = sum(f.size for f in fills)
    return {
        "market": sim.market.name, "algorithm": parent.algorithm, "size": size_label, "side": "BUY" if parent.side == BUY else "SELL",
        "quantity": parent.quantity, "start_ns": parent.start_ns, "scenario": scenario, "venue": venue,
        "filled": filled, "unfilled": unfilled, "fill_ratio": filled / parent.quantity,
        "maker_share": sum(f.size for f in fills if f.liquidity == "MAKER") / filled if filled > 0 else 0.0,
        "fees": sum(f.fee for f in fills), "orders": decisions, "arrival_mid": arrival_mid,
        "cost_bps": cost_bps(fills, parent.side, arrival_mid),
        "cost_all_in_bps": cost_bps(fills + cleanup, parent.side, arrival_mid),
        "end_ns": end_ns,
    }


def evaluate_market(sim: SimMarket, cfg: EvalConfig, progress: Any = None) -> pd.DataFrame:
    """Every parent of the grid on one market under every scenario; one row per (parent, scenario)."""
    cfg.validate()
    starts = start_times(sim, cfg)
    horizon_units_volume = sim.window_volume() * cfg.params.horizon_s / ((sim.market.end_ns - sim.market.start_ns) / NS)
    rows: list[dict[str, Any]] = []
    twap_params = cfg.params
    for algorithm in cfg.algorithms:
        for size_label, frac in cfg.sizes.items():
            qty = _round_qty(sim, frac * horizon_units_volume)
            for side in cfg.sides:
                router = sim.router()  # one learning router per series, parents in time order
                feed = LearningFeed(router)
                for start in starts:
                    parent = Parent(side, qty, int(start), algorithm)
                    mid = sim.consolidated_mid(parent.start_ns)
                    run = ParentRun(sim, parent, "router", router=router, feed=feed)
                    res = run.run()
                    rows.append(_row(sim, parent, size_label, "router", res.fills, res.unfilled, res.end_ns, run.ex, mid, len(res.decisions)))
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
                    fills, left = oracle_fills(exchanges, side, sim.schedule(schedule_algo, qty, parent.start_ns))
                    rows.append(_row(sim, parent, size_label, "oracle", fills, left, parent.start_ns, exchanges, mid))
                    rows[-1]["venue"] = sim.exante_best_venue(parent.start_ns, cfg.lookback_s)  # remembered for `derive`
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
    exante_venue = runs[runs["scenario"] == "oracle"].set_index(key)["venue"]
    runs.loc[runs["scenario"] == "oracle", "venue"] = ""
    picked = singles.join(exante_venue.rename("exante_venue"), on=key)
    exante = picked[picked["venue"] == picked["exante_venue"]].drop(columns="exante_venue").assign(scenario="exante_best")
    best_idx = singles.sort_values("cost_all_in_bps").groupby(key, sort=False).head(1).index
    hindsight = singles.loc[best_idx].assign(scenario="hindsight_best")
    return pd.concat([runs, exante, hindsight], ignore_index=True)


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (market, algorithm, size) and scenario: mean all-in cost over start times with a 95% t interval
    (buy and sell of one start averaged into one sample), fill ratio; and, paired by start, the router's
    advantage over equal split and the ex-ante best venue, and its capture of the oracle's saving."""
    out = []
    for (market, algorithm, size), group in runs.groupby(["market", "algorithm", "size"], sort=False):
        per_start = group.groupby(["scenario", "start_ns"])["cost_all_in_bps"].mean().unstack("scenario")
        fill = group.groupby("scenario")["fill_ratio"].mean()
        row: dict[str, Any] = {"market": market, "algorithm": algorithm, "size": size, "starts": len(per_start)}
        for scenario in COMPARED:
            if scenario in per_start:
                mean, half, _ = mean_half_width(per_start[scenario].to_numpy())
                row[f"{scenario}_bps"], row[f"{scenario}_ci"] = mean, half
                row[f"{scenario}_fill"] = float(fill.get(scenario, float("nan")))
        for base in ("equal_split", "exante_best", "hindsight_best"):
            diff = (per_start[base] - per_start["router"]).to_numpy()
            mean, half, _ = mean_half_width(diff)
            row[f"saving_vs_{base}_bps"], row[f"saving_vs_{base}_ci"] = mean, half
            row[f"saving_vs_{base}_wins"] = int((diff > 0).sum())
            if base == "hindsight_best":
                continue
            gap = row[f"{base}_bps"] - row["oracle_bps"]
            row[f"capture_vs_{base}"] = (row[f"{base}_bps"] - row["router_bps"]) / gap if abs(gap) > 1e-9 else float("nan")
        out.append(row)
    return pd.DataFrame(out)


HEADLINE_BASELINES = (("equal_split", "equal split"), ("exante_best", "ex-ante best venue"), ("hindsight_best", "hindsight best venue"))


def headline_lines(summary: pd.DataFrame) -> list[str]:
    """The backtest's headline, per series (market, algorithm, size): the router's all-in saving against
    equal split and the ex-ante and hindsight best venues, paired by start time, mean ± 95% t interval."""
    from nautilus_sor.analysis.headline import Saving

    lines = []
    for _, r in summary.iterrows():
        lines.append(f"{r['market']} {r['algorithm']} {r['size']} (all-in, paired over {int(r['starts'])} start times):")
        for base, label in HEADLINE_BASELINES:
            saving = Saving(base, label, float(r[f"saving_vs_{base}_bps"]), float(r[f"saving_vs_{base}_ci"]), int(r["starts"]),
                            int(r[f"saving_vs_{base}_wins"]))
            lines.append(f"  {saving.sentence()}")
    return lines


def markdown_summary(summary: pd.DataFrame, notes: dict[str, list[str]], meta: dict[str, Any]) -> str:
    lines = ["# Routing evaluation", ""]
    for key, value in meta.items():
        lines.append(f"- {key}: {value}")
    lines.append("")
    for market, group in summary.groupby("market", sort=False):
        lines += [f"## {market}", ""]
        for note in notes.get(market, []):
            lines.append(f"- {note}")
        lines += ["", "All-in cost, bps vs arrival mid (fees and clean-up of any unfilled rest in), mean ± 95% t half-width over start times.", ""]
        header = ("| algorithm | size | " + " | ".join(COMPARED)
                  + " | router saving vs equal | vs ex-ante | vs hindsight | capture vs ex-ante | capture vs equal |")
        lines += [header, "|" + "---|" * (header.count("|") - 1)]
        for _, r in group.iterrows():
            cells = [f"{r.get(f'{s}_bps', float('nan')):+.2f} ± {r.get(f'{s}_ci', float('nan')):.2f}" for s in COMPARED]
            lines.append(
                f"| {r['algorithm']} | {r['size']} | " + " | ".join(cells)
                + f" | {r['saving_vs_equal_split_bps']:+.2f} ± {r['saving_vs_equal_split_ci']:.2f}"
                + f" | {r['saving_vs_exante_best_bps']:+.2f} ± {r['saving_vs_exante_best_ci']:.2f}"
                + f" | {r['saving_vs_hindsight_best_bps']:+.2f} ± {r['saving_vs_hindsight_best_ci']:.2f}"
                + f" | {_pct(r['capture_vs_exante_best'])} | {_pct(r['capture_vs_equal_split'])} |")
        lines += ["", "Fill ratio before clean-up (router / equal split / ex-ante / oracle):", ""]
        for _, r in group.iterrows():
            lines.append(f"- {r['algorithm']} {r['size']}: {r.get('router_fill', float('nan')):.3f} / {r.get('equal_split_fill', float('nan')):.3f}"
                         f" / {r.get('exante_best_fill', float('nan')):.3f} / {r.get('oracle_fill', float('nan')):.3f}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f}%"


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
        block = MarketBlock(type=source, path=str(path if path is not None else defaults[source]))
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
                   progress: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Loads each market, runs the grid, writes `runs.parquet`, `summary.parquet` and `summary.md` in `out_dir`,
    and logs each market's headline (`headline_lines`). `progress(market, done, total)`: called after each
    parent (all of its scenarios)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    all_runs, notes, timings = [], {}, {}
    for name in markets:
        t0 = time.perf_counter()
        market = load_named_market(name, data_root)
        load_s = time.perf_counter() - t0
        p = (params or {}).get(name if isinstance(name, str) else market.name) or ExecParams(**{**_family_params(name), **(overrides or {})})
        sim = SimMarket(market, p)
        cfg = EvalConfig(starts=starts, params=p, algorithms=algorithms)
        t1 = time.perf_counter()
        total = len(cfg.algorithms) * len(cfg.sizes) * len(cfg.sides) * cfg.starts
        done = [0]

        def step(name: str = market.name) -> None:
            done[0] += 1
            progress(name, done[0], total)

        runs = evaluate_market(sim, cfg, step if progress is not None else None)
        run_s = time.perf_counter() - t1
        parents = runs[runs["scenario"] == "router"].shape[0]
        timings[market.name] = f"load {load_s:.1f} s, {parents} parents x {len(sim.names) + 4} simulated scenarios in {run_s:.1f} s"
        log(f"{market.name}: {timings[market.name]}")
        notes[market.name] = list(market.notes) + [
            f"venues: {', '.join(f'{v.name} (maker {v.maker_fee * 1e4:.2f} bps, taker {v.taker_fee * 1e4:.2f} bps, latency {sim.latency_ms[v.name]:g} ms)' for v in sim.venues)}",
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
        (out / "summary.md").write_text(markdown_summary(summary, notes, meta))
        for line in headline_lines(summary[summary["market"] == market.name]):
            log(line)
    return runs_so_far, summary


__all__ = ["COMPARED", "EvalConfig", "MARKETS", "SIZES", "derive_baselines", "evaluate_market", "market_block", "markdown_summary", "run_evaluation",
           "start_times", "summarize"]


