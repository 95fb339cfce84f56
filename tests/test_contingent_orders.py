"""The runner's venues run without contingent-order support (a long schedule's fills then skip Nautilus's
scan of all the position's orders): the run summary says so, and the fills are the ones Nautilus's
default (`support_contingent_orders=True`) gives, since none of our strategies submits contingent or
reduce-only orders."""

from __future__ import annotations

from pathlib import Path

import pytest
from nautilus_trader.backtest import engine as nautilus_engine

from nautilus_sor.backtest import engine as engine_module
from nautilus_sor.backtest.engine import market_feeds
from nautilus_sor.backtest.runner import Scenario, _venue_dicts, execution_summary, market_config_for, run_scenario
from nautilus_sor.backtest.synthetic import build_market
from nautilus_sor.config import load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "multi_venue_twap.json"


@pytest.fixture(scope="module")
def setup():
    config = load_config(EXAMPLE)
    market = build_market(market_config_for(config))
    return config, market, _venue_dicts(config, market)


def run(setup, monkeypatch, contingent_orders: bool | None):
    """The router scenario's fills, the engine built with `contingent_orders` forced (None: as the runner
    builds it), and each venue's `support_contingent_orders` as the engine had it."""
    config, market, venues = setup
    built = engine_module.engine_for_market
    seen: dict[str, bool] = {}

    class RecordingEngine(nautilus_engine.BacktestEngine):
        def add_venue(self, venue, *args, **kwargs):
            seen[str(venue)] = kwargs.get("support_contingent_orders", True)  # Nautilus's default when not given
            return super().add_venue(venue, *args, **kwargs)

    def spy(*args, **kwargs):
        if contingent_orders is not None:
            kwargs["contingent_orders"] = contingent_orders
        return built(*args, **kwargs)

    monkeypatch.setattr(nautilus_engine, "BacktestEngine", RecordingEngine)
    monkeypatch.setattr(engine_module, "engine_for_market", spy)
    rows = run_scenario(config, market, Scenario("router", venues[0]["instrument_id"], True, config.strategy.execution_algorithm), venues)
    fills = sorted((f["venue"], f["ts"], f["quantity"], f["price"]) for f in rows["fills"])
    return fills, seen


def test_runner_venues_have_contingent_orders_off_and_fill_as_with_them_on(setup, monkeypatch):
    fills, seen = run(setup, monkeypatch, None)
    assert seen and set(seen.values()) == {False}, seen
    with_contingent, seen_on = run(setup, monkeypatch, True)
    assert set(seen_on.values()) == {True}
    assert len(fills) > 50
    assert fills == with_contingent


def test_run_summary_says_contingent_orders_are_off(setup):
    _, market, _ = setup
    note = execution_summary(market, market_feeds(market.data))["contingent_orders"]
    assert note.startswith("off on every venue") and "support_contingent_orders=False" in note
