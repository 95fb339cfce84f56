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
        check_price(&format!("{field}[{i}].price"), level.price)?;
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
}
