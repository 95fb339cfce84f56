//! The arbitrary-input decoders the fuzz targets (`fuzz_targets/`) share.
//!
//! Changing a decoder changes how every stored input (corpus, `regressions/`) decodes: keep the
//! variants and their payload types as they are.

use arbitrary::Arbitrary;

/// A quantity: mostly small (so that lots, minimums and depth interact), sometimes any u64.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Qty {
    Small(u8),
    Medium(u16),
    Raw(u64),
}

impl Qty {
    pub fn get(self) -> u64 {
        match self {
            Qty::Small(v) => v as u64,
            Qty::Medium(v) => v as u64,
            Qty::Raw(v) => v,
        }
    }
}

/// A float: a plausible value (a scaled small integer of type `T`: u16, or i16 where negative values
/// are plausible) or any bit pattern (NaN, inf, negative...).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num<T = u16> {
    Scaled(T),
    Raw(f64),
}

impl<T: Into<f64>> Num<T> {
    pub fn get(self, scale: f64) -> f64 {
        match self {
            Num::Scaled(v) => v.into() * scale,
            Num::Raw(v) => v,
        }
    }
}
