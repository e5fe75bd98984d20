//! Cron expressions as the scheduler reads them.

use std::fmt;

use tokio_cron_scheduler::Job;

/// A cron expression tokio-cron-scheduler accepts: 6 or 7 fields, seconds first, in UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule(String);

impl CronSchedule {
    pub fn parse(expression: &str) -> Result<CronSchedule, String> {
        let fields = expression.split_whitespace().count();
        if !(6..=7).contains(&fields) {
            return Err(format!(
                "`{expression}` has {fields} fields; expected 6 (seconds first), like `0 */5 * * * *`"
            ));
        }
        Job::new_async(expression, |_, _| Box::pin(async {}))
            .map(|_| CronSchedule(expression.to_owned()))
            .map_err(|e| format!("`{expression}` is not a valid cron expression: {e}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_or_seven_fields_seconds_first_are_accepted() {
        assert!(CronSchedule::parse("0 */5 * * * *").is_ok());
        assert!(CronSchedule::parse("0 0 0 1 1 * 2030").is_ok());
        let err = CronSchedule::parse("*/5 * * * *").unwrap_err();
        assert!(err.contains("has 5 fields"), "{err}");
        let err = CronSchedule::parse("every ten seconds").unwrap_err();
        assert!(err.contains("3 fields"), "{err}");
        let err = CronSchedule::parse("x y z a b c").unwrap_err();
        assert!(err.contains("not a valid cron expression"), "{err}");
    }
}
