//! Net exposure to an underlying across venues and OMS types.

use super::arithmetic::u128_to_f64;
use super::book::Underlying;
use super::{OmsType, PositionBook};
use crate::error::{SorError, SorResult};

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

impl PositionBook {
    pub(super) fn underlying(&self, name: &str) -> SorResult<&Underlying> {
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
