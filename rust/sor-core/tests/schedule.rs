//! (Over 600 lines: every schedule's hand-checked cases and properties in one test binary, so the
//! generators and checks they share are written once.)
//!
//! Child-order schedules: hand-checked cases (numbers worked out on paper) and properties.

use proptest::prelude::*;
use rstest::rstest;
use sor_core::schedule::{start_of_hour, NS_PER_HOUR, NS_PER_SECOND};
use sor_core::{
    largest_remainder, shortfall, twap, vwap, Iceberg, PovTracker, Schedule, ShortfallParams, TwapParams,
    VolumeProfile, VwapParams,
};

const S: u64 = NS_PER_SECOND;
const H: u64 = NS_PER_HOUR;

fn pairs(s: &Schedule) -> Vec<(u64, u64)> {
    s.iter().collect()
}

fn field<T: std::fmt::Debug>(r: sor_core::SorResult<T>) -> String {
    r.unwrap_err().field().to_string()
}

fn twap_p(duration: f64, interval: f64, lot: u64) -> TwapParams {
    TwapParams {
        lot_size: lot,
        ..TwapParams::new(duration, interval)
    }
}

fn is_params(duration: f64, interval: f64, lambda: f64) -> ShortfallParams {
    ShortfallParams {
        duration_seconds: duration,
        interval_seconds: interval,
        risk_aversion: lambda,
        volatility: 0.95,
        temporary_impact: 2.5e-6,
        permanent_impact: 2.5e-7,
        lot_size: 1,
    }
}

/// Checks the invariants every schedule keeps.
fn check_schedule(s: &Schedule, quantity: u64, lot: u64, duration_ns: u64) {
    assert_eq!(s.total(), quantity as u128, "sum must be exact");
    assert_eq!(s.offsets_ns.len(), s.quantities.len());
    assert!(s.len() <= s.slices);
    for (i, (t, q)) in s.iter().enumerate() {
        assert!(q > 0, "no zero children");
        assert_eq!(q % lot, 0, "child {q} not a multiple of lot {lot}");
        assert!(t < duration_ns, "offset {t} outside [0, {duration_ns})");
        if i > 0 {
            assert!(t >= s.offsets_ns[i - 1], "offsets must not decrease");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TWAP
// ---------------------------------------------------------------------------------------------

#[test]
fn twap_reference_example_one_hour_by_minute() {
    // 10_000 = 60 * 166 + 40: the first 40 slices get 167, the other 20 get 166.
    let s = twap(10_000, &TwapParams::new(3600.0, 60.0)).unwrap();
    assert_eq!(s.slices, 60);
    assert_eq!(s.len(), 60);
    for (i, (t, q)) in s.iter().enumerate() {
        assert_eq!(t, i as u64 * 60 * S);
        assert_eq!(q, if i < 40 { 167 } else { 166 });
    }
}

#[test]
fn twap_slices_are_ceil_and_last_slice_is_short() {
    // 100 s by 30 s: 4 slices at 0, 30, 60, 90 s; 10 = 4 * 2 + 2.
    let s = twap(10, &TwapParams::new(100.0, 30.0)).unwrap();
    assert_eq!(pairs(&s), vec![(0, 3), (30 * S, 3), (60 * S, 2), (90 * S, 2)]);
    // interval == duration: one child
    assert_eq!(pairs(&twap(7, &TwapParams::new(5.0, 5.0)).unwrap()), vec![(0, 7)]);
}

#[test]
fn twap_whole_lots() {
    // 50 units = 10 lots of 5 over 3 slices: 4, 3, 3 lots.
    let s = twap(50, &twap_p(3.0, 1.0, 5)).unwrap();
    assert_eq!(pairs(&s), vec![(0, 20), (S, 15), (2 * S, 15)]);
}

#[test]
fn twap_fewer_lots_than_slices_uses_the_first_slices() {
    let s = twap(3, &TwapParams::new(10.0, 1.0)).unwrap();
    assert_eq!(s.slices, 10);
    assert_eq!(pairs(&s), vec![(0, 1), (S, 1), (2 * S, 1)]);
}

#[test]
fn twap_fractional_seconds() {
    let s = twap(4, &TwapParams::new(0.4, 0.1)).unwrap();
    assert_eq!(s.offsets_ns, vec![0, 100_000_000, 200_000_000, 300_000_000]);
}

#[rstest]
#[case(TwapParams::new(60.0, 61.0), "interval_seconds")]
#[case(TwapParams::new(0.0, 1.0), "duration_seconds")]
#[case(TwapParams::new(-60.0, 1.0), "duration_seconds")]
#[case(TwapParams::new(f64::NAN, 1.0), "duration_seconds")]
#[case(TwapParams::new(f64::INFINITY, 1.0), "duration_seconds")]
#[case(TwapParams::new(60.0, 0.0), "interval_seconds")]
#[case(TwapParams::new(60.0, -1.0), "interval_seconds")]
#[case(TwapParams::new(60.0, f64::NAN), "interval_seconds")]
#[case(TwapParams::new(60.0, 1e-12), "interval_seconds")]
#[case(TwapParams::new(86_400.0 * 365.0, 0.001), "interval_seconds")]
#[case(TwapParams::new(1e12, 1.0), "duration_seconds")]
#[case(TwapParams { lot_size: 0, ..TwapParams::new(60.0, 1.0) }, "lot_size")]
#[case(TwapParams { lot_size: 3, ..TwapParams::new(60.0, 1.0) }, "quantity")]
#[case(TwapParams { size_jitter_pct: 1.5, ..TwapParams::new(60.0, 1.0) }, "size_jitter_pct")]
#[case(TwapParams { size_jitter_pct: -0.1, ..TwapParams::new(60.0, 1.0) }, "size_jitter_pct")]
#[case(TwapParams { time_jitter_pct: f64::NAN, ..TwapParams::new(60.0, 1.0) }, "time_jitter_pct")]
fn twap_bad_input_names_the_field(#[case] params: TwapParams, #[case] expected: &str) {
    assert_eq!(field(twap(100, &params)), expected);
}

#[test]
fn twap_zero_quantity_is_an_error() {
    assert_eq!(field(twap(0, &TwapParams::new(60.0, 1.0))), "quantity");
}

#[test]
fn twap_jitter_is_seeded_bounded_and_exact() {
    let p = TwapParams {
        size_jitter_pct: 0.3,
        time_jitter_pct: 0.5,
        seed: 42,
        lot_size: 10,
        ..TwapParams::new(600.0, 60.0)
    };
    let a = twap(100_000, &p).unwrap();
    assert_eq!(a, twap(100_000, &p).unwrap(), "same seed, same schedule");
    assert_ne!(a, twap(100_000, &TwapParams { seed: 43, ..p }).unwrap());
    check_schedule(&a, 100_000, 10, 600 * S);
    // 10_000 lots over 10 slices, weights in (0.7, 1.3): each quota is within
    // (1000 * 0.7/1.3, 1000 * 1.3/0.7) = (538.5, 1857.1).
    for (i, (t, q)) in a.iter().enumerate() {
        let lots = q / 10;
        assert!((538..=1858).contains(&lots), "{lots}");
        // time jitter: at most half the slice later than its start
        let start = i as u64 * 60 * S;
        assert!(t >= start && t < start + 30 * S, "{t}");
    }
    // Sizes really vary, and turning time jitter off does not change the sizes.
    assert!(a.quantities.iter().any(|&q| q != 10_000));
    let no_time = twap(
        100_000,
        &TwapParams {
            time_jitter_pct: 0.0,
            ..p
        },
    )
    .unwrap();
    assert_eq!(no_time.quantities, a.quantities);
    assert_eq!(no_time.offsets_ns, (0..10).map(|i| i * 60 * S).collect::<Vec<_>>());
}

#[test]
fn twap_full_jitter_stays_valid() {
    let p = TwapParams {
        size_jitter_pct: 1.0,
        time_jitter_pct: 1.0,
        seed: 7,
        ..TwapParams::new(10.0, 1.0)
    };
    let s = twap(1_000, &p).unwrap();
    check_schedule(&s, 1_000, 1, 10 * S);
    assert!(s.offsets_ns.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn twap_one_second_for_a_day() {
    let s = twap(1_000_000, &TwapParams::new(86_400.0, 1.0)).unwrap();
    assert_eq!(s.slices, 86_400);
    check_schedule(&s, 1_000_000, 1, 86_400 * S);
}

// ---------------------------------------------------------------------------------------------
// VWAP
// ---------------------------------------------------------------------------------------------

fn vwap_p(start: u64, duration: f64, interval: f64) -> VwapParams {
    VwapParams::new(start, duration, interval)
}

#[test]
fn vwap_slices_follow_the_hourly_profile() {
    // {9: 0.2, 10: 0.6} normalises to 0.25 / 0.75. 09:30 for an hour by 30 min: half of each hour,
    // 0.125 vs 0.375 = 1:3.
    let p = VolumeProfile::hourly(&[(9, 0.2), (10, 0.6)]).unwrap();
    let s = vwap(100, &p, &vwap_p(9 * H + H / 2, 3600.0, 1800.0)).unwrap();
    assert_eq!(pairs(&s), vec![(0, 25), (1800 * S, 75)]);
    let w = p.weights();
    assert!((w[9] - 0.25).abs() < 1e-15 && (w[10] - 0.75).abs() < 1e-15);
}

#[test]
fn vwap_slice_across_an_hour_gets_each_part() {
    // 09:50 for 40 min by 20 min: [09:50, 10:10) = 0.25/6 + 0.75/6 = 1/6; [10:10, 10:30) = 0.75/3 = 1/4.
    // 1/6 : 1/4 = 2 : 3 -> 40, 60.
    let p = VolumeProfile::hourly(&[(9, 0.2), (10, 0.6)]).unwrap();
    let s = vwap(100, &p, &vwap_p(9 * H + 50 * 60 * S, 2400.0, 1200.0)).unwrap();
    assert_eq!(pairs(&s), vec![(0, 40), (1200 * S, 60)]);
}

#[test]
fn vwap_ignores_hours_outside_the_window_and_skips_empty_slices() {
    // The big midnight weight is outside 09:00-12:00; hour 10 has nothing, so no child there.
    let p = VolumeProfile::hourly(&[(0, 100.0), (9, 1.0), (11, 1.0)]).unwrap();
    let s = vwap(100, &p, &vwap_p(9 * H, 3.0 * 3600.0, 3600.0)).unwrap();
    assert_eq!(s.slices, 3);
    assert_eq!(pairs(&s), vec![(0, 50), (2 * 3600 * S, 50)]);
}

#[test]
fn vwap_wraps_past_midnight_and_accepts_unix_timestamps() {
    // 23:00 for two hours: hour 23 (1) then hour 0 (3).
    let p = VolumeProfile::hourly(&[(23, 1.0), (0, 3.0)]).unwrap();
    let s = vwap(100, &p, &vwap_p(23 * H, 7200.0, 3600.0)).unwrap();
    assert_eq!(pairs(&s), vec![(0, 25), (3600 * S, 75)]);
    // 2023-11-14 23:00:00 UTC as a Unix timestamp in ns gives the same schedule.
    let unix = 1_700_002_800 * S;
    assert_eq!(unix % (24 * H), 23 * H);
    assert_eq!(vwap(100, &p, &vwap_p(unix, 7200.0, 3600.0)).unwrap(), s);
}

#[test]
fn vwap_bucket_curve_from_minutes() {
    // Minute buckets 1:2:3 (any scale): 600 over three one-minute slices = 100, 200, 300.
    let p = VolumeProfile::from_buckets(&[10.0, 20.0, 30.0], 60.0).unwrap();
    let s = vwap(600, &p, &vwap_p(0, 180.0, 60.0)).unwrap();
    assert_eq!(pairs(&s), vec![(0, 100), (60 * S, 200), (120 * S, 300)]);
    // Half-minute slices split each bucket evenly: 50, 50, 100, 100, 150, 150.
    let s = vwap(600, &p, &vwap_p(0, 180.0, 30.0)).unwrap();
    assert_eq!(s.quantities, vec![50, 50, 100, 100, 150, 150]);
}

#[test]
fn vwap_curve_from_bars_sums_per_bucket_of_day() {
    let day = 24 * H;
    // Two days of bars at 00:00 and 00:01; volumes per minute bucket: 1 + 3 = 4 and 2 + 2 = 4, and 8 at 12:00.
    let ts = [0, 60 * S, day, day + 60 * S, 12 * H];
    let vol = [1.0, 2.0, 3.0, 2.0, 8.0];
    let p = VolumeProfile::from_bars(&ts, &vol, 60.0).unwrap();
    assert_eq!(p.weights().len(), 1440);
    assert_eq!(p.weights()[0], 0.25);
    assert_eq!(p.weights()[1], 0.25);
    assert_eq!(p.weights()[720], 0.5);
    assert_eq!(field(VolumeProfile::from_bars(&ts, &vol[..2], 60.0)), "volumes");
    assert_eq!(
        field(VolumeProfile::from_bars(&ts, &[1.0, -1.0, 0.0, 0.0, 0.0], 60.0)),
        "volumes[1]"
    );
    assert_eq!(field(VolumeProfile::from_bars(&ts, &vol, 7.0)), "bucket_seconds");
}

#[test]
fn vwap_window_without_volume_is_an_error_not_a_twap() {
    let p = VolumeProfile::hourly(&[(9, 1.0)]).unwrap();
    assert_eq!(field(vwap(100, &p, &vwap_p(12 * H, 3600.0, 60.0))), "volume_profile");
}

#[rstest]
#[case(&[(24, 1.0)], "volume_profile")]
#[case(&[(-1, 1.0)], "volume_profile")]
#[case(&[(9, -0.1)], "volume_profile[9]")]
#[case(&[(3, f64::NAN)], "volume_profile[3]")]
#[case(&[(3, f64::INFINITY)], "volume_profile[3]")]
#[case(&[(9, 0.0), (10, 0.0)], "volume_profile")]
#[case(&[(9, 0.5), (9, 0.5)], "volume_profile[9]")]
#[case(&[], "volume_profile")]
#[case(&[(1, 1e308), (2, 1e308)], "volume_profile")]
fn bad_hourly_profiles_name_the_field(#[case] entries: &[(i64, f64)], #[case] expected: &str) {
    assert_eq!(field(VolumeProfile::hourly(entries)), expected);
}

#[test]
fn bad_curves_and_vwap_params_name_the_field() {
    assert_eq!(field(VolumeProfile::from_buckets(&[], 60.0)), "bucket_weights");
    assert_eq!(
        field(VolumeProfile::from_buckets(&[1.0, -2.0], 60.0)),
        "bucket_weights[1]"
    );
    assert_eq!(field(VolumeProfile::from_buckets(&[0.0, 0.0], 60.0)), "bucket_weights");
    assert_eq!(field(VolumeProfile::from_buckets(&[1.0], 0.0)), "bucket_seconds");
    let p = VolumeProfile::hourly(&[(9, 1.0)]).unwrap();
    assert_eq!(field(vwap(100, &p, &vwap_p(9 * H, 60.0, 120.0))), "interval_seconds");
    assert_eq!(field(vwap(100, &p, &vwap_p(9 * H, -60.0, 1.0))), "duration_seconds");
    assert_eq!(
        field(vwap(
            100,
            &p,
            &VwapParams {
                lot_size: 7,
                ..vwap_p(9 * H, 60.0, 1.0)
            }
        )),
        "quantity"
    );
    assert_eq!(field(start_of_hour(24.0)), "start_hour");
    assert_eq!(field(start_of_hour(f64::NAN)), "start_hour");
    assert_eq!(start_of_hour(9.5).unwrap(), 9 * H + H / 2);
}

#[test]
fn vwap_one_second_for_a_day() {
    let entries: Vec<(i64, f64)> = (0..24).map(|h| (h, 1.0 + (h % 5) as f64)).collect();
    let p = VolumeProfile::hourly(&entries).unwrap();
    let s = vwap(10_000_000, &p, &vwap_p(0, 86_400.0, 1.0)).unwrap();
    assert_eq!(s.slices, 86_400);
    check_schedule(&s, 10_000_000, 1, 86_400 * S);
    // Each hour gets its share within one unit per slice.
    let total: f64 = entries.iter().map(|e| e.1).sum();
    for (h, w) in entries {
        let got: u64 = s.iter().filter(|(t, _)| t / H == h as u64).map(|(_, q)| q).sum();
        let want = 10_000_000.0 * w / total;
        assert!((got as f64 - want).abs() <= 3600.0, "hour {h}: {got} vs {want}");
    }
}

// ---------------------------------------------------------------------------------------------
// Implementation shortfall
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case(10_000, 3600.0, 60.0, 1)]
#[case(10, 100.0, 30.0, 1)]
#[case(3, 10.0, 1.0, 1)]
#[case(50, 3.0, 1.0, 5)]
#[case(1_000_000, 86_400.0, 1.0, 1)]
fn shortfall_without_risk_aversion_is_exactly_twap(
    #[case] qty: u64,
    #[case] duration: f64,
    #[case] interval: f64,
    #[case] lot: u64,
) {
    let p = ShortfallParams {
        lot_size: lot,
        permanent_impact: 0.0,
        ..is_params(duration, interval, 0.0)
    };
    let is = shortfall(qty, &p).unwrap();
    assert_eq!(is, twap(qty, &twap_p(duration, interval, lot)).unwrap());
    // Zero volatility removes the risk term too.
    let flat = ShortfallParams {
        volatility: 0.0,
        risk_aversion: 1e-6,
        ..p
    };
    assert_eq!(shortfall(qty, &flat).unwrap(), is);
}

#[test]
fn shortfall_matches_the_almgren_chriss_example() {
    // Almgren & Chriss (2000) sec. 3: X = 1e6, T = 5, N = 5, sigma = 0.95, eta = 2.5e-6,
    // gamma = 2.5e-7, lambda = 1e-6 (time unit here: seconds). eta_tilde = 2.375e-6,
    // kappa_tilde^2 = 1e-6 * 0.9025 / 2.375e-6 = 0.38, cosh(kappa) = 1.19, kappa = 0.60708...
    let p = is_params(5.0, 1.0, 1e-6);
    let kappa = p.kappa().unwrap();
    assert!((kappa - 1.19f64.acosh()).abs() < 1e-12, "{kappa}");
    assert!((kappa - 0.607_08).abs() < 1e-5);
    let s = shortfall(1_000_000, &p).unwrap();
    assert_eq!(s.len(), 5);
    let x = |t: f64| 1e6 * (kappa * (5.0 - t)).sinh() / (kappa * 5.0).sinh();
    for (j, (t, q)) in s.iter().enumerate() {
        assert_eq!(t, j as u64 * S);
        let want = x(j as f64) - x(j as f64 + 1.0);
        assert!((q as f64 - want).abs() < 1.0, "trade {j}: {q} vs {want}");
    }
    // Front-loaded: every trade smaller than the one before.
    assert!(s.quantities.windows(2).all(|w| w[0] > w[1]));
}

#[test]
fn shortfall_more_risk_aversion_trades_sooner() {
    let first = |lambda: f64| shortfall(100_000, &is_params(10.0, 1.0, lambda)).unwrap().quantities[0];
    assert!(first(0.0) < first(1e-7));
    assert!(first(1e-7) < first(1e-6));
    assert!(first(1e-6) < first(1e-4));
}

#[test]
fn shortfall_extreme_urgency_front_loads_without_nan() {
    for lambda in [1e3, 1e12, 1e300, f64::MAX] {
        let p = ShortfallParams {
            volatility: 1e10,
            ..is_params(3600.0, 1.0, lambda)
        };
        let s = shortfall(12_345, &p).unwrap();
        assert_eq!(pairs(&s), vec![(0, 12_345)], "lambda {lambda}");
        assert!(!p.kappa().unwrap().is_nan());
    }
}

#[rstest]
#[case(ShortfallParams { risk_aversion: f64::NAN, ..is_params(60.0, 1.0, 0.0) }, "risk_aversion")]
#[case(ShortfallParams { risk_aversion: -1e-6, ..is_params(60.0, 1.0, 0.0) }, "risk_aversion")]
#[case(ShortfallParams { volatility: -0.1, ..is_params(60.0, 1.0, 1e-6) }, "volatility")]
#[case(ShortfallParams { volatility: f64::INFINITY, ..is_params(60.0, 1.0, 1e-6) }, "volatility")]
#[case(ShortfallParams { temporary_impact: 0.0, ..is_params(60.0, 1.0, 1e-6) }, "temporary_impact")]
#[case(ShortfallParams { temporary_impact: f64::NAN, ..is_params(60.0, 1.0, 1e-6) }, "temporary_impact")]
#[case(ShortfallParams { permanent_impact: -1.0, ..is_params(60.0, 1.0, 1e-6) }, "permanent_impact")]
#[case(ShortfallParams { permanent_impact: 1e-5, ..is_params(60.0, 1.0, 1e-6) }, "permanent_impact")]
#[case(is_params(60.0, 120.0, 1e-6), "interval_seconds")]
#[case(is_params(0.0, 1.0, 1e-6), "duration_seconds")]
fn shortfall_bad_input_names_the_field(#[case] params: ShortfallParams, #[case] expected: &str) {
    assert_eq!(field(shortfall(100, &params)), expected);
}

// ---------------------------------------------------------------------------------------------
// POV
// ---------------------------------------------------------------------------------------------

#[test]
fn pov_follows_volume_with_min_and_max_child() {
    let mut p = PovTracker::new(100, 0.1, 5, Some(20), 1).unwrap();
    assert_eq!(p.on_market_volume(30), 0); // target 3 < min 5: wait
    assert_eq!(p.on_market_volume(30), 6); // target 6
    assert_eq!(p.on_market_volume(500), 20); // target 56, deficit 50, capped at 20
    assert_eq!(p.on_market_volume(0), 20); // deficit 30, capped again
    assert_eq!(p.on_market_volume(0), 10); // deficit 10
    assert_eq!(p.on_market_volume(0), 0); // on target
    assert_eq!(
        (p.sent(), p.remaining(), p.observed_volume(), p.target()),
        (56, 44, 560, 56)
    );
    assert_eq!(p.on_market_volume(10_000), 20);
    assert_eq!(p.on_market_volume(0), 20);
    assert_eq!(p.on_market_volume(0), 4); // final remainder below min_child still goes
    assert!(p.is_done());
    assert_eq!(p.on_market_volume(1_000), 0);
    assert_eq!(p.children(), 7);
}

#[test]
fn pov_rounds_children_to_lots() {
    let mut p = PovTracker::new(100, 0.5, 0, None, 10).unwrap();
    assert_eq!(p.on_market_volume(15), 0); // target 7 units: less than a lot
    assert_eq!(p.on_market_volume(5), 10); // target 10
    assert_eq!(p.on_market_volume(1_000), 90); // no max: the whole remainder
    assert!(p.is_done());
}

#[test]
fn pov_rate_representation_error_is_forgiven() {
    // 0.29 * 100 = 28.999999999999996 in binary floating point; the target is 29.
    let mut p = PovTracker::new(1_000, 0.29, 0, None, 1).unwrap();
    assert_eq!(p.on_market_volume(100), 29);
}

#[rstest]
#[case(PovTracker::new(100, 0.0, 0, None, 1), "participation_rate")]
#[case(PovTracker::new(100, 1.5, 0, None, 1), "participation_rate")]
#[case(PovTracker::new(100, f64::NAN, 0, None, 1), "participation_rate")]
#[case(PovTracker::new(100, -0.1, 0, None, 1), "participation_rate")]
#[case(PovTracker::new(100, 0.1, 10, Some(5), 1), "max_child")]
#[case(PovTracker::new(100, 0.1, 0, Some(5), 10), "max_child")]
#[case(PovTracker::new(100, 0.1, 7, Some(8), 5), "max_child")]
#[case(PovTracker::new(0, 0.1, 0, None, 1), "quantity")]
#[case(PovTracker::new(15, 0.1, 0, None, 10), "quantity")]
#[case(PovTracker::new(10, 0.1, 0, None, 0), "lot_size")]
fn pov_bad_input_names_the_field(#[case] result: sor_core::SorResult<PovTracker>, #[case] expected: &str) {
    assert_eq!(field(result), expected);
}

// ---------------------------------------------------------------------------------------------
// Iceberg
// ---------------------------------------------------------------------------------------------

#[test]
fn iceberg_replenishes_when_the_visible_chunk_fills() {
    let mut ice = Iceberg::new(25, 0.4, 1, 0.0, 0).unwrap();
    assert_eq!(ice.display_qty(), 10);
    assert_eq!(ice.next_chunk(), 10);
    assert_eq!(ice.next_chunk(), 0, "one chunk at a time");
    assert_eq!(ice.on_fill(4).unwrap(), 0);
    assert_eq!(
        (ice.filled(), ice.working(), ice.hidden(), ice.remaining()),
        (4, 6, 15, 21)
    );
    assert_eq!(ice.on_fill(6).unwrap(), 10, "chunk done: the next one is shown");
    assert_eq!(ice.on_fill(10).unwrap(), 5, "last chunk is what is left");
    assert_eq!(ice.hidden(), 0);
    assert_eq!(ice.on_fill(5).unwrap(), 0);
    assert!(ice.is_done());
    assert_eq!(ice.next_chunk(), 0);
    assert_eq!(ice.chunks(), 3);
}

#[test]
fn iceberg_overfill_and_bad_fills_are_errors_and_change_nothing() {
    let mut ice = Iceberg::new(100, 0.1, 5, 0.0, 0).unwrap();
    assert_eq!(ice.next_chunk(), 10);
    let before = ice.clone();
    assert_eq!(field(ice.on_fill(11)), "fill_qty");
    assert_eq!(field(ice.on_fill(0)), "fill_qty");
    assert_eq!(field(ice.on_fill(3)), "fill_qty");
    assert_eq!(ice, before);
    // A cancelled chunk goes back to hidden and is shown again.
    assert_eq!(ice.on_fill(5).unwrap(), 0);
    assert_eq!(ice.on_cancel(), 5);
    assert_eq!((ice.filled(), ice.working(), ice.hidden()), (5, 0, 95));
    assert_eq!(ice.next_chunk(), 10);
}

#[test]
fn iceberg_random_display_is_seeded_and_bounded() {
    let run = |seed: u64| {
        let mut ice = Iceberg::new(10_000, 0.05, 1, 0.5, seed).unwrap();
        let mut chunks = vec![ice.next_chunk()];
        while !ice.is_done() {
            let w = ice.working();
            let next = ice.on_fill(w).unwrap();
            if next > 0 {
                chunks.push(next);
            }
        }
        chunks
    };
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
    assert_eq!(a.iter().sum::<u64>(), 10_000);
    let (last, body) = a.split_last().unwrap();
    assert!(body.iter().all(|&c| (250..=750).contains(&c)), "{body:?}");
    assert!(*last >= 1);
    assert!(body.iter().any(|&c| c != 500));
}

#[rstest]
#[case(Iceberg::new(100, 0.0, 1, 0.0, 0), "visible_pct")]
#[case(Iceberg::new(100, 1.01, 1, 0.0, 0), "visible_pct")]
#[case(Iceberg::new(100, -0.5, 1, 0.0, 0), "visible_pct")]
#[case(Iceberg::new(100, f64::NAN, 1, 0.0, 0), "visible_pct")]
#[case(Iceberg::new(100, 0.1, 1, 2.0, 0), "display_jitter_pct")]
#[case(Iceberg::new(0, 0.1, 1, 0.0, 0), "quantity")]
fn iceberg_bad_input_names_the_field(#[case] result: sor_core::SorResult<Iceberg>, #[case] expected: &str) {
    assert_eq!(field(result), expected);
}

#[test]
fn iceberg_fully_visible_shows_everything() {
    let mut ice = Iceberg::new(7, 1.0, 1, 0.0, 0).unwrap();
    assert_eq!(ice.next_chunk(), 7);
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// Any f64 at all, weighted toward plausible values.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        -10.0..1e5f64,
        Just(0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-f64::INFINITY),
    ]
}

fn lots_and_lot() -> impl Strategy<Value = (u64, u64)> {
    (1u64..1_000_000, prop_oneof![Just(1u64), 1u64..1_000])
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N runs more.

    #[test]
    fn twap_properties(
        (lots, lot) in lots_and_lot(),
        interval in 0.001f64..100.0,
        ratio in 1.0f64..3000.0,
        size_jitter in prop_oneof![Just(0.0), 0.0f64..=1.0],
        time_jitter in prop_oneof![Just(0.0), 0.0f64..=1.0],
        seed in any::<u64>(),
    ) {
        let duration = interval * ratio;
        let p = TwapParams { duration_seconds: duration, interval_seconds: interval, lot_size: lot, size_jitter_pct: size_jitter, time_jitter_pct: time_jitter, seed };
        let qty = lots * lot;
        let s = twap(qty, &p).unwrap();
        let duration_ns = (duration * 1e9).round() as u64;
        check_schedule(&s, qty, lot, duration_ns);
        prop_assert_eq!(&s, &twap(qty, &p).unwrap());
        if size_jitter == 0.0 {
            // Even sizes: every child within one lot of the others.
            let (min, max) = (s.quantities.iter().min().unwrap(), s.quantities.iter().max().unwrap());
            prop_assert!(max - min <= lot);
        }
    }

    #[test]
    fn twap_never_panics(qty in any::<u64>(), lot in any::<u64>(), d in any_f64(), i in any_f64(), sj in any_f64(), tj in any_f64(), seed in any::<u64>()) {
        let p = TwapParams { duration_seconds: d, interval_seconds: i, lot_size: lot, size_jitter_pct: sj, time_jitter_pct: tj, seed };
        // Keep the slice count testable: skip inputs that would build millions of slices.
        prop_assume!(!(d.is_finite() && i.is_finite() && i > 0.0 && d / i > 100_000.0));
        if let Ok(s) = twap(qty, &p) {
            prop_assert_eq!(s.total(), qty as u128);
        }
    }

    #[test]
    fn vwap_properties(
        weights in proptest::collection::vec(prop_oneof![Just(0.0), 0.0f64..10.0], 24),
        (lots, lot) in lots_and_lot(),
        start in any::<u64>(),
        interval in 1.0f64..3600.0,
        ratio in 1.0f64..200.0,
    ) {
        prop_assume!(weights.iter().any(|&w| w > 0.0));
        let entries: Vec<(i64, f64)> = weights.iter().enumerate().map(|(h, &w)| (h as i64, w)).collect();
        let profile = VolumeProfile::hourly(&entries).unwrap();
        let duration = interval * ratio;
        let p = VwapParams { lot_size: lot, ..VwapParams::new(start, duration, interval) };
        let qty = lots * lot;
        match vwap(qty, &profile, &p) {
            Ok(s) => {
                let duration_ns = (duration * 1e9).round() as u64;
                check_schedule(&s, qty, lot, duration_ns);
                // A child only where the profile has volume.
                let interval_ns = (interval * 1e9).round() as u64;
                let s0 = start % (24 * H);
                for (t, _) in s.iter() {
                    let end = (t + interval_ns).min(duration_ns);
                    prop_assert!(profile.weight_between(s0 + t, s0 + end) > 0.0);
                }
            }
            Err(e) => {
                prop_assert_eq!(e.field(), "volume_profile");
                // Only when the window has truly no volume.
                let duration_ns = (duration * 1e9).round() as u64;
                let s0 = start % (24 * H);
                prop_assert_eq!(profile.weight_between(s0, s0 + duration_ns), 0.0);
            }
        }
    }

    #[test]
    fn vwap_never_panics(weights in proptest::collection::vec(any_f64(), 0..30), bucket in any_f64(), start in any::<u64>(), d in any_f64(), i in any_f64(), qty in any::<u64>(), lot in any::<u64>()) {
        prop_assume!(!(d.is_finite() && i.is_finite() && i > 0.0 && d / i > 100_000.0));
        if let Ok(profile) = VolumeProfile::from_buckets(&weights, bucket) {
            if let Ok(s) = vwap(qty, &profile, &VwapParams { lot_size: lot, ..VwapParams::new(start, d, i) }) {
                prop_assert_eq!(s.total(), qty as u128);
            }
        }
        let entries: Vec<(i64, f64)> = weights.iter().enumerate().map(|(h, &w)| (h as i64 - 3, w)).collect();
        let _ = VolumeProfile::hourly(&entries);
    }

    #[test]
    fn shortfall_properties(
        (lots, lot) in lots_and_lot(),
        interval in 0.01f64..100.0,
        ratio in 1.0f64..2000.0,
        lambda in prop_oneof![Just(0.0), 0.0f64..1e-3, any::<f64>().prop_map(f64::abs).prop_filter("finite", |x| x.is_finite())],
        sigma in 0.0f64..10.0,
        eta in 1e-9f64..1.0,
    ) {
        let duration = interval * ratio;
        let p = ShortfallParams { duration_seconds: duration, interval_seconds: interval, risk_aversion: lambda, volatility: sigma, temporary_impact: eta, permanent_impact: 0.0, lot_size: lot };
        let qty = lots * lot;
        let s = shortfall(qty, &p).unwrap();
        check_schedule(&s, qty, lot, (duration * 1e9).round() as u64);
        if lambda == 0.0 || sigma == 0.0 {
            prop_assert_eq!(s, twap(qty, &twap_p(duration, interval, lot)).unwrap());
        } else {
            // Never back-loaded: the first child is at least the average (within a lot).
            let avg = qty as f64 / s.slices as f64;
            let first = if s.offsets_ns[0] == 0 { s.quantities[0] } else { 0 };
            prop_assert!(first as f64 >= avg.floor() - lot as f64);
        }
    }

    #[test]
    fn shortfall_never_panics(qty in any::<u64>(), lot in any::<u64>(), d in any_f64(), i in any_f64(), l in any_f64(), sg in any_f64(), eta in any_f64(), g in any_f64()) {
        prop_assume!(!(d.is_finite() && i.is_finite() && i > 0.0 && d / i > 100_000.0));
        let p = ShortfallParams { duration_seconds: d, interval_seconds: i, risk_aversion: l, volatility: sg, temporary_impact: eta, permanent_impact: g, lot_size: lot };
        if let Ok(s) = shortfall(qty, &p) {
            prop_assert_eq!(s.total(), qty as u128);
        }
        if let Ok(k) = p.kappa() {
            prop_assert!(!k.is_nan() && k >= 0.0);
        }
    }

    #[test]
    fn hamilton_is_exact_and_within_one_of_the_quota(total in any::<u64>(), weights in proptest::collection::vec(prop_oneof![Just(0.0), 0.0f64..1e6], 1..50)) {
        prop_assume!(weights.iter().any(|&w| w > 0.0));
        let parts = largest_remainder(total, &weights).unwrap();
        prop_assert_eq!(parts.iter().map(|&p| p as u128).sum::<u128>(), total as u128);
        let sum: f64 = weights.iter().sum();
        for (p, w) in parts.iter().zip(&weights) {
            if *w == 0.0 {
                prop_assert_eq!(*p, 0);
            } else if total < (1 << 40) {
                let q = total as f64 * w / sum;
                prop_assert!((*p as f64 - q).abs() < 1.0 + 1e-6, "{} vs {}", p, q);
            }
        }
    }

    #[test]
    fn pov_properties(
        (lots, lot) in lots_and_lot(),
        rate in 0.001f64..=1.0,
        min_child in 0u64..5_000,
        max_extra in prop_oneof![Just(None), (0u64..10).prop_map(Some)],
        volumes in proptest::collection::vec(prop_oneof![Just(0u64), 0u64..100_000, any::<u64>()], 0..60),
    ) {
        let qty = lots * lot;
        let max_child = max_extra.map(|e| (min_child.div_ceil(lot).max(1) + e) * lot);
        let mut p = PovTracker::new(qty, rate, min_child, max_child, lot).unwrap();
        let mut sent = 0u64;
        for v in volumes {
            let child = p.on_market_volume(v);
            sent += child;
            prop_assert_eq!(sent, p.sent());
            prop_assert!(sent <= qty);
            prop_assert!(sent <= p.target(), "never ahead of the participation target");
            prop_assert_eq!(child % lot, 0);
            if child > 0 {
                prop_assert!(child >= min_child || p.is_done(), "small child {} only as the final remainder", child);
                if let Some(m) = max_child { prop_assert!(child <= m); }
            }
        }
        // Enough volume finishes the order, one capped child per call.
        p.on_market_volume(u64::MAX);
        let mut calls = 0;
        while !p.is_done() {
            prop_assert!(p.on_market_volume(0) > 0);
            calls += 1;
            prop_assert!(calls <= qty / lot + 1);
        }
        prop_assert_eq!(p.remaining(), 0);
    }

    #[test]
    fn pov_never_panics(qty in any::<u64>(), rate in any_f64(), min in any::<u64>(), max in proptest::option::of(any::<u64>()), lot in any::<u64>(), volumes in proptest::collection::vec(any::<u64>(), 0..20)) {
        if let Ok(mut p) = PovTracker::new(qty, rate, min, max, lot) {
            for v in volumes {
                p.on_market_volume(v);
                prop_assert!(p.sent() <= qty);
            }
        }
    }

    #[test]
    fn iceberg_conserves_and_is_seeded(
        (lots, lot) in lots_and_lot(),
        visible in 0.001f64..=1.0,
        jitter in prop_oneof![Just(0.0), 0.0f64..=1.0],
        seed in any::<u64>(),
        fills in proptest::collection::vec((0.0f64..=1.0, any::<bool>()), 1..200),
    ) {
        let qty = lots * lot;
        let mut ice = Iceberg::new(qty, visible, lot, jitter, seed).unwrap();
        let mut twin = ice.clone();
        let mut shown = ice.next_chunk();
        prop_assert!(shown > 0 && shown <= qty);
        for (frac, cancel) in fills {
            if ice.working() == 0 {
                shown = ice.next_chunk();
                prop_assert!(shown <= ice.remaining());
            }
            if cancel && frac < 0.1 {
                ice.on_cancel();
            } else if ice.working() > 0 {
                let w_lots = ice.working() / lot;
                let f = (((w_lots as f64) * frac).ceil() as u64).clamp(1, w_lots) * lot;
                let next = ice.on_fill(f).unwrap();
                prop_assert!(next <= ice.hidden() + ice.working());
            }
            prop_assert_eq!(ice.filled() + ice.working() + ice.hidden(), qty);
            prop_assert_eq!(ice.working() % lot, 0);
            prop_assert!(ice.on_fill(ice.working() + 1).is_err());
        }
        // Same seed, same chunks: replay fills of whole chunks on a twin and a fresh copy.
        let mut chunks = Vec::new();
        let mut c = twin.next_chunk();
        while c > 0 {
            chunks.push(c);
            c = twin.on_fill(c).unwrap();
        }
        prop_assert_eq!(chunks.iter().sum::<u64>(), qty);
        prop_assert!(twin.is_done());
        let mut again = Iceberg::new(qty, visible, lot, jitter, seed).unwrap();
        let mut c = again.next_chunk();
        for &want in &chunks {
            prop_assert_eq!(c, want);
            c = again.on_fill(c).unwrap();
        }
    }

    #[test]
    fn iceberg_never_panics(qty in any::<u64>(), visible in any_f64(), lot in any::<u64>(), jitter in any_f64(), seed in any::<u64>(), fills in proptest::collection::vec(any::<u64>(), 0..20)) {
        if let Ok(mut ice) = Iceberg::new(qty, visible, lot, jitter, seed) {
            ice.next_chunk();
            for f in fills {
                let _ = ice.on_fill(f);
                let _ = ice.on_fill(ice.working());
                prop_assert_eq!(ice.filled() + ice.working() + ice.hidden(), qty);
            }
        }
    }
}

#[test]
fn hamilton_handles_huge_totals() {
    for weights in [vec![1.0, 1.0, 1.0], vec![0.1, 0.7, 0.2], vec![1e-300, 1.0]] {
        let parts = largest_remainder(u64::MAX, &weights).unwrap();
        assert_eq!(parts.iter().map(|&p| p as u128).sum::<u128>(), u64::MAX as u128);
    }
    let s = twap(
        u64::MAX,
        &TwapParams {
            size_jitter_pct: 0.5,
            ..TwapParams::new(100.0, 1.0)
        },
    )
    .unwrap();
    assert_eq!(s.total(), u64::MAX as u128);
}
