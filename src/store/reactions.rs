//! Readers' reactions to comments: one row per reader and comment (the primary key
//! `(comment_id, reader_id)`), a comment's count an indexed `COUNT(*)` over its rows, so readers
//! reacting at once never wait on one counter row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use crate::db::{execute, stmt};

/// A listed comment's count of reactions, as a column of a statement whose comment is `c`: the
/// primary key's range of the comment, read in the comment's row's statement (no query per
/// comment).
pub const REACTION_COUNT: &str =
    "(SELECT COUNT(*) FROM reactions r WHERE r.comment_id = c.id) AS reaction_count";

/// Records `reader_id`'s reaction to the comment; `false` when it was recorded already.
pub async fn add(
    db: &impl ConnectionTrait,
    comment_id: i64,
    reader_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = execute(
        db,
        "INSERT INTO reactions (comment_id, reader_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (comment_id, reader_id) DO NOTHING",
        [comment_id.into(), reader_id.into(), now.into()],
    )
    .await?;
    Ok(inserted > 0)
}

/// Takes `reader_id`'s reaction to the comment back; `false` when there was none.
pub async fn remove(
    db: &impl ConnectionTrait,
    comment_id: i64,
    reader_id: &str,
) -> Result<bool, DbErr> {
    let deleted = execute(
        db,
        "DELETE FROM reactions WHERE comment_id = $1 AND reader_id = $2",
        [comment_id.into(), reader_id.into()],
    )
    .await?;
    Ok(deleted > 0)
}

/// The comment's count of reactions.
pub async fn count(db: &impl ConnectionTrait, comment_id: i64) -> Result<i64, DbErr> {
    Ok(counts(db, &[comment_id])
        .await?
        .get(&comment_id)
        .copied()
        .unwrap_or(0))
}

/// The counts of reactions of the comments `ids`, in one statement (comments without any are
/// left out).
pub async fn counts(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, i64>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = serde_json::to_string(ids).map_err(|e| DbErr::Custom(e.to_string()))?;
    let among = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT CAST(value AS bigint) FROM json_array_elements_text(CAST($1 AS json))"
        }
        _ => "SELECT value FROM json_each($1)",
    };
    let sql = format!(
        "SELECT comment_id, COUNT(*) AS n FROM reactions WHERE comment_id IN ({among}) \
         GROUP BY comment_id"
    );
    let rows = db.query_all_raw(stmt(db, &sql, [list.into()])).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "comment_id")?, row.try_get("", "n")?)))
        .collect()
}

/// A reaction a reader gave, as their export lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Given {
    pub comment_id: i64,
    pub created_at: DateTime<Utc>,
}

/// The reactions `reader_id` gave, to comments after the comment `after`, by comment (the
/// reader's index `(reader_id, comment_id)` in order).
pub async fn given_after(
    db: &impl ConnectionTrait,
    reader_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<Given>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT comment_id, created_at FROM reactions WHERE reader_id = $1 \
             AND comment_id > $2 ORDER BY reader_id, comment_id LIMIT $3",
            [reader_id.into(), after.into(), (limit as i64).into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Given {
                comment_id: row.try_get("", "comment_id")?,
                created_at: row.try_get("", "created_at")?,
            })
        })
        .collect()
}

/// Deletes every reaction of `reader_id` (their erasure); returns how many.
pub async fn erase(db: &impl ConnectionTrait, reader_id: &str) -> Result<u64, DbErr> {
    execute(
        db,
        "DELETE FROM reactions WHERE reader_id = $1",
        [reader_id.into()],
    )
    .await
}
