//! Per-event work of the execution simulator (`nautilus_sor.backtest.sim`) over one venue's recorded
//! book: the book in force at a time, the levels still offered to us, aggressive walks that consume
//! them, and takes decided elsewhere (the snapshot optimum's merged walk).
//!
//! Consumed liquidity (the rule, docs/evaluation.md): per (side, price level) we keep the recorded size
//! when we first took from it (`reference`) and what we took (`used`). Later, with the level recorded at
//! `size`, we are offered `min(size, max(reference, size) - used)`: a decrease first eats what we left,
//! growth above `reference` is new size that joined after us. The record is dropped once the recorded size
//! has been at or below what we left at any recorded update since the take (the recorded book itself no
//! longer shows our part: the level refreshed), even if it grew back before we read it again. So every
//! recorded state of a level on record is fed to the rule (`ConsumedLiquidity::observe`): here, on a read,
//! the rows since that side was last read (`VenueBook`); in the Nautilus fill model, every book update.

use std::collections::HashMap;
use std::sync::Arc;

use crate::book::Side;
use crate::error::{SorError, SorResult};

const EPS: f64 = 1e-12;

/// One side of a recorded book: `levels` prices and sizes a row, row-major, best first; a missing
/// level is a NaN price.
#[derive(Debug, Clone)]
pub struct RecordedSide {
    pub px: Vec<f64>,
    pub sz: Vec<f64>,
}

/// One venue's recorded book: a row per time stamp, `levels` price levels a side.
#[derive(Debug, Clone)]
pub struct RecordedBook {
    ts: Vec<i64>,
    levels: usize,
    bids: RecordedSide,
    asks: RecordedSide,
}

fn invalid(field: &str, value: impl std::fmt::Display, reason: &str) -> SorError {
    SorError::invalid(field, value, reason)
}

impl RecordedBook {
    pub fn new(ts: Vec<i64>, levels: usize, bids: RecordedSide, asks: RecordedSide) -> SorResult<Self> {
        if levels == 0 {
            return Err(invalid("levels", levels, "must be at least 1"));
        }
        let cells = ts.len() * levels;
        for (name, v) in [
            ("bid_px", &bids.px),
            ("bid_sz", &bids.sz),
            ("ask_px", &asks.px),
            ("ask_sz", &asks.sz),
        ] {
            if v.len() != cells {
                return Err(invalid(name, v.len(), "must hold rows x levels values"));
            }
        }
        if let Some(k) = ts.windows(2).position(|w| w[1] < w[0]) {
            return Err(invalid("ts", ts[k + 1], "must be sorted in time"));
        }
        Ok(Self { ts, levels, bids, asks })
    }

    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The row in force at `ts` (the last stamped at or before it); `None` before the first.
    pub fn row_at(&self, ts: i64) -> Option<usize> {
        self.ts.partition_point(|&t| t <= ts).checked_sub(1)
    }

    /// Prices and sizes of the side a `side` order takes (asks for a buy) at `row`.
    fn taken_side(&self, side: Side, row: usize) -> (&[f64], &[f64]) {
        let r = row * self.levels..(row + 1) * self.levels;
        let taken = match side {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        };
        (&taken.px[r.clone()], &taken.sz[r])
    }
}

/// What we took from each recorded level (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct ConsumedLiquidity {
    levels: HashMap<(bool, i64), (f64, f64)>, // (is_ask, level key) -> (reference, used)
}

impl ConsumedLiquidity {
    /// The size still offered to us at the level now recorded at `recorded` (drops the level's record
    /// once the recorded size is at or below what we left).
    pub fn available(&mut self, is_ask: bool, key: i64, recorded: f64) -> f64 {
        let Some(&(reference, used)) = self.levels.get(&(is_ask, key)) else {
            return recorded;
        };
        if recorded <= reference - used + EPS {
            self.levels.remove(&(is_ask, key));
            return recorded;
        }
        recorded.min(reference.max(recorded) - used).max(0.0)
    }

    pub fn consume(&mut self, is_ask: bool, key: i64, recorded: f64, taken: f64) {
        let left = self.available(is_ask, key, recorded) - taken;
        let reference = self
            .levels
            .get(&(is_ask, key))
            .map_or(recorded, |&(r, _)| r.max(recorded));
        self.levels.insert((is_ask, key), (reference, reference - left));
    }

    /// A recorded state of the level (an update we did not read): drops its record if the recorded size
    /// is at or below what we left.
    pub fn observe(&mut self, is_ask: bool, key: i64, recorded: f64) {
        self.available(is_ask, key, recorded);
    }

    /// Whether any level of that side is on record.
    pub fn touches(&self, is_ask: bool) -> bool {
        self.levels.keys().any(|&(a, _)| a == is_ask)
    }

    /// The keys of that side's levels on record.
    pub fn on_record(&self, is_ask: bool) -> Vec<i64> {
        self.levels
            .keys()
            .filter(|&&(a, _)| a == is_ask)
            .map(|&(_, k)| k)
            .collect()
    }
}

/// One venue's recorded book with the liquidity one simulated run took from it.
#[derive(Debug, Clone)]
pub struct VenueBook {
    book: Arc<RecordedBook>,
    tick: f64,
    tolerance: f64,
    consumed: ConsumedLiquidity,
    /// Per side taken (bids, asks): the last row whose sizes the record has seen.
    seen: [Option<usize>; 2],
}

impl VenueBook {
    /// `tick`: the venue's price increment (levels are keyed by price / tick); prices within half a tick
    /// are the same level.
    pub fn new(book: Arc<RecordedBook>, tick: f64) -> SorResult<Self> {
        if !(tick.is_finite() && tick > 0.0) {
            return Err(invalid("tick", tick, "must be a finite price increment > 0"));
        }
        Ok(Self {
            book,
            tick,
            tolerance: tick / 2.0,
            consumed: ConsumedLiquidity::default(),
            seen: [None; 2],
        })
    }

    pub fn book(&self) -> &RecordedBook {
        &self.book
    }

    /// The level key of `price` (rounded half to even, as Python's `round`).
    pub fn key(&self, price: f64) -> i64 {
        (price / self.tick).round_ties_even() as i64
    }

    /// The recorded size of level `key` on the side a `side` order takes at `row`: 0 when the row does not
    /// show it (emptied, or pushed beyond the recorded depth: the Nautilus book built from the same data
    /// drops it too, so both see the same path).
    fn recorded_size(&self, side: Side, row: usize, key: i64) -> f64 {
        let (prices, sizes) = self.book.taken_side(side, row);
        prices
            .iter()
            .zip(sizes)
            .find(|(&p, _)| p.is_finite() && self.key(p) == key)
            .map_or(0.0, |(_, &s)| s.max(0.0))
    }

    /// Feeds the record of the side a `side` order takes every row since it was last read, up to `row`:
    /// a level that dipped to what we left in between has refreshed (the module docs). Only levels on
    /// record are looked up.
    fn catch_up(&mut self, side: Side, row: usize) {
        let is_ask = side == Side::Buy;
        let seen = &mut self.seen[usize::from(is_ask)];
        let from = match *seen {
            Some(s) if s >= row => return, // a read at or before a row already seen
            Some(s) => s + 1,
            None => row,
        };
        *seen = Some(row);
        if !self.consumed.touches(is_ask) {
            return;
        }
        for key in self.consumed.on_record(is_ask) {
            for r in from..=row {
                let size = self.recorded_size(side, r, key);
                self.consumed.observe(is_ask, key, size);
            }
        }
    }

    /// The levels a `side` order would take at `ts`: (price, size still available to us), best first.
    pub fn offered(&mut self, side: Side, ts: i64) -> Vec<(f64, f64)> {
        let Some(row) = self.book.row_at(ts) else {
            return Vec::new();
        };
        self.catch_up(side, row);
        let is_ask = side == Side::Buy;
        let check = self.consumed.touches(is_ask);
        let book = Arc::clone(&self.book);
        let (prices, sizes) = book.taken_side(side, row);
        let mut out = Vec::with_capacity(prices.len());
        for (&p, &s) in prices.iter().zip(sizes) {
            if p.is_finite() && s > 0.0 {
                let avail = if check {
                    self.consumed.available(is_ask, self.key(p), s)
                } else {
                    s
                };
                out.push((p, avail));
            }
        }
        out
    }

    /// An aggressive order of `qty` meeting the book in force at `ts`, within `limit` (none: a market
    /// order), consuming what it takes. Returns the (price, size) fills; the rest is not filled.
    pub fn take(&mut self, side: Side, qty: f64, limit: Option<f64>, ts: i64) -> Vec<(f64, f64)> {
        let mut fills = Vec::new();
        let Some(row) = self.book.row_at(ts) else {
            return fills;
        };
        if qty <= EPS {
            return fills;
        }
        self.catch_up(side, row);
        let is_ask = side == Side::Buy;
        let book = Arc::clone(&self.book);
        let (prices, sizes) = book.taken_side(side, row);
        let mut left = qty;
        for (&price, &recorded) in prices.iter().zip(sizes) {
            if left <= EPS || !price.is_finite() || recorded <= 0.0 {
                break;
            }
            if let Some(l) = limit {
                let beyond = if is_ask {
                    price > l + self.tolerance
                } else {
                    price < l - self.tolerance
                };
                if beyond {
                    break;
                }
            }
            let key = self.key(price);
            let taken = self.consumed.available(is_ask, key, recorded).min(left);
            if taken <= EPS {
                continue;
            }
            self.consumed.consume(is_ask, key, recorded, taken);
            left -= taken;
            fills.push((price, taken));
        }
        fills
    }

    /// Records a take of `size` at `price` at `ts` decided elsewhere (the snapshot optimum's merged walk):
    /// against the level of the book in force then nearest that price.
    pub fn consume_at(&mut self, side: Side, price: f64, size: f64, ts: i64) -> SorResult<()> {
        let row = self
            .book
            .row_at(ts)
            .ok_or_else(|| invalid("ts", ts, "is before the venue's first book"))?;
        self.catch_up(side, row);
        let book = Arc::clone(&self.book);
        let (prices, sizes) = book.taken_side(side, row);
        let nearest = prices
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_finite())
            .min_by(|a, b| (a.1 - price).abs().total_cmp(&(b.1 - price).abs()))
            .map(|(j, _)| j)
            .ok_or_else(|| invalid("price", price, "the book shows no level on that side"))?;
        self.consumed
            .consume(side == Side::Buy, self.key(price), sizes[nearest], size);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
