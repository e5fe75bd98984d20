//! The notification outbox: rows committed with the flag that caused them, claimed by senders.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::{execute, stmt};
use crate::domain::states::{NotificationKind, NotificationStatus};
use crate::entity::notification;

pub struct NewNotification {
    pub comment_id: i64,
    pub kind: NotificationKind,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub subject: String,
    /// What the mail is rendered from when it is sent (JSON).
    pub snapshot: String,
    pub review_round: i64,
}

/// Queues a notification; run it in the transaction of the change that causes it.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    new: NewNotification,
    now: DateTime<Utc>,
) -> Result<notification::Model, DbErr> {
    notification::ActiveModel {
        id: NotSet,
        comment_id: Set(new.comment_id),
        kind: Set(new.kind),
        status: Set(NotificationStatus::Pending),
        attempts: Set(0),
        message_id: Set(new.message_id),
        in_reply_to: Set(new.in_reply_to),
        subject: Set(new.subject),
        body_text: Set(String::new()),
        body_html: Set(String::new()),
        created_at: Set(now),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
        lease_token: Set(None),
        lease_owner: Set(None),
        snapshot: Set(Some(new.snapshot)),
        review_round: Set(new.review_round),
    }
    .insert(db)
    .await
}

/// The `Message-ID` of the first mail about a comment: every later mail replies to it.
pub async fn thread_root(
    db: &impl ConnectionTrait,
    comment_id: i64,
) -> Result<Option<String>, DbErr> {
    notification::Entity::find()
        .select_only()
        .column(notification::Column::MessageId)
        .filter(notification::Column::CommentId.eq(comment_id))
        .order_by_asc(notification::Column::Id)
        .limit(1)
        .into_tuple::<String>()
        .one(db)
        .await
}

/// A sender's hold on one row: only the holder of `token` may mark the row, and nobody else
/// claims it before `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub token: String,
    pub until: DateTime<Utc>,
}

/// Claims the next due row for `lease` as `owner`: no other sender takes it until the lease ends,
/// and a sender that crashed leaves it to be claimed again afterwards. Each row gets its own lease
/// when it is claimed, so a slow send never eats into the lease of the rows after it. On
/// PostgreSQL concurrent claimers skip each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite has
/// one writer at a time.
pub async fn claim_next(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease: Duration,
    owner: &str,
) -> Result<Option<(notification::Model, Lease)>, DbErr> {
    let skip_locked = if db.get_database_backend() == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE notifications SET locked_until = $1, lease_token = $2, lease_owner = $3, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM notifications \
                     WHERE status = $4 AND next_attempt_at <= $5 \
                       AND (locked_until IS NULL OR locked_until <= $5) \
                     ORDER BY next_attempt_at, id LIMIT 1{skip_locked}) \
         RETURNING *"
    );
    let token = format!("{:032x}", rand::random::<u128>());
    let until = now + lease;
    let row = notification::Entity::find()
        .from_raw_sql(stmt(
            db,
            &sql,
            [
                until.into(),
                token.clone().into(),
                owner.into(),
                NotificationStatus::Pending.into(),
                now.into(),
            ],
        ))
        .one(db)
        .await?;
    Ok(row.map(|row| (row, Lease { token, until })))
}

/// Marks a row sent, if `lease` still holds it; returns whether it did. The stored bodies of a
/// row queued before snapshots existed are dropped: they hold live action links.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: i64,
    lease: &Lease,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = format!(
        "UPDATE notifications SET status = $3, sent_at = $1, last_error = NULL, \
         body_text = '', body_html = '', {FREE} WHERE id = $2 AND lease_token = $4"
    );
    let values = [
        now.into(),
        id.into(),
        NotificationStatus::Sent.into(),
        lease.token.clone().into(),
    ];
    Ok(execute(db, &sql, values).await? == 1)
}

/// What ends a lease.
const FREE: &str = "locked_until = NULL, lease_token = NULL, lease_owner = NULL";

/// Records a failed attempt, if `lease` still holds the row (returns whether it did): retried at
/// `retry_at`, or `failed` for good when `retry_at` is None.
pub async fn mark_attempt_failed(
    db: &impl ConnectionTrait,
    id: i64,
    lease: &Lease,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let token = lease.token.clone().into();
    let done = match retry_at {
        Some(at) => {
            let sql = format!(
                "UPDATE notifications SET next_attempt_at = $1, last_error = $2, {FREE} \
                 WHERE id = $3 AND lease_token = $4"
            );
            execute(db, &sql, [at.into(), error.into(), id.into(), token]).await?
        }
        None => {
            let sql = format!(
                "UPDATE notifications SET status = $3, last_error = $1, body_text = '', \
                 body_html = '', {FREE} WHERE id = $2 AND lease_token = $4"
            );
            let failed = NotificationStatus::Failed.into();
            execute(db, &sql, [error.into(), id.into(), failed, token]).await?
        }
    };
    Ok(done == 1)
}

/// Gives back a lease without an attempt (the row was not handed to the mail server).
pub async fn release(db: &impl ConnectionTrait, id: i64, lease: &Lease) -> Result<(), DbErr> {
    let sql = format!(
        "UPDATE notifications SET attempts = attempts - 1, {FREE} WHERE id = $1 AND lease_token = $2"
    );
    execute(db, &sql, [id.into(), lease.token.clone().into()]).await?;
    Ok(())
}

/// Frees the rows an earlier run of `owner` held when it stopped without finishing them (it was
/// killed): only a process that knows no earlier run of `owner` is alive may call this.
pub async fn release_owned_by(db: &impl ConnectionTrait, owner: &str) -> Result<u64, DbErr> {
    let sql = format!("UPDATE notifications SET {FREE} WHERE lease_owner = $1 AND status = $2");
    execute(db, &sql, [owner.into(), NotificationStatus::Pending.into()]).await
}

/// Drops the snapshots (the texts) of notifications created before `cutoff` that are no longer
/// pending; returns how many.
pub async fn purge_texts(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    execute(
        db,
        "UPDATE notifications SET snapshot = NULL, body_text = '', body_html = '' \
         WHERE id IN (SELECT id FROM notifications \
         WHERE snapshot IS NOT NULL AND created_at < $1 AND status <> $2 LIMIT $3)",
        [
            cutoff.into(),
            NotificationStatus::Pending.into(),
            (batch as i64).into(),
        ],
    )
    .await
}

/// The delay before retry number `attempts` (1 = after the first failure): 2 s, 4 s, 8 s, ...
/// capped at 15 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 20) as u32 - 1;
    let seconds = 2i64.saturating_mul(1i64 << exponent.min(16));
    Duration::seconds(seconds.min(15 * 60))
}

/// One page of the outbox, newest first, optionally of one status.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<NotificationStatus>,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<notification::Model>, DbErr> {
    super::newest_first_of_status::<notification::Entity>(
        db,
        notification::Column::Status,
        status,
        notification::Column::Id,
        before,
        limit,
    )
    .await
}

/// How many notifications are in each status (for metrics).
pub async fn count_by_status(
    db: &impl ConnectionTrait,
) -> Result<Vec<(NotificationStatus, i64)>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT status, COUNT(*) AS n FROM notifications GROUP BY status",
            [],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<NotificationStatus>("", "status")?,
                r.try_get::<i64>("", "n")?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_from_seconds_to_a_cap() {
        assert_eq!(backoff(1), Duration::seconds(2));
        assert_eq!(backoff(2), Duration::seconds(4));
        assert_eq!(backoff(3), Duration::seconds(8));
        assert_eq!(backoff(8), Duration::seconds(256));
        assert_eq!(backoff(30), Duration::minutes(15));
    }
}
