//! L2 ladders per venue (prices f64, sizes in integer units) and the consolidated view across venues.

use crate::error::{SorError, SorResult};
use crate::limits::check_price;

/// Which side of the market an order takes. Buys walk asks, sells walk bids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for buys, -1 for sells: multiplies a price move into a cost.
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }
}

/// One price level: price and displayed size in units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub price: f64,
    pub size: u64,
}

/// A venue's L2 book. Bids best (highest) first, asks best (lowest) first; never crossed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ladder {
    bids: Vec<Level>,
    asks: Vec<Level>,
}

fn check_side(field: &str, levels: &[Level], descending: bool) -> SorResult<()> {
    for (i, level) in levels.iter().enumerate() {
        // The field name is formatted only for an error: this runs for every level of every book set.
        if check_price("", level.price).is_err() {
            check_price(&format!("{field}[{i}].price"), level.price)?;
        }
        if level.size == 0 {
            return Err(SorError::invalid(
                &format!("{field}[{i}].size"),
                0,
                "must be greater than zero",
            ));
        }
        if i > 0 {
            let prev = levels[i - 1].price;
            let ordered = if descending {
                level.price < prev
            } else {
                level.price > prev
            };
            if !ordered {
                let order = if descending {
                    "strictly descending (best bid first)"
                } else {
                    "strictly ascending (best ask first)"
                };
                return Err(SorError::invalid(
                    &format!("{field}[{i}].price"),
                    level.price,
                    &format!("levels must be {order}; previous was {prev}"),
                ));
            }
        }
    }
    Ok(())
}

impl Ladder {
    /// A validated ladder: prices in [1e-12, 1e15] (`limits`), positive sizes, sorted best first,
    /// not crossed.
    pub fn new(bids: Vec<Level>, asks: Vec<Level>) -> SorResult<Self> {
        check_side("bids", &bids, true)?;
        check_side("asks", &asks, false)?;
        if let (Some(b), Some(a)) = (bids.first(), asks.first()) {
            if b.price >= a.price {
                return Err(SorError::invalid(
                    "bids[0].price",
                    b.price,
                    &format!("book is crossed: best bid >= best ask {}", a.price),
                ));
            }
        }
        Ok(Ladder { bids, asks })
    }

    pub fn bids(&self) -> &[Level] {
        &self.bids
    }

    pub fn asks(&self) -> &[Level] {
        &self.asks
    }

    /// The levels an order on `side` takes from: asks for buys, bids for sells.
    pub fn taking(&self, side: Side) -> &[Level] {
        match side {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        }
    }

    pub fn best_bid(&self) -> Option<f64> {
        self.bids.first().map(|l| l.price)
    }

    pub fn best_ask(&self) -> Option<f64> {
        self.asks.first().map(|l| l.price)
    }

    pub fn mid(&self) -> Option<f64> {
        Some((self.best_bid()? + self.best_ask()?) / 2.0)
    }

    /// Sets one level's size (0 deletes it), keeping the side sorted; rejects a change that would
    /// cross the book and leaves the book unchanged then.
    pub fn update_level(&mut self, is_bid: bool, price: f64, size: u64) -> SorResult<()> {
        check_price("price", price)?;
        if size > 0 {
            let crosses = if is_bid {
                self.best_ask().is_some_and(|a| price >= a)
            } else {
                self.best_bid().is_some_and(|b| price <= b)
            };
            if crosses {
                return Err(SorError::invalid("price", price, "level would cross the book"));
            }
        }
        let levels = if is_bid { &mut self.bids } else { &mut self.asks };
        // Position of `price` in best-first order.
        let found = levels.binary_search_by(|l| {
            let ord = l.price.total_cmp(&price);
            if is_bid {
                ord.reverse()
            } else {
                ord
            }
        });
        match (found, size) {
            (Ok(i), 0) => {
                levels.remove(i);
            }
            (Ok(i), s) => levels[i].size = s,
            (Err(_), 0) => {}
            (Err(i), s) => levels.insert(i, Level { price, size: s }),
        }
        Ok(())
    }

    /// Units available on `side` at prices no worse than `limit`.
    pub fn depth_within(&self, side: Side, limit: Option<f64>) -> u64 {
        self.taking(side)
            .iter()
            .take_while(|l| within_limit(side, l.price, limit))
            .fold(0u64, |acc, l| acc.saturating_add(l.size))
    }

    /// Walks `qty` units through the side `side` takes, up to `limit`.
    /// Returns (units filled, notional), filled < qty when depth runs out.
    pub fn walk(&self, side: Side, qty: u64, limit: Option<f64>) -> (u64, f64) {
        let mut left = qty;
        let mut notional = 0.0;
        for level in self.taking(side) {
            if left == 0 || !within_limit(side, level.price, limit) {
                break;
            }
            let take = left.min(level.size);
            notional += take as f64 * level.price;
            left -= take;
        }
        (qty - left, notional)
    }
}

/// Whether a level at `price` may be taken by an order on `side` limited at `limit`.
#[inline]
pub fn within_limit(side: Side, price: f64, limit: Option<f64>) -> bool {
    match (limit, side) {
        (None, _) => true,
        (Some(l), Side::Buy) => price <= l,
        (Some(l), Side::Sell) => price >= l,
    }
}

/// One level of the consolidated book: which venue shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsolidatedLevel {
    pub price: f64,
    pub size: u64,
    pub venue: usize,
}

/// All venues' levels on `side`'s taking side, best price first; equal prices keep venue order.
/// Venues may cross each other here (that is an opportunity, not bad data).
pub fn consolidated(books: &[Option<Ladder>], side: Side) -> Vec<ConsolidatedLevel> {
    let mut out: Vec<ConsolidatedLevel> = books
        .iter()
        .enumerate()
        .filter_map(|(venue, book)| book.as_ref().map(|b| (venue, b)))
        .flat_map(|(venue, book)| {
            book.taking(side).iter().map(move |l| ConsolidatedLevel {
                price: l.price,
                size: l.size,
                venue,
            })
        })
        .collect();
    match side {
        Side::Buy => out.sort_by(|a, b| a.price.total_cmp(&b.price).then(a.venue.cmp(&b.venue))),
        Side::Sell => out.sort_by(|a, b| b.price.total_cmp(&a.price).then(a.venue.cmp(&b.venue))),
    }
    out
}

/// Nautilus's `BookAction` and `RecordFlag` numbers, as its deltas carry them.
pub mod action {
    pub const ADD: u8 = 1;
    pub const UPDATE: u8 = 2;
    pub const DELETE: u8 = 3;
    pub const CLEAR: u8 = 4;
    /// `RecordFlag.F_LAST`: the last delta of an update (the book is consistent after it).
    pub const F_LAST: u8 = 1 << 7;
    /// `RecordFlag.F_SNAPSHOT`: part of a snapshot (sent as CLEAR then ADDs: no extra rule on an L2 book).
    pub const F_SNAPSHOT: u8 = 1 << 5;
}

/// One Nautilus `OrderBookDelta` of an L2 (market-by-price) book, in Nautilus's raw fixed-point units:
/// `side` 1 = BUY (bids), 2 = SELL (asks); ignored for CLEAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookDelta {
    pub action: u8,
    pub side: u8,
    pub price: i128,
    pub size: u128,
}

/// An exact L2 book kept from Nautilus deltas, with Nautilus's `OrderBook` rules for `L2_MBP` books
/// (one order per price: Nautilus makes the order id from the price), so that its levels equal Nautilus's
/// own book after every delta:
///
/// - ADD sets the level at the price (a new level, or the size of the one there); a zero size adds nothing;
/// - UPDATE sets the level's size, removes it at size 0, adds it if absent (and the size is positive);
/// - DELETE removes the level at the price, if any;
/// - CLEAR empties both sides.
///
/// Flags change nothing on an L2 book (a snapshot arrives as CLEAR then ADDs). Crossed states are kept as
/// Nautilus keeps them; `ladder` is where a book is judged routable. Prices and sizes are Nautilus's raw
/// integers, never floats, so equality with Nautilus's book is exact. Each side is a sorted `Vec` with the
/// best level last: updates cluster at the touch, where an insert or removal moves the fewest levels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeltaBook {
    bids: Vec<(i128, u128)>, // ascending price: best (highest) last
    asks: Vec<(i128, u128)>, // descending price: best (lowest) last
}

impl DeltaBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks a delta without applying it: a known action, and a side for every action but CLEAR.
    /// `field` names it in the error (built only on failure: this runs for every delta of every batch).
    pub fn check(field: impl Fn() -> String, delta: &BookDelta) -> SorResult<()> {
        if !(action::ADD..=action::CLEAR).contains(&delta.action) {
            return Err(SorError::invalid(
                &format!("{}.action", field()),
                delta.action,
                "must be a BookAction: 1 ADD, 2 UPDATE, 3 DELETE, 4 CLEAR",
            ));
        }
        if delta.action != action::CLEAR && !(1..=2).contains(&delta.side) {
            return Err(SorError::invalid(
                &format!("{}.side", field()),
                delta.side,
                "must be an OrderSide: 1 BUY, 2 SELL",
            ));
        }
        Ok(())
    }

    /// Applies a batch: every delta is checked first, so a bad one leaves the book unchanged.
    pub fn apply_all(&mut self, deltas: &[BookDelta]) -> SorResult<()> {
        for (i, d) in deltas.iter().enumerate() {
            Self::check(|| format!("deltas[{i}]"), d)?;
        }
        for d in deltas {
            self.apply_checked(d);
        }
        Ok(())
    }

    /// Applies one delta (checked first).
    pub fn apply(&mut self, delta: &BookDelta) -> SorResult<()> {
        Self::check(|| "delta".to_string(), delta)?;
        self.apply_checked(delta);
        Ok(())
    }

    fn apply_checked(&mut self, d: &BookDelta) {
        if d.action == action::CLEAR {
            self.clear();
            return;
        }
        let is_bid = d.side == 1;
        let levels = if is_bid { &mut self.bids } else { &mut self.asks };
        // Sorted with the best last: ascending for bids, descending for asks.
        let found = levels.binary_search_by(|l| if is_bid { l.0.cmp(&d.price) } else { d.price.cmp(&l.0) });
        match (d.action, found) {
            (action::DELETE, Ok(i)) => {
                levels.remove(i);
            }
            (action::DELETE, Err(_)) => {}
            (_, Ok(i)) if d.size > 0 => levels[i].1 = d.size,
            // UPDATE to zero removes; Nautilus ignores an ADD of zero size at an existing level.
            (action::UPDATE, Ok(i)) => {
                levels.remove(i);
            }
            (_, Ok(_)) => {}
            (_, Err(i)) if d.size > 0 => levels.insert(i, (d.price, d.size)),
            (_, Err(_)) => {}
        }
    }

    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }

    /// Bids as (raw price, raw size), best (highest) first.
    pub fn bids(&self) -> impl Iterator<Item = (i128, u128)> + '_ {
        self.bids.iter().rev().copied()
    }

    /// Asks as (raw price, raw size), best (lowest) first.
    pub fn asks(&self) -> impl Iterator<Item = (i128, u128)> + '_ {
        self.asks.iter().rev().copied()
    }

    /// The routing view: the best `depth` levels a side as a validated `Ladder`, prices divided by
    /// `price_scale` (Nautilus's `as_double`), sizes in units (raw / `raw_per_unit`, rounded down;
    /// a level under one unit is left out). Err for a book that is not routable (crossed or locked,
    /// a price out of range, a size over u64 units): the caller treats the venue as having no data.
    pub fn ladder(&self, depth: usize, price_scale: f64, raw_per_unit: u128) -> SorResult<Ladder> {
        let side = |levels: &mut dyn Iterator<Item = (i128, u128)>, field: &str| -> SorResult<Vec<Level>> {
            let mut out = Vec::with_capacity(depth);
            for (price, size) in levels.take(depth) {
                let units = size / raw_per_unit.max(1);
                let units = u64::try_from(units)
                    .map_err(|_| SorError::invalid(&format!("{field}.size"), size, "more than 2^64 units"))?;
                if units > 0 {
                    out.push(Level {
                        price: price as f64 / price_scale,
                        size: units,
                    });
                }
            }
            Ok(out)
        };
        let bids = side(&mut self.bids(), "bids")?;
        let asks = side(&mut self.asks(), "asks")?;
        Ladder::new(bids, asks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(price: f64, size: u64) -> Level {
        Level { price, size }
    }

    fn book() -> Ladder {
        Ladder::new(vec![lv(99.0, 5), lv(98.0, 10)], vec![lv(101.0, 3), lv(102.0, 7)]).unwrap()
    }

    #[test]
    fn walk_takes_levels_in_order_and_stops_at_limit() {
        let b = book();
        assert_eq!(b.walk(Side::Buy, 5, None), (5, 3.0 * 101.0 + 2.0 * 102.0));
        assert_eq!(b.walk(Side::Buy, 5, Some(101.5)), (3, 303.0));
        assert_eq!(b.walk(Side::Sell, 20, None), (15, 5.0 * 99.0 + 10.0 * 98.0));
        assert_eq!(b.depth_within(Side::Sell, Some(98.5)), 5);
        assert_eq!(b.mid(), Some(100.0));
    }

    #[test]
    fn bad_ladders_name_the_field() {
        let crossed = Ladder::new(vec![lv(101.0, 1)], vec![lv(101.0, 1)]).unwrap_err();
        assert_eq!(crossed.field(), "bids[0].price");
        let unsorted = Ladder::new(vec![lv(99.0, 1), lv(99.5, 1)], vec![]).unwrap_err();
        assert_eq!(unsorted.field(), "bids[1].price");
        let nan = Ladder::new(vec![], vec![lv(f64::NAN, 1)]).unwrap_err();
        assert_eq!(nan.field(), "asks[0].price");
        let zero = Ladder::new(vec![], vec![lv(1.0, 0)]).unwrap_err();
        assert_eq!(zero.field(), "asks[0].size");
    }

    #[test]
    fn update_level_inserts_replaces_deletes_and_refuses_to_cross() {
        let mut b = book();
        b.update_level(false, 101.5, 4).unwrap();
        assert_eq!(b.asks()[1], lv(101.5, 4));
        b.update_level(true, 99.0, 0).unwrap();
        assert_eq!(b.best_bid(), Some(98.0));
        b.update_level(true, 98.0, 1).unwrap();
        assert_eq!(b.bids()[0], lv(98.0, 1));
        let before = b.clone();
        assert!(b.update_level(true, 101.0, 1).is_err());
        assert!(b.update_level(true, f64::NAN, 1).is_err());
        assert_eq!(b, before);
    }

    #[test]
    fn consolidated_merges_best_first_with_venue_tiebreak() {
        let a = Ladder::new(vec![], vec![lv(101.0, 1), lv(103.0, 1)]).unwrap();
        let c = Ladder::new(vec![], vec![lv(101.0, 2), lv(102.0, 1)]).unwrap();
        let merged = consolidated(&[Some(a), None, Some(c)], Side::Buy);
        let order: Vec<(f64, usize)> = merged.iter().map(|l| (l.price, l.venue)).collect();
        assert_eq!(order, vec![(101.0, 0), (101.0, 2), (102.0, 2), (103.0, 0)]);
    }

    fn add(side: u8, price: i128, size: u128) -> BookDelta {
        BookDelta {
            action: action::ADD,
            side,
            price,
            size,
        }
    }

    fn upd(side: u8, price: i128, size: u128) -> BookDelta {
        BookDelta {
            action: action::UPDATE,
            side,
            price,
            size,
        }
    }

    #[test]
    fn delta_book_follows_nautilus_l2_rules() {
        let mut b = DeltaBook::new();
        b.apply_all(&[add(1, 99, 5), add(1, 98, 7), add(2, 101, 3), add(2, 103, 4)])
            .unwrap();
        b.apply(&add(2, 102, 1)).unwrap(); // a new level between two
        b.apply(&add(1, 99, 6)).unwrap(); // ADD at an existing price sets its size
        b.apply(&upd(2, 103, 0)).unwrap(); // UPDATE to zero removes
        b.apply(&upd(1, 100, 2)).unwrap(); // UPDATE of an absent level adds it
        b.apply(&upd(1, 97, 0)).unwrap(); // UPDATE to zero of an absent level: nothing
        b.apply(&add(1, 96, 0)).unwrap(); // ADD of zero size: nothing
        b.apply(&BookDelta {
            action: action::DELETE,
            side: 1,
            price: 98,
            size: 0,
        })
        .unwrap();
        assert_eq!(b.bids().collect::<Vec<_>>(), vec![(100, 2), (99, 6)]);
        assert_eq!(b.asks().collect::<Vec<_>>(), vec![(101, 3), (102, 1)]);
        b.apply(&BookDelta {
            action: action::CLEAR,
            side: 0,
            price: 0,
            size: 0,
        })
        .unwrap();
        assert!(b.is_empty());
    }

    #[test]
    fn delta_book_refuses_a_bad_batch_whole_and_keeps_crossed_states() {
        let mut b = DeltaBook::new();
        b.apply_all(&[add(1, 100, 1), add(2, 101, 1)]).unwrap();
        let before = b.clone();
        let err = b
            .apply_all(&[
                add(1, 99, 1),
                BookDelta {
                    action: 9,
                    side: 1,
                    price: 1,
                    size: 1,
                },
            ])
            .unwrap_err();
        assert_eq!(err.field(), "deltas[1].action");
        assert_eq!(b.apply(&add(0, 99, 1)).unwrap_err().field(), "delta.side");
        assert_eq!(b, before);
        // A crossing level is kept (Nautilus keeps it); the routing view refuses the book.
        b.apply(&add(1, 102, 1)).unwrap();
        assert_eq!(b.bids().next(), Some((102, 1)));
        assert!(b.ladder(20, 1.0, 1).is_err());
    }

    #[test]
    fn delta_book_ladder_scales_and_truncates() {
        let mut b = DeltaBook::new();
        let levels: Vec<BookDelta> = (0..30)
            .map(|k| add(2, 10_100 + k, 1_500))
            .chain((0..30).map(|k| add(1, 9_900 - k, 999)))
            .collect();
        b.apply_all(&levels).unwrap();
        let ladder = b.ladder(20, 100.0, 1_000).unwrap();
        assert_eq!(ladder.asks().len(), 20);
        assert_eq!(ladder.asks()[0], lv(101.0, 1));
        assert!(ladder.bids().is_empty()); // 999 raw is under one unit
    }
}
