//! twap / vwap / shortfall / PovTracker / Iceberg on arbitrary parameters.
//! Any bytes: no panic. On Ok: children sum exactly to the quantity, are non-zero whole lots, and
//! offsets are non-decreasing and inside [0, duration).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sor_core::{
    shortfall, twap, vwap, Iceberg, PovTracker, Schedule, ShortfallParams, TwapParams, VolumeProfile, VwapParams,
};
use sor_core_fuzz::{Num, Qty};

const NS_PER_SECOND: f64 = 1e9;
const MAX_SLICES: u64 = 10_000_000;
/// Windows of more slices than this (but still allowed) are skipped: they are valid but slow (up to
/// 10 million children) and would only cut the fuzzer's throughput.
const FAST_SLICES: u64 = 100_000;

/// A duration in seconds (for durations and intervals).
fn secs(n: Num) -> f64 {
    n.get(0.5)
}

/// Nanoseconds as the library rounds them, when valid.
fn ns(seconds: f64) -> Option<u64> {
    let v = (seconds * NS_PER_SECOND).round();
    (seconds.is_finite() && seconds > 0.0 && v >= 1.0 && v <= (1u64 << 62) as f64).then_some(v as u64)
}

/// False when the window is valid but too finely sliced for fuzzing speed.
fn fast(duration: f64, interval: f64) -> bool {
    match (ns(duration), ns(interval)) {
        (Some(d), Some(i)) if i <= d => {
            let slices = d.div_ceil(i);
            slices <= FAST_SLICES || slices > MAX_SLICES
        }
        _ => true,
    }
}

fn check_schedule(s: &Schedule, quantity: u64, lot: u64, duration: f64) {
    assert_eq!(s.offsets_ns.len(), s.quantities.len(), "ragged schedule");
    assert_eq!(
        s.total(),
        quantity as u128,
        "schedule does not sum to the quantity: {s:?}"
    );
    assert!(s.len() <= s.slices, "more children than slices");
    let d = ns(duration).expect("Ok schedule with an invalid duration");
    for w in s.offsets_ns.windows(2) {
        assert!(w[0] <= w[1], "offsets decrease: {} then {}", w[0], w[1]);
    }
    for (o, q) in s.iter() {
        assert!(o < d, "offset {o} ns outside the window of {d} ns");
        assert!(q > 0, "zero child listed");
        assert_eq!(q % lot, 0, "child {q} not a multiple of lot {lot}");
    }
}

#[derive(Arbitrary, Debug)]
enum ProfileIn {
    Hourly(Vec<(i8, Num)>),
    Buckets(Vec<Num>, Num),
    Bars(Vec<(u64, Num)>, Num),
}

#[derive(Arbitrary, Debug)]
enum IcebergEvent {
    Next,
    Fill(Qty),
    FillWorking,
    Cancel,
}

#[derive(Arbitrary, Debug)]
enum Case {
    Twap {
        quantity: Qty,
        duration: Num,
        interval: Num,
        lot: Qty,
        size_jitter: Num,
        time_jitter: Num,
        seed: u64,
    },
    Vwap {
        quantity: Qty,
        profile: ProfileIn,
        start_time_ns: u64,
        duration: Num,
        interval: Num,
        lot: Qty,
    },
    Shortfall {
        quantity: Qty,
        duration: Num,
        interval: Num,
        risk_aversion: Num,
        volatility: Num,
        temporary_impact: Num,
        permanent_impact: Num,
        lot: Qty,
    },
    Pov {
        quantity: Qty,
        rate: Num,
        min_child: Qty,
        max_child: Option<Qty>,
        lot: Qty,
        volumes: Vec<Qty>,
    },
    Iceberg {
        quantity: Qty,
        visible: Num,
        lot: Qty,
        jitter: Num,
        seed: u64,
        events: Vec<IcebergEvent>,
    },
}

fuzz_target!(|case: Case| {
    match case {
        Case::Twap {
            quantity,
            duration,
            interval,
            lot,
            size_jitter,
            time_jitter,
            seed,
        } => {
            let (d, i) = (secs(duration), secs(interval));
            if !fast(d, i) {
                return;
            }
            let params = TwapParams {
                duration_seconds: d,
                interval_seconds: i,
                lot_size: lot.get(),
                size_jitter_pct: size_jitter.get(1e-4),
                time_jitter_pct: time_jitter.get(1e-4),
                seed,
            };
            if let Ok(s) = twap(quantity.get(), &params) {
                check_schedule(&s, quantity.get(), lot.get(), d);
            }
        }
        Case::Vwap {
            quantity,
            profile,
            start_time_ns,
            duration,
            interval,
            lot,
        } => {
            let (d, i) = (secs(duration), secs(interval));
            if !fast(d, i) {
                return;
            }
            let profile = match profile {
                ProfileIn::Hourly(e) => {
                    let e: Vec<(i64, f64)> = e.iter().map(|&(h, w)| (h as i64, w.get(0.01))).collect();
                    VolumeProfile::hourly(&e)
                }
                ProfileIn::Buckets(w, b) => {
                    if w.len() > 2000 {
                        return;
                    }
                    let w: Vec<f64> = w.iter().map(|x| x.get(0.01)).collect();
                    VolumeProfile::from_buckets(&w, b.get(1.0))
                }
                ProfileIn::Bars(bars, b) => {
                    let ts: Vec<u64> = bars.iter().map(|x| x.0).collect();
                    let vs: Vec<f64> = bars.iter().map(|x| x.1.get(1.0)).collect();
                    let bucket = b.get(1.0);
                    // A day of 1 ns buckets is 8.6e13 weights; only fuzz bucket counts that fit.
                    if bucket.is_finite() && bucket > 0.0 && 86_400.0 / bucket > 100_000.0 {
                        return;
                    }
                    VolumeProfile::from_bars(&ts, &vs, bucket)
                }
            };
            let Ok(profile) = profile else { return };
            let params = VwapParams {
                start_time_ns,
                duration_seconds: d,
                interval_seconds: i,
                lot_size: lot.get(),
            };
            if let Ok(s) = vwap(quantity.get(), &profile, &params) {
                check_schedule(&s, quantity.get(), lot.get(), d);
            }
        }
        Case::Shortfall {
            quantity,
            duration,
            interval,
            risk_aversion,
            volatility,
            temporary_impact,
            permanent_impact,
            lot,
        } => {
            let (d, i) = (secs(duration), secs(interval));
            if !fast(d, i) {
                return;
            }
            let params = ShortfallParams {
                duration_seconds: d,
                interval_seconds: i,
                risk_aversion: risk_aversion.get(1e-3),
                volatility: volatility.get(1e-3),
                temporary_impact: temporary_impact.get(1e-4),
                permanent_impact: permanent_impact.get(1e-6),
                lot_size: lot.get(),
            };
            let _ = params.kappa();
            if let Ok(s) = shortfall(quantity.get(), &params) {
                check_schedule(&s, quantity.get(), lot.get(), d);
            }
        }
        Case::Pov {
            quantity,
            rate,
            min_child,
            max_child,
            lot,
            volumes,
        } => {
            let (q, lot) = (quantity.get(), lot.get());
            let Ok(mut pov) = PovTracker::new(q, rate.get(1e-3), min_child.get(), max_child.map(Qty::get), lot) else {
                return;
            };
            let mut sent: u128 = 0;
            let mut feed = |pov: &mut PovTracker, v: u64| -> u64 {
                let before = pov.remaining();
                let child = pov.on_market_volume(v);
                if child > 0 {
                    assert_eq!(child % lot, 0, "POV child {child} not whole lots of {lot}");
                    assert!(child <= before, "POV child {child} exceeds the remainder {before}");
                    assert!(
                        child >= min_child.get() || child == before,
                        "POV child {child} below min_child and not the last"
                    );
                    if let Some(m) = max_child {
                        assert!(child <= m.get(), "POV child {child} above max_child");
                    }
                }
                sent += child as u128;
                assert_eq!(sent, pov.sent() as u128, "children do not add up to sent()");
                assert!(
                    pov.sent() <= pov.target(),
                    "sent {} above target {}",
                    pov.sent(),
                    pov.target()
                );
                assert!(pov.sent() <= q);
                child
            };
            for v in volumes.iter().take(256) {
                feed(&mut pov, v.get());
            }
            // Drive to completion with saturated volume (bounded).
            for _ in 0..256 {
                if pov.is_done() {
                    break;
                }
                if feed(&mut pov, u64::MAX) == 0 {
                    break;
                }
            }
            if pov.is_done() {
                assert_eq!(sent, q as u128, "done POV children do not sum to the quantity");
            }
        }
        Case::Iceberg {
            quantity,
            visible,
            lot,
            jitter,
            seed,
            events,
        } => {
            let (q, lot) = (quantity.get(), lot.get());
            let Ok(mut ice) = Iceberg::new(q, visible.get(1e-4), lot, jitter.get(1e-4), seed) else {
                return;
            };
            let mut filled: u128 = 0;
            let check = |ice: &Iceberg| {
                assert_eq!(
                    ice.filled() as u128 + ice.working() as u128 + ice.hidden() as u128,
                    q as u128,
                    "filled + working + hidden != quantity"
                );
                assert_eq!(ice.working() % lot, 0, "working chunk not whole lots");
            };
            for ev in events.iter().take(512) {
                let before = (ice.filled(), ice.working(), ice.chunks());
                match *ev {
                    IcebergEvent::Next => {
                        let hidden = ice.hidden();
                        let c = ice.next_chunk();
                        assert!(c <= hidden, "chunk {c} above hidden {hidden}");
                    }
                    IcebergEvent::Fill(f) => match ice.on_fill(f.get()) {
                        Ok(_) => filled += f.get() as u128,
                        Err(_) => assert_eq!(
                            before,
                            (ice.filled(), ice.working(), ice.chunks()),
                            "failed fill changed state"
                        ),
                    },
                    IcebergEvent::FillWorking => {
                        let w = ice.working();
                        if w > 0 {
                            ice.on_fill(w).expect("filling the whole working chunk");
                            filled += w as u128;
                        }
                    }
                    IcebergEvent::Cancel => {
                        let w = ice.working();
                        assert_eq!(ice.on_cancel(), w);
                    }
                }
                check(&ice);
                assert_eq!(filled, ice.filled() as u128);
            }
            // Drive to completion: show and fill every chunk (bounded).
            for _ in 0..4096 {
                if ice.is_done() {
                    break;
                }
                if ice.working() == 0 && ice.next_chunk() == 0 {
                    panic!("iceberg not done but shows nothing: {ice:?}");
                }
                let w = ice.working();
                ice.on_fill(w).expect("filling the whole working chunk");
                filled += w as u128;
                check(&ice);
            }
            assert_eq!(filled, ice.filled() as u128);
        }
    }
});
