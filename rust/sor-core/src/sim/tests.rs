//! The consumed-liquidity rule and the book walks, against hand-worked cases.

use std::sync::Arc;

use super::*;

fn side(px: Vec<f64>, sz: Vec<f64>) -> RecordedSide {
    RecordedSide { px, sz }
}

/// Two rows of a two-level book: asks 100.0 x 2, 100.5 x 3 at t=0; 100.0 x 1.5, 100.5 x 3 at t=10.
fn book() -> Arc<RecordedBook> {
    let nan = f64::NAN;
    Arc::new(
        RecordedBook::new(
            vec![0, 10],
            2,
            side(vec![99.5, 99.0, 99.5, nan], vec![1.0, 1.0, 1.0, 0.0]),
            side(vec![100.0, 100.5, 100.0, 100.5], vec![2.0, 3.0, 1.5, 3.0]),
        )
        .unwrap(),
    )
}

#[test]
fn rows_in_force_and_bad_shapes() {
    let b = book();
    assert_eq!(
        (b.row_at(-1), b.row_at(0), b.row_at(9), b.row_at(10), b.row_at(99)),
        (None, Some(0), Some(0), Some(1), Some(1))
    );
    assert!(RecordedBook::new(
        vec![0],
        2,
        side(vec![1.0], vec![1.0, 1.0]),
        side(vec![1.0, 1.0], vec![1.0, 1.0])
    )
    .is_err());
    assert!(RecordedBook::new(
        vec![5, 1],
        1,
        side(vec![1.0; 2], vec![1.0; 2]),
        side(vec![1.0; 2], vec![1.0; 2])
    )
    .is_err());
    assert!(VenueBook::new(b, 0.0).is_err());
}

#[test]
fn a_walk_consumes_and_later_walks_see_what_is_left() {
    let mut v = VenueBook::new(book(), 0.5).unwrap();
    // 2.5 at t=0: all of 100.0 and 0.5 of 100.5.
    assert_eq!(v.take(Side::Buy, 2.5, None, 0), vec![(100.0, 2.0), (100.5, 0.5)]);
    // Same row: 100.0 is gone, 2.5 left at 100.5.
    assert_eq!(v.offered(Side::Buy, 5), vec![(100.0, 0.0), (100.5, 2.5)]);
    // t=10: 100.0 recorded 1.5 < the 2.0 we took... we left 0, and 1.5 > 0: offered min(1.5, max(2, 1.5) - 2) = 0.
    assert_eq!(v.offered(Side::Buy, 10)[0], (100.0, 0.0));
    // A limit stops the walk.
    assert_eq!(v.take(Side::Buy, 5.0, Some(100.0), 10), vec![]);
    // The other side is untouched.
    assert_eq!(v.offered(Side::Sell, 0), vec![(99.5, 1.0), (99.0, 1.0)]);
}

#[test]
fn growth_above_the_reference_is_new_size_and_a_record_is_dropped_when_the_book_no_longer_shows_our_part() {
    let mut c = ConsumedLiquidity::default();
    c.consume(true, 7, 10.0, 4.0); // reference 10, used 4: 6 left
    assert_eq!(c.available(true, 7, 10.0), 6.0);
    assert_eq!(c.available(true, 7, 12.0), 8.0); // 2 joined after us
    assert_eq!(c.available(true, 7, 8.0), 6.0); // a decrease is first our own take showing in the book
    assert!(c.touches(true) && !c.touches(false));
    assert_eq!(c.available(true, 7, 6.0), 6.0); // at what we left: the record is dropped
    assert!(!c.touches(true));
    assert_eq!(c.available(true, 7, 10.0), 10.0);
}

#[test]
fn a_take_decided_elsewhere_is_recorded_at_the_nearest_level() {
    let mut v = VenueBook::new(book(), 0.5).unwrap();
    v.consume_at(Side::Buy, 100.5, 1.0, 0).unwrap();
    assert_eq!(v.offered(Side::Buy, 0), vec![(100.0, 2.0), (100.5, 2.0)]);
    assert!(v.consume_at(Side::Buy, 100.5, 1.0, -1).is_err());
}
