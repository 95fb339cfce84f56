//! `Router::lot_rounding`: how much of a slice that is not a parent's last to route now.
//!
//! When venues' lots do not divide one another, routing every slice exactly hands each slice's odd rest
//! to the fine-lot venue at its fee. Of the exact quantity and its roundings down to each venue's lot,
//! the one with the lowest expected cost per unit (the split's `score_bps` on the current books) goes
//! now; the rest is the caller's to carry to a later slice. A rest no coarser lot can take (smaller than
//! the coarsest lot) is carried when routing it now costs more per unit than a whole lot of the cheapest
//! coarse venue; otherwise it goes now too. The one rule of the live algorithms
//! (`SmartOrderRouter.lot_rounding`) and the evaluation simulator.

use super::Router;
use crate::book::Side;
use crate::error::{SorError, SorResult};

/// Scores closer than this (bps) are a tie: the earlier candidate (the exact quantity, then finer
/// roundings; fewer venues) is kept.
pub const SCORE_TOLERANCE_BPS: f64 = 1e-9;

impl Router {
    /// (units to route now, max_venues to use) for a slice of `units` that is not a parent's last.
    ///
    /// With one lot size among the enabled venues nothing is rounded: (`units`, `max_venues`). A
    /// quantity nothing can be priced for (no data, too little liquidity) is returned whole, for the
    /// routing call to say why. `(0, max_venues)` means: carry all of it.
    pub fn lot_rounding(
        &self,
        side: Side,
        units: u64,
        max_venues: usize,
        limit: Option<f64>,
    ) -> SorResult<(u64, usize)> {
        if max_venues == 0 {
            return Err(SorError::invalid("max_venues", 0, "must be at least 1"));
        }
        if units == 0 {
            return Ok((0, max_venues));
        }
        Self::check_request(units, limit, "quantity")?;
        let mut lots: Vec<u64> = self.venues.iter().filter(|v| v.enabled).map(|v| v.lot_size).collect();
        lots.sort_unstable();
        lots.dedup();
        if lots.len() < 2 {
            return Ok((units, max_venues));
        }
        let routable = self.venues.iter().filter(|v| v.enabled).count();
        let most = max_venues.min(routable);
        // The split is optimal for every venue count, so its score only falls as more are allowed.
        let score = |qty: u64, venues: usize| {
            self.split(side, qty, venues, limit)
                .map_or(f64::INFINITY, |s| s.score_bps)
        };
        let cheapest = |qty: u64| {
            let mut best = (qty, f64::INFINITY);
            let roundings = lots.iter().map(|lot| qty - qty % lot);
            let mut seen: Vec<u64> = Vec::with_capacity(lots.len() + 1);
            for candidate in std::iter::once(qty).chain(roundings) {
                if candidate == 0 || seen.contains(&candidate) {
                    continue;
                }
                seen.push(candidate);
                let s = score(candidate, most);
                if s < best.1 - SCORE_TOLERANCE_BPS {
                    best = (candidate, s);
                }
            }
            best
        };
        let whole_lot = lots[1..].iter().map(|&lot| score(lot, 1)).fold(f64::INFINITY, f64::min);
        let coarsest = lots[lots.len() - 1];
        let (mut now, mut rest) = (0u64, units);
        while rest > 0 {
            let (candidate, candidate_score) = cheapest(rest);
            if candidate_score.is_infinite() {
                if now == 0 {
                    return Ok((units, max_venues)); // nothing can be priced: the routing call says why
                }
                break; // cannot go now anyway: carried with the rest
            }
            if rest < coarsest && candidate_score > whole_lot + SCORE_TOLERANCE_BPS {
                break; // cheaper once later slices add up to a whole coarse lot: carried
            }
            now += candidate;
            rest -= candidate;
        }
        if now == 0 {
            return Ok((0, max_venues));
        }
        let best = score(now, most);
        if best.is_infinite() {
            return Ok((now, max_venues)); // the pieces price apart, not together: the routing call says why
        }
        let count = (1..=most)
            .find(|&m| score(now, m) <= best + SCORE_TOLERANCE_BPS)
            .unwrap_or(max_venues);
        Ok((now, count))
    }
}
