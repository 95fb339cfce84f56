//! Child-order schedules: TWAP, VWAP (hourly profile or any bucket curve), POV, implementation
//! shortfall (Almgren-Chriss) and iceberg, with seeded randomisation.
//!
//! Conventions shared by every schedule:
//! - Quantities are integer units (`u64`). An optional `lot_size` makes every child a whole number of
//!   lots; the parent must then be a whole number of lots too. Children always sum *exactly* to the
//!   parent: integer lots are allocated by largest remainder (Hamilton), never rounded and dropped.
//! - A schedule is a list of children `(offset_ns, quantity)`: the offset is in nanoseconds from the
//!   order's start, non-decreasing, inside `[0, duration)`. Children of zero quantity are left out (a
//!   slice with no expected volume, or more slices than lots), so a schedule can have fewer children
//!   than slices; `Schedule::slices` says how many slices the window was cut into.
//! - The window is cut into `ceil(duration / interval)` slices starting at `i * interval`: when the
//!   interval does not divide the duration, the last slice is shorter and the order still finishes
//!   inside the duration (rather than running past it or folding the tail into the previous slice).
//! - Randomisation is driven by a seeded SplitMix64 generator: the same seed gives the same children.
//! - Bad input returns `SorError::InvalidInput` naming the field; no input panics.//!
//! # Layout
//! Schedules plan every child up front from the window alone:
//! - `twap`: equal slices; `vwap`: slices weighted by a [`VolumeProfile`]; `shortfall`: the
//!   Almgren-Chriss front-loaded curve.
//!
//! Trackers decide child by child as the market moves:
//! - `pov`: [`PovTracker`], a share of observed volume; `iceberg`: [`Iceberg`], one display chunk at
//!   a time.
//!
//! The trackers share `parent` (the parent order and how much of it is done).
//!
//! Shared by all: `rng` (the seeded [`SplitMix64`]), `window` (input checks and the slice grid),
//! `allocation` (exact integer allocation by largest remainder).

mod allocation;
mod iceberg;
mod parent;
mod pov;
mod rng;
mod shortfall;
mod twap;
mod vwap;
mod window;

pub use allocation::largest_remainder;
pub use iceberg::Iceberg;
pub use pov::PovTracker;
pub use rng::SplitMix64;
pub use shortfall::{shortfall, ShortfallParams};
pub use twap::{twap, TwapParams};
pub use vwap::{start_of_hour, vwap, VolumeProfile, VwapParams};
pub use window::seconds_to_ns;

/// Nanoseconds in one second.
pub const NS_PER_SECOND: u64 = 1_000_000_000;
/// Nanoseconds in one hour.
pub const NS_PER_HOUR: u64 = 3_600 * NS_PER_SECOND;
/// Nanoseconds in one day (Unix time has no leap seconds, so midnight UTC is a multiple of this).
pub const NS_PER_DAY: u64 = 24 * NS_PER_HOUR;
/// Longest duration, interval or curve period accepted: 2^62 ns, about 146 years. Keeps every
/// `start + offset` sum far from `u64` overflow.
pub const MAX_DURATION_NS: u64 = 1 << 62;
/// Most slices one schedule may have (a tenth of a second for eleven days); bounds memory.
pub const MAX_SLICES: u64 = 10_000_000;

/// A child-order schedule: parallel arrays of offsets (ns from the order's start) and quantities
/// (units). Only non-zero children are listed; they sum exactly to the parent quantity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    pub offsets_ns: Vec<u64>,
    pub quantities: Vec<u64>,
    /// How many slices the window was cut into (children of zero quantity are not listed).
    pub slices: usize,
}

impl Schedule {
    pub fn len(&self) -> usize {
        self.quantities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.quantities.is_empty()
    }

    /// Sum of the children (the parent quantity).
    pub fn total(&self) -> u128 {
        self.quantities.iter().map(|&q| q as u128).sum()
    }

    /// The children as `(offset_ns, quantity)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.offsets_ns.iter().copied().zip(self.quantities.iter().copied())
    }

    fn with_capacity(slices: usize) -> Self {
        Schedule {
            offsets_ns: Vec::with_capacity(slices),
            quantities: Vec::with_capacity(slices),
            slices,
        }
    }

    fn push(&mut self, offset_ns: u64, qty: u64) {
        if qty > 0 {
            self.offsets_ns.push(offset_ns);
            self.quantities.push(qty);
        }
    }
}
