//! The one error type of the core. Every fallible entry point returns `SorResult`; no input panics.

use thiserror::Error;

/// What went wrong, with the field and the offending value so a caller can explain it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SorError {
    /// An argument or a piece of data is malformed (NaN, negative, unsorted, duplicate, ...).
    #[error("invalid {field}: {value} ({reason})")]
    InvalidInput {
        field: String,
        value: String,
        reason: String,
    },
    /// A venue name (or index) that the router does not know.
    #[error("unknown venue: {field}={value}")]
    UnknownVenue { field: String, value: String },
    /// The displayed liquidity within the limit price cannot cover the request.
    #[error(
        "insufficient liquidity for total_qty={requested}: {available} units available{limit_text}; shortfall {shortfall} units"
    )]
    InsufficientLiquidity {
        requested: u64,
        available: u64,
        shortfall: u64,
        limit_price: Option<f64>,
        limit_text: String,
    },
    /// No venue can take the order at all (all disabled, lots do not fit, no liquidity...).
    #[error("no eligible venue for {field}={value}: {reason}")]
    NoEligibleVenue {
        field: String,
        value: String,
        reason: String,
    },
}

impl SorError {
    pub fn invalid(field: &str, value: impl std::fmt::Display, reason: &str) -> Self {
        SorError::InvalidInput {
            field: field.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    pub fn unknown_venue(field: &str, value: impl std::fmt::Display) -> Self {
        SorError::UnknownVenue {
            field: field.to_string(),
            value: value.to_string(),
        }
    }

    pub fn insufficient(requested: u64, available: u64, limit_price: Option<f64>) -> Self {
        let limit_text = match limit_price {
            Some(p) => format!(" within limit price {p}"),
            None => String::new(),
        };
        SorError::InsufficientLiquidity {
            requested,
            available,
            shortfall: requested.saturating_sub(available),
            limit_price,
            limit_text,
        }
    }

    pub fn no_venue(field: &str, value: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        SorError::NoEligibleVenue {
            field: field.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// The field the error is about, for the Python exception's `field` attribute.
    pub fn field(&self) -> &str {
        match self {
            SorError::InvalidInput { field, .. }
            | SorError::UnknownVenue { field, .. }
            | SorError::NoEligibleVenue { field, .. } => field,
            SorError::InsufficientLiquidity { .. } => "total_qty",
        }
    }

    /// The offending value, rendered as text.
    pub fn value(&self) -> String {
        match self {
            SorError::InvalidInput { value, .. }
            | SorError::UnknownVenue { value, .. }
            | SorError::NoEligibleVenue { value, .. } => value.clone(),
            SorError::InsufficientLiquidity { requested, .. } => requested.to_string(),
        }
    }
}

pub type SorResult<T> = Result<T, SorError>;

/// Checks a float is finite and not negative; names the field otherwise.
pub(crate) fn check_non_negative(field: &str, value: f64) -> SorResult<f64> {
    if !value.is_finite() {
        return Err(SorError::invalid(field, value, "must be a finite number"));
    }
    if value < 0.0 {
        return Err(SorError::invalid(field, value, "must not be negative"));
    }
    Ok(value)
}

/// Checks a float is finite and strictly positive; names the field otherwise.
pub(crate) fn check_positive(field: &str, value: f64) -> SorResult<f64> {
    if !value.is_finite() {
        return Err(SorError::invalid(field, value, "must be a finite number"));
    }
    if value <= 0.0 {
        return Err(SorError::invalid(field, value, "must be greater than zero"));
    }
    Ok(value)
}
