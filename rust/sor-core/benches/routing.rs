//! criterion: select_venue and split over 2 to 200 venues x 20 levels, with lot 1 and with lots that do
//! not divide each other plus minimums. `cargo bench -p sor-core --bench routing`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

use sor_core::{Router, RouterParams, Side, VenueSpec};

#[path = "../tests/common/mod.rs"]
mod common;
use common::market;

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
