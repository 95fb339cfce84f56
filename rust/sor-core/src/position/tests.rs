//! Unit tests of the book's internals (the arithmetic's are beside it in `arithmetic.rs`; hand-checked
//! cases through the public API and the differential tests against Nautilus are in `tests/position.rs`).

use super::*;
use crate::book::Side;

fn book(oms: OmsType) -> PositionBook {
    let mut b = PositionBook::new();
    b.add_venue("V", oms).unwrap();
    b.add_instrument(InstrumentSpec::new("X", "U", 0, 1.0, None).unwrap())
        .unwrap();
    b
}

#[test]
fn journal_restores_moved_open_entries() {
    let mut b = book(OmsType::Hedging);
    let open = Fill {
        venue: 0,
        instrument: 0,
        side: Side::Buy,
        quantity: 1,
        price: 10.0,
        commission: 0.0,
        position_id: None,
    };
    for _ in 0..3 {
        b.apply(&open).unwrap();
    }
    let before = b.clone();
    // Close position 0 (moves 2 into its open slot), then name the closed 0: refused.
    let close_0 = Fill {
        side: Side::Sell,
        price: 11.0,
        position_id: Some(0),
        ..open
    };
    let fills = [close_0, close_0];
    let err = b.apply_batch(&fills).unwrap_err();
    assert_eq!(err.field(), "position_ids[1]");
    assert_eq!(b.pairs, before.pairs);
    assert_eq!(b.positions, before.positions);
}
