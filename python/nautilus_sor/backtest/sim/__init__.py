"""Event-driven execution simulator over recorded books and trade tapes, and the routing evaluation.

`exchange` (one venue's matching with latency, consumed liquidity, fees, and the core's queue position
of a resting order), `params` (how parents are executed), `market` (a recorded market prepared for it), `feeds` (what the
router learns, never ahead of the simulation), `simulator` (one parent order under one routing scenario), `basis` (which prices are compared across
venues), `optimum` (the snapshot optimum, a true lower bound and the clean-up), `evaluate` (the experiment grid and its statistics). Imported lazily by the CLI.
"""
