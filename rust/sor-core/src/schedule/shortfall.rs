//! Implementation shortfall (Almgren-Chriss) schedule.

use super::allocation::{all_in_first, even_parts, hamilton};
use super::window::{parent_lots, Grid};
use super::{Schedule, NS_PER_SECOND};
use crate::error::{check_non_negative, SorError, SorResult};

/// Almgren-Chriss (2000) parameters. Units must agree: time in seconds, quantities in units,
/// `volatility` in price per unit per sqrt(second), `temporary_impact` (eta) in price per
/// (unit/second), `permanent_impact` (gamma) in price per unit, `risk_aversion` (lambda) per unit of
/// currency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShortfallParams {
    pub duration_seconds: f64,
    pub interval_seconds: f64,
    pub risk_aversion: f64,
    pub volatility: f64,
    pub temporary_impact: f64,
    pub permanent_impact: f64,
    pub lot_size: u64,
}

impl ShortfallParams {
    fn validate(&self) -> SorResult<()> {
        check_non_negative("risk_aversion", self.risk_aversion)?;
        check_non_negative("volatility", self.volatility)?;
        crate::error::check_positive("temporary_impact", self.temporary_impact)?;
        check_non_negative("permanent_impact", self.permanent_impact)?;
        Ok(())
    }

    /// `kappa * tau` of the discrete model: `2 (cosh(kappa tau) - 1) = kappa_tilde^2 tau^2` with
    /// `kappa_tilde^2 = lambda sigma^2 / eta_tilde`, `eta_tilde = eta - gamma tau / 2`; solved as
    /// `kappa tau = 2 asinh(kappa_tilde tau / 2)`, exact for small values. May be +inf.
    fn kappa_tau(&self, tau_seconds: f64) -> SorResult<f64> {
        self.validate()?;
        let eta_tilde = self.temporary_impact - self.permanent_impact * tau_seconds / 2.0;
        if eta_tilde <= 0.0 {
            return Err(SorError::invalid(
                "permanent_impact",
                self.permanent_impact,
                &format!(
                    "eta_tilde = temporary_impact - permanent_impact * interval_seconds / 2 = {eta_tilde} must be > 0"
                ),
            ));
        }
        let kt_tau = (self.risk_aversion * self.volatility * self.volatility / eta_tilde).sqrt() * tau_seconds;
        Ok(2.0 * (kt_tau / 2.0).asinh())
    }

    /// The urgency `kappa`, per second (may be +inf for extreme parameters: all at once).
    pub fn kappa(&self) -> SorResult<f64> {
        let grid = Grid::new(self.duration_seconds, self.interval_seconds)?;
        let tau = grid.interval_ns as f64 / NS_PER_SECOND as f64;
        Ok(self.kappa_tau(tau)? / tau)
    }
}

/// Fraction of the parent still held after `j` of `n` periods: `sinh(a (n - j)) / sinh(a n)`, written
/// as `exp(-a j) * expm1(-2 a (n - j)) / expm1(-2 a n)` so that it cannot overflow (a = kappa tau > 0).
pub(super) fn holding(a: f64, j: f64, n: f64) -> f64 {
    let den = (-2.0 * a * n).exp_m1();
    if den == 0.0 {
        return (n - j) / n;
    }
    let decay = if j == 0.0 { 1.0 } else { (-a * j).exp() };
    decay * (-2.0 * a * (n - j)).exp_m1() / den
}

/// Almgren-Chriss optimal schedule: holdings `x_j = X sinh(kappa (T - t_j)) / sinh(kappa T)` on the
/// slice grid, children are the differences `x_j - x_{j+1}` (sent at the start of slice `j`), rounded
/// to whole lots by largest remainder. Like TWAP, `N = ceil(duration / interval)` and the model runs
/// on N periods of length `interval` (`T = N * interval`), so a shorter last slice counts as one
/// period. With `kappa = 0` (risk aversion or volatility 0) this is exactly `twap`; an extreme
/// `kappa * T` sends (almost) everything in the first slice, never NaN.
pub fn shortfall(quantity: u64, params: &ShortfallParams) -> SorResult<Schedule> {
    let lots = parent_lots(quantity, params.lot_size)?;
    let grid = Grid::new(params.duration_seconds, params.interval_seconds)?;
    let tau = grid.interval_ns as f64 / NS_PER_SECOND as f64;
    let a = params.kappa_tau(tau)?;
    let n = grid.len();
    let parts = if a == 0.0 || a.is_nan() {
        even_parts(lots, n)
    } else if !a.is_finite() {
        all_in_first(lots, n)
    } else {
        let nf = n as f64;
        let mut weights = Vec::with_capacity(n);
        let mut prev = 1.0;
        let mut sum = 0.0;
        for j in 1..=n {
            let x = if j == n { 0.0 } else { holding(a, j as f64, nf) };
            let w = (prev - x).max(0.0);
            prev = x;
            sum += w;
            weights.push(w);
        }
        if sum.is_finite() && sum > 0.0 {
            hamilton(lots, &weights, sum)
        } else {
            all_in_first(lots, n)
        }
    };
    Ok(Schedule::on_grid(&grid, &parts, params.lot_size))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holding_is_stable_at_the_extremes() {
        assert_eq!(holding(1e-3, 0.0, 10.0), 1.0);
        assert_eq!(holding(800.0, 0.0, 10.0), 1.0);
        assert_eq!(holding(800.0, 1.0, 10.0), 0.0);
        let h = holding(1e-12, 5.0, 10.0);
        assert!((h - 0.5).abs() < 1e-9, "{h}");
    }
}
