//! The undo log of a batch: the first change to each position and pair, and every change to an
//! open list, so that a refused fill restores the book to its state before the batch.

use super::book::PairStats;
use super::record::Position;
use super::{InstrumentId, PositionBook, PositionId, VenueId};

/// Undo record of a change to a pair's open list.
#[derive(Debug, Clone, Copy)]
pub(super) enum OpenOp {
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
pub(super) struct Journal {
    pub(super) positions_len: usize,
    pub(super) epoch: u64,
    pub(super) positions: Vec<Position>,
    pub(super) pairs: Vec<(VenueId, InstrumentId, PairStats)>,
    pub(super) open_ops: Vec<OpenOp>,
}

/// Which batch last journaled each position / pair (parallel to `positions` / `pairs`).
/// Bookkeeping only: two books with the same positions are equal whatever their epochs.
#[derive(Debug, Clone, Default)]
pub(super) struct Epochs {
    pub(super) positions: Vec<u64>,
    pub(super) pairs: Vec<Vec<u64>>,
    pub(super) current: u64,
}

impl PartialEq for Epochs {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl PositionBook {
    pub(super) fn touch_position(&mut self, id: PositionId, journal: Option<&mut Journal>) {
        if let Some(j) = journal {
            let i = id as usize;
            if i < j.positions_len && self.epochs.positions[i] != j.epoch {
                self.epochs.positions[i] = j.epoch;
                j.positions.push(self.positions[i]);
            }
        }
    }

    pub(super) fn touch_pair(&mut self, venue: VenueId, instrument: InstrumentId, journal: Option<&mut Journal>) {
        if let Some(j) = journal {
            let epoch = &mut self.epochs.pairs[venue as usize][instrument as usize];
            if *epoch != j.epoch {
                *epoch = j.epoch;
                j.pairs
                    .push((venue, instrument, self.pairs[venue as usize][instrument as usize].stats));
            }
        }
    }

    pub(super) fn rollback(&mut self, journal: Journal) {
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
}
