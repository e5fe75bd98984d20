//! The clock every rule and job reads `now` from: the system's time in production, a clock that
//! tests set and move (so deadlines, windows and expiry are tested without waiting).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Where the time comes from; cheap to clone, shared by everything built from one application.
#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    System,
    Manual(Mutex<DateTime<Utc>>),
}

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Clock {
        Clock(Arc::new(Source::System))
    }

    /// A clock that stands still at `start` until it is set or advanced.
    pub fn manual(start: DateTime<Utc>) -> Clock {
        Clock(Arc::new(Source::Manual(Mutex::new(start.trunc_subsecs(6)))))
    }

    /// The current time at the database's precision (microseconds), so a value read back compares
    /// equal to the value written.
    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Source::System => Utc::now().trunc_subsecs(6),
            Source::Manual(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock forward (or back, with a negative duration).
    ///
    /// # Panics
    /// On the system clock, which nobody may move.
    pub fn advance(&self, by: Duration) {
        self.with_manual(|t| *t = (*t + by).trunc_subsecs(6));
    }

    /// Sets a manual clock to `to`.
    ///
    /// # Panics
    /// On the system clock.
    pub fn set(&self, to: DateTime<Utc>) {
        self.with_manual(|t| *t = to.trunc_subsecs(6));
    }

    fn with_manual(&self, change: impl FnOnce(&mut DateTime<Utc>)) {
        match &*self.0 {
            Source::System => panic!("the system clock cannot be moved"),
            Source::Manual(t) => change(&mut t.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(_) => write!(f, "Clock::Manual({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2019-04-26T08:51:00.1234567Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start.trunc_subsecs(6));
        assert_eq!(clock.now(), clock.now());
        let shared = clock.clone();
        shared.advance(Duration::minutes(15));
        assert_eq!(clock.now(), start.trunc_subsecs(6) + Duration::minutes(15));
        clock.set(start);
        assert_eq!(shared.now(), start.trunc_subsecs(6));
    }

    #[test]
    fn the_system_clock_has_microsecond_precision() {
        let now = Clock::system().now();
        assert_eq!(now, now.trunc_subsecs(6));
    }
}
