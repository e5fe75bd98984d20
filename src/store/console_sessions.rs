//! The console's sessions, found by the hash of their cookie.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::entity::console_session;

/// Stores a new session and deletes every session idle since before `idle_since`.
pub async fn insert(
    db: &impl ConnectionTrait,
    session: console_session::Model,
    idle_since: DateTime<Utc>,
) -> Result<(), DbErr> {
    crate::db::execute(
        db,
        "DELETE FROM console_sessions WHERE last_seen_at < $1",
        [idle_since.into()],
    )
    .await?;
    console_session::ActiveModel {
        id_hash: Set(session.id_hash),
        moderator: Set(session.moderator),
        csrf: Set(session.csrf),
        created_at: Set(session.created_at),
        last_seen_at: Set(session.last_seen_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    id_hash: &str,
) -> Result<Option<console_session::Model>, DbErr> {
    console_session::Entity::find_by_id(id_hash.to_string())
        .one(db)
        .await
}

/// Records that the session was used at `now`.
pub async fn touch(
    db: &impl ConnectionTrait,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    crate::db::execute(
        db,
        "UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2",
        [now.into(), id_hash.into()],
    )
    .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id_hash: &str) -> Result<(), DbErr> {
    crate::db::execute(
        db,
        "DELETE FROM console_sessions WHERE id_hash = $1",
        [id_hash.into()],
    )
    .await?;
    Ok(())
}
