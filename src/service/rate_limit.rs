//! The per-author limit on new comments (`COMMENT_RATE_LIMIT` per minute), counted in the
//! database so it holds across replicas.
//!
//! The count and the insert it allows must be one atomic step, or concurrent posts by one author
//! all count the same comments and all pass. So the post's write transaction first takes the
//! author's turn ([`take_turn`]), then counts ([`check`]) and inserts: on SQLite the transaction
//! already holds the database's one write lock (`BEGIN IMMEDIATE`, across processes too); on
//! PostgreSQL a transaction-scoped advisory lock keyed by the author id makes the posts of one
//! author (on any replica) take turns, while other authors' posts go on in parallel.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Value};

use crate::db::{self, WriteTxn};
use crate::error::ServiceError;

/// The window the limit counts in.
pub const WINDOW: Duration = Duration::minutes(1);

/// The first key of the two-key advisory locks taken here ("comm" in ASCII), so they never meet
/// other advisory locks of the database.
const AUTHOR_LOCK_SPACE: i32 = 0x636f_6d6d;

/// Takes the author's turn for the rest of the transaction: what the transaction reads of the
/// author's comments from here on stays true until it commits.
pub async fn take_turn(txn: &WriteTxn, author_id: &str) -> Result<(), ServiceError> {
    take_turns(txn, &[author_id]).await
}

/// [`take_turn`] for several authors at once (a batch of posts), in one statement, in the order
/// of their ids so that two batches never wait for each other's authors crosswise. A statement
/// of its own: what follows must see every post committed before the turn.
pub async fn take_turns(txn: &WriteTxn, author_ids: &[&str]) -> Result<(), ServiceError> {
    let conn = &**txn;
    if conn.get_database_backend() != DbBackend::Postgres || author_ids.is_empty() {
        return Ok(());
    }
    let mut sorted = author_ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    // The authors as one JSON array: one statement for any number of them.
    let list = serde_json::to_string(&sorted).map_err(ServiceError::internal)?;
    let sql = "SELECT pg_advisory_xact_lock($1, hashtext(a)) FROM \
         (SELECT a FROM json_array_elements_text(CAST($2 AS json)) AS v(a) ORDER BY a) AS s";
    let values = [Value::from(AUTHOR_LOCK_SPACE), Value::from(list)];
    conn.execute_raw(db::stmt(conn, sql, values)).await?;
    Ok(())
}

/// Refuses a new comment when the author already posted `limit` in the last minute (`recent`:
/// when the author's recent comments were posted, newest first, read after [`take_turn`]),
/// saying when the oldest of them leaves the window.
pub fn check(
    recent: impl Iterator<Item = DateTime<Utc>>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let in_window: Vec<DateTime<Utc>> = recent
        .filter(|t| *t > now - WINDOW)
        .take(limit as usize)
        .collect();
    if in_window.len() < limit as usize {
        return Ok(());
    }
    let oldest = in_window.last().copied().unwrap_or(now);
    let wait = (oldest + WINDOW - now).num_milliseconds().max(0);
    Err(ServiceError::RateLimited {
        retry_after_secs: ((wait + 999) / 1000).max(1) as u64,
    })
}
