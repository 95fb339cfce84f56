"""Baseline routers and algorithms that backtests compare the smart router against."""

from __future__ import annotations

from typing import Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId, Venue
from nautilus_trader.model.objects import Price, Quantity

from nautilus_sor.exceptions import ValidationError
from nautilus_sor.sides import core_side
from nautilus_sor.smart_router import SmartOrderRouter, VenueAllocation
from nautilus_sor.units import units_to_qty


class EqualSplitRouter(SmartOrderRouter):
    """Baseline: every order split into equal whole-lot parts across the enabled venues, ignoring
    prices, fees, latency and what was learned (what a naive multi-venue desk does). Like the router, it
    sends nothing to a venue whose book shows nothing on the side the order takes while another's does
    (such a child is only rejected "no market")."""

    def route_order(self, instrument_id: InstrumentId, side: OrderSide, total_quantity: Quantity, max_venues: int = 3,
                    price: Price | None = None) -> list[VenueAllocation]:
        units, ids, precisions = self._prepare(instrument_id, total_quantity, "total_quantity", core_side(side))
        specs = [v for v in self.core.venues if v.enabled][:max_venues]
        if not specs:
            raise ValidationError("invalid venues: none enabled", field="venues", value="[]")
        lot = max(v.lot_size for v in specs)
        lots, rest = divmod(units, lot)
        share, extra = divmod(lots, len(specs))
        # What no common lot holds goes to the first venue whose lot does (a remainder a partial fill on a
        # venue of finer size precision left).
        takes_rest = next((i for i, v in enumerate(specs) if rest % v.lot_size == 0), None)
        if takes_rest is None:
            raise ValidationError(f"invalid total_quantity: {units} units leave {rest} units no venue's lot holds",
                                  field="total_quantity", value=str(units))
        out = []
        for i, spec in enumerate(specs):
            q = (share + (1 if i < extra else 0)) * lot + (rest if i == takes_rest else 0)
            if q == 0:
                continue
            out.append(
                VenueAllocation(
                    venue=Venue(spec.name),
                    instrument_id=ids[spec.name],
                    quantity=units_to_qty(q, precisions[spec.name]),
                    expected_price=None,
                    fee=None,  # not priced: the baseline ignores prices and fees
                    latency_cost=None,
                    miss_cost=None,
                    score_bps=float("nan"),
                    fill_probability=1.0,
                    reason="equal split baseline",
                )
            )
        if self.record_history:
            self._record(out)
        return out


def nautilus_twap(duration_seconds: float, interval_seconds: float) -> tuple[Any, dict[str, Any]]:
    """Nautilus's own example TWAP (market orders on one venue) and the order params it expects."""
    from nautilus_trader.examples.algorithms.twap import TWAPExecAlgorithm, TWAPExecAlgorithmConfig

    algorithm = TWAPExecAlgorithm(TWAPExecAlgorithmConfig())
    return algorithm, {"horizon_secs": duration_seconds, "interval_secs": interval_seconds}
