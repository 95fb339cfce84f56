//! Percentage-of-volume tracker.

use super::parent::Parent;
use super::window::floor_tolerant;
use crate::error::{SorError, SorResult};

/// Percentage-of-volume participation: keeps what has been sent at or below
/// `participation_rate * observed market volume`.
///
/// Rule, on each `on_market_volume(v)`: add `v` to the observed volume; the target is
/// `floor(rate * observed)` capped at the parent (a product within 1e-9 of an integer counts as that
/// integer); the child is `min(target - sent, max_child, remaining)` rounded down to whole lots. It is
/// sent if it is at least `min_child`, or if it is the whole remainder (the last child may be small);
/// otherwise 0 is returned and the deficit carries over to the next volume. Pass the market's printed
/// volume including our own fills if the tape includes them: the rate is then our share of the total.
#[derive(Debug, Clone, PartialEq)]
pub struct PovTracker {
    /// Its `done` is what has been sent.
    parent: Parent,
    rate: f64,
    min_child: u64,
    max_child: u64,
    observed: u64,
}

impl PovTracker {
    /// `max_child = None` means no cap. `min_child` and `max_child` are in units; `max_child` is
    /// rounded down to whole lots and must hold at least one lot and at least `min_child` (otherwise
    /// no child could ever be sent).
    pub fn new(
        quantity: u64,
        participation_rate: f64,
        min_child: u64,
        max_child: Option<u64>,
        lot_size: u64,
    ) -> SorResult<Self> {
        let (parent, _) = Parent::new(quantity, lot_size)?;
        if !participation_rate.is_finite() || participation_rate <= 0.0 || participation_rate > 1.0 {
            return Err(SorError::invalid(
                "participation_rate",
                participation_rate,
                "must be in (0, 1]",
            ));
        }
        let max_child = match max_child {
            None => u64::MAX - u64::MAX % lot_size,
            Some(m) => {
                if m < lot_size {
                    return Err(SorError::invalid(
                        "max_child",
                        m,
                        &format!("must be at least one lot ({lot_size} units)"),
                    ));
                }
                let whole = m - m % lot_size;
                if whole < min_child {
                    return Err(SorError::invalid(
                        "max_child",
                        m,
                        &format!("in whole lots ({whole} units) must not be below min_child={min_child}"),
                    ));
                }
                whole
            }
        };
        Ok(PovTracker {
            parent,
            rate: participation_rate,
            min_child,
            max_child,
            observed: 0,
        })
    }

    /// Market volume traded since the last call; returns the child to send now (0 for none).
    pub fn on_market_volume(&mut self, volume: u64) -> u64 {
        self.observed = self.observed.saturating_add(volume);
        let remaining = self.remaining();
        if remaining == 0 {
            return 0;
        }
        let deficit = self.target().saturating_sub(self.parent.done());
        let mut child = deficit.min(self.max_child).min(remaining);
        child -= child % self.parent.lot_size();
        if child == 0 || (child < self.min_child && child != remaining) {
            return 0;
        }
        self.parent.add_done(child);
        self.parent.add_child();
        child
    }

    /// Units the schedule wants sent by now (`floor(rate * observed)`, capped at the parent).
    pub fn target(&self) -> u64 {
        (floor_tolerant(self.rate * self.observed as f64) as u64).min(self.parent.quantity())
    }

    pub fn quantity(&self) -> u64 {
        self.parent.quantity()
    }

    pub fn participation_rate(&self) -> f64 {
        self.rate
    }

    pub fn sent(&self) -> u64 {
        self.parent.done()
    }

    pub fn remaining(&self) -> u64 {
        self.parent.remaining()
    }

    pub fn observed_volume(&self) -> u64 {
        self.observed
    }

    pub fn children(&self) -> u64 {
        self.parent.children()
    }

    pub fn is_done(&self) -> bool {
        self.parent.is_done()
    }
}
