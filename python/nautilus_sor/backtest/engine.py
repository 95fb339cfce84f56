"""A Nautilus BacktestEngine over any market of `nautilus_sor` (the synthetic one or a `RecordedMarket`):
its venues as L2_MBP MARGIN venues with their order latency, its instruments and data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nautilus_sor.exceptions import ConfigError

# Starting balance per currency kind; Nautilus's margin accounting breaks above 1e7.
QUOTE_BALANCE = 1_000_000.0
BASE_BALANCE = 100.0
_MS = 1_000_000


def starting_balances(instruments: list[Any], *, quote_balance: float = QUOTE_BALANCE, base_balance: float = BASE_BALANCE) -> list[Any]:
    """A balance in every currency the venue's instruments trade or settle in: `quote_balance` of each
    quote currency (USDT, USD), `base_balance` of each base or settlement currency that is not a quote
    (BTC: spot base, COIN-M margin)."""
    from nautilus_trader.model.objects import Money

    quotes, others = {}, {}
    for i in instruments:
        quotes[i.quote_currency.code] = i.quote_currency
        for name in ("base_currency", "settlement_currency"):
            currency = getattr(i, name, None)
            if currency is not None:
                others[currency.code] = currency
    balances = [Money(quote_balance, c) for c in quotes.values()]
    balances += [Money(base_balance, c) for code, c in others.items() if code not in quotes]
    return balances


def engine_for_market(market: Any, oms_type: Any = "NETTING", *, latency: bool = True, log_level: str = "ERROR",
                      trader_id: str = "BACKTESTER-001", run_analysis: bool = False) -> Any:
    """A BacktestEngine with the market's venues (L2_MBP books, MARGIN accounts with `starting_balances`,
    the venue's `latency_ms` as order latency when `latency`), instruments and data. `oms_type`: one for
    all venues or a {venue: type} mapping."""
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.backtest.models import LatencyModel
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.enums import AccountType, BookType, OmsType
    from nautilus_trader.model.identifiers import Venue

    def oms_of(name: str) -> OmsType:
        raw = oms_type.get(name, "NETTING") if isinstance(oms_type, Mapping) else oms_type
        if isinstance(raw, OmsType):
            return raw
        if isinstance(raw, str) and raw.upper() in ("NETTING", "HEDGING"):
            return OmsType[raw.upper()]
        path = f"oms_type.{name}" if isinstance(oms_type, Mapping) else "oms_type"
        raise ConfigError(f"invalid {path}: {raw!r} (must be NETTING or HEDGING)", field=path, value=repr(raw))

    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level=log_level), trader_id=trader_id, run_analysis=run_analysis))
    by_venue: dict[str, list[Any]] = {}
    for instrument in market.instruments:
        by_venue.setdefault(instrument.id.venue.value, []).append(instrument)
    for v in market.venues:
        latency_model = LatencyModel(base_latency_nanos=int(round(v.latency_ms * _MS))) if latency and v.latency_ms > 0 else None
        engine.add_venue(venue=Venue(v.name), oms_type=oms_of(v.name), account_type=AccountType.MARGIN, base_currency=None,
                         starting_balances=starting_balances(by_venue.get(v.name, [])), book_type=BookType.L2_MBP,
                         latency_model=latency_model)
    for instrument in market.instruments:
        engine.add_instrument(instrument)
    add_data(engine, market.data)
    return engine


def add_data(engine: Any, data: list[Any]) -> None:
    """Adds time-sorted `data` one (instrument or bar type, data type) stream at a time (Nautilus registers
    book and market data clients from the first object of each `add_data` call); sorted once, at the end
    (the engine's sort is stable, so equal times keep their order)."""
    groups: dict[tuple[str, type], list[Any]] = {}
    for obj in data:
        key = getattr(obj, "instrument_id", None) or getattr(obj, "bar_type", None)
        groups.setdefault((str(key), type(obj)), []).append(obj)
    keys = list(groups)
    for n, key in enumerate(keys):
        engine.add_data(groups[key], sort=n == len(keys) - 1)


__all__ = ["engine_for_market", "starting_balances"]
