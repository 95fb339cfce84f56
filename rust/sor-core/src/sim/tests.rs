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

/// Five rows 10 ns apart: asks 100.0 recorded at `touch[r]` in row `r` (absent when 0: 100.5 is then the
/// touch), 100.5 x 3 behind it; one bid 99.5 x 1.
fn path(touch: [f64; 5]) -> Arc<RecordedBook> {
    let nan = f64::NAN;
    let (mut px, mut sz) = (Vec::new(), Vec::new());
    for s in touch {
        let (p, q) = if s > 0.0 {
            ([100.0, 100.5], [s, 3.0])
        } else {
            ([100.5, nan], [3.0, 0.0])
        };
        px.extend(p);
        sz.extend(q);
    }
    let bids = side([99.5, nan].repeat(5), [1.0, 0.0].repeat(5));
    Arc::new(RecordedBook::new(vec![0, 10, 20, 30, 40], 2, bids, side(px, sz)).unwrap())
}

#[test]
fn a_level_that_dipped_to_what_we_left_between_two_reads_is_offered_again_in_full() {
    // We take all 2 at t=0; the level empties at t=10 and refills to 2 at t=20: the recorded book
    // refreshed, so the 2 at t=20 are new size, offered in full (no read in between).
    let mut v = VenueBook::new(path([2.0, 0.0, 2.0, 2.0, 2.0]), 0.5).unwrap();
    assert_eq!(v.take(Side::Buy, 2.0, None, 0), vec![(100.0, 2.0)]);
    assert_eq!(v.offered(Side::Buy, 20)[0], (100.0, 2.0));
    // A dip to what we left (1 of 3 taken, then 2 recorded, then 3 again) refreshes the level too.
    let mut v = VenueBook::new(path([3.0, 2.0, 3.0, 3.0, 3.0]), 0.5).unwrap();
    assert_eq!(v.take(Side::Buy, 1.0, None, 0), vec![(100.0, 1.0)]);
    assert_eq!(v.offered(Side::Buy, 30)[0], (100.0, 3.0));
    // The same through the rule itself.
    let mut c = ConsumedLiquidity::default();
    c.consume(true, 200, 2.0, 2.0);
    c.observe(true, 200, 0.0);
    assert!(!c.touches(true));
    assert_eq!(c.available(true, 200, 2.0), 2.0);
    // A row that does not show the level (here pushed beyond the one level recorded) refreshes it, as the
    // Nautilus book built from the same data drops it: 100.0 x 2 at t=0, only 99.5 x 1 at t=10, 100.0 x 2
    // again at t=20.
    let one = |p: [f64; 3], s: [f64; 3]| side(p.to_vec(), s.to_vec());
    let book = RecordedBook::new(
        vec![0, 10, 20],
        1,
        one([99.0; 3], [1.0; 3]),
        one([100.0, 99.5, 100.0], [2.0, 1.0, 2.0]),
    );
    let mut v = VenueBook::new(Arc::new(book.unwrap()), 0.5).unwrap();
    assert_eq!(v.take(Side::Buy, 1.0, None, 0), vec![(100.0, 1.0)]);
    assert_eq!(v.offered(Side::Buy, 20), vec![(100.0, 2.0)]);
}

#[test]
fn a_level_that_never_dipped_to_what_we_left_keeps_our_take_off_the_book() {
    // We take 2 of 3; the level goes 3 -> 2 -> 3 (never at or below the 1 we left): still 1 for us at t=40.
    let mut v = VenueBook::new(path([3.0, 2.0, 3.0, 3.0, 3.0]), 0.5).unwrap();
    assert_eq!(v.take(Side::Buy, 2.0, None, 0), vec![(100.0, 2.0)]);
    assert_eq!(v.offered(Side::Buy, 40)[0], (100.0, 1.0));
}

#[test]
fn growth_above_the_reference_is_offered_beyond_our_take_along_the_path() {
    // We take all 2; the level grows to 5 (never dipping): the 3 that joined behind us are offered.
    let mut v = VenueBook::new(path([2.0, 4.0, 5.0, 5.0, 5.0]), 0.5).unwrap();
    assert_eq!(v.take(Side::Buy, 2.0, None, 0), vec![(100.0, 2.0)]);
    assert_eq!(v.offered(Side::Buy, 20)[0], (100.0, 3.0));
    assert_eq!(v.take(Side::Buy, 5.0, Some(100.0), 30), vec![(100.0, 3.0)]);
    assert_eq!(v.offered(Side::Buy, 40)[0], (100.0, 0.0));
}
