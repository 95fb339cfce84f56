//! One position (for NETTING, its current cycle) and how one non-flipping fill changes it: Nautilus
//! 1.221's `Position.apply`, `_calculate_avg_px`, `_calculate_points` and `_calculate_pnl`, in the
//! same order on the same doubles.

use super::arithmetic::Scales;
use super::book::check_mark;
use super::{InstrumentId, InstrumentSpec, OmsType, PositionId, PositionSide, VenueId};
use crate::book::Side;
use crate::error::SorResult;

/// One position (for NETTING, its current cycle), with Nautilus `Position`'s fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub id: PositionId,
    pub venue: VenueId,
    pub instrument: InstrumentId,
    pub oms_type: OmsType,
    /// Signed quantity in units: positive long, negative short.
    pub signed_units: i128,
    /// Largest quantity held in this cycle, in units.
    pub peak_units: u128,
    /// Quantity bought / sold in this cycle, in units.
    pub buy_units: u128,
    pub sell_units: u128,
    pub avg_px_open: f64,
    /// Average price of the closing fills of this cycle (0 before the first).
    pub avg_px_close: f64,
    /// Realised PnL of this cycle, commissions subtracted, in the settlement currency.
    pub realized_pnl: f64,
    /// Return of the closed part: (close - open) / open, signed by side.
    pub realized_return: f64,
    /// Commissions of this cycle.
    pub commissions: f64,
    /// Fills applied in this cycle.
    pub event_count: u64,
    /// NETTING: realised PnL of the earlier, closed cycles of this position id.
    pub prior_realized_pnl: f64,
    /// NETTING: how many earlier cycles were closed and reopened.
    pub closed_cycles: u64,
    /// Index in its pair's list of open positions; `NOT_OPEN` when flat.
    pub(crate) open_index: u32,
}

pub(super) const NOT_OPEN: u32 = u32::MAX;

impl Position {
    pub(super) fn new(id: PositionId, venue: VenueId, instrument: InstrumentId, oms_type: OmsType) -> Self {
        Position {
            id,
            venue,
            instrument,
            oms_type,
            signed_units: 0,
            peak_units: 0,
            buy_units: 0,
            sell_units: 0,
            avg_px_open: 0.0,
            avg_px_close: 0.0,
            realized_pnl: 0.0,
            realized_return: 0.0,
            commissions: 0.0,
            event_count: 0,
            prior_realized_pnl: 0.0,
            closed_cycles: 0,
            open_index: NOT_OPEN,
        }
    }

    pub fn side(&self) -> PositionSide {
        match self.signed_units {
            0 => PositionSide::Flat,
            s if s > 0 => PositionSide::Long,
            _ => PositionSide::Short,
        }
    }

    /// Absolute quantity in units.
    pub fn quantity_units(&self) -> u128 {
        self.signed_units.unsigned_abs()
    }

    pub fn is_open(&self) -> bool {
        self.signed_units != 0
    }

    /// Realised PnL of every cycle of this position id.
    pub fn total_realized_pnl(&self) -> f64 {
        self.prior_realized_pnl + self.realized_pnl
    }

    /// The signed quantity as a float (Nautilus `signed_qty`), given the instrument's terms.
    pub fn signed_qty(&self, spec: &InstrumentSpec) -> f64 {
        Scales::new(spec).signed(self.signed_units)
    }

    /// Unrealised PnL at `mark` given the instrument's terms (0 when flat), as Nautilus's
    /// `Position.unrealized_pnl`.
    pub fn unrealized_pnl(&self, spec: &InstrumentSpec, mark: f64) -> SorResult<f64> {
        check_mark(mark)?;
        Ok(self.unrealized(&Scales::new(spec), mark))
    }

    /// Nautilus `_calculate_points` with the current side.
    pub(super) fn points(&self, open: f64, close: f64) -> f64 {
        match self.side() {
            PositionSide::Long => close - open,
            PositionSide::Short => open - close,
            PositionSide::Flat => 0.0,
        }
    }

    /// Nautilus `_calculate_pnl`: only the open quantity books PnL.
    pub(super) fn pnl(&self, s: &Scales, open: f64, close: f64, qty: f64) -> f64 {
        let qty = qty.min(s.signed(self.signed_units).abs());
        qty * s.multiplier * self.points(open, close)
    }

    pub(super) fn unrealized(&self, s: &Scales, mark: f64) -> f64 {
        if !self.is_open() {
            return 0.0;
        }
        s.money(self.pnl(s, self.avg_px_open, mark, s.qty(self.quantity_units())))
    }

    /// Nautilus `Position.apply` of one (non-flipping) fill; returns the realised PnL change.
    pub(super) fn apply(&mut self, s: &Scales, side: Side, units: u64, price: f64, commission: f64) -> f64 {
        if !self.is_open() {
            // A flat position reopens: Nautilus resets it; the closed cycle's PnL is kept aside.
            if self.event_count > 0 {
                self.prior_realized_pnl += self.realized_pnl;
                self.closed_cycles += 1;
            }
            self.buy_units = 0;
            self.sell_units = 0;
            self.peak_units = 0;
            self.avg_px_open = price;
            self.avg_px_close = 0.0;
            self.realized_return = 0.0;
            self.realized_pnl = 0.0;
            self.commissions = 0.0;
            self.event_count = 0;
        }
        let before = self.realized_pnl;
        self.event_count += 1;
        self.commissions = s.money(self.commissions + commission);
        let mut pnl = -commission;
        let last_qty = s.qty(u128::from(units));
        let quantity = s.qty(self.quantity_units());
        let (opening, closing_units) = match side {
            Side::Buy => (self.signed_units > 0, self.buy_units),
            Side::Sell => (self.signed_units < 0, self.sell_units),
        };
        if opening {
            self.avg_px_open = avg_px(quantity, self.avg_px_open, price, last_qty);
        } else if self.signed_units != 0 {
            self.avg_px_close = if self.avg_px_close == 0.0 {
                price
            } else {
                avg_px(s.qty(closing_units), self.avg_px_close, price, last_qty)
            };
            self.realized_return = if self.avg_px_open == 0.0 {
                0.0
            } else {
                self.points(self.avg_px_open, self.avg_px_close) / self.avg_px_open
            };
            pnl += self.pnl(s, self.avg_px_open, price, last_qty);
        }
        self.realized_pnl = s.money(self.realized_pnl + pnl);
        match side {
            Side::Buy => {
                self.buy_units += u128::from(units);
                self.signed_units += i128::from(units);
            }
            Side::Sell => {
                self.sell_units += u128::from(units);
                self.signed_units -= i128::from(units);
            }
        }
        self.peak_units = self.peak_units.max(self.quantity_units());
        self.realized_pnl - before
    }
}

/// Nautilus `_calculate_avg_px`.
pub(super) fn avg_px(qty: f64, avg: f64, last_px: f64, last_qty: f64) -> f64 {
    let start_cost = avg * qty;
    let event_cost = last_px * last_qty;
    (start_cost + event_cost) / (qty + last_qty)
}
