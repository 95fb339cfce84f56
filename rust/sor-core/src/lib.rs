//! nautilus-sor core: venue scoring, order splitting, child-order schedules and positions.
//!
//! Pure Rust with no Python or Nautilus types. Quantities are integer units of a size increment,
//! so every split and schedule is exactly conserved; prices and costs are `f64`.

pub mod book;
pub mod error;
pub mod limits;
pub mod passive;
pub mod position;
pub mod queue;
pub mod route;
pub mod schedule;
pub mod sim;
pub mod tape;
pub mod venue;

pub use book::{consolidated, ConsolidatedLevel, Ladder, Level, Side};
pub use error::{SorError, SorResult};
pub use passive::{PassiveQuote, PassiveSelection};
pub use position::{
    Exposure, Fill, FillResult, InstrumentId, InstrumentSpec, OmsType, Position, PositionBook, PositionId,
    PositionSide, VenueId,
};
pub use queue::{ProbFunc, QueueModel, QueuePosition, QueuedOrder};
pub use route::{Router, RouterParams, Selection, SplitResult, VenueQuote};
pub use schedule::{
    largest_remainder, shortfall, twap, vwap, Iceberg, PovTracker, Schedule, ShortfallParams, SplitMix64, TwapParams,
    VolumeProfile, VwapParams,
};
pub use sim::{ConsumedLiquidity, RecordedBook, RecordedSide, VenueBook};
pub use tape::{DecayedVolume, Tape};
pub use venue::{check_venue_name, VenueSpec, VenueStats};
