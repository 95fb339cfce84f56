"""Which algorithm and which strategy go together, per engine.

A strategy saves and loads its execution algorithm's state with its own (Nautilus 1.221's
`Trader.save()/load()` cover actors and strategies, not execution algorithms), and the reference's direct
`algorithm.execute(instrument_id=...)` call needs the strategy that owns the primary orders. Both are
found by algorithm id within one engine: the key is the engine's message bus (each kernel has its own),
so two engines in one process (a backtest and its baselines, Ray workers) with the same trader id never
see each other's objects. Entries are weak: a registry never keeps an engine's objects alive. The bus is
keyed by `id()` (Nautilus's MessageBus takes no weak reference): a registered object holds its bus, so
while an entry is alive its bus is, and no other live bus has that id."""

from __future__ import annotations

import weakref
from typing import Any

_ALGORITHMS: weakref.WeakValueDictionary[tuple[int, str], Any] = weakref.WeakValueDictionary()
_STRATEGIES: weakref.WeakValueDictionary[tuple[int, str], Any] = weakref.WeakValueDictionary()


def register_algorithm(msgbus: Any, algorithm_id: Any, algorithm: Any) -> None:
    _ALGORITHMS[(id(msgbus), str(algorithm_id))] = algorithm


def registered_algorithm(msgbus: Any, algorithm_id: Any) -> Any | None:
    """The algorithm registered under `algorithm_id` on this engine's bus; None if there is none."""
    algorithm = _ALGORITHMS.get((id(msgbus), str(algorithm_id)))
    return algorithm if algorithm is not None and algorithm.msgbus is msgbus else None


def register_strategy_for(msgbus: Any, algorithm_id: Any, strategy: Any) -> None:
    """`strategy` owns the primary orders `algorithm_id`'s direct `execute(...)` call creates on this engine."""
    _STRATEGIES[(id(msgbus), str(algorithm_id))] = strategy


def strategy_for(msgbus: Any, algorithm_id: Any) -> Any | None:
    strategy = _STRATEGIES.get((id(msgbus), str(algorithm_id)))
    return strategy if strategy is not None and strategy.msgbus is msgbus else None
