//! deliver-notifications: sends what the outbox holds, with retries and backoff.
//!
//! Each row is leased when it is claimed, and only for itself: a slow mail server delays the
//! rows after it but never eats into their leases. A row is handed to the mail server only while
//! its lease has more than a whole send left (the mailer gives up on a send after
//! [`mail::SEND_TIMEOUT`](crate::mail::SEND_TIMEOUT), well below [`LEASE`]), and only the holder
//! of the lease marks it, so no other sender can take a row that is being sent.
//!
//! What no sender can know is whether a mail server that received the whole message but whose
//! answer never arrived (the sender was killed, or the answer took longer than the send timeout)
//! delivered it; SMTP has no way to ask (RFC 1047). Such a row is sent again, with the same
//! `Message-ID`, so mail programs show it once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Duration;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use super::RunOutcome;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::action_link::ActionLinkSigner;
use crate::entity::notification;
use crate::mail::{MailError, Mailer};
use crate::store::outbox::{self, Lease};

/// How long a claim lasts: a sender that crashed leaves its row to others after this.
pub const LEASE: Duration = Duration::seconds(60);
/// Rows one run sends at most; the next run continues.
const MAX_PER_RUN: usize = 1000;

/// Sends outbox rows through the process's one Mailer; cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    mailer: Mailer,
    settings: Arc<Settings>,
    signer: ActionLinkSigner,
    /// Who this process is when it holds leases.
    owner: Arc<str>,
    /// Whether the first run frees the rows an earlier, killed run of `owner` left leased.
    recover: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl Deliverer {
    /// A deliverer whose leases carry a random owner (nothing to recover from a killed run).
    pub fn new(mailer: Mailer, settings: Arc<Settings>, signer: ActionLinkSigner) -> Deliverer {
        Deliverer {
            mailer,
            settings,
            signer,
            owner: format!("run-{:016x}", rand::random::<u64>()).into(),
            recover: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The same deliverer with leases owned by `owner`, a name no other live process uses (this
    /// host and the address this process is bound to): its first run frees the rows an earlier
    /// run under the same name held when it was killed, instead of waiting for their leases.
    pub fn owned_by(mut self, owner: String) -> Deliverer {
        self.owner = owner.into();
        self.recover = Arc::new(AtomicBool::new(true));
        self
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

    /// One run: claims due rows one by one, sends each, marks it; returns how many were sent.
    pub async fn run(&self, db: &DatabaseConnection, clock: &Clock) -> Result<RunOutcome, DbErr> {
        if self.recover.load(Ordering::SeqCst) {
            let freed = outbox::release_owned_by(db, &self.owner).await?;
            self.recover.store(false, Ordering::SeqCst);
            if freed > 0 {
                tracing::warn!(owner = %self.owner, rows = freed, "an earlier run stopped while sending: its notifications are sent again");
            }
        }
        let send_timeout = Duration::from_std(self.mailer.send_timeout())
            .unwrap_or_else(|_| Duration::seconds(60));
        let mut sent = 0u64;
        for _ in 0..MAX_PER_RUN {
            let Some((row, lease)) =
                outbox::claim_next(db, clock.now(), LEASE, &self.owner).await?
            else {
                break;
            };
            // Only under a live lease with room for a whole send.
            if clock.now() + send_timeout >= lease.until {
                outbox::release(db, row.id, &lease).await?;
                break;
            }
            let result =
                match crate::notifications::render(&row, &self.settings, &self.signer, clock.now())
                {
                    Ok(email) => self.mailer.send(&email).await,
                    Err(e) => Err(e),
                };
            match result {
                Ok(()) => {
                    if !outbox::mark_sent(db, row.id, &lease, clock.now()).await? {
                        tracing::error!(
                            notification = row.id,
                            "a notification was sent after its lease ended"
                        );
                    }
                    sent += 1;
                    ::metrics::counter!(crate::metrics::NOTIFICATIONS_SENT).increment(1);
                    tracing::info!(notification = row.id, comment = row.comment_id, kind = %row.kind, "notification sent");
                }
                Err(e) => self.failed(db, clock, &row, &lease, &e).await?,
            }
        }
        Ok(RunOutcome::Done(sent))
    }

    /// Records a failed attempt: retried with backoff, or `failed` at once when retrying cannot
    /// help (a permanent 5xx answer, an unusable mail) or the attempts are used up.
    async fn failed(
        &self,
        db: &DatabaseConnection,
        clock: &Clock,
        row: &notification::Model,
        lease: &Lease,
        e: &MailError,
    ) -> Result<(), DbErr> {
        let error = e.to_string();
        let retry_at = (!e.is_permanent() && row.attempts < self.settings.mail.max_attempts as i32)
            .then(|| clock.now() + outbox::backoff(row.attempts));
        if !outbox::mark_attempt_failed(db, row.id, lease, &error, retry_at).await? {
            tracing::error!(
                notification = row.id,
                "a failed attempt ended after its lease"
            );
        }
        match retry_at {
            Some(at) => {
                tracing::warn!(notification = row.id, attempt = row.attempts, retry_at = %at, error = %error, "sending a notification failed; will retry")
            }
            None => {
                tracing::error!(notification = row.id, attempts = row.attempts, error = %error, "sending a notification failed for good")
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_send_fits_into_a_lease_several_times() {
        let send = Duration::from_std(crate::mail::SEND_TIMEOUT).unwrap();
        assert!(send * 3 <= LEASE, "{send} vs {LEASE}");
    }
}
