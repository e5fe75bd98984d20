//! close-expired: records every closure the age rule has made due, in one set-based statement.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend, DbErr};

use super::{RunOutcome, try_advisory_lock};
use crate::db::WriteGate;
use crate::domain::states::ClosedReason;
use crate::events::Events;
use crate::store::articles;

/// The advisory-lock key of this job on PostgreSQL.
const LOCK_KEY: i64 = 0x636f_6d6d_656e_7402;

/// One run: records the closures due at `now` (and a `discussion.closed` event for each, with
/// `events` on) and returns how many it recorded. On PostgreSQL only one replica runs at a time; the
/// others return `Busy`.
pub async fn run(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    events: Events,
) -> Result<RunOutcome, DbErr> {
    // On SQLite the transaction takes the write lock up front; PostgreSQL needs no gate.
    let txn = crate::db::begin_write(db, &WriteGate::default()).await?;
    if db.get_database_backend() == DbBackend::Postgres
        && !try_advisory_lock(&txn, LOCK_KEY).await?
    {
        return Ok(RunOutcome::Busy);
    }
    let closed = articles::close_expired(&*txn, now).await?;
    events
        .discussions_closed(&*txn, &closed, ClosedReason::Expired, now)
        .await?;
    txn.commit().await?;
    let closed = closed.len() as u64;
    count(closed);
    Ok(RunOutcome::Done(closed))
}

fn count(closed: u64) {
    ::metrics::counter!(crate::metrics::DISCUSSIONS_CLOSED, "reason" => ClosedReason::Expired.as_str())
        .increment(closed);
}
