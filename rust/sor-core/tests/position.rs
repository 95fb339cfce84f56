//! Position book: hand-checked cases (every number worked out on paper from Nautilus's formulas)
//! and properties (no panic on any input, quantities consistent, batches atomic).

use proptest::prelude::*;
use rstest::rstest;
use sor_core::{Fill, InstrumentSpec, OmsType, PositionBook, PositionSide, Side, SorError};

mod common;
use common::netting_hedging_book;

const BUY: Side = Side::Buy;
const SELL: Side = Side::Sell;

/// Venue 0 "N" (NETTING), venue 1 "H" (HEDGING); instrument 0 "X" on underlying "U".
fn book_with(size_precision: u8, multiplier: f64, currency_precision: Option<u8>) -> PositionBook {
    netting_hedging_book([InstrumentSpec::new("X", "U", size_precision, multiplier, currency_precision).unwrap()])
}

fn book() -> PositionBook {
    book_with(0, 1.0, None)
}

/// `book()` after `fills`.
fn book_after(fills: &[Fill]) -> PositionBook {
    let mut b = book();
    b.apply_batch(fills).unwrap();
    b
}

fn f(venue: u32, side: Side, quantity: u64, price: f64, commission: f64, position_id: Option<u64>) -> Fill {
    Fill {
        venue,
        instrument: 0,
        side,
        quantity,
        price,
        commission,
        position_id,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn long_position_open_add_reduce_close() {
    let mut b = book_after(&[f(0, BUY, 10, 100.0, 1.0, None), f(0, BUY, 10, 110.0, 1.0, None)]);
    let p = *b.position(0).unwrap();
    assert_eq!(p.avg_px_open, 105.0);
    assert_eq!(p.realized_pnl, -2.0);
    // Sell 5 @ 120: 5 * (120 - 105) = 75, less 0.5 commission.
    let r = b.apply(&f(0, SELL, 5, 120.0, 0.5, None)).unwrap();
    assert_eq!(r.realized_pnl, 74.5);
    assert!(!r.closed);
    let p = *b.position(0).unwrap();
    assert_eq!((p.avg_px_close, p.realized_pnl, p.signed_units), (120.0, 72.5, 15));
    assert!(close(p.realized_return, 15.0 / 105.0));
    // Sell 15 @ 100: avg close (5*120 + 15*100) / 20 = 105; PnL 15 * -5 = -75, less 1.5.
    let r = b.apply(&f(0, SELL, 15, 100.0, 1.5, None)).unwrap();
    assert!(r.closed);
    let p = *b.position(0).unwrap();
    assert_eq!(p.side(), PositionSide::Flat);
    assert_eq!((p.avg_px_close, p.realized_pnl, p.realized_return), (105.0, -4.0, 0.0));
    assert_eq!(
        (p.peak_units, p.buy_units, p.sell_units, p.event_count),
        (20, 20, 20, 4)
    );
    assert_eq!(p.commissions, 4.0);
    assert_eq!(b.open_positions(0, 0).unwrap(), &[] as &[u64]);
    assert_eq!(b.realized_pnl(0, 0).unwrap(), -4.0);
}

#[test]
fn short_position_pnl_and_unrealized() {
    let b = book_after(&[f(0, SELL, 4, 50.0, 0.0, None), f(0, BUY, 1, 40.0, 0.0, None)]);
    let p = *b.position(0).unwrap();
    assert_eq!(
        (p.side(), p.signed_units, p.realized_pnl),
        (PositionSide::Short, -3, 10.0)
    );
    // 3 short from 50, marked at 45: +15.
    assert_eq!(b.unrealized_pnl(0, 45.0).unwrap(), 15.0);
    assert_eq!(b.pair_unrealized_pnl(0, 0, 55.0).unwrap(), -15.0);
    assert_eq!(b.position(0).unwrap().quantity_units(), 3);
}

#[test]
fn multiplier_and_size_precision() {
    // 1.50 contracts of a x50 future at 4000.25, 0.50 sold at 4010.25: 0.5 * 50 * 10 = 250.
    let mut b = book_with(2, 50.0, None);
    b.apply_batch(&[f(0, BUY, 150, 4000.25, 0.0, None), f(0, SELL, 50, 4010.25, 0.0, None)])
        .unwrap();
    assert_eq!(b.position(0).unwrap().realized_pnl, 250.0);
    // 1.00 left, net exposure 1.0 * 50 = 50 underlying units.
    assert_eq!(b.net_exposure("U").unwrap(), 50.0);
    assert_eq!(b.unrealized_pnl(0, 4001.25).unwrap(), 50.0);
}

#[test]
fn currency_precision_rounds_like_money() {
    let mut b = book_with(0, 1.0, Some(2));
    // Commission 0.004 is 0.00 in cents; PnL 3 * (1.0 - 1.001) = -0.003 rounds to -0.00.
    b.apply(&f(0, BUY, 3, 1.001, 0.004, None)).unwrap();
    b.apply(&f(0, SELL, 3, 1.0, 0.0, None)).unwrap();
    assert_eq!(b.position(0).unwrap().realized_pnl, 0.0);
    // A new cycle: 7 at 1.0 sold at 1.00214 makes 0.01498, booked as 0.01.
    b.apply(&f(0, BUY, 7, 1.0, 0.0, None)).unwrap();
    b.apply(&f(0, SELL, 7, 1.00214, 0.0, None)).unwrap();
    assert_eq!(b.position(0).unwrap().realized_pnl, 0.01);
}

#[test]
fn netting_flip_splits_commission_pro_rata() {
    let mut b = book_with(0, 1.0, Some(2));
    b.apply(&f(0, BUY, 1, 100.0, 0.0, None)).unwrap();
    // Sell 3 @ 101: 1 closes (+1, commission 0.10 * 1/3 = 0.0333 -> 0.03), 2 open short
    // (commission 0.07).
    let r = b.apply(&f(0, SELL, 3, 101.0, 0.10, None)).unwrap();
    assert_eq!((r.position_id, r.flipped_to), (0, Some(0)));
    let p = *b.position(0).unwrap();
    assert_eq!(p.prior_realized_pnl, 0.97);
    assert_eq!(p.realized_pnl, -0.07);
    assert_eq!(
        (p.signed_units, p.avg_px_open, p.event_count, p.closed_cycles),
        (-2, 101.0, 1, 1)
    );
    assert!(close(r.realized_pnl, 0.90));
    assert!(close(p.total_realized_pnl(), 0.90));
    // An exact close is not a flip; the next fill reopens the same id.
    let r = b.apply(&f(0, BUY, 2, 100.0, 0.0, None)).unwrap();
    assert_eq!((r.flipped_to, r.closed), (None, true));
    b.apply(&f(0, BUY, 1, 99.0, 0.0, None)).unwrap();
    let p = *b.position(0).unwrap();
    assert_eq!(
        (p.signed_units, p.closed_cycles, p.avg_px_open, p.realized_pnl),
        (1, 2, 99.0, 0.0)
    );
    assert!(close(p.prior_realized_pnl, 0.97 + 1.93));
    assert_eq!(b.netting_position(0, 0).unwrap(), Some(0));
    assert_eq!(b.position_count(), 1);
}

#[test]
fn netting_flip_keeps_closed_pnl() {
    let mut b = book();
    let r = b.apply(&f(0, BUY, 10, 100.0, 1.0, None)).unwrap();
    assert_eq!((r.position_id, r.flipped_to, r.closed), (0, None, false));
    let r = b.apply(&f(0, SELL, 15, 110.0, 3.0, None)).unwrap();
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
fn hedging_positions_are_independent() {
    let mut b = book();
    let long = b.apply(&f(1, BUY, 5, 10.0, 0.0, None)).unwrap().position_id;
    let short = b.apply(&f(1, SELL, 3, 11.0, 0.0, None)).unwrap().position_id;
    assert_ne!(long, short);
    assert_eq!(b.position(long).unwrap().signed_units, 5);
    assert_eq!(b.position(short).unwrap().signed_units, -3);
    let e = b.exposure("U").unwrap();
    assert_eq!(
        (e.net, e.long, e.short, e.hedging, e.netting, e.open_positions),
        (2.0, 5.0, 3.0, 2.0, 0.0, 2)
    );
    // Reduce the named long; the short is untouched.
    let r = b.apply(&f(1, SELL, 2, 12.0, 0.0, Some(long))).unwrap();
    assert_eq!((r.position_id, r.realized_pnl), (long, 4.0));
    assert_eq!(b.position(short).unwrap().signed_units, -3);
    // Extend the short.
    b.apply(&f(1, SELL, 1, 7.0, 0.0, Some(short))).unwrap();
    assert_eq!(b.position(short).unwrap().avg_px_open, 10.0);
    // Close the short exactly: it is closed; naming it again is refused.
    let r = b.apply(&f(1, BUY, 4, 9.0, 0.0, Some(short))).unwrap();
    assert!(r.closed);
    assert_eq!(b.position(short).unwrap().realized_pnl, 4.0);
    let err = b.apply(&f(1, BUY, 1, 9.0, 0.0, Some(short))).unwrap_err();
    assert_eq!(err.field(), "position_id");
    assert_eq!(b.open_positions(1, 0).unwrap(), &[long]);
}

#[test]
fn hedging_overshoot_opens_a_new_position_with_the_excess() {
    let mut b = book();
    let id = b.apply(&f(1, BUY, 2, 10.0, 0.0, None)).unwrap().position_id;
    let r = b.apply(&f(1, SELL, 5, 12.0, 0.5, Some(id))).unwrap();
    let new = r.flipped_to.unwrap();
    assert_ne!(new, id);
    let old = *b.position(id).unwrap();
    assert_eq!((old.signed_units, old.realized_pnl), (0, 4.0 - 0.2));
    let p = *b.position(new).unwrap();
    assert_eq!((p.signed_units, p.avg_px_open, p.realized_pnl), (-3, 12.0, -0.3));
    assert_eq!(b.open_positions(1, 0).unwrap(), &[new]);
}

#[rstest]
#[case::unknown(f(1, SELL, 1, 10.0, 0.0, Some(99)), "position_id")]
#[case::other_venue(f(1, SELL, 1, 10.0, 0.0, Some(0)), "position_id")]
#[case::netting_tag(f(0, SELL, 1, 10.0, 0.0, Some(1)), "position_id")]
#[case::zero_qty(f(0, BUY, 0, 10.0, 0.0, None), "quantity")]
#[case::huge_qty(f(0, BUY, 1 << 53, 10.0, 0.0, None), "quantity")]
#[case::nan_price(f(0, BUY, 1, f64::NAN, 0.0, None), "price")]
#[case::negative_price(f(0, BUY, 1, -1.0, 0.0, None), "price")]
#[case::zero_price(f(0, BUY, 1, 0.0, 0.0, None), "price")]
#[case::inf_price(f(0, BUY, 1, f64::INFINITY, 0.0, None), "price")]
#[case::nan_commission(f(0, BUY, 1, 10.0, f64::NAN, None), "commission")]
#[case::unknown_venue(Fill { venue: 7, ..f(0, BUY, 1, 10.0, 0.0, None) }, "venue")]
#[case::unknown_instrument(Fill { instrument: 3, ..f(0, BUY, 1, 10.0, 0.0, None) }, "instrument")]
fn bad_fills_name_the_field_and_change_nothing(#[case] fill: Fill, #[case] field: &str) {
    let mut b = book();
    b.apply(&f(0, BUY, 2, 10.0, 0.0, None)).unwrap(); // id 0: NETTING
    b.apply(&f(1, BUY, 2, 10.0, 0.0, None)).unwrap(); // id 1: HEDGING
    let before = b.clone();
    let err = b.apply(&fill).unwrap_err();
    assert_eq!(err.field(), field, "{err}");
    assert_eq!(b, before);
    if field == "venue" {
        assert!(matches!(err, SorError::UnknownVenue { .. }));
    } else {
        assert!(matches!(err, SorError::InvalidInput { .. }));
    }
}

#[test]
fn batch_is_atomic_and_names_the_row() {
    let mut b = book();
    b.apply(&f(1, BUY, 2, 10.0, 0.0, None)).unwrap();
    let before = b.clone();
    let bad_value = [f(0, BUY, 1, 10.0, 0.0, None), f(0, SELL, 1, f64::NAN, 0.0, None)];
    assert_eq!(b.apply_batch(&bad_value).unwrap_err().field(), "prices[1]");
    assert_eq!(b, before);
    // State refusal: row 2 names position 0, which row 1 closed. Rows 0 and 1 are undone.
    let bad_state = [
        f(0, BUY, 3, 10.0, 0.0, None),
        f(1, SELL, 2, 11.0, 0.0, Some(0)),
        f(1, SELL, 1, 11.0, 0.0, Some(0)),
    ];
    assert_eq!(b.apply_batch(&bad_state).unwrap_err().field(), "position_ids[2]");
    assert_eq!(b, before);
    // The same batch without the bad row equals the fills applied one by one.
    let good = &bad_state[..2];
    let ids = b.apply_batch(good).unwrap();
    let mut one_by_one = before.clone();
    let single: Vec<u64> = good
        .iter()
        .map(|x| one_by_one.apply(x).unwrap().resulting_id())
        .collect();
    assert_eq!(ids, single);
    assert_eq!(b, one_by_one);
}

#[test]
fn exposure_across_venues_instruments_and_oms() {
    let mut b = book();
    let perp = b
        .add_instrument(InstrumentSpec::new("X-PERP", "U", 3, 1.0, None).unwrap())
        .unwrap();
    let other = b
        .add_instrument(InstrumentSpec::new("Y", "W", 0, 1.0, None).unwrap())
        .unwrap();
    let c = b.add_venue("C", OmsType::Netting).unwrap();
    b.apply(&f(0, BUY, 2, 100.0, 0.0, None)).unwrap();
    b.apply(&Fill {
        instrument: perp,
        ..f(1, SELL, 500, 100.0, 0.0, None)
    })
    .unwrap();
    b.apply(&Fill {
        instrument: perp,
        ..f(1, BUY, 250, 100.0, 0.0, None)
    })
    .unwrap();
    b.apply(&Fill {
        instrument: perp,
        ..f(c, SELL, 1250, 100.0, 0.0, None)
    })
    .unwrap();
    b.apply(&Fill {
        instrument: other,
        ..f(c, BUY, 9, 100.0, 0.0, None)
    })
    .unwrap();
    let e = b.exposure("U").unwrap();
    // N +2, H -0.5 +0.25, C -1.25.
    assert!(close(e.net, 0.5));
    assert!(close(e.long, 2.25));
    assert!(close(e.short, 1.75));
    assert!(close(e.netting, 0.75));
    assert!(close(e.hedging, -0.25));
    assert_eq!(e.by_venue.len(), 3);
    assert!(close(e.by_venue[2], -1.25));
    assert_eq!(e.open_positions, 4);
    assert_eq!(b.net_exposure("W").unwrap(), 9.0);
    assert_eq!(b.net_exposure("Z").unwrap_err().field(), "underlying");
}

#[test]
fn registration_is_validated() {
    let mut b = PositionBook::new();
    b.add_venue("A", OmsType::Netting).unwrap();
    assert_eq!(b.add_venue("A", OmsType::Hedging).unwrap_err().field(), "name");
    assert_eq!(b.add_venue(" ", OmsType::Hedging).unwrap_err().field(), "name");
    let cases = [
        (InstrumentSpec::new("", "U", 0, 1.0, None), "name"),
        (InstrumentSpec::new("X", "", 0, 1.0, None), "underlying"),
        (InstrumentSpec::new("X", "U", 17, 1.0, None), "size_precision"),
        (InstrumentSpec::new("X", "U", 0, 0.0, None), "multiplier"),
        (InstrumentSpec::new("X", "U", 0, f64::NAN, None), "multiplier"),
        (InstrumentSpec::new("X", "U", 0, 1.0, Some(17)), "currency_precision"),
    ];
    for (result, field) in cases {
        assert_eq!(result.unwrap_err().field(), field);
    }
    b.add_instrument(InstrumentSpec::new("X", "U", 0, 1.0, None).unwrap())
        .unwrap();
    let dup = InstrumentSpec::new("X", "V", 0, 1.0, None).unwrap();
    assert_eq!(b.add_instrument(dup).unwrap_err().field(), "name");
    assert_eq!(b.venue_id("B").unwrap_err().field(), "venue");
    assert_eq!(b.instrument_id("Y").unwrap_err().field(), "instrument");
    assert_eq!(b.position(0).unwrap_err().field(), "position_id");
    assert_eq!(b.unrealized_pnl(0, f64::NAN).unwrap_err().field(), "mark_price");
}

// ----- properties -----

#[derive(Debug, Clone)]
struct RawFill {
    venue: u32,
    instrument: u32,
    buy: bool,
    quantity: u64,
    price: f64,
    commission: f64,
    position_id: Option<u64>,
}

impl RawFill {
    fn fill(&self) -> Fill {
        Fill {
            venue: self.venue,
            instrument: self.instrument,
            side: if self.buy { BUY } else { SELL },
            quantity: self.quantity,
            price: self.price,
            commission: self.commission,
            position_id: self.position_id,
        }
    }
}

fn any_price() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => (1u32..2000).prop_map(|t| f64::from(t) / 10.0),
        1 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(0.0),
        1 => Just(-1.0),
    ]
}

fn any_fill() -> impl Strategy<Value = RawFill> {
    (
        prop_oneof![9 => 0u32..2, 1 => 0u32..5],
        prop_oneof![9 => 0u32..2, 1 => 0u32..5],
        any::<bool>(),
        prop_oneof![8 => 1u64..20, 1 => Just(0u64), 1 => any::<u64>()],
        any_price(),
        prop_oneof![6 => Just(0.0), 3 => (-100i32..100).prop_map(|c| f64::from(c) / 100.0), 1 => any::<f64>()],
        prop_oneof![5 => Just(None), 5 => (0u64..12).prop_map(Some), 1 => any::<u64>().prop_map(Some)],
    )
        .prop_map(
            |(venue, instrument, buy, quantity, price, commission, position_id)| RawFill {
                venue,
                instrument,
                buy,
                quantity,
                price,
                commission,
                position_id,
            },
        )
}

/// Two venues (NETTING, HEDGING) and two instruments, one of them with money rounding.
fn prop_book() -> PositionBook {
    netting_hedging_book([
        InstrumentSpec::new("X", "U", 0, 1.0, None).unwrap(),
        InstrumentSpec::new("Y", "U", 2, 10.0, Some(2)).unwrap(),
    ])
}

/// Aggregates agree with the positions; open lists hold exactly the open positions.
fn check_consistent(b: &PositionBook) {
    for v in 0..2u32 {
        for i in 0..2u32 {
            let open = b.open_positions(v, i).unwrap();
            let mut net = 0i128;
            for &id in open {
                let p = b.position(id).unwrap();
                assert!(p.is_open());
                assert_eq!((p.venue, p.instrument), (v, i));
                net += p.signed_units;
            }
            assert_eq!(b.net_units(v, i).unwrap(), net);
            let mut sorted = open.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), open.len());
        }
    }
    let listed: usize = (0..2)
        .flat_map(|v| (0..2).map(move |i| (v, i)))
        .map(|(v, i)| b.open_positions(v, i).unwrap().len())
        .sum();
    let mut open_count = 0;
    for id in 0..b.position_count() as u64 {
        let p = b.position(id).unwrap();
        if p.is_open() {
            open_count += 1;
        }
        // Within a cycle buys minus sells is the signed quantity; peak bounds the quantity.
        assert_eq!(p.buy_units as i128 - p.sell_units as i128, p.signed_units);
        assert!(p.quantity_units() <= p.peak_units);
        assert!(p.event_count >= 1);
    }
    assert_eq!(listed, open_count);
    let e = b.exposure("U").unwrap();
    assert_eq!(e.open_positions, open_count);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_fill_sequence_is_safe_and_consistent(fills in prop::collection::vec(any_fill(), 0..60)) {
        let mut b = prop_book();
        for raw in &fills {
            let before = b.clone();
            match b.apply(&raw.fill()) {
                Ok(r) => {
                    prop_assert!(b.position(r.position_id).is_ok());
                    prop_assert!(b.position(r.resulting_id()).is_ok());
                }
                Err(_) => prop_assert_eq!(&b, &before),
            }
            check_consistent(&b);
        }
    }

    #[test]
    fn batch_equals_singles_or_changes_nothing(
        prefix in prop::collection::vec(any_fill(), 0..20),
        batch in prop::collection::vec(any_fill(), 0..30),
    ) {
        let mut b = prop_book();
        for raw in &prefix {
            let _ = b.apply(&raw.fill());
        }
        let before = b.clone();
        let fills: Vec<Fill> = batch.iter().map(RawFill::fill).collect();
        let mut singles = b.clone();
        let single: Result<Vec<u64>, SorError> =
            fills.iter().map(|x| singles.apply(x).map(|r| r.resulting_id())).collect();
        match b.apply_batch(&fills) {
            Ok(ids) => {
                prop_assert_eq!(Ok(ids), single);
                prop_assert_eq!(&b, &singles);
            }
            Err(_) => {
                prop_assert!(single.is_err());
                prop_assert_eq!(&b, &before);
            }
        }
        check_consistent(&b);
    }

    /// Average-cost accounting conserves money: realised + unrealised at a mark equals the cash
    /// flows plus the net position at the mark (no commissions, no rounding, multiplier 1).
    #[test]
    fn pnl_matches_cash_flows(
        steps in prop::collection::vec((any::<bool>(), any::<bool>(), 1u64..50, 1u32..2000, 0u64..8), 1..80),
        mark in 1u32..2000,
    ) {
        let mut b = prop_book();
        let mut cash = [0.0f64; 2];
        let mut gross = 1.0f64;
        for (hedging, buy, qty, px, pick) in steps {
            let venue = u32::from(hedging);
            let price = f64::from(px) / 10.0;
            let open = b.open_positions(venue, 0).unwrap();
            let position_id = if hedging && pick < open.len() as u64 { Some(open[pick as usize]) } else { None };
            let side = if buy { BUY } else { SELL };
            let fill = Fill { venue, instrument: 0, side, quantity: qty, price, commission: 0.0, position_id };
            b.apply(&fill).unwrap();
            let flow = qty as f64 * price;
            cash[venue as usize] += if buy { -flow } else { flow };
            gross += flow;
        }
        let mark = f64::from(mark) / 10.0;
        for venue in 0..2u32 {
            let pnl = b.realized_pnl(venue, 0).unwrap() + b.pair_unrealized_pnl(venue, 0, mark).unwrap();
            let expected = cash[venue as usize] + b.net_units(venue, 0).unwrap() as f64 * mark;
            prop_assert!((pnl - expected).abs() <= 1e-9 * gross, "venue {}: {} vs {}", venue, pnl, expected);
        }
    }
}
