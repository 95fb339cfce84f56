//! criterion: select_venue and split with 2, 5 and 10 venues x 20 levels.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

use sor_core::{Ladder, Level, Router, RouterParams, Side, VenueSpec};

/// `n` venues, 20 levels a side, offset touches and varied sizes and fees (deterministic).
pub fn market(n: usize) -> Router {
    let venues = (0..n)
        .map(|i| {
            VenueSpec::new(
                &format!("V{i}"),
                0.0,
                0.0001 * (1 + i % 4) as f64,
                1.0 + 20.0 * i as f64,
                1,
                0,
                true,
            )
            .unwrap()
        })
        .collect();
    let mut r = Router::new(venues, RouterParams::default()).unwrap();
    for i in 0..n {
        let skew = (i % 3) as f64 * 0.01;
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
    for n in [2usize, 5, 10] {
        let r = market(n);
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
        if n > 2 {
            group.bench_with_input(BenchmarkId::new("split_max3", n), &r, |b, r| {
                b.iter(|| r.split(black_box(Side::Buy), black_box(qty / 2), 3, None).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches, probes);

#[allow(dead_code)]
fn probe(c: &mut Criterion) {
    let r = market(5);
    for q in [1u64, 10, 100, 300, 750] {
        c.bench_function(&format!("probe/split5/{q}"), |b| {
            b.iter(|| r.split(black_box(Side::Buy), black_box(q), 5, None).unwrap())
        });
    }
}
criterion_group!(probes, probe);
