//! close-expired: records every closure the age rule has made due, in one set-based statement.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, TransactionTrait};

use super::{RunOutcome, try_advisory_lock};
use crate::domain::states::ClosedReason;
use crate::store::articles;

/// The advisory-lock key of this job on PostgreSQL.
const LOCK_KEY: i64 = 0x636f_6d6d_656e_7402;

/// One run: records the closures due at `now` and returns how many it recorded. On PostgreSQL
/// only one replica runs at a time; the others return `Busy`.
pub async fn run(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<RunOutcome, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        let closed = articles::close_expired(db, now).await?;
        count(closed);
        return Ok(RunOutcome::Done(closed));
    }
    let txn = db.begin().await?;
    if !try_advisory_lock(&txn, LOCK_KEY).await? {
        return Ok(RunOutcome::Busy);
    }
    let closed = articles::close_expired(&txn, now).await?;
    txn.commit().await?;
    count(closed);
    Ok(RunOutcome::Done(closed))
}

fn count(closed: u64) {
    ::metrics::counter!(crate::metrics::DISCUSSIONS_CLOSED, "reason" => ClosedReason::Expired.as_str())
        .increment(closed);
}
