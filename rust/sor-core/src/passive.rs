//! Passive (resting) venue selection: where a limit order joining the touch is expected to cost least.
//!
//! A taker's score (`route.rs`) is the wrong question for a resting order: it pays the maker fee and
//! earns the half spread when it fills, and only what has not filled after about `horizon_s` is
//! crossed. Per venue, in bps of that venue's mid (lower is better):
//!
//!   `at_mid = p * (maker_fee - half_spread) + (1 - p) * (taker_fee + half_spread) + latency_risk`
//!   `p = min(1, rate_against * horizon_s / (queue_ahead + qty))`
//!
//! and the score, what venues are compared by, is that cost moved onto the reference price every taker
//! score is measured against (the consolidated mid of the enabled venues, `Router::reference_price`):
//!
//!   `score = side * (mid - reference) / reference + at_mid * mid / reference`   (in bps)
//!
//! so a venue whose mid stands above the others' (a basis) costs a buyer what it stands above them, and a
//! passive score compares with a taker split's `score_bps` on one scale (the adaptive style weighs the two).
//!
//! `queue_ahead` is the displayed size at our touch (we join the back of the queue), `rate_against`
//! the units per second recently traded against our side (aggressive sellers when we buy), from the
//! venue's decayed tape (`tape.rs`), and the latency risk is the taker model's term
//! `latency_risk_weight * volatility * sqrt(mean latency)`. The evaluation on real books
//! (docs/evaluation.md) found this rule roughly halves the cost of resting clips placed by the
//! taker score.

use crate::book::Side;
use crate::error::{check_positive, SorResult};
use crate::route::Router;

/// The expected cost of resting `qty` units at one venue's touch, with what it is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct PassiveQuote {
    pub venue: usize,
    pub qty: u64,
    /// Our touch: the best bid to buy, the best ask to sell (where the order rests).
    pub expected_price: f64,
    /// The venue's mid, which the component bps figures (half spread, fee, latency) are measured against.
    pub mid: f64,
    /// The price `score_bps` is measured against: the consolidated mid of the enabled venues (the taker
    /// score's reference; the venue's own mid when no other reference exists).
    pub reference_price: f64,
    /// Displayed units at our touch, ahead of us in the queue.
    pub queue_ahead: u64,
    /// Units per second recently traded against our side (decayed tape).
    pub rate_against: f64,
    /// Chance the queue ahead and our order trade away within the horizon, capped at 1.
    pub fill_probability: f64,
    /// Half the venue's spread, in bps of its mid.
    pub half_spread_bps: f64,
    /// Expected fee: `p * maker_fee + (1 - p) * taker_fee`, in bps.
    pub fee_bps: f64,
    /// Latency-risk term, in bps.
    pub latency_bps: f64,
    /// All-in expected cost versus `reference_price`, in bps (lower is better): the venue's basis to the
    /// reference plus its cost at its own mid, on the taker score's scale.
    pub score_bps: f64,
}

/// The result of `select_passive`: the chosen venue and how every venue fared.
#[derive(Debug, Clone, PartialEq)]
pub struct PassiveSelection {
    pub best: PassiveQuote,
    /// One entry per venue, in venue order: its quote, or why it was not eligible.
    pub candidates: Vec<Result<PassiveQuote, String>>,
}

impl Router {
    /// Records a trade on `venue` of `size` units whose aggressor was on `aggressor`, at `ts_ns`.
    ///
    /// Trades may arrive out of order (feeds from several gateways): an older trade is folded in
    /// exactly, decayed from its own time, so the tape never depends on arrival order.
    pub fn record_trade(&mut self, venue: usize, aggressor: Side, size: u64, ts_ns: u64) -> SorResult<()> {
        self.check_index(venue)?;
        let tau = self.params.tape_tau_s;
        self.tapes[venue].record(aggressor, size, ts_ns, tau)
    }

    /// Units per second traded by `aggressor`s on `venue`, decayed to `now_ns` (a time before the
    /// venue's latest trade reads the tape as of that trade).
    pub fn tape_rate(&self, venue: usize, aggressor: Side, now_ns: u64) -> SorResult<f64> {
        self.check_index(venue)?;
        Ok(self.tapes[venue].rate(aggressor, now_ns, self.params.tape_tau_s))
    }

    /// Forgets every venue's tape (e.g. a simulation going back in time, or a feed restarted).
    pub fn clear_tapes(&mut self) {
        self.tapes.iter_mut().for_each(|t| *t = Default::default());
    }

    /// The venue where resting `qty` units at the touch for about `horizon_s` seconds, then crossing
    /// what has not filled, is expected to cost least at `now_ns`. Every enabled venue with a
    /// two-sided book and a lot size that fits is scored; every venue is explained. Ties go to the
    /// lower mean latency, then venue order.
    pub fn select_passive(&self, side: Side, qty: u64, horizon_s: f64, now_ns: u64) -> SorResult<PassiveSelection> {
        Self::check_request(qty, None, "quantity")?;
        check_positive("horizon_s", horizon_s)?;
        let reference = self.reference_price(side, None);
        let candidates: Vec<Result<PassiveQuote, String>> = (0..self.venues.len())
            .map(|i| self.passive_quote(i, side, qty, horizon_s, now_ns, reference))
            .collect();
        let best = self.pick_best(qty, &candidates, |q| q.score_bps)?;
        Ok(PassiveSelection { best, candidates })
    }

    fn passive_quote(
        &self,
        i: usize,
        side: Side,
        qty: u64,
        horizon_s: f64,
        now_ns: u64,
        reference: Option<f64>,
    ) -> Result<PassiveQuote, String> {
        self.check_accepts(i, qty)?;
        let v = &self.venues[i];
        let book = self.books[i].as_ref().ok_or_else(|| "no book data".to_string())?;
        let (ours, theirs) = match side {
            Side::Buy => (book.bids().first(), book.asks().first()),
            Side::Sell => (book.asks().first(), book.bids().first()),
        };
        let (Some(ours), Some(theirs)) = (ours, theirs) else {
            let missing = match (ours.is_none(), side) {
                (true, Side::Buy) => "no bid to join",
                (true, Side::Sell) => "no ask to join",
                (false, Side::Buy) => "no ask to price the spread",
                (false, Side::Sell) => "no bid to price the spread",
            };
            return Err(format!("one-sided book: {missing}"));
        };
        let (bid, ask) = match side {
            Side::Buy => (ours.price, theirs.price),
            Side::Sell => (theirs.price, ours.price),
        };
        if ask <= bid {
            // Ladders refuse crossed books; kept so a future book source cannot score one.
            return Err(format!("crossed or locked book: bid {bid} >= ask {ask}"));
        }
        let mid = (bid + ask) / 2.0;
        let half_spread_bps = (ask - bid) / (ask + bid) * 1e4;
        // Volume that fills a resting buy is sold by aggressors, and the other way round.
        let against = match side {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        };
        let rate_against = self.tapes[i].rate(against, now_ns, self.params.tape_tau_s);
        let p = (rate_against * horizon_s / (ours.size as f64 + qty as f64)).min(1.0);
        let params = &self.params;
        let latency_s = self.stats[i].latency_mean_ms / 1000.0;
        let latency_bps = params.latency_risk_weight * params.volatility * latency_s.sqrt() * 1e4;
        let (maker_bps, taker_bps) = (v.maker_fee * 1e4, v.taker_fee * 1e4);
        let at_mid_bps = p * (maker_bps - half_spread_bps) + (1.0 - p) * (taker_bps + half_spread_bps) + latency_bps;
        // A venue that is scored has a two-sided book and is enabled, so the consolidated mid exists.
        let reference_price = reference.unwrap_or(mid);
        let score_bps =
            side.sign() * (mid - reference_price) / reference_price * 1e4 + at_mid_bps * mid / reference_price;
        Ok(PassiveQuote {
            venue: i,
            qty,
            expected_price: ours.price,
            mid,
            reference_price,
            queue_ahead: ours.size,
            rate_against,
            fill_probability: p,
            half_spread_bps,
            fee_bps: p * maker_bps + (1.0 - p) * taker_bps,
            latency_bps,
            score_bps,
        })
    }
}
