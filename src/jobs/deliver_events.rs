//! The `deliver-events` job: sends due webhook events, each under a claim of its own, in order per
//! stream, and retries failures with the mail outbox's backoff until `WEBHOOK_MAX_ATTEMPTS`.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use super::RunOutcome;
use crate::clock::Clock;
use crate::events::Events;
use crate::events::sender::{ATTEMPT_TIMEOUT, WebhookSender};
use crate::store::{events, outbox};

/// How long a claim holds an event: several attempt timeouts, so a live sender never loses it.
const LEASE_SECONDS: i64 = 6 * ATTEMPT_TIMEOUT.as_secs() as i64;
const BATCH: u64 = 20;
/// At most this many claims per run; the next run goes on.
const MAX_BATCHES: usize = 50;

#[derive(Clone)]
pub struct EventDeliverer {
    sender: Option<WebhookSender>,
    max_attempts: u32,
    wake: Arc<Notify>,
}

impl EventDeliverer {
    /// `sender` is `None` without `WEBHOOK_URL`: then there is nothing to send.
    pub fn new(sender: Option<WebhookSender>, max_attempts: u32) -> EventDeliverer {
        EventDeliverer {
            sender,
            max_attempts,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Where the changes record their events: nowhere without `WEBHOOK_URL`.
    pub fn recording(&self) -> Events {
        Events::new(self.sender.is_some())
    }

    /// Asks for a run right away (an event was committed).
    pub fn wake(&self) {
        if self.sender.is_some() {
            self.wake.notify_one();
        }
    }

    pub async fn woken(&self) {
        self.wake.notified().await
    }

    /// Sends what is due; returns how many events were delivered.
    pub async fn run(&self, db: &DatabaseConnection, clock: &Clock) -> Result<RunOutcome, DbErr> {
        let Some(sender) = &self.sender else {
            return Ok(RunOutcome::Done(0));
        };
        let lease = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
        let mut delivered = 0u64;
        for _ in 0..MAX_BATCHES {
            let claimed_at = clock.now();
            let lease_ends = claimed_at + Duration::seconds(LEASE_SECONDS);
            let claimed = events::claim(
                db,
                &lease,
                claimed_at,
                Duration::seconds(LEASE_SECONDS),
                BATCH,
            )
            .await?;
            if claimed.is_empty() {
                break;
            }
            for event in claimed {
                let now = clock.now();
                // Only under a live claim: past it another sender may have taken the event.
                if now + Duration::seconds(ATTEMPT_TIMEOUT.as_secs() as i64) >= lease_ends {
                    break;
                }
                if !events::start_attempt(db, event.id, &lease).await? {
                    tracing::warn!(event = %event.event_id, "event taken over before it was sent");
                    continue;
                }
                let attempts = event.attempts + 1;
                match sender.send(&event, now.timestamp()).await {
                    Ok(()) => {
                        if events::mark_delivered(db, event.id, &lease, clock.now()).await? {
                            delivered += 1;
                            tracing::info!(event = %event.event_id, kind = %event.event_type, "event delivered");
                        } else {
                            tracing::warn!(event = %event.event_id, "event delivered after its claim ended");
                        }
                    }
                    Err(e) => {
                        let error = e.to_string();
                        let retry_at = (attempts < self.max_attempts as i32)
                            .then(|| clock.now() + outbox::backoff(attempts));
                        events::mark_attempt_failed(db, event.id, &lease, &error, retry_at).await?;
                        match retry_at {
                            Some(at) => {
                                tracing::warn!(event = %event.event_id, attempt = attempts, retry_at = %at, error = %error, "sending an event failed; will retry")
                            }
                            None => {
                                tracing::error!(event = %event.event_id, attempts, error = %error, "sending an event failed for good")
                            }
                        }
                    }
                }
            }
        }
        Ok(RunOutcome::Done(delivered))
    }
}
