//! Venues: their static terms (`VenueSpec`) and what we learn about them from events (`VenueStats`).

use crate::error::{check_non_negative, SorError, SorResult};
use crate::limits::{check_latency, check_price, MAX_LATENCY_MS, MAX_SLIPPAGE_BPS};

/// Fees above this fraction are almost surely a unit mistake (bps given as a fraction).
const MAX_FEE: f64 = 0.1;
/// Largest maker rebate accepted (a negative maker fee), as a fraction.
const MAX_REBATE: f64 = 0.01;

/// Checks `name` as NautilusTrader checks a venue identifier: its `Venue` checks the string in Python
/// (`Condition.valid_string`: not empty, not only whitespace as Python's `str.isspace` sees it, which
/// counts U+001C..U+001F) and then in Rust (`check_valid_string_ascii`: ASCII only, where a failure
/// aborts the process); and without a NUL, which its C-string path would cut the name at.
pub fn check_venue_name(field: &str, name: &str) -> SorResult<()> {
    let python_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    let reason = if name.is_empty() {
        "a venue name must not be empty"
    } else if name.chars().all(python_space) {
        "a venue name must not be only whitespace"
    } else if !name.is_ascii() {
        "a Nautilus venue name must be ASCII"
    } else if name.contains('\0') {
        "a venue name must not contain a NUL character"
    } else {
        return Ok(());
    };
    Err(SorError::invalid(field, format!("{name:?}"), reason))
}

/// A venue's static terms. Quantities are integer units of the router's common size increment.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueSpec {
    pub name: String,
    /// Fee for resting (passive) fills, as a fraction of notional. Negative is a rebate.
    pub maker_fee: f64,
    /// Fee for aggressive fills, as a fraction of notional.
    pub taker_fee: f64,
    /// Expected one-way order latency in milliseconds, used until observations replace it.
    pub latency_ms: f64,
    /// Orders on this venue must be whole multiples of this many units.
    pub lot_size: u64,
    /// Smallest order the venue accepts, in units.
    pub min_qty: u64,
    pub enabled: bool,
}

impl VenueSpec {
    /// A validated venue; every field is checked and named in the error.
    pub fn new(
        name: &str,
        maker_fee: f64,
        taker_fee: f64,
        latency_ms: f64,
        lot_size: u64,
        min_qty: u64,
        enabled: bool,
    ) -> SorResult<Self> {
        check_venue_name("name", name)?;
        if !maker_fee.is_finite() || !(-MAX_REBATE..=MAX_FEE).contains(&maker_fee) {
            return Err(SorError::invalid(
                "maker_fee",
                maker_fee,
                "must be a finite fraction between -0.01 (rebate) and 0.1 (e.g. 0.0002 for 2 bps)",
            ));
        }
        check_non_negative("taker_fee", taker_fee)?;
        if taker_fee > MAX_FEE {
            return Err(SorError::invalid(
                "taker_fee",
                taker_fee,
                "must be a fraction of at most 0.1 (e.g. 0.0004 for 4 bps)",
            ));
        }
        check_latency("latency_ms", latency_ms)?;
        check_lot(lot_size, min_qty)?;
        Ok(VenueSpec {
            name: name.to_string(),
            maker_fee,
            taker_fee,
            latency_ms,
            lot_size,
            min_qty,
            enabled,
        })
    }

    /// The smallest non-zero order this venue takes: the minimum rounded up to whole lots
    /// (`check_lot` guarantees it fits in u64).
    pub fn first_chunk(&self) -> u64 {
        self.min_qty.div_ceil(self.lot_size).max(1) * self.lot_size
    }

    /// Whether `qty` units is an order size this venue accepts.
    pub fn accepts(&self, qty: u64) -> bool {
        qty > 0 && qty % self.lot_size == 0 && qty >= self.min_qty
    }
}

/// The tail estimate is mean + z * sd of the decayed latency distribution: z of a normal's 99th
/// percentile. It is a normal approximation; a venue with rare, very slow acks will show a tail
/// below its true 99th percentile, but it fades at the same rate as the mean.
pub const LATENCY_TAIL_Z: f64 = 2.326;

/// A lot size of at least one unit, and a minimum whole lots can reach within u64 (else no order
/// could ever be valid there).
pub fn check_lot(lot_size: u64, min_qty: u64) -> SorResult<()> {
    if lot_size == 0 {
        return Err(SorError::invalid("lot_size", lot_size, "must be at least 1 unit"));
    }
    if min_qty.div_ceil(lot_size).max(1).checked_mul(lot_size).is_none() {
        return Err(SorError::invalid(
            "min_qty",
            min_qty,
            &format!("no whole number of lots of {lot_size} reaches it within 2**64 units"),
        ));
    }
    Ok(())
}

/// Running, exponentially decayed statistics of one venue, updated from order events.
///
/// Every rate starts at a neutral prior (fills complete, nothing rejected, latency as specified) and
/// each event moves it by `alpha`, so old history fades geometrically.
///
/// Every statistic stays finite: an event outside `limits` (a latency above an hour, a fill more than
/// 100% away from its expected price, a price outside [1e-12, 1e15]) is refused whole, never clamped,
/// so the EWMAs are averages of bounded samples (each kept in its range against rounding, which the
/// property test below found at -10000.000000000002 bps); counters saturate. So anything the statistics hold, `restore` accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueStats {
    pub alpha: f64,
    /// Fraction of ordered quantity that filled, over finished orders.
    pub fill_rate: f64,
    /// Fraction of submissions that were rejected.
    pub reject_rate: f64,
    pub latency_mean_ms: f64,
    /// Tail (about 99th percentile) of latency: see `LATENCY_TAIL_Z`.
    pub latency_tail_ms: f64,
    /// Decayed variance of latency, in ms^2.
    pub latency_var_ms2: f64,
    /// Execution price vs expected price, positive = worse for us, in basis points.
    pub slippage_bps: f64,
    pub orders: u64,
    pub fills: u64,
    pub rejects: u64,
    pub acks: u64,
}

impl VenueStats {
    pub fn new(latency_ms: f64, alpha: f64) -> SorResult<Self> {
        check_latency("latency_ms", latency_ms)?;
        if !alpha.is_finite() || alpha <= 0.0 || alpha > 1.0 {
            return Err(SorError::invalid("ewma_alpha", alpha, "must be in (0, 1]"));
        }
        Ok(VenueStats {
            alpha,
            fill_rate: 1.0,
            reject_rate: 0.0,
            latency_mean_ms: latency_ms,
            latency_tail_ms: latency_ms,
            latency_var_ms2: 0.0,
            slippage_bps: 0.0,
            orders: 0,
            fills: 0,
            rejects: 0,
            acks: 0,
        })
    }

    fn ewma(&self, old: f64, sample: f64) -> f64 {
        old + self.alpha * (sample - old)
    }

    /// An EWMA of a rate, kept in [0, 1] whatever the rounding.
    fn ewma_rate(&self, old: f64, sample: f64) -> f64 {
        self.ewma(old, sample).clamp(0.0, 1.0)
    }

    /// The venue acknowledged an order after `latency_ms`.
    pub fn record_ack(&mut self, latency_ms: f64) -> SorResult<()> {
        check_latency("latency_ms", latency_ms)?;
        self.acks = self.acks.saturating_add(1);
        self.reject_rate = self.ewma_rate(self.reject_rate, 0.0);
        // Exponentially weighted mean and variance (incremental form, Finch 2009).
        let diff = latency_ms - self.latency_mean_ms;
        let incr = self.alpha * diff;
        // Mean and variance of samples in [0, MAX_LATENCY_MS] stay in range; the clamps absorb rounding.
        self.latency_mean_ms = (self.latency_mean_ms + incr).clamp(0.0, MAX_LATENCY_MS);
        self.latency_var_ms2 =
            ((1.0 - self.alpha) * (self.latency_var_ms2 + diff * incr)).clamp(0.0, MAX_LATENCY_MS * MAX_LATENCY_MS);
        self.latency_tail_ms = self.latency_mean_ms + LATENCY_TAIL_Z * self.latency_var_ms2.sqrt();
        Ok(())
    }

    /// The venue rejected an order.
    pub fn record_reject(&mut self) {
        self.rejects = self.rejects.saturating_add(1);
        self.orders = self.orders.saturating_add(1);
        self.reject_rate = self.ewma_rate(self.reject_rate, 1.0);
        self.fill_rate = self.ewma_rate(self.fill_rate, 0.0);
    }

    /// A fill at `fill_price` of an order we expected at `expected_price`; `is_buy` sets the sign.
    /// Refused (nothing learned) if a price is outside [1e-12, 1e15] or the two are more than
    /// `MAX_SLIPPAGE_BPS` apart: a fill at over twice the expected price is a unit mistake.
    pub fn record_fill(&mut self, expected_price: f64, fill_price: f64, is_buy: bool) -> SorResult<()> {
        check_price("expected_price", expected_price)?;
        check_price("fill_price", fill_price)?;
        let signed = if is_buy {
            fill_price - expected_price
        } else {
            expected_price - fill_price
        };
        let slippage_bps = signed / expected_price * 1e4;
        if slippage_bps.abs() > MAX_SLIPPAGE_BPS {
            return Err(SorError::invalid(
                "fill_price",
                fill_price,
                &format!(
                    "is {slippage_bps:.0} bps from expected_price {expected_price}; more than 10000 bps apart means the prices are in different units"
                ),
            ));
        }
        self.fills = self.fills.saturating_add(1);
        // An average of samples within the bound is within it; the clamp only absorbs rounding.
        self.slippage_bps = self
            .ewma(self.slippage_bps, slippage_bps)
            .clamp(-MAX_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS);
        Ok(())
    }

    /// An order reached a terminal state (filled, cancelled, expired) having filled `filled` of `ordered`.
    pub fn record_order_done(&mut self, filled: u64, ordered: u64) -> SorResult<()> {
        if ordered == 0 {
            return Err(SorError::invalid("ordered", ordered, "must be greater than zero"));
        }
        if filled > ordered {
            return Err(SorError::invalid(
                "filled",
                filled,
                "cannot exceed the ordered quantity",
            ));
        }
        self.orders = self.orders.saturating_add(1);
        self.fill_rate = self.ewma_rate(self.fill_rate, filled as f64 / ordered as f64);
        Ok(())
    }

    /// Sets the learned state back to a saved one (an algorithm or router restarted in a live node).
    /// Checked as a whole before anything changes: rates in [0, 1], latency mean in [0, one hour] and
    /// variance in [0, one hour squared], slippage within +-10000 bps: the ranges learning stays in,
    /// so whatever was saved is accepted. The tail is derived, as after `record_ack`.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        &mut self,
        fill_rate: f64,
        reject_rate: f64,
        latency_mean_ms: f64,
        latency_var_ms2: f64,
        slippage_bps: f64,
        counts: [u64; 4],
    ) -> SorResult<()> {
        for (field, rate) in [("fill_rate", fill_rate), ("reject_rate", reject_rate)] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SorError::invalid(field, rate, "must be in [0, 1]"));
            }
        }
        check_latency("latency_mean_ms", latency_mean_ms)?;
        crate::limits::check_range("latency_var_ms2", latency_var_ms2, 0.0, MAX_LATENCY_MS * MAX_LATENCY_MS)?;
        crate::limits::check_range("slippage_bps", slippage_bps, -MAX_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS)?;
        let [orders, fills, rejects, acks] = counts;
        self.fill_rate = fill_rate;
        self.reject_rate = reject_rate;
        self.latency_mean_ms = latency_mean_ms;
        self.latency_var_ms2 = latency_var_ms2;
        self.latency_tail_ms = latency_mean_ms + LATENCY_TAIL_Z * latency_var_ms2.sqrt();
        self.slippage_bps = slippage_bps;
        (self.orders, self.fills, self.rejects, self.acks) = (orders, fills, rejects, acks);
        Ok(())
    }

    /// Probability an order sent here is accepted and fills, the basis of the miss penalty.
    pub fn completion_probability(&self) -> f64 {
        (self.fill_rate * (1.0 - self.reject_rate)).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VenueSpec {
        VenueSpec::new("A", 0.0002, 0.0004, 50.0, 1, 0, true).unwrap()
    }

    #[test]
    fn restore_puts_learned_state_back_exactly_or_changes_nothing() {
        let mut learned = VenueStats::new(50.0, 0.1).unwrap();
        learned.record_ack(80.0).unwrap();
        learned.record_ack(20.0).unwrap();
        learned.record_reject();
        learned.record_fill(100.0, 100.5, true).unwrap();
        learned.record_order_done(3, 4).unwrap();
        let mut fresh = VenueStats::new(50.0, 0.1).unwrap();
        let counts = [learned.orders, learned.fills, learned.rejects, learned.acks];
        let (f, r, m, v, sl) = (
            learned.fill_rate,
            learned.reject_rate,
            learned.latency_mean_ms,
            learned.latency_var_ms2,
            learned.slippage_bps,
        );
        fresh.restore(f, r, m, v, sl, counts).unwrap();
        assert_eq!(fresh, learned);
        // A bad field is refused whole: nothing changes.
        let before = fresh.clone();
        let err = fresh.restore(0.5, 1.5, 10.0, 1.0, 0.0, counts).unwrap_err();
        assert_eq!(err.field(), "reject_rate");
        assert!(fresh.restore(0.5, 0.0, 10.0, f64::NAN, 0.0, counts).is_err());
        assert!(fresh.restore(0.5, 0.0, 10.0, 1.0, f64::INFINITY, counts).is_err());
        assert_eq!(fresh, before);
    }

    #[derive(Debug, Clone)]
    enum Event {
        Ack(f64),
        Reject,
        Fill(f64, f64, bool),
        Done(u64, u64),
    }

    /// Events at the edges of what is accepted (and beyond: those are refused and change nothing).
    fn event() -> impl Strategy<Value = Event> {
        let price = prop_oneof![
            Just(crate::limits::MIN_PRICE),
            Just(crate::limits::MAX_PRICE),
            Just(1e-300),
            Just(1e300),
            Just(f64::NAN),
            1e-12f64..1e15,
        ];
        let latency = prop_oneof![Just(0.0), Just(MAX_LATENCY_MS), Just(1e200), Just(-1.0), 0.0f64..1e7];
        prop_oneof![
            latency.prop_map(Event::Ack),
            Just(Event::Reject),
            (price.clone(), price, any::<bool>()).prop_map(|(e, f, b)| Event::Fill(e, f, b)),
            (0u64..4, 0u64..4).prop_map(|(f, o)| Event::Done(f, o)),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        /// Whatever events arrive, every statistic stays finite and in range, a refused event changes
        /// nothing, and the state restores exactly into a fresh venue.
        #[test]
        fn learning_stays_finite_and_restorable(
            alpha in prop_oneof![Just(1.0), Just(1e-300), 1e-6f64..1.0],
            events in proptest::collection::vec(event(), 0..60),
        ) {
            let mut s = VenueStats::new(MAX_LATENCY_MS, alpha).unwrap();
            for e in events {
                let before = s.clone();
                let result = match e {
                    Event::Ack(l) => s.record_ack(l),
                    Event::Reject => {
                        s.record_reject();
                        Ok(())
                    }
                    Event::Fill(e, f, b) => s.record_fill(e, f, b),
                    Event::Done(f, o) => s.record_order_done(f, o),
                };
                if result.is_err() {
                    prop_assert_eq!(&s, &before);
                }
                for v in [s.fill_rate, s.reject_rate, s.latency_mean_ms, s.latency_tail_ms, s.latency_var_ms2, s.slippage_bps] {
                    prop_assert!(v.is_finite(), "{:?}", s);
                }
            }
            let mut fresh = VenueStats::new(1.0, alpha).unwrap();
            fresh
                .restore(s.fill_rate, s.reject_rate, s.latency_mean_ms, s.latency_var_ms2, s.slippage_bps, [s.orders, s.fills, s.rejects, s.acks])
                .unwrap();
            prop_assert_eq!(fresh, s);
        }
    }

    #[test]
    fn poisoning_inputs_are_refused_and_counters_saturate() {
        let mut s = VenueStats::new(50.0, 0.05).unwrap();
        assert_eq!(
            s.record_fill(1e-300, 1e300, true).unwrap_err().field(),
            "expected_price"
        );
        assert_eq!(s.record_fill(100.0, 1e9, true).unwrap_err().field(), "fill_price");
        assert_eq!(s.record_ack(1e200).unwrap_err().field(), "latency_ms");
        assert_eq!(s, VenueStats::new(50.0, 0.05).unwrap());
        s.restore(1.0, 0.0, 50.0, 0.0, 0.0, [u64::MAX; 4]).unwrap();
        s.record_ack(1.0).unwrap();
        s.record_reject();
        s.record_fill(1.0, 1.0, true).unwrap();
        s.record_order_done(1, 1).unwrap();
        assert_eq!([s.orders, s.fills, s.rejects, s.acks], [u64::MAX; 4]);
    }

    #[test]
    fn venue_names_refuse_what_nautilus_refuses() {
        // Non-ASCII (zero-width space, BOM) and NUL are refused; Nautilus accepts other ASCII.
        for bad in ["A\u{200B}", "\u{0}", "A\u{0}B", "\u{FEFF}A", "", "  "] {
            assert_eq!(
                VenueSpec::new(bad, 0.0, 0.0, 1.0, 1, 0, true).unwrap_err().field(),
                "name",
                "{bad:?}"
            );
        }
        assert!(VenueSpec::new("BINANCE-FUTURES", 0.0, 0.0, 1.0, 1, 0, true).is_ok());
        assert!(VenueSpec::new("A", 0.0, 0.0, 1e200, 1, 0, true).is_err());
    }

    #[test]
    fn first_chunk_rounds_minimum_up_to_lots() {
        let v = VenueSpec::new("A", 0.0, 0.0, 1.0, 10, 25, true).unwrap();
        assert_eq!(v.first_chunk(), 30);
        assert!(v.accepts(30));
        assert!(!v.accepts(20));
        assert!(!v.accepts(35));
        assert_eq!(spec().first_chunk(), 1);
    }

    #[test]
    fn bad_specs_name_the_field() {
        let cases = [
            (VenueSpec::new("", 0.0, 0.0, 1.0, 1, 0, true), "name"),
            (VenueSpec::new("A", f64::NAN, 0.0, 1.0, 1, 0, true), "maker_fee"),
            (VenueSpec::new("A", -0.5, 0.0, 1.0, 1, 0, true), "maker_fee"),
            (VenueSpec::new("A", 0.0, -0.0001, 1.0, 1, 0, true), "taker_fee"),
            (VenueSpec::new("A", 0.0, 4.0, 1.0, 1, 0, true), "taker_fee"),
            (VenueSpec::new("A", 0.0, 0.0, -1.0, 1, 0, true), "latency_ms"),
            (VenueSpec::new("A", 0.0, 0.0, f64::INFINITY, 1, 0, true), "latency_ms"),
            (VenueSpec::new("A", 0.0, 0.0, 1.0, 0, 0, true), "lot_size"),
            // The fuzzer's case: the minimum rounded up to lots overflows u64.
            (
                VenueSpec::new("A", 0.0, 0.0, 1.0, u64::MAX / 3 * 2, u64::MAX / 3 * 2 + 1, true),
                "min_qty",
            ),
        ];
        for (result, field) in cases {
            assert_eq!(result.unwrap_err().field(), field);
        }
    }

    #[test]
    fn venue_names_follow_nautilus() {
        for good in ["BINANCE", "BINANCE-FUTURES", "bin ance", "A.B", "X_1", "a\tb"] {
            assert!(check_venue_name("name", good).is_ok(), "{good:?}");
        }
        for bad in ["", "   ", "\t", "\u{1f}", "B\u{d6}RSE", "\u{e9}", "A\0B"] {
            let err = VenueSpec::new(bad, 0.0, 0.0, 1.0, 1, 0, true).unwrap_err();
            assert_eq!(err.field(), "name");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn rebate_is_accepted() {
        assert!(VenueSpec::new("A", -0.0001, 0.0003, 1.0, 1, 0, true).is_ok());
    }

    #[test]
    fn ewma_fades_old_history() {
        let mut s = VenueStats::new(50.0, 0.5).unwrap();
        s.record_reject();
        assert_eq!(s.reject_rate, 0.5);
        assert_eq!(s.fill_rate, 0.5);
        s.record_ack(50.0).unwrap();
        s.record_ack(50.0).unwrap();
        assert_eq!(s.reject_rate, 0.125);
        s.record_order_done(1, 1).unwrap();
        assert_eq!(s.fill_rate, 0.75);
        assert!((s.completion_probability() - 0.75 * 0.875).abs() < 1e-15);
    }

    #[test]
    fn slippage_is_signed_by_side() {
        let mut s = VenueStats::new(1.0, 1.0).unwrap();
        s.record_fill(100.0, 100.1, true).unwrap();
        assert!((s.slippage_bps - 10.0).abs() < 1e-9);
        s.record_fill(100.0, 100.1, false).unwrap();
        assert!((s.slippage_bps + 10.0).abs() < 1e-9);
        assert_eq!(
            s.record_fill(f64::NAN, 1.0, true).unwrap_err().field(),
            "expected_price"
        );
    }

    #[test]
    fn latency_tail_sits_above_mean_and_tracks_a_slow_venue() {
        let mut s = VenueStats::new(10.0, 0.05).unwrap();
        for i in 0..2000 {
            // 98% at 10 ms, every 50th at 100 ms
            let x = if i % 50 == 0 { 100.0 } else { 10.0 };
            s.record_ack(x).unwrap();
        }
        assert!(
            s.latency_mean_ms > 10.0 && s.latency_mean_ms < 20.0,
            "{}",
            s.latency_mean_ms
        );
        // The slow acks widen the decayed distribution: the tail sits well above the mean.
        assert!(
            s.latency_tail_ms > s.latency_mean_ms + 10.0 && s.latency_tail_ms < 100.0,
            "{:?}",
            s
        );
        // The venue becomes uniformly fast: the tail fades back toward 10 ms.
        for _ in 0..2000 {
            s.record_ack(10.0).unwrap();
        }
        assert!(s.latency_tail_ms < 10.5, "{:?}", s);
    }

    #[test]
    fn order_done_checks_quantities() {
        let mut s = VenueStats::new(1.0, 0.1).unwrap();
        assert_eq!(s.record_order_done(1, 0).unwrap_err().field(), "ordered");
        assert_eq!(s.record_order_done(2, 1).unwrap_err().field(), "filled");
        assert_eq!(s.orders, 0);
    }
}
