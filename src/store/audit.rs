//! The moderation audit log: every moderator action, written in the transaction of the change.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::states::{LogAction, ModerationAction, Via};
use crate::entity::{comment, moderation_log};

pub struct Entry<'a> {
    pub moderator: &'a str,
    pub action: LogAction,
    pub comment_id: Option<i64>,
    pub article_id: Option<&'a str>,
    pub note: Option<&'a str>,
    pub via: Via,
    /// The author an entry is about.
    pub author_id: Option<&'a str>,
    /// What changed, as JSON (a rules change).
    pub details: Option<String>,
}

pub async fn write(
    db: &impl ConnectionTrait,
    entry: Entry<'_>,
    now: DateTime<Utc>,
) -> Result<moderation_log::Model, DbErr> {
    moderation_log::ActiveModel {
        id: NotSet,
        at: Set(now),
        moderator: Set(entry.moderator.to_string()),
        action: Set(entry.action),
        comment_id: Set(entry.comment_id),
        article_id: Set(entry.article_id.map(str::to_string)),
        note: Set(entry.note.map(str::to_string)),
        via: Set(entry.via),
        author_id: Set(entry.author_id.map(str::to_string)),
        details: Set(entry.details),
    }
    .insert(db)
    .await
}

/// One page of the log, newest first, before the entry `before` (exclusive).
pub async fn list(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<moderation_log::Model>, DbErr> {
    list_where(db, &Filter::default(), before, limit).await
}

/// Which entries of the log a list shows (all without conditions).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub moderator: Option<String>,
    pub action: Option<LogAction>,
    pub article_id: Option<String>,
    pub author_id: Option<String>,
    pub comment_id: Option<i64>,
}

/// One page of the entries `filter` selects, newest first, before the entry `before`.
pub async fn list_where(
    db: &impl ConnectionTrait,
    filter: &Filter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<moderation_log::Model>, DbErr> {
    use moderation_log::Column;
    let mut query = moderation_log::Entity::find();
    if let Some(m) = &filter.moderator {
        query = query.filter(Column::Moderator.eq(m.as_str()));
    }
    if let Some(a) = filter.action {
        query = query.filter(Column::Action.eq(a));
    }
    if let Some(a) = &filter.article_id {
        query = query.filter(Column::ArticleId.eq(a.as_str()));
    }
    if let Some(a) = &filter.author_id {
        // Entries about the author, and decisions on the author's comments.
        let comments_of = sea_orm::sea_query::Query::select()
            .column(comment::Column::Id)
            .from(comment::Entity)
            .and_where(comment::Column::AuthorId.eq(a.as_str()))
            .to_owned();
        query = query.filter(
            sea_orm::Condition::any()
                .add(Column::AuthorId.eq(a.as_str()))
                .add(Column::CommentId.in_subquery(comments_of)),
        );
    }
    if let Some(c) = filter.comment_id {
        query = query.filter(Column::CommentId.eq(c));
    }
    super::newest_first(db, query, Column::Id, before, limit).await
}

/// The newest decision on a comment (approve, hide or delete): who decided what, when, and how.
pub async fn last_decision(
    db: &impl ConnectionTrait,
    comment_id: i64,
) -> Result<Option<moderation_log::Model>, DbErr> {
    let decisions = ModerationAction::ALL.iter().map(|a| LogAction::from(*a));
    moderation_log::Entity::find()
        .filter(moderation_log::Column::CommentId.eq(comment_id))
        .filter(moderation_log::Column::Action.is_in(decisions))
        .order_by_desc(moderation_log::Column::Id)
        .one(db)
        .await
}
