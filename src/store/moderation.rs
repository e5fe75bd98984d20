//! A moderator's decision on a comment and the moderation queue.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect, Value};

use crate::db::stmt;
use crate::domain::states::{CommentStatus, FlagReason, ModerationAction, QueueKind, Via};
use crate::entity::comment;
use crate::store::authors::CommentState;
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
    let from = CommentState::of(existing);
    let to = CommentState {
        status: action.target_status(),
        approved: from.approved || action == ModerationAction::Approve,
        ..from
    };
    let status_changed = from.status != to.status;
    let changed = from != to && comments::change_state(db, existing, to).await?;
    let status_changed = status_changed && changed;
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
            author_id: None,
            details: None,
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

/// Where a queue page ends: (flag count, queue time, id) of its last comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuePosition {
    pub flag_count: i64,
    /// The first unresolved flag, or for a held comment without flags its creation.
    pub queued_at: DateTime<Utc>,
    pub id: i64,
}

/// When a comment joined the queue: its first unresolved flag, or its creation (held comments).
pub fn queued_at(c: &comment::Model) -> DateTime<Utc> {
    c.first_flag_at.unwrap_or(c.created_at)
}

/// Comments waiting for a decision, of one kind: most flags first, then the oldest first flag
/// (held comments without flags by `created_at`).
pub async fn queue(
    db: &impl ConnectionTrait,
    kind: QueueKind,
    after: Option<QueuePosition>,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    let held = CommentStatus::PendingReview.as_str();
    let mut values: Vec<Value> = Vec::new();
    let filter = match kind {
        QueueKind::All => {
            values.push(held.into());
            "(flag_count > 0 OR status = $1)".to_string()
        }
        QueueKind::Flagged => "flag_count > 0".to_string(),
        QueueKind::Held => {
            values.push(held.into());
            "status = $1".to_string()
        }
        QueueKind::Illegal => {
            values.push(FlagReason::Illegal.as_str().into());
            "flag_count > 0 AND EXISTS (SELECT 1 FROM flags f WHERE f.comment_id = comments.id \
             AND f.reason = $1 AND f.resolved_at IS NULL)"
                .to_string()
        }
        // Appeals arrive with the legal duties; until then there are none.
        QueueKind::Appeal => "1 = 0".to_string(),
    };
    let queued = "COALESCE(first_flag_at, created_at)";
    let keyset = match after {
        None => String::new(),
        Some(p) => {
            let n = values.len();
            values.extend([p.flag_count.into(), p.queued_at.into(), p.id.into()]);
            let (a, b, c) = (n + 1, n + 2, n + 3);
            format!(
                " AND (flag_count < ${a} OR (flag_count = ${a} AND ({queued} > ${b} \
                 OR ({queued} = ${b} AND id > ${c}))))"
            )
        }
    };
    values.push((limit as i64).into());
    let limit_param = values.len();
    let sql = format!(
        "SELECT * FROM comments WHERE {filter}{keyset} \
         ORDER BY flag_count DESC, {queued} ASC, id ASC LIMIT ${limit_param}"
    );
    comment::Entity::find()
        .from_raw_sql(stmt(db, &sql, values))
        .all(db)
        .await
}
