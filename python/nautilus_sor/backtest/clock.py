"""Clock ticks: no-op data points that keep a backtest's clock moving between sparse market data.

Why. Nautilus 1.221's `BacktestEngine` moves its clock only at data points. Two things follow, and both
shift when and at what price an order executes on a market whose updates are seconds apart (the shared
IBM data: about three quotes a second across six venues, with gaps of 5-16 s):

- An order reaches its venue when its latency has passed, but the venue processes it only at the next data
  point, after applying that point's update: in the IBM example, a market order sent at
  14:02:32 into a 6 s gap filled at 14:02:38 against the book of 14:02:38.
- An alert set from a time event's callback for a time before the next data point fires only after that
  data point, with the clock set back to the alert's time (nautilus_trader issue #3384): the first slice of
  a parent that arrived at 14:00:30 went out "at 14:00:30" after the data of 14:00:36.

A tick is a data point with nothing in it (`ClockTick`, handed to the engine as custom data of client
`CLOCK`): at each one the engine fires the alerts due and lets every venue process the orders that have
arrived, against the books as they are then. `clock_ticks` puts ticks `step_ns` apart into every gap
between consecutive data points longer than `step_ns`, so that neither delay can exceed `step_ns` (an
order sent from an alert that was itself a step late is stamped at the alert's time: two steps); a dense
feed gets few. The backtest uses `DEFAULT_CLOCK_STEP_MS` (config `backtest.clock_step_ms`) on
markets with order-book data; bar markets keep their own rule (`backtest.engine`'s module doc): their
decisions are made at bar closes, as `evaluate`'s are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from nautilus_trader.core.data import Data
from nautilus_trader.model.custom import customdataclass

from nautilus_sor.exceptions import ValidationError

#: The backtest's default clock step: the longest an alert or an arrived order waits for the engine. The
#: coarsest step whose costs agree with a 1 ms step's on the shared IBM data (10 ms: within 0.1 bps per
#: parent; 100 ms: up to 0.2 bps off): docs/evaluation.md, "Backtest clock".
DEFAULT_CLOCK_STEP_MS = 10.0
#: The finest step accepted: each tick is one engine step (1 ms is 1.8 million over a 30-minute gap-filled
#: market, and moved no IBM cost by more than 0.09 bps against 10 ms).
MIN_CLOCK_STEP_MS = 1.0
#: The client id clock ticks are added under (Nautilus needs one for data without an instrument).
CLOCK_CLIENT_ID = "CLOCK"
_NS_PER_MS = 1_000_000


@customdataclass
class ClockTick(Data):
    """A data point that carries nothing: the engine's clock reaches its `ts_init`."""


def clock_tick_times(data_ts: npt.ArrayLike, step_ns: int) -> npt.NDArray[np.int64]:
    """The tick times for market data stamped `data_ts` (ts_init, ns; any order): in every gap between
    two consecutive data times longer than `step_ns`, a tick every `step_ns` after the earlier one, strictly
    before the later one. None before the first data point or after the last."""
    if not step_ns > 0:
        raise ValidationError(f"invalid step_ns: {step_ns!r} (must be > 0 ns)", field="step_ns", value=step_ns)
    ts = np.unique(np.asarray(data_ts, dtype=np.int64))
    if ts.size < 2:
        return np.empty(0, dtype=np.int64)
    gaps = np.diff(ts)
    counts = (gaps - 1) // step_ns  # ticks strictly inside each gap
    starts = np.repeat(ts[:-1], counts)
    if starts.size == 0:
        return np.empty(0, dtype=np.int64)
    # k = 1..count within each gap: a running index minus the gap's first position.
    first = np.repeat(np.cumsum(counts) - counts, counts)
    k = np.arange(starts.size, dtype=np.int64) - first + 1
    ticks: npt.NDArray[np.int64] = starts + k * np.int64(step_ns)
    return ticks


def clock_ticks(data_ts: npt.ArrayLike, step_ms: float) -> list[Any]:
    """`ClockTick`s for market data stamped `data_ts` (`clock_tick_times` at `step_ms`), as the `CustomData`
    the engine takes (`engine.MarketFeeds.clock_ticks` makes them once per market and step)."""
    from nautilus_trader.model.data import CustomData, DataType

    times = clock_tick_times(data_ts, int(round(step_ms * _NS_PER_MS)))
    data_type = DataType(ClockTick)
    return [CustomData(data_type, ClockTick(ts_event=t, ts_init=t)) for t in times.tolist()]


__all__ = ["CLOCK_CLIENT_ID", "DEFAULT_CLOCK_STEP_MS", "MIN_CLOCK_STEP_MS", "ClockTick", "clock_tick_times", "clock_ticks"]
