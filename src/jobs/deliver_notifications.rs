//! deliver-notifications: sends what the outbox holds, with retries and backoff.

use std::sync::Arc;

use chrono::Duration;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use super::RunOutcome;
use crate::clock::Clock;
use crate::mail::{Mailer, OutgoingEmail};
use crate::store::outbox;

/// How long a claim lasts: a sender that crashed leaves its rows to others after this.
const LEASE: i64 = 120;
const BATCH: u64 = 20;
/// Batches one run sends at most; the next run continues.
const MAX_BATCHES: usize = 50;

/// Sends outbox rows through the process's one Mailer; cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    mailer: Mailer,
    max_attempts: u32,
    wake: Arc<Notify>,
}

impl Deliverer {
    pub fn new(mailer: Mailer, max_attempts: u32) -> Deliverer {
        Deliverer {
            mailer,
            max_attempts,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Asks for a run right away (a new notification was committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when `wake` was called.
    pub async fn woken(&self) {
        self.wake.notified().await
    }

    /// One run: claims due rows, sends them, marks them; returns how many were sent.
    pub async fn run(&self, db: &DatabaseConnection, clock: &Clock) -> Result<RunOutcome, DbErr> {
        let mut sent = 0u64;
        for _ in 0..MAX_BATCHES {
            let claimed = outbox::claim(db, clock.now(), Duration::seconds(LEASE), BATCH).await?;
            if claimed.is_empty() {
                break;
            }
            for row in claimed {
                let email = OutgoingEmail {
                    subject: row.subject.clone(),
                    text: row.body_text.clone(),
                    html: row.body_html.clone(),
                    message_id: row.message_id.clone(),
                    in_reply_to: row.in_reply_to.clone(),
                };
                match self.mailer.send(&email).await {
                    Ok(()) => {
                        outbox::mark_sent(db, row.id, clock.now()).await?;
                        sent += 1;
                        ::metrics::counter!(crate::metrics::NOTIFICATIONS_SENT).increment(1);
                        tracing::info!(notification = row.id, comment = row.comment_id, kind = %row.kind, "notification sent");
                    }
                    Err(e) => {
                        let error = e.to_string();
                        let retry_at = (row.attempts < self.max_attempts as i32)
                            .then(|| clock.now() + outbox::backoff(row.attempts));
                        outbox::mark_attempt_failed(db, row.id, &error, retry_at).await?;
                        match retry_at {
                            Some(at) => {
                                tracing::warn!(notification = row.id, attempt = row.attempts, retry_at = %at, error = %error, "sending a notification failed; will retry")
                            }
                            None => {
                                tracing::error!(notification = row.id, attempts = row.attempts, error = %error, "sending a notification failed for good")
                            }
                        }
                    }
                }
            }
        }
        Ok(RunOutcome::Done(sent))
    }
}
