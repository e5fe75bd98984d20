//! The content rules: one row holding the current rules (JSON) and its version number.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};

use crate::db::{execute, stmt};
use crate::entity::moderation_rules;

/// The id of the one row.
const CURRENT: i32 = 1;

/// The version of the current rules; `0` while none were ever set (the defaults).
pub async fn version(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT version FROM moderation_rules WHERE id = $1",
            [CURRENT.into()],
        ))
        .await?;
    match row {
        Some(row) => row.try_get("", "version"),
        None => Ok(0),
    }
}

/// The current rules row, if rules were ever set.
pub async fn current(db: &impl ConnectionTrait) -> Result<Option<moderation_rules::Model>, DbErr> {
    moderation_rules::Entity::find_by_id(CURRENT).one(db).await
}

/// The current rules row, locked until the transaction ends on PostgreSQL (SQLite's write
/// transaction holds the one write lock), so concurrent changes take turns and each diff is
/// against what it replaces.
pub async fn lock(db: &impl ConnectionTrait) -> Result<Option<moderation_rules::Model>, DbErr> {
    moderation_rules::Entity::find_by_id(CURRENT)
        .lock_exclusive()
        .one(db)
        .await
}

/// Stores new rules as the next version (in the caller's transaction).
pub async fn save(
    db: &impl ConnectionTrait,
    rules_json: &str,
    moderator: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    execute(
        db,
        "INSERT INTO moderation_rules (id, version, rules, updated_at, updated_by) \
         VALUES ($1, 1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET version = moderation_rules.version + 1, \
         rules = excluded.rules, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        [
            CURRENT.into(),
            rules_json.into(),
            now.into(),
            moderator.into(),
        ],
    )
    .await?;
    version(db).await
}
