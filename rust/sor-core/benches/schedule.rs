//! criterion: child-order schedules at 60, 3,600 and 86,400 slices (one second for a minute, an hour
//! and a day), plus the per-event cost of the stateful POV tracker and iceberg.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

use sor_core::schedule::NS_PER_HOUR;
use sor_core::{shortfall, twap, vwap, Iceberg, PovTracker, ShortfallParams, TwapParams, VolumeProfile, VwapParams};

/// Large enough that every slice gets a few hundred units, with a remainder to spread.
const QTY: u64 = 25_000_017;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule");
    let hourly: Vec<(i64, f64)> = (0..24).map(|h| (h, 1.0 + ((h * 7) % 5) as f64)).collect();
    let hourly = VolumeProfile::hourly(&hourly).unwrap();
    // A day of minute buckets with a U-shaped curve, as built from historical bars.
    let minutes: Vec<f64> = (0..1440).map(|m| 1.0 + ((m as f64 - 720.0) / 720.0).powi(2)).collect();
    let minutes = VolumeProfile::from_buckets(&minutes, 60.0).unwrap();
    for n in [60u64, 3_600, 86_400] {
        let d = n as f64;
        group.bench_with_input(BenchmarkId::new("twap", n), &d, |b, &d| {
            b.iter(|| twap(black_box(QTY), &TwapParams::new(d, 1.0)).unwrap())
        });
        let jittered = TwapParams {
            size_jitter_pct: 0.2,
            time_jitter_pct: 0.5,
            seed: 7,
            ..TwapParams::new(d, 1.0)
        };
        group.bench_with_input(BenchmarkId::new("twap_jittered", n), &jittered, |b, p| {
            b.iter(|| twap(black_box(QTY), p).unwrap())
        });
        let at_nine = VwapParams::new(9 * NS_PER_HOUR, d, 1.0);
        group.bench_with_input(BenchmarkId::new("vwap_hourly", n), &at_nine, |b, p| {
            b.iter(|| vwap(black_box(QTY), &hourly, p).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("vwap_minute_curve", n), &at_nine, |b, p| {
            b.iter(|| vwap(black_box(QTY), &minutes, p).unwrap())
        });
        let is = ShortfallParams {
            duration_seconds: d,
            interval_seconds: 1.0,
            risk_aversion: 1e-6,
            volatility: 0.05,
            temporary_impact: 1e-3,
            permanent_impact: 1e-4,
            lot_size: 1,
        };
        group.bench_with_input(BenchmarkId::new("shortfall", n), &is, |b, p| {
            b.iter(|| shortfall(black_box(QTY), p).unwrap())
        });
        // Stateful: n market-volume events; about n iceberg chunks.
        group.bench_with_input(BenchmarkId::new("pov_events", n), &n, |b, &n| {
            b.iter(|| {
                let mut p = PovTracker::new(QTY, 0.1, 100, Some(10_000), 1).unwrap();
                let mut sent = 0;
                for i in 0..n {
                    sent += p.on_market_volume(black_box(1_000 + i % 977));
                }
                sent
            })
        });
        group.bench_with_input(BenchmarkId::new("iceberg_chunks", n), &n, |b, &n| {
            b.iter(|| {
                // About n chunks of ~1,000 units (+-30%), each shown, filled and replenished.
                let mut ice = Iceberg::new(n * 1_000, 1.0 / n as f64, 1, 0.3, 11).unwrap();
                let mut c = ice.next_chunk();
                while c > 0 {
                    c = ice.on_fill(black_box(c)).unwrap();
                }
                ice.chunks()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
