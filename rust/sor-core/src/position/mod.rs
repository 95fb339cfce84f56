//! NETTING / HEDGING position book: O(1) work per fill, NautilusTrader's accounting, cross-venue
//! exposure per underlying.
//!
//! # Model
//! Positions live per (venue, instrument). A venue is registered with its OMS type:
//! - **NETTING**: one net position per (venue, instrument). A fill through zero is split as
//!   NautilusTrader's execution engine splits it: the part equal to the open quantity closes the
//!   position (its realised PnL is kept), the excess opens a new cycle of the same position id.
//!   Earlier cycles' realised PnL is summed in [`Position::prior_realized_pnl`].
//! - **HEDGING**: a fill without a position id opens a new position (the book assigns the id); a
//!   fill tagged with an id extends or reduces that open position. Tagging an id that does not exist,
//!   is closed, or belongs to another venue/instrument is an error. A tagged fill larger than the
//!   position it closes is split like a flip: the named position closes and the excess opens a new
//!   position with a fresh id (as Nautilus does for its own position ids).
//!
//! # Units and numbers
//! Quantities are integer units of the instrument's size increment `10^-size_precision`
//! (Nautilus `Quantity.raw / 10^(16 - size_precision)`), so every quantity is exact. Prices,
//! commissions and PnL are `f64`. Every float formula is the one of Nautilus 1.221's
//! `model/position.pyx`, evaluated in the same order on the same doubles: quantities are turned into
//! floats as Nautilus does (`raw as f64 / 1e16` for `Quantity.as_f64`, correctly rounded
//! `units / 10^p` for its rounded `signed_qty`). When the instrument has a `currency_precision`
//! (the settlement currency's precision), realised PnL, commissions and unrealised PnL are rounded
//! the way Nautilus's `Money` rounds them (half away from zero at that precision, after each fill),
//! and commissions of a flip are split the way the execution engine splits them (a `Decimal`
//! pro-rata share rounded to the currency). Without it, the same formulas run unrounded.
//!
//! Commissions are taken to be in the instrument's settlement currency and are subtracted from
//! realised PnL (Nautilus only subtracts commissions in the settlement currency). Only linear
//! (non-inverse) instruments are modelled.
//!
//! # Cost
//! Applying a fill touches one or two positions and one (venue, instrument) aggregate: constant
//! work whatever the number of earlier fills or positions. No fill history is kept. Positions are
//! stored by id (closed HEDGING positions stay queryable); aggregates are a dense venues x
//! instruments table; exposure queries cost venues x the underlying's instruments.
//!
//! A batch ([`PositionBook::apply_batch`]) is all or none: values are validated first, and
//! refusals that depend on the book (a HEDGING id closed earlier in the same batch) roll back what
//! the batch booked, from a journal of the first change to each position and aggregate.
//!
//! # Layout
//! - `instrument`: what the book needs to know of an instrument ([`InstrumentSpec`]).
//! - `arithmetic`: Nautilus's fixed-point reads, `Money` rounding and the flip's commission split.
//! - `record`: one [`Position`] and how one non-flipping fill changes it (Nautilus `Position.apply`).
//! - `book`: the [`PositionBook`] tables, registration and per-(venue, instrument) queries.
//! - `fill`: validating and booking a [`Fill`] (targets, flips, money bound).
//! - `journal`: the undo log that makes [`PositionBook::apply_batch`] all or none.
//! - `exposure`: cross-venue [`Exposure`] per underlying.

mod arithmetic;
mod book;
mod exposure;
mod fill;
mod instrument;
mod journal;
mod record;
#[cfg(test)]
mod tests;

pub use book::PositionBook;
pub use exposure::Exposure;
pub use fill::{Fill, FillResult};
pub use instrument::InstrumentSpec;
pub use record::Position;

/// Index of a venue registered in a [`PositionBook`].
pub type VenueId = u32;
/// Index of an instrument registered in a [`PositionBook`].
pub type InstrumentId = u32;
/// Identifier of a position, assigned by the book (dense, from 0).
pub type PositionId = u64;

/// Nautilus's fixed-point precision (high-precision build): `Quantity.raw = value * 10^16`.
pub const FIXED_PRECISION: u8 = 16;
/// Largest fill, in units: quantities up to 2^53 - 1 convert to floats exactly.
pub const MAX_FILL_UNITS: u64 = (1 << 53) - 1;
/// Largest price (and absolute commission) accepted: `limits::MAX_PRICE`.
pub use crate::limits::MAX_PRICE;
/// Largest amount of money (PnL, commissions) the book holds: a `Money` is read back through
/// Nautilus's fixed point (`value * 1e16` in an i128), which saturates near 1.7e22. A fill that could
/// take a position's or a pair's money beyond it is refused, not saturated.
pub const MAX_MONEY: f64 = 1e22;

/// How a venue books positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OmsType {
    Netting,
    Hedging,
}

impl OmsType {
    pub fn as_str(self) -> &'static str {
        match self {
            OmsType::Netting => "NETTING",
            OmsType::Hedging => "HEDGING",
        }
    }
}

/// The side of a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PositionSide {
    Flat,
    Long,
    Short,
}

impl PositionSide {
    pub fn as_str(self) -> &'static str {
        match self {
            PositionSide::Flat => "FLAT",
            PositionSide::Long => "LONG",
            PositionSide::Short => "SHORT",
        }
    }
}
