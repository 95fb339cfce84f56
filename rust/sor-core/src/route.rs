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

/// Every venue's cursor after a walk. (Plain `Vec`s measured faster here than inline small vectors.)
type Cursors = Vec<Cursor>;

/// Position of a venue's walk through its levels.
#[derive(Debug, Clone, Copy, Default)]
struct Cursor {
    level: usize,
    offset: u64,
    alloc: u64,
    notional: f64,
}

/// Walks `qty` units from `cur` through `levels` within `limit`; None if depth runs out first.
fn walk_from(levels: &[Level], cur: Cursor, qty: u64, side: Side, limit: Option<f64>) -> Option<(f64, Cursor)> {
    let mut c = cur;
    let mut left = qty;
    let mut notional = 0.0;
    while left > 0 {
        let level = levels.get(c.level)?;
        if !crate::book::within_limit(side, level.price, limit) {
            return None;
        }
        let take = left.min(level.size - c.offset);
        notional += take as f64 * level.price;
        left -= take;
        c.offset += take;
        if c.offset == level.size {
            c.level += 1;
            c.offset = 0;
        }
    }
    c.alloc += qty;
    c.notional += notional;
    Some((notional, c))
}

/// Units displayed in `levels` within `limit` (saturating).
fn depth_within(levels: &[Level], side: Side, limit: Option<f64>) -> u64 {
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

/// A piece of the walk one venue offers next: its size and cost per unit.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    size: u64,
    unit_cost: f64,
    /// Some(price) for a single-price chunk (any whole number of its lots may be taken).
    price: Option<f64>,
    /// Cursor after taking all of a multi-price chunk.
    after: Cursor,
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

/// Above this many venue subsets, `max_venues` is enforced by greedy elimination instead of search.
const MAX_SUBSETS: u64 = 512;

fn binomial(n: u64, k: u64) -> u64 {
    let k = k.min(n - k.min(n));
    (0..k).fold(1u64, |acc, i| acc.saturating_mul(n - i) / (i + 1))
}

/// The smallest k >= 0 with `(remaining + k * lot_a) % lot_b == 0`, if any (extended Euclid).
fn smallest_k(remaining: u64, lot_a: u64, lot_b: u64) -> Option<u64> {
    let g = gcd(lot_a, lot_b);
    if remaining % g != 0 {
        return None;
    }
    let m = (lot_b / g) as i128;
    if m == 1 {
        return Some(0);
    }
    // k * (lot_a / g) = -(remaining / g)  (mod m)
    let a = ((lot_a / g) as i128) % m;
    let target = (m - ((remaining / g) as i128) % m) % m;
    let (mut old_r, mut r) = (a, m);
    let (mut old_s, mut s) = (1i128, 0i128);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_s, s) = (s, old_s - q * s);
    }
    let inverse = old_s.rem_euclid(m) as u128;
    u64::try_from(inverse * target as u128 % m as u128).ok()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
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
        self.books[venue]
            .get_or_insert_with(Ladder::default)
            .update_level(is_bid, price, size)
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

    /// The price costs are measured against: consolidated mid, else touch, else the limit.
    fn reference_price(&self, side: Side, limit: Option<f64>) -> Option<f64> {
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
            score_bps: (cost / q - side.sign() * ref_price) / ref_price * 1e4,
            fill_probability: terms.fill_probability,
        }
    }

    pub(crate) fn check_request(qty: u64, limit: Option<f64>, qty_field: &str) -> SorResult<()> {
        if qty == 0 {
            return Err(SorError::invalid(qty_field, 0, "must be greater than zero"));
        }
        if let Some(l) = limit {
            if !l.is_finite() || l <= 0.0 {
                return Err(SorError::invalid(
                    "limit_price",
                    l,
                    "must be a finite price greater than zero",
                ));
            }
        }
        Ok(())
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
                let (notional, _) = walk_from(levels, Cursor::default(), qty, side, limit).ok_or_else(|| {
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

    /// Splits `total` units across at most `max_venues` venues at the lowest total expected cost.
    ///
    /// Walks the venues' ladders together, always taking the cheapest next chunk (whole lots; a
    /// venue's first chunk is its minimum), which is optimal for the per-unit costs above because each
    /// venue's marginal cost only rises. When more than `max_venues` venues would be used, the best
    /// subset is searched exhaustively (or greedily for very many venues).
    pub fn split(&self, side: Side, total: u64, max_venues: usize, limit: Option<f64>) -> SorResult<SplitResult> {
        let ctx = self.taker_ctx(side, total, limit, "total_qty")?;
        if max_venues == 0 {
            return Err(SorError::invalid("max_venues", 0, "must be at least 1"));
        }
        let n = self.venues.len();
        let eligible: Vec<usize> = (0..n)
            .filter(|&i| {
                self.venues[i].enabled && self.venues[i].first_chunk() <= total && self.levels(i, side, &ctx).is_some()
            })
            .collect();
        if eligible.is_empty() {
            let reasons: Vec<String> = self
                .venues
                .iter()
                .map(|v| {
                    let why = if !v.enabled {
                        "disabled".to_string()
                    } else if v.first_chunk() > total {
                        format!("minimum order {} units exceeds the request", v.first_chunk())
                    } else {
                        "no book data".to_string()
                    };
                    format!("{}: {why}", v.name)
                })
                .collect();
            return Err(SorError::no_venue("total_qty", total, reasons.join("; ")));
        }
        let g = eligible.iter().fold(0, |acc, &i| gcd(acc, self.venues[i].lot_size));
        if total % g != 0 {
            return Err(SorError::invalid(
                "total_qty",
                total,
                &format!("not a multiple of the venues' common lot size {g}; no allocation can sum to it exactly"),
            ));
        }
        let walk = SplitCtx::new(self, side, limit, &ctx);
        let mut best = walk.greedy(&eligible, total);
        let used = |c: &Option<Cursors>| c.as_ref().map_or(0, |c| c.iter().filter(|c| c.alloc > 0).count());
        if best.is_some() && used(&best) > max_venues {
            best = walk.best_subset(&eligible, total, max_venues);
        }
        let Some(cursors) = best else {
            let available: u64 = eligible
                .iter()
                .filter_map(|&i| self.levels(i, side, &ctx))
                .map(|levels| depth_within(levels, side, limit))
                .fold(0u64, u64::saturating_add);
            if available >= total {
                let lots: Vec<String> = eligible
                    .iter()
                    .map(|&i| {
                        format!(
                            "{} lot {} min {}",
                            self.venues[i].name, self.venues[i].lot_size, self.venues[i].min_qty
                        )
                    })
                    .collect();
                return Err(SorError::no_venue(
                    "total_qty",
                    total,
                    format!(
                        "cannot be made of whole lots and minimums on at most {max_venues} venue(s) ({})",
                        lots.join(", ")
                    ),
                ));
            }
            return Err(SorError::insufficient(total, available, limit));
        };
        let allocations: Vec<VenueQuote> = cursors
            .iter()
            .enumerate()
            .filter(|(_, c)| c.alloc > 0)
            .map(|(i, c)| self.quote(i, c.alloc, c.notional, side, ctx.reference))
            .collect();
        let cost = walk.total_cost(&cursors);
        let score_bps = (cost / total as f64 - side.sign() * ctx.ref_price) / ctx.ref_price * 1e4;
        Ok(SplitResult {
            allocations,
            total_qty: total,
            reference_price: ctx.reference,
            score_bps,
        })
    }
}

/// One venue as a split call sees it, gathered once so the walk touches one compact record.
#[derive(Debug, Clone, Copy)]
struct Lane<'a> {
    levels: &'a [Level],
    lot: u64,
    first_chunk: u64,
    /// side sign + taker fee: multiplies notional into signed cost.
    price_factor: f64,
    /// latency + miss cost per unit.
    extra: f64,
}

/// What one split call needs, shared by the greedy walk and the subset search.
struct SplitCtx<'a> {
    lanes: Vec<Lane<'a>>,
    side: Side,
    limit: Option<f64>,
}

impl<'a> SplitCtx<'a> {
    fn new(router: &'a Router, side: Side, limit: Option<f64>, ctx: &'a TakerCtx) -> Self {
        let lanes = router
            .venues
            .iter()
            .enumerate()
            .map(|(v, spec)| {
                let terms = router.terms(v, ctx.ref_price);
                Lane {
                    levels: router.levels(v, side, ctx).unwrap_or(&[]),
                    lot: spec.lot_size,
                    first_chunk: spec.first_chunk(),
                    price_factor: side.sign() + terms.fee,
                    extra: terms.extra(),
                }
            })
            .collect();
        SplitCtx { lanes, side, limit }
    }

    /// Cost of a walk: signed notional plus fee plus per-unit extras.
    fn cost(&self, venue: usize, qty: u64, notional: f64) -> f64 {
        let lane = &self.lanes[venue];
        lane.price_factor * notional + lane.extra * qty as f64
    }

    /// The smallest order venue `v` can take next: its minimum before its first fill, else a lot.
    fn floor(&self, v: usize, cur: &Cursor) -> u64 {
        let lane = &self.lanes[v];
        if cur.alloc == 0 {
            lane.first_chunk
        } else {
            lane.lot
        }
    }

    /// The next chunk venue `v` offers toward `remaining`, or None.
    ///
    /// Either every whole lot left in the current level, at that level's price (a single-price
    /// chunk: the caller may take fewer lots of it), or, when the level holds less than the venue's
    /// floor (a lot, or its minimum before the first fill), exactly the floor walked across levels.
    fn next_chunk(&self, v: usize, cur: Cursor, remaining: u64) -> Option<Chunk> {
        let lane = &self.lanes[v];
        let floor = self.floor(v, &cur);
        if floor > remaining {
            return None;
        }
        let level = lane.levels.get(cur.level)?;
        let left_in_level = level.size - cur.offset;
        if left_in_level >= floor {
            if !crate::book::within_limit(self.side, level.price, self.limit) {
                return None;
            }
            let size = left_in_level / lane.lot * lane.lot;
            let unit_cost = lane.price_factor * level.price + lane.extra;
            return Some(Chunk {
                size,
                unit_cost,
                price: Some(level.price),
                after: cur,
            });
        }
        let (notional, after) = walk_from(lane.levels, cur, floor, self.side, self.limit)?;
        Some(Chunk {
            size: floor,
            unit_cost: self.cost(v, floor, notional) / floor as f64,
            price: None,
            after,
        })
    }

    /// Takes from a chunk as much as `remaining` allows, returning the cursor after it.
    fn take(&self, v: usize, chunk: &Chunk, cur: Cursor, remaining: u64) -> (u64, Cursor) {
        match chunk.price {
            Some(price) => {
                let lot = self.lanes[v].lot;
                let qty = chunk.size.min(remaining / lot * lot);
                let mut after = cur;
                after.offset += qty;
                after.alloc += qty;
                after.notional += qty as f64 * price;
                if after.offset == self.lanes[v].levels[cur.level].size {
                    after.level += 1;
                    after.offset = 0;
                }
                (qty, after)
            }
            None => (chunk.size, chunk.after),
        }
    }

    /// Cheapest-next-chunk walk over `venues`; None if they cannot fill `total` exactly.
    fn greedy(&self, venues: &[usize], total: u64) -> Option<Cursors> {
        let n = self.lanes.len();
        let mut cursors: Cursors = vec![Cursor::default(); n];
        let mut next: Vec<Option<Chunk>> = vec![None; n];
        let mut remaining = total;
        for &v in venues {
            next[v] = self.next_chunk(v, cursors[v], remaining);
        }
        while remaining > 0 {
            let mut pick: Option<(usize, f64)> = None;
            for &v in venues {
                if let Some(chunk) = &next[v] {
                    if pick.is_none_or(|(_, best)| chunk.unit_cost < best) {
                        pick = Some((v, chunk.unit_cost));
                    }
                }
            }
            let Some((v, _)) = pick else {
                return self.repair(venues, cursors, remaining);
            };
            let chunk = next[v].take().expect("picked venue has a chunk");
            let (qty, after) = self.take(v, &chunk, cursors[v], remaining);
            cursors[v] = after;
            remaining -= qty;
            next[v] = self.next_chunk(v, cursors[v], remaining);
            // A venue whose next order would exceed what is left drops out (remaining only falls).
            for &w in venues {
                if next[w]
                    .as_ref()
                    .is_some_and(|c| c.price.is_none() && c.size > remaining || self.floor(w, &cursors[w]) > remaining)
                {
                    next[w] = None;
                }
            }
        }
        Some(cursors)
    }

    /// Units and notional of `qty` walked fresh on venue `v`, if it can take exactly that.
    fn fresh(&self, v: usize, qty: u64) -> Option<Cursor> {
        if qty == 0 {
            return Some(Cursor::default());
        }
        let lane = &self.lanes[v];
        // Whole lots at or above the minimum (first_chunk is the minimum rounded up to lots).
        if qty % lane.lot != 0 || qty < lane.first_chunk {
            return None;
        }
        walk_from(lane.levels, Cursor::default(), qty, self.side, self.limit).map(|(_, c)| c)
    }

    /// The greedy walk left `remaining` units no venue's lot fits: move lots between two venues so
    /// the total comes out exact, choosing the cheapest such change.
    fn repair(&self, venues: &[usize], cursors: Cursors, remaining: u64) -> Option<Cursors> {
        let mut best: Option<(f64, Cursors)> = None;
        for &a in venues {
            let lot_a = self.lanes[a].lot;
            for &b in venues {
                if a == b {
                    continue;
                }
                let lot_b = self.lanes[b].lot;
                // Take k lots back from `a` (k = 0 when `a` keeps its allocation) so `b` can absorb them.
                let max_k = if cursors[a].alloc == 0 {
                    0
                } else {
                    (lot_b / gcd(lot_a, lot_b)).min(cursors[a].alloc / lot_a)
                };
                // The k that make `remaining + k * lot_a` a multiple of `lot_b` are k0 + j * (lot_b / g):
                // solve for k0 instead of scanning (lots can be huge), then try the ones in range.
                let Some(k0) = smallest_k(remaining, lot_a, lot_b) else {
                    continue;
                };
                let step = lot_b / gcd(lot_a, lot_b);
                for k in [Some(k0), k0.checked_add(step)]
                    .into_iter()
                    .flatten()
                    .filter(|&k| k <= max_k)
                {
                    let extra = remaining + k * lot_a;
                    let new_a = cursors[a].alloc - k * lot_a;
                    let new_b = cursors[b].alloc + extra;
                    if extra % lot_b != 0 {
                        continue;
                    }
                    let (Some(ca), Some(cb)) = (self.fresh(a, new_a), self.fresh(b, new_b)) else {
                        continue;
                    };
                    let mut trial = cursors.clone();
                    trial[a] = ca;
                    trial[b] = cb;
                    let cost = self.total_cost(&trial);
                    if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                        best = Some((cost, trial));
                    }
                }
            }
        }
        best.map(|(_, c)| c)
    }

    fn total_cost(&self, cursors: &[Cursor]) -> f64 {
        cursors
            .iter()
            .enumerate()
            .filter(|(_, c)| c.alloc > 0)
            .map(|(v, c)| self.cost(v, c.alloc, c.notional))
            .sum()
    }

    /// The cheapest feasible allocation using at most `k` of `venues`.
    fn best_subset(&self, venues: &[usize], total: u64, k: usize) -> Option<Cursors> {
        let n = venues.len() as u64;
        if binomial(n, k as u64) <= MAX_SUBSETS && n <= 63 {
            let mut best: Option<(f64, Cursors)> = None;
            let mut subset: Vec<usize> = Vec::with_capacity(k);
            // Every mask with exactly k bits, in increasing order (deterministic tie-break).
            for mask in 1u64..(1u64 << n) {
                if mask.count_ones() as usize != k {
                    continue;
                }
                subset.clear();
                subset.extend((0..venues.len()).filter(|j| mask >> j & 1 == 1).map(|j| venues[j]));
                if let Some(c) = self.greedy(&subset, total) {
                    let cost = self.total_cost(&c);
                    if best.as_ref().is_none_or(|(b, _)| cost < *b) {
                        best = Some((cost, c));
                    }
                }
            }
            return best.map(|(_, c)| c);
        }
        // Too many subsets: drop, one at a time, the venue whose removal costs least.
        let mut current: Vec<usize> = venues.to_vec();
        while current.len() > k {
            let mut best: Option<(f64, usize)> = None;
            for drop in 0..current.len() {
                let trial: Vec<usize> = current
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != drop)
                    .map(|(_, &v)| v)
                    .collect();
                if let Some(c) = self.greedy(&trial, total) {
                    let cost = self.total_cost(&c);
                    if best.is_none_or(|(b, _)| cost < b) {
                        best = Some((cost, drop));
                    }
                }
            }
            let (_, drop) = best?;
            current.remove(drop);
        }
        self.greedy(&current, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_k_matches_a_scan() {
        for lot_a in 1..12u64 {
            for lot_b in 1..12u64 {
                for remaining in 0..40u64 {
                    let scan = (0..=lot_b).find(|k| (remaining + k * lot_a) % lot_b == 0);
                    assert_eq!(smallest_k(remaining, lot_a, lot_b), scan, "{remaining} {lot_a} {lot_b}");
                }
            }
        }
        assert_eq!(smallest_k(1, 2, 1_000_000_001), Some(500_000_000));
        assert!(smallest_k(u64::MAX - 7, u64::MAX - 1, u64::MAX).is_some());
    }
}
