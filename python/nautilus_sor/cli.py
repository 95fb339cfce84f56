"""The `nautilus-sor` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nautilus_sor import __version__
from nautilus_sor.exceptions import NautilusSorError


def _demo(args: argparse.Namespace) -> int:
    """Routes one order across three venues with different books, fees and latency."""
    from nautilus_sor.demo import demo_router

    router = demo_router()
    side = args.side.upper()
    selection = router.select_venue(side, args.quantity, args.limit_price)
    split = router.split(side, args.quantity, args.max_venues, args.limit_price)
    print(f"nautilus-sor {__version__}: {side} {args.quantity} units, max {args.max_venues} venues")
    print(f"reference price (consolidated mid): {split.reference_price}")
    print(f"select_venue -> {selection.venue}  score {selection.best.score_bps:+.3f} bps")
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
