"""Markets shared by the tasks of a sweep through Nautilus's `ParquetDataCatalog`, not pickled per task.

The driver builds each distinct synthetic market once and writes its instruments and data to a catalog
under the sweep's output dir (`<out>/markets/<key>/`, the key hashing the market's config); a task reads
it back by path. The objects read back are the ones written, in the same order: book deltas are
regrouped into the original `OrderBookDeltas` batches by their F_LAST flag (`catalog.read_streams`; the
catalog's own batching groups by timestamp), so a backtest on a stored market equals one on the freshly
built market. Writing and reading go through `backtest.data.catalog` (`write_nautilus_data`, `read_streams`).

Replaceable: once run configs can name a catalog market themselves (`market: {"type": "catalog"}`), the
task can run that config directly and this module reduces to `store_market`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nautilus_sor.analysis.results import MARKET_COLUMNS, TRADES_COLUMNS
from nautilus_sor.exceptions import MarketDataError

MARKET_FILE = "market.json"  # written last: a directory without it is an interrupted write


def market_key(market_config: Any) -> str:
    """A stable hash of a `SyntheticMarketConfig` (a frozen dataclass of plain values: its repr is exact)."""
    return hashlib.sha256(repr(market_config).encode()).hexdigest()[:16]


def store_market(market_config: Any, root: str | Path) -> Path:
    """Builds the market of `market_config` and writes it to a catalog under `root`, unless a complete
    one is already there (a restarted sweep reuses it). Returns the catalog's directory."""
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_sor.backtest.data.catalog import write_nautilus_data
    from nautilus_sor.backtest.synthetic import build_market

    key = market_key(market_config)
    target = Path(root) / key
    if (target / MARKET_FILE).is_file():
        return target
    staging = Path(root) / f".{key}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    market = build_market(market_config)
    write_nautilus_data(ParquetDataCatalog(str(staging)), market.instruments, market.data)
    meta = {"key": key, "market_config": repr(market_config), "instruments": [i.id.value for i in market.instruments]}
    (staging / MARKET_FILE).write_text(json.dumps(meta, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


@dataclass(slots=True)
class StoredMarket:
    """A market read back from a catalog, with what `run_backtest` uses of a `SyntheticMarket`."""

    config: Any  # the SyntheticMarketConfig it was built from (venue names, fees, latency)
    instruments: list[Any]
    data: list[Any]
    _market: pd.DataFrame
    _trades: pd.DataFrame

    @property
    def venues(self) -> tuple[Any, ...]:
        return tuple(self.config.venues)

    def venue_configs(self) -> list[dict[str, Any]]:
        return [v.terms() for v in self.config.venues]

    def market_table(self) -> pd.DataFrame:
        return self._market.copy()

    def trades_table(self) -> pd.DataFrame:
        return self._trades.copy()


def _check_batches(batches: list[Any], iid: str) -> list[Any]:
    """`batches` as read (`read_streams`), unless the last one lacks its F_LAST: a store cut short."""
    from nautilus_trader.model.enums import RecordFlag

    if batches and not batches[-1].deltas[-1].flags & int(RecordFlag.F_LAST):
        raise MarketDataError(
            f"invalid market catalog: {len(batches[-1].deltas)} book deltas of {iid} after the last F_LAST",
            field="order_book_deltas",
            value=iid,
        )
    return batches


def load_stored_market(path: str | Path, market_config: Any) -> StoredMarket:
    """The market `store_market(market_config, ...)` wrote at `path`; its instruments in the config's venue order."""
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_sor.backtest.data.catalog import read_streams
    from nautilus_sor.backtest.synthetic import SYMBOL

    directory = Path(path)
    meta_file = directory / MARKET_FILE
    if not meta_file.is_file():
        raise MarketDataError(f"invalid market catalog: {directory} has no {MARKET_FILE} (not written, or interrupted)",
                              field="market_path", value=str(directory))
    meta = json.loads(meta_file.read_text())
    if meta.get("key") != market_key(market_config):
        raise MarketDataError(f"invalid market catalog: {directory} holds another market than this config's",
                              field="market_path", value=str(directory))
    catalog = ParquetDataCatalog(str(directory))
    by_id = {i.id.value: i for i in catalog.instruments()}
    instruments = []
    for venue in market_config.venues:
        iid = f"{SYMBOL}.{venue.name}"
        if iid not in by_id:
            raise MarketDataError(f"invalid market catalog: {directory} lacks instrument {iid}", field="instruments", value=iid)
        instruments.append(by_id[iid])
    streams = read_streams(catalog, instruments)
    data, quotes, trades = [], [], []
    for venue, instrument in zip(market_config.venues, instruments):
        iid = instrument.id.value
        venue_quotes, venue_trades = streams.get(("quotes", iid), []), streams.get(("trades", iid), [])
        # Venue after venue: its book, quotes and trades (the engine sorts by time, stably).
        data += _check_batches(streams.get(("deltas", iid), []), iid)
        data += venue_quotes
        data += venue_trades
        quotes.append(_tick_frame(venue.name, venue_quotes, _QUOTE_FIELDS))
        trades.append(_tick_frame(venue.name, venue_trades, _TRADE_FIELDS))
    return StoredMarket(config=market_config, instruments=instruments, data=data,
                        _market=_sorted(quotes, MARKET_COLUMNS), _trades=_sorted(trades, TRADES_COLUMNS))


# The columns of the market and trades tables taken from Nautilus ticks: column -> the tick's attribute.
_QUOTE_FIELDS = {"bid": "bid_price", "ask": "ask_price", "bid_size": "bid_size", "ask_size": "ask_size"}
_TRADE_FIELDS = {"price": "price", "size": "size"}


def _tick_frame(venue: str, ticks: list[Any], fields: dict[str, str]) -> pd.DataFrame:
    """One row per tick: its `ts_init`, the venue, and each of `fields` as a float."""
    return pd.DataFrame({
        "ts": [tick.ts_init for tick in ticks],
        "venue": venue,
        **{column: [getattr(tick, attribute).as_double() for tick in ticks] for column, attribute in fields.items()},
    })


def _sorted(parts: list[pd.DataFrame], columns: dict[str, str]) -> pd.DataFrame:
    """Venue after venue, then stably by time: the order `SyntheticMarket` gives its tables."""
    df = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable").reset_index(drop=True)
    return df[list(columns)].astype(columns)
