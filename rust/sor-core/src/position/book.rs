//! The position book's tables (venues, instruments, underlyings, per-(venue, instrument) pairs,
//! positions by id), registration, and the queries that read them.

use std::collections::HashMap;

use super::arithmetic::Scales;
use super::journal::Epochs;
use super::record::Position;
use super::{InstrumentId, InstrumentSpec, OmsType, PositionId, VenueId, MAX_PRICE};
use crate::error::{SorError, SorResult};

/// Most venues, instruments or underlyings one book registers.
pub(super) const MAX_REGISTERED: usize = 1 << 20;

/// A (venue, instrument) aggregate kept in step with its positions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct PairStats {
    /// Sum of the signed units of its positions.
    pub(super) net_units: i128,
    /// Sum of the units of its long / short positions.
    pub(super) long_units: u128,
    pub(super) short_units: u128,
    /// Realised PnL of every position and cycle of the pair.
    pub(super) realized_pnl: f64,
    /// NETTING: the id of the net position, once the pair has traded.
    pub(super) netting: Option<PositionId>,
    pub(super) fills: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Pair {
    pub(super) stats: PairStats,
    /// Ids of the open positions (any order).
    pub(super) open: Vec<PositionId>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Venue {
    pub(super) name: String,
    pub(super) oms_type: OmsType,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Instrument {
    pub(super) spec: InstrumentSpec,
    pub(super) underlying: u32,
    pub(super) scales: Scales,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Underlying {
    pub(super) name: String,
    pub(super) instruments: Vec<InstrumentId>,
}

/// Positions of many venues and instruments, NETTING or HEDGING per venue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PositionBook {
    pub(super) venues: Vec<Venue>,
    pub(super) venue_index: HashMap<String, VenueId>,
    pub(super) instruments: Vec<Instrument>,
    pub(super) instrument_index: HashMap<String, InstrumentId>,
    pub(super) underlyings: Vec<Underlying>,
    pub(super) underlying_index: HashMap<String, u32>,
    /// pairs[venue][instrument]
    pub(super) pairs: Vec<Vec<Pair>>,
    /// positions[id]
    pub(super) positions: Vec<Position>,
    pub(super) epochs: Epochs,
}

/// Field name of a single call (`quantity`) or of a batch column (`quantities[3]`).
pub(super) fn field(single: &str, column: &str, index: Option<usize>) -> String {
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

    pub(super) fn check_venue(&self, venue: VenueId, index: Option<usize>) -> SorResult<()> {
        if (venue as usize) < self.venues.len() {
            Ok(())
        } else {
            Err(SorError::unknown_venue(&field("venue", "venue_ids", index), venue))
        }
    }

    pub(super) fn check_instrument(&self, instrument: InstrumentId, index: Option<usize>) -> SorResult<()> {
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

    pub(super) fn pair(&self, venue: VenueId, instrument: InstrumentId) -> &Pair {
        &self.pairs[venue as usize][instrument as usize]
    }

    /// A position by id (a NETTING id shows its current cycle).
    pub fn position(&self, id: PositionId) -> SorResult<&Position> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.positions.get(i))
            .ok_or_else(|| SorError::invalid("position_id", id, "no such position"))
    }

    pub(super) fn checked_pair(&self, venue: VenueId, instrument: InstrumentId) -> SorResult<&Pair> {
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

    /// Unrealised PnL of one position at `mark` (0 when flat), as Nautilus `unrealized_pnl`.
    pub fn unrealized_pnl(&self, id: PositionId, mark: f64) -> SorResult<f64> {
        check_mark(mark)?;
        let p = self.position(id)?;
        Ok(p.unrealized(&self.instruments[p.instrument as usize].scales, mark))
    }

    /// Unrealised PnL of every open position of a (venue, instrument) at `mark`.
    pub fn pair_unrealized_pnl(&self, venue: VenueId, instrument: InstrumentId, mark: f64) -> SorResult<f64> {
        check_mark(mark)?;
        let pair = self.checked_pair(venue, instrument)?;
        let scales = &self.instruments[instrument as usize].scales;
        Ok(pair
            .open
            .iter()
            .map(|&id| self.positions[id as usize].unrealized(scales, mark))
            .sum())
    }
}

/// A mark price: finite, in `(0, MAX_PRICE]`.
pub(super) fn check_mark(mark: f64) -> SorResult<()> {
    if !mark.is_finite() || mark <= 0.0 || mark > MAX_PRICE {
        return Err(SorError::invalid(
            "mark_price",
            mark,
            "must be a finite price in (0, 1e15]",
        ));
    }
    Ok(())
}
