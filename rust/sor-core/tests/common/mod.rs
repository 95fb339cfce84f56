//! Fixtures shared by the integration tests and the benches (which include this file with
//! `#[path]`): each crate uses some of them.
#![allow(dead_code)]

use sor_core::{InstrumentSpec, Ladder, Level, OmsType, PositionBook, Router, RouterParams, VenueSpec};

/// Lots and minimums of the `lots` market: coprime lots (7, 11, 13, 17, 19 units, cycling) and a
/// minimum on every other venue.
fn lot_of(i: usize) -> (u64, u64) {
    let lot = [7u64, 11, 13, 17, 19][i % 5];
    let min = if i % 2 == 1 { 3 * lot + 1 } else { 0 };
    (lot, min)
}

/// `n` venues, 20 levels a side, offset touches and varied sizes and fees (deterministic). With `lots`,
/// venue i has `lot_of(i)`; without, every lot is 1 and there are no minimums.
pub fn market(n: usize, lots: bool) -> Router {
    let venues = (0..n)
        .map(|i| {
            let (lot, min) = if lots { lot_of(i) } else { (1, 0) };
            VenueSpec::new(
                &format!("V{i}"),
                0.0,
                0.0001 * (1 + i % 4) as f64,
                1.0 + 20.0 * (i % 10) as f64,
                lot,
                min,
                true,
            )
            .unwrap()
        })
        .collect();
    let mut r = Router::new(venues, RouterParams::default()).unwrap();
    for i in 0..n {
        let skew = (i % 3) as f64 * 0.01 + (i / 10) as f64 * 0.001;
        let size = |k: usize| 10 + ((i * 7 + k * 13) % 40) as u64;
        let bids = (0..20)
            .map(|k| Level {
                price: 99.99 - skew - 0.01 * k as f64,
                size: size(k),
            })
            .collect();
        let asks = (0..20)
            .map(|k| Level {
                price: 100.01 + skew + 0.01 * k as f64,
                size: size(k + 1),
            })
            .collect();
        r.set_book(i, Some(Ladder::new(bids, asks).unwrap())).unwrap();
    }
    r
}

/// Venue 0 "N" (NETTING) and venue 1 "H" (HEDGING), with `instruments` registered in order (ids 0, 1, ...).
pub fn netting_hedging_book(instruments: impl IntoIterator<Item = InstrumentSpec>) -> PositionBook {
    let mut b = PositionBook::new();
    assert_eq!(b.add_venue("N", OmsType::Netting).unwrap(), 0);
    assert_eq!(b.add_venue("H", OmsType::Hedging).unwrap(), 1);
    for (id, spec) in instruments.into_iter().enumerate() {
        assert_eq!(b.add_instrument(spec).unwrap() as usize, id);
    }
    b
}
