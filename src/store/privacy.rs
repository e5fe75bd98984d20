//! Personal data of one author id (GDPR Art. 15, 17, 20): the keyset-paginated reads of the
//! export, and the erasure's statements, all set-based.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::execute;
use crate::domain::states::{CommentStatus, NotificationStatus};
use crate::entity::{appeal, author, comment, decision, flag, moderation_log};

/// Rows per query of an export.
pub const EXPORT_PAGE: u64 = 500;

/// Whether anything at all is stored about `author_id`: their record, a comment, a flag they
/// filed, an appeal or an audit-log entry about them.
pub async fn anything_stored(db: &impl ConnectionTrait, author_id: &str) -> Result<bool, DbErr> {
    if author::Entity::find_by_id(author_id)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    let comment = comment::Entity::find()
        .select_only()
        .column(comment::Column::Id)
        .filter(comment::Column::AuthorId.eq(author_id))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    let flag = flag::Entity::find()
        .select_only()
        .column(flag::Column::Id)
        .filter(flag::Column::ReporterId.eq(author_id))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    let appeal = appeal::Entity::find()
        .select_only()
        .column(appeal::Column::Id)
        .filter(appeal::Column::AuthorId.eq(author_id))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    let log = moderation_log::Entity::find()
        .select_only()
        .column(moderation_log::Column::Id)
        .filter(moderation_log::Column::AuthorId.eq(author_id))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(comment.is_some() || flag.is_some() || appeal.is_some() || log.is_some())
}

/// The author's comments after the comment `after`, oldest first, any status.
pub async fn comments_after(
    db: &impl ConnectionTrait,
    author_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    comment::Entity::find()
        .filter(comment::Column::AuthorId.eq(author_id))
        .filter(comment::Column::Id.gt(after))
        .order_by_asc(comment::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The flags the author filed as a reader, after the flag `after`, oldest first.
pub async fn flags_filed_after(
    db: &impl ConnectionTrait,
    author_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<flag::Model>, DbErr> {
    flag::Entity::find()
        .filter(flag::Column::ReporterId.eq(author_id))
        .filter(flag::Column::Id.gt(after))
        .order_by_asc(flag::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The decisions (with their statements of reasons) on the author's comments, after the decision
/// `after`, oldest first.
pub async fn decisions_after(
    db: &impl ConnectionTrait,
    author_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<decision::Model>, DbErr> {
    let theirs = Query::select()
        .column(comment::Column::Id)
        .from(comment::Entity)
        .and_where(comment::Column::AuthorId.eq(author_id))
        .to_owned();
    decision::Entity::find()
        .filter(decision::Column::CommentId.in_subquery(theirs))
        .filter(decision::Column::Id.gt(after))
        .order_by_asc(decision::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The author's appeals after the appeal `after`, oldest first.
pub async fn appeals_after(
    db: &impl ConnectionTrait,
    author_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<appeal::Model>, DbErr> {
    appeal::Entity::find()
        .filter(appeal::Column::AuthorId.eq(author_id))
        .filter(appeal::Column::Id.gt(after))
        .order_by_asc(appeal::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The audit-log entries about the author after the entry `after`, oldest first.
pub async fn log_after(
    db: &impl ConnectionTrait,
    author_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<moderation_log::Model>, DbErr> {
    moderation_log::Entity::find()
        .filter(moderation_log::Column::AuthorId.eq(author_id))
        .filter(moderation_log::Column::Id.gt(after))
        .order_by_asc(moderation_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// What an erasure changed.
#[derive(Debug, Default)]
pub struct Erased {
    /// The author's comments, now `deleted` and wiped.
    pub comments: u64,
    /// The flags they filed, now without reporter id, note, email and legal reference.
    pub flags: u64,
    /// Whether anything at all was changed (a repeated erasure changes nothing).
    pub anything: bool,
    /// The articles whose discussions held their comments.
    pub articles: Vec<String>,
}

/// `raw` as a `LIKE` pattern matching itself anywhere (with `ESCAPE '\'`).
fn contains_pattern(raw: &str) -> String {
    let mut pattern = String::from("%");
    for c in raw.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A string as it appears inside a JSON document (quoted and escaped).
fn json_string(raw: &str) -> String {
    serde_json::Value::from(raw).to_string()
}

/// What a wiped note in a stored mail snapshot reads.
const WIPED_NOTE: &str = "[gelöscht]";

/// Erases what is stored about `author_id` in the caller's transaction (see
/// `service::privacy::erase`), putting `pseudonym` where the audit trail needs a stable name.
pub async fn erase(
    db: &impl ConnectionTrait,
    author_id: &str,
    pseudonym: &str,
    now: DateTime<Utc>,
) -> Result<Erased, DbErr> {
    let theirs = "SELECT id FROM comments WHERE author_id = $1";
    let articles: Vec<String> = comment::Entity::find()
        .select_only()
        .column(comment::Column::ArticleId)
        .distinct()
        .filter(comment::Column::AuthorId.eq(author_id))
        .into_tuple::<String>()
        .all(db)
        .await?;

    // Mails about their comments lose their texts; one still waiting is not sent any more.
    let mut changed = execute(
        db,
        &format!(
            "UPDATE notifications SET snapshot = NULL, body_text = '', body_html = '', \
             status = CASE WHEN status = $2 THEN $3 ELSE status END, \
             last_error = CASE WHEN status = $2 THEN $4 ELSE last_error END, \
             locked_until = NULL, lease_token = NULL, lease_owner = NULL \
             WHERE comment_id IN ({theirs})"
        ),
        [
            author_id.into(),
            NotificationStatus::Pending.into(),
            NotificationStatus::Failed.into(),
            "not sent: the author's personal data was erased".into(),
        ],
    )
    .await?;

    // Stored answers to their posts (they hold the comment, its author id and name).
    changed += execute(
        db,
        "DELETE FROM idempotency_keys WHERE response_body LIKE $1 ESCAPE '\\'",
        [contains_pattern(&json_string(author_id)).into()],
    )
    .await?;

    // Events that name them: the pseudonym instead, and their stream under the pseudonym.
    changed += execute(
        db,
        "UPDATE events SET payload = REPLACE(payload, $1, $2), \
         stream = CASE WHEN stream = $4 THEN $5 ELSE stream END \
         WHERE payload LIKE $3 ESCAPE '\\' OR stream = $4",
        [
            json_string(author_id).into(),
            json_string(pseudonym).into(),
            contains_pattern(&json_string(author_id)).into(),
            format!("author:{author_id}").into(),
            format!("author:{pseudonym}").into(),
        ],
    )
    .await?;

    // Notes they wrote as a reader, quoted in the snapshots of mails about others' comments.
    let notes: Vec<(i64, Option<String>)> = flag::Entity::find()
        .select_only()
        .column(flag::Column::CommentId)
        .column(flag::Column::Note)
        .filter(flag::Column::ReporterId.eq(author_id))
        .filter(flag::Column::Note.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    for (comment_id, note) in notes {
        let Some(note) = note.filter(|n| !n.is_empty()) else {
            continue;
        };
        execute(
            db,
            "UPDATE notifications SET snapshot = REPLACE(snapshot, $1, $2) \
             WHERE comment_id = $3 AND snapshot IS NOT NULL",
            [
                json_string(&note).into(),
                json_string(WIPED_NOTE).into(),
                comment_id.into(),
            ],
        )
        .await?;
    }

    // The flags they filed keep their reason, nothing of who filed them.
    let flags = execute(
        db,
        "UPDATE flags SET reporter_id = $2, note = NULL, reporter_email = NULL, \
         legal_reference = NULL WHERE reporter_id = $1",
        [author_id.into(), pseudonym.into()],
    )
    .await?;

    // Their appeals: the text goes, the record stays under the pseudonym.
    changed += execute(
        db,
        "UPDATE appeals SET text = '', author_id = $2 WHERE author_id = $1",
        [author_id.into(), pseudonym.into()],
    )
    .await?;

    // The audit log keeps its entries, under the pseudonym.
    changed += execute(
        db,
        "UPDATE moderation_log SET author_id = $2 WHERE author_id = $1",
        [author_id.into(), pseudonym.into()],
    )
    .await?;

    // Open flags on their comments are settled: the comments are gone for good.
    execute(
        db,
        &format!(
            "UPDATE flags SET resolved_at = $2 WHERE resolved_at IS NULL \
             AND comment_id IN ({theirs})"
        ),
        [author_id.into(), now.into()],
    )
    .await?;

    // Their comments: deleted as by the author (never restorable), wiped. The status change
    // fires the triggers that keep the articles' and parents' counts of visible comments.
    let comments = execute(
        db,
        "UPDATE comments SET status = $2, deleted_by_author = $3, body = '', author_name = '', \
         author_id = $4, detections = NULL, flag_count = 0, first_flag_at = NULL, due_at = NULL, \
         appeal_open = $5 WHERE author_id = $1",
        [
            author_id.into(),
            CommentStatus::Deleted.into(),
            true.into(),
            pseudonym.into(),
            false.into(),
        ],
    )
    .await?;

    // The record moderation kept about them.
    changed += execute(db, "DELETE FROM authors WHERE id = $1", [author_id.into()]).await?;

    Ok(Erased {
        comments,
        flags,
        anything: changed + comments + flags > 0,
        articles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_the_text_literally() {
        assert_eq!(contains_pattern("u_1%\\"), "%u\\_1\\%\\\\%");
        assert_eq!(json_string("u-\"1"), "\"u-\\\"1\"");
    }
}
