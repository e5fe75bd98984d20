//! Moderators' notes on authors.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter,
};

use crate::entity::author_note;

/// Stores a note about `author_id` by `moderator`.
pub async fn insert(
    db: &impl ConnectionTrait,
    author_id: &str,
    moderator: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<author_note::Model, DbErr> {
    author_note::ActiveModel {
        id: NotSet,
        author_id: Set(author_id.to_string()),
        moderator: Set(moderator.to_string()),
        text: Set(text.to_string()),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

/// One page of the notes about `author_id`, newest first, before the note `before` (exclusive).
pub async fn list(
    db: &impl ConnectionTrait,
    author_id: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<author_note::Model>, DbErr> {
    let query = author_note::Entity::find().filter(author_note::Column::AuthorId.eq(author_id));
    super::newest_first(db, query, author_note::Column::Id, before, limit).await
}

/// Deletes every note about `author_id` (their erasure); returns how many.
pub async fn erase(db: &impl ConnectionTrait, author_id: &str) -> Result<u64, DbErr> {
    let deleted = author_note::Entity::delete_many()
        .filter(author_note::Column::AuthorId.eq(author_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
