"""The names of a backtest's scenarios and of the baselines a config asks for.

Every baseline runs the configured algorithm, schedule and parents on the same market as the router:

    router                 the configured strategy (smart routing as configured)
    equal_split            every child split into equal whole-lot parts across the venues
    all_on:<VENUE>         every child on that one venue (one scenario per venue)
    exante_best_venue      per parent, the all_on:<VENUE> run of the venue chosen before it started (lowest
                           half spread + taker fee over the minute before: `exante.py`)
    hindsight_best_venue   per parent, the all_on:<VENUE> run that turned out cheapest all-in (fees in, the
                           unfilled rest priced by a clean-up at the horizon end: `cleanup.py`)
    nautilus_twap          Nautilus's own example TWAPExecAlgorithm, each parent on its ex-ante best venue
                           (only when the configured algorithm is a TWAP: otherwise it is not like-for-like)

`backtest.baselines` in a config picks groups of them: "single_venues" (all_on:*, and from them the
ex-ante and hindsight best venues), "equal_split", "nautilus_twap". The names of earlier versions are
still read: "best_single_venue" = "single_venues", "single_venue_twap" = "nautilus_twap".
"""

from __future__ import annotations

# The names themselves belong to the results' `scenario` column: the analysis reads them too.
from nautilus_sor.analysis.scenarios import (
    ALL_ON,
    EQUAL_SPLIT,
    EXANTE_BEST,
    HEADLINE,
    HINDSIGHT_BEST,
    NAUTILUS_TWAP,
    ORDER,
    ROUTER,
    all_on,
    sort_key,
)

BASELINES = ("single_venues", "equal_split", "nautilus_twap")
BASELINE_ALIASES = {"best_single_venue": "single_venues", "single_venue_twap": "nautilus_twap"}


def baseline_key(name: str) -> str:
    """A `backtest.baselines` entry as its current name (an unknown name is returned as it is)."""
    return BASELINE_ALIASES.get(name, name)


__all__ = ["ALL_ON", "BASELINES", "BASELINE_ALIASES", "EQUAL_SPLIT", "EXANTE_BEST", "HEADLINE", "HINDSIGHT_BEST", "NAUTILUS_TWAP",
           "ORDER", "ROUTER", "all_on", "baseline_key", "sort_key"]
