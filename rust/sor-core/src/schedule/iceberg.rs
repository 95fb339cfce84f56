//! Iceberg tracker.

use super::parent::Parent;
use super::rng::{SplitMix64, SIZE_STREAM};
use super::window::{check_fraction, floor_tolerant};
use crate::error::{SorError, SorResult};

/// An iceberg: shows `visible_pct` of the parent at a time and replenishes when the shown chunk has
/// completely filled. Accounting: `filled + working + hidden == quantity` at every step, where
/// `working` is the chunk on display (not yet filled) and `hidden` has not been shown yet.
///
/// The display size is `floor(visible_pct * lots)` lots (at least one); with `display_jitter_pct > 0`
/// each chunk is drawn (seeded) within +- that fraction of it, rounded to whole lots, at least one lot.
/// A chunk never exceeds what is hidden, so the last chunk is the leftover.
#[derive(Debug, Clone, PartialEq)]
pub struct Iceberg {
    /// Its `done` is what has filled; its children are the chunks shown.
    parent: Parent,
    visible_pct: f64,
    display_lots: u64,
    display_jitter_pct: f64,
    rng: SplitMix64,
    working: u64,
}

impl Iceberg {
    pub fn new(quantity: u64, visible_pct: f64, lot_size: u64, display_jitter_pct: f64, seed: u64) -> SorResult<Self> {
        let (parent, lots) = Parent::new(quantity, lot_size)?;
        if !visible_pct.is_finite() || visible_pct <= 0.0 || visible_pct > 1.0 {
            return Err(SorError::invalid("visible_pct", visible_pct, "must be in (0, 1]"));
        }
        check_fraction("display_jitter_pct", display_jitter_pct)?;
        if display_jitter_pct >= 1.0 {
            // +-100% could draw a display of nothing: an iceberg must always show something.
            return Err(SorError::invalid(
                "display_jitter_pct",
                display_jitter_pct,
                "must be in [0, 1)",
            ));
        }
        let display_lots = (floor_tolerant(visible_pct * lots as f64) as u64).clamp(1, lots);
        Ok(Iceberg {
            parent,
            visible_pct,
            display_lots,
            display_jitter_pct,
            rng: SplitMix64::new(seed ^ SIZE_STREAM),
            working: 0,
        })
    }

    /// Shows the next chunk if nothing is on display and something is hidden; returns its size
    /// (0 when a chunk is still working or everything has been shown).
    pub fn next_chunk(&mut self) -> u64 {
        let hidden = self.hidden();
        if self.working > 0 || hidden == 0 {
            return 0;
        }
        let lots = if self.display_jitter_pct > 0.0 {
            let f = self.display_lots as f64 * (1.0 + self.display_jitter_pct * self.rng.symmetric());
            (f.round() as u64).max(1)
        } else {
            self.display_lots
        };
        let chunk = lots.saturating_mul(self.parent.lot_size()).min(hidden);
        self.working = chunk;
        self.parent.add_child();
        chunk
    }

    /// Books a fill of the working chunk. Returns the next chunk to show when this fill completes the
    /// chunk (0 otherwise). A fill of zero, of a partial lot, or beyond the working chunk is an error
    /// (`fill_qty`) and changes nothing.
    pub fn on_fill(&mut self, fill_qty: u64) -> SorResult<u64> {
        if fill_qty == 0 {
            return Err(SorError::invalid("fill_qty", 0, "must be greater than zero"));
        }
        if fill_qty > self.working {
            return Err(SorError::invalid(
                "fill_qty",
                fill_qty,
                &format!("exceeds the working visible chunk of {} units", self.working),
            ));
        }
        if fill_qty % self.parent.lot_size() != 0 {
            return Err(SorError::invalid(
                "fill_qty",
                fill_qty,
                &format!("must be a whole multiple of lot_size={}", self.parent.lot_size()),
            ));
        }
        self.parent.add_done(fill_qty);
        self.working -= fill_qty;
        Ok(if self.working == 0 { self.next_chunk() } else { 0 })
    }

    /// The working chunk was cancelled or rejected: its unfilled part goes back to hidden (returned).
    pub fn on_cancel(&mut self) -> u64 {
        std::mem::take(&mut self.working)
    }

    pub fn quantity(&self) -> u64 {
        self.parent.quantity()
    }

    pub fn visible_pct(&self) -> f64 {
        self.visible_pct
    }

    /// The nominal display size in units (before jitter).
    pub fn display_qty(&self) -> u64 {
        self.display_lots * self.parent.lot_size()
    }

    pub fn filled(&self) -> u64 {
        self.parent.done()
    }

    pub fn working(&self) -> u64 {
        self.working
    }

    /// Not yet shown.
    pub fn hidden(&self) -> u64 {
        self.parent.remaining() - self.working
    }

    /// Not yet filled (working + hidden).
    pub fn remaining(&self) -> u64 {
        self.parent.remaining()
    }

    pub fn chunks(&self) -> u64 {
        self.parent.children()
    }

    pub fn is_done(&self) -> bool {
        self.parent.is_done()
    }
}
