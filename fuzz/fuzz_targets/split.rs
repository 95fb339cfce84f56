//! Router::split / select_venue on arbitrary venues, ladders, statistics and requests.
//! Any bytes: no panic. On Ok: exact conservation, lots, minimums, enabled venues, <= max_venues.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sor_core::{Ladder, Level, Router, RouterParams, Side, VenueSpec};
use sor_core_fuzz::{Num, Qty};

#[derive(Arbitrary, Debug)]
enum BookIn {
    None,
    /// Levels as (gap in half ticks from the previous price, size) around `base`: usually valid.
    Gaps {
        base: u16,
        bids: Vec<(u8, Qty)>,
        asks: Vec<(u8, Qty)>,
    },
    /// Any levels: mostly rejected by `Ladder::new` (then the venue simply has no book).
    Raw {
        bids: Vec<(f64, Qty)>,
        asks: Vec<(f64, Qty)>,
    },
}

fn ladder(book: &BookIn) -> Option<Ladder> {
    let (bids, asks) = match book {
        BookIn::None => return None,
        BookIn::Gaps { base, bids, asks } => {
            let base = 1.0 + *base as f64;
            let mut px = base;
            let b = bids
                .iter()
                .map(|&(g, s)| {
                    px -= g as f64 * 0.5;
                    Level {
                        price: px,
                        size: s.get(),
                    }
                })
                .collect();
            let mut px = base;
            let a = asks
                .iter()
                .map(|&(g, s)| {
                    px += g as f64 * 0.5;
                    Level {
                        price: px,
                        size: s.get(),
                    }
                })
                .collect();
            (b, a)
        }
        BookIn::Raw { bids, asks } => (
            bids.iter()
                .map(|&(p, s)| Level {
                    price: p,
                    size: s.get(),
                })
                .collect(),
            asks.iter()
                .map(|&(p, s)| Level {
                    price: p,
                    size: s.get(),
                })
                .collect(),
        ),
    };
    // Invalid ladders are simply errors.
    Ladder::new(bids, asks).ok()
}

#[derive(Arbitrary, Debug)]
enum StatEvent {
    Ack(Num),
    Reject,
    Fill { expected: Num, fill: Num, is_buy: bool },
    Done { filled: Qty, ordered: Qty },
}

#[derive(Arbitrary, Debug)]
struct VenueIn {
    maker_fee: Num,
    taker_fee: Num,
    latency_ms: Num,
    lot: Qty,
    min: Qty,
    enabled: bool,
    book: BookIn,
    events: Vec<StatEvent>,
}

#[derive(Arbitrary, Debug)]
struct LevelUpdate {
    venue: u8,
    is_bid: bool,
    price: Num,
    size: Qty,
}

#[derive(Arbitrary, Debug)]
struct Input {
    params: Option<(Num, Num, Num, Num)>,
    venues: Vec<VenueIn>,
    updates: Vec<LevelUpdate>,
    buy: bool,
    total: Qty,
    max_venues: u8,
    limit: Option<Num>,
}

fuzz_target!(|input: Input| {
    if input.venues.len() > 12 || input.updates.len() > 32 {
        return;
    }
    let params = match input.params {
        None => RouterParams::default(),
        Some((v, w, m, a)) => RouterParams {
            volatility: v.get(1e-6),
            latency_risk_weight: w.get(0.01),
            miss_cost_bps: m.get(0.1),
            ewma_alpha: a.get(1e-4),
            ..RouterParams::default()
        },
    };
    let mut specs = Vec::new();
    for (i, v) in input.venues.iter().enumerate() {
        match VenueSpec::new(
            &format!("V{i}"),
            v.maker_fee.get(1e-6),
            v.taker_fee.get(1e-6),
            v.latency_ms.get(0.1),
            v.lot.get(),
            v.min.get(),
            v.enabled,
        ) {
            Ok(s) => specs.push(s),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    let Ok(mut router) = Router::new(specs, params) else {
        return;
    };
    let n = router.venues().len();
    let kept: Vec<&VenueIn> = {
        // Venues kept are those whose spec was valid, in order; rebuild the mapping by name.
        let names: Vec<String> = router.venues().iter().map(|v| v.name.clone()).collect();
        names
            .iter()
            .map(|name| &input.venues[name[1..].parse::<usize>().unwrap()])
            .collect()
    };
    for (i, v) in kept.iter().enumerate() {
        router.set_book(i, ladder(&v.book)).expect("set_book on a known venue");
        for ev in v.events.iter().take(16) {
            let stats = router.stats_mut(i).expect("stats of a known venue");
            let _ = match *ev {
                StatEvent::Ack(l) => stats.record_ack(l.get(0.1)),
                StatEvent::Reject => {
                    stats.record_reject();
                    Ok(())
                }
                StatEvent::Fill { expected, fill, is_buy } => {
                    stats.record_fill(expected.get(0.01), fill.get(0.01), is_buy)
                }
                StatEvent::Done { filled, ordered } => stats.record_order_done(filled.get(), ordered.get()),
            };
        }
    }
    for u in &input.updates {
        let _ = router.update_level(u.venue as usize, u.is_bid, u.price.get(0.5), u.size.get());
    }
    // Out-of-range venue indices must be errors, not panics.
    assert!(router.set_lot(n, 1, 0).is_err());
    assert!(router.book(n).is_err());

    let side = if input.buy { Side::Buy } else { Side::Sell };
    let total = input.total.get();
    let max_venues = input.max_venues as usize;
    let limit = input.limit.map(|l| l.get(0.5));

    match router.split(side, total, max_venues, limit) {
        Ok(s) => {
            let sum: u128 = s.allocations.iter().map(|a| a.qty as u128).sum();
            assert_eq!(sum, total as u128, "split does not conserve the total: {s:?}");
            assert_eq!(s.total_qty, total);
            assert!(
                s.allocations.len() <= max_venues,
                "{} venues used > max_venues {max_venues}",
                s.allocations.len()
            );
            let mut seen = vec![false; n];
            for a in &s.allocations {
                assert!(a.venue < n, "allocation to unknown venue {}", a.venue);
                assert!(!seen[a.venue], "venue {} allocated twice", a.venue);
                seen[a.venue] = true;
                let spec = &router.venues()[a.venue];
                assert!(spec.enabled, "allocation to disabled venue {}", a.venue);
                assert!(a.qty > 0, "zero allocation listed");
                assert_eq!(
                    a.qty % spec.lot_size,
                    0,
                    "qty {} not a multiple of lot {}",
                    a.qty,
                    spec.lot_size
                );
                assert!(a.qty >= spec.min_qty, "qty {} below min {}", a.qty, spec.min_qty);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    // A venue that takes the whole order alone is a valid split: split must then succeed, no dearer.
    if let Ok(sel) = router.select_venue(side, total, limit) {
        if max_venues >= 1 {
            match router.split(side, total, max_venues, limit) {
                Ok(s) => {
                    let tol = 1e-7 * sel.best.score_bps.abs().max(1.0);
                    assert!(
                        s.score_bps <= sel.best.score_bps + tol || !s.score_bps.is_finite() || !sel.best.score_bps.is_finite(),
                        "split {} dearer than select_venue {}",
                        s.score_bps,
                        sel.best.score_bps
                    );
                }
                Err(e) => panic!("select_venue fills {total} but split refuses: {e}"),
            }
        }
    }

    match router.select_venue(side, total, limit) {
        Ok(sel) => {
            let spec = &router.venues()[sel.best.venue];
            assert!(spec.enabled, "selected a disabled venue");
            assert!(
                spec.accepts(sel.best.qty),
                "selected venue does not accept {}",
                sel.best.qty
            );
            assert_eq!(sel.best.qty, total);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
