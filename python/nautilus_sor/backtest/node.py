"""The same run through Nautilus's own machinery: the market written to a `ParquetDataCatalog`, the
config mapped to a `BacktestRunConfig` (venue configs with `oms_type`, `ImportableStrategyConfig`,
`ImportableExecAlgorithmConfig`), executed by `BacktestNode`.

    catalog = write_catalog(market, "catalog/", clock_step_ms=config.backtest.clock_step_ms)
    node = BacktestNode([run_config_for(config, market, "catalog/")])  # this module's: book updates kept whole
    node.run()

The catalog holds the run's clock ticks (`backtest.clock`) beside the market, as custom data the run config
reads with client id `CLOCK`, so the node's clock moves between sparse updates as the runner's does; the
run config lists the market's streams in the runner's order (trades, book updates, quotes at equal times).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nautilus_trader.backtest.node import BacktestNode as NautilusBacktestNode

from nautilus_sor.backtest.clock import CLOCK_CLIENT_ID, DEFAULT_CLOCK_STEP_MS, ClockTick
from nautilus_sor.backtest.data.catalog import batch_deltas
from nautilus_sor.backtest.runner import ParentOrderStrategy, ParentOrderStrategyConfig, _venue_dicts, market_venue, with_market_volume_profile
from nautilus_sor.config import RunConfig
from nautilus_sor.execution_algorithms import exec_algorithm_fields
from nautilus_sor.queue_model import QUEUE_OFF

NS_PER_MS = 1_000_000


def write_catalog(market: Any, path: str | Path, *, clock_step_ms: float | None = DEFAULT_CLOCK_STEP_MS) -> Any:
    """Writes the market's instruments, book deltas, quotes and trades to a Parquet data catalog, and its
    clock ticks at `clock_step_ms` (the run's `backtest.clock_step_ms`; none on a market without order-book
    data, as the runner adds none there)."""
    from nautilus_trader.model.data import OrderBookDeltas, QuoteTick, TradeTick
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_sor.backtest.engine import market_feeds

    catalog = ParquetDataCatalog(str(path))
    catalog.write_data(list(market.instruments))
    deltas = [d for batch in market.data if isinstance(batch, OrderBookDeltas) for d in batch.deltas]
    catalog.write_data(deltas)
    catalog.write_data([d for d in market.data if isinstance(d, QuoteTick)])
    catalog.write_data([d for d in market.data if isinstance(d, TradeTick)])
    ticks = market_feeds(market.data).clock_ticks(clock_step_ms) if clock_step_ms is not None else []
    if ticks:
        catalog.write_data([tick.data for tick in ticks])
    return catalog


class BacktestNode(NautilusBacktestNode):
    """Nautilus's `BacktestNode`, with a catalog's book deltas handed to the engine as the `OrderBookDeltas`
    batches they were written as (each ends at F_LAST). Nautilus's node adds them one by one, and its engine
    lets every venue match its in-flight orders after each delta: an order reaching a venue at the same
    nanosecond as a book update filled against half of that update (its DELETEs, say), a book the venue
    never showed. Batched, the venue applies an update whole, as the runner's engines do."""

    def _load_engine_data(self, engine: Any, result: Any) -> None:
        from nautilus_trader.model.data import OrderBookDelta

        if result.data_cls is OrderBookDelta and result.data:
            result = dataclasses.replace(result, data=batch_deltas(result.data))
        super()._load_engine_data(engine, result)


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__name__}"


def run_config_for(config: RunConfig, market: Any, catalog_path: str | Path, *, log_level: str = "ERROR") -> Any:
    """The configured strategy (the "router" scenario) as a Nautilus `BacktestRunConfig`."""
    from nautilus_trader.backtest.config import (
        BacktestDataConfig,
        BacktestEngineConfig,
        BacktestRunConfig,
        BacktestVenueConfig,
        ImportableFillModelConfig,
        ImportableLatencyModelConfig,
    )
    from nautilus_trader.config import DataEngineConfig, ImportableActorConfig, ImportableExecAlgorithmConfig, ImportableStrategyConfig, LoggingConfig
    from nautilus_trader.model.identifiers import InstrumentId

    from nautilus_sor.backtest.engine import market_feeds
    from nautilus_sor.fill_model import QueuePositionModule, QueuePositionModuleConfig
    from nautilus_sor.fill_model_consumed import ConsumedLiquidityFillModel, ConsumedLiquidityModule, ConsumedLiquidityModuleConfig

    config = with_market_volume_profile(config, market)  # a VWAP's "market" curve, resolved as the runner does
    venues = _venue_dicts(config, market)
    by_name = {v.name: v for v in market.venues}
    venue_configs = []
    # The queue-position fill model, as any Nautilus user would add it to a BacktestVenueConfig.
    queue_modules = [] if config.backtest.queue_model == QUEUE_OFF else [
        ImportableActorConfig(actor_path=_path(QueuePositionModule), config_path=_path(QueuePositionModuleConfig),
                              config={"queue_model": config.backtest.queue_model, "queue_power": config.backtest.queue_power})]
    consumed_fill_model = None
    if config.backtest.consume_liquidity:
        # Aggressive fills consume the levels they take: the fill model and the module that feeds it.
        queue_modules.append(ImportableActorConfig(actor_path=_path(ConsumedLiquidityModule), config_path=_path(ConsumedLiquidityModuleConfig),
                                                   config={}))
        consumed_fill_model = ImportableFillModelConfig(
            fill_model_path=_path(ConsumedLiquidityFillModel), config_path="nautilus_trader.backtest.config:FillModelConfig", config={})
    for v in venues:
        name = market_venue(v["name"])
        latency_ms = by_name[name].latency_ms
        latency = (
            ImportableLatencyModelConfig(
                latency_model_path="nautilus_trader.backtest.models:LatencyModel",
                config_path="nautilus_trader.backtest.config:LatencyModelConfig",
                config={"base_latency_nanos": int(round(latency_ms * NS_PER_MS))},
            )
            if latency_ms > 0
            else None
        )
        venue_configs.append(
            BacktestVenueConfig(
                name=name,
                oms_type=v["oms_type"],
                account_type="MARGIN",
                starting_balances=["1000000 USDT", "100 BTC"],
                book_type="L2_MBP",
                latency_model=latency,
                support_contingent_orders=False,  # as the runner's engines: see runner.CONTINGENT_ORDERS_NOTE
                modules=queue_modules,
                fill_model=consumed_fill_model,
            )
        )
    # One data config per stream, in the runner's stream order: the node sorts each load in stably, so at
    # equal times it keeps this order (trades, then book updates, then quotes: `engine.market_feeds`).
    catalog_class = {"OrderBookDeltas": "OrderBookDelta", "QuoteTick": "QuoteTick", "TradeTick": "TradeTick"}
    data = [
        BacktestDataConfig(catalog_path=str(catalog_path), data_cls=f"nautilus_trader.model.data:{catalog_class[kind.__name__]}",
                           instrument_id=InstrumentId.from_str(instrument_id))
        for instrument_id, kind in market_feeds(market.data).streams
        if kind.__name__ in catalog_class  # what `write_catalog` writes
    ]
    if config.backtest.clock_step_ms is not None:  # the ticks `write_catalog` wrote at this step, if any
        data.append(BacktestDataConfig(catalog_path=str(catalog_path), data_cls=_path(ClockTick), client_id=CLOCK_CLIENT_ID))
    s = config.strategy
    router = s.router.params() if s.router is not None else None
    strategy = ImportableStrategyConfig(
        strategy_path=_path(ParentOrderStrategy),
        config_path=_path(ParentOrderStrategyConfig),
        config={
            "instrument_id": s.instrument_id or venues[0]["instrument_id"],
            "use_smart_routing": s.use_smart_routing and s.execution_algorithm is None,
            "venues": venues,
            "execution_algorithm": s.execution_algorithm,
            "max_venues": s.max_venues,
            "router": router,
            "orders": [{"side": o.side, "quantity": str(o.quantity), "at_seconds": o.at_seconds, "limit_price": o.limit_price,
                       "position_id": o.position_id} for o in config.orders],
            "oms_type": config.venue.oms_type,
            "routed": s.use_smart_routing,  # as the runner: the algorithm's router reads every venue's book
        },
    )
    algorithms = []
    if s.execution_algorithm is not None:
        # The same fields the runner gives build_exec_algorithm.
        algorithm, algorithm_config, fields = exec_algorithm_fields(
            s.execution_algorithm,
            use_smart_routing=s.use_smart_routing,
            venues=venues if s.use_smart_routing else None,
            max_venues=s.max_venues,
            seed=config.backtest.seed,
            router=router,
            max_finished_parents=None,  # the results read every parent's planned schedule
        )
        algorithms.append(ImportableExecAlgorithmConfig(exec_algorithm_path=_path(algorithm), config_path=_path(algorithm_config), config=fields))
    engine = BacktestEngineConfig(
        trader_id="BACKTESTER-001",
        # `BacktestNode` (above) hands the catalog's deltas over as the runner's OrderBookDeltas batches.
        data_engine=DataEngineConfig(),
        logging=LoggingConfig(log_level=log_level),
        strategies=[strategy],
        exec_algorithms=algorithms,
    )
    return BacktestRunConfig(engine=engine, venues=venue_configs, data=data, dispose_on_completion=False)
