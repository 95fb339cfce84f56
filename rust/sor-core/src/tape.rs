//! The recent trade tape of one venue, as a time-decayed traded volume per aggressor side.
//!
//! Each side keeps `S(t) = sum_i size_i * exp(-(t - t_i) / tau)` as (sum, time of the sum): O(1) per
//! trade and per read. `S / tau` is the traded rate in units per second (a steady rate `r` gives
//! `S -> r * tau`), which the passive fill probability (`passive.rs`) needs.

use crate::book::Side;
use crate::error::{SorError, SorResult};

const NS_PER_S: f64 = 1e9;

/// Volume decayed exponentially with time constant `tau_s`, as of `last_ns`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DecayedVolume {
    sum: f64,
    last_ns: u64,
}

/// `exp(-elapsed / tau)` for an elapsed time in ns.
fn decay(elapsed_ns: u64, tau_s: f64) -> f64 {
    (-(elapsed_ns as f64 / NS_PER_S) / tau_s).exp()
}

impl DecayedVolume {
    /// Adds `size` traded at `ts_ns`. A trade older than the latest one is folded in exactly, decayed
    /// from its own time to the latest (the sum does not depend on arrival order).
    pub fn add(&mut self, size: f64, ts_ns: u64, tau_s: f64) {
        if ts_ns >= self.last_ns {
            self.sum = self.sum * decay(ts_ns - self.last_ns, tau_s) + size;
            self.last_ns = ts_ns;
        } else {
            self.sum += size * decay(self.last_ns - ts_ns, tau_s);
        }
    }

    /// The decayed volume at `now_ns`. A time before the latest trade reads the sum as of that trade
    /// (clamped: it is never grown back, which would count later trades as earlier ones).
    pub fn at(&self, now_ns: u64, tau_s: f64) -> f64 {
        self.sum * decay(now_ns.saturating_sub(self.last_ns), tau_s)
    }

    /// Time of the latest trade folded in (0 before any).
    pub fn last_ns(&self) -> u64 {
        self.last_ns
    }
}

/// One venue's tape: decayed volume bought by aggressive buyers and sold by aggressive sellers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tape {
    bought: DecayedVolume,
    sold: DecayedVolume,
}

impl Tape {
    /// Records a trade of `size` units whose aggressor was on `aggressor`.
    pub fn record(&mut self, aggressor: Side, size: u64, ts_ns: u64, tau_s: f64) -> SorResult<()> {
        if size == 0 {
            return Err(SorError::invalid(
                "size",
                size,
                "a trade must be greater than zero units",
            ));
        }
        self.side_mut(aggressor).add(size as f64, ts_ns, tau_s);
        Ok(())
    }

    /// Units per second traded by `aggressor`s, decayed to `now_ns`.
    pub fn rate(&self, aggressor: Side, now_ns: u64, tau_s: f64) -> f64 {
        self.side(aggressor).at(now_ns, tau_s) / tau_s
    }

    pub fn side(&self, aggressor: Side) -> &DecayedVolume {
        match aggressor {
            Side::Buy => &self.bought,
            Side::Sell => &self.sold,
        }
    }

    fn side_mut(&mut self, aggressor: Side) -> &mut DecayedVolume {
        match aggressor {
            Side::Buy => &mut self.bought,
            Side::Sell => &mut self.sold,
        }
    }
}
