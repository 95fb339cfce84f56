"""The names the results' `scenario` column takes, and the order tables, the console and the report show
them in (what each baseline does: `nautilus_sor.backtest.scenarios`)."""

from __future__ import annotations

ROUTER = "router"
EQUAL_SPLIT = "equal_split"
ALL_ON = "all_on:"
EXANTE_BEST = "exante_best_venue"
HINDSIGHT_BEST = "hindsight_best_venue"
NAUTILUS_TWAP = "nautilus_twap"

# What the headline compares the router with, in this order.
HEADLINE = ((EQUAL_SPLIT, "equal split"), (EXANTE_BEST, "ex-ante best venue"), (HINDSIGHT_BEST, "hindsight best venue"),
            (NAUTILUS_TWAP, "Nautilus's TWAP on the ex-ante best venue"))
# Scenarios in the order tables and the report show them.
ORDER = (ROUTER, EQUAL_SPLIT, EXANTE_BEST, HINDSIGHT_BEST, NAUTILUS_TWAP)


def all_on(venue: str) -> str:
    return f"{ALL_ON}{venue}"


def sort_key(scenario: str) -> tuple[int, str]:
    """Orders scenarios (a stable sort): router, equal split, ex-ante, hindsight, Nautilus TWAP, then the
    others (all_on:* in the venues' order) as they come."""
    return (ORDER.index(scenario), "") if scenario in ORDER else (len(ORDER), "")


__all__ = ["ALL_ON", "EQUAL_SPLIT", "EXANTE_BEST", "HEADLINE", "HINDSIGHT_BEST", "NAUTILUS_TWAP", "ORDER", "ROUTER", "all_on",
           "sort_key"]
