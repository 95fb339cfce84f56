//! Properties of select/split for any input: exact conservation, lots, minimums, max_venues, no panic.

use proptest::prelude::*;
use sor_core::{Ladder, Level, Router, RouterParams, Side, SorError, VenueSpec};
use std::ops::Range;

/// Levels as (gap in half-ticks from the previous price, size).
type Gaps = Vec<(u32, u64)>;

#[derive(Debug, Clone)]
struct VenueCase {
    fee: f64,
    latency: f64,
    lot: u64,
    min: u64,
    enabled: bool,
    book: Option<(Gaps, Gaps)>,
}

fn any_side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

/// A split request over random venues (`venues` of them): (venues, side, total, max_venues, limit).
fn split_request(
    venues: Range<usize>,
    totals: Range<u64>,
    max_venues: Range<usize>,
) -> impl Strategy<Value = (Vec<VenueCase>, Side, u64, usize, Option<f64>)> {
    let limit = prop::option::of(900.0f64..1100.0);
    (
        prop::collection::vec(venue_case(), venues),
        any_side(),
        totals,
        max_venues,
        limit,
    )
}

fn venue_case() -> impl Strategy<Value = VenueCase> {
    (
        prop_oneof![Just(0.0), 0.0f64..0.01],
        0.0f64..500.0,
        prop_oneof![
            Just(1u64),
            Just(2),
            Just(3),
            Just(5),
            Just(10),
            1u64..50,
            Just(7),
            Just(11),
            Just(13)
        ],
        0u64..60,
        prop::bool::weighted(0.85),
        prop::option::weighted(
            0.8,
            (
                prop::collection::vec((1u32..30, 1u64..100), 0..8),
                prop::collection::vec((1u32..30, 1u64..100), 0..8),
            ),
        ),
    )
        .prop_map(|(fee, latency, lot, min, enabled, book)| VenueCase {
            fee,
            latency,
            lot,
            min,
            enabled,
            book,
        })
}

/// Builds a ladder from tick gaps, so prices are strictly ordered and never crossed around 1000.
fn ladder(bids: &[(u32, u64)], asks: &[(u32, u64)]) -> Ladder {
    let mut px = 1000.0;
    let bids: Vec<Level> = bids
        .iter()
        .map(|&(gap, size)| {
            px -= gap as f64 * 0.5;
            Level { price: px, size }
        })
        .collect();
    let mut px = 1000.0;
    let asks: Vec<Level> = asks
        .iter()
        .map(|&(gap, size)| {
            px += gap as f64 * 0.5;
            Level { price: px, size }
        })
        .collect();
    Ladder::new(bids, asks).expect("generated ladder is valid")
}

fn router(cases: &[VenueCase]) -> Router {
    let venues = cases
        .iter()
        .enumerate()
        .map(|(i, c)| VenueSpec::new(&format!("V{i}"), 0.0, c.fee, c.latency, c.lot, c.min, c.enabled).unwrap())
        .collect();
    let mut r = Router::new(venues, RouterParams::default()).unwrap();
    for (i, c) in cases.iter().enumerate() {
        if let Some((b, a)) = &c.book {
            r.set_book(i, Some(ladder(b, a))).unwrap();
        }
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn split_conserves_exactly_and_respects_venue_rules(
        (cases, side, total, max_venues, limit) in split_request(1..7, 1..2000, 1..8),
    ) {
        let r = router(&cases);
        match r.split(side, total, max_venues, limit) {
            Ok(s) => {
                prop_assert_eq!(s.allocations.iter().map(|a| a.qty).sum::<u64>(), total);
                prop_assert!(s.allocations.len() <= max_venues);
                for a in &s.allocations {
                    let c = &cases[a.venue];
                    prop_assert!(c.enabled);
                    prop_assert!(a.qty % c.lot == 0 && a.qty >= c.min && a.qty > 0);
                    if let (Some(l), Some(p)) = (limit, a.expected_price) {
                        // The average of levels within the limit is itself within the limit.
                        let within = if side == Side::Buy { p <= l + 1e-9 } else { p >= l - 1e-9 };
                        prop_assert!(within, "average {} outside limit {}", p, l);
                    }
                    prop_assert!(a.score_bps.is_finite());
                }
            }
            Err(SorError::InsufficientLiquidity { requested, available, shortfall, .. }) => {
                prop_assert_eq!(requested, total);
                prop_assert!(available < total);
                prop_assert_eq!(shortfall, total - available);
            }
            Err(e) => prop_assert!(!e.field().is_empty(), "error without field: {e}"),
        }
    }

    #[test]
    fn split_succeeds_and_never_costs_more_than_the_best_single_venue(
        (cases, side, total, max_venues, limit) in split_request(1..9, 1..3000, 1..9),
    ) {
        // A venue that can take the whole order alone is a valid split for any max_venues: the split
        // must find one at least as cheap (never "no eligible venue" when one exists).
        let r = router(&cases);
        if let Ok(sel) = r.select_venue(side, total, limit) {
            let split = r.split(side, total, max_venues, limit);
            prop_assert!(split.is_ok(), "select_venue fills {} on {} but split refuses: {:?}", total, sel.best.venue, split);
            let split = split.unwrap();
            let tol = 1e-7 * sel.best.score_bps.abs().max(1.0);
            prop_assert!(split.score_bps <= sel.best.score_bps + tol, "split {} > select {}", split.score_bps, sel.best.score_bps);
        }
    }

    #[test]
    fn select_never_panics_and_picks_an_eligible_venue(
        cases in prop::collection::vec(venue_case(), 1..7),
        side in any_side(),
        qty in 0u64..500,
        limit in prop::option::of(prop_oneof![900.0f64..1100.0, Just(f64::NAN), Just(-1.0), Just(f64::INFINITY)]),
    ) {
        let r = router(&cases);
        if let Ok(sel) = r.select_venue(side, qty, limit) {
            let c = &cases[sel.best.venue];
            prop_assert!(c.enabled && qty % c.lot == 0 && qty >= c.min);
            // No eligible candidate scores better than the chosen one.
            for q in sel.candidates.iter().flatten() {
                prop_assert!(q.score_bps >= sel.best.score_bps);
            }
        }
    }

    #[test]
    fn arbitrary_ladders_are_validated_not_trusted(
        bids in prop::collection::vec((any::<f64>(), any::<u64>()), 0..6),
        asks in prop::collection::vec((any::<f64>(), any::<u64>()), 0..6),
    ) {
        let to_levels = |v: &[(f64, u64)]| v.iter().map(|&(price, size)| Level { price, size }).collect::<Vec<_>>();
        if let Ok(l) = Ladder::new(to_levels(&bids), to_levels(&asks)) {
            prop_assert!(l.bids().windows(2).all(|w| w[0].price > w[1].price));
            prop_assert!(l.asks().windows(2).all(|w| w[0].price < w[1].price));
            if let (Some(b), Some(a)) = (l.best_bid(), l.best_ask()) {
                prop_assert!(b < a);
            }
        }
    }
}

proptest! {
    // The slow suite (`cargo test -p sor-core --release -- --ignored`, run by CI): 100,000 random splits.
    #![proptest_config(ProptestConfig::with_cases(100_000))]

    #[test]
    #[ignore = "slow: 1e5 cases, run by CI with --ignored"]
    fn split_conserves_exactly_at_scale(
        (cases, side, total, max_venues, limit) in split_request(1..7, 1..5000, 1..8),
    ) {
        let r = router(&cases);
        if let Ok(s) = r.split(side, total, max_venues, limit) {
            prop_assert_eq!(s.allocations.iter().map(|a| a.qty).sum::<u64>(), total);
            prop_assert!(s.allocations.len() <= max_venues);
            for a in &s.allocations {
                let c = &cases[a.venue];
                prop_assert!(c.enabled && a.qty % c.lot == 0 && a.qty >= c.min && a.qty > 0);
            }
        }
    }
}
