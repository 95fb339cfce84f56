//! Position book throughput at 1k, 10k and 100k fills: the cost per fill must stay flat (no
//! per-fill history scan), and the core should book well over 5M fills/s.
//!
//! Two views: `position_apply` books streams of n fills into a fresh book (throughput, including
//! the book's growth), and `position_next_1000_fills` books 1,000 more fills into a book that
//! already holds n (the cost of one fill after n events of history).
//!
//! The fill stream mixes a NETTING venue (random sides and sizes: adds, partial closes, flips) and
//! a HEDGING venue (opens, adds, partial and full closes of named positions) on two instruments,
//! one with Nautilus money rounding. It is recorded once from a reference book, so every
//! position id it names exists when replayed on a fresh book.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use sor_core::{Fill, InstrumentSpec, PositionBook, Side};

#[path = "../tests/common/mod.rs"]
mod common;
use common::netting_hedging_book;
use std::hint::black_box;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Two instruments on one underlying, one with Nautilus money rounding.
fn empty_book() -> PositionBook {
    netting_hedging_book([
        InstrumentSpec::new("BTCUSDT", "BTC", 3, 1.0, None).unwrap(),
        InstrumentSpec::new("BTCUSDT-PERP", "BTC", 3, 1.0, Some(8)).unwrap(),
    ])
}

const MAX_OPEN: usize = 32;

/// `n` fills that are all valid when applied in order to `empty_book()`.
fn fill_stream(n: usize, seed: u64) -> Vec<Fill> {
    let mut rng = Rng(seed);
    let mut book = empty_book();
    let mut fills = Vec::with_capacity(n);
    while fills.len() < n {
        let instrument = rng.below(2) as u32;
        let price = 50_000.0 + rng.below(20_000) as f64 / 10.0;
        let commission = rng.below(100) as f64 / 100.0;
        let side = if rng.below(2) == 0 { Side::Buy } else { Side::Sell };
        let mut fill = Fill {
            venue: 0,
            instrument,
            side,
            quantity: 1 + rng.below(2_000),
            price,
            commission,
            position_id: None,
        };
        if rng.below(2) == 1 {
            fill.venue = 1;
            let open = book.open_positions(1, instrument).unwrap();
            // At most MAX_OPEN open positions per instrument: the working set stays the same
            // size whatever the stream length, so only the per-fill work is measured.
            let full = open.len() >= MAX_OPEN;
            if !open.is_empty() && (full || rng.below(3) > 0) {
                let id = open[rng.below(open.len() as u64) as usize];
                let p = *book.position(id).unwrap();
                fill.position_id = Some(id);
                if full || rng.below(3) > 0 {
                    // Reduce: partly or fully (fully when at the cap).
                    fill.side = if p.signed_units > 0 { Side::Sell } else { Side::Buy };
                    let qty = p.quantity_units() as u64;
                    fill.quantity = if full || rng.below(4) == 0 {
                        qty
                    } else {
                        1 + rng.below(qty)
                    };
                }
            }
        }
        book.apply(&fill).unwrap();
        fills.push(fill);
    }
    fills
}

fn bench_fills(c: &mut Criterion) {
    let mut group = c.benchmark_group("position_apply");
    for n in [1_000usize, 10_000, 100_000] {
        let fills = fill_stream(n, 42);
        let book = empty_book();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("apply", n), &fills, |bencher, fills| {
            bencher.iter_batched_ref(
                || book.clone(),
                |b| {
                    for fill in fills {
                        black_box(b.apply(fill).unwrap());
                    }
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("apply_batch", n), &fills, |bencher, fills| {
            bencher.iter_batched_ref(
                || book.clone(),
                |b| black_box(b.apply_batch(fills).unwrap()),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// The cost of the next 1,000 fills on a book that already booked `n`: flat in `n` (Nautilus's
/// `Position.apply` grows with the events already on the position).
fn bench_after_history(c: &mut Criterion) {
    const NEXT: usize = 1_000;
    let mut group = c.benchmark_group("position_next_1000_fills");
    group.throughput(Throughput::Elements(NEXT as u64));
    for n in [1_000usize, 10_000, 100_000] {
        let fills = fill_stream(n + NEXT, 7);
        let mut history = empty_book();
        for fill in &fills[..n] {
            history.apply(fill).unwrap();
        }
        let next = &fills[n..];
        group.bench_with_input(BenchmarkId::new("after", n), &next, |bencher, next| {
            bencher.iter_batched_ref(
                || {
                    // A clone has no spare capacity: reserve, as a book that has been growing
                    // would have, so a one-off reallocation of the whole history is not timed.
                    let mut b = history.clone();
                    b.reserve(NEXT);
                    b
                },
                |b| {
                    for fill in next.iter() {
                        black_box(b.apply(fill).unwrap());
                    }
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_fills, bench_after_history);
criterion_main!(benches);
