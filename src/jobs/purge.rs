//! purge: the retention rules (API.md "Retention"), each a set-based statement run in bounded
//! batches. Resolved flags and the texts of finished notifications go after `RETENTION_DAYS`,
//! idempotency keys after a day, spent action links once they have expired. The audit log and
//! the statements of reasons are kept.

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

/// How many rows one statement purges: each batch is its own short transaction, so a purge of a
/// year's worth never holds locks for long.
pub const BATCH: u64 = 1_000;

/// Which retention rule a batch applies.
#[derive(Clone, Copy)]
enum Rule {
    ResolvedFlags,
    NotificationTexts,
    IdempotencyKeys,
    UsedActionLinks,
}

/// One run at `now`, in batches of [`BATCH`] rows. On PostgreSQL only one replica runs at a
/// time (each batch takes the job's advisory lock; another replica's run finds it taken and
/// returns `Busy`).
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<RunOutcome, DbErr> {
    let mut purged = Purged::default();
    for rule in [
        Rule::ResolvedFlags,
        Rule::NotificationTexts,
        Rule::IdempotencyKeys,
        Rule::UsedActionLinks,
    ] {
        loop {
            let Some(n) = batch(db, settings, now, rule).await? else {
                return Ok(RunOutcome::Busy);
            };
            match rule {
                Rule::ResolvedFlags => purged.resolved_flags += n,
                Rule::NotificationTexts => purged.notification_texts += n,
                Rule::IdempotencyKeys => purged.idempotency_keys += n,
                Rule::UsedActionLinks => purged.used_action_links += n,
            }
            if n < BATCH {
                break;
            }
        }
    }
    tracing::info!(
        resolved_flags = purged.resolved_flags,
        notification_texts = purged.notification_texts,
        idempotency_keys = purged.idempotency_keys,
        used_action_links = purged.used_action_links,
        "purged what is past retention"
    );
    Ok(RunOutcome::Done(purged.total()))
}

/// One batch of one rule in its own transaction; `None` when another replica is purging.
async fn batch(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
    rule: Rule,
) -> Result<Option<u64>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return apply(db, settings, now, rule).await.map(Some);
    }
    let txn = db.begin().await?;
    if !try_advisory_lock(&txn, LOCK_KEY).await? {
        return Ok(None);
    }
    let n = apply(&txn, settings, now, rule).await?;
    txn.commit().await?;
    Ok(Some(n))
}

async fn apply(
    db: &impl ConnectionTrait,
    settings: &Settings,
    now: DateTime<Utc>,
    rule: Rule,
) -> Result<u64, DbErr> {
    let retention = now - Duration::days(i64::from(settings.lifecycle.retention_days));
    match rule {
        Rule::ResolvedFlags => flags::purge_resolved(db, retention, BATCH).await,
        Rule::NotificationTexts => outbox::purge_texts(db, retention, BATCH).await,
        Rule::IdempotencyKeys => {
            idempotency::purge(db, now - Duration::days(IDEMPOTENCY_KEY_DAYS), BATCH).await
        }
        Rule::UsedActionLinks => {
            idempotency::purge_used_action_links(
                db,
                now,
                Duration::days(i64::from(MAX_ACTION_LINK_DAYS)),
                BATCH,
            )
            .await
        }
    }
}
