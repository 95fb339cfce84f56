//! Book-level unit tests (the arithmetic's are beside it in `arithmetic.rs`; the differential
//! tests against Nautilus are in `tests/position.rs`).

use super::*;
use crate::book::Side;

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
