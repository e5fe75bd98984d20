//! The per-author limit on new comments (`COMMENT_RATE_LIMIT` per minute), counted in the
//! database so it holds across replicas.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use crate::error::ApiError;
use crate::store::comments;

/// The window the limit counts in.
pub const WINDOW: Duration = Duration::minutes(1);

/// Refuses a new comment when the author already posted `limit` in the last minute, saying when
/// the oldest of them leaves the window.
pub async fn check(
    db: &impl ConnectionTrait,
    author_id: &str,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let recent = comments::recent_by_author(db, author_id, now - WINDOW, limit as u64).await?;
    if recent.len() < limit as usize {
        return Ok(());
    }
    let oldest = recent.last().copied().unwrap_or(now);
    let wait = (oldest + WINDOW - now).num_milliseconds().max(0);
    Err(ApiError::RateLimited {
        retry_after_secs: ((wait + 999) / 1000).max(1) as u64,
    })
}
