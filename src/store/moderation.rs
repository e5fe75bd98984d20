//! A moderator's decision on a comment and the moderation queue.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect, Value};

use crate::db::stmt;
use crate::domain::statement::Statement;
use crate::domain::states::{AppealStatus, CommentStatus, ModerationAction, QueueKind, Via};
use crate::entity::{comment, decision};
use crate::store::authors::CommentState;
use crate::store::{audit, comments, decisions, flags};

/// Reads a comment for a decision and, on PostgreSQL, locks its row until the transaction ends,
/// so concurrent decisions (and an author's delete) on one comment take turns. SQLite's write
/// transaction already holds the database's one write lock.
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Option<comment::Model>, DbErr> {
    comment::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await
}

/// A moderator's decision, as the store records it.
pub struct DecisionInput<'a> {
    pub action: ModerationAction,
    pub moderator: &'a str,
    pub note: Option<&'a str>,
    pub via: Via,
    /// Required for `hide` and `delete` (checked by the caller).
    pub statement: Option<&'a Statement>,
}

/// Applies a decision: the comment's status, its flags resolved (the count starts again) and
/// told which decision resolved them, the end of its review round and of its notice's deadline,
/// the decision with its statement of reasons, the outcome of an open appeal, and an audit-log
/// entry, all in the caller's transaction. Repeating a decision changes nothing and records
/// nothing, unless it decides an open appeal. Returns what changed, if anything.
pub async fn decide(
    db: &impl ConnectionTrait,
    existing: &comment::Model,
    input: &DecisionInput<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Applied>, DbErr> {
    let action = input.action;
    let from = CommentState::of(existing);
    let to = CommentState {
        status: action.target_status(),
        approved: from.approved || action == ModerationAction::Approve,
        ..from
    };
    let status_changed = from.status != to.status;
    let changed = from != to && comments::change_state(db, existing, to).await?;
    let status_changed = status_changed && changed;
    let open = flags::open_of(db, existing.id).await?;
    let appeal = if existing.appeal_open {
        decisions::open_appeal(db, existing.id).await?
    } else {
        None
    };
    if !status_changed && open.count == 0 && appeal.is_none() {
        return Ok(None);
    }
    end_review_round(db, existing.id).await?;
    let decision = decisions::insert(
        db,
        decisions::NewDecision {
            comment_id: existing.id,
            action: action.into(),
            statement: input.statement,
            automated: None,
            moderator: Some(input.moderator),
            via: Some(input.via),
            first_flag_at: open.first_at,
            first_notice_at: open.first_notice_at,
            appeal_id: appeal.as_ref().map(|a| a.id),
        },
        now,
    )
    .await?;
    let flag_ids = flags::resolve(db, existing.id, decision.id, now).await?;
    let appeal_outcome = match &appeal {
        Some(appeal) => {
            let outcome = if action == ModerationAction::Approve {
                AppealStatus::Reversed
            } else {
                AppealStatus::Upheld
            };
            decisions::decide_appeal(db, appeal.id, outcome, input.moderator, now).await?;
            Some((appeal.id, outcome))
        }
        None => None,
    };
    audit::write(
        db,
        audit::Entry {
            moderator: input.moderator,
            action: action.into(),
            comment_id: Some(existing.id),
            article_id: Some(&existing.article_id),
            note: input.note,
            via: input.via,
            author_id: None,
            details: None,
        },
        now,
    )
    .await?;
    Ok(Some(Applied {
        status_changed,
        resolved: flag_ids,
        decision,
        appeal: appeal_outcome,
    }))
}

/// What a decision changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub status_changed: bool,
    /// The flags it resolved.
    pub resolved: Vec<i64>,
    /// The decision recorded.
    pub decision: decision::Model,
    /// The appeal it decided, and how.
    pub appeal: Option<(i64, AppealStatus)>,
}

/// Ends a comment's review round: the action links of every email sent so far stop acting; the
/// deadline of its notice and its appeal are answered.
async fn end_review_round(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE comments SET review_round = review_round + 1, due_at = NULL, reminded = $1, \
         appeal_open = $1 WHERE id = $2",
        [false.into(), id.into()],
    ))
    .await?;
    Ok(())
}

/// Where a queue page ends: the sort key of its last comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuePosition {
    /// 0: a notice of illegal content with a deadline, 1: an open appeal, 2: the rest.
    pub tier: i64,
    /// The notice's deadline (the epoch without one).
    pub due_at: DateTime<Utc>,
    pub flag_count: i64,
    /// The first unresolved flag, or for a held comment without flags its creation.
    pub queued_at: DateTime<Utc>,
    pub id: i64,
}

impl QueuePosition {
    pub fn of(c: &comment::Model) -> QueuePosition {
        QueuePosition {
            tier: if c.due_at.is_some() {
                0
            } else if c.appeal_open {
                1
            } else {
                2
            },
            due_at: c.due_at.unwrap_or(DateTime::UNIX_EPOCH),
            flag_count: c.flag_count,
            queued_at: c.first_flag_at.unwrap_or(c.created_at),
            id: c.id,
        }
    }
}

/// The condition of a queue kind. Every kind states the whole queue's condition first, word for
/// word as the partial index `idx_comments_open_queue` does (with literals, not parameters), so
/// each query reads that index rather than the table.
fn queue_filter(kind: QueueKind) -> String {
    let open = migration::OPEN_QUEUE;
    match kind {
        QueueKind::All => open.to_string(),
        QueueKind::Flagged => format!("{open} AND flag_count > 0"),
        QueueKind::Held => format!("{open} AND status = '{}'", CommentStatus::PendingReview),
        QueueKind::Illegal => format!("{open} AND due_at IS NOT NULL"),
        QueueKind::Appeal => format!("{open} AND appeal_open = TRUE"),
    }
}

/// How many comments each of `kinds` lists, in one statement.
pub async fn queue_counts(
    db: &impl ConnectionTrait,
    kinds: &[QueueKind],
) -> Result<Vec<i64>, DbErr> {
    let sums: Vec<String> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            format!(
                "SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS n{i}",
                queue_filter(*k)
            )
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM comments WHERE {}",
        sums.join(", "),
        queue_filter(QueueKind::All)
    );
    let row = db.query_one_raw(stmt(db, &sql, Vec::new())).await?;
    (0..kinds.len())
        .map(|i| {
            Ok(match &row {
                Some(row) => row
                    .try_get::<Option<i64>>("", &format!("n{i}"))?
                    .unwrap_or(0),
                None => 0,
            })
        })
        .collect()
}

/// Comments waiting for a decision, of one kind: notices of illegal content first (the nearest
/// deadline first), then appeals, then the rest with most flags first, then the oldest first flag
/// (held comments without flags by `created_at`). Keyset-paginated on that order.
pub async fn queue(
    db: &impl ConnectionTrait,
    kind: QueueKind,
    after: Option<QueuePosition>,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    // $1 the epoch (the deadline key of comments without one).
    let mut values: Vec<Value> = vec![DateTime::<Utc>::UNIX_EPOCH.into()];
    let filter = queue_filter(kind);
    let key = "(CASE WHEN due_at IS NOT NULL THEN 0 WHEN appeal_open = TRUE THEN 1 ELSE 2 END), \
               COALESCE(due_at, $1), -flag_count, COALESCE(first_flag_at, created_at), id";
    let keyset = match after {
        None => String::new(),
        Some(p) => {
            values.extend([
                p.tier.into(),
                p.due_at.into(),
                (-p.flag_count).into(),
                p.queued_at.into(),
                p.id.into(),
            ]);
            format!(" AND ({key}) > ($2, $3, $4, $5, $6)")
        }
    };
    values.push((limit as i64).into());
    let limit_param = values.len();
    let sql = format!(
        "SELECT * FROM comments WHERE {filter}{keyset} ORDER BY {key} LIMIT ${limit_param}"
    );
    comment::Entity::find()
        .from_raw_sql(stmt(db, &sql, values))
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index's condition is written in the migration: it must name the held status as the
    /// domain spells it.
    #[test]
    fn the_queues_condition_names_the_held_status() {
        let held = format!("status = '{}'", CommentStatus::PendingReview);
        assert!(
            migration::OPEN_QUEUE.contains(&held),
            "{}",
            migration::OPEN_QUEUE
        );
    }
}
