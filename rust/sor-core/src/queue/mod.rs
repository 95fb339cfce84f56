//! Queue position of one resting order of ours at one price level, estimated from market-by-price
//! (L2) data and the trade tape. One implementation, used by `evaluate`'s simulator and by the
//! Nautilus fill model.
//!
//! The rules follow hftbacktest's queue models (`backtest/models/queue.rs`):
//!
//! - On arrival we join the back: the queue ahead of us is the displayed size at our price (the
//!   recorded book never contains our order, so that size is everyone else's).
//! - A trade at our price against our side first eats the queue ahead; only the volume beyond it can
//!   fill us. A trade through our price (a seller below our bid) fills us up to its size.
//! - A decrease of the displayed size that the trades since the last book update do not explain is
//!   cancels. `RiskAverse` (hftbacktest's `RiskAdverseQueueModel`): cancels are behind us. `Prob`
//!   (hftbacktest's `ProbQueueModel`): a cancel is behind us with probability
//!   `p = f(back) / (f(back) + f(front))`, `f` a power (`x^n`) or log (`ln(1 + x)`) function, and
//!   the queue ahead becomes `front - (1 - p) * chg + min(back - p * chg, 0)`.
//! - An increase joins behind us; the queue ahead never exceeds the displayed size.
//!
//! One deliberate difference: hftbacktest lets the queue ahead go negative (a trade beyond it, or
//! a cancel estimate larger than the queue) and reads a fill from it at the next trade, capped by
//! that trade's size; we stop at zero and fill from the trade's volume beyond the queue. While
//! hftbacktest's queue is not negative the two agree on every fill (a property test checks it;
//! `RiskAverse` agrees always). Once it is negative, hftbacktest's `ProbQueueModel` feeds it into
//! `f`, where `p` leaves [0, 1] and a later cancel can push the order back into the queue; ours
//! stays at the front. Ours never fills from a depth change alone.

use crate::book::Side;
use crate::error::{check_non_negative, check_positive, SorError, SorResult};

#[cfg(test)]
mod tests;

/// The largest power `n` accepted for `f(x) = x^n`: beyond it `x^n` overflows for ordinary sizes
/// and the model is indistinguishable from `RiskAverse`.
pub const MAX_QUEUE_POWER: f64 = 10.0;

/// The names `QueueModel::from_name` accepts.
pub const QUEUE_MODEL_NAMES: [&str; 4] = ["risk_averse", "prob_linear", "prob_power", "prob_log"];

/// How a cancel at our price is placed relative to our order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QueueModel {
    /// Cancels are always behind us: the queue ahead shrinks only by trades (and the level's size).
    RiskAverse,
    /// Cancels are behind us with probability `f(back) / (f(back) + f(front))`.
    Prob(ProbFunc),
}

/// The `f` of `ProbQueueModel`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProbFunc {
    /// `f(x) = x^n` (hftbacktest's `PowerProbQueueFunc`); `n = 1` spreads cancels proportionally.
    Power(f64),
    /// `f(x) = ln(1 + x)` (hftbacktest's `LogProbQueueFunc`).
    Log,
}

impl ProbFunc {
    fn f(self, x: f64) -> f64 {
        match self {
            ProbFunc::Power(n) => x.powf(n),
            ProbFunc::Log => x.ln_1p(),
        }
    }

    /// Probability that a cancel is behind us, given the size in front of and behind us. An
    /// undefined ratio (both sides empty) counts as behind, as in hftbacktest.
    pub fn prob_behind(self, front: f64, back: f64) -> f64 {
        let fb = self.f(back);
        let p = fb / (fb + self.f(front));
        if p.is_finite() {
            p
        } else {
            1.0
        }
    }
}

impl QueueModel {
    /// A model by name: `risk_averse`, `prob_linear` (power 1), `prob_power` (power `power`) or
    /// `prob_log`. `power` is only read by `prob_power` and must lie in (0, MAX_QUEUE_POWER].
    pub fn from_name(name: &str, power: f64) -> SorResult<Self> {
        match name {
            "risk_averse" => Ok(QueueModel::RiskAverse),
            "prob_linear" => Ok(QueueModel::Prob(ProbFunc::Power(1.0))),
            "prob_power" => {
                check_positive("queue_power", power)?;
                if power > MAX_QUEUE_POWER {
                    return Err(SorError::invalid(
                        "queue_power",
                        power,
                        &format!("must be at most {MAX_QUEUE_POWER}"),
                    ));
                }
                Ok(QueueModel::Prob(ProbFunc::Power(power)))
            }
            "prob_log" => Ok(QueueModel::Prob(ProbFunc::Log)),
            _ => Err(SorError::invalid(
                "queue_model",
                format!("{name:?}"),
                &format!("must be one of {}", QUEUE_MODEL_NAMES.join(", ")),
            )),
        }
    }
}

/// Size ahead of our order at its level, and the traded volume not yet seen in a book update.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePosition {
    model: QueueModel,
    ahead: f64,
    traded_since_update: f64,
}

impl QueuePosition {
    /// Our order arrives at a level showing `displayed` (others' size): we are behind all of it.
    pub fn join(model: QueueModel, displayed: f64) -> SorResult<Self> {
        check_non_negative("displayed", displayed)?;
        Ok(Self {
            model,
            ahead: displayed,
            traded_since_update: 0.0,
        })
    }

    /// The estimated size ahead of us.
    pub fn ahead(&self) -> f64 {
        self.ahead
    }

    pub fn model(&self) -> QueueModel {
        self.model
    }

    /// A trade of `qty` at our price against our side. Returns the volume left after the queue
    /// ahead: what could fill us.
    pub fn on_trade(&mut self, qty: f64) -> SorResult<f64> {
        check_non_negative("trade_qty", qty)?;
        let eaten = self.ahead.min(qty);
        self.ahead -= eaten;
        self.traded_since_update += qty;
        Ok(qty - eaten)
    }

    /// The displayed size at our price changed from `prev_qty` to `new_qty` (others' orders).
    pub fn on_depth(&mut self, prev_qty: f64, new_qty: f64) -> SorResult<()> {
        check_non_negative("prev_qty", prev_qty)?;
        check_non_negative("new_qty", new_qty)?;
        // The part of the decrease that the trades since the last update do not explain: cancels.
        let chg = prev_qty - new_qty - self.traded_since_update;
        self.traded_since_update = 0.0;
        let estimate = match self.model {
            QueueModel::Prob(func) if chg > 0.0 => {
                let front = self.ahead;
                let back = (prev_qty - front).max(0.0);
                let p = func.prob_behind(front, back);
                front - (1.0 - p) * chg + (back - p * chg).min(0.0)
            }
            _ => self.ahead,
        };
        self.ahead = estimate.min(new_qty).max(0.0);
        Ok(())
    }
}

/// One resting limit order of ours and its queue: what each trade fills, in whole lots.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedOrder {
    side: Side,
    price_tick: i64,
    lot_size: f64,
    leaves: f64,
    queue: QueuePosition,
}

impl QueuedOrder {
    /// A limit order for `qty` units at `price_tick` (the price in ticks of the venue), joining a
    /// level that displays `displayed` units. Fills are whole multiples of `lot_size`.
    pub fn new(
        model: QueueModel,
        side: Side,
        price_tick: i64,
        qty: f64,
        displayed: f64,
        lot_size: f64,
    ) -> SorResult<Self> {
        check_non_negative("qty", qty)?;
        check_positive("lot_size", lot_size)?;
        Ok(Self {
            side,
            price_tick,
            lot_size,
            leaves: qty,
            queue: QueuePosition::join(model, displayed)?,
        })
    }

    pub fn side(&self) -> Side {
        self.side
    }

    pub fn price_tick(&self) -> i64 {
        self.price_tick
    }

    /// Units still resting.
    pub fn leaves(&self) -> f64 {
        self.leaves
    }

    /// Estimated units ahead of us at our price.
    pub fn ahead(&self) -> f64 {
        self.queue.ahead()
    }

    /// A tape trade of `qty` units at `price_tick` whose aggressor was `aggressor`; `available` is
    /// the part of it not already used to fill our other orders. Returns the units that fill us
    /// (whole lots, at most `leaves` and `available`), and takes them off `leaves`.
    pub fn on_trade(&mut self, aggressor: Side, price_tick: i64, qty: f64, available: f64) -> SorResult<f64> {
        check_non_negative("trade_qty", qty)?;
        check_non_negative("available", available)?;
        if aggressor == self.side {
            return Ok(0.0); // a buyer lifting the ask does not trade with our bid
        }
        // How far the trade is through our price, in our favour's direction: > 0 through, 0 at it.
        let through = match self.side {
            Side::Buy => self.price_tick - price_tick,
            Side::Sell => price_tick - self.price_tick,
        };
        let fillable = match through.cmp(&0) {
            std::cmp::Ordering::Less => return Ok(0.0),
            std::cmp::Ordering::Greater => available,
            std::cmp::Ordering::Equal => self.queue.on_trade(qty)?.min(available),
        };
        let fill = self.whole_lots(fillable).min(self.leaves);
        self.leaves -= fill;
        if self.leaves < self.lot_size * 1e-9 {
            self.leaves = 0.0; // what is left is float dust, not a lot
        }
        Ok(fill)
    }

    /// The displayed size at our price changed from `prev_qty` to `new_qty`.
    pub fn on_depth(&mut self, prev_qty: f64, new_qty: f64) -> SorResult<()> {
        self.queue.on_depth(prev_qty, new_qty)
    }

    fn whole_lots(&self, size: f64) -> f64 {
        // The epsilon keeps 0.3 / 0.1 = 2.9999999999999996 from losing a lot.
        (size / self.lot_size + 1e-9).floor() * self.lot_size
    }
}
