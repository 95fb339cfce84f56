"""The queue-position module in a real Nautilus BacktestEngine (L2_MBP book): a resting bid fills only
after the queue ahead of it has traded, from the volume beyond it, at its own price as MAKER."""

import pytest
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas, TradeTick
from nautilus_trader.model.enums import AccountType, AggressorSide, BookAction, BookType, OmsType, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import TradeId, Venue
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_env import NS, START, btcusdt
from nautilus_sor.exceptions import ValidationError
from nautilus_sor.fill_model import QueuePositionModule, QueuePositionModuleConfig


class RestOneBid(Strategy):
    def __init__(self, instrument_id):
        super().__init__(StrategyConfig(strategy_id="REST-001"))
        self.instrument_id = instrument_id
        self.fills = []

    def on_start(self):
        self.clock.set_time_alert_ns("rest", START + NS // 2, self._rest)

    def _rest(self, _event):
        order = self.order_factory.limit(self.instrument_id, OrderSide.BUY, Quantity.from_str("2.000"), Price.from_str("100.00"))
        self.submit_order(order)

    def on_order_filled(self, event):
        self.fills.append((event.ts_event, float(event.last_qty), float(event.last_px), event.liquidity_side.name))


def book(instrument, ts, bid_size):
    deltas = [OrderBookDelta.clear(instrument.id, 0, ts, ts)]
    for side, px, size in [(OrderSide.BUY, "100.00", bid_size), (OrderSide.SELL, "100.10", "5.000")]:
        order = BookOrder(side, Price.from_str(px), Quantity.from_str(size), 0)
        deltas.append(OrderBookDelta(instrument.id, BookAction.ADD, order, 0, 0, ts, ts))
    last = deltas[-1]
    deltas[-1] = OrderBookDelta(instrument.id, last.action, last.order, RecordFlag.F_LAST, 0, ts, ts)
    return OrderBookDeltas(instrument.id, deltas)


def seller(instrument, ts, px, size, n):
    return TradeTick(instrument.id, Price.from_str(px), Quantity.from_str(size), AggressorSide.SELLER, TradeId(f"T{n}"), ts, ts)


def run(modules, data_of):
    instrument = btcusdt("SIM")
    eng = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"), trader_id="TESTER-001"))
    eng.add_venue(venue=Venue("SIM"), oms_type=OmsType.NETTING, account_type=AccountType.MARGIN, base_currency=None,
                  starting_balances=[Money(1_000_000, USDT), Money(10, BTC)], book_type=BookType.L2_MBP, modules=modules)
    eng.add_instrument(instrument)
    eng.add_data(data_of(instrument))
    strategy = RestOneBid(instrument.id)
    eng.add_strategy(strategy)
    eng.run()
    fills = list(strategy.fills)
    eng.dispose()
    return fills


def tape(instrument):
    # 5.000 displayed at our bid when we join (t = 0.5 s): 5 ahead of us.
    return [book(instrument, START, "5.000"),
            seller(instrument, START + 1 * NS, "100.00", "3.000", 1),   # 2 ahead: nothing for us
            seller(instrument, START + 2 * NS, "100.00", "3.000", 2),   # 2 eat the queue, 1 beyond: fills 1
            book(instrument, START + 3 * NS, "4.000"),                  # size behind us cancelled (queue is 0)
            seller(instrument, START + 4 * NS, "100.00", "5.000", 3)]   # fills our last 1


@pytest.mark.parametrize("model", ["prob_linear", "risk_averse", "prob_log"])
def test_a_resting_bid_fills_only_after_the_queue_ahead_is_consumed(model):
    fills = run([QueuePositionModule(QueuePositionModuleConfig(queue_model=model))], tape)
    assert fills == [(START + 2 * NS, 1.0, 100.0, "MAKER"), (START + 4 * NS, 1.0, 100.0, "MAKER")]


def test_without_the_module_nautilus_never_fills_the_bid_from_the_tape():
    # The contrast the module exists for: on L2 data Nautilus fills a resting bid only when the ask reaches it.
    assert run([], tape) == []


def test_cancels_ahead_move_us_up_under_the_prob_model_not_under_risk_averse():
    def cancels(instrument):
        return [book(instrument, START, "5.000"),
                book(instrument, START + 1 * NS, "1.000"),                 # 4 of the 5 ahead cancelled
                seller(instrument, START + 2 * NS, "100.00", "2.000", 1)]
    # prob_linear: back = 0 so every cancel is ahead of us -> 1 ahead; the trade of 2 fills 1.
    assert run([QueuePositionModule(QueuePositionModuleConfig(queue_model="prob_linear"))], cancels) == [
        (START + 2 * NS, 1.0, 100.0, "MAKER")]
    # (risk_averse caps the queue at the level, 1, the same here; a level larger than our queue differs.)
    def partial(instrument):
        return [book(instrument, START, "5.000"),
                book(instrument, START + 1 * NS, "8.000"),                 # 3 join behind us
                book(instrument, START + 2 * NS, "4.000"),                 # 4 cancelled
                seller(instrument, START + 3 * NS, "100.00", "4.000", 1)]
    averse = run([QueuePositionModule(QueuePositionModuleConfig(queue_model="risk_averse"))], partial)
    linear = run([QueuePositionModule(QueuePositionModuleConfig(queue_model="prob_linear"))], partial)
    # risk_averse: min(5, 4) = 4 ahead, the trade of 4 leaves nothing for us. prob_linear: front 5,
    # back 3, p = 3/8 -> 5 - (5/8) * 4 + min(3 - 1.5, 0) = 2.5 ahead -> 1.5 beyond the queue fills us.
    assert averse == []
    assert linear == [(START + 3 * NS, 1.5, 100.0, "MAKER")]


@pytest.mark.parametrize(("config", "field"), [
    ({"queue_model": "fifo"}, "queue_model"),
    ({"queue_model": "prob_power", "queue_power": -1.0}, "queue_power"),
])
def test_bad_config_is_refused_naming_the_field(config, field):
    with pytest.raises(ValidationError) as err:
        QueuePositionModule(QueuePositionModuleConfig(**config))
    assert err.value.field == field


@pytest.mark.parametrize(("backtest", "field"), [({"queue_model": "fifo"}, "backtest.queue_model"),
                                                 ({"queue_model": "prob_power", "queue_power": -1.0}, "backtest.queue_power")])
def test_a_bad_queue_model_in_a_run_config_is_refused_naming_the_field(backtest, field):
    from nautilus_sor.config import parse_config
    from nautilus_sor.exceptions import ConfigError

    with pytest.raises(ConfigError) as info:
        parse_config({"strategy": {"use_smart_routing": True, "venues": [{"name": "A", "maker_fee": 0.0, "taker_fee": 0.0}]},
                      "backtest": backtest})
    assert info.value.field == field


def test_book_venues_get_the_module_and_the_summary_says_so():
    from nautilus_trader.model.enums import BookType

    from nautilus_sor.backtest.engine import fill_modules, venue_fill_model
    from nautilus_sor.backtest.runner import aggressive_fills_note, resting_fills_note
    from nautilus_sor.fill_model_consumed import ConsumedLiquidityFillModel, ConsumedLiquidityModule

    assert [type(m) for m in fill_modules(BookType.L2_MBP, "prob_log", 3.0, True)] == [QueuePositionModule, ConsumedLiquidityModule]
    assert isinstance(venue_fill_model(fill_modules(BookType.L2_MBP, "prob_log", 3.0, True)), ConsumedLiquidityFillModel)
    assert venue_fill_model([]) is None
    assert fill_modules(BookType.L1_MBP, "prob_log", 3.0, True) == []  # quotes or bars: no queue to stand in
    assert [type(m) for m in fill_modules(BookType.L2_MBP, "off", 3.0, True)] == [ConsumedLiquidityModule]  # each switch on its own
    assert [type(m) for m in fill_modules(BookType.L2_MBP, "prob_log", 3.0, False)] == [QueuePositionModule]
    assert venue_fill_model(fill_modules(BookType.L2_MBP, "prob_log", 3.0, False)) is None
    assert fill_modules(BookType.L2_MBP, "off", 3.0, False) == []
    assert "queue model prob_log" in resting_fills_note({"A": "L2_MBP", "B": "L1_MBP"}, "prob_log", 3.0)
    assert resting_fills_note({"A": "L2_MBP"}, "off", 3.0).startswith("A: Nautilus's own L2 matching")
    assert aggressive_fills_note({"A": "L2_MBP", "B": "L1_MBP"}, True).startswith("A: consumed-liquidity fill model")
    assert aggressive_fills_note({"A": "L2_MBP"}, False).startswith("A: Nautilus's own L2 matching")


def test_consume_liquidity_is_its_own_switch_and_a_bad_value_names_the_field():
    import pytest

    from nautilus_sor.config import parse_config
    from nautilus_sor.exceptions import ConfigError

    raw = {"strategy": {"name": "MultiVenueStrategy"}, "backtest": {"consume_liquidity": False, "queue_model": "prob_log"}}
    config = parse_config(raw)
    assert (config.backtest.consume_liquidity, config.backtest.queue_model) == (False, "prob_log")
    assert parse_config({"strategy": {"name": "MultiVenueStrategy"}}).backtest.consume_liquidity is True
    with pytest.raises(ConfigError) as err:
        parse_config({"strategy": {"name": "MultiVenueStrategy"}, "backtest": {"consume_liquidity": "yes"}})
    assert (err.value.field, err.value.value) == ("backtest.consume_liquidity", "'yes'")
