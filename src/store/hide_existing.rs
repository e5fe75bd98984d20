//! Hiding every visible comment of an author in one step (a ban or suspension with
//! `hide_existing`): a few statements whatever the number of comments, each comment decided as a
//! moderator's `hide` with the same statement of reasons.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait};

use crate::db::stmt;
use crate::domain::statement::Statement;
use crate::domain::states::{CommentStatus, DecidedAction, FlagReason, LogAction, Via};
use crate::entity::decision;
use crate::store::authors::{self, CommentState, Tally};

/// A comment the step hid, with its decision and the flags that decision resolved.
pub struct Hidden {
    pub comment_id: i64,
    pub article_id: String,
    pub decision: decision::Model,
    /// Whether the decision resolved open flags (their reporters are told).
    pub resolved_flags: bool,
}

/// `column` is one of the ids bound as the JSON array `$n`.
fn among(backend: DbBackend, column: &str, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "{column} = ANY(ARRAY(SELECT CAST(json_array_elements_text(CAST(${n} AS json)) AS BIGINT)))"
        ),
        _ => format!("{column} IN (SELECT value FROM json_each(${n}))"),
    }
}

/// Hides every visible comment of `author_id` in the caller's transaction, as `moderator`'s
/// `hide` (through `via`) with `statement`: the status (a compare-and-set on `visible`, so a
/// comment an author deleted or a moderator decided meanwhile is left alone), the end of each
/// comment's review round, one decision each, their open flags resolved by it, one audit-log
/// entry each (`hide`, with `note`), and the author's counts. A visible comment has no open
/// appeal (a decision that makes a comment visible decides it). Returns the comments hidden, in
/// the order of their ids.
pub async fn hide_visible_of(
    db: &impl ConnectionTrait,
    author_id: &str,
    statement: &Statement,
    (moderator, via): (&str, Via),
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Hidden>, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(stmt(
            db,
            "UPDATE comments SET status = $1, review_round = review_round + 1, due_at = NULL, \
             reminded = $2, appeal_open = $2 \
             WHERE author_id = $3 AND status = $4 AND deleted_by_author = $2 \
             RETURNING id, article_id, approved",
            [
                CommentStatus::Hidden.into(),
                false.into(),
                author_id.into(),
                CommentStatus::Visible.into(),
            ],
        ))
        .await?;
    let mut hidden: Vec<(i64, String, bool)> = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get("", "id")?,
                r.try_get("", "article_id")?,
                r.try_get("", "approved")?,
            ))
        })
        .collect::<Result<_, DbErr>>()?;
    if hidden.is_empty() {
        return Ok(Vec::new());
    }
    hidden.sort_unstable_by_key(|(id, ..)| *id);
    let mut tally = Tally::default();
    for (_, _, approved) in &hidden {
        let from = CommentState {
            status: CommentStatus::Visible,
            approved: *approved,
            deleted_by_author: false,
        };
        tally += Tally::change(
            from,
            CommentState {
                status: CommentStatus::Hidden,
                ..from
            },
        );
    }
    authors::count(db, author_id, tally).await?;
    let ids: Vec<i64> = hidden.iter().map(|(id, ..)| *id).collect();
    let ids_json = serde_json::to_string(&ids).map_err(|e| DbErr::Custom(e.to_string()))?;

    // One decision per comment, with when its open flags (and its first notice) came in.
    let sql = format!(
        "INSERT INTO decisions (comment_id, action, ground, category, explanation, \
         legal_reference, automated, moderator, via, decided_at, first_flag_at, first_notice_at) \
         SELECT c.id, $1, $2, $3, $4, $5, $6, $7, $8, $9, \
                (SELECT MIN(f.created_at) FROM flags f \
                 WHERE f.comment_id = c.id AND f.resolved_at IS NULL), \
                (SELECT MIN(f.created_at) FROM flags f \
                 WHERE f.comment_id = c.id AND f.resolved_at IS NULL AND f.reason = $10) \
         FROM comments c WHERE {} ORDER BY c.id RETURNING *",
        among(backend, "c.id", 11)
    );
    let values = [
        DecidedAction::Hide.into(),
        statement.ground.into(),
        statement.category.into(),
        statement.explanation.clone().into(),
        statement.legal_reference.clone().into(),
        false.into(),
        moderator.into(),
        via.into(),
        now.into(),
        FlagReason::Illegal.into(),
        ids_json.clone().into(),
    ];
    let decisions = decision::Entity::find()
        .from_raw_sql(stmt(db, &sql, values))
        .all(db)
        .await?;

    // Their open flags, resolved by their comment's decision; the counts start again.
    let sql = format!(
        "UPDATE flags SET resolved_at = $1, decision_id = (SELECT MAX(d.id) FROM decisions d \
                 WHERE d.comment_id = flags.comment_id) \
         WHERE resolved_at IS NULL AND {} RETURNING comment_id",
        among(backend, "comment_id", 2)
    );
    let flagged = db
        .query_all_raw(stmt(db, &sql, [now.into(), ids_json.clone().into()]))
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "comment_id"))
        .collect::<Result<std::collections::HashSet<i64>, DbErr>>()?;
    let sql = format!(
        "UPDATE comments SET flag_count = 0, first_flag_at = NULL WHERE {}",
        among(backend, "id", 1)
    );
    db.execute_raw(stmt(db, &sql, [ids_json.clone().into()]))
        .await?;

    // One audit-log entry per decision.
    let sql = format!(
        "INSERT INTO moderation_log (at, moderator, action, comment_id, article_id, note, via) \
         SELECT $1, $2, $3, c.id, c.article_id, $4, $5 FROM comments c WHERE {} ORDER BY c.id",
        among(backend, "c.id", 6)
    );
    let values = [
        now.into(),
        moderator.into(),
        LogAction::Hide.into(),
        note.into(),
        via.into(),
        ids_json.into(),
    ];
    db.execute_raw(stmt(db, &sql, values)).await?;

    let mut by_comment: std::collections::HashMap<i64, decision::Model> =
        decisions.into_iter().map(|d| (d.comment_id, d)).collect();
    hidden
        .into_iter()
        .map(|(comment_id, article_id, _)| {
            let decision = by_comment.remove(&comment_id).ok_or_else(|| {
                DbErr::RecordNotFound(format!("decision on comment {comment_id}"))
            })?;
            Ok(Hidden {
                comment_id,
                article_id,
                decision,
                resolved_flags: flagged.contains(&comment_id),
            })
        })
        .collect()
}
