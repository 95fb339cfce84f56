//! PositionBook on arbitrary venues, instruments and fill sequences (single fills and batches).
//! Any bytes: no panic. After each accepted fill, net_units of every (venue, instrument) equals the
//! signed sum of its accepted fills; a rejected fill or batch leaves every net_units unchanged.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sor_core::{Fill, InstrumentSpec, OmsType, PositionBook, Side};
use sor_core_fuzz::Qty;

/// Prices, commissions and multipliers: here a plausible value may be negative.
type Num = sor_core_fuzz::Num<i16>;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Pid {
    Small(u8),
    Raw(u64),
}

#[derive(Arbitrary, Debug)]
struct InstrumentIn {
    name: u8,
    underlying: u8,
    size_precision: u8,
    multiplier: Num,
    currency_precision: Option<u8>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct FillIn {
    venue: u8,
    instrument: u8,
    buy: bool,
    quantity: Qty,
    price: Num,
    commission: Num,
    position_id: Option<Pid>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Fill(FillIn),
    Batch(Vec<FillIn>),
    Query {
        venue: u8,
        instrument: u8,
        underlying: u8,
        mark: Num,
        position: Pid,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    venues: Vec<(u8, bool)>,
    instruments: Vec<InstrumentIn>,
    ops: Vec<Op>,
}

fn name(prefix: &str, n: u8) -> String {
    // A few names collide on purpose (duplicates must be errors); 255 is an empty/blank name.
    if n == 255 {
        " ".to_string()
    } else {
        format!("{prefix}{}", n % 8)
    }
}

fn fill(f: &FillIn) -> Fill {
    Fill {
        venue: f.venue as u32,
        instrument: f.instrument as u32,
        side: if f.buy { Side::Buy } else { Side::Sell },
        quantity: f.quantity.get(),
        price: f.price.get(0.25),
        commission: f.commission.get(0.01),
        position_id: f.position_id.map(|p| match p {
            Pid::Small(v) => v as u64,
            Pid::Raw(v) => v,
        }),
    }
}

fn signed(f: &Fill) -> i128 {
    match f.side {
        Side::Buy => f.quantity as i128,
        Side::Sell => -(f.quantity as i128),
    }
}

fn snapshot(book: &PositionBook, nv: usize, ni: usize) -> Vec<i128> {
    let mut out = Vec::with_capacity(nv * ni);
    for v in 0..nv as u32 {
        for i in 0..ni as u32 {
            out.push(book.net_units(v, i).expect("net_units of a registered pair"));
        }
    }
    out
}

fuzz_target!(|input: Input| {
    if input.ops.len() > 256 {
        return;
    }
    let mut book = PositionBook::new();
    for &(v, hedging) in input.venues.iter().take(8) {
        let oms = if hedging { OmsType::Hedging } else { OmsType::Netting };
        let _ = book.add_venue(&name("V", v), oms);
    }
    for ins in input.instruments.iter().take(8) {
        let Ok(spec) = InstrumentSpec::new(
            &name("I", ins.name),
            &name("U", ins.underlying),
            ins.size_precision,
            ins.multiplier.get(0.5),
            ins.currency_precision,
        ) else {
            continue;
        };
        let _ = book.add_instrument(spec);
    }
    let (nv, ni) = (book.venue_count(), book.instrument_count());
    // expected[v * ni + i]: signed sum of the accepted fills of (v, i).
    let mut expected = vec![0i128; nv * ni];
    for op in &input.ops {
        let before = snapshot(&book, nv, ni);
        assert_eq!(
            before, expected,
            "net_units differ from the signed sum of accepted fills"
        );
        match op {
            Op::Fill(f) => {
                let f = fill(f);
                match book.apply(&f) {
                    Ok(r) => {
                        expected[f.venue as usize * ni + f.instrument as usize] += signed(&f);
                        assert!(book.position(r.position_id).is_ok(), "result names an unknown position");
                        assert!(book.position(r.resulting_id()).is_ok());
                    }
                    Err(e) => {
                        let _ = e.to_string();
                        assert_eq!(snapshot(&book, nv, ni), before, "rejected fill changed net_units");
                    }
                }
            }
            Op::Batch(fills) => {
                let fills: Vec<Fill> = fills.iter().take(32).map(fill).collect();
                match book.apply_batch(&fills) {
                    Ok(ids) => {
                        assert_eq!(ids.len(), fills.len());
                        for f in &fills {
                            expected[f.venue as usize * ni + f.instrument as usize] += signed(f);
                        }
                    }
                    Err(e) => {
                        let _ = e.to_string();
                        assert_eq!(snapshot(&book, nv, ni), before, "rejected batch changed net_units");
                    }
                }
            }
            Op::Query {
                venue,
                instrument,
                underlying,
                mark,
                position,
            } => {
                let (v, i, m) = (*venue as u32, *instrument as u32, mark.get(0.25));
                let _ = book.realized_pnl(v, i);
                let _ = book.fill_count(v, i);
                let _ = book.open_positions(v, i);
                let _ = book.netting_position(v, i);
                let _ = book.pair_unrealized_pnl(v, i, m);
                let pid = match *position {
                    Pid::Small(p) => p as u64,
                    Pid::Raw(p) => p,
                };
                let _ = book.position(pid);
                let _ = book.unrealized_pnl(pid, m);
                let u = name("U", *underlying);
                let _ = book.net_exposure(&u);
                let _ = book.exposure(&u);
            }
        }
    }
    assert_eq!(
        snapshot(&book, nv, ni),
        expected,
        "net_units differ from the signed sum of accepted fills"
    );
});
