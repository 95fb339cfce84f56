//! Passive venue selection and the decayed tape: hand-checked cases (numbers worked out on paper from
//! `passive.rs`'s formula) and a property that no input panics.

use proptest::prelude::*;
use sor_core::{Ladder, Level, Router, RouterParams, Side, SorError, VenueSpec};

const S: u64 = 1_000_000_000; // one second in ns
const T0: u64 = 1_723_075_200 * S; // a realistic clock

fn lv(price: f64, size: u64) -> Level {
    Level { price, size }
}

/// No latency risk (volatility 0), tape time constant 30 s.
fn params() -> RouterParams {
    RouterParams {
        volatility: 0.0,
        ..RouterParams::default()
    }
}

fn venue(name: &str, maker: f64, taker: f64, latency_ms: f64) -> VenueSpec {
    VenueSpec::new(name, maker, taker, latency_ms, 1, 0, true).unwrap()
}

/// Bid 99.9 x `bid_size`, ask 100.1 x 10: mid 100, half spread 0.1 / 100 = 10 bps.
fn book(bid_size: u64) -> Option<Ladder> {
    Some(
        Ladder::new(
            vec![lv(99.9, bid_size), lv(99.8, 50)],
            vec![lv(100.1, 10), lv(100.2, 50)],
        )
        .unwrap(),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * (1.0 + b.abs())
}

#[test]
fn decayed_rate_is_volume_over_tau_and_fades_with_e() {
    let mut r = Router::new(vec![venue("A", 0.0, 0.0, 1.0)], params()).unwrap();
    r.record_trade(0, Side::Sell, 300, T0).unwrap();
    // 300 units just traded, tau 30 s: 10 units/s; one tau later 10/e; buyers saw nothing.
    assert!(close(r.tape_rate(0, Side::Sell, T0).unwrap(), 10.0));
    assert!(close(
        r.tape_rate(0, Side::Sell, T0 + 30 * S).unwrap(),
        10.0 / std::f64::consts::E
    ));
    assert_eq!(r.tape_rate(0, Side::Buy, T0 + 30 * S).unwrap(), 0.0);
    // Another 100 at T0 + 30 s: (300/e + 100) / 30.
    r.record_trade(0, Side::Sell, 100, T0 + 30 * S).unwrap();
    let expected = (300.0 / std::f64::consts::E + 100.0) / 30.0;
    assert!(close(r.tape_rate(0, Side::Sell, T0 + 30 * S).unwrap(), expected));
    // A decision time before the latest trade reads the tape as of that trade (clamped).
    assert!(close(r.tape_rate(0, Side::Sell, T0).unwrap(), expected));
}

#[test]
fn out_of_order_trades_give_the_same_tape() {
    let mut in_order = Router::new(vec![venue("A", 0.0, 0.0, 1.0)], params()).unwrap();
    let mut shuffled = in_order.clone();
    let trades = [(T0, 300), (T0 + 10 * S, 50), (T0 + 30 * S, 100)];
    for &(ts, size) in &trades {
        in_order.record_trade(0, Side::Buy, size, ts).unwrap();
    }
    for &i in &[2, 0, 1] {
        let (ts, size) = trades[i];
        shuffled.record_trade(0, Side::Buy, size, ts).unwrap();
    }
    let now = T0 + 45 * S;
    let a = in_order.tape_rate(0, Side::Buy, now).unwrap();
    let b = shuffled.tape_rate(0, Side::Buy, now).unwrap();
    // (300 e^-1.5 + 50 e^-(35/30) + 100 e^-0.5) / 30
    let expected = (300.0 * (-1.5f64).exp() + 50.0 * (-35.0f64 / 30.0).exp() + 100.0 * (-0.5f64).exp()) / 30.0;
    assert!(close(a, expected), "{a} vs {expected}");
    assert!(close(b, expected), "{b} vs {expected}");
}

#[test]
fn score_is_the_rest_then_cross_cost_and_p_is_capped_at_one() {
    let mut r = Router::new(vec![venue("A", 0.0002, 0.0005, 1.0)], params()).unwrap();
    r.set_book(0, book(10)).unwrap();
    r.record_trade(0, Side::Sell, 60, T0).unwrap(); // 2 units/s sold into the bids
                                                    // p = 2 * 5 / (10 queued + 10 ours) = 0.5; 0.5 * (2 - 10) + 0.5 * (5 + 10) = 3.5 bps.
    let sel = r.select_passive(Side::Buy, 10, 5.0, T0).unwrap();
    let q = &sel.best;
    assert_eq!((q.venue, q.qty, q.queue_ahead), (0, 10, 10));
    assert_eq!(q.expected_price, 99.9);
    assert!(close(q.mid, 100.0));
    assert!(close(q.rate_against, 2.0));
    assert!(close(q.fill_probability, 0.5));
    assert!(close(q.half_spread_bps, 10.0));
    assert!(close(q.fee_bps, 3.5));
    assert_eq!(q.latency_bps, 0.0);
    assert!(close(q.score_bps, 3.5), "{}", q.score_bps);
    // A 100 s horizon: 2 * 100 / 20 = 10, capped at 1: all maker, 2 - 10 = -8 bps.
    let q = r.select_passive(Side::Buy, 10, 100.0, T0).unwrap().best;
    assert_eq!(q.fill_probability, 1.0);
    assert!(close(q.score_bps, -8.0), "{}", q.score_bps);
    // No tape at all: p = 0, a taker's cost 5 + 10 = 15 bps.
    let q = r.select_passive(Side::Sell, 10, 5.0, T0).unwrap().best;
    assert_eq!((q.fill_probability, q.expected_price), (0.0, 100.1));
    assert!(close(q.score_bps, 15.0), "{}", q.score_bps);
}

#[test]
fn latency_risk_is_the_taker_models_term() {
    // 1e-4 per sqrt(s) * sqrt(0.025 s) = 1.5811e-6 = 0.015811 bps.
    let mut r = Router::new(vec![venue("A", 0.0, 0.0, 25.0)], RouterParams::default()).unwrap();
    r.set_book(0, book(10)).unwrap();
    let q = r.select_passive(Side::Buy, 10, 5.0, T0).unwrap().best;
    assert!(close(q.latency_bps, 1e-4 * 0.025f64.sqrt() * 1e4));
    assert!(close(q.score_bps, 10.0 + q.latency_bps));
}

/// Bid `mid - 0.1` x 10, ask `mid + 0.1` x 10 (a 0.2 spread), 50 more a level behind.
fn book_at(mid: f64) -> Option<Ladder> {
    Some(
        Ladder::new(
            vec![lv(mid - 0.1, 10), lv(mid - 0.2, 50)],
            vec![lv(mid + 0.1, 10), lv(mid + 0.2, 50)],
        )
        .unwrap(),
    )
}

#[test]
fn a_venue_standing_above_the_others_costs_a_buyer_its_basis() {
    // A at mid 100, B at mid 101 (a basis of 1), same fees, spread, queue and tape. Consolidated: best bid
    // 100.9 (B), best ask 100.1 (A): the books cross across venues, mid (100.9 + 100.1) / 2 = 100.5.
    let mut r = Router::new(
        vec![venue("A", 0.0002, 0.0005, 1.0), venue("B", 0.0002, 0.0005, 1.0)],
        params(),
    )
    .unwrap();
    r.set_book(0, book_at(100.0)).unwrap();
    r.set_book(1, book_at(101.0)).unwrap();
    for v in 0..2 {
        r.record_trade(v, Side::Sell, 60, T0).unwrap(); // 2 units/s sold into the bids
        r.record_trade(v, Side::Buy, 60, T0).unwrap(); // and bought from the asks
    }
    assert!(close(r.reference_price(Side::Buy, None).unwrap(), 100.5));
    // p = 2 * 5 / (10 + 10) = 0.5 at both. At its own mid m (half spread 0.1 / m):
    //   at_mid(m) = 0.5 * (2 - 1e3 / m) + 0.5 * (5 + 1e3 / m) = 3.5 bps (the spread terms cancel at p = 0.5),
    // and the score on the reference 100.5 is side * (m - 100.5) / 100.5 * 1e4 + 3.5 * m / 100.5.
    let score = |side: f64, m: f64| side * (m - 100.5) / 100.5 * 1e4 + 3.5 * m / 100.5;
    let buy = r.select_passive(Side::Buy, 10, 5.0, T0).unwrap();
    let (a, b) = (buy.candidates[0].clone().unwrap(), buy.candidates[1].clone().unwrap());
    assert!(close(a.reference_price, 100.5) && close(b.reference_price, 100.5));
    assert!(
        close(a.score_bps, score(1.0, 100.0)),
        "{} vs {}",
        a.score_bps,
        score(1.0, 100.0)
    ); // -46.3 bps
    assert!(
        close(b.score_bps, score(1.0, 101.0)),
        "{} vs {}",
        b.score_bps,
        score(1.0, 101.0)
    ); // +53.2 bps
    assert_eq!(buy.best.venue, 0, "a buyer rests where the price is lower");
    // A seller: the same venues, the other way round.
    let sell = r.select_passive(Side::Sell, 10, 5.0, T0).unwrap();
    assert_eq!(sell.best.venue, 1, "a seller rests where the price is higher");
    assert!(
        close(sell.best.score_bps, score(-1.0, 101.0)),
        "{}",
        sell.best.score_bps
    );
    // With one venue disabled, the other is its own reference: the score is its cost at its mid.
    r.set_enabled(1, false).unwrap();
    let alone = r.select_passive(Side::Buy, 10, 5.0, T0).unwrap().best;
    assert!(
        close(alone.reference_price, 100.0) && close(alone.score_bps, 3.5),
        "{}",
        alone.score_bps
    );
}

#[test]
fn busy_tape_beats_quiet_venue_and_maker_fees_decide_when_both_fill() {
    let mut r = Router::new(
        vec![venue("QUIET", 0.0002, 0.0005, 1.0), venue("BUSY", 0.0002, 0.0005, 1.0)],
        params(),
    )
    .unwrap();
    r.set_book(0, book(10)).unwrap();
    r.set_book(1, book(10)).unwrap();
    r.record_trade(0, Side::Sell, 3, T0).unwrap(); // 0.1/s: p = 0.025
    r.record_trade(1, Side::Sell, 60, T0).unwrap(); // 2/s: p = 0.5
    assert_eq!(r.select_passive(Side::Buy, 10, 5.0, T0).unwrap().best.venue, 1);
    // Aggressive buyers do not fill a resting buy: for a sell the venues are equal (tie -> venue order).
    assert_eq!(r.select_passive(Side::Sell, 10, 5.0, T0).unwrap().best.venue, 0);

    // Both tapes fill the order for sure (p = 1 on both): the lower maker fee wins although the
    // other venue's tape is ten times busier.
    let mut r = Router::new(
        vec![venue("BUSY", 0.0003, 0.0005, 1.0), venue("CHEAP", -0.0001, 0.0005, 1.0)],
        params(),
    )
    .unwrap();
    r.set_book(0, book(10)).unwrap();
    r.set_book(1, book(10)).unwrap();
    r.record_trade(0, Side::Sell, 6000, T0).unwrap();
    r.record_trade(1, Side::Sell, 600, T0).unwrap();
    let sel = r.select_passive(Side::Buy, 10, 5.0, T0).unwrap();
    assert_eq!(sel.best.venue, 1);
    let scores: Vec<f64> = sel.candidates.iter().map(|c| c.as_ref().unwrap().score_bps).collect();
    assert!(
        close(scores[0], 3.0 - 10.0) && close(scores[1], -1.0 - 10.0),
        "{scores:?}"
    );
}

#[test]
fn ties_go_to_lower_latency_then_venue_order() {
    let make = |lat_a: f64, lat_b: f64| {
        let mut r = Router::new(vec![venue("A", 0.0, 0.0, lat_a), venue("B", 0.0, 0.0, lat_b)], params()).unwrap();
        r.set_book(0, book(10)).unwrap();
        r.set_book(1, book(10)).unwrap();
        r
    };
    assert_eq!(
        make(5.0, 5.0).select_passive(Side::Buy, 1, 5.0, T0).unwrap().best.venue,
        0
    );
    assert_eq!(
        make(5.0, 2.0).select_passive(Side::Buy, 1, 5.0, T0).unwrap().best.venue,
        1
    );
}

#[test]
fn every_venue_is_explained() {
    let venues = vec![
        venue("OK", 0.0, 0.0, 1.0),
        venue("NOBOOK", 0.0, 0.0, 1.0),
        venue("ASKS", 0.0, 0.0, 1.0),
        venue("BIDS", 0.0, 0.0, 1.0),
        VenueSpec::new("OFF", 0.0, 0.0, 1.0, 1, 0, false).unwrap(),
        VenueSpec::new("LOTS", 0.0, 0.0, 1.0, 4, 0, true).unwrap(),
    ];
    let mut r = Router::new(venues, params()).unwrap();
    r.set_book(0, book(10)).unwrap();
    r.set_book(2, Some(Ladder::new(vec![], vec![lv(100.1, 5)]).unwrap()))
        .unwrap();
    r.set_book(3, Some(Ladder::new(vec![lv(99.9, 5)], vec![]).unwrap()))
        .unwrap();
    r.set_book(4, book(10)).unwrap();
    r.set_book(5, book(10)).unwrap();
    let sel = r.select_passive(Side::Buy, 10, 5.0, T0).unwrap();
    assert_eq!(sel.best.venue, 0);
    let reasons: Vec<Option<&str>> = sel
        .candidates
        .iter()
        .map(|c| c.as_ref().err().map(String::as_str))
        .collect();
    assert_eq!(
        reasons,
        vec![
            None,
            Some("no book data"),
            Some("one-sided book: no bid to join"),
            Some("one-sided book: no ask to price the spread"),
            Some("disabled"),
            Some("quantity 10 does not fit lot size 4 / minimum 0"),
        ]
    );
    // A sell joins the asks: the asks-only venue lacks the bid that prices the spread.
    let sel = r.select_passive(Side::Sell, 12, 5.0, T0).unwrap();
    assert_eq!(
        sel.candidates[2].as_ref().unwrap_err(),
        "one-sided book: no bid to price the spread"
    );
    assert_eq!(
        sel.candidates[3].as_ref().unwrap_err(),
        "one-sided book: no ask to join"
    );
    assert!(sel.candidates[5].is_ok());
    // Nothing eligible: the error lists every venue's reason.
    r.set_enabled(0, false).unwrap();
    r.set_enabled(5, false).unwrap();
    match r.select_passive(Side::Buy, 10, 5.0, T0).unwrap_err() {
        SorError::NoEligibleVenue { field, reason, .. } => {
            assert_eq!(field, "quantity");
            assert!(
                reason.contains("NOBOOK: no book data") && reason.contains("OK: disabled"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_arguments_name_the_field() {
    let mut r = Router::new(vec![venue("A", 0.0, 0.0, 1.0)], params()).unwrap();
    r.set_book(0, book(10)).unwrap();
    assert_eq!(r.select_passive(Side::Buy, 0, 5.0, T0).unwrap_err().field(), "quantity");
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(r.select_passive(Side::Buy, 1, h, T0).unwrap_err().field(), "horizon_s");
    }
    assert_eq!(r.record_trade(0, Side::Buy, 0, T0).unwrap_err().field(), "size");
    assert!(matches!(
        r.record_trade(1, Side::Buy, 1, T0),
        Err(SorError::UnknownVenue { .. })
    ));
    assert!(matches!(
        r.tape_rate(7, Side::Buy, T0),
        Err(SorError::UnknownVenue { .. })
    ));
    for tau in [0.0, -3.0, f64::NAN] {
        let bad = RouterParams {
            tape_tau_s: tau,
            ..params()
        };
        assert_eq!(
            Router::new(vec![venue("A", 0.0, 0.0, 1.0)], bad).unwrap_err().field(),
            "tape_tau_s"
        );
    }
    // Clearing the tapes forgets every trade.
    r.record_trade(0, Side::Sell, 30, T0).unwrap();
    r.clear_tapes();
    assert_eq!(r.tape_rate(0, Side::Sell, T0).unwrap(), 0.0);
}

/// A venue: fees, latency, lot, enabled, an optional book as (bid sizes, ask sizes) around 1000.
type VenueCase = (f64, f64, f64, u64, bool, Option<(Vec<u64>, Vec<u64>)>);

fn venue_case() -> impl Strategy<Value = VenueCase> {
    (
        -0.01f64..0.1,
        0.0f64..0.1,
        0.0f64..1e4,
        prop_oneof![Just(1u64), 1u64..20, Just(u64::MAX)],
        prop::bool::weighted(0.85),
        prop::option::weighted(
            0.8,
            (
                prop::collection::vec(prop_oneof![1u64..100, Just(u64::MAX)], 0..4),
                prop::collection::vec(prop_oneof![1u64..100, Just(u64::MAX)], 0..4),
            ),
        ),
    )
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(0.0),
        Just(-1.0),
        Just(f64::MIN_POSITIVE),
        Just(1e300),
        0.0f64..100.0
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn select_passive_never_panics_and_picks_the_lowest_score(
        cases in prop::collection::vec(venue_case(), 1..5),
        trades in prop::collection::vec((0usize..5, any::<bool>(), prop_oneof![0u64..1000, Just(u64::MAX)], any::<u64>()), 0..20),
        tau in prop_oneof![Just(f64::MIN_POSITIVE), Just(1e300), 0.001f64..1000.0],
        buy in any::<bool>(),
        qty in prop_oneof![0u64..50, Just(u64::MAX)],
        horizon in any_f64(),
        now in any::<u64>(),
    ) {
        let venues = cases
            .iter()
            .enumerate()
            .map(|(i, c)| VenueSpec::new(&format!("V{i}"), c.0, c.1, c.2, c.3, 0, c.4).unwrap())
            .collect();
        let params = RouterParams { tape_tau_s: tau, ..RouterParams::default() };
        let mut r = Router::new(venues, params).unwrap();
        for (i, c) in cases.iter().enumerate() {
            if let Some((bids, asks)) = &c.5 {
                let bids = bids.iter().enumerate().map(|(k, &s)| lv(1000.0 - 0.5 * (k as f64 + 1.0), s)).collect();
                let asks = asks.iter().enumerate().map(|(k, &s)| lv(1000.0 + 0.5 * (k as f64 + 1.0), s)).collect();
                r.set_book(i, Some(Ladder::new(bids, asks).unwrap())).unwrap();
            }
        }
        for &(v, is_buy, size, ts) in &trades {
            let side = if is_buy { Side::Buy } else { Side::Sell };
            let result = r.record_trade(v, side, size, ts);
            prop_assert_eq!(result.is_ok(), v < cases.len() && size > 0);
        }
        let side = if buy { Side::Buy } else { Side::Sell };
        match r.select_passive(side, qty, horizon, now) {
            Ok(sel) => {
                prop_assert_eq!(sel.candidates.len(), cases.len());
                let scores: Vec<f64> = sel.candidates.iter().filter_map(|c| c.as_ref().ok()).map(|q| q.score_bps).collect();
                prop_assert!(scores.iter().all(|s| !s.is_nan()));
                prop_assert!(scores.iter().all(|&s| sel.best.score_bps <= s));
                for q in sel.candidates.iter().filter_map(|c| c.as_ref().ok()) {
                    prop_assert!((0.0..=1.0).contains(&q.fill_probability), "{:?}", q);
                }
            }
            Err(e) => {
                let valid = qty > 0 && horizon.is_finite() && horizon > 0.0;
                prop_assert!(!valid || matches!(e, SorError::NoEligibleVenue { .. } | SorError::InvalidInput { .. }), "{:?}", e);
            }
        }
    }
}
