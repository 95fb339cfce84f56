//! What the trackers share: a parent order worked in whole lots, and how much of it is done.

use super::window::parent_lots;
use crate::error::SorResult;

/// A parent order of `quantity` units worked in whole lots of `lot_size`: the units done (sent by a
/// POV tracker, filled in an iceberg; never more than `quantity`) and the children it took.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Parent {
    quantity: u64,
    lot_size: u64,
    done: u64,
    children: u64,
}

impl Parent {
    /// A checked parent (see `parent_lots`) and its size in lots.
    pub(super) fn new(quantity: u64, lot_size: u64) -> SorResult<(Self, u64)> {
        let lots = parent_lots(quantity, lot_size)?;
        let parent = Parent {
            quantity,
            lot_size,
            done: 0,
            children: 0,
        };
        Ok((parent, lots))
    }

    pub(super) fn quantity(&self) -> u64 {
        self.quantity
    }

    pub(super) fn lot_size(&self) -> u64 {
        self.lot_size
    }

    pub(super) fn done(&self) -> u64 {
        self.done
    }

    pub(super) fn children(&self) -> u64 {
        self.children
    }

    /// Not done yet.
    pub(super) fn remaining(&self) -> u64 {
        self.quantity - self.done
    }

    pub(super) fn is_done(&self) -> bool {
        self.done == self.quantity
    }

    /// One more child sent or shown.
    pub(super) fn add_child(&mut self) {
        self.children += 1;
    }

    /// `units` more done; the caller keeps them within `remaining()`.
    pub(super) fn add_done(&mut self, units: u64) {
        debug_assert!(units <= self.remaining());
        self.done += units;
    }
}
