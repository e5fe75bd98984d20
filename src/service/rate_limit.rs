//! The per-author limit on new comments (`COMMENT_RATE_LIMIT` per minute), counted in the
//! database so it holds across replicas.
//!
//! The count and the insert it allows must be one atomic step, or concurrent posts by one author
//! all count the same comments and all pass. So the check runs inside the write transaction that
//! inserts the comment, after taking the author's turn: on SQLite the transaction already holds
//! the database's one write lock (`BEGIN IMMEDIATE`, across processes too); on PostgreSQL a
//! transaction-scoped advisory lock keyed by the author id makes the posts of one author (on any
//! replica) take turns, while other authors' posts go on in parallel.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Value};

use crate::db::{self, WriteTxn};
use crate::error::ApiError;
use crate::store::comments;

/// The window the limit counts in.
pub const WINDOW: Duration = Duration::minutes(1);

/// The first key of the two-key advisory locks taken here ("comm" in ASCII), so they never meet
/// other advisory locks of the database.
const AUTHOR_LOCK_SPACE: i32 = 0x636f_6d6d;

/// Takes the author's turn for the rest of the transaction, then refuses a new comment when the
/// author already posted `limit` in the last minute, saying when the oldest of them leaves the
/// window. The caller inserts the comment in the same transaction.
pub async fn check(
    txn: &WriteTxn,
    author_id: &str,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let conn = &**txn;
    if conn.get_database_backend() == DbBackend::Postgres {
        // A statement of its own: the count below must see every post committed before the turn.
        conn.execute_raw(db::stmt(
            conn,
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            [Value::from(AUTHOR_LOCK_SPACE), Value::from(author_id)],
        ))
        .await?;
    }
    let recent = comments::recent_by_author(conn, author_id, now - WINDOW, limit as u64).await?;
    if recent.len() < limit as usize {
        return Ok(());
    }
    let oldest = recent.last().copied().unwrap_or(now);
    let wait = (oldest + WINDOW - now).num_milliseconds().max(0);
    Err(ApiError::RateLimited {
        retry_after_secs: ((wait + 999) / 1000).max(1) as u64,
    })
}
