//! The notification outbox: rows committed with the flag that caused them, claimed by senders.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::stmt;
use crate::domain::states::{NotificationKind, NotificationStatus};
use crate::entity::notification;

pub struct NewNotification {
    pub comment_id: i64,
    pub kind: NotificationKind,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
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
        body_text: Set(new.body_text),
        body_html: Set(new.body_html),
        created_at: Set(now),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
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

/// Claims up to `batch` due rows for `lease`: no other sender takes them until the lease ends, and
/// a sender that crashed leaves them to be claimed again afterwards. On PostgreSQL concurrent
/// claimers skip each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time.
pub async fn claim(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease: Duration,
    batch: u64,
) -> Result<Vec<notification::Model>, DbErr> {
    let skip_locked = if db.get_database_backend() == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE notifications SET locked_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM notifications \
                      WHERE status = $4 AND next_attempt_at <= $2 \
                        AND (locked_until IS NULL OR locked_until <= $2) \
                      ORDER BY next_attempt_at, id LIMIT $3{skip_locked}) \
         RETURNING *"
    );
    let mut rows = notification::Entity::find()
        .from_raw_sql(stmt(
            db,
            &sql,
            [
                (now + lease).into(),
                now.into(),
                (batch as i64).into(),
                NotificationStatus::Pending.into(),
            ],
        ))
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE notifications SET status = $3, sent_at = $1, locked_until = NULL, last_error = NULL WHERE id = $2",
        [now.into(), id.into(), NotificationStatus::Sent.into()],
    ))
    .await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or `failed` for good when `retry_at` is None.
pub async fn mark_attempt_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    match retry_at {
        Some(at) => {
            db.execute_raw(stmt(
                db,
                "UPDATE notifications SET next_attempt_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3",
                [at.into(), error.into(), id.into()],
            ))
            .await?
        }
        None => {
            db.execute_raw(stmt(
                db,
                "UPDATE notifications SET status = $3, locked_until = NULL, last_error = $1 WHERE id = $2",
                [error.into(), id.into(), NotificationStatus::Failed.into()],
            ))
            .await?
        }
    };
    Ok(())
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
    let mut query = notification::Entity::find();
    if let Some(s) = status {
        query = query.filter(notification::Column::Status.eq(s));
    }
    super::newest_first(db, query, notification::Column::Id, before, limit).await
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
