//! Scheduled jobs. Each job is a plain async function over the database, called by the scheduler,
//! by the CLI (`comment-service jobs run NAME`) and by tests.
//!
//! A run never overlaps the next run of the same job in one process (a per-job guard), and on
//! PostgreSQL a run happens on one replica at a time (an advisory lock per job, or row claims).

pub mod close_expired;
pub mod deliver_events;
pub mod deliver_notifications;
pub mod purge;
pub mod send_reminders;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::Mutex;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::clock::Clock;
use crate::config::{ScheduleSettings, Settings};
use crate::db::stmt;

/// The jobs this service runs. On the command line (`jobs run NAME`) clap parses a name into its
/// job; the names are those of [`JobName::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum JobName {
    CloseExpired,
    DeliverNotifications,
    DeliverEvents,
    Purge,
    SendReminders,
}

impl JobName {
    pub const ALL: [JobName; 5] = [
        JobName::CloseExpired,
        JobName::DeliverNotifications,
        JobName::DeliverEvents,
        JobName::Purge,
        JobName::SendReminders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobName::CloseExpired => "close-expired",
            JobName::DeliverNotifications => "deliver-notifications",
            JobName::DeliverEvents => "deliver-events",
            JobName::Purge => "purge",
            JobName::SendReminders => "send-reminders",
        }
    }

    /// The job's schedule.
    fn schedule(self, schedules: &ScheduleSettings) -> &crate::cron::CronSchedule {
        match self {
            JobName::CloseExpired => &schedules.close_expired,
            JobName::DeliverNotifications => &schedules.deliver_notifications,
            JobName::DeliverEvents => &schedules.deliver_events,
            JobName::Purge => &schedules.purge,
            JobName::SendReminders => &schedules.send_reminders,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Takes the job's advisory lock for the rest of `txn` on PostgreSQL; false when another replica
/// holds it.
pub(crate) async fn try_advisory_lock(txn: &DatabaseTransaction, key: i64) -> Result<bool, DbErr> {
    Ok(txn
        .query_one_raw(stmt(
            txn,
            "SELECT pg_try_advisory_xact_lock($1) AS locked",
            [key.into()],
        ))
        .await?
        .map(|row| row.try_get::<bool>("", "locked"))
        .transpose()?
        .unwrap_or(false))
}

/// What one run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// The run happened and handled this many items.
    Done(u64),
    /// Another run of the same job was in progress (in this process or on another replica).
    Busy,
}

/// The jobs with their guards; cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    db: DatabaseConnection,
    clock: Clock,
    settings: Arc<Settings>,
    /// One per job, in the order of `JobName::ALL`.
    guards: [Arc<Mutex<()>>; JobName::ALL.len()],
    pub deliver: deliver_notifications::Deliverer,
    pub events: deliver_events::EventDeliverer,
}

impl Jobs {
    pub fn new(
        db: DatabaseConnection,
        deliver: deliver_notifications::Deliverer,
        events: deliver_events::EventDeliverer,
        clock: Clock,
        settings: Arc<Settings>,
    ) -> Jobs {
        Jobs {
            db,
            clock,
            settings,
            guards: Default::default(),
            deliver,
            events,
        }
    }

    /// Runs a job once, now.
    pub async fn run(&self, job: JobName) -> Result<RunOutcome, DbErr> {
        let Ok(_running) = self.guards[job.index()].try_lock() else {
            return Ok(RunOutcome::Busy);
        };
        match job {
            JobName::CloseExpired => {
                let events = self.events.recording();
                let outcome = close_expired::run(&self.db, self.clock.now(), events).await?;
                if matches!(outcome, RunOutcome::Done(n) if n > 0) {
                    self.events.wake();
                }
                Ok(outcome)
            }
            JobName::DeliverNotifications => {
                let outcome = self.deliver.run(&self.db, &self.clock).await;
                self.count_outbox().await;
                outcome
            }
            JobName::DeliverEvents => self.events.run(&self.db, &self.clock).await,
            JobName::Purge => purge::run(&self.db, &self.settings, self.clock.now()).await,
            JobName::SendReminders => {
                let outcome =
                    send_reminders::run(&self.db, &self.settings, self.clock.now()).await?;
                if matches!(outcome, RunOutcome::Done(n) if n > 0) {
                    self.deliver.wake();
                }
                Ok(outcome)
            }
        }
    }

    /// Sets the outbox gauges from the database: after every run of deliver-notifications and at
    /// start-up, so that `/metrics` only reads them.
    pub async fn count_outbox(&self) {
        match crate::store::outbox::count_by_status(&self.db).await {
            Ok(counts) => crate::metrics::set_outbox(&counts),
            Err(e) => tracing::warn!(error = %e, "counting the outbox for the metrics failed"),
        }
    }

    /// Runs a job and logs the outcome, as the scheduler does.
    pub async fn run_logged(&self, job: JobName) {
        match self.run(job).await {
            Ok(RunOutcome::Done(n))
                if n > 0
                    || !matches!(job, JobName::DeliverNotifications | JobName::DeliverEvents) =>
            {
                tracing::info!(job = job.as_str(), count = n, "job run finished")
            }
            Ok(RunOutcome::Done(_)) => {
                tracing::debug!(job = job.as_str(), "job run finished, nothing to do")
            }
            Ok(RunOutcome::Busy) => {
                tracing::debug!(job = job.as_str(), "job already running, run skipped")
            }
            Err(e) => {
                tracing::error!(job = job.as_str(), error = %e, "job run failed; the next run retries")
            }
        }
    }

    /// Waits until no job is running and keeps new runs from starting (for shutdown).
    async fn drain(&self, timeout: Duration) -> bool {
        let guards = self.guards.clone();
        let wait = async move {
            for guard in guards {
                std::mem::forget(guard.lock_owned().await);
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

/// tokio-cron-scheduler running the jobs on their schedules (UTC).
pub struct Scheduler {
    inner: JobScheduler,
    jobs: Jobs,
}

impl Scheduler {
    pub async fn start(
        jobs: Jobs,
        schedules: &ScheduleSettings,
    ) -> Result<Scheduler, Box<dyn std::error::Error + Send + Sync>> {
        let inner = JobScheduler::new().await?;
        for job in JobName::ALL {
            let schedule = job.schedule(schedules);
            let runner = jobs.clone();
            inner
                .add(Job::new_async(schedule.as_str(), move |_, _| {
                    let runner = runner.clone();
                    Box::pin(async move { runner.run_logged(job).await })
                })?)
                .await?;
            tracing::info!(job = job.as_str(), schedule = %schedule, "job scheduled");
        }
        inner.start().await?;
        Ok(Scheduler { inner, jobs })
    }

    /// Stops scheduling and waits (bounded) for a running job to finish.
    pub async fn stop(mut self, timeout: Duration) {
        if let Err(e) = self.inner.shutdown().await {
            tracing::warn!(error = %e, "scheduler shutdown reported an error");
        }
        if !self.jobs.drain(timeout).await {
            tracing::warn!("a job was still running when the shutdown grace period ended");
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::JobName;

    #[test]
    fn clap_parses_every_job_by_its_name() {
        assert_eq!(JobName::value_variants(), JobName::ALL);
        for job in JobName::ALL {
            assert_eq!(JobName::from_str(job.as_str(), false), Ok(job));
        }
        assert!(JobName::from_str("nonsense", false).is_err());
    }
}
