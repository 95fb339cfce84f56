//! Booking fills: validation of the values, the position a fill goes to (NETTING net position,
//! HEDGING tagged or new), the money bound, and flips through zero split as the execution engine
//! splits them.

use super::arithmetic::split_commission_units;
use super::arithmetic::Scales;
use super::book::field;
use super::journal::{Journal, OpenOp};
use super::record::{Position, NOT_OPEN};
use super::{InstrumentId, OmsType, PositionBook, PositionId, VenueId, MAX_FILL_UNITS, MAX_MONEY, MAX_PRICE};
use crate::book::Side;
use crate::error::{SorError, SorResult};

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

impl PositionBook {
    /// Checks everything about a fill that does not depend on the book's positions.
    pub(super) fn validate(&self, fill: &Fill, index: Option<usize>) -> SorResult<()> {
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

    /// Finds the position a validated fill goes to, refusing it before any change.
    pub(super) fn target(&self, fill: &Fill, index: Option<usize>) -> SorResult<Option<PositionId>> {
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
    pub(super) fn check_money(&self, fill: &Fill, target: Option<PositionId>, index: Option<usize>) -> SorResult<()> {
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

    pub(super) fn apply_valid(
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

    pub(super) fn new_position(
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

    /// Applies a non-flipping fill to position `id` and keeps its pair in step.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn book(
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
}
