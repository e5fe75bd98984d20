//! A moderator's decision on a comment and the moderation queue.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect, Value};

use crate::db::stmt;
use crate::domain::states::{ModerationAction, Via};
use crate::entity::comment;
use crate::store::{audit, comments, flags};

/// Reads a comment for a decision and, on PostgreSQL, locks its row until the transaction ends,
/// so concurrent decisions (and an author's delete) on one comment take turns. SQLite's write
/// transaction already holds the database's one write lock.
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Option<comment::Model>, DbErr> {
    comment::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await
}

/// Applies a decision: the comment's status, its flags resolved (the count starts again), the
/// end of its review round, and an audit-log entry — all in the caller's transaction. Repeating
/// a decision changes nothing and logs nothing. Returns what changed, if anything.
pub async fn decide(
    db: &impl ConnectionTrait,
    existing: &comment::Model,
    action: ModerationAction,
    moderator: &str,
    note: Option<&str>,
    via: Via,
    now: DateTime<Utc>,
) -> Result<Option<Applied>, DbErr> {
    let from = existing.status;
    let to = action.target_status();
    let status_changed = from != to && comments::change_status(db, existing, from, to).await?;
    let resolved = flags::resolve(db, existing.id, now).await?;
    if !status_changed && resolved.is_empty() {
        return Ok(None);
    }
    end_review_round(db, existing.id).await?;
    audit::write(
        db,
        audit::Entry {
            moderator,
            action: action.into(),
            comment_id: Some(existing.id),
            article_id: Some(&existing.article_id),
            note,
            via,
        },
        now,
    )
    .await?;
    Ok(Some(Applied {
        status_changed,
        resolved,
    }))
}

/// What a decision changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub status_changed: bool,
    /// The flags it resolved.
    pub resolved: Vec<i64>,
}

/// Ends a comment's review round: the action links of every email sent so far stop acting.
async fn end_review_round(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE comments SET review_round = review_round + 1 WHERE id = $1",
        [id.into()],
    ))
    .await?;
    Ok(())
}

/// Records that the author deleted the comment (in the caller's transaction): no decision can
/// restore it.
pub async fn deleted_by_author(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE comments SET deleted_by_author = $1 WHERE id = $2",
        [true.into(), id.into()],
    ))
    .await?;
    Ok(())
}

/// Where a queue page ends: (flag count, first flag time, id) of its last comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuePosition {
    pub flag_count: i64,
    pub first_flag_at: DateTime<Utc>,
    pub id: i64,
}

/// Comments with unresolved flags: most flags first, then the oldest first flag.
pub async fn queue(
    db: &impl ConnectionTrait,
    after: Option<QueuePosition>,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    let (keyset, mut values): (&str, Vec<Value>) = match after {
        None => ("", Vec::new()),
        Some(p) => (
            " AND (flag_count < $1 OR (flag_count = $1 AND (first_flag_at > $2 OR (first_flag_at = $2 AND id > $3))))",
            vec![p.flag_count.into(), p.first_flag_at.into(), p.id.into()],
        ),
    };
    values.push((limit as i64).into());
    let limit_param = values.len();
    let sql = format!(
        "SELECT * FROM comments WHERE flag_count > 0{keyset} \
         ORDER BY flag_count DESC, first_flag_at ASC, id ASC LIMIT ${limit_param}"
    );
    comment::Entity::find()
        .from_raw_sql(stmt(db, &sql, values))
        .all(db)
        .await
}
