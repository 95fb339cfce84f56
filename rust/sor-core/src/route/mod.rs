//! Scoring, venue selection and order splitting.
//!
//! Cost model, per unit, in price terms (lower is better on both sides, `s` = +1 buy / -1 sell):
//!   `s * price + taker_fee * price + latency_cost + miss_cost + slippage_cost`
//! where `latency_cost = latency_risk_weight * volatility * ref_price * sqrt(latency_s)` prices the
//! adverse move while the order travels, `miss_cost = (1 - p_complete) * miss_cost_bps * ref_price`
//! prices the chance (learned from fills and rejects) that the order does not complete and must be
//! redone, and `slippage_cost = slippage_weight * learned_slippage_bps * ref_price` is the venue's
//! learned (signed) difference between the price its fills got and the price the book promised: a
//! quote that tends to be gone on arrival costs what it has cost before. `price` is walked through the venue's book. Scores are that cost against the reference
//! price (consolidated mid), in basis points.

mod rounding;
mod split;

pub use rounding::SCORE_TOLERANCE_BPS;

use crate::book::{Ladder, Level, Side};
use crate::error::{check_non_negative, SorError, SorResult};
use crate::tape::Tape;
use crate::venue::{VenueSpec, VenueStats};

/// Tunable weights of the cost model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouterParams {
    /// Price volatility per sqrt(second), as a fraction (1e-4 is about 3% a day).
    pub volatility: f64,
    /// Multiplier of the latency-risk term (0 turns it off).
    pub latency_risk_weight: f64,
    /// Cost, in bps of price, of an order that does not complete and must be sent again.
    pub miss_cost_bps: f64,
    /// Weight of each new event in the venue statistics.
    pub ewma_alpha: f64,
    /// Multiplier of the learned-slippage term (0 turns it off).
    pub slippage_weight: f64,
    /// Time constant, in seconds, of the decayed trade tape behind passive fill probabilities.
    pub tape_tau_s: f64,
}

impl Default for RouterParams {
    fn default() -> Self {
        RouterParams {
            volatility: 1e-4,
            latency_risk_weight: 1.0,
            miss_cost_bps: 5.0,
            ewma_alpha: 0.05,
            slippage_weight: 1.0,
            tape_tau_s: 30.0,
        }
    }
}

impl RouterParams {
    pub fn validate(&self) -> SorResult<()> {
        crate::limits::check_params(self)?;
        check_non_negative("volatility", self.volatility)?;
        check_non_negative("latency_risk_weight", self.latency_risk_weight)?;
        check_non_negative("miss_cost_bps", self.miss_cost_bps)?;
        check_non_negative("slippage_weight", self.slippage_weight)?;
        if !self.ewma_alpha.is_finite() || self.ewma_alpha <= 0.0 || self.ewma_alpha > 1.0 {
            return Err(SorError::invalid("ewma_alpha", self.ewma_alpha, "must be in (0, 1]"));
        }
        crate::error::check_positive("tape_tau_s", self.tape_tau_s)?;
        Ok(())
    }
}

/// The expected cost of sending `qty` units to one venue, with every term that makes it up.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueQuote {
    pub venue: usize,
    pub qty: u64,
    /// Average price walked through the book; None when no book and no price were given.
    pub expected_price: Option<f64>,
    /// Taker fee amount for the whole quantity, in quote currency.
    pub fee: f64,
    /// Latency-risk cost for the whole quantity.
    pub latency_cost: f64,
    /// Expected cost of non-completion for the whole quantity.
    pub miss_cost: f64,
    /// Learned slippage on arrival for the whole quantity (negative: the venue tends to improve).
    pub slippage_cost: f64,
    /// All-in cost per unit versus the reference price, in bps (lower is better).
    pub score_bps: f64,
    /// Probability the order is accepted and fills, as learned.
    pub fill_probability: f64,
}

/// The result of `select_venue`: the chosen quote and how every venue fared.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub best: VenueQuote,
    pub reference_price: Option<f64>,
    /// One entry per venue, in venue order: its quote, or why it was not eligible.
    pub candidates: Vec<Result<VenueQuote, String>>,
}

/// The result of `split`: allocations (venue order, non-zero only) summing exactly to the request.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitResult {
    pub allocations: Vec<VenueQuote>,
    pub total_qty: u64,
    pub reference_price: Option<f64>,
    /// All-in cost per unit of the whole split versus the reference price, in bps.
    pub score_bps: f64,
    /// 0 when the split is proven optimal (always, but for a search that hit its work budget: many
    /// venues with lots that do not divide each other); else, in bps of the order's notional, how much
    /// cheaper an allocation could at most be (the split's cost minus the search's lower bound).
    pub optimality_gap_bps: f64,
}

/// Per-call cost terms of one venue.
#[derive(Debug, Clone, Copy)]
struct Terms {
    fee: f64,
    latency_per_unit: f64,
    miss_per_unit: f64,
    slippage_per_unit: f64,
    fill_probability: f64,
}

impl Terms {
    fn extra(&self) -> f64 {
        self.latency_per_unit + self.miss_per_unit + self.slippage_per_unit
    }
}

/// Notional of `qty` units walked through `levels` within `limit`; None if depth runs out first.
pub(crate) fn walk(levels: &[Level], qty: u64, side: Side, limit: Option<f64>) -> Option<f64> {
    let mut left = qty;
    let mut notional = 0.0;
    for level in levels {
        if left == 0 {
            break;
        }
        if !crate::book::within_limit(side, level.price, limit) {
            return None;
        }
        let take = left.min(level.size);
        notional += take as f64 * level.price;
        left -= take;
    }
    (left == 0).then_some(notional)
}

/// All-in cost of `qty` units per unit against `ref_price`, in bps (lower is better on both sides).
pub(crate) fn score_bps(cost: f64, qty: u64, side: Side, ref_price: f64) -> f64 {
    (cost / qty as f64 - side.sign() * ref_price) / ref_price * 1e4
}

/// Units displayed in `levels` within `limit` (saturating).
pub(crate) fn depth_within(levels: &[Level], side: Side, limit: Option<f64>) -> u64 {
    levels
        .iter()
        .take_while(|l| crate::book::within_limit(side, l.price, limit))
        .fold(0u64, |a, l| a.saturating_add(l.size))
}

/// What a taker call (`select_venue`, `split`) prices every venue against, built once per call.
#[derive(Debug, Clone, Copy)]
struct TakerCtx {
    /// Whether any enabled venue has a book: then venues without one are not routed to.
    book_mode: bool,
    /// The price costs are measured against; None: relative mode, priced at 1.0 (`ref_price`).
    reference: Option<f64>,
    ref_price: f64,
    /// The one unlimited level at `ref_price` every venue offers when no venue has a book.
    flat: [Level; 1],
}

/// Smart order router: venues, their books and statistics, and the cost model.
#[derive(Debug, Clone)]
pub struct Router {
    pub(crate) venues: Vec<VenueSpec>,
    pub(crate) stats: Vec<VenueStats>,
    pub(crate) books: Vec<Option<Ladder>>,
    pub(crate) params: RouterParams,
    /// Each venue's recent trades (`tape.rs`), for passive selection (`passive.rs`).
    pub(crate) tapes: Vec<Tape>,
}

impl Router {
    pub fn new(venues: Vec<VenueSpec>, params: RouterParams) -> SorResult<Self> {
        params.validate()?;
        if venues.is_empty() {
            return Err(SorError::invalid("venues", "[]", "at least one venue is required"));
        }
        for (i, v) in venues.iter().enumerate() {
            if venues[..i].iter().any(|w| w.name == v.name) {
                return Err(SorError::invalid(
                    &format!("venues[{i}].name"),
                    &v.name,
                    "duplicate venue name",
                ));
            }
        }
        let stats = venues
            .iter()
            .map(|v| VenueStats::new(v.latency_ms, params.ewma_alpha))
            .collect::<SorResult<Vec<_>>>()?;
        let books = vec![None; venues.len()];
        let tapes = vec![Tape::default(); venues.len()];
        Ok(Router {
            venues,
            stats,
            books,
            params,
            tapes,
        })
    }

    pub fn venues(&self) -> &[VenueSpec] {
        &self.venues
    }

    pub fn params(&self) -> &RouterParams {
        &self.params
    }

    pub fn venue_index(&self, name: &str) -> SorResult<usize> {
        self.venues
            .iter()
            .position(|v| v.name == name)
            .ok_or_else(|| SorError::unknown_venue("venue", name))
    }

    pub(crate) fn check_index(&self, venue: usize) -> SorResult<()> {
        if venue < self.venues.len() {
            Ok(())
        } else {
            Err(SorError::unknown_venue("venue", venue))
        }
    }

    pub fn set_book(&mut self, venue: usize, book: Option<Ladder>) -> SorResult<()> {
        self.check_index(venue)?;
        self.books[venue] = book;
        Ok(())
    }

    pub fn book(&self, venue: usize) -> SorResult<Option<&Ladder>> {
        self.check_index(venue)?;
        Ok(self.books[venue].as_ref())
    }

    /// Sets one level of a venue's book (creating an empty book if it had none).
    pub fn update_level(&mut self, venue: usize, is_bid: bool, price: f64, size: u64) -> SorResult<()> {
        self.check_index(venue)?;
        match &mut self.books[venue] {
            Some(book) => book.update_level(is_bid, price, size),
            None => {
                // A refused level (or the delete of a level a missing book cannot have) leaves no
                // empty book behind: an empty book would switch the router into book mode.
                let mut book = Ladder::default();
                book.update_level(is_bid, price, size)?;
                if size > 0 {
                    self.books[venue] = Some(book);
                }
                Ok(())
            }
        }
    }

    /// Sets a venue's lot size and minimum (in units), e.g. for the instrument being routed now.
    pub fn set_lot(&mut self, venue: usize, lot_size: u64, min_qty: u64) -> SorResult<()> {
        self.check_index(venue)?;
        crate::venue::check_lot(lot_size, min_qty)?;
        self.venues[venue].lot_size = lot_size;
        self.venues[venue].min_qty = min_qty;
        Ok(())
    }

    pub fn set_enabled(&mut self, venue: usize, enabled: bool) -> SorResult<()> {
        self.check_index(venue)?;
        self.venues[venue].enabled = enabled;
        Ok(())
    }

    pub fn stats(&self, venue: usize) -> SorResult<&VenueStats> {
        self.check_index(venue)?;
        Ok(&self.stats[venue])
    }

    pub fn stats_mut(&mut self, venue: usize) -> SorResult<&mut VenueStats> {
        self.check_index(venue)?;
        Ok(&mut self.stats[venue])
    }

    /// Whether any enabled venue has a book: then venues without one are not routed to.
    fn book_mode(&self) -> bool {
        self.venues
            .iter()
            .zip(&self.books)
            .any(|(v, b)| v.enabled && b.is_some())
    }

    /// The price costs are measured against: the consolidated mid of the enabled venues' books, else
    /// the touch on the side a `side` order takes, else `limit`. Every score (`select_venue`, `split`,
    /// `select_passive`) is in bps of it.
    pub fn reference_price(&self, side: Side, limit: Option<f64>) -> Option<f64> {
        let live = || {
            self.venues
                .iter()
                .zip(&self.books)
                .filter(|(v, _)| v.enabled)
                .filter_map(|(_, b)| b.as_ref())
        };
        let best_bid = live().filter_map(Ladder::best_bid).reduce(f64::max);
        let best_ask = live().filter_map(Ladder::best_ask).reduce(f64::min);
        match (best_bid, best_ask, side) {
            (Some(b), Some(a), _) => Some((a + b) / 2.0),
            (_, Some(a), Side::Buy) => Some(a),
            (Some(b), _, Side::Sell) => Some(b),
            _ => limit,
        }
    }

    fn terms(&self, venue: usize, ref_price: f64) -> Terms {
        let stats = &self.stats[venue];
        let p = self.params;
        let latency_s = stats.latency_mean_ms / 1000.0;
        let fill_probability = stats.completion_probability();
        Terms {
            fee: self.venues[venue].taker_fee,
            latency_per_unit: p.latency_risk_weight * p.volatility * ref_price * latency_s.sqrt(),
            miss_per_unit: (1.0 - fill_probability) * p.miss_cost_bps * 1e-4 * ref_price,
            slippage_per_unit: p.slippage_weight * stats.slippage_bps * 1e-4 * ref_price,
            fill_probability,
        }
    }

    /// The quote for `qty` units walked to `notional` on `venue`, against `reference` (None: relative).
    fn quote(&self, venue: usize, qty: u64, notional: f64, side: Side, reference: Option<f64>) -> VenueQuote {
        let ref_price = reference.unwrap_or(1.0);
        let terms = self.terms(venue, ref_price);
        let q = qty as f64;
        let cost = side.sign() * notional + terms.fee * notional + terms.extra() * q;
        VenueQuote {
            venue,
            qty,
            expected_price: reference.map(|_| notional / q),
            fee: terms.fee * notional,
            latency_cost: terms.latency_per_unit * q,
            miss_cost: terms.miss_per_unit * q,
            slippage_cost: terms.slippage_per_unit * q,
            score_bps: score_bps(cost, qty, side, ref_price),
            fill_probability: terms.fill_probability,
        }
    }

    pub(crate) fn check_request(qty: u64, limit: Option<f64>, qty_field: &str) -> SorResult<()> {
        if qty == 0 {
            return Err(SorError::invalid(qty_field, 0, "must be greater than zero"));
        }
        crate::limits::check_limit("limit_price", limit)
    }

    /// The request checked and what a taker call prices every venue against, built once per call.
    fn taker_ctx(&self, side: Side, qty: u64, limit: Option<f64>, qty_field: &str) -> SorResult<TakerCtx> {
        Self::check_request(qty, limit, qty_field)?;
        let reference = self.reference_price(side, limit);
        let ref_price = reference.unwrap_or(1.0);
        Ok(TakerCtx {
            book_mode: self.book_mode(),
            reference,
            ref_price,
            flat: [Level {
                price: ref_price,
                size: u64::MAX,
            }],
        })
    }

    /// The levels a venue offers for this call: its book in book mode, or one unlimited level at the
    /// reference price when no venue has a book.
    fn levels<'a>(&'a self, venue: usize, side: Side, ctx: &'a TakerCtx) -> Option<&'a [Level]> {
        if ctx.book_mode {
            self.books[venue].as_ref().map(|b| b.taking(side))
        } else {
            Some(&ctx.flat)
        }
    }

    /// Why venue `i` cannot take `qty` units whatever its book: disabled, or the quantity does not fit
    /// its lot size and minimum (the reason `no_venue_error` recognises by its "quantity" prefix).
    pub(crate) fn check_accepts(&self, i: usize, qty: u64) -> Result<(), String> {
        let v = &self.venues[i];
        if !v.enabled {
            return Err("disabled".to_string());
        }
        if !v.accepts(qty) {
            return Err(format!(
                "quantity {qty} does not fit lot size {} / minimum {}",
                v.lot_size, v.min_qty
            ));
        }
        Ok(())
    }

    /// The lowest-scoring eligible candidate (one per venue, in venue order), cloned; ties go to the
    /// lower mean latency, then venue order. None eligible: `no_venue_error` with every venue's reason.
    pub(crate) fn pick_best<T: Clone>(
        &self,
        qty: u64,
        candidates: &[Result<T, String>],
        score_bps: impl Fn(&T) -> f64,
    ) -> SorResult<T> {
        let mut best: Option<(usize, f64, f64)> = None; // (venue, score, latency) of the best so far
        for (i, candidate) in candidates.iter().enumerate() {
            if let Ok(q) = candidate {
                let (score, latency) = (score_bps(q), self.stats[i].latency_mean_ms);
                if score.is_nan() {
                    continue; // a score that is not a number never wins (bounded inputs keep it finite)
                }
                let better = match best {
                    None => true,
                    Some((_, s, l)) => score < s || (score == s && latency < l),
                };
                if better {
                    best = Some((i, score, latency));
                }
            }
        }
        match best {
            Some((i, _, _)) => Ok(candidates[i].clone().expect("best is an eligible candidate")),
            None => Err(self.no_venue_error("quantity", qty, candidates)),
        }
    }

    /// Picks the venue with the lowest all-in cost for `qty` units, explaining every venue.
    pub fn select_venue(&self, side: Side, qty: u64, limit: Option<f64>) -> SorResult<Selection> {
        let ctx = self.taker_ctx(side, qty, limit, "quantity")?;
        let candidates: Vec<Result<VenueQuote, String>> = (0..self.venues.len())
            .map(|i| {
                self.check_accepts(i, qty)?;
                let levels = self.levels(i, side, &ctx).ok_or_else(|| "no book data".to_string())?;
                let notional = walk(levels, qty, side, limit).ok_or_else(|| {
                    let shown = depth_within(levels, side, limit);
                    format!("displays {shown} of {qty} units within the limit")
                })?;
                Ok(self.quote(i, qty, notional, side, ctx.reference))
            })
            .collect();
        let best = self.pick_best(qty, &candidates, |q| q.score_bps)?;
        Ok(Selection {
            best,
            reference_price: ctx.reference,
            candidates,
        })
    }

    pub(crate) fn no_venue_error<T>(&self, field: &str, qty: u64, candidates: &[Result<T, String>]) -> SorError {
        let all_lot = self
            .venues
            .iter()
            .zip(candidates)
            .all(|(v, c)| !v.enabled || matches!(c, Err(r) if r.starts_with("quantity")));
        let reasons: Vec<String> = self
            .venues
            .iter()
            .zip(candidates)
            .filter_map(|(v, c)| c.as_ref().err().map(|r| format!("{}: {r}", v.name)))
            .collect();
        if all_lot && self.venues.iter().any(|v| v.enabled) {
            return SorError::invalid(
                field,
                qty,
                &format!(
                    "not a multiple of any enabled venue's lot size and minimum ({})",
                    reasons.join("; ")
                ),
            );
        }
        SorError::no_venue(field, qty, reasons.join("; "))
    }
}
