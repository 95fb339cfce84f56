"""Event-driven execution simulator over recorded books and trade tapes, and the routing evaluation.

`queue` (queue position of a resting order), `exchange` (one venue's matching with latency, consumed
liquidity and fees), `simulator` (one parent order under one routing scenario), `oracle` (the hindsight
lower bound), `evaluate` (the experiment grid and its statistics). Imported lazily by the CLI.
"""
