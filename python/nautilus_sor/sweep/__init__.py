"""Routing-parameter sweeps on Ray: `nautilus-sor sweep sweep.json`.

A sweep varies fields of a run config (a grid, random draws, or both) and repeats each point over market
seeds; every point x repeat is a backtest run as a Ray task on a market shared through a Parquet catalog.
The results are one Parquet table, a ranking by mean router cost with 95% confidence intervals, an HTML
page and the best point's config as a runnable JSON.

    spec/points   the sweep file and the points it gives (every point's config validated up-front)
    market_store  the markets, written once to a ParquetDataCatalog and read back by the tasks
    task          one repeat of one point: backtest + TCA -> a row of costs
    driver        the Ray driver: retries, incremental results, restart
    ranking/page  the table, the ranking, the best config, the HTML page

Ray is an optional extra (`pip install 'nautilus-sor[sweep]'`); nothing here imports it until a sweep runs.
"""

from __future__ import annotations

from nautilus_sor.sweep.spec import SweepSpec, load_sweep, parse_sweep

__all__ = ["SweepSpec", "load_sweep", "parse_sweep"]
