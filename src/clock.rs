//! The one place that reads the wall clock. Everything below the HTTP handlers and jobs takes
//! `now` as a parameter, so rules are tested at any instant.

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at the database's precision (microseconds), so a value read back compares
/// equal to the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
