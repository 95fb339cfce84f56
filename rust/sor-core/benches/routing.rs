//! criterion: select_venue and split over 2 to 200 venues x 20 levels, with lot 1 and with lots that do
//! not divide each other plus minimums. `cargo bench -p sor-core --bench routing`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

use sor_core::{Ladder, Level, Router, RouterParams, Side, VenueSpec};

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

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("routing");
    for n in [2usize, 5, 10, 50] {
        let r = market(n, false);
        // About a quarter of the displayed depth: crosses several levels on every venue.
        let qty = 150 * n as u64;
        group.bench_with_input(BenchmarkId::new("select_venue", n), &r, |b, r| {
            b.iter(|| {
                r.select_venue(black_box(Side::Buy), black_box(qty / n as u64), None)
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("split", n), &r, |b, r| {
            b.iter(|| r.split(black_box(Side::Buy), black_box(qty), n, None).unwrap())
        });
        let lots = market(n, true);
        // Not a multiple of any one lot: the lots must be combined.
        group.bench_with_input(BenchmarkId::new("split_lots_mins", n), &lots, |b, r| {
            b.iter(|| r.split(black_box(Side::Buy), black_box(qty + 1), n, None).unwrap())
        });
        if n > 3 {
            // What 3 venues can hold: half the order at 5 and 10 venues, 1500 units beyond.
            let q3 = (qty / 2).min(1500);
            group.bench_with_input(BenchmarkId::new("split_max3", n), &r, |b, r| {
                b.iter(|| r.split(black_box(Side::Buy), black_box(q3), 3, None).unwrap())
            });
            group.bench_with_input(BenchmarkId::new("split_lots_mins_max3", n), &lots, |b, r| {
                b.iter(|| r.split(black_box(Side::Buy), black_box(q3 + 1), 3, None).unwrap())
            });
        }
    }
    let r = market(200, false);
    group.bench_function("split_max3/200", |b| {
        b.iter(|| r.split(black_box(Side::Buy), black_box(1500), 3, None).unwrap())
    });
    let lots = market(200, true);
    group.bench_function("split_lots_mins_max3/200", |b| {
        b.iter(|| lots.split(black_box(Side::Buy), black_box(1501), 3, None).unwrap())
    });
    // Huge coprime lots without books (found by fuzzing: a one-lot-at-a-time search hung).
    let huge = {
        let a = VenueSpec::new("A", 0.0, 0.0, 1.0, 2, 0, true).unwrap();
        let b = VenueSpec::new("B", 0.0, 0.0, 50.0, 1_000_000_001, 0, true).unwrap();
        Router::new(vec![a, b], RouterParams::default()).unwrap()
    };
    group.bench_function("split_huge_lots", |b| {
        b.iter(|| {
            huge.split(black_box(Side::Buy), black_box(4_000_000_005), 2, None)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
