//! purge: the retention rules (API.md "Retention"), each one set-based statement. Resolved flags
//! and the texts of finished notifications go after `RETENTION_DAYS`, idempotency keys after a
//! day, spent action links once they have expired. The audit log is kept.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, TransactionTrait};

use super::{RunOutcome, try_advisory_lock};
use crate::config::{MAX_ACTION_LINK_DAYS, Settings};
use crate::store::{flags, idempotency, outbox};

/// The advisory-lock key of this job on PostgreSQL.
const LOCK_KEY: i64 = 0x636f_6d6d_656e_7403;

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_KEY_DAYS: i64 = 1;

/// What one run removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub resolved_flags: u64,
    pub notification_texts: u64,
    pub idempotency_keys: u64,
    pub used_action_links: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.resolved_flags
            + self.notification_texts
            + self.idempotency_keys
            + self.used_action_links
    }
}

/// One run at `now`. On PostgreSQL only one replica runs at a time; the others return `Busy`.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<RunOutcome, DbErr> {
    let purged = if db.get_database_backend() != DbBackend::Postgres {
        purge(db, settings, now).await?
    } else {
        let txn = db.begin().await?;
        if !try_advisory_lock(&txn, LOCK_KEY).await? {
            return Ok(RunOutcome::Busy);
        }
        let purged = purge(&txn, settings, now).await?;
        txn.commit().await?;
        purged
    };
    tracing::info!(
        resolved_flags = purged.resolved_flags,
        notification_texts = purged.notification_texts,
        idempotency_keys = purged.idempotency_keys,
        used_action_links = purged.used_action_links,
        "purged what is past retention"
    );
    Ok(RunOutcome::Done(purged.total()))
}

async fn purge(
    db: &impl ConnectionTrait,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Purged, DbErr> {
    let retention = now - Duration::days(i64::from(settings.lifecycle.retention_days));
    Ok(Purged {
        resolved_flags: flags::purge_resolved(db, retention).await?,
        notification_texts: outbox::purge_texts(db, retention).await?,
        idempotency_keys: idempotency::purge(db, now - Duration::days(IDEMPOTENCY_KEY_DAYS))
            .await?,
        used_action_links: idempotency::purge_used_action_links(
            db,
            now,
            Duration::days(i64::from(MAX_ACTION_LINK_DAYS)),
        )
        .await?,
    })
}
