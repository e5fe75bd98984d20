//! Personal data of one author id (GDPR Art. 15, 17, 20): the keyset-paginated reads of the
//! export, and the erasure's statements, all set-based.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::execute;
use crate::domain::states::{AppealStatus, CommentStatus, DecidedAction, NotificationStatus, Via};
use crate::entity::{appeal, author, comment, decision, event, flag, moderation_log};
use crate::store::{decisions, flags};

/// Rows per query of an export.
pub const EXPORT_PAGE: u64 = 500;

/// Whether anything at all is stored about `author_id`: their record, a comment, a flag they
/// filed, a reaction they gave, an appeal or an audit-log entry about them.
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
    let reaction = crate::store::reactions::given_after(db, author_id, i64::MIN, 1).await?;
    Ok(comment.is_some()
        || flag.is_some()
        || appeal.is_some()
        || log.is_some()
        || !reaction.is_empty())
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

/// A string as it appears inside a JSON document (quoted and escaped).
fn json_string(raw: &str) -> String {
    serde_json::Value::from(raw).to_string()
}

/// What a wiped note in a stored mail snapshot reads.
const WIPED_NOTE: &str = "[gelöscht]";

/// Rewrites the events of `author_id`'s stream under `pseudonym`; returns how many.
async fn pseudonymise_events(
    db: &impl ConnectionTrait,
    author_id: &str,
    pseudonym: &str,
) -> Result<u64, DbErr> {
    let stream = format!("author:{author_id}");
    let rows: Vec<(i64, String)> = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .column(event::Column::Payload)
        .filter(event::Column::Stream.eq(stream.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let renamed = format!("author:{pseudonym}");
    for (id, payload) in &rows {
        let mut body: serde_json::Value =
            serde_json::from_str(payload).map_err(|e| DbErr::Json(e.to_string()))?;
        if let Some(named) = body.pointer_mut("/data/author_id") {
            *named = serde_json::Value::from(pseudonym);
        }
        execute(
            db,
            "UPDATE events SET payload = $1, stream = $2 WHERE id = $3 AND stream = $4",
            [
                body.to_string().into(),
                renamed.as_str().into(),
                (*id).into(),
                stream.as_str().into(),
            ],
        )
        .await?;
    }
    Ok(rows.len() as u64)
}

/// A comment of an erased author that waited for a decision, and how the erasure settled it.
pub struct Settled {
    pub comment_id: i64,
    pub article_id: String,
    /// The decision recorded for it (`delete`, by the caller of the erasure).
    pub decision: decision::Model,
    /// The open flags it resolved.
    pub flags: Vec<i64>,
    /// The open appeal it ended (`withdrawn`: its author is gone).
    pub appeal: Option<i64>,
}

/// Before an erasure: every comment of `author_id` with open flags or an open appeal gets a
/// decision (`delete`, made by `by` through the API: the comment is deleted for good), its flags
/// are resolved by it (their reporters are told, like after any decision) and its appeal is
/// withdrawn. Run it in the erasure's transaction, before the comments are wiped.
pub async fn settle(
    db: &impl ConnectionTrait,
    author_id: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Settled>, DbErr> {
    use sea_orm::ExprTrait as _;
    let waiting: Vec<(i64, String)> = comment::Entity::find()
        .select_only()
        .column(comment::Column::Id)
        .column(comment::Column::ArticleId)
        .filter(comment::Column::AuthorId.eq(author_id))
        .filter(
            sea_orm::Condition::any()
                .add(comment::Column::AppealOpen.eq(true))
                .add(sea_orm::sea_query::Expr::exists(
                    Query::select()
                        .expr(sea_orm::sea_query::Expr::val(1))
                        .from(flag::Entity)
                        .and_where(
                            sea_orm::sea_query::Expr::col((flag::Entity, flag::Column::CommentId))
                                .equals((comment::Entity, comment::Column::Id)),
                        )
                        .and_where(flag::Column::ResolvedAt.is_null())
                        .to_owned(),
                )),
        )
        .order_by_asc(comment::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut settled = Vec::with_capacity(waiting.len());
    for (comment_id, article_id) in waiting {
        let open = flags::open_of(db, comment_id).await?;
        let appeal = decisions::open_appeal(db, comment_id).await?;
        let decision = decisions::insert(
            db,
            decisions::NewDecision {
                comment_id,
                action: DecidedAction::Delete,
                statement: None,
                automated: None,
                moderator: Some(by),
                via: Some(Via::Api),
                first_flag_at: open.first_at,
                first_notice_at: open.first_notice_at,
                appeal_id: appeal.as_ref().map(|a| a.id),
            },
            now,
        )
        .await?;
        let flags = flags::resolve(db, comment_id, decision.id, now).await?;
        if let Some(appeal) = &appeal {
            decisions::decide_appeal(db, appeal.id, AppealStatus::Withdrawn, by, now).await?;
        }
        settled.push(Settled {
            comment_id,
            article_id,
            decision,
            flags,
            appeal: appeal.map(|a| a.id),
        });
    }
    Ok(settled)
}

/// Erases what is stored about `author_id` in the caller's transaction (see
/// `service::privacy::erase`), putting `pseudonym` where the audit trail needs a stable name.
pub async fn erase(
    db: &impl ConnectionTrait,
    author_id: &str,
    pseudonym: &str,
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

    // Stored answers to their posts (they hold the comment, its author id and name), by the
    // column that names the post's author: nobody else's answers.
    changed += execute(
        db,
        "DELETE FROM idempotency_keys WHERE author_id = $1",
        [author_id.into()],
    )
    .await?;

    // Events about them (their stream, `author:{id}`; comment events name no author): the
    // pseudonym instead, in the stream and in the body's `data.author_id`.
    changed += pseudonymise_events(db, author_id, pseudonym).await?;

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

    // An id erased before, who flagged a comment again since, would hold two open flags on it
    // under the pseudonym (one open flag per reporter): the later one goes, and leaves the
    // comment's count of open flags.
    let again = "SELECT f.comment_id FROM flags f WHERE f.reporter_id = $1 AND f.resolved_at IS NULL \
                 AND f.comment_id IN (SELECT g.comment_id FROM flags g \
                                      WHERE g.reporter_id = $2 AND g.resolved_at IS NULL)";
    execute(
        db,
        &format!("UPDATE comments SET flag_count = flag_count - 1 WHERE id IN ({again})"),
        [author_id.into(), pseudonym.into()],
    )
    .await?;
    execute(
        db,
        &format!(
            "DELETE FROM flags WHERE reporter_id = $1 AND resolved_at IS NULL \
             AND comment_id IN (SELECT comment_id FROM ({again}) AS twice)"
        ),
        [author_id.into(), pseudonym.into()],
    )
    .await?;

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

    // Their comments: deleted as by the author (never restorable), wiped. The status change
    // fires the triggers that keep the articles' and parents' counts of visible comments.
    let comments = execute(
        db,
        "UPDATE comments SET status = $2, deleted_by_author = $3, body = '', author_name = '', \
         author_badges = '', author_id = $4, detections = NULL, flag_count = 0, first_flag_at = NULL, due_at = NULL, \
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

    // The record moderation kept about them, and the moderators' notes about them.
    changed += execute(db, "DELETE FROM authors WHERE id = $1", [author_id.into()]).await?;
    changed += crate::store::notes::erase(db, author_id).await?;
    // Their reactions as a reader (other readers' reactions to their comments are not theirs).
    changed += crate::store::reactions::erase(db, author_id).await?;

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
    fn json_strings_are_quoted_and_escaped() {
        assert_eq!(json_string("u-\"1"), "\"u-\\\"1\"");
    }
}
