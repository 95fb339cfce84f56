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

use std::collections::HashMap;

use crate::book::Side;
use crate::error::{SorError, SorResult};

/// Index of a venue registered in a [`PositionBook`].
pub type VenueId = u32;
/// Index of an instrument registered in a [`PositionBook`].
pub type InstrumentId = u32;
/// Identifier of a position, assigned by the book (dense, from 0).
pub type PositionId = u64;

/// Nautilus's fixed-point precision (high-precision build): `Quantity.raw = value * 10^16`.
pub const FIXED_PRECISION: u8 = 16;
const FIXED_SCALAR: f64 = 1e16;
/// Largest fill, in units: quantities up to 2^53 - 1 convert to floats exactly.
pub const MAX_FILL_UNITS: u64 = (1 << 53) - 1;
/// Largest price (and absolute commission) accepted: `limits::MAX_PRICE`.
pub use crate::limits::MAX_PRICE;
/// Largest amount of money (PnL, commissions) the book holds: a `Money` is read back through
/// Nautilus's fixed point (`value * 1e16` in an i128), which saturates near 1.7e22. A fill that could
/// take a position's or a pair's money beyond it is refused, not saturated.
pub const MAX_MONEY: f64 = 1e22;
/// Most venues, instruments or underlyings one book registers.
const MAX_REGISTERED: usize = 1 << 20;

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

/// What the book needs to know of an instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentSpec {
    pub name: String,
    /// What the instrument exposes the holder to (e.g. "BTC" for BTCUSDT on any venue).
    pub underlying: String,
    /// Quantities are integer units of `10^-size_precision`.
    pub size_precision: u8,
    /// Contract multiplier: PnL and exposure per unit of quantity and price.
    pub multiplier: f64,
    /// Settlement currency precision: PnL and commissions are rounded to it as Nautilus's `Money`
    /// rounds them. None keeps full floats.
    pub currency_precision: Option<u8>,
}

impl InstrumentSpec {
    /// A validated instrument; every field is checked and named in the error.
    pub fn new(
        name: &str,
        underlying: &str,
        size_precision: u8,
        multiplier: f64,
        currency_precision: Option<u8>,
    ) -> SorResult<Self> {
        if name.trim().is_empty() {
            return Err(SorError::invalid(
                "name",
                format!("{name:?}"),
                "instrument name must not be empty",
            ));
        }
        if underlying.trim().is_empty() {
            return Err(SorError::invalid(
                "underlying",
                format!("{underlying:?}"),
                "underlying must not be empty",
            ));
        }
        if size_precision > FIXED_PRECISION {
            return Err(SorError::invalid(
                "size_precision",
                size_precision,
                "must be at most 16",
            ));
        }
        if !multiplier.is_finite() || multiplier <= 0.0 || multiplier > MAX_PRICE {
            return Err(SorError::invalid(
                "multiplier",
                multiplier,
                "must be a finite number in (0, 1e15]",
            ));
        }
        if let Some(p) = currency_precision {
            if p > FIXED_PRECISION {
                return Err(SorError::invalid("currency_precision", p, "must be at most 16"));
            }
        }
        Ok(InstrumentSpec {
            name: name.to_string(),
            underlying: underlying.to_string(),
            size_precision,
            multiplier,
            currency_precision,
        })
    }
}

/// Integer units of `10^-precision` read back as Nautilus reads its fixed-point values:
/// `(units * 10^k) as f64 / 1e16` with `k = 16 - precision`. The product is formed as
/// `(units * 5^k) as f64 * 2^k` when that fits a u64 (scaling by a power of two is exact, so the
/// result is bit-identical) and as a u128 otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fixed {
    five_k: u64,
    two_k: f64,
    ten_k: u128,
}

impl Fixed {
    fn new(precision: u8) -> Self {
        let k = u32::from(FIXED_PRECISION - precision);
        Fixed {
            five_k: 5u64.pow(k),
            two_k: 2f64.powi(k as i32),
            ten_k: 10u128.pow(k),
        }
    }

    fn read(&self, units: u128) -> f64 {
        if let Ok(u) = u64::try_from(units) {
            if let Some(m) = u.checked_mul(self.five_k) {
                return m as f64 * self.two_k / FIXED_SCALAR;
            }
        }
        u128_to_f64(units.saturating_mul(self.ten_k)) / FIXED_SCALAR
    }

    fn read_signed(&self, units: i128) -> f64 {
        let v = self.read(units.unsigned_abs());
        if units < 0 {
            -v
        } else {
            v
        }
    }
}

/// Money rounding of a currency precision, as Nautilus's `Money(value, currency)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MoneyScale {
    /// 10^precision as a float.
    pow1: f64,
    fixed: Fixed,
}

/// Below this magnitude a float's integer part is exact in an i64 and its fraction exact.
const EXACT_INT: f64 = 9_007_199_254_740_992.0; // 2^53

impl MoneyScale {
    fn new(precision: u8) -> Self {
        MoneyScale {
            pow1: 10f64.powi(i32::from(precision)),
            fixed: Fixed::new(precision),
        }
    }

    /// Whole currency units (10^-precision) of `value`, rounded half away from zero as
    /// `f64::round` (computed without a libm call in the usual range).
    fn units(&self, value: f64) -> i128 {
        let x = value * self.pow1;
        if x.abs() < EXACT_INT {
            let t = x as i64;
            let frac = x - t as f64;
            let r = if frac >= 0.5 {
                t + 1
            } else if frac <= -0.5 {
                t - 1
            } else {
                t
            };
            return i128::from(r);
        }
        x.round() as i128
    }

    /// The float Nautilus reads back from a `Money` of `units`.
    fn amount(&self, units: i128) -> f64 {
        self.fixed.read_signed(units)
    }

    fn round(&self, value: f64) -> f64 {
        self.amount(self.units(value))
    }
}

fn i128_to_f64(x: i128) -> f64 {
    match i64::try_from(x) {
        Ok(small) => small as f64,
        Err(_) => x as f64,
    }
}

fn u128_to_f64(x: u128) -> f64 {
    match u64::try_from(x) {
        Ok(small) => small as f64,
        Err(_) => x as f64,
    }
}

/// Per-instrument constants of the hot path.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scales {
    /// Units to Nautilus `Quantity.as_f64()`.
    quantity: Fixed,
    /// 10^size_precision as a float.
    units_per_qty: f64,
    multiplier: f64,
    money: Option<MoneyScale>,
}

impl Scales {
    fn new(spec: &InstrumentSpec) -> Self {
        Scales {
            quantity: Fixed::new(spec.size_precision),
            units_per_qty: 10f64.powi(i32::from(spec.size_precision)),
            multiplier: spec.multiplier,
            money: spec.currency_precision.map(MoneyScale::new),
        }
    }

    /// `Quantity.as_f64()` of `units`.
    fn qty(&self, units: u128) -> f64 {
        self.quantity.read(units)
    }

    /// Nautilus's `round(signed_qty, size_precision)`: the double nearest the decimal.
    fn signed(&self, units: i128) -> f64 {
        i128_to_f64(units) / self.units_per_qty
    }

    fn money(&self, value: f64) -> f64 {
        match self.money {
            Some(m) => m.round(value),
            None => value,
        }
    }
}

/// One fill to book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    pub venue: VenueId,
    pub instrument: InstrumentId,
    pub side: Side,
    /// Filled quantity in units of the instrument's size increment.
    pub quantity: u64,
    pub price: f64,
    /// Commission in the settlement currency (negative is a rebate).
    pub commission: f64,
    /// HEDGING: the position this fill extends or reduces; None opens a new one.
    /// NETTING: None, or the id of the (venue, instrument)'s net position.
    pub position_id: Option<PositionId>,
}

/// What booking one fill did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillResult {
    /// The position the fill was booked to (for a flip, the one it closed).
    pub position_id: PositionId,
    /// The fill went through zero: the position now holding the excess (the same id under
    /// NETTING, a new position under HEDGING).
    pub flipped_to: Option<PositionId>,
    /// The position the fill was booked to is now flat (also true for a flip).
    pub closed: bool,
    /// Change of realised PnL (commission included) over the positions this fill touched.
    pub realized_pnl: f64,
}

impl FillResult {
    /// Where the fill's remaining quantity sits: `flipped_to`, else `position_id`.
    pub fn resulting_id(&self) -> PositionId {
        self.flipped_to.unwrap_or(self.position_id)
    }
}

/// One position (for NETTING, its current cycle), with Nautilus `Position`'s fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub id: PositionId,
    pub venue: VenueId,
    pub instrument: InstrumentId,
    pub oms_type: OmsType,
    /// Signed quantity in units: positive long, negative short.
    pub signed_units: i128,
    /// Largest quantity held in this cycle, in units.
    pub peak_units: u128,
    /// Quantity bought / sold in this cycle, in units.
    pub buy_units: u128,
    pub sell_units: u128,
    pub avg_px_open: f64,
    /// Average price of the closing fills of this cycle (0 before the first).
    pub avg_px_close: f64,
    /// Realised PnL of this cycle, commissions subtracted, in the settlement currency.
    pub realized_pnl: f64,
    /// Return of the closed part: (close - open) / open, signed by side.
    pub realized_return: f64,
    /// Commissions of this cycle.
    pub commissions: f64,
    /// Fills applied in this cycle.
    pub event_count: u64,
    /// NETTING: realised PnL of the earlier, closed cycles of this position id.
    pub prior_realized_pnl: f64,
    /// NETTING: how many earlier cycles were closed and reopened.
    pub closed_cycles: u64,
    /// Index in its pair's list of open positions; `NOT_OPEN` when flat.
    pub(crate) open_index: u32,
}

const NOT_OPEN: u32 = u32::MAX;

impl Position {
    fn new(id: PositionId, venue: VenueId, instrument: InstrumentId, oms_type: OmsType) -> Self {
        Position {
            id,
            venue,
            instrument,
            oms_type,
            signed_units: 0,
            peak_units: 0,
            buy_units: 0,
            sell_units: 0,
            avg_px_open: 0.0,
            avg_px_close: 0.0,
            realized_pnl: 0.0,
            realized_return: 0.0,
            commissions: 0.0,
            event_count: 0,
            prior_realized_pnl: 0.0,
            closed_cycles: 0,
            open_index: NOT_OPEN,
        }
    }

    pub fn side(&self) -> PositionSide {
        match self.signed_units {
            0 => PositionSide::Flat,
            s if s > 0 => PositionSide::Long,
            _ => PositionSide::Short,
        }
    }

    /// Absolute quantity in units.
    pub fn quantity_units(&self) -> u128 {
        self.signed_units.unsigned_abs()
    }

    pub fn is_open(&self) -> bool {
        self.signed_units != 0
    }

    /// Realised PnL of every cycle of this position id.
    pub fn total_realized_pnl(&self) -> f64 {
        self.prior_realized_pnl + self.realized_pnl
    }

    /// The signed quantity as a float (Nautilus `signed_qty`), given the instrument's terms.
    pub fn signed_qty(&self, spec: &InstrumentSpec) -> f64 {
        Scales::new(spec).signed(self.signed_units)
    }

    /// Unrealised PnL at `mark` given the instrument's terms (0 when flat), as Nautilus's
    /// `Position.unrealized_pnl`.
    pub fn unrealized_pnl(&self, spec: &InstrumentSpec, mark: f64) -> SorResult<f64> {
        PositionBook::check_mark(mark)?;
        Ok(self.unrealized(&Scales::new(spec), mark))
    }

    /// Nautilus `_calculate_points` with the current side.
    fn points(&self, open: f64, close: f64) -> f64 {
        match self.side() {
            PositionSide::Long => close - open,
            PositionSide::Short => open - close,
            PositionSide::Flat => 0.0,
        }
    }

    /// Nautilus `_calculate_pnl`: only the open quantity books PnL.
    fn pnl(&self, s: &Scales, open: f64, close: f64, qty: f64) -> f64 {
        let qty = qty.min(s.signed(self.signed_units).abs());
        qty * s.multiplier * self.points(open, close)
    }

    fn unrealized(&self, s: &Scales, mark: f64) -> f64 {
        if !self.is_open() {
            return 0.0;
        }
        s.money(self.pnl(s, self.avg_px_open, mark, s.qty(self.quantity_units())))
    }

    /// Nautilus `Position.apply` of one (non-flipping) fill; returns the realised PnL change.
    fn apply(&mut self, s: &Scales, side: Side, units: u64, price: f64, commission: f64) -> f64 {
        if !self.is_open() {
            // A flat position reopens: Nautilus resets it; the closed cycle's PnL is kept aside.
            if self.event_count > 0 {
                self.prior_realized_pnl += self.realized_pnl;
                self.closed_cycles += 1;
            }
            self.buy_units = 0;
            self.sell_units = 0;
            self.peak_units = 0;
            self.avg_px_open = price;
            self.avg_px_close = 0.0;
            self.realized_return = 0.0;
            self.realized_pnl = 0.0;
            self.commissions = 0.0;
            self.event_count = 0;
        }
        let before = self.realized_pnl;
        self.event_count += 1;
        self.commissions = s.money(self.commissions + commission);
        let mut pnl = -commission;
        let last_qty = s.qty(u128::from(units));
        let quantity = s.qty(self.quantity_units());
        let (opening, closing_units) = match side {
            Side::Buy => (self.signed_units > 0, self.buy_units),
            Side::Sell => (self.signed_units < 0, self.sell_units),
        };
        if opening {
            self.avg_px_open = avg_px(quantity, self.avg_px_open, price, last_qty);
        } else if self.signed_units != 0 {
            self.avg_px_close = if self.avg_px_close == 0.0 {
                price
            } else {
                avg_px(s.qty(closing_units), self.avg_px_close, price, last_qty)
            };
            self.realized_return = if self.avg_px_open == 0.0 {
                0.0
            } else {
                self.points(self.avg_px_open, self.avg_px_close) / self.avg_px_open
            };
            pnl += self.pnl(s, self.avg_px_open, price, last_qty);
        }
        self.realized_pnl = s.money(self.realized_pnl + pnl);
        match side {
            Side::Buy => {
                self.buy_units += u128::from(units);
                self.signed_units += i128::from(units);
            }
            Side::Sell => {
                self.sell_units += u128::from(units);
                self.signed_units -= i128::from(units);
            }
        }
        self.peak_units = self.peak_units.max(self.quantity_units());
        self.realized_pnl - before
    }
}

/// Nautilus `_calculate_avg_px`.
fn avg_px(qty: f64, avg: f64, last_px: f64, last_qty: f64) -> f64 {
    let start_cost = avg * qty;
    let event_cost = last_px * last_qty;
    (start_cost + event_cost) / (qty + last_qty)
}

/// The commission of a flip's closing part, `commission * closing / total`, in currency units,
/// as the execution engine computes it: a `Decimal` share, read as a float, then rounded by
/// `Money`. The share is computed exactly; an exact tie (a half unit) goes the way the float of
/// the tie rounds, as it does in Nautilus.
fn split_commission_units(m: &MoneyScale, commission: i128, closing: u128, total: u128) -> i128 {
    let (Ok(a), Ok(b)) = (i128::try_from(closing), i128::try_from(total)) else {
        return m.units(m.amount(commission) * (u128_to_f64(closing) / u128_to_f64(total)));
    };
    let Some(n) = commission.checked_mul(a) else {
        return m.units(m.amount(commission) * (u128_to_f64(closing) / u128_to_f64(total)));
    };
    let q = n.div_euclid(b);
    let twice_rem = 2 * n.rem_euclid(b);
    if twice_rem != b {
        return if twice_rem > b { q + 1 } else { q };
    }
    // r = q + 1/2 units exactly: Nautilus reads the nearest double of r / 10^p, then rounds it.
    let value = i128_to_f64(2 * q + 1) / (2.0 * m.pow1);
    m.units(value)
}

/// A (venue, instrument) aggregate kept in step with its positions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct PairStats {
    /// Sum of the signed units of its positions.
    net_units: i128,
    /// Sum of the units of its long / short positions.
    long_units: u128,
    short_units: u128,
    /// Realised PnL of every position and cycle of the pair.
    realized_pnl: f64,
    /// NETTING: the id of the net position, once the pair has traded.
    netting: Option<PositionId>,
    fills: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Pair {
    stats: PairStats,
    /// Ids of the open positions (any order).
    open: Vec<PositionId>,
}

/// Undo record of a change to a pair's open list.
#[derive(Debug, Clone, Copy)]
enum OpenOp {
    Push {
        venue: VenueId,
        instrument: InstrumentId,
    },
    SwapRemove {
        venue: VenueId,
        instrument: InstrumentId,
        index: u32,
        id: PositionId,
    },
}

/// What a batch changed, to restore the book if a later fill of the batch is refused.
#[derive(Debug, Default)]
struct Journal {
    positions_len: usize,
    epoch: u64,
    positions: Vec<Position>,
    pairs: Vec<(VenueId, InstrumentId, PairStats)>,
    open_ops: Vec<OpenOp>,
}

#[derive(Debug, Clone, PartialEq)]
struct Venue {
    name: String,
    oms_type: OmsType,
}

#[derive(Debug, Clone, PartialEq)]
struct Instrument {
    spec: InstrumentSpec,
    underlying: u32,
    scales: Scales,
}

#[derive(Debug, Clone, PartialEq)]
struct Underlying {
    name: String,
    instruments: Vec<InstrumentId>,
}

/// Net exposure to one underlying across venues and OMS types, in units of the underlying
/// (quantity times multiplier).
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    pub underlying: String,
    /// Long minus short over every position.
    pub net: f64,
    /// Gross long and gross short (HEDGING positions can hold both).
    pub long: f64,
    pub short: f64,
    /// Net of the NETTING venues' and of the HEDGING venues' positions.
    pub netting: f64,
    pub hedging: f64,
    /// Net per venue, indexed by venue id.
    pub by_venue: Vec<f64>,
    pub open_positions: usize,
    /// Realised PnL (every position and cycle) of the underlying's instruments.
    pub realized_pnl: f64,
}

/// Positions of many venues and instruments, NETTING or HEDGING per venue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PositionBook {
    venues: Vec<Venue>,
    venue_index: HashMap<String, VenueId>,
    instruments: Vec<Instrument>,
    instrument_index: HashMap<String, InstrumentId>,
    underlyings: Vec<Underlying>,
    underlying_index: HashMap<String, u32>,
    /// pairs[venue][instrument]
    pairs: Vec<Vec<Pair>>,
    /// positions[id]
    positions: Vec<Position>,
    epochs: Epochs,
}

/// Which batch last journaled each position / pair (parallel to `positions` / `pairs`).
/// Bookkeeping only: two books with the same positions are equal whatever their epochs.
#[derive(Debug, Clone, Default)]
struct Epochs {
    positions: Vec<u64>,
    pairs: Vec<Vec<u64>>,
    current: u64,
}

impl PartialEq for Epochs {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Field name of a single call (`quantity`) or of a batch column (`quantities[3]`).
fn field(single: &str, column: &str, index: Option<usize>) -> String {
    match index {
        None => single.to_string(),
        Some(i) => format!("{column}[{i}]"),
    }
}

impl PositionBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a venue and how it books positions; returns its id.
    pub fn add_venue(&mut self, name: &str, oms_type: OmsType) -> SorResult<VenueId> {
        if name.trim().is_empty() {
            return Err(SorError::invalid(
                "name",
                format!("{name:?}"),
                "venue name must not be empty",
            ));
        }
        if self.venue_index.contains_key(name) {
            return Err(SorError::invalid("name", name, "venue is already registered"));
        }
        if self.venues.len() >= MAX_REGISTERED {
            return Err(SorError::invalid("name", name, "too many venues (at most 2^20)"));
        }
        let id = self.venues.len() as VenueId;
        self.venues.push(Venue {
            name: name.to_string(),
            oms_type,
        });
        self.venue_index.insert(name.to_string(), id);
        self.pairs.push(vec![Pair::default(); self.instruments.len()]);
        self.epochs.pairs.push(vec![0; self.instruments.len()]);
        Ok(id)
    }

    /// Registers an instrument (tradable on every venue); returns its id.
    pub fn add_instrument(&mut self, spec: InstrumentSpec) -> SorResult<InstrumentId> {
        if self.instrument_index.contains_key(&spec.name) {
            return Err(SorError::invalid(
                "name",
                &spec.name,
                "instrument is already registered",
            ));
        }
        if self.instruments.len() >= MAX_REGISTERED {
            return Err(SorError::invalid(
                "name",
                &spec.name,
                "too many instruments (at most 2^20)",
            ));
        }
        let id = self.instruments.len() as InstrumentId;
        let underlying = match self.underlying_index.get(&spec.underlying) {
            Some(&u) => u,
            None => {
                let u = self.underlyings.len() as u32;
                self.underlyings.push(Underlying {
                    name: spec.underlying.clone(),
                    instruments: Vec::new(),
                });
                self.underlying_index.insert(spec.underlying.clone(), u);
                u
            }
        };
        self.underlyings[underlying as usize].instruments.push(id);
        self.instrument_index.insert(spec.name.clone(), id);
        let scales = Scales::new(&spec);
        self.instruments.push(Instrument {
            spec,
            underlying,
            scales,
        });
        for (pairs, epochs) in self.pairs.iter_mut().zip(&mut self.epochs.pairs) {
            pairs.push(Pair::default());
            epochs.push(0);
        }
        Ok(id)
    }

    pub fn venue_id(&self, name: &str) -> SorResult<VenueId> {
        self.venue_index
            .get(name)
            .copied()
            .ok_or_else(|| SorError::unknown_venue("venue", name))
    }

    pub fn instrument_id(&self, name: &str) -> SorResult<InstrumentId> {
        self.instrument_index
            .get(name)
            .copied()
            .ok_or_else(|| SorError::invalid("instrument", name, "instrument is not registered"))
    }

    pub fn venue_name(&self, venue: VenueId) -> SorResult<&str> {
        self.check_venue(venue, None)
            .map(|_| self.venues[venue as usize].name.as_str())
    }

    pub fn venue_oms_type(&self, venue: VenueId) -> SorResult<OmsType> {
        self.check_venue(venue, None)
            .map(|_| self.venues[venue as usize].oms_type)
    }

    pub fn instrument(&self, instrument: InstrumentId) -> SorResult<&InstrumentSpec> {
        self.check_instrument(instrument, None)
            .map(|_| &self.instruments[instrument as usize].spec)
    }

    pub fn venue_count(&self) -> usize {
        self.venues.len()
    }

    pub fn instrument_count(&self) -> usize {
        self.instruments.len()
    }

    /// Makes room for `additional` more positions, so the next that many openings do not
    /// reallocate (a latency-sensitive caller can do this ahead of a burst).
    pub fn reserve(&mut self, additional: usize) {
        self.positions.reserve(additional);
        self.epochs.positions.reserve(additional);
    }

    /// Positions ever opened (ids are `0..position_count()`).
    pub fn position_count(&self) -> usize {
        self.positions.len()
    }

    fn check_venue(&self, venue: VenueId, index: Option<usize>) -> SorResult<()> {
        if (venue as usize) < self.venues.len() {
            Ok(())
        } else {
            Err(SorError::unknown_venue(&field("venue", "venue_ids", index), venue))
        }
    }

    fn check_instrument(&self, instrument: InstrumentId, index: Option<usize>) -> SorResult<()> {
        if (instrument as usize) < self.instruments.len() {
            Ok(())
        } else {
            Err(SorError::invalid(
                &field("instrument", "instrument_ids", index),
                instrument,
                "instrument is not registered",
            ))
        }
    }

    /// Checks everything about a fill that does not depend on the book's positions.
    fn validate(&self, fill: &Fill, index: Option<usize>) -> SorResult<()> {
        self.check_venue(fill.venue, index)?;
        self.check_instrument(fill.instrument, index)?;
        if fill.quantity == 0 {
            return Err(SorError::invalid(
                &field("quantity", "quantities", index),
                0,
                "must be greater than zero",
            ));
        }
        if fill.quantity > MAX_FILL_UNITS {
            return Err(SorError::invalid(
                &field("quantity", "quantities", index),
                fill.quantity,
                "must be at most 2^53 - 1 units",
            ));
        }
        if !fill.price.is_finite() || fill.price <= 0.0 || fill.price > MAX_PRICE {
            return Err(SorError::invalid(
                &field("price", "prices", index),
                fill.price,
                "must be a finite price in (0, 1e15]",
            ));
        }
        if !fill.commission.is_finite() || fill.commission.abs() > MAX_PRICE {
            return Err(SorError::invalid(
                &field("commission", "commissions", index),
                fill.commission,
                "must be a finite amount of at most 1e15 in absolute value",
            ));
        }
        Ok(())
    }

    /// Books one fill. On error nothing changed.
    pub fn apply(&mut self, fill: &Fill) -> SorResult<FillResult> {
        self.validate(fill, None)?;
        self.apply_valid(fill, None, None)
    }

    /// Books fills in order, all or none: every fill is validated first, and if one is refused
    /// (e.g. it names a HEDGING position an earlier fill of the batch closed) the book is restored
    /// to its state before the batch. Returns, per fill, the id of the position holding its
    /// remaining quantity ([`FillResult::resulting_id`]). Errors name the batch column and row
    /// (`quantities[3]`, `position_ids[7]`, ...).
    pub fn apply_batch(&mut self, fills: &[Fill]) -> SorResult<Vec<PositionId>> {
        for (i, fill) in fills.iter().enumerate() {
            self.validate(fill, Some(i))?;
        }
        self.epochs.current += 1;
        let mut journal = Journal {
            positions_len: self.positions.len(),
            epoch: self.epochs.current,
            ..Journal::default()
        };
        let mut out = Vec::with_capacity(fills.len());
        for (i, fill) in fills.iter().enumerate() {
            match self.apply_valid(fill, Some(&mut journal), Some(i)) {
                Ok(r) => out.push(r.resulting_id()),
                Err(e) => {
                    self.rollback(journal);
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    fn pair(&self, venue: VenueId, instrument: InstrumentId) -> &Pair {
        &self.pairs[venue as usize][instrument as usize]
    }

    /// Finds the position a validated fill goes to, refusing it before any change.
    fn target(&self, fill: &Fill, index: Option<usize>) -> SorResult<Option<PositionId>> {
        let oms = self.venues[fill.venue as usize].oms_type;
        let pair = self.pair(fill.venue, fill.instrument);
        let name = || field("position_id", "position_ids", index);
        match (oms, fill.position_id) {
            (OmsType::Netting, None) => Ok(pair.stats.netting),
            (OmsType::Netting, Some(id)) => {
                if pair.stats.netting == Some(id) {
                    Ok(Some(id))
                } else {
                    let net = match pair.stats.netting {
                        Some(n) => format!("its net position is {n}"),
                        None => "it has no position yet".to_string(),
                    };
                    Err(SorError::invalid(
                        &name(),
                        id,
                        &format!(
                            "venue {} is NETTING and {net}; pass no position id",
                            self.venues[fill.venue as usize].name
                        ),
                    ))
                }
            }
            (OmsType::Hedging, None) => Ok(None),
            (OmsType::Hedging, Some(id)) => {
                let Some(p) = usize::try_from(id).ok().and_then(|i| self.positions.get(i)) else {
                    return Err(SorError::invalid(
                        &name(),
                        id,
                        "no such HEDGING position; pass no position id to open a new one",
                    ));
                };
                if p.venue != fill.venue || p.instrument != fill.instrument {
                    return Err(SorError::invalid(
                        &name(),
                        id,
                        &format!(
                            "position belongs to venue {} instrument {}, not venue {} instrument {}",
                            self.venues[p.venue as usize].name,
                            self.instruments[p.instrument as usize].spec.name,
                            self.venues[fill.venue as usize].name,
                            self.instruments[fill.instrument as usize].spec.name
                        ),
                    ));
                }
                if !p.is_open() {
                    return Err(SorError::invalid(
                        &name(),
                        id,
                        "HEDGING position is closed; pass no position id to open a new one",
                    ));
                }
                Ok(Some(id))
            }
        }
    }

    /// Refuses a fill that could take money beyond `MAX_MONEY`, before any change: the bound is the
    /// largest the fill can move its position's and pair's PnL and commissions (its commission plus
    /// its quantity times the multiplier times the open price and its own price), added to what they
    /// hold now. Cheap and conservative: a few float operations, no trial booking.
    fn check_money(&self, fill: &Fill, target: Option<PositionId>, index: Option<usize>) -> SorResult<()> {
        let scales = &self.instruments[fill.instrument as usize].scales;
        let pair = &self.pair(fill.venue, fill.instrument).stats;
        let (held, avg_open) = match target.map(|id| &self.positions[id as usize]) {
            Some(p) => (
                (p.realized_pnl.abs() + p.prior_realized_pnl.abs()).max(p.commissions.abs()),
                p.avg_px_open,
            ),
            None => (0.0, 0.0),
        };
        let qty = scales.qty(u128::from(fill.quantity)) * scales.multiplier;
        let moved = fill.commission.abs() + qty * (fill.price + avg_open);
        let worst = held.max(pair.realized_pnl.abs()) + moved;
        if worst.is_finite() && worst <= MAX_MONEY {
            return Ok(());
        }
        Err(SorError::invalid(
            &field("quantity", "quantities", index),
            fill.quantity,
            &format!(
                "the fill (price {}, commission {}) could take the position's PnL or commissions to {worst:e}, beyond the 1e22 the book holds exactly (money overflow)",
                fill.price, fill.commission
            ),
        ))
    }

    fn apply_valid(
        &mut self,
        fill: &Fill,
        mut journal: Option<&mut Journal>,
        index: Option<usize>,
    ) -> SorResult<FillResult> {
        let target = self.target(fill, index)?;
        self.check_money(fill, target, index)?;
        let (venue, instrument) = (fill.venue, fill.instrument);
        let oms = self.venues[venue as usize].oms_type;
        let scales = self.instruments[instrument as usize].scales;
        let commission = scales.money(fill.commission);
        let id = match target {
            Some(id) => id,
            None => self.new_position(venue, instrument, oms, journal.as_deref_mut()),
        };
        let pos = self.positions[id as usize];
        let opposite = match fill.side {
            Side::Buy => pos.signed_units < 0,
            Side::Sell => pos.signed_units > 0,
        };
        let open_units = pos.quantity_units();
        if !(opposite && u128::from(fill.quantity) > open_units) {
            let pnl = self.book(id, &scales, fill.side, fill.quantity, fill.price, commission, journal);
            let closed = !self.positions[id as usize].is_open();
            return Ok(FillResult {
                position_id: id,
                flipped_to: None,
                closed,
                realized_pnl: pnl,
            });
        }
        // Flip: close the open quantity, open the excess (engine `_flip_position`).
        let total = u128::from(fill.quantity);
        let (c1, c2) = match scales.money {
            Some(m) => {
                let c = m.units(fill.commission);
                let c1 = split_commission_units(&m, c, open_units, total);
                (m.amount(c1), m.amount(c - c1))
            }
            None => {
                let c1 = commission * (scales.qty(open_units) / scales.qty(total));
                (c1, commission - c1)
            }
        };
        // open_units < fill.quantity <= MAX_FILL_UNITS, so both fit u64.
        let close_units = open_units as u64;
        let excess = fill.quantity - close_units;
        let mut pnl = self.book(
            id,
            &scales,
            fill.side,
            close_units,
            fill.price,
            c1,
            journal.as_deref_mut(),
        );
        let next = match oms {
            OmsType::Netting => id,
            OmsType::Hedging => self.new_position(venue, instrument, oms, journal.as_deref_mut()),
        };
        pnl += self.book(next, &scales, fill.side, excess, fill.price, c2, journal);
        Ok(FillResult {
            position_id: id,
            flipped_to: Some(next),
            closed: true,
            realized_pnl: pnl,
        })
    }

    fn new_position(
        &mut self,
        venue: VenueId,
        instrument: InstrumentId,
        oms: OmsType,
        journal: Option<&mut Journal>,
    ) -> PositionId {
        let id = self.positions.len() as PositionId;
        self.positions.push(Position::new(id, venue, instrument, oms));
        self.epochs.positions.push(0);
        if oms == OmsType::Netting {
            self.touch_pair(venue, instrument, journal);
            self.pairs[venue as usize][instrument as usize].stats.netting = Some(id);
        }
        id
    }

    fn touch_position(&mut self, id: PositionId, journal: Option<&mut Journal>) {
        if let Some(j) = journal {
            let i = id as usize;
            if i < j.positions_len && self.epochs.positions[i] != j.epoch {
                self.epochs.positions[i] = j.epoch;
                j.positions.push(self.positions[i]);
            }
        }
    }

    fn touch_pair(&mut self, venue: VenueId, instrument: InstrumentId, journal: Option<&mut Journal>) {
        if let Some(j) = journal {
            let epoch = &mut self.epochs.pairs[venue as usize][instrument as usize];
            if *epoch != j.epoch {
                *epoch = j.epoch;
                j.pairs
                    .push((venue, instrument, self.pairs[venue as usize][instrument as usize].stats));
            }
        }
    }

    /// Applies a non-flipping fill to position `id` and keeps its pair in step.
    #[allow(clippy::too_many_arguments)]
    fn book(
        &mut self,
        id: PositionId,
        scales: &Scales,
        side: Side,
        units: u64,
        price: f64,
        commission: f64,
        mut journal: Option<&mut Journal>,
    ) -> f64 {
        self.touch_position(id, journal.as_deref_mut());
        let pos = &mut self.positions[id as usize];
        let (venue, instrument) = (pos.venue, pos.instrument);
        let old = pos.signed_units;
        let pnl = pos.apply(scales, side, units, price, commission);
        let new = pos.signed_units;
        self.touch_pair(venue, instrument, journal.as_deref_mut());
        let pair = &mut self.pairs[venue as usize][instrument as usize];
        let s = &mut pair.stats;
        s.net_units += new - old;
        s.long_units = s.long_units - old.max(0) as u128 + new.max(0) as u128;
        s.short_units = s.short_units - (-old).max(0) as u128 + (-new).max(0) as u128;
        s.realized_pnl += pnl;
        s.fills += 1;
        if old == 0 && new != 0 {
            self.positions[id as usize].open_index = pair.open.len() as u32;
            pair.open.push(id);
            if let Some(j) = journal {
                j.open_ops.push(OpenOp::Push { venue, instrument });
            }
        } else if old != 0 && new == 0 {
            let index = self.positions[id as usize].open_index;
            pair.open.swap_remove(index as usize);
            let moved = pair.open.get(index as usize).copied();
            self.positions[id as usize].open_index = NOT_OPEN;
            if let Some(moved) = moved {
                self.touch_position(moved, journal.as_deref_mut());
                self.positions[moved as usize].open_index = index;
            }
            if let Some(j) = journal {
                j.open_ops.push(OpenOp::SwapRemove {
                    venue,
                    instrument,
                    index,
                    id,
                });
            }
        }
        pnl
    }

    fn rollback(&mut self, journal: Journal) {
        for op in journal.open_ops.iter().rev() {
            match *op {
                OpenOp::Push { venue, instrument } => {
                    self.pairs[venue as usize][instrument as usize].open.pop();
                }
                OpenOp::SwapRemove {
                    venue,
                    instrument,
                    index,
                    id,
                } => {
                    let open = &mut self.pairs[venue as usize][instrument as usize].open;
                    let i = index as usize;
                    if i == open.len() {
                        open.push(id);
                    } else {
                        let moved = open[i];
                        open.push(moved);
                        open[i] = id;
                    }
                }
            }
        }
        for p in journal.positions.iter().rev() {
            self.positions[p.id as usize] = *p;
        }
        for &(venue, instrument, stats) in journal.pairs.iter().rev() {
            self.pairs[venue as usize][instrument as usize].stats = stats;
        }
        self.positions.truncate(journal.positions_len);
        self.epochs.positions.truncate(journal.positions_len);
    }

    /// A position by id (a NETTING id shows its current cycle).
    pub fn position(&self, id: PositionId) -> SorResult<&Position> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.positions.get(i))
            .ok_or_else(|| SorError::invalid("position_id", id, "no such position"))
    }

    fn checked_pair(&self, venue: VenueId, instrument: InstrumentId) -> SorResult<&Pair> {
        self.check_venue(venue, None)?;
        self.check_instrument(instrument, None)?;
        Ok(self.pair(venue, instrument))
    }

    /// Ids of the open positions of a (venue, instrument), in no particular order.
    pub fn open_positions(&self, venue: VenueId, instrument: InstrumentId) -> SorResult<&[PositionId]> {
        self.checked_pair(venue, instrument).map(|p| p.open.as_slice())
    }

    /// The net position id of a NETTING (venue, instrument), once it has traded.
    pub fn netting_position(&self, venue: VenueId, instrument: InstrumentId) -> SorResult<Option<PositionId>> {
        self.checked_pair(venue, instrument).map(|p| p.stats.netting)
    }

    /// Net signed units of a (venue, instrument) over all its positions.
    pub fn net_units(&self, venue: VenueId, instrument: InstrumentId) -> SorResult<i128> {
        self.checked_pair(venue, instrument).map(|p| p.stats.net_units)
    }

    /// Realised PnL of every position and cycle of a (venue, instrument).
    pub fn realized_pnl(&self, venue: VenueId, instrument: InstrumentId) -> SorResult<f64> {
        self.checked_pair(venue, instrument).map(|p| p.stats.realized_pnl)
    }

    /// Fills booked on a (venue, instrument) (a flip counts as two).
    pub fn fill_count(&self, venue: VenueId, instrument: InstrumentId) -> SorResult<u64> {
        self.checked_pair(venue, instrument).map(|p| p.stats.fills)
    }

    fn check_mark(mark: f64) -> SorResult<()> {
        if !mark.is_finite() || mark <= 0.0 || mark > MAX_PRICE {
            return Err(SorError::invalid(
                "mark_price",
                mark,
                "must be a finite price in (0, 1e15]",
            ));
        }
        Ok(())
    }

    /// Unrealised PnL of one position at `mark` (0 when flat), as Nautilus `unrealized_pnl`.
    pub fn unrealized_pnl(&self, id: PositionId, mark: f64) -> SorResult<f64> {
        Self::check_mark(mark)?;
        let p = self.position(id)?;
        Ok(p.unrealized(&self.instruments[p.instrument as usize].scales, mark))
    }

    /// Unrealised PnL of every open position of a (venue, instrument) at `mark`.
    pub fn pair_unrealized_pnl(&self, venue: VenueId, instrument: InstrumentId, mark: f64) -> SorResult<f64> {
        Self::check_mark(mark)?;
        let pair = self.checked_pair(venue, instrument)?;
        let scales = &self.instruments[instrument as usize].scales;
        Ok(pair
            .open
            .iter()
            .map(|&id| self.positions[id as usize].unrealized(scales, mark))
            .sum())
    }

    fn underlying(&self, name: &str) -> SorResult<&Underlying> {
        self.underlying_index
            .get(name)
            .map(|&u| &self.underlyings[u as usize])
            .ok_or_else(|| SorError::invalid("underlying", name, "no registered instrument has this underlying"))
    }

    /// Net quantity of an underlying across venues and OMS types, in underlying units. Work is
    /// proportional to venues x the underlying's instruments, never to fills.
    pub fn net_exposure(&self, underlying: &str) -> SorResult<f64> {
        let u = self.underlying(underlying)?;
        let mut net = 0.0;
        for &i in &u.instruments {
            let s = &self.instruments[i as usize].scales;
            for pairs in &self.pairs {
                net += s.signed(pairs[i as usize].stats.net_units) * s.multiplier;
            }
        }
        Ok(net)
    }

    /// The full breakdown of an underlying's exposure.
    pub fn exposure(&self, underlying: &str) -> SorResult<Exposure> {
        let u = self.underlying(underlying)?;
        let mut e = Exposure {
            underlying: u.name.clone(),
            net: 0.0,
            long: 0.0,
            short: 0.0,
            netting: 0.0,
            hedging: 0.0,
            by_venue: vec![0.0; self.venues.len()],
            open_positions: 0,
            realized_pnl: 0.0,
        };
        for &i in &u.instruments {
            let s = &self.instruments[i as usize].scales;
            for (v, pairs) in self.pairs.iter().enumerate() {
                let pair = &pairs[i as usize];
                let net = s.signed(pair.stats.net_units) * s.multiplier;
                e.net += net;
                e.long += u128_to_f64(pair.stats.long_units) / s.units_per_qty * s.multiplier;
                e.short += u128_to_f64(pair.stats.short_units) / s.units_per_qty * s.multiplier;
                match self.venues[v].oms_type {
                    OmsType::Netting => e.netting += net,
                    OmsType::Hedging => e.hedging += net,
                }
                e.by_venue[v] += net;
                e.open_positions += pair.open.len();
                e.realized_pnl += pair.stats.realized_pnl;
            }
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(oms: OmsType, currency_precision: Option<u8>) -> PositionBook {
        let mut b = PositionBook::new();
        b.add_venue("V", oms).unwrap();
        b.add_instrument(InstrumentSpec::new("X", "U", 0, 1.0, currency_precision).unwrap())
            .unwrap();
        b
    }

    fn fill(side: Side, quantity: u64, price: f64, commission: f64, position_id: Option<u64>) -> Fill {
        Fill {
            venue: 0,
            instrument: 0,
            side,
            quantity,
            price,
            commission,
            position_id,
        }
    }

    #[test]
    fn money_rounds_half_away_from_zero() {
        let m = MoneyScale::new(2);
        assert_eq!(m.units(0.125), 13);
        assert_eq!(m.units(-0.125), -13);
        assert_eq!(m.round(1.004999), 1.0);
        assert_eq!(m.amount(150), 1.5);
    }

    #[test]
    fn fast_paths_equal_the_plain_formulas() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for p in 0..=16u8 {
            let m = MoneyScale::new(p);
            let fixed = Fixed::new(p);
            let ten_k = 10i128.pow(u32::from(16 - p));
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let units = (x >> (x % 64)) as i128 * if x & 1 == 0 { 1 } else { -1 };
                let plain = i128_to_f64(units.saturating_mul(ten_k)) / FIXED_SCALAR;
                assert_eq!(
                    fixed.read_signed(units).to_bits(),
                    plain.to_bits(),
                    "p={p} units={units}"
                );
                let v = f64::from_bits(x >> 2) * if x & 2 == 0 { 1.0 } else { -1.0 };
                let v = if v.is_finite() { v } else { 1.5 };
                for value in [
                    v,
                    (x % 100_000) as f64 / 8.0 / m.pow1,
                    -((x % 77) as f64 + 0.5) / m.pow1,
                ] {
                    assert_eq!(m.units(value), (value * m.pow1).round() as i128, "p={p} value={value}");
                }
            }
        }
    }

    #[test]
    fn commission_split_is_exact_except_ties() {
        let m = MoneyScale::new(2);
        // 0.07 * 1/3 = 0.02333 -> 2 cents; 0.07 * 2/3 = 0.04667 -> 5 cents.
        assert_eq!(split_commission_units(&m, 7, 1, 3), 2);
        assert_eq!(split_commission_units(&m, 7, 2, 3), 5);
        // Tie: 0.03 / 2 = 0.015, whose nearest double is 0.01499999..., times 100 rounds to 1.
        assert_eq!(split_commission_units(&m, 3, 1, 2), (0.015f64 * 100.0).round() as i128);
        // Negative (a rebate) rounds away from zero like Money.
        assert_eq!(split_commission_units(&m, -7, 1, 3), -2);
    }

    #[test]
    fn quantities_convert_as_nautilus_does() {
        let spec = InstrumentSpec::new("X", "U", 3, 1.0, None).unwrap();
        let s = Scales::new(&spec);
        assert_eq!(s.qty(1500), 1.5);
        assert_eq!(s.signed(-1), -0.001);
        assert!(s.qty(u128::MAX).is_finite());
    }

    #[test]
    fn netting_flip_keeps_closed_pnl() {
        let mut b = book(OmsType::Netting, None);
        let r = b.apply(&fill(Side::Buy, 10, 100.0, 1.0, None)).unwrap();
        assert_eq!((r.position_id, r.flipped_to, r.closed), (0, None, false));
        let r = b.apply(&fill(Side::Sell, 15, 110.0, 3.0, None)).unwrap();
        assert_eq!((r.position_id, r.flipped_to, r.closed), (0, Some(0), true));
        let p = b.position(0).unwrap();
        assert_eq!(p.signed_units, -5);
        // Closed cycle: -1 - 2 (2/3 of the 3.0 commission) + 10 * 10 = 97.
        assert_eq!(p.prior_realized_pnl, 97.0);
        assert_eq!(p.realized_pnl, -1.0);
        assert_eq!(p.avg_px_open, 110.0);
        assert_eq!(p.closed_cycles, 1);
        assert_eq!(p.event_count, 1);
        assert_eq!(b.realized_pnl(0, 0).unwrap(), 96.0);
        assert_eq!(b.net_units(0, 0).unwrap(), -5);
    }

    #[test]
    fn journal_restores_moved_open_entries() {
        let mut b = book(OmsType::Hedging, None);
        for _ in 0..3 {
            b.apply(&fill(Side::Buy, 1, 10.0, 0.0, None)).unwrap();
        }
        let before = b.clone();
        // Close position 0 (moves 2 into its open slot), then name the closed 0: refused.
        let fills = [
            fill(Side::Sell, 1, 11.0, 0.0, Some(0)),
            fill(Side::Sell, 1, 11.0, 0.0, Some(0)),
        ];
        let err = b.apply_batch(&fills).unwrap_err();
        assert_eq!(err.field(), "position_ids[1]");
        assert_eq!(b.pairs, before.pairs);
        assert_eq!(b.positions, before.positions);
    }
}
