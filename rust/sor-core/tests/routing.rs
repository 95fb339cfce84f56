//! Hand-checked routing cases: every number below was worked out on paper from the cost model.

use rstest::rstest;
use sor_core::{Ladder, Level, Router, RouterParams, Side, SorError, VenueSpec};

fn lv(price: f64, size: u64) -> Level {
    Level { price, size }
}

/// Fees and latency only: no latency risk, no miss cost, so costs are price plus fee.
fn plain() -> RouterParams {
    RouterParams {
        volatility: 0.0,
        latency_risk_weight: 1.0,
        miss_cost_bps: 0.0,
        ewma_alpha: 0.1,
        slippage_weight: 0.0,
        tape_tau_s: 30.0,
    }
}

/// A: 10 bps taker, asks 100x5, 101x5. B: no fee, asks 100.5x3, 102x10. Bids 99 / 99.5, mid 99.75.
fn two_venues() -> Router {
    let a = VenueSpec::new("A", 0.0, 0.001, 10.0, 1, 0, true).unwrap();
    let b = VenueSpec::new("B", 0.0, 0.0, 10.0, 1, 0, true).unwrap();
    let mut r = Router::new(vec![a, b], plain()).unwrap();
    r.set_book(
        0,
        Some(Ladder::new(vec![lv(99.0, 5)], vec![lv(100.0, 5), lv(101.0, 5)]).unwrap()),
    )
    .unwrap();
    r.set_book(
        1,
        Some(Ladder::new(vec![lv(99.5, 5)], vec![lv(100.5, 3), lv(102.0, 10)]).unwrap()),
    )
    .unwrap();
    r
}

fn allocs(r: &sor_core::SplitResult) -> Vec<(usize, u64)> {
    r.allocations.iter().map(|a| (a.venue, a.qty)).collect()
}

#[test]
fn split_takes_cheapest_all_in_levels_across_venues() {
    // Per-unit all-in: A@100 = 100.1, B@100.5 = 100.5, A@101 = 101.101, B@102 = 102.
    let r = two_venues();
    let s = r.split(Side::Buy, 10, 5, None).unwrap();
    assert_eq!(allocs(&s), vec![(0, 7), (1, 3)]);
    let a = &s.allocations[0];
    assert!((a.expected_price.unwrap() - (500.0 + 202.0) / 7.0).abs() < 1e-12);
    assert!((a.fee - 0.702).abs() < 1e-12);
    // total cost 500.5 + 301.5 + 202.202 = 1004.202 against mid 99.75
    let expected = (1004.202 / 10.0 - 99.75) / 99.75 * 1e4;
    assert!((s.score_bps - expected).abs() < 1e-9, "{} vs {}", s.score_bps, expected);
    assert_eq!(s.reference_price, Some(99.75));
}

#[test]
fn max_venues_picks_the_cheapest_single_venue() {
    // A alone: 1005 * 1.001 = 1006.005; B alone: 301.5 + 714 = 1015.5.
    let s = two_venues().split(Side::Buy, 10, 1, None).unwrap();
    assert_eq!(allocs(&s), vec![(0, 10)]);
}

#[test]
fn select_venue_walks_each_book() {
    // 5 units: A 500 * 1.001 = 500.5; B 301.5 + 204 = 505.5.
    let sel = two_venues().select_venue(Side::Buy, 5, None).unwrap();
    assert_eq!(sel.best.venue, 0);
    let b = sel.candidates[1].as_ref().unwrap();
    assert!((b.expected_price.unwrap() - 101.1).abs() < 1e-12);
    // 8 units: A 8 units at 100x5+101x3 = 803 * 1.001 = 803.803; B 301.5 + 510 = 811.5.
    assert_eq!(two_venues().select_venue(Side::Buy, 8, None).unwrap().best.venue, 0);
}

#[test]
fn sell_side_walks_bids() {
    let s = two_venues().split(Side::Sell, 10, 2, None).unwrap();
    // Sell all-in per unit (proceeds): A@99 = 98.901, B@99.5 = 99.5. B first, then A.
    assert_eq!(allocs(&s), vec![(0, 5), (1, 5)]);
    let sel = two_venues().select_venue(Side::Sell, 5, None).unwrap();
    assert_eq!(sel.best.venue, 1);
}

#[test]
fn limit_price_bounds_the_walk_and_reports_the_shortfall() {
    let err = two_venues().split(Side::Buy, 20, 5, Some(101.0)).unwrap_err();
    match err {
        SorError::InsufficientLiquidity {
            requested,
            available,
            shortfall,
            ..
        } => {
            assert_eq!((requested, available, shortfall), (20, 13, 7));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn without_books_fees_latency_and_fill_rate_decide() {
    let a = VenueSpec::new("BINANCE-FUTURES", 0.0002, 0.0004, 50.0, 1, 0, true).unwrap();
    let b = VenueSpec::new("DERIBIT", 0.0001, 0.0003, 80.0, 1, 0, true).unwrap();
    let mut r = Router::new(vec![a, b], RouterParams::default()).unwrap();
    // DERIBIT: 3 bps fee + 1e-4 * sqrt(0.08) = 0.28 bps latency; BINANCE: 4 bps + 0.22 bps.
    let sel = r.select_venue(Side::Buy, 100, Some(50_000.0)).unwrap();
    assert_eq!(sel.best.venue, 1);
    assert!((sel.best.score_bps - (3.0 + 1e-4 * 0.08f64.sqrt() * 1e4)).abs() < 1e-9);
    // DERIBIT starts rejecting: the miss cost moves flow to BINANCE.
    for _ in 0..20 {
        r.stats_mut(1).unwrap().record_reject();
    }
    assert_eq!(r.select_venue(Side::Buy, 100, Some(50_000.0)).unwrap().best.venue, 0);
    // No price at all still decides, in relative terms.
    let no_price = r.select_venue(Side::Buy, 1, None).unwrap();
    assert_eq!(no_price.best.expected_price, None);
}

#[test]
fn ties_break_on_latency_then_venue_order() {
    let a = VenueSpec::new("A", 0.0, 0.0, 20.0, 1, 0, true).unwrap();
    let b = VenueSpec::new("B", 0.0, 0.0, 10.0, 1, 0, true).unwrap();
    let c = VenueSpec::new("C", 0.0, 0.0, 10.0, 1, 0, true).unwrap();
    let params = RouterParams {
        volatility: 0.0,
        ..plain()
    };
    let r = Router::new(vec![a, b, c], params).unwrap();
    assert_eq!(r.select_venue(Side::Buy, 1, Some(10.0)).unwrap().best.venue, 1);
}

#[rstest]
#[case(vec![3, 4], vec![0, 0], 10, Ok(vec![(0, 6), (1, 4)]))]
#[case(vec![3, 4], vec![0, 0], 5, Err("total_qty"))]
#[case(vec![2, 4], vec![0, 0], 7, Err("total_qty"))]
#[case(vec![1, 1], vec![5, 0], 3, Ok(vec![(1, 3)]))]
#[case(vec![10, 1], vec![25, 0], 37, Ok(vec![(0, 30), (1, 7)]))]
fn lots_and_minimums_are_respected_exactly(
    #[case] lots: Vec<u64>,
    #[case] mins: Vec<u64>,
    #[case] total: u64,
    #[case] expected: Result<Vec<(usize, u64)>, &str>,
) {
    // No books: A (venue 0) is cheaper, so it takes all it can in whole lots.
    let a = VenueSpec::new("A", 0.0, 0.0001, 1.0, lots[0], mins[0], true).unwrap();
    let b = VenueSpec::new("B", 0.0, 0.0002, 1.0, lots[1], mins[1], true).unwrap();
    let r = Router::new(vec![a, b], plain()).unwrap();
    match (r.split(Side::Buy, total, 2, Some(100.0)), expected) {
        (Ok(s), Ok(want)) => assert_eq!(allocs(&s), want),
        (Err(e), Err(field)) => assert_eq!(e.field(), field, "{e}"),
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

#[rstest]
#[case(0, 1, None, "total_qty")]
#[case(5, 0, None, "max_venues")]
#[case(5, 1, Some(f64::NAN), "limit_price")]
#[case(5, 1, Some(-1.0), "limit_price")]
fn bad_requests_name_the_field(#[case] qty: u64, #[case] max: usize, #[case] limit: Option<f64>, #[case] field: &str) {
    assert_eq!(
        two_venues().split(Side::Buy, qty, max, limit).unwrap_err().field(),
        field
    );
}

#[test]
fn bad_routers_name_the_field() {
    let a = VenueSpec::new("A", 0.0, 0.0, 1.0, 1, 0, true).unwrap();
    assert_eq!(Router::new(vec![], plain()).unwrap_err().field(), "venues");
    assert_eq!(
        Router::new(vec![a.clone(), a.clone()], plain()).unwrap_err().field(),
        "venues[1].name"
    );
    let bad = RouterParams {
        volatility: f64::NAN,
        ..plain()
    };
    assert_eq!(Router::new(vec![a], bad).unwrap_err().field(), "volatility");
    assert!(matches!(
        two_venues().venue_index("C"),
        Err(SorError::UnknownVenue { .. })
    ));
}

#[test]
fn disabled_and_bookless_venues_are_skipped_with_reasons() {
    let mut r = two_venues();
    r.set_enabled(0, false).unwrap();
    let sel = r.select_venue(Side::Buy, 3, None).unwrap();
    assert_eq!(sel.best.venue, 1);
    assert_eq!(sel.candidates[0].as_ref().unwrap_err(), "disabled");
    r.set_enabled(0, true).unwrap();
    r.set_book(1, None).unwrap();
    let sel = r.select_venue(Side::Buy, 3, None).unwrap();
    assert_eq!(sel.candidates[1].as_ref().unwrap_err(), "no book data");
    // With A disabled no enabled venue has a book: B is chosen on fees alone, with no price.
    r.set_enabled(0, false).unwrap();
    let sel = r.select_venue(Side::Buy, 3, None).unwrap();
    assert_eq!((sel.best.venue, sel.best.expected_price), (1, None));
    r.set_enabled(1, false).unwrap();
    let err = r.select_venue(Side::Buy, 3, None).unwrap_err();
    assert!(matches!(err, SorError::NoEligibleVenue { .. }), "{err}");
    assert!(r.split(Side::Buy, 3, 2, None).is_err());
}

#[test]
fn quantity_fitting_no_lot_is_invalid_input() {
    let a = VenueSpec::new("A", 0.0, 0.0, 1.0, 10, 0, true).unwrap();
    let r = Router::new(vec![a], plain()).unwrap();
    let e = r.select_venue(Side::Buy, 15, None).unwrap_err();
    assert!(matches!(e, SorError::InvalidInput { .. }));
    assert_eq!(e.field(), "quantity");
}

#[test]
fn huge_lot_sizes_combine_exactly() {
    // Found by cargo fuzz: a search stepping one lot at a time hung for huge lots; the exact split steps
    // only through quantities whose rest the other venues' lots can make (criterion bench: `huge_lots`).
    for lot in [100_001u64, 1_000_000_001, 1_000_000_000_001] {
        let a = VenueSpec::new("A", 0.0, 0.0, 1.0, 2, 0, true).unwrap();
        let b = VenueSpec::new("B", 0.0, 0.0001, 50.0, lot, 0, true).unwrap();
        let r = Router::new(vec![a, b], plain()).unwrap();
        let s = r.split(Side::Buy, 4 * lot + 1, 2, None).unwrap();
        // A (lot 2, no fee) is the cheaper venue: B takes the one lot that makes the total odd.
        let b_qty: u64 = s.allocations.iter().filter(|a| a.venue == 1).map(|a| a.qty).sum();
        assert_eq!(b_qty, lot);
        assert_eq!(s.allocations.iter().map(|a| a.qty).sum::<u64>(), 4 * lot + 1);
        assert!(s
            .allocations
            .iter()
            .all(|a| a.qty % if a.venue == 0 { 2 } else { lot } == 0));
    }
}

/// Two identical venues; A has learned that its fills come 2 bps worse than its book promised.
/// The slippage term adds exactly weight x 2 bps to A's score (the reference price, mid 100, cancels), so B wins; at weight 0 they tie
/// (and venue order picks A).
#[test]
fn learned_slippage_is_priced_at_its_weight() {
    let build = |weight: f64| {
        let a = VenueSpec::new("A", 0.0, 0.0, 0.0, 1, 0, true).unwrap();
        let b = VenueSpec::new("B", 0.0, 0.0, 0.0, 1, 0, true).unwrap();
        let params = RouterParams {
            slippage_weight: weight,
            ewma_alpha: 1.0,
            ..plain()
        };
        let mut r = Router::new(vec![a, b], params).unwrap();
        for v in 0..2 {
            let book = Ladder::new(vec![lv(99.0, 10)], vec![lv(101.0, 10)]).unwrap();
            r.set_book(v, Some(book)).unwrap();
        }
        // With alpha 1 the EWMA is the last sample: (101.0202 - 101) / 101 = 2 bps.
        r.stats_mut(0).unwrap().record_fill(101.0, 101.0202, true).unwrap();
        r
    };
    let learned = build(1.0).stats(0).unwrap().slippage_bps;
    assert!((learned - 2.0).abs() < 1e-9, "{learned}");
    let sel = build(1.0).select_venue(Side::Buy, 4, None).unwrap();
    assert_eq!(sel.best.venue, 1);
    let quotes: Vec<_> = sel.candidates.iter().map(|c| c.as_ref().unwrap().clone()).collect();
    assert!((quotes[0].score_bps - quotes[1].score_bps - learned).abs() < 1e-9);
    assert!((quotes[0].slippage_cost - 4.0 * learned * 1e-4 * 100.0).abs() < 1e-9);
    assert_eq!(quotes[1].slippage_cost, 0.0);
    let doubled = build(2.0).select_venue(Side::Buy, 4, None).unwrap();
    let d: Vec<_> = doubled
        .candidates
        .iter()
        .map(|c| c.as_ref().unwrap().score_bps)
        .collect();
    assert!((d[0] - d[1] - 2.0 * learned).abs() < 1e-9);
    let off = build(0.0).select_venue(Side::Buy, 4, None).unwrap();
    assert_eq!(off.best.venue, 0);
    assert_eq!(
        off.candidates[0].as_ref().unwrap().score_bps,
        off.candidates[1].as_ref().unwrap().score_bps
    );
}
