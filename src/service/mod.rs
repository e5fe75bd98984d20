//! The write paths: one function per write, each owning its rules, its transaction (and with it
//! the SQLite write gate), its outbox rows and its cache invalidation. Handlers and the email
//! action pages call these; nothing else writes.

pub mod appeals;
pub mod article_views;
pub mod articles;
pub mod authors;
pub mod comments;
pub mod featured;
pub mod flags;
pub mod idempotency;
pub mod moderation;
pub mod notes;
pub mod post_batches;
pub mod post_queue;
pub mod privacy;
pub mod rate_limit;
pub mod reactions;
pub mod rules;
pub mod screening;
pub mod topics;

use chrono::{DateTime, Utc};

use crate::entity::article;
use crate::error::ServiceError;
use crate::state::AppState;
use crate::views;

/// Refuses writes to a discussion that is closed at `now`, with the Notice.
pub async fn ensure_open(
    state: &AppState,
    article: &article::Model,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if views::articles::state_of(article, now).is_open() {
        return Ok(());
    }
    let view = crate::service::article_views::article(state, article, now).await?;
    Err(ServiceError::DiscussionClosed(Box::new(
        views::articles::notice_json(&view),
    )))
}
