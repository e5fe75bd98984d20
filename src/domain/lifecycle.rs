//! The age rule: when a discussion closes, and whether it is open at a given instant.

use chrono::{DateTime, LocalResult, Months, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::states::ClosedReason;

/// `published_at` plus `months` calendar months, counted in the newsroom's time zone.
///
/// A day that does not exist in the target month clamps to that month's last day
/// (31 August + 6 months = 28 February). A local time that falls into a daylight-saving gap is
/// moved forward by the gap (02:30 on the spring-forward night becomes 03:30); one that occurs
/// twice (the autumn night) is the earlier of the two.
pub fn closes_at(published_at: DateTime<Utc>, months: u32, zone: Tz) -> DateTime<Utc> {
    let local = published_at.with_timezone(&zone).naive_local();
    let target = local
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDateTime::MAX);
    local_to_utc(target, zone)
}

fn local_to_utc(local: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // Inside a gap: read the wall-clock time with the offset in force before the gap.
            let before = local - chrono::Duration::hours(3);
            let offset = match zone.from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => *t.offset(),
                LocalResult::None => return Utc.from_utc_datetime(&local),
            };
            use chrono::Offset;
            let seconds = offset.fix().local_minus_utc();
            Utc.from_utc_datetime(&(local - chrono::Duration::seconds(seconds as i64)))
        }
    }
}

/// The state of a discussion at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscussionState {
    Open,
    Closed {
        /// When it closed: the recorded closure, or `closes_at` when no job has recorded it yet.
        closed_at: DateTime<Utc>,
        reason: ClosedReason,
    },
}

impl DiscussionState {
    /// The rule is exact at every instant: from `closes_at` on the discussion is closed, whether or
    /// not the closure job has recorded it.
    pub fn at(
        now: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        closed_at: Option<DateTime<Utc>>,
        closed_reason: Option<ClosedReason>,
    ) -> DiscussionState {
        if let Some(closed_at) = closed_at {
            return DiscussionState::Closed {
                closed_at,
                reason: closed_reason.unwrap_or(ClosedReason::Expired),
            };
        }
        if now >= closes_at {
            DiscussionState::Closed {
                closed_at: closes_at,
                reason: ClosedReason::Expired,
            }
        } else {
            DiscussionState::Open
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self, DiscussionState::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Vienna;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Published (local time with offset) + 18 months in Vienna = closes (UTC).
    fn closes_after_18_months(published: &str, closes: &str) {
        assert_eq!(
            closes_at(utc(published), 18, Vienna),
            utc(closes),
            "published {published}"
        );
    }

    #[test]
    fn the_seed_article_published_in_summer_time_closes_in_winter_time() {
        // 10:51 CEST (UTC+2) + 18 months = 10:51 CET (UTC+1).
        closes_after_18_months("2019-04-26T10:51:00+02:00", "2020-10-26T09:51:00Z");
    }

    #[test]
    fn a_day_missing_in_the_target_month_clamps_to_its_last_day() {
        // 31 August + 18 months = 28 February, or the 29th in a leap year; 12:00 CEST -> 12:00 CET.
        closes_after_18_months("2019-08-31T12:00:00+02:00", "2021-02-28T11:00:00Z");
        closes_after_18_months("2022-08-31T12:00:00+02:00", "2024-02-29T11:00:00Z");
    }

    #[test]
    fn a_local_time_in_the_spring_forward_gap_moves_forward_by_the_gap() {
        // 2023-03-26 02:30 does not exist in Vienna (clocks jump from 02:00 to 03:00): it becomes
        // 03:30 CEST.
        closes_after_18_months("2021-09-26T02:30:00+02:00", "2023-03-26T01:30:00Z");
    }

    #[test]
    fn a_local_time_that_occurs_twice_takes_the_earlier_instant() {
        // 2023-10-29 02:30 happens twice; the first is CEST.
        closes_after_18_months("2022-04-29T02:30:00+02:00", "2023-10-29T00:30:00Z");
    }

    #[test]
    fn the_state_changes_exactly_at_closes_at() {
        let closes = utc("2020-10-26T09:51:00Z");
        let second = chrono::Duration::seconds(1);
        assert_eq!(
            DiscussionState::at(closes - second, closes, None, None),
            DiscussionState::Open
        );
        assert_eq!(
            DiscussionState::at(closes, closes, None, None),
            DiscussionState::Closed {
                closed_at: closes,
                reason: ClosedReason::Expired
            }
        );
        assert!(!DiscussionState::at(closes + second, closes, None, None).is_open());
    }

    #[test]
    fn a_recorded_closure_wins_over_the_age_rule() {
        let closes = utc("2030-01-01T00:00:00Z");
        let closed = utc("2026-01-01T00:00:00Z");
        let state = DiscussionState::at(
            utc("2026-06-01T00:00:00Z"),
            closes,
            Some(closed),
            Some(ClosedReason::Moderator),
        );
        assert_eq!(
            state,
            DiscussionState::Closed {
                closed_at: closed,
                reason: ClosedReason::Moderator
            }
        );
    }
}
