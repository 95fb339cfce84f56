"""The `nautilus-sor` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from nautilus_sor import __version__
from nautilus_sor.exceptions import NautilusSorError
from nautilus_sor.queue_model import DEFAULT_QUEUE_MODEL, DEFAULT_QUEUE_POWER, QUEUE_MODELS


def _demo(args: argparse.Namespace) -> int:
    """Routes one order across three venues with different books, fees and latency."""
    from nautilus_sor.demo import demo_router

    from nautilus_sor.exceptions import NoEligibleVenueError

    router = demo_router()
    side = args.side.upper()
    split = router.split(side, args.quantity, args.max_venues, args.limit_price)
    print(f"nautilus-sor {__version__}: {side} {args.quantity} units, max {args.max_venues} venues")
    print(f"reference price (consolidated mid): {split.reference_price}")
    try:
        selection = router.select_venue(side, args.quantity, args.limit_price)
        print(f"select_venue -> {selection.venue}  score {selection.best.score_bps:+.3f} bps")
    except NoEligibleVenueError as exc:
        # The order is larger than any one venue shows: only the split fills it.
        print(f"select_venue -> none: no single venue can fill {args.quantity} units ({str(exc).split(': ', 1)[-1]})")
    print()
    header = f"{'venue':<10}{'qty':>8}{'avg price':>14}{'fee':>12}{'latency':>10}{'miss':>10}{'score bps':>11}"
    print(header)
    print("-" * len(header))
    for a in split.allocations:
        price = f"{a.expected_price:.4f}" if a.expected_price is not None else "-"
        print(
            f"{a.venue:<10}{a.qty:>8}{price:>14}{a.fee:>12.4f}{a.latency_cost:>10.4f}"
            f"{a.miss_cost:>10.4f}{a.score_bps:>+11.3f}"
        )
    print("-" * len(header))
    print(f"{'total':<10}{split.total_qty:>8}{'':>46}{split.score_bps:>+11.3f}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    """The checks `backtest` makes before it runs (the same function), and what it would run."""
    from nautilus_sor.backtest.main import check_config

    checked = check_config(args.config, args.repeats, args.cache_dir)
    print(f"{args.config}: valid\n{checked.describe()}")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from nautilus_sor.backtest.main import run_and_report

    run_and_report(args.config, output_dir=args.output, report=not args.no_report, quiet=args.quiet, repeats=args.repeats,
                   workers=args.workers, cache_dir=args.cache_dir)
    return 0


def _report(args: argparse.Namespace) -> int:
    from nautilus_sor.analysis.report import main_report

    path = main_report(args.run_dir, args.output)
    print(f"report: {path}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    """Runs a routing-parameter sweep on Ray; 1 when some point failed twice (run again to retry it)."""
    from pathlib import Path

    from nautilus_sor.sweep import load_sweep
    from nautilus_sor.sweep.driver import import_ray, run_sweep

    from nautilus_sor.progress import counting_progress

    import_ray()  # before anything else: without the extra, say how to install it
    spec, base = load_sweep(args.sweep)
    output = args.output or spec.output_dir or str(Path("runs") / f"sweep-{Path(args.sweep).stem}")
    with counting_progress(args.quiet, unit="backtests (point x repeat)") as progress:
        outcome = run_sweep(spec, base, output, address=args.address, num_cpus=args.num_cpus, title=f"nautilus-sor sweep: {Path(args.sweep).name}",
                            progress=progress, log=progress.log if progress is not None else print)
    if not outcome.ranking.empty:
        from nautilus_sor.analysis.tca_text import format_table

        cols = [c for c in ("rank", "point_id", "cost_mean_bps", "cost_ci95_low_bps", "cost_ci95_high_bps", "router_fill_rate_mean") if c in outcome.ranking]
        cols += [c for c in outcome.ranking.columns if c.startswith("param:")]
        print(format_table(outcome.ranking, cols, max_rows=10))
        print(f"results: {outcome.output_dir / 'results.parquet'}\npage: {outcome.page}\nbest config: {outcome.best_config}")
    if outcome.unfinished:
        print(f"{len(outcome.unfinished)} point(s) failed twice: {', '.join(outcome.unfinished)}; run the sweep again to retry them", file=sys.stderr)
        return 1
    print(f"sweep done in {outcome.wall_seconds:.1f} s ({len(outcome.ran)} run, {len(outcome.skipped)} already done)")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    """The routing evaluation on recorded markets (execution simulator; see docs/evaluation.md)."""
    from nautilus_sor.backtest.sim.evaluate import MARKETS, check_styles, market_block, run_evaluation
    from nautilus_sor.backtest.sim.params import ExecParams
    from nautilus_sor.progress import counting_progress

    shortcuts = {"path": args.path, "symbol": args.symbol, "date": args.date, "levels": args.levels, "start": args.start, "end": args.end,
                 "venues": [v.strip() for v in args.venues.split(",")] if args.venues else None}
    if args.market in ("both", *MARKETS) and not any(v is not None for v in shortcuts.values()):
        markets: list[Any] = list(MARKETS) if args.market == "both" else [args.market]  # the shared captures, as published
    else:
        if args.market == "both":
            print("--market both takes no --path/--symbol/--date/--venues/--levels/--start/--end: name one market", file=sys.stderr)
            return 2
        markets = [market_block(args.market, args.data, **shortcuts)]
    styles = check_styles(args.styles or "")
    rules = {k: v for k, v in (("catch_up_fraction", args.catch_up_fraction), ("reprice_interval_s", args.reprice_interval_s)) if v is not None}
    overrides = {"see_own_consumption": not args.published_books_only, "passive_scoring": args.passive_scoring,
                 "queue_model": args.queue_model, "queue_power": args.queue_power, "slice_rule": args.slice_rule, **rules}
    ExecParams(**overrides).validate()  # refused before any market is loaded
    with counting_progress(args.quiet, unit="parents") as progress:
        _, summary = run_evaluation(markets, data_root=args.data, out_dir=args.out, starts=args.starts, overrides=overrides,
                                    styles=styles, progress=progress, log=progress.log if progress is not None else print)
    print(f"evaluation: {len(summary)} series; results in {args.out}/ (runs.parquet, summary.parquet, summary.md)")
    return 0


CACHE_DIR_HELP = ("where a recorded market loaded from raw files is cached as a Nautilus catalog (default: the config's "
                  "market.cache_dir, else $XDG_CACHE_HOME/nautilus-sor or ~/.cache/nautilus-sor)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nautilus-sor",
        description="Smart order routing for NautilusTrader: venue scoring, order splitting, execution algorithms.",
    )
    parser.add_argument("--version", action="version", version=f"nautilus-sor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="route one order across a small three-venue market and explain the split")
    demo.add_argument("--side", default="BUY", choices=["BUY", "SELL", "buy", "sell"])
    demo.add_argument("--quantity", type=int, default=250, help="order size in units (default 250)")
    demo.add_argument("--max-venues", type=int, default=3)
    demo.add_argument("--limit-price", type=float, default=None)
    demo.set_defaults(run=_demo)

    backtest = sub.add_parser("backtest", help="run a JSON config on its market, with baselines, TCA and an HTML report")
    backtest.add_argument("config", help="path to the JSON config (see examples/)")
    backtest.add_argument("--output", default=None, help="run directory (default: runs/<config name>)")
    backtest.add_argument("--no-report", action="store_true", help="skip the HTML report")
    backtest.add_argument("--quiet", action="store_true", help="no progress bar")
    backtest.add_argument("--repeats", type=int, default=None,
                          help="repeats for the headline's interval (default: the config's backtest.repeats, else 10)")
    backtest.add_argument("--workers", type=int, default=None, help="processes the repeats run in (default: one per CPU)")
    backtest.add_argument("--cache-dir", default=None, help=CACHE_DIR_HELP)
    backtest.set_defaults(run=_backtest)

    validate = sub.add_parser("validate", help="run every check backtest makes before it runs (market included) and say what it would run")
    validate.add_argument("config")
    validate.add_argument("--repeats", type=int, default=None, help="as backtest --repeats")
    validate.add_argument("--cache-dir", default=None, help=CACHE_DIR_HELP)
    validate.set_defaults(run=_validate)

    report = sub.add_parser("report", help="rebuild the HTML report of a saved run directory")
    report.add_argument("run_dir")
    report.add_argument("--output", default=None, help="HTML path (default: <run_dir>/report.html)")
    report.set_defaults(run=_report)

    evaluate = sub.add_parser("evaluate", help="router vs baselines, the snapshot optimum and a lower bound on recorded markets (execution simulator)")
    evaluate.add_argument("--market", default="both",
                          help="binance_btc, lean_ibm or both (the shared captures; default both); binance, lean_equity, lean_crypto_bars, "
                               "catalog (with --path); or a config .json whose market block is used")
    evaluate.add_argument("--path", default=None, help="the market's data (default: its folder under --data; a catalog's directory)")
    evaluate.add_argument("--symbol", default=None, help="binance: the base asset (ETH); lean_equity: the ticker (BAC)")
    evaluate.add_argument("--date", default=None, help="lean_equity / lean_ibm: the trading day (YYYYMMDD)")
    evaluate.add_argument("--venues", default=None, help="comma-separated venues to keep (default: the source's)")
    evaluate.add_argument("--levels", type=int, default=None, help="book levels kept in the arrays (binance default 20)")
    evaluate.add_argument("--start", default=None, help="window start (ISO time, UTC if naive)")
    evaluate.add_argument("--end", default=None, help="window end (ISO time, UTC if naive)")
    evaluate.add_argument("--starts", type=int, default=30, help="start times per series (default 30)")
    evaluate.add_argument("--out", default="runs/evaluation", help="output directory (default runs/evaluation)")
    evaluate.add_argument("--data", default="../shared/data", help="the shared data root (default ../shared/data)")
    evaluate.add_argument("--queue-model", default=DEFAULT_QUEUE_MODEL, choices=QUEUE_MODELS,
                          help="queue position of resting orders (hftbacktest's models; default prob_linear)")
    evaluate.add_argument("--queue-power", type=float, default=DEFAULT_QUEUE_POWER, help="n of f(x) = x**n for --queue-model prob_power (default 3)")
    evaluate.add_argument("--slice-rule", default="live",
                          help="what a TWAP/VWAP slice leaves: back to the schedule, as the live algorithms (live, default), or routed "
                               "again within the slice (within_slice: a single venue retakes a quote as soon as it is back)")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.add_argument("--published-books-only", action="store_true",
                          help="decisions see the books as published, not minus what we already took (default: minus)")
    evaluate.add_argument("--passive-scoring", default="tape", choices=["router", "tape"],
                          help="where passive clips rest: the core's select_passive on the tape (default), or its taker select_venue")
    evaluate.add_argument("--styles", default=None,
                          help="also run the router scenario's TWAP/VWAP with these execution styles (taker,maker,adaptive) and compare each "
                               "with taker, paired by start (default: taker only)")
    evaluate.add_argument("--catch-up-fraction", type=float, default=None,
                          help="resting styles: cross once the parent lags its schedule by this share of it (default 0.1)")
    evaluate.add_argument("--reprice-interval-s", type=float, default=None,
                          help="resting styles: at least this long between two re-prices of a resting slice (default 1 s)")
    evaluate.set_defaults(run=_evaluate)

    sweep = sub.add_parser("sweep", help="run a grid or random search over config fields as Ray tasks and rank the points by cost")
    sweep.add_argument("sweep", help="path to the sweep JSON (see examples/sweep.json)")
    sweep.add_argument("--output", default=None, help="sweep directory (default: the spec's output_dir, else runs/sweep-<name>)")
    sweep.add_argument("--address", default=None, help="an existing Ray cluster (default: the spec's, else a local Ray)")
    sweep.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: the spec's, else all)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(run=_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.run(args))
    except NautilusSorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
