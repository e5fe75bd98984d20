//! The moderation audit log: every moderator action, written in the transaction of the change.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::states::{LogAction, ModerationAction, Via};
use crate::entity::moderation_log;

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
    let query = moderation_log::Entity::find();
    super::newest_first(db, query, moderation_log::Column::Id, before, limit).await
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
